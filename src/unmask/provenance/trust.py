"""Trust anchors: the certificate authorities whose signatures the user chooses to trust.

C2PA separates two questions: is the manifest intact (signature and hashes check out), and is
the signer someone you trust? The second has no universal answer, so unmask ships no trust
list of its own and never fetches one: trust comes from PEM bundles the user names with
`--trust FILE` and from `trust.pem` in the unmask home folder (see `unmask keys`).
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from unmask.errors import UnmaskError
from unmask.protect.keys import unmask_home

TRUST_FILE_NAME = "trust.pem"
"""Trust anchors used by every `unmask verify` and `unmask scan`, kept in the unmask home."""


class TrustListError(UnmaskError):
    code = "bad_trust_list"


def configured_trust_file(home: Path | None = None) -> Path:
    return (home or unmask_home()) / TRUST_FILE_NAME


def load_trust_anchors(extra: list[Path] | None = None, home: Path | None = None) -> str | None:
    """The PEM text of every trusted CA certificate, or None when the user trusts none.

    Every file must hold at least one readable certificate: a typo in a trust file must not
    silently turn "trusted" into "not on your trust list".
    """
    paths = list(extra or [])
    configured = configured_trust_file(home)
    if configured.is_file():
        paths.append(configured)
    pems: list[str] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TrustListError(
                f"cannot read the trust file {path} ({exc.strerror or exc})",
                "check the path given to --trust",
            ) from None
        try:
            certificates = x509.load_pem_x509_certificates(data)
        except ValueError:
            raise TrustListError(
                f"{path} holds no PEM certificate",
                "a trust file is one or more '-----BEGIN CERTIFICATE-----' blocks",
            ) from None
        pems.extend(c.public_bytes(Encoding.PEM).decode("ascii") for c in certificates)
    return "".join(pems) if pems else None
