"""Signed permission grants: what another AI self may do with this one, and taking it back.

The network layer uses `GrantAuthority` (built by the daemon) for every incoming request; see
`secondme.permissions.authority` for the exact method signatures. Everything here is usable
without the daemon: it never imports `secondme.daemon`.
"""

from secondme.permissions.authority import (
    DEFAULT_CLOCK_SKEW_SECONDS,
    Decision,
    GrantAuthority,
    IssuedGrant,
    SessionHandle,
)
from secondme.permissions.codec import DOMAIN, open_envelope, sign_grant
from secondme.permissions.disclosure import (
    Disclosed,
    IdentityView,
    PublicCard,
    ShadePrivacy,
    ShadeView,
    disclose,
)
from secondme.permissions.durations import parse_moment
from secondme.permissions.errors import (
    GrantDenied,
    GrantError,
    GrantNotFound,
    InvalidGrantRequest,
    InvalidPeerId,
    MalformedGrant,
    TokenTooLarge,
)
from secondme.permissions.ledger import GrantLedger, LedgerState, MemoryLedger
from secondme.permissions.model import Action, DenyReason, Disclosure, Grant, Limits, Scope, grant_id_from_hex
from secondme.permissions.peer_id import canonical_peer_id, is_peer_id, peer_id_from_public_key, public_key_from_peer_id
from secondme.permissions.token import MAX_TOKEN_CHARS, TOKEN_PREFIX, decode_token, encode_token

__all__ = [
    "DEFAULT_CLOCK_SKEW_SECONDS",
    "DOMAIN",
    "MAX_TOKEN_CHARS",
    "TOKEN_PREFIX",
    "Action",
    "Decision",
    "DenyReason",
    "Disclosed",
    "Disclosure",
    "Grant",
    "GrantAuthority",
    "GrantDenied",
    "GrantError",
    "GrantLedger",
    "GrantNotFound",
    "IdentityView",
    "InvalidGrantRequest",
    "InvalidPeerId",
    "IssuedGrant",
    "LedgerState",
    "Limits",
    "MalformedGrant",
    "MemoryLedger",
    "PublicCard",
    "Scope",
    "SessionHandle",
    "ShadePrivacy",
    "ShadeView",
    "TokenTooLarge",
    "canonical_peer_id",
    "decode_token",
    "disclose",
    "encode_token",
    "grant_id_from_hex",
    "is_peer_id",
    "open_envelope",
    "parse_moment",
    "peer_id_from_public_key",
    "public_key_from_peer_id",
    "sign_grant",
]
