"""Takedown requests: each notice carries every element its law requires, in her own words, as
plain text she can send; what is still missing is listed and shown as a visible placeholder."""

from __future__ import annotations

import json
import re
from dataclasses import fields, replace
from datetime import date
from pathlib import Path

import pytest

from unmask.report.notice_blocks import NOT_NEEDED
from unmask.report.takedown import (
    NOTICE_KINDS,
    NOTICE_TITLES,
    QUESTION_DEPENDS,
    Answers,
    AnswersError,
    EvidenceSummary,
    applies,
    load_answers,
    missing_elements,
    questions,
    render_notice,
    required_elements,
    why_not_written,
)

TODAY = date(2026, 11, 27)
URLS = [
    "https://forum.example.com/t/some-thread-with-a-long-hyphenated-title-that-will-not-fit-one-line?page=2",
    "https://cdn.example.com/v/8f3a.mp4",
]
EVIDENCE = EvidenceSummary(
    files=[("clip.mp4", "3" * 64), ("still.jpg", "0123456789abcdef" * 4)],
    verdict_lines=[
        "clip.mp4: Likely manipulated (probability 0.94): the face-swap detector found a "
        "blending boundary around the face in 41 of 48 sampled frames.",
        "still.jpg: Inconclusive (probability 0.52).",
    ],
    analysed_at="2026-11-20T10:15:00Z",
    tool="Unmask 0.1.0",
    signing_key_fingerprint="ed25519:4f1c9a7e22d0b6aa",
    flagged=True,  # clip.mp4 was called likely manipulated
)
NOT_FLAGGED = replace(
    EVIDENCE,
    verdict_lines=[
        "clip.mp4: Inconclusive (probability 0.48).",
        "still.jpg: No signs of manipulation found (probability 0.08).",
    ],
    flagged=False,
)


DMCA_GOOD_FAITH = (
    "I have not authorized this use of my photograph, and I have a good faith belief that use of "
    "the material in the manner complained of is not authorized by the copyright owner, its "
    "agent, or the law."
)


def full_answers(**changes: object) -> Answers:
    answers = Answers(
        full_name="Jane Doe",
        email="jane@example.org",
        phone="+1 555 0100",
        postal_address="1 Main Street\nSpringfield, IL 62701",
        platform="ExampleSite",
        urls=list(URLS),
        description="a photo with my face edited into it, posted by the account @someone",
        made_with_software=True,
        not_consensual=True,
        owns_original=True,
        original_description="a selfie I took in 2023",
        original_url="https://photos.example.net/jane/selfie",
        country="Germany",
        extra="The account has reposted it twice after earlier reports.",
        confirms_accurate=True,
    )
    return replace(answers, **changes)  # type: ignore[arg-type]


def flat(text: str) -> str:
    """The notice with its line breaks undone, to find sentences that wrap."""
    return " ".join(text.split())


MADE_WITH_SOFTWARE_QUESTION = (
    "Was it made or changed with software, for example your face put on someone else's body?"
)


def keys(kind: str, answers: Answers) -> list[str]:
    return [element.key for element in missing_elements(kind, answers)]


# --- each notice carries what its law requires ----------------------------------------------


def test_take_it_down_request_carries_the_four_elements_of_section_3_a_1_b() -> None:
    answers = full_answers()
    text = render_notice("take_it_down", answers, EVIDENCE, today=TODAY)
    words = flat(text)

    assert missing_elements("take_it_down", answers) == []
    assert text.startswith("TAKE IT DOWN Act removal request\n")
    assert "Date: 2026-11-27" in text
    assert "To: ExampleSite" in text
    # (i) signature, (ii) identification and location, (iii) good faith, (iv) contact
    assert "/s/ Jane Doe" in text
    assert "What it is: A photo with my face edited into it, posted by the account @someone." in (
        words
    )
    assert all(url in text for url in URLS)
    assert (
        "I have a good faith belief that the intimate visual depiction identified above is not "
        "consensual: it was published without my consent." in words
    )
    assert "The account has reposted it twice after earlier reports." in words
    assert "Email: jane@example.org" in text
    assert "Phone: +1 555 0100" in text
    # what the Act adds: digital forgeries, the 48-hour duty, identical copies
    assert "digital forgeries" in words
    assert "no later than 48 hours after receiving this request" in words
    assert "identify and remove any known identical copies" in words


def test_dsa_notice_carries_the_four_elements_of_article_16_2() -> None:
    answers = full_answers()
    text = render_notice("dsa", answers, EVIDENCE, today=TODAY)
    words = flat(text)

    assert missing_elements("dsa", answers) == []
    assert text.startswith("EU Digital Services Act (Art. 16) notice\n")
    assert "To: ExampleSite" in text
    # (a) substantiated explanation of why the content is illegal
    assert "published without consent" in words
    assert "illegal content within the meaning of Article 3(h)" in words
    assert "Articles 7 and 8 of the Charter of Fundamental Rights" in words
    assert "Directive (EU) 2024/1385 (Article 5)" in words
    assert "This notice is sent from Germany" in words
    # (b) exact URLs, (c) name and email, (d) bona fide statement
    assert all(url in text for url in URLS)
    assert "Name: Jane Doe" in text
    assert "Email: jane@example.org" in text
    assert (
        "I confirm my bona fide belief that the information and allegations contained in this "
        "notice are accurate and complete." in words
    )
    # what the provider owes her in return
    assert "Under Article 16(5), please confirm receipt of this notice without undue delay" in words
    assert "Under Article 16(6)" in words


def test_dmca_notice_carries_the_six_elements_of_512_c_3_a() -> None:
    answers = full_answers()
    text = render_notice("dmca", answers, EVIDENCE, today=TODAY)
    words = flat(text)

    assert missing_elements("dmca", answers) == []
    assert "To: Designated copyright agent, ExampleSite" in text
    assert "I am the copyright owner of the photograph identified below." in words
    # (i) signature, (ii) the work, (iii) the material and where, (iv) address, phone, email
    assert "/s/ Jane Doe" in text
    assert "A selfie I took in 2023." in text
    assert "It was published at: https://photos.example.net/jane/selfie" in text
    assert all(url in text for url in URLS)
    assert "  1 Main Street\n  Springfield, IL 62701" in text
    assert "Phone: +1 555 0100" in text
    assert "Email: jane@example.org" in text
    # (v) good faith, (vi) accuracy and authority under penalty of perjury
    assert DMCA_GOOD_FAITH in words
    assert (
        "The information in this notification is accurate, and under penalty of perjury, I am "
        "the owner, or authorized to act on behalf of the owner, of an exclusive right that is "
        "allegedly infringed." in words
    )
    assert "can only be sent by the copyright owner" not in words


def test_platform_report_says_who_what_where_why_and_what_is_asked() -> None:
    answers = full_answers()
    text = render_notice("platform", answers, EVIDENCE, today=TODAY)
    words = flat(text)

    assert missing_elements("platform", answers) == []
    assert "To: ExampleSite" in text
    assert "Subject: Report of non-consensual intimate imagery (manipulated media)" in words
    assert "I am Jane Doe, the person shown in this content." in words
    assert (
        "It is non-consensual intimate imagery of an identifiable person. To my knowledge it was "
        "made or altered with software (a deepfake)." in words
    )
    assert "A photo with my face edited into it, posted by the account @someone." in words
    assert all(url in text for url in URLS)
    assert "I did not consent to this content being published." in words
    assert "block re-uploads by matching the hashes of these files" in words
    assert "Email: jane@example.org" in text
    assert "/s/ Jane Doe" in text


# --- missing answers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("take_it_down", ["addressee", "signature", "location", "good_faith", "contact"]),
        ("dsa", ["addressee", "explanation", "location", "notifier", "bona_fide"]),
        (
            "dmca",
            [
                "addressee",
                "ownership",
                "signature",
                "original_work",
                "location",
                "contact",
                "good_faith",
                "accuracy",
            ],
        ),
        ("platform", ["addressee", "reporter", "location", "consent", "contact"]),
    ],
)
def test_empty_answers_lack_every_required_element(kind: str, expected: list[str]) -> None:
    assert [element.key for element in required_elements(kind)] == expected
    assert keys(kind, Answers()) == expected


@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_a_notice_with_empty_answers_still_renders_with_visible_placeholders(kind: str) -> None:
    text = render_notice(kind, Answers(), today=TODAY)

    assert text.startswith("BEFORE YOU SEND THIS")
    assert "replace each [TO FILL IN: ...] below" in text
    assert "To: " in text and "[TO FILL IN: the name of the website or app]" in text
    assert "[TO FILL IN: your full name]" in text
    assert "[TO FILL IN: the web address (URL) of each page]" in text
    assert "[TO FILL IN: your email address]" in text
    if kind == "dmca":  # its good-faith statement is about the copyright, not consent
        assert "[TO FILL IN: confirm that you own the photo and did not allow this use of it]" in (
            text
        )
    else:
        assert "[TO FILL IN: confirm that it was published without consent" in text


def test_one_missing_answer_is_reported_alone_and_shown_where_it_belongs() -> None:
    answers = full_answers(email="")

    assert keys("dsa", answers) == ["notifier"]
    assert keys("take_it_down", answers) == []  # a phone or postal address is enough there
    assert keys("dmca", answers) == ["contact"]  # a DMCA notice lists all three
    assert "Email: [TO FILL IN: your email address]" in render_notice("dsa", answers, today=TODAY)


def test_statements_she_has_not_confirmed_are_left_for_her_to_fill_in() -> None:
    answers = full_answers(not_consensual=False, confirms_accurate=False)
    text = render_notice("dmca", answers, today=TODAY)
    tida = render_notice("take_it_down", answers, today=TODAY)

    assert keys("dmca", answers) == ["accuracy"]
    assert keys("take_it_down", answers) == ["good_faith"]
    assert "under penalty of perjury, I am" not in flat(text)
    assert "[TO FILL IN: confirm that this information is accurate (under penalty of perjury)]" in (
        text
    )
    assert "[TO FILL IN: confirm that it was published without consent]" in tida
    assert "good faith belief" not in flat(tida)


def test_dmca_good_faith_statement_rests_on_her_copyright_not_on_consent() -> None:
    # § 512(c)(3)(A)(v) is about whether the copyright owner authorised the use: only the owner
    # of the photo (or someone acting for her) can say she did not
    owner = full_answers(not_consensual=False)
    not_owner = full_answers(owns_original=False)

    assert keys("dmca", owner) == []
    assert DMCA_GOOD_FAITH in flat(render_notice("dmca", owner, today=TODAY))
    assert keys("dmca", not_owner) == ["ownership", "good_faith"]
    text = render_notice("dmca", not_owner, today=TODAY)
    assert "good faith belief" not in flat(text)
    assert "[TO FILL IN: confirm that you own the photo and did not allow this use of it]" in text


def test_dmca_good_faith_statement_names_the_owner_she_acts_for() -> None:
    answers = full_answers(acting_for="Mia Doe", authority="I am her mother")
    words = flat(render_notice("dmca", answers, today=TODAY))

    assert (
        "Mia Doe has not authorized this use of Mia Doe's photograph, and I have a good faith"
        in (words)
    )


def test_dmca_without_ownership_of_the_original_is_flagged_plainly_at_the_top() -> None:
    answers = full_answers(owns_original=False)
    text = render_notice("dmca", answers, today=TODAY)
    note, _, notice = text.partition(NOTICE_TITLES["dmca"])

    assert "ownership" in keys("dmca", answers)
    assert note.startswith("BEFORE YOU SEND THIS")
    assert "A DMCA notice can only be sent by the copyright owner of the original photo" in (
        flat(note)
    )
    assert "use the TAKE IT DOWN Act request or the platform report instead" in flat(note)
    assert "[TO FILL IN: confirm that you own the copyright" in notice
    assert "I am the copyright owner" not in notice


def test_a_complete_notice_has_no_placeholder_and_no_note_to_remove() -> None:
    for kind in ("take_it_down", "dsa", "platform"):
        text = render_notice(kind, full_answers(), EVIDENCE, today=TODAY)
        assert "TO FILL IN" not in text
        assert text.startswith(NOTICE_TITLES[kind])


def test_dmca_notice_warns_that_her_contact_details_may_be_forwarded_to_the_uploader() -> None:
    text = render_notice("dmca", full_answers(), today=TODAY)
    assert "TO FILL IN" not in text
    assert "forward DMCA notices, including the sender's name and contact details" in flat(text)


# --- acting for someone else ----------------------------------------------------------------


@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_acting_for_someone_shows_for_whom_and_by_what_authority(kind: str) -> None:
    answers = full_answers(
        full_name="Ana Doe", acting_for="Mia Doe", authority="I am her mother; she is 15"
    )
    text = render_notice(kind, answers, today=TODAY)
    words = flat(text)

    assert missing_elements(kind, answers) == []
    assert "I am acting on behalf of Mia Doe, the person depicted." in words
    assert "My authority to act for Mia Doe: I am her mother; she is 15." in words
    assert "/s/ Ana Doe\nAna Doe\non behalf of Mia Doe (I am her mother; she is 15)" in text


def test_acting_for_someone_without_saying_how_leaves_the_signature_incomplete() -> None:
    answers = full_answers(acting_for="Mia Doe", authority="")

    assert keys("take_it_down", answers) == ["signature"]
    assert "[TO FILL IN: how you are authorised to act for them]" in render_notice(
        "take_it_down", answers, today=TODAY
    )


def test_her_own_signature_is_used_as_written() -> None:
    text = render_notice("take_it_down", full_answers(signature="Jane A. Doe (signed)"))
    assert "Jane A. Doe (signed)\nJane Doe" in text
    assert "/s/" not in text


# --- evidence and honest wording ------------------------------------------------------------


@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_evidence_summary_lists_every_hash_and_the_findings_as_indications(kind: str) -> None:
    words = flat(render_notice(kind, full_answers(), EVIDENCE, today=TODAY))

    for name, sha256 in EVIDENCE.files:
        assert f"{name} SHA-256: {sha256}" in words
    for line in EVIDENCE.verdict_lines:
        assert line in words
    assert "Unmask 0.1.0 on 2026-11-20T10:15:00Z" in words
    assert "ed25519:4f1c9a7e22d0b6aa" in words
    assert "These findings are indications from automated checks, not proof." in words


def test_without_evidence_there_is_no_evidence_section() -> None:
    text = render_notice("platform", full_answers(), today=TODAY)
    assert "EVIDENCE" not in text
    assert "SHA-256" not in text


@pytest.mark.parametrize("kind", NOTICE_KINDS)
@pytest.mark.parametrize(
    "answers",
    [Answers(), full_answers(), full_answers(acting_for="Mia Doe", authority="parent")],
    ids=["empty", "full", "acting_for"],
)
def test_no_notice_calls_a_file_real_authentic_or_genuine(kind: str, answers: Answers) -> None:
    text = render_notice(kind, answers, EVIDENCE, today=TODAY)
    assert not re.search(r"\b(real|authentic|genuine)\b", text, re.IGNORECASE)


HER_STATEMENT = {
    "take_it_down": "I believe the depiction identified below is such a forgery.",
    "dsa": (
        "To my knowledge it was made or altered with software (a so-called deepfake) so that it "
        "shows me in an intimate way."
    ),
    "dmca": "or a part of it such as my face, altered with software and without permission.",
    "platform": "To my knowledge it was made or altered with software (a deepfake).",
}
ANALYSIS_FOUND = (
    "The automated analysis described under EVIDENCE below found signs of manipulation in at "
    "least one of the files."
)
CLAIMS = (
    "appears to",
    "I believe",
    "To my knowledge",
    "signs of manipulation in",
    "altered with software and",
    "such a forgery",
    "deepfake",
    "manipulated media",
)
"""Every way a notice could say the content is forged or manipulated."""


@pytest.mark.parametrize("kind", NOTICE_KINDS)
@pytest.mark.parametrize("made_with_software", [True, False], ids=["she_says_made", "not_said"])
@pytest.mark.parametrize("evidence", [EVIDENCE, NOT_FLAGGED], ids=["flagged", "not_flagged"])
def test_a_notice_claims_manipulation_only_as_she_says_or_the_analysis_found(
    kind: str, made_with_software: bool, evidence: EvidenceSummary
) -> None:
    answers = full_answers(made_with_software=made_with_software)
    words = flat(render_notice(kind, answers, evidence, today=TODAY))

    assert (HER_STATEMENT[kind] in words) is made_with_software
    assert (ANALYSIS_FOUND in words) is evidence.flagged
    assert words.count(ANALYSIS_FOUND) <= 1
    assert "appears to" not in words


@pytest.mark.parametrize("kind", NOTICE_KINDS)
@pytest.mark.parametrize("evidence", [NOT_FLAGGED, None], ids=["not_flagged", "no_evidence"])
@pytest.mark.parametrize(
    "answers",
    [
        Answers(),
        full_answers(made_with_software=False),
        full_answers(made_with_software=False, acting_for="Mia Doe", authority="parent"),
    ],
    ids=["empty", "full", "acting_for"],
)
def test_without_her_word_or_a_finding_no_notice_claims_a_forgery(
    kind: str, evidence: EvidenceSummary | None, answers: Answers
) -> None:
    text = render_notice(kind, answers, evidence, today=TODAY)

    for claim in CLAIMS:
        assert claim.lower() not in flat(text).lower(), claim


@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_a_request_is_complete_without_any_claim_that_it_was_made_with_software(
    kind: str,
) -> None:
    # the TAKE IT DOWN Act, the DSA and platform rules cover intimate images published without
    # consent however they were made; the DMCA covers copies of her photo, altered or not
    answers = full_answers(made_with_software=False)
    text = render_notice(kind, answers, NOT_FLAGGED, today=TODAY)

    assert missing_elements(kind, answers) == []
    assert "TO FILL IN" not in text


def test_she_can_say_it_was_made_with_software_for_someone_she_acts_for() -> None:
    answers = full_answers(acting_for="Mia Doe", authority="I am her mother")
    words = flat(render_notice("dsa", answers, NOT_FLAGGED, today=TODAY))

    assert (
        "The content is an intimate image or video of Mia Doe, published without consent. To my "
        "knowledge it was made or altered with software (a so-called deepfake) so that it shows "
        "Mia Doe in an intimate way." in words
    )
    assert ANALYSIS_FOUND not in words


@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_notices_are_plain_text_wrapped_at_78_columns(kind: str) -> None:
    text = render_notice(kind, full_answers(), EVIDENCE, today=TODAY)

    for line in text.splitlines():
        # only a web address too long for any line may stand out; it must never be split
        assert len(line) <= 78 or line.strip().removeprefix("- ") in URLS, line
    assert not re.search(r"^#|\*\*|\]\(|^```", text, re.MULTILINE)  # no Markdown
    assert text.endswith("\n")


# --- reading answers ------------------------------------------------------------------------


def test_load_answers_reads_json(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text(
        json.dumps({"full_name": "Jane Doe", "urls": URLS, "not_consensual": True, "phone": None}),
        encoding="utf-8",
    )
    assert load_answers(path) == Answers(full_name="Jane Doe", urls=URLS, not_consensual=True)


def test_load_answers_reads_toml(tmp_path: Path) -> None:
    path = tmp_path / "answers.toml"
    path.write_text(
        'full_name = "Jane Doe"\n'
        'platform = "ExampleSite"\n'
        f'urls = ["{URLS[0]}", "{URLS[1]}"]\n'
        "owns_original = true\n"
        'postal_address = """\n1 Main Street\nSpringfield"""\n',
        encoding="utf-8",
    )
    assert load_answers(path) == Answers(
        full_name="Jane Doe",
        platform="ExampleSite",
        urls=URLS,
        owns_original=True,
        postal_address="1 Main Street\nSpringfield",
    )


def test_load_answers_rejects_unknown_keys_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"full_name": "Jane Doe", "emial": "j@x.org", "age": 30}))

    with pytest.raises(AnswersError) as caught:
        load_answers(path)
    assert "age, emial" in caught.value.message
    assert "Did you mean: email?" in caught.value.hint


@pytest.mark.parametrize(
    ("key", "value"),
    [("urls", "https://example.com/p/1"), ("not_consensual", "yes"), ("phone", 5550100)],
)
def test_load_answers_rejects_a_wrong_type_naming_the_key(
    tmp_path: Path, key: str, value: object
) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({key: value}))

    with pytest.raises(AnswersError) as caught:
        load_answers(path)
    assert repr(key) in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize(
    ("name", "content"),
    [("answers.toml", "full_name = Jane"), ("answers.json", "[1, 2]"), ("answers.yaml", "")],
)
def test_load_answers_explains_a_file_it_cannot_use(
    tmp_path: Path, name: str, content: str
) -> None:
    path = tmp_path / name
    path.write_text(content)

    with pytest.raises(AnswersError) as caught:
        load_answers(path)
    assert str(path) in caught.value.message


# --- what the wizard and the CLI build on ---------------------------------------------------


def test_questions_ask_for_every_answer_once_with_a_kind_matching_its_type() -> None:
    asked = questions()
    names = [name for name, _, _ in asked]
    expected_kind = {bool: "yes_no", list: "list", str: "text"}

    assert sorted(names) == sorted(f.name for f in fields(Answers))
    assert names[0] == "full_name"
    assert ("made_with_software", MADE_WITH_SOFTWARE_QUESTION, "yes_no") in asked
    for name, question, kind in asked:
        assert question.strip()
        assert kind == expected_kind[type(getattr(Answers(), name))], name


def test_a_follow_up_question_comes_after_its_answer_and_applies_once_it_is_given() -> None:
    names = [name for name, _, _ in questions()]
    assert QUESTION_DEPENDS == {
        "authority": "acting_for",
        "original_description": "owns_original",
        "original_url": "owns_original",
    }
    for name, depends_on in QUESTION_DEPENDS.items():
        assert names.index(depends_on) < names.index(name), name
        assert not applies(name, Answers()), name
    acting_for_someone = Answers(acting_for="Mia Doe")
    owner = Answers(owns_original=True)
    assert applies("authority", acting_for_someone)
    assert not applies("authority", Answers(acting_for="   "))  # blanks are no answer
    assert applies("original_description", owner) and applies("original_url", owner)
    assert not applies("original_url", acting_for_someone)
    independent = [name for name in names if name not in QUESTION_DEPENDS]
    assert all(applies(name, Answers()) for name in independent)


def test_asking_whether_an_unknown_question_applies_is_refused() -> None:
    with pytest.raises(AnswersError) as caught:
        applies("emial", Answers())
    assert "'emial'" in caught.value.message
    assert "email" in caught.value.hint


@pytest.mark.parametrize(
    ("kind", "citation"),
    [
        ("take_it_down", "TAKE IT DOWN Act § 3(a)(1)"),
        ("dsa", "DSA Art. 16"),
        ("dmca", "17 U.S.C. § 512(c)"),
    ],
)
def test_each_legal_element_cites_its_source_and_names_the_answers_that_supply_it(
    kind: str, citation: str
) -> None:
    answer_names = {f.name for f in fields(Answers)}
    for element in required_elements(kind):
        assert citation in element.requirement, element.key
        assert element.question.endswith("?") or element.question.endswith(".")
        assert element.fields and set(element.fields) <= answer_names, element.key


def test_every_kind_has_a_title_and_an_unknown_kind_is_refused() -> None:
    assert set(NOTICE_TITLES) == set(NOTICE_KINDS)
    with pytest.raises(AnswersError) as caught:
        render_notice("gdpr", Answers())
    assert "take_it_down, dsa, dmca, platform" in caught.value.hint


@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_when_nothing_was_flagged_no_notice_quotes_a_no_signs_finding(kind: str) -> None:
    words = flat(render_notice(kind, full_answers(), NOT_FLAGGED, today=TODAY))
    assert "no signs of manipulation" not in words.lower()
    assert "What the analysis found" not in words
    for name, sha256 in NOT_FLAGGED.files:  # the hashes still identify the files
        assert f"{name} SHA-256: {sha256}" in words
    grounds = "copyright" if kind == "dmca" else "ncii"
    assert NOT_NEEDED[grounds] in words


def test_a_dmca_notice_is_written_only_when_she_owns_the_photo_used() -> None:
    assert why_not_written("dmca", full_answers(owns_original=True)) is None
    reason = why_not_written("dmca", full_answers(owns_original=False))
    assert reason and "copyright owner" in reason
    for kind in ("take_it_down", "dsa", "platform"):
        assert why_not_written(kind, full_answers(owns_original=False)) is None


def test_the_platform_report_carries_pdq_and_vpdq_hashes_under_threatexchange_names() -> None:
    frames = [f"{'ab' * 32},{90 + i % 10},{float(i)}" for i in range(25)]
    evidence = replace(
        EVIDENCE, perceptual=[("still.jpg", "pdq", ["cd" * 32]), ("clip.mp4", "vpdq", frames)]
    )
    text = render_notice("platform", full_answers(), evidence, today=TODAY)
    assert "HASHES FOR BLOCKING RE-UPLOADS" in text
    assert f"pdq: {'cd' * 32}" in text
    assert "vpdq (25 frame hashes" in text
    assert frames[0] in text and frames[19] in text and frames[20] not in text
    assert "5 more in hashes.csv" in text
    assert "PDQ and vPDQ under HASHES FOR BLOCKING RE-UPLOADS" in flat(text)
    assert all(len(line) <= 78 for line in text.splitlines() if "https://" not in line)
