"""The one place that turns findings into a verdict, in the honest words of DESIGN.md.

Never "real" or "authentic": a scan can find signs of manipulation, or find none with the
checks it ran; it cannot prove a file untouched. The face model's thresholds come from its card
(`unmask/models/face_swap.json`), where they were chosen on held-out real media; no threshold is
written here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from unmask.result import FaceModelUse, FaceTrack, Finding, Verdict
from unmask.terminal import counted

if TYPE_CHECKING:
    from unmask.models import ModelCard

FACE_FINDING = "face_manipulation"
"""Code of the face model's per-face findings; the verdict reads their fused probability."""
FACE_NOT_CHECKED = "face_not_checked"
"""Code of a face the model did not score (smaller or less certain than its card allows): part
of the face check's answer, never counted as a face that showed no signs."""
NO_FACE_MODEL = (
    "Face swaps and reenactments: no face-manipulation model is installed in this version, so "
    "this scan cannot say whether a face was swapped."
)
KIND_WORDS = {"image": "photos", "video": "videos"}
FILE_CHECK_WORDS = {
    "metadata": "metadata",
    "forensics": "forensic",
    "provenance": "Content Credentials",
    "watermark": "watermark",
}
"""File-level detectors (registry name -> the words a headline uses for them), in the order a
headline names them."""
NOT_COVERED_ALWAYS = [
    "Images generated from scratch leave no metadata trace once re-saved; missing generator "
    "markers say nothing about how an image was made.",
    "Content Credentials (C2PA) are validated in still images (in videos only noted; "
    "`unmask verify` validates both); a file without them is of unknown origin, not suspect.",
]


def decide(
    findings: list[Finding],
    tracks: list[FaceTrack],
    checks_run: list[str],
    face_probability: float | None = None,
    face_model: ModelCard | None = None,
    face_model_not_run: ModelCard | None = None,
    media_kind: str | None = None,
) -> Verdict:
    """Fuse all findings of one file into one verdict.

    `face_model` is the card of the face-manipulation model that ran (None when none is
    installed) and `face_probability` its calibrated file-level probability (None when it found
    no face to score). `face_model_not_run` is the card of an installed model that was not run
    because it was validated on other kinds of media than this file's `media_kind`.
    The probability is compared with the card's threshold and inconclusive band: at or above
    the threshold "likely manipulated", inside the band "inconclusive", below it "no signs of
    manipulation found by these checks".
    """
    face = [f for f in findings if f.code == FACE_FINDING]
    unchecked = [f for f in findings if f.code == FACE_NOT_CHECKED]
    face_check = (FACE_FINDING, FACE_NOT_CHECKED)
    others = [f for f in findings if f.code not in face_check and f.indicates != "none"]
    strong = [f for f in others if f.strength == "strong"]
    weak = [f for f in others if f.strength == "weak"]
    reasons = [f.summary for f in face + unchecked] + [f.summary for f in strong + weak]
    not_covered = _not_covered(face_model)
    if face_model is None and face_model_not_run is not None:
        not_covered[0] = _out_of_scope(face_model_not_run, media_kind)
    if not tracks:
        reasons.append("No face was found, so no check specific to faces could run.")
    use = _model_use(face_model)

    def verdict(label: str, headline: str) -> Verdict:
        return Verdict(
            label=label,  # type: ignore[arg-type]
            headline=headline,
            probability=face_probability,
            reasons=reasons,
            checks_run=checks_run,
            not_covered=not_covered,
            face_model=use,
        )

    scored = face_model is not None and face_probability is not None
    if scored:
        assert face_model is not None and face_probability is not None
        low, threshold = face_model.inconclusive_band
        if face_probability >= threshold:
            return verdict("likely_manipulated", _likely_face(face_probability, face_model))
    if strong:
        kinds = {f.indicates for f in strong}
        what = "AI-generated" if kinds == {"ai_generation"} else "manipulated"
        return verdict("likely_manipulated", f"Likely {what}: {strong[0].summary}")
    noted = any(f.code not in face_check and f.indicates == "none" for f in findings)
    file_checks = _other_checks(checks_run, weak=bool(weak), noted=noted)
    if face_model is None and face_model_not_run is not None:
        card = face_model_not_run
        return verdict(
            "inconclusive",
            "Inconclusive: this scan cannot tell whether a face was swapped or reenacted (the "
            f"face-manipulation model was measured on {_kinds(card.media)} only, so it was not "
            f"run on this file). {file_checks}",
        )
    if face_model is None:
        return verdict(
            "inconclusive",
            "Inconclusive: this version cannot tell whether a face was swapped or reenacted "
            f"(no face-manipulation model ran). {file_checks}",
        )
    if face_probability is None and unchecked:
        which = (
            "did not check the face found (it is"
            if len(unchecked) == 1
            else f"checked none of the {len(unchecked)} faces found (each is"
        )
        return verdict(
            "inconclusive",
            f"Inconclusive: the face-manipulation model {which} smaller or less clearly a face "
            "than those it was measured on), so this scan cannot tell whether a face was "
            f"swapped. {file_checks}",
        )
    if face_probability is None:
        return verdict(
            "inconclusive",
            "Inconclusive: no face was found for the face-manipulation model to check, so this "
            f"scan cannot tell whether a face was swapped. {file_checks}",
        )
    if face_probability >= low:
        return verdict(
            "inconclusive",
            f"Inconclusive: the face-manipulation model gives probability {face_probability:.2f}, "
            f"between the range where it finds no signs (below {low:.2f}) and where it calls a "
            f"face likely manipulated ({threshold:.2f} and above).",
        )
    headline = "No signs of manipulation found by these checks"
    headline += f" (face-manipulation probability {face_probability:.2f})."
    if unchecked:
        headline += (
            f" The face check did not look at {counted(len(unchecked), 'other face')}: too small "
            "or too unclear for it (listed below)."
        )
    if weak:
        headline += " Some checks found weak hints, listed below."
    headline += (
        f" The face check covers only what its card says: {_sentence(face_model.covers)} "
        "Anything else was not checked, so this does not show the file is unaltered."
    )
    return verdict("no_signs_found", headline)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _other_checks(checks_run: list[str], weak: bool, noted: bool = False) -> str:
    """One sentence on what the file-level checks that actually ran found, naming only those
    (a scan with `--detectors metadata` must not speak for forensic checks that never ran).
    `noted`: they listed measurements and facts for a person to weigh (error levels, credentials
    stored online), which "found nothing" would contradict."""
    ran = [word for name, word in FILE_CHECK_WORDS.items() if _ran(name, checks_run)]
    if not ran:
        return "No metadata or forensic check ran either."
    names = ran[0] if len(ran) == 1 else ", ".join(ran[:-1]) + " and " + ran[-1]
    subject = f"The {names} check" + ("s" if len(ran) > 1 else "")
    if weak:
        return (
            f"{subject} found only weak hints (listed below), which neither show the file was "
            "altered nor that it is unaltered."
        )
    if noted:
        return (
            f"{subject} found no hint of manipulation they can judge on their own; what they "
            "noted is listed below for a person to interpret. This does not show the file is "
            "unaltered."
        )
    return f"{subject} found nothing to report, which does not show the file is unaltered."


def _ran(name: str, checks_run: list[str]) -> bool:
    return any(check.split(":", 1)[0].strip() == name for check in checks_run)


def _likely_face(probability: float, card: ModelCard) -> str:
    headline = (
        f"A face in this file is likely manipulated (probability {probability:.2f}). "
        f"The face check is built for this: {_sentence(card.covers)}"
    )
    rate = card.false_positive_rate
    if rate is None:
        return headline + " The model card gives no measured false-positive rate."
    data = card.evaluated.get("false_positive_data") or "held-out unmanipulated photos and videos"
    return headline + (
        f" At this threshold the model ({card.name} {card.version}) flagged {rate:.1%} of "
        f"{data}, so a face that was not manipulated can occasionally score this high."
    )


def _kinds(media: tuple[str, ...]) -> str:
    return " and ".join(KIND_WORDS.get(kind, kind) for kind in media)


def _out_of_scope(card: ModelCard, media_kind: str | None) -> str:
    kind = KIND_WORDS.get(media_kind or "", "files of this kind")
    return (
        f"Face swaps and reenactments in {kind}: the face-manipulation model ({card.name} "
        f"{card.version}) was measured on {_kinds(card.media)} only (see its card), so it was "
        "not run on this file and this scan cannot say whether a face was swapped."
    )


def _not_covered(card: ModelCard | None) -> list[str]:
    if card is None:
        return [NO_FACE_MODEL, *NOT_COVERED_ALWAYS]
    model = f"The face-manipulation model ({card.name} {card.version})"
    items = [f"{model} does not cover: {item}" for item in card.does_not_cover]
    measured = card.evaluated.get("summary")
    if isinstance(measured, str) and measured:
        items.append(f"{model} was measured as follows: {measured}")
    return items + NOT_COVERED_ALWAYS


def _model_use(card: ModelCard | None) -> FaceModelUse | None:
    if card is None:
        return None
    return FaceModelUse(
        name=card.name,
        version=card.version,
        threshold=card.threshold,
        inconclusive_band=card.inconclusive_band,
        false_positive_rate=card.false_positive_rate,
    )
