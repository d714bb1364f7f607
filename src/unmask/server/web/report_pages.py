"""Report pages: the takedown questions for one scanned file, the sealed evidence package to
download, and a page that checks an evidence package someone received.

The package is the one `unmask report` writes (`unmask.report.package`); the scan already made
for the result page is reused, so the file is not scanned again. Once the package is made, the
uploaded file itself is deleted: the package keeps its hashes, and the person keeps her copy.

The hashes are the one step that decodes the upload again (PDQ of a picture, vPDQ of every
frame of a video), so they are computed as the scan is: in a worker process under the scan's
time budget and memory cap, with no lock held. A hostile or huge file then costs its own report
its PDQ/vPDQ (the package says they are missing and why, and keeps the SHA-256 and MD5, read
from the bytes without decoding), never the server or anyone else's report.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import FileResponse, RedirectResponse, Response

from unmask.errors import TimeBudgetExceededError, UnmaskError
from unmask.hashing import (
    BUSY_RETRY_AFTER_S,
    FileHashes,
    ServerBusyError,
    file_md5,
    file_sha256,
    hash_file_isolated,
)
from unmask.report.package import (
    BuiltPackage,
    EvidenceItem,
    PackageOptions,
    Sighting,
    build_package,
    zip_package,
)
from unmask.report.received import check_package_at
from unmask.report.routes import choose_routes, load_directory, where_to_send
from unmask.report.takedown import (
    NOTICE_KINDS,
    NOTICE_TITLES,
    QUESTION_DEPENDS,
    Answers,
    answers_from_dict,
    applies,
    questions,
)
from unmask.report.times import local_zone_name
from unmask.server.guard import FORM_FIELD
from unmask.server.web.comparison import remove_originals
from unmask.server.web.jobs import Job
from unmask.server.web.pages import read_form, scan_queue
from unmask.server.web.rendering import PageError, render
from unmask.server.web.uploads import UploadError, receive_form
from unmask.worker import OutOfMemoryError, WorkerCrashedError, WorkerKilledError

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

MAX_PACKAGE_BYTES = 1 << 30
"""Largest evidence package zip the check page accepts."""


@dataclass
class MadeReport:
    """A package made for one job: its zip, and what the person should know about it."""

    zip_path: Path
    built: BuiltPackage
    answers: Answers
    missing_hashes: str | None = None
    """Why the package lacks the file's PDQ/vPDQ (None when it has them), for the page."""


def _scanned_job(request: Request, job_id: str) -> Job:
    job = scan_queue(request).get(job_id)
    if job is None:
        raise PageError(
            404,
            "This scan is not here any more, so no report can be made from it.",
            "Upload the file again to scan it and make a report.",
            title="Scan not found",
        )
    if not job.finished or job.result is None:
        raise PageError(409, "The scan has not finished yet.", "Wait for the result first.")
    if job.result.error is not None:
        raise PageError(
            409,
            "This file could not be read, so no evidence report can be made from it: there is "
            "no analysis to record, and a package would hold only its SHA-256.",
            "Check the file (it may be damaged or incomplete), or upload a complete copy.",
            title="No report for this file",
        )
    return job


def _reports(request: Request) -> dict[str, MadeReport]:
    """Reports made, by job; forgotten with their job (deleted or expired)."""
    if not hasattr(request.app.state, "reports"):
        request.app.state.reports = {}
    reports: dict[str, MadeReport] = request.app.state.reports
    queue = scan_queue(request)
    for job_id in [j for j in reports if queue.get(j) is None]:
        reports.pop(job_id, None)
    return reports


@router.get("/jobs/{job_id}/report")
def report_form(request: Request, job_id: str) -> Response:
    job = _scanned_job(request, job_id)
    return render(request, "report_form.html", _form_context(job))


def _form_context(job: Job, **extra: Any) -> dict[str, Any]:
    return {
        "job": job,
        "questions": [
            {"name": n, "text": t, "kind": k, "depends": QUESTION_DEPENDS.get(n)}
            for n, t, k in questions()
        ],
        "notices": [(kind, NOTICE_TITLES[kind]) for kind in NOTICE_KINDS],
        "upload_kept": job.upload.exists(),
        "local_zone": local_zone_name(),
        **extra,
    }


@router.post("/jobs/{job_id}/report")
async def make_report(request: Request, job_id: str) -> Response:
    job = _scanned_job(request, job_id)
    form = (await read_form(request)).fields
    values = {key: value[0] for key, value in form.items() if key != FORM_FIELD}
    try:
        data: dict[str, object] = {}
        for name, _, kind in questions():
            raw = values.get(name, "").strip()
            if kind == "yes_no":
                data[name] = name in values
            elif kind == "list":
                data[name] = raw.split()
            else:
                data[name] = raw
        answers = answers_from_dict(data, "the form")
        for name in QUESTION_DEPENDS:  # a hidden question's leftover text is not her answer
            if not applies(name, answers):
                setattr(answers, name, getattr(Answers(), name))
        sighting = Sighting.from_answers(
            list(answers.urls),
            values.get("found_at", "").strip(),
            values.get("notes", "").strip(),
            values.get("time_zone", "").strip() or None,
        )
        chosen = tuple(k for k in NOTICE_KINDS if f"notice_{k}" in form)
        options = PackageOptions(reveal="reveal" in form, notices=chosen)
        budget_s = scan_queue(request).scan_config.limits.time_budget_s
        made = await run_in_threadpool(_build, job, answers, sighting, options, budget_s)
    except ReportInProgressError as exc:
        context = _form_context(job, error=exc.message, hint=exc.hint, values=values)
        return render(request, "report_form.html", context, 409)
    except ServerBusyError:
        context = _form_context(
            job,
            error="The server is too busy to make your report just now.",
            hint=f"Nothing was lost: your answers are still below. Send them again in "
            f"{BUSY_RETRY_AFTER_S} seconds.",
            values=values,
        )
        page = render(request, "report_form.html", context, 503)
        page.headers["Retry-After"] = str(BUSY_RETRY_AFTER_S)
        return page
    except UnmaskError as exc:
        context = _form_context(job, error=exc.message, hint=exc.hint, values=values)
        return render(request, "report_form.html", context, 400)
    _reports(request)[job.id] = made
    return RedirectResponse(f"/jobs/{job.id}/report/ready", status_code=303)


_BUILDING = threading.Lock()
"""One package is written at a time: PDF layout is heavy, and two requests for the same job
must not write into the same folder. Held only while writing, never while the upload is
decoded (`hash_upload` runs before it is taken)."""

_IN_FLIGHT: set[str] = set()
"""Jobs whose report is being made now: a second request for one of them is refused at once,
instead of decoding the same upload in a second worker (and writing into the same folder)."""
_IN_FLIGHT_LOCK = threading.Lock()

PERCEPTUAL_HASH = {"image": "PDQ", "video": "vPDQ"}


class ReportInProgressError(UnmaskError):
    """Another request is making this job's report now."""


@dataclass
class UploadHashes:
    """The upload's hashes for the package, or its digests alone and why the rest is missing."""

    hashes: FileHashes | None
    error: str | None = None
    """For evidence.json and the report: which hashes are missing, and why."""
    page_message: str | None = None
    """The same, said to her on the page."""


def _build(
    job: Job, answers: Any, sighting: Sighting, options: PackageOptions, budget_s: float
) -> MadeReport:
    with _IN_FLIGHT_LOCK:
        if job.id in _IN_FLIGHT:
            raise ReportInProgressError(
                "Your report for this file is already being prepared.",
                f"Wait a moment, then open /jobs/{job.id}/report/ready to download it.",
            )
        _IN_FLIGHT.add(job.id)
    try:
        _require_upload(job)
        hashes = hash_upload(job, budget_s)
        with _BUILDING:
            return _build_now(job, hashes, answers, sighting, options)
    finally:
        with _IN_FLIGHT_LOCK:
            _IN_FLIGHT.discard(job.id)


def _require_upload(job: Job) -> None:
    if not job.upload.exists():
        raise UnmaskError(
            "the uploaded file was already deleted, so the report cannot be made",
            "upload the file again",
        )


def hash_upload(job: Job, budget_s: float) -> UploadHashes:
    """The upload's hashes, computed in a worker process of their own under `budget_s`
    (`hash_file_isolated`). When that fails (the budget ran out, the worker crashed or ran out
    of memory, the decoder refused the file), the SHA-256 and MD5 are read from the bytes here,
    which decodes nothing, and the error says the PDQ/vPDQ is missing and why (`missing_reason`).
    A busy server (`ServerBusyError`) is raised: the report waits for a retry rather than lose
    its PDQ to the server's load."""
    assert job.result is not None
    try:
        return UploadHashes(hash_file_isolated(job.upload, budget_s))
    except ServerBusyError:
        raise
    except Exception as exc:  # a bug of ours too still makes the report, without the hash
        log.warning("hashing the upload of job %s failed: %r", job.id, exc, exc_info=True)
        reason = missing_reason(exc, budget_s, job)
    kind = job.result.media.kind if job.result.media is not None else "image"
    name = PERCEPTUAL_HASH[kind]
    try:
        sha256 = job.result.sha256 or file_sha256(job.upload)
        digests: FileHashes | None = FileHashes(
            path=str(job.upload), kind=kind, sha256=sha256, md5=file_md5(job.upload)
        )
    except OSError:  # deleted meanwhile (the job expired): the scan's SHA-256 still stands
        digests = None
    reason = reason.rstrip(".")
    return UploadHashes(
        digests,
        f"{name} hash missing: {reason}",
        f"The {name} fingerprint of {job.filename} could not be computed ({reason}). The "
        "package has its SHA-256 and MD5, which match exact copies only; a copy that was "
        f"resized or re-encoded can be matched by its {name} fingerprint alone.",
    )


_PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?[/\\](?:[^\s/\\'\"]+[/\\])+[^\s'\",;:)]*")
"""An absolute path of two parts or more (a server folder in a decoder's message)."""


def missing_reason(exc: BaseException, budget_s: float, job: Job) -> str:
    """Why the PDQ/vPDQ is missing, as the package (sent to platforms and the police) and the
    page say it: one fixed sentence per kind of failure, and for a refused file the decoder's
    short reason with any path on this server cut out. The full error goes to the server log;
    hints written for the command line ("raise the budget with --time-budget") are not used."""
    if isinstance(exc, TimeBudgetExceededError):
        return f"the hashing did not finish within the time budget of {budget_s:g} s"
    if isinstance(exc, OutOfMemoryError | WorkerKilledError):
        return "the hashing ran out of memory"
    if isinstance(exc, WorkerCrashedError):
        return "the hashing process crashed"
    if isinstance(exc, UnmaskError):
        short = exc.message.replace(str(job.upload), job.filename)
        short = _PATH.sub("(a file on the server)", short).rstrip(".")
        return f"the file could not be decoded: {short}"
    return "the hashing failed because of an error in unmask"


def _build_now(
    job: Job, hashes: UploadHashes, answers: Any, sighting: Sighting, options: PackageOptions
) -> MadeReport:
    assert job.result is not None
    _require_upload(job)  # checked again: another request may have made it meanwhile
    # The scan's maps were written to the job's folder, not kept in memory: read them back.
    findings = [
        replace(finding, maps=job.map_arrays(index))
        for index, finding in enumerate(job.result.findings)
    ]
    item = EvidenceItem(
        path=job.upload,
        name=job.filename,
        result=replace(job.result, findings=findings),
        hashes=hashes.hashes,
        hash_error=hashes.error,
    )
    item.comparison, item.comparison_pictures = job.comparison, job.comparison_pictures
    folder = job.folder / "report"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    target = folder / f"evidence-{job.id[:8]}"
    built = build_package([item], target, sighting, answers, options)
    zip_path = zip_package(target)
    shutil.rmtree(target, ignore_errors=True)
    # The result and the report are made: the file itself is no longer needed here.
    job.upload.unlink(missing_ok=True)
    remove_originals(job.folder)
    return MadeReport(zip_path, built, answers, hashes.page_message)


@router.get("/jobs/{job_id}/report/ready")
def report_ready(request: Request, job_id: str) -> Response:
    job = _scanned_job(request, job_id)
    made = _reports(request).get(job.id)
    if made is None or not made.zip_path.exists():
        return RedirectResponse(f"/jobs/{job.id}/report", status_code=303)
    incomplete = {
        NOTICE_TITLES[kind]: missing for kind, missing in made.built.incomplete_notices.items()
    }
    notices = [
        {**notice, "send_to": where_to_send(notice["kind"], made.answers)}
        for notice in made.built.notices
        if not notice["left_out"]
    ]
    context = {
        "job": job,
        "notices": notices,
        "routes": choose_routes(made.answers),
        "routes_directory": load_directory(),
        "fingerprint": made.built.fingerprint,
        "files": made.built.files,
        "incomplete": incomplete,
        "left_out": {NOTICE_TITLES[k]: why for k, why in made.built.left_out_notices.items()},
        "warnings": made.built.warnings,
        "missing_hashes": made.missing_hashes,
        "size_kb": max(1, made.zip_path.stat().st_size // 1024),
    }
    return render(request, "report_ready.html", context)


@router.get("/jobs/{job_id}/report.zip")
def report_download(request: Request, job_id: str) -> Response:
    job = _scanned_job(request, job_id)
    made = _reports(request).get(job.id)
    if made is None or not made.zip_path.exists():
        raise PageError(404, "No report has been made for this file yet.", title="Not found")
    return FileResponse(
        made.zip_path,
        media_type="application/zip",
        filename=made.zip_path.name,
        headers={"Cache-Control": "no-store, private"},
    )


@router.get("/verify")
def verify_form(request: Request) -> Response:
    return render(request, "verify_package.html", {})


@router.post("/verify")
async def verify_package(request: Request) -> Response:
    """Check a received package .zip: every file's hash against the signed manifest."""
    queue = scan_queue(request)
    staging = await run_in_threadpool(queue.staging_folder)
    try:
        try:
            form = await receive_form(request, staging, MAX_PACKAGE_BYTES, 1)
        except UploadError as exc:
            context = {"error": exc.message, "hint": exc.hint}
            return render(request, "verify_package.html", context, exc.status)
        if not form.files:
            context = {"error": "No file was chosen.", "hint": "Choose the package's .zip file."}
            return render(request, "verify_package.html", context, 400)
        received = form.files[0]
        try:
            check = await run_in_threadpool(
                check_package_at, received.path, None, received.filename
            )
        except UnmaskError as exc:
            return render(
                request, "verify_package.html", {"error": exc.message, "hint": exc.hint}, 400
            )
        except OSError as exc:
            context = {
                "error": f"{received.filename} could not be read as a package ({exc.strerror}).",
                "hint": "Check that it is the .zip the report was delivered as.",
            }
            return render(request, "verify_package.html", context, 400)
        context = {"check": check, "filename": received.filename}
        return render(request, "verify_package.html", context)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
