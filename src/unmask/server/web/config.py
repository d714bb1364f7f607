"""The web pages' settings: how many scans at once, how big an upload, how long files stay."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from unmask.media.sampling import DEFAULT_SAMPLE_FRAMES
from unmask.server.guard import LOOPBACK_HOSTS
from unmask.server.limits import BODY_IDLE_TIMEOUT_S

# Scans are CPU-bound (decoding, face detection, ONNX Runtime); one at a time keeps a laptop
# responsive, and a bigger machine can raise it with `unmask serve --workers`.
DEFAULT_WORKERS = 1
DEFAULT_QUEUE_SIZE = 16
"""Files waiting for a worker beyond those being scanned; more are refused with "busy"."""
DEFAULT_MAX_UPLOAD_BYTES = 500 * 1024**2
"""Per file. Phone videos of a few minutes fit; the scan's own limits still apply after this."""
DEFAULT_RETENTION_S = 60 * 60.0
"""Uploads, previews and results are deleted this long after their scan finished."""
DEFAULT_FRAMES = DEFAULT_SAMPLE_FRAMES
"""Frames sampled from each video: the command line's default (32), so that the same file gets
the same result on the page and in `unmask scan`. Sampling near keyframes keeps decoding them
cheap; finding faces in 32 frames instead of 16 costs about twice the time (issue 17)."""
MAX_FILES_PER_UPLOAD = 20


@dataclass(frozen=True)
class WebConfig:
    workers: int = DEFAULT_WORKERS
    queue_size: int = DEFAULT_QUEUE_SIZE
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    retention_s: float = DEFAULT_RETENTION_S
    frames: int | None = DEFAULT_FRAMES
    upload_dir: Path | None = None
    """Where the private upload folder is made (None: the system's temporary folder)."""
    max_files: int = MAX_FILES_PER_UPLOAD
    allowed_hosts: tuple[str, ...] | None = LOOPBACK_HOSTS
    """Host names the server answers for (DNS rebinding); None answers for any (a server bound
    to every address, whose names are not known)."""
    body_idle_timeout_s: float = BODY_IDLE_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.workers < 1 or self.queue_size < 0 or self.max_upload_bytes < 1:
            raise ValueError("workers must be >= 1, queue_size >= 0, max_upload_bytes >= 1")
