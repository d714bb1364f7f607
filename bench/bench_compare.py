"""`unmask compare` against the issue's targets, on the shared data.

- swaps: every DeepFaceLive swap half against its own original half (three are different
  shots and must come out `no_common_source`, see the data README), and still pairs made from
  faces/real photos (odd positions of the sorted list; calibration used even ones): another
  photo's face pasted onto the face and blended. Counted as found when `altered` with a face
  region over the swapped face.
- controls: DeepFaceLive originals and photos against their own degraded copies (H.264 CRF 35,
  JPEG q70, scale 0.75, trim 1 s, crop 3 % per side, mirror, other frame rate, letterbox,
  colour grading): every one must be `same_content`.
- unrelated: each swap against another person's original: never `altered`.
- speed: the default `unmask scan` of a swap video against `unmask compare` of the pair, in
  the same process and run (the ratio is the figure; models are loaded before timing).

    .venv/bin/python bench/bench_compare.py --control-videos 12 --photos 40
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

DATA = Path(os.environ.get("UNMASK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
DIFFERENT_SHOTS = ("Dean_Wiesel_2", "Nicola_Badge_2", "insight_faceswap_example")


def swap_pairs() -> list[tuple[Path, Path]]:
    pairs = []
    for swap in sorted((DATA / "videos" / "fake").glob("DeepFaceLive*__right_swap.mp4")):
        original = DATA / "videos" / "real" / swap.name.replace("right_swap", "left_original")
        if original.exists():
            pairs.append((swap, original))
    return pairs


def person(path: Path) -> str:
    parts = path.name.split("__")
    return parts[3] if len(parts) > 4 else parts[2]


def iou(a: list[float], b: list[float]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def run(suspect: Path, originals: list[Path]) -> dict:
    from unmask.compare import compare_files
    from unmask.errors import UnmaskError

    try:
        return compare_files(suspect, originals).to_dict()
    except UnmaskError as exc:
        return {"outcome": "error", "summary": exc.message, "regions": [], "elapsed_s": 0}


def video_swaps(rows: list[dict]) -> None:
    for swap, original in swap_pairs():
        result = run(swap, [original])
        different = any(name in swap.name for name in DIFFERENT_SHOTS)
        expected = "no_common_source" if different else "altered"
        ok = result["outcome"] == expected and (
            different or any(r["kind"] == "face" for r in result["regions"])
        )
        rows.append(
            {
                "set": "video swap" if not different else "video, different shot",
                "file": swap.name,
                "outcome": result["outcome"],
                "ok": ok,
                "seconds": result["elapsed_s"],
                "summary": result["summary"],
            }
        )
        print(json.dumps(rows[-1]), flush=True)


def unrelated(rows: list[dict]) -> None:
    pairs = swap_pairs()
    for k, (swap, _) in enumerate(pairs):
        other = next(o for _, o in pairs[k + 1 :] + pairs[:k] if person(o) != person(swap))
        result = run(swap, [other])
        rows.append(
            {
                "set": "unrelated original",
                "file": swap.name,
                "outcome": result["outcome"],
                "ok": result["outcome"] != "altered",
                "seconds": result["elapsed_s"],
                "summary": result["summary"],
            }
        )
        print(json.dumps(rows[-1]), flush=True)


def video_controls(rows: list[dict], count: int, work: Path) -> None:
    from unmask.compare import controls

    originals = [o for s, o in swap_pairs() if not any(n in s.name for n in DIFFERENT_SHOTS)]
    step = max(1, len(originals) // max(count, 1))
    for original in originals[::step][:count]:
        for kind in controls.VIDEO_CONTROLS:
            copy = work / f"{original.stem}-{kind}.mp4"
            controls.video_control(original, copy, kind)
            result = run(copy, [original])
            rows.append(
                {
                    "set": f"video control {kind}",
                    "file": original.name,
                    "outcome": result["outcome"],
                    "ok": result["outcome"] == "same_content",
                    "seconds": result["elapsed_s"],
                    "summary": result["summary"],
                }
            )
            print(json.dumps(rows[-1]), flush=True)
            copy.unlink()


def still_sets(rows: list[dict], count: int, work: Path) -> None:
    from unmask.compare import controls
    from unmask.faces import FaceDetector

    detector = FaceDetector()
    photos = []
    for path in sorted((DATA / "faces" / "real").glob("*.jp*g"))[1::2]:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        faces = [f for f in detector.detect(rgb) if f.score >= 0.95 and f.width >= 60]
        if len(faces) == 1 and max(rgb.shape[:2]) >= 200:
            photos.append((path, rgb, faces[0].box))
        if len(photos) > count:
            break
    for (path, rgb, box), (_, donor, donor_box) in itertools.pairwise(photos):
        suspect = work / f"{path.stem}-pasted.jpg"
        suspect.write_bytes(controls.jpeg_bytes(controls.paste_face(rgb, box, donor, donor_box)))
        result = run(suspect, [path])
        named = any(
            r["kind"] == "face" and iou(r["box"], list(box)) >= 0.3 for r in result["regions"]
        )
        rows.append(
            {
                "set": "still, pasted face",
                "file": path.name,
                "outcome": result["outcome"],
                "ok": result["outcome"] == "altered" and named,
                "seconds": result["elapsed_s"],
                "summary": result["summary"],
            }
        )
        print(json.dumps(rows[-1]), flush=True)
        for kind in controls.STILL_CONTROLS:
            copy = work / f"{path.stem}-{kind}.jpg"
            copy.write_bytes(controls.still_control(rgb, kind))
            result = run(copy, [path])
            rows.append(
                {
                    "set": f"still control {kind}",
                    "file": path.name,
                    "outcome": result["outcome"],
                    "ok": result["outcome"] == "same_content",
                    "seconds": result["elapsed_s"],
                    "summary": result["summary"],
                }
            )
            print(json.dumps(rows[-1]), flush=True)


def speed(repeat: int) -> dict:
    from unmask.compare import compare_files
    from unmask.compare.faces import _faces
    from unmask.scan import Scanner

    swap, original = next(p for p in swap_pairs() if "Ava_de_Addario_0" in p[0].name)
    scanner = Scanner()
    scanner.scan(swap)
    _faces()
    scan_s, compare_s = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        scanner.scan(swap)
        scan_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        compare_files(swap, [original])
        compare_s.append(time.perf_counter() - started)
    scan_m, compare_m = statistics.median(scan_s), statistics.median(compare_s)
    return {
        "file": swap.name,
        "scan_s": round(scan_m, 2),
        "compare_s": round(compare_m, 2),
        "ratio": round(compare_m / scan_m, 2),
    }


def search_speed(work: Path, stills: int, videos: int) -> dict:
    """Index a folder of `stills` photos and `videos` videos (links into the shared data), then
    time a search for a mirrored, re-encoded copy of one of the photos."""
    from unmask.compare import controls
    from unmask.compare.search import search_folder

    folder = work / "originals"
    folder.mkdir()
    photos = sorted((DATA / "faces" / "real").glob("*.jp*g"))[:stills]
    for n, photo in enumerate(photos):
        (folder / f"{n:04d}{photo.suffix}").symlink_to(photo)
    for n, (_, original) in enumerate(swap_pairs()[:videos]):
        (folder / f"v{n:02d}.mp4").symlink_to(original)
    target = photos[len(photos) // 2]
    suspect = work / "suspect.jpg"
    suspect.write_bytes(
        controls.still_control(np.asarray(Image.open(target).convert("RGB")), "mirror")
    )
    started = time.perf_counter()
    search_folder(suspect, folder)
    first = time.perf_counter() - started
    started = time.perf_counter()
    result = search_folder(suspect, folder)
    again = time.perf_counter() - started
    found = result.original is not None and Path(result.original).resolve() == target.resolve()
    return {
        "stills": len(photos),
        "videos": min(videos, len(swap_pairs())),
        "first_search_s": round(first, 1),
        "indexed_search_s": round(again, 2),
        "outcome": result.outcome,
        "found": found,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--control-videos", type=int, default=12)
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--search-stills", type=int, default=1000)
    parser.add_argument(
        "--only", choices=["swaps", "unrelated", "controls", "stills", "speed", "search"]
    )
    parser.add_argument("--out", type=Path, default=Path("runs/compare/bench.json"))
    args = parser.parse_args()
    if not (DATA / "labels.csv").exists():
        sys.exit(f"shared data not found at {DATA} (set UNMASK_DATA)")
    rows: list[dict] = []
    result: dict = {"rows": rows}
    with tempfile.TemporaryDirectory(prefix="unmask-bench-compare-") as tmp:
        work = Path(tmp)
        os.environ["UNMASK_HOME"] = str(work / "home")  # the search index lives there
        if args.only in (None, "speed"):
            result["speed"] = speed(args.repeat)
            print(json.dumps(result["speed"]), flush=True)
        if args.only in (None, "search"):
            result["search"] = search_speed(work, args.search_stills, 20)
            print(json.dumps(result["search"]), flush=True)
        if args.only in (None, "swaps"):
            video_swaps(rows)
        if args.only in (None, "stills"):
            still_sets(rows, args.photos, work)
        if args.only in (None, "unrelated"):
            unrelated(rows)
        if args.only in (None, "controls"):
            video_controls(rows, args.control_videos, work)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print("\n| set | pairs | as expected | outcomes | median s |\n|---|---|---|---|---|")
    for name in dict.fromkeys(r["set"] for r in rows):
        chosen = [r for r in rows if r["set"] == name]
        outcomes = ", ".join(
            f"{o} {sum(r['outcome'] == o for r in chosen)}"
            for o in dict.fromkeys(r["outcome"] for r in chosen)
        )
        print(
            f"| {name} | {len(chosen)} | {sum(r['ok'] for r in chosen)} | {outcomes} | "
            f"{statistics.median(r['seconds'] for r in chosen):.2f} |"
        )
    if "search" in result:
        s = result["search"]
        print(
            f"search: {s['stills']} stills + {s['videos']} videos, first (indexing) "
            f"{s['first_search_s']} s, indexed {s['indexed_search_s']} s, found {s['found']}"
        )
    if "speed" in result:
        s = result["speed"]
        print(f"\nspeed: scan {s['scan_s']} s, compare {s['compare_s']} s, ratio {s['ratio']}")


if __name__ == "__main__":
    main()
