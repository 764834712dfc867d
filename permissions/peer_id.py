"""Ed25519 libp2p peer IDs in both directions, without importing libp2p or the daemon.

An Ed25519 peer ID is the base58btc form of an *identity* multihash over libp2p's protobuf
encoding of the public key, so the key is inside the ID. That is what lets a node verify a
grant from nothing but the grant itself: the issuer field names the key that must have signed.
Only this form is accepted (`12D3KooW...`); hashed IDs (RSA `Qm...`) cannot carry a key and
are refused with that explanation.
"""

from __future__ import annotations

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from secondme.permissions.errors import InvalidPeerId

# libp2p crypto.proto: message PublicKey { KeyType Type = 1; bytes Data = 2; }, KeyType Ed25519 = 1.
_ED25519_KEY_PROTO_PREFIX = bytes([0x08, 0x01, 0x12, 0x20])
_IDENTITY_MULTIHASH = bytes([0x00, len(_ED25519_KEY_PROTO_PREFIX) + 32])
_PREFIX = _IDENTITY_MULTIHASH + _ED25519_KEY_PROTO_PREFIX
_PEER_ID_BYTES = len(_PREFIX) + 32
# A 38-byte value is 52 base58 characters; anything much longer is refused before decoding.
MAX_PEER_ID_CHARS = 64


def peer_id_from_public_key(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base58.b58encode(_PREFIX + raw).decode("ascii")


def public_key_from_peer_id(peer_id: str) -> Ed25519PublicKey:
    """The Ed25519 key embedded in `peer_id`; raises InvalidPeerId saying what is wrong."""
    if not isinstance(peer_id, str) or not peer_id:
        raise InvalidPeerId("a peer ID is required (a base58 string starting with 12D3KooW)")
    if len(peer_id) > MAX_PEER_ID_CHARS:
        raise InvalidPeerId(f"{peer_id[:20]}... is {len(peer_id)} characters; an Ed25519 peer ID is 52")
    try:
        raw = base58.b58decode(peer_id)
    except ValueError as exc:
        raise InvalidPeerId(f"{peer_id!r} is not base58 (peer IDs look like 12D3KooW...)") from exc
    if len(raw) != _PEER_ID_BYTES or not raw.startswith(_PREFIX):
        if raw[:2] == b"\x12\x20":
            raise InvalidPeerId(f"{peer_id!r} is a hashed peer ID (RSA/secp256k1); only Ed25519 peers are supported")
        raise InvalidPeerId(f"{peer_id!r} is not an Ed25519 libp2p peer ID (they start with 12D3KooW)")
    try:
        return Ed25519PublicKey.from_public_bytes(raw[len(_PREFIX) :])
    except ValueError as exc:
        raise InvalidPeerId(f"{peer_id!r} does not embed a valid Ed25519 key") from exc


def is_peer_id(text: str) -> bool:
    try:
        public_key_from_peer_id(text)
    except InvalidPeerId:
        return False
    return True


def canonical_peer_id(peer_id: str) -> str:
    """Validate and return the canonical spelling (base58 has one, but leading/trailing space does not)."""
    return peer_id_from_public_key(public_key_from_peer_id(peer_id.strip()))
