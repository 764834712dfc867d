"""TCP whose listening sockets are this node's alone: no SO_REUSEPORT, and a clear error if taken.

py-libp2p 0.8.1's TCP listener sets SO_REUSEPORT (for hole punching, which we do not use). With
it, two daemons on one machine both bind `0.0.0.0:4001`, the kernel splits incoming connections
between them, and a dial meant for one lands on the other. `ExclusiveTCP` binds with
`trio.open_tcp_listeners` instead (SO_REUSEADDR only, which lets a restarted daemon take its
port back from TIME_WAIT but never lets two listeners share it), and keeps why a bind failed:
py-libp2p's swarm swallows listen errors, so the node checks `failures` after it started and
stops with `ListenFailed`, which names the port and, when it can be found, the process holding it.

Dialling is py-libp2p's own `TCP.dial`, unchanged. The listener relies on `TCPListener`'s
background nursery (`_spawn_background_task`, `_lifecycle_lock`) from the pinned 0.8.1.
"""

from __future__ import annotations

import errno
import logging
from functools import partial

import psutil
import trio
from libp2p.custom_types import THandler
from libp2p.io.trio import TrioTCPStream
from libp2p.transport.exceptions import OpenConnectionError
from libp2p.transport.tcp.tcp import TCP, TCPListener
from libp2p.utils.multiaddr_utils import extract_ip_from_multiaddr
from multiaddr import Multiaddr

from secondme.network.errors import MeshError

log = logging.getLogger(__name__)


class ListenFailed(MeshError):
    """A configured listen address could not be bound; the message says why and what to do."""


def port_holder(port: int) -> str | None:
    """Who listens on TCP `port` on this machine, as 'pid N (command line)', if we can see it."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):
        return None
    for connection in connections:
        if connection.status == psutil.CONN_LISTEN and connection.laddr and connection.laddr.port == port:
            if connection.pid is None:
                return None
            try:
                command = " ".join(psutil.Process(connection.pid).cmdline()) or psutil.Process(connection.pid).name()
            except psutil.Error:
                command = "?"
            return f"pid {connection.pid} ({command[:100]})"
    return None


def explain(address: str, host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        holder = port_holder(port)
        by = f" by {holder}" if holder else " by another process"
        return (
            f"TCP port {port} ({address}) is already in use{by}; stop it, choose another port in "
            "[network] listen, or use /tcp/0 there to take any free port"
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return f"{host} ({address}) is not an address of this machine; fix [network] listen"
    if error.errno == errno.EACCES:
        return f"TCP port {port} ({address}) needs privileges this process lacks; choose a port above 1023"
    return f"cannot listen on {address}: {error.strerror or error}"


class ExclusiveTCPListener(TCPListener):
    def __init__(self, handler_function: THandler, failures: list[ListenFailed]) -> None:
        super().__init__(handler_function)
        self._failures = failures

    async def listen(self, maddr: Multiaddr) -> None:
        host = extract_ip_from_multiaddr(maddr)
        port_text = maddr.value_for_protocol("tcp")
        if host is None or port_text is None:
            raise OpenConnectionError(f"cannot listen on {maddr}: it needs an IP address and a TCP port")
        port = int(port_text)
        async with self._lifecycle_lock:
            if self._closed:
                raise OpenConnectionError(f"cannot listen on {maddr}: the listener is closed")
            if self._nursery is None:
                await self._spawn_background_task()
            assert self._nursery is not None
            try:
                sockets = await trio.open_tcp_listeners(port, host=host)
            except OSError as exc:
                failure = ListenFailed(explain(str(maddr), host, port, exc))
                self._failures.append(failure)
                raise OpenConnectionError(str(failure)) from exc
            started = await self._nursery.start(partial(trio.serve_listeners, self._accept, sockets))
            self.listeners.extend(started)

    async def _accept(self, stream: trio.SocketStream) -> None:
        try:
            await self.handler(TrioTCPStream(stream))
        except Exception as exc:  # one failed connection must not stop the listener
            log.debug("inbound TCP connection failed: %s", exc)


class ExclusiveTCP(TCP):
    """py-libp2p's TCP transport with `ExclusiveTCPListener` (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures: list[ListenFailed] = []

    def create_listener(self, handler_function: THandler) -> ExclusiveTCPListener:  # type: ignore[override]
        return ExclusiveTCPListener(handler_function, self.failures)
