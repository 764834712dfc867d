"""Logging to stderr, plain for people or JSON lines for journald and log shippers.

Only the daemon's own records are said at their level. The libraries' (py-libp2p's errors about a
peer gone mid-stream, transformers' advice, llama.cpp's native lines, see
`pipeline/library_logs.py`) are kept at debug level: `--log-level debug` shows them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


# The libraries whose records are kept at debug level (their top-level logger names): what they
# say is about their own workings, which the owner cannot act on; our records and those of the
# runtime (asyncio, grpc), which point at our bugs, keep their level.
QUIET_LIBRARIES = frozenset(
    {
        "libp2p",
        "multiaddr",
        "async_service",
        "transformers",
        "huggingface_hub",
        "datasets",
        "peft",
        "faster_whisper",
        "llama_cpp",
    }
)


class LibrariesAtDebug(logging.Filter):
    """A record of a quiet library's logger is said at debug level, whatever level it was logged at."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.partition(".")[0] not in QUIET_LIBRARIES:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(LibrariesAtDebug())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
