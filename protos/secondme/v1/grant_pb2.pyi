import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GrantScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRANT_SCOPE_UNSPECIFIED: _ClassVar[GrantScope]
    GRANT_SCOPE_CARD: _ClassVar[GrantScope]
    GRANT_SCOPE_ROLEPLAY: _ClassVar[GrantScope]
    GRANT_SCOPE_ICEBREAK: _ClassVar[GrantScope]
    GRANT_SCOPE_BRAINSTORM: _ClassVar[GrantScope]

class DisclosureLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISCLOSURE_LEVEL_UNSPECIFIED: _ClassVar[DisclosureLevel]
    DISCLOSURE_LEVEL_PUBLIC_CARD: _ClassVar[DisclosureLevel]
    DISCLOSURE_LEVEL_PUBLIC_SHADES: _ClassVar[DisclosureLevel]
    DISCLOSURE_LEVEL_ALL_BUT_PRIVATE: _ClassVar[DisclosureLevel]

class GrantDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRANT_DIRECTION_UNSPECIFIED: _ClassVar[GrantDirection]
    GRANT_DIRECTION_ISSUED: _ClassVar[GrantDirection]
    GRANT_DIRECTION_RECEIVED: _ClassVar[GrantDirection]

class GrantState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRANT_STATE_UNSPECIFIED: _ClassVar[GrantState]
    GRANT_STATE_ACTIVE: _ClassVar[GrantState]
    GRANT_STATE_NOT_YET_VALID: _ClassVar[GrantState]
    GRANT_STATE_EXPIRED: _ClassVar[GrantState]
    GRANT_STATE_REVOKED: _ClassVar[GrantState]
GRANT_SCOPE_UNSPECIFIED: GrantScope
GRANT_SCOPE_CARD: GrantScope
GRANT_SCOPE_ROLEPLAY: GrantScope
GRANT_SCOPE_ICEBREAK: GrantScope
GRANT_SCOPE_BRAINSTORM: GrantScope
DISCLOSURE_LEVEL_UNSPECIFIED: DisclosureLevel
DISCLOSURE_LEVEL_PUBLIC_CARD: DisclosureLevel
DISCLOSURE_LEVEL_PUBLIC_SHADES: DisclosureLevel
DISCLOSURE_LEVEL_ALL_BUT_PRIVATE: DisclosureLevel
GRANT_DIRECTION_UNSPECIFIED: GrantDirection
GRANT_DIRECTION_ISSUED: GrantDirection
GRANT_DIRECTION_RECEIVED: GrantDirection
GRANT_STATE_UNSPECIFIED: GrantState
GRANT_STATE_ACTIVE: GrantState
GRANT_STATE_NOT_YET_VALID: GrantState
GRANT_STATE_EXPIRED: GrantState
GRANT_STATE_REVOKED: GrantState

class GrantLimits(_message.Message):
    __slots__ = ("max_turns_per_session", "max_sessions_per_day", "max_concurrent_sessions")
    MAX_TURNS_PER_SESSION_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSIONS_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    max_turns_per_session: int
    max_sessions_per_day: int
    max_concurrent_sessions: int
    def __init__(self, max_turns_per_session: _Optional[int] = ..., max_sessions_per_day: _Optional[int] = ..., max_concurrent_sessions: _Optional[int] = ...) -> None: ...

class GrantPayload(_message.Message):
    __slots__ = ("version", "id", "issuer", "audience", "scopes", "limits", "disclosure", "not_before", "expires", "note")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    DISCLOSURE_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    version: int
    id: bytes
    issuer: str
    audience: str
    scopes: _containers.RepeatedScalarFieldContainer[GrantScope]
    limits: GrantLimits
    disclosure: DisclosureLevel
    not_before: int
    expires: int
    note: str
    def __init__(self, version: _Optional[int] = ..., id: _Optional[bytes] = ..., issuer: _Optional[str] = ..., audience: _Optional[str] = ..., scopes: _Optional[_Iterable[_Union[GrantScope, str]]] = ..., limits: _Optional[_Union[GrantLimits, _Mapping]] = ..., disclosure: _Optional[_Union[DisclosureLevel, str]] = ..., not_before: _Optional[int] = ..., expires: _Optional[int] = ..., note: _Optional[str] = ...) -> None: ...

class GrantEnvelope(_message.Message):
    __slots__ = ("payload", "signature")
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    payload: bytes
    signature: bytes
    def __init__(self, payload: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...

class Grant(_message.Message):
    __slots__ = ("id", "direction", "issuer", "audience", "scopes", "limits", "disclosure", "not_before", "expires", "note", "state", "revoked_at", "recorded_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    DISCLOSURE_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    direction: GrantDirection
    issuer: str
    audience: str
    scopes: _containers.RepeatedScalarFieldContainer[GrantScope]
    limits: GrantLimits
    disclosure: DisclosureLevel
    not_before: _timestamp_pb2.Timestamp
    expires: _timestamp_pb2.Timestamp
    note: str
    state: GrantState
    revoked_at: _timestamp_pb2.Timestamp
    recorded_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., direction: _Optional[_Union[GrantDirection, str]] = ..., issuer: _Optional[str] = ..., audience: _Optional[str] = ..., scopes: _Optional[_Iterable[_Union[GrantScope, str]]] = ..., limits: _Optional[_Union[GrantLimits, _Mapping]] = ..., disclosure: _Optional[_Union[DisclosureLevel, str]] = ..., not_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., note: _Optional[str] = ..., state: _Optional[_Union[GrantState, str]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IssueGrantRequest(_message.Message):
    __slots__ = ("audience", "scopes", "limits", "disclosure", "not_before", "expires", "note")
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    DISCLOSURE_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    audience: str
    scopes: _containers.RepeatedScalarFieldContainer[GrantScope]
    limits: GrantLimits
    disclosure: DisclosureLevel
    not_before: _timestamp_pb2.Timestamp
    expires: _timestamp_pb2.Timestamp
    note: str
    def __init__(self, audience: _Optional[str] = ..., scopes: _Optional[_Iterable[_Union[GrantScope, str]]] = ..., limits: _Optional[_Union[GrantLimits, _Mapping]] = ..., disclosure: _Optional[_Union[DisclosureLevel, str]] = ..., not_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., note: _Optional[str] = ...) -> None: ...

class IssueGrantResponse(_message.Message):
    __slots__ = ("grant", "token")
    GRANT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    grant: Grant
    token: str
    def __init__(self, grant: _Optional[_Union[Grant, _Mapping]] = ..., token: _Optional[str] = ...) -> None: ...

class ListGrantsRequest(_message.Message):
    __slots__ = ("direction",)
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    direction: GrantDirection
    def __init__(self, direction: _Optional[_Union[GrantDirection, str]] = ...) -> None: ...

class ListGrantsResponse(_message.Message):
    __slots__ = ("grants",)
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    grants: _containers.RepeatedCompositeFieldContainer[Grant]
    def __init__(self, grants: _Optional[_Iterable[_Union[Grant, _Mapping]]] = ...) -> None: ...

class GetGrantRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetGrantResponse(_message.Message):
    __slots__ = ("grant",)
    GRANT_FIELD_NUMBER: _ClassVar[int]
    grant: Grant
    def __init__(self, grant: _Optional[_Union[Grant, _Mapping]] = ...) -> None: ...

class RevokeGrantRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RevokeGrantResponse(_message.Message):
    __slots__ = ("id", "newly_revoked", "grant")
    ID_FIELD_NUMBER: _ClassVar[int]
    NEWLY_REVOKED_FIELD_NUMBER: _ClassVar[int]
    GRANT_FIELD_NUMBER: _ClassVar[int]
    id: str
    newly_revoked: bool
    grant: Grant
    def __init__(self, id: _Optional[str] = ..., newly_revoked: _Optional[bool] = ..., grant: _Optional[_Union[Grant, _Mapping]] = ...) -> None: ...

class ImportGrantRequest(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class ImportGrantResponse(_message.Message):
    __slots__ = ("grant", "already_present")
    GRANT_FIELD_NUMBER: _ClassVar[int]
    ALREADY_PRESENT_FIELD_NUMBER: _ClassVar[int]
    grant: Grant
    already_present: bool
    def __init__(self, grant: _Optional[_Union[Grant, _Mapping]] = ..., already_present: _Optional[bool] = ...) -> None: ...

class ExportGrantRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ExportGrantResponse(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class CheckGrantRequest(_message.Message):
    __slots__ = ("token", "peer", "action")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    token: str
    peer: str
    action: GrantScope
    def __init__(self, token: _Optional[str] = ..., peer: _Optional[str] = ..., action: _Optional[_Union[GrantScope, str]] = ...) -> None: ...

class CheckGrantResponse(_message.Message):
    __slots__ = ("allowed", "reason", "message", "grant")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    GRANT_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    reason: str
    message: str
    grant: Grant
    def __init__(self, allowed: _Optional[bool] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., grant: _Optional[_Union[Grant, _Mapping]] = ...) -> None: ...
