"""Protobuf messages to the client's plain dataclasses and back, by field name, in one place.

A client dataclass names the fields it takes from its message with the same names. The converter
reads the message's descriptor: timestamps become aware datetimes, durations timedeltas, enums
their short lower-case names (`GRANT_SCOPE_ROLEPLAY` is "roleplay", `DISCLOSURE_LEVEL_PUBLIC_CARD`
"public-card", an unset enum ""), nested messages their dataclasses and unset `optional` scalars
None, repeated fields lists, maps dicts. So a field added to a proto reaches a program by adding it to one dataclass.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import types
import typing
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from secondme.errors import InvalidArgument

T = TypeVar("T")


def _enum_prefix(enum: EnumDescriptor) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"


def enum_name(enum: EnumDescriptor, number: int) -> str:
    """`GrantScope` 2 -> "roleplay", `GrantState` 2 -> "not-yet-valid"; the zero (`..._UNSPECIFIED`) value -> ""."""
    value = enum.values_by_number.get(number)
    if value is None or number == 0:
        return ""
    return value.name.removeprefix(_enum_prefix(enum)).lower().replace("_", "-")


def enum_number(enum: EnumDescriptor, name: str, what: str) -> int:
    """ "roleplay" -> `GRANT_SCOPE_ROLEPLAY`'s number; "" -> 0; anything else is refused naming `what`."""
    if not name:
        return 0
    value = enum.values_by_name.get(_enum_prefix(enum) + name.upper().replace("-", "_"))
    if value is None or value.number == 0:
        known = [enum_name(enum, v.number) for v in enum.values if v.number]
        raise InvalidArgument(f"{what}: unknown value {name!r}; choose from {', '.join(known)}")
    return value.number


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def _inner(annotation: Any) -> Any:
    """`Shade | None` -> Shade; `list[Shade]` -> Shade; anything else as it is."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is list:
        (annotation,) = typing.get_args(annotation)
    return annotation


def _single(field: FieldDescriptor, annotation: Any, value: Any) -> Any:
    if field.enum_type is not None:
        return enum_name(field.enum_type, value)
    if field.message_type is None:
        return value
    if field.message_type.full_name == Timestamp.DESCRIPTOR.full_name:
        return value.ToDatetime(tzinfo=UTC)
    if field.message_type.full_name == Duration.DESCRIPTOR.full_name:
        return timedelta(seconds=value.seconds, microseconds=value.nanos // 1000)
    return from_message(_inner(annotation), value)


def from_message(cls: type[T], message: Message) -> T:
    """The dataclass `cls` filled from the message fields of the same names."""
    hints = typing.get_type_hints(cls)
    by_name = message.DESCRIPTOR.fields_by_name
    values: dict[str, Any] = {}
    for item in dataclasses.fields(cls):  # type: ignore[arg-type]
        field = by_name[item.name]
        raw = getattr(message, item.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            values[item.name] = {k: _single(value_field, Any, v) for k, v in raw.items()}
        elif field.is_repeated:
            values[item.name] = [_single(field, _inner(hints[item.name]), v) for v in raw]
        elif field.has_presence and not message.HasField(item.name):
            values[item.name] = None
        else:
            values[item.name] = _single(field, hints[item.name], raw)
    return cls(**values)


def jsonable(value: Any) -> Any:
    """A client dataclass (or list, dict of them) as plain JSON values: datetimes in ISO 8601, durations in
    seconds, bytes in base64."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name, text in list(out.items()):
            # A field that carries JSON as text (a job's result_json) is given decoded too (`result`), so a
            # script reads it in one pass.
            if name.endswith("_json") and isinstance(text, str) and text and name[: -len("_json")] not in out:
                out[name[: -len("_json")]] = json.loads(text)
        return out
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")  # as protobuf's JSON mapping has bytes
    return value
