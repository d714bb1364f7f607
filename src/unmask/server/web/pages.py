"""Scan pages: upload, progress, result, pictures (blurred unless revealed), delete."""

from __future__ import annotations

import shutil
import time
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from unmask.report.comparison import comparison_facts
from unmask.report.timeline import timeline_chart
from unmask.server.web import views
from unmask.server.web.jobs import BusyError, Job, ScanQueue
from unmask.server.web.rendering import PageError, render, wants_json
from unmask.server.web.uploads import (
    ReceivedForm,
    UploadError,
    check_media_type,
    describe_size,
    receive_form,
)

router = APIRouter(include_in_schema=False)

ORIGINALS_FIELD = "originals"
"""The upload form's second file field: originals to compare each checked file with."""

BUSY_MESSAGE = "This computer is busy scanning other files. Please try again in a minute."
GONE = PageError(
    404,
    "This scan is not here any more. It was deleted — by “Delete now”, after the time this "
    "server keeps files, or when the server stopped — or the link is wrong.",
    "Upload the file again to scan it again.",
    title="Scan not found",
)


def scan_queue(request: Request) -> ScanQueue:
    """The app's scan queue (jobs, their results and files)."""
    queue: ScanQueue = request.app.state.scans
    return queue


def _job(request: Request, job_id: str) -> Job:
    job = scan_queue(request).get(job_id)
    if job is None:
        raise GONE
    return job


def _upload_context(request: Request, **extra: Any) -> dict[str, Any]:
    config = scan_queue(request).config
    return {
        "max_upload": describe_size(config.max_upload_bytes),
        "max_upload_bytes": config.max_upload_bytes,
        "max_files": config.max_files,
        "retention_minutes": round(config.retention_s / 60),
        **extra,
    }


@router.get("/")
def upload_page(request: Request, deleted: int = 0) -> Response:
    return render(request, "upload.html", _upload_context(request, deleted=bool(deleted)))


@router.post("/upload")
async def upload(request: Request) -> Response:
    """Receive one or more files and queue a scan for each (all or none)."""
    queue = scan_queue(request)
    config = queue.config
    try:
        if queue.room() == 0:
            raise UploadError(503, BUSY_MESSAGE, "Nothing was uploaded.")
        staging = await run_in_threadpool(queue.staging_folder)
        try:
            form = await receive_form(request, staging, config.max_upload_bytes, config.max_files)
            suspects = [f for f in form.files if f.field != ORIGINALS_FIELD]
            originals = [f for f in form.files if f.field == ORIGINALS_FIELD]
            if not suspects and originals:
                raise UploadError(
                    400,
                    "Only an original was chosen, no file to check.",
                    "Choose the file to check too: the original is compared with it.",
                )
            if not suspects:
                raise UploadError(400, "No file was chosen.", "Choose a picture or a video.")
            for received in form.files:
                if received.size == 0:
                    raise UploadError(
                        400,
                        f"“{received.filename}” is empty (0 bytes).",
                        "The download or copy probably failed; try the file again.",
                    )
                problem = check_media_type(received)
                if problem:
                    raise UploadError(415, problem, "Nothing was scanned.")
            jobs = queue.submit(
                [(f.filename, f.path) for f in suspects],
                [(f.filename, f.path) for f in originals],
            )
        except BusyError:
            raise UploadError(503, BUSY_MESSAGE, "Nothing was kept.") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except UploadError as exc:
        headers = {"Retry-After": "30"} if exc.status == 503 else {}
        if wants_json(request):
            body = {"error": {"code": "upload", "message": exc.message, "hint": exc.hint}}
            return JSONResponse(body, status_code=exc.status, headers=headers)
        context = _upload_context(request, error=exc.message, hint=exc.hint)
        response = render(request, "upload.html", context, exc.status)
        response.headers.update(headers)
        return response
    progress = "/progress?" + "&".join(f"job={j.id}" for j in jobs)
    if wants_json(request):
        return JSONResponse(
            {"jobs": [_status(queue, j) for j in jobs], "progress_url": progress}, status_code=202
        )
    return RedirectResponse(progress, status_code=303)


@router.get("/progress")
def progress_page(request: Request, job: list[str] = Query(default=[])) -> Response:  # noqa: B008
    queue = scan_queue(request)
    found = [j for j in (queue.get(job_id) for job_id in job[: queue.config.max_files]) if j]
    if not found:
        raise GONE
    statuses = [_status(queue, j) for j in found]
    done = all(s["finished"] for s in statuses)
    return render(request, "progress.html", {"jobs": statuses, "all_done": done})


@router.get("/jobs/{job_id}/status")
def job_status(request: Request, job_id: str) -> JSONResponse:
    queue = scan_queue(request)
    job = queue.get(job_id)
    if job is None:
        return JSONResponse({"id": job_id, "state": "deleted", "message": GONE.message}, 404)
    return JSONResponse(_status(queue, job), headers={"Cache-Control": "no-store"})


@router.get("/jobs/{job_id}")
def result_page(request: Request, job_id: str) -> Response:
    queue = scan_queue(request)
    job = _job(request, job_id)
    if not job.finished or job.result is None:
        return render(request, "progress.html", {"jobs": [_status(queue, job)], "all_done": False})
    result = job.result
    expires = queue.expires_at(job)
    context = {
        "job": job,
        "result": result,
        "verdict_class": views.verdict_class(result),
        "media_line": views.media_line(result),
        "faces": views.faces(result),
        "face_images": {i.track_id: i for i in job.images.values() if i.group == "face"},
        "preview": job.images.get("preview"),
        "forensic_images": [i for i in job.images.values() if i.group == "forensic"],
        "panels": views.panels(result),
        "comparison": comparison_facts(job.comparison) if job.comparison else None,
        "compare_images": [i for i in job.images.values() if i.group == "compare"],
        "timeline": timeline_chart(result),
        "face_model_ran": result.verdict is not None and result.verdict.face_model is not None,
        "expires": time.strftime("%H:%M", time.localtime(expires)) if expires else None,
    }
    return render(request, "result.html", context)


@router.get("/jobs/{job_id}/images/{name}")
def blurred_image(request: Request, job_id: str, name: str) -> Response:
    return _image(request, job_id, name, sharp=False)


@router.get("/jobs/{job_id}/images/{name}/sharp")
def sharp_image(request: Request, job_id: str, name: str) -> Response:
    """Only fetched when the user presses "Reveal" on this one picture."""
    return _image(request, job_id, name, sharp=True)


@router.post("/jobs/{job_id}/delete")
async def delete_job(request: Request, job_id: str) -> Response:
    """Remove the upload and everything made from it, now."""
    await read_form(request)
    await run_in_threadpool(scan_queue(request).delete, job_id)
    if wants_json(request):
        return JSONResponse({"deleted": True})
    return RedirectResponse("/?deleted=1", status_code=303)


async def read_form(request: Request) -> ReceivedForm:
    """A form without files (its token checked); a refused one is an error page."""
    try:
        return await receive_form(request, None)
    except UploadError as exc:
        raise PageError(exc.status, exc.message, exc.hint, title="Not accepted") from None


def _image(request: Request, job_id: str, name: str, sharp: bool) -> Response:
    path = _job(request, job_id).image_path(name, sharp)
    if path is None or not path.exists():
        raise PageError(404, "There is no such picture for this scan.", title="Not found")
    media_type = "image/png" if path.suffix == ".png" else "image/jpeg"
    headers = {"Cache-Control": "no-store, private"}
    return FileResponse(path, media_type=media_type, headers=headers)


def _verdict_words(job: Job) -> str:
    """A finished file's answer in the scan's words (its verdict, or why it could not be read),
    so that a page listing several files shows each one's answer."""
    result = job.result
    if not job.finished or result is None:
        return ""
    if result.error is not None:
        return f"Could not be checked: {result.error.message}"
    return result.verdict.headline if result.verdict is not None else ""


def _status(queue: ScanQueue, job: Job) -> dict[str, Any]:
    """What the progress page shows and polls for one job."""
    position = queue.position(job) if job.state == "queued" else None
    if job.state == "queued":
        ahead = (position or 1) - 1
        message = "Waiting for its turn" + (
            f" ({ahead} file{'s' if ahead != 1 else ''} ahead)" if ahead else " (next)"
        )
    elif job.state == "scanning":
        message = f"Scanning… {time.time() - (job.started_at or time.time()):.0f} s so far"
    elif job.state == "error":
        message = "Could not be scanned — see why"
    else:
        message = "Done"
    return {
        "id": job.id,
        "filename": job.filename,
        "state": job.state,
        "verdict": _verdict_words(job),
        "finished": job.finished,
        "position": position,
        "message": message,
        "status_url": f"/jobs/{job.id}/status",
        "result_url": f"/jobs/{job.id}",
    }
