"""Sealing an evidence package so that any later change to it shows.

Every file of the package is listed with its SHA-256 in `manifest.json`; the manifest's bytes are
signed with an Ed25519 key that belongs to this installation (made once, kept in the Unmask home
folder next to the C2PA signing keys). `manifest.sig` holds the signature, base64. Checking a
package someone sent is `unmask.report.received`.

The public key travels inside the manifest, so a package proves it has not changed since it was
sealed by *that* key. Who holds the key is a separate question: the report prints the key's
fingerprint, which the sender can read out to the recipient (or `--key` pins the expected key).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from unmask.errors import UnmaskError
from unmask.hashing import file_sha256
from unmask.protect.keys import key_files, write_private

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "signing-key.pub.pem"
"""The sealing key's public half, also written into the package for other tools."""
MANIFEST_FORMAT = "unmask-evidence-manifest/1"
CHECKSUMS = "SHA256SUMS"
"""Every other file's SHA-256 in `sha256sum` format, so anyone can check the package with
standard tools (`sha256sum -c SHA256SUMS`; README.txt gives the OpenSSL command for the
signature). It is itself listed in the signed manifest."""


class PackageKeyError(UnmaskError):
    code = "report_key_error"


@dataclass(frozen=True)
class SealingKey:
    """This installation's Ed25519 key for evidence packages."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)

    def public_pem(self) -> bytes:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, as 16 groups of four hex digits (easy to read out)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return ":".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def key_path(home: Path | None = None) -> Path:
    """Beside the C2PA signing keys of `unmask keys`."""
    return key_files(home).folder / "evidence-ed25519.pem"


def load_or_create_key(home: Path | None = None) -> SealingKey:
    """The installation's key, created (0600, PKCS#8 PEM) the first time it is needed."""
    path = key_path(home)
    if path.is_file():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise PackageKeyError(
                f"the evidence signing key {path} could not be read",
                "restore it from a backup, or move it away to have a new key made (packages "
                "sealed with the old key can still be checked: their manifest carries its key)",
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise PackageKeyError(f"{path} is not an Ed25519 private key")
        return SealingKey(key)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, pem)
    return SealingKey(key)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The key given with `--key`: a PEM public key, or a private key file (its public half)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PackageKeyError(f"cannot read the key file {path}: {exc.strerror}") from exc
    try:
        key: Any = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise PackageKeyError(
                f"{path} is not a PEM key", "pass the sender's signing-key.pub.pem"
            ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise PackageKeyError(f"{path} is not an Ed25519 key")
    return key


def package_files(folder: Path) -> list[str]:
    """Every file under `folder` as a POSIX relative path, sorted, without the seal itself."""
    names = []
    for path in folder.rglob("*"):
        if path.is_file() or path.is_symlink():
            name = path.relative_to(folder).as_posix()
            if name not in (MANIFEST, SIGNATURE):
                names.append(name)
    return sorted(names)


def seal(folder: Path, key: SealingKey, created_at: str) -> dict[str, Any]:
    """Write manifest.json and manifest.sig for everything now in `folder`; returns the manifest."""
    (folder / PUBLIC_KEY).write_bytes(key.public_pem())
    listed = [name for name in package_files(folder) if name != CHECKSUMS]
    (folder / CHECKSUMS).write_text(
        "".join(f"{file_sha256(folder / name)}  {name}\n" for name in listed), "utf-8"
    )
    manifest = {
        "format": MANIFEST_FORMAT,
        "created_at": created_at,
        "algorithm": "Ed25519",
        "public_key": base64.b64encode(
            key.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ).decode("ascii"),
        "fingerprint": key.fingerprint,
        "files": {name: file_sha256(folder / name) for name in package_files(folder)},
    }
    data = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    (folder / MANIFEST).write_bytes(data)
    (folder / SIGNATURE).write_bytes(base64.b64encode(key.private.sign(data)) + b"\n")
    return manifest
