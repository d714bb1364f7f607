"""A contact sheet of the training fakes, to look at by eye before training on them.

Each row: an unaltered face from a training cache, a donor paste into it
(`unmask.train.donor_paste`), a self-blend of it (`unmask.train.sbi`), and the donor paste's
mask. The faces come from the shared research media, whose licence forbids showing them in the
project's documentation: write the sheet outside the repository and look at it there.

    .venv/bin/python scripts/training_contact_sheet.py --cache runs/cache/held_out.npz \
        --out runs/contact_sheet.png [--count-fallbacks 300]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from unmask.train.data import load_cache
from unmask.train.donor_paste import donor_paste, paste_region
from unmask.train.sbi import self_blend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True, help="a cache .npz of unmask train")
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--count-fallbacks",
        type=int,
        default=0,
        metavar="N",
        help="also draw N random pairs and say how many give a self-blend instead of a paste "
        "(the donor's picture does not cover the mask)",
    )
    args = parser.parse_args()
    samples = load_cache(args.cache)
    if len(samples) < 2:
        parser.error(f"{args.cache} holds {len(samples)} face(s); a paste needs two")
    rng = np.random.default_rng(args.seed)
    if args.count_fallbacks:
        fallbacks = 0
        for _ in range(args.count_fallbacks):
            target, other = rng.choice(len(samples), 2, replace=False)
            fallbacks += paste_region(samples[int(target)], samples[int(other)], rng) is None
        drawn = args.count_fallbacks
        print(
            f"{fallbacks} of {drawn} drawn pairs ({fallbacks / drawn:.0%}) give a self-blend "
            "instead of a paste"
        )
    rows = []
    for _ in range(args.rows):
        target, other = rng.choice(len(samples), 2, replace=False)
        face, donor = samples[int(target)], samples[int(other)]
        paste = donor_paste(face, donor, rng)
        blend = self_blend(face, rng).image
        mask = np.repeat((paste.mask[..., None] * 255).astype(np.uint8), 3, axis=2)
        rows.append(np.concatenate([face.rgb, paste.image, blend, mask], axis=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"{args.rows} rows (face, donor paste, self-blend, paste mask) in {args.out}")


if __name__ == "__main__":
    main()
