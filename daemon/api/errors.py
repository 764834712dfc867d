"""The one place where failures become gRPC status codes: by their kind, one table.

Servicer methods are wrapped with `grpc_errors`. A `SecondmeError` goes out with the status code
of its kind, its message intact, and the kind itself in the trailing metadata (`KIND_METADATA`) so
the client can tell the daemon's "unavailable" from a lost connection. Anything else is a bug and
becomes INTERNAL with a pointer to the daemon log (the traceback stays in the log, never in the
response).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from secondme.errors import FailedPrecondition, InvalidArgument, Kind, SecondmeError

log = logging.getLogger(__name__)

__all__ = ["KIND_METADATA", "STATUS_FOR_KIND", "FailedPrecondition", "InvalidArgument", "grpc_errors", "required"]

KIND_METADATA = "secondme-error-kind"

STATUS_FOR_KIND: dict[Kind, grpc.StatusCode] = {
    Kind.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    Kind.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    Kind.ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    Kind.FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    Kind.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    Kind.RESOURCE_EXHAUSTED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Kind.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
}


async def _abort(context: grpc.aio.ServicerContext, exc: Exception, method: str) -> None:
    if not isinstance(exc, SecondmeError):
        log.exception("%s failed", method)
        await context.abort(grpc.StatusCode.INTERNAL, f"internal error in {method}; see the daemon log")
    await context.abort(STATUS_FOR_KIND[exc.kind], exc.message, trailing_metadata=((KIND_METADATA, exc.kind.value),))


F = TypeVar("F", bound=Callable[..., Any])
V = TypeVar("V")


def required(value: V, field: str, hint: str = "") -> V:
    """The request field's value; an unset one (empty, 0) is INVALID_ARGUMENT naming the field.

    Checked before anything else a method does, so a missing field reads the same in every
    service, whatever the state of the daemon.
    """
    if not value:
        raise InvalidArgument(f"{field} is required" + (f": {hint}" if hint else ""))
    return value


def grpc_errors(method: F) -> F:
    """Map exceptions raised by a servicer method (unary or server-streaming) to status codes."""
    name = method.__qualname__
    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def stream(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                async for item in method(self, request, context):
                    yield item
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await _abort(context, exc, name)

        return stream  # type: ignore[return-value]

    @functools.wraps(method)
    async def unary(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort(context, exc, name)

    return unary  # type: ignore[return-value]
