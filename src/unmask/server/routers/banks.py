"""Banks and their entries: create, list, change, delete; add and remove hashes; the audit log.

Least privilege: a `match` key sees bank names and counts and, through /v1/lookup, matches
(bank, entry id, distance, labels), never the entries themselves; listing entries needs
`write`, the audit log `admin`. Every change is written to the audit log under the key's name,
in the change's own transaction, and the match index loads it before the call answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from unmask.bank.store import KeyInfo, NewEntry
from unmask.server.auth import AdminKey, MatchKey, WriteKey, check_bank
from unmask.server.errors import ERROR_RESPONSES, ApiError
from unmask.server.routers.models import AddedOut, AuditOut, BankOut, EntryOut, EntryStateOut

router = APIRouter(prefix="/v1/banks", tags=["banks"], responses=ERROR_RESPONSES)

MAX_DB_INT = 2**63 - 1
"""SQL's BIGINT (SQLite and PostgreSQL integers): a larger number in a URL is a client error,
not a database overflow (0.1 answered 500 to offset=2**63)."""
EntryId = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="The entry's id")]


class BankCreate(BaseModel):
    name: str = Field(examples=["ncii"], min_length=1, max_length=100)
    description: str = Field(default="", examples=["Hashes submitted by people depicted"])


class BankUpdate(BaseModel):
    description: str | None = None
    enabled: bool | None = Field(default=None, description="A disabled bank never matches")


class EntryIn(BaseModel):
    signal_type: str = Field(examples=["pdq"])
    signal: str = Field(
        examples=["e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064"]
    )
    quality: int | None = Field(default=None, ge=0, le=100, examples=[100])
    labels: list[str] = Field(default_factory=list, examples=[["ncii"]])
    source: str = Field(
        default="", examples=["submission 2026-11-02"], description="Stored only if given"
    )
    added_by: str = Field(default="", description="Who adds it; stored only if given")


class EntriesIn(BaseModel):
    entries: list[EntryIn] = Field(min_length=1, max_length=10_000)


class EntryPatch(BaseModel):
    enabled: bool


def _actor(key: KeyInfo) -> str:
    return f"key:{key.name}"


def _refresh_index(request: Request) -> None:
    """Load the change into the match index now: /v1/lookup and /v1/index see it at once."""
    request.app.state.matcher.refresh(force=True)


@router.get("", summary="List banks")
def list_banks(request: Request, key: KeyInfo = MatchKey) -> list[BankOut]:
    return [BankOut.of(b) for b in request.app.state.store.banks() if key.may_use(b.name)]


@router.post("", status_code=201, summary="Create a bank")
def create_bank(body: BankCreate, request: Request, key: KeyInfo = AdminKey) -> BankOut:
    store = request.app.state.store
    return BankOut.of(store.create_bank(body.name, body.description, actor=_actor(key)))


@router.get("/{name}", summary="Show a bank")
def get_bank(name: str, request: Request, key: KeyInfo = MatchKey) -> BankOut:
    check_bank(key, name)
    return BankOut.of(request.app.state.store.bank(name))


@router.patch("/{name}", summary="Change a bank")
def update_bank(name: str, body: BankUpdate, request: Request, key: KeyInfo = AdminKey) -> BankOut:
    check_bank(key, name)
    store = request.app.state.store
    bank = store.update_bank(
        name, description=body.description, enabled=body.enabled, actor=_actor(key)
    )
    return BankOut.of(bank)


@router.delete("/{name}", status_code=204, summary="Delete a bank and its entries")
def delete_bank(name: str, request: Request, key: KeyInfo = AdminKey) -> Response:
    check_bank(key, name)
    request.app.state.store.delete_bank(name, actor=_actor(key))
    return Response(status_code=204)


@router.get("/{name}/entries", summary="List entries (write or admin keys)")
def list_entries(
    name: str,
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_DB_INT),
    key: KeyInfo = WriteKey,
) -> list[EntryOut]:
    """The bank's hashes with their labels and whatever the writers recorded. A `match` key
    gets 403: it may look hashes up, not read what a bank holds."""
    check_bank(key, name)
    entries = request.app.state.store.entries(name, limit=limit, offset=offset)
    return [EntryOut.of(e) for e in entries]


@router.post("/{name}/entries", status_code=201, summary="Add hashes")
def add_entries(name: str, body: EntriesIn, request: Request, key: KeyInfo = WriteKey) -> AddedOut:
    """Add up to 10,000 hashes in one transaction. When this answers, they are on disk and
    matchable. `source` and `added_by` are stored only as given; the key's name goes to the
    audit log, not onto the entries."""
    check_bank(key, name)
    store = request.app.state.store
    items = [NewEntry(e.signal_type, e.signal, e.quality, e.labels, e.source) for e in body.entries]
    by = {e.added_by for e in body.entries}
    if len(by) > 1:
        raise ApiError(400, "bad_request", "entries of one call must share one added_by")
    ids = store.add_entries(name, items, by.pop(), actor=_actor(key))
    _refresh_index(request)
    return AddedOut(ids=ids)


@router.patch("/{name}/entries/{entry_id}", summary="Enable or disable an entry")
def patch_entry(
    name: str, entry_id: EntryId, body: EntryPatch, request: Request, key: KeyInfo = WriteKey
) -> EntryStateOut:
    check_bank(key, name)
    request.app.state.store.set_enabled(entry_id, body.enabled, name, actor=_actor(key))
    return EntryStateOut(id=entry_id, enabled=body.enabled)


@router.delete("/{name}/entries/{entry_id}", status_code=204, summary="Remove an entry")
def remove_entry(
    name: str, entry_id: EntryId, request: Request, key: KeyInfo = WriteKey
) -> Response:
    check_bank(key, name)
    request.app.state.store.remove_entry(entry_id, name, actor=_actor(key))
    return Response(status_code=204)


audit_router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)


@audit_router.get("", summary="Audit log (admin keys)")
def audit_log(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_DB_INT),
    _key: KeyInfo = AdminKey,
) -> list[AuditOut]:
    """Admin and write actions, newest first: who (key:NAME or local:USER), what, which bank,
    when."""
    return [AuditOut.of(e) for e in request.app.state.store.audit_log(limit=limit, offset=offset)]
