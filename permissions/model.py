"""The grant as a typed value: what another self may do, for how long, and how much.

Protobuf exists only at the edge (`codec.py`); everything inside works with these frozen
dataclasses, so a grant can be compared, hashed and passed across threads safely.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime

from secondme.errors import InvalidArgument

GRANT_ID_BYTES = 16
MAX_NOTE_CHARS = 280


class Action(enum.StrEnum):
    """What an incoming request wants to do; each needs the grant scope of the same name."""

    CARD = "card"
    ROLEPLAY = "roleplay"
    ICEBREAK = "icebreak"
    BRAINSTORM = "brainstorm"


# A grant's scopes are the actions it allows; one vocabulary, two names for readability.
Scope = Action


class Disclosure(enum.StrEnum):
    """Which parts of the owner's identity may be used toward the grant's audience."""

    PUBLIC_CARD = "public-card"
    PUBLIC_SHADES = "public-shades"
    ALL_BUT_PRIVATE = "all-but-private"


class DenyReason(enum.StrEnum):
    """Why a grant did not allow a request; stable strings, safe to log and to send back."""

    # Nothing was presented at all (a stranger asking without a grant): not a malformed grant.
    NO_GRANT = "no_grant"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SCOPE_MISSING = "scope_missing"
    LIMIT_SPENT = "limit_spent"
    SESSION_CLOSED = "session_closed"


@dataclass(frozen=True)
class Limits:
    """Usage limits; None means unlimited (encoded as 0 on the wire)."""

    max_turns_per_session: int | None = None
    max_sessions_per_day: int | None = None
    max_concurrent_sessions: int | None = None


@dataclass(frozen=True)
class Grant:
    """A decoded grant payload. Only meaningful together with the envelope that signed it."""

    id: bytes
    issuer: str
    audience: str
    scopes: frozenset[Action]
    not_before: datetime
    expires: datetime
    disclosure: Disclosure = Disclosure.PUBLIC_CARD
    limits: Limits = field(default_factory=Limits)
    note: str = ""

    @property
    def id_hex(self) -> str:
        return self.id.hex()

    def allows(self, action: Action) -> bool:
        return action in self.scopes


def grant_id_from_hex(text: str) -> bytes:
    """Parse the 32-hex-digit form users see in `grant list`; raises InvalidArgument with the reason."""
    cleaned = text.strip().lower()
    if len(cleaned) != GRANT_ID_BYTES * 2:
        raise InvalidArgument(f"a grant id is {GRANT_ID_BYTES * 2} hex digits, got {len(cleaned)} characters: {text!r}")
    try:
        return bytes.fromhex(cleaned)
    except ValueError as exc:
        raise InvalidArgument(f"a grant id is hex digits only (0-9, a-f): {text!r}") from exc


def utc(moment: datetime) -> datetime:
    """Naive datetimes are refused rather than guessed: a grant's window must be unambiguous."""
    if moment.tzinfo is None:
        raise ValueError("datetimes in grants must be timezone-aware")
    return moment.astimezone(UTC)
