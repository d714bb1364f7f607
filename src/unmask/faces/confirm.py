"""A second opinion on a detected face: do OpenCV's Haar cascades find a face in the same place?

MTCNN sometimes takes a blurred background object for a face with high confidence (0.92-0.97
on a chair behind a speaker in two of the held-out photos and one training photo). A face
check that scores such a "face" can only give a false alarm, so a model card may ask
(`confirm_faces`) that each detection be confirmed by a detector of another kind before the
model scores it: the Viola-Jones cascades that ship inside opencv-python-headless (Viola and Jones,
CVPR 2001; frontal "default" and "alt2" and the profile cascade, also on the mirrored region
for profiles turned the other way). A face they do not confirm is reported as not checked,
never as showing no signs.

Measured on the photos of shared/data/faces/real (BENCHMARKS.md, "A second face detector, and
screenshots of real videos"):
the cascades confirm 98 % of the MTCNN faces the face model is allowed to judge, and none of
the background-object detections.

    >>> confirmed = confirms_face(frame.rgb, face.box)
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import cv2
import numpy as np

from unmask.faces.crop import crop_face, crop_square

CONTEXT = 0.5
"""Margin around the face box, on each side, as a fraction of its longer side: the cascades
need the face's outline and some background."""
BOX_PX = 96
"""The box's longer side is resampled to this many pixels, so the cascades see every face at
the same scale whatever its size in the picture."""
REGION_PX = round(BOX_PX * (1 + 2 * CONTEXT))
"""Side of the square the cascades search (192 px)."""
MIN_SIZE_PX = 48
"""Smallest cascade window: half the resampled box, so that small textures inside the region
do not count."""
SCALE_FACTOR = 1.1
"""Scale step between the cascades' window sizes (OpenCV's default for `detectMultiScale`)."""
MIN_NEIGHBOURS = 3
"""Overlapping windows needed for a face (OpenCV's default for `detectMultiScale`)."""
MIN_IOU = 0.3
"""Overlap (intersection over union) of a cascade's face with the MTCNN box that confirms it.
The two detectors draw their boxes differently (the cascades' are square and tighter), so
the usual 0.5 of detection benchmarks is too strict for a confirmation."""
FILL = 127
"""Grey outside the picture (a face at the picture's edge)."""
MIN_BOX_PX = 2.0
"""A box smaller than this (or with a coordinate that is not a finite number) is never
confirmed: there is nothing in it to ask about."""
CASCADES = ("frontalface_default", "frontalface_alt2", "profileface")
"""The cascade files (`haarcascade_<name>.xml` in `cv2.data.haarcascades`) asked in turn."""


_local = threading.local()


def _cascade(name: str) -> cv2.CascadeClassifier:
    """The cascade `name`, loaded once per thread: `detectMultiScale` changes state inside the
    classifier, so two threads must not share one."""
    loaded = getattr(_local, "cascades", None)
    if loaded is None:
        loaded = _local.cascades = {}
    if name not in loaded:
        path = f"{cv2.data.haarcascades}haarcascade_{name}.xml"
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"OpenCV's cascade file {path} is missing or unreadable")
        loaded[name] = cascade
    return loaded[name]


def region(rgb: np.ndarray, box: Sequence[float]) -> tuple[np.ndarray, tuple[float, ...]]:
    """The grey square around `box` at the cascades' scale (`BOX_PX` for the box's longer
    side), and the box in its coordinates: `crop_face`'s square with a `CONTEXT` margin,
    `FILL` outside the picture and its antialiased resize (a large face is not aliased)."""
    left, top, side = crop_square(box, CONTEXT)
    cut = crop_face(rgb, box, CONTEXT, REGION_PX, fill=FILL)
    scale = REGION_PX / side
    x0, y0, x1, y1 = (float(v) for v in box)
    inner = ((x0 - left) * scale, (y0 - top) * scale, (x1 - left) * scale, (y1 - top) * scale)
    return cv2.cvtColor(cut, cv2.COLOR_RGB2GRAY), inner


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def best_overlap(rgb: np.ndarray, box: Sequence[float]) -> float:
    """The overlap of a cascade's face with `box`: the first one of at least `MIN_IOU` (the
    cascades are asked in turn and the search stops there), else the highest found (0 when
    they find no face there, or when the box is degenerate)."""
    if (
        not all(math.isfinite(float(v)) for v in box)
        or min(float(box[2]) - float(box[0]), float(box[3]) - float(box[1])) < MIN_BOX_PX
    ):
        return 0.0
    cut, inner = region(rgb, box)
    mirrored = np.ascontiguousarray(cut[:, ::-1])
    best = 0.0
    for name in CASCADES:
        views = ((cut, False), (mirrored, True)) if name == "profileface" else ((cut, False),)
        for view, flipped in views:
            found = _cascade(name).detectMultiScale(
                view,
                scaleFactor=SCALE_FACTOR,
                minNeighbors=MIN_NEIGHBOURS,
                minSize=(MIN_SIZE_PX, MIN_SIZE_PX),
            )
            for x, y, w, h in np.asarray(found).reshape(-1, 4).tolist():
                if flipped:
                    x = view.shape[1] - x - w
                best = max(best, iou(inner, (x, y, x + w, y + h)))
                if best >= MIN_IOU:
                    return best
    return best


def confirms_face(rgb: np.ndarray, box: Sequence[float]) -> bool:
    """Whether a second detector of another kind finds a face where MTCNN put `box`."""
    return best_overlap(rgb, box) >= MIN_IOU
