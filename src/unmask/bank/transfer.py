"""Import and export banks as JSON Lines or CSV, both complete: nothing a bank matches by is left
behind, so a partner who imports our file matches what we match.

CSV has one row per hash with ThreatExchange signal-type names (`signal_type,signal,...`: what
HMA and the ThreatExchange tools exchange, a type name and a hash string), plus one documented
extra column, `pdq_windows`: the crop-robust window hashes of a PDQ entry as space-separated
`hash,quality` pairs. Tools that only know `signal_type` and `signal` ignore it (and then miss
crops of about 5 % that we match); without it a 5 % crop of a banked picture is not found.

Importers accept 0.1's names too: `md5`/`sha256` types, and the hash under `signal`, `value` or
`hash` (the column of the evidence package's hashes.csv)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import IO

from unmask.bank.store import EntryInfo, NewEntry
from unmask.hashing import InvalidHashError, signal_type

CSV_FIELDS = [
    "signal_type",
    "signal",
    "quality",
    "labels",
    "source",
    "added_at",
    "added_by",
    "pdq_windows",
]


def write_jsonl(entries: Iterable[EntryInfo], out: IO[str]) -> int:
    n = 0
    for entry in entries:
        out.write(json.dumps(entry.to_dict(windows=True)) + "\n")
        n += 1
    return n


def write_csv(entries: Iterable[EntryInfo], out: IO[str]) -> int:
    writer = csv.DictWriter(out, CSV_FIELDS)
    writer.writeheader()
    n = 0
    for e in entries:
        writer.writerow(
            {
                "signal_type": e.signal_type,
                "signal": e.value,
                "quality": "" if e.quality is None else e.quality,
                "labels": ",".join(e.labels),
                "source": e.source,
                "added_at": e.added_at.isoformat(),
                "added_by": e.added_by,
                "pdq_windows": " ".join(f"{h},{q}" for h, q in e.windows),
            }
        )
        n += 1
    return n


def _labels(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def _entry(record: dict[str, object], where: str) -> NewEntry:
    kind = record.get("signal_type")
    value = record.get("signal", record.get("value", record.get("hash")))
    if not kind or value is None:
        raise InvalidHashError(f"{where}: needs signal_type and signal (the hash)")
    try:
        sig = signal_type(str(kind))
        value = sig.validate(str(value))
    except InvalidHashError as exc:
        raise InvalidHashError(f"{where}: {exc.message}", exc.hint) from None
    quality = record.get("quality")
    items = record.get("pdq_windows") or []
    if isinstance(items, str):  # CSV: "hash,quality hash,quality ..."
        items = items.split()
    windows = []
    try:
        for item in items:  # type: ignore[union-attr]
            h, _, q = str(item).partition(",")
            windows.append((signal_type("pdq").validate(h), int(q or 100)))
    except (InvalidHashError, ValueError):
        raise InvalidHashError(
            f"{where}: pdq_windows is not a list of hash,quality pairs", "export it again"
        ) from None
    if windows and sig.name != "pdq":
        raise InvalidHashError(f"{where}: only pdq entries have pdq_windows")
    return NewEntry(
        sig.name,
        value,
        int(quality) if quality not in (None, "") else None,  # type: ignore[arg-type]
        _labels(record.get("labels")),
        str(record.get("source") or ""),
        windows,
    )


def read_entries(handle: IO[str], fmt: str) -> Iterator[NewEntry]:
    """Entries from a JSONL or CSV file; a bad line raises `InvalidHashError` naming it."""
    if fmt == "csv":
        for n, row in enumerate(csv.DictReader(handle), start=2):
            yield _entry(dict(row), f"line {n}")
        return
    for n, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise InvalidHashError(f"line {n} is not JSON", "one JSON object per line") from None
        if not isinstance(record, dict):
            raise InvalidHashError(f"line {n} is not a JSON object")
        yield _entry(record, f"line {n}")
