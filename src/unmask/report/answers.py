"""What she tells us for a takedown request: the answers, the questions that ask for them, and
reading them from a file or a web form.

    answers = load_answers(Path("answers.toml"))
    for name, question, kind in questions():
        if applies(name, answers): ...

Every answer is optional, so a wizard can fill them step by step and a notice can still be
written, with placeholders, before all of them are given.
"""

import difflib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from unmask.errors import UnmaskError


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
    made_with_software: bool = False  # her statement; a notice claims it only when she says so
    not_consensual: bool = False  # published without consent (TAKE IT DOWN good-faith belief)
    # the depicted person took the original photo (so holds its copyright) and did not allow
    # this use of it: the DMCA notice's ownership and good-faith statements rest on it
    owns_original: bool = False
    original_description: str = ""  # the original work (her own photo), for the DMCA notice
    original_url: str = ""  # where the original is or was published, if anywhere
    country: str = ""  # optional: where to send it (unmask.report.routes), the DSA notice
    minor: bool = False  # the person shown was under 18 in it: Take It Down, not StopNCII
    extra: str = ""  # anything else she wants to say
    confirms_accurate: bool = False  # DSA Art. 16(2)(d) and DMCA § 512(c)(3)(A)(vi) statement


def given(text: str) -> bool:
    """True when a text answer says something (more than blanks)."""
    return bool(text.strip())


def given_urls(answers: Answers) -> list[str]:
    """The web addresses she gave, without blank ones."""
    return [url.strip() for url in answers.urls if url.strip()]


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
    ("platform", "Which website or app is showing it?", "text"),
    (
        "urls",
        "Where exactly is it? Please paste the full web address (URL) of each page showing it.",
        "list",
    ),
    (
        "description",
        "Describe it briefly so the platform can recognise it, without graphic detail. For "
        "example: 'a photo with my face edited into it, posted by the account @name'.",
        "text",
    ),
    (
        "made_with_software",
        "Was it made or changed with software, for example your face put on someone else's body?",
        "yes_no",
    ),
    (
        "not_consensual",
        "Was it published without your consent (or without the consent of the person you are "
        "helping)?",
        "yes_no",
    ),
    (
        "owns_original",
        "Was a photo that you took yourself (or that the person you are helping took), such as "
        "a selfie, used for it without permission? Copyright usually belongs to whoever took "
        "the photo; this matters only for a DMCA notice.",
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
    (
        "country",
        "Which country do you live in? (Optional; used to list helplines and services for your "
        "country, and in the EU notice.)",
        "text",
    ),
    (
        "minor",
        "Was the person shown under 18 when it was made? Services that remove images of "
        "under-18s are different, and faster.",
        "yes_no",
    ),
    ("extra", "Is there anything else you want the platform to know? (Optional.)", "text"),
    (
        "confirms_accurate",
        "Is everything you have told us accurate and complete, as far as you know?",
        "yes_no",
    ),
    (
        "signature",
        "How do you want to sign? Typing your name is an electronic signature, for example "
        "'/s/ Jane Doe'. Leave this empty to sign with '/s/' and your full name.",
        "text",
    ),
)


_QUESTION_NAMES = tuple(name for name, _, _ in _QUESTIONS)


def questions() -> list[tuple[str, str, str]]:
    """(field name, question, "text" | "list" | "yes_no") for every `Answers` field, in the
    order a wizard should ask them."""
    return list(_QUESTIONS)


QUESTION_DEPENDS: dict[str, str] = {
    "authority": "acting_for",
    "original_description": "owns_original",
    "original_url": "owns_original",
}
"""Questions that matter only after another answer: question -> the answer that must be given
(a yes, or some text). A wizard skips them otherwise; a form groups them under that answer."""


def applies(name: str, answers: Answers) -> bool:
    """Whether the question for answer `name` matters, given the answers so far (see
    `QUESTION_DEPENDS`); a question that depends on nothing always does."""
    if name not in _QUESTION_NAMES:
        raise AnswersError(
            f"There is no takedown question {name!r}.",
            hint=f"Known questions: {', '.join(_QUESTION_NAMES)}.",
        )
    depends_on = QUESTION_DEPENDS.get(name)
    if depends_on is None:
        return True
    value = getattr(answers, depends_on)
    return given(value) if isinstance(value, str) else bool(value)


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
