"""The second face detector's cost per face (`unmask.faces.confirm`: OpenCV's Haar cascades on
the region around an MTCNN box) against the face detector itself and one pass of the face
network on the same face, measured in the same run on one thread.

Usage:  .venv/bin/python bench/bench_face_confirm.py --model runs/face_swap/face_swap.onnx
        (without --model the network is left out)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from bench_face_cues import EXAMPLE, median_ms  # the same portrait and timing as that bench
from PIL import Image

import unmask  # noqa: F401  (first: switches ONNX Runtime's telemetry off before its import)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a face_swap.onnx to time one pass of")
    parser.add_argument("--image", type=Path, default=EXAMPLE)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    import cv2

    cv2.setNumThreads(1)
    from unmask.faces import FaceDetector, crop_face
    from unmask.faces.confirm import confirms_face

    rgb = np.asarray(Image.open(args.image).convert("RGB"))
    detector = FaceDetector(threads=1)
    faces = detector.detect(rgb)
    if not faces:
        sys.exit(f"no face found in {args.image}")
    box = faces[0].box
    result: dict[str, object] = {
        "image": args.image.name,
        "face_px": round(faces[0].size, 1),
        "mtcnn_whole_picture_ms": round(median_ms(lambda: detector.detect(rgb), args.repeat), 2),
        "confirm_per_face_ms": round(median_ms(lambda: confirms_face(rgb, box), args.repeat), 2),
    }
    if args.model:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            str(args.model), options, providers=["CPUExecutionProvider"]
        )
        crop = crop_face(rgb, box, 0.2, 224).transpose(2, 0, 1)[None].astype(np.float32)
        network = median_ms(lambda: session.run(None, {"image": crop}), args.repeat)
        result["network_pass_ms"] = round(network, 2)
        result["confirm_over_network_pass"] = round(
            float(result["confirm_per_face_ms"]) / network,  # type: ignore[arg-type]
            3,
        )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
