"""One pass over one file: decode, find faces, run every detector, decide the verdict.

Produces the `ScanResult` that every consumer reads. Any problem with the input becomes an
error entry in the result, never an exception, so a batch always goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np

from unmask import __version__
from unmask.config import ScanConfig
from unmask.detectors.base import Detector, ScanContext, create_detector, detector_names
from unmask.errors import TimeBudgetExceededError, UnmaskError
from unmask.faces import FaceDetector, crop_face, find_faces
from unmask.media import FrameTap, Media, open_media
from unmask.models import ModelNotInstalledError
from unmask.result import FaceTrack, MediaSummary, ScanError, ScanResult
from unmask.verdict import decide
from unmask.worker import FileWorker, report_progress

log = logging.getLogger(__name__)

FACE_DETECTION_CHECK = "faces (MTCNN face detector, see unmask/models/mtcnn.md)"
PREVIEW_MAX_SIDE = 720
"""`ScanResult.preview` is shrunk to this longest side: enough to recognise the file, and what
the web app shows; a report shows it smaller still."""

Progress = Callable[[tuple[str, int, int]], None]
"""Told (what is being done, how many done, how many in all) as a scan goes: "decoding frames",
"finding faces" (frames searched) and "running checks" (detectors run)."""


class Scanner:
    """Holds the loaded models and detectors; scan as many files as you like with one."""

    def __init__(self, config: ScanConfig | None = None) -> None:
        """Load the detectors. A detector whose model is not installed is skipped (and named
        in `skipped`) unless it was asked for by name; a damaged model raises `ModelError`."""
        self.config = config or ScanConfig()
        chosen = self.config.detectors
        names = chosen if chosen is not None else tuple(detector_names())
        self.detectors: list[Detector] = []
        self.skipped: dict[str, str] = {}
        for name in names:
            try:
                self.detectors.append(create_detector(name, self.config))
            except ModelNotInstalledError as exc:
                if chosen is not None:
                    raise
                self.skipped[name] = exc.message
        self._faces: FaceDetector | None = None

    @property
    def face_detector(self) -> FaceDetector:
        if self._faces is None:
            self._faces = FaceDetector()
        return self._faces

    def scan(
        self,
        path: str | Path,
        display_name: str | None = None,
        on_progress: Progress | None = None,
        tap: FrameTap | None = None,
    ) -> ScanResult:
        """Scan one file. Never raises for a bad input: the result carries the error.
        `on_progress` hears each step (see `Progress`); a video's take seconds. `tap` is shown
        every frame of a video in the same decoding pass (`unmask.media.FrameTap`): a report
        hashes the video with it instead of decoding the file again."""
        name = display_name or str(path)
        decoding = None
        if on_progress is not None:

            def decoding(done: int, planned: int) -> None:
                on_progress(("decoding frames", done, planned))

        started = datetime.now(UTC).isoformat(timespec="seconds")
        clock = time.monotonic()
        deadline = clock + self.config.limits.time_budget_s
        result = ScanResult(path=name, tool_version=__version__, started_at=started, elapsed_s=0)
        try:
            media = open_media(
                path,
                self.config.limits,
                n_frames=self.config.frames,
                fps=self.config.fps,
                deadline=deadline,
                display_name=name,
                near_keyframes=not self.config.exact_times,
                progress=decoding,
                every_frame=tap,
            )
            result.sha256 = media.sha256
            result.media = _summary(media)
            self._analyse(media, result, deadline, on_progress)
            if self.config.keep_preview:
                result.preview = preview(media, result)
        except Exception as exc:  # a bug of ours must not stop a batch or lose other results
            log.debug("error while scanning %s", name, exc_info=True)
            result.error = scan_error(exc)
        result.elapsed_s = round(time.monotonic() - clock, 3)
        return result

    def scan_many(self, paths: Iterable[Path]) -> Iterator[ScanResult]:
        for path in paths:
            yield self.scan(path)

    def find_faces(
        self, media: Media, deadline: float | None = None, on_progress: Progress | None = None
    ) -> list[FaceTrack]:
        """Detect faces in every sampled frame and link them into tracks."""
        searched = 0

        def before_frame() -> None:
            nonlocal searched
            _check(deadline, "finding faces")
            if on_progress is not None:
                on_progress(("finding faces", searched, len(media.frames)))
            searched += 1

        tracks, _ = find_faces(media.frames, self.face_detector, before_frame)
        return tracks

    def _analyse(
        self, media: Media, result: ScanResult, deadline: float, on_progress: Progress | None
    ) -> None:
        tracks = self.find_faces(media, deadline, on_progress)
        context = ScanContext(media=media, tracks=tracks)
        if any(d.scope == "face" for d in self.detectors):
            context.crops = self._crops(media, tracks)
        checks = [FACE_DETECTION_CHECK]
        face_probability, face_model, not_for_this_kind = None, None, None
        for done, detector in enumerate(self.detectors):
            _check(deadline, f"running the {detector.name} check")
            if on_progress is not None:
                on_progress(("running checks", done, len(self.detectors)))
            if detector.card is not None and media.kind not in detector.card.media:
                not_for_this_kind = detector.card  # validated on other media: no unbacked score
                continue
            try:
                findings = detector.analyse(context)
            except Exception as exc:  # one failing check must not hide the others' findings
                log.debug("detector %s failed on %s", detector.name, media.path, exc_info=True)
                assert result.media is not None
                result.media.warnings.append(
                    f"the {detector.name} check failed on this file ({type(exc).__name__}: {exc})"
                )
                continue
            checks.append(f"{detector.name}: {detector.covers}")
            if detector.card is not None and detector.scope == "face":
                face_model = detector.card
                face_probability = detector.face_probability(findings)
            if not self.config.keep_maps:
                for finding in findings:
                    finding.maps = {}
            result.findings.extend(findings)
        result.faces = tracks
        result.verdict = decide(
            result.findings,
            tracks,
            checks,
            face_probability=face_probability,
            face_model=face_model,
            face_model_not_run=not_for_this_kind if face_model is None else None,
            media_kind=media.kind,
        )

    def _crops(self, media: Media, tracks: list[FaceTrack]) -> dict:
        frames = {frame.index: frame for frame in media.frames}
        return {
            (track.track_id, d.frame_index): crop_face(
                frames[d.frame_index].rgb, d.box, self.config.face_margin, self.config.crop_size
            )
            for track in tracks
            for d in track.detections
        }


class IsolatedScanner:
    """A `Scanner` living in a worker process, so that each file's time budget is enforced from
    outside: a file still running `KILL_GRACE_S` after its budget has its worker killed (and
    replaced for the next file) and gets a `time_budget_exceeded` error entry. Models load
    once per run, in the worker. Use as a context manager; `start()` raises the `Scanner`'s
    own errors (an unknown detector, a missing model) in the caller's process."""

    def __init__(self, config: ScanConfig | None = None) -> None:
        self.config = config or ScanConfig()
        self._worker = FileWorker(self.config.limits.time_budget_s, partial(Scanner, self.config))

    def __enter__(self) -> IsolatedScanner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self._worker.start()

    def close(self) -> None:
        self._worker.close()

    def scan(
        self,
        path: str | Path,
        display_name: str | None = None,
        on_progress: Progress | None = None,
    ) -> ScanResult:
        """Scan one file in the worker. Never raises for a bad input. `on_progress` is called
        here, in this process, as the worker reports each step."""
        name = display_name or str(path)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        clock = time.monotonic()
        try:
            return self._worker.run(
                _scan_one, str(path), name, on_progress is not None, on_progress=on_progress
            )
        except Exception as exc:  # a bug of ours must not stop a batch
            error = scan_error(exc)
        return ScanResult(
            path=name,
            tool_version=__version__,
            started_at=started,
            elapsed_s=round(time.monotonic() - clock, 3),
            error=error,
        )


def scan_error(exc: BaseException) -> ScanError:
    """The error entry for a file whose scan raised `exc`: our own errors as they are, running
    out of memory as `out_of_memory`, anything else as a bug to report (the batch goes on)."""
    if isinstance(exc, UnmaskError):
        return ScanError(exc.code, exc.message, exc.hint)
    if isinstance(exc, MemoryError):
        return ScanError(
            "out_of_memory",
            "the file needed more memory than this computer has",
            "lower --max-pixels or sample fewer frames",
        )
    return ScanError(
        "internal_error",
        f"unmask failed on this file ({type(exc).__name__}: {exc})",
        "please report this as a bug, with the file if you can share it",
    )


def _scan_one(scanner: Scanner, path: str, name: str, report: bool = False) -> ScanResult:
    return scanner.scan(path, display_name=name, on_progress=report_progress if report else None)


def _check(deadline: float | None, doing: str) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise TimeBudgetExceededError(
            f"the per-file time budget ran out while {doing}",
            "raise it with --time-budget, or sample fewer frames",
        )


def preview(media: Media, result: ScanResult) -> np.ndarray | None:
    """The picture that stands for a scanned file, from its decoded frames: the picture itself,
    or for a video the sampled frame where the face model scored highest (else the middle
    sampled frame), shrunk to at most PREVIEW_MAX_SIDE."""
    from PIL import Image

    if not media.frames:
        return None
    frame = media.frames[len(media.frames) // 2] if media.kind == "video" else media.frames[0]
    scored = [
        (point["probability"], point["time_s"])
        for finding in result.findings
        if finding.code == "face_manipulation"
        for point in finding.evidence.get("frames", [])
    ]
    if scored and media.kind == "video":
        best = max(scored)[1]
        frame = min(media.frames, key=lambda f: abs(f.time_s - best))
    picture = Image.fromarray(frame.rgb)
    picture.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE), Image.Resampling.LANCZOS)
    return np.asarray(picture)


def _summary(media: Media) -> MediaSummary:
    return MediaSummary(
        kind=media.kind,
        format=media.format,
        mime=media.mime,
        size_bytes=media.size_bytes,
        width=media.width,
        height=media.height,
        duration_s=media.duration_s,
        fps=media.fps,
        frame_count=media.frame_count,
        frames_sampled=len(media.frames),
        sample_times_s=[frame.time_s for frame in media.frames],
        warnings=list(media.warnings),
    )
