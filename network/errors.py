"""Network-layer errors, each with a message a person can act on."""

from __future__ import annotations


class MeshError(Exception):
    """A mesh operation failed (dial, stream, remote refusal)."""


class FrameError(MeshError):
    """A peer sent a frame we refuse: malformed, oversized, truncated or too slow.

    The stream it came on is closed; repeated offences count against the peer (see `limits`).
    """


class PeerUnreachable(MeshError):
    """The peer could not be dialled or is not connected."""


class InvalidAddress(MeshError):
    """A multiaddr the owner typed cannot be used."""


class RemoteRefused(MeshError):
    """The remote self refused the request; `reason` is its machine-readable reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
