"""Hash-bank pages: list banks, add pictures, videos or hashes, match a file. Behind an API key.

The key is entered once and checked with the store (as the REST API checks it); the browser
then holds only a random session token in an HttpOnly, SameSite=Strict cookie, mapped to the
key in this server's memory, and every request checks the key again so revoking it takes effect
at once. Uploaded files are hashed and deleted before the page answers: a bank stores hashes,
never pictures.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from unmask.bank.matching import Match, Query
from unmask.bank.store import BankStore, KeyInfo, NewEntry, entries_for_file
from unmask.errors import UnmaskError
from unmask.hashing import (
    BANK_WINDOW_CUTS,
    BUSY_RETRY_AFTER_S,
    QUERY_WINDOW_CUTS,
    ServerBusyError,
    hash_file_isolated,
    parse_hash,
)
from unmask.server.web.jobs import ScanQueue
from unmask.server.web.pages import read_form
from unmask.server.web.rendering import render
from unmask.server.web.uploads import ReceivedForm, UploadError, receive_form
from unmask.terminal import counted

router = APIRouter(prefix="/bank", include_in_schema=False)

COOKIE = "unmask_bank_session"
SESSION_S = 8 * 60 * 60
"""A bank session ends after this long; the key is asked for again."""
MAX_HASH_LINES = 1000


class BankSessions:
    """Random session tokens -> API keys, in this server's memory only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[str, float]] = {}

    def open(self, api_key: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.time()
            self._keys = {t: v for t, v in self._keys.items() if v[1] > now}
            self._keys[token] = (api_key, now + SESSION_S)
        return token

    def key(self, token: str | None) -> str | None:
        with self._lock:
            found = self._keys.get(token or "")
        return found[0] if found and found[1] > time.time() else None

    def close(self, token: str | None) -> None:
        with self._lock:
            self._keys.pop(token or "", None)


def _session(request: Request) -> KeyInfo | None:
    api_key = request.app.state.bank_sessions.key(request.cookies.get(COOKIE))
    return None if api_key is None else request.app.state.store.check_key(api_key)


def _may(key: KeyInfo, scope: str) -> bool:
    return scope in key.scopes or "admin" in key.scopes


def _page(request: Request, key: KeyInfo, status: int = 200, **extra: Any) -> Response:
    store: BankStore = request.app.state.store
    banks = [b for b in store.banks() if key.may_use(b.name)]
    context = {
        "key": key,
        "banks": banks,
        "may_write": _may(key, "write"),
        "may_admin": _may(key, "admin"),
        **extra,
    }
    return render(request, "bank.html", context, status)


def _login(request: Request, status: int = 200, error: str = "") -> Response:
    return render(request, "bank_key.html", {"error": error}, status)


@router.get("")
def bank_page(request: Request) -> Response:
    key = _session(request)
    return _login(request) if key is None else _page(request, key)


@router.post("/key")
async def enter_key(request: Request) -> Response:
    form = await read_form(request)
    api_key = form.value("api_key").strip()
    if not api_key or request.app.state.store.check_key(api_key) is None:
        return _login(request, 401, "That key is not known here, or it was revoked.")
    response = RedirectResponse("/bank", status_code=303)
    token = request.app.state.bank_sessions.open(api_key)
    response.set_cookie(
        COOKIE, token, max_age=SESSION_S, httponly=True, samesite="strict", path="/bank"
    )
    return response


@router.post("/forget")
async def forget_key(request: Request) -> Response:
    await read_form(request)
    request.app.state.bank_sessions.close(request.cookies.get(COOKIE))
    response = RedirectResponse("/bank", status_code=303)
    response.delete_cookie(COOKIE, path="/bank")
    return response


@router.post("/create")
async def create_bank(request: Request) -> Response:
    key = _session(request)
    if key is None:
        return _login(request, 401, "Please enter your API key again.")
    form = await read_form(request)
    if not _may(key, "admin"):
        return _page(request, key, 403, error="Creating a bank needs a key with the admin scope.")
    name = form.value("name").strip()
    try:
        description = form.value("description").strip()
        request.app.state.store.create_bank(name, description, actor=f"key:{key.name} (web)")
    except UnmaskError as exc:
        return _page(request, key, 400, error=exc.message, hint=exc.hint)
    return _page(request, key, notice=f"Created the bank “{name}”.")


@router.post("/add")
async def add_to_bank(request: Request) -> Response:
    """Add pictures, videos (hashed here, then deleted) or pasted hashes to a bank."""
    key = _session(request)
    if key is None:
        return _login(request, 401, "Please enter your API key again.")
    try:
        form, entries = await _received(request, BANK_WINDOW_CUTS, for_bank=True)
        bank = form.value("bank")
        if not _may(key, "write") or not key.may_use(bank):
            raise UploadError(403, f"This key may not add to the bank “{bank}”.")
        if not entries:
            raise UploadError(400, "Nothing to add.", "Choose files or paste hashes.")
        # Who added them goes to the audit log, not onto the entries (least data).
        add = request.app.state.store.add_entries
        ids = await run_in_threadpool(add, bank, entries, "", actor=f"key:{key.name} (web)")
        # A person adding and then looking up expects the new hashes to match at once.
        await run_in_threadpool(request.app.state.matcher.refresh, True)
    except UploadError as exc:
        return _refused(request, key, exc)
    except UnmaskError as exc:
        return _page(request, key, 400, error=exc.message, hint=exc.hint)
    return _page(request, key, notice=f"Added {counted(len(ids), 'hash', 'hashes')} to “{bank}”.")


@router.post("/match")
async def match(request: Request) -> Response:
    """Look a file or hashes up in every bank this key may use."""
    key = _session(request)
    if key is None:
        return _login(request, 401, "Please enter your API key again.")
    try:
        _, queries = await _received(request, QUERY_WINDOW_CUTS, for_bank=False)
        if not queries:
            raise UploadError(400, "Nothing to look up.", "Choose a file or paste a hash.")
        banks = None if key.banks is None else set(key.banks)
        matcher = request.app.state.matcher
        results: list[tuple[str, list[Match], bool]] = []
        for label, query in queries:
            found = await run_in_threadpool(matcher.match, query, banks)
            results.append((label, found, query.low_quality))
    except UploadError as exc:
        return _refused(request, key, exc)
    except UnmaskError as exc:
        return _page(request, key, 400, error=exc.message, hint=exc.hint)
    return _page(request, key, results=results)


def _refused(request: Request, key: KeyInfo, exc: UploadError) -> Response:
    page = _page(request, key, exc.status, error=exc.message, hint=exc.hint)
    if exc.status == 503:  # busy: the same request may succeed later
        page.headers["Retry-After"] = str(BUSY_RETRY_AFTER_S)
    return page


async def _received(
    request: Request, cuts: tuple[float, ...], for_bank: bool
) -> tuple[ReceivedForm, list[Any]]:
    """Hash every uploaded file (then delete it) and parse pasted hashes. For a bank: entries;
    for a lookup: (what, query) pairs. Files are hashed in a worker process under the scan's
    time budget (`hash_file_isolated`): an upload that hangs or crashes the decoder is refused
    with that reason, and the server goes on."""
    queue: ScanQueue = request.app.state.scans
    budget_s = queue.scan_config.limits.time_budget_s
    staging = await run_in_threadpool(queue.staging_folder)
    try:
        form = await receive_form(
            request, staging, queue.config.max_upload_bytes, queue.config.max_files
        )
        labels = [x.strip() for x in form.value("labels").split(",") if x.strip()]
        source = form.value("source").strip()
        out: list[Any] = []
        for received in form.files:
            try:
                hashes = await run_in_threadpool(
                    hash_file_isolated, received.path, budget_s, window_cuts=cuts
                )
            except ServerBusyError:  # nothing is wrong with the file: she may send it again
                raise UploadError(
                    503,
                    f"The server is too busy to read “{received.filename}” just now.",
                    f"Nothing was added or looked up. Try again in {BUSY_RETRY_AFTER_S} seconds.",
                ) from None
            except UnmaskError as exc:
                raise UploadError(400, f"“{received.filename}”: {exc.message}", exc.hint) from None
            finally:
                Path(received.path).unlink(missing_ok=True)
            if for_bank:
                out += entries_for_file(hashes, labels, source)
            else:
                out.append((received.filename, Query.from_file(hashes)))
        lines = [x.strip() for x in form.value("hashes").splitlines() if x.strip()]
        if len(lines) > MAX_HASH_LINES:
            raise UploadError(413, f"Up to {MAX_HASH_LINES} hashes at once, please.")
        for line in lines:
            kind, value = parse_hash(line)
            if for_bank:
                out.append(NewEntry(kind, value, None, labels, source))
            else:
                shown = line if len(line) <= 80 else line[:77] + "…"
                out.append((shown, Query.from_hash(kind, value)))
        return form, out
    finally:
        shutil.rmtree(staging, ignore_errors=True)
