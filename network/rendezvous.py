"""Finding selves through rendezvous points: register under one namespace, discover the others.

A rendezvous point is any libp2p node serving `/rendezvous/1.0.0` (a secondmed with
`rendezvous_server = true`, or another implementation's). py-libp2p 0.8.1's client and service
are used as is (registration and discovery worked on loopback in our trial); the service's
stream handler is re-registered through the node's containment wrapper.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import trio
import trio.lowlevel
from libp2p.abc import IHost, INetStream
from libp2p.discovery.rendezvous.config import RENDEZVOUS_PROTOCOL
from libp2p.discovery.rendezvous.discovery import RendezvousDiscovery
from libp2p.discovery.rendezvous.service import RendezvousService
from libp2p.peer.id import ID

log = logging.getLogger(__name__)

NAMESPACE = "secondme/selves/1"
# How long a registration lasts at the point; we re-register well before it runs out.
REGISTRATION_TTL_SECONDS = 2 * 3600
RawHandler = Callable[[INetStream], Awaitable[None]]
Contain = Callable[[str, RawHandler], RawHandler]
Connect = Callable[[str, list[str]], Awaitable[None]]
Dial = Callable[[str], Awaitable[str]]


def serve_rendezvous(host: IHost, contain: Contain) -> RendezvousService:
    service = RendezvousService(host)
    host.set_stream_handler(RENDEZVOUS_PROTOCOL, contain(str(RENDEZVOUS_PROTOCOL), service._handle_stream))
    return service


async def use_rendezvous_point(host: IHost, point: str, dial: Dial, connect: Connect, interval_seconds: float) -> None:
    """Keep registered at `point` (a multiaddr with /p2p/) and connect to the selves it lists."""
    me = host.get_id()
    discovery: RendezvousDiscovery | None = None
    async with trio.open_nursery() as nursery:
        while True:
            try:
                with trio.fail_after(max(interval_seconds, 10.0)):
                    point_id = await dial(point)
                    if discovery is None:
                        discovery = RendezvousDiscovery(host, ID.from_base58(point_id))
                        nursery.start_soon(discovery.run)
                        await trio.lowlevel.checkpoint()  # let run() hand the client its nursery
                    await discovery.advertise(NAMESPACE, REGISTRATION_TTL_SECONDS)
                    found = [info async for info in discovery.find_peers(NAMESPACE, force_refresh=True)]
                for info in found:
                    if info.peer_id != me and info.addrs:
                        await connect(str(info.peer_id), [str(a) for a in info.addrs])
            except Exception as exc:  # an unreachable point must not end discovery
                log.info("rendezvous at %s: %s", point, exc)
            await trio.sleep(interval_seconds)
