"""Checking an evidence package someone sent: a folder or a .zip, read without trusting it.

A received package may have been made by anyone, so nothing in it is unpacked, followed or
opened blindly:

- A .zip is never extracted. Each entry's SHA-256 is computed while it is decompressed in
  memory, so no name in the zip can write anywhere (`../`, absolute paths, links), and the
  declared sizes are checked before a byte is decompressed (a zip bomb is refused unread).
- Entries that a plain unzip tool would turn into something else than the file the manifest
  names are refused and named: links, special files, encrypted entries, compression methods
  Python does not read, and names that appear twice once normalised (a forged copy first and
  the genuine one last verified as intact before: which one a person sees depends on the tool).
- In a folder, links are never followed and FIFOs, sockets and devices never opened (reading
  `/dev/zero` or a FIFO never ends); every such entry is named.

Every name printed comes from the package, so control characters (terminal escape codes that
could rewrite the screen into a forged "intact") are shown escaped (`unmask.output.printable`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import lzma
import os
import posixpath
import re
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from unmask.errors import UnmaskError
from unmask.output import printable as shown
from unmask.report.signing import MANIFEST, SIGNATURE, fingerprint
from unmask.report.timestamp import MAX_RESPONSE_BYTES, TOKEN, TimestampError, check_timestamp

MAX_ZIP_MEMBERS = 10_000
"""A package holds a few dozen files (one preview and a few maps per file, eight requests)."""
MAX_UNPACKED_BYTES = 4 << 30
"""Most bytes the entries of a package zip may declare in total. A package with the media
themselves (`--include-media`) of a few long phone videos fits; a zip bomb does not."""
MAX_RATIO = 200
"""Largest compression ratio accepted for an entry of more than `RATIO_FLOOR_BYTES`. Package
files are pictures, PDFs and media (already compressed, ratio about 1) or JSON, HTML and text
(at most 3.6, evidence.json, in packages of a photo and of a shared video made with `unmask
report --zip`); DEFLATE's own ceiling is about 1032:1, which zip bombs sit at."""
RATIO_FLOOR_BYTES = 1 << 20
"""Below this size an entry may compress as well as it likes (a README of spaces is harmless)."""
MAX_MANIFEST_BYTES = 16 << 20
"""10,000 listed files at ~100 bytes each is 1 MB; a manifest bigger than this is not ours."""
MAX_SIGNATURE_BYTES = 4096
"""An Ed25519 signature is 88 base64 characters."""
READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20
_DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    OSError,
)
"""What reading a damaged or crafted zip entry raises (CRC errors, truncated streams, ...)."""


@dataclass
class PackageCheck:
    """What checking a package found. `ok` only when nothing at all is wrong."""

    folder: str
    fingerprint: str | None = None
    signature_valid: bool = False
    key_matches: bool | None = None
    timestamp: dict[str, Any] | None = None
    """An RFC 3161 timestamp on the seal (manifest.tsr), when there is one: its time, the TSA,
    and whether its signer was checked against a root given with --tsa-ca."""
    """Whether the sealing key is the one given with --key (None when none was given)."""
    files_checked: int = 0
    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """Entries not read at all (links, special files, unsafe names, duplicates, bombs...)."""
    problems: list[str] = field(default_factory=list)
    """Everything wrong, one sentence each, naming the file."""
    is_package: bool = True
    """False when there is no readable manifest at all: not a sealed package."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ok": self.ok}


def check_package_at(
    path: Path,
    expected_key: Ed25519PublicKey | None = None,
    name: str | None = None,
    tsa_roots: list[x509.Certificate] | None = None,
) -> PackageCheck:
    """Check a package folder or .zip. `name` is what to call it in messages (an upload's own
    name, say). Raises `UnmaskError` when it is not a zip at all or would unpack to a bomb."""
    label = shown(name or str(path))
    if path.is_dir():
        return _check(_Folder(path), expected_key, label, tsa_roots)
    hint = "give the package folder or the .zip that `unmask report --zip` or the web app wrote"
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or device would never end
            raise UnmaskError(f"{label} is neither a folder nor a file", hint)
        with zipfile.ZipFile(path) as archive:
            return _check(_Zip(archive, shown(name or path.name)), expected_key, label, tsa_roots)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
        raise UnmaskError(f"{label} is not a zip file or is damaged", hint) from exc
    except OSError as exc:
        raise UnmaskError(f"cannot read {label}: {exc.strerror or exc}", hint) from exc


def check_package(folder: Path, expected_key: Ed25519PublicKey | None = None) -> PackageCheck:
    """Check a package folder (see `check_package_at`)."""
    return _check(_Folder(folder), expected_key, shown(str(folder)))


class _Unreadable(Exception):
    """An entry that could not be read; the message says why."""


class _Contents(Protocol):
    files: set[str]
    """Package-relative names of the regular files that can be read."""
    refused: dict[str, str]
    """Package-relative name -> why it was not read (each is also in `problems`)."""
    problems: list[str]
    strays: list[str]
    """Entries lying outside the package's own folder (in a zip)."""

    def read(self, name: str, limit: int) -> bytes: ...

    def sha256(self, name: str) -> str: ...


def _check(
    contents: _Contents,
    expected_key: Ed25519PublicKey | None,
    label: str,
    tsa_roots: list[x509.Certificate] | None = None,
) -> PackageCheck:
    check = PackageCheck(folder=label, refused=sorted(shown(n) for n in contents.refused))
    check.problems += contents.problems
    for stray in contents.strays:
        check.added.append(stray)
        check.problems.append(f"{stray} was added beside the package folder in the zip")
    if MANIFEST not in contents.files:
        if MANIFEST not in contents.refused:
            check.problems.append(f"{MANIFEST} is missing: this is not a sealed evidence package")
        check.is_package = False
        return check
    try:
        data = contents.read(MANIFEST, MAX_MANIFEST_BYTES)
        files, public = _parse_manifest(data)
    except (_Unreadable, ValueError, KeyError, TypeError) as exc:
        # Beside a signature it was a sealed package whose manifest was changed (one flipped
        # byte can break its JSON): not intact. Alone, it is no evidence package at all.
        sealed = SIGNATURE in contents.files
        what = "was altered or damaged" if sealed else "is damaged or not an evidence manifest"
        check.problems.append(f"{MANIFEST} {what}: it can no longer be read ({exc})")
        check.is_package = sealed
        return check
    check.fingerprint = fingerprint(public)
    if expected_key is not None:
        check.key_matches = fingerprint(expected_key) == check.fingerprint
        if not check.key_matches:
            check.problems.append(
                f"the package was sealed with key {check.fingerprint}, not with the key you gave "
                f"({fingerprint(expected_key)})"
            )
    _check_signature(contents, public, data, check)
    if TOKEN in contents.files:
        _check_timestamp(contents, data, tsa_roots, check)
    for name, expected in sorted(files.items()):
        if _unsafe(name):
            check.problems.append(
                f"the manifest lists {shown(name)}, a path outside the package: not read"
            )
        elif name in contents.refused:
            continue  # already named, with the reason it was not read
        elif name not in contents.files:
            check.missing.append(shown(name))
            check.problems.append(f"{shown(name)} is listed in the manifest but missing")
        else:
            try:
                actual = contents.sha256(name)
            except _Unreadable as exc:
                check.altered.append(shown(name))
                check.problems.append(f"{shown(name)} could not be read: {exc}")
                continue
            check.files_checked += 1
            if actual != expected:
                check.altered.append(shown(name))
                check.problems.append(
                    f"{shown(name)} was altered: its SHA-256 differs from the manifest"
                )
    for name in sorted(contents.files - set(files) - {MANIFEST, SIGNATURE, TOKEN}):
        check.added.append(shown(name))
        check.problems.append(f"{shown(name)} was added after the package was sealed")
    return check


def _parse_manifest(data: bytes) -> tuple[dict[str, str], Ed25519PublicKey]:
    manifest = json.loads(data)
    listed = manifest["files"]
    if not isinstance(listed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _SHA256.fullmatch(v)
        for k, v in listed.items()
    ):
        raise ValueError("its file list is not names and SHA-256 hashes")
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(manifest["public_key"]))
    return dict(listed), public


def _check_signature(
    contents: _Contents, public: Ed25519PublicKey, data: bytes, check: PackageCheck
) -> None:
    if SIGNATURE not in contents.files:
        if SIGNATURE not in contents.refused:
            check.problems.append(f"{SIGNATURE} is missing: the manifest is not signed")
        return
    try:
        signature = base64.b64decode(
            contents.read(SIGNATURE, MAX_SIGNATURE_BYTES).strip(), validate=True
        )
        public.verify(signature, data)
        check.signature_valid = True
    except (_Unreadable, InvalidSignature, ValueError):
        check.problems.append(
            f"the signature in {SIGNATURE} does not match {MANIFEST}: the manifest or the "
            "signature was changed"
        )


def _check_timestamp(
    contents: _Contents,
    data: bytes,
    roots: list[x509.Certificate] | None,
    check: PackageCheck,
) -> None:
    try:
        stamp = check_timestamp(contents.read(TOKEN, MAX_RESPONSE_BYTES), data, roots)
    except (_Unreadable, TimestampError) as exc:
        check.problems.append(str(getattr(exc, "message", exc)))
        return
    check.timestamp = {
        "time": stamp.time,
        "tsa": shown(stamp.tsa),
        "signer_checked": stamp.signer_checked,
    }


def _unsafe(name: str) -> bool:
    """A package-relative name that could reach outside the package or is not plain."""
    parts = name.replace("\\", "/").split("/")
    return (
        not name
        or name.startswith(("/", "\\"))
        or re.match(r"[A-Za-z]:", name) is not None
        or any(part in ("", ".", "..") for part in parts)
        or "\x00" in name
    )


def _read_capped(stream: IO[bytes], limit: int, what: str) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _Unreadable(f"{what} is larger than {limit} bytes")
    return data


# -- a folder ------------------------------------------------------------------------------


class _Folder:
    """A package folder, walked without following links; only regular files are opened."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: set[str] = set()
        self.refused: dict[str, str] = {}
        self.problems: list[str] = []
        self.strays: list[str] = []
        for path, kind in _walk(root):
            name = path.relative_to(root).as_posix()
            if kind == "file":
                self.files.add(name)
                continue
            reason = (
                "is a link: not followed"
                if kind == "link"
                else f"is not a regular file ({kind}): not read"
            )
            self.refused[name] = reason
            self.problems.append(f"{shown(name)} {reason}")

    def _open(self, name: str) -> IO[bytes]:
        """Open a walked regular file; never a link, and never blocks on a FIFO put in its
        place since the walk (O_NONBLOCK, then the type is checked on the open file)."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.root / name, flags)
        except OSError as exc:
            raise _Unreadable(exc.strerror or str(exc)) from exc
        handle = os.fdopen(fd, "rb")
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            handle.close()
            raise _Unreadable("it is not a regular file any more")
        return handle

    def read(self, name: str, limit: int) -> bytes:
        with self._open(name) as handle:
            return _read_capped(handle, limit, name)

    def sha256(self, name: str) -> str:
        with self._open(name) as handle:
            try:
                return hashlib.file_digest(handle, "sha256").hexdigest()
            except OSError as exc:
                raise _Unreadable(exc.strerror or str(exc)) from exc


def _walk(root: Path) -> Iterator[tuple[Path, str]]:
    """(path, kind) for everything under `root` but folders; kind is "file", "link" or the
    name of a special file type. Links to folders are reported, never entered."""
    for folder, dirs, names in os.walk(root, followlinks=False):
        for name in [*dirs, *names]:
            path = Path(folder, name)
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                continue
            if stat.S_ISDIR(mode):
                continue
            yield path, _kind(mode)


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "an unknown kind of file"


# -- a zip -----------------------------------------------------------------------------------


class _Zip:
    """A package zip, read entry by entry in memory; nothing is extracted."""

    def __init__(self, archive: zipfile.ZipFile, label: str) -> None:
        self.archive = archive
        self.files: set[str] = set()
        self.refused: dict[str, str] = {}
        self.problems: list[str] = []
        self.strays: list[str] = []
        self._entries: dict[str, zipfile.ZipInfo] = {}
        hint = "this is not a package Unmask wrote; do not unpack it"
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise UnmaskError(
                f"{label} holds {len(infos)} entries, more than a package ({MAX_ZIP_MEMBERS})",
                hint,
            )
        declared = sum(info.file_size for info in infos)
        if declared > MAX_UNPACKED_BYTES:
            raise UnmaskError(
                f"{label} would unpack to {declared / 2**30:.1f} GiB (more than "
                f"{MAX_UNPACKED_BYTES >> 30} GiB): a zip bomb or not a package; nothing was "
                "unpacked",
                hint,
            )
        top = _top_folder(infos)
        by_key: dict[str, list[tuple[str, zipfile.ZipInfo]]] = {}
        for info in infos:
            raw = info.filename
            reason = _entry_problem(info)
            if reason is not None:
                self._refuse(_inside(raw, top) or raw, reason)
                continue
            if info.is_dir():
                continue
            name = posixpath.normpath(raw.replace("\\", "/"))
            inside = _inside(name, top)
            if inside is None:
                self.strays.append(shown(name))
                continue
            # Two names that unzip tools (or a case-insensitive disk) treat as one file.
            key = unicodedata.normalize("NFC", inside).casefold()
            by_key.setdefault(key, []).append((inside, info))
        for entries in by_key.values():
            if len(entries) > 1:
                names = " and ".join(dict.fromkeys(shown(n) for n, _ in entries))
                for inside, _ in entries:
                    self.refused[inside] = "appears more than once"
                self.problems.append(
                    f"{names} appears {len(entries)} times in the zip: which copy a person sees "
                    "depends on the program that opens it, so none was trusted"
                )
                continue
            inside, info = entries[0]
            self.files.add(inside)
            self._entries[inside] = info

    def _refuse(self, name: str, reason: str) -> None:
        self.refused[name] = reason
        self.problems.append(f"{shown(name)} {reason}")

    def read(self, name: str, limit: int) -> bytes:
        info = self._entries[name]
        if info.file_size > limit:
            raise _Unreadable(f"{shown(name)} is larger than {limit} bytes")
        try:
            with self.archive.open(info) as stream:
                return _read_capped(stream, limit, shown(name))
        except _DAMAGED as exc:
            raise _Unreadable(f"it is damaged in the zip ({exc})") from exc

    def sha256(self, name: str) -> str:
        info = self._entries[name]
        digest, size = hashlib.sha256(), 0
        try:
            with self.archive.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > info.file_size:  # never more than the size checked up front
                        raise _Unreadable("it holds more bytes than the zip declares")
                    digest.update(chunk)
        except _DAMAGED as exc:
            raise _Unreadable(f"it is damaged in the zip ({exc})") from exc
        return digest.hexdigest()


def _top_folder(infos: list[zipfile.ZipInfo]) -> str:
    """The package's folder inside the zip: "" when manifest.json is at the top, else the one
    folder holding it (`unmask report --zip` writes `evidence/…`)."""
    names = {posixpath.normpath(i.filename.replace("\\", "/")) for i in infos}
    if MANIFEST in names:
        return ""
    tops = {n.split("/")[0] for n in names if n.count("/") == 1 and n.endswith("/" + MANIFEST)}
    return tops.pop() if len(tops) == 1 else ""


def _inside(name: str, top: str) -> str | None:
    """`name` relative to the package folder, or None when it lies beside it."""
    if not top:
        return name
    return name[len(top) + 1 :] if name.startswith(top + "/") else None


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why an entry must not be read at all, or None."""
    name = info.filename
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "has an absolute path, outside the package: not read"
    if ".." in name.replace("\\", "/").split("/"):
        return "points outside the package (..): not read"
    mode = info.external_attr >> 16
    # Made on Unix, the high bits are the file's mode; its type bits may be left at zero.
    if info.create_system == 3 and stat.S_IFMT(mode):
        if stat.S_ISLNK(mode):
            return "is a link: not followed"
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            return f"is not a regular file ({_kind(mode)}): not read"
    if info.is_dir():
        return None
    if info.flag_bits & 0x1:
        return "is encrypted: not read (a package is never encrypted)"
    if info.compress_type not in READABLE_METHODS:
        return f"uses a compression method unmask does not read (method {info.compress_type})"
    ratio = info.file_size / max(1, info.compress_size)
    if info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
        return (
            f"would expand {ratio:,.0f} times ({info.file_size / 2**20:,.0f} MiB from "
            f"{info.compress_size:,} bytes), as a zip bomb does: not read"
        )
    return None
