"""Grants on the wire: protobuf payload, signed envelope, and strict verification.

The signature covers `DOMAIN + payload`, where payload is the exact serialized bytes carried in
the envelope (the libp2p signed-envelope idea): the domain prefix keeps a grant signature from
ever being valid as any other message signed by the same node key, and signing the carried
bytes (not a re-serialization) means verification never depends on protobuf's encoder. The
issuer's key is inside the issuer peer ID, so a grant is verifiable from itself alone: the
size-capped payload is parsed to find that key, the signature is checked, and only then is the
grant trusted.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from google.protobuf.message import DecodeError

from secondme.permissions.errors import GrantDenied, InvalidPeerId, MalformedGrant, TokenTooLarge
from secondme.permissions.model import (
    GRANT_ID_BYTES,
    MAX_NOTE_CHARS,
    Action,
    DenyReason,
    Disclosure,
    Grant,
    Limits,
)
from secondme.permissions.peer_id import peer_id_from_public_key, public_key_from_peer_id
from secondme.permissions.token import MAX_ENVELOPE_BYTES
from secondme.v1 import grant_pb2

DOMAIN = b"secondme/grant/v1\x00"
PAYLOAD_VERSION = 1
SIGNATURE_BYTES = 64

SCOPE_TO_PROTO: dict[Action, int] = {
    Action.CARD: grant_pb2.GRANT_SCOPE_CARD,
    Action.ROLEPLAY: grant_pb2.GRANT_SCOPE_ROLEPLAY,
    Action.ICEBREAK: grant_pb2.GRANT_SCOPE_ICEBREAK,
    Action.BRAINSTORM: grant_pb2.GRANT_SCOPE_BRAINSTORM,
}
PROTO_TO_SCOPE = {value: key for key, value in SCOPE_TO_PROTO.items()}
DISCLOSURE_TO_PROTO: dict[Disclosure, int] = {
    Disclosure.PUBLIC_CARD: grant_pb2.DISCLOSURE_LEVEL_PUBLIC_CARD,
    Disclosure.PUBLIC_SHADES: grant_pb2.DISCLOSURE_LEVEL_PUBLIC_SHADES,
    Disclosure.ALL_BUT_PRIVATE: grant_pb2.DISCLOSURE_LEVEL_ALL_BUT_PRIVATE,
}
PROTO_TO_DISCLOSURE = {value: key for key, value in DISCLOSURE_TO_PROTO.items()}


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _from_unix(seconds: int) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedGrant(f"grant timestamp {seconds} is out of range") from exc


def _limit(value: int | None) -> int:
    return 0 if value is None else value


def _unlimit(value: int) -> int | None:
    return None if value == 0 else value


def payload_bytes(grant: Grant) -> bytes:
    """Deterministic serialization: the bytes that get signed and carried."""
    message = grant_pb2.GrantPayload(
        version=PAYLOAD_VERSION,
        id=grant.id,
        issuer=grant.issuer,
        audience=grant.audience,
        scopes=sorted(SCOPE_TO_PROTO[s] for s in grant.scopes),
        limits=grant_pb2.GrantLimits(
            max_turns_per_session=_limit(grant.limits.max_turns_per_session),
            max_sessions_per_day=_limit(grant.limits.max_sessions_per_day),
            max_concurrent_sessions=_limit(grant.limits.max_concurrent_sessions),
        ),
        disclosure=DISCLOSURE_TO_PROTO[grant.disclosure],  # type: ignore[arg-type]
        not_before=_unix(grant.not_before),
        expires=_unix(grant.expires),
        note=grant.note,
    )
    return message.SerializeToString(deterministic=True)


def sign_grant(grant: Grant, private_key: Ed25519PrivateKey) -> bytes:
    """The envelope bytes for `grant`; the key must be the issuer's (checked, to catch wiring bugs)."""
    if peer_id_from_public_key(private_key.public_key()) != grant.issuer:
        raise ValueError("the signing key does not belong to the grant's issuer")
    payload = payload_bytes(grant)
    signature = private_key.sign(DOMAIN + payload)
    return grant_pb2.GrantEnvelope(payload=payload, signature=signature).SerializeToString(deterministic=True)


def split_envelope(envelope: bytes) -> tuple[bytes, bytes]:
    """(payload, signature) from envelope bytes, refusing anything but the canonical encoding."""
    if not isinstance(envelope, bytes | bytearray | memoryview):
        raise MalformedGrant(f"a grant envelope is bytes, got {type(envelope).__name__}")
    envelope = bytes(envelope)
    if len(envelope) > MAX_ENVELOPE_BYTES:
        raise TokenTooLarge(f"a grant envelope is at most {MAX_ENVELOPE_BYTES} bytes, got {len(envelope)}")
    message = grant_pb2.GrantEnvelope()
    try:
        message.ParseFromString(envelope)
    except DecodeError as exc:
        raise MalformedGrant("the grant envelope is not valid protobuf; was the token altered?") from exc
    # Unknown fields, reordered or duplicated fields are all refused: one grant, one encoding.
    if message.SerializeToString(deterministic=True) != envelope:
        raise MalformedGrant("the grant envelope is not in canonical form; was the token altered?")
    if len(message.signature) != SIGNATURE_BYTES:
        raise MalformedGrant(f"the grant signature is {len(message.signature)} bytes, expected {SIGNATURE_BYTES}")
    if not message.payload:
        raise MalformedGrant("the grant envelope carries no payload")
    return message.payload, message.signature


def parse_payload(payload: bytes, *, check_peer_ids: bool = True) -> Grant:
    """A validated Grant from payload bytes (signature NOT checked here; see `open_envelope`).

    `check_peer_ids=False` skips decoding issuer and audience as peer IDs (base58 in pure Python
    costs more than the signature check): for callers that compare both against known-good IDs.
    """
    message = grant_pb2.GrantPayload()
    try:
        message.ParseFromString(payload)
    except DecodeError as exc:
        raise MalformedGrant("the grant payload is not valid protobuf") from exc
    if message.version != PAYLOAD_VERSION:
        raise MalformedGrant(
            f"grant format version {message.version} is not supported (this node understands {PAYLOAD_VERSION})"
        )
    if len(message.id) != GRANT_ID_BYTES:
        raise MalformedGrant(f"a grant id is {GRANT_ID_BYTES} bytes, got {len(message.id)}")
    for field_name in ("issuer", "audience") if check_peer_ids else ():
        try:
            public_key_from_peer_id(getattr(message, field_name))
        except InvalidPeerId as exc:
            raise MalformedGrant(f"grant {field_name}: {exc.message}") from exc
    # Scope values this version does not know (a newer issuer's) allow nothing here.
    scopes = frozenset(PROTO_TO_SCOPE[s] for s in message.scopes if s in PROTO_TO_SCOPE)
    if not scopes:
        raise MalformedGrant("the grant allows no scope this node knows")
    if message.disclosure not in PROTO_TO_DISCLOSURE:
        raise MalformedGrant(f"unknown disclosure level {message.disclosure}")
    if len(message.note) > MAX_NOTE_CHARS:
        raise MalformedGrant(f"a grant note is at most {MAX_NOTE_CHARS} characters")
    not_before = _from_unix(message.not_before)
    expires = _from_unix(message.expires)
    if expires <= not_before:
        raise MalformedGrant("the grant expires before it becomes valid")
    return Grant(
        id=message.id,
        issuer=message.issuer,
        audience=message.audience,
        scopes=scopes,
        not_before=not_before,
        expires=expires,
        disclosure=PROTO_TO_DISCLOSURE[message.disclosure],
        limits=Limits(
            max_turns_per_session=_unlimit(message.limits.max_turns_per_session),
            max_sessions_per_day=_unlimit(message.limits.max_sessions_per_day),
            max_concurrent_sessions=_unlimit(message.limits.max_concurrent_sessions),
        ),
        note=message.note,
    )


def open_envelope(envelope: bytes) -> Grant:
    """Parse and verify a signed grant against the key inside its issuer peer ID.

    Raises MalformedGrant for bytes that are not a grant and GrantDenied(BAD_SIGNATURE) when
    the signature is not the issuer's. Says nothing about audience, time or revocation: that is
    `GrantAuthority.authorize`'s job.
    """
    payload, signature = split_envelope(envelope)
    grant = parse_payload(payload)
    verify_signature(grant, payload, signature, public_key_from_peer_id(grant.issuer))
    return grant


def verify_signature(grant: Grant, payload: bytes, signature: bytes, issuer_key: Ed25519PublicKey) -> None:
    """Raise GrantDenied(BAD_SIGNATURE) unless `issuer_key` signed DOMAIN + payload."""
    try:
        issuer_key.verify(signature, DOMAIN + payload)
    except InvalidSignature as exc:
        raise GrantDenied(
            f"grant {grant.id_hex} is not signed by its issuer {grant.issuer}; it was forged or altered",
            DenyReason.BAD_SIGNATURE,
        ) from exc
