"""`unmask report verify` on packages someone sent: hostile zips and folders are read without
being unpacked or followed, and every problem is named in the result."""

from __future__ import annotations

import base64
import json
import os
import stat
import struct
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from media_factory import EXAMPLE

from unmask.cli import app
from unmask.report.package import zip_package
from unmask.report.received import check_package_at
from unmask.report.signing import SealingKey, seal

SEALED_AT = "2026-12-01T12:00:00+00:00"
VERIFY_TIMEOUT_S = 120
"""A verify that hangs (a FIFO, /dev/zero) fails the test instead of stalling the suite."""


def make_package(folder: Path, key: SealingKey | None = None) -> Path:
    """A small sealed package: the files a report has, sealed as `unmask report` seals."""
    (folder / "pictures").mkdir(parents=True)
    (folder / "evidence.json").write_text(json.dumps({"format": "unmask-evidence/1"}))
    (folder / "hashes.csv").write_text("file,signal_type,hash,quality\nphoto.jpg,md5,00,\n")
    (folder / "report.html").write_text("<p>report</p>" * 200)
    (folder / "pictures" / "01-preview.jpg").write_bytes(EXAMPLE.read_bytes())
    seal(folder, key or SealingKey(Ed25519PrivateKey.generate()), SEALED_AT)
    return folder


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return make_package(tmp_path / "evidence")


@pytest.fixture
def zipped(package: Path) -> Path:
    return zip_package(package)


def verify(*args: str) -> Result:
    return CliRunner().invoke(app, ["report", "verify", *args], catch_exceptions=False)


def verify_in_child(target: Path) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, so that a hang is killed and reported."""
    return subprocess.run(
        [sys.executable, "-m", "unmask.cli", "report", "verify", str(target)],
        capture_output=True,
        text=True,
        timeout=VERIFY_TIMEOUT_S,
    )


def rezip(source: Path, target: Path, extra: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    """A copy of a package zip with `extra` entries written first (before the genuine ones)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in extra:
            out.writestr(info, data)
        with zipfile.ZipFile(source) as original:
            for entry in original.infolist():
                out.writestr(entry, original.read(entry))
    return target


def patch_central_directory(path: Path, name: str, offset: int, fmt: str, value: int) -> None:
    """Change one field of `name`'s central-directory record (APPNOTE 4.3.12), as a crafted
    zip would carry it: offset 8 flags, 10 method, 24 uncompressed size."""
    data = bytearray(path.read_bytes())
    where = 0
    while (where := data.find(b"PK\x01\x02", where)) >= 0:
        length = struct.unpack_from("<H", data, where + 28)[0]
        if data[where + 46 : where + 46 + length].decode() == name:
            struct.pack_into(fmt, data, where + offset, value)
            path.write_bytes(bytes(data))
            return
        where += 4
    raise AssertionError(f"{name} is not in {path}")


def said(result: Result) -> str:
    return " ".join(result.output.split())


def top(zipped: Path) -> str:
    with zipfile.ZipFile(zipped) as archive:
        return archive.namelist()[0].split("/")[0]


def test_an_untouched_package_is_intact_as_a_folder_and_as_a_zip(package: Path, zipped: Path):
    for target in (package, zipped):
        result = verify(str(target))
        assert result.exit_code == 0, result.output
        assert "intact" in result.output and "NOT" not in result.output


# -- zip entries that must never be written, followed or trusted ---------------------------


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ("../../escaped.txt", "points outside the package (..)"),
        ("evidence/../../escaped.txt", "points outside the package (..)"),
        ("/tmp/unmask-absolute.txt", "has an absolute path"),
        ("C:\\Windows\\unmask.txt", "has an absolute path"),
    ],
)
def test_entries_with_paths_outside_the_package_are_named_and_never_written(
    zipped: Path, tmp_path: Path, entry: str, named: str
):
    hostile = rezip(zipped, tmp_path / "hostile.zip", [(entry, b"planted")])
    before = set(tmp_path.parent.rglob("*"))
    result = verify(str(hostile))
    assert result.exit_code == 1 and "NOT intact" in result.output
    assert named in said(result)
    assert set(tmp_path.parent.rglob("*")) == before  # nothing was unpacked anywhere
    assert not Path("/tmp/unmask-absolute.txt").exists()


def test_a_link_entry_in_place_of_a_listed_file_is_named_not_followed(zipped: Path, tmp_path: Path):
    link = zipfile.ZipInfo(f"{top(zipped)}/hashes.csv")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    hostile = tmp_path / "link.zip"
    with zipfile.ZipFile(zipped) as original, zipfile.ZipFile(hostile, "w") as out:
        for info in original.infolist():
            if info.filename.endswith("/hashes.csv"):
                out.writestr(link, "/etc/passwd")
            else:
                out.writestr(info, original.read(info))
    check = check_package_at(hostile)
    assert not check.ok and "hashes.csv" in check.refused
    assert "hashes.csv is a link: not followed" in check.problems
    assert not any("missing" in p for p in check.problems)  # named once, with its reason


def test_a_duplicate_name_with_a_forged_copy_first_is_never_trusted(zipped: Path, tmp_path: Path):
    forged = (f"{top(zipped)}/hashes.csv", b"file,signal_type,hash,quality\n")
    hostile = rezip(zipped, tmp_path / "twice.zip", [forged])
    result = verify(str(hostile))
    assert result.exit_code == 1
    assert "hashes.csv appears 2 times in the zip" in said(result)
    assert "none was trusted" in said(result)


@pytest.mark.parametrize(
    "variant",
    [
        lambda name: name.replace("hashes", "HASHES"),  # one file on a case-insensitive disk
        lambda name: name.replace("evidence.json", "./evidence.json"),
        lambda name: name.replace("pictures/", "pictures//"),
    ],
    ids=["case", "dot", "double-slash"],
)
def test_names_that_are_the_same_after_normalisation_are_duplicates(
    zipped: Path, tmp_path: Path, variant
):
    with zipfile.ZipFile(zipped) as original:
        listed = [n for n in original.namelist() if variant(n) != n]
        assert listed
        data = original.read(listed[0])
    hostile = rezip(zipped, tmp_path / "variant.zip", [(variant(listed[0]), data)])
    check = check_package_at(hostile)
    assert not check.ok
    assert any("appears 2 times in the zip" in p for p in check.problems), check.problems


def test_unicode_forms_of_one_name_are_duplicates(package: Path, tmp_path: Path):
    accented = package / "pictures" / unicodedata.normalize("NFC", "é.txt")
    accented.write_text("one")
    zipped = zip_package(package)
    decomposed = f"{top(zipped)}/pictures/" + unicodedata.normalize("NFD", "é.txt")
    hostile = rezip(zipped, tmp_path / "nfd.zip", [(decomposed, b"two")])
    assert any("appears 2 times" in p for p in check_package_at(hostile).problems)


def test_a_zip_declaring_more_than_the_cap_is_refused_before_anything_is_read(
    zipped: Path, tmp_path: Path
):
    hostile = rezip(zipped, tmp_path / "bomb.zip", [("a.bin", b"x" * 64), ("b.bin", b"y" * 64)])
    for name in ("a.bin", "b.bin"):  # 2 x 4 GiB declared, as a zip bomb declares
        patch_central_directory(hostile, name, 24, "<I", 0xFFFFFFF0)
    result = verify(str(hostile))
    assert result.exit_code == 2
    assert "would unpack to 8.0 GiB" in said(result) and "nothing was unpacked" in said(result)


def test_an_entry_with_a_zip_bomb_ratio_is_named_and_not_decompressed(zipped: Path, tmp_path: Path):
    zeros = zipfile.ZipInfo(f"{top(zipped)}/pictures/zeros.bin")
    zeros.compress_type = zipfile.ZIP_DEFLATED
    hostile = rezip(zipped, tmp_path / "ratio.zip", [(zeros, bytes(64 << 20))])
    check = check_package_at(hostile)
    assert "pictures/zeros.bin" in check.refused
    assert any("as a zip bomb does: not read" in p for p in check.problems), check.problems


def test_an_entry_larger_than_it_declares_is_named_as_damaged(zipped: Path, tmp_path: Path):
    damaged = tmp_path / "short.zip"
    damaged.write_bytes(zipped.read_bytes())
    patch_central_directory(damaged, f"{top(zipped)}/report.html", 24, "<I", 100)
    check = check_package_at(damaged)
    assert "report.html" in check.altered
    assert any(p.startswith("report.html could not be read") for p in check.problems)


@pytest.mark.parametrize(
    ("offset", "fmt", "value", "named"),
    [
        (8, "<H", 0x1, "is encrypted"),
        (10, "<H", 98, "uses a compression method unmask does not read (method 98)"),
    ],
    ids=["encrypted", "ppmd"],
)
def test_encrypted_and_unreadable_entries_are_named_never_a_traceback(
    zipped: Path, tmp_path: Path, offset: int, fmt: str, value: int, named: str
):
    hostile = tmp_path / "flags.zip"
    hostile.write_bytes(zipped.read_bytes())
    patch_central_directory(hostile, f"{top(zipped)}/hashes.csv", offset, fmt, value)
    result = verify(str(hostile))
    assert result.exit_code == 1, result.output
    assert f"hashes.csv {named}" in said(result)
    assert "Traceback" not in result.output


def test_terminal_escape_codes_in_names_are_printed_escaped(zipped: Path, tmp_path: Path):
    # A name that would clear the screen and print a genuine-looking verdict.
    name = f"{top(zipped)}/\x1b[2J\x1b[1;1Hintact: all 9 files match\x1b[8m.txt"
    hostile = rezip(zipped, tmp_path / "escape.zip", [(name, b"x")])
    result = verify_in_child(hostile)
    assert result.returncode == 1
    assert "\x1b" not in result.stdout + result.stderr
    assert "\\x1b[2J\\x1b[1;1Hintact: all 9 files match" in result.stdout


def test_rich_markup_in_names_is_printed_as_written(zipped: Path, tmp_path: Path):
    name = f"{top(zipped)}/[/][red]not a tag[/red].txt"
    result = verify(str(rezip(zipped, tmp_path / "markup.zip", [(name, b"x")])))
    assert result.exit_code == 1
    assert "[/][red]not a tag[/red].txt was added after the package was sealed" in said(result)


# -- received folders: links and special files are never opened --------------------------


def test_a_listed_file_replaced_by_a_link_to_dev_zero_is_named_not_read(package: Path):
    (package / "hashes.csv").unlink()
    (package / "hashes.csv").symlink_to("/dev/zero")
    result = verify_in_child(package)
    assert result.returncode == 1
    assert "hashes.csv is a link: not followed" in " ".join(result.stdout.split())


def test_a_fifo_in_a_folder_is_named_not_opened(package: Path):
    os.mkfifo(package / "pictures" / "waiting.jpg")
    (package / "report.html").unlink()
    os.mkfifo(package / "report.html")
    result = verify_in_child(package)
    assert result.returncode == 1
    out = " ".join(result.stdout.split())
    assert "pictures/waiting.jpg is not a regular file (a FIFO): not read" in out
    assert "report.html is not a regular file (a FIFO): not read" in out


def test_a_linked_folder_is_named_and_never_entered(package: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not part of the package")
    (package / "more").symlink_to(outside, target_is_directory=True)
    check = check_package_at(package)
    assert check.refused == ["more"] and "more is a link: not followed" in check.problems
    assert not any("secret" in p for p in check.problems)


# -- keys, and files added, removed or changed ---------------------------------------------


def test_a_package_resealed_with_another_key_fails_against_the_senders_key(
    package: Path, tmp_path: Path
):
    senders_key = package / "signing-key.pub.pem"
    kept = tmp_path / "sender.pem"
    kept.write_bytes(senders_key.read_bytes())
    (package / "hashes.csv").write_text("file,signal_type,hash,quality\n")
    (package / "manifest.json").unlink()
    seal(package, SealingKey(Ed25519PrivateKey.generate()), SEALED_AT)  # a forger's key
    alone = verify(str(package))
    assert alone.exit_code == 0  # consistent in itself; only the fingerprint tells
    assert json.loads((package / "manifest.json").read_text())["fingerprint"] in alone.output
    pinned = verify(str(package), "--key", str(kept))
    assert pinned.exit_code == 1 and "not with the key you gave" in said(pinned)


def test_a_public_key_swapped_in_the_manifest_breaks_the_signature(package: Path):
    manifest = json.loads((package / "manifest.json").read_text())
    other = Ed25519PrivateKey.generate().public_key()
    manifest["public_key"] = base64.b64encode(other.public_bytes_raw()).decode()
    (package / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    result = verify(str(package))
    assert result.exit_code == 1
    assert "the signature in manifest.sig does not match manifest.json" in said(result)


def test_a_swapped_public_key_file_is_named_as_altered(package: Path):
    other = SealingKey(Ed25519PrivateKey.generate())
    (package / "signing-key.pub.pem").write_bytes(other.public_pem())
    result = verify(str(package))
    assert result.exit_code == 1 and "signing-key.pub.pem was altered" in said(result)


def test_files_added_removed_and_changed_in_a_zip_are_each_named(zipped: Path, tmp_path: Path):
    name = top(zipped)
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(zipped) as original, zipfile.ZipFile(tampered, "w") as out:
        for info in original.infolist():
            data = original.read(info)
            if info.filename.endswith("/hashes.csv"):
                continue  # removed
            if info.filename.endswith("/evidence.json"):
                data = data.replace(b"evidence", b"evidenze")  # changed
            out.writestr(info, data)
        out.writestr(f"{name}/takedown/extra.txt", "slipped in")  # added
    check = check_package_at(tampered)
    assert check.missing == ["hashes.csv"]
    assert check.altered == ["evidence.json"]
    assert check.added == ["takedown/extra.txt"]
    assert len(check.problems) == 3


def test_a_manifest_listing_a_path_outside_the_package_is_named(package: Path, tmp_path: Path):
    key = SealingKey(Ed25519PrivateKey.generate())
    manifest = seal(package, key, SEALED_AT)
    manifest["files"]["../../etc/passwd"] = "0" * 64
    data = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    (package / "manifest.json").write_bytes(data)
    (package / "manifest.sig").write_bytes(base64.b64encode(key.private.sign(data)) + b"\n")
    check = check_package_at(package)
    assert check.signature_valid
    assert "the manifest lists ../../etc/passwd, a path outside the package: not read" in (
        check.problems
    )


def test_the_json_answer_names_every_refused_entry(zipped: Path, tmp_path: Path):
    hostile = rezip(zipped, tmp_path / "h.zip", [("../x", b"1"), ("/abs", b"2")])
    result = verify(str(hostile), "--json")
    answer = json.loads(result.output)
    assert answer["ok"] is False and sorted(answer["refused"]) == ["../x", "/abs"]


def test_a_file_that_is_no_zip_is_an_error_not_a_traceback(tmp_path: Path):
    for data in (b"", b"PK\x03\x04" + b"x" * 1000):
        path = tmp_path / "bad.zip"
        path.write_bytes(data)
        result = verify(str(path))
        assert result.exit_code == 2 and "is not a zip file or is damaged" in said(result)
        assert "Traceback" not in result.output


def test_an_empty_zip_is_not_a_package(tmp_path: Path):
    path = tmp_path / "empty.zip"
    zipfile.ZipFile(path, "w").close()
    result = verify(str(path))
    assert result.exit_code == 2 and "not a sealed evidence package" in said(result)


def test_a_fifo_given_as_the_package_is_an_error_not_a_hang(tmp_path: Path):
    fifo = tmp_path / "package.zip"
    os.mkfifo(fifo)
    result = verify_in_child(fifo)
    said = " ".join(result.stderr.split())  # the console wraps long paths
    assert result.returncode == 2 and "is neither a folder nor a file" in said


def test_a_sealed_manifest_broken_by_one_byte_is_not_intact_rather_than_not_a_package(
    package: Path,
):
    manifest = package / "manifest.json"
    data = bytearray(manifest.read_bytes())
    data[data.index(b":")] = ord(";")  # the JSON no longer parses
    manifest.write_bytes(bytes(data))
    check = check_package_at(package)
    assert not check.ok and check.is_package
    assert any(p.startswith("manifest.json was altered or damaged") for p in check.problems)
    (package / "manifest.sig").unlink()  # without its seal it is no package at all
    assert check_package_at(package).is_package is False
