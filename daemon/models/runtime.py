"""The one loaded model of the daemon, shared fairly by everyone who talks to the self.

llama.cpp calls run on a single worker thread, never on the event loop. Requests wait in a
priority heap (the owner's chat before pipeline work before peers' session turns; first come,
first served within a class) whose size is bounded: past the bound a request is refused at
once (RESOURCE_EXHAUSTED) instead of queueing forever. A caller that goes away cancels its
request: if it was waiting it is dropped, if it was generating the worker stops at the next
token. Loading, swapping and unloading models go through the same queue, so a swap never
interrupts a reply that is streaming.
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from secondme.daemon.models.errors import ModelUnavailable, RuntimeBusy
from secondme.daemon.models.registry import ModelRecord
from secondme.pipeline.errors import GenerationError
from secondme.pipeline.llm import LlamaSettings, LocalLlama, Message

log = logging.getLogger(__name__)


class Priority(enum.IntEnum):
    OWNER = 0
    PIPELINE = 1
    PEER = 2


_END = object()


@dataclass
class _Work:
    """One unit for the worker thread: a generation, or a model operation."""

    run: Callable[[_Work], None]
    loop: asyncio.AbstractEventLoop
    output: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    produced: int = 0

    def emit(self, item: Any) -> None:
        self.loop.call_soon_threadsafe(self.output.put_nowait, item)


@dataclass
class RuntimeStats:
    completed: int = 0
    cancelled: int = 0
    refused: int = 0
    # Tokens the worker produced for the most recently cancelled request.
    last_cancelled_tokens: int = -1


class ModelRuntime:
    def __init__(self, settings: LlamaSettings, max_waiting: int = 16) -> None:
        self.settings = settings
        self.max_waiting = max_waiting
        self.stats = RuntimeStats()
        self._model: LocalLlama | None = None
        self._record: ModelRecord | None = None
        # The model the queue will have loaded once the operations ahead of a request have run.
        self._expected: ModelRecord | None = None
        self._heap: list[tuple[int, int, _Work]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._worker, name="llama-worker", daemon=True)
        self._thread.start()

    @property
    def loaded(self) -> ModelRecord | None:
        return self._record

    @property
    def serving(self) -> ModelRecord | None:
        """The model the next request will get: the loaded one, or the one queued to load (at start, a swap)."""
        return self._expected

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._heap)

    def _submit(self, work: _Work, priority: Priority, bounded: bool = True) -> None:
        with self._cond:
            if self._closing:
                raise ModelUnavailable("the model runtime is shutting down")
            if bounded and len(self._heap) >= self.max_waiting:
                self.stats.refused += 1
                raise RuntimeBusy(
                    f"{len(self._heap)} requests are already waiting for the model; try again shortly "
                    "(models.max_waiting bounds the queue)"
                )
            heapq.heappush(self._heap, (int(priority), next(self._seq), work))
            self._cond.notify()

    def _worker(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._closing:
                    self._cond.wait()
                if self._closing and not self._heap:
                    return
                _, _, work = heapq.heappop(self._heap)
            if work.cancelled.is_set():
                self.stats.cancelled += 1
                work.emit(_END)
                continue
            try:
                work.run(work)
            except Exception as exc:  # the worker must survive any one request
                log.warning("model request failed: %s", exc)
                work.emit(exc)
            work.emit(_END)

    async def _drain(self, work: _Work) -> AsyncIterator[Any]:
        try:
            while True:
                item = await work.output.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            work.cancelled.set()

    def _load_work(self, record: ModelRecord, loop: asyncio.AbstractEventLoop) -> _Work:
        def run(work: _Work) -> None:
            try:
                fresh = LocalLlama(
                    record.model_file, record.chat_template, self._settings_for(record), adapter=record.adapter_file
                )
            except GenerationError as exc:
                self._expected = self._record
                raise ModelUnavailable(str(exc)) from None
            previous, self._model, self._record = self._model, fresh, record
            if previous is not None:
                previous.close()
            log.info("loaded model %s (%s, %s)", record.name, record.architecture, record.quantization)

        self._expected = record
        return _Work(run, loop)

    async def load(self, record: ModelRecord) -> None:
        """Load (or swap to) a model; waits for the streaming reply ahead of it, never cuts it."""
        work = self._load_work(record, asyncio.get_running_loop())
        self._submit(work, Priority.OWNER, bounded=False)
        async for _ in self._drain(work):
            pass

    def preload(self, record: ModelRecord) -> None:
        """Queue a load at start without waiting: requests queue behind it; a failure is logged."""
        work = self._load_work(record, asyncio.get_running_loop())
        self._submit(work, Priority.OWNER, bounded=False)

    def _settings_for(self, record: ModelRecord) -> LlamaSettings:
        context = self.settings.context_size
        if record.context_length:
            context = min(context, record.context_length)
        return LlamaSettings(context, self.settings.threads, self.settings.gpu_layers)

    async def unload(self) -> None:
        def run(work: _Work) -> None:
            previous, self._model, self._record, self._expected = self._model, None, None, None
            if previous is not None:
                previous.close()

        work = _Work(run, asyncio.get_running_loop())
        self._submit(work, Priority.OWNER, bounded=False)
        async for _ in self._drain(work):
            pass

    async def stream(
        self,
        messages: list[Message],
        *,
        priority: Priority = Priority.OWNER,
        max_tokens: int = 512,
        temperature: float = 0.7,
        seed: int | None = None,
        schema: dict[str, Any] | None = None,
        served_by: list[ModelRecord] | None = None,
    ) -> AsyncIterator[str]:
        """Yield the reply piece by piece; closing the iterator cancels the generation.

        `served_by`, when given, receives the model that generated the reply (a swap may be queued).
        """
        if self._expected is None:
            raise ModelUnavailable(
                "no model is active; import one with `secondmectl models import PATH` and activate it"
            )

        def run(work: _Work) -> None:
            model = self._model
            if model is None or self._record is None:
                raise ModelUnavailable("no model is loaded; see the daemon log for why it failed to load")
            work.emit(self._record)
            for piece in model.stream(
                messages,
                max_tokens=max_tokens,
                temperature=temperature,
                seed=seed,
                schema=schema,
                cancelled=work.cancelled.is_set,
            ):
                work.produced += 1
                work.emit(piece)
            if work.cancelled.is_set():
                self.stats.cancelled += 1
                self.stats.last_cancelled_tokens = work.produced
            else:
                self.stats.completed += 1

        work = _Work(run, asyncio.get_running_loop())
        self._submit(work, priority)
        async for piece in self._drain(work):
            if isinstance(piece, ModelRecord):
                if served_by is not None:
                    served_by.append(piece)
                continue
            yield piece

    async def generate(self, messages: list[Message], **kwargs: Any) -> str:
        return "".join([piece async for piece in self.stream(messages, **kwargs)])

    async def generate_json(self, messages: list[Message], schema: dict[str, Any], **kwargs: Any) -> Any:
        from secondme.pipeline.llm import JSON_ATTEMPTS, parse_json

        last: GenerationError | None = None
        for _ in range(JSON_ATTEMPTS):
            try:
                return parse_json(await self.generate(messages, schema=schema, **kwargs), schema)
            except GenerationError as exc:
                last = exc
        raise GenerationError(f"no valid JSON after {JSON_ATTEMPTS} attempts: {last}")

    async def close(self) -> None:
        with self._cond:
            self._closing = True
            for _, _, work in self._heap:
                work.cancelled.set()
            self._cond.notify_all()
        await asyncio.to_thread(self._thread.join, 30)
        if self._model is not None:
            self._model.close()
            self._model = None
