"""`unmask report FILE... -o DIR` and `unmask report verify DIR`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from unmask.cli_options import frames_option
from unmask.config import ScanConfig
from unmask.errors import UnmaskError
from unmask.output import printable

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_ERROR = 2
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

_out = Console()
_err = Console(stderr=True)


class ReportGroup(click.Group):
    """`unmask report FILE...` makes a package; `unmask report verify DIR` checks one. Anything
    that is not a subcommand's name is taken as the files of `unmask report create`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


@click.group("report", cls=ReportGroup, context_settings=CONTEXT)
def report_group() -> None:
    """Make a signed evidence package with ready-to-send takedown requests, or check one.

    \b
    unmask report clip.mp4 -o evidence --url https://example.com/post/1
    unmask report verify evidence

    The package holds the scan results, the files' hashes (SHA-256, MD5, PDQ, vPDQ), a report in
    plain words (HTML and PDF, pictures blurred unless --reveal), a hash-only list for
    hash-sharing services, and takedown requests (TAKE IT DOWN Act, EU DSA Art. 16, DMCA, a
    generic platform report). Everything is sealed with this computer's Ed25519 key.

    The options for making a package: unmask report create --help"""


@report_group.command("create", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Folder to write the package into (new or empty) [default: evidence-DATE-TIME].",
)
@click.option("--zip", "make_zip", is_flag=True, help="Also write FOLDER.zip of the package.")
@click.option("--url", "urls", multiple=True, help="Where the media was found (repeatable).")
@click.option(
    "--found-at",
    default="",
    help="When you found it, as YYYY-MM-DD HH:MM (ISO 8601), e.g. 2026-11-20 21:00; recorded "
    "with its offset from UTC in --time-zone.",
)
@click.option(
    "--time-zone",
    "time_zone",
    default=None,
    metavar="ZONE",
    help="Time zone of --found-at, e.g. Europe/London [default: this computer's].",
)
@click.option("--notes", default="", help="Anything else to record with the evidence.")
@click.option(
    "--answers",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON or TOML file answering the takedown questions (keys: see --questions).",
)
@click.option(
    "--questions",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=lambda ctx, _, value: _print_questions(ctx) if value else None,
    help="List the takedown questions and their keys for --answers, and exit.",
)
@click.option(
    "--ask/--no-ask",
    default=None,
    help="Ask the takedown questions here [default: ask when run in a terminal without --answers].",
)
@click.option(
    "--notice",
    "notices",
    multiple=True,
    type=click.Choice(["take_it_down", "dsa", "dmca", "platform"]),
    help="Which takedown requests to write (repeatable) [default: all four].",
)
@click.option("--no-notices", is_flag=True, help="Write no takedown requests.")
@click.option(
    "--reveal", is_flag=True, help="Put sharp pictures in the report instead of blurred ones."
)
@click.option(
    "--include-media",
    is_flag=True,
    help="Copy the files themselves into the package (by default only their hashes).",
)
@click.option(
    "--original",
    "originals",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The original photo or video the file was made from (repeatable: the one it matches "
    "is used). Adds a 'Comparison with the original' section: both files' SHA-256, the "
    "outcome, the alignment, the changed regions and pictures (blurred unless --reveal).",
)
@click.option(
    "--tsa-url",
    default=None,
    metavar="URL",
    help="Have the seal stamped by this RFC 3161 timestamp authority (a trusted time for the "
    "package, kept as manifest.tsr). Sends the SHA-256 of the manifest to that address, nothing "
    "else; off by default (nothing goes online).",
)
@click.option("--no-pdf", is_flag=True, help="Skip the PDF files (HTML and text only).")
@frames_option
@click.option(
    "--face-model",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="UNMASK_FACE_SWAP_MODEL",
    help="Your own face-manipulation model (.onnx, its .json card beside it), as in "
    "`unmask scan` [env: UNMASK_FACE_SWAP_MODEL]; its SHA-256 goes into the record.",
)
def create_command(
    paths: tuple[str, ...],
    output: Path | None,
    make_zip: bool,
    urls: tuple[str, ...],
    found_at: str,
    time_zone: str | None,
    notes: str,
    answers: Path | None,
    ask: bool | None,
    notices: tuple[str, ...],
    no_notices: bool,
    reveal: bool,
    include_media: bool,
    no_pdf: bool,
    originals: tuple[Path, ...],
    tsa_url: str | None,
    frames: int | None,
    face_model: Path | None,
) -> None:
    """Scan FILE... and write a sealed evidence package."""
    from rich.progress import Progress

    from unmask.report.package import (
        PackageOptions,
        Sighting,
        build_package,
        check_target,
        gather,
    )
    from unmask.report.signing import load_or_create_key
    from unmask.report.takedown import NOTICE_KINDS, Answers, load_answers

    try:
        files = _existing_files(paths)
        given = load_answers(answers) if answers else Answers()
        if ask is None:
            ask = answers is None and sys.stdin.isatty() and not no_notices
        if ask:
            given = _ask(given)
            if not found_at:
                from unmask.report.times import local_zone_name

                zone = time_zone or local_zone_name()
                found_at = click.prompt(
                    f"When did you find it? As YYYY-MM-DD HH:MM, in time zone {zone} "
                    "(for the record; Enter to skip)",
                    default="",
                    err=True,
                ).strip()
            if not notes:
                notes = click.prompt(
                    "Anything else to record with the evidence? (Enter to skip)",
                    default="",
                    err=True,
                ).strip()
        sighting = Sighting.from_answers(list(urls), found_at, notes, time_zone)
        target = output or Path(f"evidence-{datetime.now(UTC):%Y%m%d-%H%M%S}")
        # Anything that would stop the package is found before minutes of scanning.
        check_target(target, make_zip)
        key = load_or_create_key()
        config = ScanConfig(frames=frames, face_swap_model=face_model)
        with Progress(console=_err, transient=True, disable=not _err.is_terminal) as progress:
            task = progress.add_task("scanning", total=len(files))

            def advance(path: Path) -> None:
                progress.update(task, description=f"scanning {path.name}", advance=1)

            items = gather(files, config, on_file=advance, originals=originals)
            progress.update(task, description="writing the package")
            built = build_package(
                items,
                target,
                sighting,
                given,
                PackageOptions(
                    reveal=reveal,
                    include_media=include_media,
                    notices=() if no_notices else (notices or NOTICE_KINDS),
                    make_zip=make_zip,
                    pdf=not no_pdf,
                    face_swap_model=face_model,
                    tsa_url=tsa_url,
                ),
                key=key,
            )
    except UnmaskError as exc:
        _fail(exc.message, exc.hint)
    except OSError as exc:
        _fail(_os_error(exc), "check the folder given with -o and that the disk has room")
    # File names and folders are the user's: never read as Rich markup (`[/]` in a name) or
    # as terminal commands (escape codes).
    folder = escape(printable(str(built.folder)))
    _out.print(f"Evidence package written to [bold]{folder}[/] ({len(built.files)} files)")
    if built.zip_path:
        _out.print(f"  and zipped to [bold]{escape(printable(str(built.zip_path)))}[/]")
    for item in items:
        name = escape(printable(item.name))
        if item.result.error:
            message = escape(printable(item.result.error.message))
            _out.print(f"  [red]{name}: could not be analysed[/]: {message}")
        elif item.result.verdict:
            _out.print(f"  {name}: {escape(item.result.verdict.headline)}")
        if item.comparison is not None:
            original = escape(printable(Path(item.comparison.original or "").name))
            _out.print(f"    compared with {original}: {escape(item.comparison.summary)}")
    _out.print(f"Sealed with key {built.fingerprint}", soft_wrap=True, highlight=False)
    if tsa_url:
        _out.print(Text(f"Timestamped by {tsa_url} (manifest.tsr)"))
    _out.print(f"Check it any time with: unmask report verify {folder}", highlight=False)
    if built.incomplete_notices:
        _err.print(
            "[yellow]Some takedown requests are incomplete[/] (places marked [TO FILL IN]): "
            + ", ".join(
                f"takedown/{kind}.txt ({len(missing)} missing)"
                for kind, missing in built.incomplete_notices.items()
            )
            + ". The package is sealed as written: complete a copy of the text before sending "
            "it, or make the package again with the answers (in a terminal, or --answers FILE)."
        )
    for kind, reason in built.left_out_notices.items():
        _err.print(Text(f"takedown/{kind}: {reason}"))
    for warning in built.warnings:
        _err.print(f"[yellow]warning:[/] {escape(warning)}")
    sys.exit(EXIT_ERROR if any(item.result.error for item in items) else EXIT_OK)


@report_group.command("verify", context_settings=CONTEXT)
@click.argument("package", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The sender's public key (PEM); without it the key in the package is used and its "
    "fingerprint printed for you to compare.",
)
@click.option(
    "--tsa-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The timestamp authority's root certificate (PEM), to check the signature of an RFC "
    "3161 timestamp on the seal (manifest.tsr); without it only its hash is checked.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify_command(package: Path, key: Path | None, tsa_ca: Path | None, as_json: bool) -> None:
    """Check that no file of an evidence package (folder or .zip) was changed, removed or added
    since it was sealed, and that the seal's signature holds.

    Exit codes: 0 intact; 1 something was altered, missing or added (each named); 2 error."""
    from unmask.report.received import check_package_at
    from unmask.report.signing import load_public_key
    from unmask.report.timestamp import load_roots

    try:
        roots = load_roots(tsa_ca) if tsa_ca else None
        check = check_package_at(package, load_public_key(key) if key else None, tsa_roots=roots)
    except UnmaskError as exc:
        _fail(exc.message, exc.hint)
    except OSError as exc:
        _fail(_os_error(exc))
    # Every name printed comes from the package: no Rich markup is read from it (names are
    # already shown with control characters escaped, unmask.output.printable).
    if as_json:
        _out.print_json(json.dumps(check.to_dict()))
    elif check.ok:
        _out.print(
            Text.assemble(
                ("intact", "green"),
                f": all {check.files_checked} files match the signed manifest of {check.folder}",
            )
        )
        _out.print(f"sealed with key {check.fingerprint}", highlight=False)
        if check.key_matches is None:
            _out.print("compare this fingerprint with the one the sender gave you")
        if check.timestamp:
            stamp = check.timestamp
            how = (
                "its signature checked against the CA you gave"
                if stamp["signer_checked"]
                else "its hash matches the manifest; its signer was not checked (give --tsa-ca)"
            )
            _out.print(Text(f"trusted time: {stamp['time']} from {stamp['tsa']}, {how}"))
    else:
        _out.print(Text.assemble(("NOT intact", "red"), f": {check.folder}"))
        for problem in check.problems:
            _out.print(Text(f"  - {problem}"))
    if not check.is_package:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_OK if check.ok else EXIT_PROBLEMS)


def _existing_files(paths: tuple[str, ...]) -> list[Path]:
    from unmask.inputs import expand

    if "-" in paths:
        raise UnmaskError("a report needs files on disk, not standard input", "save it first")
    files = [item.path for item in expand(list(paths), max_stdin_bytes=0)]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise UnmaskError(f"no such file: {', '.join(missing)}")
    if not files:
        raise UnmaskError("the folders given hold no files")
    return files


def _ask(answers: Any) -> Any:
    """Fill the takedown answers from questions asked in the terminal (Enter keeps a value)."""
    from unmask.report.takedown import applies, questions

    _err.print(
        "A few questions fill in the takedown requests. Press Enter to skip one; skipped "
        "places are marked [TO FILL IN] for you to complete later.\n"
        "If the person shown is under 18, also report it to the police (in the US, to NCMEC's "
        "Take It Down service too), and do not send the file itself to anyone else."
    )
    for name, question, kind in questions():
        if not applies(name, answers):
            continue
        current = getattr(answers, name)
        if kind == "yes_no":
            setattr(answers, name, click.confirm(question, default=bool(current), err=True))
        elif kind == "list":
            question += " (separate several with spaces)"
            shown = " ".join(current)
            value = click.prompt(question, default=shown, show_default=bool(shown), err=True)
            setattr(answers, name, value.split())
        else:
            value = click.prompt(question, default=current, show_default=bool(current), err=True)
            setattr(answers, name, value.strip())
    return answers


def _print_questions(ctx: click.Context) -> None:
    from unmask.report.takedown import questions

    _out.print("Keys for --answers (JSON or TOML), with the question each answers:\n")
    for name, question, kind in questions():
        shape = {"yes_no": "true/false", "list": "list of strings"}.get(kind, "text")
        _out.print(f"[bold]{name}[/] ({shape}): {question}")
    ctx.exit(EXIT_OK)


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _fail(message: str, hint: str = "") -> None:
    """Print an error; the message may quote names from a file, so it is never read as markup."""
    text = f" {printable(message)}" + (f"\n  hint: {printable(hint)}" if hint else "")
    _err.print(Text.assemble(("error:", "red"), text))
    sys.exit(EXIT_ERROR)
