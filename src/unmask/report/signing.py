"""Sealing an evidence package so that any later change to it shows.

Every file of the package is listed with its SHA-256 in `manifest.json`; the manifest's bytes are
signed with an Ed25519 key that belongs to this installation (made once, kept in the Unmask home
folder next to the C2PA signing keys). `manifest.sig` holds the signature, base64. Checking a
package recomputes every hash, looks for files the manifest does not list, and checks the
signature; each problem names the file.

The public key travels inside the manifest, so a package proves it has not changed since it was
sealed by *that* key. Who holds the key is a separate question: the report prints the key's
fingerprint, which the sender can read out to the recipient (or `--key` pins the expected key).
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
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
MAX_ZIP_BYTES = 4 << 30
"""Most bytes a package zip may unpack to when checked (a zip bomb is refused, not unpacked)."""
MAX_ZIP_MEMBERS = 10_000


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


@dataclass
class PackageCheck:
    """What checking a package found. `ok` only when nothing at all is wrong."""

    folder: str
    fingerprint: str | None = None
    signature_valid: bool = False
    key_matches: bool | None = None
    """Whether the sealing key is the one given with --key (None when none was given)."""
    files_checked: int = 0
    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Everything wrong, one sentence each, naming the file."""
    is_package: bool = True
    """False when there is no readable manifest at all: not a sealed package."""

    @property
    def ok(self) -> bool:
        return not self.problems


def check_package(folder: Path, expected_key: Ed25519PublicKey | None = None) -> PackageCheck:
    """Recompute every hash, list changed, missing and added files, and check the signature."""
    check = PackageCheck(folder=str(folder))
    manifest_path, signature_path = folder / MANIFEST, folder / SIGNATURE
    if not manifest_path.is_file():
        check.problems.append(f"{MANIFEST} is missing: this is not a sealed evidence package")
        check.is_package = False
        return check
    data = manifest_path.read_bytes()
    try:
        manifest = json.loads(data)
        files: dict[str, str] = dict(manifest["files"])
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(manifest["public_key"]))
    except (ValueError, KeyError, TypeError) as exc:
        check.problems.append(f"{MANIFEST} is damaged or not an evidence manifest ({exc})")
        return check
    check.fingerprint = fingerprint(public)
    if expected_key is not None:
        check.key_matches = fingerprint(expected_key) == check.fingerprint
        if not check.key_matches:
            check.problems.append(
                f"the package was sealed with key {check.fingerprint}, not with the key you gave "
                f"({fingerprint(expected_key)})"
            )
    try:
        public.verify(base64.b64decode(signature_path.read_bytes().strip(), validate=True), data)
        check.signature_valid = True
    except FileNotFoundError:
        check.problems.append(f"{SIGNATURE} is missing: the manifest is not signed")
    except (InvalidSignature, ValueError):
        check.problems.append(
            f"the signature in {SIGNATURE} does not match {MANIFEST}: the manifest or the "
            "signature was changed"
        )
    present = set(package_files(folder))
    for name, expected in sorted(files.items()):
        if name not in present:
            check.missing.append(name)
            check.problems.append(f"{name} is listed in the manifest but missing")
            continue
        check.files_checked += 1
        if file_sha256(folder / name) != expected:
            check.altered.append(name)
            check.problems.append(f"{name} was altered: its SHA-256 differs from the manifest")
    for name in sorted(present - set(files)):
        check.added.append(name)
        check.problems.append(f"{name} was added after the package was sealed")
    return check


def check_package_at(
    path: Path, expected_key: Ed25519PublicKey | None = None, name: str | None = None
) -> PackageCheck:
    """Check a package folder, or a package .zip (unpacked safely into a temporary folder).
    `name` is what to call the package in messages (an upload's own name, say)."""
    shown = name or path.name
    if path.is_dir():
        return check_package(path, expected_key)
    with tempfile.TemporaryDirectory(prefix="unmask-verify-") as scratch:
        folder, strays = _unpack(path, Path(scratch), shown)
        check = check_package(folder, expected_key)
    for stray in strays:
        check.added.append(stray)
        check.problems.append(f"{stray} was added beside the package folder in the zip")
    check.folder = name or str(path)
    return check


def _unpack(archive: Path, into: Path, shown: str) -> tuple[Path, list[str]]:
    """Unpack a package zip: no path may leave `into`, and no zip bomb is unpacked. Returns the
    package folder and any entries lying beside it (a package zip has one top folder)."""
    hint = "give the package folder or the .zip that `unmask report --zip` or the web app wrote"
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise UnmaskError(f"{shown} holds too many files for a package", hint)
            if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise UnmaskError(f"{shown} unpacks to more than {MAX_ZIP_BYTES >> 30} GiB", hint)
            root = into.resolve()
            for member in members:
                if not (into / member.filename).resolve().is_relative_to(root):
                    raise UnmaskError(
                        f"{shown} holds a path outside the package: {member.filename}",
                        "this is not a package Unmask wrote; do not unpack it",
                    )
            zipped.extractall(into)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise UnmaskError(f"{shown} is not a zip file or is damaged", hint) from exc
    except OSError as exc:
        raise UnmaskError(f"cannot read {shown}: {exc.strerror or exc}", hint) from exc
    folders = [p for p in into.iterdir() if p.is_dir() and (p / MANIFEST).exists()]
    if len(folders) != 1:
        return into, []
    strays = sorted(
        p.relative_to(into).as_posix()
        for p in into.rglob("*")
        if p.is_file() and not p.is_relative_to(folders[0])
    )
    return folders[0], strays
