"""GrantService: issue, list, show, revoke, import, export and check permission grants.

A thin translation layer: the decisions live in `permissions.GrantAuthority`, the records in
`daemon.store.grants.GrantRepository`. Authority calls write through to SQLite synchronously,
so they run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import grpc

from secondme.daemon.api.convert import to_timestamp
from secondme.daemon.api.errors import FailedPrecondition, InvalidArgument, grpc_errors, required
from secondme.daemon.store.grants import Direction, GrantRecord, GrantRepository
from secondme.permissions import (
    Action,
    Decision,
    Disclosure,
    Grant,
    GrantAuthority,
    GrantNotFound,
    Limits,
    decode_token,
    encode_token,
    grant_id_from_hex,
)
from secondme.permissions.codec import DISCLOSURE_TO_PROTO, PROTO_TO_DISCLOSURE, PROTO_TO_SCOPE, SCOPE_TO_PROTO
from secondme.v1 import grant_pb2, grant_pb2_grpc

_DIRECTIONS: dict[int, Direction | None] = {
    grant_pb2.GRANT_DIRECTION_UNSPECIFIED: None,
    grant_pb2.GRANT_DIRECTION_ISSUED: "issued",
    grant_pb2.GRANT_DIRECTION_RECEIVED: "received",
}
_DIRECTION_PB = {"issued": grant_pb2.GRANT_DIRECTION_ISSUED, "received": grant_pb2.GRANT_DIRECTION_RECEIVED}

_GRANTS = "`secondmectl grant list` shows them"


def grant_state(grant: Grant, revoked: bool, now: datetime) -> int:
    if revoked:
        return grant_pb2.GRANT_STATE_REVOKED
    if now < grant.not_before:
        return grant_pb2.GRANT_STATE_NOT_YET_VALID
    if now >= grant.expires:
        return grant_pb2.GRANT_STATE_EXPIRED
    return grant_pb2.GRANT_STATE_ACTIVE


def grant_to_pb(
    grant: Grant,
    *,
    direction: Direction | None = None,
    revoked_at: datetime | None = None,
    recorded_at: datetime | None = None,
    revoked: bool = False,
) -> grant_pb2.Grant:
    return grant_pb2.Grant(
        id=grant.id_hex,
        direction=_DIRECTION_PB[direction] if direction else grant_pb2.GRANT_DIRECTION_UNSPECIFIED,
        issuer=grant.issuer,
        audience=grant.audience,
        scopes=sorted(SCOPE_TO_PROTO[s] for s in grant.scopes),
        limits=grant_pb2.GrantLimits(
            max_turns_per_session=grant.limits.max_turns_per_session or 0,
            max_sessions_per_day=grant.limits.max_sessions_per_day or 0,
            max_concurrent_sessions=grant.limits.max_concurrent_sessions or 0,
        ),
        disclosure=DISCLOSURE_TO_PROTO[grant.disclosure],  # type: ignore[arg-type]
        not_before=to_timestamp(grant.not_before),
        expires=to_timestamp(grant.expires),
        note=grant.note,
        state=grant_state(grant, revoked or revoked_at is not None, datetime.now(UTC)),  # type: ignore[arg-type]
        revoked_at=to_timestamp(revoked_at),
        recorded_at=to_timestamp(recorded_at),
    )


def record_to_pb(record: GrantRecord) -> grant_pb2.Grant:
    return grant_to_pb(
        record.grant, direction=record.direction, revoked_at=record.revoked_at, recorded_at=record.recorded_at
    )


def _scopes(values: list[int], field: str) -> list[Action]:
    scopes = []
    for value in values:
        if value not in PROTO_TO_SCOPE:
            raise InvalidArgument(f"{field}: unknown scope {value}; use card, roleplay, icebreak or brainstorm")
        scopes.append(PROTO_TO_SCOPE[value])
    return scopes


def _limits(pb: grant_pb2.GrantLimits) -> Limits:
    return Limits(
        max_turns_per_session=pb.max_turns_per_session or None,
        max_sessions_per_day=pb.max_sessions_per_day or None,
        max_concurrent_sessions=pb.max_concurrent_sessions or None,
    )


class GrantServicer(grant_pb2_grpc.GrantServiceServicer):
    def __init__(self, authority: GrantAuthority, repo: GrantRepository) -> None:
        self._authority = authority
        self._repo = repo

    @grpc_errors
    async def IssueGrant(
        self, request: grant_pb2.IssueGrantRequest, context: grpc.aio.ServicerContext
    ) -> grant_pb2.IssueGrantResponse:
        if not request.audience:
            raise InvalidArgument("audience: give the peer ID of the self this grant is for")
        scopes = _scopes(list(request.scopes), "scopes")
        if not scopes:
            raise InvalidArgument("scopes: give at least one of card, roleplay, icebreak, brainstorm")
        if not request.HasField("expires"):
            raise InvalidArgument("expires: every grant needs an expiry (e.g. --expires 30d)")
        if request.disclosure == grant_pb2.DISCLOSURE_LEVEL_UNSPECIFIED:
            disclosure = Disclosure.PUBLIC_CARD  # the least, unless the owner says otherwise
        elif request.disclosure in PROTO_TO_DISCLOSURE:
            disclosure = PROTO_TO_DISCLOSURE[request.disclosure]
        else:
            raise InvalidArgument(f"disclosure: unknown level {request.disclosure}")
        issued = await asyncio.to_thread(
            self._authority.issue,
            request.audience,
            scopes,
            expires=request.expires.ToDatetime(tzinfo=UTC),
            not_before=request.not_before.ToDatetime(tzinfo=UTC) if request.HasField("not_before") else None,
            limits=_limits(request.limits),
            disclosure=disclosure,
            note=request.note,
        )
        record = await self._repo.find(issued.grant.id)
        grant = record_to_pb(record) if record else grant_to_pb(issued.grant, direction="issued")
        return grant_pb2.IssueGrantResponse(grant=grant, token=issued.token)

    @grpc_errors
    async def ListGrants(
        self, request: grant_pb2.ListGrantsRequest, context: grpc.aio.ServicerContext
    ) -> grant_pb2.ListGrantsResponse:
        if request.direction not in _DIRECTIONS:
            raise InvalidArgument(f"direction: unknown value {request.direction}")
        records = await self._repo.list(_DIRECTIONS[request.direction])
        return grant_pb2.ListGrantsResponse(grants=[record_to_pb(r) for r in records])

    @grpc_errors
    async def GetGrant(
        self, request: grant_pb2.GetGrantRequest, context: grpc.aio.ServicerContext
    ) -> grant_pb2.GetGrantResponse:
        return grant_pb2.GetGrantResponse(grant=record_to_pb(await self._repo.get(required(request.id, "id", _GRANTS))))

    @grpc_errors
    async def RevokeGrant(
        self, request: grant_pb2.RevokeGrantRequest, context: grpc.aio.ServicerContext
    ) -> grant_pb2.RevokeGrantResponse:
        try:
            record: GrantRecord | None = await self._repo.get(required(request.id, "id", _GRANTS))
        except GrantNotFound:  # a well-formed id this node has no record of
            record = None
        if record is not None:
            if record.direction == "received":
                raise FailedPrecondition(
                    f"grant {record.grant.id_hex} was given to this node by {record.grant.issuer}; "
                    "only its issuer can revoke it"
                )
            grant_id = record.grant.id
        else:
            # Not on record (e.g. issued before a restore from backup): revoke by the full id anyway.
            try:
                grant_id = grant_id_from_hex(request.id)
            except InvalidArgument as exc:
                raise GrantNotFound(
                    f"no grant with id {request.id!r} on record; to revoke a grant this node has no record of, "
                    f"give its full id: {exc}"
                ) from exc
        newly = await asyncio.to_thread(self._authority.revoke, grant_id)
        after = await self._repo.find(grant_id)
        return grant_pb2.RevokeGrantResponse(
            id=grant_id.hex(), newly_revoked=newly, grant=record_to_pb(after) if after else None
        )

    @grpc_errors
    async def ImportGrant(
        self, request: grant_pb2.ImportGrantRequest, context: grpc.aio.ServicerContext
    ) -> grant_pb2.ImportGrantResponse:
        if not request.token:
            raise InvalidArgument("token: paste the smg1_... token the other self's owner gave you")
        envelope = decode_token(request.token)
        grant = self._authority.verify(envelope)  # pure CPU, well under a millisecond
        me = self._authority.peer_id
        if grant.audience == me:
            direction: Direction = "received"
        elif grant.issuer == me:
            direction = "issued"  # our own grant coming back, e.g. after restoring an old backup
        else:
            raise InvalidArgument(
                f"grant {grant.id_hex} was issued by {grant.issuer} to {grant.audience}; it is not for this node ({me})"
            )
        record, already = await self._repo.add(grant, direction, envelope)
        return grant_pb2.ImportGrantResponse(grant=record_to_pb(record), already_present=already)

    @grpc_errors
    async def ExportGrant(
        self, request: grant_pb2.ExportGrantRequest, context: grpc.aio.ServicerContext
    ) -> grant_pb2.ExportGrantResponse:
        record = await self._repo.get(required(request.id, "id", _GRANTS))
        return grant_pb2.ExportGrantResponse(token=encode_token(record.envelope))

    @grpc_errors
    async def CheckGrant(
        self, request: grant_pb2.CheckGrantRequest, context: grpc.aio.ServicerContext
    ) -> grant_pb2.CheckGrantResponse:
        if not request.peer:
            raise InvalidArgument("peer: give the peer ID that would present the grant")
        (action,) = _scopes([request.action], "action") if request.action else (None,)
        if action is None:
            raise InvalidArgument("action: give one of card, roleplay, icebreak, brainstorm")
        decision: Decision = self._authority.authorize(request.peer, action, request.token)
        return grant_pb2.CheckGrantResponse(
            allowed=decision.allowed,
            reason=str(decision.reason or ""),
            message=decision.message,
            grant=grant_to_pb(decision.grant, revoked=self._authority.is_revoked(decision.grant.id))
            if decision.grant
            else None,
        )
