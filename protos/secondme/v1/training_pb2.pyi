from secondme.v1 import jobs_pb2 as _jobs_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TrainRequest(_message.Message):
    __slots__ = ("stages", "max_steps", "dry_run", "merged", "no_activate", "eval_questions")
    STAGES_FIELD_NUMBER: _ClassVar[int]
    MAX_STEPS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    MERGED_FIELD_NUMBER: _ClassVar[int]
    NO_ACTIVATE_FIELD_NUMBER: _ClassVar[int]
    EVAL_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    stages: _containers.RepeatedScalarFieldContainer[str]
    max_steps: int
    dry_run: bool
    merged: str
    no_activate: bool
    eval_questions: str
    def __init__(self, stages: _Optional[_Iterable[str]] = ..., max_steps: _Optional[int] = ..., dry_run: _Optional[bool] = ..., merged: _Optional[str] = ..., no_activate: _Optional[bool] = ..., eval_questions: _Optional[str] = ...) -> None: ...

class TrainResponse(_message.Message):
    __slots__ = ("job", "queued_behind")
    JOB_FIELD_NUMBER: _ClassVar[int]
    QUEUED_BEHIND_FIELD_NUMBER: _ClassVar[int]
    job: _jobs_pb2.Job
    queued_behind: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, job: _Optional[_Union[_jobs_pb2.Job, _Mapping]] = ..., queued_behind: _Optional[_Iterable[str]] = ...) -> None: ...

class GetTrainingDataRequest(_message.Message):
    __slots__ = ("version", "examples")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    version: str
    examples: int
    def __init__(self, version: _Optional[str] = ..., examples: _Optional[int] = ...) -> None: ...

class GetTrainingDataResponse(_message.Message):
    __slots__ = ("manifest_json", "examples_json")
    MANIFEST_JSON_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_JSON_FIELD_NUMBER: _ClassVar[int]
    manifest_json: str
    examples_json: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, manifest_json: _Optional[str] = ..., examples_json: _Optional[_Iterable[str]] = ...) -> None: ...

class ExportTrainingDataRequest(_message.Message):
    __slots__ = ("version", "part")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PART_FIELD_NUMBER: _ClassVar[int]
    version: str
    part: str
    def __init__(self, version: _Optional[str] = ..., part: _Optional[str] = ...) -> None: ...

class ExportTrainingDataResponse(_message.Message):
    __slots__ = ("record_json",)
    RECORD_JSON_FIELD_NUMBER: _ClassVar[int]
    record_json: str
    def __init__(self, record_json: _Optional[str] = ...) -> None: ...
