"""Face-cue speed: all within-frame consistency cues of one face (`unmask.detectors.face_cues`)
against finding the faces in the same picture (MTCNN on ONNX Runtime, one thread), which every
scan already pays, measured in the same run on one thread.

Pictures: the bundled example photo (512 px) and a 720p frame made from it (the photo upscaled
onto a 1280 x 720 canvas, so the face is about 2.5 times larger, as in a webcam video).

Usage:  .venv/bin/python bench/bench_face_cues.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

import unmask  # noqa: F401  (first: switches ONNX Runtime's telemetry off before its import)
from unmask.detectors.face_cues import face_cues
from unmask.faces import FaceDetector

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg"


def median_ms(action, repeat: int) -> float:
    action()  # warm-up
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    photo = np.asarray(Image.open(EXAMPLE).convert("RGB"))
    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[:, 280:1000] = cv2.resize(photo, (720, 720), interpolation=cv2.INTER_CUBIC)
    detector = FaceDetector()
    print("| picture | face box | face cues (ms) | face detection (ms) | ratio |")
    print("|---|---|---|---|---|")
    for name, rgb in (("example photo 512 px", photo), ("720p frame", frame)):
        face = max(detector.detect(rgb), key=lambda f: f.size)
        cues = median_ms(partial(face_cues, rgb, face.box, face.landmarks), args.repeat)
        found = median_ms(partial(detector.detect, rgb), args.repeat)
        print(f"| {name} | {face.size:.0f} px | {cues:.1f} | {found:.1f} | {cues / found:.2f} |")


if __name__ == "__main__":
    main()
