"""Train the face-manipulation network on self-blended pairs, calibrate it, export it.

    unmask train --data ../shared/data --out runs/face_swap     (needs `pip install -e .[train]`)

Reproducible: one seed drives the data split (fixed by file-name hashes), the order of faces,
every random choice of the synthesis and the network's initialisation of the new heads.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from unmask.config import DEFAULT_FACE_MARGIN
from unmask.evaluation import auc
from unmask.faces.crop import cut_square, square_around
from unmask.train.data import MIN_FACE_PX, MIN_FACE_SCORE
from unmask.train.donor_paste import donor_paste
from unmask.train.model import INPUT_SIZE, FaceSwapNet, export_onnx
from unmask.train.sbi import FaceSample, degrade, self_blend

log = logging.getLogger(__name__)

MASK_SIDE = 7  # the heatmap's side for a 224 px input (EfficientNet's stride of 32)
# Crop margins seen in training span the 12.5-30 % that published pipelines use, around the
# 20 % the scanner crops with (unmask.config.DEFAULT_FACE_MARGIN).
MARGIN_RANGE = (0.125, 0.3)


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1500
    batch_pairs: int = 12
    learning_rate: float = 2e-4
    weight_decay: float = 1e-4
    mask_weight: float = 0.5
    freeze_blocks: int = 4
    """Stem and first blocks of EfficientNet kept at their ImageNet weights (the backward pass
    through the high-resolution early blocks is most of the CPU cost)."""
    seed: int = 20221
    threads: int = 2
    workers: int = 1
    """Processes making self-blends while the network trains (0: made in the training loop)."""
    device: str = "cpu"
    """Where the network trains: "cpu" or a PyTorch device such as "cuda"."""
    paste_share: float = 0.5
    """Share of the fakes that are another training face pasted in (`unmask.train.donor_paste`)
    instead of a self-blend."""
    checkpoint_every: int = 100
    """Steps between two checkpoints (network, optimiser, schedule and random state), so that a
    stopped run goes on from the last one instead of starting again."""


CHECKPOINT = "checkpoint.pt"
RESUMABLE_FIELDS = ("threads", "workers", "device", "checkpoint_every")
"""Settings a resumed run may change: they decide how the steps run, not which steps."""


class CheckpointMismatch(ValueError):
    """The checkpoint belongs to a run with other settings: resuming it would mix two runs."""


class CheckpointUnreadable(CheckpointMismatch):
    """The checkpoint file cannot be read at all: no settings would let it go on."""


def training_pair(
    sample: FaceSample, rng: np.random.Generator, donor: FaceSample | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(real crop, fake crop, blend mask at MASK_SIDE) for one face: the fake is `donor`'s face
    pasted in when a donor is given, else a self-blend."""
    blend = self_blend(sample, rng) if donor is None else donor_paste(sample, donor, rng)
    margin = rng.uniform(*MARGIN_RANGE)
    left, top, side = square_around(sample.box, 1 + 2 * margin)
    # The crop also moves up to 4 % of its side, so the face is not always dead centre.
    square = (left + rng.uniform(-0.04, 0.04) * side, top + rng.uniform(-0.04, 0.04) * side, side)
    flip = rng.random() < 0.5
    # Both go through the same degradation (the same draws): a pair that differs only where
    # the face was altered, so that nothing but the alteration tells the label (paired real
    # and fake from one source, GenD, WACV 2026). With independent draws the network may learn
    # "softer or more compressed than usual" as "fake"; smooth webcam faces were the eighth
    # run's worst false alarms, and the ninth run tests this (BENCHMARKS.md, "A second face
    # detector, and screenshots of real videos").
    shared = int(rng.integers(2**63))
    real = degrade(cut_square(sample.rgb, square, INPUT_SIZE), np.random.default_rng(shared))
    fake = degrade(cut_square(blend.image, square, INPUT_SIZE), np.random.default_rng(shared))
    mask_bytes = (blend.mask * 255).astype(np.uint8)
    mask = cut_square(mask_bytes, square, MASK_SIDE).astype(np.float32) / 255.0
    if flip:
        real, fake, mask = real[:, ::-1], fake[:, ::-1], mask[:, ::-1]
    return real, fake, mask


def batch(
    samples: list[FaceSample],
    indices: np.ndarray,
    rng: np.random.Generator,
    paste_share: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(pixels: 2N x 3 x 224 x 224 uint8, labels: 0 real / 1 fake, masks: 2N x 7 x 7) for the
    N faces at `indices`, each followed by its fake: with probability `paste_share` another
    face of `samples` pasted in, else a self-blend."""
    images, labels, masks = [], [], []
    for index in indices:
        donor = None
        if len(samples) > 1 and rng.random() < paste_share:
            other = int(rng.integers(len(samples) - 1))
            donor = samples[other + (other >= int(index))]
        real, fake, mask = training_pair(samples[int(index)], rng, donor)
        images += [real, fake]
        labels += [0.0, 1.0]
        masks += [np.zeros_like(mask), mask]
    # Pixels stay bytes (0-255) until they reach the network: a quarter of the memory, also
    # when a worker process hands the batch over.
    pixels = torch.from_numpy(np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2)))
    return pixels, torch.tensor(labels), torch.from_numpy(np.stack(masks).copy())


class SelfBlendBatches(torch.utils.data.Dataset):
    """Training batch `step`: its real faces and their self-blends. The faces of every step are
    drawn up front and each batch has its own random generator, seeded by (seed, step), so the
    batches are the same whether 0, 1 or more worker processes make them. Workers share the
    face cache by fork (Linux); where processes are spawned each worker gets a copy."""

    def __init__(self, samples: list[FaceSample], config: TrainConfig) -> None:
        self.samples = samples
        self.seed = config.seed
        self.paste_share = config.paste_share
        rng = np.random.default_rng(config.seed)
        order, cursor = rng.permutation(len(samples)), 0
        self.indices: list[np.ndarray] = []
        for _ in range(config.steps):
            if cursor + config.batch_pairs > len(order):
                order, cursor = rng.permutation(len(samples)), 0
            self.indices.append(order[cursor : cursor + config.batch_pairs])
            cursor += config.batch_pairs

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, step])
        return batch(self.samples, self.indices[step], rng, self.paste_share)


def train(
    samples: list[FaceSample],
    config: TrainConfig,
    progress: Callable[[int, float], None] | None = None,
    checkpoint: Path | None = None,
) -> FaceSwapNet:
    """Train from scratch, or from `checkpoint` where that file exists; while training, save
    it every `config.checkpoint_every` steps. A resumed run makes the same batches in the same
    order as an uninterrupted one (each step's batch is seeded by its number) and restores the
    random state, so on the CPU it ends with the same network (on a GPU, whose kernels are not
    bit-for-bit deterministic, with one trained on the same batches in the same order)."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    net = FaceSwapNet(pretrained=True).to(config.device)
    frozen = [
        net.backbone._conv_stem,
        net.backbone._bn0,
        *net.backbone._blocks[: config.freeze_blocks],
    ]
    for module in frozen:
        for parameter in module.parameters():
            parameter.requires_grad = False
    trainable = [p for p in net.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(
        trainable, lr=config.learning_rate, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: 0.5 * (1 + math.cos(math.pi * min(step, config.steps) / config.steps)),
    )
    first, random_state, cuda_states = 0, None, []
    if checkpoint is not None and checkpoint.exists():
        state = load_checkpoint(checkpoint, config)
        net.load_state_dict(state["net"])
        optimiser.load_state_dict(state["optimiser"])
        schedule.load_state_dict(state["schedule"])
        first, random_state = state["step"], state["random_state"]
        cuda_states = state.get("cuda_random_state", [])
        log.info("resuming %s at step %d of %d", checkpoint, first, config.steps)
    bce = nn.BCEWithLogitsLoss()
    dataset = SelfBlendBatches(samples, config)
    batches = iter(
        torch.utils.data.DataLoader(
            torch.utils.data.Subset(dataset, range(first, len(dataset))),
            batch_size=None,
            num_workers=config.workers,
            prefetch_factor=2 if config.workers else None,
        )
    )
    if random_state is not None:  # after the loader has drawn its seed, as in the first run
        torch.set_rng_state(random_state)
        if (
            cuda_states
            and torch.cuda.is_available()
            and len(cuda_states) == torch.cuda.device_count()
        ):
            torch.cuda.set_rng_state_all(cuda_states)
    net.train()
    for module in frozen:  # keep ImageNet batch-norm statistics in the frozen part
        module.eval()
    for step, (pixels, labels, masks) in enumerate(batches, start=first):
        pixels, labels, masks = (t.to(config.device) for t in (pixels, labels, masks))
        pixels = pixels.float()
        logit, mask_logits = net(pixels)
        loss = bce(logit, labels) + config.mask_weight * bce(mask_logits, masks)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        done = step + 1
        if checkpoint is not None and done < config.steps and done % config.checkpoint_every == 0:
            save_checkpoint(checkpoint, config, done, net, optimiser, schedule)
        if progress is not None:
            progress(step, float(loss.detach()))
    net.eval()
    return net.cpu()


def save_checkpoint(
    path: Path,
    config: TrainConfig,
    step: int,
    net: nn.Module,
    optimiser: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
) -> None:
    """Write the state after `step` steps; atomically, so a run killed while saving leaves the
    previous checkpoint whole."""
    partial = path.with_name(path.name + ".partial")
    torch.save(
        {
            "step": step,
            "config": asdict(config),
            "net": net.state_dict(),
            "optimiser": optimiser.state_dict(),
            "schedule": schedule.state_dict(),
            "random_state": torch.get_rng_state(),
            # dropout on a GPU draws from the GPU's generators
            "cuda_random_state": torch.cuda.get_rng_state_all()
            if torch.cuda.is_available()
            else [],
        },
        partial,
    )
    os.replace(partial, path)


def load_checkpoint(path: Path, config: TrainConfig) -> dict:
    """The checkpoint's state, refused (CheckpointMismatch) when it was saved by a run with
    other settings, or cannot be read."""
    try:
        # On the CPU: the random state must stay a CPU tensor for `torch.set_rng_state`, and
        # `load_state_dict` moves the network's and optimiser's tensors to their device.
        state = torch.load(path, map_location="cpu", weights_only=True)
        saved = dict(state["config"])
    except Exception as error:  # a truncated or foreign file: torch raises many kinds
        # the kind of error, not torch's text: that suggests weights_only=False, which would
        # run whatever code a foreign file holds
        reason = type(error).__name__
        raise CheckpointUnreadable(
            f"{path} cannot be read as a checkpoint: it is damaged (a full disk, a copy cut short) "
            f"or was not written by unmask train ({reason})"
        ) from None
    wanted = asdict(config)
    differ = sorted(
        key for key in wanted.keys() - set(RESUMABLE_FIELDS) if saved.get(key) != wanted[key]
    )
    if differ:
        settings = ", ".join(f"{key} {saved.get(key)!r} (now {wanted[key]!r})" for key in differ)
        raise CheckpointMismatch(f"{path} was saved by a run with other settings: {settings}")
    if not 0 < int(state["step"]) < config.steps:
        raise CheckpointMismatch(f"{path} holds step {state['step']} of {config.steps}")
    return state


@torch.no_grad()
def held_out_logits(
    net: FaceSwapNet, samples: list[FaceSample], seed: int, paste_share: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Logits for each held-out real face and one fake of it (labels 0 and 1): a self-blend, or
    with probability `paste_share` another held-out face pasted in."""
    rng = np.random.default_rng(seed + 1)
    logits, labels = [], []
    for start in range(0, len(samples), 16):
        indices = np.arange(start, min(start + 16, len(samples)))
        pixels, label, _ = batch(samples, indices, rng, paste_share)
        logits.append(net(pixels.float())[0].numpy())
        labels.append(label.numpy())
    return np.concatenate(logits), np.concatenate(labels)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature scaling (Guo et al., ICML 2017): the T minimising the negative log-likelihood
    of sigmoid(logit / T), by a fine grid search (one parameter; no optimiser needed)."""
    best, best_nll = 1.0, math.inf
    for temperature in np.exp(np.linspace(np.log(0.05), np.log(20.0), 400)):
        p = 1 / (1 + np.exp(-np.clip(logits / temperature, -50, 50)))
        nll = -np.mean(labels * np.log(p + 1e-9) + (1 - labels) * np.log(1 - p + 1e-9))
        if nll < best_nll:
            best, best_nll = float(temperature), float(nll)
    return best


def choose_threshold(real_probabilities: np.ndarray, false_positive_rate: float) -> float:
    """The smallest probability that at most `false_positive_rate` of held-out real faces reach."""
    return float(np.quantile(real_probabilities, 1 - false_positive_rate))


def run(
    train_samples: list[FaceSample],
    held_out: list[FaceSample],
    config: TrainConfig,
    out: Path,
    progress: Callable[[int, float], None] | None = None,
) -> dict:
    """Train (going on from OUT/checkpoint.pt if a stopped run left one), calibrate on the
    held-out photos, export ONNX and the machine-readable card."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    net = train(train_samples, config, progress, checkpoint=out / CHECKPOINT)
    torch.save(net.state_dict(), out / "face_swap.pt")
    (out / CHECKPOINT).unlink(missing_ok=True)  # the run is complete
    logits, labels = held_out_logits(net, held_out, config.seed)
    temperature = fit_temperature(logits, labels)
    probabilities = 1 / (1 + np.exp(-logits / temperature))
    real = probabilities[labels == 0]
    threshold = choose_threshold(real, 0.02)
    band_low = choose_threshold(real, 0.10)
    export_onnx(net, out / "face_swap.onnx")
    summary = {
        "train_config": asdict(config),
        "train_faces": len(train_samples),
        "held_out_faces": len(held_out),
        "train_seconds": round(time.monotonic() - started, 1),
        "temperature": temperature,
        "threshold": threshold,
        "inconclusive_band": [band_low, threshold],
        "held_out_self_blend_auc": auc(labels, probabilities),
    }
    if config.paste_share > 0:
        paste_logits, paste_labels = held_out_logits(net, held_out, config.seed, 1.0)
        summary["held_out_donor_paste_auc"] = auc(paste_labels, paste_logits)
    (out / "training.json").write_text(json.dumps(summary, indent=2))
    card = {
        "name": "face_swap",
        "version": time.strftime("%Y.%m.%d"),
        "input_size": INPUT_SIZE,
        "crop_margin": DEFAULT_FACE_MARGIN,
        "temperature": temperature,
        "threshold": threshold,
        "inconclusive_band": [band_low, threshold],
        # Faces like those the network was trained on; the scan reports others as not checked.
        "min_face_px": MIN_FACE_PX,
        "min_face_score": MIN_FACE_SCORE,
        # Only faces a second detector of another kind also finds (unmask.faces.confirm): a
        # background object the face detector takes for a face is reported as not checked.
        "confirm_faces": True,
        "covers": (
            "Faces blended into a picture or video frame (face swaps and other composites), "
            "learnt from self-blends of photos of people."
        ),
        "does_not_cover": [
            "Faces generated from scratch (GAN or diffusion portraits).",
            "Talking-head animation of a still photo, and reenactment that leaves no seam.",
        ],
        "evaluated": {
            "false_positive_rate": float(np.mean(real >= threshold)),
            "false_positive_data": f"{len(held_out)} held-out photos of people (faces/real)",
            "held_out_self_blend_auc": summary["held_out_self_blend_auc"],
            "summary": "Calibrated on held-out photos of people and their self-blends only; "
            "run `unmask eval` for figures on real deepfakes.",
        },
    }
    (out / "face_swap.json").write_text(json.dumps(card, indent=2))
    return summary
