"""A third party checks an evidence package without unmask: `sha256sum -c SHA256SUMS` for the
files and OpenSSL for the Ed25519 signature, as README.txt in the package says."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from unmask.cli import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))
    out = tmp_path / "evidence"
    result = CliRunner().invoke(
        app, ["report", str(EXAMPLE), "-o", str(out), "--no-ask", "--no-pdf"]
    )
    assert result.exit_code == 0, result.output
    return out


def run(args: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=folder, capture_output=True, text=True, check=False)


def test_sha256sum_checks_every_file_and_the_manifest_covers_the_list(package: Path) -> None:
    done = run([tool("sha256sum"), "-c", "SHA256SUMS"], package)
    assert done.returncode == 0, done.stdout + done.stderr
    listed = {line.split(": ")[0] for line in done.stdout.splitlines()}
    manifest = json.loads((package / "manifest.json").read_text())["files"]
    assert listed == set(manifest) - {"SHA256SUMS"}
    assert (
        manifest["SHA256SUMS"] == hashlib.sha256((package / "SHA256SUMS").read_bytes()).hexdigest()
    )
    (package / "hashes.csv").write_text("file,signal_type,hash,quality\n")
    changed = run([tool("sha256sum"), "-c", "SHA256SUMS"], package)
    assert changed.returncode != 0 and "hashes.csv: FAILED" in changed.stdout


def test_openssl_verifies_the_seal_and_refuses_a_changed_manifest(package: Path) -> None:
    openssl = tool("openssl")
    (package.parent / "sig.bin").write_bytes(
        base64.b64decode((package / "manifest.sig").read_bytes())
    )
    verify = [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", "signing-key.pub.pem", "-rawin"]
    verify += ["-in", "manifest.json", "-sigfile", str(package.parent / "sig.bin")]
    done = run(verify, package)
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done.stderr
    fingerprint = json.loads((package / "manifest.json").read_text())["fingerprint"]
    raw = subprocess.run(
        [openssl, "pkey", "-pubin", "-in", "signing-key.pub.pem", "-outform", "DER"],
        cwd=package,
        capture_output=True,
        check=True,
    ).stdout[-32:]
    assert hashlib.sha256(raw).hexdigest() == fingerprint.replace(":", "")
    manifest = package / "manifest.json"
    manifest.write_text(manifest.read_text().replace("hashes.csv", "hashez.csv"))
    assert run(verify, package).returncode != 0
    readme = (package / "README.txt").read_text()
    assert "sha256sum -c SHA256SUMS" in readme and "openssl pkeyutl -verify" in readme
