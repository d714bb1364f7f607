"""Check a face model against the ship gate of issue 13, from `unmask eval` results.

The gate: at the default threshold, false positives <= 2 % of held-out real photos and <= 5 %
of held-out real videos, and at least half of some kind of fake caught. With `--scope photos`
(a check the scan runs on photos only) the video side is reported but not gated, and only the
face pastes in photos count as a kind of fake caught. Thresholds chosen and
rates measured on the same real files would flatter the model, so this script places the
threshold on the calibration halves only (held-out photos with a name bucket below 7, see
`unmask.train.data.held_out_halves`; real videos by a hash of their name) at half the limits,
and measures every rate on the other halves and on the fakes. The face-paste set is made from
both halves: pastes onto calibration-half photos are reported apart ("development_pastes", for
choosing settings such as the card's face limits) and only the others count for the gate.

With `--stills` (`unmask eval` on the label file `scripts/video_stills.py` writes: screenshots
of the real videos kept out of training) those stills are photos too: halves by a hash of the
video's name, the calibration half joins the photos' in placing the threshold, and the
evaluation half must stay within the photo limit on its own. A check said to run on photos
meets screenshots of videos, and webcam faces were its worst false alarms.

    .venv/bin/python scripts/face_model_gate.py --photos runs/eval-photos/results.jsonl \
        --videos runs/eval-videos/results.jsonl --paste runs/eval-paste/results.jsonl \
        --card runs/face_swap/face_swap.json --write runs/face_swap/gated.json

--photos comes from `unmask eval` on the label file `--held-out-csv` writes first:

    .venv/bin/python scripts/face_model_gate.py --data ../shared/data --held-out-csv held.csv
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from unmask.evaluation import auc
from unmask.train.data import held_out_halves, split_data

MAX_PHOTO_FPR = 0.02
MAX_VIDEO_FPR = 0.05
MIN_TPR = 0.5
BAND_FPR = 0.10
NO_FACE = None


def video_calibration_half(path: str) -> bool:
    return int(hashlib.sha256(Path(path).name.encode()).hexdigest(), 16) % 2 == 0


def still_calibration_half(path: str) -> bool:
    """Stills are named <video file name>__<frame>.png: all stills of one video in the half
    its video is in (`video_calibration_half`)."""
    return video_calibration_half(Path(path).stem.rsplit("__", 1)[0])


def write_held_out_csv(data: Path, target: Path) -> None:
    calibration, evaluation = held_out_halves(split_data(data))
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label", "media", "manipulation", "method"])
        for half, paths in (("calibration", calibration), ("evaluation", evaluation)):
            writer.writerows([str(p.resolve()), "real", "image", "none", half] for p in paths)


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rate(scores: list[float], threshold: float) -> dict[str, Any]:
    flagged = int(sum(s >= threshold for s in scores))
    return {"n": len(scores), "flagged": flagged, "rate": flagged / len(scores) if scores else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--held-out-csv", type=Path, help="write the held-out photo labels, stop")
    parser.add_argument("--photos", type=Path)
    parser.add_argument("--videos", type=Path)
    parser.add_argument("--paste", type=Path)
    parser.add_argument("--stills", type=Path, help="results on stills of held-out real videos")
    parser.add_argument("--card", type=Path, help="the model's card, for its own threshold")
    parser.add_argument(
        "--write",
        type=Path,
        help="write the card with the gated threshold (only when the gate is met; with --scope "
        "photos the card is limited to photos)",
    )
    parser.add_argument(
        "--scope",
        choices=("all", "photos"),
        default="all",
        help="photos: a check that will run on photos only; the threshold is placed on photos "
        "alone, video figures are reported for information and only photo fakes count",
    )
    args = parser.parse_args()
    if args.held_out_csv:
        write_held_out_csv(args.data, args.held_out_csv)
        return

    photo_rows = read(args.photos)
    photos = [r for r in photo_rows if r["error"] is None and r["probability"] is not None]
    videos = [r for r in read(args.videos) if r["error"] is None]
    pastes = [r for r in read(args.paste) if r["error"] is None]
    real_videos = [r for r in videos if r["label"] == "real" and r["probability"] is not None]
    stills = [
        r
        for r in (read(args.stills) if args.stills else [])
        if r["error"] is None and r["probability"] is not None and r["label"] == "real"
    ]
    cal_stills = [r["probability"] for r in stills if still_calibration_half(r["path"])]
    eval_stills = [r["probability"] for r in stills if not still_calibration_half(r["path"])]
    cal_photos = [r["probability"] for r in photos if r["method"] == "calibration"]
    # Screenshots are photos too: they place the photo threshold beside the photos.
    cal_pictures = cal_photos + cal_stills
    cal_videos = [r["probability"] for r in real_videos if video_calibration_half(r["path"])]

    def at(scores: list[float], share: float) -> float:
        return float(np.quantile(scores, 1 - share, method="higher"))

    photos_only = args.scope == "photos"
    threshold = at(cal_pictures, MAX_PHOTO_FPR / 2)
    if not photos_only:
        threshold = max(threshold, at(cal_videos, MAX_VIDEO_FPR / 2))
    threshold = float(np.nextafter(threshold, 1.0))
    low = (
        at(cal_pictures, BAND_FPR)
        if photos_only
        else max(at(cal_pictures, BAND_FPR), at(cal_videos, BAND_FPR))
    )
    low = min(threshold, low)

    def score(r: dict[str, Any]) -> float:
        return 0.5 if r["probability"] is None else r["probability"]

    eval_photos = [r["probability"] for r in photos if r["method"] == "evaluation"]
    eval_videos = [r["probability"] for r in real_videos if not video_calibration_half(r["path"])]
    # A paste set made from both halves: pastes onto calibration-half photos may be looked at
    # to choose settings (development); the gate counts only those onto evaluation-half photos.
    half = {Path(r["path"]).stem: r["method"] for r in photo_rows}
    development = [r for r in pastes if half.get(Path(r["path"]).stem) == "calibration"]
    pastes = [r for r in pastes if half.get(Path(r["path"]).stem) != "calibration"]
    families: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in videos + pastes:
        if r["label"] == "fake":
            families[f"{r['manipulation']}/{r['method']}"].append(r)
    paste_reals = [score(r) for r in pastes if r["label"] == "real"]
    all_real_videos = [r["probability"] for r in real_videos]
    table = {}
    for family, rows in sorted(families.items()):
        reals = paste_reals if family.startswith("face_paste") else all_real_videos
        fakes = [score(r) for r in rows]
        table[family] = {
            **rate(fakes, threshold),
            "no_face": sum(r["probability"] is None for r in rows),
            "auc_vs_reals": auc([1] * len(fakes) + [0] * len(reals), fakes + reals),
        }
    result = {
        "threshold": threshold,
        "inconclusive_band": [low, threshold],
        "calibration": {
            "photos": len(cal_photos),
            "video_stills": len(cal_stills),
            "videos": len(cal_videos),
        },
        "false_positives": {
            "held_out_photos_evaluation_half": rate(eval_photos, threshold),
            "video_stills_evaluation_half": rate(eval_stills, threshold) if args.stills else None,
            "held_out_real_videos_evaluation_half": rate(eval_videos, threshold),
            "face_paste_counterparts": rate(paste_reals, threshold),
        },
        "fakes": table,
        "development_pastes": {
            method: rate([score(r) for r in development if r["method"] == method], threshold)
            for method in sorted({r["method"] for r in development if r["label"] == "fake"})
        },
    }
    photo_ok = (result["false_positives"]["held_out_photos_evaluation_half"]["rate"] or 0) <= (
        MAX_PHOTO_FPR
    )
    # Stills asked for but none left to measure on is a failed measurement, not a pass.
    stills_ok = (
        bool(eval_stills) and rate(eval_stills, threshold)["rate"] <= MAX_PHOTO_FPR
        if args.stills
        else True
    )
    video_ok = (result["false_positives"]["held_out_real_videos_evaluation_half"]["rate"] or 0) <= (
        MAX_VIDEO_FPR
    )
    caught = [
        f
        for f, v in table.items()
        if (v["rate"] or 0) >= MIN_TPR and (f.startswith("face_paste") or not photos_only)
    ]
    result["gate"] = {
        "scope": args.scope,
        "photos": photo_ok,
        "video_stills": stills_ok if args.stills else "not given (--stills)",
        "videos": "not in scope (reported for information)" if photos_only else video_ok,
        "families_caught": caught,
    }
    result["gate"]["met"] = photo_ok and stills_ok and (video_ok or photos_only) and bool(caught)
    if args.card and args.card.exists():
        card = json.loads(args.card.read_text())
        result["card_threshold"] = card["threshold"]
        result["at_card_threshold"] = {
            "held_out_photos_evaluation_half": rate(eval_photos, card["threshold"]),
            "video_stills_evaluation_half": (
                rate(eval_stills, card["threshold"]) if args.stills else None
            ),
            "held_out_real_videos_evaluation_half": rate(eval_videos, card["threshold"]),
            "fakes": {
                f: rate([score(r) for r in rows], card["threshold"])
                for f, rows in sorted(families.items())
            },
        }
        if args.write and result["gate"]["met"]:
            card.update(threshold=threshold, inconclusive_band=[low, threshold])
            if photos_only:  # its threshold was never measured on videos: never run it there
                card["media"] = ["image"]
            args.write.write_text(json.dumps(card, indent=2) + "\n")
        elif args.write:
            result["card_written"] = "no: the gate is not met, so no card to ship was written"
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
