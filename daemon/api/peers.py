"""PeerService: the owner's view of the mesh. Translates protobuf to mesh calls and back.

Every call that touches libp2p is a `Mesh` method, which crosses to the trio thread through the
bridge; this module never touches the node itself.
"""

from __future__ import annotations

import grpc

from secondme.daemon.api.convert import to_timestamp
from secondme.daemon.api.errors import FailedPrecondition, InvalidArgument, grpc_errors
from secondme.daemon.mesh import Mesh
from secondme.network.errors import RemoteRefused
from secondme.network.node import parse_peer_id
from secondme.network.protocols import SESSION_ACTIONS
from secondme.v1 import peer_pb2, peer_pb2_grpc

MAX_EXCHANGE_TURNS = 100


def _peer_id(text: str, field: str = "peer_id") -> str:
    if not text:
        raise InvalidArgument(f"{field}: give the peer ID (12D3KooW..., as `secondmectl peers list` shows)")
    return str(parse_peer_id(text.strip()))


class PeerServicer(peer_pb2_grpc.PeerServiceServicer):
    def __init__(self, mesh: Mesh | None) -> None:
        self._mesh = mesh

    @property
    def mesh(self) -> Mesh:
        if self._mesh is None or not self._mesh.running:
            raise FailedPrecondition("the mesh is off (network.enabled = false in the config)")
        return self._mesh

    @grpc_errors
    async def GetSelf(
        self, request: peer_pb2.GetSelfRequest, context: grpc.aio.ServicerContext
    ) -> peer_pb2.GetSelfResponse:
        mesh = self.mesh
        return peer_pb2.GetSelfResponse(peer_id=mesh.peer_id, addresses=await mesh.addresses())

    @grpc_errors
    async def ListPeers(
        self, request: peer_pb2.ListPeersRequest, context: grpc.aio.ServicerContext
    ) -> peer_pb2.ListPeersResponse:
        mesh = self.mesh
        connected = set(await mesh.connected_peers())
        peers = []
        for record in await mesh.peers.list():
            if record.peer_id == mesh.peer_id:  # a row left by an older version; never list ourselves
                continue
            peer = peer_pb2.Peer(
                peer_id=record.peer_id,
                addresses=record.addresses,
                connected=record.peer_id in connected,
                blocked=record.blocked,
                known=True,
            )
            if record.last_seen:
                peer.last_seen.CopyFrom(to_timestamp(record.last_seen))
            if record.card:
                peer.card.ParseFromString(record.card)
            peers.append(peer)
            connected.discard(record.peer_id)
        for stranger in sorted(connected):
            peer = peer_pb2.Peer(peer_id=stranger, connected=True)
            met = mesh.delegate.strangers.get(stranger)
            if met is not None:
                peer.addresses.extend(met.addresses)
                peer.last_seen.CopyFrom(to_timestamp(met.seen_at))
            peers.append(peer)
        return peer_pb2.ListPeersResponse(peers=peers)

    @grpc_errors
    async def ListDiscovered(
        self, request: peer_pb2.ListDiscoveredRequest, context: grpc.aio.ServicerContext
    ) -> peer_pb2.ListDiscoveredResponse:
        mesh = self.mesh
        connected = set(await mesh.connected_peers())
        found = []
        for entry in mesh.delegate.discovered.entries():
            peer = peer_pb2.DiscoveredPeer(
                peer_id=entry.peer_id,
                addresses=entry.addresses,
                source=entry.source,
                connected=entry.peer_id in connected,
                known=await mesh.peers.is_chosen(entry.peer_id),
            )
            peer.last_seen.CopyFrom(to_timestamp(entry.seen_at))
            found.append(peer)
        return peer_pb2.ListDiscoveredResponse(peers=found)

    @grpc_errors
    async def Connect(
        self, request: peer_pb2.ConnectRequest, context: grpc.aio.ServicerContext
    ) -> peer_pb2.ConnectResponse:
        if not request.multiaddr:
            raise InvalidArgument("multiaddr: give an address ending in /p2p/PEER_ID, as `secondmectl id` prints")
        peer = await self.mesh.connect(request.multiaddr.strip())
        return peer_pb2.ConnectResponse(peer_id=peer)

    @grpc_errors
    async def Disconnect(
        self, request: peer_pb2.DisconnectRequest, context: grpc.aio.ServicerContext
    ) -> peer_pb2.DisconnectResponse:
        peer = _peer_id(request.peer_id)
        was = await self.mesh.disconnect(peer)
        return peer_pb2.DisconnectResponse(was_connected=was)

    @grpc_errors
    async def GetCard(
        self, request: peer_pb2.GetCardRequest, context: grpc.aio.ServicerContext
    ) -> peer_pb2.GetCardResponse:
        peer = _peer_id(request.peer_id)
        card = await self.mesh.fetch_card(peer)
        return peer_pb2.GetCardResponse(card=card)

    @grpc_errors
    async def SendGrant(
        self, request: peer_pb2.SendGrantRequest, context: grpc.aio.ServicerContext
    ) -> peer_pb2.SendGrantResponse:
        if not request.grant_id:
            raise InvalidArgument("grant_id: give the grant id or a unique prefix (`secondmectl grant list --issued`)")
        asked_peer = _peer_id(request.peer_id) if request.peer_id else ""
        mesh = self.mesh
        record = await mesh.grants.get(request.grant_id.strip())
        if record.direction != "issued":
            raise InvalidArgument(f"grant {record.grant.id_hex} was given to this node; only issued grants can be sent")
        audience = record.grant.audience
        if asked_peer and asked_peer != audience:
            raise InvalidArgument(f"grant {record.grant.id_hex} is for {audience}, not {request.peer_id}")
        receipt = await mesh.send_grant(audience, record.envelope)
        return peer_pb2.SendGrantResponse(peer_id=audience, accepted=receipt.accepted, message=receipt.message)

    @grpc_errors
    async def Block(self, request: peer_pb2.BlockRequest, context: grpc.aio.ServicerContext) -> peer_pb2.BlockResponse:
        peer = _peer_id(request.peer_id)
        await self.mesh.block(peer)
        return peer_pb2.BlockResponse()

    @grpc_errors
    async def Unblock(
        self, request: peer_pb2.UnblockRequest, context: grpc.aio.ServicerContext
    ) -> peer_pb2.UnblockResponse:
        peer = _peer_id(request.peer_id)
        await self.mesh.unblock(peer)
        return peer_pb2.UnblockResponse()

    @grpc_errors
    async def Exchange(
        self, request: peer_pb2.ExchangeRequest, context: grpc.aio.ServicerContext
    ) -> peer_pb2.ExchangeResponse:
        peer = _peer_id(request.peer_id)
        action = SESSION_ACTIONS.get(request.kind)
        if action is None:
            raise InvalidArgument("kind: choose roleplay, icebreak or brainstorm")
        if not request.turns or len(request.turns) > MAX_EXCHANGE_TURNS:
            raise InvalidArgument(f"turns: give between 1 and {MAX_EXCHANGE_TURNS} turns")
        mesh = self.mesh
        grant = await mesh.grant_for(peer, action)
        try:
            replies = await mesh.exchange(peer, request.kind, grant, list(request.turns))
        except RemoteRefused as exc:
            if grant:
                raise
            raise RemoteRefused(
                exc.reason,
                f"{peer} refused the {action} session: this node holds no {action} grant from it; "
                "ask its owner for one (they run `secondmectl peers send-grant`)",
            ) from exc
        return peer_pb2.ExchangeResponse(replies=replies)
