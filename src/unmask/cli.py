"""The `unmask` command: one command tree for identify, verify, report and prevent.

Each command lives in its own module and is imported only when it runs or its help is shown:
`unmask --help` and a quick command such as `unmask bank list` do not pay for NumPy, Pillow,
ONNX Runtime, SQLAlchemy or Rich (tests/test_cli_startup.py checks it)."""

from __future__ import annotations

import importlib
import sys

import click

from unmask import __version__

EXIT_USAGE = 64

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# Add new commands here: name -> ("module:attribute", the first paragraph of its help).
# The text is what `unmask --help` lists, shown without importing the module; a test checks it
# against the command's own help, so keep the two the same.
COMMANDS: dict[str, tuple[str, str]] = {
    "bank": (
        "unmask.bank.cli:bank_group",
        "Share hashes, never pictures: keep banks of hashes of pictures and videos that must not "
        "spread, and match files against them.",
    ),
    "compare": (
        "unmask.compare.cli:compare_command",
        "Compare SUSPECT with its ORIGINAL (photo or video) and say exactly what was changed.",
    ),
    "eval": (
        "unmask.eval_command:eval_command",
        "Measure the face-manipulation model on labelled pictures and videos.",
    ),
    "faces": (
        "unmask.scan_cli:faces",
        "Find the faces in a picture or video: boxes, five landmarks, tracks across frames.",
    ),
    "frames": (
        "unmask.frames_cli:frames_command",
        "Export still frames of VIDEO as pictures, for a reverse image search.",
    ),
    "hash": (
        "unmask.bank.cli:hash_command",
        "Print the hashes of pictures and videos: sha256, md5, pdq (pictures, with quality 0-100) "
        "and vpdq (videos, one frame per second), named and encoded as ThreatExchange and HMA "
        "expect.",
    ),
    "keys": (
        "unmask.protect.cli:keys",
        "Your signing key and certificate for `unmask protect` (kept in UNMASK_HOME/keys).",
    ),
    "protect": (
        "unmask.protect.cli:protect",
        "Sign your own photo or video with Content Credentials.",
    ),
    "report": (
        "unmask.report.cli:report_group",
        "Make a signed evidence package with ready-to-send takedown requests, or check one.",
    ),
    "scan": (
        "unmask.scan_cli:scan",
        "Scan pictures and videos: faces, metadata and forensic traces, and a verdict.",
    ),
    "serve": (
        "unmask.bank.cli:serve_command",
        "Serve the web pages (check a file, make and check evidence reports, hash bank) and the "
        "REST API (OpenAPI at /openapi.json).",
    ),
    "train": (
        "unmask.train.cli:train",
        "Train the face-manipulation detector on self-blends and pastes of the faces in DATA.",
    ),
    "verify": (
        "unmask.provenance.cli:verify",
        "Check where PATH came from: Content Credentials (C2PA), invisible watermarks, and (with "
        "--originals or your registry) the original it was made from.",
    ),
}


def load_command(name: str) -> click.Command:
    """Import the module of command NAME from the table above and return the command."""
    module_name, attribute = COMMANDS[name][0].split(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{COMMANDS[name][0]} is not a click command")
    return command


class LazyGroup(click.Group):
    """A group whose commands are imported from COMMANDS when first used, not at start-up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in COMMANDS:
            command = load_command(cmd_name)
            self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List every command with its one-line help, as click does, without importing any."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.commands:  # loaded already, or added directly
                command = self.commands[name]
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit)))
            else:
                # A stand-in command shortens the text exactly as the real one would.
                stand_in = click.Command(name, help=COMMANDS[name][1])
                rows.append((name, stand_in.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(__version__, prog_name="unmask")
def app() -> None:
    """Find out whether a picture or video of a person was manipulated, prove it, report it
    and stop it spreading. Everything runs on this computer; nothing is uploaded."""


def main() -> None:
    """Console entry point: usage errors exit with 64 so that 2 keeps its documented meaning."""
    try:
        code = app.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
