"""Report pages: the takedown questions for one scanned file, the sealed evidence package to
download, and a page that checks an evidence package someone received.

The package is the one `unmask report` writes (`unmask.report.package`); the scan already made
for the result page is reused, so the file is not scanned again. Once the package is made, the
uploaded file itself is deleted: the package keeps its hashes, and the person keeps her copy.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import FileResponse, RedirectResponse, Response

from unmask.errors import UnmaskError
from unmask.report.package import (
    BuiltPackage,
    PackageOptions,
    Sighting,
    build_package,
    evidence_item,
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

router = APIRouter(include_in_schema=False)

MAX_PACKAGE_BYTES = 1 << 30
"""Largest evidence package zip the check page accepts."""


@dataclass
class MadeReport:
    """A package made for one job: its zip, and what the person should know about it."""

    zip_path: Path
    built: BuiltPackage
    answers: Answers


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
        made = await run_in_threadpool(_build, job, answers, sighting, options)
    except UnmaskError as exc:
        context = _form_context(job, error=exc.message, hint=exc.hint, values=values)
        return render(request, "report_form.html", context, 400)
    _reports(request)[job.id] = made
    return RedirectResponse(f"/jobs/{job.id}/report/ready", status_code=303)


_BUILDING = threading.Lock()
"""One package is made at a time: PDF layout is heavy, and two requests for the same job must
not write into the same folder."""


def _build(job: Job, answers: Any, sighting: Sighting, options: PackageOptions) -> MadeReport:
    with _BUILDING:
        return _build_now(job, answers, sighting, options)


def _build_now(job: Job, answers: Any, sighting: Sighting, options: PackageOptions) -> MadeReport:
    assert job.result is not None
    if not job.upload.exists():
        raise UnmaskError(
            "the uploaded file was already deleted, so the report cannot be made",
            "upload the file again",
        )
    # The scan's maps were written to the job's folder, not kept in memory: read them back.
    findings = [
        replace(finding, maps=job.map_arrays(index))
        for index, finding in enumerate(job.result.findings)
    ]
    item = evidence_item(job.upload, job.filename, replace(job.result, findings=findings))
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
    return MadeReport(zip_path, built, answers)


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
