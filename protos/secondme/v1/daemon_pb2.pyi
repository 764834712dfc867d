import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("version", "uptime", "data_dir", "peer_id", "memory_count", "job_count", "running_job_count", "socket_path", "config_path", "pid", "active_model", "addresses", "memories_awaiting_embedding", "documents_awaiting_insight")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPTIME_FIELD_NUMBER: _ClassVar[int]
    DATA_DIR_FIELD_NUMBER: _ClassVar[int]
    PEER_ID_FIELD_NUMBER: _ClassVar[int]
    MEMORY_COUNT_FIELD_NUMBER: _ClassVar[int]
    JOB_COUNT_FIELD_NUMBER: _ClassVar[int]
    RUNNING_JOB_COUNT_FIELD_NUMBER: _ClassVar[int]
    SOCKET_PATH_FIELD_NUMBER: _ClassVar[int]
    CONFIG_PATH_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_MODEL_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    MEMORIES_AWAITING_EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_AWAITING_INSIGHT_FIELD_NUMBER: _ClassVar[int]
    version: str
    uptime: _duration_pb2.Duration
    data_dir: str
    peer_id: str
    memory_count: int
    job_count: int
    running_job_count: int
    socket_path: str
    config_path: str
    pid: int
    active_model: str
    addresses: _containers.RepeatedScalarFieldContainer[str]
    memories_awaiting_embedding: int
    documents_awaiting_insight: int
    def __init__(self, version: _Optional[str] = ..., uptime: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., data_dir: _Optional[str] = ..., peer_id: _Optional[str] = ..., memory_count: _Optional[int] = ..., job_count: _Optional[int] = ..., running_job_count: _Optional[int] = ..., socket_path: _Optional[str] = ..., config_path: _Optional[str] = ..., pid: _Optional[int] = ..., active_model: _Optional[str] = ..., addresses: _Optional[_Iterable[str]] = ..., memories_awaiting_embedding: _Optional[int] = ..., documents_awaiting_insight: _Optional[int] = ...) -> None: ...

class ShutdownRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ShutdownResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
