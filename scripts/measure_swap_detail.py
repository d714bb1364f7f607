"""How DeepFaceLive swaps differ from their own originals: fine detail of the inner face.

The shared DeepFaceLive clips were published side by side and cut into halves, so every swap
has its original (same motion, same light, same encoder). For each half this script aligns the
largest face of N evenly spaced frames on its five landmarks (112 px ArcFace template), and
measures over the inner face (brows to chin):

- detail: mean |Laplacian| of the grey face;
- off-model residual: mean |face - its projection on the first 200 principal components| of the
  aligned training faces (a model of what real faces share; what it cannot draw is the face's
  own texture).

It prints, per measure, in how many pairs the swap has less than its original (and the ratio
swap / original), and the AUC of
"less means swapped" over all fake videos (face swaps and reenactments) against all evaluation
real videos (no pairing).

    .venv/bin/python scripts/measure_swap_detail.py --data ../shared/data \
        --cache runs/face_swap/cache/train.npz --exclude runs/face_swap/training_files.txt
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np

from unmask.evaluation import auc
from unmask.faces import FaceDetector
from unmask.media import open_media

TEMPLATE = np.array(
    [[38.29, 51.70], [73.53, 51.50], [56.03, 71.74], [41.55, 92.37], [70.73, 92.20]],
    dtype=np.float32,
)  # Deng et al., ArcFace (CVPR 2019), 112 x 112 crop
SIDE = 112
INNER = (slice(20, 100), slice(20, 92))
COMPONENTS = 200


def align(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
    matrix, _ = cv2.estimateAffinePartial2D(
        np.asarray(landmarks, np.float32), TEMPLATE, method=cv2.LMEDS
    )
    if matrix is None:
        return None
    return cv2.warpAffine(rgb, matrix, (SIDE, SIDE)).astype(np.float32) / 255.0


def measures(face: np.ndarray, mean: np.ndarray, basis: np.ndarray) -> tuple[float, float]:
    grey = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
    detail = float(np.abs(cv2.Laplacian(grey, cv2.CV_32F))[INNER].mean())
    centred = face.reshape(-1) - mean
    residual = (centred - basis.T @ (basis @ centred)).reshape(face.shape)
    return detail, float(np.abs(residual[INNER]).mean())


def original_of(path: str) -> str:
    """The original half of a DeepFaceLive swap half (itself for any other file)."""
    return path.replace("/fake/", "/real/").replace("right_swap", "left_original")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache", type=Path, required=True, help="train.npz of `unmask train`")
    parser.add_argument("--exclude", type=Path, required=True, help="training_files.txt")
    parser.add_argument("--frames", type=int, default=8)
    args = parser.parse_args()

    cache = np.load(args.cache)
    faces = [align(i, m) for i, m in zip(cache["images"], cache["landmarks"], strict=True)]
    matrix = np.stack([f.reshape(-1) for f in faces if f is not None])
    mean = matrix.mean(0)
    basis = np.linalg.svd(matrix - mean, full_matrices=False)[2][:COMPONENTS]

    seen = set(args.exclude.read_text().split())
    with (args.data / "labels.csv").open() as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["media"] == "video"
            and r["path"] not in seen
            and r["manipulation"] in ("none", "face_swap", "reenactment")
        ]
    detector = FaceDetector()
    scores: dict[str, tuple[str, np.ndarray]] = {}
    for row in rows:
        values = []
        for frame in open_media(args.data / row["path"], n_frames=args.frames).frames:
            found = [f for f in detector.detect(frame.rgb) if f.score >= 0.9]
            if found:
                face = align(frame.rgb, max(found, key=lambda f: f.size).landmarks)
                if face is not None:
                    values.append(measures(face, mean, basis))
        if values:
            scores[row["path"]] = (row["label"], np.mean(values, axis=0))
    for index, name in enumerate(("detail |Laplacian|", "off-model residual")):
        ratios = np.array(
            [
                value[index] / scores[original_of(path)][1][index]
                for path, (_, value) in scores.items()
                if "right_swap" in path and original_of(path) in scores
            ]
        )
        labels = np.array([label == "fake" for label, _ in scores.values()], dtype=float)
        values = np.array([value[index] for _, value in scores.values()])
        print(
            f"{name}: swap below its original in {int((ratios < 1).sum())} of {len(ratios)} "
            f"pairs (swap / original: median {np.median(ratios):.2f}, "
            f"10th percentile {np.percentile(ratios, 10):.2f}); "
            f"unpaired AUC (lower = swapped) {auc(labels, -values):.3f} "
            f"over {int(labels.sum())} fake and {int((1 - labels).sum())} real videos"
        )


if __name__ == "__main__":
    main()
