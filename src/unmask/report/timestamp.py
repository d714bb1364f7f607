"""An optional RFC 3161 trusted timestamp on the seal: a timestamp authority (TSA) signs the
SHA-256 of manifest.json with its own clock, so the package provably existed at that time, not
only by this computer's clock.

Off by default: nothing goes online unless she gives a TSA's URL (`--tsa-url`). Only the hash of
the manifest is sent, never a file or a name. The token is kept as `manifest.tsr` (the TSA's
whole TimeStampResp, DER), beside the signature and outside the manifest it stamps.

    token = request_timestamp(manifest_bytes, "https://tsa.example/tsr")
    stamp = check_timestamp(token, manifest_bytes, roots=[ca])   # raises TimestampError

Requests and checks use rfc3161-client (Trail of Bits; used by sigstore-python). A token can be
checked in full only against the TSA's root certificate (`--tsa-ca`), as any signature can only
be trusted through a key one already trusts; without it, the check says that the token's hash
matches the manifest, and that its signer was not checked.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)
from rfc3161_client.tsp import PKIStatus

from unmask.errors import UnmaskError

TOKEN = "manifest.tsr"
"""The TSA's answer, beside manifest.sig."""
TIMEOUT_S = 30.0
MAX_RESPONSE_BYTES = 1 << 20
"""A TimeStampResp is a few KB (a signature and the TSA's certificates)."""
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
"""RFC 3161 section 3.4, the HTTP transport."""


class TimestampError(UnmaskError):
    code = "timestamp_error"


@dataclass(frozen=True)
class Stamp:
    """What a checked token says."""

    time: str
    """The TSA's time, ISO 8601 in UTC."""
    tsa: str
    """Who signed it: the TSA's certificate subject, when the token carries it."""
    signer_checked: bool
    """True when the signature was checked up to a root certificate given (`--tsa-ca`)."""


def request_timestamp(data: bytes, url: str) -> bytes:
    """Ask the TSA at `url` to stamp the SHA-256 of `data`; returns its answer (DER), after
    checking that it answers this request (granted, same hash, same nonce)."""
    if not url.startswith(("https://", "http://")):
        raise TimestampError(f"{url!r} is not a web address", "give the TSA's http(s) URL")
    query = (
        TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    request = urllib.request.Request(
        url, data=query.as_bytes(), headers={"Content-Type": QUERY_TYPE}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
            body = answer.read(MAX_RESPONSE_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise TimestampError(
            f"the timestamp authority at {url} could not be reached ({exc})",
            "check the URL and the connection, or make the package without --tsa-url",
        ) from exc
    if len(body) > MAX_RESPONSE_BYTES:
        raise TimestampError(f"the timestamp authority at {url} answered with too much data")
    response = _decode(body, url)
    if PKIStatus(response.status) != PKIStatus.GRANTED:
        raise TimestampError(
            f"the timestamp authority at {url} refused the request "
            f"({'; '.join(response.status_string) or response.status})"
        )
    if response.tst_info.nonce != query.nonce:
        raise TimestampError(f"the answer of {url} is not for this request (nonce differs)")
    if response.tst_info.message_imprint.message != query.message_imprint.message:
        raise TimestampError(f"the answer of {url} stamps another hash")
    return body


def check_timestamp(token: bytes, data: bytes, roots: list[x509.Certificate] | None) -> Stamp:
    """Check that `token` stamps exactly `data`; with `roots`, also that the TSA's signature
    and certificate (critical time-stamping EKU) chain up to one of them. Raises
    `TimestampError` naming what does not hold."""
    response = _decode(token, TOKEN)
    info = response.tst_info
    stamp = Stamp(
        time=info.gen_time.isoformat(timespec="seconds"),
        tsa=_signer_name(response),
        signer_checked=bool(roots),
    )
    try:
        if roots:
            builder = VerifierBuilder()
            for root in roots:
                builder = builder.add_root_certificate(root)
            builder.build().verify_message(response, data)
        else:
            import hashlib

            if PKIStatus(response.status) != PKIStatus.GRANTED:
                raise VerificationError("PKIStatus is not GRANTED")
            if info.message_imprint.message != hashlib.sha256(data).digest():
                raise VerificationError("Mismatch between messages")
    except VerificationError as exc:
        reason = str(exc)
        if "Mismatch between messages" in reason:
            reason = "it stamps another manifest: manifest.json was changed after it was stamped"
        raise TimestampError(f"the timestamp in {TOKEN} does not hold: {reason}") from exc
    return stamp


def load_roots(path: Path) -> list[x509.Certificate]:
    """The TSA root certificate(s) given with --tsa-ca (PEM)."""
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise TimestampError(
            f"{path} could not be read as PEM certificates", "give the TSA's root certificate"
        ) from exc
    return certificates


def _decode(body: bytes, where: str):  # type: ignore[no-untyped-def]
    try:
        return decode_timestamp_response(body)
    except ValueError as exc:
        raise TimestampError(f"{where} is not an RFC 3161 timestamp response ({exc})") from exc


def _signer_name(response: object) -> str:
    try:
        signer = next(iter(response.signed_data.signer_infos))  # type: ignore[attr-defined]
        for der in response.signed_data.certificates:  # type: ignore[attr-defined]
            certificate = x509.load_der_x509_certificate(der)
            if certificate.serial_number == signer.serial_number:
                return certificate.subject.rfc4514_string()
    except (StopIteration, ValueError):
        pass
    return "not named in the token"
