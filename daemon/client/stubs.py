"""The wire under the typed client: one channel to secondmed's socket, its raw stubs, and its errors.

Programs use `secondme.daemon.client.Client`; tests that check the wire itself use these stubs.
Every failure the daemon sends back becomes the `SecondmeError` of its kind here (`error_from_rpc`),
so nothing above this module sees a gRPC exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from secondme.daemon.api.errors import KIND_METADATA, STATUS_FOR_KIND
from secondme.errors import CLASS_FOR_KIND, Kind, SecondmeError, Unavailable
from secondme.v1 import (
    chat_pb2_grpc,
    daemon_pb2_grpc,
    eval_pb2_grpc,
    grant_pb2_grpc,
    identity_pb2_grpc,
    jobs_pb2_grpc,
    memory_pb2_grpc,
    models_pb2_grpc,
    peer_pb2_grpc,
    training_pb2_grpc,
)

R = TypeVar("R")


class DaemonUnavailable(Unavailable):
    """Nothing answers on the socket; the message says how to start the daemon."""


_KIND_FOR_STATUS = {code: kind for kind, code in STATUS_FOR_KIND.items()}


def error_from_rpc(exc: grpc.RpcError) -> SecondmeError:
    """The daemon's failure as the exception of its kind; a lost connection as `DaemonUnavailable`."""
    code = exc.code()  # type: ignore[attr-defined]
    details = exc.details() or code.name  # type: ignore[attr-defined]
    sent = dict(exc.trailing_metadata() or ()).get(KIND_METADATA)  # type: ignore[attr-defined]
    kind = Kind(sent) if sent in {k.value for k in Kind} else _KIND_FOR_STATUS.get(code)
    if sent is None and code == grpc.StatusCode.UNAVAILABLE:
        return DaemonUnavailable(f"lost the connection to secondmed: {details}")
    if kind is None:  # INTERNAL, UNKNOWN, DEADLINE_EXCEEDED, ...: a bug or a hang, said as such
        return SecondmeError(f"secondmed failed ({code.name}): {details}")
    return CLASS_FOR_KIND[kind](details)


class Stubs:
    """A channel to the daemon and a raw stub per service."""

    def __init__(self, socket_path: Path, connect_timeout: float = 3.0) -> None:
        self.socket_path = socket_path
        self.channel = grpc.insecure_channel(
            f"unix:{socket_path}", options=[("grpc.max_receive_message_length", 8 * 1024 * 1024)]
        )
        self.daemon = daemon_pb2_grpc.DaemonServiceStub(self.channel)
        self.jobs = jobs_pb2_grpc.JobServiceStub(self.channel)
        self.memory = memory_pb2_grpc.MemoryServiceStub(self.channel)
        self.identity = identity_pb2_grpc.IdentityServiceStub(self.channel)
        self.models = models_pb2_grpc.ModelServiceStub(self.channel)
        self.chat = chat_pb2_grpc.ChatServiceStub(self.channel)
        self.grants = grant_pb2_grpc.GrantServiceStub(self.channel)
        self.peers = peer_pb2_grpc.PeerServiceStub(self.channel)
        self.eval = eval_pb2_grpc.EvalServiceStub(self.channel)
        self.training = training_pb2_grpc.TrainingServiceStub(self.channel)
        self._connect_timeout = connect_timeout

    def wait_ready(self) -> Stubs:
        if not self.socket_path.exists():
            raise DaemonUnavailable(
                f"secondmed is not running (no socket at {self.socket_path}); "
                "start it with `secondmed &` or `systemctl --user start secondmed`"
            )
        try:
            grpc.channel_ready_future(self.channel).result(timeout=self._connect_timeout)
        except grpc.FutureTimeoutError as exc:
            raise DaemonUnavailable(
                f"secondmed is not answering on {self.socket_path}; "
                "start it with `secondmed &` or check `journalctl --user -u secondmed`"
            ) from exc
        return self

    def call(self, method: Callable[..., R], request: Message, timeout: float | None = None) -> R:
        """One unary call; the daemon's refusal comes back as the `SecondmeError` of its kind."""
        try:
            return method(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from exc

    def stream(self, method: Callable[..., Iterable[R]], request: Any, timeout: float | None = None) -> Iterator[R]:
        """A streaming call's answers as they come, its refusal as the `SecondmeError` of its kind."""
        try:
            yield from method(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from exc

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Stubs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
