from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_KIND_UNSPECIFIED: _ClassVar[SessionKind]
    SESSION_KIND_ROLEPLAY: _ClassVar[SessionKind]
    SESSION_KIND_ICEBREAK: _ClassVar[SessionKind]
    SESSION_KIND_BRAINSTORM: _ClassVar[SessionKind]
SESSION_KIND_UNSPECIFIED: SessionKind
SESSION_KIND_ROLEPLAY: SessionKind
SESSION_KIND_ICEBREAK: SessionKind
SESSION_KIND_BRAINSTORM: SessionKind

class CardRequest(_message.Message):
    __slots__ = ("grant",)
    GRANT_FIELD_NUMBER: _ClassVar[int]
    grant: bytes
    def __init__(self, grant: _Optional[bytes] = ...) -> None: ...

class CardShade(_message.Message):
    __slots__ = ("name", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class Card(_message.Message):
    __slots__ = ("display_name", "bio", "shades", "session_kinds", "software_version", "biography", "peer_id", "protocols", "withheld")
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    BIO_FIELD_NUMBER: _ClassVar[int]
    SHADES_FIELD_NUMBER: _ClassVar[int]
    SESSION_KINDS_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_VERSION_FIELD_NUMBER: _ClassVar[int]
    BIOGRAPHY_FIELD_NUMBER: _ClassVar[int]
    PEER_ID_FIELD_NUMBER: _ClassVar[int]
    PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    bio: str
    shades: _containers.RepeatedCompositeFieldContainer[CardShade]
    session_kinds: _containers.RepeatedScalarFieldContainer[SessionKind]
    software_version: str
    biography: str
    peer_id: str
    protocols: _containers.RepeatedScalarFieldContainer[str]
    withheld: str
    def __init__(self, display_name: _Optional[str] = ..., bio: _Optional[str] = ..., shades: _Optional[_Iterable[_Union[CardShade, _Mapping]]] = ..., session_kinds: _Optional[_Iterable[_Union[SessionKind, str]]] = ..., software_version: _Optional[str] = ..., biography: _Optional[str] = ..., peer_id: _Optional[str] = ..., protocols: _Optional[_Iterable[str]] = ..., withheld: _Optional[str] = ...) -> None: ...

class GrantDelivery(_message.Message):
    __slots__ = ("envelope",)
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    envelope: bytes
    def __init__(self, envelope: _Optional[bytes] = ...) -> None: ...

class GrantReceipt(_message.Message):
    __slots__ = ("accepted", "message")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    accepted: bool
    message: str
    def __init__(self, accepted: _Optional[bool] = ..., message: _Optional[str] = ...) -> None: ...

class SessionRequest(_message.Message):
    __slots__ = ("handshake", "turn", "end")
    HANDSHAKE_FIELD_NUMBER: _ClassVar[int]
    TURN_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    handshake: SessionHandshake
    turn: SessionTurn
    end: SessionEnd
    def __init__(self, handshake: _Optional[_Union[SessionHandshake, _Mapping]] = ..., turn: _Optional[_Union[SessionTurn, _Mapping]] = ..., end: _Optional[_Union[SessionEnd, _Mapping]] = ...) -> None: ...

class SessionHandshake(_message.Message):
    __slots__ = ("grant", "kind")
    GRANT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    grant: bytes
    kind: SessionKind
    def __init__(self, grant: _Optional[bytes] = ..., kind: _Optional[_Union[SessionKind, str]] = ...) -> None: ...

class SessionTurn(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class SessionEnd(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SessionResponse(_message.Message):
    __slots__ = ("accepted", "refused", "reply", "ended")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    ENDED_FIELD_NUMBER: _ClassVar[int]
    accepted: SessionAccepted
    refused: SessionRefused
    reply: SessionReply
    ended: SessionEnded
    def __init__(self, accepted: _Optional[_Union[SessionAccepted, _Mapping]] = ..., refused: _Optional[_Union[SessionRefused, _Mapping]] = ..., reply: _Optional[_Union[SessionReply, _Mapping]] = ..., ended: _Optional[_Union[SessionEnded, _Mapping]] = ...) -> None: ...

class SessionAccepted(_message.Message):
    __slots__ = ("max_turns",)
    MAX_TURNS_FIELD_NUMBER: _ClassVar[int]
    max_turns: int
    def __init__(self, max_turns: _Optional[int] = ...) -> None: ...

class SessionRefused(_message.Message):
    __slots__ = ("reason", "message")
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    reason: str
    message: str
    def __init__(self, reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class SessionReply(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class SessionEnded(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
