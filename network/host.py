"""Build the py-libp2p host: this self's Ed25519 key, TCP, Noise as the only security, Yamux.

py-libp2p 0.8.1's `new_host` offers Noise, TLS, SECIO and `/plaintext/2.0.0` by default; over
plaintext a dialer can claim any peer ID without its key. We pass `sec_opt` with Noise alone,
so a dialer that cannot speak Noise fails security negotiation and never reaches a handler.

The Noise transport is also the earliest point where an inbound peer has a proven ID:
`GatedNoise` asks the node's gate there, so a blocked or banned peer is dropped before the
muxer, identify or any handler sees it, and before py-libp2p records it anywhere.

TCP is `tcp.ExclusiveTCP` (no port sharing). What the host announces (identify, `get_addrs`) is
its listen addresses made dialable (`addresses.dialable`), never the addresses strangers say
they observed us at: identify's observed-address discovery is off.

py-libp2p 0.8.1's swarm handles each inbound connection in a task that, once the connection is
up, waits for the *swarm* to stop, holding one of its `max_connections` inbound slots all the
while: after 300 inbound connections over a node's life, closed or not, it refused every new
one, and each left a task behind. `_inbound_slot_per_live_connection` replaces that handler on
our swarm with one that gives the slot (and its task) back when that connection closes. Its
auto-connector would dial peers from the peerstore (addresses peers announced about
themselves) until half the high watermark of connections; which peers to dial is this node's
decision alone (see node.py), so it is switched off.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence

import multiaddr
import trio
from libp2p import new_host
from libp2p.abc import IHost, IRawConnection, ISecureConn
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.keys import KeyPair
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.io.abc import ReadWriteCloser
from libp2p.network.config import ConnectionConfig
from libp2p.network.connection.raw_connection import RawConnection
from libp2p.network.swarm import Swarm
from libp2p.security.exceptions import HandshakeFailure
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport

from secondme.network.addresses import CachedInterfaces, dialable
from secondme.network.errors import InvalidAddress
from secondme.network.tcp import ExclusiveTCP

log = logging.getLogger(__name__)
# py-libp2p's import leaves its logger without a handler and not propagating, so Python's last
# resort printed its warnings and errors (a peer gone mid-stream) bare on the terminal: they go to
# the process's logging instead, which decides their level (the daemon keeps them at debug).
logging.getLogger("libp2p").propagate = True
SECURITY_PROTOCOLS = (str(NOISE_PROTOCOL_ID),)
# Why a peer (by its authenticated ID) may not connect, or None: the node's `Guard.refuse_peer`.
Gate = Callable[[str], str | None]


class GatedNoise(NoiseTransport):
    """Noise that refuses an inbound peer the gate names, right after the handshake proved its ID."""

    def __init__(self, key_pair: KeyPair, gate: Gate) -> None:
        super().__init__(key_pair, noise_privkey=create_x25519_key_pair().private_key)
        self._gate = gate

    async def secure_inbound(self, conn: IRawConnection) -> ISecureConn:
        secured = await super().secure_inbound(conn)
        refusal = self._gate(str(secured.get_remote_peer()))
        if refusal:
            await secured.close()
            raise HandshakeFailure(f"refused {secured.get_remote_peer()}: {refusal}")
        return secured


def key_pair_from_seed(seed: bytes) -> KeyPair:
    if len(seed) != 32:
        raise ValueError(f"an Ed25519 seed is 32 bytes, not {len(seed)}")
    return create_new_key_pair(seed)


def parse_multiaddrs(texts: Sequence[str]) -> list[multiaddr.Multiaddr]:
    parsed = []
    for text in texts:
        try:
            parsed.append(multiaddr.Multiaddr(text))
        except Exception as exc:
            raise InvalidAddress(f"{text!r} is not a multiaddr (example: /ip4/127.0.0.1/tcp/4001): {exc}") from exc
    return parsed


def build_host(
    key_pair: KeyPair, listen: Sequence[multiaddr.Multiaddr], tcp: ExclusiveTCP, gate: Gate = lambda peer: None
) -> IHost:
    security = {NOISE_PROTOCOL_ID: GatedNoise(key_pair, gate)}
    interfaces = CachedInterfaces()
    # No connection floor: which peers to keep connected is this node's decision (bootstrap, redial).
    connections = ConnectionConfig(min_connections=0, low_watermark=0)
    host = new_host(
        key_pair=key_pair,
        sec_opt=security,
        muxer_preference="YAMUX",
        listen_addrs=list(listen),
        connection_config=connections,
        transports=[tcp],
        addrs_factory=lambda candidates: dialable(candidates, interfaces()),
        disable_identify_address_discovery=True,
    )
    network = host.get_network()
    assert isinstance(network, Swarm)
    _inbound_slot_per_live_connection(network)
    network.auto_connector.maybe_connect = _dial_nobody  # type: ignore[method-assign]
    network.auto_connector.record_disconnect = lambda peer_id: None  # type: ignore[method-assign]  # its per-peer table
    return host


async def _dial_nobody() -> None:
    """py-libp2p's auto-connector, switched off (see the module docstring)."""


def _inbound_slot_per_live_connection(swarm: Swarm) -> None:
    """Handle inbound connections holding an inbound slot only while each is alive (see above).

    Same steps as py-libp2p's `_handle_inbound_connection` for TCP (slot, upgrade: security,
    then muxer, then `add_conn`), without what we do not use (metrics events, the IP gate,
    pre-multiplexed transports such as QUIC); the slot is released when the muxed connection
    closes, or at once when the upgrade fails.
    """
    limiter = swarm._inbound_limiter

    async def handle(read_write_closer: ReadWriteCloser, maddr: multiaddr.Multiaddr) -> None:
        try:
            limiter.acquire_nowait()
        except trio.WouldBlock:
            log.debug("inbound connection refused: all %d inbound slots are in use", limiter.total_tokens)
            with contextlib.suppress(Exception):
                await read_write_closer.close()
            return
        raw = RawConnection(read_write_closer, False)
        try:
            muxed = await swarm.upgrade_inbound_raw_conn(raw, maddr)
            await muxed.event_closed.wait()  # type: ignore[attr-defined]  # Yamux's
        except Exception as exc:
            log.debug("inbound connection on %s ended: %s", maddr, exc)
            with contextlib.suppress(Exception):
                await raw.close()
        finally:
            limiter.release()

    swarm._handle_inbound_connection = handle  # type: ignore[method-assign]
