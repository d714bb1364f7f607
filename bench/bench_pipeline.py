"""Pipeline speed and memory: decode + face detection per 1080p photo, video seconds scanned per
wall-clock second at the default sampling, and peak memory.

Each figure is reported beside a baseline measured in the same run, so ratios hold across
machines:
- photo: Pillow decode alone (the floor any pipeline pays) vs. open_media + face detection;
- video: decoding *every* frame with PyAV (what a naive scanner does) vs. unmask's sampled
  decoding of 32 frames + face detection on each.
Peak memory (max RSS) is measured in a fresh subprocess per case.

Usage:  .venv/bin/python bench/bench_pipeline.py [--repeat 5]
Needs ../shared/data (or UNMASK_DATA) for real photos and a real 720p video.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(os.environ.get("UNMASK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
VIDEO_720P = DATA / "hashes" / "TE__tmk__sample-videos__doorknob-hd-no-bar.mp4"


def make_1080p_photos(folder: Path, count: int) -> list[Path]:
    """Real portraits from the shared data, scaled to fill 1920x1080 and saved as JPEG q90."""
    from PIL import Image

    sources = (
        sorted((DATA / "faces" / "real").glob("Unsplash*"))[:count]
        or sorted((DATA / "faces" / "real").glob("*.jpg"))[:count]
    )
    photos = []
    for i, source in enumerate(sources):
        image = Image.open(source).convert("RGB")
        scale = 1080 / image.height
        image = image.resize((round(image.width * scale), 1080))
        canvas = Image.new("RGB", (1920, 1080), (90, 90, 90))
        canvas.paste(image, ((1920 - image.width) // 2, 0))
        target = folder / f"photo{i}.jpg"
        canvas.save(target, quality=90)
        photos.append(target)
    return photos


def time_photo(paths: list[Path], repeat: int) -> dict[str, float]:
    from PIL import Image

    from unmask.faces import FaceDetector
    from unmask.media import open_media

    detector = FaceDetector()
    detector.detect(open_media(paths[0]).frames[0].rgb)  # load the models outside the timing

    def decode_only(path: Path) -> None:
        with Image.open(io.BytesIO(path.read_bytes())) as image:
            image.convert("RGB").load()

    def pipeline(path: Path) -> None:
        detector.detect(open_media(path).frames[0].rgb)

    return {
        "baseline_decode_ms": _median_ms(decode_only, paths, repeat),
        "decode_and_faces_ms": _median_ms(pipeline, paths, repeat),
    }


def time_video(repeat: int) -> dict[str, float]:
    import av

    from unmask.faces import FaceDetector
    from unmask.media import open_media

    detector = FaceDetector()
    duration = open_media(VIDEO_720P, n_frames=1).duration_s or 0.0

    def decode_all(path: Path) -> None:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                frame.to_ndarray(format="rgb24")

    def pipeline(path: Path) -> None:
        for frame in open_media(path).frames:
            detector.detect(frame.rgb)

    baseline = _median_ms(decode_all, [VIDEO_720P], repeat) / 1000
    ours = _median_ms(pipeline, [VIDEO_720P], repeat) / 1000
    return {
        "video_seconds": duration,
        "baseline_decode_every_frame_s": baseline,
        "sampled_decode_and_faces_s": ours,
        "video_seconds_per_wall_second": duration / ours,
    }


def _median_ms(function, paths: list[Path], repeat: int) -> float:  # type: ignore[no-untyped-def]
    timings = []
    for _ in range(repeat):
        for path in paths:
            start = time.perf_counter()
            function(path)
            timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def peak_memory_mb(path: Path) -> float:
    """Peak resident memory (MiB) of a fresh interpreter that runs one case once."""
    code = (
        "import re\n"
        "from unmask.faces import FaceDetector\n"
        "from unmask.media import open_media\n"
        "d = FaceDetector()\n"
        f"m = open_media({str(path)!r})\n"
        "[d.detect(f.rgb) for f in m.frames]\n"
        # VmHWM, the resident high-water mark of this process (ru_maxrss survives exec).
        "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--photos", type=int, default=10)
    args = parser.parse_args()
    if not VIDEO_720P.exists():
        sys.exit(f"shared data not found at {DATA}; set UNMASK_DATA")
    with tempfile.TemporaryDirectory() as tmp:
        photos = make_1080p_photos(Path(tmp), args.photos)
        photo = time_photo(photos, args.repeat)
        video = time_video(args.repeat)
        memory = {
            "peak_rss_mb_1080p_photo": peak_memory_mb(photos[0]),
            "peak_rss_mb_720p_video_32_frames": peak_memory_mb(VIDEO_720P),
        }
    result = {
        "cpu_count": os.cpu_count(),
        **{k: round(v, 2) for k, v in {**photo, **video, **memory}.items()},
        "photo_ratio_to_decode": round(
            photo["decode_and_faces_ms"] / photo["baseline_decode_ms"], 2
        ),
        "video_speedup_vs_decode_every_frame": round(
            video["baseline_decode_every_frame_s"] / video["sampled_decode_and_faces_s"], 2
        ),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
