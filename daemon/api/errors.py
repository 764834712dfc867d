"""The one place where domain errors become gRPC status codes.

Servicer methods are wrapped with `grpc_errors`; every exception a person can act on maps to
a specific code with its message intact, and anything else becomes INTERNAL with a pointer to
the daemon log (the traceback stays in the log, never in the response).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from secondme.daemon.config import ConfigError
from secondme.daemon.jobs import JobNotFound, JobStateError, UnknownJobKind
from secondme.daemon.models.errors import (
    InvalidModelFile,
    ModelError,
    ModelNotFound,
    ModelUnavailable,
    RuntimeBusy,
)
from secondme.daemon.store.conversations import ConversationNotFound
from secondme.daemon.store.grants import GrantConflict
from secondme.daemon.store.identity import BiographyNotFound, IdentityConflict, ShadeNotFound
from secondme.daemon.store.memories import MemoryNotFound
from secondme.network.errors import InvalidAddress, MeshError, PeerUnreachable, RemoteRefused
from secondme.permissions import GrantError, GrantNotFound
from secondme.pipeline.errors import ContentTooLarge, GenerationError, IngestError

log = logging.getLogger(__name__)


class InvalidArgument(ValueError):
    """A request field is missing or malformed; the message names the field."""


class FailedPrecondition(Exception):
    """The request is valid but the daemon is not in a state to do it."""


# Checked in order: subclasses before their bases.
ERROR_CODES: list[tuple[type[BaseException], grpc.StatusCode]] = [
    (MemoryNotFound, grpc.StatusCode.NOT_FOUND),
    (JobNotFound, grpc.StatusCode.NOT_FOUND),
    (JobStateError, grpc.StatusCode.FAILED_PRECONDITION),
    (UnknownJobKind, grpc.StatusCode.INVALID_ARGUMENT),
    (ContentTooLarge, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (IngestError, grpc.StatusCode.INVALID_ARGUMENT),
    (ConfigError, grpc.StatusCode.FAILED_PRECONDITION),
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (GrantNotFound, grpc.StatusCode.NOT_FOUND),
    (GrantConflict, grpc.StatusCode.ALREADY_EXISTS),
    (GrantError, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidAddress, grpc.StatusCode.INVALID_ARGUMENT),
    (PeerUnreachable, grpc.StatusCode.FAILED_PRECONDITION),
    (RemoteRefused, grpc.StatusCode.PERMISSION_DENIED),
    (MeshError, grpc.StatusCode.FAILED_PRECONDITION),
    (ModelNotFound, grpc.StatusCode.NOT_FOUND),
    (ConversationNotFound, grpc.StatusCode.NOT_FOUND),
    (ShadeNotFound, grpc.StatusCode.NOT_FOUND),
    (BiographyNotFound, grpc.StatusCode.NOT_FOUND),
    (IdentityConflict, grpc.StatusCode.FAILED_PRECONDITION),
    (InvalidModelFile, grpc.StatusCode.INVALID_ARGUMENT),
    (RuntimeBusy, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (ModelUnavailable, grpc.StatusCode.FAILED_PRECONDITION),
    (ModelError, grpc.StatusCode.FAILED_PRECONDITION),
    (GenerationError, grpc.StatusCode.UNAVAILABLE),
]


def status_for(exc: BaseException) -> grpc.StatusCode | None:
    for error_type, code in ERROR_CODES:
        if isinstance(exc, error_type):
            return code
    return None


async def _abort(context: grpc.aio.ServicerContext, exc: Exception, method: str) -> None:
    code = status_for(exc)
    if code is None:
        log.exception("%s failed", method)
        await context.abort(grpc.StatusCode.INTERNAL, f"internal error in {method}; see the daemon log")
    message = str(exc.args[0]) if exc.args else str(exc)
    await context.abort(code, message)  # type: ignore[arg-type]


F = TypeVar("F", bound=Callable[..., Any])


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
