"""Training speed with and without a worker process making the self-blends.

    .venv/bin/python bench/bench_training.py --cache runs/face_swap/cache/train.npz --steps 30

Trains `--steps` steps (8 pairs each) from the training cache of `unmask train`, alternating
workers=0 (self-blends made in the training loop) and workers=1 (made by one worker process
while the network trains), `--repeats` times each, and prints seconds per step and the ratio.
Needs the `train` extra.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from unmask.train.data import load_cache
from unmask.train.trainer import TrainConfig, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    samples = load_cache(args.cache)
    seconds: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(args.repeats):
        for workers in (0, 1):
            config = TrainConfig(
                steps=args.steps, batch_pairs=8, workers=workers, threads=args.threads
            )
            started = time.perf_counter()
            train(samples, config)
            seconds[workers].append((time.perf_counter() - started) / args.steps)
    for workers, runs in seconds.items():
        listed = ", ".join(f"{s:.2f}" for s in runs)
        print(f"workers={workers}: {statistics.median(runs):.2f} s/step (runs: {listed})")
    print(f"speed-up: {statistics.median(seconds[0]) / statistics.median(seconds[1]):.2f}x")


if __name__ == "__main__":
    main()
