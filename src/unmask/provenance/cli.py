"""`unmask verify`: what a file says about where it came from, in plain words."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from unmask.errors import UnmaskError
from unmask.media.limits import Limits

EXIT_OK = 0
EXIT_UNREADABLE = 2

SCHEMA_VERSION = "1.1"
"""Version of `verify --json` documents (schema: unmask/schema/verify-result.schema.json);
a new field bumps the minor number, a changed or removed one the major."""

SIDECAR_SUFFIX = ".c2pa"
"""A detached manifest store beside its asset (photo.jpg + photo.c2pa), as c2patool writes."""

STATE_STYLE = {
    "none": "yellow",
    "remote": "yellow",
    "invalid": "bold red",
    "valid_untrusted": "yellow",
    "trusted": "green",
}

_out = Console()
_err = Console(stderr=True)


@click.command(
    epilog="Exit codes: 0 the file was checked (whatever the answer); 2 it could not be read, "
    "or only in part (a damaged or truncated file: what could be read is still shown); "
    "64 wrong usage."
)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM file of certificate authorities you trust (repeatable). Added to trust.pem in "
    "the unmask home folder and to the C2PA trust list, which are always used.",
)
@click.option(
    "--manifest",
    "manifest_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A detached manifest store (.c2pa sidecar) to check PATH against. Without it, "
    "PATH's own credentials are read, else a sidecar beside it with the same name "
    "(photo.jpg + photo.c2pa).",
)
@click.option(
    "--originals",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of original photos and videos: find the one this file was made from and say "
    "what changed (the `unmask compare` engine). Without it, your registry of protected "
    "originals is used.",
)
@click.option(
    "--diff",
    "diff_out",
    type=click.Path(file_okay=False, path_type=Path),
    help="With an original found: write the evidence pictures (side by side, difference "
    "heatmap with the changed regions boxed; blurred) into this folder.",
)
@click.option(
    "--thumbnail",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the thumbnail embedded in the Content Credentials to this file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option(
    "--time-budget",
    type=click.FloatRange(min=0.0, min_open=True),
    default=Limits.time_budget_s,
    show_default=True,
    help="Seconds the checks may take before they are given up with an error.",
)
def verify(
    path: Path,
    trust_files: tuple[Path, ...],
    manifest_file: Path | None,
    originals: Path | None,
    diff_out: Path | None,
    thumbnail: Path | None,
    as_json: bool,
    time_budget: float,
) -> None:
    """Check where PATH came from: Content Credentials (C2PA), invisible watermarks, and
    (with --originals or your registry) the original it was made from.

    Content Credentials end in one of five states: no credentials (origin unknown, not a sign
    of manipulation), stored online (not fetched), invalid (a named check failed, e.g.
    assertion.dataHash.mismatch, explained as the validator explains it), valid but the signer
    is on no trust list, or trusted (by the C2PA trust list shipped with unmask, or yours).
    Nothing is sent anywhere: remote credentials and online look-ups are never fetched.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from unmask.worker import FileWorker

    if thumbnail is not None and not thumbnail.parent.is_dir():
        raise click.BadParameter(
            f"the folder {thumbnail.parent} does not exist", param_hint="--thumbnail"
        )
    if diff_out is not None:
        try:  # made now, as `scan --maps` does: a folder that cannot be made fails before work
            diff_out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise click.BadParameter(
                f"cannot make the folder {diff_out}: {exc.strerror or exc}", param_hint="--diff"
            ) from None
    document: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "path": str(path)}
    # Searching a folder of originals takes seconds: say how far it got (stderr, terminals only).
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=_err,
        disable=as_json or not _err.is_terminal,
        transient=True,
    )
    try:
        # In a worker process, killed if the checks pass the budget: a validator or decoder
        # stuck in native code on a hostile file cannot be stopped any other way.
        with FileWorker(time_budget) as worker, progress:
            task = progress.add_task("checking", total=None)

            def on_step(step: tuple[str, int, int]) -> None:
                what, done, total = step
                progress.update(task, description=f"{what} originals", completed=done, total=total)

            report, extras, thumbnail_bytes = worker.run(
                _check_file,
                path,
                list(trust_files),
                manifest_file,
                originals,
                diff_out,
                thumbnail is not None,
                on_progress=on_step,
            )
        document["content_credentials"] = report.to_dict()
    except UnmaskError as exc:
        _fail(path, exc, as_json)
        return
    damaged = extras.pop("damaged", None)
    if damaged is not None:  # the checks ran on what could be read: shown, and exit 2
        # Never "error": since 1.0 that means nothing was checked, and a consumer reading it
        # first would throw away what was read (a changed meaning needs a major version).
        document["damaged"] = damaged["message"]
    document.update(extras)

    if thumbnail is not None and thumbnail_bytes is not None:
        try:
            thumbnail.write_bytes(thumbnail_bytes)
        except OSError as exc:
            raise click.FileError(str(thumbnail), exc.strerror or str(exc)) from None
    if as_json:
        print(json.dumps(document, indent=2, ensure_ascii=False, default=str))
    else:
        _print(path, report, extras, damaged)
        if thumbnail is not None:
            if thumbnail_bytes is not None:
                _out.print(f"thumbnail written to {thumbnail}")
            else:
                _out.print("no thumbnail in the credentials")
    sys.exit(EXIT_OK if damaged is None else EXIT_UNREADABLE)


def _check_file(
    _state: object,
    path: Path,
    trust_files: list[Path],
    manifest_file: Path | None,
    originals: Path | None,
    diff_out: Path | None,
    want_thumbnail: bool,
) -> tuple[Any, dict[str, Any], bytes | None]:
    """Every check of `verify`, run in the worker: (credentials report, extra checks, the
    embedded thumbnail's bytes when asked for and present)."""
    import glob

    from unmask.errors import UnreadableFileError
    from unmask.provenance.credentials import extract_thumbnail, read_credentials
    from unmask.provenance.trust import load_trust

    _check_readable(path)
    if path.suffix.lower() == SIDECAR_SUFFIX:
        assets = sorted(
            p.name
            for p in path.parent.glob(f"{glob.escape(path.stem)}.*")
            if p.suffix.lower() != SIDECAR_SUFFIX and p.is_file()
        )
        raise UnreadableFileError(
            f"{path.name} is a detached manifest store (a sidecar), not a picture or video",
            f"check the file it belongs to: unmask verify {assets[0] if assets else 'FILE'} "
            f"(it is paired by name) or unmask verify FILE --manifest {path}",
        )
    trust = load_trust(trust_files)
    report = read_credentials(path, trust=trust)
    sidecar = manifest_file
    beside = path.with_suffix(SIDECAR_SUFFIX)
    ignored = manifest_file is None and beside.is_file() and report.state not in ("none", "remote")
    if manifest_file is None and report.state in ("none", "remote") and beside.is_file():
        sidecar = beside
    if sidecar is not None:
        how = "given with --manifest" if manifest_file is not None else "found beside the file"
        try:
            _check_readable(sidecar)
        except UnreadableFileError as exc:
            # the picture itself was read: say it is the sidecar that is missing or unreadable
            raise UnreadableFileError(
                f"the sidecar {sidecar} ({how}): {exc.message}", exc.hint
            ) from None
        report = read_credentials(
            path,
            trust=trust,
            manifest=sidecar.read_bytes(),
            manifest_name=f"sidecar {sidecar.name} ({how})",
        )
    extras = _extra_checks(path, originals, diff_out)
    if ignored:
        extras.setdefault("not_checked", []).append(
            f"the sidecar {beside.name} beside the file: the file's own credentials were read "
            f"(check the sidecar with --manifest {beside.name})"
        )
    identifier = report.active_manifest.thumbnail if report.active_manifest else None
    thumbnail = (
        extract_thumbnail(path, identifier)
        if want_thumbnail and identifier and sidecar is None
        else None
    )
    return report, extras, thumbnail


def _extra_checks(path: Path, originals: Path | None, diff_out: Path | None) -> dict[str, Any]:
    """Checks on the decoded file: invisible watermarks (stills); the original it was made from
    (stills and videos). A damaged or truncated file is said to be so (`damaged`, which the
    command turns into its error and exit code 2), with whatever could still be checked."""
    from dataclasses import asdict

    from unmask.errors import CorruptMediaError, UnreadableFileError
    from unmask.media import open_media
    from unmask.watermarks import read_all

    try:
        # Near keyframes: the packets are read to the end (no decoding), so a video cut short
        # is noticed however early the one sampled frame lies.
        media = open_media(path, n_frames=1, near_keyframes=True)
    except CorruptMediaError as exc:
        return {
            "not_checked": [
                "invisible watermarks and the original it was made from: the file could not "
                f"be decoded ({exc.message})"
            ],
            "damaged": _damaged(exc.code, exc.message, exc.hint),
        }
    except UnmaskError as exc:
        # Content Credentials can sit in files unmask does not decode (PDF, SVG, ...); a
        # picture refused by a limit is said to be unchecked, never passed over in silence.
        return {
            "not_checked": [
                "invisible watermarks and the original it was made from: the file could not "
                f"be decoded ({exc.message})"
            ]
        }
    extras: dict[str, Any] = {}
    if media.kind == "image" and media.frames:
        extras["watermarks"] = [asdict(r) for r in read_all(media.frames[0].rgb)]
    if originals is not None and not originals.is_dir():
        raise UnreadableFileError(f"no such folder: {originals}", "check the --originals path")
    extras["original"] = _find_original(path, originals, diff_out)
    if media.warnings:  # decoded, but only in part: a video cut short
        extras["damaged"] = _damaged(
            "corrupt_media",
            "; ".join(media.warnings),
            "the file may be damaged or incomplete: download or copy it again from its source",
        )
    return extras


def _damaged(code: str, why: str, hint: str) -> dict[str, str]:
    """What is wrong with a file that could be read only in part: its message is `verify
    --json`'s "damaged" (schema 1.1), the hint is shown beside it in the text output."""
    return {
        "code": code,
        "message": f"the file is damaged and could be read only in part ({why}); the checks "
        "cover only what could be read, and Content Credentials or marks in the rest cannot "
        "be seen",
        "hint": hint,
    }


def _find_original(path: Path, folder: Path | None, diff_out: Path | None) -> dict[str, Any]:
    """Search a folder (or the registry of protected originals) and compare with the nearest
    candidates (`unmask.compare`)."""
    from unmask.compare.evidence import write_evidence
    from unmask.compare.footage import load_suspect
    from unmask.compare.search import IndexedFile, compare_nearest, media_files, rank, search_folder
    from unmask.protect.originals import registered_originals

    keep = diff_out is not None
    if folder is not None:
        count = sum(1 for p in media_files(folder) if p.resolve() != path.resolve())
        result: dict[str, Any] = {"searched": f"folder {folder}", "candidates": count}
        comparison = None
        if count:
            comparison = search_folder(path, folder, keep_maps=keep, progress=_report)
    else:
        records = [
            r for r in registered_originals() if r.pdq and Path(r.path).resolve() != path.resolve()
        ]
        result = {"searched": "your registry of protected originals", "candidates": len(records)}
        comparison = None
        if records:
            files = [IndexedFile(r.path, 0, 0, "image", [r.pdq or ""]) for r in records]
            footage = load_suspect(path)
            comparison, _ = compare_nearest(
                footage, rank(footage.frames, files, None), keep_maps=keep
            )
    result["found"] = comparison is not None and comparison.outcome != "no_common_source"
    if comparison is not None:
        if diff_out is not None and result["found"]:
            write_evidence(comparison, diff_out)
        comparison.maps = None
        result["comparison"] = comparison.to_dict()
    return result


def _report(stage: str, done: int, total: int) -> None:
    """Hand the folder search's progress to the parent process (see `FileWorker.run`)."""
    from unmask.worker import report_progress

    report_progress((stage, done, total))


def _check_readable(path: Path) -> None:
    """A regular file within the size limit (a FIFO or a device is refused unopened)."""
    from unmask.errors import UnreadableFileError
    from unmask.media.loader import read_head

    size, _ = read_head(path)
    if size > Limits.max_file_bytes:
        raise UnreadableFileError(
            "the file is larger than unmask reads", "see `unmask scan --max-file-size`"
        )


def _safe(text: object) -> str:
    """File-controlled text for Rich: control characters escaped, brackets not markup."""
    from unmask.terminal import markup_safe

    return markup_safe(text)


def _fail(path: Path, exc: UnmaskError, as_json: bool) -> None:
    if as_json:
        error = {"code": exc.code, "message": exc.message, "hint": exc.hint}
        document = {"schema_version": SCHEMA_VERSION, "path": str(path), "error": error}
        print(json.dumps(document, indent=2))
    else:
        _err.print(f"[red]{_safe(str(path))}: could not be checked:[/red] {_safe(exc.message)}")
        if exc.hint:
            _err.print(f"what to do: {_safe(exc.hint)}")
    sys.exit(EXIT_UNREADABLE)


def _print(
    path: Path, report: Any, extras: dict[str, Any], damaged: dict[str, str] | None = None
) -> None:
    style = STATE_STYLE[report.state]
    _out.print(f"[bold]{_safe(str(path))}[/bold]")
    if damaged is not None:  # first, so that nothing below reads as a whole answer
        _out.print(f"[bold red]Damaged:[/bold red] {_safe(damaged['message'])}")
        _out.print(f"  what to do: {_safe(damaged['hint'])}")
    # The headline names the Content Credentials itself ("No Content Credentials.").
    _out.print(f"[{style}]{_safe(report.headline)}[/{style}]")
    _out.print(f"  {_safe(report.explanation)}")
    if report.state == "remote" and report.remote_url:
        # on one line, unwrapped, so that it can be copied whole
        _out.print(f"  stored at: {_safe(report.remote_url)}", soft_wrap=True, highlight=False)
    if report.manifest_source != "embedded":
        _out.print(f"  read from: {_safe(report.manifest_source)}")
    for failure in report.failures:
        said = f' (c2pa-rs: "{_safe(failure.detail)}")' if failure.detail else ""
        _out.print(
            f"  [red]failed[/red] {failure.code} in {_safe(failure.where)}: "
            f"{_safe(failure.meaning)}{said}"
        )
    for note in report.unchecked:
        _out.print(f"  [dim]not checked[/dim] {note.code}: {_safe(note.meaning)}")
    if report.trust_lists and report.state in ("valid_untrusted", "trusted", "invalid"):
        _out.print(f"  [dim]signer checked against {_safe(' and '.join(report.trust_lists))}[/dim]")
    manifest = report.active_manifest
    if manifest is not None:
        rows = [
            ("signed by", manifest.signer, manifest.signer_organization),
            ("signed at", manifest.signed_at or "no trusted timestamp", None),
            ("made with", manifest.claim_generator, None),
            ("title", manifest.title, manifest.format),
            ("author", ", ".join(manifest.authors) or None, None),
        ]
        for label, value, extra in rows:
            if value:
                suffix = f" ({extra})" if extra else ""
                _out.print(f"  {label}: {_safe(str(value))}{_safe(suffix)}")
        for action in manifest.actions:
            source = action.digital_source_type or ""
            source = source.rsplit("/", 1)[-1]
            parts = [action.action]
            if source:
                parts.append(f"source: {source}")
            if action.software_agent:
                parts.append(f"by {action.software_agent}")
            if action.when:
                parts.append(f"at {action.when}")
            _out.print(f"  action: {_safe(', '.join(parts))}")
        if manifest.ai_generation == "generated":
            _out.print("  [bold red]declared generated by AI[/bold red] (trainedAlgorithmicMedia)")
        elif manifest.ai_generation == "composite":
            _out.print("  [bold red]declared partly generated by AI[/bold red] (composite)")
        if manifest.training_mining:
            uses = ", ".join(
                f"{k.split('.')[-1]}: {v}" for k, v in manifest.training_mining.items()
            )
            _out.print(f"  AI training and mining: {_safe(uses)}")
        for identity in manifest.identities:
            _print_identity(identity)
        if manifest.ingredients:
            _out.print("  made from:")
            _print_ingredients(manifest.ingredients, 2)
    for mark in extras.get("watermarks", []):
        if mark["found"]:
            _out.print(
                f"Watermark: [bold red]{_safe(mark['meaning'])}[/bold red] "
                f"({mark['bits'] - mark['bit_errors']} of {mark['bits']} bits match)"
            )
    if extras.get("watermarks") and not any(m["found"] for m in extras["watermarks"]):
        _out.print("Watermarks: none found (most generators embed none; re-saving removes them)")
    _print_original(extras.get("original"))
    for item in extras.get("not_checked", []):
        _out.print(f"Not checked: {_safe(item)}", highlight=False)
    if report.state == "valid_untrusted":
        _out.print(
            "  [dim]to trust another signer: --trust CA.pem, or put its CA in trust.pem "
            "(see `unmask keys show`)[/dim]"
        )


def _print_identity(identity: Any) -> None:
    """A CAWG identity assertion: who signed it, the accounts it links, and its check."""
    status = identity.status
    if identity.codes:
        status += ": " + ", ".join(identity.codes)
    colour = {"validated": "green", "invalid": "red"}.get(identity.status, "yellow")
    signer = identity.signer or ""
    if len(signer) > 60:  # a did:jwk embeds a whole key; the JSON keeps it in full
        signer = signer[:40] + "..."
    signer = f" by {_safe(signer)}" if signer else ""
    _out.print(f"  creator identity{signer} ([{colour}]{_safe(status)}[/{colour}])")
    for account in identity.accounts:
        who = account.name or account.username or ""
        parts = [account.kind.replace("_", " ")]
        if who:
            parts.append(who)
        if account.provider:
            parts.append(f"at {account.provider}")
        if account.uri:
            parts.append(account.uri)
        _out.print(f"    - {_safe(', '.join(parts))}")


def _print_ingredients(ingredients: list[Any], indent: int) -> None:
    for ingredient in ingredients:
        status = "with credentials" if ingredient.has_credentials else "no credentials"
        if ingredient.failures:
            status = "[red]credentials failed: " + ", ".join(ingredient.failures) + "[/red]"
        relation = f"{ingredient.relationship}, " if ingredient.relationship else ""
        _out.print(" " * indent * 2 + f"- {_safe(ingredient.title)} ({_safe(relation)}{status})")
        _print_ingredients(ingredient.ingredients, indent + 1)


def _print_original(original: dict[str, Any] | None) -> None:
    from unmask.compare.cli import print_comparison

    if original is None or not original["candidates"]:
        return
    if not original["found"]:
        candidates = original["candidates"]
        which = "the one file" if candidates == 1 else f"none of the {candidates} files"
        verb = "does not show" if candidates == 1 else "shows"
        _out.print(
            f"Original: {which} in {escape(original['searched'])} {verb} the same photo or "
            "footage as this file."
        )
        return
    _out.print(f"Original, searched in {escape(original['searched'])}:")
    print_comparison(original["comparison"], _out)
