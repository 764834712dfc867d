"""The copy-paste token form of a signed grant: `smg1_` + unpadded base64url of the envelope.

Decoding is strict so a token round-trips exactly and every change to it is caught: the size
is checked before anything else (a 1 MB paste costs one `len`), the prefix must match, and the
base64 must be canonical (re-encoding gives the same text, so the spare low bits of the last
character cannot be flipped unnoticed).
"""

from __future__ import annotations

import base64
import binascii
import re

from secondme.permissions.errors import MalformedGrant, TokenTooLarge

TOKEN_PREFIX = "smg1_"
# A grant envelope is a few hundred bytes; these caps leave ample room and stop abuse early.
MAX_ENVELOPE_BYTES = 2048
MAX_TOKEN_CHARS = len(TOKEN_PREFIX) + (MAX_ENVELOPE_BYTES * 4 + 2) // 3
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def encode_token(envelope: bytes) -> str:
    if not envelope:
        raise MalformedGrant("an empty envelope is not a grant")
    if len(envelope) > MAX_ENVELOPE_BYTES:
        raise TokenTooLarge(f"a grant envelope is at most {MAX_ENVELOPE_BYTES} bytes, got {len(envelope)}")
    return TOKEN_PREFIX + base64.urlsafe_b64encode(envelope).rstrip(b"=").decode("ascii")


def decode_token(token: str) -> bytes:
    """Envelope bytes from a token; raises MalformedGrant (or TokenTooLarge) saying what is wrong."""
    if not isinstance(token, str):
        raise MalformedGrant(f"a grant token is text starting with {TOKEN_PREFIX}, got {type(token).__name__}")
    if len(token) > MAX_TOKEN_CHARS + 2:  # + surrounding whitespace from a paste
        raise TokenTooLarge(f"a grant token is at most {MAX_TOKEN_CHARS} characters, this one has {len(token)}")
    text = token.strip()
    if not text.startswith(TOKEN_PREFIX):
        raise MalformedGrant(f"not a grant token: it must start with {TOKEN_PREFIX!r} (got {text[:8]!r})")
    body = text[len(TOKEN_PREFIX) :]
    if not body:
        raise MalformedGrant("the grant token is empty after its prefix; was it cut off when copying?")
    if not _BASE64URL.fullmatch(body):
        raise MalformedGrant("the grant token has characters outside base64url (A-Z a-z 0-9 - _); was it altered?")
    if len(body) % 4 == 1:
        raise MalformedGrant("the grant token has an impossible length; was it cut off when copying?")
    try:
        envelope = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedGrant(f"the grant token is not valid base64url: {exc}") from exc
    if base64.urlsafe_b64encode(envelope).rstrip(b"=").decode("ascii") != body:
        raise MalformedGrant("the grant token is not in canonical form; was it altered?")
    return envelope
