"""Shipped model weights, loaded by name. Each model has a card (`<family>.md`) beside it.

    >>> from unmask.models import onnx_session
    >>> session = onnx_session("mtcnn_pnet")

Nothing here downloads: a missing file is a broken install and raises `ModelError`.
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path
from typing import TYPE_CHECKING

from unmask.errors import ModelError

if TYPE_CHECKING:
    import onnxruntime  # type: ignore[import-untyped]

DEFAULT_THREADS = 1
"""ONNX Runtime intra-op threads. On a 2-core machine one thread was as fast as two for the
MTCNN networks on 512 px images and leaves the other core to decoding (see mtcnn.md)."""


def model_path(name: str) -> Path:
    """Path of the shipped file `name` (with or without the `.onnx` suffix)."""
    filename = name if "." in name else f"{name}.onnx"
    path = Path(str(importlib.resources.files(__package__).joinpath(filename)))
    if not path.is_file():
        raise ModelError(
            f"model file {filename!r} is missing from {path.parent}",
            hint="reinstall unmask; the model files ship inside the package",
        )
    return path


@functools.lru_cache(maxsize=16)
def onnx_session(name: str, threads: int = DEFAULT_THREADS) -> onnxruntime.InferenceSession:
    """A cached CPU `onnxruntime.InferenceSession` for the shipped model `name`."""
    import onnxruntime as ort

    path = model_path(name)
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
            f"could not load model {path.name}: {exc}",
            hint="the file may be damaged; reinstall unmask",
        ) from exc
