"""API keys: no key 401; a key without the scope or the bank 403."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from unmask.bank.store import KeyInfo
from unmask.server.errors import ApiError

_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An unmask API key")


def require(scope: str) -> Callable[..., KeyInfo]:
    """Dependency: the caller's key, which must carry `scope` (admin implies every scope)."""

    def check(request: Request, key: str | None = Security(_header)) -> KeyInfo:
        if not key:
            raise ApiError(401, "unauthorized", "no API key", "send it in the X-API-Key header")
        info = request.app.state.store.check_key(key)
        if info is None:
            raise ApiError(401, "unauthorized", "unknown or revoked API key")
        if scope not in info.scopes and "admin" not in info.scopes:
            raise ApiError(403, "forbidden", f"this key lacks the {scope!r} scope")
        return info

    return check


def check_bank(key: KeyInfo, bank: str) -> None:
    if not key.may_use(bank):
        raise ApiError(403, "forbidden", f"this key may not use bank {bank!r}")


MatchKey = Depends(require("match"))
WriteKey = Depends(require("write"))
AdminKey = Depends(require("admin"))
