"""Copies of an original that must come out `same_content`, and pasted-face copies that must
come out `altered`: what the thresholds are calibrated on (scripts/calibrate_compare.py) and
what the benchmark (bench/bench_compare.py) and the tests measure.

The controls are what re-publishing does to a file: re-encoding (JPEG q70, H.264 CRF 35),
scaling to 0.75, cropping 3 % off each side, mirroring, trimming 1 s, another frame rate,
letterboxing and colour grading. The pasted face is what a face-swap app does to a photo at its
crudest: another person's face, scaled onto the face box and blended with a feathered mask.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

from unmask.media import open_media

STILL_CONTROLS = ("jpeg_q70", "scale_0.75", "crop_3pct", "mirror", "graded", "letterbox")
VIDEO_CONTROLS = (
    "h264_crf35",
    "scale_0.75",
    "trim_1s",
    "crop_3pct",
    "mirror",
    "other_fps",
    "letterbox",
)
CROP = 0.03
SCALE = 0.75
JPEG_QUALITY = 70
H264_CRF_LOW = 35
H264_CRF_NORMAL = 23
"""x264's default CRF: what every control that is not about H.264 quality is re-encoded with."""


def jpeg_bytes(rgb: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def still_control(rgb: np.ndarray, kind: str) -> bytes:
    """The JPEG bytes of control `kind` (one of `STILL_CONTROLS`) of a picture."""
    if kind == "jpeg_q70":
        return jpeg_bytes(rgb, JPEG_QUALITY)
    return jpeg_bytes(_transform(kind)(rgb))


def _transform(kind: str) -> Callable[[np.ndarray], np.ndarray]:
    def scale(rgb: np.ndarray) -> np.ndarray:
        size = (round(rgb.shape[1] * SCALE) // 2 * 2, round(rgb.shape[0] * SCALE) // 2 * 2)
        return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)

    def crop(rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        dy, dx = round(h * CROP), round(w * CROP)
        out = rgb[dy : h - dy, dx : w - dx]
        return out[: out.shape[0] // 2 * 2, : out.shape[1] // 2 * 2]

    def mirror(rgb: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(rgb[:, ::-1])

    def graded(rgb: np.ndarray) -> np.ndarray:
        v = rgb.astype(np.float32) / 255.0
        v = v**0.85 * np.array([1.05, 1.0, 0.92]) + np.array([0.0, 0.01, 0.03])
        return (np.clip(v, 0, 1) * 255).round().astype(np.uint8)

    def letterbox(rgb: np.ndarray) -> np.ndarray:
        h, _w = rgb.shape[:2]
        bar = max(2, round(h * 0.12) // 2 * 2)
        return np.pad(rgb, ((bar, bar), (0, 0), (0, 0)))

    def same(rgb: np.ndarray) -> np.ndarray:
        return rgb

    table = {
        "scale_0.75": scale,
        "crop_3pct": crop,
        "mirror": mirror,
        "graded": graded,
        "letterbox": letterbox,
    }
    return table.get(kind, same)


def video_control(source: Path, target: Path, kind: str, max_seconds: float | None = None) -> Path:
    """Write control `kind` (one of `VIDEO_CONTROLS`) of a video as an H.264 MP4."""
    media = open_media(source, fps=None, n_frames=100_000)
    rate = float(media.fps or 25.0)
    frames = [(f.time_s, f.rgb) for f in media.frames]
    if max_seconds is not None:
        frames = [
            (t, rgb) for t, rgb in frames if t < max_seconds + (1.0 if kind == "trim_1s" else 0)
        ]
    crf = H264_CRF_LOW if kind == "h264_crf35" else H264_CRF_NORMAL
    out_rate = rate
    if kind == "trim_1s":
        frames = [(t - 1.0, rgb) for t, rgb in frames if t >= 1.0]
    if kind == "other_fps":
        out_rate = 24.0 if abs(rate - 25.0) > 0.5 else 30.0
        times = np.arange(0.0, frames[-1][0], 1.0 / out_rate)
        source_times = np.array([t for t, _ in frames])
        frames = [(t, frames[int(np.abs(source_times - t).argmin())][1]) for t in times]
    change = _transform(kind)
    write_h264(target, [change(rgb) for _, rgb in frames], out_rate, crf)
    return target


def write_h264(
    path: Path, frames: list[np.ndarray], fps: float, crf: int = H264_CRF_NORMAL
) -> Path:
    """Encode RGB frames (even width and height) as an H.264 MP4."""
    height, width = frames[0].shape[:2]
    width, height = width // 2 * 2, height // 2 * 2
    with av.open(str(path), "w") as container:
        stream = container.add_stream(
            "libx264", rate=Fraction(fps).limit_denominator(1001), options={"crf": str(crf)}
        )
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(rgb[:height, :width]), format="rgb24"
            )
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def paste_face(
    target: np.ndarray,
    target_box: tuple[float, float, float, float],
    donor: np.ndarray,
    donor_box: tuple[float, float, float, float],
) -> np.ndarray:
    """`target` with the donor's face scaled onto its face box and blended with a feathered
    elliptical mask (colour matched to the target's face first, as swap tools do)."""
    x0, y0, x1, y1 = (round(v) for v in target_box)
    d0, e0, d1, e1 = (round(v) for v in donor_box)
    w, h = x1 - x0, y1 - y0
    patch = cv2.resize(donor[e0:e1, d0:d1], (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    region = target[y0:y1, x0:x1].astype(np.float32)
    patch = (patch - patch.mean((0, 1))) / (patch.std((0, 1)) + 1e-3) * region.std((0, 1))
    patch += region.mean((0, 1))
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (w // 2, h // 2), (int(w * 0.42), int(h * 0.46)), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, w * 0.06))[..., None]
    out = target.copy()
    blended = region * (1 - mask) + np.clip(patch, 0, 255) * mask
    out[y0:y1, x0:x1] = blended.round().astype(np.uint8)
    return out
