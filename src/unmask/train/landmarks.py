"""468 face landmarks for the self-blend masks (MediaPipe Face Mesh, used only for training).

The self-blended images method draws its blend mask from the convex hull of dense landmarks
(81 points in Shiohara & Yamasaki 2022), so the blended region runs along the jaw and across
the forehead, where a swapper's mask lies. Five MTCNN points give only rough ellipses. The
landmark network is MediaPipe's `face_landmark.tflite` (Apache-2.0, from the `mediapipe` 0.10.21
wheel; see `unmask/models/face_landmark.md`), run with LiteRT (`ai-edge-litert`, in the `train`
extra): it is needed while making training data and never at scan time.

Input, from the model card: a 192 x 192 RGB crop of the face box enlarged 1.5 times, values in
[0, 1]. Output: 468 (x, y, z) points in the crop's pixels and a face-presence logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unmask.faces.crop import cut_square, square_around
from unmask.models import MODEL_DIR

MODEL_FILE = MODEL_DIR / "face_landmark.tflite"
INPUT_SIDE = 192
BOX_SCALE = 1.5
"""MediaPipe crops the detector's box enlarged 1.5 times before finding landmarks."""
MIN_PRESENCE_LOGIT = 0.0
"""Below this (a face probability under 50 %) the points are not used."""

# Indices into the 468 points (MediaPipe's face mesh topology).
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
"""The outline of the face from the top of the forehead round the jaw, in order."""
EYEBROWS = (
    70, 63, 105, 66, 107, 55, 65, 52, 53, 46, 300, 293, 334, 296, 336, 285, 295, 282, 283, 276,
)  # fmt: skip


@dataclass(frozen=True)
class DenseLandmarks:
    points: np.ndarray
    """(468, 2) float32 x, y in the picture's pixels."""
    presence: float
    """The network's face-presence logit."""


class LandmarkModel:
    """MediaPipe's face mesh network on LiteRT: `model(rgb, box)` -> DenseLandmarks or None."""

    def __init__(self, threads: int = 1) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as error:
            raise RuntimeError(
                "dense landmarks need LiteRT: pip install -e '.[train]' or `make train-env`"
            ) from error
        self._interpreter = Interpreter(model_path=str(MODEL_FILE), num_threads=threads)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = self._interpreter.get_output_details()
        by_size = sorted(outputs, key=lambda d: int(np.prod(d["shape"])))
        self._presence, self._points = by_size[0]["index"], by_size[-1]["index"]

    def __call__(
        self, rgb: np.ndarray, box: tuple[float, float, float, float]
    ) -> DenseLandmarks | None:
        left, top, side = square = square_around(box, BOX_SCALE)
        pixels = cut_square(rgb, square, INPUT_SIDE).astype(np.float32)[None] / 255.0
        self._interpreter.set_tensor(self._input, pixels)
        self._interpreter.invoke()
        presence = float(self._interpreter.get_tensor(self._presence).ravel()[0])
        if presence < MIN_PRESENCE_LOGIT:
            return None
        raw = self._interpreter.get_tensor(self._points).reshape(468, 3)[:, :2]
        points = raw * (side / INPUT_SIDE) + np.array([left, top])
        return DenseLandmarks(points.astype(np.float32), presence)
