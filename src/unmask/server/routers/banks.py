"""Banks and their entries: create, list, change, delete; add and remove hashes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from unmask.bank.store import KeyInfo, NewEntry
from unmask.server.auth import AdminKey, MatchKey, WriteKey, check_bank
from unmask.server.errors import ERROR_RESPONSES

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
    source: str = Field(default="", examples=["submission 2026-11-02"])


class EntriesIn(BaseModel):
    entries: list[EntryIn] = Field(min_length=1, max_length=10_000)


class EntryPatch(BaseModel):
    enabled: bool


@router.get("", summary="List banks")
def list_banks(request: Request, key: KeyInfo = MatchKey) -> list[dict[str, object]]:
    return [b.to_dict() for b in request.app.state.store.banks() if key.may_use(b.name)]


@router.post("", status_code=201, summary="Create a bank")
def create_bank(body: BankCreate, request: Request, _key: KeyInfo = AdminKey) -> dict[str, object]:
    return request.app.state.store.create_bank(body.name, body.description).to_dict()


@router.get("/{name}", summary="Show a bank")
def get_bank(name: str, request: Request, key: KeyInfo = MatchKey) -> dict[str, object]:
    check_bank(key, name)
    return request.app.state.store.bank(name).to_dict()


@router.patch("/{name}", summary="Change a bank")
def update_bank(
    name: str, body: BankUpdate, request: Request, key: KeyInfo = AdminKey
) -> dict[str, object]:
    check_bank(key, name)
    store = request.app.state.store
    return store.update_bank(name, description=body.description, enabled=body.enabled).to_dict()


@router.delete("/{name}", status_code=204, summary="Delete a bank and its entries")
def delete_bank(name: str, request: Request, key: KeyInfo = AdminKey) -> Response:
    check_bank(key, name)
    request.app.state.store.delete_bank(name)
    return Response(status_code=204)


@router.get("/{name}/entries", summary="List entries")
def list_entries(
    name: str,
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_DB_INT),
    key: KeyInfo = MatchKey,
) -> list[dict[str, object]]:
    check_bank(key, name)
    return [e.to_dict() for e in request.app.state.store.entries(name, limit=limit, offset=offset)]


@router.post(
    "/{name}/entries",
    status_code=201,
    summary="Add hashes",
    responses={201: {"content": {"application/json": {"example": {"ids": [43, 44]}}}}},
)
def add_entries(
    name: str, body: EntriesIn, request: Request, key: KeyInfo = WriteKey
) -> dict[str, list[int]]:
    """Add up to 10,000 hashes in one transaction. When this answers, they are on disk."""
    check_bank(key, name)
    items = [NewEntry(e.signal_type, e.signal, e.quality, e.labels, e.source) for e in body.entries]
    return {"ids": request.app.state.store.add_entries(name, items, added_by=key.name)}


@router.patch("/{name}/entries/{entry_id}", summary="Enable or disable an entry")
def patch_entry(
    name: str, entry_id: EntryId, body: EntryPatch, request: Request, key: KeyInfo = WriteKey
) -> dict[str, object]:
    check_bank(key, name)
    request.app.state.store.set_enabled(entry_id, body.enabled, name)
    return {"id": entry_id, "enabled": body.enabled}


@router.delete("/{name}/entries/{entry_id}", status_code=204, summary="Remove an entry")
def remove_entry(
    name: str, entry_id: EntryId, request: Request, key: KeyInfo = WriteKey
) -> Response:
    check_bank(key, name)
    request.app.state.store.remove_entry(entry_id, name)
    return Response(status_code=204)
