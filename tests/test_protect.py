"""Protect your own picture, then verify it: valid, trusted with your CA, broken by one pixel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from unmask.cli import app
from unmask.protect.originals import registered_originals
from unmask.provenance.credentials import read_credentials

PHOTO = "faces/real/Deep3DFaceRecon_pytorch__datasets__examples__000002.jpg"


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("UNMASK_HOME", str(folder))
    result = CliRunner().invoke(app, ["keys", "init", "--name", "Ada Example", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["self_signed_test"] is True
    return folder


def _photo(shared_data: Path) -> Path:
    path = shared_data / PHOTO
    if not path.exists():
        pytest.skip(f"{PHOTO} not in the shared data")
    return path


def test_protect_then_verify_is_valid_but_untrusted_without_the_ca(
    shared_data: Path, home: Path, tmp_path: Path
) -> None:
    signed = tmp_path / "signed.jpg"
    result = CliRunner().invoke(app, ["protect", str(_photo(shared_data)), "-o", str(signed)])
    assert result.exit_code == 0, result.output

    untrusted = CliRunner().invoke(app, ["verify", str(signed)])
    assert "not on a trust list" in " ".join(untrusted.output.split())
    trusted = CliRunner().invoke(
        app, ["verify", str(signed), "--trust", str(home / "keys" / "test-ca.pem"), "--json"]
    )
    credentials = json.loads(trusted.output)["content_credentials"]
    assert credentials["state"] == "trusted"
    manifest = credentials["active_manifest"]
    assert manifest["signer"] == "Ada Example" and manifest["authors"] == ["Ada Example"]
    assert manifest["actions"][0]["action"] == "c2pa.created"
    assert set(manifest["training_mining"].values()) == {"notAllowed"}


def test_the_pixels_are_unchanged_and_the_original_is_registered(
    shared_data: Path, home: Path, tmp_path: Path
) -> None:
    photo = _photo(shared_data)
    signed = tmp_path / "signed.jpg"
    CliRunner().invoke(app, ["protect", str(photo), "-o", str(signed)])
    before = np.asarray(Image.open(photo).convert("RGB"))
    after = np.asarray(Image.open(signed).convert("RGB"))
    assert np.array_equal(before, after)
    (record,) = registered_originals()
    assert record.path == str(signed.resolve()) and record.pdq and len(record.pdq) == 64


def test_changing_one_pixel_after_signing_reports_the_mismatch(
    shared_data: Path, home: Path, tmp_path: Path
) -> None:
    # An uncompressed TIFF, so that one pixel is exactly three bytes of the file.
    source = tmp_path / "photo.tif"
    Image.open(_photo(shared_data)).convert("RGB").save(source, compression="raw")
    signed = tmp_path / "signed.tif"
    result = CliRunner().invoke(app, ["protect", str(source), "-o", str(signed)])
    assert result.exit_code == 0, result.output
    assert read_credentials(signed).state == "valid_untrusted"

    with Image.open(signed) as image:
        offset = image.tile[0][2]
        width = image.width
    data = bytearray(signed.read_bytes())
    pixel = offset + 3 * (width * 10 + 10)
    data[pixel] ^= 0xFF
    signed.write_bytes(bytes(data))
    changed = np.asarray(Image.open(signed).convert("RGB"))
    original = np.asarray(Image.open(source).convert("RGB"))
    assert int((changed != original).any(axis=2).sum()) == 1

    report = read_credentials(signed)
    assert report.state == "invalid"
    assert report.failures[0].code == "assertion.dataHash.mismatch"


def test_protect_without_keys_says_what_to_do(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "empty"))
    result = CliRunner().invoke(
        app, ["protect", str(_photo(shared_data)), "-o", str(tmp_path / "x.jpg")]
    )
    assert result.exit_code == 2
    assert "unmask keys init" in result.output


def test_protect_refuses_a_corrupt_file_with_a_clear_error(home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    result = CliRunner().invoke(app, ["protect", str(broken), "-o", str(tmp_path / "o.jpg")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "error" in result.output
    assert not (tmp_path / "o.jpg").exists()


def test_keys_init_refuses_to_overwrite_without_force(home: Path) -> None:
    again = CliRunner().invoke(app, ["keys", "init", "--name", "Someone Else"])
    assert again.exit_code == 2 and "--force" in again.output
