import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from secondme.v1 import jobs_pb2 as _jobs_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SourceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOURCE_TYPE_UNSPECIFIED: _ClassVar[SourceType]
    SOURCE_TYPE_TEXT: _ClassVar[SourceType]
    SOURCE_TYPE_MARKDOWN: _ClassVar[SourceType]
    SOURCE_TYPE_PDF: _ClassVar[SourceType]
    SOURCE_TYPE_HTML: _ClassVar[SourceType]
    SOURCE_TYPE_IMAGE: _ClassVar[SourceType]
    SOURCE_TYPE_AUDIO: _ClassVar[SourceType]
    SOURCE_TYPE_URL: _ClassVar[SourceType]

class ParseStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARSE_STATUS_UNSPECIFIED: _ClassVar[ParseStatus]
    PARSE_STATUS_OK: _ClassVar[ParseStatus]
    PARSE_STATUS_PARTIAL: _ClassVar[ParseStatus]
    PARSE_STATUS_EMPTY: _ClassVar[ParseStatus]
SOURCE_TYPE_UNSPECIFIED: SourceType
SOURCE_TYPE_TEXT: SourceType
SOURCE_TYPE_MARKDOWN: SourceType
SOURCE_TYPE_PDF: SourceType
SOURCE_TYPE_HTML: SourceType
SOURCE_TYPE_IMAGE: SourceType
SOURCE_TYPE_AUDIO: SourceType
SOURCE_TYPE_URL: SourceType
PARSE_STATUS_UNSPECIFIED: ParseStatus
PARSE_STATUS_OK: ParseStatus
PARSE_STATUS_PARTIAL: ParseStatus
PARSE_STATUS_EMPTY: ParseStatus

class Memory(_message.Message):
    __slots__ = ("id", "title", "source_type", "source", "content_hash", "size_bytes", "created_at", "ingested_at", "parse_status", "chunk_count", "metadata_json", "media_type", "same_content_as", "source_bytes")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    INGESTED_AT_FIELD_NUMBER: _ClassVar[int]
    PARSE_STATUS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    SAME_CONTENT_AS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_BYTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    source_type: SourceType
    source: str
    content_hash: str
    size_bytes: int
    created_at: _timestamp_pb2.Timestamp
    ingested_at: _timestamp_pb2.Timestamp
    parse_status: ParseStatus
    chunk_count: int
    metadata_json: str
    media_type: str
    same_content_as: str
    source_bytes: bytes
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., source_type: _Optional[_Union[SourceType, str]] = ..., source: _Optional[str] = ..., content_hash: _Optional[str] = ..., size_bytes: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ingested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., parse_status: _Optional[_Union[ParseStatus, str]] = ..., chunk_count: _Optional[int] = ..., metadata_json: _Optional[str] = ..., media_type: _Optional[str] = ..., same_content_as: _Optional[str] = ..., source_bytes: _Optional[bytes] = ...) -> None: ...

class MemoryInsight(_message.Message):
    __slots__ = ("status", "title", "summary", "insight", "keywords", "error", "model")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    INSIGHT_FIELD_NUMBER: _ClassVar[int]
    KEYWORDS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    status: str
    title: str
    summary: str
    insight: str
    keywords: _containers.RepeatedScalarFieldContainer[str]
    error: str
    model: str
    def __init__(self, status: _Optional[str] = ..., title: _Optional[str] = ..., summary: _Optional[str] = ..., insight: _Optional[str] = ..., keywords: _Optional[_Iterable[str]] = ..., error: _Optional[str] = ..., model: _Optional[str] = ...) -> None: ...

class Chunk(_message.Message):
    __slots__ = ("index", "text", "token_count", "start_char", "end_char")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    START_CHAR_FIELD_NUMBER: _ClassVar[int]
    END_CHAR_FIELD_NUMBER: _ClassVar[int]
    index: int
    text: str
    token_count: int
    start_char: int
    end_char: int
    def __init__(self, index: _Optional[int] = ..., text: _Optional[str] = ..., token_count: _Optional[int] = ..., start_char: _Optional[int] = ..., end_char: _Optional[int] = ...) -> None: ...

class IngestRequest(_message.Message):
    __slots__ = ("paths", "include", "exclude", "urls", "follow_external_links", "path_bytes")
    PATHS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_FIELD_NUMBER: _ClassVar[int]
    URLS_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_EXTERNAL_LINKS_FIELD_NUMBER: _ClassVar[int]
    PATH_BYTES_FIELD_NUMBER: _ClassVar[int]
    paths: _containers.RepeatedScalarFieldContainer[str]
    include: _containers.RepeatedScalarFieldContainer[str]
    exclude: _containers.RepeatedScalarFieldContainer[str]
    urls: _containers.RepeatedScalarFieldContainer[str]
    follow_external_links: bool
    path_bytes: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, paths: _Optional[_Iterable[str]] = ..., include: _Optional[_Iterable[str]] = ..., exclude: _Optional[_Iterable[str]] = ..., urls: _Optional[_Iterable[str]] = ..., follow_external_links: _Optional[bool] = ..., path_bytes: _Optional[_Iterable[bytes]] = ...) -> None: ...

class IngestResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _jobs_pb2.Job
    def __init__(self, job: _Optional[_Union[_jobs_pb2.Job, _Mapping]] = ...) -> None: ...

class UploadFileRequest(_message.Message):
    __slots__ = ("metadata", "data")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    metadata: UploadMetadata
    data: bytes
    def __init__(self, metadata: _Optional[_Union[UploadMetadata, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class UploadMetadata(_message.Message):
    __slots__ = ("filename", "size_bytes")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    filename: str
    size_bytes: int
    def __init__(self, filename: _Optional[str] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class UploadFileResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _jobs_pb2.Job
    def __init__(self, job: _Optional[_Union[_jobs_pb2.Job, _Mapping]] = ...) -> None: ...

class ListMemoriesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "source_type", "query", "created_after", "created_before")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    source_type: SourceType
    query: str
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., source_type: _Optional[_Union[SourceType, str]] = ..., query: _Optional[str] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListMemoriesResponse(_message.Message):
    __slots__ = ("memories", "next_page_token", "total_count")
    MEMORIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    memories: _containers.RepeatedCompositeFieldContainer[Memory]
    next_page_token: str
    total_count: int
    def __init__(self, memories: _Optional[_Iterable[_Union[Memory, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_count: _Optional[int] = ...) -> None: ...

class GetMemoryRequest(_message.Message):
    __slots__ = ("memory_id", "include_text", "include_chunks", "text_offset", "chunk_offset")
    MEMORY_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_TEXT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CHUNKS_FIELD_NUMBER: _ClassVar[int]
    TEXT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    CHUNK_OFFSET_FIELD_NUMBER: _ClassVar[int]
    memory_id: str
    include_text: bool
    include_chunks: bool
    text_offset: int
    chunk_offset: int
    def __init__(self, memory_id: _Optional[str] = ..., include_text: _Optional[bool] = ..., include_chunks: _Optional[bool] = ..., text_offset: _Optional[int] = ..., chunk_offset: _Optional[int] = ...) -> None: ...

class GetMemoryResponse(_message.Message):
    __slots__ = ("memory", "text", "chunks", "insight", "text_length")
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    INSIGHT_FIELD_NUMBER: _ClassVar[int]
    TEXT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    memory: Memory
    text: str
    chunks: _containers.RepeatedCompositeFieldContainer[Chunk]
    insight: MemoryInsight
    text_length: int
    def __init__(self, memory: _Optional[_Union[Memory, _Mapping]] = ..., text: _Optional[str] = ..., chunks: _Optional[_Iterable[_Union[Chunk, _Mapping]]] = ..., insight: _Optional[_Union[MemoryInsight, _Mapping]] = ..., text_length: _Optional[int] = ...) -> None: ...

class DeleteMemoryRequest(_message.Message):
    __slots__ = ("memory_id",)
    MEMORY_ID_FIELD_NUMBER: _ClassVar[int]
    memory_id: str
    def __init__(self, memory_id: _Optional[str] = ...) -> None: ...

class DeleteMemoryResponse(_message.Message):
    __slots__ = ("original_removed",)
    ORIGINAL_REMOVED_FIELD_NUMBER: _ClassVar[int]
    original_removed: bool
    def __init__(self, original_removed: _Optional[bool] = ...) -> None: ...
