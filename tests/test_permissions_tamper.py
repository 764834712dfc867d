"""Under attack: every altered, forged, random or oversized grant is refused with a reason.

Bit flips are checked exhaustively on a real signed grant (every bit of the envelope and of the
token text), and by hypothesis over randomly shaped grants; random input must come back as a
denial, never as an exception.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secondme.permissions import (
    Action,
    DenyReason,
    Disclosure,
    GrantAuthority,
    GrantError,
    Limits,
    MemoryLedger,
    TokenTooLarge,
    decode_token,
    encode_token,
    open_envelope,
    peer_id_from_public_key,
)
from secondme.v1 import grant_pb2

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
ME = peer_id_from_public_key(KEY.public_key())
PEER = peer_id_from_public_key(Ed25519PrivateKey.generate().public_key())
AUTHORITY = GrantAuthority(ME, KEY, MemoryLedger(), clock=lambda: NOW)
ISSUED = AUTHORITY.issue(
    PEER,
    [Action.ROLEPLAY, Action.ICEBREAK],
    expires=NOW + timedelta(days=30),
    limits=Limits(40, 3, 1),
    disclosure=Disclosure.PUBLIC_SHADES,
    note="met at the climbing wall",
    now=NOW,
)


def _flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


def test_the_untouched_grant_is_allowed() -> None:
    assert AUTHORITY.authorize(PEER, Action.ROLEPLAY, ISSUED.token, NOW).allowed
    assert AUTHORITY.authorize(PEER, Action.ROLEPLAY, ISSUED.envelope, NOW).allowed


def test_flipping_any_single_bit_of_the_envelope_is_refused() -> None:
    for bit in range(len(ISSUED.envelope) * 8):
        tampered = _flip(ISSUED.envelope, bit)
        decision = AUTHORITY.authorize(PEER, Action.ROLEPLAY, tampered, NOW)
        assert not decision.allowed, f"bit {bit} flipped was accepted"
        assert decision.reason in {DenyReason.MALFORMED, DenyReason.BAD_SIGNATURE, DenyReason.WRONG_ISSUER}
        with pytest.raises(GrantError):
            open_envelope(tampered)


def test_flipping_any_single_bit_of_the_token_text_is_refused() -> None:
    raw = ISSUED.token.encode("ascii")
    for bit in range(len(raw) * 8):
        tampered = _flip(raw, bit).decode("latin-1")
        decision = AUTHORITY.authorize(PEER, Action.ROLEPLAY, tampered, NOW)
        assert not decision.allowed, f"token bit {bit} flipped was accepted"
        assert decision.reason is not None and decision.message


grant_shapes = st.fixed_dictionaries(
    {
        "scopes": st.sets(st.sampled_from(list(Action)), min_size=1),
        "disclosure": st.sampled_from(list(Disclosure)),
        "limits": st.builds(
            Limits,
            st.none() | st.integers(1, 2**32 - 1),
            st.none() | st.integers(1, 1000),
            st.none() | st.integers(1, 50),
        ),
        "note": st.text(max_size=280),
        "days": st.integers(1, 3650),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=grant_shapes, data=st.data())
def test_any_grant_round_trips_and_any_bit_flip_is_refused(shape: dict, data: st.DataObject) -> None:
    issued = AUTHORITY.issue(
        PEER,
        shape["scopes"],
        expires=NOW + timedelta(days=shape["days"]),
        limits=shape["limits"],
        disclosure=shape["disclosure"],
        note=shape["note"],
        now=NOW,
    )
    assert decode_token(encode_token(issued.envelope)) == issued.envelope
    assert open_envelope(issued.envelope) == issued.grant
    action = next(iter(shape["scopes"]))
    assert AUTHORITY.authorize(PEER, action, issued.token, NOW).allowed
    bit = data.draw(st.integers(0, len(issued.envelope) * 8 - 1), label="envelope bit")
    assert not AUTHORITY.authorize(PEER, action, _flip(issued.envelope, bit), NOW).allowed
    token_bit = data.draw(st.integers(0, len(issued.token) * 8 - 1), label="token bit")
    tampered = _flip(issued.token.encode("ascii"), token_bit).decode("latin-1")
    assert not AUTHORITY.authorize(PEER, action, tampered, NOW).allowed


@settings(max_examples=300, deadline=None)
@given(blob=st.binary(max_size=3000))
def test_random_bytes_are_refused_with_a_reason_never_an_exception(blob: bytes) -> None:
    decision = AUTHORITY.authorize(PEER, Action.CARD, blob, NOW)
    assert not decision.allowed
    # Nothing at all is no grant presented; anything else that is not a grant is malformed.
    assert (
        decision.reason is DenyReason.NO_GRANT
        if not blob
        else decision.reason in {DenyReason.MALFORMED, DenyReason.TOO_LARGE}
    )
    assert decision.message and decision.grant is None


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=400) | st.text(alphabet="ABCDEFabcdef0123456789-_", max_size=400).map("smg1_".__add__))
def test_random_token_text_is_refused_with_a_reason_never_an_exception(text: str) -> None:
    decision = AUTHORITY.authorize(PEER, Action.CARD, text, NOW)
    assert not decision.allowed
    if not text.strip():
        assert decision.reason is DenyReason.NO_GRANT
    else:
        assert decision.reason in {DenyReason.MALFORMED, DenyReason.TOO_LARGE}
    assert decision.message


@settings(max_examples=200, deadline=None)
@given(blob=st.binary(min_size=1, max_size=2048))
def test_token_form_round_trips_exactly(blob: bytes) -> None:
    assert decode_token(encode_token(blob)) == blob


def test_an_enormous_token_is_refused_before_decoding() -> None:
    huge = "smg1_" + "A" * (1024 * 1024)
    decision = AUTHORITY.authorize(PEER, Action.CARD, huge, NOW)
    assert decision.reason == DenyReason.TOO_LARGE
    assert "at most" in decision.message
    with pytest.raises(TokenTooLarge):
        decode_token(huge)
    raw = AUTHORITY.authorize(PEER, Action.CARD, b"\x0a" * (1024 * 1024), NOW)
    assert raw.reason == DenyReason.TOO_LARGE


def _wrap(payload: bytes) -> bytes:
    return grant_pb2.GrantEnvelope(payload=payload, signature=bytes(64)).SerializeToString(deterministic=True)


@settings(max_examples=200, deadline=None)
@given(payload=st.binary(min_size=1, max_size=1500))
def test_random_payloads_in_a_well_formed_envelope_are_refused_never_raised(payload: bytes) -> None:
    decision = AUTHORITY.authorize(PEER, Action.CARD, _wrap(payload), NOW)
    assert not decision.allowed and decision.reason is not None and decision.message


payload_fields = st.builds(
    grant_pb2.GrantPayload,
    version=st.integers(0, 3),
    id=st.binary(max_size=20),
    issuer=st.sampled_from([ME, PEER, "", "x" * 60]) | st.text(max_size=60),
    audience=st.sampled_from([ME, PEER, ""]) | st.text(max_size=60),
    scopes=st.lists(st.integers(0, 9), max_size=6),
    disclosure=st.integers(0, 5),
    not_before=st.integers(-(2**63), 2**63 - 1),
    expires=st.integers(-(2**63), 2**63 - 1),
    note=st.text(max_size=300),
)


@settings(max_examples=200, deadline=None)
@given(message=payload_fields)
def test_any_unsigned_payload_is_refused_with_a_reason_and_never_raises(message: grant_pb2.GrantPayload) -> None:
    envelope = _wrap(message.SerializeToString(deterministic=True) or b"\x08\x01")
    decision = AUTHORITY.authorize(PEER, Action.CARD, envelope, NOW)
    assert not decision.allowed
    assert decision.reason in {DenyReason.MALFORMED, DenyReason.BAD_SIGNATURE, DenyReason.WRONG_ISSUER}
    with pytest.raises(GrantError):
        open_envelope(envelope)
