"""Response models of the /v1 API: every 2xx answer is typed in the OpenAPI document, so a
client can be generated from it. Times are ISO 8601 with their UTC offset."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from unmask.bank.matching import Match
from unmask.bank.store import AuditInfo, BankInfo, EntryInfo
from unmask.hashing import FileHashes


class BankOut(BaseModel):
    name: str = Field(examples=["ncii"])
    description: str
    enabled: bool = Field(description="A disabled bank never matches")
    created_at: datetime
    entries: int

    @classmethod
    def of(cls, bank: BankInfo) -> BankOut:
        return cls(**bank.to_dict())  # type: ignore[arg-type]


class EntryOut(BaseModel):
    """A banked hash as its bank's writers see it (match keys never see entries)."""

    id: int
    bank: str
    signal_type: str = Field(examples=["pdq"])
    value: str = Field(description="The hash, in ThreatExchange's encoding")
    quality: int | None = Field(description="PDQ quality 0-100; null for other signal types")
    labels: list[str]
    source: str = Field(description="Where it came from, only if the writer said")
    added_at: datetime
    added_by: str = Field(description="Who added it, only if the writer said")
    enabled: bool

    @classmethod
    def of(cls, entry: EntryInfo) -> EntryOut:
        data = entry.to_dict()
        return cls(**data)  # type: ignore[arg-type]


class AddedOut(BaseModel):
    ids: list[int] = Field(description="The new entries' ids; on disk when this answers")


class EntryStateOut(BaseModel):
    id: int
    enabled: bool


class MatchOut(BaseModel):
    """What a match key may see of a match: the bank, the entry's id and labels, how close."""

    bank: str
    entry_id: int
    signal_type: str = Field(examples=["pdq"])
    distance: int = Field(
        description="PDQ: bits of 256 that differ (a match is <= 31); exact hashes: 0; vPDQ: "
        "100 minus the share of this video's frames that match (0 = every frame)"
    )
    labels: list[str]
    meaning: str = Field(
        description="What the match means, in words for a reviewer",
        examples=["visually near-identical picture (12 of 256 bits differ)"],
    )
    caution: str = Field(description="What the match does not prove, for a reviewer")
    via_window: bool | None = Field(
        default=None, description="PDQ: only a crop window matched (a cropped copy)"
    )
    transform: str | None = Field(
        default=None,
        description="PDQ: the looked-up picture is this transform of the banked one",
        examples=["mirrored left to right"],
    )
    query_match_percent: float | None = Field(
        default=None, description="vPDQ: share of the looked-up video's frames that match"
    )
    compared_match_percent: float | None = Field(
        default=None, description="vPDQ: share of the banked video's frames that match"
    )

    @classmethod
    def of(cls, match: Match) -> MatchOut:
        data = match.to_dict()
        data.pop("source", None)
        data.pop("added_at", None)
        return cls(**data)  # type: ignore[arg-type]


class LookupOut(BaseModel):
    matches: list[MatchOut]
    low_quality: bool = Field(
        description="The picture is too plain for PDQ (quality < 50): only exact copies can match"
    )


class HashesOut(BaseModel):
    path: str = Field(description="The uploaded file's name (the file itself is not kept)")
    kind: str = Field(examples=["image"], description="image or video")
    sha256: str
    md5: str
    pdq: str | None = None
    pdq_quality: int | None = None
    vpdq: list[str] | None = Field(
        default=None, description='vPDQ frames, each "pdq_hex,quality,seconds"'
    )
    signals: dict[str, str] = Field(
        description="Every hash under its ThreatExchange signal-type name, encoded as "
        "ThreatExchange encodes it (vpdq as a JSON string)",
        examples=[{"pdq": "e64cc9d9...", "photo_md5": "0d12d446...", "photo_sha256": "9f86d0..."}],
    )

    @classmethod
    def of(cls, hashes: FileHashes) -> HashesOut:
        return cls(**hashes.to_dict())  # type: ignore[arg-type]


class IndexOut(BaseModel):
    pdq_hashes: int = Field(description="PDQ hashes in the index, crop windows included")
    pdq_pending: int = Field(description="... of which not yet folded into the main index")
    vpdq_videos: int
    exact_hashes: int
    last_entry_id: int = Field(description="The newest entry the index holds")
    multi_index: bool
    radius: int = Field(description="Largest PDQ distance that counts as a match")
    refreshed_at: datetime | None = Field(description="When it last loaded new entries")


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description="An API key's name (key:NAME) or a local user (local:USER)")
    action: str = Field(examples=["add_entries"])
    bank: str | None
    detail: dict[str, object]

    @classmethod
    def of(cls, event: AuditInfo) -> AuditOut:
        return cls(**event.to_dict())  # type: ignore[arg-type]
