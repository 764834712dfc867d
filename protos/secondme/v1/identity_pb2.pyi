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

class BiographyKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BIOGRAPHY_KIND_UNSPECIFIED: _ClassVar[BiographyKind]
    BIOGRAPHY_KIND_GLOBAL: _ClassVar[BiographyKind]
    BIOGRAPHY_KIND_STATUS: _ClassVar[BiographyKind]

class Author(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUTHOR_UNSPECIFIED: _ClassVar[Author]
    AUTHOR_PIPELINE: _ClassVar[Author]
    AUTHOR_OWNER: _ClassVar[Author]

class ShadePrivacy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHADE_PRIVACY_UNSPECIFIED: _ClassVar[ShadePrivacy]
    SHADE_PRIVACY_PUBLIC: _ClassVar[ShadePrivacy]
    SHADE_PRIVACY_UNMARKED: _ClassVar[ShadePrivacy]
    SHADE_PRIVACY_PRIVATE: _ClassVar[ShadePrivacy]

class ShadeState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHADE_STATE_UNSPECIFIED: _ClassVar[ShadeState]
    SHADE_STATE_ACTIVE: _ClassVar[ShadeState]
    SHADE_STATE_MERGED: _ClassVar[ShadeState]
    SHADE_STATE_RETIRED: _ClassVar[ShadeState]

class Confidence(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONFIDENCE_UNSPECIFIED: _ClassVar[Confidence]
    CONFIDENCE_LOW: _ClassVar[Confidence]
    CONFIDENCE_MEDIUM: _ClassVar[Confidence]
    CONFIDENCE_HIGH: _ClassVar[Confidence]
BIOGRAPHY_KIND_UNSPECIFIED: BiographyKind
BIOGRAPHY_KIND_GLOBAL: BiographyKind
BIOGRAPHY_KIND_STATUS: BiographyKind
AUTHOR_UNSPECIFIED: Author
AUTHOR_PIPELINE: Author
AUTHOR_OWNER: Author
SHADE_PRIVACY_UNSPECIFIED: ShadePrivacy
SHADE_PRIVACY_PUBLIC: ShadePrivacy
SHADE_PRIVACY_UNMARKED: ShadePrivacy
SHADE_PRIVACY_PRIVATE: ShadePrivacy
SHADE_STATE_UNSPECIFIED: ShadeState
SHADE_STATE_ACTIVE: ShadeState
SHADE_STATE_MERGED: ShadeState
SHADE_STATE_RETIRED: ShadeState
CONFIDENCE_UNSPECIFIED: Confidence
CONFIDENCE_LOW: Confidence
CONFIDENCE_MEDIUM: Confidence
CONFIDENCE_HIGH: Confidence

class Biography(_message.Message):
    __slots__ = ("id", "kind", "author", "text_third", "text_second", "shade_ids", "memory_ids", "model", "created_at", "sentences", "mode")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    TEXT_THIRD_FIELD_NUMBER: _ClassVar[int]
    TEXT_SECOND_FIELD_NUMBER: _ClassVar[int]
    SHADE_IDS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_IDS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SENTENCES_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    id: int
    kind: BiographyKind
    author: Author
    text_third: str
    text_second: str
    shade_ids: _containers.RepeatedScalarFieldContainer[int]
    memory_ids: _containers.RepeatedScalarFieldContainer[str]
    model: str
    created_at: _timestamp_pb2.Timestamp
    sentences: _containers.RepeatedCompositeFieldContainer[GroundedSentence]
    mode: str
    def __init__(self, id: _Optional[int] = ..., kind: _Optional[_Union[BiographyKind, str]] = ..., author: _Optional[_Union[Author, str]] = ..., text_third: _Optional[str] = ..., text_second: _Optional[str] = ..., shade_ids: _Optional[_Iterable[int]] = ..., memory_ids: _Optional[_Iterable[str]] = ..., model: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sentences: _Optional[_Iterable[_Union[GroundedSentence, _Mapping]]] = ..., mode: _Optional[str] = ...) -> None: ...

class GroundedSentence(_message.Message):
    __slots__ = ("field", "text", "memory_ids")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_IDS_FIELD_NUMBER: _ClassVar[int]
    field: str
    text: str
    memory_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, field: _Optional[str] = ..., text: _Optional[str] = ..., memory_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ShadeText(_message.Message):
    __slots__ = ("name", "aspect", "icon", "description_third", "description_second", "content_third", "content_second")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ASPECT_FIELD_NUMBER: _ClassVar[int]
    ICON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_THIRD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_SECOND_FIELD_NUMBER: _ClassVar[int]
    CONTENT_THIRD_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SECOND_FIELD_NUMBER: _ClassVar[int]
    name: str
    aspect: str
    icon: str
    description_third: str
    description_second: str
    content_third: str
    content_second: str
    def __init__(self, name: _Optional[str] = ..., aspect: _Optional[str] = ..., icon: _Optional[str] = ..., description_third: _Optional[str] = ..., description_second: _Optional[str] = ..., content_third: _Optional[str] = ..., content_second: _Optional[str] = ...) -> None: ...

class TimelineEntry(_message.Message):
    __slots__ = ("memory_id", "date", "title")
    MEMORY_ID_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    memory_id: str
    date: str
    title: str
    def __init__(self, memory_id: _Optional[str] = ..., date: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class ShadeVersion(_message.Message):
    __slots__ = ("version", "author", "text", "confidence", "member_count", "timeline", "model", "created_at", "sentences", "mode")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SENTENCES_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    version: int
    author: Author
    text: ShadeText
    confidence: Confidence
    member_count: int
    timeline: _containers.RepeatedCompositeFieldContainer[TimelineEntry]
    model: str
    created_at: _timestamp_pb2.Timestamp
    sentences: _containers.RepeatedCompositeFieldContainer[GroundedSentence]
    mode: str
    def __init__(self, version: _Optional[int] = ..., author: _Optional[_Union[Author, str]] = ..., text: _Optional[_Union[ShadeText, _Mapping]] = ..., confidence: _Optional[_Union[Confidence, str]] = ..., member_count: _Optional[int] = ..., timeline: _Optional[_Iterable[_Union[TimelineEntry, _Mapping]]] = ..., model: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sentences: _Optional[_Iterable[_Union[GroundedSentence, _Mapping]]] = ..., mode: _Optional[str] = ...) -> None: ...

class Shade(_message.Message):
    __slots__ = ("id", "state", "privacy", "owner_edited", "pending", "member_count", "latest", "merged_into", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PRIVACY_FIELD_NUMBER: _ClassVar[int]
    OWNER_EDITED_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    MERGED_INTO_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    state: ShadeState
    privacy: ShadePrivacy
    owner_edited: bool
    pending: bool
    member_count: int
    latest: ShadeVersion
    merged_into: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., state: _Optional[_Union[ShadeState, str]] = ..., privacy: _Optional[_Union[ShadePrivacy, str]] = ..., owner_edited: _Optional[bool] = ..., pending: _Optional[bool] = ..., member_count: _Optional[int] = ..., latest: _Optional[_Union[ShadeVersion, _Mapping]] = ..., merged_into: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ShadeMember(_message.Message):
    __slots__ = ("memory_id", "title", "created_at", "pinned")
    MEMORY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PINNED_FIELD_NUMBER: _ClassVar[int]
    memory_id: str
    title: str
    created_at: _timestamp_pb2.Timestamp
    pinned: bool
    def __init__(self, memory_id: _Optional[str] = ..., title: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pinned: _Optional[bool] = ...) -> None: ...

class GetBiographyRequest(_message.Message):
    __slots__ = ("kind", "id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    kind: BiographyKind
    id: int
    def __init__(self, kind: _Optional[_Union[BiographyKind, str]] = ..., id: _Optional[int] = ...) -> None: ...

class GetBiographyResponse(_message.Message):
    __slots__ = ("biography",)
    BIOGRAPHY_FIELD_NUMBER: _ClassVar[int]
    biography: Biography
    def __init__(self, biography: _Optional[_Union[Biography, _Mapping]] = ...) -> None: ...

class ListBiographiesRequest(_message.Message):
    __slots__ = ("kind", "page_size", "page_token")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    kind: BiographyKind
    page_size: int
    page_token: str
    def __init__(self, kind: _Optional[_Union[BiographyKind, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBiographiesResponse(_message.Message):
    __slots__ = ("biographies", "next_page_token")
    BIOGRAPHIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    biographies: _containers.RepeatedCompositeFieldContainer[Biography]
    next_page_token: str
    def __init__(self, biographies: _Optional[_Iterable[_Union[Biography, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListShadesRequest(_message.Message):
    __slots__ = ("include_inactive",)
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    include_inactive: bool
    def __init__(self, include_inactive: _Optional[bool] = ...) -> None: ...

class ListShadesResponse(_message.Message):
    __slots__ = ("shades", "unclustered_memory_count", "pending_insight_count", "failed_insight_count")
    SHADES_FIELD_NUMBER: _ClassVar[int]
    UNCLUSTERED_MEMORY_COUNT_FIELD_NUMBER: _ClassVar[int]
    PENDING_INSIGHT_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_INSIGHT_COUNT_FIELD_NUMBER: _ClassVar[int]
    shades: _containers.RepeatedCompositeFieldContainer[Shade]
    unclustered_memory_count: int
    pending_insight_count: int
    failed_insight_count: int
    def __init__(self, shades: _Optional[_Iterable[_Union[Shade, _Mapping]]] = ..., unclustered_memory_count: _Optional[int] = ..., pending_insight_count: _Optional[int] = ..., failed_insight_count: _Optional[int] = ...) -> None: ...

class GetShadeRequest(_message.Message):
    __slots__ = ("shade_id", "include_members")
    SHADE_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    shade_id: int
    include_members: bool
    def __init__(self, shade_id: _Optional[int] = ..., include_members: _Optional[bool] = ...) -> None: ...

class GetShadeResponse(_message.Message):
    __slots__ = ("shade", "members")
    SHADE_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    shade: Shade
    members: _containers.RepeatedCompositeFieldContainer[ShadeMember]
    def __init__(self, shade: _Optional[_Union[Shade, _Mapping]] = ..., members: _Optional[_Iterable[_Union[ShadeMember, _Mapping]]] = ...) -> None: ...

class ListShadeVersionsRequest(_message.Message):
    __slots__ = ("shade_id",)
    SHADE_ID_FIELD_NUMBER: _ClassVar[int]
    shade_id: int
    def __init__(self, shade_id: _Optional[int] = ...) -> None: ...

class ListShadeVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[ShadeVersion]
    def __init__(self, versions: _Optional[_Iterable[_Union[ShadeVersion, _Mapping]]] = ...) -> None: ...

class UpdateShadeRequest(_message.Message):
    __slots__ = ("shade_id", "privacy", "name", "aspect", "icon", "description_third", "description_second", "content_third", "content_second", "regenerate")
    SHADE_ID_FIELD_NUMBER: _ClassVar[int]
    PRIVACY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ASPECT_FIELD_NUMBER: _ClassVar[int]
    ICON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_THIRD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_SECOND_FIELD_NUMBER: _ClassVar[int]
    CONTENT_THIRD_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SECOND_FIELD_NUMBER: _ClassVar[int]
    REGENERATE_FIELD_NUMBER: _ClassVar[int]
    shade_id: int
    privacy: ShadePrivacy
    name: str
    aspect: str
    icon: str
    description_third: str
    description_second: str
    content_third: str
    content_second: str
    regenerate: bool
    def __init__(self, shade_id: _Optional[int] = ..., privacy: _Optional[_Union[ShadePrivacy, str]] = ..., name: _Optional[str] = ..., aspect: _Optional[str] = ..., icon: _Optional[str] = ..., description_third: _Optional[str] = ..., description_second: _Optional[str] = ..., content_third: _Optional[str] = ..., content_second: _Optional[str] = ..., regenerate: _Optional[bool] = ...) -> None: ...

class UpdateShadeResponse(_message.Message):
    __slots__ = ("shade", "job")
    SHADE_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    shade: Shade
    job: _jobs_pb2.Job
    def __init__(self, shade: _Optional[_Union[Shade, _Mapping]] = ..., job: _Optional[_Union[_jobs_pb2.Job, _Mapping]] = ...) -> None: ...

class MergeShadesRequest(_message.Message):
    __slots__ = ("target_shade_id", "source_shade_ids")
    TARGET_SHADE_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_SHADE_IDS_FIELD_NUMBER: _ClassVar[int]
    target_shade_id: int
    source_shade_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, target_shade_id: _Optional[int] = ..., source_shade_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class MergeShadesResponse(_message.Message):
    __slots__ = ("shade", "job")
    SHADE_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    shade: Shade
    job: _jobs_pb2.Job
    def __init__(self, shade: _Optional[_Union[Shade, _Mapping]] = ..., job: _Optional[_Union[_jobs_pb2.Job, _Mapping]] = ...) -> None: ...

class SplitShadeRequest(_message.Message):
    __slots__ = ("shade_id", "memory_ids")
    SHADE_ID_FIELD_NUMBER: _ClassVar[int]
    MEMORY_IDS_FIELD_NUMBER: _ClassVar[int]
    shade_id: int
    memory_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, shade_id: _Optional[int] = ..., memory_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SplitShadeResponse(_message.Message):
    __slots__ = ("original", "created", "job")
    ORIGINAL_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    original: Shade
    created: Shade
    job: _jobs_pb2.Job
    def __init__(self, original: _Optional[_Union[Shade, _Mapping]] = ..., created: _Optional[_Union[Shade, _Mapping]] = ..., job: _Optional[_Union[_jobs_pb2.Job, _Mapping]] = ...) -> None: ...

class RefreshIdentityRequest(_message.Message):
    __slots__ = ("retry_failed",)
    RETRY_FAILED_FIELD_NUMBER: _ClassVar[int]
    retry_failed: bool
    def __init__(self, retry_failed: _Optional[bool] = ...) -> None: ...

class RefreshIdentityResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _jobs_pb2.Job
    def __init__(self, job: _Optional[_Union[_jobs_pb2.Job, _Mapping]] = ...) -> None: ...
