"""Read and validate C2PA Content Credentials with c2pa-python, and summarise them.

c2pa-python (the C2PA reference implementation, c2pa-rs) does the cryptography and the hash
checks; this module turns its report into one of four states (see `explain`), lists the checks
that failed in plain words, and summarises the manifest store for people: who signed, when,
what was done (actions, including the IPTC digital source type that says "made by AI"), and
which files it was made from (the ingredient tree).

No network: remote manifests, OCSP and identity look-ups are switched off, and every host is
disallowed, so reading a file never contacts anyone.
"""

from __future__ import annotations

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
    STATE_EXPLANATIONS,
    STATE_TITLES,
    State,
    explain_code,
    is_tampering_code,
)

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
    ingredients: list[Ingredient] = field(default_factory=list)


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
    remote_url: str | None = None
    validator: str = f"c2pa-python {c2pa.__version__ if hasattr(c2pa, '__version__') else ''}"

    @property
    def headline(self) -> str:
        """One sentence: the state and its most important reason."""
        if self.state == "invalid" and self.failures:
            first = self.failures[0]
            where = "" if first.where == "this file" else f" (in {first.where})"
            return f"{self.title}: {first.meaning}{where} [{first.code}]."
        if self.state in ("valid_untrusted", "trusted") and self.active_manifest:
            return f"{self.title} (signed by {self.active_manifest.signer or 'an unnamed signer'})."
        return f"{self.title}."

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["headline"] = self.headline
        return data


def read_credentials(
    source: str | Path | bytes, mime: str | None = None, trust_pem: str | None = None
) -> CredentialsReport:
    """Validate the Content Credentials of a file (a path, or bytes with their MIME type).

    Raises `CredentialsError` for a file c2pa cannot parse at all, or whose container framing
    is out of all proportion (see `unmask.media.guards`); a file without credentials is not an
    error (state "none").
    """
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
    settings = json.loads(json.dumps(_OFFLINE_SETTINGS))
    settings["verify"]["verify_trust"] = trust_pem is not None
    if trust_pem is not None:
        settings["trust"] = {"trust_anchors": trust_pem}
    context = c2pa.Context.from_dict(settings)
    try:
        if isinstance(source, bytes):
            if mime is None:
                raise ValueError("reading credentials from bytes needs the MIME type")
            reader = c2pa.Reader(mime, io.BytesIO(source), context=context)
        else:
            reader = c2pa.Reader(str(source), context=context)
    except c2pa.C2paError as exc:
        return _report_from_error(exc, trust_pem is not None)
    with reader:
        store = json.loads(reader.json())
        sdk_state = reader.get_validation_state()
        results = reader.get_validation_results() or {}
    return _report_from_store(store, sdk_state, results, trust_pem is not None)


def extract_thumbnail(path: str | Path, identifier: str) -> bytes:
    """The bytes of an embedded thumbnail (as named in `ManifestSummary.thumbnail`)."""
    context = c2pa.Context.from_dict(_OFFLINE_SETTINGS)
    with c2pa.Reader(str(path), context=context) as reader:
        out = io.BytesIO()
        reader.resource_to_stream(identifier, out)
        return out.getvalue()


def _report_from_error(exc: Exception, trust_used: bool) -> CredentialsReport:
    message = str(exc)
    lowered = message.lower()
    if "manifestnotfound" in lowered or "no jumbf data found" in lowered:
        return _report("none", trust_used)
    if lowered.startswith("remote") or "remote manifest" in lowered:
        found = re.search(r"https?://\S+", message)
        report = _report("none", trust_used)
        report.remote_url = found.group(0) if found else None
        report.explanation = (
            "The file carries no Content Credentials of its own but points to some stored "
            "online. unmask never goes online, so they were not checked; the origin stays "
            "unknown."
        )
        return report
    code = None
    if "unknown algorithm" in lowered or "unsupported algorithm" in lowered:
        code = "algorithm.unsupported"
    elif "prerelease" in lowered:
        code = "status.prerelease"
    elif "invalid jumbf" in lowered or "jumbf" in lowered:
        code = "manifest.malformed"
    if code is not None:
        report = _report("invalid", trust_used)
        meaning = (
            "the credentials are malformed and cannot be read"
            if code == "manifest.malformed"
            else explain_code(code)
        )
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


def _report(state: State, trust_used: bool) -> CredentialsReport:
    return CredentialsReport(
        state=state,
        title=STATE_TITLES[state],
        explanation=STATE_EXPLANATIONS[state],
        trust_list_used=trust_used,
    )


def _report_from_store(
    store: dict[str, Any], sdk_state: str, results: dict[str, Any], trust_used: bool
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
                _add_failure(failures, {"code": code}, f"ingredient '{ingredient.title}'")

    if failures or (sdk_state == "Invalid" and not unchecked):
        state: State = "invalid"
    elif sdk_state == "Trusted":
        state = "trusted"
    else:
        state = "valid_untrusted"
    report = _report(state, trust_used)
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
        codes = [str(s.get("code", "")) for s in raw.get("validation_status") or []]
        results = (raw.get("validation_results") or {}).get("activeManifest") or {}
        codes += [str(s.get("code", "")) for s in results.get("failure") or []]
        ingredient = Ingredient(
            title=str(raw.get("title") or "untitled"),
            format=raw.get("format"),
            relationship=raw.get("relationship"),
            has_credentials=bool(child_label),
            failures=[c for c in codes if c and is_tampering_code(c) and not _is_success(c)],
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
