"""Memories: ingesting files and pages, and the memories made of them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from secondme.daemon.client.convert import enum_number, from_message
from secondme.daemon.client.jobs import Job
from secondme.daemon.client.stubs import Stubs
from secondme.pipeline.ingest.names import is_exact, name_bytes, shown
from secondme.v1 import memory_pb2

UPLOAD_CHUNK_BYTES = 1024 * 1024
PAGE_SIZE = 500


@dataclass
class Memory:
    id: str
    title: str
    # text | markdown | pdf | html | image | audio | url
    source_type: str
    source: str
    # The file's path exactly as the OS has it (b"" for URLs and uploads); `source` shows it as text.
    source_bytes: bytes
    content_hash: str
    size_bytes: int
    created_at: datetime | None
    ingested_at: datetime | None
    # ok | partial | empty
    parse_status: str
    chunk_count: int
    metadata_json: str
    media_type: str
    same_content_as: str

    @property
    def metadata(self) -> dict[str, Any]:
        return json.loads(self.metadata_json) if self.metadata_json else {}


@dataclass
class MemoryInsight:
    # done | short | failed | "" (not written yet)
    status: str
    title: str
    summary: str
    insight: str
    keywords: list[str]
    error: str
    model: str


@dataclass
class Chunk:
    index: int
    text: str
    token_count: int
    start_char: int
    end_char: int


@dataclass
class MemoryDetail:
    memory: Memory
    text: str
    chunks: list[Chunk]
    insight: MemoryInsight | None
    # The text's length in characters (`get` reads all of it, page by page).
    text_length: int


class MemoryCalls:
    def __init__(self, wire: Stubs) -> None:
        self._wire = wire

    def ingest(
        self,
        paths: Sequence[Path | str] = (),
        urls: Sequence[str] = (),
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        follow_external_links: bool = False,
    ) -> Job:
        """Start an ingest job over paths on the daemon's machine and URLs it fetches.

        A path whose name is not valid UTF-8 travels as its bytes, so the daemon opens that very file."""
        named = [Path(p) for p in paths]
        request = memory_pb2.IngestRequest(
            paths=[shown(p) for p in named if is_exact(p)],
            path_bytes=[name_bytes(p) for p in named if not is_exact(p)],
            urls=list(urls),
            include=list(include),
            exclude=list(exclude),
            follow_external_links=follow_external_links,
        )
        return from_message(Job, self._wire.call(self._wire.memory.Ingest, request).job)

    def upload(self, path: Path) -> Job:
        """Stream a local file's bytes to the daemon and start an ingest job for it."""
        return from_message(Job, self._wire.call(self._wire.memory.UploadFile, _upload_messages(path)).job)

    def list(self, source_type: str = "", query: str = "", limit: int = 0) -> list[Memory]:
        """Memories, newest first; all of them unless `limit`."""
        kind = enum_number(memory_pb2.SourceType.DESCRIPTOR, source_type, "source_type")
        found: list[Memory] = []
        token = ""
        while True:
            page = min(PAGE_SIZE, limit - len(found)) if limit else PAGE_SIZE
            request = memory_pb2.ListMemoriesRequest(page_size=page, page_token=token, source_type=kind, query=query)
            response = self._wire.call(self._wire.memory.ListMemories, request)
            found.extend(from_message(Memory, m) for m in response.memories)
            token = response.next_page_token
            if not token or (limit and len(found) >= limit):
                return found

    def get(self, memory_id: str, text: bool = False, chunks: bool = False) -> MemoryDetail:
        """A memory, with all of its text and chunks when asked (a long one is read in pages)."""
        request = memory_pb2.GetMemoryRequest(memory_id=memory_id, include_text=text, include_chunks=chunks)
        detail = from_message(MemoryDetail, self._wire.call(self._wire.memory.GetMemory, request))
        parts = [detail.text]
        read = len(detail.text)
        while text and read < detail.text_length:
            request = memory_pb2.GetMemoryRequest(memory_id=detail.memory.id, include_text=True, text_offset=read)
            page = self._wire.call(self._wire.memory.GetMemory, request).text
            if not page:
                break  # the memory changed meanwhile: what was read is what there is
            parts.append(page)
            read += len(page)
        detail.text = "".join(parts)
        while chunks and len(detail.chunks) < detail.memory.chunk_count:
            offset = len(detail.chunks)
            request = memory_pb2.GetMemoryRequest(memory_id=detail.memory.id, include_chunks=True, chunk_offset=offset)
            page = self._wire.call(self._wire.memory.GetMemory, request).chunks
            if not page:
                break
            detail.chunks.extend(from_message(Chunk, c) for c in page)
        if detail.insight is not None and not detail.insight.status:
            detail.insight = None
        return detail

    def delete(self, memory_id: str) -> bool:
        """Delete a memory; returns whether its stored original went with it."""
        request = memory_pb2.DeleteMemoryRequest(memory_id=memory_id)
        return self._wire.call(self._wire.memory.DeleteMemory, request).original_removed


def _upload_messages(path: Path) -> Iterator[memory_pb2.UploadFileRequest]:
    yield memory_pb2.UploadFileRequest(
        metadata=memory_pb2.UploadMetadata(filename=shown(path.name), size_bytes=path.stat().st_size)
    )
    with path.open("rb") as handle:
        while chunk := handle.read(UPLOAD_CHUNK_BYTES):
            yield memory_pb2.UploadFileRequest(data=chunk)
