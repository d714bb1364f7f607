"""Trust anchors: the certificate authorities whose signatures count as trusted.

C2PA separates two questions: is the manifest intact (signature and hashes check out), and is
the signer someone you trust? unmask answers the second with two kinds of anchor, kept apart
so that a report can say which one vouched for a signer:

- the **C2PA Trust List** (the C2PA conformance programme's list of certificate authorities
  for claim signing), shipped as a dated snapshot in `unmask/provenance/data/` and used by
  default. A newer copy placed at `c2pa-trust-list.pem` in the unmask home folder replaces it
  (see `unmask keys show` and the README: unmask never fetches it);
- **your own** anchors: `--trust FILE` and `trust.pem` in the unmask home folder.

c2pa-rs takes the first as "system" anchors and the second as "user" anchors, and says which
of them a trusted signer chains to (`signingCredential.trusted`, "found in [user_anchors]").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from unmask.errors import UnmaskError
from unmask.protect.keys import unmask_home

TRUST_FILE_NAME = "trust.pem"
"""Your own trust anchors, used by every `unmask verify` and `unmask scan`, in the unmask home."""
C2PA_LIST_FILE_NAME = "c2pa-trust-list.pem"
"""A C2PA Trust List you refreshed by hand, in the unmask home; replaces the shipped snapshot."""


class TrustListError(UnmaskError):
    code = "bad_trust_list"


@dataclass(frozen=True)
class C2paTrustList:
    pem: str
    as_of: str
    """Date of the snapshot (ISO 8601), for "signer on the C2PA trust list as of <date>"."""
    source: str
    certificates: int


@dataclass(frozen=True)
class TrustAnchors:
    c2pa_list: C2paTrustList | None
    user_pem: str | None
    """PEM text of the anchors you chose (--trust, trust.pem), or None."""

    def settings(self) -> dict[str, Any]:
        """c2pa-rs `trust` settings: the C2PA list as system anchors, yours as user anchors."""
        out: dict[str, Any] = {}
        if self.c2pa_list is not None:
            out["trust_anchors"] = self.c2pa_list.pem
        if self.user_pem is not None:
            out["user_anchors"] = self.user_pem
        return out

    @property
    def any(self) -> bool:
        return self.c2pa_list is not None or self.user_pem is not None


def configured_trust_file(home: Path | None = None) -> Path:
    return (home or unmask_home()) / TRUST_FILE_NAME


def refreshed_c2pa_list_file(home: Path | None = None) -> Path:
    return (home or unmask_home()) / C2PA_LIST_FILE_NAME


def load_trust(
    extra: list[Path] | None = None, home: Path | None = None, c2pa_list: bool = True
) -> TrustAnchors:
    """Your anchors and (unless `c2pa_list` is False) the C2PA Trust List."""
    return TrustAnchors(
        c2pa_list=load_c2pa_trust_list(home) if c2pa_list else None,
        user_pem=load_trust_anchors(extra, home),
    )


def load_c2pa_trust_list(home: Path | None = None) -> C2paTrustList:
    """The C2PA Trust List: your refreshed copy in the unmask home, else the shipped snapshot."""
    refreshed = refreshed_c2pa_list_file(home)
    if refreshed.is_file():
        pem = "".join(_read_pem(refreshed))
        record = _read_record(refreshed.with_suffix(".json"))
        as_of = str(record.get("as_of") or _file_date(refreshed))
        source = str(record.get("source") or f"your copy, {refreshed}")
        return C2paTrustList(pem, as_of, source, pem.count("BEGIN CERTIFICATE"))
    return shipped_c2pa_trust_list()


@cache
def shipped_c2pa_trust_list() -> C2paTrustList:
    data = files("unmask.provenance").joinpath("data")
    record = json.loads(data.joinpath("c2pa-trust-list.json").read_text("utf-8"))
    pem = data.joinpath("c2pa-trust-list.pem").read_text("utf-8")
    return C2paTrustList(pem, record["as_of"], record["source"], record["certificates"])


def import_c2pa_trust_list(
    path: Path, as_of: str, source: str | None = None, home: Path | None = None
) -> C2paTrustList:
    """Install a C2PA Trust List you obtained yourself (the refresh by hand: unmask never
    fetches it) in the unmask home, where it replaces the shipped snapshot."""
    try:
        day = datetime.strptime(as_of, "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise TrustListError(
            f"--as-of {as_of!r} is not a date", "give the list's date as YYYY-MM-DD"
        ) from None
    certificates = _read_pem(path)
    target = refreshed_c2pa_list_file(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(certificates), "ascii")
    record = {"as_of": day, "source": source or f"imported by hand from {path.name}"}
    target.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    return load_c2pa_trust_list(home)


def load_trust_anchors(extra: list[Path] | None = None, home: Path | None = None) -> str | None:
    """The PEM text of every CA certificate you trust yourself, or None when you trust none.

    Every file must hold at least one readable certificate: a typo in a trust file must not
    silently turn "trusted" into "not on your trust list".
    """
    paths = list(extra or [])
    configured = configured_trust_file(home)
    if configured.is_file():
        paths.append(configured)
    pems: list[str] = []
    for path in paths:
        pems.extend(_read_pem(path))
    return "".join(pems) if pems else None


def _read_pem(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TrustListError(
            f"cannot read the trust file {path} ({exc.strerror or exc})",
            "check the path (a --trust file, trust.pem in the unmask home folder, or the list "
            "given to `unmask keys import-c2pa-list`)",
        ) from None
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise TrustListError(
            f"{path} holds no PEM certificate",
            "a trust file is one or more '-----BEGIN CERTIFICATE-----' blocks",
        ) from None
    return [c.public_bytes(Encoding.PEM).decode("ascii") for c in certificates]


def _read_record(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _file_date(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).date().isoformat()
