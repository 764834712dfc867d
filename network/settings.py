"""`[network]` in the config, defined once: what the daemon loads and validates is what the node runs on.

The limits (`MeshLimits`, which the node's `Guard` enforces) are settings like the others in the
section, so `NetworkSettings` extends them instead of restating them: the daemon composes it into
its `Config`, and hands the same object to the node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from secondme.network.limits import MeshLimits


@dataclass
class NetworkSettings(MeshLimits):
    # Run the mesh at all.
    enabled: bool = True
    # Listening on every interface lets selves on the LAN dial this one; /tcp/0 takes a free port.
    listen: list[str] = field(default_factory=lambda: ["/ip4/0.0.0.0/tcp/4001"])
    # Announce this self on the LAN and list the selves found there (`peers discovered`), on the
    # listen addresses' interfaces only.
    mdns: bool = True
    # Also dial the selves mDNS finds. Off: only those already in the address book are dialled,
    # since any host on the LAN can announce any address and port.
    mdns_autoconnect: bool = False
    # Announce this self as a Kademlia DHT provider record to every DHT peer and look up others:
    # finds selves beyond the LAN through peers in common. Off by default: it tells strangers
    # this node exists.
    dht: bool = False
    dht_interval_seconds: float = 300.0
    # Rendezvous points (multiaddrs ending in /p2p/PEER_ID) to register at and find selves through,
    # and whether this self serves as one for others; seconds per registration/discovery round.
    rendezvous: list[str] = field(default_factory=list)
    rendezvous_server: bool = False
    rendezvous_interval_seconds: float = 300.0
    # Multiaddrs ending in /p2p/PEER_ID, dialled at start and re-dialled with backoff.
    bootstrap: list[str] = field(default_factory=list)
    # Dials the node makes on its own (redialling the address book, bootstrap, discovery) per minute.
    max_dials_per_minute: int = 30
    # Peers met or discovered but not chosen (dialled, granted, blocked, looked at) are kept in
    # memory only: this many at most, each forgotten this long after it was last seen.
    max_recent_peers: int = 256
    recent_peer_seconds: float = 3600.0
    # Put secondme's version on the card any peer can read. Off: it tells an attacker which
    # exploit to try and a friend nothing they need.
    advertise_version: bool = False
