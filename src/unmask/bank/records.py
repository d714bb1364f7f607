"""Banks and entries as callers see them, and where the bank database is: plain values that
`unmask bank list` reads without importing SQLAlchemy (see `unmask.bank.listing`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from unmask.errors import UnmaskError

BANK_URL_ENV = "UNMASK_BANK_URL"
SCHEMA_REVISION = "0003"
"""The newest migration (a test checks it is Alembic's head). A database already at it is
opened without loading Alembic at all: checking migrations on every open made `bank list`
take 3-4 s."""


def as_utc(moment: datetime) -> datetime:
    """`moment` with its UTC offset: SQLite returns the stored UTC times without one."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class BankError(UnmaskError):
    """A bank operation that cannot be done as asked (unknown bank, duplicate name...)."""


class NotFoundError(BankError):
    pass


def default_url() -> str:
    """$UNMASK_BANK_URL, else a SQLite file in $UNMASK_HOME if set (a temporary home must not
    read or write the user's own banks), else in the user's data folder."""
    if os.environ.get(BANK_URL_ENV):
        return os.environ[BANK_URL_ENV]
    if os.environ.get("UNMASK_HOME"):
        return f"sqlite:///{Path(os.environ['UNMASK_HOME']).expanduser() / 'bank.sqlite3'}"
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{base / 'unmask' / 'bank.sqlite3'}"


@dataclass(frozen=True)
class EntryInfo:
    id: int
    bank: str
    signal_type: str
    value: str
    quality: int | None
    labels: list[str]
    source: str
    added_at: datetime
    added_by: str
    enabled: bool
    windows: list[tuple[str, int]] = field(default_factory=list)

    def to_dict(self, windows: bool = False) -> dict[str, object]:
        data: dict[str, object] = {
            "id": self.id,
            "bank": self.bank,
            "signal_type": self.signal_type,
            "value": self.value,
            "quality": self.quality,
            "labels": self.labels,
            "source": self.source,
            "added_at": self.added_at.isoformat(),
            "added_by": self.added_by,
            "enabled": self.enabled,
        }
        if windows and self.windows:
            data["pdq_windows"] = [f"{h},{q}" for h, q in self.windows]
        return data


@dataclass(frozen=True)
class BankInfo:
    id: int
    name: str
    description: str
    enabled: bool
    created_at: datetime
    entries: int

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            "created_at": self.created_at.isoformat(),
            "entries": self.entries,
        }


@dataclass(frozen=True)
class IndexRow:
    """What the match index needs of an entry."""

    id: int
    bank_id: int
    signal_type: str
    value: str
    quality: int | None
    windows: list[tuple[str, int]]


@dataclass(frozen=True)
class IndexVersion:
    """Where the entries stand, for a saved match index to compare itself with (one row)."""

    token: str
    """Names this database: an index saved for another one is never used."""
    generation: int
    """Counted up by every write that adds or removes entries."""
    last_entry_id: int
    """The highest entry id ever given: ids are never reused and come in commit order."""
    removed: int
    """Entries removed so far (a saved index still holds their hashes; matches are checked)."""
