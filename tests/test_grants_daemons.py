"""Grants end to end through real secondmed processes, their SQLite stores and secondmectl.

Two data dirs play two selves: A issues a grant to B's peer ID, B imports it, A decides on it
(`grant check` runs the same `authorize` the mesh calls) for B and for a third peer, then A
revokes it and the refusal holds across a restart.
"""

from __future__ import annotations

import json
import signal

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from helpers import wait_until

from secondme.permissions import peer_id_from_public_key
from secondme.v1 import daemon_pb2, grant_pb2

EXIT_USAGE = 2
EXIT_NOT_FOUND = 4
EXIT_DENIED = 5


def _peer_id(daemon) -> str:
    return daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest()).peer_id


def _json(daemon, *args: str, check: bool = True) -> dict:
    result = daemon.ctl(*args, "--json", check=check)
    return json.loads(result.stdout)


@pytest.fixture
def two_selves(start_daemon):
    return start_daemon(), start_daemon()


def test_grant_issued_on_one_node_is_imported_checked_and_revoked_across_restart(two_selves) -> None:
    alice, bob = two_selves
    bob_id = _peer_id(bob)
    stranger = peer_id_from_public_key(Ed25519PrivateKey.generate().public_key())

    issued = alice.ctl(
        "grant", "issue", bob_id, "--scope", "roleplay,icebreak", "--expires", "30d",
        "--disclosure", "public-shades", "--max-turns", "40",
    )  # fmt: skip
    token = issued.stdout.strip().splitlines()[-1]
    assert token.startswith("smg1_")

    imported = _json(bob, "grant", "import", token)
    assert imported["already_present"] is False
    received = _json(bob, "grant", "list", "--received")
    assert [g["id"] for g in received] == [imported["grant"]["id"]]
    assert received[0]["issuer"] == _peer_id(alice)
    assert received[0]["scopes"] == ["roleplay", "icebreak"]
    assert received[0]["limits"]["max_turns_per_session"] == 40
    assert _json(bob, "grant", "list", "--issued") == []
    # Importing the same token again changes nothing; the exported token is the same bytes.
    assert _json(bob, "grant", "import", token)["already_present"] is True
    assert _json(bob, "grant", "export", imported["grant"]["id"][:8])["token"] == token

    allowed = alice.ctl("grant", "check", token, "--peer", bob_id, "--action", "roleplay", check=False)
    assert allowed.returncode == 0, allowed.stdout
    other = alice.ctl("grant", "check", token, "--peer", stranger, "--action", "roleplay", "--json", check=False)
    assert other.returncode == EXIT_DENIED
    assert json.loads(other.stdout)["reason"] == "wrong_audience"
    scope = _json(alice, "grant", "check", token, "--peer", bob_id, "--action", "brainstorm", check=False)
    assert scope["reason"] == "scope_missing"
    # Bob is not the issuer, so his node refuses to let anyone use it with him.
    on_bob = _json(bob, "grant", "check", token, "--peer", bob_id, "--action", "roleplay", check=False)
    assert on_bob["reason"] == "wrong_issuer"

    grant_id = imported["grant"]["id"]
    revoked = _json(alice, "grant", "revoke", grant_id[:10])
    assert revoked["newly_revoked"] is True and revoked["id"] == grant_id
    assert revoked["grant"]["state"] == "revoked"
    check = _json(alice, "grant", "check", token, "--peer", bob_id, "--action", "roleplay", check=False)
    assert check["reason"] == "revoked"

    alice.restart()
    check = _json(alice, "grant", "check", token, "--peer", bob_id, "--action", "roleplay", check=False)
    assert check["reason"] == "revoked"
    assert _json(alice, "grant", "show", grant_id)["state"] == "revoked"
    assert _json(alice, "grant", "revoke", grant_id)["newly_revoked"] is False


def test_grant_for_another_node_cannot_be_imported_and_received_grants_cannot_be_revoked(start_daemon) -> None:
    alice, bob = start_daemon(), start_daemon()
    bob_id = _peer_id(bob)
    token = _json(alice, "grant", "issue", bob_id, "--scope", "card")["token"]

    # Alice's own grant comes back to her (e.g. a restore): stored as issued, not duplicated.
    assert _json(alice, "grant", "import", token)["already_present"] is True

    third = start_daemon(start=True)
    refused = third.ctl("grant", "import", token, check=False)
    assert refused.returncode == EXIT_USAGE
    assert "not for this node" in refused.stderr

    grant_id = _json(bob, "grant", "import", token)["grant"]["id"]
    refused = bob.ctl("grant", "revoke", grant_id, check=False)
    assert refused.returncode != 0
    assert "only its issuer can revoke it" in refused.stderr


def test_revoking_an_id_with_no_record_still_refuses_that_grant(daemon) -> None:
    unknown = "ab" * 16
    response = daemon.client.grants.RevokeGrant(grant_pb2.RevokeGrantRequest(id=unknown))
    assert response.newly_revoked and not response.HasField("grant")
    # A short prefix that matches nothing cannot be revoked blindly.
    with pytest.raises(grpc.RpcError) as caught:
        daemon.client.grants.RevokeGrant(grant_pb2.RevokeGrantRequest(id="abcdef"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "full id" in caught.value.details()


def test_bad_tokens_and_requests_get_clear_errors_and_the_daemon_keeps_serving(daemon) -> None:
    cases = {
        "": "paste the smg1_",
        "hello": "must start with 'smg1_'",
        "smg1_" + "A" * 2_000_000: "at most",
        "smg1_!!!": "base64url",
        "smg1_AAAA": "not valid protobuf" ,
    }  # fmt: skip
    for token, expected in cases.items():
        with pytest.raises(grpc.RpcError) as caught:
            daemon.client.grants.ImportGrant(grant_pb2.ImportGrantRequest(token=token))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, token[:20]
        assert expected in caught.value.details(), caught.value.details()

    bad_issue = daemon.ctl("grant", "issue", "QmNotAPeer", "--scope", "roleplay", check=False)
    assert bad_issue.returncode == EXIT_USAGE and "peer ID" in bad_issue.stderr
    bad_scope = daemon.ctl("grant", "issue", _peer_id(daemon), "--scope", "gossip", check=False)
    assert bad_scope.returncode == EXIT_USAGE and "unknown scope gossip" in bad_scope.stderr
    bad_expiry = daemon.ctl("grant", "issue", _peer_id(daemon), "--scope", "card", "--expires", "soon", check=False)
    assert bad_expiry.returncode == EXIT_USAGE and "neither a duration" in bad_expiry.stderr
    missing = daemon.ctl("grant", "show", "0123456789", check=False)
    assert missing.returncode == EXIT_NOT_FOUND
    assert daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest()).peer_id


def test_clock_skew_comes_from_config_and_sighup_applies_a_new_value(start_daemon) -> None:
    alice = start_daemon("version = 1\n[grants]\nclock_skew_seconds = 0\n")
    bob_id = peer_id_from_public_key(Ed25519PrivateKey.generate().public_key())
    token = _json(alice, "grant", "issue", bob_id, "--scope", "card", "--not-before", "5m")["token"]
    early = _json(alice, "grant", "check", token, "--peer", bob_id, "--action", "card", check=False)
    assert early["reason"] == "not_yet_valid"

    alice.write_config("version = 1\n[grants]\nclock_skew_seconds = 900\n")
    alice.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "reloaded config" in alice.log_text(), "the daemon to reload its config")
    assert _json(alice, "grant", "check", token, "--peer", bob_id, "--action", "card")["allowed"] is True
