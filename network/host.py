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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import multiaddr
from libp2p import new_host
from libp2p.abc import IHost, IRawConnection, ISecureConn
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.keys import KeyPair
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.network.config import ConnectionConfig
from libp2p.security.exceptions import HandshakeFailure
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport

from secondme.network.addresses import CachedInterfaces, dialable
from secondme.network.errors import InvalidAddress
from secondme.network.tcp import ExclusiveTCP

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
    # py-libp2p's connection manager otherwise dials every peer in its peerstore until it has 50
    # connections; which peers to keep connected is this node's decision (bootstrap, redial).
    connections = ConnectionConfig(min_connections=0, low_watermark=0)
    return new_host(
        key_pair=key_pair,
        sec_opt=security,
        muxer_preference="YAMUX",
        listen_addrs=list(listen),
        connection_config=connections,
        transports=[tcp],
        addrs_factory=lambda candidates: dialable(candidates, interfaces()),
        disable_identify_address_discovery=True,
    )
