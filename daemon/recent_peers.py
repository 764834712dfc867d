"""Peers met or discovered but not chosen by the owner: in memory, bounded, forgotten in time.

Peer IDs cost nothing to mint, so a peer the owner never dialled, granted, blocked or looked at
gets no row in the address book. What the daemon knows of it (its addresses, when it was last
seen, how it was found) lives in a `RecentPeers` table instead: at most `max_entries` peers,
the least recently seen dropped first, and each entry forgotten `max_age_seconds` after it was
last seen. `peers list` shows the connected ones, `peers discovered` the discovered ones.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from secondme.network.addresses import is_unspecified

# Enough to list and dial a peer that moved; a peer announcing more gets the first ones.
MAX_ADDRESSES = 8


@dataclass(frozen=True)
class RecentPeer:
    peer_id: str
    addresses: list[str]
    source: str  # "connected", "mdns", "dht", "rendezvous"
    seen_at: datetime


class RecentPeers:
    def __init__(self, max_entries: int, max_age_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.max_age_seconds = max_age_seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, RecentPeer]] = OrderedDict()

    def seen(self, peer_id: str, addresses: list[str], source: str) -> None:
        self._expire()
        self._entries.pop(peer_id, None)
        dialable = [a for a in dict.fromkeys(addresses) if not is_unspecified(a)]  # 0.0.0.0 is nobody's
        entry = RecentPeer(peer_id, dialable[:MAX_ADDRESSES], source, datetime.now(UTC))
        self._entries[peer_id] = (self._clock(), entry)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def get(self, peer_id: str) -> RecentPeer | None:
        self._expire()
        found = self._entries.get(peer_id)
        return found[1] if found else None

    def forget(self, peer_id: str) -> None:
        self._entries.pop(peer_id, None)

    def entries(self) -> list[RecentPeer]:
        """Newest first."""
        self._expire()
        return [entry for _, entry in reversed(self._entries.values())]

    def __len__(self) -> int:
        self._expire()
        return len(self._entries)

    def _expire(self) -> None:
        cutoff = self._clock() - self.max_age_seconds
        while self._entries:
            stamp, _ = next(iter(self._entries.values()))
            if stamp > cutoff:
                return
            self._entries.popitem(last=False)
