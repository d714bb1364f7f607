"""Takedown requests filled from a few answers, as plain text she can paste or send.

    answers = Answers(full_name="Jane Doe", email="jane@example.org", platform="ExampleSite",
                      urls=["https://example.com/p/123"], not_consensual=True)
    missing_elements("take_it_down", answers)   # [] -> every element the law asks for is there
    text = render_notice("take_it_down", answers, evidence)

An incomplete notice still renders, with a visible `[TO FILL IN: ...]` where each missing piece
belongs, so it can be finished by hand. A notice says the content was made with software only
when she says so (`Answers.made_with_software`), and that the analysis found signs of
manipulation only when it did (`EvidenceSummary.flagged`).

The answers and their questions live in `unmask.report.answers`, each law's required elements in
`unmask.report.requirements`, the blocks notices share in `unmask.report.notice_blocks`; the
public names are re-exported here, the one place callers import from.
"""

from collections.abc import Callable
from datetime import date

from unmask.report.answers import (
    QUESTION_DEPENDS,
    Answers,
    AnswersError,
    answers_from_dict,
    applies,
    given,
    load_answers,
    questions,
)
from unmask.report.notice_blocks import (
    MADE_WITH_SOFTWARE,
    ONE_CONTACT,
    EvidenceSummary,
    Voice,
    acting_for,
    analysis_found,
    contact,
    evidence_section,
    extra_paragraphs,
    location,
    perceptual_section,
    platform_name,
    sender_name,
    signature,
)
from unmask.report.plaintext import WIDTH, blank, items, paragraph, section, sentence, wrap
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
    "why_not_written",
]


# --- the four notices -----------------------------------------------------------------------


def _take_it_down(a: Answers, voice: Voice, evidence: EvidenceSummary | None) -> list[str]:
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
            f"I am writing to ask {platform_name(a)} to remove an intimate visual depiction of "
            f"{voice.obj} that was published without consent. This is a removal request under "
            "section 3 of the TAKE IT DOWN Act (Public Law 119-12)."
        ),
        wrap(acting_for(a)),
        paragraph(
            "The Act's removal process covers intimate visual depictions published without "
            "consent, including digital forgeries: intimate depictions of an identifiable "
            "individual created or altered with software, machine learning, artificial "
            "intelligence or other technological means (47 U.S.C. § 223(h), added by section 2 "
            "of the Act).",
            "I believe the depiction identified below is such a forgery."
            if a.made_with_software
            else "",
            analysis_found(evidence),
        ),
        section(
            "THE DEPICTION AND WHERE IT IS (§ 3(a)(1)(B)(ii))",
            wrap(f"What it is: {what}"),
            "Where it is:\n" + location(a),
        ),
        section(
            "STATEMENT OF GOOD FAITH (§ 3(a)(1)(B)(iii))",
            good_faith,
            *extra_paragraphs(a, "Relevant information:"),
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
        evidence_section(evidence),
        section(
            "CONTACT (§ 3(a)(1)(B)(iv))", contact(a, ONE_CONTACT if not has_contact(a) else ())
        ),
        section("SIGNATURE (§ 3(a)(1)(B)(i))", signature(a)),
    ]


def _dsa(a: Answers, voice: Voice, evidence: EvidenceSummary | None) -> list[str]:
    reasons = paragraph(
        f"The content is an intimate image or video of {voice.obj}, published without consent."
        if a.not_consensual
        else blank("confirm that it was published without consent, and why it is illegal"),
        f"{MADE_WITH_SOFTWARE} (a so-called deepfake) so that it shows {voice.obj} in "
        "an intimate way."
        if a.made_with_software
        else "",
        analysis_found(evidence),
    )
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
            "Directive (EU) 2024/1385 (Article 5) requires Member States to make it a criminal "
            "offence to make intimate images of a person accessible to the public without "
            "consent, and to produce or alter such material with technology and make it "
            "accessible."
        ),
        wrap(f"This notice is sent from {a.country.strip()}, where the content can be seen.")
        if given(a.country)
        else "",
        *extra_paragraphs(a, "Further information:"),
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
            f"(Regulation (EU) 2022/2065) about content on {platform_name(a)} that I consider "
            "to be illegal."
        ),
        wrap(acting_for(a)),
        section("WHY THE CONTENT IS ILLEGAL (Art. 16(2)(a))", *explanation),
        section(
            "EXACT ELECTRONIC LOCATION (Art. 16(2)(b))",
            "The content is at these exact URLs:\n" + location(a),
        ),
        section("NAME AND EMAIL ADDRESS OF THE NOTIFIER (Art. 16(2)(c))", contact(a, ("email",))),
        section("STATEMENT (Art. 16(2)(d))", bona_fide),
        evidence_section(evidence),
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
        section("SIGNATURE", signature(a)),
    ]


def _dmca(a: Answers, voice: Voice, evidence: EvidenceSummary | None) -> list[str]:
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
    if a.made_with_software:
        copied = (
            "The material at the addresses below reproduces the photograph identified above, or "
            f"a part of it such as {voice.poss} face, altered with software and without "
            "permission."
        )
    else:
        copied = (
            "The material at the addresses below reproduces the photograph identified above "
            "without permission."
        )
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
            f"{owner} Material on {platform_name(a)} infringes the copyright in it. I ask you to "
            "remove it or disable access to it under 17 U.S.C. § 512(c)."
        ),
        wrap(acting_for(a)),
        section("THE COPYRIGHTED WORK (§ 512(c)(3)(A)(ii))", *work),
        section(
            "THE INFRINGING MATERIAL AND WHERE IT IS (§ 512(c)(3)(A)(iii))",
            paragraph(copied, analysis_found(evidence)),
            wrap(f"What it is: {sentence(a.description)}") if given(a.description) else "",
            "Where it is:\n" + location(a),
        ),
        section("CONTACT (§ 512(c)(3)(A)(iv))", contact(a, ("postal_address", "phone", "email"))),
        section("STATEMENTS (§ 512(c)(3)(A)(v) and (vi))", good_faith, accuracy),
        evidence_section(evidence, "copyright"),
        section(
            "WHAT I ASK",
            wrap(
                "Please remove or disable access to the material expeditiously, as "
                "17 U.S.C. § 512(c)(1)(C) provides, together with any identical copies, and "
                "confirm to me when this is done. This notice does not limit any other request "
                "or right, such as a removal request under the TAKE IT DOWN Act."
            ),
            *extra_paragraphs(a, "Further information:"),
        ),
        section("SIGNATURE (§ 512(c)(3)(A)(i))", signature(a)),
    ]


def _platform_report(a: Answers, voice: Voice, evidence: EvidenceSummary | None) -> list[str]:
    who = f"I am {sender_name(a)}" + (
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
        + (_hashes_named(evidence) if evidence else ";"),
        "confirm to me what you have done.",
    ]
    return [
        paragraph(
            f"I am reporting content on {platform_name(a)} that shows {voice.obj} in an intimate "
            "way without consent. It is non-consensual intimate imagery of an identifiable "
            "person.",
            f"{MADE_WITH_SOFTWARE} (a deepfake)." if a.made_with_software else "",
            analysis_found(evidence),
        ),
        section("WHO IS REPORTING", wrap(who + acting_for(a))),
        section("WHAT IT IS", wrap(what)),
        section("WHERE IT IS", location(a)),
        section(
            "WHY IT SHOULD COME DOWN",
            why,
            wrap(
                "Non-consensual intimate imagery, including manipulated or AI-generated imagery "
                "of an identifiable person, is against the rules of most platforms and illegal "
                "in many places, for example under the US TAKE IT DOWN Act."
            ),
            *extra_paragraphs(a, "Further information:"),
        ),
        evidence_section(evidence),
        perceptual_section(evidence),
        section("WHAT I ASK", "Please:\n" + items(asks)),
        section("CONTACT", contact(a, ONE_CONTACT if not has_contact(a) else ())),
        section("SIGNATURE", signature(a)),
    ]


def _hashes_named(evidence: EvidenceSummary) -> str:
    if evidence.perceptual:
        return " (SHA-256 under EVIDENCE, PDQ and vPDQ under HASHES FOR BLOCKING RE-UPLOADS);"
    return " (SHA-256 above);"


_BODIES: dict[str, Callable[[Answers, Voice, EvidenceSummary | None], list[str]]] = {
    "take_it_down": _take_it_down,
    "dsa": _dsa,
    "dmca": _dmca,
    "platform": _platform_report,
}

_SUBJECTS: dict[str, str] = {
    "take_it_down": "Removal request for a non-consensual intimate depiction (TAKE IT DOWN Act)",
    "dsa": "Notice of illegal content under Article 16 of the Digital Services Act",
    "dmca": "DMCA notice of copyright infringement",
    "platform": "Report of non-consensual intimate imagery",
}


def _subject(kind: str, answers: Answers) -> str:
    if kind == "platform" and answers.made_with_software:
        return f"{_SUBJECTS[kind]} (manipulated media)"
    return _SUBJECTS[kind]


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


NOT_WRITTEN_DMCA = (
    "No DMCA notice was written: a DMCA notice can only be sent by the copyright owner of the "
    "photo that was used (usually whoever took it), or by someone acting for the owner, and "
    "you did not say that a photo you took was used. The TAKE IT DOWN Act request, the EU "
    "notice and the platform report do not depend on copyright. If a photo you took was "
    "used, make the package again and answer yes to that question."
)


def why_not_written(kind: str, answers: Answers) -> str | None:
    """Why a requested notice is left out of the package (None: it is written). Only the DMCA
    notice is ever left out: sent by someone who does not own the photo, it is a false
    statement under penalty of perjury (§ 512(c)(3)(A)(vi)), so it is written only when she
    says she owns the photo used (`Answers.owns_original`)."""
    required_elements(kind)
    if kind == "dmca" and not answers.owns_original:
        return NOT_WRITTEN_DMCA
    return None


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
    addressee = platform_name(answers)
    if kind == "dmca":
        addressee = f"Designated copyright agent, {addressee}"
    header = "\n".join(
        [
            f"Date: {when}",
            f"To: {addressee}",
            f"From: {sender_name(answers)}",
            wrap(f"Subject: {_subject(kind, answers)}", rest="  "),
        ]
    )
    blocks = [
        _notes_for_her(kind, answers),
        NOTICE_TITLES[kind],
        header,
        *_BODIES[kind](answers, Voice.of(answers), evidence),
    ]
    return "\n\n".join(block for block in blocks if block) + "\n"
