"""Read and validate C2PA Content Credentials with c2pa-python, and summarise them.

c2pa-python (the C2PA reference implementation, c2pa-rs) does the cryptography and the hash
checks; this module turns its report into one of four states (see `explain`), lists the checks
that failed in plain words, and summarises the manifest store for people: who signed, when,
what was done (actions, including the IPTC digital source type that says "made by AI"), and
which files it was made from (the ingredient tree), and who the creator identities (CAWG
identity assertions) say made it.

No network: remote manifests, OCSP and identity look-ups are switched off, and every host is
disallowed, so reading a file never contacts anyone. A file whose credentials are stored online
gets a state of its own ("remote"); a copy of them (a `.c2pa` sidecar) can be passed instead.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import c2pa

from unmask.errors import LimitExceededError, UnmaskError
from unmask.media.guards import check_structure
from unmask.provenance.explain import (
    CONTENT_CHANGED,
    STATE_EXPLANATIONS,
    STATE_TITLES,
    State,
    explain_code,
    is_tampering_code,
)
from unmask.provenance.trust import TrustAnchors

IPTC_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AI_GENERATED = "trainedAlgorithmicMedia"
AI_COMPOSITE = "compositeWithTrainedAlgorithmicMedia"

MAX_INGREDIENT_DEPTH = 16
"""Ingredient trees deeper than this are cut off (hostile files nest them without end)."""

_OFFLINE_SETTINGS: dict[str, Any] = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    "core": {"allowed_network_hosts": []},
}


class CredentialsError(UnmaskError):
    code = "credentials_unreadable"


@dataclass
class FailedCheck:
    code: str
    """The C2PA status code, e.g. "assertion.dataHash.mismatch"."""
    meaning: str
    """What it means, in plain words."""
    where: str
    """"this file" or "ingredient 'title'"."""
    detail: str = ""
    """The validator's own words."""


@dataclass
class Action:
    action: str
    digital_source_type: str | None = None
    software_agent: str | None = None
    when: str | None = None
    description: str | None = None


@dataclass
class Ingredient:
    title: str
    format: str | None
    relationship: str | None
    has_credentials: bool
    failures: list[str] = field(default_factory=list)
    failure_details: dict[str, str] = field(default_factory=dict)
    """The validator's own explanation of each failed code."""
    ingredients: list[Ingredient] = field(default_factory=list)


@dataclass
class LinkedAccount:
    """One identity a CAWG identity claims aggregator verified (a social account, an ID
    document check, a web site, an organisation, a wallet)."""

    kind: str
    """"social_media", "document_verification", "web_site", "affiliation", "crypto_wallet"."""
    name: str | None = None
    username: str | None = None
    uri: str | None = None
    provider: str | None = None
    verified_at: str | None = None


@dataclass
class CreatorIdentity:
    """A CAWG identity assertion (CAWG identity assertion 1.1): who says they made the file."""

    assertion: str
    """Its label, e.g. "cawg.identity"."""
    signature_type: str | None
    """"cawg.x509.cose" (signed with a certificate) or "cawg.identity_claims_aggregation"."""
    signer: str | None
    """Common name of the identity certificate, or the issuer of the aggregated identities."""
    accounts: list[LinkedAccount] = field(default_factory=list)
    status: str = "not checked"
    """"validated" (the validator confirmed it), "invalid", or "not checked" (see `codes`)."""
    codes: list[str] = field(default_factory=list)
    """The validator's status codes for this assertion, failures and notes."""


@dataclass
class ManifestSummary:
    label: str
    title: str | None
    format: str | None
    claim_generator: str | None
    signer: str | None
    """Common name of the signing certificate."""
    signer_organization: str | None
    signing_algorithm: str | None
    signed_at: str | None
    """Time from the signature's timestamp, where there is one (ISO 8601)."""
    authors: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    ingredients: list[Ingredient] = field(default_factory=list)
    training_mining: dict[str, str] = field(default_factory=dict)
    """Use (allowed / notAllowed / constrained) per kind, from a c2pa.training-mining assertion."""
    thumbnail: str | None = None
    """Resource identifier of the embedded thumbnail, for `extract_thumbnail`."""
    ai_generation: str | None = None
    """"generated" (trainedAlgorithmicMedia), "composite" (parts generated) or None."""
    identities: list[CreatorIdentity] = field(default_factory=list)


@dataclass
class CredentialsReport:
    state: State
    title: str
    explanation: str
    failures: list[FailedCheck] = field(default_factory=list)
    unchecked: list[FailedCheck] = field(default_factory=list)
    """Checks that could not be completed offline or that concern trust only (not tampering)."""
    active_manifest: ManifestSummary | None = None
    manifest_count: int = 0
    trust_list_used: bool = False
    trust_lists: list[str] = field(default_factory=list)
    """The trust lists the signer was checked against, e.g. "the C2PA trust list as of ..."."""
    trusted_by: str | None = None
    """For a trusted signer: the list it is on ("the C2PA trust list as of <date>")."""
    remote_url: str | None = None
    manifest_source: str = "embedded"
    """"embedded" in the file, or "sidecar <name>" for credentials read from a `.c2pa` file."""
    validator: str = f"c2pa-python {c2pa.__version__ if hasattr(c2pa, '__version__') else ''}"

    @property
    def headline(self) -> str:
        """One sentence: the state and its most important reason."""
        if self.state == "invalid" and self.failures:
            first = self.failures[0]
            where = "" if first.where == "this file" else f" (in {first.where})"
            return f"{self.title}: {first.meaning}{where} [{first.code}]."
        if self.state == "remote" and self.remote_url:
            return f"{self.title}: they are kept at {self.remote_url}, which unmask never fetches."
        if self.state in ("valid_untrusted", "trusted") and self.active_manifest:
            signer = self.active_manifest.signer or "an unnamed signer"
            if self.trusted_by:
                return f"{self.title} (signed by {signer}, signer on {self.trusted_by})."
            return f"{self.title} (signed by {signer})."
        return f"{self.title}."

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["headline"] = self.headline
        return data


def read_credentials(
    source: str | Path | bytes,
    mime: str | None = None,
    trust: TrustAnchors | str | None = None,
    manifest: bytes | None = None,
    manifest_name: str = "sidecar",
) -> CredentialsReport:
    """Validate the Content Credentials of a file (a path, or bytes with their MIME type).

    `trust` is the trust anchors (`unmask.provenance.trust.load_trust`; a PEM string counts as
    your own anchors). `manifest` is a detached manifest store (the bytes of a `.c2pa` sidecar)
    to validate the file against instead of what it embeds; `manifest_name` names it in the
    report.

    Raises `CredentialsError` for a file c2pa cannot parse at all, or whose container framing
    is out of all proportion (see `unmask.media.guards`); a file without credentials is not an
    error (state "none").
    """
    if isinstance(trust, str):
        trust = TrustAnchors(c2pa_list=None, user_pem=trust)
    # c2pa-rs was measured quadratic on 200,000 top-level ISO BMFF boxes and slow on millions
    # of empty PNG chunks: the container's framing is checked (counted, bounded) first.
    try:
        if isinstance(source, bytes):
            check_structure(io.BytesIO(source), len(source))
        else:
            with open(source, "rb") as handle:
                check_structure(handle, os.fstat(handle.fileno()).st_size)
    except LimitExceededError as exc:
        raise CredentialsError(
            f"the file was not checked for Content Credentials: {exc.message}", exc.hint
        ) from None
    context = offline_context(trust)
    with contextlib.ExitStack() as stack:
        try:
            if manifest is not None:
                stream: Any = (
                    io.BytesIO(source)
                    if isinstance(source, bytes)
                    else stack.enter_context(Path(source).open("rb"))
                )
                reader = c2pa.Reader(mime, stream, manifest_data=manifest, context=context)
            elif isinstance(source, bytes):
                if mime is None:
                    raise ValueError("reading credentials from bytes needs the MIME type")
                reader = c2pa.Reader(mime, io.BytesIO(source), context=context)
            else:
                reader = c2pa.Reader(str(source), context=context)
        except c2pa.C2paError as exc:
            if manifest is not None:
                raise CredentialsError(
                    f"the {manifest_name} could not be read as Content Credentials ({exc})",
                    "a sidecar is a .c2pa manifest store, as c2patool writes with --sidecar",
                ) from None
            return _report_from_error(exc, trust)
        with reader:
            store = json.loads(reader.json())
            sdk_state = reader.get_validation_state()
            results = reader.get_validation_results() or {}
    report = _report_from_store(store, sdk_state, results, trust)
    if manifest is not None:
        report.manifest_source = manifest_name
        for failure in report.failures:
            if failure.meaning == CONTENT_CHANGED:
                failure.meaning += " (or the credentials belong to another file)"
    return report


def offline_context(trust: TrustAnchors | None = None) -> Any:
    """The c2pa-python context unmask reads with: nothing fetched (no remote manifests, no
    OCSP, no network host allowed), and the signer checked against `trust` when it holds any
    anchors."""
    settings = json.loads(json.dumps(_OFFLINE_SETTINGS))
    settings["verify"]["verify_trust"] = trust is not None and trust.any
    if trust is not None and trust.any:
        settings["trust"] = trust.settings()
    return c2pa.Context.from_dict(settings)


def extract_thumbnail(path: str | Path, identifier: str) -> bytes:
    """The bytes of an embedded thumbnail (as named in `ManifestSummary.thumbnail`)."""
    with c2pa.Reader(str(path), context=offline_context()) as reader:
        out = io.BytesIO()
        reader.resource_to_stream(identifier, out)
        return out.getvalue()


def _report_from_error(exc: Exception, trust: TrustAnchors | None) -> CredentialsReport:
    message = str(exc)
    lowered = message.lower()
    if "manifestnotfound" in lowered or "no jumbf data found" in lowered:
        return _report("none", trust)
    if lowered.startswith("remote") or "remote manifest" in lowered:
        found = re.search(r"https?://\S+", message)
        report = _report("remote" if found else "none", trust)
        report.remote_url = found.group(0) if found else None
        return report
    # c2pa-python raises, rather than reports, for these. They are named as c2pa-rs names
    # the errors (`ValidationStatus::code_from_error`: a pre-release claim is
    # "com.adobe.prerelease", an unlisted error "general.error"); an unknown signing
    # algorithm is the case the C2PA specification defines "algorithm.unsupported" for.
    code = None
    if "unknown algorithm" in lowered or "unsupported algorithm" in lowered:
        code = "algorithm.unsupported"
    elif "prerelease" in lowered:
        code = "com.adobe.prerelease"
    elif "jumbf" in lowered:
        code = "general.error"
    if code is not None:
        report = _report("invalid", trust)
        meaning = explain_code(code, message)
        report.failures.append(FailedCheck(code, meaning, "this file", message))
        return report
    if "notsupported" in lowered or "type is unsupported" in lowered:
        raise CredentialsError(
            "this kind of file cannot carry Content Credentials that unmask can read",
            "C2PA covers JPEG, PNG, WebP, HEIF/AVIF, TIFF/DNG, SVG, MP4/MOV, PDF and some audio",
        ) from None
    raise CredentialsError(
        f"the file could not be parsed for Content Credentials ({message})",
        "the file may be damaged or deliberately malformed",
    ) from None


def _report(state: State, trust: TrustAnchors | None) -> CredentialsReport:
    lists: list[str] = []
    if trust is not None and trust.c2pa_list is not None:
        lists.append(f"the C2PA trust list as of {trust.c2pa_list.as_of}")
    if trust is not None and trust.user_pem is not None:
        lists.append("your trust list")
    return CredentialsReport(
        state=state,
        title=STATE_TITLES[state],
        explanation=STATE_EXPLANATIONS[state],
        trust_list_used=bool(lists),
        trust_lists=lists,
    )


def _trusted_by(results: dict[str, Any], trust: TrustAnchors | None) -> str | None:
    """Which list vouched for the signer: c2pa-rs names the anchors in its explanation of
    signingCredential.trusted ("found in [system_anchors]" or "[user_anchors]")."""
    if trust is None:
        return None
    for entry in (results.get("activeManifest") or {}).get("success", []):
        if entry.get("code") != "signingCredential.trusted":
            continue
        explanation = str(entry.get("explanation", ""))
        if "user_anchors" in explanation:
            return "your trust list"
        if "system_anchors" in explanation and trust.c2pa_list is not None:
            return f"the C2PA trust list as of {trust.c2pa_list.as_of}"
        return "a trust list unmask used"
    return None


def _report_from_store(
    store: dict[str, Any], sdk_state: str, results: dict[str, Any], trust: TrustAnchors | None
) -> CredentialsReport:
    manifests: dict[str, Any] = store.get("manifests") or {}
    active_label = store.get("active_manifest")
    active = manifests.get(active_label) if active_label else None

    failures: list[FailedCheck] = []
    unchecked: list[FailedCheck] = []
    for entry in (results.get("activeManifest") or {}).get("failure", []):
        _add_failure(failures, entry, "this file", unchecked)
    for delta in results.get("ingredientDeltas") or []:
        where = f"ingredient {delta.get('ingredientAssertionURI', '')}".strip()
        for entry in (delta.get("validationDeltas") or {}).get("failure", []):
            _add_failure(failures, entry, where)
    if not results:  # older reports put everything in one list
        for entry in store.get("validation_status") or []:
            _add_failure(failures, entry, "this file")

    summary = _summarise(active_label, active, manifests) if active else None
    if summary is not None:
        for ingredient in _walk(summary.ingredients):
            for code in ingredient.failures:
                detail = ingredient.failure_details.get(code, "")
                entry = {"code": code, "explanation": detail}
                _add_failure(failures, entry, f"ingredient '{ingredient.title}'")

    if failures or (sdk_state == "Invalid" and not unchecked):
        state: State = "invalid"
    elif sdk_state == "Trusted":
        state = "trusted"
    else:
        state = "valid_untrusted"
    report = _report(state, trust)
    report.trusted_by = _trusted_by(results, trust) if state == "trusted" else None
    if summary is not None and active is not None:
        summary.identities = _identities(active, results)
    report.failures = sorted(failures, key=_importance)
    report.unchecked = unchecked
    report.active_manifest = summary
    report.manifest_count = len(manifests)
    if state == "invalid" and not failures:
        report.failures.append(
            FailedCheck("unknown", "the validator rejected the credentials", "this file", "")
        )
    return report


def _add_failure(
    failures: list[FailedCheck],
    entry: dict[str, Any],
    where: str,
    unchecked: list[FailedCheck] | None = None,
) -> None:
    code = str(entry.get("code", ""))
    if not code or _is_success(code):
        return
    detail = str(entry.get("explanation", ""))
    if not is_tampering_code(code):
        if unchecked is not None and not any(f.code == code for f in unchecked):
            unchecked.append(FailedCheck(code, explain_code(code, detail), where, detail))
        return
    if any(f.code == code and f.where == where for f in failures):
        return
    failures.append(FailedCheck(code, explain_code(code, detail), where, detail))


def _importance(failure: FailedCheck) -> tuple[int, int]:
    """This file's own failures first; then content hashes, signatures, the rest."""
    code = failure.code
    kind = 0 if "Hash.mismatch" in code else 1 if code.startswith("claimSignature") else 2
    return (0 if failure.where == "this file" else 1, kind)


def _is_success(code: str) -> bool:
    # Older ingredient records list success and failure codes together.
    return code.endswith((".match", ".validated", ".trusted", ".insideValidity", ".accessible"))


def _summarise(label: str, manifest: dict[str, Any], store: dict[str, Any]) -> ManifestSummary:
    signature = manifest.get("signature_info") or {}
    summary = ManifestSummary(
        label=label,
        title=manifest.get("title"),
        format=manifest.get("format"),
        claim_generator=_claim_generator(manifest),
        signer=signature.get("common_name"),
        signer_organization=signature.get("issuer"),
        signing_algorithm=signature.get("alg"),
        signed_at=signature.get("time"),
        thumbnail=(manifest.get("thumbnail") or {}).get("identifier"),
    )
    for assertion in manifest.get("assertions") or []:
        name = str(assertion.get("label", ""))
        data = assertion.get("data") or {}
        if name.startswith("c2pa.actions"):
            summary.actions.extend(_action(a) for a in data.get("actions") or [])
        elif name in ("c2pa.training-mining", "cawg.training-mining"):
            for kind, rule in (data.get("entries") or {}).items():
                summary.training_mining[kind] = str((rule or {}).get("use", ""))
        elif name == "stds.schema-org.CreativeWork":
            for author in data.get("author") or []:
                if isinstance(author, dict) and author.get("name"):
                    summary.authors.append(str(author["name"]))
    summary.ingredients = _ingredients(manifest, store, depth=0, seen={label})
    sources = [a.digital_source_type or "" for a in summary.actions]
    if any(s.endswith(AI_COMPOSITE) for s in sources):
        summary.ai_generation = "composite"
    elif any(s.endswith("/" + AI_GENERATED) or s == AI_GENERATED for s in sources):
        summary.ai_generation = "generated"
    return summary


IDENTITY_CONFIRMED = ("validated", "well-formed", "credential_valid")
"""Endings of CAWG success codes that confirm an identity assertion (CAWG identity 1.1 §7)."""


def _identities(manifest: dict[str, Any], results: dict[str, Any]) -> list[CreatorIdentity]:
    """The CAWG identity assertions of a manifest, each with what the validator said of it."""
    statuses = results.get("activeManifest") or {}
    out: list[CreatorIdentity] = []
    for assertion in manifest.get("assertions") or []:
        label = str(assertion.get("label", ""))
        if not label.startswith("cawg.identity"):
            continue
        data = assertion.get("data") or {}
        if not isinstance(data, dict):
            continue
        payload = data.get("signer_payload") or data.get("c2paAsset") or {}
        signer_info = data.get("signature_info") or {}
        identity = CreatorIdentity(
            assertion=label,
            signature_type=payload.get("sig_type") if isinstance(payload, dict) else None,
            signer=signer_info.get("common_name") or data.get("issuer"),
        )
        for raw in data.get("verifiedIdentities") or []:
            if not isinstance(raw, dict):
                continue
            provider = raw.get("provider") or {}
            identity.accounts.append(
                LinkedAccount(
                    kind=str(raw.get("type", "")).removeprefix("cawg."),
                    name=raw.get("name"),
                    username=raw.get("username"),
                    uri=raw.get("uri"),
                    provider=provider.get("name") if isinstance(provider, dict) else None,
                    verified_at=raw.get("verifiedAt"),
                )
            )
        confirmed = failed = False
        for kind in ("success", "failure", "informational"):
            for entry in statuses.get(kind) or []:
                if not str(entry.get("url", "")).endswith(f"/c2pa.assertions/{label}"):
                    continue
                code = str(entry.get("code", ""))
                if kind == "success":
                    confirmed = confirmed or code.endswith(IDENTITY_CONFIRMED)
                    continue
                identity.codes.append(code)
                failed = failed or (kind == "failure" and is_tampering_code(code))
        identity.status = "invalid" if failed else "validated" if confirmed else "not checked"
        out.append(identity)
    return out


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    if manifest.get("claim_generator"):
        return str(manifest["claim_generator"])
    info = manifest.get("claim_generator_info") or []
    parts = [f"{i.get('name', '')} {i.get('version', '')}".strip() for i in info if i]
    return ", ".join(p for p in parts if p) or None


def _action(raw: dict[str, Any]) -> Action:
    agent = raw.get("softwareAgent")
    if isinstance(agent, dict):
        agent = agent.get("name")
    parameters = raw.get("parameters") or {}
    return Action(
        action=str(raw.get("action", "")),
        digital_source_type=raw.get("digitalSourceType") or parameters.get("digitalSourceType"),
        software_agent=str(agent) if agent else None,
        when=raw.get("when"),
        description=raw.get("description") or parameters.get("description"),
    )


def _ingredients(
    manifest: dict[str, Any], store: dict[str, Any], depth: int, seen: set[str]
) -> list[Ingredient]:
    if depth >= MAX_INGREDIENT_DEPTH:
        return []
    out: list[Ingredient] = []
    for raw in manifest.get("ingredients") or []:
        child_label = raw.get("active_manifest")
        statuses = list(raw.get("validation_status") or [])
        results = (raw.get("validation_results") or {}).get("activeManifest") or {}
        statuses += list(results.get("failure") or [])
        details = {str(s.get("code", "")): str(s.get("explanation") or "") for s in statuses}
        failed = [c for c in details if c and is_tampering_code(c) and not _is_success(c)]
        ingredient = Ingredient(
            title=str(raw.get("title") or "untitled"),
            format=raw.get("format"),
            relationship=raw.get("relationship"),
            has_credentials=bool(child_label),
            failures=failed,
            failure_details={c: details[c] for c in failed if details[c]},
        )
        if child_label and child_label in store and child_label not in seen:
            ingredient.ingredients = _ingredients(
                store[child_label], store, depth + 1, seen | {child_label}
            )
        out.append(ingredient)
    return out


def _walk(ingredients: list[Ingredient]) -> list[Ingredient]:
    out: list[Ingredient] = []
    for ingredient in ingredients:
        out.append(ingredient)
        out.extend(_walk(ingredient.ingredients))
    return out
