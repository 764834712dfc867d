"""The mesh node on the trio side: the host, its three protocol handlers, gating, discovery.

Everything here runs on the trio thread; the asyncio daemon reaches it only through
`secondme.network.bridge`. Every inbound handler goes through `_contained`: in py-libp2p 0.8.1
an exception escaping a stream handler stops the whole host, so each handler catches its own
errors, resets only its own stream, and counts a strike against a peer that misbehaved.
Every authorization uses `stream.muxed_conn.peer_id`, the peer ID Noise authenticated.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

import trio
from google.protobuf.message import Message
from libp2p.abc import INetConn, INetStream, INetwork, INotifee
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr

from secondme.network.dht import run_dht
from secondme.network.dialing import Backoff, DialPacer
from secondme.network.errors import FrameError, InvalidAddress, MeshError, PeerUnreachable, RemoteRefused
from secondme.network.framing import FramedStream, M
from secondme.network.host import build_host, key_pair_from_seed, parse_multiaddrs
from secondme.network.limits import Guard
from secondme.network.mdns import MdnsDiscovery
from secondme.network.ports import Authority, MeshDelegate
from secondme.network.protocols import (
    CARD_PROTOCOL,
    GRANT_PROTOCOL,
    SESSION_ACTIONS,
    SESSION_PROTOCOL,
    build_card,
)
from secondme.network.rendezvous import serve_rendezvous, use_rendezvous_point
from secondme.network.settings import NetworkSettings
from secondme.network.tcp import ExclusiveTCP
from secondme.permissions import Action, Disclosed, canonical_peer_id, disclose
from secondme.v1 import wire_pb2

log = logging.getLogger(__name__)

Handler = Callable[[FramedStream, str], Awaitable[None]]
DIAL_TIMEOUT_SECONDS = 15.0
# Dials the node makes on its own try each address for less long, and are paced (see dialing).
AUTO_DIAL_TIMEOUT_SECONDS = 5.0
BOOTSTRAP_BACKOFF = (1.0, 60.0)
# Redialling the address book after a restart: first retry after 30 s, doubling up to an hour.
REDIAL_BACKOFF = (30.0, 3600.0)
# A discovered self is tried at this many of the addresses it announced, no more.
MAX_DISCOVERED_ADDRESSES = 4


def parse_peer_id(text: str) -> ID:
    try:
        return ID.from_base58(canonical_peer_id(text))
    except Exception as exc:
        raise InvalidAddress(f"{text!r} is not a peer ID (they look like 12D3KooW...)") from exc


class _Gate(INotifee):
    """Connection gater: refuses blocked, banned and over-limit peers once Noise named them."""

    def __init__(self, node: MeshNode) -> None:
        self.node = node

    async def opened_stream(self, network: INetwork, stream: INetStream) -> None:
        pass

    async def closed_stream(self, network: INetwork, stream: INetStream) -> None:
        pass

    async def connected(self, network: INetwork, conn: INetConn) -> None:
        self.node._on_connected(conn)

    async def disconnected(self, network: INetwork, conn: INetConn) -> None:
        self.node._on_disconnected(conn)

    async def listen(self, network: INetwork, multiaddr: object) -> None:
        pass

    async def listen_close(self, network: INetwork, multiaddr: object) -> None:
        pass


class ClientSession:
    """The initiator's side of one session: `turn` as often as the grant allows, then `end`."""

    def __init__(self, framed: FramedStream, stream: INetStream, max_turns: int) -> None:
        self._framed = framed
        self._stream = stream
        self.max_turns = max_turns

    async def turn(self, text: str) -> str:
        await self._framed.write(wire_pb2.SessionRequest(turn=wire_pb2.SessionTurn(text=text)))
        response = await _read_response(self._framed)
        if response.HasField("reply"):
            return response.reply.text
        if response.HasField("refused"):
            raise RemoteRefused(response.refused.reason, response.refused.message)
        raise MeshError("the peer answered a turn with something other than a reply")

    async def end(self) -> None:
        with contextlib.suppress(Exception):
            await self._framed.write(wire_pb2.SessionRequest(end=wire_pb2.SessionEnd()))
            await _read_response(self._framed)
        with contextlib.suppress(Exception):
            await self._stream.close()


async def _read_response(framed: FramedStream) -> wire_pb2.SessionResponse:
    try:
        return await framed.read(wire_pb2.SessionResponse)
    except EOFError:
        raise PeerUnreachable("the peer closed the session without an answer") from None


class MeshNode:
    """The mesh on the trio thread. Build it there (the bridge does), so that its `Guard` belongs
    to that thread; `blocked` is the owner's blocklist, in force before the first connection."""

    def __init__(
        self,
        seed: bytes,
        settings: NetworkSettings,
        authority: Authority,
        delegate: MeshDelegate,
        blocked: Iterable[str] = (),
        software_version: str = "",
    ) -> None:
        self.settings = settings
        # Shown on the card only where `settings.advertise_version` says so.
        self.software_version = software_version
        self.authority = authority
        self.delegate = delegate
        self.guard = Guard(settings)
        self._listen = parse_multiaddrs(settings.listen)
        self._bootstrap = parse_multiaddrs(settings.bootstrap)
        self._tcp = ExclusiveTCP()
        self.host = build_host(key_pair_from_seed(seed), self._listen, self._tcp, self.guard.refuse_peer)
        self.peer_id = str(self.host.get_id())
        self.guard.set_blocked(set(blocked) - {self.peer_id})
        self._pacer = DialPacer(settings.max_dials_per_minute)
        self._nursery: trio.Nursery | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen, serve and keep bootstrap peers dialled until cancelled."""
        async with self.host.run(listen_addrs=self._listen), trio.open_nursery() as nursery:
            if self._tcp.failures:  # py-libp2p logs a failed listen at debug level and carries on
                raise self._tcp.failures[0]
            self._nursery = nursery
            self.host.set_stream_handler(CARD_PROTOCOL, self._contained(CARD_PROTOCOL, self._serve_card))
            self.host.set_stream_handler(GRANT_PROTOCOL, self._contained(GRANT_PROTOCOL, self._serve_grant))
            self.host.set_stream_handler(SESSION_PROTOCOL, self._contained(SESSION_PROTOCOL, self._serve_session))
            self.host.get_network().register_notifee(_Gate(self))
            nursery.start_soon(self._trim_idle)
            for address in self._bootstrap:
                nursery.start_soon(self._keep_dialled, address)
            log.info("mesh listening on %s", ", ".join(self.addresses()))
            mdns = await self._start_mdns() if self.settings.mdns else None
            if self.settings.rendezvous_server:
                serve_rendezvous(self.host, self._contained_raw)
            for point in self.settings.rendezvous:
                nursery.start_soon(
                    use_rendezvous_point,
                    self.host,
                    point,
                    self._auto_connect,
                    self._found_by("rendezvous"),
                    self.settings.rendezvous_interval_seconds,
                )
            if self.settings.dht:
                await nursery.start(
                    run_dht, self.host, self._contained_raw, self._found_by("dht"), self.settings.dht_interval_seconds
                )
            task_status.started()
            try:
                await trio.sleep_forever()
            finally:
                if mdns is not None:
                    mdns.close()

    def addresses(self) -> list[str]:
        """Where other machines can dial this node: unspecified listen addresses expanded to every
        interface address, loopback first (see `addresses`), each ending in /p2p/PEER_ID."""
        return [str(a) for a in self.host.get_addrs()]

    def connected_peers(self) -> list[str]:
        return sorted({str(p) for p in self.host.get_network().get_connections_map()})

    # -- owner actions -----------------------------------------------------------------------

    async def connect(self, address: str) -> str:
        """The owner's dial: exactly this address, now, not paced."""
        return await self._dial(address, DIAL_TIMEOUT_SECONDS)

    async def _auto_connect(self, address: str) -> str:
        """A dial the node makes on its own: paced (`max_dials_per_minute`) and quicker to give up."""
        await self._pacer.wait()
        return await self._dial(address, AUTO_DIAL_TIMEOUT_SECONDS)

    async def _dial(self, address: str, limit_seconds: float) -> str:
        (maddr,) = parse_multiaddrs([address])
        try:
            info = info_from_p2p_addr(maddr)
        except Exception as exc:
            raise InvalidAddress(f"{address!r} must end in /p2p/PEER_ID (as `secondmectl id` prints)") from exc
        peer = str(info.peer_id)
        if peer == self.peer_id:
            raise InvalidAddress("that is this node's own address")
        refusal = self.guard.refuse_peer(peer)
        if refusal:
            raise PeerUnreachable(f"{peer} is {refusal}; `secondmectl peers unblock` it first")
        # An explicit dial tries exactly this address, now: forget libp2p's "recently failed"
        # mark and the peer's older addresses (after a restart they point at dead ports).
        with contextlib.suppress(Exception):
            self.host.get_network().unblock_peer(info.peer_id)  # type: ignore[attr-defined]
        if peer not in self.connected_peers():
            with contextlib.suppress(Exception):
                self.host.get_peerstore().clear_addrs(info.peer_id)
        try:
            with trio.fail_after(limit_seconds):
                await self.host.connect(info)
        except trio.TooSlowError:
            raise PeerUnreachable(f"no answer from {address} within {limit_seconds:g} s") from None
        except Exception as exc:
            raise PeerUnreachable(f"could not connect to {address}: {exc}") from exc
        return peer

    async def redial(self, known: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Reconnect, in the background, to the peers the owner chose (after a restart): each is
        tried at its known addresses, then again with exponential backoff until it answers."""
        assert self._nursery is not None
        for peer, addresses in known:
            self._nursery.start_soon(self._redial_one, peer, list(addresses))

    async def _redial_one(self, peer: str, addresses: list[str]) -> None:
        backoff = Backoff(*REDIAL_BACKOFF)
        while peer not in self.connected_peers() and not self.guard.refuse_peer(peer):
            for address in addresses:
                try:
                    await self._auto_connect(f"{address}/p2p/{peer}")
                    return
                except MeshError as exc:
                    log.info("could not reconnect to %s at %s: %s", peer, address, exc)
            delay = backoff.next()
            log.info("will try to reconnect to %s again in %g s", peer, delay)
            await trio.sleep(delay)

    async def disconnect(self, peer: str) -> bool:
        was = peer in self.connected_peers()
        with contextlib.suppress(Exception):
            await self.host.disconnect(parse_peer_id(peer))
        return was

    async def block(self, peer: str) -> None:
        if peer == self.peer_id:
            raise InvalidAddress("that is this node's own peer ID; a node cannot block itself")
        self.guard.block(peer)
        await self.disconnect(peer)

    async def unblock(self, peer: str) -> None:
        self.guard.unblock(peer)

    # `addresses` (without /p2p) are where to dial `peer` if it is not connected: the daemon's
    # record of it. The node keeps nothing about a peer once its last connection closes.

    async def fetch_card(self, peer: str, grant: bytes = b"", addresses: Sequence[str] = ()) -> wire_pb2.Card:
        request = wire_pb2.CardRequest(grant=grant)
        return await self._ask(peer, CARD_PROTOCOL, addresses, request, wire_pb2.Card, "the card stream without a card")

    async def send_grant(self, peer: str, envelope: bytes, addresses: Sequence[str] = ()) -> wire_pb2.GrantReceipt:
        delivery = wire_pb2.GrantDelivery(envelope=envelope)
        closed = "the grant stream without a receipt"
        return await self._ask(peer, GRANT_PROTOCOL, addresses, delivery, wire_pb2.GrantReceipt, closed)

    async def _ask(
        self, peer: str, protocol: str, addresses: Sequence[str], request: Message, answer: type[M], closed: str
    ) -> M:
        """One request and its answer on a stream of its own, closed after; a peer that closes the
        stream first is unreachable ('PEER closed `closed`')."""
        framed, stream = await self._open(peer, protocol, addresses)
        try:
            await framed.write(request)
            return await framed.read(answer)
        except EOFError:
            raise PeerUnreachable(f"{peer} closed {closed}") from None
        finally:
            with contextlib.suppress(Exception):
                await stream.close()

    async def open_session(self, peer: str, kind: int, grant: bytes, addresses: Sequence[str] = ()) -> ClientSession:
        framed, stream = await self._open(peer, SESSION_PROTOCOL, addresses)
        await framed.write(wire_pb2.SessionRequest(handshake=wire_pb2.SessionHandshake(grant=grant, kind=kind)))
        response = await _read_response(framed)
        if response.HasField("accepted"):
            return ClientSession(framed, stream, response.accepted.max_turns)
        with contextlib.suppress(Exception):
            await stream.close()
        if response.HasField("refused"):
            raise RemoteRefused(response.refused.reason, response.refused.message)
        raise MeshError("the peer answered the session handshake with something unexpected")

    async def exchange(
        self, peer: str, kind: int, grant: bytes, turns: Sequence[str], addresses: Sequence[str] = ()
    ) -> list[str]:
        session = await self.open_session(peer, kind, grant, addresses)
        try:
            return [await session.turn(text) for text in turns]
        finally:
            await session.end()

    async def _open(self, peer: str, protocol: str, addresses: Sequence[str]) -> tuple[FramedStream, INetStream]:
        peer_id = parse_peer_id(peer)
        if peer not in self.connected_peers():
            for address in addresses:
                try:
                    await self.connect(f"{address}/p2p/{peer}")
                    break
                except MeshError as exc:
                    log.info("could not reach %s at %s: %s", peer, address, exc)
        try:
            with trio.fail_after(DIAL_TIMEOUT_SECONDS):
                stream = await self.host.new_stream(peer_id, [protocol])
        except trio.TooSlowError:
            raise PeerUnreachable(f"no stream to {peer} within {DIAL_TIMEOUT_SECONDS:g} s") from None
        except Exception as exc:
            raise PeerUnreachable(
                f"cannot reach {peer} on {protocol} ({exc}); `secondmectl peers connect` its address first"
            ) from exc
        limits = self.settings
        return FramedStream(stream, limits.max_frame_bytes, limits.read_timeout_seconds), stream

    # -- inbound -----------------------------------------------------------------------------

    def _contained(self, protocol: str, handler: Handler) -> Callable[[INetStream], Awaitable[None]]:
        async def serve(stream: INetStream) -> None:
            peer = str(stream.muxed_conn.peer_id)  # authenticated by Noise
            refusal = self.guard.open_stream(peer, protocol)
            if refusal:
                log.info("refused %s stream from %s: %s", protocol, peer, refusal)
                await _reset(stream)
                return
            limits = self.settings
            framed = FramedStream(stream, limits.max_frame_bytes, limits.read_timeout_seconds)
            try:
                await handler(framed, peer)
            except (FrameError, EOFError) as exc:
                log.info("closed %s stream from %s: %s", protocol, peer, _why_closed(exc))
                await _reset(stream)
                if isinstance(exc, FrameError) and self.guard.strike(peer):
                    log.warning("banned %s for repeated protocol violations; dropping its connections", peer)
                    await self.disconnect(peer)
            except Exception:
                log.exception("%s handler failed for %s; closing only that stream", protocol, peer)
                await _reset(stream)
            else:
                with contextlib.suppress(Exception):
                    await stream.close()
            finally:
                self.guard.close_stream(peer, protocol)

        return serve

    def _contained_raw(
        self, protocol: str, handler: Callable[[INetStream], Awaitable[None]]
    ) -> Callable[[INetStream], Awaitable[None]]:
        """Containment for a handler that is not ours (the DHT's): limits apply, errors stay local."""

        async def serve(stream: INetStream) -> None:
            peer = str(stream.muxed_conn.peer_id)
            refusal = self.guard.open_stream(peer, protocol)
            if refusal:
                log.info("refused %s stream from %s: %s", protocol, peer, refusal)
                await _reset(stream)
                return
            try:
                await handler(stream)
            except Exception:
                log.info("%s handler failed for %s; closing only that stream", protocol, peer, exc_info=True)
                await _reset(stream)
            finally:
                self.guard.close_stream(peer, protocol)

        return serve

    async def _serve_card(self, framed: FramedStream, peer: str) -> None:
        """Anyone gets the peer ID, protocols and session kinds; the owner only under a card grant."""
        request = await framed.read(wire_pb2.CardRequest)
        decision = self.authority.authorize(peer, Action.CARD, request.grant)
        disclosed: Disclosed | None = None
        if decision.allowed and decision.grant is not None:
            disclosed = disclose(await self.delegate.identity(), decision.grant.disclosure)
        elif request.grant:
            log.info("card for %s without the owner: %s", peer, decision.message)
        version = self.software_version if self.settings.advertise_version else ""
        await framed.write(build_card(self.peer_id, disclosed, version, decision.message))

    async def _serve_grant(self, framed: FramedStream, peer: str) -> None:
        delivery = await framed.read(wire_pb2.GrantDelivery)
        accepted, message = await self.delegate.grant_received(peer, delivery.envelope)
        await framed.write(wire_pb2.GrantReceipt(accepted=accepted, message=message))

    async def _serve_session(self, framed: FramedStream, peer: str) -> None:
        first = await framed.read(wire_pb2.SessionRequest)
        if not first.HasField("handshake"):
            raise FrameError("a session must start with a handshake")
        action = SESSION_ACTIONS.get(first.handshake.kind)
        if action is None:
            await _refuse(framed, "unknown_kind", f"unknown session kind {first.handshake.kind}")
            return
        busy = self.guard.open_session(peer)
        if busy:
            await _refuse(framed, "busy", busy)
            return
        try:
            decision = await trio.to_thread.run_sync(self.authority.open_session, peer, action, first.handshake.grant)
            if not decision.allowed or decision.session is None:
                reason = decision.reason.value if decision.reason else "denied"
                log.info("refused %s session from %s: %s", action, peer, decision.message)
                await _refuse(framed, reason, decision.message)
                return
            handle = decision.session
            try:
                limit = decision.grant.limits.max_turns_per_session if decision.grant else None
                await framed.write(wire_pb2.SessionResponse(accepted=wire_pb2.SessionAccepted(max_turns=limit or 0)))
                await self._session_turns(framed, peer, handle)
            finally:
                self.authority.close_session(handle)
        finally:
            self.guard.close_session(peer)

    async def _session_turns(self, framed: FramedStream, peer: str, handle: object) -> None:
        idle = self.settings.session_idle_seconds
        while True:
            try:
                request = await framed.read(wire_pb2.SessionRequest, wait=idle)
            except EOFError:
                log.info(
                    "closed %s session %s from %s: the peer closed it without an end message",
                    SESSION_PROTOCOL,
                    getattr(handle, "id", "?"),
                    peer,
                )
                return
            if request.HasField("end"):
                await framed.write(wire_pb2.SessionResponse(ended=wire_pb2.SessionEnded()))
                return
            if not request.HasField("turn"):
                raise FrameError("expected a turn or an end inside a session")
            turn = self.authority.record_turn(handle)  # type: ignore[arg-type]
            if not turn.allowed:
                await _refuse(framed, turn.reason.value if turn.reason else "denied", turn.message)
                return
            text = await self.delegate.answer_turn(peer, handle, request.turn.text)  # type: ignore[arg-type]
            await framed.write(wire_pb2.SessionResponse(reply=wire_pb2.SessionReply(text=text)))

    # -- connections and discovery -----------------------------------------------------------

    def _on_connected(self, conn: INetConn) -> None:
        peer = str(conn.muxed_conn.peer_id)
        network = self.host.get_network()
        total = len(network.get_connections())
        from_peer = len(network.get_connections(conn.muxed_conn.peer_id))
        refusal = self.guard.admit_connection(peer, total, from_peer)
        if self._nursery is None:
            return
        if refusal:
            log.info("closing connection from %s: %s", peer, refusal)
            self._nursery.start_soon(_close_quietly, conn)
            return
        self._nursery.start_soon(self._record_identified, peer)

    def _on_disconnected(self, conn: INetConn) -> None:
        """A peer's last connection closed: forget it here and in py-libp2p's peerstore (whatever
        it announced). Dials to it later come with the addresses the daemon chose to keep."""
        peer_id = conn.muxed_conn.peer_id
        if not self.host.get_network().get_connections(peer_id):
            self.guard.forget(str(peer_id))
            with contextlib.suppress(Exception):  # already gone
                self.host.get_peerstore().clear_peerdata(peer_id)

    async def _record_identified(self, peer: str) -> None:
        """Store the peer's listen addresses once identify has told us them."""
        await trio.sleep(1.0)
        with contextlib.suppress(Exception):
            addrs = [str(a) for a in self.host.get_peerstore().addrs(parse_peer_id(peer))]
            await self._report_seen(peer, addrs)

    async def _report_seen(self, peer: str, addresses: list[str]) -> None:
        try:
            await self.delegate.peer_seen(peer, addresses)
        except Exception:
            log.exception("could not record peer %s", peer)

    async def _start_mdns(self) -> MdnsDiscovery:
        token = trio.lowlevel.current_trio_token()
        nursery = self._nursery
        assert nursery is not None

        on_found = self._found_by("mdns")

        def found(peer: str, addresses: list[str]) -> None:  # on a zeroconf thread
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(nursery.start_soon, on_found, peer, addresses)

        listen = [str(a) for a in self.host.get_transport_addrs()]  # mdns expands 0.0.0.0 its own way
        discovery = MdnsDiscovery(self.peer_id, listen, found)
        try:
            await trio.to_thread.run_sync(discovery.start)
        except Exception as exc:  # a LAN without multicast must not stop the mesh
            log.warning("mDNS could not start (%s); explicit connect and bootstrap still work", exc)
        return discovery

    def _found_by(self, source: str) -> Callable[[str, list[str]], Awaitable[None]]:
        async def found(peer: str, addresses: list[str]) -> None:
            await self._found(peer, addresses, source)

        return found

    async def _found(self, peer: str, addresses: list[str], source: str) -> None:
        """A self discovered by mDNS, the DHT or a rendezvous point: the daemon lists it and says
        whether to dial it (see `MeshDelegate.peer_discovered`); blocked and banned ones never."""
        if peer == self.peer_id or self.guard.refuse_peer(peer):
            return
        addresses = addresses[:MAX_DISCOVERED_ADDRESSES]
        try:
            dial = await self.delegate.peer_discovered(peer, addresses, source)
        except Exception:
            log.exception("could not record the discovered peer %s", peer)
            return
        if not dial or peer in self.connected_peers():
            return
        for address in addresses:
            if "/p2p/" not in address:
                address = f"{address}/p2p/{peer}"
            try:
                await self._auto_connect(address)
                log.info("discovered (%s) and connected to %s at %s", source, peer, address)
                return
            except MeshError as exc:
                log.info("discovered (%s) %s at %s but could not connect: %s", source, peer, address, exc)

    async def _keep_dialled(self, address: object) -> None:
        """Dial a bootstrap peer now and again whenever it drops, backing off on failure."""
        delay = BOOTSTRAP_BACKOFF[0]
        while True:
            text = str(address)
            peer = text.rsplit("/p2p/", 1)[-1]
            if peer not in self.connected_peers():
                try:
                    await self._auto_connect(text)
                    delay = BOOTSTRAP_BACKOFF[0]
                except MeshError as exc:
                    log.info("bootstrap peer %s: %s; retrying in %g s", text, exc, delay)
                    await trio.sleep(delay)
                    delay = min(delay * 2, BOOTSTRAP_BACKOFF[1])
                    continue
            await trio.sleep(5.0)

    async def _trim_idle(self) -> None:
        """Close idle connections and prune the guard's tables of peers that have gone."""
        period = max(1.0, min(30.0, self.settings.idle_connection_seconds / 4))
        while True:
            await trio.sleep(period)
            for peer in self.guard.idle_peers(self.connected_peers()):
                log.info("closing idle connection to %s", peer)
                await self.disconnect(peer)
            self.guard.prune(self.connected_peers())


def _why_closed(exc: BaseException) -> str:
    """A closed stream's reason for the log: never empty (EOFError carries no message)."""
    if isinstance(exc, EOFError):
        return str(exc) or "the peer closed it before sending a complete request"
    return str(exc) or type(exc).__name__


async def _refuse(framed: FramedStream, reason: str, message: str) -> None:
    await framed.write(wire_pb2.SessionResponse(refused=wire_pb2.SessionRefused(reason=reason, message=message)))


async def _reset(stream: INetStream) -> None:
    with contextlib.suppress(Exception):
        await stream.reset()


async def _close_quietly(conn: INetConn) -> None:
    with contextlib.suppress(Exception):
        await conn.close()
