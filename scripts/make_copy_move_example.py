"""Make the README's copy-move example from examples/astronaut.jpg (a NASA portrait in the
public domain): the mission patch on the suit copied onto the backdrop, saved as JPEG q90, and
the copied-regions map unmask writes for it (with its legend), in docs/forensics/.

    .venv/bin/python scripts/make_copy_move_example.py
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from unmask.detectors.copy_move import copy_move
from unmask.map_views import legend_for, with_legend

REPO = Path(__file__).resolve().parents[1]
ORIGINAL = REPO / "examples" / "astronaut.jpg"
CLONED = REPO / "examples" / "astronaut-cloned.jpg"
MAP = REPO / "docs" / "forensics" / "copy-move.png"

PATCH_CENTRE, PASTE_CENTRE, RADIUS = (170, 385), (330, 75), 40
"""The mission patch on the suit, and a place on the plain backdrop beside the head."""


def main() -> None:
    rgb = np.asarray(Image.open(ORIGINAL).convert("RGB"))
    yy, xx = np.mgrid[-RADIUS:RADIUS, -RADIUS:RADIUS]
    disc = xx**2 + yy**2 < RADIUS**2
    (px, py), (qx, qy) = PATCH_CENTRE, PASTE_CENTRE
    cloned = rgb.copy()
    target = cloned[qy - RADIUS : qy + RADIUS, qx - RADIUS : qx + RADIUS]
    target[disc] = rgb[py - RADIUS : py + RADIUS, px - RADIUS : px + RADIUS][disc]
    buffer = io.BytesIO()
    Image.fromarray(cloned).save(buffer, "JPEG", quality=90)
    CLONED.write_bytes(buffer.getvalue())
    decoded = np.asarray(Image.open(CLONED).convert("RGB"))
    finding = copy_move(decoded)
    if finding is None:
        raise SystemExit("no copied region found: the example would show nothing")
    MAP.parent.mkdir(parents=True, exist_ok=True)
    legend = legend_for("copy_move", finding)
    assert legend is not None
    picture = with_legend(finding.maps["copy_move"], legend)
    picture.quantize(colors=128).save(MAP, optimize=True)
    print(MAP.relative_to(REPO), CLONED.relative_to(REPO))
    print(finding.summary)


if __name__ == "__main__":
    main()
