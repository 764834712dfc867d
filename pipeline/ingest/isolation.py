"""The parse workers: documents parsed in processes of their own, each under a memory and a time budget.

No input can take an ingest down. The worker parses one document at a time with its address
space limited (RLIMIT_AS) to what it had plus `ParseBudget.memory_bytes`, so a document that
needs more gets a MemoryError, and is refused for it, instead of growing until the kernel kills
the job; the worker then retires and a fresh one takes the next document. The job's side keeps
the time: a parse that reports no progress (a page, a stretch of audio) for `seconds` is stopped
with SIGKILL, its process group with it (tesseract, ffmpeg), and a crash (a segfault in a C
library) costs only the document being parsed. Either way that document is listed with the
reason and the worker is started again for the rest.

Requests go to a worker in batches, up to `WINDOW` waiting and topped up once half are parsed, so
reading, hashing and storing the next files overlaps with parsing; results come back in order.
Notes and the heavier kinds (PDF, HTML, images, audio) have a worker each, so a slow document of
one kind never holds up the other and a folder of notes never loads the heavy libraries. What a
parser loads once for every file of its kind (a speech model) is loaded outside the budget
(`parsers.base.loading_libraries`).
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing.connection
import os
import queue
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from secondme.pipeline.errors import IngestError
from secondme.pipeline.ingest.chunking import Chunk
from secondme.pipeline.ingest.parse import (
    Parsed,
    ParseRequest,
    ParseResult,
    ParseSettings,
    ProgressCallback,
    Refused,
    parse_document,
)
from secondme.pipeline.ingest.settings import IngestSettings
from secondme.pipeline.parsers import ParsedDocument, SourceType
from secondme.pipeline.parsers import base as parsers_base

# At most this many requests, and this many bytes of them (beyond the first), wait in the worker.
WINDOW = 32
WINDOW_BYTES = 8 * 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class ParseBudget:
    # Address space one document's parse may add to the worker (the libraries' and models' excluded).
    memory_bytes: int = IngestSettings.parse_memory_mb * 2**20
    # The longest a parse may go without reporting progress before it is stopped.
    seconds: float = IngestSettings.parse_timeout_seconds


def peak_rss(pid: int | str = "self") -> int:
    """A process's peak resident memory in bytes (VmHWM: it starts afresh at exec, unlike ru_maxrss,
    which a spawned child inherits from the process it was forked from); 0 where /proc has none."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class _OwnProc:
    """The worker's own /proc files, opened once and read again in place for every document: a read
    costs ~1 µs where an open costs ~15 µs, and the worker reads two per document."""

    def __init__(self) -> None:
        self._statm = self._open("/proc/self/statm")
        self._status = self._open("/proc/self/status")

    @staticmethod
    def _open(path: str) -> int | None:
        try:
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None

    def address_space(self) -> int:
        if self._statm is not None:
            return int(os.pread(self._statm, 128, 0).split()[0]) * _PAGE
        import psutil

        return int(psutil.Process().memory_info().vms)

    def peak_rss(self) -> int:
        """As `peak_rss()`: VmHWM, 0 where /proc has none."""
        if self._status is None:
            return 0
        status = os.pread(self._status, 1 << 16, 0)
        start = status.find(b"VmHWM:")
        return int(status[start + 6 : status.index(b"kB", start)]) * 1024 if start >= 0 else 0


class _MemoryBudget:
    """RLIMIT_AS set to the worker's current size plus the budget, while one document is parsed."""

    def __init__(self, extra: int, proc: _OwnProc) -> None:
        self.extra = extra
        self.proc = proc
        self.active = False

    def _limit(self) -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = self.proc.address_space() + self.extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

    def _lift(self) -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        self._limit()
        self.active = True
        try:
            yield
        finally:
            self.active = False
            self._lift()

    @contextlib.contextmanager
    def lifted(self) -> Iterator[None]:
        """For loading a library or model: not the document's doing. The budget restarts from after it."""
        if not self.active:
            yield
            return
        self._lift()
        try:
            yield
        finally:
            self._limit()


def _die_with_parent() -> None:
    """Be killed when the job's process dies, even mid-parse: on Linux by the kernel (PR_SET_PDEATHSIG),
    elsewhere by a thread that waits for the parent to go."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # it died before the call took effect
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _worker_main(requests: Connection, results: Connection) -> None:
    """The worker process: parse requests in order, each within the memory budget, until told to stop.

    It leads its own process group, so a kill takes whatever it started (tesseract, ffmpeg) along.
    Its first message holds the settings and the budget.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    try:
        settings, memory_bytes = requests.recv()
    except (EOFError, OSError):
        os._exit(0)
    proc = _OwnProc()
    budget = _MemoryBudget(memory_bytes, proc)
    parsers_base.set_loading_hook(budget.lifted)
    results.send(("ready",))  # starting up is not the first document's time
    while True:
        try:
            batch: list[ParseRequest] = requests.recv()
        except (EOFError, OSError):  # the job's end closed: everything of ours goes too
            os.killpg(0, signal.SIGKILL)
        for request in batch:
            _parse_one(request, settings, budget, proc, results)


def _parse_one(
    request: ParseRequest, settings: ParseSettings, budget: _MemoryBudget, proc: _OwnProc, results: Connection
) -> None:
    """One request, answered with its result (and the worker retired after a MemoryError)."""

    def progress(stage: str, done: int, total: int, message: str) -> None:
        results.send(("progress", request.key, stage, done, total, message))

    retire = False
    try:
        with budget.applied():
            result = parse_document(request, settings, progress)
    except MemoryError:
        result = Refused(
            f"reading it needs more than its {budget.extra / 2**20:,.0f} MB memory budget "
            "(raise ingest.parse_memory_mb to allow it)",
            failed=True,
        )
        retire = True  # a heap that hit its ceiling is not trusted with the next document
    results.send(("result", request.key, _packed(result), proc.peak_rss()))
    if retire:
        results.send(("retire",))
        results.close()
        os._exit(0)


def _packed(result: ParseResult) -> ParseResult | tuple[ParsedDocument, list[tuple[int, int, int, int]]]:
    """A result for the pipe: chunks as offsets into the text (their text would double what is sent)."""
    if isinstance(result, Parsed):
        return result.document, [(c.index, c.token_count, c.start_char, c.end_char) for c in result.chunks]
    return result


def _unpacked(packed: ParseResult | tuple[ParsedDocument, list[tuple[int, int, int, int]]]) -> ParseResult:
    if isinstance(packed, tuple):
        document, spans = packed
        text = document.text
        return Parsed(document, [Chunk(i, text[start:end], tokens, start, end) for i, tokens, start, end in spans])
    return packed


def _describe_death(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the parser crashed on it ({name}); the other files were not affected"
    return f"the parser process ended on it (exit code {code}); the other files were not affected"


class _Worker:
    """One worker process and the thread that feeds it (so the job's side never blocks on a full pipe).

    Started as `python -m secondme.pipeline.ingest.isolation` rather than by multiprocessing's spawn,
    which would import the job's whole main module again in every worker (and every restart).
    """

    def __init__(self, settings: ParseSettings, budget: ParseBudget) -> None:
        request_read, request_write = os.pipe()
        result_read, result_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(request_read), str(result_write)],
                pass_fds=(request_read, result_write),
                stdin=subprocess.DEVNULL,
                # A process group of its own (for the kill), in the job's session: a session of its own
                # is a scheduling group of its own where the kernel groups by session (autogroup, on by
                # default on desktop Linux), where the job's niceness no longer counts against the
                # daemon's, and parsing took the CPU from the owner's calls as much as the daemon had.
                process_group=0,
            )
        finally:
            os.close(request_read)
            os.close(result_write)
        self.results = Connection(result_read, writable=False)
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._outbox.put((settings, budget.memory_bytes))
        writer = Connection(request_write, readable=False)
        self._sender = threading.Thread(target=self._send, args=(writer,), daemon=True, name="parse-send")
        self._sender.start()

    def _send(self, writer: Connection) -> None:
        try:
            while (request := self._outbox.get()) is not None:
                writer.send(request)
        except OSError:
            pass  # the worker is gone; the results side finds out and says why
        finally:
            writer.close()  # the worker reads EOF and ends (with what it started)

    def submit(self, requests: list[ParseRequest]) -> None:
        """Requests go as one message: a message per request woke the sending thread, and took the
        GIL from the job's thread, once for every note."""
        self._outbox.put(requests)

    def stop(self, kill: bool) -> int | None:
        """Stop the worker (at once when `kill`); returns its exit code."""
        if kill:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        self._outbox.put(None)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._sender.join(5)
        self.results.close()
        return self.process.returncode


class _Lane:
    """One kind of document's worker, and the requests handed to it, in order.

    Plain text and Markdown go to one lane, everything that needs a heavier parser (PDF, HTML,
    images, audio) to another: a slow or hostile document of the second kind never holds up the
    notes, and a folder of notes never loads the heavy libraries.
    """

    def __init__(self, parser: IsolatedParser) -> None:
        self.parser = parser
        self.worker: _Worker | None = None
        self.waiting: collections.deque[ParseRequest] = collections.deque()
        self.waiting_bytes = 0
        self.unsent: list[ParseRequest] = []  # the batch being gathered (`send` sends it)
        self.clock = 0.0  # the last sign of life from the document at the head

    def room(self) -> bool:
        """Whether the next request may join the lane. A lane takes more once half of what waits in it is
        parsed, then fills up, so that requests go to the worker in batches."""
        if not self.waiting:
            return True
        if not self.unsent and len(self.waiting) > WINDOW // 2:
            return False
        return len(self.waiting) < WINDOW and self.waiting_bytes < WINDOW_BYTES

    def submit(self, request: ParseRequest) -> None:
        if not self.waiting:
            self.clock = time.monotonic()  # an idle worker starts on it now
        self.unsent.append(request)
        self.waiting.append(request)
        self.waiting_bytes += len(request.data)

    def start(self) -> _Worker:
        """The lane's worker, started now if it has none."""
        if self.worker is None:
            self.worker = self.parser.start_worker()
        return self.worker

    def send(self) -> None:
        if self.unsent:
            self.start().submit(self.unsent)
            self.unsent = []

    def pop(self) -> ParseRequest:
        head = self.waiting.popleft()
        self.waiting_bytes -= len(head.data)
        self.clock = time.monotonic()
        return head

    def replace(self, kill: bool) -> int | None:
        """A fresh worker for what is still waiting; returns the old one's exit code."""
        assert self.worker is not None
        code = self.parser.stop_worker(self.worker, kill)
        self.worker = self.parser.start_worker()
        self.worker.submit(list(self.waiting))
        self.unsent = []
        self.clock = time.monotonic()
        return code

    def handle(
        self, message: tuple[Any, ...] | None, progress: ProgressCallback | None
    ) -> Iterator[tuple[ParseRequest, ParseResult]]:
        """Act on one message from the worker (None: the head made no progress within the budget)."""
        seconds = self.parser.budget.seconds
        if message is None:
            head = self.pop()
            self.replace(kill=True)
            reason = (
                f"reading it took longer than {seconds:g} s without progress and was stopped "
                "(raise ingest.parse_timeout_seconds to allow more)"
            )
            yield head, Refused(reason, failed=True)
        elif message[0] == "ready":
            self.clock = time.monotonic()
        elif message[0] == "progress":
            self.clock = time.monotonic()
            if progress:
                progress(*message[2:])
        elif message[0] == "result":
            head = self.pop()
            assert head.key == message[1], "results come in the order of the requests"
            self.parser.peak_rss_bytes = max(self.parser.peak_rss_bytes, message[3])
            yield head, _unpacked(message[2])
        elif message[0] == "retire":
            self.replace(kill=False)
        else:  # died: the head was being parsed
            head = self.pop()
            code = self.replace(kill=True)
            yield head, Refused(_describe_death(code), failed=True)

    def close(self) -> None:
        if self.worker is not None:
            self.parser.stop_worker(self.worker, kill=False)
            self.worker = None


def _lane_of(request: ParseRequest) -> str:
    """ "text" for plain text and Markdown (or what no parser takes: refused at once), else "media"."""
    if request.is_url:
        return "media"
    try:
        source_type = request.source_type()
    except IngestError:
        return "text"
    return "text" if source_type in (SourceType.TEXT, SourceType.MARKDOWN) else "media"


class IsolatedParser:
    """A `DocumentParser` that parses in worker processes under a `ParseBudget`, restarting them as needed.

    Two lanes, each with its own worker started when it is first needed: plain text and Markdown,
    and everything else. Results come in order within a lane; the lanes interleave.
    """

    def __init__(self, settings: ParseSettings, budget: ParseBudget) -> None:
        self.settings = settings
        self.budget = budget
        self.workers_started = 0
        # The highest peak resident memory any worker reported (or had when it was stopped), in bytes.
        self.peak_rss_bytes = 0
        self._lanes = {"text": _Lane(self), "media": _Lane(self)}

    def start_worker(self) -> _Worker:
        self.workers_started += 1
        return _Worker(self.settings, self.budget)

    def start_text_worker(self) -> None:
        """Start the worker for plain text and Markdown now rather than at the first note: its start
        (~0.15 s: an interpreter and the parsers' imports) then overlaps the job's walk of the folders."""
        self._lanes["text"].start()

    def stop_worker(self, worker: _Worker, kill: bool) -> int | None:
        self.peak_rss_bytes = max(self.peak_rss_bytes, peak_rss(worker.process.pid))
        return worker.stop(kill)

    def parse_all(
        self, requests: Iterable[ParseRequest], progress: ProgressCallback | None = None
    ) -> Iterator[tuple[ParseRequest, ParseResult]]:
        source = iter(requests)
        held: ParseRequest | None = None  # the next request, waiting for room in its lane
        exhausted = False
        while True:
            while not exhausted:
                if held is None:
                    held = next(source, None)
                    if held is None:
                        exhausted = True
                        break
                lane = self._lanes[_lane_of(held)]
                if not lane.room():
                    break
                lane.submit(held)
                held = None
            for lane in self._lanes.values():
                lane.send()
            busy = [lane for lane in self._lanes.values() if lane.waiting]
            if not busy:
                return
            now = time.monotonic()
            timeout = max(0.0, min(lane.clock + self.budget.seconds for lane in busy) - now)
            ready = multiprocessing.connection.wait([lane.worker.results for lane in busy if lane.worker], timeout)
            if not ready:
                for lane in busy:
                    if lane.clock + self.budget.seconds <= time.monotonic():
                        yield from lane.handle(None, progress)
                continue
            for lane in busy:
                assert lane.worker is not None
                if lane.worker.results not in ready:
                    continue
                try:
                    message: tuple[Any, ...] = lane.worker.results.recv()
                except (EOFError, OSError):
                    message = ("died",)
                yield from lane.handle(message, progress)

    def close(self) -> None:
        for lane in self._lanes.values():
            lane.close()

    def __enter__(self) -> IsolatedParser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":  # a worker, started by _Worker with the two ends of its pipes
    _worker_main(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
