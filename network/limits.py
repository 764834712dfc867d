"""Protection against hostile or buggy peers, modelled on go-libp2p's resource manager and gater.

`Guard` is plain bookkeeping with an injectable clock, used only from the trio thread (so it
needs no lock): the node asks it before accepting a connection, a stream or a session, tells it
when they end, and reports protocol offences (`strike`); enough strikes ban the peer for a while.
The owner's blocklist lives here too, so it is checked at accept time and after every handshake.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MeshLimits:
    max_connections: int = 256
    max_connections_per_peer: int = 4
    max_streams_per_peer: int = 64
    max_streams_per_protocol: int = 512
    max_sessions_per_peer: int = 4
    # Stream opens per second per peer (token bucket), and the burst allowed above the rate.
    rate_per_second: float = 50.0
    rate_burst: int = 100
    strikes_before_ban: int = 3
    ban_seconds: float = 300.0
    max_frame_bytes: int = 64 * 1024
    # Seconds a started frame may take to arrive in full (slowloris bound).
    read_timeout_seconds: float = 10.0
    # Seconds a session may wait for the next turn before it is closed.
    session_idle_seconds: float = 120.0
    # Connections with no open stream for this long are closed.
    idle_connection_seconds: float = 300.0


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class Guard:
    limits: MeshLimits
    clock: Callable[[], float] = time.monotonic
    blocked: set[str] = field(default_factory=set)
    _streams: Counter[str] = field(default_factory=Counter)
    _protocol_streams: Counter[str] = field(default_factory=Counter)
    _sessions: Counter[str] = field(default_factory=Counter)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _strikes: Counter[str] = field(default_factory=Counter)
    _banned_until: dict[str, float] = field(default_factory=dict)
    _last_active: dict[str, float] = field(default_factory=dict)

    def set_blocked(self, peers: Iterable[str]) -> None:
        self.blocked = set(peers)

    def refuse_peer(self, peer: str) -> str | None:
        """Why this peer may not talk to us at all right now, or None."""
        if peer in self.blocked:
            return "blocked by the owner"
        until = self._banned_until.get(peer)
        if until is not None:
            if self.clock() < until:
                return "temporarily banned after repeated protocol violations"
            del self._banned_until[peer]
            self._strikes.pop(peer, None)
        return None

    def admit_connection(self, peer: str, total: int, from_peer: int) -> str | None:
        """Called once Noise authenticated the peer: `total`/`from_peer` include this connection."""
        refusal = self.refuse_peer(peer)
        if refusal:
            return refusal
        if total > self.limits.max_connections:
            return f"connection limit reached ({self.limits.max_connections})"
        if from_peer > self.limits.max_connections_per_peer:
            return f"per-peer connection limit reached ({self.limits.max_connections_per_peer})"
        return None

    def open_stream(self, peer: str, protocol: str) -> str | None:
        refusal = self.refuse_peer(peer)
        if refusal:
            return refusal
        if not self._take_token(peer):
            return "rate limit exceeded"
        if self._streams[peer] >= self.limits.max_streams_per_peer:
            return f"per-peer stream limit reached ({self.limits.max_streams_per_peer})"
        if self._protocol_streams[protocol] >= self.limits.max_streams_per_protocol:
            return f"stream limit for {protocol} reached ({self.limits.max_streams_per_protocol})"
        self._streams[peer] += 1
        self._protocol_streams[protocol] += 1
        self._last_active[peer] = self.clock()
        return None

    def close_stream(self, peer: str, protocol: str) -> None:
        self._streams[peer] -= 1
        if self._streams[peer] <= 0:
            del self._streams[peer]
        self._protocol_streams[protocol] -= 1
        if self._protocol_streams[protocol] <= 0:
            del self._protocol_streams[protocol]
        self._last_active[peer] = self.clock()

    def open_session(self, peer: str) -> str | None:
        if self._sessions[peer] >= self.limits.max_sessions_per_peer:
            return f"too many concurrent sessions from this peer (limit {self.limits.max_sessions_per_peer})"
        self._sessions[peer] += 1
        return None

    def close_session(self, peer: str) -> None:
        self._sessions[peer] -= 1
        if self._sessions[peer] <= 0:
            del self._sessions[peer]

    def strike(self, peer: str) -> bool:
        """Count one protocol offence; True when the peer is now banned (drop its connections)."""
        self._strikes[peer] += 1
        if self._strikes[peer] >= self.limits.strikes_before_ban:
            self._banned_until[peer] = self.clock() + self.limits.ban_seconds
            return True
        return False

    def idle_peers(self, connected: Iterable[str]) -> list[str]:
        """Connected peers with no open stream for `idle_connection_seconds`."""
        now = self.clock()
        idle = []
        for peer in connected:
            if self._streams.get(peer):
                continue
            last = self._last_active.setdefault(peer, now)
            if now - last >= self.limits.idle_connection_seconds:
                idle.append(peer)
        return idle

    def streams_open(self, peer: str) -> int:
        return self._streams.get(peer, 0)

    def _take_token(self, peer: str) -> bool:
        now = self.clock()
        bucket = self._buckets.get(peer)
        if bucket is None:
            bucket = self._buckets[peer] = _Bucket(float(self.limits.rate_burst), now)
        refill = (now - bucket.stamp) * self.limits.rate_per_second
        bucket.tokens = min(float(self.limits.rate_burst), bucket.tokens + refill)
        bucket.stamp = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True
