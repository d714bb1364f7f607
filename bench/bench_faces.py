"""Face detector: recall on the real photos of shared/data and time per picture.

    .venv/bin/python bench/bench_faces.py            # speed only (about a minute)
    .venv/bin/python bench/bench_faces.py --recall   # plus recall over faces/real

Speed is measured on real photos resized to 512 px (longer side) and on real 1920x1080
frames, after one warm-up run, as the median of several runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image

from unmask.faces import FaceDetector

DATA = Path(os.environ.get("UNMASK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
REAL = DATA / "faces" / "real"
PHOTOS_512 = [
    "deepface__tests__unit__dataset__img1.jpg",
    "deepface__tests__unit__dataset__couple.jpg",
    "deepface__tests__unit__dataset__selfie-many-people.jpg",
    "facenet-pytorch__data__multiface.jpg",
]
FRAMES_1080P = [
    "face_recognition__examples__obama-1080p.jpg",
    "SimSwap__demo_file__multi_people.jpg",
]


def load(name: str, longer_side: int | None = None) -> np.ndarray:
    image = Image.open(REAL / name).convert("RGB")
    if longer_side is not None:
        image.thumbnail((longer_side, longer_side), Image.Resampling.LANCZOS)
    return np.asarray(image)


def ms_per_picture(detector: FaceDetector, pictures: list[np.ndarray], repeat: int = 5) -> float:
    times = []
    for rgb in pictures:
        detector.detect(rgb)
        for _ in range(repeat):
            started = time.perf_counter()
            detector.detect(rgb)
            times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def speed() -> None:
    small = [load(name, 512) for name in PHOTOS_512]
    full_hd = [load(name) for name in FRAMES_1080P]
    assert all(rgb.shape[:2] == (1080, 1920) for rgb in full_hd)
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    for threads in (1, 2):
        detector = FaceDetector(threads=threads)
        print(
            f"threads={threads} max_side={detector.max_side}: "
            f"512 px {ms_per_picture(detector, small):.0f} ms, "
            f"1080p {ms_per_picture(detector, full_hd):.0f} ms"
        )
    for max_side in (960, 1920):
        detector = FaceDetector(max_side=max_side)
        print(f"threads=1 max_side={max_side}: 1080p {ms_per_picture(detector, full_hd):.0f} ms")


def recall() -> None:
    detector = FaceDetector()
    photos = sorted(REAL.iterdir())
    started = time.perf_counter()
    missed = [p.name for p in photos if not detector.detect(load(p.name))]
    elapsed = time.perf_counter() - started
    found = len(photos) - len(missed)
    print(
        f"recall {found / len(photos):.4f} ({found}/{len(photos)}) in {elapsed:.0f} s "
        f"({1000 * elapsed / len(photos):.0f} ms per photo, decoding included)"
    )
    for name in missed:
        print(f"  missed {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recall", action="store_true", help="also measure recall on faces/real")
    args = parser.parse_args()
    if not REAL.is_dir():
        raise SystemExit(f"{REAL} not found (set UNMASK_DATA)")
    speed()
    if args.recall:
        recall()


if __name__ == "__main__":
    main()
