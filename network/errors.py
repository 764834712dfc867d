"""Network-layer errors, each with a message a person can act on and the kind of failure it is."""

from __future__ import annotations

from secondme.errors import Kind, SecondmeError


class MeshError(SecondmeError):
    """A mesh operation failed (dial, stream, remote refusal)."""


class FrameError(MeshError):
    """A peer sent a frame we refuse: malformed, oversized, truncated or too slow.

    The stream it came on is closed; repeated offences count against the peer (see `limits`).
    """


class PeerUnreachable(MeshError):
    """The peer could not be dialled or is not connected."""


class InvalidAddress(MeshError):
    """A multiaddr the owner typed cannot be used."""

    kind = Kind.INVALID_ARGUMENT


class RemoteRefused(MeshError):
    """The remote self refused the request; `reason` is its machine-readable reason."""

    kind = Kind.PERMISSION_DENIED

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
