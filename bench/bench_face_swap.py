"""Face-manipulation classifier speed: our EfficientNet-Lite0 at 224 px against EfficientNet-B4 at
380 px (the network and input size of published SBI detectors), both on ONNX Runtime at batch 1,
measured in the same run.

B4 is built with random weights (only its cost matters here) by `efficientnet-pytorch`'s model
definition and exported to ONNX in a temporary folder; ours is exported the same way from
`unmask.train.model`, or taken from --model.

Usage:  .venv/bin/python bench/bench_face_swap.py [--model runs/face_swap/face_swap.onnx]
Needs `make train-env` and `pip install --no-deps efficientnet-pytorch==0.7.1` (export only).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import unmask  # noqa: F401  (first: switches ONNX Runtime's telemetry off before its import)


def export_b4(path: Path) -> None:
    import torch
    from efficientnet_pytorch import EfficientNet

    net = EfficientNet.from_name("efficientnet-b4", num_classes=1)
    net.set_swish(memory_efficient=False)  # B4 uses swish; the plain one exports to ONNX
    net.eval()
    torch.onnx.export(
        net,
        (torch.zeros(1, 3, 380, 380),),
        str(path),
        opset_version=17,
        input_names=["image"],
        dynamo=False,
    )


def export_ours(path: Path) -> None:
    from unmask.train.model import FaceSwapNet, export_onnx

    export_onnx(FaceSwapNet(pretrained=False), path)


def time_model(path: Path, size: int, threads: int, repeat: int) -> float:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    image = np.random.default_rng(0).uniform(0, 255, (1, 3, size, size)).astype(np.float32)
    session.run(None, {name: image})  # warm-up
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        session.run(None, {name: image})
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="our ONNX file (default: export the network)")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ours = args.model or Path(tmp) / "ours.onnx"
        if args.model is None:
            export_ours(ours)
        b4 = Path(tmp) / "b4.onnx"
        export_b4(b4)
        result = {}
        for threads in (1, 2):
            ours_ms = time_model(ours, 224, threads, args.repeat)
            b4_ms = time_model(b4, 380, threads, max(3, args.repeat // 10))
            result[f"threads_{threads}"] = {
                "ours_lite0_224_ms": round(ours_ms, 2),
                "efficientnet_b4_380_ms": round(b4_ms, 1),
                "speed_ratio": round(b4_ms / ours_ms, 1),
            }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
