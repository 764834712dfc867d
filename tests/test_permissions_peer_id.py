"""Peer IDs: ours must be exactly libp2p's, in both directions, and bad ones clearly refused."""

from __future__ import annotations

import base58
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from libp2p.crypto.ed25519 import Ed25519PublicKey as Libp2pEd25519PublicKey
from libp2p.peer.id import ID

from secondme.daemon.node_key import peer_id_from_public_key as daemon_peer_id
from secondme.permissions import InvalidPeerId, canonical_peer_id, is_peer_id, public_key_from_peer_id
from secondme.permissions import peer_id_from_public_key as permissions_peer_id


def _raw(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.mark.parametrize("_", range(5))
def test_peer_id_matches_libp2p_and_the_daemon_and_embeds_the_key(_: int) -> None:
    key = Ed25519PrivateKey.generate().public_key()
    ours = permissions_peer_id(key)
    libp2p_id = ID.from_pubkey(Libp2pEd25519PublicKey.from_bytes(_raw(key)))
    assert ours == libp2p_id.to_base58() == daemon_peer_id(key)
    assert ours.startswith("12D3KooW")
    assert _raw(public_key_from_peer_id(ours)) == _raw(key)
    assert canonical_peer_id(f"  {ours}\n") == ours


def test_hashed_peer_ids_are_refused_with_the_reason() -> None:
    rsa_style = base58.b58encode(b"\x12\x20" + bytes(32)).decode()
    with pytest.raises(InvalidPeerId, match="hashed peer ID"):
        public_key_from_peer_id(rsa_style)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "required"),
        ("12D3KooW0OIl", "not base58"),
        ("12D3KooW", "not an Ed25519"),
        ("1" * 500, "characters"),
    ],
)
def test_malformed_peer_ids_are_refused(text: str, expected: str) -> None:
    with pytest.raises(InvalidPeerId, match=expected):
        public_key_from_peer_id(text)
    assert not is_peer_id(text)
