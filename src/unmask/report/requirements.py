"""What each takedown notice must contain, element by element, and which are still missing.

    missing_elements("take_it_down", answers)   # [] -> every element the law asks for is there

Each law's required elements are listed as `Element`s with the question that supplies them, so
the CLI and the web form can ask for what is still missing.
"""

# Legal sources of the required elements (paraphrased with citations in `Element.requirement`):
# - TAKE IT DOWN Act, Pub. L. 119-12 (2025): § 3(a)(1)(B)(i)-(iv) what a removal request must
#   contain, § 3(a)(3) removal within 48 hours and of known identical copies; "digital forgery"
#   is defined in 47 U.S.C. § 223(h), added by § 2 of the Act.
# - EU Digital Services Act, Regulation (EU) 2022/2065: Art. 16(2)(a)-(d) what a notice must
#   contain, Art. 16(3) actual knowledge, Art. 16(5)-(6) confirmation of receipt and decision.
# - DMCA, 17 U.S.C. § 512(c)(3)(A)(i)-(vi) what a notice must contain, § 512(c)(2) designated
#   agent, § 512(c)(1)(C) expeditious removal.

from collections.abc import Callable
from dataclasses import dataclass

from unmask.report.answers import Answers, AnswersError, given, given_urls, questions

NOTICE_KINDS: tuple[str, ...] = ("take_it_down", "dsa", "dmca", "platform")

NOTICE_TITLES: dict[str, str] = {
    "take_it_down": "TAKE IT DOWN Act removal request",
    "dsa": "EU Digital Services Act (Art. 16) notice",
    "dmca": "DMCA takedown notice (17 U.S.C. § 512(c)(3))",
    "platform": "Report to a platform",
}


@dataclass(frozen=True)
class Element:
    """One element a law (or a platform's form) requires, and how to ask her for it."""

    key: str  # stable id: "signature", "location", "good_faith", "contact", ...
    requirement: str  # the law's wording, paraphrased, with its citation
    question: str  # the question that supplies it, in plain words
    fields: tuple[str, ...] = ()  # the `Answers` fields that supply it, for a wizard to re-ask


def _signed(answers: Answers) -> bool:
    has_name = given(answers.full_name) or given(answers.signature)
    return has_name and (not given(answers.acting_for) or given(answers.authority))


def has_contact(answers: Answers) -> bool:
    """True when she gave at least one way to reach her (email, phone or postal address)."""
    return any(given(value) for value in (answers.email, answers.phone, answers.postal_address))


_ASK = {name: question for name, question, _ in questions()}
"""The wizard's own wording, so an element asks the same question the wizard does."""
_ASK_SIGNATURE = (
    "What is your full name? Typing it counts as your electronic signature. If you are acting "
    "for someone else, say how you are allowed to."
)
_ASK_CONTACT = "How can the platform reach you? An email address is enough."
_SIGNATURE_FIELDS = ("full_name", "signature", "authority")
_CONTACT_FIELDS = ("email", "phone", "postal_address")


def _platform_named(answers: Answers) -> bool:
    return given(answers.platform)


def _located(answers: Answers) -> bool:
    return bool(given_urls(answers))


def _not_consensual(answers: Answers) -> bool:
    return answers.not_consensual


def _owns_original(answers: Answers) -> bool:
    # Her yes says both that the photo is hers (or the person's she acts for) and that it was
    # used without permission: as the owner she knows she did not authorise this use, which is
    # what the DMCA's good-faith statement, § 512(c)(3)(A)(v), is about. Whether the depiction
    # was published with consent is a different question and does not supply it.
    return answers.owns_original


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
            _ASK["platform"],
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
            _ASK["urls"],
            ("urls", "description"),
            _located,
        ),
        _rule(
            "good_faith",
            "(iii) a brief statement that the identifiable individual has a good faith belief "
            "that the depiction is not consensual, with any relevant information for the "
            f"platform to determine it was published without consent — {_TIDA}(B)(iii)",
            _ASK["not_consensual"],
            ("not_consensual", "extra"),
            _not_consensual,
        ),
        _rule(
            "contact",
            "(iv) information sufficient for the platform to contact the identifiable "
            f"individual (or the authorized person) — {_TIDA}(B)(iv)",
            _ASK_CONTACT,
            _CONTACT_FIELDS,
            has_contact,
        ),
    ),
    "dsa": (
        _rule(
            "addressee",
            "Submitted to the hosting service provider through its notice and action "
            "mechanism — DSA Art. 16(1)",
            _ASK["platform"],
            ("platform",),
            _platform_named,
        ),
        _rule(
            "explanation",
            "(a) a sufficiently substantiated explanation of the reasons why the content is "
            "alleged to be illegal — DSA Art. 16(2)(a)",
            _ASK["not_consensual"],
            ("not_consensual", "made_with_software", "description", "country", "extra"),
            _not_consensual,
        ),
        _rule(
            "location",
            "(b) a clear indication of the exact electronic location of the content, such as "
            "the exact URL or URLs — DSA Art. 16(2)(b)",
            _ASK["urls"],
            ("urls",),
            _located,
        ),
        _rule(
            "notifier",
            "(c) the name and email address of the individual submitting the notice — "
            "DSA Art. 16(2)(c)",
            "What are your full name and email address?",
            ("full_name", "email"),
            lambda a: given(a.full_name) and given(a.email),
        ),
        _rule(
            "bona_fide",
            "(d) a statement confirming the bona fide belief of the notifier that the "
            "information and allegations in the notice are accurate and complete — "
            "DSA Art. 16(2)(d)",
            _ASK["confirms_accurate"],
            ("confirms_accurate",),
            _confirmed,
        ),
    ),
    "dmca": (
        _rule(
            "addressee",
            f"Sent to the service provider's designated agent — {_DMCA}(2)",
            _ASK["platform"],
            ("platform",),
            _platform_named,
        ),
        _rule(
            "ownership",
            "Only the owner of an exclusive right in the work, or a person authorized to act "
            f"for the owner, may send the notice — {_DMCA}(3)(A)(i) and (vi)",
            _ASK["owns_original"],
            ("owns_original",),
            _owns_original,
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
            lambda a: given(a.original_description),
        ),
        _rule(
            "location",
            "(iii) identification of the infringing material, and information reasonably "
            f"sufficient to permit the service provider to locate it — {_DMCA}(3)(A)(iii)",
            _ASK["urls"],
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
            lambda a: given(a.postal_address) and given(a.phone) and given(a.email),
        ),
        _rule(
            "good_faith",
            "(v) a statement of good faith belief that use of the material in the manner "
            "complained of is not authorized by the copyright owner, its agent, or the law — "
            f"{_DMCA}(3)(A)(v)",
            _ASK["owns_original"],
            ("owns_original",),
            _owns_original,
        ),
        _rule(
            "accuracy",
            "(vi) a statement that the information in the notification is accurate, and under "
            "penalty of perjury, that the complaining party is authorized to act on behalf of "
            f"the owner — {_DMCA}(3)(A)(vi)",
            _ASK["confirms_accurate"] + " A DMCA notice says so under penalty of perjury.",
            ("confirms_accurate",),
            _confirmed,
        ),
    ),
    "platform": (
        _rule(
            "addressee",
            "Sent to the platform's trust-and-safety team (its report form or abuse address)",
            _ASK["platform"],
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
            _ASK["urls"],
            ("urls",),
            _located,
        ),
        _rule(
            "consent",
            "Why it must come down: the person depicted did not consent to its publication",
            _ASK["not_consensual"],
            ("not_consensual", "extra"),
            _not_consensual,
        ),
        _rule(
            "contact",
            "How the platform can reach the reporter",
            _ASK_CONTACT,
            _CONTACT_FIELDS,
            has_contact,
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
