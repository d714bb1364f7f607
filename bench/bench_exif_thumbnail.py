"""What the EXIF preview check says on every JPEG of the shared data that carries a preview.

For each: the preview's size, the PDQ distance to the picture shrunk to that size, the largest
8x8 block difference, and the outcome (same / turned / differs clearly / differs in one area).
The largest block difference among files whose preview matches is what the local-change
threshold (BLOCK_DIFFERENCE_THRESHOLD) was set above.

Run: .venv/bin/python bench/bench_exif_thumbnail.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from unmask.detectors.exif_thumbnail import BLOCK_DIFFERENCE_THRESHOLD, exif_thumbnail
from unmask.errors import UnmaskError
from unmask.media import open_media

OUTCOMES = (
    ("same picture", "same"),
    ("the picture is the preview", "turned"),
    ("differs clearly", "differs clearly"),
    ("differs in one area", "differs in one area"),
    ("could not be", "unreadable"),
    ("too small", "too small"),
)


def outcome(summary: str) -> str:
    return next((name for words, name in OUTCOMES if words in summary), "other")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    paths = sorted(
        p for p in args.data.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg") and p.is_file()
    )
    counts: Counter[str] = Counter()
    same_blocks: list[float] = []
    started = time.perf_counter()
    for path in paths:
        try:
            media = open_media(path)
        except UnmaskError:
            continue
        finding = exif_thumbnail(media)
        if finding is None:
            counts["no preview"] += 1
            continue
        kind = outcome(finding.summary)
        counts[kind] += 1
        evidence = finding.evidence
        if kind == "same":
            same_blocks.append(evidence["largest_block_difference"])
        if kind != "same":
            print(
                f"{kind:20s} pdq {evidence.get('pdq_distance', '-'):>3} block "
                f"{evidence.get('largest_block_difference', '-'):>6} "
                f"{path.relative_to(args.data)}"
            )
    print(f"{len(paths)} JPEG files in {time.perf_counter() - started:.1f} s: {dict(counts)}")
    if same_blocks:
        print(
            f"largest block difference where the preview matches: {max(same_blocks):.1f} "
            f"(threshold {BLOCK_DIFFERENCE_THRESHOLD})"
        )


if __name__ == "__main__":
    main()
