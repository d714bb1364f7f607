"""Look up a hash or an upload against the banks the caller's key may use."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from unmask.bank.matching import Matcher, Query
from unmask.bank.store import KeyInfo
from unmask.hashing import QUERY_WINDOW_CUTS
from unmask.server.auth import MatchKey
from unmask.server.errors import BUSY_RESPONSE, ERROR_RESPONSES
from unmask.server.routers.hashing import UPLOAD_BODY, hash_upload
from unmask.server.routers.models import IndexOut, LookupOut, MatchOut

router = APIRouter(tags=["matching"], responses=ERROR_RESPONSES)

MATCH_EXAMPLE = {
    "matches": [
        {
            "bank": "ncii",
            "entry_id": 42,
            "signal_type": "pdq",
            "distance": 12,
            "labels": ["ncii"],
            "meaning": "visually near-identical picture (12 of 256 bits differ)",
            "caution": "PDQ compares how pictures look, not who is in them: ...",
            "via_window": False,
            "transform": None,
        }
    ],
    "low_quality": False,
}


class HashLookup(BaseModel):
    signal_type: str = Field(examples=["pdq"], description="pdq, vpdq, md5 or sha256")
    signal: str = Field(
        examples=["e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064"],
        description="The hash, encoded as ThreatExchange encodes it",
    )
    banks: list[str] | None = Field(default=None, description="Only these banks")


def _banks(key: KeyInfo, wanted: list[str] | None) -> set[str] | None:
    if key.banks is None:
        return set(wanted) if wanted else None
    return set(key.banks) & set(wanted) if wanted else set(key.banks)


def _answer(matcher: Matcher, query: Query, banks: set[str] | None) -> LookupOut:
    matches = matcher.match(query, banks)
    return LookupOut(matches=[MatchOut.of(m) for m in matches], low_quality=query.low_quality)


@router.post(
    "/v1/lookup",
    summary="Look up a hash",
    responses={200: {"content": {"application/json": {"example": MATCH_EXAMPLE}}}},
)
def lookup_hash(body: HashLookup, request: Request, key: KeyInfo = MatchKey) -> LookupOut:
    """Every enabled entry within the match distance (PDQ: 31 bits) of the hash."""
    query = Query.from_hash(body.signal_type, body.signal)
    return _answer(request.app.state.matcher, query, _banks(key, body.banks))


@router.post(
    "/v1/lookup/upload",
    summary="Look up a picture or video",
    responses={**BUSY_RESPONSE, 200: {"content": {"application/json": {"example": MATCH_EXAMPLE}}}},
    openapi_extra=UPLOAD_BODY,
)
async def lookup_upload(request: Request, key: KeyInfo = MatchKey) -> LookupOut:
    """Hash the upload (never stored; pictures also by crop-robust windows, rotations and
    mirror images) and look it up."""
    hashes = await hash_upload(request, QUERY_WINDOW_CUTS)
    return _answer(request.app.state.matcher, Query.from_file(hashes), _banks(key, None))


@router.get("/v1/index", summary="Index status")
def index_status(request: Request, _key: KeyInfo = MatchKey) -> IndexOut:
    """How many hashes the match index holds and when it last loaded new entries (it loads
    them now, so entries added by any process are counted)."""
    matcher = request.app.state.matcher
    matcher.refresh(force=True)
    return IndexOut(**matcher.status())  # type: ignore[arg-type]
