"""Which real faces the detector learns from, and how they are cut out for self-blending.

Rules from ../shared/data/README.md: train on `faces/real`, and if more is needed on frames of
at most half of the real videos that are not DeepFaceLive halves; keep the DeepFaceLive halves
and the other real videos for evaluation. We also hold out 15 % of the photos (chosen by a hash
of the file name, so the split never changes) for calibration and the threshold.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unmask.errors import UnmaskError
from unmask.faces import FaceDetector
from unmask.faces.crop import cut_square, square_around
from unmask.faces.detector import DetectedFace
from unmask.media import open_media
from unmask.train.landmarks import LandmarkModel
from unmask.train.sbi import FaceSample

HELD_OUT_PERCENT = 15
# Each cached face is a square of twice the face box (room for every crop margin and the
# blend's shift) at 320 px: the 224 px training crops (1.4x the box) are taken from it without
# upscaling.
CACHE_SIDE = 320
CACHE_CONTEXT = 2.0
FRAMES_PER_TRAINING_VIDEO = 48
"""Frames of each training video: video faces (H.264, motion blur, webcam light) are what the
model must not call fake, and photos alone leave it blind to them (notes/detector-baseline.md)."""
MIN_FACE_SCORE = 0.9
MIN_FACE_PX = 40


@dataclass(frozen=True)
class Split:
    train: list[Path]
    held_out: list[Path]
    training_videos: list[Path]
    evaluation_videos: list[Path]


def split_data(data: Path) -> Split:
    """The fixed split of ../shared/data used for training (see the module docstring)."""
    photos = sorted((data / "faces" / "real").iterdir())
    train = [p for p in photos if _bucket(p.name) >= HELD_OUT_PERCENT]
    held_out = [p for p in photos if _bucket(p.name) < HELD_OUT_PERCENT]
    with (data / "labels.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    real_videos = sorted(
        data / r["path"] for r in rows if r["media"] == "video" and r["label"] == "real"
    )
    others = [v for v in real_videos if not v.name.startswith("DeepFaceLive")]
    training_videos = others[0::2]  # at most half of the non-DeepFaceLive real videos
    evaluation_videos = [v for v in real_videos if v not in training_videos]
    return Split(train, held_out, training_videos, evaluation_videos)


CALIBRATION_PERCENT = 7
"""Held-out photos with a name bucket below this choose thresholds (calibration half); the
others (buckets 7-14) only measure them, and are the only photos the face-paste evaluation set
is made from."""


def held_out_halves(split: Split) -> tuple[list[Path], list[Path]]:
    """The held-out photos split into (calibration, evaluation) halves, fixed by name hash."""
    calibration = [p for p in split.held_out if _bucket(p.name) < CALIBRATION_PERCENT]
    evaluation = [p for p in split.held_out if _bucket(p.name) >= CALIBRATION_PERCENT]
    return calibration, evaluation


def _bucket(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % 100


def face_samples(paths: list[Path], detector: FaceDetector) -> Iterator[tuple[Path, FaceSample]]:
    """The largest confident face of each photo (or of each of 48 frames of each video), cut out
    with context, as a FaceSample in the cut-out's coordinates. Unreadable files are skipped."""
    for path in paths:
        try:
            media = open_media(path, n_frames=FRAMES_PER_TRAINING_VIDEO)
        except UnmaskError:
            continue
        for frame in media.frames:
            face = largest_face(detector, frame.rgb)
            if face is not None:
                yield path, cut_out(frame.rgb, face.box, np.asarray(face.landmarks))


def largest_face(detector: FaceDetector, rgb: np.ndarray) -> DetectedFace | None:
    """The largest face found with at least `MIN_FACE_SCORE` and `MIN_FACE_PX`, or None: the
    one face of a picture that training and the cue measurements use."""
    found = [
        f for f in detector.detect(rgb) if f.score >= MIN_FACE_SCORE and f.size >= MIN_FACE_PX
    ]
    return max(found, key=lambda f: f.size) if found else None


def cut_out(
    rgb: np.ndarray, box: tuple[float, float, float, float], landmarks: np.ndarray
) -> FaceSample:
    """A CACHE_SIDE square around the face, CACHE_CONTEXT times its box, black outside the
    picture (never mirrored: mirrored padding makes faces a classifier can learn as a shortcut)."""
    x0, y0, x1, y1 = box
    left, top, side = square = square_around(box, CACHE_CONTEXT)
    scale = CACHE_SIDE / side
    new_box = ((x0 - left) * scale, (y0 - top) * scale, (x1 - left) * scale, (y1 - top) * scale)
    new_marks = (np.asarray(landmarks, dtype=np.float32) - [left, top]) * scale
    return FaceSample(cut_square(rgb, square, CACHE_SIDE), new_box, new_marks)


def dense_points(samples: list[FaceSample], model: LandmarkModel) -> np.ndarray:
    """(N, 468, 2) face-mesh points of each cut-out face, NaN where the model found no face."""
    out = np.full((len(samples), 468, 2), np.nan, dtype=np.float32)
    for index, sample in enumerate(samples):
        found = model(sample.rgb, sample.box)
        if found is not None:
            out[index] = found.points
    return out


def build_cache(paths: list[Path], detector: FaceDetector, target: Path) -> int:
    """Detect and cut out faces once and find their dense landmarks; save them as one .npz
    (images, boxes, five landmarks, dense landmarks, source file names)."""
    samples, sources = [], []
    for path, sample in face_samples(paths, detector):
        samples.append(sample)
        sources.append(path.name)
    np.savez(
        target,
        images=np.stack([s.rgb for s in samples]),
        boxes=np.asarray([s.box for s in samples], dtype=np.float32),
        landmarks=np.stack([s.landmarks for s in samples]).astype(np.float32),
        dense=dense_points(samples, LandmarkModel()),
        sources=np.asarray(sources),
    )
    return len(samples)


def load_cache(path: Path) -> list[FaceSample]:
    with np.load(path) as archive:  # read every array now; the file is closed on return
        data = {name: archive[name] for name in archive.files}
    if "dense" not in data:
        raise UnmaskError(
            f"{path} was made by an older unmask without dense landmarks",
            hint="delete the cache folder; the next `unmask train` rebuilds it",
        )
    return [
        FaceSample(
            image,
            tuple(float(v) for v in box),  # type: ignore[arg-type]
            marks,
            None if np.isnan(dense).any() else dense,
        )
        for image, box, marks, dense in zip(
            data["images"], data["boxes"], data["landmarks"], data["dense"], strict=True
        )
    ]
