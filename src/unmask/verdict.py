"""The one place that turns findings into a verdict, in the honest words of DESIGN.md.

Never "real" or "authentic": a scan can find signs of manipulation, or find none with the
checks it ran; it cannot prove a file untouched.
"""

from __future__ import annotations

from unmask.result import FaceTrack, Finding, Verdict

NO_FACE_MODEL = (
    "Face swaps and reenactments: no face-manipulation model is installed in this version, so "
    "this scan cannot say whether a face was swapped."
)
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
) -> Verdict:
    """Fuse all findings of one file into one verdict.

    `face_probability` is the calibrated manipulation probability of the face model; it is None
    while no face-manipulation model ran, and the verdict then says so instead of guessing.
    """
    strong = [f for f in findings if f.strength == "strong" and f.indicates != "none"]
    weak = [f for f in findings if f.strength == "weak" and f.indicates != "none"]
    reasons = [f.summary for f in strong + weak]
    not_covered = list(NOT_COVERED_ALWAYS)
    if face_probability is None:
        not_covered.insert(0, NO_FACE_MODEL)
    if not tracks:
        reasons.append("No face was found, so no check specific to faces could run.")

    if strong:
        kinds = {f.indicates for f in strong}
        what = "AI-generated" if kinds == {"ai_generation"} else "manipulated"
        return Verdict(
            label="likely_manipulated",
            headline=f"Likely {what}: {strong[0].summary}",
            probability=face_probability,
            reasons=reasons,
            checks_run=checks_run,
            not_covered=not_covered,
        )
    if face_probability is None:
        found = "found no signs of manipulation" if not weak else "found only weak hints"
        return Verdict(
            label="inconclusive",
            headline=(
                "Inconclusive: no face-manipulation model ran. The metadata and forensic "
                f"checks {found}, which does not show that the file is unaltered."
            ),
            probability=None,
            reasons=reasons,
            checks_run=checks_run,
            not_covered=not_covered,
        )
    return Verdict(
        label="no_signs_found",
        headline="No signs of manipulation found by these checks.",
        probability=face_probability,
        reasons=reasons,
        checks_run=checks_run,
        not_covered=not_covered,
    )
