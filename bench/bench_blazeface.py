"""Face detectors side by side (issue 17, item 3): our MTCNN (ONNX Runtime) against MediaPipe's
BlazeFace, on recall over the photos of `faces/real` in the shared data, and on time per picture.

BlazeFace ships as TFLite files inside the `mediapipe` 0.10.21 wheel (Apache-2.0; see
ENVIRONMENT.md). Nothing is downloaded here: get the wheel once with
`pip download mediapipe==0.10.21 --no-deps -d /tmp/mp` and pass its path with --wheel; the two
face-detection models are read from it, and run with `ai-edge-litert` (in the `train` extra).
The pre- and post-processing are written here from the models' published settings
(mediapipe/modules/face_detection/face_detection_{short,full}_range.pbtxt in the MediaPipe
repository): the picture letterboxed to the model's square input, values in [-1, 1]; SSD anchors
(short range: strides 8, 16, 16, 16 on 128 px, 896 anchors; full range: stride 4 on 192 px, 2,304
anchors); boxes decoded from the anchors, scores through a sigmoid, kept at 0.5 (short) or 0.6
(full), and merged by weighted non-maximum suppression at IoU 0.3.

Recall is counted as bench/bench_faces.py counts MTCNN's: a photo of `faces/real` where at least
one face is found. "agrees" counts photos where the detector's most confident face overlaps
MTCNN's (IoU >= 0.3), so that a hit is a face, not a false alarm. Times are of detection alone
(decoded picture in, boxes out), one thread each, medians.

Usage:  .venv/bin/python bench/bench_blazeface.py --wheel /tmp/mp/mediapipe-0.10.21-*.whl
            [--limit N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from unmask.faces import FaceDetector

DATA = Path(os.environ.get("UNMASK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
REAL = DATA / "faces" / "real"
MODELS = {
    # name: (file in the wheel, input side, anchor strides, anchors per cell, score threshold)
    "blazeface_short": ("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 2, 0.5),
    "blazeface_full": ("face_detection_full_range_sparse.tflite", 192, (4,), 1, 0.6),
}
NMS_IOU = 0.3


def anchors(side: int, strides: tuple[int, ...], per_layer: int) -> np.ndarray:
    """Anchor centres (x, y), normalised, in the order of the model's outputs: layers with the
    same stride share a grid, each cell holding per_layer anchors per layer."""
    centres = []
    layer = 0
    while layer < len(strides):
        stride, repeats = strides[layer], 0
        while layer < len(strides) and strides[layer] == stride:
            repeats += per_layer
            layer += 1
        cells = side // stride
        y, x = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(x + 0.5) / cells, (y + 0.5) / cells], -1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, repeats, axis=1).reshape(-1, 2))
    return np.concatenate(centres).astype(np.float32)


class BlazeFace:
    def __init__(
        self,
        model: bytes,
        side: int,
        strides: tuple[int, ...],
        per: int,
        score: float,
        pad: float = 0.0,
    ):
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_content=model, num_threads=1)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        outputs = sorted(self.interpreter.get_output_details(), key=lambda d: d["shape"][-1])
        self.scores_at, self.boxes_at = outputs[0]["index"], outputs[1]["index"]
        self.side, self.score, self.pad = side, score, pad
        self.anchors = anchors(side, strides, per)

    def detect(self, rgb: np.ndarray) -> list[tuple[float, float, float, float, float]]:
        """(x0, y0, x1, y1, score) in the picture's pixels, best first."""
        height, width = rgb.shape[:2]
        scale = self.side / (max(height, width) * (1 + self.pad))
        w, h = max(1, round(width * scale)), max(1, round(height * scale))
        small = np.asarray(Image.fromarray(rgb).resize((w, h), Image.Resampling.BILINEAR))
        canvas = np.zeros((self.side, self.side, 3), np.float32)
        top, left = (self.side - h) // 2, (self.side - w) // 2
        canvas[top : top + h, left : left + w] = small / 127.5 - 1.0
        self.interpreter.set_tensor(self.input, canvas[None])
        self.interpreter.invoke()
        raw = self.interpreter.get_tensor(self.boxes_at)[0]
        logits = self.interpreter.get_tensor(self.scores_at)[0, :, 0]
        scores = 1 / (1 + np.exp(-np.clip(logits.astype(np.float64), -100, 100)))
        keep = scores >= self.score
        if not keep.any():
            return []
        raw, scores, centres = raw[keep], scores[keep], self.anchors[keep]
        cx = raw[:, 0] / self.side + centres[:, 0]
        cy = raw[:, 1] / self.side + centres[:, 1]
        bw, bh = raw[:, 2] / self.side, raw[:, 3] / self.side
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1) * self.side
        boxes -= [left, top, left, top]  # out of the letterbox, back to the picture
        boxes /= scale
        return weighted_nms(boxes, scores)


def iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], others[:, 0])
    y0 = np.maximum(box[1], others[:, 1])
    x1 = np.minimum(box[2], others[:, 2])
    y1 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray) -> list[tuple[float, ...]]:
    """MediaPipe's WEIGHTED suppression: each kept box is the score-weighted mean of the boxes
    that overlap the best remaining one by more than NMS_IOU."""
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    out = []
    while len(boxes):
        overlap = iou(boxes[0], boxes) > NMS_IOU
        weights = scores[overlap][:, None]
        merged = (boxes[overlap] * weights).sum(0) / weights.sum()
        out.append((*map(float, merged), float(scores[0])))
        boxes, scores = boxes[~overlap], scores[~overlap]
    return out


def read_models(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        names = {Path(n).name: n for n in archive.namelist()}
        return {name: archive.read(names[spec[0]]) for name, spec in MODELS.items()}


def load(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, required=True, help="mediapipe-0.10.21-*.whl")
    parser.add_argument("--limit", type=int, help="only the first N photos (by name)")
    parser.add_argument(
        "--pad",
        type=float,
        default=0.0,
        help="also run BlazeFace with the picture shrunk into a canvas this much larger "
        "(0.5: a margin of a quarter of the picture's side all round), for tight face crops",
    )
    args = parser.parse_args()
    if not REAL.is_dir():
        sys.exit(f"{REAL} not found (set UNMASK_DATA)")
    models = read_models(args.wheel)
    detectors = {
        "mtcnn": FaceDetector(threads=1),
        **{name: BlazeFace(models[name], *MODELS[name][1:]) for name in MODELS},
    }
    if args.pad:
        for name in MODELS:
            detectors[f"{name}_pad{args.pad:g}"] = BlazeFace(
                models[name], *MODELS[name][1:], pad=args.pad
            )
    photos = sorted(REAL.iterdir())[: args.limit]
    found = {name: 0 for name in detectors}
    agrees = {name: 0 for name in detectors}
    times: dict[str, list[float]] = {name: [] for name in detectors}
    sizes = []
    for path in photos:
        rgb = load(path)
        sizes.append(max(rgb.shape[:2]))
        boxes = {}
        for name, detector in detectors.items():
            started = time.process_time()
            faces = detector.detect(rgb)
            times[name].append(time.process_time() - started)
            if name == "mtcnn":
                faces = [(*f.box, f.score) for f in sorted(faces, key=lambda f: -f.score)]
            boxes[name] = faces
            found[name] += bool(faces)
        for name, faces in boxes.items():
            if faces and boxes["mtcnn"]:
                top = np.array(boxes["mtcnn"][0][:4])
                agrees[name] += bool(iou(np.array(faces[0][:4]), top[None])[0] >= 0.3)
    print(
        f"{len(photos)} photos of faces/real (longer side median {statistics.median(sizes)} px), "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    for name in detectors:
        print(
            f"{name:16s} recall {found[name] / len(photos):.4f} ({found[name]}/{len(photos)}), "
            f"top face agrees with MTCNN's {agrees[name]}, CPU ms per photo: median "
            f"{1000 * statistics.median(times[name]):.1f}, "
            f"mean {1000 * statistics.mean(times[name]):.1f}"
        )
    frame = load(REAL / "face_recognition__examples__obama-1080p.jpg")
    for name, detector in detectors.items():
        detector.detect(frame)
        spent = []
        for _ in range(5):
            started = time.process_time()
            detector.detect(frame)
            spent.append(time.process_time() - started)
        print(f"{name:16s} 1920x1080 frame: {1000 * statistics.median(spent):.1f} CPU ms")


if __name__ == "__main__":
    main()
