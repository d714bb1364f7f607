"""Banks and their entries read with the database's own driver, for `unmask bank list`.

Importing SQLAlchemy with its ORM takes about half a CPU second, several times what a listing
costs (BENCHMARKS.md, "Start-up"). When the database exists and its schema is at
`SCHEMA_REVISION`, a listing is a few plain queries through `sqlite3` (standard library) or
`psycopg`. Otherwise (no database yet, an older schema, another driver in the URL)
`open_reader` returns None and the caller opens `BankStore`, which creates or migrates the
database and says what is wrong with it. `BankStore.banks()` runs the same query as
`BankReader.banks()`, and a test compares the entry listings of the two on SQLite and
PostgreSQL, so both paths give the same answer.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from unmask.bank.records import (
    SCHEMA_REVISION,
    BankError,
    BankInfo,
    EntryInfo,
    IndexRow,
    IndexVersion,
    NotFoundError,
    as_utc,
    default_url,
)

_BANKS = (
    "SELECT id, name, description, enabled, created_at, "
    "(SELECT count(*) FROM entries WHERE entries.bank_id = banks.id) "
    "FROM banks ORDER BY name"
)
_BY_ID = (
    "SELECT e.id, b.name, e.signal_type, e.value, e.quality, e.labels, e.source, e.added_at, "
    "e.added_by, e.enabled, b.enabled FROM entries e JOIN banks b ON b.id = e.bank_id "
    "WHERE e.id IN ({})"
)
_TAIL = (
    "SELECT id, signal_type, quality, length(value), substr(value, 1, 64), added_at "
    "FROM entries WHERE id <= ? ORDER BY id DESC LIMIT ?"
)
INDEX_TAIL = 8
"""Entries a saved match index fingerprints (the newest it holds) to tell a database restored
from a backup, then written to, from the one it was built from (`BankReader.index_tail`)."""
_ENTRIES = (
    "SELECT id, signal_type, value, quality, labels, source, added_at, added_by, enabled "
    "FROM entries WHERE bank_id = ? ORDER BY id"
)


class BankReader:
    """Read-only queries over a DB-API connection (sqlite3's or psycopg's).

    `placeholder` is the driver's parameter marker ("?" for sqlite3, "%s" for psycopg) and
    `errors` its exception classes, which become a `BankError` that says what failed."""

    def __init__(
        self,
        connection: Any,
        placeholder: str = "?",
        errors: tuple[type[BaseException], ...] = (sqlite3.Error,),
        url: str = "",
    ) -> None:
        self.connection = connection
        self.url = url
        """The database's URL (where a saved match index of it lives)."""
        self._placeholder = placeholder
        self._errors = errors

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        try:
            cursor = self.connection.cursor()
            try:
                cursor.execute(sql.replace("?", self._placeholder), tuple(params))
                return list(cursor.fetchall())
            finally:
                cursor.close()
        except self._errors as exc:
            raise BankError(
                f"cannot read the bank database: {str(exc).strip()}",
                "check the database URL (--db or $UNMASK_BANK_URL) and that the server runs",
            ) from None

    def schema_revision(self) -> str | None:
        """The migration the database is at; None when it has no version table (or cannot be
        read at all)."""
        try:
            rows = self._rows("SELECT version_num FROM alembic_version")
        except BankError:
            return None
        return str(rows[0][0]) if len(rows) == 1 else None

    def banks(self) -> list[BankInfo]:
        """Every bank by name, with its number of entries."""
        return [
            BankInfo(id_, name, description, bool(enabled), _time(created), int(count))
            for id_, name, description, enabled, created, count in self._rows(_BANKS)
        ]

    def entries(self, bank: str, *, limit: int | None = None) -> list[EntryInfo]:
        """Entries of `bank` in the order they were added, as `BankStore.entries` lists them
        (without their sub-window hashes)."""
        found = self._rows("SELECT id FROM banks WHERE name = ?", (bank,))
        if not found:
            raise NotFoundError(f"no bank called {bank!r}", "list banks with `unmask bank list`")
        sql, params = _ENTRIES, [found[0][0]]
        if limit is not None:
            sql, params = sql + " LIMIT ?", [*params, limit]
        return [
            EntryInfo(
                id_,
                bank,
                signal_type,
                value,
                quality,
                list(_json(labels) or []),
                source,
                _time(added_at),
                added_by,
                bool(enabled),
            )
            for id_, signal_type, value, quality, labels, source, added_at, added_by, enabled in (
                self._rows(sql, params)
            )
        ]

    def get_entries(self, ids: Sequence[int]) -> dict[int, EntryInfo]:
        """Entries by id, as a lookup reports them (any that no longer exist are left out;
        `enabled` is false when the entry or its bank is disabled)."""
        out: dict[int, EntryInfo] = {}
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            for row in self._rows(_BY_ID.format(", ".join("?" * len(part))), part):
                id_, bank, kind, value, quality, labels, source, added_at, added_by, on, bank_on = (
                    row
                )
                out[id_] = EntryInfo(
                    id_,
                    bank,
                    kind,
                    value,
                    quality,
                    list(_json(labels) or []),
                    source,
                    _time(added_at),
                    added_by,
                    bool(on) and bool(bank_on),
                )
        return out

    def index_version(self) -> IndexVersion:
        """Where the entries stand (one row): what a saved match index is checked against."""
        rows = self._rows("SELECT token, generation, last_entry_id, removed FROM index_state")
        if len(rows) != 1:
            raise BankError(
                "the bank database has no index state",
                "open it once with `unmask bank list --db URL` to bring its schema up to date",
            )
        token, generation, last, removed = rows[0]
        return IndexVersion(str(token), int(generation), int(last), int(removed))

    def index_tail(self, through_id: int, count: int = INDEX_TAIL) -> list[tuple[int, str]]:
        """The newest `count` entries with id <= `through_id`, newest first, as (id,
        fingerprint of its signal type, quality, hash and time added): one query on the
        primary key, reading at most 64 characters of each hash (a vPDQ hash can be long).
        Entries added after a restore reuse the ids the lost ones had, not their times."""
        tail = []
        for id_, kind, quality, length, head, added in self._rows(_TAIL, (through_id, count)):
            said = f"{kind}|{quality}|{length}|{head}|{_time(added).isoformat()}"
            tail.append((int(id_), hashlib.sha256(said.encode()).hexdigest()[:16]))
        return tail

    def index_rows(self, after_id: int = 0, through_id: int | None = None) -> list[IndexRow]:
        """Entries with `after_id` < id <= `through_id` with their window hashes (enabled or
        not: matches are checked when found). With `through_id` from `index_version()`,
        every such entry is committed (see migration 0003)."""
        upto, params = (
            ("", [after_id]) if through_id is None else (" AND id <= ?", [after_id, through_id])
        )
        entries = self._rows(
            "SELECT id, bank_id, signal_type, value, quality FROM entries WHERE id > ?"
            + upto
            + " ORDER BY id",
            params,
        )
        windows: dict[int, list[tuple[str, int]]] = {}
        if entries:
            for entry_id, value, quality in self._rows(
                "SELECT entry_id, value, quality FROM entry_windows WHERE entry_id > ?"
                + upto.replace("id", "entry_id")
                + " ORDER BY id",
                params,
            ):
                windows.setdefault(entry_id, []).append((value, quality))
        return [IndexRow(*row, windows.get(row[0], [])) for row in entries]

    def find_exact(self, digests: Sequence[tuple[str, str]]) -> list[tuple[str, str, int]]:
        """(algorithm, hash, entry id) of every entry whose digest is one of `digests`
        ((algorithm, hash) pairs, e.g. ("md5", ...)), whatever kind of file it says: one
        query on the (signal_type, value) index."""
        from unmask.hashing import SIGNAL_TYPES, exact_algorithm

        wanted = set(digests)
        if not wanted:
            return []
        kinds = [name for name in SIGNAL_TYPES if exact_algorithm(name) is not None]
        values = sorted({v for _, v in wanted})
        found = []
        marks = ", ".join("?" * len(kinds)), ", ".join("?" * len(values))
        sql = (
            "SELECT id, signal_type, value FROM entries WHERE signal_type IN ({}) AND value IN ({})"
        )
        for entry_id, kind, value in self._rows(sql.format(*marks), [*kinds, *values]):
            algorithm = exact_algorithm(kind) or kind
            if (algorithm, value) in wanted:
                found.append((algorithm, value, int(entry_id)))
        return sorted(found, key=lambda r: r[2])

    def close(self) -> None:
        self.connection.close()


def open_reader(url: str | None = None) -> BankReader | None:
    """A reader for the bank database at `url` (default: `default_url()`) when it exists and
    its schema is current; None when `BankStore` must open it instead."""
    url = url or default_url()
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path or path.startswith(":memory:") or "?" in path or not Path(path).is_file():
            return None
        try:
            # The same 30 s wait for a writer's lock as BankStore's busy_timeout.
            connection = sqlite3.connect(path, timeout=30.0)
            connection.execute("PRAGMA query_only=ON")
        except sqlite3.Error:
            return None
        reader = BankReader(connection, url=url)
    elif url.startswith(("postgresql://", "postgresql+psycopg://")):
        import psycopg

        try:
            connection = psycopg.connect("postgresql://" + url.partition("://")[2], autocommit=True)
        except psycopg.Error:
            return None  # BankStore says why, as it always has
        reader = BankReader(connection, "%s", (psycopg.Error,), url)
    else:
        return None
    if reader.schema_revision() != SCHEMA_REVISION:
        reader.close()
        return None
    return reader


def _time(value: datetime | str) -> datetime:
    """A stored time in UTC: SQLite keeps SQLAlchemy's text form, without an offset."""
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _json(value: object) -> Any:
    """A JSON column: text from SQLite, already decoded by psycopg."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value
