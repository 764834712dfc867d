"""The one root of every failure a person can act on, and the kinds of failure there are.

Each layer raises its own subclasses (`IngestError`, `GrantNotFound`, `ModelUnavailable`, ...) and
each states its `kind`, the one thing the edges need: the daemon turns a kind into a gRPC status
code (`daemon/api/errors.py`), `secondmectl` into an exit code (`daemon/cli/output.py`), each in
one table. An exception that is not a `SecondmeError` is a bug: INTERNAL on the wire with the
traceback in the daemon log, a traceback in a terminal.

The generic classes below (`InvalidArgument`, `NotFound`, ...) are for failures no layer class
describes better, such as a request field a servicer checks. This package imports nothing of the
project, so every layer may import it without crossing a boundary.
"""

from __future__ import annotations

import enum
from typing import ClassVar


class Kind(enum.Enum):
    """What kind of mistake or obstacle it is, which decides what the person does next."""

    INVALID_ARGUMENT = "invalid_argument"  # a field or input is missing or malformed; the message names it
    NOT_FOUND = "not_found"  # no such id, name or file
    ALREADY_EXISTS = "already_exists"  # it is there already
    FAILED_PRECONDITION = "failed_precondition"  # the state forbids it (not set up, no model active, not connected)
    PERMISSION_DENIED = "permission_denied"  # a peer or a grant refuses
    RESOURCE_EXHAUSTED = "resource_exhausted"  # too large, or too many waiting
    UNAVAILABLE = "unavailable"  # something it relies on is down or gone; try again later


class SecondmeError(Exception):
    """Root of every failure a person can act on; the message says what happened and what to do.

    A subclass states its kind as a class attribute; a layer's base class left without one fails
    as FAILED_PRECONDITION, the widest "not like this, not now".
    """

    kind: ClassVar[Kind] = Kind.FAILED_PRECONDITION

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else type(self).__name__


class InvalidArgument(SecondmeError):
    kind = Kind.INVALID_ARGUMENT


class NotFound(SecondmeError):
    kind = Kind.NOT_FOUND


class AlreadyExists(SecondmeError):
    kind = Kind.ALREADY_EXISTS


class FailedPrecondition(SecondmeError):
    kind = Kind.FAILED_PRECONDITION


class PermissionDenied(SecondmeError):
    kind = Kind.PERMISSION_DENIED


class ResourceExhausted(SecondmeError):
    kind = Kind.RESOURCE_EXHAUSTED


class Unavailable(SecondmeError):
    kind = Kind.UNAVAILABLE


# The generic class of each kind: how a client turns a status back into an exception.
CLASS_FOR_KIND: dict[Kind, type[SecondmeError]] = {
    cls.kind: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        FailedPrecondition,
        PermissionDenied,
        ResourceExhausted,
        Unavailable,
    )
}

__all__ = [
    "CLASS_FOR_KIND",
    "AlreadyExists",
    "FailedPrecondition",
    "InvalidArgument",
    "Kind",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "SecondmeError",
    "Unavailable",
]
