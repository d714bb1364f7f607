"""`unmask hash`, `unmask bank ...` and `unmask serve`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from unmask.errors import UnmaskError
from unmask.media.limits import DEFAULT_SAMPLE_FRAMES, Limits
from unmask.terminal import counted, printable

if TYPE_CHECKING:
    from rich.progress import Progress

_out = Console()
_err = Console(stderr=True)
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
EXIT_NO_MATCH = 0
EXIT_MATCH = 1
EXIT_ERROR = 2

F = TypeVar("F", bound=Callable[..., Any])

db_option = click.option(
    "--db",
    envvar="UNMASK_BANK_URL",
    help="Bank database URL (default: a SQLite file in $UNMASK_HOME if set, else in "
    "~/.local/share/unmask; "
    "e.g. postgresql://user@host/db). Also read from $UNMASK_BANK_URL.",
)


def _fail(message: str, hint: str = "") -> None:
    text = escape(printable(message)) + (f"\n  hint: {escape(printable(hint))}" if hint else "")
    _err.print(f"[red]error:[/] {text}", highlight=False)
    sys.exit(EXIT_ERROR)


def friendly(func: F) -> F:
    """Turn our errors into one clear line and exit status 2, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UnmaskError as exc:
            _fail(exc.message, exc.hint)

    return wrapper  # type: ignore[return-value]


def _safe(text: object) -> str:
    """User- or file-controlled text for Rich markup strings: control characters escaped,
    brackets never read as markup."""
    return escape(printable(str(text)))


def _text(text: object) -> Text:
    """The same as a table cell: plain text, never markup."""
    return Text(printable(str(text)))


def _store(db: str | None) -> Any:
    from unmask.bank.store import BankStore

    return BankStore(db)


def _update_index(store: Any) -> None:
    """Bring the match index saved beside the bank up to date after a write: it loads only
    the entries added since it was saved (the first time, every entry), so the next
    `bank match` need not."""
    from contextlib import nullcontext

    from unmask.bank.matching import Matcher

    # Seconds the first time on a large bank (every entry is read): say so on a terminal.
    waiting = _err.status("updating the match index") if _err.is_terminal else nullcontext()
    with waiting:
        Matcher(store)


def _actor() -> str:
    """Who a command acts as in the bank's audit log: the local user's account name."""
    import getpass

    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (containers)
        return "local"


def _progress() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_err,
        transient=True,
        disable=not _err.is_terminal,
    )


@click.command("hash", context_settings=CONTEXT)
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="FILE..."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file.")
@click.option(
    "--time-budget",
    type=click.FloatRange(min=0.0, min_open=True),
    default=Limits.time_budget_s,
    show_default=True,
    help="Seconds one file may take before it is given up with an error.",
)
@friendly
def hash_command(paths: tuple[Path, ...], as_json: bool, time_budget: float) -> None:
    """Print the hashes of pictures and videos: sha256, md5, pdq (pictures, with quality 0-100)
    and vpdq (videos, one frame per second), named and encoded as ThreatExchange and HMA
    expect. Nothing leaves this computer.

    \b
    Example:
      unmask hash photo.jpg clip.mp4
    """
    from unmask.worker import FileWorker

    failed = False
    # One worker process for the run, killed and replaced if a file passes its budget.
    with FileWorker(time_budget) as worker:
        for path in paths:
            try:
                document, signals, frames, quality = worker.run(_hash_task, str(path))
            except UnmaskError as exc:
                failed = True
                shown = escape(printable(f"{path}: {exc.message}"))
                _err.print(f"[red]error:[/] {shown}", highlight=False)
                continue
            if as_json:
                print(json.dumps(document))
                continue
            _print_hashes(path, signals, frames, quality)
    if failed:
        sys.exit(EXIT_ERROR)


def _hash_task(
    _state: object, path: str
) -> tuple[dict[str, object], dict[str, str], int, int | None]:
    """`unmask hash`'s task in the worker process: the file's hashes as plain values (JSON
    document, signals, vPDQ frames, PDQ quality), so that this process does not import
    unmask.hashing, with NumPy and Pillow, only to read them back."""
    from unmask.hashing import hash_file

    hashes = hash_file(path)
    return hashes.to_dict(), hashes.signals(), len(hashes.vpdq), hashes.pdq_quality


def _print_hashes(path: Path, signals: dict[str, str], frames: int, quality: int | None) -> None:
    print(printable(str(path)))
    for name, value in signals.items():
        if name == "vpdq":
            print(f"  {'vpdq':<13} {counted(frames, 'frame')} (use --json for the hash)")
        elif name == "pdq":
            print(f"  {'pdq':<13} {value}  quality {quality}")
        else:
            print(f"  {name:<13} {value}")


@click.group("bank", context_settings=CONTEXT)
def bank_group() -> None:
    """Share hashes, never pictures: keep banks of hashes of pictures and videos that must
    not spread, and match files against them.

    \b
    Example:
      unmask bank create ncii
      unmask bank add ncii my-photo.jpg --label ncii
      unmask bank match upload.jpg          (exit 1 if anything matched)
    """


@bank_group.command("create")
@click.argument("name")
@click.option("--description", default="", help="What the bank holds and where it came from.")
@db_option
@friendly
def bank_create(name: str, description: str, db: str | None) -> None:
    """Create an empty bank called NAME."""
    _store(db).create_bank(name, description, actor=_actor())
    _out.print(f"created bank {_safe(repr(name))}", highlight=False)


@bank_group.command("list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Most entries shown for bank NAME.",
)
@db_option
@friendly
def bank_list(name: str | None, as_json: bool, limit: int, db: str | None) -> None:
    """List banks, or the entries of bank NAME."""
    from contextlib import closing

    from unmask.bank.listing import open_reader

    # An existing, current database is read without SQLAlchemy (a fraction of the start-up);
    # BankStore creates or migrates one that is not.
    with closing(open_reader(db) or _store(db)) as store:
        banks = store.banks() if name is None else []
        entries = [] if name is None else list(store.entries(name, limit=limit))
    if name is None:
        if as_json:
            print(json.dumps([b.to_dict() for b in banks]))
            return
        if not banks:
            _out.print("no banks yet: make one with `unmask bank create NAME`", highlight=False)
            return
        table = Table("bank", "entries", "enabled", "description")
        for b in banks:
            table.add_row(
                _text(b.name), str(b.entries), "yes" if b.enabled else "no", _text(b.description)
            )
        _out.print(table)
        return
    if as_json:
        print(json.dumps([e.to_dict() for e in entries]))
        return
    table = Table("id", "type", "hash", "quality", "labels", "enabled", "added")
    for e in entries:
        shown = e.value if len(e.value) <= 64 else e.value[:61] + "..."
        table.add_row(
            str(e.id),
            e.signal_type,
            _text(shown),
            "" if e.quality is None else str(e.quality),
            _text(",".join(e.labels)),
            "yes" if e.enabled else "no",
            e.added_at.strftime("%Y-%m-%d"),
        )
    _out.print(table)


@bank_group.command("add")
@click.argument("name")
@click.argument("items", nargs=-1, required=True, metavar="FILE_OR_HASH...")
@click.option("--label", "labels", multiple=True, help="Label for the new entries (repeatable).")
@click.option(
    "--source",
    default="",
    help="Where the hashes come from (free text; stored only if given, never the file name).",
)
@click.option(
    "--by", "added_by", default="", help="Who adds them (stored with each entry only if given)."
)
@db_option
@friendly
def bank_add(
    name: str,
    items: tuple[str, ...],
    labels: tuple[str, ...],
    source: str,
    added_by: str,
    db: str | None,
) -> None:
    """Add pictures, videos or hash strings to bank NAME.

    A file is hashed here and only its hashes are stored (pictures: pdq with crop-robust window
    hashes, photo_md5, photo_sha256; videos: vpdq, video_md5, video_sha256). Neither the file
    nor its name is kept. A hash string is TYPE:HASH (pdq:..., vpdq:[...], video_md5:...,
    md5:..., sha256:...; ThreatExchange names) or a bare PDQ/MD5 hash.
    """
    from unmask.bank.store import NewEntry, entries_for_file
    from unmask.hashing import BANK_WINDOW_CUTS, hash_file, parse_hash

    store = _store(db)
    store.bank(name)
    new: list[NewEntry] = []
    with _progress() as progress:
        task = progress.add_task("hashing", total=len(items))
        for item in items:
            if Path(item).exists():
                hashes = hash_file(item, window_cuts=BANK_WINDOW_CUTS)
                new += entries_for_file(hashes, list(labels), source)
            else:
                kind, value = parse_hash(item)
                new.append(NewEntry(kind, value, None, list(labels), source))
            progress.advance(task)
    ids = store.add_entries(name, new, added_by, actor=_actor())
    _update_index(store)
    numbered = f"id {ids[0]}" if len(ids) == 1 else f"ids {ids[0]}-{ids[-1]}"
    _out.print(
        f"added {counted(len(ids), 'entry', 'entries')} to {_safe(repr(name))} ({numbered})",
        highlight=False,
    )


@bank_group.command("remove")
@click.argument("name")
@click.argument("entry_ids", nargs=-1, required=True, type=int, metavar="ENTRY_ID...")
@click.option("--disable", is_flag=True, help="Keep the entries but never match them.")
@db_option
@friendly
def bank_remove(name: str, entry_ids: tuple[int, ...], disable: bool, db: str | None) -> None:
    """Remove entries from bank NAME (or --disable them)."""
    store = _store(db)
    for entry_id in entry_ids:
        if disable:
            store.set_enabled(entry_id, False, name, actor=_actor())
        else:
            store.remove_entry(entry_id, name, actor=_actor())
    _update_index(store)
    done = "disabled" if disable else "removed"
    _out.print(f"{done} {counted(len(entry_ids), 'entry', 'entries')}")


@bank_group.command("export")
@click.argument("name")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write; .csv gives CSV, anything else JSON Lines.",
)
@db_option
@friendly
def bank_export(name: str, output: Path, db: str | None) -> None:
    """Export bank NAME as JSON Lines or CSV, window hashes included. CSV has ThreatExchange
    signal-type names and hash strings (signal_type, signal) and an extra pdq_windows column:
    tools that ignore it cannot match crops of about 5 % that this bank matches."""
    from unmask.bank.transfer import write_csv, write_jsonl

    store = _store(db)
    writer = write_csv if output.suffix.lower() == ".csv" else write_jsonl
    try:
        handle = output.open("w", newline="")
    except OSError as exc:
        raise click.FileError(str(output), exc.strerror or str(exc)) from None
    with handle:
        n = writer(store.entries(name, windows=True), handle)
    _out.print(f"wrote {counted(n, 'entry', 'entries')} to {_safe(output)}", highlight=False)
    if writer is write_csv:
        _err.print(
            "note: the crop-robust window hashes are in the pdq_windows column; a tool that "
            "reads only signal_type and signal will not match crops of about 5 % that this "
            "bank matches (unmask bank import reads them).",
            highlight=False,
        )


@bank_group.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--create", is_flag=True, help="Create the bank if it does not exist.")
@click.option("--by", "added_by", default="", help="Who imports them.")
@db_option
@friendly
def bank_import(name: str, file: Path, create: bool, added_by: str, db: str | None) -> None:
    """Import entries into bank NAME from a .jsonl or .csv file (as `export` writes them, or
    ThreatExchange/HMA CSV: columns signal_type and signal, or hash as in an evidence package's
    hashes.csv; 0.1's type names are read too). Nothing is added if any line is bad; hashes
    the bank already holds (same type and hash) are left out, so importing a file twice adds
    nothing the second time."""
    from unmask.bank.store import NotFoundError
    from unmask.bank.transfer import read_entries

    store = _store(db)
    try:
        store.bank(name)
    except NotFoundError:
        if not create:
            raise
        store.create_bank(name, actor=_actor())
    fmt = "csv" if file.suffix.lower() == ".csv" else "jsonl"
    with file.open(newline="") as handle:
        entries = list(read_entries(handle, fmt))
    ids = (
        store.add_entries(name, entries, added_by, actor=_actor(), skip_existing=True)
        if entries
        else []
    )
    _update_index(store)
    skipped = len(entries) - len(ids)
    also = f"; {skipped} left out, already in the bank" if skipped else ""
    imported = counted(len(ids), "entry", "entries")
    _out.print(f"imported {imported} into {_safe(repr(name))}{also}", highlight=False)


@bank_group.command("match", epilog="Exit codes: 0 no match; 1 at least one match; 2 error.")
@click.argument("items", nargs=-1, required=True, metavar="FILE_OR_HASH...")
@click.option("--bank", "banks", multiple=True, help="Only these banks (repeatable).")
@click.option(
    "--radius",
    type=click.IntRange(0, 32),
    default=31,
    show_default=True,
    help="Largest PDQ Hamming distance that counts as a match.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per input.")
@db_option
@friendly
def bank_match(
    items: tuple[str, ...], banks: tuple[str, ...], radius: int, as_json: bool, db: str | None
) -> None:
    """Match pictures, videos or hash strings against the banks. Pictures are also matched by
    sub-window hashes and by their rotations and mirror images, so cropped, turned and mirrored
    copies are found. Each match says what it means; a PDQ or vPDQ match is a lead for a person
    to review, not proof: different pictures can look alike to PDQ, and a deepfake matches the
    video it was made from."""
    from unmask.bank.listing import open_reader
    from unmask.bank.matching import Matcher, Query
    from unmask.hashing import QUERY_WINDOW_CUTS, hash_file, parse_hash

    # An existing, current database is read without SQLAlchemy (half a CPU second to import),
    # the index from the files saved beside it: a lookup costs little more than hashing.
    source = open_reader(db) or _store(db)
    known = {info.name: info for info in source.banks()}
    for name in banks:
        if name not in known:
            _fail(f"no bank called {name!r}", "list banks with `unmask bank list`")
    searched = (
        [known[name] for name in banks] if banks else [b for b in known.values() if b.enabled]
    )
    if not any(info.entries for info in searched):
        # "No match" against nothing must not read as a file checked and cleared.
        empty = "the banks given hold no entries" if banks else "no enabled bank holds any entry"
        _err.print(f"[yellow]note:[/] {empty}: nothing was compared", highlight=False)
    matcher = Matcher(source, radius=radius)
    where = ", ".join(repr(b) for b in banks) if banks else "any enabled bank"
    any_match = False
    for item in items:
        if Path(item).exists():
            query = Query.from_file(hash_file(item, window_cuts=QUERY_WINDOW_CUTS))
        else:
            query = Query.from_hash(*_parse_hash_or_missing_file(item, parse_hash))
        matches = matcher.match(query, set(banks) if banks else None)
        any_match = any_match or bool(matches)
        if as_json:
            print(
                json.dumps(
                    {
                        "input": item,
                        "matches": [m.to_dict() for m in matches],
                        "low_quality": query.low_quality,
                    }
                )
            )
            continue
        if not matches:
            _out.print(f"{_safe(item)}: {_safe(_no_match_text(query, where))}", highlight=False)
        cautions: dict[str, str] = {}
        for m in matches:
            _out.print(
                f"{_safe(item)}: [bold]match[/] in bank {_safe(repr(m.entry.bank))}, entry "
                f"{m.entry.id} ({m.signal_type}): {_safe(m.meaning)}; labels "
                f"{_safe(','.join(m.entry.labels) or '-')}",
                highlight=False,
            )
            cautions.setdefault(m.caution, m.caution)
        for caution in cautions:
            _out.print(f"  [dim]note: {_safe(caution)}[/]", highlight=False)
    sys.exit(EXIT_MATCH if any_match else EXIT_NO_MATCH)


def _parse_hash_or_missing_file(item: str, parse_hash: Any) -> Any:
    """`parse_hash(item)`; an item that is no hash but reads like a file name (a folder or a
    file extension in it) is reported as a missing file, which is what the user meant."""
    try:
        return parse_hash(item)
    except UnmaskError:
        if "/" in item or "\\" in item or Path(item).suffix:
            raise UnmaskError(
                f"no file named {item!r}",
                "check the path; to look up a hash instead, write it as TYPE:HASH, "
                "e.g. pdq:<64 hex digits>",
            ) from None
        raise


def _no_match_text(query: Any, where: str) -> str:
    """'No match' said as what was compared and what it cannot see, never as an all-clear."""
    compared = []
    if query.rotations or len(query.pdq) > 1:
        compared.append("PDQ of the picture, 16 crop windows, its rotations and mirror images")
    elif query.pdq:
        compared.append("the PDQ hash given (no crop windows, rotations or mirror images)")
    if query.vpdq:
        compared.append("vPDQ of one frame a second")
    if query.exact:
        compared.append("the file's MD5 and SHA-256")
    text = f"no match in {where}; compared {'; '.join(compared) or 'the hash given'}"
    if query.low_quality:
        text += " (the picture is too plain for PDQ, quality < 50: only exact copies can match)"
    return (
        text + ". Not found here does not mean the file is not banked elsewhere, nor that it "
        "is unaltered: copies changed beyond these hashes' reach (crops over about 6%, "
        "overlays, a screen re-filmed) are missed."
    )


@bank_group.group("keys")
def keys_group() -> None:
    """API keys for `unmask serve` (scopes: match, write, admin)."""


@keys_group.command("create")
@click.argument("key_name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(["match", "write", "admin"]),
    help="What the key may do (repeatable): match = look up and see matches only; write = "
    "also add, list and remove entries; admin = everything, banks and the audit log too.",
)
@click.option("--bank", "banks", multiple=True, help="Limit the key to these banks.")
@db_option
@friendly
def keys_create(
    key_name: str, scopes: tuple[str, ...], banks: tuple[str, ...], db: str | None
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    key = _store(db).create_key(key_name, list(scopes), list(banks) or None, actor=_actor())
    print(key)


@keys_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also show revoked keys.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
@friendly
def keys_list(show_all: bool, as_json: bool, db: str | None) -> None:
    """List API keys: name, scopes, banks, when made (the keys themselves are not stored)."""
    keys = _store(db).keys(include_revoked=show_all)
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "name": k.name,
                        "scopes": k.scopes,
                        "banks": k.banks,
                        "created_at": k.created_at.isoformat() if k.created_at else None,
                        "revoked": k.revoked,
                    }
                    for k in keys
                ]
            )
        )
        return
    table = Table("key", "scopes", "banks", "created", "revoked")
    for k in keys:
        table.add_row(
            _text(k.name),
            ",".join(k.scopes),
            _text("all" if k.banks is None else ",".join(k.banks)),
            k.created_at.isoformat(timespec="seconds") if k.created_at else "",
            "yes" if k.revoked else "no",
        )
    _out.print(table)


@keys_group.command("revoke")
@click.argument("key_name")
@db_option
@friendly
def keys_revoke(key_name: str, db: str | None) -> None:
    """Revoke an API key: it stops working at once (kept in `keys list --all`)."""
    _store(db).revoke_key(key_name, actor=_actor())
    _out.print(f"revoked {_safe(repr(key_name))}", highlight=False)


@bank_group.command("audit")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
@friendly
def bank_audit(limit: int, as_json: bool, db: str | None) -> None:
    """Show the audit log, newest first: who (an API key's name, or local:USER) created or
    deleted banks, added or removed entries, made or revoked keys, and when (UTC)."""
    events = _store(db).audit_log(limit=limit)
    if as_json:
        print(json.dumps([e.to_dict() for e in events]))
        return
    table = Table("when (UTC)", "who", "action", "bank", "detail")
    for e in events:
        detail = ", ".join(f"{k}={v}" for k, v in e.detail.items() if v is not None)
        table.add_row(
            e.at.isoformat(timespec="seconds"),
            _text(e.actor),
            e.action,
            _text(e.bank or ""),
            _text(detail),
        )
    _out.print(table)


@click.command("serve", context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (a port another program holds is refused with a clear error).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Files scanned at the same time (scans are CPU-bound).",
)
@click.option(
    "--queue",
    "queue_size",
    type=click.IntRange(min=0),
    default=16,
    show_default=True,
    help="Files that may wait for a worker; more are refused with a 'busy' message.",
)
@click.option(
    "--max-upload-mb",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Largest file the pages accept.",
)
@click.option(
    "--keep-minutes",
    type=click.FloatRange(min=0, min_open=True),
    default=60,
    show_default=True,
    help="Delete uploads and their results this long after the scan.",
)
@click.option(
    "--frames",
    type=click.IntRange(min=1),
    default=DEFAULT_SAMPLE_FRAMES,
    show_default=True,
    help="Frames sampled from each uploaded video (as `unmask scan --frames`).",
)
@click.option(
    "--upload-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the private upload folder is made (default: the system's temporary folder).",
)
@db_option
@friendly
def serve_command(
    host: str,
    port: int,
    workers: int,
    queue_size: int,
    max_upload_mb: int,
    keep_minutes: float,
    frames: int,
    upload_dir: Path | None,
    db: str | None,
) -> None:
    """Serve the web pages (check a file, make and check evidence reports, hash bank) and the
    REST API (OpenAPI at /openapi.json). Files are checked on this computer; an upload is
    deleted once its report is made, and everything made from it after --keep-minutes, on
    "Delete now", or when the server stops.

    The bank pages and every REST call need an API key; create one with
    `unmask bank keys create NAME --scope match`.

    \b
    Example:
      unmask serve                 (then open http://127.0.0.1:8000/)
    """
    from unmask.server import create_app
    from unmask.server.guard import allowed_hosts_for
    from unmask.server.run import bind, serve
    from unmask.server.web import WebConfig

    web = WebConfig(
        workers=workers,
        queue_size=queue_size,
        max_upload_bytes=max_upload_mb * 1024**2,
        retention_s=keep_minutes * 60,
        frames=frames,
        upload_dir=upload_dir,
        allowed_hosts=allowed_hosts_for(host),
    )
    app = create_app(_store(db), web=web)
    sock = bind(host, port)  # a taken port is a clear error, before "running at"
    shown = f"[{host}]" if ":" in host else host
    _out.print(f"Unmask is running at http://{shown}:{port}/  (press Ctrl+C to stop)")
    if host not in ("127.0.0.1", "localhost", "::1"):
        _err.print(
            "[yellow]warning:[/] listening beyond this computer: anyone who can reach this "
            "address can use the scan pages (the bank needs an API key)."
        )
    serve(app, sock)
