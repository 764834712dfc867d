"""The owner's identity as the self holds it: biographies, shades and their versions, and the owner's say."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from secondme.daemon.client.convert import enum_number, from_message
from secondme.daemon.client.jobs import Job
from secondme.daemon.client.stubs import Stubs
from secondme.errors import Kind, SecondmeError
from secondme.v1 import identity_pb2

# The fields of a shade's text, as `update_shade` takes them.
SHADE_TEXT_FIELDS = (
    "name", "aspect", "icon", "description_third", "description_second", "content_third", "content_second",
)  # fmt: skip


@dataclass
class GroundedSentence:
    # Which text field the sentence belongs to (text_third, description_third, ...).
    field: str
    text: str
    memory_ids: list[str]


@dataclass
class Biography:
    id: int
    # global | status
    kind: str
    # pipeline | owner
    author: str
    text_third: str
    text_second: str
    shade_ids: list[int]
    memory_ids: list[str]
    model: str
    created_at: datetime | None
    sentences: list[GroundedSentence]
    mode: str


@dataclass
class ShadeText:
    name: str
    aspect: str
    icon: str
    description_third: str
    description_second: str
    content_third: str
    content_second: str


@dataclass
class TimelineEntry:
    memory_id: str
    date: str
    title: str


@dataclass
class ShadeVersion:
    version: int
    author: str
    text: ShadeText | None
    # low | medium | high
    confidence: str
    member_count: int
    timeline: list[TimelineEntry]
    model: str
    created_at: datetime | None
    sentences: list[GroundedSentence]
    mode: str


@dataclass
class Shade:
    id: int
    # active | merged | retired
    state: str
    # public | unmarked | private
    privacy: str
    owner_edited: bool
    pending: bool
    member_count: int
    latest: ShadeVersion | None
    merged_into: int
    created_at: datetime | None
    updated_at: datetime | None

    @property
    def name(self) -> str:
        text = self.latest.text if self.latest else None
        name = text.name if text and text.name else "(not described yet)"
        return f"{text.icon} {name}" if text and text.icon else name


@dataclass
class ShadeMember:
    memory_id: str
    title: str
    created_at: datetime | None
    pinned: bool


@dataclass
class ShadeList:
    shades: list[Shade]
    unclustered_memory_count: int
    pending_insight_count: int
    failed_insight_count: int


@dataclass
class ShadeDetail:
    shade: Shade
    members: list[ShadeMember]


@dataclass
class ShadeChange:
    """A shade after the owner's change, and the identity update it queued (None when none was needed)."""

    shade: Shade
    job: Job | None


@dataclass
class ShadeSplit:
    original: Shade
    created: Shade
    job: Job | None


class IdentityCalls:
    def __init__(self, wire: Stubs) -> None:
        self._wire = wire

    def biography(self, kind: str = "global") -> Biography | None:
        """The newest biography of that kind (global | status); None until one is written."""
        request = identity_pb2.GetBiographyRequest(
            kind=enum_number(identity_pb2.BiographyKind.DESCRIPTOR, kind, "kind")
        )
        try:
            return from_message(Biography, self._wire.call(self._wire.identity.GetBiography, request).biography)
        except SecondmeError as exc:
            if exc.kind is Kind.NOT_FOUND:
                return None
            raise

    def biographies(self, kind: str = "global") -> list[Biography]:
        """Every version of that biography, newest first."""
        kind_number = enum_number(identity_pb2.BiographyKind.DESCRIPTOR, kind, "kind")
        request = identity_pb2.ListBiographiesRequest(kind=kind_number)
        response = self._wire.call(self._wire.identity.ListBiographies, request)
        return [from_message(Biography, b) for b in response.biographies]

    def shades(self, include_inactive: bool = False) -> ShadeList:
        request = identity_pb2.ListShadesRequest(include_inactive=include_inactive)
        return from_message(ShadeList, self._wire.call(self._wire.identity.ListShades, request))

    def shade(self, shade_id: int, members: bool = False) -> ShadeDetail:
        request = identity_pb2.GetShadeRequest(shade_id=shade_id, include_members=members)
        return from_message(ShadeDetail, self._wire.call(self._wire.identity.GetShade, request))

    def versions(self, shade_id: int) -> list[ShadeVersion]:
        request = identity_pb2.ListShadeVersionsRequest(shade_id=shade_id)
        response = self._wire.call(self._wire.identity.ListShadeVersions, request)
        return [from_message(ShadeVersion, v) for v in response.versions]

    def update_shade(
        self, shade_id: int, *, privacy: str = "", text: dict[str, str] | None = None, regenerate: bool = False
    ) -> ShadeChange:
        """Mark a shade (public | unmarked | private), write its text (`SHADE_TEXT_FIELDS`) or hand it back."""
        request = identity_pb2.UpdateShadeRequest(
            shade_id=shade_id,
            privacy=enum_number(identity_pb2.ShadePrivacy.DESCRIPTOR, privacy, "privacy"),
            regenerate=regenerate,
            **(text or {}),
        )
        return from_message(ShadeChange, self._wire.call(self._wire.identity.UpdateShade, request))

    def merge(self, into: int, shade_ids: Sequence[int]) -> ShadeChange:
        request = identity_pb2.MergeShadesRequest(target_shade_id=into, source_shade_ids=list(shade_ids))
        return from_message(ShadeChange, self._wire.call(self._wire.identity.MergeShades, request))

    def split(self, shade_id: int, memory_ids: Sequence[str] = ()) -> ShadeSplit:
        """Move those members (or, with none given, the half the embeddings set apart) into a new shade."""
        request = identity_pb2.SplitShadeRequest(shade_id=shade_id, memory_ids=list(memory_ids))
        return from_message(ShadeSplit, self._wire.call(self._wire.identity.SplitShade, request))

    def refresh(self, retry_failed: bool = False) -> Job:
        """Queue an identity update now (or return the one already waiting)."""
        request = identity_pb2.RefreshIdentityRequest(retry_failed=retry_failed)
        return from_message(Job, self._wire.call(self._wire.identity.RefreshIdentity, request).job)
