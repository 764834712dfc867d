"""Protection against hostile or buggy peers, modelled on go-libp2p's resource manager and gater.

`Guard` is plain bookkeeping with an injectable clock, used only from the trio thread (so it
needs no lock; the asyncio side reaches it only through the bridge, and the owner's blocklist
changes check that): the node asks it before accepting a connection, a stream or a session,
tells it when they end, and reports protocol offences (`strike`); enough strikes ban the peer
for a while. The owner's blocklist lives here too, so it is checked at accept time and after
every handshake.

Every per-peer table here is bounded by what is live: counters go when they reach zero, and
`prune` (run periodically by the node) drops rate buckets that have refilled, activity stamps of
peers no longer connected, strikes that have aged out and bans that have ended. So peers that
come and go (throwaway identities cost nothing to mint) leave nothing behind.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass
class MeshLimits:
    """What one peer, and all of them, may cost this node; settings in `[network]` (`NetworkSettings`)."""

    max_connections: int = 256
    max_connections_per_peer: int = 4
    max_streams_per_peer: int = 64
    max_streams_per_protocol: int = 512
    max_sessions_per_peer: int = 4
    # Stream opens per second per peer (token bucket), and the burst allowed above the rate.
    rate_per_second: float = 50.0
    rate_burst: int = 100
    strikes_before_ban: int = 3
    # How long a ban lasts, and how long a strike counts toward one.
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
class _Strikes:
    count: int
    last: float


@dataclass
class Guard:
    limits: MeshLimits
    clock: Callable[[], float] = time.monotonic
    blocked: set[str] = field(default_factory=set)
    _streams: Counter[str] = field(default_factory=Counter)
    _protocol_streams: Counter[str] = field(default_factory=Counter)
    _sessions: Counter[str] = field(default_factory=Counter)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _strikes: dict[str, _Strikes] = field(default_factory=dict)
    _banned_until: dict[str, float] = field(default_factory=dict)
    _last_active: dict[str, float] = field(default_factory=dict)
    # The thread that owns this guard (the trio thread); the blocklist changes check it.
    _owner: int = field(default_factory=threading.get_ident)

    def set_blocked(self, peers: Iterable[str]) -> None:
        self._check_thread()
        self.blocked = set(peers)

    def block(self, peer: str) -> None:
        self._check_thread()
        self.blocked.add(peer)

    def unblock(self, peer: str) -> None:
        self._check_thread()
        self.blocked.discard(peer)

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
        now = self.clock()
        strikes = self._strikes.get(peer)
        if strikes is None or now - strikes.last >= self.limits.ban_seconds:
            strikes = self._strikes[peer] = _Strikes(0, now)
        strikes.count += 1
        strikes.last = now
        if strikes.count >= self.limits.strikes_before_ban:
            self._banned_until[peer] = now + self.limits.ban_seconds
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

    def forget(self, peer: str) -> None:
        """The peer's last connection closed: drop what only mattered while it was connected."""
        if not self._streams.get(peer) and not self._sessions.get(peer):
            self._last_active.pop(peer, None)

    def prune(self, connected: Iterable[str]) -> None:
        """Drop every entry that no longer changes a decision (see the module docstring)."""
        now = self.clock()
        live = set(connected)
        for peer in [p for p in self._last_active if p not in live and not self._streams.get(p)]:
            del self._last_active[peer]
        full = float(self.limits.rate_burst)
        for peer, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.stamp) * self.limits.rate_per_second >= full:
                del self._buckets[peer]
        for peer in [p for p, until in self._banned_until.items() if now >= until]:
            del self._banned_until[peer]
        for peer in [p for p, s in self._strikes.items() if p not in self._banned_until]:
            if now - self._strikes[peer].last >= self.limits.ban_seconds:
                del self._strikes[peer]

    def table_sizes(self) -> dict[str, int]:
        """How many entries each per-peer table holds (tests and benches watch these stay bounded)."""
        return {
            "streams": len(self._streams),
            "sessions": len(self._sessions),
            "buckets": len(self._buckets),
            "strikes": len(self._strikes),
            "bans": len(self._banned_until),
            "last_active": len(self._last_active),
        }

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

    def _check_thread(self) -> None:
        if threading.get_ident() != self._owner:
            raise RuntimeError("the mesh's Guard is used from another thread; go through the bridge (TrioBridge.call)")
