"""The only code that crosses between the daemon's asyncio loop and the mesh's trio thread.

API, for the asyncio side:
- `await bridge.start(make_node)`: start the trio thread, build the node there, run it until
  it listens; raises what the node raised if it could not start.
- `await bridge.call(fn, *args)`: run the trio coroutine `fn(*args)` on the trio thread and
  return its result (its exception propagates); cancelling the asyncio caller cancels it.
- `await bridge.call_sync(fn, *args)`: the same for a plain function (reading node state).
The node and its `Guard` belong to the trio thread: nothing on the asyncio side touches them
except through these calls (`daemon.mesh.Mesh` offers the daemon one method per operation).
- `await bridge.stop()`: cancel everything on the trio side and join the thread.
And for the trio side:
- `AsyncioDelegate(inner, bridge)`: a `MeshDelegate` whose calls run the daemon's asyncio
  coroutines on the daemon loop while the trio task waits without blocking its thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import trio

from secondme.network.errors import MeshError
from secondme.network.node import MeshNode
from secondme.permissions import IdentityView, SessionHandle

T = TypeVar("T")
DAEMON_CALL_TIMEOUT_SECONDS = 120.0


class TrioBridge:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.node: MeshNode | None = None
        self._thread: threading.Thread | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._nursery: trio.Nursery | None = None
        self._pending: set[asyncio.Future[Any]] = set()

    async def start(self, make_node: Callable[[], MeshNode]) -> MeshNode:
        self.loop = asyncio.get_running_loop()
        started: asyncio.Future[MeshNode] = self.loop.create_future()

        def report(result: MeshNode | BaseException) -> None:
            assert self.loop is not None

            def settle() -> None:
                if started.done():
                    return
                if isinstance(result, BaseException):
                    started.set_exception(result)
                else:
                    started.set_result(result)

            with contextlib.suppress(RuntimeError):  # loop already closed
                self.loop.call_soon_threadsafe(settle)

        async def main() -> None:
            self._token = trio.lowlevel.current_trio_token()
            try:
                async with trio.open_nursery() as nursery:
                    self._nursery = nursery
                    node = make_node()
                    await nursery.start(node.run)
                    self.node = node
                    report(node)
            except BaseException as exc:
                inner = _unwrap(exc)
                report(inner if isinstance(inner, Exception) else RuntimeError(f"mesh thread ended: {exc!r}"))
                if not isinstance(exc, Exception):
                    raise

        def thread_main() -> None:
            with contextlib.suppress(Exception):  # already reported through `started`
                trio.run(main)
            report(RuntimeError("the mesh thread ended"))

        self._thread = threading.Thread(target=thread_main, name="secondme-mesh", daemon=True)
        self._thread.start()
        return await started

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `await fn(*args)` on the trio thread; its result or exception comes back here."""
        if self._token is None or self._nursery is None or self.loop is None:
            raise MeshError("the mesh is not running")
        loop = self.loop
        done: asyncio.Future[T] = loop.create_future()
        scope_box: list[trio.CancelScope] = []

        def settle(result: Any, error: BaseException | None) -> None:
            if done.done():
                return
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(result)

        async def runner() -> None:
            with trio.CancelScope() as scope:
                scope_box.append(scope)
                try:
                    result = await fn(*args)
                except Exception as exc:
                    loop.call_soon_threadsafe(settle, None, exc)
                    return
                loop.call_soon_threadsafe(settle, result, None)
            if scope.cancelled_caught:
                loop.call_soon_threadsafe(settle, None, asyncio.CancelledError())

        nursery = self._nursery
        self._pending.add(done)
        done.add_done_callback(self._pending.discard)
        self._token.run_sync_soon(nursery.start_soon, runner)
        try:
            return await done
        except asyncio.CancelledError:
            if scope_box and self._token is not None:
                with contextlib.suppress(trio.RunFinishedError):
                    self._token.run_sync_soon(scope_box[0].cancel)
            raise

    async def call_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run the plain function `fn(*args)` on the trio thread (for reading trio-side state)."""

        async def run() -> T:
            return fn(*args)

        return await self.call(run)

    async def stop(self) -> None:
        if self._token is not None and self._nursery is not None:
            with contextlib.suppress(trio.RunFinishedError):
                self._token.run_sync_soon(self._nursery.cancel_scope.cancel)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10.0)
        for pending in list(self._pending):
            if not pending.done():
                pending.set_exception(RuntimeError("the mesh stopped"))
        self._token = None
        self._nursery = None
        self.node = None

    async def to_daemon(self, coro: Coroutine[Any, Any, T], limit_seconds: float = DAEMON_CALL_TIMEOUT_SECONDS) -> T:
        """From the trio thread: run `coro` on the daemon's asyncio loop and wait for it."""
        assert self.loop is not None and self._token is not None
        token = self._token
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        ready = trio.Event()
        future.add_done_callback(lambda _: token.run_sync_soon(ready.set))
        try:
            with trio.fail_after(limit_seconds):
                await ready.wait()
        except BaseException:
            future.cancel()
            raise
        return future.result()


def _unwrap(exc: BaseException) -> BaseException:
    """trio wraps errors in exception groups; the owner wants the one that happened."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


class AsyncioDelegate:
    """Adapts a delegate with asyncio coroutines (the daemon's) to the trio-side `MeshDelegate`."""

    def __init__(self, inner: Any, bridge: TrioBridge) -> None:
        self.inner = inner
        self.bridge = bridge

    async def identity(self) -> IdentityView:
        return await self.bridge.to_daemon(self.inner.identity())

    async def grant_received(self, peer_id: str, envelope: bytes) -> tuple[bool, str]:
        return await self.bridge.to_daemon(self.inner.grant_received(peer_id, envelope))

    async def answer_turn(self, peer_id: str, session: SessionHandle, text: str) -> str:
        return await self.bridge.to_daemon(self.inner.answer_turn(peer_id, session, text))

    async def peer_seen(self, peer_id: str, addresses: list[str]) -> None:
        await self.bridge.to_daemon(self.inner.peer_seen(peer_id, addresses))

    async def peer_discovered(self, peer_id: str, addresses: list[str], source: str) -> bool:
        return await self.bridge.to_daemon(self.inner.peer_discovered(peer_id, addresses, source))
