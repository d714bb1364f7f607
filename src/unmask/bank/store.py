"""Where banked hashes live: one SQLAlchemy store, a SQLite file by default, PostgreSQL by URL.

Every write is one transaction, committed before the call returns, so whatever a caller was
told was added survives a crash. SQLite runs in WAL mode with synchronous=FULL: a reader never
blocks the writer, and a committed transaction is on disk before the commit returns.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import (
    Engine,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.orm import Session, selectinload

from unmask.bank.listing import BankReader
from unmask.bank.models import ApiKey, AuditEvent, Bank, Entry, EntryWindow, IndexState

# Defined where `unmask bank list` reads them without SQLAlchemy; imported from here too.
from unmask.bank.records import (  # noqa: F401
    BANK_URL_ENV,
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
from unmask.hashing import (
    PDQ_QUALITY_THRESHOLD,
    FileHashes,
    signal_type,
)

SCOPES = ("match", "write", "admin")
"""match: look hashes up (matches only: bank, entry id, distance, labels); write: add, list and
remove entries; admin: create and delete banks, read the audit log."""


@dataclass
class NewEntry:
    signal_type: str
    value: str
    quality: int | None = None
    labels: list[str] = field(default_factory=list)
    source: str = ""
    windows: list[tuple[str, int]] = field(default_factory=list)


def entries_for_file(hashes: FileHashes, labels: list[str], source: str) -> list[NewEntry]:
    """The entries a bank keeps for one file, under ThreatExchange signal-type names: PDQ with
    its window hashes (pictures) or vPDQ (videos) first, then the file's MD5 and SHA-256."""
    signals = hashes.signals()
    perceptual = [kind for kind in ("pdq", "vpdq") if kind in signals]
    entries = []
    for kind in perceptual + [kind for kind in signals if kind not in perceptual]:
        quality = hashes.pdq_quality if kind == "pdq" else None
        windows = list(hashes.pdq_windows) if kind == "pdq" else []
        entries.append(NewEntry(kind, signals[kind], quality, list(labels), source, windows))
    return entries


@dataclass(frozen=True)
class KeyInfo:
    name: str
    scopes: list[str]
    banks: list[str] | None
    created_at: datetime | None = None
    revoked: bool = False

    def may_use(self, bank: str) -> bool:
        return self.banks is None or bank in self.banks


@dataclass(frozen=True)
class AuditInfo:
    """One line of the audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    bank: str | None
    detail: dict[str, object]

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "bank": self.bank,
            "detail": self.detail,
        }


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _on_sqlite_connect(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class BankStore:
    """Banks, entries and API keys in one database. Opening it applies any pending migration."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        if self.url.startswith("sqlite:///") and not self.url.startswith("sqlite:///:memory:"):
            folder = Path(self.url.removeprefix("sqlite:///")).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise BankError(
                    f"cannot make the folder {folder} for the bank database "
                    f"({exc.strerror or exc})",
                    "check the database URL (--db or $UNMASK_BANK_URL)",
                ) from None
        if self.url.startswith("postgresql://"):
            self.url = "postgresql+psycopg://" + self.url.removeprefix("postgresql://")
        try:
            self.engine: Engine = create_engine(self.url, pool_pre_ping=True)
        except Exception as exc:  # bad URL syntax, missing driver
            raise BankError(f"cannot use the bank database {url!r}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _on_sqlite_connect)
        self._migrate()

    def _migrate(self) -> None:
        """Bring the schema to `SCHEMA_REVISION`: one query when it is there already."""
        try:
            with self.engine.connect() as connection:
                current = connection.execute(
                    text("SELECT version_num FROM alembic_version")
                ).scalar()
            if current == SCHEMA_REVISION:
                return
        except DatabaseError:
            pass  # new (no version table), unreachable or damaged: Alembic's attempt says which
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except DatabaseError as exc:  # unreachable, or not a database ("file is not a database")
            raise BankError(
                f"cannot open the bank database: {str(exc.orig).strip()}",
                "check the database URL (--db or $UNMASK_BANK_URL) and that the server runs",
            ) from None

    def close(self) -> None:
        self.engine.dispose()

    # -- banks ----------------------------------------------------------------------------

    @staticmethod
    def _audit(
        session: Session, actor: str, action: str, bank: str | None, **detail: object
    ) -> None:
        session.add(AuditEvent(actor=actor or "unknown", action=action, bank=bank, detail=detail))

    def audit_log(self, *, limit: int = 100, offset: int = 0) -> list[AuditInfo]:
        """The newest actions first."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(AuditEvent).order_by(AuditEvent.id.desc()).offset(offset).limit(limit)
            )
            return [
                AuditInfo(r.id, as_utc(r.at), r.actor, r.action, r.bank, dict(r.detail or {}))
                for r in rows
            ]

    def create_bank(self, name: str, description: str = "", *, actor: str = "") -> BankInfo:
        name = name.strip()
        if not name or len(name) > 100 or any(c in name for c in "/\\\n\t"):
            raise BankError(
                f"{name!r} is not a usable bank name", "use 1-100 characters, no slashes"
            )
        with Session(self.engine) as session:
            bank = Bank(name=name, description=description)
            session.add(bank)
            self._audit(session, actor, "create_bank", name)
            try:
                session.commit()
            except IntegrityError:
                raise BankError(f"a bank called {name!r} already exists") from None
            return BankInfo(
                bank.id, bank.name, bank.description, bank.enabled, as_utc(bank.created_at), 0
            )

    def banks(self) -> list[BankInfo]:
        """Every bank by name, with its number of entries: the query `unmask bank list` runs
        without SQLAlchemy, on this store's connection."""
        with self._reader() as reader:
            return reader.banks()

    @contextlib.contextmanager
    def _reader(self) -> Iterator[BankReader]:
        """The plain reader (`unmask.bank.listing`) on one of this store's connections: the
        queries a lookup or a listing runs without SQLAlchemy are the same ones here."""
        connection = self.engine.raw_connection()
        try:
            placeholder = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
            dbapi = self.engine.dialect.dbapi
            errors = (dbapi.Error,) if dbapi is not None else ()
            yield BankReader(connection, placeholder, errors, self.url)
        finally:
            connection.close()

    def bank(self, name: str) -> BankInfo:
        for info in self.banks():
            if info.name == name:
                return info
        raise NotFoundError(f"no bank called {name!r}", "list banks with `unmask bank list`")

    def _bank_id(self, session: Session, name: str) -> int:
        bank_id = session.scalar(select(Bank.id).where(Bank.name == name))
        if bank_id is None:
            raise NotFoundError(f"no bank called {name!r}", "list banks with `unmask bank list`")
        return bank_id

    def update_bank(
        self,
        name: str,
        *,
        description: str | None = None,
        enabled: bool | None = None,
        actor: str = "",
    ) -> BankInfo:
        with Session(self.engine) as session:
            bank = session.get(Bank, self._bank_id(session, name))
            assert bank is not None
            if description is not None:
                bank.description = description
            if enabled is not None:
                bank.enabled = enabled
            changed = {"description": description, "enabled": enabled}
            self._audit(session, actor, "update_bank", name, **changed)
            session.commit()
        return self.bank(name)

    def delete_bank(self, name: str, *, actor: str = "") -> None:
        with Session(self.engine) as session:
            self._count_write(session)
            bank_id = self._bank_id(session, name)
            self._audit(session, actor, "delete_bank", name)
            entry_ids = select(Entry.id).where(Entry.bank_id == bank_id)
            gone = session.scalar(select(func.count()).select_from(entry_ids.subquery())) or 0
            session.execute(update(IndexState).values(removed=IndexState.removed + gone))
            session.execute(delete(EntryWindow).where(EntryWindow.entry_id.in_(entry_ids)))
            session.execute(delete(Entry).where(Entry.bank_id == bank_id))
            session.execute(delete(Bank).where(Bank.id == bank_id))
            session.commit()

    # -- entries --------------------------------------------------------------------------

    def add_entries(
        self,
        bank: str,
        items: Sequence[NewEntry],
        added_by: str = "",
        *,
        actor: str = "",
        skip_existing: bool = False,
    ) -> list[int]:
        """Add all `items` in one transaction; returns their ids once committed. `added_by` and
        each item's `source` are stored only as given (empty by default: a file name or a
        person's name is personal data); who did it goes to the audit log as `actor`.

        With `skip_existing` (imports), an item whose signal type and hash the bank already
        holds, enabled or not, or that came earlier in `items`, is left out: importing the same
        file twice adds nothing the second time."""
        rows = []
        for item in items:
            kind = signal_type(item.signal_type)
            rows.append((kind.name, kind.validate(item.value), item))
        with Session(self.engine) as session:
            if skip_existing:  # take the writers' lock first, so no other write slips between
                self._count_write(session)
                rows = self._new_rows(session, self._bank_id(session, bank), rows)
            next_id = self._count_write(session, added=len(rows))
            bank_id = self._bank_id(session, bank)
            entries = []
            for offset, (kind_name, value, item) in enumerate(rows):
                entry = Entry(
                    id=next_id + offset,
                    bank_id=bank_id,
                    signal_type=kind_name,
                    value=value,
                    quality=item.quality,
                    labels=list(item.labels),
                    source=item.source,
                    added_by=added_by,
                    enabled=True,
                )
                entry.windows = [EntryWindow(value=h, quality=q) for h, q in item.windows]
                entries.append(entry)
            session.add_all(entries)
            session.flush()
            ids = [e.id for e in entries]
            if ids:
                self._audit(
                    session, actor, "add_entries", bank, count=len(ids), first=ids[0], last=ids[-1]
                )
            session.commit()
            return ids

    @staticmethod
    def _new_rows(session: Session, bank_id: int, rows: list[tuple]) -> list[tuple]:
        """The rows whose (signal type, hash) neither the bank nor an earlier row holds."""
        seen: set[tuple[str, str]] = set()
        values = sorted({value for _, value, _ in rows})
        for start in range(0, len(values), 500):  # bounded IN lists
            found = session.execute(
                select(Entry.signal_type, Entry.value).where(
                    Entry.bank_id == bank_id, Entry.value.in_(values[start : start + 500])
                )
            )
            seen.update((kind, value) for kind, value in found)
        fresh = []
        for row in rows:
            if (row[0], row[1]) not in seen:
                seen.add((row[0], row[1]))
                fresh.append(row)
        return fresh

    def set_enabled(
        self, entry_id: int, enabled: bool, bank: str | None = None, *, actor: str = ""
    ) -> None:
        with Session(self.engine) as session:
            query = update(Entry).where(Entry.id == entry_id)
            if bank is not None:
                query = query.where(Entry.bank_id == self._bank_id(session, bank))
            done = session.execute(query.values(enabled=enabled))
            if done.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFoundError(
                    f"no entry with id {entry_id}" + (f" in {bank!r}" if bank else "")
                )
            action = "enable_entry" if enabled else "disable_entry"
            self._audit(session, actor, action, bank, entry_id=entry_id)
            session.commit()

    def remove_entry(self, entry_id: int, bank: str | None = None, *, actor: str = "") -> None:
        with Session(self.engine) as session:
            self._count_write(session, removed=1)
            query = select(Entry).where(Entry.id == entry_id)
            if bank is not None:
                query = query.where(Entry.bank_id == self._bank_id(session, bank))
            entry = session.scalar(query)
            if entry is None:
                raise NotFoundError(
                    f"no entry with id {entry_id}" + (f" in {bank!r}" if bank else "")
                )
            session.delete(entry)
            self._audit(session, actor, "remove_entry", bank, entry_id=entry_id)
            session.commit()

    @staticmethod
    def _info(
        entry: Entry, bank_name: str, *, windows: bool = False, bank_enabled: bool = True
    ) -> EntryInfo:
        """An entry as callers see it; `windows` loads its sub-window hashes too."""
        return EntryInfo(
            entry.id,
            bank_name,
            entry.signal_type,
            entry.value,
            entry.quality,
            list(entry.labels or []),
            entry.source,
            as_utc(entry.added_at),
            entry.added_by,
            entry.enabled and bank_enabled,
            [(w.value, w.quality) for w in entry.windows] if windows else [],
        )

    def entries(
        self, bank: str, *, limit: int | None = None, offset: int = 0, windows: bool = False
    ) -> Iterator[EntryInfo]:
        """Entries of `bank` in the order they were added."""
        with Session(self.engine) as session:
            query = (
                select(Entry)
                .where(Entry.bank_id == self._bank_id(session, bank))
                .order_by(Entry.id)
                .offset(offset)
                .limit(limit)
            )
            if windows:
                query = query.options(selectinload(Entry.windows))
            else:
                query = query.options(selectinload(Entry.windows).load_only(EntryWindow.id))
            for entry in (
                session.scalars(query).yield_per(1000) if limit is None else session.scalars(query)
            ):
                yield self._info(entry, bank, windows=windows)

    def get_entries(self, ids: Sequence[int]) -> dict[int, EntryInfo]:
        """Entries by id (any that no longer exist are left out)."""
        with self._reader() as reader:
            return reader.get_entries(ids)

    def index_rows(self, after_id: int = 0, through_id: int | None = None) -> list[IndexRow]:
        """See `BankReader.index_rows`."""
        with self._reader() as reader:
            return reader.index_rows(after_id, through_id)

    @staticmethod
    def _count_write(session: Session, *, added: int = 0, removed: int = 0) -> int:
        """Count a write that adds or removes entries in the index state, first thing in its
        transaction: the row lock orders writers, so the ids handed out here (returns the first
        of `added`) are committed in the order they are given, and a reader that saw an
        `index_version()` sees every entry up to its `last_entry_id`."""
        session.execute(
            update(IndexState).values(
                generation=IndexState.generation + 1, removed=IndexState.removed + removed
            )
        )
        if not added:
            return 0
        given = int(session.scalar(select(IndexState.last_entry_id)) or 0)
        # Rows written around this count (by an older version) must not be reused either.
        top = int(session.scalar(select(func.max(Entry.id))) or 0)
        first = max(given, top) + 1
        session.execute(update(IndexState).values(last_entry_id=first + added - 1))
        return first

    def index_version(self) -> IndexVersion:
        """See `BankReader.index_version`."""
        with self._reader() as reader:
            return reader.index_version()

    def index_tail(self, through_id: int) -> list[tuple[int, str]]:
        """See `BankReader.index_tail`."""
        with self._reader() as reader:
            return reader.index_tail(through_id)

    def find_exact(self, digests: Sequence[tuple[str, str]]) -> list[tuple[str, str, int]]:
        """See `BankReader.find_exact`."""
        with self._reader() as reader:
            return reader.find_exact(digests)

    def count_entries(self) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(Entry)) or 0)

    # -- API keys -------------------------------------------------------------------------

    def create_key(
        self,
        name: str,
        scopes: Sequence[str],
        banks: Sequence[str] | None = None,
        *,
        actor: str = "",
    ) -> str:
        """Create a key and return it; only its SHA-256 is stored, so show it once."""
        bad = [s for s in scopes if s not in SCOPES]
        if bad or not scopes:
            raise BankError(f"unknown scope {bad}", f"scopes are {', '.join(SCOPES)}")
        if banks:
            for bank in banks:
                self.bank(bank)
        key = "unmask_" + secrets.token_urlsafe(32)
        with Session(self.engine) as session:
            session.add(
                ApiKey(
                    name=name,
                    key_hash=_hash_key(key),
                    scopes=list(scopes),
                    banks=list(banks) if banks else None,
                    revoked=False,
                )
            )
            scope_list, bank_list = list(scopes), list(banks) if banks else None
            self._audit(
                session, actor, "create_key", None, key=name, scopes=scope_list, banks=bank_list
            )
            try:
                session.commit()
            except IntegrityError:
                raise BankError(f"a key called {name!r} already exists") from None
        return key

    def check_key(self, key: str) -> KeyInfo | None:
        with Session(self.engine) as session:
            row = session.scalar(
                select(ApiKey).where(ApiKey.key_hash == _hash_key(key), ApiKey.revoked.is_(False))
            )
            return None if row is None else KeyInfo(row.name, list(row.scopes), row.banks)

    def keys(self, *, include_revoked: bool = False) -> list[KeyInfo]:
        """API keys by name (never the keys themselves: only their hashes are stored)."""
        query = select(ApiKey).order_by(ApiKey.name)
        if not include_revoked:
            query = query.where(ApiKey.revoked.is_(False))
        with Session(self.engine) as session:
            return [
                KeyInfo(k.name, list(k.scopes), k.banks, as_utc(k.created_at), k.revoked)
                for k in session.scalars(query)
            ]

    def revoke_key(self, name: str, *, actor: str = "") -> None:
        with Session(self.engine) as session:
            done = session.execute(
                update(ApiKey)
                .where(ApiKey.name == name, ApiKey.revoked.is_(False))
                .values(revoked=True)
            )
            if done.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFoundError(
                    f"no key called {name!r} (or it is revoked already)",
                    "list keys with `unmask bank keys list`",
                )
            self._audit(session, actor, "revoke_key", None, key=name)
            session.commit()


def pdq_is_usable(quality: int | None) -> bool:
    return quality is None or quality >= PDQ_QUALITY_THRESHOLD
