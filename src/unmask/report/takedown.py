"""Takedown requests filled from a few answers, as plain text she can paste or send.

    answers = Answers(full_name="Jane Doe", email="jane@example.org", platform="ExampleSite",
                      urls=["https://example.com/p/123"], not_consensual=True)
    missing_elements("take_it_down", answers)   # [] -> every element the law asks for is there
    text = render_notice("take_it_down", answers, evidence)

Each law's required elements are listed as `Element`s, so the CLI and the web form can ask for
what is still missing. An incomplete notice still renders, with a visible `[TO FILL IN: ...]`
where each missing piece belongs, so it can be finished by hand.
"""

# Legal sources of the required elements (paraphrased with citations in `Element.requirement`):
# - TAKE IT DOWN Act, Pub. L. 119-12 (2025): § 3(a)(1)(B)(i)-(iv) what a removal request must
#   contain, § 3(a)(3) removal within 48 hours and of known identical copies; "digital forgery"
#   is defined in 47 U.S.C. § 223(h), added by § 2 of the Act.
# - EU Digital Services Act, Regulation (EU) 2022/2065: Art. 16(2)(a)-(d) what a notice must
#   contain, Art. 16(3) actual knowledge, Art. 16(5)-(6) confirmation of receipt and decision.
# - DMCA, 17 U.S.C. § 512(c)(3)(A)(i)-(vi) what a notice must contain, § 512(c)(2) designated
#   agent, § 512(c)(1)(C) expeditious removal.

import difflib
import json
import re
import textwrap
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path

from unmask.errors import UnmaskError

NOTICE_KINDS: tuple[str, ...] = ("take_it_down", "dsa", "dmca", "platform")

NOTICE_TITLES: dict[str, str] = {
    "take_it_down": "TAKE IT DOWN Act removal request",
    "dsa": "EU Digital Services Act (Art. 16) notice",
    "dmca": "DMCA takedown notice (17 U.S.C. § 512(c)(3))",
    "platform": "Report to a platform",
}

WIDTH = 78
"""Plain-text e-mail convention: lines fit a terminal and every mail client without reflowing."""


class AnswersError(UnmaskError):
    """Answers for a takedown request that cannot be read or used (file, key, type or kind)."""

    code = "invalid_answers"


@dataclass
class Answers:
    """What she tells us. Everything is optional so it can be filled step by step."""

    full_name: str = ""  # the person depicted, or the one acting for her
    signature: str = ""  # electronic signature, e.g. "/s/ Jane Doe"; empty: "/s/ " + full_name
    email: str = ""
    postal_address: str = ""
    phone: str = ""
    acting_for: str = ""  # empty: the depicted person herself; else the depicted person's name
    authority: str = ""  # when acting_for is set: how she is authorised (parent, lawyer, ...)
    platform: str = ""  # the site or service the notice is addressed to
    urls: list[str] = field(default_factory=list)  # where the depiction is
    description: str = ""  # brief, non-graphic identification of the depiction
    not_consensual: bool = False  # published without consent (TAKE IT DOWN good-faith belief)
    owns_original: bool = False  # the depicted person holds the copyright of the original photo
    original_description: str = ""  # the original work (her own photo), for the DMCA notice
    original_url: str = ""  # where the original is or was published, if anywhere
    country: str = ""  # optional, for the DSA notice
    extra: str = ""  # anything else she wants to say
    confirms_accurate: bool = False  # DSA Art. 16(2)(d) and DMCA § 512(c)(3)(A)(vi) statement


@dataclass(frozen=True)
class EvidenceSummary:
    """What the analysis found, filled by the report builder; included as worded."""

    files: list[tuple[str, str]]  # (file name, SHA-256 hex)
    verdict_lines: list[str]  # one plain sentence per file
    analysed_at: str  # UTC ISO 8601
    tool: str  # e.g. "Unmask 0.1.0"
    signing_key_fingerprint: str  # Ed25519 fingerprint of the evidence package


@dataclass(frozen=True)
class Element:
    """One element a law (or a platform's form) requires, and how to ask her for it."""

    key: str  # stable id: "signature", "location", "good_faith", "contact", ...
    requirement: str  # the law's wording, paraphrased, with its citation
    question: str  # the question that supplies it, in plain words
    fields: tuple[str, ...] = ()  # the `Answers` fields that supply it, for a wizard to re-ask


# --- what each notice requires -------------------------------------------------------------


def _has(text: str) -> bool:
    return bool(text.strip())


def _urls(answers: Answers) -> list[str]:
    return [url.strip() for url in answers.urls if url.strip()]


def _signed(answers: Answers) -> bool:
    has_name = _has(answers.full_name) or _has(answers.signature)
    return has_name and (not _has(answers.acting_for) or _has(answers.authority))


def _any_contact(answers: Answers) -> bool:
    return any(_has(value) for value in (answers.email, answers.phone, answers.postal_address))


_ASK_PLATFORM = "Which website or app is showing it?"
_ASK_URLS = "Where exactly is it? Please paste the full web address (URL) of each page showing it."
_ASK_CONSENT = (
    "Was it published without your consent (or without the consent of the person you are helping)?"
)
_ASK_SIGNATURE = (
    "What is your full name? Typing it counts as your electronic signature. If you are acting "
    "for someone else, say how you are allowed to."
)
_ASK_CONTACT = "How can the platform reach you? An email address is enough."
_ASK_ACCURATE = "Is everything you have told us accurate and complete, as far as you know?"
_SIGNATURE_FIELDS = ("full_name", "signature", "authority")
_CONTACT_FIELDS = ("email", "phone", "postal_address")


def _platform_named(answers: Answers) -> bool:
    return _has(answers.platform)


def _located(answers: Answers) -> bool:
    return bool(_urls(answers))


def _not_consensual(answers: Answers) -> bool:
    return answers.not_consensual


def _confirmed(answers: Answers) -> bool:
    return answers.confirms_accurate


_Rule = tuple[Element, Callable[[Answers], bool]]


def _rule(
    key: str,
    requirement: str,
    question: str,
    asks: tuple[str, ...],
    supplied: Callable[[Answers], bool],
) -> _Rule:
    return Element(key, requirement, question, asks), supplied


_TIDA = "TAKE IT DOWN Act § 3(a)(1)"
_DMCA = "17 U.S.C. § 512(c)"

_RULES: dict[str, tuple[_Rule, ...]] = {
    "take_it_down": (
        _rule(
            "addressee",
            "Sent to the covered platform through the notice-and-removal process it must "
            f"provide — {_TIDA}(A)",
            _ASK_PLATFORM,
            ("platform",),
            _platform_named,
        ),
        _rule(
            "signature",
            "(i) a physical or electronic signature of the identifiable individual (or an "
            f"authorized person acting on her behalf) — {_TIDA}(B)(i)",
            _ASK_SIGNATURE,
            _SIGNATURE_FIELDS,
            _signed,
        ),
        _rule(
            "location",
            "(ii) an identification of, and information reasonably sufficient for the platform "
            f"to locate, the intimate visual depiction — {_TIDA}(B)(ii)",
            _ASK_URLS,
            ("urls", "description"),
            _located,
        ),
        _rule(
            "good_faith",
            "(iii) a brief statement that the identifiable individual has a good faith belief "
            "that the depiction is not consensual, with any relevant information for the "
            f"platform to determine it was published without consent — {_TIDA}(B)(iii)",
            _ASK_CONSENT,
            ("not_consensual", "extra"),
            _not_consensual,
        ),
        _rule(
            "contact",
            "(iv) information sufficient for the platform to contact the identifiable "
            f"individual (or the authorized person) — {_TIDA}(B)(iv)",
            _ASK_CONTACT,
            _CONTACT_FIELDS,
            _any_contact,
        ),
    ),
    "dsa": (
        _rule(
            "addressee",
            "Submitted to the hosting service provider through its notice and action "
            "mechanism — DSA Art. 16(1)",
            _ASK_PLATFORM,
            ("platform",),
            _platform_named,
        ),
        _rule(
            "explanation",
            "(a) a sufficiently substantiated explanation of the reasons why the content is "
            "alleged to be illegal — DSA Art. 16(2)(a)",
            _ASK_CONSENT,
            ("not_consensual", "description", "country", "extra"),
            _not_consensual,
        ),
        _rule(
            "location",
            "(b) a clear indication of the exact electronic location of the content, such as "
            "the exact URL or URLs — DSA Art. 16(2)(b)",
            _ASK_URLS,
            ("urls",),
            _located,
        ),
        _rule(
            "notifier",
            "(c) the name and email address of the individual submitting the notice — "
            "DSA Art. 16(2)(c)",
            "What are your full name and email address?",
            ("full_name", "email"),
            lambda a: _has(a.full_name) and _has(a.email),
        ),
        _rule(
            "bona_fide",
            "(d) a statement confirming the bona fide belief of the notifier that the "
            "information and allegations in the notice are accurate and complete — "
            "DSA Art. 16(2)(d)",
            _ASK_ACCURATE,
            ("confirms_accurate",),
            _confirmed,
        ),
    ),
    "dmca": (
        _rule(
            "addressee",
            f"Sent to the service provider's designated agent — {_DMCA}(2)",
            _ASK_PLATFORM,
            ("platform",),
            _platform_named,
        ),
        _rule(
            "ownership",
            "Only the owner of an exclusive right in the work, or a person authorized to act "
            f"for the owner, may send the notice — {_DMCA}(3)(A)(i) and (vi)",
            "Did you take the original photo yourself, for example a selfie? Copyright usually "
            "belongs to whoever took the photo.",
            ("owns_original",),
            lambda a: a.owns_original,
        ),
        _rule(
            "signature",
            "(i) a physical or electronic signature of a person authorized to act on behalf of "
            f"the owner of an exclusive right that is allegedly infringed — {_DMCA}(3)(A)(i)",
            _ASK_SIGNATURE,
            _SIGNATURE_FIELDS,
            _signed,
        ),
        _rule(
            "original_work",
            "(ii) identification of the copyrighted work claimed to have been infringed — "
            f"{_DMCA}(3)(A)(ii)",
            "Which photo of yours was used? Describe it briefly, and say where it was posted, "
            "if anywhere.",
            ("original_description", "original_url"),
            lambda a: _has(a.original_description),
        ),
        _rule(
            "location",
            "(iii) identification of the infringing material, and information reasonably "
            f"sufficient to permit the service provider to locate it — {_DMCA}(3)(A)(iii)",
            _ASK_URLS,
            ("urls", "description"),
            _located,
        ),
        _rule(
            "contact",
            "(iv) information reasonably sufficient to contact the complaining party, such as "
            f"an address, telephone number and email address — {_DMCA}(3)(A)(iv)",
            "What postal address, phone number and email address can the platform use to "
            "reach you? A lawyer's address or a PO box is fine.",
            _CONTACT_FIELDS,
            lambda a: _has(a.postal_address) and _has(a.phone) and _has(a.email),
        ),
        _rule(
            "good_faith",
            "(v) a statement of good faith belief that use of the material in the manner "
            "complained of is not authorized by the copyright owner, its agent, or the law — "
            f"{_DMCA}(3)(A)(v)",
            _ASK_CONSENT,
            ("not_consensual",),
            _not_consensual,
        ),
        _rule(
            "accuracy",
            "(vi) a statement that the information in the notification is accurate, and under "
            "penalty of perjury, that the complaining party is authorized to act on behalf of "
            f"the owner — {_DMCA}(3)(A)(vi)",
            _ASK_ACCURATE + " A DMCA notice says so under penalty of perjury.",
            ("confirms_accurate",),
            _confirmed,
        ),
    ),
    "platform": (
        _rule(
            "addressee",
            "Sent to the platform's trust-and-safety team (its report form or abuse address)",
            _ASK_PLATFORM,
            ("platform",),
            _platform_named,
        ),
        _rule(
            "reporter",
            "Who is reporting: the person depicted, or someone acting for her and how",
            _ASK_SIGNATURE,
            _SIGNATURE_FIELDS,
            _signed,
        ),
        _rule(
            "location",
            "Where the content is: its exact URLs",
            _ASK_URLS,
            ("urls",),
            _located,
        ),
        _rule(
            "consent",
            "Why it must come down: the person depicted did not consent to its publication",
            _ASK_CONSENT,
            ("not_consensual", "extra"),
            _not_consensual,
        ),
        _rule(
            "contact",
            "How the platform can reach the reporter",
            _ASK_CONTACT,
            _CONTACT_FIELDS,
            _any_contact,
        ),
    ),
}


def _rules(kind: str) -> tuple[_Rule, ...]:
    try:
        return _RULES[kind]
    except KeyError:
        raise AnswersError(
            f"There is no takedown notice of kind {kind!r}.",
            hint=f"Choose one of: {', '.join(NOTICE_KINDS)}.",
        ) from None


def required_elements(kind: str) -> list[Element]:
    """The elements a notice of this kind must contain, in the order the law lists them."""
    return [element for element, _ in _rules(kind)]


def missing_elements(kind: str, answers: Answers) -> list[Element]:
    """The required elements these answers do not supply yet (empty: the notice is complete)."""
    return [element for element, supplied in _rules(kind) if not supplied(answers)]


# --- questions for a wizard -----------------------------------------------------------------

_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("full_name", "What is your full name?", "text"),
    (
        "acting_for",
        "Are you doing this for someone else? If so, what is the name of the person shown? "
        "Leave this empty if it is you.",
        "text",
    ),
    (
        "authority",
        "If you are acting for someone else: how are you allowed to act for them? For example: "
        "parent of a minor, their lawyer, or with their written permission.",
        "text",
    ),
    ("platform", _ASK_PLATFORM, "text"),
    ("urls", _ASK_URLS, "list"),
    (
        "description",
        "Describe it briefly so the platform can recognise it, without graphic detail. For "
        "example: 'a photo with my face edited into it, posted by the account @name'.",
        "text",
    ),
    ("not_consensual", _ASK_CONSENT, "yes_no"),
    (
        "owns_original",
        "Was it made from a photo you took yourself, such as a selfie? Copyright usually "
        "belongs to whoever took the photo; this matters only for a DMCA notice.",
        "yes_no",
    ),
    (
        "original_description",
        "Which photo of yours was used? Describe it briefly, for example 'a selfie I took in "
        "2023'.",
        "text",
    ),
    (
        "original_url",
        "Where is that photo published, if anywhere? Leave this empty if it never was.",
        "text",
    ),
    ("email", "What email address can the platform use to reach you?", "text"),
    ("phone", "What phone number? (Needed for a DMCA notice, optional otherwise.)", "text"),
    (
        "postal_address",
        "What postal address? (Needed for a DMCA notice, optional otherwise. A lawyer's "
        "address or a PO box is fine.)",
        "text",
    ),
    ("country", "Which country do you live in? (Optional; used in the EU notice.)", "text"),
    ("extra", "Is there anything else you want the platform to know? (Optional.)", "text"),
    ("confirms_accurate", _ASK_ACCURATE, "yes_no"),
    (
        "signature",
        "How do you want to sign? Typing your name is an electronic signature, for example "
        "'/s/ Jane Doe'. Leave this empty to sign with '/s/' and your full name.",
        "text",
    ),
)


def questions() -> list[tuple[str, str, str]]:
    """(field name, question, "text" | "list" | "yes_no") for every `Answers` field, in the
    order a wizard should ask them."""
    return list(_QUESTIONS)


# --- reading answers from a file ------------------------------------------------------------


def load_answers(path: Path) -> Answers:
    """Read answers from a JSON or TOML file whose keys are `Answers` field names."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AnswersError(
            f"Cannot read the answers file {path}: {error}",
            hint="Check the path, and save the file as UTF-8 text.",
        ) from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        else:
            raise AnswersError(
                f"The answers file {path} must end in .json or .toml.",
                hint="Rename it after its format, e.g. answers.toml.",
            )
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise AnswersError(
            f"The answers file {path} is not valid {suffix[1:].upper()}: {error}",
            hint="Fix the line named above; text values need quotes.",
        ) from None
    if not isinstance(data, dict):
        raise AnswersError(
            f"The answers file {path} must hold keys and values at its top level.",
            hint='For example, in JSON: {"full_name": "Jane Doe"}.',
        )
    return answers_from_dict(data, source=str(path))


def answers_from_dict(data: Mapping[str, object], source: str = "the answers") -> Answers:
    """Answers from a mapping of field names to values (a parsed file, a web form's JSON).
    A missing or null value keeps its default; unknown keys and wrong types are refused."""
    defaults = Answers()
    known = [f.name for f in fields(Answers)]
    unknown = sorted(key for key in data if key not in known)
    if unknown:
        close = [m for key in unknown for m in difflib.get_close_matches(str(key), known, 1)]
        hint = f"Did you mean: {', '.join(close)}? " if close else ""
        raise AnswersError(
            f"Unknown key(s) in {source}: {', '.join(map(str, unknown))}.",
            hint=f"{hint}Known keys: {', '.join(known)}.",
        )
    values: dict[str, object] = {}
    for key, value in data.items():
        if value is None:
            continue
        expected = getattr(defaults, key)
        if isinstance(expected, bool):
            if not isinstance(value, bool):
                raise AnswersError(
                    f"{key!r} in {source} must be true or false, not {value!r}.",
                    hint=f"Write {key} = true or {key} = false, without quotes.",
                )
        elif isinstance(expected, list):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise AnswersError(
                    f"{key!r} in {source} must be a list of web addresses, not {value!r}.",
                    hint=f'Write {key} = ["https://...", "https://..."].',
                )
            value = [v.strip() for v in value if v.strip()]
        elif not isinstance(value, str):
            raise AnswersError(
                f"{key!r} in {source} must be text, not {value!r}.",
                hint=f'Put the value in quotes: {key} = "...".',
            )
        values[key] = value
    return Answers(**values)  # type: ignore[arg-type]  # each value was checked above


# --- plain-text layout ----------------------------------------------------------------------

_UNBREAKABLE = re.compile(r"\[TO FILL IN: [^\]]*\]|\d+ U\.S\.C\. § |§ ")
"""Spans wrapping must never split: a placeholder, "17 U.S.C. § ", "§ 3"."""
_KEEP_TOGETHER = "\x00"  # stands in for their spaces while wrapping


def _blank(what: str) -> str:
    return f"[TO FILL IN: {what}]"


def _wrap(text: str, first: str = "", rest: str = "") -> str:
    text = _UNBREAKABLE.sub(lambda m: m[0].replace(" ", _KEEP_TOGETHER), " ".join(text.split()))
    wrapped = textwrap.fill(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,  # a web address or hash must stay whole to be usable
        break_on_hyphens=False,
    )
    return wrapped.replace(_KEEP_TOGETHER, " ")


def _items(items: list[str]) -> str:
    return "\n".join(_wrap(item, "  - ", "    ") for item in items)


def _section(title: str, *blocks: str) -> str:
    return title + "\n" + "\n\n".join(block for block in blocks if block)


def _sentence(text: str) -> str:
    """Her words as one sentence: capitalised, ending in a full stop."""
    text = " ".join(text.split())
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


@dataclass(frozen=True)
class _Voice:
    """How the notice names the person depicted: herself, or by name when someone acts for her."""

    subj: str  # "I" | "Jane Doe"
    obj: str  # "me" | "Jane Doe"
    poss: str  # "my" | "Jane Doe's"
    has: str  # "I have" | "Jane Doe has"

    @staticmethod
    def of(answers: Answers) -> "_Voice":
        if not _has(answers.acting_for):
            return _Voice("I", "me", "my", "I have")
        name = answers.acting_for.strip()
        return _Voice(name, name, f"{name}'s", f"{name} has")


def _name(answers: Answers) -> str:
    return answers.full_name.strip() or _blank("your full name")


def _platform(answers: Answers) -> str:
    return answers.platform.strip() or _blank("the name of the website or app")


def _location(answers: Answers) -> str:
    urls = _urls(answers)
    return _items(urls) if urls else _items([_blank("the web address (URL) of each page")])


def _acting_for(answers: Answers) -> str:
    """The sentences that say whom she acts for and by what authority; empty for herself."""
    if not _has(answers.acting_for):
        return ""
    name = answers.acting_for.strip()
    authority = answers.authority.strip() or _blank("how you are authorised to act for them")
    return (
        f"I am acting on behalf of {name}, the person depicted. My authority to act for "
        f"{name}: {_sentence(authority)}"
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
        value = value or _blank(needs[key])
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
        signature = f"/s/ {name}" if name else _blank("your signature: /s/ and your full name")
    lines = [signature, _name(answers)]
    if _has(answers.acting_for):
        authority = answers.authority.strip() or _blank("how you are authorised")
        lines.append(f"on behalf of {answers.acting_for.strip()} ({authority})")
    return "\n".join(lines)


def _evidence(evidence: EvidenceSummary | None) -> str:
    if evidence is None:
        return ""
    files = "\n".join(f"  - {name}\n    SHA-256: {sha256}" for name, sha256 in evidence.files)
    return _section(
        "EVIDENCE",
        _wrap(
            f"The files were analysed with {evidence.tool} on {evidence.analysed_at}. "
            "The SHA-256 hash of each file identifies it exactly, so you can find identical "
            "copies without the files being sent:"
        ),
        files,
        "What the analysis found:\n" + _items(evidence.verdict_lines),
        _wrap(
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
    return [_wrap(part) for part in parts]


# --- the four notices -----------------------------------------------------------------------


def _take_it_down(a: Answers, voice: _Voice, evidence: EvidenceSummary | None) -> list[str]:
    what = _sentence(a.description) if _has(a.description) else "An intimate image or video."
    if a.not_consensual:
        good_faith = _wrap(
            f"{voice.has} a good faith belief that the intimate visual depiction identified "
            f"above is not consensual: it was published without {voice.poss} consent."
        )
    else:
        good_faith = _blank("confirm that it was published without consent")
    return [
        _wrap(
            f"I am writing to ask {_platform(a)} to remove an intimate visual depiction of "
            f"{voice.obj} that was published without consent. This is a removal request under "
            "section 3 of the TAKE IT DOWN Act (Public Law 119-12)."
        ),
        _wrap(_acting_for(a)),
        _wrap(
            "The Act covers digital forgeries: intimate depictions of an identifiable individual "
            "created or altered with software, machine learning, artificial intelligence or "
            "other technological means (47 U.S.C. § 223(h), added by section 2 of the Act). The "
            "depiction identified below appears to be such a forgery."
        ),
        _section(
            "THE DEPICTION AND WHERE IT IS (§ 3(a)(1)(B)(ii))",
            _wrap(f"What it is: {what}"),
            "Where it is:\n" + _location(a),
        ),
        _section(
            "STATEMENT OF GOOD FAITH (§ 3(a)(1)(B)(iii))",
            good_faith,
            *_extra(a, "Relevant information:"),
        ),
        _section(
            "WHAT I ASK",
            _wrap(
                "Please remove the depiction as soon as possible, and no later than 48 hours "
                "after receiving this request, as section 3(a)(3) of the Act requires, and make "
                "reasonable efforts to identify and remove any known identical copies of it. "
                "Please confirm to me when this is done."
            ),
        ),
        _evidence(evidence),
        _section(
            "CONTACT (§ 3(a)(1)(B)(iv))", _contact(a, _ONE_CONTACT if not _any_contact(a) else ())
        ),
        _section("SIGNATURE (§ 3(a)(1)(B)(i))", _signature(a)),
    ]


def _dsa(a: Answers, voice: _Voice, evidence: EvidenceSummary | None) -> list[str]:
    if a.not_consensual:
        reasons = _wrap(
            f"The content is an intimate image or video of {voice.obj}, published without "
            "consent. It appears to have been made or altered with software (a so-called "
            f"deepfake) so that it shows {voice.obj} in an intimate way."
        )
    else:
        reasons = _blank("confirm that it was published without consent, and why it is illegal")
    explanation = [
        reasons,
        _wrap(f"What it is: {_sentence(a.description)}") if _has(a.description) else "",
        _wrap(
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
        _wrap(f"This notice is sent from {a.country.strip()}, where the content can be seen.")
        if _has(a.country)
        else "",
        *_extra(a, "Further information:"),
    ]
    if a.confirms_accurate:
        bona_fide = _wrap(
            "I confirm my bona fide belief that the information and allegations contained in "
            "this notice are accurate and complete."
        )
    else:
        bona_fide = _blank("confirm that the information in this notice is accurate and complete")
    return [
        _wrap(
            "I am submitting this notice under Article 16 of the Digital Services Act "
            f"(Regulation (EU) 2022/2065) about content on {_platform(a)} that I consider to be "
            "illegal."
        ),
        _wrap(_acting_for(a)),
        _section("WHY THE CONTENT IS ILLEGAL (Art. 16(2)(a))", *explanation),
        _section(
            "EXACT ELECTRONIC LOCATION (Art. 16(2)(b))",
            "The content is at these exact URLs:\n" + _location(a),
        ),
        _section("NAME AND EMAIL ADDRESS OF THE NOTIFIER (Art. 16(2)(c))", _contact(a, ("email",))),
        _section("STATEMENT (Art. 16(2)(d))", bona_fide),
        _evidence(evidence),
        _section(
            "WHAT I ASK",
            _wrap(
                "Please remove this content, or disable access to it, together with any "
                "identical copies on your service. Under Article 16(3), a notice like this one "
                "gives rise to actual knowledge or awareness of the content for the purposes of "
                "Article 6."
            ),
            _wrap(
                "Under Article 16(5), please confirm receipt of this notice without undue delay "
                "and notify me of your decision, with information on the possibilities for "
                "redress. Under Article 16(6), please process it in a timely, diligent, "
                "non-arbitrary and objective manner, and tell me whether automated means were "
                "used."
            ),
        ),
        _section("SIGNATURE", _signature(a)),
    ]


def _dmca(a: Answers, voice: _Voice, evidence: EvidenceSummary | None) -> list[str]:
    if not a.owns_original:
        owner = _blank("confirm that you own the copyright of the photo identified below")
    elif _has(a.acting_for):
        owner = (
            f"I am authorized to act on behalf of {a.acting_for.strip()}, the copyright owner "
            "of the photograph identified below."
        )
    else:
        owner = "I am the copyright owner of the photograph identified below."
    work = [
        _wrap(_sentence(a.original_description))
        if _has(a.original_description)
        else _blank("which photo of yours was used, e.g. a selfie you took in 2023"),
        _wrap(f"It was published at: {a.original_url.strip()}") if _has(a.original_url) else "",
    ]
    good_faith = (
        _wrap(
            "I have a good faith belief that use of the material in the manner complained of "
            "is not authorized by the copyright owner, its agent, or the law."
        )
        if a.not_consensual
        else _blank("confirm that nobody allowed this use of the photo")
    )
    accuracy = (
        _wrap(
            "The information in this notification is accurate, and under penalty of perjury, "
            "I am the owner, or authorized to act on behalf of the owner, of an exclusive right "
            "that is allegedly infringed."
        )
        if a.confirms_accurate
        else _blank("confirm that this information is accurate (under penalty of perjury)")
    )
    return [
        _wrap(
            f"{owner} Material on {_platform(a)} infringes the copyright in it. I ask you to "
            "remove it or disable access to it under 17 U.S.C. § 512(c)."
        ),
        _wrap(_acting_for(a)),
        _section("THE COPYRIGHTED WORK (§ 512(c)(3)(A)(ii))", *work),
        _section(
            "THE INFRINGING MATERIAL AND WHERE IT IS (§ 512(c)(3)(A)(iii))",
            _wrap(
                "The material at the addresses below reproduces the photograph identified "
                f"above, or a part of it such as {voice.poss} face, in altered form and without "
                "permission."
            ),
            _wrap(f"What it is: {_sentence(a.description)}") if _has(a.description) else "",
            "Where it is:\n" + _location(a),
        ),
        _section("CONTACT (§ 512(c)(3)(A)(iv))", _contact(a, ("postal_address", "phone", "email"))),
        _section("STATEMENTS (§ 512(c)(3)(A)(v) and (vi))", good_faith, accuracy),
        _evidence(evidence),
        _section(
            "WHAT I ASK",
            _wrap(
                "Please remove or disable access to the material expeditiously, as "
                "17 U.S.C. § 512(c)(1)(C) provides, together with any identical copies, and "
                "confirm to me when this is done. This notice does not limit any other request "
                "or right, such as a removal request under the TAKE IT DOWN Act."
            ),
            *_extra(a, "Further information:"),
        ),
        _section("SIGNATURE (§ 512(c)(3)(A)(i))", _signature(a)),
    ]


def _platform_report(a: Answers, voice: _Voice, evidence: EvidenceSummary | None) -> list[str]:
    who = f"I am {_name(a)}" + (
        ". " if _has(a.acting_for) else ", the person shown in this content."
    )
    what = (
        _sentence(a.description)
        if _has(a.description)
        else f"An intimate image or video of {voice.obj}."
    )
    if a.not_consensual:
        why = _wrap(f"{voice.subj} did not consent to this content being published.")
    else:
        why = _blank("confirm that it was published without consent")
    asks = [
        "remove the content at the addresses above and any identical copies;",
        "block re-uploads by matching the hashes of these files"
        + (" (SHA-256 above);" if evidence else ";"),
        "confirm to me what you have done.",
    ]
    return [
        _wrap(
            f"I am reporting content on {_platform(a)} that shows {voice.obj} in an intimate way "
            "without consent. It is non-consensual intimate imagery and appears to be "
            "manipulated media (a deepfake) of an identifiable person."
        ),
        _section("WHO IS REPORTING", _wrap(who + _acting_for(a))),
        _section("WHAT IT IS", _wrap(what)),
        _section("WHERE IT IS", _location(a)),
        _section(
            "WHY IT SHOULD COME DOWN",
            why,
            _wrap(
                "Non-consensual intimate imagery, including manipulated or AI-generated imagery "
                "of an identifiable person, is against the rules of most platforms and illegal "
                "in many places, for example under the US TAKE IT DOWN Act."
            ),
            *_extra(a, "Further information:"),
        ),
        _evidence(evidence),
        _section("WHAT I ASK", "Please:\n" + _items(asks)),
        _section("CONTACT", _contact(a, _ONE_CONTACT if not _any_contact(a) else ())),
        _section("SIGNATURE", _signature(a)),
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
        ["BEFORE YOU SEND THIS (delete this part before sending):", _items(notes), "-" * WIDTH]
    )


def render_notice(
    kind: str,
    answers: Answers,
    evidence: EvidenceSummary | None = None,
    today: date | None = None,
) -> str:
    """The notice as plain UTF-8 text wrapped at 78 columns, ready to paste into a form or an
    email. Missing answers appear as `[TO FILL IN: ...]`; see `missing_elements`."""
    _rules(kind)  # an unknown kind raises the AnswersError that names the kinds
    when = (today or date.today()).isoformat()
    addressee = _platform(answers)
    if kind == "dmca":
        addressee = f"Designated copyright agent, {addressee}"
    header = "\n".join(
        [
            f"Date: {when}",
            f"To: {addressee}",
            f"From: {_name(answers)}",
            _wrap(f"Subject: {_SUBJECTS[kind]}", rest="  "),
        ]
    )
    blocks = [
        _notes_for_her(kind, answers),
        NOTICE_TITLES[kind],
        header,
        *_BODIES[kind](answers, _Voice.of(answers), evidence),
    ]
    return "\n\n".join(block for block in blocks if block) + "\n"
