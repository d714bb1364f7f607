"""Takedown requests filled from a few answers, as plain text she can paste or send.

    answers = Answers(full_name="Jane Doe", email="jane@example.org", platform="ExampleSite",
                      urls=["https://example.com/p/123"], not_consensual=True)
    missing_elements("take_it_down", answers)   # [] -> every element the law asks for is there
    text = render_notice("take_it_down", answers, evidence)

An incomplete notice still renders, with a visible `[TO FILL IN: ...]` where each missing piece
belongs, so it can be finished by hand. The answers and their questions live in
`unmask.report.answers`, each law's required elements in `unmask.report.requirements`; both are
re-exported here, the one place callers import from.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from unmask.report.answers import (
    QUESTION_DEPENDS,
    Answers,
    AnswersError,
    answers_from_dict,
    applies,
    given,
    given_urls,
    load_answers,
    questions,
)
from unmask.report.plaintext import WIDTH, blank, items, section, sentence, wrap
from unmask.report.requirements import (
    NOTICE_KINDS,
    NOTICE_TITLES,
    Element,
    has_contact,
    missing_elements,
    required_elements,
)

__all__ = [
    "NOTICE_KINDS",
    "NOTICE_TITLES",
    "QUESTION_DEPENDS",
    "Answers",
    "AnswersError",
    "Element",
    "EvidenceSummary",
    "answers_from_dict",
    "applies",
    "load_answers",
    "missing_elements",
    "questions",
    "render_notice",
    "required_elements",
]


@dataclass(frozen=True)
class EvidenceSummary:
    """What the analysis found, filled by the report builder; included as worded."""

    files: list[tuple[str, str]]  # (file name, SHA-256 hex)
    verdict_lines: list[str]  # one plain sentence per file
    analysed_at: str  # UTC ISO 8601
    tool: str  # e.g. "Unmask 0.1.0"
    signing_key_fingerprint: str  # Ed25519 fingerprint of the evidence package


@dataclass(frozen=True)
class _Voice:
    """How the notice names the person depicted: herself, or by name when someone acts for her."""

    subj: str  # "I" | "Jane Doe"
    obj: str  # "me" | "Jane Doe"
    poss: str  # "my" | "Jane Doe's"
    has: str  # "I have" | "Jane Doe has"

    @staticmethod
    def of(answers: Answers) -> "_Voice":
        if not given(answers.acting_for):
            return _Voice("I", "me", "my", "I have")
        name = answers.acting_for.strip()
        return _Voice(name, name, f"{name}'s", f"{name} has")


def _name(answers: Answers) -> str:
    return answers.full_name.strip() or blank("your full name")


def _platform(answers: Answers) -> str:
    return answers.platform.strip() or blank("the name of the website or app")


def _location(answers: Answers) -> str:
    urls = given_urls(answers)
    return items(urls) if urls else items([blank("the web address (URL) of each page")])


def _acting_for(answers: Answers) -> str:
    """The sentences that say whom she acts for and by what authority; empty for herself."""
    if not given(answers.acting_for):
        return ""
    name = answers.acting_for.strip()
    authority = answers.authority.strip() or blank("how you are authorised to act for them")
    return (
        f"I am acting on behalf of {name}, the person depicted. My authority to act for "
        f"{name}: {sentence(authority)}"
    )


_ONE_CONTACT = ("email",)  # where any contact will do, the placeholder asks for an email


def _contact(answers: Answers, required: tuple[str, ...]) -> str:
    """Contact lines: every field given, plus a placeholder for each required one missing."""
    labels = {"email": "Email", "phone": "Phone", "postal_address": "Postal address"}
    needs = {
        "email": "your email address",
        "phone": "your phone number",
        "postal_address": "your postal address",
    }
    lines = [f"Name: {_name(answers)}"]
    for key in ("email", "phone", "postal_address"):
        value: str = getattr(answers, key).strip()
        if not value and key not in required:
            continue
        value = value or blank(needs[key])
        if "\n" in value:
            lines.append(f"{labels[key]}:")
            lines.extend("  " + line.strip() for line in value.splitlines() if line.strip())
        else:
            lines.append(f"{labels[key]}: {value}")
    return "\n".join(lines)


def _signature(answers: Answers) -> str:
    signature = answers.signature.strip()
    if not signature:
        name = answers.full_name.strip()
        signature = f"/s/ {name}" if name else blank("your signature: /s/ and your full name")
    lines = [signature, _name(answers)]
    if given(answers.acting_for):
        authority = answers.authority.strip() or blank("how you are authorised")
        lines.append(f"on behalf of {answers.acting_for.strip()} ({authority})")
    return "\n".join(lines)


def _evidence(evidence: EvidenceSummary | None) -> str:
    if evidence is None:
        return ""
    files = "\n".join(f"  - {name}\n    SHA-256: {sha256}" for name, sha256 in evidence.files)
    return section(
        "EVIDENCE",
        wrap(
            f"The files were analysed with {evidence.tool} on {evidence.analysed_at}. "
            "The SHA-256 hash of each file identifies it exactly, so you can find identical "
            "copies without the files being sent:"
        ),
        files,
        "What the analysis found:\n" + items(evidence.verdict_lines),
        wrap(
            "These findings are indications from automated checks, not proof. The signed "
            "evidence package (Ed25519 key fingerprint "
            f"{evidence.signing_key_fingerprint}) is available on request."
        ),
    )


def _extra(answers: Answers, label: str) -> list[str]:
    """Her own words, kept in her paragraphs and rewrapped, the first one after `label`."""
    parts = [part for part in re.split(r"\n\s*\n", answers.extra.strip()) if part.strip()]
    if parts:
        parts[0] = f"{label} {parts[0]}"
    return [wrap(part) for part in parts]


# --- the four notices -----------------------------------------------------------------------


def _take_it_down(a: Answers, voice: _Voice, evidence: EvidenceSummary | None) -> list[str]:
    what = sentence(a.description) if given(a.description) else "An intimate image or video."
    if a.not_consensual:
        good_faith = wrap(
            f"{voice.has} a good faith belief that the intimate visual depiction identified "
            f"above is not consensual: it was published without {voice.poss} consent."
        )
    else:
        good_faith = blank("confirm that it was published without consent")
    return [
        wrap(
            f"I am writing to ask {_platform(a)} to remove an intimate visual depiction of "
            f"{voice.obj} that was published without consent. This is a removal request under "
            "section 3 of the TAKE IT DOWN Act (Public Law 119-12)."
        ),
        wrap(_acting_for(a)),
        wrap(
            "The Act covers digital forgeries: intimate depictions of an identifiable individual "
            "created or altered with software, machine learning, artificial intelligence or "
            "other technological means (47 U.S.C. § 223(h), added by section 2 of the Act). The "
            "depiction identified below appears to be such a forgery."
        ),
        section(
            "THE DEPICTION AND WHERE IT IS (§ 3(a)(1)(B)(ii))",
            wrap(f"What it is: {what}"),
            "Where it is:\n" + _location(a),
        ),
        section(
            "STATEMENT OF GOOD FAITH (§ 3(a)(1)(B)(iii))",
            good_faith,
            *_extra(a, "Relevant information:"),
        ),
        section(
            "WHAT I ASK",
            wrap(
                "Please remove the depiction as soon as possible, and no later than 48 hours "
                "after receiving this request, as section 3(a)(3) of the Act requires, and make "
                "reasonable efforts to identify and remove any known identical copies of it. "
                "Please confirm to me when this is done."
            ),
        ),
        _evidence(evidence),
        section(
            "CONTACT (§ 3(a)(1)(B)(iv))", _contact(a, _ONE_CONTACT if not has_contact(a) else ())
        ),
        section("SIGNATURE (§ 3(a)(1)(B)(i))", _signature(a)),
    ]


def _dsa(a: Answers, voice: _Voice, evidence: EvidenceSummary | None) -> list[str]:
    if a.not_consensual:
        reasons = wrap(
            f"The content is an intimate image or video of {voice.obj}, published without "
            "consent. It appears to have been made or altered with software (a so-called "
            f"deepfake) so that it shows {voice.obj} in an intimate way."
        )
    else:
        reasons = blank("confirm that it was published without consent, and why it is illegal")
    explanation = [
        reasons,
        wrap(f"What it is: {sentence(a.description)}") if given(a.description) else "",
        wrap(
            "Making such material accessible to the public without the consent of the person "
            "depicted is illegal content within the meaning of Article 3(h) of the Digital "
            "Services Act. It infringes the rights to respect for private life and to the "
            "protection of personal data (Articles 7 and 8 of the Charter of Fundamental Rights "
            f"of the European Union) and processes {voice.poss} personal data without a lawful "
            "basis (Article 6 of the General Data Protection Regulation, (EU) 2016/679). "
            "Directive (EU) 2024/1385 (Article 5) requires Member States to make producing or "
            "altering such material and making it accessible to the public without consent a "
            "criminal offence."
        ),
        wrap(f"This notice is sent from {a.country.strip()}, where the content can be seen.")
        if given(a.country)
        else "",
        *_extra(a, "Further information:"),
    ]
    if a.confirms_accurate:
        bona_fide = wrap(
            "I confirm my bona fide belief that the information and allegations contained in "
            "this notice are accurate and complete."
        )
    else:
        bona_fide = blank("confirm that the information in this notice is accurate and complete")
    return [
        wrap(
            "I am submitting this notice under Article 16 of the Digital Services Act "
            f"(Regulation (EU) 2022/2065) about content on {_platform(a)} that I consider to be "
            "illegal."
        ),
        wrap(_acting_for(a)),
        section("WHY THE CONTENT IS ILLEGAL (Art. 16(2)(a))", *explanation),
        section(
            "EXACT ELECTRONIC LOCATION (Art. 16(2)(b))",
            "The content is at these exact URLs:\n" + _location(a),
        ),
        section("NAME AND EMAIL ADDRESS OF THE NOTIFIER (Art. 16(2)(c))", _contact(a, ("email",))),
        section("STATEMENT (Art. 16(2)(d))", bona_fide),
        _evidence(evidence),
        section(
            "WHAT I ASK",
            wrap(
                "Please remove this content, or disable access to it, together with any "
                "identical copies on your service. Under Article 16(3), a notice like this one "
                "gives rise to actual knowledge or awareness of the content for the purposes of "
                "Article 6."
            ),
            wrap(
                "Under Article 16(5), please confirm receipt of this notice without undue delay "
                "and notify me of your decision, with information on the possibilities for "
                "redress. Under Article 16(6), please process it in a timely, diligent, "
                "non-arbitrary and objective manner, and tell me whether automated means were "
                "used."
            ),
        ),
        section("SIGNATURE", _signature(a)),
    ]


def _dmca(a: Answers, voice: _Voice, evidence: EvidenceSummary | None) -> list[str]:
    if not a.owns_original:
        owner = blank("confirm that you own the copyright of the photo identified below")
    elif given(a.acting_for):
        owner = (
            f"I am authorized to act on behalf of {a.acting_for.strip()}, the copyright owner "
            "of the photograph identified below."
        )
    else:
        owner = "I am the copyright owner of the photograph identified below."
    work = [
        wrap(sentence(a.original_description))
        if given(a.original_description)
        else blank("which photo of yours was used, e.g. a selfie you took in 2023"),
        wrap(f"It was published at: {a.original_url.strip()}") if given(a.original_url) else "",
    ]
    good_faith = (
        wrap(
            f"{voice.has} not authorized this use of {voice.poss} photograph, and I have a good "
            "faith belief that use of the material in the manner complained of is not authorized "
            "by the copyright owner, its agent, or the law."
        )
        if a.owns_original
        else blank("confirm that you own the photo and did not allow this use of it")
    )
    accuracy = (
        wrap(
            "The information in this notification is accurate, and under penalty of perjury, "
            "I am the owner, or authorized to act on behalf of the owner, of an exclusive right "
            "that is allegedly infringed."
        )
        if a.confirms_accurate
        else blank("confirm that this information is accurate (under penalty of perjury)")
    )
    return [
        wrap(
            f"{owner} Material on {_platform(a)} infringes the copyright in it. I ask you to "
            "remove it or disable access to it under 17 U.S.C. § 512(c)."
        ),
        wrap(_acting_for(a)),
        section("THE COPYRIGHTED WORK (§ 512(c)(3)(A)(ii))", *work),
        section(
            "THE INFRINGING MATERIAL AND WHERE IT IS (§ 512(c)(3)(A)(iii))",
            wrap(
                "The material at the addresses below reproduces the photograph identified "
                f"above, or a part of it such as {voice.poss} face, in altered form and without "
                "permission."
            ),
            wrap(f"What it is: {sentence(a.description)}") if given(a.description) else "",
            "Where it is:\n" + _location(a),
        ),
        section("CONTACT (§ 512(c)(3)(A)(iv))", _contact(a, ("postal_address", "phone", "email"))),
        section("STATEMENTS (§ 512(c)(3)(A)(v) and (vi))", good_faith, accuracy),
        _evidence(evidence),
        section(
            "WHAT I ASK",
            wrap(
                "Please remove or disable access to the material expeditiously, as "
                "17 U.S.C. § 512(c)(1)(C) provides, together with any identical copies, and "
                "confirm to me when this is done. This notice does not limit any other request "
                "or right, such as a removal request under the TAKE IT DOWN Act."
            ),
            *_extra(a, "Further information:"),
        ),
        section("SIGNATURE (§ 512(c)(3)(A)(i))", _signature(a)),
    ]


def _platform_report(a: Answers, voice: _Voice, evidence: EvidenceSummary | None) -> list[str]:
    who = f"I am {_name(a)}" + (
        ". " if given(a.acting_for) else ", the person shown in this content."
    )
    what = (
        sentence(a.description)
        if given(a.description)
        else f"An intimate image or video of {voice.obj}."
    )
    if a.not_consensual:
        why = wrap(f"{voice.subj} did not consent to this content being published.")
    else:
        why = blank("confirm that it was published without consent")
    asks = [
        "remove the content at the addresses above and any identical copies;",
        "block re-uploads by matching the hashes of these files"
        + (" (SHA-256 above);" if evidence else ";"),
        "confirm to me what you have done.",
    ]
    return [
        wrap(
            f"I am reporting content on {_platform(a)} that shows {voice.obj} in an intimate way "
            "without consent. It is non-consensual intimate imagery and appears to be "
            "manipulated media (a deepfake) of an identifiable person."
        ),
        section("WHO IS REPORTING", wrap(who + _acting_for(a))),
        section("WHAT IT IS", wrap(what)),
        section("WHERE IT IS", _location(a)),
        section(
            "WHY IT SHOULD COME DOWN",
            why,
            wrap(
                "Non-consensual intimate imagery, including manipulated or AI-generated imagery "
                "of an identifiable person, is against the rules of most platforms and illegal "
                "in many places, for example under the US TAKE IT DOWN Act."
            ),
            *_extra(a, "Further information:"),
        ),
        _evidence(evidence),
        section("WHAT I ASK", "Please:\n" + items(asks)),
        section("CONTACT", _contact(a, _ONE_CONTACT if not has_contact(a) else ())),
        section("SIGNATURE", _signature(a)),
    ]


_BODIES: dict[str, Callable[[Answers, _Voice, EvidenceSummary | None], list[str]]] = {
    "take_it_down": _take_it_down,
    "dsa": _dsa,
    "dmca": _dmca,
    "platform": _platform_report,
}

_SUBJECTS: dict[str, str] = {
    "take_it_down": "Removal request for a non-consensual intimate depiction (TAKE IT DOWN Act)",
    "dsa": "Notice of illegal content under Article 16 of the Digital Services Act",
    "dmca": "DMCA notice of copyright infringement",
    "platform": "Report of non-consensual intimate imagery (manipulated media)",
}


def _notes_for_her(kind: str, answers: Answers) -> str:
    """Notes to the sender above the notice (only when there is something she must know)."""
    notes = []
    if kind == "dmca" and not answers.owns_original:
        notes.append(
            "A DMCA notice can only be sent by the copyright owner of the original photo "
            "(usually whoever took it) or by someone authorised to act for the owner. You have "
            "not confirmed that you own it. If you do not, do not send this notice: use the "
            "TAKE IT DOWN Act request or the platform report instead."
        )
    if kind == "dmca":
        notes.append(
            "Platforms often forward DMCA notices, including the sender's name and contact "
            "details, to the person who uploaded the material. You may use the address of a "
            "lawyer or another representative instead of your own."
        )
    if missing_elements(kind, answers):
        notes.append("Some details are still missing: replace each [TO FILL IN: ...] below.")
    if not notes:
        return ""
    return "\n".join(
        ["BEFORE YOU SEND THIS (delete this part before sending):", items(notes), "-" * WIDTH]
    )


def render_notice(
    kind: str,
    answers: Answers,
    evidence: EvidenceSummary | None = None,
    today: date | None = None,
) -> str:
    """The notice as plain UTF-8 text wrapped at 78 columns, ready to paste into a form or an
    email. Missing answers appear as `[TO FILL IN: ...]`; see `missing_elements`."""
    required_elements(kind)  # an unknown kind raises the AnswersError that names the kinds
    when = (today or date.today()).isoformat()
    addressee = _platform(answers)
    if kind == "dmca":
        addressee = f"Designated copyright agent, {addressee}"
    header = "\n".join(
        [
            f"Date: {when}",
            f"To: {addressee}",
            f"From: {_name(answers)}",
            wrap(f"Subject: {_SUBJECTS[kind]}", rest="  "),
        ]
    )
    blocks = [
        _notes_for_her(kind, answers),
        NOTICE_TITLES[kind],
        header,
        *_BODIES[kind](answers, _Voice.of(answers), evidence),
    ]
    return "\n\n".join(block for block in blocks if block) + "\n"
