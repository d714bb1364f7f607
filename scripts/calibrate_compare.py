"""Calibrate `unmask compare`: the thresholds in unmask/compare/change.py and the inlier count in
unmask/compare/register.py.

Controls are originals against their own degraded copies (unmask.compare.controls: JPEG q70,
H.264 CRF 35, scale 0.75, crop 3 % per side, mirror, trim 1 s, another frame rate, letterbox,
colour grading). Each measure's threshold is the largest value it reached on any control, times
`MARGIN`; for a video the value is its second-highest frame, because a video region must differ
in at least two sampled frames to be reported (unmask.compare.faces.MIN_FRAMES), so a control
stays quiet as long as no two of its frames exceed the threshold. Unrelated pairs give the most
RANSAC inliers a chance fit reaches.

Calibration media are kept apart from what bench/bench_compare.py evaluates: still photos with
an even position in the sorted list of faces/real (the benchmark uses odd positions) and the
real videos that are not DeepFaceLive halves (the benchmark uses those halves).

    .venv/bin/python scripts/calibrate_compare.py --data ../shared/data --photos 30 --videos 12
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from pathlib import Path

import numpy as np

from unmask.compare import change, controls, engine, register
from unmask.compare.faces import MIN_FRAMES
from unmask.compare.footage import load_original, load_suspect
from unmask.errors import UnmaskError

MARGIN = 1.2
"""Thresholds are the controls' largest value times this."""
VIDEO_SECONDS = 5.0
"""Calibration videos are cut to their first seconds (time on 2 cores)."""


def calibration_photos(data: Path, count: int) -> list[Path]:
    photos = sorted((data / "faces" / "real").glob("*.jp*g"))
    return photos[::2][: count * 3 : 3]


def calibration_videos(data: Path, count: int) -> list[Path]:
    videos = sorted(
        p for p in (data / "videos" / "real").glob("*.mp4") if "__left_original" not in p.name
    )
    return videos[:count]


def peaks(suspect: Path, original: Path) -> tuple[float, float, int, int] | None:
    """(structure peak, colour peak, aligned frames, sampled frames) with thresholds off; for a
    video each peak is the second-highest over its frames (see the module docstring)."""
    try:
        s, o = load_suspect(suspect), load_original(original)
    except UnmaskError as exc:
        print(f"  skipped {suspect.name}: {exc.message}")
        return None
    result = engine.compare_footage(s, o, keep_maps=True)
    pairs = result.maps.pairs if result.maps is not None else []
    if not pairs:
        return 0.0, 0.0, 0, len(s.frames)
    rank = min(MIN_FRAMES, len(pairs))
    return (
        sorted(p.change.structure_peak for p in pairs)[-rank],
        sorted(p.change.colour_peak for p in pairs)[-rank],
        len(pairs),
        len(s.frames),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--photos", type=int, default=30)
    parser.add_argument("--videos", type=int, default=12)
    parser.add_argument("--out", type=Path, default=Path("runs/compare/calibration.json"))
    args = parser.parse_args()

    # Thresholds off: every control frame counts as aligned and its raw peaks are read.
    change.STRUCTURE_THRESHOLD = change.COLOUR_THRESHOLD = 1e9
    rows: list[dict] = []
    work = Path(tempfile.mkdtemp(prefix="unmask-calibrate-"))
    for photo in calibration_photos(args.data, args.photos):
        rgb = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(photo).convert("RGB"))
        for kind in controls.STILL_CONTROLS:
            copy = work / f"{photo.stem}-{kind}.jpg"
            copy.write_bytes(controls.still_control(rgb, kind))
            found = peaks(copy, photo)
            if found:
                rows.append({"media": "still", "file": photo.name, "control": kind, **_row(found)})
                print(rows[-1])
    for video in calibration_videos(args.data, args.videos):
        for kind in controls.VIDEO_CONTROLS:
            copy = work / f"{video.stem}-{kind}.mp4"
            try:
                controls.video_control(video, copy, kind, max_seconds=VIDEO_SECONDS)
            except UnmaskError as exc:
                print(f"  skipped {video.name}: {exc.message}")
                break
            cut = work / f"{video.stem}-original.mp4"
            if not cut.exists():
                controls.video_control(video, cut, "same", max_seconds=VIDEO_SECONDS + 1.0)
            found = peaks(copy, cut)
            if found:
                rows.append({"media": "video", "file": video.name, "control": kind, **_row(found)})
                print(rows[-1])
            copy.unlink()

    register.MIN_INLIERS, register.MIN_SPREAD = 4, 0.0
    unrelated = []
    photos = calibration_photos(args.data, args.photos)
    for a, b in itertools.pairwise(photos):
        s, o = load_suspect(a), load_original(b)
        f = register.register(
            register.features(s.frames[0].rgb),
            register.features(o.frames[0].rgb),
            register.features(np.ascontiguousarray(o.frames[0].rgb[:, ::-1])),
        )
        unrelated.append(f.inliers if f else 0)

    structure = max(r["structure_peak"] for r in rows)
    colour = max(r["colour_peak"] for r in rows)
    summary = {
        "controls": len(rows),
        "structure_max": structure,
        "colour_max": colour,
        "structure_threshold": round(structure * MARGIN, 3),
        "colour_threshold": round(colour * MARGIN, 1),
        "unrelated_max_inliers": max(unrelated) if unrelated else None,
        "unaligned_controls": [r for r in rows if r["aligned"] < r["sampled"]],
        "by_control": {
            kind: {
                "structure_max": max(r["structure_peak"] for r in rows if r["control"] == kind),
                "colour_max": max(r["colour_peak"] for r in rows if r["control"] == kind),
            }
            for kind in dict.fromkeys(r["control"] for r in rows)
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))
    print(json.dumps(summary, indent=1))


def _row(found: tuple[float, float, int, int]) -> dict:
    return {
        "structure_peak": round(found[0], 4),
        "colour_peak": round(found[1], 2),
        "aligned": found[2],
        "sampled": found[3],
    }


if __name__ == "__main__":
    main()
