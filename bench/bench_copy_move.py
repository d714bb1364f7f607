"""How well copy-move detection finds copied regions, and how often it raises a false alarm.

Three sets, all read from the shared data folder:

- Coverage (Wen et al., "COVERAGE - a novel database for copy-move forgery detection",
  ICIP 2016): copy-move forgeries whose scenes also hold similar genuine objects, with masks of
  the copied (`*copy.tif`) and pasted (`*paste.tif`) regions. The hardest public set for this.
- Clones made here: for each photo in `hashes/` (LabelMe scenes and other ThreatExchange test
  pictures) a square of 1/4 of the shorter side is copied to another place, shifted only, then
  rotated 15 degrees and scaled 1.1, saved as JPEG quality 85 (seeded, so the same each run).
- False alarms: every picture of `faces/real` (photos of people, no cloning known), decoded as
  the scanner decodes them.

Per image the boxes found (source and copy) are compared with the mask of both regions: pixel
precision = share of boxed pixels inside the mask, recall = share of mask pixels boxed. A
detection "hits" when its boxes cover at least 20 % of the mask and half of their pixels are in
it. For each threshold on matched pairs the table shows images with a finding, hits, mean
precision and recall over all forged images (0 for missed ones), and the false-alarm rate.

Run: nice -n 10 .venv/bin/python bench/bench_copy_move.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import numpy as np
from PIL import Image

from unmask.detectors.copy_move import MIN_PAIRS, CopiedRegion, find_copied_regions

FLOOR = 6
"""Regions are searched down to this many pairs once, then thresholds are applied afterwards."""
THRESHOLDS = (6, 8, 10, 12, 14, 16, 20, 25, 30)


def load_rgb(path: Path) -> np.ndarray:
    from unmask.media import open_media

    return open_media(path).frames[0].rgb


def boxes_mask(regions: list[CopiedRegion], shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    for region in regions:
        for x0, y0, x1, y1 in (region.one_end, region.other_end):
            mask[y0:y1, x0:x1] = True
    return mask


def score(regions: list[CopiedRegion], truth: np.ndarray) -> tuple[float, float]:
    found = boxes_mask(regions, truth.shape)
    overlap = float((found & truth).sum())
    precision = overlap / found.sum() if found.any() else 0.0
    recall = overlap / max(1.0, float(truth.sum()))
    return precision, recall


def coverage(data: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    folder = data / "forensics"
    samples = []
    for image in sorted(folder.glob("*Coverage__image__*t.tif")):
        number = image.stem.rsplit("__", 1)[1][:-1]
        prefix = "HiFi_IFDL__data_dir__Coverage__mask__"
        masks = [folder / f"{prefix}{number}{part}.tif" for part in ("copy", "paste")]
        if not all(m.is_file() for m in masks):
            continue
        truth = np.zeros(Image.open(masks[0]).size[::-1], dtype=bool)
        for m in masks:
            truth |= np.asarray(Image.open(m).convert("L")) > 127
        samples.append((image.name, load_rgb(image), truth))
    return samples


def made_clones(data: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    samples = []
    folders = ("forensics", "generated/real_counterparts", "hashes")
    pictures = [p for f in folders for p in sorted((data / f).iterdir()) if p.is_file()]
    for path in pictures:
        if "mask" in path.name or path.suffix.lower() not in (".jpg", ".png", ".tif"):
            continue
        if "Coverage" in path.name or ("hashes" in str(path) and "aaa-orig" not in path.name):
            continue  # Coverage is measured as it is; other hashes files are 256 px or edits
        rgb = load_rgb(path)
        h, w = rgb.shape[:2]
        if min(h, w) < 200:
            continue
        side = min(h, w) // 4
        for kind in ("shift", "rotate+scale"):
            y0, x0 = rng.integers(0, h - side), rng.integers(0, w - side)
            for _ in range(50):  # a target that does not overlap the source
                y1, x1 = rng.integers(0, h - side), rng.integers(0, w - side)
                if abs(int(y1) - int(y0)) > side or abs(int(x1) - int(x0)) > side:
                    break
            patch = Image.fromarray(rgb[y0 : y0 + side, x0 : x0 + side])
            if kind != "shift":
                patch = patch.rotate(15, resample=Image.Resampling.BICUBIC)
                big = round(side * 1.1)
                patch = patch.resize((big, big), Image.Resampling.BICUBIC)
                c = (big - side) // 2
                patch = patch.crop((c, c, c + side, c + side))
            # Only the middle of a rotated patch (a circle) is pasted: no black corners.
            yy, xx = np.mgrid[:side, :side]
            disc = (yy - side / 2) ** 2 + (xx - side / 2) ** 2 < (side / 2 - 2) ** 2
            forged = rgb.copy()
            target = forged[y1 : y1 + side, x1 : x1 + side]
            target[disc] = np.asarray(patch)[disc]
            buffer = io.BytesIO()
            Image.fromarray(forged).save(buffer, "JPEG", quality=85)
            forged = np.asarray(Image.open(buffer).convert("RGB"))
            truth = np.zeros((h, w), dtype=bool)
            truth[y0 : y0 + side, x0 : x0 + side] |= disc
            truth[y1 : y1 + side, x1 : x1 + side] |= disc
            samples.append((f"{path.name} ({kind})", forged, truth))
    return samples


def evaluate(name: str, samples: list[tuple[str, np.ndarray, np.ndarray]], verbose: bool) -> dict:
    results = []
    for label, rgb, truth in samples:
        regions = find_copied_regions(rgb, min_pairs=FLOOR)
        results.append((regions, truth))
        if verbose:
            top = regions[0].pairs if regions else 0
            p, r = score(regions, truth)
            print(f"  {label[-60:]:60s} top pairs {top:4d}  precision {p:.2f} recall {r:.2f}")
    table = {}
    for threshold in THRESHOLDS:
        kept = [([g for g in regions if g.pairs >= threshold], truth) for regions, truth in results]
        scores = [score(regions, truth) if regions else (0.0, 0.0) for regions, truth in kept]
        flagged = sum(1 for regions, _ in kept if regions)
        hits = sum(1 for (p, r) in scores if r >= 0.2 and p >= 0.5)
        table[threshold] = (
            flagged,
            hits,
            float(np.mean([s[0] for s in scores])),
            float(np.mean([s[1] for s in scores])),
        )
    print(f"{name}: {len(samples)} forged images")
    return table


def false_alarms(data: Path, limit: int | None) -> tuple[list[int], float]:
    from unmask.errors import UnmaskError

    tops: list[int] = []
    paths = sorted(p for p in (data / "faces" / "real").iterdir() if p.is_file())[:limit]
    seconds = 0.0
    for path in paths:
        try:
            rgb = load_rgb(path)
        except UnmaskError:
            continue
        started = time.perf_counter()
        regions = find_copied_regions(rgb, min_pairs=FLOOR)
        seconds += time.perf_counter() - started
        tops.append(regions[0].pairs if regions else 0)
    return tops, seconds / max(1, len(tops))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--real-limit", type=int, default=None, help="first N faces/real only")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    tables = {
        "Coverage": evaluate("Coverage", coverage(args.data), args.verbose),
        "made clones": evaluate("made clones", made_clones(args.data), args.verbose),
    }
    tops, seconds = false_alarms(args.data, args.real_limit)
    print(f"faces/real: {len(tops)} photos, {seconds * 1000:.0f} ms per photo (analysis alone)")
    print()
    header = (
        "pairs | "
        + " | ".join(f"{name}: flagged, hits, precision, recall" for name in tables)
        + " | faces/real false alarms"
    )
    print(header)
    for threshold in THRESHOLDS:
        cells = []
        for table in tables.values():
            flagged, hits, precision, recall = table[threshold]
            cells.append(f"{flagged}, {hits}, {precision:.2f}, {recall:.2f}")
        alarms = sum(1 for t in tops if t >= threshold)
        mark = " (default)" if threshold == MIN_PAIRS else ""
        print(
            f"{threshold}{mark} | "
            + " | ".join(cells)
            + f" | {alarms} ({alarms / max(1, len(tops)):.1%})"
        )


if __name__ == "__main__":
    main()
