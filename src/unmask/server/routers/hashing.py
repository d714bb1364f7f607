"""Hash an uploaded picture or video; the upload is hashed and then deleted, never kept.

The API key is checked before a byte of the body is read (FastAPI would otherwise parse a
multipart body, spooling it to disk, before any dependency runs: 0.1 took 300 MB from a caller
without a key before answering 401), and the body is streamed to a private folder within the
server's upload size limit (`unmask.server.web.uploads`). It is hashed in a worker process of its
own under the scan's time budget (`hash_file_isolated`): a file that hangs or crashes a decoder
gets a 400 saying so, and the server goes on.
"""

from __future__ import annotations

import shutil
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from unmask.bank.store import KeyInfo
from unmask.hashing import FileHashes, hash_file_isolated
from unmask.media.limits import Limits
from unmask.server.auth import MatchKey
from unmask.server.errors import BUSY_RESPONSE, ERROR_RESPONSES, ApiError
from unmask.server.routers.models import HashesOut
from unmask.server.web.folders import make_private_folder
from unmask.server.web.uploads import UploadError, receive_form

router = APIRouter(tags=["hashing"], responses=ERROR_RESPONSES)

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
}
"""The request body, described by hand: the routes read it themselves, after the key check."""


async def hash_upload(request: Request, window_cuts: tuple[float, ...] | None) -> FileHashes:
    """Receive the one file of a multipart body (after the caller's key was checked), hash it,
    delete it."""
    # In the server's private upload folder, so that a killed server's next start removes it.
    scans = getattr(request.app.state, "scans", None)
    folder = scans.staging_folder() if scans is not None else make_private_folder(None)
    try:
        try:
            form = await receive_form(request, folder, request.app.state.max_upload_bytes, 1)
        except UploadError as exc:
            raise ApiError(exc.status, "upload", exc.message, exc.hint) from None
        if not form.files:
            raise ApiError(400, "bad_request", "no file was sent", "send it as the field 'file'")
        received = form.files[0]
        budget_s = (scans.scan_config.limits if scans is not None else Limits()).time_budget_s
        hashes = await run_in_threadpool(
            hash_file_isolated, received.path, budget_s, window_cuts=window_cuts
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    hashes.path = received.filename
    return hashes


@router.post(
    "/v1/hash",
    summary="Hash a picture or video",
    responses={
        **BUSY_RESPONSE,
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "path": "photo.jpg",
                        "kind": "image",
                        "sha256": "9f86d0...",
                        "md5": "0d12d4462273b533b9197f78b9aeb0d7",
                        "pdq": "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064",
                        "pdq_quality": 100,
                        "signals": {
                            "pdq": "e64cc9d9...",
                            "photo_md5": "0d12d4462273b533b9197f78b9aeb0d7",
                            "photo_sha256": "9f86d0...",
                        },
                    }
                }
            }
        },
    },
    openapi_extra=UPLOAD_BODY,
)
async def hash_media(request: Request, _key: KeyInfo = MatchKey) -> HashesOut:
    """sha256, md5 and pdq (pictures) or vpdq (videos); `signals` has them under their
    ThreatExchange names and encodings."""
    return HashesOut.of(await hash_upload(request, None))
