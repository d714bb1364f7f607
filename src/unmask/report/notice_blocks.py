"""The blocks every takedown notice is made of: who writes for whom, where the content is, how
to reach her, her signature, the evidence summary, and what may be claimed about how the content
was made."""

import re
from dataclasses import dataclass, field

from unmask.report.answers import Answers, given, given_urls
from unmask.report.plaintext import blank, items, section, sentence, wrap


@dataclass(frozen=True)
class EvidenceSummary:
    """What the analysis found, filled by the report builder; included as worded."""

    files: list[tuple[str, str]]  # (file name, SHA-256 hex)
    verdict_lines: list[str]  # one plain sentence per file the analysis flagged
    analysed_at: str  # UTC ISO 8601
    tool: str  # e.g. "Unmask 0.1.0"
    signing_key_fingerprint: str  # Ed25519 fingerprint of the evidence package
    flagged: bool = False
    """True when the analysis called at least one file likely manipulated. Only then does a
    notice say that it found signs of manipulation; an inconclusive or clean result is listed
    in the evidence section and claims nothing."""
    perceptual: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(file name, ThreatExchange signal type "pdq" | "vpdq", hashes) for platforms that block
    re-uploads by perceptual hash: one PDQ hash of a picture, or a video's vPDQ frames as
    ThreatExchange writes them ("pdq_hex,quality,timestamp")."""
    comparisons: list[str] = field(default_factory=list)
    """One sentence per file that a comparison with its original showed `altered` (both
    files' SHA-256 and what differs, `unmask.report.comparison.comparison_line`); quoted in
    the notice. Comparisons that found no change are not quoted: they claim nothing."""


@dataclass(frozen=True)
class Voice:
    """How the notice names the person depicted: herself, or by name when someone acts for her."""

    subj: str  # "I" | "Jane Doe"
    obj: str  # "me" | "Jane Doe"
    poss: str  # "my" | "Jane Doe's"
    has: str  # "I have" | "Jane Doe has"

    @staticmethod
    def of(answers: Answers) -> "Voice":
        if not given(answers.acting_for):
            return Voice("I", "me", "my", "I have")
        name = answers.acting_for.strip()
        return Voice(name, name, f"{name}'s", f"{name} has")


def sender_name(answers: Answers) -> str:
    return answers.full_name.strip() or blank("your full name")


def platform_name(answers: Answers) -> str:
    return answers.platform.strip() or blank("the name of the website or app")


def location(answers: Answers) -> str:
    urls = given_urls(answers)
    return items(urls) if urls else items([blank("the web address (URL) of each page")])


def acting_for(answers: Answers) -> str:
    """The sentences that say whom she acts for and by what authority; empty for herself."""
    if not given(answers.acting_for):
        return ""
    name = answers.acting_for.strip()
    authority = answers.authority.strip() or blank("how you are authorised to act for them")
    return (
        f"I am acting on behalf of {name}, the person depicted. My authority to act for "
        f"{name}: {sentence(authority)}"
    )


ONE_CONTACT = ("email",)  # where any contact will do, the placeholder asks for an email


def contact(answers: Answers, required: tuple[str, ...]) -> str:
    """Contact lines: every field given, plus a placeholder for each required one missing."""
    labels = {"email": "Email", "phone": "Phone", "postal_address": "Postal address"}
    needs = {
        "email": "your email address",
        "phone": "your phone number",
        "postal_address": "your postal address",
    }
    lines = [f"Name: {sender_name(answers)}"]
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


def signature(answers: Answers) -> str:
    """Her signature as she typed it (or "/s/" and her name), her name, and for whom she signs."""
    signed = answers.signature.strip()
    if not signed:
        name = answers.full_name.strip()
        signed = f"/s/ {name}" if name else blank("your signature: /s/ and your full name")
    lines = [signed, sender_name(answers)]
    if given(answers.acting_for):
        authority = answers.authority.strip() or blank("how you are authorised")
        lines.append(f"on behalf of {answers.acting_for.strip()} ({authority})")
    return "\n".join(lines)


NOT_NEEDED = {
    "ncii": "Whether or not it was manipulated does not change this request: intimate imagery "
    "published without the consent of the person shown must come down either way.",
    "copyright": "Whether or not it was manipulated does not change this notice: it concerns "
    "copies of the photograph, altered or not.",
}
"""Said instead of the analysis' findings when it flagged nothing: her request never rests on
a finding, and a "no signs of manipulation" line would only be read against her."""


def evidence_section(evidence: EvidenceSummary | None, grounds: str = "ncii") -> str:
    """The files' hashes, and the analysis' findings as indications only when it flagged a file
    (otherwise `NOT_NEEDED[grounds]`); empty without evidence."""
    if evidence is None:
        return ""
    files = "\n".join(f"  - {name}\n    SHA-256: {sha256}" for name, sha256 in evidence.files)
    if not evidence.flagged:
        return section(
            "EVIDENCE",
            wrap(
                f"The files were recorded with {evidence.tool} on {evidence.analysed_at}. The "
                "SHA-256 hash of each file identifies it exactly, so you can find identical "
                "copies without the files being sent:"
            ),
            files,
            wrap(NOT_NEEDED[grounds]),
            wrap(
                "The signed evidence package (Ed25519 key fingerprint "
                f"{evidence.signing_key_fingerprint}) is available on request."
            ),
        )
    return section(
        "EVIDENCE",
        wrap(
            f"The files were analysed with {evidence.tool} on {evidence.analysed_at}. "
            "The SHA-256 hash of each file identifies it exactly, so you can find identical "
            "copies without the files being sent:"
        ),
        files,
        "What the analysis found:\n" + items(evidence.verdict_lines),
        ("Comparison with the original:\n" + items(evidence.comparisons))
        if evidence.comparisons
        else "",
        wrap(
            "These findings are indications from automated checks, not proof. The signed "
            "evidence package (Ed25519 key fingerprint "
            f"{evidence.signing_key_fingerprint}) is available on request."
        ),
    )


MAX_VPDQ_LINES = 20
"""vPDQ frames quoted in a notice (one a second: 20 s of video); the rest are in hashes.csv,
so a pasted request stays within the length a report form takes."""


def perceptual_section(evidence: EvidenceSummary | None) -> str:
    """The PDQ and vPDQ hashes, under ThreatExchange's signal-type names, that let a platform
    block re-encoded and resized copies (SHA-256 finds exact copies only)."""
    if evidence is None or not evidence.perceptual:
        return ""
    blocks = []
    for name, kind, hashes in evidence.perceptual:
        if kind == "pdq":
            blocks.append(f"  - {name}\n    pdq: {hashes[0]}")
            continue
        shown = "\n".join(f"      {line}" for line in hashes[:MAX_VPDQ_LINES])
        more = len(hashes) - MAX_VPDQ_LINES
        rest = f"\n      ... {more} more in hashes.csv of the evidence package" if more > 0 else ""
        blocks.append(
            f"  - {name}\n    vpdq ({len(hashes)} frame hashes, one a second, as "
            f"pdq,quality,timestamp):\n{shown}{rest}"
        )
    return section(
        "HASHES FOR BLOCKING RE-UPLOADS",
        wrap(
            "Perceptual hashes (PDQ for pictures, vPDQ for videos; ThreatExchange signal types "
            "pdq and vpdq) match re-encoded, resized or slightly cropped copies too. Please add "
            "them to your hash-matching system:"
        ),
        "\n".join(blocks),
    )


def extra_paragraphs(answers: Answers, label: str) -> list[str]:
    """Her own words, kept in her paragraphs and rewrapped, the first one after `label`."""
    parts = [part for part in re.split(r"\n\s*\n", answers.extra.strip()) if part.strip()]
    if parts:
        parts[0] = f"{label} {parts[0]}"
    return [wrap(part) for part in parts]


# --- what is claimed about how it was made -----------------------------------------------------
# A notice says the content was made or altered with software only as her own statement
# (`Answers.made_with_software`), and that the analysis found signs of manipulation only when it
# did (`EvidenceSummary.flagged`). Neither is needed for a valid request: the TAKE IT DOWN Act,
# the DSA and platform rules cover intimate images published without consent however made.

MADE_WITH_SOFTWARE = "To my knowledge it was made or altered with software"  # her statement


def analysis_found(evidence: EvidenceSummary | None) -> str:
    """The sentence that reports the analysis' finding, only when it flagged a file."""
    if evidence is None or not evidence.flagged:
        return ""
    if evidence.comparisons:
        return (
            "Laid over the original it was made from, the content differs from it beyond what "
            "re-encoding or resizing explains: it was altered (the comparison is quoted under "
            "EVIDENCE below)."
        )
    return (
        "The automated analysis described under EVIDENCE below found signs of manipulation in "
        "at least one of the files."
    )
