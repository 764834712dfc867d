"""MemoryService: start ingestion, and list, show and delete memories."""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc

from secondme.daemon.api.convert import (
    fit_page,
    from_timestamp,
    job_to_pb,
    next_page_token,
    page_window,
    to_timestamp,
)
from secondme.daemon.api.errors import InvalidArgument, grpc_errors, required
from secondme.daemon.jobs import JobManager
from secondme.daemon.store.memories import MemoryFilter, MemoryRecord, MemoryRepository
from secondme.pipeline.errors import ContentTooLarge
from secondme.pipeline.fetch import url_problem
from secondme.pipeline.ingest.names import shown
from secondme.v1 import memory_pb2, memory_pb2_grpc

_SOURCE_TYPES = {
    "text": memory_pb2.SOURCE_TYPE_TEXT,
    "markdown": memory_pb2.SOURCE_TYPE_MARKDOWN,
    "pdf": memory_pb2.SOURCE_TYPE_PDF,
    "html": memory_pb2.SOURCE_TYPE_HTML,
    "image": memory_pb2.SOURCE_TYPE_IMAGE,
    "audio": memory_pb2.SOURCE_TYPE_AUDIO,
    "url": memory_pb2.SOURCE_TYPE_URL,
}
_SOURCE_NAMES = {v: k for k, v in _SOURCE_TYPES.items()}
_PARSE_STATUS = {
    "ok": memory_pb2.PARSE_STATUS_OK,
    "partial": memory_pb2.PARSE_STATUS_PARTIAL,
    "empty": memory_pb2.PARSE_STATUS_EMPTY,
}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MEMORY_IDS = "`secondmectl memories list` shows them"
# A GetMemory response holds at most this much of a memory's text and of its chunks (a message
# carries 8 MiB; a text of 50 MB is read in pages).
TEXT_PAGE_CHARS = 1_000_000
CHUNK_PAGE_BYTES = 4 << 20


def memory_to_pb(record: MemoryRecord) -> memory_pb2.Memory:
    return memory_pb2.Memory(
        id=record.id,
        title=record.title,
        source_type=_SOURCE_TYPES.get(record.source_type, memory_pb2.SOURCE_TYPE_UNSPECIFIED),
        source=record.source,
        content_hash=record.content_hash,
        size_bytes=record.size_bytes,
        created_at=to_timestamp(record.created_at),
        ingested_at=to_timestamp(record.ingested_at),
        parse_status=_PARSE_STATUS.get(record.parse_status, memory_pb2.PARSE_STATUS_UNSPECIFIED),
        chunk_count=record.chunk_count,
        metadata_json=json.dumps(record.metadata, sort_keys=True),
        media_type=record.media_type,
        same_content_as=record.same_content_as,
        source_bytes=record.source_bytes or b"",
    )


def _checked_paths(raw: list[str | bytes]) -> list[str]:
    """Absolute, existing, readable paths, as strs that keep non-UTF-8 bytes (os.fsdecode) for the job."""
    paths = []
    for value in raw:
        path = Path(os.fsdecode(value))
        if not path.is_absolute():
            raise InvalidArgument(
                f"{shown(path)!r} is not an absolute path (paths are resolved on the daemon's machine)"
            )
        if not path.exists() and not path.is_symlink():
            raise InvalidArgument(f"no such file or folder: {shown(path)}")
        if not os.access(path, os.R_OK):
            raise InvalidArgument(f"the daemon cannot read {shown(path)} (permission denied)")
        paths.append(str(path))
    return paths


def _checked_urls(raw: list[str]) -> list[str]:
    """Refuse the whole request for one bad URL: the owner typed it and can fix it at once."""
    for url in raw:
        problem = url_problem(url)
        if problem:
            raise InvalidArgument(problem)
    return raw


class MemoryServicer(memory_pb2_grpc.MemoryServiceServicer):
    def __init__(
        self,
        repo: MemoryRepository,
        jobs: JobManager,
        uploads_dir: Path,
        max_upload_bytes: Callable[[], int],
        on_deleted: Callable[[], Awaitable[object]],
    ) -> None:
        self._repo = repo
        self._jobs = jobs
        self._uploads = uploads_dir
        self._max_upload_bytes = max_upload_bytes
        # What derives from a deleted memory (its shade's text, the biographies) is brought up to date.
        self._on_deleted = on_deleted

    @grpc_errors
    async def Ingest(self, request: memory_pb2.IngestRequest, context: grpc.aio.ServicerContext):
        required(
            [*request.paths, *request.path_bytes, *request.urls],
            "paths or urls",
            "give at least one path or URL to ingest",
        )
        params = {
            "paths": _checked_paths([*request.paths, *request.path_bytes]),
            "urls": _checked_urls(list(request.urls)),
            "include": list(request.include),
            "exclude": list(request.exclude),
            "follow_external_links": request.follow_external_links,
        }
        job = await self._jobs.submit("ingest", params)
        return memory_pb2.IngestResponse(job=job_to_pb(job))

    @grpc_errors
    async def UploadFile(
        self, request_iterator: AsyncIterator[memory_pb2.UploadFileRequest], context: grpc.aio.ServicerContext
    ):
        limit = self._max_upload_bytes()
        first = await anext(aiter(request_iterator), None)
        if first is None or not first.HasField("metadata"):
            raise InvalidArgument("the first message of an upload must carry its metadata (filename)")
        name = Path(first.metadata.filename).name
        if not name:
            raise InvalidArgument("metadata.filename is required")
        if first.metadata.size_bytes > limit:
            raise ContentTooLarge(f"{name} is larger than the {limit / 1e6:.1f} MB limit (ingest.max_file_bytes)")
        self._uploads.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self._uploads / f"{secrets.token_hex(8)}-{_UNSAFE_NAME.sub('_', name)[-100:]}"
        received = 0
        try:
            with target.open("xb") as handle:
                os.chmod(target, 0o600)
                async for message in request_iterator:
                    if not message.HasField("data"):
                        raise InvalidArgument("only the first upload message may carry metadata")
                    received += len(message.data)
                    if received > limit:
                        raise ContentTooLarge(
                            f"{name} is larger than the {limit / 1e6:.1f} MB limit (ingest.max_file_bytes)"
                        )
                    handle.write(message.data)
            job = await self._jobs.submit(
                "ingest", {"paths": [str(target)], "source_label": f"upload:{name}", "delete_after": True}
            )
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return memory_pb2.UploadFileResponse(job=job_to_pb(job))

    @grpc_errors
    async def ListMemories(self, request: memory_pb2.ListMemoriesRequest, context: grpc.aio.ServicerContext):
        limit, offset = page_window(request.page_size, request.page_token)
        if request.source_type and request.source_type not in _SOURCE_NAMES:
            raise InvalidArgument(f"unknown source_type {request.source_type}")
        filters = MemoryFilter(
            source_type=_SOURCE_NAMES.get(request.source_type, ""),
            query=request.query,
            created_after=from_timestamp(request.created_after, request.HasField("created_after")),
            created_before=from_timestamp(request.created_before, request.HasField("created_before")),
        )
        records, total = await self._repo.list(filters, limit, offset)
        # A page fits a message however long the memories' metadata (front matter) is.
        memories, cut_short = fit_page(memory_to_pb(r) for r in records)
        return memory_pb2.ListMemoriesResponse(
            memories=memories,
            next_page_token=next_page_token(offset, len(memories), limit, total, cut_short),
            total_count=total,
        )

    @grpc_errors
    async def GetMemory(self, request: memory_pb2.GetMemoryRequest, context: grpc.aio.ServicerContext):
        record = await self._repo.get(required(request.memory_id, "memory_id", _MEMORY_IDS))
        response = memory_pb2.GetMemoryResponse(memory=memory_to_pb(record))
        insight = await self._repo.insight(record.id)
        if insight is not None:
            response.insight.CopyFrom(
                memory_pb2.MemoryInsight(
                    status=insight.status, title=insight.title, summary=insight.summary, insight=insight.insight,
                    keywords=insight.keywords, error=insight.error, model=insight.model,
                )
            )  # fmt: skip
        if request.text_offset < 0 or request.chunk_offset < 0:
            raise InvalidArgument("text_offset and chunk_offset count from 0")
        if request.include_text:
            text = await self._repo.text(record.id)
            response.text = text[request.text_offset : request.text_offset + TEXT_PAGE_CHARS]
            response.text_length = len(text)
        if request.include_chunks:
            size = 0
            for c in (await self._repo.chunks(record.id))[request.chunk_offset :]:
                size += len(c.text.encode()) + 32
                if response.chunks and size > CHUNK_PAGE_BYTES:
                    break  # the rest on the next page
                response.chunks.append(
                    memory_pb2.Chunk(
                        index=c.index, text=c.text, token_count=c.token_count, start_char=c.start_char,
                        end_char=c.end_char,
                    )
                )  # fmt: skip
        return response

    @grpc_errors
    async def DeleteMemory(self, request: memory_pb2.DeleteMemoryRequest, context: grpc.aio.ServicerContext):
        removed = await self._repo.delete(required(request.memory_id, "memory_id", _MEMORY_IDS))
        await self._on_deleted()
        return memory_pb2.DeleteMemoryResponse(original_removed=removed)
