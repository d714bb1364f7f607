"""Hash an uploaded picture or video; the upload is hashed in memory and then discarded."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, UploadFile
from fastapi.concurrency import run_in_threadpool

from unmask.bank.store import KeyInfo
from unmask.hashing import FileHashes, hash_file
from unmask.server.auth import MatchKey
from unmask.server.errors import ERROR_RESPONSES

router = APIRouter(tags=["hashing"], responses=ERROR_RESPONSES)


async def hash_upload(upload: UploadFile, window_cuts: tuple[float, ...] | None) -> FileHashes:
    suffix = Path(upload.filename or "upload").suffix[:10]
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        while chunk := await upload.read(1 << 20):
            tmp.write(chunk)
        tmp.flush()
        hashes = await run_in_threadpool(hash_file, tmp.name, window_cuts=window_cuts)
    hashes.path = upload.filename or "upload"
    return hashes


@router.post(
    "/v1/hash",
    summary="Hash a picture or video",
    responses={
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
                    }
                }
            }
        }
    },
)
async def hash_media(file: UploadFile, _key: KeyInfo = MatchKey) -> dict[str, object]:
    """sha256, md5 and pdq (pictures) or vpdq (videos), in ThreatExchange encodings."""
    return (await hash_upload(file, None)).to_dict()
