"""Tables of the hash bank. Hashes and what people said about them; never media."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Bank(Base):
    """A named collection of hashes, e.g. one person's submission or one partner's list."""

    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    entries: Mapped[list[Entry]] = relationship(back_populates="bank", passive_deletes=True)


class Entry(Base):
    """One banked hash with its signal type, quality and labels."""

    __tablename__ = "entries"
    __table_args__ = (Index("ix_entries_signal_value", "signal_type", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    signal_type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    added_by: Mapped[str] = mapped_column(String(200), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    bank: Mapped[Bank] = relationship(back_populates="entries")
    windows: Mapped[list[EntryWindow]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", passive_deletes=True
    )


class EntryWindow(Base):
    """Extra PDQ hashes of sub-windows of a banked picture, so cropped copies still match
    (see `unmask.hashing.BANK_WINDOW_CUTS`). They match as their entry."""

    __tablename__ = "entry_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    value: Mapped[str] = mapped_column(String(64))
    quality: Mapped[int] = mapped_column(Integer)
    entry: Mapped[Entry] = relationship(back_populates="windows")


class ApiKey(Base):
    """An API key for `unmask serve`. Only the key's SHA-256 is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    banks: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    """Bank names the key may use; None means every bank."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEvent(Base):
    """One admin or write action: who (a key's name or the local user), what, on which bank,
    when. Written in the same transaction as the change, so the log never misses one."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    bank: Mapped[str | None] = mapped_column(String(100), nullable=True)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class IndexState(Base):
    """One row a saved match index is checked against (see migration 0003): this database's
    token, a generation counted up by every write that adds or removes entries, the highest
    entry id ever given, and how many entries were ever removed."""

    __tablename__ = "index_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    generation: Mapped[int] = mapped_column(BigInteger)
    last_entry_id: Mapped[int] = mapped_column(BigInteger)
    removed: Mapped[int] = mapped_column(BigInteger)
