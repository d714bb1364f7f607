"""Hash bank: store (SQLite and PostgreSQL), index, matching, import/export, CLI."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from bank_fixtures import store_fixture  # noqa: F401  (the `store` fixture)
from click.testing import CliRunner
from PIL import Image

from unmask.bank.index import PdqIndex
from unmask.bank.matching import Matcher, Query
from unmask.bank.store import BankError, BankStore, NewEntry, NotFoundError
from unmask.bank.transfer import read_entries, write_csv, write_jsonl
from unmask.cli import app
from unmask.hashing import (
    BANK_WINDOW_CUTS,
    QUERY_WINDOW_CUTS,
    FileHashes,
    InvalidHashError,
    PdqSignal,
    hash_file,
    parse_hash,
    pdq,
    pdq_rotations,
    pdq_windows,
)

PDQ_A = "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064"


def _flip(hex_: str, bits: int) -> str:
    value = int(hex_, 16) ^ ((1 << bits) - 1)
    return f"{value:064x}"


def test_pdq_matches_threatexchange_reference_hashes(shared_data: Path) -> None:
    rows = (shared_data / "hashes" / "pdq_expected.tsv").read_text().splitlines()[1:]
    checked = 0
    for row in rows:
        _, local, expected, *_ = row.split("\t")
        if local == "(not kept)" or not local.endswith((".jpg", ".png")):
            continue
        rgb = np.asarray(Image.open(shared_data / local).convert("RGB"))
        got, _ = pdq(rgb)
        # Decoders differ by a few bits from the reference's; far below the match radius.
        assert (int(got, 16) ^ int(expected, 16)).bit_count() <= 16, local
        checked += 1
    assert checked >= 20


def test_vpdq_first_frame_equals_reference(shared_data: Path) -> None:
    video = shared_data / "hashes" / "TE__tmk__sample-videos__pattern-sd-grey-bar.mp4"
    expected = shared_data / "hashes" / "TE__vpdq__sample-hashes__pattern-sd-grey-bar.txt"
    first = expected.read_text().splitlines()[0].split(",")[2]
    hashes = hash_file(video)
    assert hashes.kind == "video"
    assert hashes.vpdq[0].pdq == first
    assert [f.timestamp for f in hashes.vpdq[:3]] == [0.0, 1.0, 2.0]


def test_hash_strings_are_validated_with_clear_messages() -> None:
    assert parse_hash(f"pdq:{PDQ_A.upper()}") == ("pdq", PDQ_A)
    assert parse_hash("video_md5:" + "a" * 32) == ("video_md5", "a" * 32)
    assert parse_hash("md5:" + "A" * 32) == ("md5", "a" * 32)  # kind of file not stated
    with pytest.raises(InvalidHashError, match="not a pdq hash"):
        parse_hash("pdq:1234")
    with pytest.raises(InvalidHashError, match="cannot tell"):
        parse_hash("hello")


def test_index_finds_every_hash_within_radius_like_brute_force() -> None:
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 256, (60_000, 32), dtype=np.uint8)  # above the brute-force cut-off
    queries = codes[rng.integers(0, len(codes), 300)].copy()
    for i in range(200):  # flip 0-32 bits, so some land exactly on and past the radius
        for b in rng.choice(256, i % 33, replace=False):
            queries[i, b // 8] ^= np.uint8(1 << (b % 8))
    index = PdqIndex(codes)
    assert index.multi_index
    hits = index.search(queries, 31)
    words = index.words
    qwords = queries.view(">u8").astype(np.uint64)
    dist = sum(np.bitwise_count(qwords[:, None, k] ^ words[None, :, k]) for k in range(4))
    truth = set(zip(*np.nonzero(dist <= 31), strict=True))
    assert set(zip(hits.query.tolist(), hits.row.tolist(), strict=True)) == truth
    assert all(dist[q, r] == d for q, r, d in zip(hits.query, hits.row, hits.distance, strict=True))


def test_bank_crud_and_validation(store: BankStore) -> None:
    store.create_bank("ncii", "test")
    with pytest.raises(BankError, match="already exists"):
        store.create_bank("ncii")
    ids = store.add_entries("ncii", [NewEntry("pdq", PDQ_A, 90, ["a"]), NewEntry("md5", "f" * 32)])
    assert [e.id for e in store.entries("ncii")] == ids
    with pytest.raises(InvalidHashError):
        store.add_entries("ncii", [NewEntry("pdq", "nothex")])
    with pytest.raises(NotFoundError):
        store.add_entries("nope", [NewEntry("md5", "f" * 32)])
    store.remove_entry(ids[1], "ncii")
    assert store.bank("ncii").entries == 1
    store.delete_bank("ncii")
    assert store.banks() == []


def test_new_entries_match_at_once_and_disabled_ones_never(store: BankStore) -> None:
    store.create_bank("b")
    matcher = Matcher(store)
    near = _flip(PDQ_A, 20)
    assert matcher.match(Query.from_hash("pdq", near)) == []
    (entry_id,) = store.add_entries("b", [NewEntry("pdq", PDQ_A, 100, ["ncii"])])
    matcher.refresh(force=True)
    (m,) = matcher.match(Query.from_hash("pdq", near))
    assert (m.entry.id, m.distance, m.entry.labels, m.entry.bank) == (entry_id, 20, ["ncii"], "b")
    assert matcher.match(Query.from_hash("pdq", _flip(PDQ_A, 32))) == []
    store.set_enabled(entry_id, False)
    assert matcher.match(Query.from_hash("pdq", near)) == []
    store.set_enabled(entry_id, True)
    store.update_bank("b", enabled=False)
    assert matcher.match(Query.from_hash("pdq", near)) == []


def test_a_forced_refresh_loads_new_entries_without_rebuilding_the_index(store: BankStore) -> None:
    """Writes force a refresh so that they match at once; that must not rebuild the main
    index (seconds at a million hashes): new hashes wait in the side index until it is full."""
    store.create_bank("b")
    store.add_entries("b", [NewEntry("pdq", _flip(PDQ_A, 200), 100)])
    matcher = Matcher(store)
    assert matcher.status()["pdq_pending"] == 0  # built at start
    (entry_id,) = store.add_entries("b", [NewEntry("pdq", PDQ_A, 100)])
    matcher.refresh(force=True)
    assert matcher.status()["pdq_pending"] == 1
    assert matcher.status()["last_entry_id"] == entry_id
    assert [m.entry.id for m in matcher.match(Query.from_hash("pdq", PDQ_A))] == [entry_id]


def test_low_quality_pdq_entries_are_kept_but_not_matched(store: BankStore) -> None:
    store.create_bank("b")
    store.add_entries("b", [NewEntry("pdq", PDQ_A, 20)])
    assert Matcher(store).match(Query.from_hash("pdq", PDQ_A)) == []


def test_jsonl_and_csv_round_trip(store: BankStore) -> None:
    store.create_bank("b")
    store.add_entries(
        "b",
        [
            NewEntry("pdq", PDQ_A, 100, ["x", "y"], "s", [(_flip(PDQ_A, 3), 90)]),
            NewEntry("sha256", "a" * 64, None, [], "s"),
        ],
    )
    for writer, fmt in ((write_jsonl, "jsonl"), (write_csv, "csv")):
        buf = io.StringIO()
        assert writer(store.entries("b", windows=True), buf) == 2
        buf.seek(0)
        back = list(read_entries(buf, fmt))
        assert [(e.signal_type, e.value, e.labels) for e in back] == [
            ("pdq", PDQ_A, ["x", "y"]),
            ("sha256", "a" * 64, []),
        ]
        assert back[0].windows == [(_flip(PDQ_A, 3), 90)]  # both formats keep the windows
    with pytest.raises(InvalidHashError, match="line 2"):
        list(read_entries(io.StringIO("signal_type,signal\npdq,xyz\n"), "csv"))


# -- matching real pictures and videos ----------------------------------------------------


def _photos(shared_data: Path) -> list[Path]:
    return sorted(
        p
        for p in (shared_data / "faces" / "real").iterdir()
        if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    )


def _load(path: Path) -> np.ndarray:
    image = Image.open(path).convert("RGB")
    image.thumbnail((1024, 1024))
    return np.asarray(image)


def _file_hashes(rgb: np.ndarray, cuts: tuple[float, ...]) -> FileHashes:
    """What `hash_file` gives for a picture: a lookup also hashes rotations and mirror images."""
    hex_, quality = pdq(rgb)
    rotations = pdq_rotations(rgb) if cuts == QUERY_WINDOW_CUTS else []
    return FileHashes(
        "x", "image", "0" * 64, "0" * 32, hex_, quality, [], pdq_windows(rgb, cuts), rotations
    )


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def _variants(rgb: np.ndarray) -> dict[str, np.ndarray]:
    h, w = rgb.shape[:2]
    dh, dw = round(h * 0.05), round(w * 0.05)
    half = Image.fromarray(rgb).resize((w // 2, h // 2), Image.Resampling.LANCZOS)
    return {
        "resize 50 %": np.asarray(half),
        "JPEG q50": _jpeg(rgb, 50),
        "5 % crop, centred": rgb[dh // 2 : h - (dh - dh // 2), dw // 2 : w - (dw - dw // 2)],
        "5 % crop, top-left": rgb[dh:, dw:],
        "5 % crop, right edge": rgb[:, : w - dw],
    }


@pytest.fixture(scope="module")
def photo_bank(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    photos = [p for p in _photos(shared_data) if min(Image.open(p).size) >= 200]
    shared = photos[:25]
    bank = BankStore(f"sqlite:///{tmp_path_factory.mktemp('bank')}/b.sqlite3")
    bank.create_bank("ncii")
    ids = {}
    for path in shared:
        h = _file_hashes(_load(path), BANK_WINDOW_CUTS)
        (ids[path],) = bank.add_entries(
            "ncii", [NewEntry("pdq", h.pdq, h.pdq_quality, [], path.name, h.pdq_windows)]
        )
    return bank, Matcher(bank), shared, ids, _photos(shared_data)


def test_shared_photo_matches_after_resize_jpeg_and_5_percent_crop(photo_bank) -> None:
    _, matcher, shared, ids, _ = photo_bank
    missed = []
    for path in shared:
        for name, variant in _variants(_load(path)).items():
            matches = matcher.match(Query.from_file(_file_hashes(variant, QUERY_WINDOW_CUTS)))
            if ids[path] not in [m.entry.id for m in matches]:
                missed.append(f"{path.name}: {name}")
    assert missed == []


def test_mirrored_and_rotated_copies_match_and_say_how(photo_bank) -> None:
    """A mirrored copy hashes ~130 bits from the original; the query's dihedral hashes find it
    (as python-threatexchange's do), and the match says what was done to the picture."""
    _, matcher, shared, ids, _ = photo_bank
    transforms = {
        "mirrored left to right": lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        "flipped upside down": lambda im: im.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
        "rotated 90° clockwise": lambda im: im.transpose(Image.Transpose.ROTATE_270),
        "rotated 180°": lambda im: im.transpose(Image.Transpose.ROTATE_180),
        "rotated 90° counter-clockwise": lambda im: im.transpose(Image.Transpose.ROTATE_90),
        "mirrored along the diagonal": lambda im: im.transpose(Image.Transpose.TRANSPOSE),
    }
    wrong = []
    for path in shared:
        image = Image.fromarray(_load(path))
        for name, transform in transforms.items():
            copy = _jpeg(np.asarray(transform(image)), 80)
            assert PdqSignal.distance(pdq(copy)[0], pdq(np.asarray(image))[0]) > 31
            matches = matcher.match(Query.from_file(_file_hashes(copy, QUERY_WINDOW_CUTS)))
            got = {m.entry.id: m.transform for m in matches}
            if got.get(ids[path]) != name:
                wrong.append(f"{path.name}: {name} -> {got.get(ids[path])}")
    assert wrong == []


def test_whole_picture_pdq_alone_misses_crops(photo_bank) -> None:
    """Why the window hashes exist: without them most 5 % crops are missed."""
    _, matcher, shared, ids, _ = photo_bank
    found = 0
    for path in shared:
        crop = _variants(_load(path))["5 % crop, top-left"]
        hex_, _ = pdq(crop)
        found += ids[path] in [
            m.entry.id for m in matcher.match(Query(pdq=[hex_])) if not m.via_window
        ]
    assert found < len(shared) // 2


def test_a_thousand_unrelated_photos_give_no_match(photo_bank) -> None:
    """The false-match cost of the window hashes, measured: 16 query windows x 16 banked
    windows per pair of pictures."""
    bank, matcher, shared, _, everything = photo_bank
    shared_pdq = {e.value for e in bank.entries("ncii")}
    unrelated = [p for p in everything if p not in shared][:1000]
    assert len(unrelated) == 1000
    false = []
    for path in unrelated:
        h = _file_hashes(_load(path), QUERY_WINDOW_CUTS)
        if h.pdq in shared_pdq:  # the same photo published twice is not unrelated
            continue
        false += [
            f"{path.name} ~ {m.entry.source} d={m.distance}"
            for m in matcher.match(Query.from_file(h))
        ]
    assert false == []


def test_shared_video_matches_after_reencoding(shared_data: Path, tmp_path: Path) -> None:
    import av

    video = shared_data / "hashes" / "TE__tmk__sample-videos__pattern-sd-grey-bar.mp4"
    bank = BankStore(f"sqlite:///{tmp_path}/b.sqlite3")
    bank.create_bank("v")
    original = hash_file(video)
    (entry_id,) = bank.add_entries("v", [NewEntry("vpdq", original.signals()["vpdq"])])
    copy = tmp_path / "copy.mp4"
    with av.open(str(video)) as src, av.open(str(copy), "w") as dst:
        stream_in = src.streams.video[0]
        out = dst.add_stream("libx264", rate=stream_in.average_rate)
        out.width, out.height = stream_in.width // 2 * 2 // 2, stream_in.height // 2 * 2 // 2
        out.pix_fmt = "yuv420p"
        out.options = {"crf": "32"}
        for frame in src.decode(stream_in):
            small = frame.reformat(width=out.width, height=out.height, format="yuv420p")
            small.pts = None
            for packet in out.encode(small):
                dst.mux(packet)
        for packet in out.encode():
            dst.mux(packet)
    reencoded = hash_file(copy)
    assert reencoded.sha256 != original.sha256
    (m,) = Matcher(bank).match(Query.from_file(reencoded))
    assert m.entry.id == entry_id and m.signal_type == "vpdq"
    assert m.query_match_percent is not None and m.query_match_percent >= 80


# -- CLI ----------------------------------------------------------------------------------


def test_cli_add_match_remove_export_import(shared_data: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"UNMASK_BANK_URL": f"sqlite:///{tmp_path}/cli.sqlite3"}
    photo = next(p for p in _photos(shared_data) if min(Image.open(p).size) >= 200)
    assert runner.invoke(app, ["bank", "create", "ncii"], env=env).exit_code == 0
    r = runner.invoke(app, ["bank", "add", "ncii", str(photo), "--label", "ncii"], env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["bank", "match", str(photo), "--json"], env=env)
    assert r.exit_code == 1
    kinds = {m["signal_type"] for m in json.loads(r.output)["matches"]}
    assert kinds == {"pdq", "photo_md5", "photo_sha256"}
    out = tmp_path / "ncii.jsonl"
    assert runner.invoke(app, ["bank", "export", "ncii", "-o", str(out)], env=env).exit_code == 0
    r = runner.invoke(app, ["bank", "import", "copy", str(out), "--create"], env=env)
    assert "imported 3 entries" in r.output
    r = runner.invoke(app, ["bank", "import", "copy", str(out)], env=env)  # again: no duplicates
    assert r.exit_code == 0 and "imported 0 entries" in r.output and "3 left out" in r.output
    listed = runner.invoke(app, ["bank", "list", "copy", "--json"], env=env).output
    assert len(json.loads(listed)) == 3
    r = runner.invoke(app, ["bank", "match", "pdq:123"], env=env)
    assert r.exit_code == 2 and "not a pdq hash" in r.output and "Traceback" not in r.output
    missing = str(tmp_path / "gone.jpg")  # a file name, not a hash: say the file is missing
    r = runner.invoke(app, ["bank", "match", missing], env=env)
    assert r.exit_code == 2 and "no file named" in r.output and "kind of hash" not in r.output
    r = runner.invoke(app, ["bank", "match", "zzz"], env=env)
    assert r.exit_code == 2 and "cannot tell what kind of hash 'zzz'" in r.output
    r = runner.invoke(app, ["bank", "add", "nope", "md5:" + "a" * 32], env=env)
    assert r.exit_code == 2 and "no bank called 'nope'" in r.output


def test_partner_bank_imported_from_our_csv_matches_a_5_percent_crop(
    shared_data: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"UNMASK_BANK_URL": f"sqlite:///{tmp_path}/cli.sqlite3"}
    photo = next(p for p in _photos(shared_data) if min(Image.open(p).size) >= 200)
    rgb = _load(photo)
    h, w = rgb.shape[:2]
    crop = tmp_path / "crop5.png"
    Image.fromarray(rgb[round(h * 0.05) :, round(w * 0.05) :]).save(crop)
    assert PdqSignal.distance(pdq(rgb)[0], pdq(np.asarray(Image.open(crop)))[0]) > 31
    exported = tmp_path / "n.csv"
    for args in (
        ["bank", "create", "ncii"],
        ["bank", "add", "ncii", str(photo)],
        ["bank", "export", "ncii", "-o", str(exported)],
        ["bank", "import", "p2", str(exported), "--create"],
    ):
        r = runner.invoke(app, args, env=env)
        assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["bank", "match", str(crop), "--bank", "p2", "--json"], env=env)
    assert r.exit_code == 1, r.output
    (m,) = json.loads(r.output)["matches"]
    assert (m["bank"], m["signal_type"], m["via_window"]) == ("p2", "pdq", True)


def test_cli_hash_prints_threatexchange_names(shared_data: Path) -> None:
    photo = shared_data / "hashes" / "TE-pdq__pdq__data__misc-images__c.png"
    r = CliRunner().invoke(app, ["hash", "--json", str(photo)])
    data = json.loads(r.output)
    assert set(data) >= {"sha256", "md5", "pdq", "pdq_quality"}
    assert data["pdq_quality"] == 100


def test_cli_keys_list_revoke_and_audit_log(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"UNMASK_BANK_URL": f"sqlite:///{tmp_path}/keys.sqlite3"}
    for args in (
        ["bank", "create", "ncii"],
        ["bank", "keys", "create", "platform", "--scope", "match", "--bank", "ncii"],
        ["bank", "add", "ncii", "md5:" + "c" * 32],
        ["bank", "keys", "revoke", "platform"],
    ):
        r = runner.invoke(app, args, env=env)
        assert r.exit_code == 0, r.output
    listed = json.loads(runner.invoke(app, ["bank", "keys", "list", "--json"], env=env).output)
    assert listed == []  # revoked keys are shown only with --all
    r = runner.invoke(app, ["bank", "keys", "list", "--all", "--json"], env=env)
    (key,) = json.loads(r.output)
    assert (key["name"], key["scopes"], key["banks"], key["revoked"]) == (
        "platform",
        ["match"],
        ["ncii"],
        True,
    )
    assert datetime.fromisoformat(key["created_at"]).utcoffset() is not None
    r = runner.invoke(app, ["bank", "keys", "revoke", "platform"], env=env)
    assert r.exit_code == 2 and "revoked already" in r.output
    audit = json.loads(runner.invoke(app, ["bank", "audit", "--json"], env=env).output)
    assert [e["action"] for e in audit] == [
        "revoke_key",
        "add_entries",
        "create_key",
        "create_bank",
    ]
    assert all(e["actor"].startswith("local") for e in audit)
    # The entry was stored without a source or author: none was given.
    (entry,) = json.loads(runner.invoke(app, ["bank", "list", "ncii", "--json"], env=env).output)
    assert (entry["source"], entry["added_by"]) == ("", "")


def test_an_older_bank_is_migrated_once_and_opened_without_alembic_after(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    from unmask.bank import store as store_module

    config = Config()
    config.set_main_option(
        "script_location", str(Path(store_module.__file__).parent / "migrations")
    )
    assert ScriptDirectory.from_config(config).get_current_head() == store_module.SCHEMA_REVISION
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    engine = create_engine(url)
    with engine.begin() as connection:  # a bank made by 0.1: schema 0001, one bank
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.exec_driver_sql(
            "INSERT INTO banks (name, description, enabled, created_at) "
            "VALUES ('old', '', 1, '2026-11-02 10:00:00')"
        )
    engine.dispose()
    bank = BankStore(url)
    assert [b.name for b in bank.banks()] == ["old"]
    assert bank.banks()[0].created_at.isoformat() == "2026-11-02T10:00:00+00:00"
    bank.create_bank("new", actor="local:test")  # the audit table exists now
    assert [e.action for e in bank.audit_log()] == ["create_bank"]
    bank.close()


def test_video_match_warns_that_a_source_video_matches_its_deepfake(
    shared_data: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"UNMASK_BANK_URL": f"sqlite:///{tmp_path}/v.sqlite3"}
    video = shared_data / "hashes" / "TE__tmk__sample-videos__pattern-sd-grey-bar.mp4"
    runner.invoke(app, ["bank", "create", "v"], env=env)
    runner.invoke(app, ["bank", "add", "v", str(video)], env=env)
    r = runner.invoke(app, ["bank", "match", str(video), "--json"], env=env)
    by_kind = {m["signal_type"]: m for m in json.loads(r.output)["matches"]}
    assert set(by_kind) == {"vpdq", "video_md5", "video_sha256"}
    assert by_kind["vpdq"]["meaning"].startswith("same frames as a banked video: 100 %")
    assert "source video matches a banked deepfake" in by_kind["vpdq"]["caution"]
    assert by_kind["video_md5"]["meaning"].startswith("exact file")
    r = runner.invoke(app, ["bank", "match", "pdq:" + PDQ_A], env=env)
    said = " ".join(r.output.split())
    assert r.exit_code == 0
    assert "no match in any enabled bank; compared the PDQ hash given" in said
    assert "does not mean the file is not banked elsewhere, nor that it is unaltered" in said


def test_a_temporary_unmask_home_keeps_its_own_bank(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone trying unmask with UNMASK_HOME set must not read or change their real banks."""
    monkeypatch.delenv("UNMASK_BANK_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))
    made = CliRunner().invoke(app, ["bank", "create", "trial"])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "home" / "bank.sqlite3").is_file()
    assert not (tmp_path / "data" / "unmask").exists()
    monkeypatch.delenv("UNMASK_HOME")
    listed = CliRunner().invoke(app, ["bank", "list"])
    assert listed.exit_code == 0 and "trial" not in listed.output
    assert "no banks yet: make one with `unmask bank create NAME`" in listed.output


def test_a_bank_url_whose_folder_cannot_be_made_is_a_plain_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    url = f"sqlite:///{blocker}/bank/bank.sqlite3"
    with pytest.raises(BankError, match="cannot make the folder"):
        BankStore(url)
    result = CliRunner().invoke(app, ["bank", "list", "--db", url])
    assert result.exit_code != 0 and "cannot make the folder" in result.output
    assert not isinstance(result.exception, OSError)


def test_match_against_an_unknown_or_empty_bank_does_not_read_as_checked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bank.sqlite3"
    runner = CliRunner()
    assert runner.invoke(app, ["bank", "create", "ncii", "--db", url]).exit_code == 0
    query = "pdq:" + "f" * 64

    empty = runner.invoke(app, ["bank", "match", query, "--db", url])
    assert empty.exit_code == 0  # no match, but said as nothing compared
    assert "no enabled bank holds any entry: nothing was compared" in empty.output

    typo = runner.invoke(app, ["bank", "match", query, "--bank", "nci", "--db", url])
    assert typo.exit_code == 2 and "no bank called 'nci'" in typo.output

    assert runner.invoke(app, ["bank", "add", "ncii", query, "--db", url]).exit_code == 0
    found = runner.invoke(app, ["bank", "match", query, "--bank", "ncii", "--db", url])
    assert found.exit_code == 1 and "nothing was compared" not in found.output


def test_export_into_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    env = {"UNMASK_BANK_URL": f"sqlite:///{tmp_path}/export.sqlite3"}
    CliRunner().invoke(app, ["bank", "create", "ncii"], env=env)
    target = tmp_path / "no-such-folder" / "out.jsonl"
    result = CliRunner().invoke(app, ["bank", "export", "ncii", "-o", str(target)], env=env)
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    assert "Could not open file" in result.output and "No such file" in result.output


def test_bank_commands_count_one_entry_in_the_singular(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bank.sqlite3"
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, "--db", url])
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    run("bank", "create", "ncii")
    assert run("bank", "add", "ncii", f"pdq:{PDQ_A}") == "added 1 entry to 'ncii' (id 1)"
    exported = tmp_path / "ncii.jsonl"
    assert run("bank", "export", "ncii", "-o", str(exported)) == f"wrote 1 entry to {exported}"
    assert run("bank", "import", "copy", str(exported), "--create").startswith(
        "imported 1 entry into 'copy'"
    )
    assert run("bank", "remove", "ncii", "1", "--disable") == "disabled 1 entry"
    two = run("bank", "add", "ncii", f"pdq:{PDQ_A}", f"pdq:{_flip(PDQ_A, 8)}")
    assert re.fullmatch(r"added 2 entries to 'ncii' \(ids (\d+)-(\d+)\)", two), two
