"""What the network layer needs from the rest of the daemon, as small Protocols on our side.

The daemon passes the real `permissions.GrantAuthority` as `Authority`, and a `MeshDelegate`
whose methods run on the daemon's asyncio loop (the bridge adapts them); tests pass their own.
"""

from __future__ import annotations

from typing import Protocol

from secondme.permissions import Action, Decision, IdentityView, SessionHandle


class Authority(Protocol):
    """The decision maker for every peer request; sync and thread-safe (see permissions)."""

    def authorize(self, remote_peer_id: str, action: Action, token: str | bytes) -> Decision: ...

    def open_session(self, remote_peer_id: str, action: Action, token: str | bytes) -> Decision: ...

    def record_turn(self, handle: SessionHandle) -> Decision: ...

    def close_session(self, handle: SessionHandle) -> None: ...


class MeshDelegate(Protocol):
    """Calls from the mesh into the daemon. Called on the trio thread; implementations adapt."""

    async def identity(self) -> IdentityView:
        """The owner's identity as the disclosure policy sees it (name, bio, shades)."""
        ...

    async def grant_received(self, peer_id: str, envelope: bytes) -> tuple[bool, str]:
        """A grant arrived from the authenticated `peer_id`: verify, store, tell the owner."""
        ...

    async def answer_turn(self, peer_id: str, session: SessionHandle, text: str) -> str: ...

    async def peer_seen(self, peer_id: str, addresses: list[str]) -> None:
        """A peer connected (either way) and identify told us its listen addresses."""
        ...

    async def peer_discovered(self, peer_id: str, addresses: list[str], source: str) -> bool:
        """A self found by `source` ("mdns", "dht", "rendezvous"): list it; True to dial it."""
        ...
