"""An RFC 3161 trusted timestamp on the seal, requested from a local test timestamp authority
(OpenSSL's `ts -reply` behind a loopback HTTP server, with a CA made here): the token verifies
with `unmask report verify --tsa-ca`, and a changed manifest or another CA fails it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from unmask.cli import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg"

TSA_CONFIG = """
[ tsa ]
default_tsa = test_tsa
[ test_tsa ]
dir = {folder}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(folder: Path, name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(URL, root CA PEM) of a timestamp authority on loopback."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed (it plays the test timestamp authority)")
    folder = tmp_path_factory.mktemp("tsa")
    ca_key, ca = make_ca(folder, "ca")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Unmask Test TSA"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "tsa.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "serial").write_text("01\n")
    (folder / "tsa.cnf").write_text(TSA_CONFIG.format(folder=folder))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                (folder / "query.tsq").write_bytes(query)
                reply_args = [
                    "-queryfile",
                    str(folder / "query.tsq"),
                    "-out",
                    str(folder / "reply.tsr"),
                ]
                subprocess.run(
                    [openssl, "ts", "-reply", "-config", str(folder / "tsa.cnf"), *reply_args],
                    check=True,
                    capture_output=True,
                )
                reply = (folder / "reply.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsr", folder / "ca.pem"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def stamped(tsa: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))
    out = tmp_path / "evidence"
    args = ["report", str(EXAMPLE), "-o", str(out), "--no-ask", "--no-pdf", "--tsa-url", tsa[0]]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Timestamped by" in result.output
    return out


def verify(*args: str) -> tuple[int, str, dict]:
    result = CliRunner().invoke(app, ["report", "verify", *args])
    as_json = CliRunner().invoke(app, ["report", "verify", *args, "--json"])
    return result.exit_code, " ".join(result.output.split()), json.loads(as_json.output)


def test_a_timestamp_from_the_tsa_verifies_against_its_ca(
    stamped: Path, tsa: tuple[str, Path]
) -> None:
    assert (stamped / "manifest.tsr").is_file()
    code, said, document = verify(str(stamped), "--tsa-ca", str(tsa[1]))
    assert code == 0, said
    stamp = document["timestamp"]
    assert stamp["signer_checked"] is True and "Unmask Test TSA" in stamp["tsa"]
    when = dt.datetime.fromisoformat(stamp["time"])
    assert abs((dt.datetime.now(dt.UTC) - when).total_seconds()) < 600
    assert "trusted time:" in said and "checked against the CA you gave" in said
    # OpenSSL agrees, as README.txt tells a third party.
    check = ["-data", "manifest.json", "-in", "manifest.tsr", "-CAfile", str(tsa[1])]
    done = subprocess.run(
        ["openssl", "ts", "-verify", *check],
        cwd=stamped,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr
    assert "manifest.tsr" in (stamped / "README.txt").read_text()


def test_without_the_ca_only_the_hash_is_checked_and_it_says_so(stamped: Path) -> None:
    code, said, document = verify(str(stamped))
    assert code == 0 and document["timestamp"]["signer_checked"] is False
    assert "its signer was not checked (give --tsa-ca)" in said


def test_another_ca_or_a_changed_manifest_fails_the_timestamp(
    stamped: Path, tmp_path: Path
) -> None:
    make_ca(tmp_path, "other")
    code, said, _ = verify(str(stamped), "--tsa-ca", str(tmp_path / "other.pem"))
    assert code == 1 and "the timestamp in manifest.tsr does not hold" in said
    manifest = stamped / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"Ed25519"', '"Ed25519" '))
    code, said, _ = verify(str(stamped))
    assert code == 1 and "manifest.json was changed after it was stamped" in said


def test_an_unreachable_tsa_is_a_clear_error_and_no_package_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))
    out = tmp_path / "evidence"
    url = "http://127.0.0.1:9/tsr"  # the discard port: nothing answers
    args = ["report", str(EXAMPLE), "-o", str(out), "--no-ask", "--no-pdf", "--tsa-url", url]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "could not be reached" in " ".join(result.output.split())
    assert not out.exists() and not list(tmp_path.glob(".evidence.partial-*"))
