import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from secondme.v1 import jobs_pb2 as _jobs_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StartEvalRequest(_message.Message):
    __slots__ = ("questions_jsonl", "private_json", "style_json", "source", "models", "without_retrieval", "identity", "let_models_write")
    QUESTIONS_JSONL_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_JSON_FIELD_NUMBER: _ClassVar[int]
    STYLE_JSON_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    WITHOUT_RETRIEVAL_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    LET_MODELS_WRITE_FIELD_NUMBER: _ClassVar[int]
    questions_jsonl: str
    private_json: str
    style_json: str
    source: str
    models: _containers.RepeatedScalarFieldContainer[str]
    without_retrieval: bool
    identity: bool
    let_models_write: bool
    def __init__(self, questions_jsonl: _Optional[str] = ..., private_json: _Optional[str] = ..., style_json: _Optional[str] = ..., source: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ..., without_retrieval: _Optional[bool] = ..., identity: _Optional[bool] = ..., let_models_write: _Optional[bool] = ...) -> None: ...

class StartEvalResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _jobs_pb2.Job
    def __init__(self, job: _Optional[_Union[_jobs_pb2.Job, _Mapping]] = ...) -> None: ...

class ListEvalRunsRequest(_message.Message):
    __slots__ = ("run_ids", "with_answers", "page_size")
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    WITH_ANSWERS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    run_ids: _containers.RepeatedScalarFieldContainer[int]
    with_answers: bool
    page_size: int
    def __init__(self, run_ids: _Optional[_Iterable[int]] = ..., with_answers: _Optional[bool] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListEvalRunsResponse(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[EvalRun]
    def __init__(self, runs: _Optional[_Iterable[_Union[EvalRun, _Mapping]]] = ...) -> None: ...

class EvalRun(_message.Message):
    __slots__ = ("id", "model_id", "model_name", "source", "retrieval", "created_at", "questions", "recall", "recall_by_kind", "all_terms", "abstention", "false_abstention", "style_markers", "style_violations", "leaks", "seconds_mean", "seconds_p50", "seconds_max", "errors", "answers")
    class RecallByKindEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RETRIEVAL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    RECALL_FIELD_NUMBER: _ClassVar[int]
    RECALL_BY_KIND_FIELD_NUMBER: _ClassVar[int]
    ALL_TERMS_FIELD_NUMBER: _ClassVar[int]
    ABSTENTION_FIELD_NUMBER: _ClassVar[int]
    FALSE_ABSTENTION_FIELD_NUMBER: _ClassVar[int]
    STYLE_MARKERS_FIELD_NUMBER: _ClassVar[int]
    STYLE_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    LEAKS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_MEAN_FIELD_NUMBER: _ClassVar[int]
    SECONDS_P50_FIELD_NUMBER: _ClassVar[int]
    SECONDS_MAX_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    id: int
    model_id: str
    model_name: str
    source: str
    retrieval: bool
    created_at: _timestamp_pb2.Timestamp
    questions: int
    recall: float
    recall_by_kind: _containers.ScalarMap[str, float]
    all_terms: float
    abstention: float
    false_abstention: float
    style_markers: float
    style_violations: float
    leaks: _containers.RepeatedCompositeFieldContainer[EvalLeak]
    seconds_mean: float
    seconds_p50: float
    seconds_max: float
    errors: int
    answers: _containers.RepeatedCompositeFieldContainer[EvalAnswer]
    def __init__(self, id: _Optional[int] = ..., model_id: _Optional[str] = ..., model_name: _Optional[str] = ..., source: _Optional[str] = ..., retrieval: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., questions: _Optional[int] = ..., recall: _Optional[float] = ..., recall_by_kind: _Optional[_Mapping[str, float]] = ..., all_terms: _Optional[float] = ..., abstention: _Optional[float] = ..., false_abstention: _Optional[float] = ..., style_markers: _Optional[float] = ..., style_violations: _Optional[float] = ..., leaks: _Optional[_Iterable[_Union[EvalLeak, _Mapping]]] = ..., seconds_mean: _Optional[float] = ..., seconds_p50: _Optional[float] = ..., seconds_max: _Optional[float] = ..., errors: _Optional[int] = ..., answers: _Optional[_Iterable[_Union[EvalAnswer, _Mapping]]] = ...) -> None: ...

class EvalLeak(_message.Message):
    __slots__ = ("fact", "what", "question_id")
    FACT_FIELD_NUMBER: _ClassVar[int]
    WHAT_FIELD_NUMBER: _ClassVar[int]
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    fact: str
    what: str
    question_id: str
    def __init__(self, fact: _Optional[str] = ..., what: _Optional[str] = ..., question_id: _Optional[str] = ...) -> None: ...

class EvalAnswer(_message.Message):
    __slots__ = ("question_id", "kind", "answer", "seconds", "mentioned", "missed", "abstained", "leaked", "style_used", "style_broken", "error")
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    MENTIONED_FIELD_NUMBER: _ClassVar[int]
    MISSED_FIELD_NUMBER: _ClassVar[int]
    ABSTAINED_FIELD_NUMBER: _ClassVar[int]
    LEAKED_FIELD_NUMBER: _ClassVar[int]
    STYLE_USED_FIELD_NUMBER: _ClassVar[int]
    STYLE_BROKEN_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    question_id: str
    kind: str
    answer: str
    seconds: float
    mentioned: _containers.RepeatedScalarFieldContainer[str]
    missed: _containers.RepeatedScalarFieldContainer[str]
    abstained: bool
    leaked: _containers.RepeatedScalarFieldContainer[str]
    style_used: _containers.RepeatedScalarFieldContainer[str]
    style_broken: _containers.RepeatedScalarFieldContainer[str]
    error: str
    def __init__(self, question_id: _Optional[str] = ..., kind: _Optional[str] = ..., answer: _Optional[str] = ..., seconds: _Optional[float] = ..., mentioned: _Optional[_Iterable[str]] = ..., missed: _Optional[_Iterable[str]] = ..., abstained: _Optional[bool] = ..., leaked: _Optional[_Iterable[str]] = ..., style_used: _Optional[_Iterable[str]] = ..., style_broken: _Optional[_Iterable[str]] = ..., error: _Optional[str] = ...) -> None: ...
