"""Ports and addresses with real secondmed processes: a taken port stops the second daemon with a
message naming the port and the process holding it; `tcp/0` takes a free one; an unspecified
listen address is shown as the addresses another machine can dial, loopback first.

The default listen address (`/ip4/0.0.0.0/tcp/4001`) is only ever bound inside a network
namespace made for the test (`helpers.rerun_in_private_netns`): its interfaces are loopback,
with 127.0.0.1 and a second address 10.9.8.7 standing in for a LAN address.
"""

from __future__ import annotations

import json
import time

from helpers import in_private_netns, rerun_in_private_netns

from secondme.v1 import peer_pb2

LAN = "10.9.8.7"


def config(name: str, listen: str | None = None) -> str:
    text = f'version = 1\n[owner]\nname = "{name}"\n[network]\nmdns = false\n'
    return text + (f'listen = ["{listen}"]\n' if listen else "")


def self_of(daemon) -> peer_pb2.GetSelfResponse:  # type: ignore[no-untyped-def]
    return daemon.client.peers.GetSelf(peer_pb2.GetSelfRequest(), timeout=10)


def wait_exit(daemon, limit: float = 60) -> int:  # type: ignore[no-untyped-def]
    assert daemon.process is not None
    return daemon.process.wait(limit)


def test_a_second_daemon_on_a_taken_port_stops_naming_the_port_and_the_first(start_daemon) -> None:  # type: ignore[no-untyped-def]
    first = start_daemon(config("Alex", "/ip4/127.0.0.1/tcp/0"))
    taken = self_of(first).addresses[0].split("/")[4]
    listen = f"/ip4/127.0.0.1/tcp/{taken}"
    second = start_daemon(config("Blake", listen), start=False)
    second.start(wait=False)
    assert wait_exit(second) != 0
    log = second.log_text()
    assert f"TCP port {taken} ({listen}) is already in use by pid {first.process.pid}" in log
    assert "secondme.daemon.main" in log and "/tcp/0" in log
    assert "Traceback" not in log
    assert self_of(first).addresses[0].endswith(f"/tcp/{taken}/p2p/{self_of(first).peer_id}")


def test_two_default_daemons_on_one_machine_the_second_says_why_then_takes_a_free_port(start_daemon) -> None:  # type: ignore[no-untyped-def]
    if not in_private_netns():
        rerun_in_private_netns(
            __file__,
            "test_two_default_daemons_on_one_machine_the_second_says_why_then_takes_a_free_port",
            f"ip addr add {LAN}/32 dev lo",
        )
        return
    default = 'version = 1\n[owner]\nname = "Alex"\n[network]\nmdns = false\n'  # listen as shipped: 0.0.0.0:4001
    first = start_daemon(default, network_as_shipped=True)
    me = self_of(first)
    assert list(me.addresses) == [f"/ip4/127.0.0.1/tcp/4001/p2p/{me.peer_id}", f"/ip4/{LAN}/tcp/4001/p2p/{me.peer_id}"]
    assert json.loads(first.ctl("id", "--json").stdout)["addresses"] == list(me.addresses)
    assert json.loads(first.ctl("status", "--json").stdout)["addresses"] == list(me.addresses)
    assert f"/ip4/{LAN}/tcp/4001/p2p/{me.peer_id}" in first.ctl("id").stdout

    second = start_daemon(default.replace("Alex", "Blake"), start=False, network_as_shipped=True)
    second.start(wait=False)
    assert wait_exit(second) != 0
    assert f"TCP port 4001 (/ip4/0.0.0.0/tcp/4001) is already in use by pid {first.process.pid}" in second.log_text()

    second.config.write_text(config("Blake", "/ip4/0.0.0.0/tcp/0"))
    second.start()
    other = self_of(second)
    port = other.addresses[0].split("/")[4]
    assert port != "4001"
    assert [a.split("/")[2] for a in other.addresses] == ["127.0.0.1", LAN]
    second.ctl("peers", "connect", me.addresses[1])  # the LAN address
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # identify tells second where first listens
        listed = json.loads(second.ctl("peers", "list", "--json").stdout)["peers"]
        if listed and len(listed[0]["addresses"]) == 2:
            break
        time.sleep(0.2)
    assert [p["peer_id"] for p in listed] == [me.peer_id]
    assert sorted(listed[0]["addresses"]) == sorted(a.split("/p2p/")[0] for a in me.addresses)


def test_mdns_finds_are_listed_and_dialled_only_with_autoconnect(start_daemon) -> None:  # type: ignore[no-untyped-def]
    """mDNS binds 0.0.0.0:5353, so this too runs in a namespace of its own."""
    if not in_private_netns():
        rerun_in_private_netns(__file__, "test_mdns_finds_are_listed_and_dialled_only_with_autoconnect")
        return
    lan = 'listen = ["/ip4/127.0.0.1/tcp/0"]\nmdns = true\n'
    a = start_daemon(f'version = 1\n[owner]\nname = "Alex"\n[network]\n{lan}')
    b = start_daemon(f'version = 1\n[owner]\nname = "Blake"\n[network]\n{lan}')
    a_id, b_id = self_of(a).peer_id, self_of(b).peer_id

    def discovered(daemon) -> dict[str, dict]:  # type: ignore[no-untyped-def]
        return {p["peer_id"]: p for p in json.loads(daemon.ctl("peers", "discovered", "--json").stdout)["peers"]}

    deadline = time.monotonic() + 60
    while not (b_id in discovered(a) and a_id in discovered(b)) and time.monotonic() < deadline:
        time.sleep(0.5)
    found = discovered(a)[b_id]
    assert found["source"] == "mdns" and found["addresses"] and not found.get("connected")
    assert not json.loads(a.ctl("peers", "list", "--json").stdout)["peers"]  # listed, never dialled

    a.config.write_text(f'version = 1\n[owner]\nname = "Alex"\n[network]\n{lan}mdns_autoconnect = true\n')
    a.restart()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        peers = json.loads(a.ctl("peers", "list", "--json").stdout)["peers"]
        if any(p["peer_id"] == b_id and p.get("connected") for p in peers):
            break
        time.sleep(0.5)
    assert any(p["peer_id"] == b_id and p.get("connected") for p in peers), peers
