"""Permission grants: issued to other selves, received from them, checked, revoked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from secondme.daemon.client.convert import enum_number, from_message, timestamp
from secondme.daemon.client.stubs import Stubs
from secondme.v1 import grant_pb2


@dataclass
class GrantLimits:
    # 0: no limit.
    max_turns_per_session: int
    max_sessions_per_day: int
    max_concurrent_sessions: int


@dataclass
class Grant:
    id: str
    # issued | received
    direction: str
    issuer: str
    audience: str
    # card | roleplay | icebreak | brainstorm
    scopes: list[str]
    limits: GrantLimits | None
    # public-card | public-shades | all-but-private
    disclosure: str
    not_before: datetime | None
    expires: datetime | None
    note: str
    # active | not-yet-valid | expired | revoked
    state: str
    revoked_at: datetime | None
    recorded_at: datetime | None

    @property
    def peer(self) -> str:
        """The other self: the audience of a grant issued here, the issuer of one received."""
        return self.audience if self.direction == "issued" else self.issuer


@dataclass
class IssuedGrant:
    grant: Grant
    # smg1_...: what the other self's owner imports.
    token: str


@dataclass
class ImportedGrant:
    grant: Grant
    already_present: bool


@dataclass
class Revocation:
    id: str
    newly_revoked: bool
    # None when this node has no record of the grant (the revocation holds anyway).
    grant: Grant | None


@dataclass
class GrantCheck:
    allowed: bool
    reason: str
    message: str
    grant: Grant | None


class GrantCalls:
    def __init__(self, wire: Stubs) -> None:
        self._wire = wire

    def issue(
        self,
        audience: str,
        scopes: Sequence[str],
        expires: datetime,
        *,
        not_before: datetime | None = None,
        disclosure: str = "",
        max_turns_per_session: int = 0,
        max_sessions_per_day: int = 0,
        max_concurrent_sessions: int = 0,
        note: str = "",
    ) -> IssuedGrant:
        request = grant_pb2.IssueGrantRequest(
            audience=audience,
            scopes=[enum_number(grant_pb2.GrantScope.DESCRIPTOR, s, "scopes") for s in scopes],
            limits=grant_pb2.GrantLimits(
                max_turns_per_session=max_turns_per_session,
                max_sessions_per_day=max_sessions_per_day,
                max_concurrent_sessions=max_concurrent_sessions,
            ),
            disclosure=enum_number(grant_pb2.DisclosureLevel.DESCRIPTOR, disclosure, "disclosure"),
            expires=timestamp(expires),
            note=note,
        )
        if not_before is not None:
            request.not_before.CopyFrom(timestamp(not_before))
        return from_message(IssuedGrant, self._wire.call(self._wire.grants.IssueGrant, request))

    def list(self, direction: str = "") -> list[Grant]:
        """Grants issued and received; only one direction (issued | received) if given."""
        number = enum_number(grant_pb2.GrantDirection.DESCRIPTOR, direction, "direction")
        response = self._wire.call(self._wire.grants.ListGrants, grant_pb2.ListGrantsRequest(direction=number))
        return [from_message(Grant, g) for g in response.grants]

    def get(self, grant_id: str) -> Grant:
        """By id or a unique prefix of 6+ hex digits."""
        request = grant_pb2.GetGrantRequest(id=grant_id)
        return from_message(Grant, self._wire.call(self._wire.grants.GetGrant, request).grant)

    def revoke(self, grant_id: str) -> Revocation:
        request = grant_pb2.RevokeGrantRequest(id=grant_id)
        return from_message(Revocation, self._wire.call(self._wire.grants.RevokeGrant, request))

    def import_token(self, token: str) -> ImportedGrant:
        request = grant_pb2.ImportGrantRequest(token=token)
        return from_message(ImportedGrant, self._wire.call(self._wire.grants.ImportGrant, request))

    def export_token(self, grant_id: str) -> str:
        return self._wire.call(self._wire.grants.ExportGrant, grant_pb2.ExportGrantRequest(id=grant_id)).token

    def check(self, token: str, peer: str, action: str) -> GrantCheck:
        """Would `peer` presenting `token` be allowed `action` now? Changes nothing."""
        request = grant_pb2.CheckGrantRequest(
            token=token, peer=peer, action=enum_number(grant_pb2.GrantScope.DESCRIPTOR, action, "action")
        )
        return from_message(GrantCheck, self._wire.call(self._wire.grants.CheckGrant, request))
