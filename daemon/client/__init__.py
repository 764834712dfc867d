"""The typed client: every program that talks to secondmed (`secondmectl`, the benches) goes through it.

One method per thing a program asks of the daemon, grouped by concern (`client.memories.list()`,
`client.jobs.watch(id)`, `client.identity.update_shade(...)`), with plain dataclasses in and out:
no protobuf and no gRPC above this package. A refusal arrives as the `secondme.errors.SecondmeError`
of its kind; a daemon that is not running as `DaemonUnavailable`. `Stubs` is the wire underneath,
for tests that check the wire itself.
"""

from __future__ import annotations

from pathlib import Path

from secondme.daemon.client.chat import ChatCalls
from secondme.daemon.client.daemon import DaemonCalls
from secondme.daemon.client.evaluation import EvalCalls
from secondme.daemon.client.grants import GrantCalls
from secondme.daemon.client.identity import IdentityCalls
from secondme.daemon.client.jobs import JobCalls
from secondme.daemon.client.memories import MemoryCalls
from secondme.daemon.client.models import ModelCalls
from secondme.daemon.client.peers import PeerCalls
from secondme.daemon.client.stubs import DaemonUnavailable, Stubs, error_from_rpc
from secondme.daemon.client.training import TrainingCalls

__all__ = ["Client", "DaemonUnavailable", "Stubs", "error_from_rpc"]


class Client:
    def __init__(self, socket_path: Path, connect_timeout: float = 3.0) -> None:
        self.wire = Stubs(socket_path, connect_timeout)
        self.daemon = DaemonCalls(self.wire)
        self.memories = MemoryCalls(self.wire)
        self.jobs = JobCalls(self.wire)
        self.identity = IdentityCalls(self.wire)
        self.grants = GrantCalls(self.wire)
        self.peers = PeerCalls(self.wire)
        self.models = ModelCalls(self.wire)
        self.chat = ChatCalls(self.wire)
        self.eval = EvalCalls(self.wire)
        self.training = TrainingCalls(self.wire)

    @classmethod
    def connect(cls, socket_path: Path, connect_timeout: float = 3.0) -> Client:
        """A client whose daemon answers; `DaemonUnavailable` saying how to start it otherwise."""
        client = cls(socket_path, connect_timeout)
        client.wire.wait_ready()
        return client

    def close(self) -> None:
        self.wire.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
