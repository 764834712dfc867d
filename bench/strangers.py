"""Throwaway identities against a running secondmed, as a stranger on the network would send them.

Each visit mints a fresh Ed25519 key (peer IDs cost nothing), dials the daemon over Noise and
Yamux with a plain py-libp2p host, stays while the daemon runs identify on it, reads the card
with no grant, and leaves. `churn` runs many visits, a few at a time; `probe_accepts` times
fresh connections one after another (how fast the daemon accepts while busy, or idle).
Used by bench/bench_strangers.py and tests/test_mesh_strangers.py.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import multiaddr
import trio
from libp2p import new_host
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.network.config import ConnectionConfig
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport

from secondme.network.framing import FramedStream
from secondme.network.host import key_pair_from_seed
from secondme.network.protocols import CARD_PROTOCOL
from secondme.v1 import wire_pb2

# How long a stranger stays connected: past the daemon's identify and its report of the peer.
LINGER_SECONDS = 1.2


@dataclass
class ChurnResult:
    visits: int = 0
    failed: int = 0
    seconds: float = 0.0
    cards: list[wire_pb2.Card] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def visit(address: str, linger: float = LINGER_SECONDS) -> wire_pb2.Card:
    """One throwaway identity: connect, read the card with no grant, leave."""
    info = info_from_p2p_addr(multiaddr.Multiaddr(address))
    key_pair = key_pair_from_seed(os.urandom(32))
    host = new_host(
        key_pair=key_pair,
        sec_opt={NOISE_PROTOCOL_ID: NoiseTransport(key_pair, noise_privkey=create_x25519_key_pair().private_key)},
        muxer_preference="YAMUX",
        connection_config=ConnectionConfig(min_connections=0, low_watermark=0),
    )
    async with host.run(listen_addrs=[]):
        with trio.fail_after(30):
            await host.connect(info)
            started = trio.current_time()
            stream = await host.new_stream(info.peer_id, [CARD_PROTOCOL])
            framed = FramedStream(stream, 64 * 1024, 10.0)
            await framed.write(wire_pb2.CardRequest())
            card = await framed.read(wire_pb2.Card)
            await stream.close()
            await trio.sleep_until(started + linger)
            await host.disconnect(info.peer_id)
    return card


async def churn(address: str, count: int, concurrency: int, keep_cards: int = 3) -> ChurnResult:
    """`count` visits, `concurrency` at a time."""
    result = ChurnResult()
    limiter = trio.CapacityLimiter(concurrency)

    async def one() -> None:
        async with limiter:
            try:
                card = await visit(address)
            except Exception as exc:  # a refused or failed visit is counted, not fatal
                result.failed += 1
                if len(result.errors) < 5:
                    result.errors.append(f"{type(exc).__name__}: {exc}")
                return
            result.visits += 1
            if len(result.cards) < keep_cards:
                result.cards.append(card)

    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(count):
            nursery.start_soon(one)
    result.seconds = time.perf_counter() - started
    return result


async def probe_accepts(address: str, count: int) -> list[float]:
    """Seconds for each of `count` fresh identities, one after another, to be accepted and answered."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await visit(address, linger=0.0)
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    """`python bench/strangers.py ADDRESS COUNT AT_ONCE`: a crowd from its own process (so the
    crowd's client work does not slow a probe running in the caller's)."""
    import sys

    address, count, at_once = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    result = trio.run(churn, address, count, at_once)
    print(f"{result.visits} {result.failed} {result.seconds:.2f}", flush=True)
    for error in result.errors:
        print(error, file=sys.stderr)


if __name__ == "__main__":
    main()
