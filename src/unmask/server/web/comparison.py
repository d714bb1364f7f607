"""The comparison with the original on the web pages: originals uploaded beside the file to
check are kept in the job's folder, compared with it after its scan (`unmask.compare`, through
`add_comparison`, so an `altered` outcome is the verdict's strong finding), and the evidence
pictures are written blurred and sharp like every other picture of a job.

The originals are the person's own photos or videos: they are deleted with the job, and once
the evidence report is made, like the upload itself.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from PIL import Image

from unmask.compare.result import Comparison
from unmask.compare.scan_finding import add_comparison
from unmask.config import ScanConfig
from unmask.errors import UnmaskError
from unmask.report.comparison import picture_title, strip_folders, write_pictures
from unmask.result import ScanResult
from unmask.server.web.images import JobImage
from unmask.worker import FileWorker

ORIGINALS_FOLDER = "originals"
PICTURES_FOLDER = "compare"


def keep_originals(folder: Path, originals: list[tuple[str, Path]]) -> list[Path]:
    """Put the uploaded originals (display name, received file) into a job's folder, each under
    its own cleaned name (the comparison's sentences name them). Hard links where possible, so
    several jobs share one received original without copying it."""
    kept = []
    for index, (filename, received) in enumerate(originals, start=1):
        target = folder / ORIGINALS_FOLDER / str(index) / safe_filename(filename)
        target.parent.mkdir(parents=True, mode=0o700)
        try:
            os.link(received, target)
        except OSError:
            shutil.copyfile(received, target)
        kept.append(target)
    return kept


Compared = tuple[ScanResult, Comparison | None, dict[str, tuple[Path, Path]], dict[str, JobImage]]


def compare_job_isolated(
    folder: Path,
    upload: Path,
    filename: str,
    originals: list[Path],
    result: ScanResult,
    config: ScanConfig,
) -> Compared:
    """`compare_job` in a worker process of its own, under the file's time budget, as the
    scan itself runs: the originals are uploads too, and a decoder stuck or crashing on one
    must end that comparison, not the server. Returns the result with the comparison's
    finding (or, when it failed, a warning saying why)."""
    try:
        with FileWorker(config.limits.time_budget_s) as worker:
            return worker.run(_compare_task, folder, upload, filename, originals, result, config)
    except UnmaskError as exc:
        if result.media is not None:
            result.media.warnings.append(f"the original could not be compared: {exc.message}")
        return result, None, {}, {}


def _compare_task(state: object, *args: object) -> Compared:
    folder, upload, filename, originals, result, config = args
    comparison, pictures, images = compare_job(
        folder,
        upload,
        filename,
        originals,
        result,
        config,  # type: ignore[arg-type]
    )
    return result, comparison, pictures, images  # type: ignore[return-value]


def compare_job(
    folder: Path,
    upload: Path,
    filename: str,
    originals: list[Path],
    result: ScanResult,
    config: ScanConfig,
) -> tuple[Comparison | None, dict[str, tuple[Path, Path]], dict[str, JobImage]]:
    """Compare a scanned upload with its originals; returns the comparison (None when it could
    not be made: the reason is a warning of the result), its pictures (blurred, sharp) and the
    pictures as the page shows them."""
    comparison = add_comparison(result, upload, originals, config, keep_maps=True)
    if comparison is None:
        return None, {}, {}
    # The upload's name in the job folder means nothing to her: her file's name instead.
    comparison.summary = comparison.summary.replace(upload.name, filename)
    for finding in result.findings:
        if finding.detector == "compare":
            finding.summary = comparison.summary
            finding.evidence["summary"] = comparison.summary
    strip_folders(result.findings)
    pictures = write_pictures(comparison, folder / PICTURES_FOLDER)
    images = {}
    for stem, (blurred, sharp) in pictures.items():
        name = f"compare-{stem}"
        title, caption = picture_title(stem)
        with Image.open(sharp) as picture:
            width, height = picture.size
        images[name] = JobImage(
            name=name,
            title=title,
            caption=caption,
            group="compare",
            width=width,
            height=height,
            sharp_file=sharp.relative_to(folder).as_posix(),
            blurred_file=blurred.relative_to(folder).as_posix(),
        )
    return comparison, pictures, images


def remove_originals(folder: Path) -> None:
    shutil.rmtree(folder / ORIGINALS_FOLDER, ignore_errors=True)


def safe_filename(name: str) -> str:
    """A display name as a file name: letters, digits, dot, dash and underscore only."""
    cleaned = re.sub(r"[^\w.-]+", "_", name, flags=re.ASCII).strip("._")[:80]
    return cleaned or "original"
