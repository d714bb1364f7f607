"""Plain words for C2PA validation states and status codes.

People reading C2PA tools' output confuse "untrusted" with "invalid" and read silence as
success. Every state and every failed check here gets one sentence a non-expert can act on.
Status codes are those of the C2PA specification 2.1, section 15 ("Validation"), of the
CAWG identity assertion 1.1 (codes starting "cawg."), and c2pa-rs's own ("com.adobe.*",
"general.error"). Where c2pa-rs gives one code several causes, its explanation decides the
words (`DETAIL_EXPLANATIONS`); the code is always shown beside them.
"""

from __future__ import annotations

from typing import Literal

State = Literal["none", "remote", "invalid", "valid_untrusted", "trusted"]

STATE_TITLES: dict[State, str] = {
    "none": "No Content Credentials",
    "remote": "Content Credentials stored online, not checked",
    "invalid": "Invalid Content Credentials",
    "valid_untrusted": "Valid Content Credentials, but the signer is not on a trust list",
    "trusted": "Trusted Content Credentials",
}

STATE_EXPLANATIONS: dict[State, str] = {
    "none": (
        "This file carries no Content Credentials, so its origin is unknown. Most pictures "
        "have none (social networks remove them), so this is not a sign of manipulation."
    ),
    "remote": (
        "The file carries no Content Credentials of its own but says they are stored online. "
        "unmask never goes online, so they were not fetched or checked; the origin stays "
        "unknown until you check them yourself (or pass a copy with --manifest)."
    ),
    "invalid": (
        "The file carries Content Credentials, but a check failed, so what they say about the "
        "file's history cannot be relied on."
    ),
    "valid_untrusted": (
        "The credentials are intact and the file has not changed since it was signed, but the "
        "signer's certificate is on no trust list unmask used, so who signed it is not confirmed."
    ),
    "trusted": (
        "The credentials are intact, the file has not changed since it was signed, and the "
        "signer's certificate comes from an authority on a trust list unmask used."
    ),
}

CODE_EXPLANATIONS: dict[str, str] = {
    # c2pa-rs reports one code for several causes; `DETAIL_EXPLANATIONS` below tells them
    # apart by its explanation. Without a known explanation a hash code says what was compared.
    "assertion.dataHash.mismatch": "the file's bytes do not match the hash the credentials signed",
    "assertion.bmffHash.mismatch": "the video's bytes do not match the hash the credentials signed",
    "assertion.boxesHash.mismatch": "the file's bytes do not match the hash the credentials signed",
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
    "timeStamp.malformed": "the timestamp is malformed, so the signing time is not confirmed",
    "timeStamp.untrusted": "the timestamp authority is not on a trust list unmask used",
    "ingredient.manifest.missing": "the credentials of a file this one was made from are missing",
    "ingredient.hashedURI.mismatch": "the record of a file this one was made from was altered",
    "ingredient.unknownProvenance": "a file this one was made from carries no credentials",
    "manifest.inaccessible": "the credentials are stored elsewhere and could not be read",
    "general.error": "the validator could not complete its checks",
    "signingCredential.untrusted": "the signer's certificate is on no trust list unmask used",
    "signingCredential.ocsp.skipped": "the certificate's revocation status was not looked up "
    "(unmask stays offline)",
    "cawg.x509.credential.untrusted": "the creator-identity certificate is on no trust list "
    "unmask used",
    "cawg.ica.did_unavailable": "the identity issuer's online identity document could not be "
    "looked up (unmask stays offline), so the creator identities are not confirmed",
    "cawg.ica.untrusted_issuer": "the issuer of the creator identities is not one unmask trusts",
    "cawg.ica.invalid_content_type": "the creator-identity credential is malformed (wrong "
    "content type)",
    "cawg.ica.invalid_cose_sign1": "the creator-identity credential is malformed (bad signature "
    "structure)",
    "cawg.ica.invalid_issuer": "the creator-identity credential names an invalid issuer",
    "cawg.ica.invalid_verifiable_credential": "the creator-identity credential is malformed",
    "cawg.ica.signature_mismatch": "the creator-identity credential's signature does not match",
    "cawg.ica.time_stamp.invalid": "the creator-identity credential's timestamp does not match",
    "cawg.ica.valid_from.invalid": "the creator-identity credential is not valid yet",
    "cawg.ica.valid_until.invalid": "the creator-identity credential has expired",
    "cawg.identity.hard_binding_missing": "the creator-identity statement is not bound to the "
    "file's content",
    "cawg.identity.pad.invalid": "the creator-identity statement is malformed (invalid padding)",
    "cawg.identity.sig_type.unknown": "the creator-identity statement uses an unknown signature "
    "type, so it cannot be checked",
    "com.adobe.prerelease": "the credentials were written by a pre-release tool and cannot be "
    "checked against the published standard",
}

CONTENT_CHANGED = "the file's content changed after it was signed"
STRUCTURAL_FAULT = (
    "the credentials do not describe their own place in the file correctly: a fault in how "
    "the file was written, not by itself a sign that its content was edited"
)

DETAIL_EXPLANATIONS: list[tuple[str, str, str]] = [
    # (code, words in c2pa-rs's explanation, meaning). c2pa-rs (c2pa-python 0.38) gives a
    # hash mismatch two kinds of cause, told apart only by its explanation: the bytes were
    # hashed and differ ("hash verification( Hashes do not match )"), or the hash assertion
    # does not fit the file's layout, so nothing was compared ("data hash exclusion does not
    # match the manifest location in the asset"; "BMFF inithash must not be present for
    # non-fragmented MP4"), as its explanations on the C2PA conformance files show.
    ("assertion.dataHash.mismatch", "hashes do not match", CONTENT_CHANGED),
    ("assertion.boxesHash.mismatch", "hashes do not match", CONTENT_CHANGED),
    (
        "assertion.dataHash.mismatch",
        "exclusion does not match the manifest location",
        STRUCTURAL_FAULT,
    ),
    (
        "assertion.bmffHash.mismatch",
        "hashes do not match",
        "the video's content changed after it was signed",
    ),
    ("assertion.bmffHash.mismatch", "must not be present", STRUCTURAL_FAULT),
    ("general.error", "jumbf", "the credentials are malformed and cannot be read"),
]

# Codes that say nothing about whether the file or its credentials were altered: who signed
# is not on a trust list, or something could not be looked up because unmask stays offline.
NOT_TAMPERING_MARKERS = (
    "untrusted",
    "did_unavailable",
    "ocsp.skipped",
    "ocsp.inaccessible",
    "unknownProvenance",
)


def is_tampering_code(code: str) -> bool:
    """Does a failure code mean the credentials or the content fail a check (not just trust)?"""
    return not any(marker in code for marker in NOT_TAMPERING_MARKERS)


def explain_code(code: str, detail: str = "") -> str:
    """Plain words for a status code, told apart by the validator's own explanation where one
    code has several causes. Unknown codes keep the validator's words."""
    lowered = detail.lower()
    for known, words, meaning in DETAIL_EXPLANATIONS:
        if code == known and words in lowered:
            return meaning
    if code in CODE_EXPLANATIONS:
        return CODE_EXPLANATIONS[code]
    if code.startswith("cawg."):
        return "the creator-identity statement is not valid" + (f" ({detail})" if detail else "")
    return f"the check {code} failed" + (f" ({detail})" if detail else "")
