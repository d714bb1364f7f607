"""Shipped model weights, loaded by name. Each model has a card (`<family>.md`) beside it.

    >>> from unmask.models import onnx_session, load_card
    >>> session = onnx_session("mtcnn_pnet")
    >>> card = load_card("face_swap")          # face_swap.json: thresholds, calibration, limits

A user can point any model at their own checkpoint: set `UNMASK_<NAME>_MODEL` (for example
`UNMASK_FACE_SWAP_MODEL=/path/model.onnx`, with `model.json` beside it) or pass `override=`.

Nothing here downloads: a missing file is a broken install and raises `ModelError`.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import unmask
from unmask.errors import ModelError

if TYPE_CHECKING:
    import onnxruntime  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

DEFAULT_THREADS = 1
"""ONNX Runtime intra-op threads. On a 2-core machine one thread was as fast as two for the
MTCNN networks on 512 px images and leaves the other core to decoding (see mtcnn.md)."""


MODEL_DIR = Path(str(importlib.resources.files(__package__)))
"""Where the shipped weights and cards live (inside the installed package)."""


class ModelNotInstalledError(ModelError):
    """The shipped model file is absent (not yet trained, or left out of this install)."""

    code = "model_not_installed"


def override_variable(name: str) -> str:
    """The environment variable that points model `name` at a user's own checkpoint."""
    return f"UNMASK_{name.upper()}_MODEL"


def model_path(name: str, override: str | Path | None = None) -> Path:
    """Path of model `name` (with or without the `.onnx` suffix).

    `override`, else the environment variable `UNMASK_<NAME>_MODEL`, names a user's own file
    instead of the shipped one; a missing user file is an error, never a silent fallback.
    """
    stem = name.rsplit(".", 1)[0] if name.endswith(".onnx") else name
    chosen = override or os.environ.get(override_variable(stem)) or None
    if chosen is not None:
        path = Path(chosen).expanduser()
        if not path.is_file():
            source = "the path given" if override else override_variable(stem)
            raise ModelError(
                f"model file {str(path)!r} (from {source}) does not exist",
                hint="point it at an .onnx file with its .json card beside it",
            )
        return path
    filename = name if "." in name else f"{name}.onnx"
    path = MODEL_DIR / filename
    if not path.is_file():
        raise ModelNotInstalledError(
            f"model file {filename!r} is missing from {path.parent}",
            hint="reinstall unmask; the model files ship inside the package",
        )
    return path


def onnx_session(
    name: str, threads: int = DEFAULT_THREADS, override: str | Path | None = None
) -> onnxruntime.InferenceSession:
    """A cached CPU `onnxruntime.InferenceSession` for model `name` (see `model_path`)."""
    path = model_path(name, override).resolve()
    stat = path.stat()
    return _session(str(path), stat.st_mtime_ns, stat.st_size, threads)


@functools.lru_cache(maxsize=16)
def _session(filename: str, mtime_ns: int, size: int, threads: int) -> onnxruntime.InferenceSession:
    # Keyed by file identity, so a replaced checkpoint is loaded afresh.
    import onnxruntime as ort

    _check_telemetry_off(ort)

    path = Path(filename)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(
            f"could not load model {path}: {str(exc).strip()[:300]}",
            hint="the file may be damaged or not an ONNX model; reinstall unmask or re-export it",
        ) from exc


def _check_telemetry_off(ort: ModuleType) -> None:
    """Turn ONNX Runtime's telemetry API off too, and warn when a program imported onnxruntime
    before unmask: the environment switch set in `unmask/__init__.py` is read at import, so in
    that process telemetry may already be on."""
    ort.disable_telemetry_events()
    if unmask.ONNXRUNTIME_IMPORTED_FIRST:
        _warn_imported_first()


@functools.cache
def _warn_imported_first() -> None:
    log.warning(
        "onnxruntime was imported before unmask, so its telemetry could not be switched off in "
        "this process; import unmask first, or set ORT_DISABLE_TELEMETRY=1 in the environment"
    )


MEDIA_KINDS = ("image", "video")
"""The kinds of media a scan tells apart (`Media.kind`)."""


@dataclass(frozen=True)
class ModelCard:
    """The machine-readable card (`<name>.json`) beside a classifier's ONNX file.

    The scan reads its calibration and thresholds from here, never from literals in code, so a
    retrained model brings its own operating point.
    """

    name: str
    version: str
    input_size: int
    """Side of the square face crop the network takes, in pixels."""
    crop_margin: float
    """Margin around the face box on each side, as a fraction of its longer side."""
    temperature: float
    """Calibrated probability = sigmoid(logit / temperature) (temperature scaling)."""
    threshold: float
    """Probability at or above which a face is "likely manipulated"."""
    inconclusive_band: tuple[float, float]
    """[low, threshold): probabilities in here are "inconclusive"."""
    covers: str
    """One sentence: what the model was trained to find."""
    does_not_cover: tuple[str, ...]
    media: tuple[str, ...] = MEDIA_KINDS
    """The kinds of media ("image", "video") the model was validated on and the scan runs it
    on; on others the scan says it was not run and why, instead of giving a score no
    measurement backs."""
    min_face_px: float = 0.0
    """Smallest face the model scores: the geometric mean of the face box's width and height, in
    pixels of the frame. The model was trained and measured on faces at least this large, so a
    smaller one is reported as not checked, never as showing no signs."""
    min_face_score: float = 0.0
    """Least face-detector confidence of a face the model scores (the filter its training data
    passed); a less certain detection is reported as not checked."""
    confirm_faces: bool = False
    """Score only faces that a second detector of another kind (OpenCV's Haar cascades,
    `unmask.faces.confirm`) also finds; an unconfirmed face is reported as not checked. A
    threshold placed on `unmask eval` results (scripts/face_model_gate.py) was measured with
    it; the false-positive figure `unmask train` writes comes from held-out crops without it."""
    mirror_average: bool = False
    """Score each face crop and its mirror image and average the two logits (the network's own
    noise averaged out on faces, at twice the network's cost)."""
    evaluated: dict[str, Any] = field(default_factory=dict, compare=False)
    """Measured numbers. Read by the verdict where present: `false_positive_rate` (share of
    held-out real media at or above `threshold`), `false_positive_data` (which media) and
    `summary` (one sentence with the headline numbers)."""
    path: Path | None = None
    """The ONNX file this card describes."""

    def probability(self, logits: Any) -> Any:
        """Calibrated probabilities for raw logits (numpy array or float)."""
        import numpy as np

        scaled = np.clip(np.asarray(logits, dtype=np.float64) / self.temperature, -60, 60)
        return 1.0 / (1.0 + np.exp(-scaled))

    @property
    def false_positive_rate(self) -> float | None:
        value = self.evaluated.get("false_positive_rate")
        return float(value) if isinstance(value, int | float) else None


CARD_KEYS = (
    "name",
    "version",
    "input_size",
    "crop_margin",
    "temperature",
    "threshold",
    "inconclusive_band",
    "evaluated",
    "covers",
    "does_not_cover",
)


def load_card(name: str, override: str | Path | None = None) -> ModelCard:
    """The card of model `name`: `<model>.json` beside the ONNX file `model_path` finds."""
    model = model_path(name, override)
    card_file = model.with_suffix(".json")
    if not card_file.is_file():
        raise ModelError(
            f"model card {card_file} is missing",
            hint=f"every classifier needs its card beside it ({card_file.name}: thresholds, "
            "calibration, what it covers)",
        )
    try:
        data = json.loads(card_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(
            f"model card {card_file} is not readable JSON ({exc})", hint="re-export the card"
        ) from exc
    return parse_card(data, card_file, model)


def parse_card(data: Any, card_file: Path, model: Path | None = None) -> ModelCard:
    """Check a card's keys and values; every problem names the file and the key."""

    def bad(what: str) -> ModelError:
        return ModelError(f"model card {card_file}: {what}", hint="fix or re-export the card")

    if not isinstance(data, dict):
        raise bad("expected a JSON object")
    missing = [key for key in CARD_KEYS if key not in data]
    if missing:
        raise bad(f"missing keys {', '.join(missing)}")

    def number(key: str, low: float, high: float) -> float:
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad(f"{key} must be a number")
        if not (low <= value <= high) or not math.isfinite(value):
            raise bad(f"{key} = {value} is outside [{low}, {high}]")
        return float(value)

    temperature = number("temperature", 1e-6, 1e6)
    threshold = number("threshold", 0.0, 1.0)
    margin = number("crop_margin", 0.0, 2.0)
    size = data["input_size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 16:
        raise bad("input_size must be an integer >= 16")
    band = data["inconclusive_band"]
    if (
        not isinstance(band, list)
        or len(band) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in band)
        or not (0.0 <= band[0] <= band[1] <= 1.0)
        or not math.isclose(band[1], threshold, abs_tol=1e-9)
    ):
        raise bad("inconclusive_band must be [low, threshold] with 0 <= low <= threshold")
    does_not = data["does_not_cover"]
    if not isinstance(does_not, list) or not all(isinstance(v, str) for v in does_not):
        raise bad("does_not_cover must be a list of sentences")
    if not isinstance(data["evaluated"], dict):
        raise bad("evaluated must be an object")
    media = data.get("media", list(MEDIA_KINDS))
    if (
        not isinstance(media, list)
        or not media
        or not all(isinstance(v, str) and v in MEDIA_KINDS for v in media)
    ):
        raise bad(f"media must be a non-empty list of {' and '.join(MEDIA_KINDS)}")
    for key in ("name", "version", "covers"):
        if not isinstance(data[key], str) or not data[key]:
            raise bad(f"{key} must be a non-empty string")
    min_px = number("min_face_px", 0.0, 1e5) if "min_face_px" in data else 0.0
    min_score = number("min_face_score", 0.0, 1.0) if "min_face_score" in data else 0.0
    mirror = data.get("mirror_average", False)
    if not isinstance(mirror, bool):
        raise bad("mirror_average must be true or false")
    confirm = data.get("confirm_faces", False)
    if not isinstance(confirm, bool):
        raise bad("confirm_faces must be true or false")
    return ModelCard(
        name=data["name"],
        version=data["version"],
        input_size=size,
        crop_margin=margin,
        temperature=temperature,
        threshold=threshold,
        inconclusive_band=(float(band[0]), float(band[1])),
        covers=data["covers"],
        does_not_cover=tuple(does_not),
        media=tuple(dict.fromkeys(media)),
        min_face_px=min_px,
        min_face_score=min_score,
        confirm_faces=confirm,
        mirror_average=mirror,
        evaluated=dict(data["evaluated"]),
        path=model,
    )
