"""Finding selves beyond the LAN: Kademlia DHT provider records under one well-known key.

Every self with the DHT on announces itself as a provider of `SELVES_KEY` and looks up the
other providers, connecting to those it is not connected to yet. py-libp2p 0.8.1's KadDHT
(provider records and lookups worked on loopback in our trial) is used as is, except that its
stream handler is re-registered through the node's containment wrapper: an exception escaping
it would stop the whole host.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import trio
from libp2p.abc import IHost, INetStream
from libp2p.kad_dht.common import PROTOCOL_ID
from libp2p.kad_dht.kad_dht import DHTMode, KadDHT
from libp2p.tools.anyio_service.context import background_trio_service

log = logging.getLogger(__name__)

SELVES_KEY = "/secondme/selves/1.0.0"
RawHandler = Callable[[INetStream], Awaitable[None]]
Contain = Callable[[str, RawHandler], RawHandler]
Connect = Callable[[str, list[str]], Awaitable[None]]


async def run_dht(
    host: IHost,
    contain: Contain,
    connect: Connect,
    interval_seconds: float,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    dht = KadDHT(host, DHTMode.SERVER)
    host.set_stream_handler(PROTOCOL_ID, contain(str(PROTOCOL_ID), dht.handle_stream))
    me = host.get_id()
    async with background_trio_service(dht):
        task_status.started()
        while True:
            try:
                with trio.fail_after(max(interval_seconds, 5.0)):
                    await dht.provide(SELVES_KEY)
                    providers = await dht.find_providers(SELVES_KEY)
                for info in providers:
                    if info.peer_id != me and info.addrs:
                        await connect(str(info.peer_id), [str(a) for a in info.addrs])
            except Exception as exc:  # one failed round must not end discovery
                log.info("DHT round failed: %s", exc)
            await trio.sleep(interval_seconds)
