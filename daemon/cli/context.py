"""What every command handler gets: resolved paths, output mode, and a lazily connected client."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from secondme.daemon.client import Client, DaemonUnavailable
from secondme.daemon.config import Config, load_config
from secondme.daemon.paths import Paths
from secondme.daemon.store import health
from secondme.daemon.store.db import DatabaseLocked, DatabaseUnusable


@dataclass
class CliContext:
    args: argparse.Namespace
    json: bool
    # Tables print every cell whole instead of fitting the terminal (--wide).
    wide: bool = False
    _client: Client | None = field(default=None, repr=False)
    _paths: Paths | None = field(default=None, repr=False)

    @property
    def paths(self) -> Paths:
        """Paths as the daemon resolves them: flag > environment > config file > default."""
        if self._paths is None:
            first = Paths.resolve(config=self.args.config, data_dir=self.args.data_dir, socket=self.args.socket)
            config = self.config(first)
            self._paths = Paths.resolve(
                config=self.args.config,
                data_dir=self.args.data_dir,
                socket=self.args.socket,
                config_data_dir=config.daemon.data_dir or None,
                config_socket=config.daemon.socket or None,
            )
        return self._paths

    def config(self, paths: Paths | None = None) -> Config:
        return load_config((paths or self.paths).config)

    def client(self) -> Client:
        if self._client is None:
            try:
                self._client = Client.connect(self.paths.socket)
            except DaemonUnavailable as exc:
                # A daemon that will not start on its database says why in its log; say it here too.
                problem = health.diagnose(self.paths.db)
                if problem:
                    raise DatabaseUnusable(health.explained(self.paths.db, problem)) from exc
                if health.locked(self.paths.db):
                    raise DatabaseLocked(health.locked_explained(self.paths.db)) from exc
                raise
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
