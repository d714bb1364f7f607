"""`unmask train`: train the face-manipulation detector from real faces (needs unmask[train])."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

DEFAULT_DATA = Path("../shared/data")


@click.command()
@click.option(
    "--data",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
    help="The shared research media folder (with labels.csv and faces/real).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs/face_swap"),
    show_default=True,
    help="Where the checkpoint, ONNX file, card and logs go.",
)
@click.option(
    "--steps", type=click.IntRange(min=1), default=1500, show_default=True, help="Optimiser steps."
)
@click.option(
    "--batch-pairs",
    type=click.IntRange(min=1),
    default=12,
    show_default=True,
    help="Unaltered faces per step; each also gives one fake (a self-blend or a paste).",
)
@click.option(
    "--paste-share",
    type=click.FloatRange(0.0, 1.0),
    default=0.5,
    show_default=True,
    help="Share of the fakes made by pasting another training face in (its own light, skin "
    "and sharpness, as a face edited in from another photo); the rest are self-blends.",
)
@click.option("--seed", type=int, default=20221, show_default=True, help="Random seed.")
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="CPU threads for PyTorch.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Processes making self-blends while the network trains (0: in the training loop).",
)
@click.option(
    "--checkpoint-every",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Steps between checkpoints (OUT/checkpoint.pt). Run the same command again to go on "
    "from the last one after a stop.",
)
@click.option(
    "--device",
    default="auto",
    show_default=True,
    help="PyTorch device to train on: auto (a CUDA GPU if PyTorch sees one, else cpu), cpu, "
    "cuda, cuda:1, ...",
)
def train(
    data: Path,
    out: Path,
    steps: int,
    batch_pairs: int,
    paste_share: float,
    seed: int,
    threads: int,
    workers: int,
    checkpoint_every: int,
    device: str,
) -> None:
    """Train the face-manipulation detector on self-blends and pastes of the faces in DATA.

    The photos in DATA/faces/real are taken as unaltered. Each face gives one example of
    manipulation: blended with a slightly changed copy of itself (a self-blend), or, for
    --paste-share of them, with another training face pasted over it.

    Faces and their 468 face-mesh landmarks are found once and cached in OUT/cache; training
    then makes a fresh self-blend of every face each time it is used. The result
    (OUT/face_swap.onnx and OUT/face_swap.json) is calibrated on held-out photos; evaluate it
    with `unmask eval` before shipping it.

    A stopped run (Ctrl-C, a lost machine) goes on from its last checkpoint when the same
    command is run again with the same OUT and settings; on the CPU it then ends with the same
    network as an uninterrupted run.
    """
    # PyTorch trains the network; LiteRT runs the face-mesh landmarks for the blend masks.
    missing = [name for name in ("torch", "ai_edge_litert") if not _importable(name)]
    if missing:
        raise click.ClickException(
            f"training needs the train extra ({', '.join(missing)} missing): "
            "pip install -e '.[train]', or `make train-env` (see README)"
        )
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        torch.empty(1, device=device)
    except (RuntimeError, ValueError, AssertionError) as error:  # CPU-only builds assert
        raise click.BadParameter(f"{device!r}: {error}", param_hint="--device") from None
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from unmask.errors import UnmaskError
    from unmask.faces import FaceDetector
    from unmask.train.data import build_cache, load_cache, split_data
    from unmask.train.trainer import (
        CHECKPOINT,
        CheckpointMismatch,
        CheckpointUnreadable,
        TrainConfig,
        load_checkpoint,
        run,
    )

    missing = [p for p in ("faces/real", "labels.csv") if not (data / p).exists()]
    if missing:
        raise click.BadParameter(
            f"{data} has no {' or '.join(missing)}: it must be the shared research media "
            "folder (faces/real holds the photos training learns from)",
            param_hint="--data",
        )
    config = TrainConfig(
        steps=steps,
        batch_pairs=batch_pairs,
        paste_share=paste_share,
        seed=seed,
        threads=threads,
        workers=workers,
        checkpoint_every=checkpoint_every,
        device=device,
    )
    first = 0
    # checked before the faces are found (minutes): a checkpoint that cannot be used says so
    if (out / CHECKPOINT).exists():
        try:
            first = int(load_checkpoint(out / CHECKPOINT, config)["step"])
        except CheckpointUnreadable as error:
            raise click.ClickException(
                f"{error}. Delete it (or choose another --out) to start again."
            ) from None
        except CheckpointMismatch as error:
            raise click.ClickException(
                f"{error}. Run with the settings it was saved with to go on, or delete it "
                "(or choose another --out) to start again."
            ) from None
    split = split_data(data)
    cache = out / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    # Everything the model sees while learning or being calibrated, in labels.csv's form, for
    # `unmask eval --exclude`: never evaluate on it.
    seen = split.train + split.held_out + split.training_videos
    (out / "training_files.txt").write_text(
        "".join(f"{path.relative_to(data).as_posix()}\n" for path in seen)
    )
    detector = FaceDetector()
    for name, paths in (
        ("held_out", split.held_out),
        ("train", split.train + split.training_videos),
    ):
        target = cache / f"{name}.npz"
        if not target.exists():
            click.echo(f"finding faces in {len(paths)} files for the {name} set...")
            build_cache(paths, detector, target)
    try:
        train_samples = load_cache(cache / "train.npz")
        held_out = load_cache(cache / "held_out.npz")
    except UnmaskError as error:
        raise click.ClickException(f"{error.message} ({error.hint})") from None
    click.echo(f"{len(train_samples)} training faces, {len(held_out)} held-out faces")
    click.echo(f"training on {device}")
    if first:
        click.echo(f"going on from the checkpoint at step {first} of {steps}")
    with Progress(
        TextColumn("training"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("loss {task.fields[loss]:.3f}"),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task("train", total=steps, completed=first, loss=float("nan"))
        log = _loss_log(out / "loss.tsv", first)

        def progress(step: int, loss: float) -> None:
            log.write(f"{step}\t{loss:.5f}\n")
            log.flush()
            bar.update(task, completed=step + 1, loss=loss)

        summary = run(train_samples, held_out, config, out, progress)
        log.close()
    click.echo(json.dumps(summary, indent=2))


def _loss_log(path: Path, first: int) -> Any:
    """The loss log, open for writing from step `first` on: the lines of a stopped run's steps
    after its last checkpoint are dropped, since those steps run again."""
    kept = []
    if first and path.exists():
        for line in path.read_text().splitlines(keepends=True):
            step = line.split("\t", 1)[0]
            if step.isdigit() and int(step) < first:
                kept.append(line)
    log = path.open("w")
    log.writelines(kept)
    return log


def _importable(name: str) -> bool:
    """Whether `import name` would succeed (a module set to None in sys.modules would not)."""
    import importlib.util
    import sys

    if name in sys.modules:
        return sys.modules[name] is not None
    return importlib.util.find_spec(name) is not None
