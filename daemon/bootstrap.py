"""Setting a data dir up, the one way: what `secondmectl init` creates and what `secondmed` opens.

`initialise` is init's work (the data dir, the node key, the schema, the packaged default model),
idempotent; the daemon opens the same things through `open_data_dir` and `read_node_key`, so the
two never disagree on where a key lives or what mode a folder has.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secondme.daemon.models.default import register_default_model
from secondme.daemon.models.registry import ModelRegistry
from secondme.daemon.node_key import create_node_key, load_node_key, peer_id_from_public_key
from secondme.daemon.paths import Paths
from secondme.daemon.store import Store

DATA_DIR_MODE = 0o700


@dataclass
class Initialised:
    peer_id: str
    # The active model's name; empty when none is (init without the packaged default).
    model: str
    # What this call created (paths), empty when everything was there already.
    created: list[str] = field(default_factory=list)


def open_data_dir(paths: Paths) -> None:
    """The data dir, private to the owner."""
    paths.data_dir.mkdir(parents=True, exist_ok=True, mode=DATA_DIR_MODE)


def read_node_key(paths: Paths) -> Ed25519PrivateKey:
    """This node's key; `NodeKeyError` saying to run init when there is none."""
    return load_node_key(paths.node_key)


def initialise(paths: Paths, default_model: bool = True) -> Initialised:
    """Create what is missing (data dir, node key, schema, default model) and keep what is there."""
    open_data_dir(paths)
    created = []
    if paths.node_key.exists():
        key = load_node_key(paths.node_key)
    else:
        key = create_node_key(paths.node_key)
        created.append(str(paths.node_key))
    asyncio.run(_migrate(paths))
    model = _default_model(paths) if default_model else ""
    return Initialised(peer_id_from_public_key(key.public_key()), model, created)


async def _migrate(paths: Paths) -> None:
    store = await Store.open(paths.db)
    await store.close()


def _default_model(paths: Paths) -> str:
    """The active model, registering the packaged default when none is active (a bootstrap step, like the key)."""
    registry = ModelRegistry(paths.db, paths.models)
    try:
        active = registry.active()
        if active is not None:
            return active.name
        record = register_default_model(registry, paths.models)
        return record.name if record else ""
    finally:
        registry.close()
