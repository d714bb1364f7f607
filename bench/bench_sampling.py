"""Keyframe sampling against exact-time sampling (issue 17, item 1): what decoding costs, what a
whole scan costs against its floor, and what the change does to faces found and to results.

Part 1, one 60 s 1280x720 H.264 clip made here from a real face video of the shared data
(libx264 defaults: a keyframe at least every 250 frames, more at scene cuts), all in one run so
ratios compare like with like (CPU seconds of this process, median of --repeat):
- decode only: the 32 default samples at exact times vs. near keyframes;
- floor: near-keyframe decoding + MTCNN on the sampled frames (nothing else);
- whole scan (`Scanner`, every detector) with --exact-times and with the default.
Part 2, the shared videos (every --stride-th of `videos/`), scanned both ways: sampled frames
with at least one face, and the verdict's label and face probability.

Usage:  .venv/bin/python bench/bench_sampling.py [--repeat 3] [--stride 4]
Needs ../shared/data (or UNMASK_DATA).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

DATA = Path(os.environ.get("UNMASK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SOURCE = DATA / "videos" / "real" / "LivePortrait__assets__examples__driving__d6.mp4"
CLIP_SECONDS = 60
CLIP_SIZE = (1280, 720)


def make_clip(target: Path) -> Path:
    """SOURCE's frames (a person talking, 480x480) looped to 60 s, centred on a 720p canvas."""
    import av
    import numpy as np

    with av.open(str(SOURCE)) as source:
        rate = source.streams.video[0].average_rate or Fraction(30)
        frames = [f.to_ndarray(format="rgb24") for f in source.decode(video=0)]
    width, height = CLIP_SIZE
    with av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        canvas = np.full((height, width, 3), 90, dtype=np.uint8)
        for i in range(int(CLIP_SECONDS * rate)):
            picture = frames[i % len(frames)]
            h, w = picture.shape[:2]
            y, x = (height - h) // 2, (width - w) // 2
            canvas[y : y + h, x : x + w] = picture
            out.mux(stream.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24")))
        out.mux(stream.encode())
    return target


def cpu_s(function: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median CPU seconds (this process, all threads) and median wall seconds of `function`."""
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        function()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu), statistics.median(wall)


def part_clip(clip: Path, repeat: int) -> dict[str, object]:
    from unmask.config import ScanConfig
    from unmask.faces import FaceDetector
    from unmask.media import open_media
    from unmask.scan import Scanner

    detector = FaceDetector()
    exact_scanner = Scanner(ScanConfig(exact_times=True))
    scanner = Scanner(ScanConfig())
    scanner.scan(clip)  # load every model outside the timings
    exact_scanner.scan(clip)

    def floor() -> None:
        for frame in open_media(clip, near_keyframes=True).frames:
            detector.detect(frame.rgb)

    cases = {
        "decode_exact": lambda: open_media(clip),
        "decode_near_keyframes": lambda: open_media(clip, near_keyframes=True),
        "floor_near_keyframes_decode_plus_mtcnn": floor,
        "scan_exact_times": lambda: exact_scanner.scan(clip),
        "scan_default_near_keyframes": lambda: scanner.scan(clip),
    }
    timings = {name: cpu_s(case, repeat) for name, case in cases.items()}
    media = open_media(clip, n_frames=1)
    keyed = open_media(clip, near_keyframes=True)
    seconds = media.duration_s or CLIP_SECONDS
    assert media.video_container is not None
    out: dict[str, object] = {
        "clip": f"{clip.name}: {seconds:.1f} s {media.width}x{media.height} "
        f"{media.video_container.video_codec}, {media.frame_count} frames",
        "samples_near_keyframes": len(keyed.frames),
        **{f"{name}_cpu_s": round(c, 2) for name, (c, _) in timings.items()},
        **{f"{name}_wall_s": round(w, 2) for name, (_, w) in timings.items()},
    }
    base = timings["decode_exact"][0]
    out["decode_ratio_exact_to_keyframes"] = round(base / timings["decode_near_keyframes"][0], 1)
    scan = timings["scan_default_near_keyframes"]
    out["scan_ratio_to_floor_cpu"] = round(
        scan[0] / timings["floor_near_keyframes_decode_plus_mtcnn"][0], 2
    )
    out["scan_ratio_exact_to_default_cpu"] = round(timings["scan_exact_times"][0] / scan[0], 2)
    out["video_s_per_cpu_s_default"] = round(seconds / scan[0], 1)
    out["video_s_per_wall_s_default"] = round(seconds / scan[1], 1)
    return out


def part_shared(stride: int) -> dict[str, object]:
    from unmask.config import ScanConfig
    from unmask.scan import Scanner

    videos = sorted((DATA / "videos").glob("*/*.mp4"))[::stride]
    exact, near = Scanner(ScanConfig(exact_times=True)), Scanner(ScanConfig())
    rows = []
    for path in videos:
        (a, cpu_a), (b, cpu_b) = _timed(exact.scan, path), _timed(near.scan, path)
        if not (a.ok and b.ok):
            continue
        rows.append(
            {
                "video": path.name,
                "same_frames": a.media.sample_times_s == b.media.sample_times_s,
                "frames": (a.media.frames_sampled, b.media.frames_sampled),
                "face_frames": (_face_frames(a), _face_frames(b)),
                "tracks": (len(a.faces), len(b.faces)),
                "label": (a.verdict.label, b.verdict.label),
                "probability": (a.verdict.probability, b.verdict.probability),
                "cpu_s": (cpu_a, cpu_b),
            }
        )
    changed = [r for r in rows if not r["same_frames"]]
    deltas = [
        abs(r["probability"][0] - r["probability"][1]) for r in rows if None not in r["probability"]
    ]
    return {
        "videos": len(rows),
        "videos_with_other_frames": len(changed),
        "face_frame_share_exact": _share(rows, 0),
        "face_frame_share_near_keyframes": _share(rows, 1),
        "labels_changed": sum(r["label"][0] != r["label"][1] for r in rows),
        "probability_abs_change_mean": round(statistics.mean(deltas), 4) if deltas else None,
        "probability_abs_change_max": round(max(deltas), 4) if deltas else None,
        "tracks_changed": sum(r["tracks"][0] != r["tracks"][1] for r in rows),
        "cpu_s_sum_exact": round(sum(r["cpu_s"][0] for r in rows), 1),
        "cpu_s_sum_near_keyframes": round(sum(r["cpu_s"][1] for r in rows), 1),
        "cpu_s_sum_exact_where_frames_differ": round(sum(r["cpu_s"][0] for r in changed), 1),
        "cpu_s_sum_near_keyframes_where_frames_differ": round(
            sum(r["cpu_s"][1] for r in changed), 1
        ),
        "changed": changed,
    }


def _timed(scan: Callable[[Path], object], path: Path) -> tuple:  # type: ignore[type-arg]
    start = time.process_time()
    result = scan(path)
    return result, round(time.process_time() - start, 2)


def _face_frames(result) -> int:  # type: ignore[no-untyped-def]
    return len({d.frame_index for track in result.faces for d in track.detections})


def _share(rows: list[dict], side: int) -> float:
    faces = sum(r["face_frames"][side] for r in rows)
    frames = sum(r["frames"][side] for r in rows)
    return round(faces / frames, 4) if frames else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stride", type=int, default=4, help="every Nth shared video")
    parser.add_argument("--skip-shared", action="store_true")
    parser.add_argument("--skip-clip", action="store_true")
    parser.add_argument("--video", type=Path, help="time this video instead of the made clip")
    args = parser.parse_args()
    if not SOURCE.exists():
        sys.exit(f"shared data not found at {DATA}; set UNMASK_DATA")
    result: dict[str, object] = {"cpu_count": os.cpu_count()}
    if args.video is not None:
        result["clip"] = part_clip(args.video, args.repeat)
    elif not args.skip_clip:
        with tempfile.TemporaryDirectory() as tmp:
            result["clip"] = part_clip(make_clip(Path(tmp) / "clip60.mp4"), args.repeat)
    if "clip" in result:
        print(json.dumps(result, indent=2), flush=True)
    if not args.skip_shared:
        print(json.dumps({"shared_videos": part_shared(args.stride)}, indent=2, default=str))


if __name__ == "__main__":
    main()
