"""Find faces and five landmarks with MTCNN (Zhang et al., IEEE SPL 2016) on ONNX Runtime.

MTCNN is a cascade of three small CNNs: PNet slides over an image pyramid and proposes boxes,
RNet rejects most of them on 24x24 crops, ONet scores the rest on 48x48 crops and places five
landmarks. It is small (2 MB), runs on a CPU without extra libraries and finds faces from
about 20 px up; it is weaker than modern detectors on profiles and heavy occlusion (see
`unmask/models/mtcnn.md`).

    >>> detector = FaceDetector()
    >>> faces = detector.detect(rgb)          # HxWx3 uint8
    >>> faces[0].box, faces[0].score, faces[0].landmarks

Boxes are (x0, y0, x1, y1) in pixels of the input, origin at the top-left corner of the
top-left pixel, x1/y1 exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from unmask.models import DEFAULT_THREADS, onnx_session
from unmask.result import box_size

# Score thresholds of the three stages: the MTCNN defaults [0.6, 0.7, 0.7] used by the authors'
# release and by facenet-pytorch. Lowering them buys little recall on our real photos and
# costs false positives on textures (measured in unmask/models/mtcnn.md).
PNET_THRESHOLD = 0.6
RNET_THRESHOLD = 0.7
ONET_THRESHOLD = 0.7

# Non-maximum-suppression IoU thresholds of the reference implementation: within one pyramid
# scale, across scales, after RNet, and after ONet (the last one on intersection over the
# smaller box, so that a box nested in a bigger one is dropped).
NMS_PER_SCALE = 0.5
NMS_ACROSS_SCALES = 0.7
NMS_RNET = 0.7
NMS_ONET_MIN = 0.7

MIN_FACE_SIZE = 20
"""Smallest face side searched for, in pixels of the (possibly downscaled) image."""
PYRAMID_FACTOR = 0.709
"""Scale step between pyramid levels (about 1/sqrt(2): the area halves at each level)."""
MAX_SIDE = 1280
"""Longer image side the cascade runs at; larger frames are downscaled first. Faces smaller
than MIN_FACE_SIZE * (longer side / MAX_SIDE) px are missed in such frames."""
PAD_FRACTION = 0.3
"""Border added on each side, as a fraction of the longer side, when a first pass finds no
face: tight crops (LFW, face-recognition sets) show no context around the face, which PNet's
12x12 windows and the square RNet/ONet crops need."""
PAD_RETRY_MIN_FACE = 0.25
"""The padded retry looks only for faces at least this fraction of the picture's shorter side:
a tightly cropped face fills the picture, and skipping small scales keeps the retry cheap on
frames that simply show no face."""
PAD_VALUE = 127
"""Grey level of that border. Mid-grey found 11 of the 21 photos of faces/real that a black
border missed (all LFW thumbnails); never reflection, which would add mirrored half-faces."""

_PNET_STRIDE = 2
_PNET_CELL = 12


@dataclass(frozen=True, eq=False)
class DetectedFace:
    """One face found in one picture."""

    box: tuple[float, float, float, float]
    """x0, y0, x1, y1 in pixels of the picture given to `detect`."""
    score: float
    """Face probability from the last stage (ONet), 0-1."""
    landmarks: np.ndarray
    """(5, 2) float array of (x, y): left eye, right eye, nose tip, left mouth corner, right
    mouth corner, with left and right as seen in the picture (the person's right eye is the
    picture's left eye)."""

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def size(self) -> float:
        """Geometric mean of width and height."""
        return box_size(self.box)

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)


class FaceDetector:
    """The MTCNN cascade, with a downscale for large frames and a padded retry for tight crops.

    Sessions are shared between detectors (cached per model and thread count). `threads` is
    ONNX Runtime's intra-op thread count; one is usually fastest on two cores.
    """

    def __init__(
        self,
        *,
        min_face_size: int = MIN_FACE_SIZE,
        max_side: int = MAX_SIDE,
        thresholds: tuple[float, float, float] = (PNET_THRESHOLD, RNET_THRESHOLD, ONET_THRESHOLD),
        pad_retry: bool = True,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        if min_face_size < _PNET_CELL:
            raise ValueError(f"min_face_size must be at least {_PNET_CELL} px")
        if max_side < 2 * min_face_size:
            raise ValueError("max_side must be at least twice min_face_size")
        self.min_face_size = min_face_size
        self.max_side = max_side
        self.thresholds = thresholds
        self.pad_retry = pad_retry
        self._pnet = onnx_session("mtcnn_pnet", threads)
        self._rnet = onnx_session("mtcnn_rnet", threads)
        self._onet = onnx_session("mtcnn_onet", threads)

    def detect(self, rgb: np.ndarray) -> list[DetectedFace]:
        """All faces in an HxWx3 uint8 RGB picture, highest score first."""
        _validate(rgb)
        h, w = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        if scale < 1.0:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))
        faces = self._cascade(rgb, self.min_face_size)
        if not faces and self.pad_retry:
            faces = self._detect_padded(rgb)
        if scale < 1.0:
            faces = [_rescale(f, w / rgb.shape[1], h / rgb.shape[0]) for f in faces]
        return sorted(faces, key=lambda f: -f.score)

    def _detect_padded(self, rgb: np.ndarray) -> list[DetectedFace]:
        h, w = rgb.shape[:2]
        pad = max(1, round(PAD_FRACTION * max(h, w)))
        padded = np.full((h + 2 * pad, w + 2 * pad, 3), PAD_VALUE, dtype=np.uint8)
        padded[pad : pad + h, pad : pad + w] = rgb
        min_face = max(self.min_face_size, PAD_RETRY_MIN_FACE * min(h, w))
        return [_shift_and_clip(f, pad, w, h) for f in self._cascade(padded, min_face)]

    def _cascade(self, rgb: np.ndarray, min_face: float) -> list[DetectedFace]:
        t_pnet, t_rnet, t_onet = self.thresholds
        image = Image.fromarray(rgb)

        # Boxes below are in the reference implementation's 1-based inclusive pixel
        # coordinates (width = x1 - x0 + 1), which the regression offsets were trained in.
        boxes = self._propose(image, t_pnet, min_face)
        if len(boxes) == 0:
            return []

        prob, reg = self._rnet.run(None, {"input": _crops(rgb, boxes, 24)})
        keep = prob[:, 1] > t_rnet
        boxes, scores, reg = boxes[keep], prob[keep, 1], reg[keep]
        keep = _nms(boxes, scores, NMS_RNET)
        boxes = _square(_regress(boxes[keep], reg[keep]))
        if len(boxes) == 0:
            return []

        prob, reg, marks = self._onet.run(None, {"input": _crops(rgb, boxes, 48)})
        keep = prob[:, 1] > t_onet
        boxes, scores, reg, marks = boxes[keep], prob[keep, 1], reg[keep], marks[keep]
        if len(boxes) == 0:
            return []
        bw = boxes[:, 2:3] - boxes[:, 0:1] + 1
        bh = boxes[:, 3:4] - boxes[:, 1:2] + 1
        # ONet gives the five x offsets then the five y offsets, relative to its input box;
        # "- 1" converts to 0-based pixel coordinates.
        xs = boxes[:, 0:1] + bw * marks[:, :5] - 1
        ys = boxes[:, 1:2] + bh * marks[:, 5:] - 1
        boxes = _regress(boxes, reg)
        keep = _nms(boxes, scores, NMS_ONET_MIN, use_min=True)

        faces = []
        for i in keep:
            x0, y0, x1, y1 = boxes[i]
            faces.append(
                DetectedFace(
                    box=(float(x0 - 1), float(y0 - 1), float(x1), float(y1)),
                    score=float(scores[i]),
                    landmarks=np.stack([xs[i], ys[i]], axis=1).astype(np.float64),
                )
            )
        return faces

    def _propose(self, image: Image.Image, threshold: float, min_face: float) -> np.ndarray:
        """PNet over the image pyramid: square candidate boxes (N, 4) after NMS and regression."""
        w, h = image.size
        scale = _PNET_CELL / min_face
        side = min(h, w) * scale
        found: list[np.ndarray] = []
        level = image
        while side >= _PNET_CELL:
            size = (int(w * scale + 1), int(h * scale + 1))
            # Each level is resized from the previous one: as sharp, and much cheaper than
            # resizing the full picture a dozen times.
            level = level.resize(size, Image.Resampling.BILINEAR)
            x = _normalise(np.asarray(level)[None])
            prob, reg = self._pnet.run(None, {"input": x})
            candidates = _pnet_boxes(prob[0, 1], reg[0], scale, threshold)
            if len(candidates):
                keep = _nms(candidates[:, :4], candidates[:, 4], NMS_PER_SCALE)
                found.append(candidates[keep])
            scale *= PYRAMID_FACTOR
            side *= PYRAMID_FACTOR
        if not found:
            return np.zeros((0, 4))
        candidates = np.concatenate(found)
        keep = _nms(candidates[:, :4], candidates[:, 4], NMS_ACROSS_SCALES)
        candidates = candidates[keep]
        return _square(_regress(candidates[:, :4], candidates[:, 5:9]))


def _validate(rgb: np.ndarray) -> None:
    if not isinstance(rgb, np.ndarray):
        raise ValueError(f"expected a numpy array, got {type(rgb).__name__}")
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(
            f"expected an HxWx3 uint8 RGB array, got shape {rgb.shape} dtype {rgb.dtype}"
            " (convert grey-scale or RGBA pictures to RGB first)"
        )
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ValueError(f"expected a non-empty picture, got shape {rgb.shape}")


def _normalise(batch: np.ndarray) -> np.ndarray:
    """NHWC uint8 -> NCHW float32 in [-1, 1), the networks' training normalisation."""
    x = (batch.astype(np.float32) - 127.5) * (1.0 / 128.0)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def _pnet_boxes(prob: np.ndarray, reg: np.ndarray, scale: float, threshold: float) -> np.ndarray:
    """PNet cells above threshold -> (N, 9): box in the full image, score, 4 regression offsets."""
    ys, xs = np.nonzero(prob >= threshold)
    if len(ys) == 0:
        return np.zeros((0, 9))
    # A cell (x, y) of PNet's output sees pixels [2x, 2x + 11] of the scaled image.
    x0 = np.floor((_PNET_STRIDE * xs + 1) / scale)
    y0 = np.floor((_PNET_STRIDE * ys + 1) / scale)
    x1 = np.floor((_PNET_STRIDE * xs + _PNET_CELL) / scale)
    y1 = np.floor((_PNET_STRIDE * ys + _PNET_CELL) / scale)
    return np.stack([x0, y0, x1, y1, prob[ys, xs], *reg[:, ys, xs]], axis=1).astype(np.float64)


def _regress(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Apply the networks' box offsets, given as fractions of the box width and height."""
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    return boxes[:, :4] + offsets[:, :4] * np.stack([w, h, w, h], axis=1)


def _square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square around its centre (RNet and ONet take square crops)."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    x0 = boxes[:, 0] + w * 0.5 - side * 0.5
    y0 = boxes[:, 1] + h * 0.5 - side * 0.5
    return np.stack([x0, y0, x0 + side, y0 + side], axis=1)


def _nms(
    boxes: np.ndarray, scores: np.ndarray, threshold: float, use_min: bool = False
) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best first."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x1 - x0 + 1) * (y1 - y0 + 1)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while len(order):
        i = order[0]
        keep.append(i)
        rest = order[1:]
        iw = np.maximum(0.0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]) + 1)
        ih = np.maximum(0.0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]) + 1)
        inter = iw * ih
        if use_min:
            overlap = inter / np.minimum(area[i], area[rest])
        else:
            overlap = inter / (area[i] + area[rest] - inter)
        order = rest[overlap <= threshold]
    return np.asarray(keep, dtype=np.int64)


def _crops(rgb: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Each box cut from the picture (zero outside it), resized to size x size, normalised."""
    h, w = rgb.shape[:2]
    image = Image.fromarray(rgb)
    out = np.zeros((len(boxes), size, size, 3), dtype=np.uint8)
    for n, box in enumerate(boxes):
        # 1-based inclusive box -> 0-based half-open pixel range.
        x0, y0 = int(box[0]) - 1, int(box[1]) - 1
        x1, y1 = int(box[2]), int(box[3])
        if x1 <= x0 or y1 <= y0:
            continue
        if x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h:
            patch = image.resize(
                (size, size), Image.Resampling.BILINEAR, box=(x0, y0, x1, y1), reducing_gap=2.0
            )
        else:
            canvas = np.zeros((y1 - y0, x1 - x0, 3), dtype=np.uint8)
            cx0, cy0 = max(x0, 0), max(y0, 0)
            cx1, cy1 = min(x1, w), min(y1, h)
            if cx1 > cx0 and cy1 > cy0:
                canvas[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0] = rgb[cy0:cy1, cx0:cx1]
            patch = Image.fromarray(canvas).resize(
                (size, size), Image.Resampling.BILINEAR, reducing_gap=2.0
            )
        out[n] = np.asarray(patch)
    return _normalise(out)


def _rescale(face: DetectedFace, sx: float, sy: float) -> DetectedFace:
    """Map a face found in a resized picture back to the original's pixels."""
    x0, y0, x1, y1 = face.box
    return DetectedFace(
        box=(x0 * sx, y0 * sy, x1 * sx, y1 * sy),
        score=face.score,
        landmarks=face.landmarks * np.array([sx, sy]),
    )


def _shift_and_clip(face: DetectedFace, pad: int, w: int, h: int) -> DetectedFace:
    """Map a face found in the padded picture back into the original one."""
    x0, y0, x1, y1 = (v - pad for v in face.box)
    marks = face.landmarks - pad
    marks[:, 0] = np.clip(marks[:, 0], 0, w)
    marks[:, 1] = np.clip(marks[:, 1], 0, h)
    return DetectedFace(
        box=(
            float(np.clip(x0, 0, w)),
            float(np.clip(y0, 0, h)),
            float(np.clip(x1, 0, w)),
            float(np.clip(y1, 0, h)),
        ),
        score=face.score,
        landmarks=marks,
    )
