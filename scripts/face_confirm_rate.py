"""How often the second face detector (`unmask.faces.confirm`) confirms MTCNN's faces.

For the photos of shared/data/faces/real (a fixed sample of the training photos, and both
halves of the held-out photos), every face the face model may judge (the card's limits: at
least 40 px across, detector confidence >= 0.9) is asked to the cascades. Prints the share
confirmed per set and names the faces left unconfirmed, to look at.

    .venv/bin/python scripts/face_confirm_rate.py --data ../shared/data [--train-sample 300]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from unmask.errors import UnmaskError
from unmask.faces import FaceDetector
from unmask.faces.confirm import confirms_face
from unmask.media import open_media
from unmask.train.data import MIN_FACE_PX, MIN_FACE_SCORE, held_out_halves, split_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--train-sample", type=int, default=300)
    args = parser.parse_args()
    split = split_data(args.data)
    calibration, evaluation = held_out_halves(split)
    rng = np.random.default_rng(0)
    train = [split.train[i] for i in rng.choice(len(split.train), args.train_sample, False)]
    detector = FaceDetector()
    report: dict[str, dict] = {}
    sets = (("train", train), ("calibration", calibration), ("evaluation", evaluation))
    for name, photos in sets:
        judged, unconfirmed = 0, []
        for photo in photos:
            try:
                rgb = open_media(photo).frames[0].rgb
            except UnmaskError:
                continue
            for face in detector.detect(rgb):
                if face.size < MIN_FACE_PX or face.score < MIN_FACE_SCORE:
                    continue
                judged += 1
                if not confirms_face(rgb, face.box):
                    box = [round(v) for v in face.box]
                    unconfirmed.append(f"{photo.name} {box} score {face.score:.3f}")
        report[name] = {
            "photos": len(photos),
            "faces_judged": judged,
            "confirmed": judged - len(unconfirmed),
            "share_confirmed": round((judged - len(unconfirmed)) / judged, 4) if judged else None,
            "unconfirmed": unconfirmed,
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
