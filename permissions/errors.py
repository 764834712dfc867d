"""Grant errors: each carries a machine-readable reason and a message a person can act on.

`GrantError` is this layer's `SecondmeError`: a malformed or unusable grant unless a subclass
says otherwise (`kind`). The reason is the same `DenyReason` that `authorize` returns, so a
refusal reads the same whether it came back as a `Decision` or as an exception.
"""

from __future__ import annotations

from secondme.errors import Kind, SecondmeError
from secondme.permissions.model import DenyReason


class GrantError(SecondmeError):
    """A grant or token could not be used. `reason` says why in machine-readable form."""

    kind = Kind.INVALID_ARGUMENT
    reason: DenyReason | None = None

    def __init__(self, message: str, reason: DenyReason | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class MalformedGrant(GrantError):
    """The bytes are not a grant this version understands (bad token, bad protobuf, bad field)."""

    reason = DenyReason.MALFORMED


class TokenTooLarge(MalformedGrant):
    """Refused before any decoding: no real grant token is anywhere near this size."""

    reason = DenyReason.TOO_LARGE


class InvalidPeerId(MalformedGrant):
    """A string that is not an Ed25519 libp2p peer ID (`12D3KooW...`)."""


class GrantDenied(GrantError):
    """A well-formed grant that does not allow what was asked (signature, audience, time, ...)."""

    def __init__(self, message: str, reason: DenyReason) -> None:
        super().__init__(message, reason)


class GrantNotFound(GrantError):
    """No issued or received grant with this id is known to this node."""

    kind = Kind.NOT_FOUND


class InvalidGrantRequest(GrantError):
    """An issue request that cannot become a grant (no scope, expiry before start, ...)."""
