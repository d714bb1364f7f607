"""Convert the MTCNN face detector (PNet, RNet, ONet) from PyTorch state dicts to ONNX.

One-off script, kept so the shipped files can be rebuilt and checked. It needs torch, onnx and
onnxruntime, plus the `facenet-pytorch` 2.6.0 wheel installed with `--no-deps` for its weight
files only (`facenet_pytorch` itself is never imported: it imports torchvision)::

    python -m venv /tmp/convert && /tmp/convert/bin/pip install torch==2.13.0 onnx onnxruntime \
        requests tqdm && /tmp/convert/bin/pip install --no-deps facenet-pytorch==2.6.0
    /tmp/convert/bin/python scripts/convert_mtcnn.py

The network definitions below are written from the state-dict keys and shapes and the MTCNN
paper (Zhang et al., IEEE SPL 2016). The weights were ported from the original Caffe models,
whose dense layers expect features flattened in width-height-channel order; hence the
`permute(0, 3, 2, 1)` before each first dense layer.

Inputs of all three networks: RGB, NCHW, float32, `(pixel - 127.5) / 128`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "src" / "unmask" / "models"
OPSET = 17


class PNet(nn.Module):
    """Proposal network: fully convolutional, 12x12 receptive field, stride 2."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, 3)
        self.prelu1 = nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(10, 16, 3)
        self.prelu2 = nn.PReLU(16)
        self.conv3 = nn.Conv2d(16, 32, 3)
        self.prelu3 = nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, 1)
        self.conv4_2 = nn.Conv2d(32, 4, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.prelu2(self.conv2(x))
        x = self.prelu3(self.conv3(x))
        prob = torch.softmax(self.conv4_1(x), dim=1)
        return prob, self.conv4_2(x)


class RNet(nn.Module):
    """Refinement network: 24x24 crops."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 28, 3)
        self.prelu1 = nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(28, 48, 3)
        self.prelu2 = nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(48, 64, 2)
        self.prelu3 = nn.PReLU(64)
        self.dense4 = nn.Linear(576, 128)
        self.prelu4 = nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu3(self.conv3(x))
        x = x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)
        x = self.prelu4(self.dense4(x))
        return torch.softmax(self.dense5_1(x), dim=1), self.dense5_2(x)


class ONet(nn.Module):
    """Output network: 48x48 crops; face probability, box offsets and five landmarks."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3)
        self.prelu1 = nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.prelu2 = nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(64, 64, 3)
        self.prelu3 = nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4 = nn.Conv2d(64, 128, 2)
        self.prelu4 = nn.PReLU(128)
        self.dense5 = nn.Linear(1152, 256)
        self.prelu5 = nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x))
        x = x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)
        x = self.prelu5(self.dense5(x))
        return torch.softmax(self.dense6_1(x), dim=1), self.dense6_2(x), self.dense6_3(x)


# name -> (module class, example input shape, output names, dynamic axes)
NETS: dict[str, tuple[type[nn.Module], tuple[int, ...], list[str], dict[str, dict[int, str]]]] = {
    "pnet": (
        PNet,
        (1, 3, 64, 80),
        ["prob", "reg"],
        {
            "input": {2: "height", 3: "width"},
            "prob": {2: "out_height", 3: "out_width"},
            "reg": {2: "out_height", 3: "out_width"},
        },
    ),
    "rnet": (
        RNet,
        (4, 3, 24, 24),
        ["prob", "reg"],
        {"input": {0: "batch"}, "prob": {0: "batch"}, "reg": {0: "batch"}},
    ),
    "onet": (
        ONet,
        (4, 3, 48, 48),
        ["prob", "reg", "landmarks"],
        {
            "input": {0: "batch"},
            "prob": {0: "batch"},
            "reg": {0: "batch"},
            "landmarks": {0: "batch"},
        },
    ),
}


def weights_dir() -> Path:
    spec = importlib.util.find_spec("facenet_pytorch")
    if spec is None or spec.origin is None:
        sys.exit("facenet-pytorch is not installed: pip install --no-deps facenet-pytorch==2.6.0")
    return Path(spec.origin).parent / "data"


def convert(name: str, out_dir: Path) -> float:
    """Export one network, check it against PyTorch, and return the largest difference."""
    cls, shape, outputs, dynamic = NETS[name]
    net = cls()
    state = torch.load(weights_dir() / f"{name}.pt", map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    net.eval()

    path = out_dir / f"mtcnn_{name}.onnx"
    example = torch.randn(*shape)
    torch.onnx.export(
        net,
        (example,),
        str(path),
        input_names=["input"],
        output_names=outputs,
        dynamic_axes=dynamic,
        opset_version=OPSET,
        dynamo=False,
    )
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    model.producer_name = "unmask scripts/convert_mtcnn.py"
    model.doc_string = (
        f"MTCNN {name.upper()} (Zhang et al. 2016), weights from facenet-pytorch 2.6.0 (MIT). "
        "Input RGB NCHW float32 (x - 127.5) / 128."
    )
    onnx.save(model, str(path))

    # Check on a random input of another size than the one traced.
    rng = np.random.default_rng(0)
    test_shape = (1, 3, 97, 131) if name == "pnet" else (7, *shape[1:])
    x = rng.uniform(-1.0, 1.0, size=test_shape).astype(np.float32)
    with torch.no_grad():
        expected = [t.numpy() for t in net(torch.from_numpy(x))]
    # Read at import: set first so ONNX Runtime sends no telemetry from this script either.
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x})
    diff = max(float(np.abs(e - g).max()) for e, g in zip(expected, got, strict=True))
    print(f"{path.relative_to(REPO)}: {path.stat().st_size} bytes, max abs diff {diff:.2e}")
    return diff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    worst = max(convert(name, args.out) for name in NETS)
    if worst > 1e-4:
        sys.exit(f"ONNX output differs from PyTorch by {worst:.2e}")


if __name__ == "__main__":
    main()
