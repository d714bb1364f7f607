"""A local, self-signed test certificate authority and a signing certificate issued by it.

Real Content Credentials are signed with a certificate from a CA on a public trust list (for
example the C2PA conformance list); buying one is out of scope for a local tool. `unmask keys
init` therefore makes a *test* CA whose name says so, and a signing certificate it issues.
Anything signed with it validates, and shows as trusted only where the CA is added to the
verifier's trust list (`unmask verify --trust ca.pem`). It proves "the holder of this key
signed this file, and the file has not changed since", not who the holder is.

The certificate profile follows the C2PA 2.1 signing-credential rules (section 14.5): the
CA has basicConstraints CA=true (critical) and keyUsage keyCertSign|cRLSign; the end-entity
certificate has CA=false, keyUsage digitalSignature, an extended key usage other than
anyExtendedKeyUsage (emailProtection), and subject/authority key identifiers; keys are
ECDSA P-256 with SHA-256 (COSE ES256).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from unmask.errors import UnmaskError

HOME_ENV = "UNMASK_HOME"
"""Overrides where unmask keeps its keys, trust list and registry of originals."""

TEST_LABEL = "SELF-SIGNED TEST"
CA_VALID_DAYS = 10 * 365
SIGNER_VALID_DAYS = 2 * 365


class KeysError(UnmaskError):
    code = "keys_error"


@dataclass(frozen=True)
class KeyFiles:
    """Where one signing identity lives on disk."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "test-ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "test-ca.key"

    @property
    def signer_cert(self) -> Path:
        return self.folder / "signer.pem"

    @property
    def signer_key(self) -> Path:
        return self.folder / "signer.key"

    @property
    def chain(self) -> Path:
        """The signing certificate followed by the CA: what a C2PA signer embeds."""
        return self.folder / "signer-chain.pem"

    def exist(self) -> bool:
        return self.chain.is_file() and self.signer_key.is_file()


def unmask_home() -> Path:
    """The folder holding keys, the trust list and the originals registry."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_config_path

    return user_config_path("unmask")


def key_files(home: Path | None = None) -> KeyFiles:
    return KeyFiles((home or unmask_home()) / "keys")


def init_keys(name: str, home: Path | None = None, force: bool = False) -> KeyFiles:
    """Create a self-signed test CA and a signing certificate for `name` (the author)."""
    files = key_files(home)
    if files.exist() and not force:
        raise KeysError(
            f"signing keys already exist in {files.folder}",
            "use them as they are, or pass --force to replace them (files signed with the old "
            "keys stay valid, but will no longer match your CA)",
        )
    files.folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{name} - unmask {TEST_LABEL} CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"unmask local {TEST_LABEL} CA"),
        ]
    )
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=CA_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer_cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, name),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"unmask {TEST_LABEL} signer"),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=SIGNER_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    write_private(files.ca_key, _key_pem(ca_key))
    write_private(files.signer_key, _key_pem(signer_key))
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    signer_pem = signer_cert.public_bytes(serialization.Encoding.PEM)
    files.ca_cert.write_bytes(ca_pem)
    files.signer_cert.write_bytes(signer_pem)
    files.chain.write_bytes(signer_pem + ca_pem)
    return files


def describe_certificate(pem_path: Path) -> dict[str, str]:
    """Subject, issuer and validity of the first certificate in a PEM file."""
    cert = x509.load_pem_x509_certificate(pem_path.read_bytes())
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256_fingerprint": cert.fingerprint(hashes.SHA256()).hex(),
    }


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private(path: Path, data: bytes) -> None:
    """Write a private key readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
