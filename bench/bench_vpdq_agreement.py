"""vPDQ agreement with Meta's `vpdq` on the shared videos, one per distinct frame rate: the
share of our frame hashes that match the reference's hash of the same file (and the other way
round), for this version's frame selection and for 0.1's (the frame nearest each whole second,
through the media loader), with hashing time. Needs the `interop` extra (vpdq).
Run: .venv/bin/python bench/bench_vpdq_agreement.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import av
import vpdq

from unmask.hashing import VpdqFrame, hash_file, pdq, vpdq_match_percent
from unmask.media import open_media


def old_selection(path: Path) -> list[VpdqFrame]:
    """0.1: one frame a second, the frame nearest each whole second (the media sampler)."""
    frames: list[VpdqFrame] = []
    open_media(
        path,
        fps=1.0,
        on_frame=lambda f: frames.append(VpdqFrame(*pdq(f.rgb), round(f.time_s, 3))),
    )
    return frames


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = ap.parse_args()
    by_rate: dict[str, Path] = {}
    for path in sorted((args.data / "videos").glob("*/*.mp4")):
        with av.open(str(path)) as container:
            by_rate.setdefault(str(container.streams.video[0].average_rate), path)
    print(
        "| fps | video | frames | ours vs vpdq (query/compared %) | 0.1 vs vpdq | ours s | vpdq s |"
    )
    print("|---|---|---|---|---|---|---|")
    for path in by_rate.values():
        t = time.perf_counter()
        ours = hash_file(path).vpdq
        ours_s = time.perf_counter() - t
        t = time.perf_counter()
        ref = [
            VpdqFrame(f.hex, f.quality, f.timestamp)
            for f in vpdq.computeHash(str(path), seconds_per_hash=1)
        ]
        ref_s = time.perf_counter() - t
        q, c = vpdq_match_percent(ours, ref)
        oq, oc = vpdq_match_percent(old_selection(path), ref)
        fps = float(av.open(str(path)).streams.video[0].average_rate)
        print(
            f"| {fps:.2f} | {path.name[:40]} | {len(ours)} | {q:.0f} / {c:.0f} | "
            f"{oq:.0f} / {oc:.0f} | {ours_s:.1f} | {ref_s:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
