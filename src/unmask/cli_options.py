"""Options shared by several commands, written once so their meaning and defaults agree."""

from __future__ import annotations

import click

from unmask.media.limits import DEFAULT_SAMPLE_FRAMES

frames_option = click.option(
    "--frames",
    type=click.IntRange(min=1),
    default=DEFAULT_SAMPLE_FRAMES,
    show_default=True,
    help="Frames sampled evenly from each video (the DFDC/SBI default is 32).",
)
