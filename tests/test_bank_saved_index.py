"""The match index saved beside the bank: reused by the next lookup, caught up after writes,
rebuilt (never trusted) when its files are damaged, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from bank_fixtures import store_fixture  # noqa: F401  (the `store` fixture)
from click.testing import CliRunner

from unmask.bank import index_files
from unmask.bank.index import BRUTE_FORCE_BELOW, PdqIndex
from unmask.bank.matching import Matcher, Query
from unmask.bank.store import BankStore, NewEntry
from unmask.cli import app

PDQ_A = "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL banks keep their index under $XDG_CACHE_HOME: one per test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _flip(hex_: str, bits: int) -> str:
    return f"{int(hex_, 16) ^ ((1 << bits) - 1):064x}"


def _random_pdq(rng: np.random.Generator, n: int) -> list[str]:
    return [bytes(row).hex() for row in rng.integers(0, 256, (n, 32), dtype=np.uint8)]


def _bank(store: BankStore, n: int = 300) -> list[int]:
    """A bank of `n` random pictures' PDQ hashes (the first is PDQ_A), each with two window
    hashes, and one MD5."""
    rng = np.random.default_rng(7)
    hashes = [PDQ_A, *_random_pdq(rng, n - 1)]
    windows = _random_pdq(rng, 2 * n)
    store.create_bank("b")
    items = [
        NewEntry("pdq", h, 100, windows=[(windows[2 * i], 90), (windows[2 * i + 1], 90)])
        for i, h in enumerate(hashes)
    ]
    return store.add_entries("b", [*items, NewEntry("md5", "ab" * 16)])


def _results(matcher: Matcher, queries: list[Query]) -> list[list[tuple[int, int, bool]]]:
    return [[(m.entry.id, m.distance, m.via_window) for m in matcher.match(q)] for q in queries]


def _queries(store: BankStore) -> list[Query]:
    entries = list(store.entries("b", windows=True))
    window = entries[5].windows[1][0]
    return [
        Query.from_hash("pdq", _flip(PDQ_A, 12)),
        Query.from_hash("pdq", _flip(entries[3].value, 31)),
        Query(pdq=[_flip(PDQ_A, 40), _flip(window, 9)]),
        Query.from_hash("md5", "ab" * 16),
        Query.from_hash("pdq", _flip(PDQ_A, 33)),
    ]


def test_the_index_is_saved_and_the_next_matcher_opens_it_without_rebuilding(
    store: BankStore,
) -> None:
    ids = _bank(store)
    first = Matcher(store)
    assert first.rebuilds == 1
    folder = index_files.index_folder(store.url)
    assert folder is not None and (folder / index_files.MANIFEST).exists()
    written = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    expected = _results(first, _queries(store))
    assert expected[0] == [(ids[0], 12, False)]
    assert expected[1] == [(ids[3], 31, False)]
    assert expected[2] == [(ids[5], 9, True)]
    assert expected[3] == [(ids[-1], 0, False)]
    assert expected[4] == []

    second = Matcher(store)
    assert second.rebuilds == 0
    assert _results(second, _queries(store)) == expected
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == written


def test_entries_added_after_the_save_are_loaded_and_saved_without_a_rebuild(
    store: BankStore,
) -> None:
    _bank(store)
    Matcher(store)
    (new_id,) = store.add_entries("b", [NewEntry("pdq", _flip(PDQ_A, 128), 100)])
    query = Query.from_hash("pdq", _flip(PDQ_A, 130))
    caught_up = Matcher(store)
    assert caught_up.rebuilds == 0
    assert caught_up.status()["pdq_pending"] == 1
    assert [(m.entry.id, m.distance) for m in caught_up.match(query)] == [(new_id, 2)]
    # The delta was saved: the next one reads nothing from the entries table.
    reopened = Matcher(store)
    assert reopened.rebuilds == 0 and reopened.status()["pdq_pending"] == 1
    assert reopened.status()["last_entry_id"] == new_id
    assert [m.entry.id for m in reopened.match(query)] == [new_id]


def test_removed_entries_never_match_and_many_removals_rebuild(store: BankStore) -> None:
    ids = _bank(store)
    Matcher(store)
    store.remove_entry(ids[0], "b")
    after = Matcher(store)
    assert after.rebuilds == 0
    assert after.match(Query.from_hash("pdq", PDQ_A)) == []
    for entry_id in ids[1:120]:  # more than a quarter of the bank
        store.remove_entry(entry_id, "b")
    pruned = Matcher(store)
    assert pruned.rebuilds == 1
    assert pruned.status()["pdq_hashes"] == 3 * (300 - 120)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "delete", "manifest", "fields"])
def test_a_damaged_index_file_is_rebuilt_with_the_same_results(
    store: BankStore, damage: str
) -> None:
    _bank(store)
    expected = _results(Matcher(store), _queries(store))
    folder = index_files.index_folder(store.url)
    assert folder is not None
    words = max(folder.glob("pdq-main.*.words.npy"), key=lambda p: p.stat().st_size)
    if damage == "truncate":
        os.truncate(words, words.stat().st_size // 2)
    elif damage == "garbage":
        # Same size and modification time as written: only the change time tells.
        stat = words.stat()
        words.write_bytes(b"\x93NUMPY" + os.urandom(stat.st_size - 6))
        os.utime(words, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    elif damage == "delete":
        words.unlink()
    elif damage == "manifest":
        (folder / index_files.MANIFEST).write_text("{not json")
    else:
        manifest = json.loads((folder / index_files.MANIFEST).read_text())
        manifest["state"]["generation"] = "7"
        manifest["segments"]["pdq-main"]["words"]["file"] = "../bank.sqlite3"
        (folder / index_files.MANIFEST).write_text(json.dumps(manifest))
    rebuilt = Matcher(store)
    assert rebuilt.rebuilds == 1
    assert _results(rebuilt, _queries(store)) == expected
    assert Matcher(store).rebuilds == 0  # and saved again


def test_an_index_saved_for_another_database_is_not_used(tmp_path: Path) -> None:
    one = BankStore(f"sqlite:///{tmp_path}/bank.sqlite3")
    _bank(one)
    Matcher(one)
    one.close()
    os.rename(tmp_path / "bank.sqlite3", tmp_path / "old.sqlite3")
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp_path}/bank.sqlite3{suffix}").unlink(missing_ok=True)
    other = BankStore(f"sqlite:///{tmp_path}/bank.sqlite3")
    other.create_bank("b")
    matcher = Matcher(other)
    assert matcher.rebuilds == 1
    assert matcher.match(Query.from_hash("pdq", PDQ_A)) == []


def test_saved_tables_are_sized_to_the_index_and_reopen_exactly() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (BRUTE_FORCE_BELOW, 32), dtype=np.uint8)
    index = PdqIndex(codes)
    assert index.multi_index and index.table_bits == 17
    assert index.nbytes < 25 * 2**20  # was 0.37 GB of offsets alone
    queries = codes[:50].copy()
    queries[:, :3] ^= 0xFF  # 24 bits off
    reopened = PdqIndex.from_arrays(index.arrays())
    a, b = index.search(queries, 31), reopened.search(queries, 31)
    assert np.array_equal(a.row, b.row) and np.array_equal(a.distance, b.distance)
    assert sorted(a.row.tolist()) == list(range(50))
    bad = index.arrays() | {"offsets": index.arrays()["offsets"][:-1]}
    with pytest.raises(ValueError, match="offsets"):
        PdqIndex.from_arrays(bad)


def test_bank_add_and_remove_keep_the_saved_index_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bank.sqlite3"
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, "--db", url])
        assert result.exit_code in (0, 1), result.output
        return result.stdout  # notes go to standard error

    run("bank", "create", "b")
    run("bank", "add", "b", f"pdq:{PDQ_A}")
    manifest = index_files.read_manifest(tmp_path / "bank.sqlite3.index")
    assert manifest is not None and manifest["state"]["last_entry_id"] == 1

    def matched() -> list[int]:
        found = json.loads(run("bank", "match", "--json", f"pdq:{_flip(PDQ_A, 3)}"))
        return [m["entry_id"] for m in found["matches"]]

    assert matched() == [1]
    run("bank", "remove", "b", "1")
    manifest = index_files.read_manifest(tmp_path / "bank.sqlite3.index")
    assert manifest is not None and manifest["state"]["generation"] == 2
    assert matched() == []


def test_the_server_opens_the_saved_index_and_saves_what_its_writes_add(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from unmask.server import create_app

    store = BankStore(f"sqlite:///{tmp_path}/bank.sqlite3")
    ids = _bank(store)
    Matcher(store)
    key = {"X-API-Key": store.create_key("helper", ["write", "match"])}
    app = create_app(store, pages=False)
    assert app.state.matcher.rebuilds == 0
    new = _flip(PDQ_A, 128)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        body = {"entries": [{"signal_type": "pdq", "signal": new, "quality": 100}]}
        added = client.post("/v1/banks/b/entries", json=body, headers=key)
        assert added.status_code == 201, added.text
        lookup = {"signal_type": "pdq", "signal": _flip(new, 4)}
        found = client.post("/v1/lookup", json=lookup, headers=key).json()
    assert [m["entry_id"] for m in found["matches"]] == [ids[-1] + 1]
    manifest = index_files.read_manifest(tmp_path / "bank.sqlite3.index")
    assert manifest is not None and manifest["state"]["last_entry_id"] == ids[-1] + 1
    store.close()


def test_while_another_process_writes_the_index_a_lookup_answers_without_saving(
    tmp_path: Path,
) -> None:
    store = BankStore(f"sqlite:///{tmp_path}/bank.sqlite3")
    ids = _bank(store)
    folder = index_files.index_folder(store.url)
    assert folder is not None
    with index_files.writing(folder) as mine:
        assert mine
        with index_files.writing(folder) as theirs:
            assert not theirs  # one writer at a time
        busy = Matcher(store)
        assert [m.entry.id for m in busy.match(Query.from_hash("pdq", PDQ_A))] == [ids[0]]
        assert index_files.read_manifest(folder) is None and busy.saved_at is None
    later = Matcher(store)
    assert later.saved_at is not None and index_files.read_manifest(folder) is not None
    store.close()


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy a closed SQLite bank with its WAL files, as a backup or a restore does."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")


def test_a_bank_restored_from_a_backup_and_written_to_is_never_matched_with_the_old_index(
    tmp_path: Path,
) -> None:
    database, backup = tmp_path / "bank.sqlite3", tmp_path / "backup.sqlite3"
    url = f"sqlite:///{database}"
    store = BankStore(url)
    _bank(store, 40)
    Matcher(store)
    store.close()
    _copy_sqlite(database, backup)
    lost = [_flip(PDQ_A, 128), _flip(PDQ_A, 200)]
    store = BankStore(url)
    lost_ids = store.add_entries("b", [NewEntry("pdq", h, 100) for h in lost])
    assert [
        [m.entry.id for m in Matcher(store).match(Query.from_hash("pdq", h))] for h in lost
    ] == [[i] for i in lost_ids]
    saved = index_files.read_manifest(tmp_path / "bank.sqlite3.index")
    assert saved is not None
    store.close()

    _copy_sqlite(backup, database)
    store = BankStore(url)
    added = [_flip(PDQ_A, 64), _flip(PDQ_A, 96)]
    # Other pictures, added as the lost ones were: the same ids, count and write count.
    added_ids = store.add_entries("b", [NewEntry("pdq", h, 100) for h in added])
    assert added_ids == lost_ids
    version = store.index_version()
    assert (version.token, version.generation, version.last_entry_id) == (
        saved["state"]["token"],
        saved["state"]["generation"],
        saved["state"]["last_entry_id"],
    )
    matcher = Matcher(store)
    assert matcher.rebuilds == 1
    for picture in lost:  # what the old index holds under those ids: no longer banked
        assert matcher.match(Query.from_hash("pdq", picture)) == []
    for picture, entry_id in zip(added, added_ids, strict=True):
        assert [
            (m.entry.id, m.distance) for m in matcher.match(Query.from_hash("pdq", picture))
        ] == [(entry_id, 0)]
    assert Matcher(store).rebuilds == 0  # the rebuilt index is saved and trusted again
    store.close()


def test_a_restore_behind_the_running_matcher_is_caught_on_every_backend(store: BankStore) -> None:
    """A restore done while a server runs (PostgreSQL: pg_restore), shown as what it leaves:
    the newest entries gone and the index state as it was, then other entries written."""
    from sqlalchemy import text

    _bank(store, 40)
    before = store.index_version()
    matcher = Matcher(store)
    lost = _flip(PDQ_A, 128)
    (lost_id,) = store.add_entries("b", [NewEntry("pdq", lost, 100)])
    matcher.refresh(force=True)
    assert [m.entry.id for m in matcher.match(Query.from_hash("pdq", lost))] == [lost_id]
    with store.engine.begin() as connection:
        connection.execute(
            text("DELETE FROM entry_windows WHERE entry_id > :i"), {"i": before.last_entry_id}
        )
        connection.execute(text("DELETE FROM entries WHERE id > :i"), {"i": before.last_entry_id})
        connection.execute(
            text("UPDATE index_state SET generation = :g, last_entry_id = :i"),
            {"g": before.generation, "i": before.last_entry_id},
        )
    (added_id,) = store.add_entries("b", [NewEntry("pdq", _flip(PDQ_A, 64), 100)])
    assert added_id == lost_id
    matcher.refresh(force=True)
    assert matcher.rebuilds == 2
    assert matcher.match(Query.from_hash("pdq", lost)) == []
    assert [m.entry.id for m in matcher.match(Query.from_hash("pdq", _flip(PDQ_A, 64)))] == [
        added_id
    ]


def test_removing_the_newest_entries_keeps_the_saved_index_until_none_is_left_to_compare(
    store: BankStore,
) -> None:
    ids = _bank(store)  # 301 entries: 12 removals are too few to rebuild for as garbage
    Matcher(store)
    store.remove_entry(ids[-1], "b")
    store.remove_entry(ids[-3], "b")
    after = Matcher(store)
    assert after.rebuilds == 0
    assert after.match(Query.from_hash("md5", "ab" * 16)) == []
    for entry_id in ids[-12:]:  # the whole fingerprinted tail, and more
        if entry_id not in (ids[-1], ids[-3]):
            store.remove_entry(entry_id, "b")
    emptied = Matcher(store)
    assert emptied.rebuilds == 1
    assert emptied.status()["pdq_hashes"] == 3 * (300 - 11)
    assert [m.entry.id for m in emptied.match(Query.from_hash("pdq", PDQ_A))] == [ids[0]]
    assert Matcher(store).rebuilds == 0
