"""`unmask eval`: measure the face-manipulation model on labelled media.

    unmask eval ../shared/data/labels.csv --manipulation face_swap,reenactment -o eval-out

Each file is scanned with the face detector and the face-manipulation model only; one line per
file is appended to OUT/results.jsonl as it finishes, so an interrupted run resumes where it
stopped. The metrics (`unmask.evaluation`) go to OUT/metrics.json and a table, the ROC curves to
OUT/roc.png.

Scores. A file's score is the scan's file-level face probability (see
`unmask.detectors.face_swap`); a file in which no face was found scores 0.5, the convention of
the SBI and DFDC evaluation scripts, and is counted. A frame's score is the highest probability
of any face in that sampled frame, with its file's label; frames without a face are left out.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shlex
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from rich.console import Console
from rich.table import Table

from unmask.cli_options import frames_option
from unmask.evaluation import Metrics, auc, roc_curve, summarise
from unmask.inputs import VIDEO_SUFFIXES, skipped_line

NO_FACE_SCORE = 0.5
"""Score of a file with no face found (SBI's and the DFDC baseline's convention)."""
LABELS = {"real": 0, "fake": 1}

_out = Console()
_err = Console(stderr=True)


@dataclass(frozen=True)
class LabelledFile:
    path: Path
    name: str
    """As written in the label file (or relative to the labelled folder)."""
    label: str
    """"real" or "fake"."""
    media: str
    manipulation: str
    method: str


def read_labels(source: Path) -> list[LabelledFile]:
    """Labelled files from a folder with real/ and fake/ subfolders (a further subfolder names
    the method, e.g. fake/simswap/x.jpg), or from a CSV with columns path,label and optionally
    media, manipulation, method (paths relative to the CSV's folder)."""
    if source.is_dir():
        return _read_folder(source)
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        if not {"path", "label"} <= columns:
            raise click.UsageError(f"{source} needs the columns path and label (it has {columns})")
        files = []
        for line, row in enumerate(reader, start=2):
            label = (row.get("label") or "").strip().lower()
            if label not in LABELS:
                raise click.UsageError(f"{source}, line {line}: label must be real or fake")
            name = row["path"].strip()
            path = (source.parent / name).resolve()
            files.append(
                LabelledFile(
                    path=path,
                    name=name,
                    label=label,
                    media=(row.get("media") or _media_of(path)).strip(),
                    manipulation=(row.get("manipulation") or _default_kind(label)).strip(),
                    method=(row.get("method") or label).strip(),
                )
            )
    return files


def _read_folder(folder: Path) -> list[LabelledFile]:
    files = []
    for label in LABELS:
        root = folder / label
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = path.relative_to(root)
            if any(part.startswith(".") for part in relative.parts):
                continue
            files.append(
                LabelledFile(
                    path=path,
                    name=str(path.relative_to(folder)),
                    label=label,
                    media=_media_of(path),
                    manipulation=_default_kind(label),
                    method=relative.parts[0] if len(relative.parts) > 1 else label,
                )
            )
    if not files:
        raise click.UsageError(f"{folder} has no files under real/ or fake/")
    return files


def leave_out_not_media(files: list[LabelledFile]) -> tuple[list[LabelledFile], list[str]]:
    """The files of a labelled folder that may be pictures or videos, and the names of those
    that clearly are not (`unmask.inputs.not_media`: a notes.txt beside the photos), which
    would otherwise count as unreadable media in the metrics. Not for a label file: what a CSV
    names was named on purpose, and stays an error when it cannot be read."""
    from unmask.inputs import Input, not_media

    kept, skipped = [], []
    for item in files:
        if not_media(Input(item.path, item.name, from_folder=True)) is None:
            kept.append(item)
        else:
            skipped.append(item.name)
    return kept, skipped


def _media_of(path: Path) -> str:
    return "video" if path.suffix.lower() in VIDEO_SUFFIXES else "image"


def _default_kind(label: str) -> str:
    return "none" if label == "real" else "unknown"


def select(
    files: list[LabelledFile],
    manipulations: set[str] | None,
    media: str | None,
    limit: int | None,
    exclude: set[str],
) -> list[LabelledFile]:
    """Apply the filters. Real files are always kept by --manipulation (they are what the fakes
    are told apart from); --limit takes real and fake files in turn, so the sample stays mixed."""
    chosen = [
        f
        for f in files
        if f.name not in exclude
        and (media is None or f.media == media)
        and (manipulations is None or f.label == "real" or f.manipulation in manipulations)
    ]
    if limit is None or limit >= len(chosen):
        return chosen
    real = [f for f in chosen if f.label == "real"]
    fake = [f for f in chosen if f.label == "fake"]
    mixed: list[LabelledFile] = []
    while len(mixed) < limit:
        for group in (fake, real):
            if group and len(mixed) < limit:
                mixed.append(group.pop(0))
    return mixed


def frame_scores(result: dict[str, Any]) -> list[dict[str, float]]:
    """Per sampled frame with a face: the highest face probability (from a result's dict)."""
    best: dict[int, float] = {}
    for finding in result.get("findings", []):
        if finding.get("code") != "face_manipulation":
            continue
        for frame in finding["evidence"].get("frames", []):
            index = int(frame["frame_index"])
            best[index] = max(best.get(index, 0.0), float(frame["probability"]))
    return [{"frame_index": i, "probability": p} for i, p in sorted(best.items())]


def model_fingerprint(model: Path | None) -> str:
    """The first 12 hex digits of SHA-256 over the digests of the ONNX file and its card: two
    trainings on one day, or one network under two cards (another threshold, mirror averaging,
    face limits), share a name and version but not this, so results of one are never resumed
    as the other's."""
    if model is None:
        return "unknown"
    from unmask.hashing import file_sha256

    both = file_sha256(model) + file_sha256(model.with_suffix(".json"))
    return hashlib.sha256(both.encode()).hexdigest()[:12]


def record_of(item: LabelledFile, result: dict[str, Any], model: str) -> dict[str, Any]:
    verdict = result.get("verdict") or {}
    media = result.get("media") or {}
    return {
        "path": item.name,
        "label": item.label,
        "media": media.get("kind") or item.media,
        "manipulation": item.manipulation,
        "method": item.method,
        "model": model,
        "probability": verdict.get("probability"),
        "frames": frame_scores(result),
        "faces": len(result.get("faces", [])),
        "verdict": verdict.get("label"),
        "error": (result.get("error") or {}).get("code"),
        "elapsed_s": result.get("elapsed_s"),
    }


def read_records(path: Path) -> list[dict[str, Any]]:
    """Records already written; a partial last line (an interrupted write) is cut off."""
    if not path.exists():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def report(records: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """Metrics at file and frame level, overall and per media kind, plus per-source rates."""
    scanned = [r for r in records if r["error"] is None]
    no_face = sum(1 for r in scanned if r["probability"] is None)

    def file_level(rows: list[dict[str, Any]]) -> Metrics:
        labels = [LABELS[r["label"]] for r in rows]
        scores = [NO_FACE_SCORE if r["probability"] is None else r["probability"] for r in rows]
        return summarise(labels, scores, threshold)

    def frame_level(rows: list[dict[str, Any]]) -> Metrics:
        pairs = [(LABELS[r["label"]], f["probability"]) for r in rows for f in r["frames"]]
        return summarise([p[0] for p in pairs], [p[1] for p in pairs], threshold)

    def levels(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {"file": file_level(rows).to_dict(), "frame": frame_level(rows).to_dict()}

    reals = [r for r in scanned if r["label"] == "real"]

    def sources(key: str) -> dict[str, Any]:
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in scanned:
            groups[r[key] or "unknown"].append(r)
        table = {}
        for name, rows in sorted(groups.items()):
            scores = [NO_FACE_SCORE if r["probability"] is None else r["probability"] for r in rows]
            labels = sorted({r["label"] for r in rows})
            entry: dict[str, Any] = {
                "labels": labels,
                "n": len(rows),
                "no_face": sum(1 for r in rows if r["probability"] is None),
                "mean_score": float(np.mean(scores)),
                "flagged": float(np.mean(np.asarray(scores) >= threshold)),
                "auc_vs_all_real": None,
            }
            fakes = [r for r in rows if r["label"] == "fake"]
            if fakes and reals:
                entry["auc_vs_all_real"] = file_level(fakes + reals).auc
            table[name] = entry
        return table

    media = sorted({r["media"] for r in scanned})
    return {
        "counts": {
            "files": len(records),
            "scanned": len(scanned),
            "errors": len(records) - len(scanned),
            "no_face": no_face,
            "frames": sum(len(r["frames"]) for r in scanned),
        },
        "no_face_score": NO_FACE_SCORE,
        "threshold": threshold,
        "overall": levels(scanned),
        "by_media": {m: levels([r for r in scanned if r["media"] == m]) for m in media},
        "by_method": sources("method"),
        "by_manipulation": sources("manipulation"),
    }


def draw_roc(records: list[dict[str, Any]], target: Path, title: str) -> None:
    """ROC curves (file and frame level) as a PNG, drawn with Pillow."""
    size, pad = 520, 60
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    left, top, right, bottom = pad, pad, size - 20, size - pad
    width, height = right - left, bottom - top

    def xy(fpr: float, tpr: float) -> tuple[float, float]:
        return left + fpr * width, bottom - tpr * height

    for tick in np.linspace(0, 1, 6):
        x, y = xy(tick, tick)
        draw.line([(x, top), (x, bottom)], fill=(230, 230, 230))
        draw.line([(left, y), (right, y)], fill=(230, 230, 230))
        draw.text((x - 8, bottom + 6), f"{tick:.1f}", fill="black", font=font)
        draw.text((left - 28, y - 6), f"{tick:.1f}", fill="black", font=font)
    draw.rectangle([left, top, right, bottom], outline="black")
    draw.line([xy(0, 0), xy(1, 1)], fill=(160, 160, 160), width=1)
    draw.text((left + width / 2 - 60, bottom + 24), "false-positive rate", fill="black", font=font)
    draw.text((left - 28, top - 20), "true-positive rate", fill="black", font=font)
    draw.text((left - 28, 10), title[:80], fill="black", font=font)

    scanned = [r for r in records if r["error"] is None]
    file_pairs = [
        (LABELS[r["label"]], NO_FACE_SCORE if r["probability"] is None else r["probability"])
        for r in scanned
    ]
    frame_pairs = [(LABELS[r["label"]], f["probability"]) for r in scanned for f in r["frames"]]
    legend_y = bottom - 40
    for name, pairs, colour in (
        ("file", file_pairs, (200, 30, 30)),
        ("frame", frame_pairs, (30, 80, 200)),
    ):
        labels, scores = [p[0] for p in pairs], [p[1] for p in pairs]
        curve = roc_curve(labels, scores) if pairs else None
        if curve is None:
            continue
        fpr, tpr, _ = curve
        # Straight lines between the points: a tie between reals and fakes is a diagonal step.
        draw.line([xy(f, t) for f, t in zip(fpr, tpr, strict=True)], fill=colour, width=2)
        value = auc(labels, scores)
        draw.line([(right - 150, legend_y + 6), (right - 130, legend_y + 6)], fill=colour, width=3)
        draw.text((right - 125, legend_y), f"{name} AUC {value:.3f} (n={len(pairs)})", fill="black")
        legend_y += 16
    image.save(target)


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if percent else f"{value:.3f}"


def print_report(console: Console, metrics: dict[str, Any]) -> None:
    counts = metrics["counts"]
    console.print(
        f"{counts['scanned']} files scanned ({counts['errors']} unreadable, "
        f"{counts['no_face']} without a face, scored {metrics['no_face_score']}); "
        f"{counts['frames']} frames with a face; threshold {metrics['threshold']:.3f}"
    )
    table = Table(title="Detection")
    for column in ("set", "level", "fake", "real", "AUC", "acc.", "TPR@1%FPR", "TPR@5%FPR"):
        table.add_column(column, justify="left" if column in ("set", "level") else "right")
    for column in ("TPR@thr.", "FPR@thr.", "ECE"):
        table.add_column(column, justify="right")
    groups = [("all", metrics["overall"]), *list(metrics["by_media"].items())]
    for name, levels in groups:
        for level in ("file", "frame"):
            m = levels[level]
            point = m["operating_point"] or {}
            table.add_row(
                name,
                level,
                str(m["n_fake"]),
                str(m["n_real"]),
                _fmt(m["auc"]),
                _fmt(point.get("accuracy"), True),
                _fmt(m["tpr_at_1pct_fpr"], True),
                _fmt(m["tpr_at_5pct_fpr"], True),
                _fmt(point.get("true_positive_rate"), True),
                _fmt(point.get("false_positive_rate"), True),
                _fmt(m["ece"]),
            )
    console.print(table)
    sources = Table(title="By source (file level; flagged = share at or above the threshold)")
    for column in ("method", "label", "files", "no face", "mean score", "flagged", "AUC vs real"):
        sources.add_column(column, justify="left" if column in ("method", "label") else "right")
    for name, entry in metrics["by_method"].items():
        sources.add_row(
            name,
            "/".join(entry["labels"]),
            str(entry["n"]),
            str(entry["no_face"]),
            _fmt(entry["mean_score"]),
            _fmt(entry["flagged"], True),
            _fmt(entry["auc_vs_all_real"]),
        )
    console.print(sources)


@click.command("eval", epilog="Exit codes: 0 done; 2 the model could not be loaded; 64 usage.")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("unmask-eval"),
    show_default=True,
    help="Folder for results.jsonl (one line per file), metrics.json and roc.png.",
)
@click.option(
    "--manipulation",
    help="Comma-separated kinds of fake to keep (e.g. face_swap,reenactment); real files "
    "are always kept.",
)
@click.option("--media", type=click.Choice(["video", "image"]), help="Only videos or images.")
@click.option(
    "--limit", type=click.IntRange(min=1), help="At most this many files, fake and real in turn."
)
@click.option(
    "--exclude",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A text file of paths (one a line, as in the label file) to leave out, e.g. the "
    "files the model was trained on.",
)
@click.option(
    "--model",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Evaluate this .onnx checkpoint (its .json card beside it) instead of the shipped one.",
)
@frames_option
@click.option("--restart", is_flag=True, help="Discard earlier results in OUT and start over.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def eval_command(
    source: Path,
    out: Path,
    manipulation: str | None,
    media: str | None,
    limit: int | None,
    exclude: Path | None,
    model: Path | None,
    frames: int,
    restart: bool,
    quiet: bool,
) -> None:
    """Measure the face-manipulation model on labelled pictures and videos.

    SOURCE is a folder with real/ and fake/ subfolders (files in it that are clearly not
    pictures or videos, such as notes, are skipped and named), or a CSV file with the columns
    path,label[,media,manipulation,method] (paths relative to the CSV's folder, label real or
    fake; every file it names is counted, an unreadable one as an error). Reports frame- and
    file-level AUC, accuracy and rates at the model card's threshold, the true-positive rate at
    1 % and 5 % false positives, expected calibration error (15 bins), a ROC curve and a
    breakdown by method. Never evaluate on the files the model was trained on
    (see --exclude). Interrupted runs resume from OUT/results.jsonl.

    \b
    Example, face swaps and reenactments against the real media of a label file:
      unmask eval ../shared/data/labels.csv --manipulation face_swap,reenactment -o eval-out
    """
    from unmask.config import ScanConfig
    from unmask.errors import UnmaskError
    from unmask.models import ModelNotInstalledError
    from unmask.scan import Scanner

    kinds = {k.strip() for k in manipulation.split(",") if k.strip()} if manipulation else None
    skip = set()
    if exclude is not None:
        skip = {line.strip() for line in exclude.read_text("utf-8").splitlines() if line.strip()}
    labelled, not_media = read_labels(source), []
    if source.is_dir():
        labelled, not_media = leave_out_not_media(labelled)
        if not_media:
            _err.print(skipped_line(not_media, "metrics.json"), highlight=False, markup=False)
        if not labelled:
            raise click.UsageError(f"{source} has no pictures or videos under real/ or fake/")
    items = select(labelled, kinds, media, limit, skip)
    if not items:
        raise click.UsageError("no labelled files match these filters")
    try:
        scanner = Scanner(
            ScanConfig(frames=frames, detectors=("face_swap",), face_swap_model=model)
        )
    except ModelNotInstalledError:
        _err.print(
            "[red]error:[/red] no face-manipulation model ships with this version of unmask yet, "
            "so there is nothing to evaluate by default."
        )
        _err.print(
            "what to do: train one (`unmask train --data DATA --out runs/face_swap`) and pass "
            "--model runs/face_swap/face_swap.onnx"
        )
        sys.exit(2)
    except UnmaskError as exc:
        _err.print(f"[red]error:[/red] {exc.message}")
        if exc.hint:
            _err.print(f"what to do: {exc.hint}")
        sys.exit(2)
    card = scanner.detectors[0].card
    assert card is not None
    model_id = f"{card.name} {card.version} {model_fingerprint(card.path)}"

    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "results.jsonl"
    if restart:
        results_file.unlink(missing_ok=True)
    records = read_records(results_file)
    other = {r.get("model") for r in records} - {model_id}
    if other:
        raise click.UsageError(
            f"{results_file} holds results of another model ({', '.join(map(str, other))}); "
            "choose another --out or pass --restart"
        )
    wanted = {item.name for item in items}
    done = {r["path"] for r in records}
    todo = [item for item in items if item.name not in done]
    if done:
        _err.print(f"resuming: {len(wanted & done)} of {len(items)} files already scanned")

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    progress = Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_err,
        disable=quiet,
        transient=True,
    )
    with progress, results_file.open("a", encoding="utf-8") as sink:
        task = progress.add_task("evaluating", total=len(todo))
        for item in todo:
            result = scanner.scan(item.path, display_name=item.name).to_dict()
            record = record_of(item, result, model_id)
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            sink.flush()
            records.append(record)
            progress.advance(task)

    chosen = [r for r in records if r["path"] in wanted]
    metrics = {
        "model": {"name": card.name, "version": card.version, "path": str(card.path)},
        "source": str(source),
        "filters": {
            "manipulation": sorted(kinds) if kinds else None,
            "media": media,
            "limit": limit,
        },
        "frames_per_video": frames,
        "skipped_not_media": not_media,
        "command": shlex.join(["unmask", *sys.argv[1:]]),
        **report(chosen, card.threshold),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    draw_roc(chosen, out / "roc.png", f"{model_id} on {source.name}")
    print_report(_out, metrics)
    _out.print(
        f"results in {results_file}, metrics in {out / 'metrics.json'}, ROC in {out / 'roc.png'}"
    )
