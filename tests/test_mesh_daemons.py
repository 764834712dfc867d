"""Real secondmed processes meeting on the mesh over 127.0.0.1: the issue's "done when" path.

Two (or three) daemons with separate data dirs connect by multiaddr, list each other, fetch
cards, deliver a grant, and run a session exchange that is refused without the grant and after
revocation; then the fault cases that need whole processes (remote killed, local restart).
"""

from __future__ import annotations

import json
import threading
import time

import grpc
import pytest

from secondme.v1 import grant_pb2, peer_pb2, wire_pb2

ROLEPLAY = wire_pb2.SESSION_KIND_ROLEPLAY


def mesh_config(name: str) -> str:
    return f'version = 1\n[owner]\nname = "{name}"\n[network]\nlisten = ["/ip4/127.0.0.1/tcp/0"]\n'


def peer_id(daemon) -> str:  # type: ignore[no-untyped-def]
    return daemon.client.peers.GetSelf(peer_pb2.GetSelfRequest(), timeout=10).peer_id


def address(daemon) -> str:  # type: ignore[no-untyped-def]
    addresses = daemon.client.peers.GetSelf(peer_pb2.GetSelfRequest(), timeout=10).addresses
    assert all(a.startswith("/ip4/127.0.0.1/") for a in addresses), addresses
    return addresses[0]


def issue(daemon, audience: str, scopes: str) -> str:  # type: ignore[no-untyped-def]
    out = daemon.ctl("grant", "issue", audience, "--scope", scopes, "--json").stdout
    return json.loads(out)["grant"]["id"]


def exchange(daemon, peer: str, *turns: str) -> list[str]:  # type: ignore[no-untyped-def]
    request = peer_pb2.ExchangeRequest(peer_id=peer, kind=ROLEPLAY, turns=list(turns))
    return list(daemon.client.peers.Exchange(request, timeout=60).replies)


def wait_for(predicate, what: str, limit: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def pair(start_daemon):  # type: ignore[no-untyped-def]
    a = start_daemon(mesh_config("Alex"))
    b = start_daemon(mesh_config("Blake"))
    return a, b


def test_two_daemons_connect_list_cards_grant_and_session(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    a_id, b_id = peer_id(a), peer_id(b)
    status = json.loads(a.ctl("status", "--json").stdout)
    assert status["peer_id"] == a_id

    assert json.loads(b.ctl("peers", "connect", address(a), "--json").stdout)["peer_id"] == a_id
    listed = json.loads(b.ctl("peers", "list", "--json").stdout)["peers"]
    assert [(p["peer_id"], p.get("connected")) for p in listed] == [(a_id, True)]
    wait_for(
        lambda: any(p.peer_id == b_id for p in a.client.peers.ListPeers(peer_pb2.ListPeersRequest()).peers),
        "b in a's list",
    )

    # A stranger's card: the peer ID, protocols and session kinds; no name, no login, no version.
    card = json.loads(b.ctl("peers", "card", a_id, "--json").stdout)
    assert card["peer_id"] == a_id and "/secondme/session/1.0.0" in card["protocols"]
    assert not any(card[k] for k in ("display_name", "bio", "software_version", "biography", "shades"))
    assert card["withheld"].startswith("no grant presented")
    human = b.ctl("peers", "card", a_id).stdout
    assert "Alex" not in human and "root" not in human and "nothing about its owner" in human
    assert a.client.peers.GetCard(peer_pb2.GetCardRequest(peer_id=b_id), timeout=30).card.display_name == ""

    # No grant: refused, with a message saying what is missing.
    with pytest.raises(grpc.RpcError) as refused:
        exchange(b, a_id, "hello")
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "no roleplay grant" in refused.value.details()

    grant_id = issue(a, b_id, "roleplay,card")
    sent = json.loads(a.ctl("peers", "send-grant", b_id, grant_id, "--json").stdout)
    assert sent["accepted"] is True
    received = b.client.grants.ListGrants(grant_pb2.ListGrantsRequest(), timeout=10).grants
    assert [g.id for g in received] == [grant_id]
    # Now b holds a card grant from a: the owner's name comes with it, still no version.
    card = json.loads(b.ctl("peers", "card", a_id, "--json").stdout)
    assert card["display_name"] == "Alex" and not card["withheld"] and not card["software_version"]

    assert exchange(b, a_id, "hello", "again") == ["echo: hello", "echo: again"]

    a.ctl("grant", "revoke", grant_id)
    with pytest.raises(grpc.RpcError) as revoked:
        exchange(b, a_id, "hello")
    assert revoked.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "revoked" in revoked.value.details()


def test_bad_requests_get_clear_errors_and_the_daemon_stays_up(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    bad = b.ctl("peers", "connect", "not-an-address", check=False)
    assert bad.returncode != 0 and "multiaddr" in bad.stderr
    no_id = b.ctl("peers", "connect", "/ip4/127.0.0.1/tcp/1", check=False)
    assert no_id.returncode != 0 and "/p2p/" in no_id.stderr
    unknown = b.ctl("peers", "card", "garbage", check=False)
    assert unknown.returncode != 0 and "peer ID" in unknown.stderr
    assert b.ctl("peers", "card", peer_id(a), check=False).returncode != 0  # never connected
    b.ctl("peers", "connect", address(a))
    assert b.client.peers.GetCard(peer_pb2.GetCardRequest(peer_id=peer_id(a)), timeout=30).card.peer_id == peer_id(a)


def test_block_refuses_the_peer_and_survives_restart(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    a_id, b_id = peer_id(a), peer_id(b)
    itself = a.ctl("peers", "block", a_id, check=False)
    assert itself.returncode != 0 and "cannot block itself" in itself.stderr
    b.ctl("peers", "connect", address(a))
    a.ctl("peers", "block", b_id)
    wait_for(lambda: b.ctl("peers", "card", a_id, check=False).returncode != 0, "b refused by a")
    a.restart()
    b.ctl("peers", "connect", address(a), check=False)
    assert b.ctl("peers", "card", a_id, check=False).returncode != 0
    listed = a.client.peers.ListPeers(peer_pb2.ListPeersRequest()).peers
    assert [(p.peer_id, p.blocked) for p in listed] == [(b_id, True)]  # never a itself
    a.ctl("peers", "unblock", b_id)
    b.ctl("peers", "connect", address(a))
    assert b.client.peers.GetCard(peer_pb2.GetCardRequest(peer_id=a_id), timeout=30).card.peer_id == a_id


def test_local_restart_reconnects_then_remote_killed_mid_exchange(start_daemon) -> None:  # type: ignore[no-untyped-def]
    a = start_daemon(mesh_config("Alex"))
    b = start_daemon(mesh_config("Blake"))
    c = start_daemon(mesh_config("Casey"))
    a_id = peer_id(a)
    b.ctl("peers", "connect", address(a))
    c.ctl("peers", "connect", address(a))
    for other in (b, c):
        grant_id = issue(a, peer_id(other), "roleplay")
        a.ctl("peers", "send-grant", peer_id(other), grant_id)

    c.restart()  # local restart: the address book is intact and a is redialled
    known = [p for p in c.client.peers.ListPeers(peer_pb2.ListPeersRequest()).peers if p.peer_id == a_id]
    assert known and known[0].addresses
    wait_for(
        lambda: any(
            p.peer_id == a_id and p.connected for p in c.client.peers.ListPeers(peer_pb2.ListPeersRequest()).peers
        ),
        "c reconnected to a after restart",
    )
    assert exchange(c, a_id, "back") == ["echo: back"]

    outcome: list[object] = []

    def long_exchange() -> None:
        try:
            outcome.append(exchange(b, a_id, *[f"turn {i}" for i in range(100)]))
        except grpc.RpcError as exc:
            outcome.append(exc.code())

    worker = threading.Thread(target=long_exchange)
    worker.start()
    time.sleep(0.3)
    a.kill()  # the remote vanishes mid-exchange, without an end message
    worker.join(120)
    assert outcome and (outcome[0] == grpc.StatusCode.FAILED_PRECONDITION or len(outcome[0]) == 100), outcome  # type: ignore[arg-type]
    # b and c stay up and still talk to each other.
    b.ctl("peers", "connect", address(c))
    assert b.client.peers.GetCard(peer_pb2.GetCardRequest(peer_id=peer_id(c)), timeout=30).card.peer_id == peer_id(c)
    assert c.ctl("status").returncode == 0


def test_a_bad_network_address_stops_the_start_with_a_clear_message(start_daemon) -> None:  # type: ignore[no-untyped-def]
    daemon = start_daemon('version = 1\n[network]\nbootstrap = ["garbage"]\n', start=False)
    daemon.start(wait=False)
    assert daemon.process is not None
    assert daemon.process.wait(60) != 0
    log = daemon.log_text()
    assert "'garbage' is not a multiaddr" in log and "network.enabled = false" in log
    assert "Traceback" not in log
