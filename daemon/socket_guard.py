"""One daemon per data dir and per socket.

A lock file in the data dir (flock, released by the kernel even on kill -9) stops two daemons
from sharing a store; a probe of the socket tells a live daemon from a stale socket file left
by a crash, which is taken over.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
from pathlib import Path

from secondme.errors import SecondmeError


class DaemonAlreadyRunning(SecondmeError):
    """Another secondmed holds this data dir or answers on this socket."""


class SocketPathUnusable(SecondmeError):
    """The configured API socket path cannot be made private to the owner (too long, another user's folder)."""


class DataDirLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EACCES):
                raise DaemonAlreadyRunning(
                    f"another secondmed (pid {holder}) is using the data dir {self._path.parent}"
                ) from exc
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def socket_is_live(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except OSError as exc:
            if exc.errno in (errno.ECONNREFUSED, errno.ENOENT, errno.ENOTSOCK):
                return False
            raise
    return True


def prepare_socket_path(path: Path) -> None:
    """Refuse a live socket, remove a stale one, and make its folder private (0700)."""
    if len(str(path).encode()) > 104:
        raise SocketPathUnusable(
            f"socket path {path} is too long for a Unix socket (max ~104 bytes); choose a shorter one"
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = path.parent.stat()
    if folder.st_uid != os.getuid():
        raise SocketPathUnusable(f"{path.parent} belongs to another user; refusing to put the API socket there")
    if path.exists() or path.is_symlink():
        if socket_is_live(path):
            raise DaemonAlreadyRunning(f"another secondmed is already listening on {path}")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
