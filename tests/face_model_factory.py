"""A stand-in face-manipulation model with the shipped model's contract, built with onnx.

It scores colour, not manipulation: logit = (mean red - mean blue) / 10 over the crop (RGB in
0-255), and the heatmap is sigmoid of that difference averaged over each 32 x 32 cell. So a
reddish face is "manipulated", a bluish one is not, and the tests can compute the expected
numbers themselves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CARD: dict[str, Any] = {
    "name": "face_swap",
    "version": "test-colour",
    "input_size": 224,
    "crop_margin": 0.2,
    "temperature": 1.0,
    "threshold": 0.7,
    "inconclusive_band": [0.4, 0.7],
    "evaluated": {
        "false_positive_rate": 0.031,
        "false_positive_data": "the test's unmanipulated faces",
        "summary": "a colour test, not a detector.",
    },
    "covers": "Reddish faces (a test model).",
    "does_not_cover": ["fully generated faces", "talking-head animation of a still photo"],
}


def expected_logit(crop: np.ndarray) -> float:
    """What the stand-in model returns for one H x W x 3 uint8 crop."""
    rgb = crop.astype(np.float64)
    return float((rgb[..., 0].mean() - rgb[..., 2].mean()) / 10)


def write_model(folder: Path, card: dict[str, Any] | None = None) -> Path:
    """face_swap.onnx with its face_swap.json card in `folder`; returns the .onnx path."""
    folder.mkdir(parents=True, exist_ok=True)
    weight = np.array([1, 0, -1], dtype=np.float32).reshape(1, 3, 1, 1) / 10
    nodes = [
        helper.make_node("Conv", ["image", "w"], ["diff"]),  # N x 1 x 224 x 224
        helper.make_node("ReduceMean", ["diff"], ["logit"], axes=[1, 2, 3], keepdims=0),
        helper.make_node(
            "AveragePool", ["diff"], ["cells"], kernel_shape=[32, 32], strides=[32, 32]
        ),
        helper.make_node("Sigmoid", ["cells"], ["squashed"]),
        helper.make_node("Reshape", ["squashed", "shape"], ["heatmap"]),
    ]
    graph = helper.make_graph(
        nodes,
        "colour",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 3, 224, 224])],
        [
            helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["n"]),
            helper.make_tensor_value_info("heatmap", TensorProto.FLOAT, ["n", 7, 7]),
        ],
        initializer=[
            numpy_helper.from_array(weight, "w"),
            numpy_helper.from_array(np.array([-1, 7, 7], dtype=np.int64), "shape"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = folder / "face_swap.onnx"
    onnx.save(model, path)
    path.with_suffix(".json").write_text(json.dumps(card or CARD), encoding="utf-8")
    return path
