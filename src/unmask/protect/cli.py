"""`unmask protect` and `unmask keys`: sign your own pictures with Content Credentials."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from unmask.errors import UnmaskError
from unmask.terminal import counted

_out = Console()
_err = Console(stderr=True)

SELF_SIGNED_WARNING = (
    "These are SELF-SIGNED TEST keys: files you sign validate, but show as trusted only to "
    "people who add your test CA to their trust list (unmask verify --trust test-ca.pem)."
)


@click.group()
def keys() -> None:
    """Your signing key and certificate for `unmask protect` (kept in UNMASK_HOME/keys)."""


@keys.command("init")
@click.option("--name", required=True, help="Your name, as it should appear as the signer.")
@click.option("--force", is_flag=True, help="Replace existing keys.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def keys_init(name: str, force: bool, as_json: bool) -> None:
    """Create a self-signed local test CA and a signing certificate it issues for NAME.

    The CA is clearly labelled SELF-SIGNED TEST: it lets you sign and verify your own files
    offline. For credentials that others trust without asking you, use a certificate from a
    CA on the C2PA trust list and put it in the same folder.
    """
    from unmask.protect.keys import describe_certificate, init_keys

    try:
        files = init_keys(name, force=force)
    except UnmaskError as exc:
        _fail(exc, as_json)
        return
    document = {
        "folder": str(files.folder),
        "ca_certificate": str(files.ca_cert),
        "signing_certificate": describe_certificate(files.signer_cert),
        "self_signed_test": True,
        "note": SELF_SIGNED_WARNING,
    }
    if as_json:
        print(json.dumps(document, indent=2))
        return
    _out.print(f"signing keys created in {escape(str(files.folder))}")
    _out.print(f"  CA certificate (share this to be trusted): {escape(str(files.ca_cert))}")
    _out.print(f"  signer: {escape(document['signing_certificate']['subject'])}")
    _out.print(f"[yellow]{SELF_SIGNED_WARNING}[/yellow]")


@keys.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def keys_show(as_json: bool) -> None:
    """Show where your keys, trust list and registry of originals are."""
    from unmask.protect.keys import describe_certificate, key_files, unmask_home
    from unmask.protect.originals import registered_originals, registry_path
    from unmask.provenance.trust import configured_trust_file, load_c2pa_trust_list

    files = key_files()
    c2pa_list = load_c2pa_trust_list()
    document = {
        "home": str(unmask_home()),
        "keys": str(files.folder) if files.exist() else None,
        "signing_certificate": describe_certificate(files.signer_cert) if files.exist() else None,
        "ca_certificate": str(files.ca_cert) if files.ca_cert.is_file() else None,
        "trust_file": str(configured_trust_file()),
        "trust_file_exists": configured_trust_file().is_file(),
        "c2pa_trust_list": f"{counted(c2pa_list.certificates, 'CA')}, as of {c2pa_list.as_of} "
        f"({c2pa_list.source})",
        "originals_registry": str(registry_path()),
        "originals": len(registered_originals()),
    }
    if as_json:
        print(json.dumps(document, indent=2))
        return
    for key, value in document.items():
        if isinstance(value, dict):
            value = value.get("subject")
        _out.print(f"{key.replace('_', ' ')}: {escape(str(value))}")
    if not files.exist():
        _out.print("no signing keys yet: run `unmask keys init --name 'Your Name'`")


@keys.command("import-c2pa-list")
@click.argument("pem_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as-of", required=True, help="The list's date (YYYY-MM-DD), shown in reports.")
@click.option("--source", help="Where the copy came from, shown by `unmask keys show`.")
def keys_import_c2pa_list(pem_file: Path, as_of: str, source: str | None) -> None:
    """Replace the shipped C2PA trust list with a newer copy you obtained yourself (the
    official C2PA-TRUST-LIST.pem). unmask never downloads it."""
    from unmask.provenance.trust import import_c2pa_trust_list

    try:
        installed = import_c2pa_trust_list(pem_file, as_of, source)
    except UnmaskError as exc:
        _out.print(f"[red]{escape(exc.message)}[/red]")
        if exc.hint:
            _out.print(f"what to do: {escape(exc.hint)}")
        sys.exit(2)
    _out.print(f"C2PA trust list: {counted(installed.certificates, 'CA')}, as of {installed.as_of}")


@click.command(epilog="Exit codes: 0 signed; 2 the input could not be signed; 64 wrong usage.")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the signed copy (same format as the input).",
)
@click.option("--author", help="Author name written into the credentials (default: the signer).")
@click.option(
    "--source-type",
    type=click.Choice(["digitalCapture", "digitalArt", "composite", "minorHumanEdits"]),
    default="digitalCapture",
    show_default=True,
    help="How the picture was made (IPTC digital source type).",
)
@click.option(
    "--allow-training",
    is_flag=True,
    help="Do not forbid AI training and data mining (forbidden by default).",
)
@click.option(
    "--no-register", is_flag=True, help="Do not add the signed file to your registry of originals."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def protect(
    source: Path,
    output: Path,
    author: str | None,
    source_type: str,
    allow_training: bool,
    no_register: bool,
    as_json: bool,
) -> None:
    """Sign your own photo or video with Content Credentials.

    The signed copy says: created by you (c2pa.created), the author's name, and that AI
    training and data mining are not allowed (c2pa.training-mining). Anyone can then check
    with `unmask verify` that it has not changed since. The pixels are not changed. The copy is
    recorded (hashes and path only) in your local registry of originals, so that `unmask
    verify SUSPECT` can find it later.
    """
    from unmask.protect.originals import record_original
    from unmask.protect.signing import protect_file

    try:
        done = protect_file(source, output, author, None, source_type, allow_training)
        record = None if no_register else record_original(output, done.author)
    except UnmaskError as exc:
        _fail(exc, as_json)
        return
    document = {
        "source": str(source),
        "output": str(output),
        "author": done.author,
        "ai_training": "allowed" if allow_training else "notAllowed",
        "registered": record is not None,
        "sha256": record.sha256 if record else None,
        "pdq": record.pdq if record else None,
        "self_signed_test": True,
    }
    if as_json:
        print(json.dumps(document, indent=2))
        return
    _out.print(
        f"signed {escape(str(source))} -> {escape(str(output))} (author: {escape(done.author)})"
    )
    if not allow_training:
        _out.print("  AI training and data mining: not allowed")
    if record is not None:
        _out.print("  recorded in your registry of originals")
    _out.print(f"[dim]{SELF_SIGNED_WARNING}[/dim]")


def _fail(exc: UnmaskError, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"error": {"code": exc.code, "message": exc.message, "hint": exc.hint}}))
    else:
        _err.print(f"[red]error:[/red] {escape(exc.message)}")
        if exc.hint:
            _err.print(f"what to do: {escape(exc.hint)}")
    sys.exit(2)
