"""Measure each within-frame consistency cue alone (`unmask.detectors.face_cues`), no learning.

Sets (the split is `unmask.train.data.split_data`; nothing here was trained on):
- dfl_pairs: the DeepFaceLive clips, each swap half with its own original half;
- real_videos: the other held-out real videos (interviews, phone camera, public footage);
- face_paste: the face-paste set of `scripts/make_face_paste_set.py` (pastes and counterparts);
- real_photos: the held-out photos of faces/real;
- other_fakes: the other face swaps, reenactments and talking heads, for information.

Per file, the largest confident face of each of N evenly spaced frames is measured; a file's cue
is the mean over its frames, and for videos the spread (standard deviation) over frames is the
temporal cue. The per-frame values go to OUT/cues.jsonl (reused by the fusion), the table to
stdout as Markdown:

    .venv/bin/python scripts/measure_face_cues.py --data ../shared/data \
        --paste runs/face_paste --out runs/face_cues
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from unmask.detectors.face_cues import CUE_NAMES, FaceCueError, face_cues
from unmask.errors import UnmaskError
from unmask.evaluation import auc
from unmask.faces import FaceDetector
from unmask.media import open_media
from unmask.train.data import held_out_halves, largest_face, split_data


def file_list(data: Path, paste: Path) -> list[dict[str, str]]:
    """Every file to measure with its set, label, method and pair key."""
    split = split_data(data)
    calibration, _ = held_out_halves(split)
    calibration_names = {p.name for p in calibration}
    with (data / "labels.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    evaluation = {str(p.relative_to(data)) for p in split.evaluation_videos}
    files: list[dict[str, str]] = []
    for photo in split.held_out:
        half = "calibration" if photo.name in calibration_names else "evaluation"
        files.append(_entry(photo, "real_photos", "real", half, ""))
    with (paste / "labels.csv").open() as handle:
        for row in csv.DictReader(handle):
            pair = row["source"]
            files.append(
                _entry(paste / row["path"], "face_paste", row["label"], row["method"], pair)
            )
    for row in rows:
        path = row["path"]
        if row["media"] != "video":
            if row["manipulation"] == "face_swap":  # the few swapped photos, for information
                files.append(_entry(data / path, "other_fakes", "fake", row["method"], ""))
            continue
        if "DeepFaceLive" in path and ("right_swap" in path or "left_original" in path):
            pair = path.split("/")[-1].split("__")[-2]
            files.append(_entry(data / path, "dfl_pairs", row["label"], row["method"], pair))
        elif row["label"] == "real" and path in evaluation:
            files.append(_entry(data / path, "real_videos", "real", row["method"], ""))
        elif row["label"] == "fake" and row["manipulation"] != "synthetic":
            files.append(_entry(data / path, "other_fakes", "fake", row["method"], ""))
    return files


def _entry(path: Path, group: str, label: str, method: str, pair: str) -> dict[str, str]:
    return {"path": str(path), "set": group, "label": label, "method": method, "pair": pair}


def measure(path: Path, detector: FaceDetector, frames: int) -> list[list[float]]:
    """Cue vectors of the largest confident face of each sampled frame."""
    values = []
    try:
        media = open_media(path, n_frames=frames)
    except UnmaskError:
        return []
    for frame in media.frames:
        face = largest_face(detector, frame.rgb)
        if face is None:
            continue
        try:
            values.append(face_cues(frame.rgb, face.box, face.landmarks).tolist())
        except FaceCueError:
            continue
    return values


def collect(files: list[dict[str, str]], target: Path, frames: int) -> list[dict[str, Any]]:
    """Per-file records, resuming from `target` (one JSON line per file)."""
    done: dict[str, dict[str, Any]] = {}
    if target.exists():
        for line in target.read_text().splitlines():
            record = json.loads(line)
            done[record["path"]] = record
    detector = FaceDetector()
    with target.open("a") as sink:
        for entry in files:
            if entry["path"] in done:
                continue
            record = {**entry, "frames": measure(Path(entry["path"]), detector, frames)}
            sink.write(json.dumps(record) + "\n")
            sink.flush()
            done[entry["path"]] = record
    return [done[e["path"]] for e in files]


def summary_table(records: list[dict[str, Any]]) -> str:
    """Markdown table: per cue, how it separates each set (fake scored higher = above 0.5)."""
    usable = [r for r in records if r["frames"]]

    def cue(record: dict[str, Any], index: int, spread: bool = False) -> float:
        values = np.asarray(record["frames"])[:, index]
        return float(values.std()) if spread else float(values.mean())

    def of(group: str, label: str | None = None) -> list[dict[str, Any]]:
        return [r for r in usable if r["set"] == group and (label is None or r["label"] == label)]

    def pairwise(group: str, index: int, spread: bool) -> tuple[int, int]:
        reals = {r["pair"]: cue(r, index, spread) for r in of(group, "real")}
        fakes = [(r["pair"], cue(r, index, spread)) for r in of(group, "fake")]
        above = [value > reals[pair] for pair, value in fakes if pair in reals]
        return sum(above), len(above)

    def area(fakes: list[dict[str, Any]], reals: list[dict[str, Any]], i: int, s: bool) -> str:
        if not fakes or not reals:
            return "-"
        labels = [1] * len(fakes) + [0] * len(reals)
        return f"{auc(labels, [cue(r, i, s) for r in fakes + reals]):.2f}"

    videos_real = of("dfl_pairs", "real") + of("real_videos")
    photos_real = of("real_photos")
    other_videos = [r for r in of("other_fakes") if Path(r["path"]).suffix.lower() == ".mp4"]
    centre = np.median(
        [np.mean(r["frames"], axis=0) for r in photos_real if r["method"] == "calibration"], axis=0
    )

    def deviation(fakes: list[dict[str, Any]], reals: list[dict[str, Any]], i: int) -> str:
        labels = [1] * len(fakes) + [0] * len(reals)
        scores = [abs(cue(r, i) - centre[i]) for r in fakes + reals]
        return f"{auc(labels, scores):.2f}"

    lines = [
        "| cue | DFL swap above its original | DFL swaps vs held-out real videos (AUC) | "
        "same, size of the deviation | face paste above its counterpart | face pastes vs "
        "held-out photos (AUC) | same, size of the deviation | other swaps/reenactments/"
        "talking heads vs real videos (AUC) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = [(n, i, False) for i, n in enumerate(CUE_NAMES)]
    names += [(f"{n} spread over frames", i, True) for i, n in enumerate(CUE_NAMES)]
    for name, index, spread in names:
        k, n = pairwise("dfl_pairs", index, spread)
        pk, pn = pairwise("face_paste", index, False)
        dfl = area(of("dfl_pairs", "fake"), videos_real, index, spread)
        if spread:
            photo_columns = "- | - | - | - | "
        else:
            photo_columns = (
                f"{deviation(of('dfl_pairs', 'fake'), videos_real, index)} | {pk} of {pn} | "
                f"{area(of('face_paste', 'fake'), photos_real, index, False)} | "
                f"{deviation(of('face_paste', 'fake'), photos_real, index)} | "
            )
        lines.append(
            f"| {name} | {k} of {n} | {dfl} | {photo_columns}"
            f"{area(other_videos, videos_real, index, spread)} |"
        )
    counts = {
        group: (len(of(group, "fake")), len(of(group, "real")))
        for group in ("dfl_pairs", "real_videos", "face_paste", "real_photos", "other_fakes")
    }
    missing = len(records) - len(usable)
    footer = (
        f"\nFiles with a measured face (fake, real): {counts}; {missing} files without one. "
        "AUC above 0.5: the cue is larger on the fakes; below 0.5: smaller. Size of the "
        "deviation: |cue - its median over the calibration half of the held-out photos|."
    )
    return "\n".join(lines) + footer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--paste", type=Path, required=True, help="face-paste set folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--frames", type=int, default=16)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    records = collect(file_list(args.data, args.paste), args.out / "cues.jsonl", args.frames)
    print(summary_table(records))


if __name__ == "__main__":
    main()
