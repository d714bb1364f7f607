"""Self-blended images (SBI): fake faces made from one real face and a slightly altered copy of it.

Method from Shiohara & Yamasaki, "Detecting Deepfakes with Self-Blended Images", CVPR 2022
(written here from the paper's description, section 3): a *source* copy of a real face is
changed in colour, brightness and sharpness and shifted/scaled a little; a mask over the face
region, deformed and blurred, blends the source back into the original (the *target*). The
pair (original, blend) is labelled (0, 1), and the blend mask is the target of the
localisation head (as the blending boundary is in Face X-ray, Li et al., CVPR 2020). No
deepfake generator is needed, so a detector can learn the seams that face swaps leave from
real faces alone.

The face region is the convex hull of 468 dense landmarks (MediaPipe Face Mesh,
`unmask.train.landmarks`), as the paper draws it from 81 dlib points: the whole face up to the
forehead, or the face below the brows, scaled and deformed at random. Where the dense model found
no face, the region is drawn from the five MTCNN points and the box instead: an ellipse, or the
hull of the inner face grown outwards.

Everything here is pure NumPy/Pillow so it can be tested without PyTorch.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# Blend ratios from the SBI paper (section 3.3: "blending ratio r ... from {0.25, 0.5, 0.75,
# 1, 1, 1}"): full-strength blends are twice as likely as each partial one.
BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)
# Compression and resizing that shared pictures go through (issue 3: JPEG quality 40-100).
JPEG_QUALITY_RANGE = (40, 100)
# Faces in shared videos went through H.264. x264's CRF 23 is its default quality; 40 is the
# blocky end of what platforms serve. A pixel-identical real and fake pair gets the same kind of
# compression at random, so compression never tells the label.
H264_CRF_RANGE = (23, 40)
H264_SHARE = 0.45
"""Share of training crops that go through H.264; JPEG takes most of the rest."""
JPEG_SHARE = 0.4
DOWNSCALE_SHARE = 0.4
"""Share of crops shrunk and enlarged back, as faces of 80-150 px in webcam and phone video
frames are enlarged to the 224 px crop."""
DOWNSCALE_RANGE = (0.35, 0.9)
"""The factor they are shrunk by."""
SMOOTHING_SHARE = 0.25
"""Share of crops through the bilateral filter of `smooth_skin`."""
SMOOTHING_SIGMA_COLOUR = (15.0, 60.0)
"""Its colour range in grey levels: from a light denoiser to a strong beauty filter."""


@dataclass(frozen=True)
class FaceSample:
    """A real face with room around it: the picture, the face box and five landmarks in it."""

    rgb: np.ndarray
    box: tuple[float, float, float, float]
    landmarks: np.ndarray  # (5, 2): left eye, right eye, nose, left mouth, right mouth
    dense: np.ndarray | None = None
    """(468, 2) MediaPipe face-mesh points, or None where that model found no face."""


@dataclass(frozen=True)
class SelfBlend:
    image: np.ndarray
    """HxWx3 uint8: the original with the altered copy blended in over the mask."""
    mask: np.ndarray
    """HxW float32 in [0, 1]: how much of the altered copy each pixel holds."""


def face_mask(sample: FaceSample, rng: np.random.Generator) -> np.ndarray:
    """A deformed, blurred face-region mask (HxW float32 in [0, 1])."""
    height, width = sample.rgb.shape[:2]
    x0, y0, x1, y1 = sample.box
    face_w, face_h = x1 - x0, y1 - y0
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    if sample.dense is not None:
        points = _dense_region(sample.dense, rng)
    elif rng.random() < 0.6:
        # Whole face: an ellipse through the box, its centre pulled to the landmarks' centre.
        centre = 0.5 * (np.array([(x0 + x1) / 2, (y0 + y1) / 2]) + sample.landmarks.mean(0))
        radii = np.array([face_w, face_h]) / 2 * rng.uniform(0.75, 1.0, 2)
        angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        points = centre + np.stack([np.cos(angles), np.sin(angles)], 1) * radii
    else:
        # Inner face: the hull of eyes, nose and mouth, grown outwards towards brows and chin.
        marks = sample.landmarks
        centre = marks.mean(0)
        grown = centre + (marks - centre) * rng.uniform(1.4, 2.0)
        brows = marks[:2] - np.array([0, face_h * rng.uniform(0.12, 0.22)])
        chin = marks[3:].mean(0, keepdims=True) + np.array([0, face_h * rng.uniform(0.1, 0.2)])
        points = _hull(np.concatenate([grown, brows, chin]))
    # A dense hull has ~40 corners; moving each as much as the coarse polygons' would make it lumpy.
    spread = 0.012 if sample.dense is not None else 0.03
    jitter = rng.normal(0, spread, points.shape) * np.array([face_w, face_h])
    draw.polygon([tuple(p) for p in (points + jitter)], fill=255)
    # Erode or dilate a little, then soften the edge: the seam must be learnt at many widths.
    size = int(rng.choice([3, 5, 7]))
    canvas = canvas.filter(
        ImageFilter.MinFilter(size) if rng.random() < 0.5 else ImageFilter.MaxFilter(size)
    )
    canvas = canvas.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(1.0, 0.06 * face_w))))
    mask = np.asarray(canvas, dtype=np.float32) / 255.0
    return mask / max(float(mask.max()), 1e-6)


def _dense_region(dense: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Hull of the dense landmarks: the whole face (as "whole face" swappers replace it) or,
    one time in three, only what lies below the top of the brows (the "full face" type), scaled
    about its centre by 0.9-1.1 on each axis."""
    from unmask.train.landmarks import EYEBROWS

    points = dense
    if rng.random() < 1 / 3:
        brow_top = float(dense[list(EYEBROWS), 1].min())
        points = dense[dense[:, 1] >= brow_top]
    hull = _hull(points)
    centre = hull.mean(0)
    return centre + (hull - centre) * rng.uniform(0.9, 1.1, 2)


def alter_source(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The altered copy: colour, brightness and sharpness changes plus a small shift and scale."""
    image = rgb.astype(np.float32)
    image = image * rng.uniform(0.9, 1.1, 3) + rng.uniform(-12, 12, 3)  # per-channel colour
    image = (image - image.mean()) * rng.uniform(0.85, 1.15) + image.mean()  # contrast
    image = image + rng.uniform(-15, 15)  # brightness
    picture = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:  # frequency: soften (down-up sampling) or sharpen
        factor = rng.uniform(0.4, 0.8)
        small = picture.resize(
            (max(1, int(picture.width * factor)), max(1, int(picture.height * factor))),
            Image.BILINEAR,
        )
        picture = small.resize(picture.size, Image.BILINEAR)
    else:
        picture = picture.filter(
            ImageFilter.UnsharpMask(radius=2, percent=int(rng.uniform(50, 150)))
        )
    # Small affine change: scale 0.95-1.05 and shift up to 3 % about the centre.
    scale = rng.uniform(0.95, 1.05)
    shift = rng.uniform(-0.03, 0.03, 2) * np.array(picture.size)
    cx, cy = picture.width / 2, picture.height / 2
    matrix = (
        1 / scale,
        0,
        cx - (cx + shift[0]) / scale,
        0,
        1 / scale,
        cy - (cy + shift[1]) / scale,
    )
    picture = picture.transform(picture.size, Image.AFFINE, matrix, Image.BILINEAR, fillcolor=None)
    return np.asarray(picture)


def self_blend(sample: FaceSample, rng: np.random.Generator) -> SelfBlend:
    """Blend an altered copy of the face into the original over a deformed face mask."""
    mask = face_mask(sample, rng) * float(rng.choice(BLEND_RATIOS))
    source = alter_source(sample.rgb, rng).astype(np.float32)
    target = sample.rgb.astype(np.float32)
    blended = source * mask[..., None] + target * (1.0 - mask[..., None])
    return SelfBlend(np.clip(blended + 0.5, 0, 255).astype(np.uint8), mask.astype(np.float32))


def degrade(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What cameras and sharing do to a picture: resizing, blur, a webcam's or phone's skin
    smoothing, noise, then H.264 (CRF 23-40) or JPEG (quality 40-100) or neither.

    Applied to real and fake alike, so that compression is never a cue for the label."""
    picture = Image.fromarray(rgb)
    if rng.random() < DOWNSCALE_SHARE:
        factor = rng.uniform(*DOWNSCALE_RANGE)
        size = picture.size
        picture = picture.resize(
            (max(8, int(size[0] * factor)), max(8, int(size[1] * factor))), Image.BILINEAR
        )
        picture = picture.resize(size, Image.BILINEAR)
    if rng.random() < 0.2:
        picture = picture.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 1.2))))
    if rng.random() < SMOOTHING_SHARE:
        picture = Image.fromarray(smooth_skin(np.asarray(picture), rng))
    array = np.asarray(picture).astype(np.float32)
    if rng.random() < 0.2:
        array = array + rng.normal(0, rng.uniform(1, 6), array.shape)
    picture = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
    codec = rng.random()
    if codec < H264_SHARE:
        crf = int(rng.integers(*H264_CRF_RANGE, endpoint=True))
        return h264_roundtrip(np.asarray(picture), crf)
    if codec < H264_SHARE + JPEG_SHARE:
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=int(rng.integers(*JPEG_QUALITY_RANGE, endpoint=True)))
        picture = Image.open(buffer).convert("RGB")
    return np.asarray(picture)


def smooth_skin(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The whole picture through an edge-preserving (bilateral) filter, as webcam "beauty"
    filters and phone denoisers leave it: flat skin, edges kept. Real faces filmed that way
    were the face check's worst false alarms (BENCHMARKS.md, "A second face detector, and
    screenshots of real videos")."""
    return cv2.bilateralFilter(
        np.ascontiguousarray(rgb),
        d=int(rng.integers(5, 9, endpoint=True)),
        sigmaColor=float(rng.uniform(*SMOOTHING_SIGMA_COLOUR)),
        sigmaSpace=float(rng.uniform(3, 9)),
    )


def h264_roundtrip(rgb: np.ndarray, crf: int) -> np.ndarray:
    """The picture encoded as one H.264 frame (x264, 4:2:0, constant rate factor `crf`) and
    decoded again: the blocking, deblocking blur and chroma loss of video faces."""
    import av

    height, width = rgb.shape[:2]
    even = np.ascontiguousarray(rgb[: height - height % 2, : width - width % 2])
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height = even.shape[1], even.shape[0]
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = Fraction(1, 25)
    encoder.options = {"crf": str(crf), "preset": "veryfast", "tune": "zerolatency"}
    packets = [
        *encoder.encode(av.VideoFrame.from_ndarray(even, format="rgb24")),
        *encoder.encode(None),
    ]
    decoder = av.CodecContext.create("h264", "r")
    frames = [frame for packet in [*packets, None] for frame in decoder.decode(packet)]
    out = np.array(rgb)
    out[: even.shape[0], : even.shape[1]] = frames[0].to_ndarray(format="rgb24")
    return out


def _hull(points: np.ndarray) -> np.ndarray:
    """Convex hull (Andrew's monotone chain), counter-clockwise."""
    pts = sorted(map(tuple, points))

    def cross(o: tuple, a: tuple, b: tuple) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])
