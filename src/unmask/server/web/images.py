"""Pictures on a result page: a preview of the file, face heatmaps and forensic maps, each
written twice into the job's private folder: sharp, and blurred beyond recognition.

The page only ever loads the blurred file; the sharp one has its own URL, fetched when the user
presses "Reveal" on that picture. Blurring is `unmask.report.pictures.blurred`, the same as
in evidence reports: the picture is reduced to a few blocks of colour first, so no detail
exists in it to recover.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from unmask.report.pictures import PREVIEW_CAPTION, blurred, describe_map
from unmask.result import ScanResult
from unmask.scan import PREVIEW_MAX_SIDE as SCAN_PREVIEW_MAX_SIDE

PREVIEW_MAX_SIDE = SCAN_PREVIEW_MAX_SIDE
"""The sharp preview of the file is shrunk to this longest side: enough to recognise it."""
JPEG_QUALITY = 88

Group = Literal["preview", "face", "forensic", "compare"]


@dataclass(frozen=True)
class JobImage:
    name: str
    title: str
    caption: str
    group: Group
    width: int
    height: int
    sharp_file: str
    blurred_file: str
    track_id: int | None = None

    @property
    def sharp_type(self) -> str:
        return "image/png" if self.sharp_file.endswith(".png") else "image/jpeg"


def write_images(folder: Path, result: ScanResult) -> dict[str, JobImage]:
    """Write the preview, heatmaps and maps of one scanned file; returns them by name. The
    preview is the scan's own (`ScanConfig.keep_preview`): the upload is not decoded again."""
    images: dict[str, JobImage] = {}
    if result.error is not None:
        return images
    if result.preview is not None and result.media is not None:
        preview = Image.fromarray(result.preview)
        preview.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE), Image.Resampling.LANCZOS)
        caption = PREVIEW_CAPTION[result.media.kind]
        images["preview"] = _save(folder, "preview", preview, "Preview", caption, "preview")
    for finding in result.findings:
        for map_name, array in finding.maps.items():
            name = image_name(finding.detector, map_name)
            picture = Image.fromarray(np.asarray(array, dtype=np.uint8))
            title, caption = describe_map(map_name, finding)
            if map_name.startswith("heatmap_track") and finding.track_id is not None:
                images[name] = _save(
                    folder, name, picture, title, caption, "face", finding.track_id
                )
            else:
                images[name] = _save(folder, name, picture, title, caption, "forensic")
    return images


def _save(
    folder: Path,
    name: str,
    picture: Image.Image,
    title: str,
    caption: str,
    group: Group,
    track_id: int | None = None,
) -> JobImage:
    photo_like = group != "forensic"
    sharp_file = f"{name}.jpg" if photo_like else f"{name}.png"
    if photo_like:
        picture.convert("RGB").save(folder / sharp_file, quality=JPEG_QUALITY)
    else:
        picture.save(folder / sharp_file)
    blurred_file = f"{name}.blurred.jpg"
    shown = blurred(picture)
    shown.save(folder / blurred_file, quality=JPEG_QUALITY)
    return JobImage(
        name=name,
        title=title,
        caption=caption,
        group=group,
        width=picture.width,
        height=picture.height,
        sharp_file=sharp_file,
        blurred_file=blurred_file,
        track_id=track_id,
    )


def image_name(detector: str, map_name: str) -> str:
    """The name under which a detector's map is kept (and served) for a job."""
    return _safe_name(f"{detector}-{map_name}")


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name)[:80]
