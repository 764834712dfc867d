"""The daemon's SQLite store: one file, WAL mode, numbered migrations, typed repositories."""

from secondme.daemon.store.db import SchemaTooNew, Store, StoreError

__all__ = ["SchemaTooNew", "Store", "StoreError"]
