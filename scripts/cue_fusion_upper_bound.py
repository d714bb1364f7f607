"""How far the face cues could go if the fusion were fitted on the very fakes it is scored on.

An upper bound, never a model to ship: the same logistic fusion as `unmask.train.fusion`
(cues and their deviations, C = 0.1, balanced) is fitted and scored in 5-fold cross-validation
on (a) the face-paste set with the held-out photos, folds grouped by photo (a paste, its
counterpart and the photo it was made from stay in one fold), and (b) the DeepFaceLive pairs,
grouped by pair. If even this stays far from the targets, the cues, not the training fakes,
are what falls short.

With --network (the `unmask eval` results of a face model on the face-paste set and on the
held-out photos), the face-paste rows are also fitted on the network's logit alone and on the
logit with the cues: whether the cues add to the network, the issue's test for keeping a cue.

    .venv/bin/python scripts/cue_fusion_upper_bound.py --cues runs/face_cues \
        --paste runs/face_paste --network runs/eval5_paste/results.jsonl \
        runs/eval5_photos/results.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from unmask.detectors.face_cues import CUE_NAMES
from unmask.detectors.face_fusion import DEVIATION, design
from unmask.evaluation import auc
from unmask.train.fusion import REGULARISATION_C

FOLDS = 5
MAX_PHOTO_FPR = 0.02


def cross_validated(
    rows: list[dict[str, Any]],
    groups: list[str],
    use_cues: bool = True,
    network: np.ndarray | None = None,
) -> tuple[float, float]:
    """(AUC, true-positive rate at MAX_PHOTO_FPR of the reals) of out-of-fold scores, from the
    cues and their deviations and/or a network's logits (one per row)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    features = (*CUE_NAMES, *(DEVIATION + name for name in CUE_NAMES))
    x = np.array([np.mean(r["frames"], axis=0) for r in rows])
    y = np.array([r["label"] == "fake" for r in rows], dtype=float)
    scores = np.zeros(len(rows))
    for train, test in GroupKFold(FOLDS).split(x, y, groups):
        columns = []
        if use_cues:
            columns.append(design(x, features, np.median(x[train][y[train] == 0], axis=0)))
        if network is not None:
            columns.append(network[:, None])
        d = np.hstack(columns)
        mean, scale = d[train].mean(0), d[train].std(0) + 1e-9
        model = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=2000)
        model.fit((d[train] - mean) / scale, y[train])
        scores[test] = model.decision_function((d[test] - mean) / scale)
    threshold = np.quantile(scores[y == 0], 1 - MAX_PHOTO_FPR)
    return auc(y.tolist(), scores.tolist()), float((scores[y == 1] > threshold).mean())


def network_logits(results: list[Path], paste: Path | None) -> dict[str, float]:
    """Logit of each file's probability in `unmask eval` results, keyed like cues.jsonl."""
    logits = {}
    for result in results:
        for line in result.read_text().splitlines():
            record = json.loads(line)
            if record["probability"] is None:
                continue
            path = Path(record["path"])
            if not path.is_absolute() and paste is not None:
                path = paste / path
            p = min(max(float(record["probability"]), 1e-6), 1 - 1e-6)
            logits[str(path)] = float(np.log(p / (1 - p)))
    return logits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cues", type=Path, required=True, help="OUT of measure_face_cues.py")
    parser.add_argument("--paste", type=Path, help="the face-paste set (for --network paths)")
    parser.add_argument("--network", type=Path, nargs="*", default=[], help="results.jsonl files")
    args = parser.parse_args()
    lines = (args.cues / "cues.jsonl").read_text().splitlines()
    records = [r for r in map(json.loads, lines) if r["frames"]]
    photos = [r for r in records if r["set"] in ("face_paste", "real_photos")]
    pairs = [r for r in records if r["set"] == "dfl_pairs"]
    for name, rows, groups in (
        (
            "face pastes vs their counterparts and the held-out photos",
            photos,
            [Path(r["pair"] or r["path"]).name for r in photos],
        ),
        ("DeepFaceLive swaps vs their own originals", pairs, [r["pair"] for r in pairs]),
    ):
        area, tpr = cross_validated(rows, groups)
        fakes = sum(r["label"] == "fake" for r in rows)
        print(
            f"{name}: cross-validated AUC {area:.3f}, true-positive rate {tpr:.0%} at "
            f"{MAX_PHOTO_FPR:.0%} false positives ({fakes} fake, {len(rows) - fakes} real)"
        )
    if args.network:
        logits = network_logits(args.network, args.paste)
        rows = [r for r in photos if r["path"] in logits]
        groups = [Path(r["pair"] or r["path"]).name for r in rows]
        net = np.array([logits[r["path"]] for r in rows])
        for name, use_cues, network in (
            ("network alone", False, net),
            ("cues alone", True, None),
            ("network and cues", True, net),
        ):
            area, tpr = cross_validated(rows, groups, use_cues, network)
            print(
                f"face pastes, {name} (rows with a network score): cross-validated AUC "
                f"{area:.3f}, true-positive rate {tpr:.0%} at {MAX_PHOTO_FPR:.0%} false positives"
            )


if __name__ == "__main__":
    main()
