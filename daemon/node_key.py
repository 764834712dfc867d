"""The node key: this node's Ed25519 key, created once by `secondmectl init`, never sent anywhere.

The key is the self's name on the mesh. Its peer ID is computed exactly as libp2p does for
Ed25519 keys (`secondme.permissions.peer_id`), so the network layer can use the same key
unchanged and `status` shows the same ID that peers see.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secondme.errors import SecondmeError
from secondme.permissions.peer_id import peer_id_from_public_key

KEY_FILE_MODE = 0o600


__all__ = ["NodeKeyError", "create_node_key", "load_node_key", "peer_id_from_public_key", "private_key_seed"]


class NodeKeyError(SecondmeError):
    """The node key is missing, unreadable or exposed."""


def create_node_key(path: Path) -> Ed25519PrivateKey:
    """Write a new key with mode 0600 from the first byte on; refuses to overwrite one."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError as exc:
        raise NodeKeyError(f"{path} already exists; refusing to replace this node's key") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(path, KEY_FILE_MODE)
    return key


def load_node_key(path: Path) -> Ed25519PrivateKey:
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError as exc:
        raise NodeKeyError(f"no node key at {path}; run `secondmectl init` first") from exc
    if mode & 0o077:
        raise NodeKeyError(f"{path} is readable by other users (mode {mode:o}); run `chmod 600 {path}` and restart")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise NodeKeyError(f"{path} is not a readable Ed25519 private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise NodeKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def private_key_seed(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte seed, the form libp2p's Ed25519 key classes are built from."""
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
