"""Make the README's `unmask compare` example from examples/astronaut.jpg: an edited copy (the
face mirrored inside its box, then scaled to 0.8, letterboxed and saved as JPEG q80, as a
re-upload would be) and the evidence pictures of comparing it with the original.

    .venv/bin/python scripts/make_compare_example.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from unmask.compare import compare_files, controls
from unmask.compare.evidence import write_evidence
from unmask.faces import FaceDetector

REPO = Path(__file__).resolve().parents[1]
ORIGINAL = REPO / "examples" / "astronaut.jpg"
EDITED = REPO / "examples" / "astronaut-edited.jpg"
EVIDENCE = REPO / "docs" / "compare"


def main() -> None:
    rgb = np.asarray(Image.open(ORIGINAL).convert("RGB"))
    x0, y0, x1, y1 = (round(v) for v in FaceDetector().detect(rgb)[0].box)
    edited = rgb.copy()
    edited[y0:y1, x0:x1] = rgb[y0:y1, x0:x1][:, ::-1]
    small = np.asarray(Image.fromarray(edited).resize((410, 410), Image.Resampling.LANCZOS))
    boxed = np.pad(small, ((40, 40), (0, 0), (0, 0)))
    EDITED.write_bytes(controls.jpeg_bytes(boxed, 80))
    comparison = compare_files(EDITED, [ORIGINAL], keep_maps=True)
    for old in EVIDENCE.glob("*.png"):
        old.unlink()
    for path in write_evidence(comparison, EVIDENCE):
        print(Path(path).relative_to(REPO))
    print(comparison.outcome, comparison.summary)


if __name__ == "__main__":
    main()
