import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_KIND_UNSPECIFIED: _ClassVar[ModelKind]
    MODEL_KIND_CHAT: _ClassVar[ModelKind]
    MODEL_KIND_WHISPER: _ClassVar[ModelKind]
MODEL_KIND_UNSPECIFIED: ModelKind
MODEL_KIND_CHAT: ModelKind
MODEL_KIND_WHISPER: ModelKind

class Model(_message.Message):
    __slots__ = ("id", "name", "architecture", "parameter_count", "context_length", "quantization", "has_chat_template", "size_bytes", "sha256", "source", "imported_at", "active", "probe", "base", "adapter", "dataset_version", "trained_by_job", "trained_through", "trained_memories", "trained_memories_deleted")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    HAS_CHAT_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    IMPORTED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    PROBE_FIELD_NUMBER: _ClassVar[int]
    BASE_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_FIELD_NUMBER: _ClassVar[int]
    DATASET_VERSION_FIELD_NUMBER: _ClassVar[int]
    TRAINED_BY_JOB_FIELD_NUMBER: _ClassVar[int]
    TRAINED_THROUGH_FIELD_NUMBER: _ClassVar[int]
    TRAINED_MEMORIES_FIELD_NUMBER: _ClassVar[int]
    TRAINED_MEMORIES_DELETED_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    architecture: str
    parameter_count: int
    context_length: int
    quantization: str
    has_chat_template: bool
    size_bytes: int
    sha256: str
    source: str
    imported_at: _timestamp_pb2.Timestamp
    active: bool
    probe: ModelProbe
    base: str
    adapter: bool
    dataset_version: str
    trained_by_job: str
    trained_through: _timestamp_pb2.Timestamp
    trained_memories: int
    trained_memories_deleted: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., architecture: _Optional[str] = ..., parameter_count: _Optional[int] = ..., context_length: _Optional[int] = ..., quantization: _Optional[str] = ..., has_chat_template: _Optional[bool] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., source: _Optional[str] = ..., imported_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., active: _Optional[bool] = ..., probe: _Optional[_Union[ModelProbe, _Mapping]] = ..., base: _Optional[str] = ..., adapter: _Optional[bool] = ..., dataset_version: _Optional[str] = ..., trained_by_job: _Optional[str] = ..., trained_through: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., trained_memories: _Optional[int] = ..., trained_memories_deleted: _Optional[int] = ...) -> None: ...

class ModelProbe(_message.Message):
    __slots__ = ("status", "checks", "reason")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    status: str
    checks: _containers.RepeatedCompositeFieldContainer[ProbeCheck]
    reason: str
    def __init__(self, status: _Optional[str] = ..., checks: _Optional[_Iterable[_Union[ProbeCheck, _Mapping]]] = ..., reason: _Optional[str] = ...) -> None: ...

class ProbeCheck(_message.Message):
    __slots__ = ("name", "passed", "detail")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    passed: bool
    detail: str
    def __init__(self, name: _Optional[str] = ..., passed: _Optional[bool] = ..., detail: _Optional[str] = ...) -> None: ...

class ImportModelRequest(_message.Message):
    __slots__ = ("path", "name", "kind")
    PATH_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    path: str
    name: str
    kind: ModelKind
    def __init__(self, path: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[ModelKind, str]] = ...) -> None: ...

class ImportModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: Model
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[Model]
    def __init__(self, models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: Model
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class ActivateModelRequest(_message.Message):
    __slots__ = ("name", "previous")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    name: str
    previous: bool
    def __init__(self, name: _Optional[str] = ..., previous: _Optional[bool] = ...) -> None: ...

class ActivateModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: Model
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class RemoveModelRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RemoveModelResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
