"""Build the face-paste evaluation set (see `unmask.train.face_paste` for the procedure).

Targets and donors are the held-out photos of ../shared/data (`unmask.train.data.split_data`):
never trained on. Most of them are tight face crops; each photo with a confident face of at least
60 px and at most 0.8 of its shorter side gets two pastes (a seamless clone and an alpha blend,
each with its own donor) and one unaltered counterpart, all saved with the same final JPEG
quality. Output, outside the
repository (the media must not be copied into it):

    OUT/real/<name>.jpg, OUT/fake/<method>/<name>.jpg, OUT/labels.csv (read by `unmask eval`)

    .venv/bin/python scripts/make_face_paste_set.py --data ../shared/data \
        --out runs/face_paste
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from PIL import Image

from unmask.errors import UnmaskError
from unmask.faces import FaceDetector
from unmask.media import open_media
from unmask.train.data import MIN_FACE_SCORE, split_data
from unmask.train.face_paste import (
    DONOR_QUALITY,
    FINAL_QUALITY,
    MAX_FACE_FRACTION,
    METHODS,
    MIN_FACE_PX,
    PasteError,
    paste_face,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    photos = split_data(args.data).held_out
    detector = FaceDetector()
    faces = []
    for path in photos:
        try:
            rgb = open_media(path).frames[0].rgb
        except UnmaskError:
            continue
        found = [f for f in detector.detect(rgb) if f.score >= MIN_FACE_SCORE]
        if found:
            face = max(found, key=lambda f: f.size)
            if MIN_FACE_PX <= face.size <= MAX_FACE_FRACTION * min(rgb.shape[:2]):
                faces.append((path, rgb, face))
    rng = np.random.default_rng(args.seed)
    rows = []
    for index, (path, rgb, face) in enumerate(faces):
        final = int(rng.integers(FINAL_QUALITY[0], FINAL_QUALITY[1] + 1))
        made = []
        for method in METHODS:
            donor_index = _donor(faces, index, rng)
            if donor_index is None:
                print(f"skipped {path.name}: no donor covers its face")
                continue
            _, donor_rgb, donor_face = faces[donor_index]
            donor_quality = int(rng.integers(DONOR_QUALITY[0], DONOR_QUALITY[1] + 1))
            try:
                fake = paste_face(
                    rgb,
                    face.landmarks,
                    face.size,
                    donor_rgb,
                    donor_face.landmarks,
                    method,
                    donor_quality,
                )
            except (PasteError, ValueError) as exc:  # cv2 raises plain errors on odd masks
                print(f"skipped {path.name} ({method}): {exc}")
                continue
            made.append((method, fake, faces[donor_index][0].name, donor_quality))
        if not made:
            continue
        stem = path.stem
        entries = [("real", rgb, f"real/{stem}.jpg", "held_out_photo", "", "")]
        entries += [
            ("fake", fake, f"fake/{method}/{stem}.jpg", method, f"faces/real/{donor}", quality)
            for method, fake, donor, quality in made
        ]
        for label, image, name, method, donor, quality in entries:
            target = args.out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(target, quality=final)
            rows.append(
                {
                    "path": name,
                    "label": label,
                    "media": "image",
                    "manipulation": "face_paste" if label == "fake" else "none",
                    "method": method,
                    "source": f"faces/real/{path.name}",
                    "donor": donor,
                    "final_quality": final,
                    "donor_quality": quality,
                }
            )
    with (args.out / "labels.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    fakes = sum(r["label"] == "fake" for r in rows)
    print(
        f"{fakes} pastes and {len(rows) - fakes} unaltered counterparts from {len(photos)} "
        f"held-out photos ({len(faces)} with a face of >= {MIN_FACE_PX} px) in {args.out}"
    )


def _donor(faces: list, index: int, rng: np.random.Generator) -> int | None:
    """A random other photo whose picture covers the target's whole face once aligned."""
    _path, rgb, face = faces[index]
    for candidate in rng.permutation(len(faces))[:20]:
        if int(candidate) == index:
            continue
        _, donor_rgb, donor_face = faces[int(candidate)]
        try:
            paste_face(
                rgb, face.landmarks, face.size, donor_rgb, donor_face.landmarks, "alpha_blend", 95
            )
        except PasteError:
            continue
        return int(candidate)
    return None


if __name__ == "__main__":
    main()
