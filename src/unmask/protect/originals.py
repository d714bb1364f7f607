"""A local registry of one's protected originals: hashes and where the file is kept.

`unmask protect` records each signed file here, so that `unmask verify SUSPECT` can later find
which of your originals a suspect picture was made from, without you naming a folder. Only
hashes and the path on this computer are stored; nothing leaves the machine.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from unmask.protect.keys import unmask_home

REGISTRY_NAME = "originals.jsonl"


@dataclass(frozen=True)
class OriginalRecord:
    path: str
    sha256: str
    pdq: str | None
    pdq_quality: int | None
    protected_at: str
    author: str


def registry_path(home: Path | None = None) -> Path:
    return (home or unmask_home()) / REGISTRY_NAME


def record_original(path: Path, author: str, home: Path | None = None) -> OriginalRecord:
    """Hash a protected file and append it to the registry (JSON Lines, one file a line)."""
    from unmask import hashing
    from unmask.media import open_media

    media = open_media(path, n_frames=1)
    pdq_hex: str | None = None
    quality: int | None = None
    if media.kind == "image" and media.frames:
        pdq_hex, quality = hashing.pdq(media.frames[0].rgb)
    record = OriginalRecord(
        path=str(path.resolve()),
        sha256=media.sha256,
        pdq=pdq_hex,
        pdq_quality=quality,
        protected_at=datetime.now(UTC).isoformat(timespec="seconds"),
        author=author,
    )
    target = registry_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(record)) + "\n")
    return record


def registered_originals(home: Path | None = None) -> list[OriginalRecord]:
    """Every recorded original whose file still exists (unreadable lines are skipped)."""
    target = registry_path(home)
    if not target.is_file():
        return []
    records: list[OriginalRecord] = []
    for line in target.read_text(encoding="utf-8").splitlines():
        try:
            record = OriginalRecord(**json.loads(line))
        except (ValueError, TypeError):
            continue
        if Path(record.path).is_file():
            records.append(record)
    return records
