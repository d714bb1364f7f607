"""Sign one's own photo or video with Content Credentials (C2PA).

The manifest says three things, each as the C2PA 2.1 standard assertion for it:
- `c2pa.actions.v2` with `c2pa.created` and an IPTC digital source type (default
  `digitalCapture`: a camera photo), so later edits can be told apart from the original;
- the author, as a schema.org CreativeWork assertion;
- `c2pa.training-mining` with every use (AI training, generative training, inference, data
  mining) set to `notAllowed`, the standard's machine-readable "do not train on this".

Signing never changes pixels; it adds a manifest and a thumbnail. Anyone can later check that
the file is unchanged since signing, and (if they trust the CA) who signed it.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa

from unmask import __version__
from unmask.errors import UnmaskError
from unmask.protect.keys import KeyFiles, key_files

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
SOURCE_TYPES = ("digitalCapture", "digitalArt", "composite", "minorHumanEdits")
"""IPTC digital source types a person can honestly claim for their own work."""
TRAINING_AND_MINING = (
    "c2pa.ai_training",
    "c2pa.ai_generative_training",
    "c2pa.ai_inference",
    "c2pa.data_mining",
)


class ProtectError(UnmaskError):
    code = "protect_failed"


@dataclass(frozen=True)
class Protected:
    source: Path
    output: Path
    author: str
    signer_chain: Path
    allow_training: bool


def build_manifest(
    title: str, author: str, source_type: str = "digitalCapture", allow_training: bool = False
) -> dict[str, Any]:
    use = "allowed" if allow_training else "notAllowed"
    return {
        "claim_generator_info": [{"name": "unmask", "version": __version__}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": IPTC + source_type,
                            "softwareAgent": {"name": "unmask", "version": __version__},
                        }
                    ]
                },
            },
            {
                "label": "c2pa.training-mining",
                "data": {"entries": {kind: {"use": use} for kind in TRAINING_AND_MINING}},
            },
            {
                "label": "stds.schema-org.CreativeWork",
                "data": {
                    "@context": "https://schema.org",
                    "@type": "CreativeWork",
                    "author": [{"@type": "Person", "name": author}],
                },
            },
        ],
    }


def protect_file(
    source: Path,
    output: Path,
    author: str | None = None,
    keys: KeyFiles | None = None,
    source_type: str = "digitalCapture",
    allow_training: bool = False,
) -> Protected:
    """Write `output`: `source` signed with the user's key. Formats: what c2pa-python signs
    (JPEG, PNG, WebP, HEIF/AVIF, TIFF, MP4/MOV, ...); the output keeps the source's format."""
    keys = keys or key_files()
    if not keys.exist():
        raise ProtectError(
            "no signing key yet", "run `unmask keys init --name 'Your Name'` once first"
        )
    if not source.is_file():
        raise ProtectError(f"no such file: {source}", "check the path")
    if source.suffix.lower() != output.suffix.lower():
        raise ProtectError(
            "the output must keep the input's format",
            f"name the output ...{source.suffix}",
        )
    if source.resolve() == output.resolve():
        raise ProtectError("the output would overwrite the input", "choose another -o path")
    if source_type not in SOURCE_TYPES:
        raise ProtectError(f"unknown source type {source_type!r}", ", ".join(SOURCE_TYPES))
    author = author or _certificate_name(keys)
    manifest = build_manifest(source.name, author, source_type, allow_training)
    info = c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, keys.chain.read_bytes(), keys.signer_key.read_bytes(), None
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    # Sign into a temporary file first so a failure never leaves half a file at `output`.
    with tempfile.TemporaryDirectory(dir=output.parent) as tmp:
        partial = Path(tmp) / output.name
        try:
            signer = c2pa.Signer.from_info(info)
            with c2pa.Builder(manifest) as builder:
                builder.sign_file(str(source), str(partial), signer)
        except c2pa.C2paError as exc:
            raise ProtectError(
                f"the file could not be signed ({exc})",
                "C2PA signs JPEG, PNG, WebP, HEIF/AVIF, TIFF, MP4 and MOV files; check the file "
                "opens in an image viewer",
            ) from None
        shutil.move(str(partial), output)
    return Protected(source, output, author, keys.chain, allow_training)


def _certificate_name(keys: KeyFiles) -> str:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = x509.load_pem_x509_certificate(keys.signer_cert.read_bytes())
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else "unknown"
