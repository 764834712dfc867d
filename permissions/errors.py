"""Grant errors: each carries a machine-readable reason and a message a person can act on.

`GrantError` is the base the daemon maps to gRPC status codes (`daemon/api/errors.py`); the
reason is the same `DenyReason` that `authorize` returns, so a refusal reads the same whether
it came back as a `Decision` or as an exception.
"""

from __future__ import annotations

from secondme.permissions.model import DenyReason


class GrantError(Exception):
    """A grant or token could not be used. `reason` says why in machine-readable form."""

    reason: DenyReason | None = None

    def __init__(self, message: str, reason: DenyReason | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


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


class InvalidGrantRequest(GrantError):
    """An issue request that cannot become a grant (no scope, expiry before start, ...)."""
