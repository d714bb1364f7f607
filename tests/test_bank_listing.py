"""`unmask bank list` reads an existing bank without SQLAlchemy, and lists what BankStore lists."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bank_fixtures import store_fixture  # noqa: F401  (the `store` fixture)
from click.testing import CliRunner

from unmask.bank.listing import BankReader, open_reader
from unmask.bank.store import BankError, BankStore, NewEntry, NotFoundError
from unmask.cli import app

PDQ_A = "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064"


def _fill(store: BankStore) -> None:
    store.create_bank("ncii", "one person's photos [bold]not markup[/]")
    store.create_bank("empty")
    store.create_bank("partner")
    ids = store.add_entries(
        "ncii",
        [
            NewEntry("pdq", PDQ_A, 90, ["ncii", "reported"], source="form 12", windows=[]),
            NewEntry("md5", "f" * 32),
            NewEntry("sha256", "a" * 64, labels=["x"]),
        ],
        added_by="local:test",
    )
    store.add_entries("partner", [NewEntry("md5", "b" * 32)])
    store.set_enabled(ids[1], False)
    store.update_bank("partner", enabled=False)


def test_the_reader_lists_banks_and_entries_as_the_store_does(store: BankStore) -> None:
    _fill(store)
    reader = open_reader(store.url)
    assert isinstance(reader, BankReader)
    assert [b.to_dict() for b in reader.banks()] == [b.to_dict() for b in store.banks()]
    assert reader.banks() == store.banks()
    assert [b.name for b in reader.banks()] == ["empty", "ncii", "partner"]
    for name in ("ncii", "empty", "partner"):
        assert reader.entries(name) == list(store.entries(name))
    assert reader.entries("ncii", limit=2) == list(store.entries("ncii", limit=2))
    first = reader.entries("ncii")[0]
    assert (first.labels, first.source, first.added_by, first.quality) == (
        ["ncii", "reported"],
        "form 12",
        "local:test",
        90,
    )
    assert first.added_at.utcoffset() is not None
    with pytest.raises(NotFoundError, match="no bank called 'nope'"):
        reader.entries("nope")
    reader.close()


def test_a_database_the_store_must_create_or_migrate_is_left_to_it(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path}/none.sqlite3"
    assert open_reader(missing) is None
    assert not (tmp_path / "none.sqlite3").exists()  # the reader never creates one
    not_a_bank = tmp_path / "notes.sqlite3"
    not_a_bank.write_text("shopping list\n")
    assert open_reader(f"sqlite:///{not_a_bank}") is None
    assert open_reader("sqlite:///:memory:") is None
    assert open_reader("mysql://someone@localhost/bank") is None
    older = tmp_path / "old.sqlite3"
    _at_revision(older, "0001")
    assert open_reader(f"sqlite:///{older}") is None
    # Through the command, the store migrates it, and the next listing is read directly.
    env = {"UNMASK_BANK_URL": f"sqlite:///{older}"}
    r = CliRunner().invoke(app, ["bank", "list", "--json"], env=env)
    assert r.exit_code == 0, r.output
    assert [b["name"] for b in json.loads(r.output)] == ["old"]
    assert isinstance(open_reader(f"sqlite:///{older}"), BankReader)


def test_a_damaged_database_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "bank.sqlite3"
    broken.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    r = CliRunner().invoke(app, ["bank", "list"], env={"UNMASK_BANK_URL": f"sqlite:///{broken}"})
    assert r.exit_code == 2
    assert "error:" in r.output and "Traceback" not in r.output
    assert isinstance(r.exception, SystemExit)


def test_a_read_that_fails_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bank.sqlite3"
    BankStore(url).close()
    reader = open_reader(url)
    assert reader is not None
    reader.connection.close()
    with pytest.raises(BankError, match="cannot read the bank database"):
        reader.banks()


def test_bank_list_on_an_existing_bank_does_not_import_sqlalchemy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bank.sqlite3"
    store = BankStore(url)
    _fill(store)
    expected = [b.to_dict() for b in store.banks()]
    entries = [e.to_dict() for e in store.entries("ncii")]
    store.close()
    code = (
        "import json, sys\n"
        "from unmask.cli import main\n"
        "sys.argv = ['unmask', *sys.argv[1:]]\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "UNMASK_BANK_URL": url}
    for args, want in ((["--json"], expected), (["ncii", "--json"], entries)):
        run = subprocess.run(
            [sys.executable, "-c", code, "bank", "list", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout) == want
        modules = {m.split(".")[0] for m in json.loads(run.stderr)}
        assert not modules & {"sqlalchemy", "alembic", "numpy", "PIL", "onnxruntime"}


def _at_revision(path: Path, revision: str) -> None:
    """A bank database made by an older version: schema `revision`, one bank."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from unmask.bank import store as store_module

    config = Config()
    config.set_main_option(
        "script_location", str(Path(store_module.__file__).parent / "migrations")
    )
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.exec_driver_sql(
            "INSERT INTO banks (name, description, enabled, created_at) "
            "VALUES ('old', '', 1, '2026-11-02 10:00:00')"
        )
    engine.dispose()
