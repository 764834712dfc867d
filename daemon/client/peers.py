"""The mesh as the owner sees it: this self's addresses, other selves, their cards, and sessions with them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from secondme.daemon.client.convert import enum_number, from_message
from secondme.daemon.client.stubs import Stubs
from secondme.v1 import peer_pb2, wire_pb2

CALL_SECONDS = 10
DIAL_SECONDS = 30


@dataclass
class Self:
    peer_id: str
    # Addresses other selves can dial, each ending in /p2p/PEER_ID.
    addresses: list[str]


@dataclass
class CardShade:
    name: str
    description: str


@dataclass
class Card:
    display_name: str
    bio: str
    shades: list[CardShade]
    # roleplay | icebreak | brainstorm
    session_kinds: list[str]
    software_version: str
    biography: str
    peer_id: str
    protocols: list[str]
    # Why nothing about the owner is on the card; empty when a grant allowed it.
    withheld: str


@dataclass
class Peer:
    peer_id: str
    addresses: list[str]
    last_seen: datetime | None
    connected: bool
    blocked: bool
    card: Card | None
    known: bool


@dataclass
class DiscoveredPeer:
    peer_id: str
    addresses: list[str]
    # mdns | dht | rendezvous
    source: str
    last_seen: datetime | None
    connected: bool
    known: bool


@dataclass
class GrantSent:
    peer_id: str
    accepted: bool
    # Why the peer refused it; empty when accepted.
    message: str


class PeerCalls:
    def __init__(self, wire: Stubs) -> None:
        self._wire = wire

    def me(self) -> Self:
        response = self._wire.call(self._wire.peers.GetSelf, peer_pb2.GetSelfRequest(), CALL_SECONDS)
        return from_message(Self, response)

    def list(self) -> list[Peer]:
        response = self._wire.call(self._wire.peers.ListPeers, peer_pb2.ListPeersRequest(), CALL_SECONDS)
        return [from_message(Peer, p) for p in response.peers]

    def discovered(self) -> list[DiscoveredPeer]:
        response = self._wire.call(self._wire.peers.ListDiscovered, peer_pb2.ListDiscoveredRequest(), CALL_SECONDS)
        return [from_message(DiscoveredPeer, p) for p in response.peers]

    def connect(self, multiaddr: str) -> str:
        """Dial an address ending in /p2p/PEER_ID; returns the peer ID."""
        request = peer_pb2.ConnectRequest(multiaddr=multiaddr)
        return self._wire.call(self._wire.peers.Connect, request, DIAL_SECONDS).peer_id

    def disconnect(self, peer_id: str) -> bool:
        """Returns whether it was connected."""
        request = peer_pb2.DisconnectRequest(peer_id=peer_id)
        return self._wire.call(self._wire.peers.Disconnect, request, CALL_SECONDS).was_connected

    def card(self, peer_id: str) -> Card:
        request = peer_pb2.GetCardRequest(peer_id=peer_id)
        return from_message(Card, self._wire.call(self._wire.peers.GetCard, request, DIAL_SECONDS).card)

    def send_grant(self, grant_id: str, peer_id: str = "") -> GrantSent:
        request = peer_pb2.SendGrantRequest(grant_id=grant_id, peer_id=peer_id)
        return from_message(GrantSent, self._wire.call(self._wire.peers.SendGrant, request, DIAL_SECONDS))

    def block(self, peer_id: str) -> None:
        self._wire.call(self._wire.peers.Block, peer_pb2.BlockRequest(peer_id=peer_id), CALL_SECONDS)

    def unblock(self, peer_id: str) -> None:
        self._wire.call(self._wire.peers.Unblock, peer_pb2.UnblockRequest(peer_id=peer_id), CALL_SECONDS)

    def exchange(self, peer_id: str, kind: str, turns: Sequence[str], timeout: float = 120) -> list[str]:
        """One session of `kind` (roleplay | icebreak | brainstorm) with the peer: its reply to each turn."""
        request = peer_pb2.ExchangeRequest(
            peer_id=peer_id, kind=enum_number(wire_pb2.SessionKind.DESCRIPTOR, kind, "kind"), turns=list(turns)
        )
        return list(self._wire.call(self._wire.peers.Exchange, request, timeout).replies)
