"""Where secondme keeps things: resolved once, from flag, environment, config file or default.

Precedence is flag > environment variable > config file > XDG default, so tests and service
managers can point a daemon anywhere without editing files.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "secondme"
ENV_CONFIG = "SECONDME_CONFIG"
ENV_DATA_DIR = "SECONDME_DATA_DIR"
ENV_SOCKET = "SECONDME_SOCKET"

DB_FILENAME = "secondme.db"
NODE_KEY_FILENAME = "node.key"
# The node key's file's earlier name: a data dir that has only this one keeps using it.
LEGACY_NODE_KEY_FILENAME = "identity.key"
LOCK_FILENAME = "secondmed.lock"
# Where streamed uploads wait for their ingest: the one part of the data dir an ingest reads.
UPLOADS_DIRNAME = "uploads"


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP))


def default_socket_path() -> Path:
    """$XDG_RUNTIME_DIR/secondme/secondmed.sock; without one, a per-user folder in the temp dir."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / APP / "secondmed.sock"
    if sys.platform == "darwin":
        return Path(platformdirs.user_runtime_dir(APP)) / "secondmed.sock"
    return Path(tempfile.gettempdir()) / f"{APP}-{os.getuid()}" / "secondmed.sock"


def resolve_config_path(flag: str | Path | None) -> Path:
    if flag:
        return Path(flag).expanduser().resolve()
    env = os.environ.get(ENV_CONFIG)
    return Path(env).expanduser().resolve() if env else default_config_path()


def _pick(flag: str | Path | None, env_name: str, from_config: str | None, default: Path) -> Path:
    for candidate in (flag, os.environ.get(env_name), from_config):
        if candidate:
            return Path(candidate).expanduser().resolve()
    return default


@dataclass(frozen=True)
class Paths:
    """Every filesystem location the daemon and CLI use."""

    config: Path
    data_dir: Path
    socket: Path

    @property
    def db(self) -> Path:
        return self.data_dir / DB_FILENAME

    @property
    def node_key(self) -> Path:
        """This node's Ed25519 key; the file's older name where only that one exists."""
        path = self.data_dir / NODE_KEY_FILENAME
        legacy = self.data_dir / LEGACY_NODE_KEY_FILENAME
        return legacy if legacy.exists() and not path.exists() else path

    @property
    def originals(self) -> Path:
        """Original bytes of ingested files, stored by content hash."""
        return self.data_dir / "originals"

    @property
    def uploads(self) -> Path:
        return self.data_dir / UPLOADS_DIRNAME

    @property
    def models(self) -> Path:
        return self.data_dir / "models"

    @property
    def lock(self) -> Path:
        return self.data_dir / LOCK_FILENAME

    @classmethod
    def resolve(
        cls,
        *,
        config: str | Path | None = None,
        data_dir: str | Path | None = None,
        socket: str | Path | None = None,
        config_data_dir: str | None = None,
        config_socket: str | None = None,
    ) -> Paths:
        return cls(
            config=resolve_config_path(config),
            data_dir=_pick(data_dir, ENV_DATA_DIR, config_data_dir, default_data_dir()),
            socket=_pick(socket, ENV_SOCKET, config_socket, default_socket_path()),
        )
