"""`unmask --help` lists every command without importing any of them (lazy command loading)."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from media_factory import EXAMPLE

from unmask.cli import COMMANDS, app, load_command

HEAVY = ("numpy", "PIL", "onnxruntime", "sqlalchemy", "rich", "av", "torch")


def modules_after(*argv: str) -> tuple[set[str], str]:
    """Run `unmask ARGV` in a fresh interpreter; the modules it imported, and its output."""
    code = (
        "import json, sys\n"
        "from unmask.cli import main\n"
        f"sys.argv = ['unmask', *{list(argv)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(run.stderr)), run.stdout


def test_help_lists_every_command_without_importing_the_heavy_libraries():
    modules, out = modules_after("--help")
    rows = [line.split(maxsplit=1) for line in out.split("Commands:")[1].strip().splitlines()]
    assert [name for name, _ in rows] == sorted(COMMANDS)
    assert all(len(short) > 10 for _, short in rows)
    assert not {m.split(".")[0] for m in modules} & set(HEAVY)
    # Nor any command's own module.
    assert not {entry.split(":")[0] for entry, _ in COMMANDS.values()} & modules


def test_a_command_imports_only_its_own_module():
    modules, out = modules_after("keys", "--help")
    assert "unmask.protect.cli" in modules and "Usage: unmask keys" in out
    assert "unmask.scan_cli" not in modules and "unmask.compare.cli" not in modules


def test_hash_reads_the_workers_result_without_numpy_or_pillow():
    modules, out = modules_after("hash", "--json", str(EXAMPLE))
    assert json.loads(out)["pdq_quality"] > 0
    assert not {m.split(".")[0] for m in modules} & {"numpy", "PIL", "sqlalchemy"}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_listed_help_is_the_commands_own(name: str):
    command = load_command(name)
    assert command.name == name
    listed = click.Command(name, help=COMMANDS[name][1])
    for width in (45, 10_000):
        assert listed.get_short_help_str(width) == command.get_short_help_str(width)


def test_an_unknown_command_is_a_usage_error():
    run = subprocess.run(
        [sys.executable, "-m", "unmask.cli", "scna"], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 64
    assert "No such command 'scna'" in run.stderr and "Traceback" not in run.stderr


def test_the_group_resolves_commands_by_name():
    ctx = click.Context(app)
    assert app.list_commands(ctx) == sorted(COMMANDS)
    assert app.get_command(ctx, "scan") is load_command("scan")
    assert app.get_command(ctx, "no-such-command") is None
