"""Plain words for C2PA validation states and status codes.

People reading C2PA tools' output confuse "untrusted" with "invalid" and read silence as
success. Every state and every failed check here gets one sentence a non-expert can act on.
Status codes are those of the C2PA specification 2.1, section 15 ("Validation"), and of the
CAWG identity assertion 1.1 (codes starting "cawg.").
"""

from __future__ import annotations

from typing import Literal

State = Literal["none", "invalid", "valid_untrusted", "trusted"]

STATE_TITLES: dict[State, str] = {
    "none": "No Content Credentials",
    "invalid": "Invalid Content Credentials",
    "valid_untrusted": "Valid Content Credentials, but the signer is not on your trust list",
    "trusted": "Trusted Content Credentials",
}

STATE_EXPLANATIONS: dict[State, str] = {
    "none": (
        "This file carries no Content Credentials, so its origin is unknown. Most pictures "
        "have none (social networks remove them), so this is not a sign of manipulation."
    ),
    "invalid": (
        "The file carries Content Credentials, but a check failed, so what they say about the "
        "file's history cannot be relied on."
    ),
    "valid_untrusted": (
        "The credentials are intact and the file has not changed since it was signed, but the "
        "signer's certificate is not on your trust list, so who signed it is not confirmed."
    ),
    "trusted": (
        "The credentials are intact, the file has not changed since it was signed, and the "
        "signer's certificate comes from an authority on your trust list."
    ),
}

CODE_EXPLANATIONS: dict[str, str] = {
    "assertion.dataHash.mismatch": "the file's content changed after it was signed",
    "assertion.bmffHash.mismatch": "the video's content changed after it was signed",
    "assertion.boxesHash.mismatch": "the file's content changed after it was signed",
    "assertion.collectionHash.mismatch": "a file in the signed collection changed after signing",
    "assertion.hashedURI.mismatch": "a statement inside the credentials was altered after signing",
    "assertion.missing": "a statement the credentials refer to is missing",
    "assertion.required.missing": "a statement the standard requires is missing or unreadable",
    "assertion.multipleHardBindings": "the credentials bind to the content in two conflicting ways",
    "claim.missing": "the credentials refer to a record that is missing",
    "claim.hardBindings.missing": "the credentials are not bound to the file's content",
    "claimSignature.mismatch": "the signature does not match: the credentials were altered or "
    "forged after signing",
    "claimSignature.missing": "the credentials are not signed",
    "claimSignature.outsideValidity": "the file was signed outside the certificate's validity",
    "signingCredential.expired": "the signer's certificate had expired when the file was signed",
    "signingCredential.revoked": "the signer's certificate has been revoked",
    "signingCredential.invalid": "the signer's certificate is not valid for signing",
    "algorithm.unsupported": "the credentials use an unknown or disallowed signing algorithm, so "
    "they cannot be checked",
    "timeStamp.mismatch": "the timestamp does not match the signature",
    "timeStamp.outsideValidity": "the timestamp lies outside its certificate's validity",
    "ingredient.manifest.missing": "the credentials of a file this one was made from are missing",
    "ingredient.hashedURI.mismatch": "the record of a file this one was made from was altered",
    "manifest.inaccessible": "the credentials are stored elsewhere and could not be read",
    "signingCredential.untrusted": "the signer's certificate is not on your trust list",
    "cawg.x509.credential.untrusted": "the creator-identity certificate is not on your trust list",
    "cawg.ica.did_unavailable": "the creator's online identity document could not be looked up "
    "(unmask stays offline)",
    "status.prerelease": "the credentials were written by a pre-release tool and cannot be "
    "checked against the published standard",
}

# Codes that say nothing about whether the file or its credentials were altered: who signed
# is not on the trust list, or something could not be looked up because unmask stays offline.
NOT_TAMPERING_MARKERS = ("untrusted", "did_unavailable", "ocsp.skipped", "ocsp.inaccessible")


def is_tampering_code(code: str) -> bool:
    """Does a failure code mean the credentials or the content fail a check (not just trust)?"""
    return not any(marker in code for marker in NOT_TAMPERING_MARKERS)


def explain_code(code: str, detail: str = "") -> str:
    if code in CODE_EXPLANATIONS:
        return CODE_EXPLANATIONS[code]
    if code.startswith("cawg."):
        return "the creator-identity statement is not valid" + (f" ({detail})" if detail else "")
    return f"the check {code} failed" + (f" ({detail})" if detail else "")
