"""Stills of the held-out real videos, as an extra set of real photos for the face check's gate.

The held-out photos of shared/data/faces/real are the only real photos never trained on, and
after several rounds of choosing settings their evaluation half has been looked at. The real
videos kept out of training (`unmask.train.data.split_data(...).evaluation_videos`: the
DeepFaceLive originals, the phone-camera and public-footage clips) show other people, and a
screenshot of one is a photo a person may well check. This writes `--per-video` evenly spaced
frames of each as lossless PNG (a screenshot: no new compression) and a label file for
`unmask eval`:

    .venv/bin/python scripts/video_stills.py --data ../shared/data --out runs/stills
    .venv/bin/unmask eval runs/stills/labels.csv --model MODEL.onnx -o runs/eval-stills

The stills stay outside the repository (shared/data's licence rules).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from PIL import Image

from unmask.errors import UnmaskError
from unmask.media import open_media
from unmask.train.data import split_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-video", type=int, default=3)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    videos = split_data(args.data).evaluation_videos
    with (args.out / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label", "media", "manipulation", "method", "source"])
        for video in videos:
            # One more sample than kept, dropping the first: the opening frame is often black
            # or a title.
            try:
                media = open_media(video, n_frames=args.per_video + 1)
            except UnmaskError as error:
                print(f"{video.name}: skipped ({error})", flush=True)
                continue
            for frame in media.frames[1:]:
                # The video's whole file name: the gate puts each still in its video's half.
                name = f"{video.name}__{frame.index:05d}.png"
                Image.fromarray(frame.rgb).save(args.out / name)
                writer.writerow([name, "real", "image", "none", "video_still", video.name])
            print(f"{video.name}: {len(media.frames) - 1} stills", flush=True)


if __name__ == "__main__":
    main()
