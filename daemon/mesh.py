"""The daemon's side of the mesh: builds the node on its trio thread and answers its questions.

`Mesh` owns the bridge, hands the node the grant authority and a delegate whose coroutines run
here on the asyncio loop (identity for cards, storing delivered grants, answering turns,
recording peers in the address book), and offers the PeerService the owner's actions, one
method each: every one crosses to the trio thread through the bridge, and nothing else does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from secondme.daemon.recent_peers import RecentPeers
from secondme.daemon.store.grants import GrantRepository
from secondme.daemon.store.peers import PeerRepository
from secondme.network.bridge import AsyncioDelegate, TrioBridge
from secondme.network.errors import InvalidAddress, MeshError
from secondme.network.node import MeshNode
from secondme.network.settings import NetworkSettings
from secondme.permissions import (
    Action,
    GrantAuthority,
    GrantError,
    IdentityView,
    PublicCard,
    SessionHandle,
    open_envelope,
)
from secondme.v1 import wire_pb2

log = logging.getLogger(__name__)
AnswerTurn = Callable[[str, SessionHandle, str], Awaitable[str]]
# How long the node's own addresses are answered from memory: `status` is asked many times a
# second by watchers, and each fresh answer crosses to the trio thread and lists the interfaces.
ADDRESSES_MAX_AGE_SECONDS = 1.0


class MeshStartError(MeshError):
    """The mesh cannot start (bad address in [network], port in use); secondmed says so in one line."""


class DaemonDelegate:
    """What the node asks of the daemon, answered on the asyncio loop.

    Only peers the owner chose get a row in the address book (see `store.peers`); the others
    are kept in two bounded in-memory tables: `strangers` (connected to us) and `discovered`
    (found by mDNS, the DHT or a rendezvous point).
    """

    def __init__(
        self,
        me: str,
        display_name: str,
        peers: PeerRepository,
        grants: GrantRepository,
        answer_turn: AnswerTurn,
        settings: NetworkSettings,
        received_grants_per_peer: int,
    ) -> None:
        self.me = me
        self.display_name = display_name
        self.peers = peers
        self.grants = grants
        self._answer_turn = answer_turn
        self.strangers = RecentPeers(settings.max_recent_peers, settings.recent_peer_seconds)
        self.discovered = RecentPeers(settings.max_recent_peers, settings.recent_peer_seconds)
        self.mdns_autoconnect = settings.mdns_autoconnect
        self.received_grants_per_peer = received_grants_per_peer

    async def identity(self) -> IdentityView:
        # The memory pipeline fills headline, biography and shades later; the path exists now.
        return IdentityView(PublicCard(self.display_name, ""))

    async def grant_received(self, peer_id: str, envelope: bytes) -> tuple[bool, str]:
        try:
            grant = open_envelope(envelope)
        except GrantError as exc:
            return False, f"not a valid grant: {exc.message}"
        if grant.issuer != peer_id:
            return False, f"grant {grant.id_hex} was issued by {grant.issuer}, not by the sender {peer_id}"
        if grant.audience != self.me:
            return False, f"grant {grant.id_hex} is for {grant.audience}, not for this node ({self.me})"
        already, dropped = await self.grants.add_delivered(grant, envelope, self.received_grants_per_peer)
        log.info(
            "received grant %s from %s (scopes %s)%s%s",
            grant.id_hex,
            peer_id,
            ", ".join(sorted(grant.scopes)),
            " again" if already else "",
            f"; dropped its {dropped} oldest (at most {self.received_grants_per_peer} kept per peer)"
            if dropped
            else "",
        )
        return True, ""

    async def answer_turn(self, peer_id: str, session: SessionHandle, text: str) -> str:
        return await self._answer_turn(peer_id, session, text)

    async def peer_seen(self, peer_id: str, addresses: list[str]) -> None:
        if await self.peers.is_chosen(peer_id):
            await self.peers.seen(peer_id, addresses)
        else:
            self.strangers.seen(peer_id, addresses, "connected")

    async def peer_discovered(self, peer_id: str, addresses: list[str], source: str) -> bool:
        """List the self; dial it if the owner chose it before, or mDNS autoconnect is on, or
        it came from the DHT or a rendezvous point (both off by default: the owner who turns
        one on asks for its selves to be connected)."""
        self.discovered.seen(peer_id, addresses, source)
        if await self.peers.is_chosen(peer_id):
            return True
        return self.mdns_autoconnect if source == "mdns" else True


class Mesh:
    """The node on its trio thread, started with `delegate` (built by the composition root with the
    session handler it chose) for what the node asks of the daemon."""

    def __init__(
        self,
        seed: bytes,
        settings: NetworkSettings,
        software_version: str,
        authority: GrantAuthority,
        peers: PeerRepository,
        grants: GrantRepository,
        delegate: DaemonDelegate,
    ) -> None:
        self.peers = peers
        self.grants = grants
        self.bridge = TrioBridge()
        self.delegate = delegate
        self._seed = seed
        self._settings = settings
        self._software_version = software_version
        self._authority = authority
        self.peer_id = authority.peer_id
        self._node: MeshNode | None = None
        self._addresses: tuple[float, list[str]] = (0.0, [])

    @property
    def running(self) -> bool:
        return self._node is not None

    @property
    def node(self) -> MeshNode:
        """The trio-side node: pass its methods to `bridge.call`, never call them from here."""
        if self._node is None:
            raise MeshError("the mesh is not running")
        return self._node

    async def start(self) -> None:
        delegate = AsyncioDelegate(self.delegate, self.bridge)
        # The blocklist goes in with the node, so it holds before the first connection is accepted.
        blocked = [p for p in await self.peers.blocked() if p != self.peer_id]
        try:
            self._node = await self.bridge.start(
                lambda: MeshNode(self._seed, self._settings, self._authority, delegate, blocked, self._software_version)
            )
        except (MeshError, OSError) as exc:
            raise MeshStartError(
                f"the mesh could not start: {exc}; check [network] listen, bootstrap and rendezvous in the "
                "config, or set network.enabled = false"
            ) from exc
        known = [p for p in await self.peers.redial_candidates() if p.peer_id != self.peer_id]
        if known:
            await self.bridge.call(self.node.redial, [(p.peer_id, p.addresses) for p in known])

    async def stop(self) -> None:
        await self.bridge.stop()
        self._node = None

    # -- the owner's actions, each one crossing to the trio thread through the bridge ---------

    async def addresses(self) -> list[str]:
        at, known = self._addresses
        if known and time.monotonic() - at < ADDRESSES_MAX_AGE_SECONDS:
            return list(known)
        known = await self.bridge.call_sync(self.node.addresses)
        self._addresses = (time.monotonic(), known)
        return list(known)

    async def connected_peers(self) -> list[str]:
        return await self.bridge.call_sync(self.node.connected_peers)

    async def connect(self, multiaddr: str) -> str:
        """The owner dials: the peer joins the address book and is redialled after a restart."""
        peer_id = await self.bridge.call(self.node.connect, multiaddr)
        await self.peers.dialled(peer_id, [multiaddr])
        self.delegate.strangers.forget(peer_id)
        return peer_id

    async def disconnect(self, peer_id: str) -> bool:
        return await self.bridge.call(self.node.disconnect, peer_id)

    async def fetch_card(self, peer_id: str) -> wire_pb2.Card:
        """The peer's card, presenting a card grant it gave us if we hold one; stored with the peer."""
        grant = await self.grant_for(peer_id, Action.CARD)
        card = await self.bridge.call(self.node.fetch_card, peer_id, grant, await self.addresses_of(peer_id))
        await self.peers.save_card(peer_id, card.SerializeToString())
        return card

    async def send_grant(self, peer_id: str, envelope: bytes) -> wire_pb2.GrantReceipt:
        return await self.bridge.call(self.node.send_grant, peer_id, envelope, await self.addresses_of(peer_id))

    async def exchange(self, peer_id: str, kind: int, grant: bytes, turns: list[str]) -> list[str]:
        addresses = await self.addresses_of(peer_id)
        return await self.bridge.call(self.node.exchange, peer_id, kind, grant, turns, addresses)

    async def addresses_of(self, peer_id: str) -> list[str]:
        """Where to dial a peer the owner asks for, if it is not connected: the address book's
        addresses, else what it announced when it last connected or was discovered."""
        record = await self.peers.get(peer_id)
        if record is not None and record.addresses:
            return record.addresses
        for table in (self.delegate.strangers, self.delegate.discovered):
            met = table.get(peer_id)
            if met is not None and met.addresses:
                return [a.split("/p2p/", 1)[0] for a in met.addresses]
        return []

    async def block(self, peer_id: str) -> None:
        if peer_id == self.peer_id:
            raise InvalidAddress("that is this node's own peer ID; a node cannot block itself")
        await self.peers.set_blocked(peer_id, True)
        await self.bridge.call(self.node.block, peer_id)

    async def unblock(self, peer_id: str) -> None:
        await self.peers.set_blocked(peer_id, False)
        await self.bridge.call(self.node.unblock, peer_id)

    async def grant_for(self, peer_id: str, action: Action) -> bytes:
        """The envelope of an unexpired grant `peer_id` gave us that covers `action`, or b''."""
        for record in await self.grants.received_from(peer_id, datetime.now(UTC)):
            if record.grant.allows(action) and record.revoked_at is None:
                return record.envelope
        return b""
