"""IdentityService: the biographies and shades, their history, and the owner's choices over them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import grpc
import numpy as np

from secondme.daemon.api.convert import job_to_pb, next_page_token, page_window, to_timestamp
from secondme.daemon.api.errors import InvalidArgument, grpc_errors, required
from secondme.daemon.store.identity import (
    BiographyRecord,
    IdentityConflict,
    IdentityRepository,
    ShadeRecord,
    TextEdit,
    VersionRecord,
)
from secondme.daemon.store.jobs import JobRecord
from secondme.pipeline.embeddings import DEFAULT_MODEL, from_blob
from secondme.pipeline.identity.shades import SHADE_TEXT_FIELDS
from secondme.v1 import identity_pb2, identity_pb2_grpc, jobs_pb2

_SHADES = "`secondmectl identity shades` lists them"
_KINDS = {identity_pb2.BIOGRAPHY_KIND_GLOBAL: "global", identity_pb2.BIOGRAPHY_KIND_STATUS: "status"}
_KINDS_BACK = {v: k for k, v in _KINDS.items()}
_AUTHORS = {"pipeline": identity_pb2.AUTHOR_PIPELINE, "owner": identity_pb2.AUTHOR_OWNER}
_PRIVACY = {
    "public": identity_pb2.SHADE_PRIVACY_PUBLIC,
    "unmarked": identity_pb2.SHADE_PRIVACY_UNMARKED,
    "private": identity_pb2.SHADE_PRIVACY_PRIVATE,
}
_PRIVACY_BACK = {v: k for k, v in _PRIVACY.items()}
_STATES = {
    "active": identity_pb2.SHADE_STATE_ACTIVE,
    "merged": identity_pb2.SHADE_STATE_MERGED,
    "retired": identity_pb2.SHADE_STATE_RETIRED,
}
_CONFIDENCE = {
    "low": identity_pb2.CONFIDENCE_LOW,
    "medium": identity_pb2.CONFIDENCE_MEDIUM,
    "high": identity_pb2.CONFIDENCE_HIGH,
}

# Queues an identity update (or returns the one already waiting). Its argument says the owner asked
# for it; otherwise it follows a change and returns None when `identity.auto_update` is off.
RefreshIdentity = Callable[[bool], Awaitable[JobRecord | None]]


def _kind(value: int) -> str:
    if value == identity_pb2.BIOGRAPHY_KIND_UNSPECIFIED:
        return "global"
    try:
        return _KINDS[value]
    except KeyError:
        raise InvalidArgument(f"unknown biography kind {value}") from None


def biography_to_pb(record: BiographyRecord) -> identity_pb2.Biography:
    message = identity_pb2.Biography(
        id=record.id,
        kind=_KINDS_BACK[record.kind],
        author=_AUTHORS.get(record.author, identity_pb2.AUTHOR_UNSPECIFIED),
        text_third=record.text_third,
        text_second=record.text_second,
        model=record.model,
        created_at=to_timestamp(record.created_at),
        sentences=[_sentence(s) for s in record.sentences],
        mode=record.mode,
    )
    if record.kind == "global":
        message.shade_ids.extend(int(source[0]) for source in record.sources)
    else:
        message.memory_ids.extend(str(source) for source in record.sources)
    return message


def version_to_pb(record: VersionRecord) -> identity_pb2.ShadeVersion:
    return identity_pb2.ShadeVersion(
        version=record.version,
        author=_AUTHORS.get(record.author, identity_pb2.AUTHOR_UNSPECIFIED),
        text=identity_pb2.ShadeText(**{f: getattr(record.text, f) for f in SHADE_TEXT_FIELDS}),
        confidence=_CONFIDENCE.get(record.confidence, identity_pb2.CONFIDENCE_UNSPECIFIED),
        member_count=record.member_count,
        timeline=[identity_pb2.TimelineEntry(**entry) for entry in record.timeline],
        model=record.model,
        created_at=to_timestamp(record.created_at),
        sentences=[_sentence(s) for s in record.sentences],
        mode=record.mode,
    )


def _sentence(value: dict) -> identity_pb2.GroundedSentence:
    return identity_pb2.GroundedSentence(
        field=str(value.get("field", "")), text=str(value.get("text", "")), memory_ids=list(value.get("memory_ids", []))
    )


def shade_to_pb(record: ShadeRecord) -> identity_pb2.Shade:
    return identity_pb2.Shade(
        id=record.id,
        state=_STATES.get(record.state, identity_pb2.SHADE_STATE_UNSPECIFIED),
        privacy=_PRIVACY.get(record.privacy, identity_pb2.SHADE_PRIVACY_UNSPECIFIED),
        owner_edited=record.owner_edited,
        pending=record.dirty,
        member_count=record.member_count,
        latest=version_to_pb(record.latest) if record.latest else None,
        merged_into=record.merged_into or 0,
        created_at=to_timestamp(record.created_at),
        updated_at=to_timestamp(record.updated_at),
    )


def _split_halves(vectors: list[bytes], dimension: int) -> np.ndarray:
    from secondme.pipeline.identity.clustering import split_in_two

    return split_in_two(np.stack([from_blob(v, dimension) for v in vectors]))


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(self, repo: IdentityRepository, refresh: RefreshIdentity) -> None:
        self._repo = repo
        self._refresh = refresh

    async def _job(self, asked: bool = False) -> jobs_pb2.Job | None:
        record = await self._refresh(asked)
        return job_to_pb(record) if record else None

    @grpc_errors
    async def GetBiography(self, request: identity_pb2.GetBiographyRequest, context: grpc.aio.ServicerContext):
        record = await self._repo.biography(_kind(request.kind), request.id)
        return identity_pb2.GetBiographyResponse(biography=biography_to_pb(record))

    @grpc_errors
    async def ListBiographies(self, request: identity_pb2.ListBiographiesRequest, context: grpc.aio.ServicerContext):
        limit, offset = page_window(request.page_size, request.page_token)
        records = await self._repo.biographies(_kind(request.kind), limit, offset)
        return identity_pb2.ListBiographiesResponse(
            biographies=[biography_to_pb(r) for r in records],
            next_page_token=next_page_token(offset, len(records), limit),
        )

    @grpc_errors
    async def ListShades(self, request: identity_pb2.ListShadesRequest, context: grpc.aio.ServicerContext):
        shades = await self._repo.shades(request.include_inactive)
        counts = await self._repo.counts()
        return identity_pb2.ListShadesResponse(
            shades=[shade_to_pb(s) for s in shades],
            unclustered_memory_count=counts.unclustered,
            pending_insight_count=counts.pending_insights,
            failed_insight_count=counts.failed_insights,
        )

    @grpc_errors
    async def GetShade(self, request: identity_pb2.GetShadeRequest, context: grpc.aio.ServicerContext):
        shade_id = required(request.shade_id, "shade_id", _SHADES)
        response = identity_pb2.GetShadeResponse(shade=shade_to_pb(await self._repo.shade(shade_id)))
        if request.include_members:
            response.members.extend(
                identity_pb2.ShadeMember(
                    memory_id=m.memory_id, title=m.title, created_at=to_timestamp(m.created_at), pinned=m.pinned
                )
                for m in await self._repo.members(shade_id)
            )
        return response

    @grpc_errors
    async def ListShadeVersions(
        self, request: identity_pb2.ListShadeVersionsRequest, context: grpc.aio.ServicerContext
    ):
        versions = await self._repo.versions(required(request.shade_id, "shade_id", _SHADES))
        return identity_pb2.ListShadeVersionsResponse(versions=[version_to_pb(v) for v in versions])

    @grpc_errors
    async def UpdateShade(self, request: identity_pb2.UpdateShadeRequest, context: grpc.aio.ServicerContext):
        required(request.shade_id, "shade_id", _SHADES)
        edit = TextEdit({f: getattr(request, f).strip() for f in SHADE_TEXT_FIELDS if request.HasField(f)})  # type: ignore[arg-type]
        if edit.values and request.regenerate:
            raise InvalidArgument("give either new text or regenerate, not both")
        if request.privacy and request.privacy not in _PRIVACY_BACK:
            raise InvalidArgument(f"privacy: unknown value {request.privacy}")
        if not (edit.values or request.regenerate or request.privacy):
            raise InvalidArgument("privacy, a text field or regenerate is required: nothing to change")
        changed = await self._repo.update_shade(
            request.shade_id,
            privacy=_PRIVACY_BACK[request.privacy] if request.privacy else None,
            edit=edit,
            regenerate=request.regenerate,
        )
        job = await self._job() if changed else None
        return identity_pb2.UpdateShadeResponse(shade=shade_to_pb(await self._repo.shade(request.shade_id)), job=job)

    @grpc_errors
    async def MergeShades(self, request: identity_pb2.MergeShadesRequest, context: grpc.aio.ServicerContext):
        required(request.target_shade_id, "target_shade_id", _SHADES)
        required(list(request.source_shade_ids), "source_shade_ids", "name at least one shade to merge into the target")
        await self._repo.merge(request.target_shade_id, list(request.source_shade_ids))
        return identity_pb2.MergeShadesResponse(
            shade=shade_to_pb(await self._repo.shade(request.target_shade_id)), job=await self._job()
        )

    @grpc_errors
    async def SplitShade(self, request: identity_pb2.SplitShadeRequest, context: grpc.aio.ServicerContext):
        required(request.shade_id, "shade_id", _SHADES)
        await self._repo.shade(request.shade_id)
        if request.memory_ids:
            moving = await self._repo.resolve_members(request.shade_id, list(request.memory_ids))
        else:
            ids, vectors, dimension = await self._repo.member_vectors(request.shade_id, DEFAULT_MODEL)
            if len(ids) < 2:
                raise IdentityConflict(f"shade {request.shade_id} has too few embedded memories to split")
            halves = await asyncio.to_thread(_split_halves, vectors, dimension)
            moving = [m for m, half in zip(ids, halves, strict=True) if half == 1]
        created = await self._repo.split(request.shade_id, moving)
        return identity_pb2.SplitShadeResponse(
            original=shade_to_pb(await self._repo.shade(request.shade_id)),
            created=shade_to_pb(await self._repo.shade(created)),
            job=await self._job(),
        )

    @grpc_errors
    async def RefreshIdentity(self, request: identity_pb2.RefreshIdentityRequest, context: grpc.aio.ServicerContext):
        if request.retry_failed:
            await self._repo.reset_failed_insights()
        return identity_pb2.RefreshIdentityResponse(job=await self._job(asked=True))
