"""Schedules jobs, runs each in a child process of its own, and fans progress out to watchers.

The daemon's event loop never does the work itself: it only starts children, persists the
events they send, and answers the API. A child that dies without reporting (killed, crashed)
fails its job with the exit status, unless it was asked to stop (SIGTERM), which interrupts it; a
daemon that dies leaves its running jobs to be marked interrupted at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from secondme.daemon.jobs.child import EXIT_PARENT_GONE, child_main
from secondme.daemon.jobs.kinds import JOB_KINDS, MAX_RESUMES, RESUMABLE_KINDS
from secondme.daemon.paths import Paths
from secondme.daemon.store.jobs import JobRecord, JobRepository, JobState, Progress
from secondme.errors import FailedPrecondition, InvalidArgument, NotFound

log = logging.getLogger(__name__)

RESTARTABLE = (JobState.FAILED, JobState.CANCELLED, JobState.INTERRUPTED)
# A running job's progress is stored at most this often: it is shown from memory at once, and each
# store makes an ingest commit its batch early (write_turn.py).
STORE_PROGRESS_SECONDS = 5.0
DAEMON_STOPPED = "the daemon stopped while this job ran"
# A job process ended by SIGTERM was stopped from outside, not broken: the system going down, or a
# service manager signalling every process of the service at once (systemd's default for units
# installed before KillMode=mixed), in which case the child dies before the daemon's own stop begins.
TERMINATED = "the job process was stopped by SIGTERM (the system or its service manager stopping it)"
# What a job's process is forked with, already imported: its entry point and the job an owner's every
# upload runs. A fresh interpreter took ~0.25 s to start and import them before every job: an upload of
# one note took 0.44-0.50 s to be stored, and takes 0.18-0.20 s forked.
JOB_PRELOAD = ["secondme.daemon.jobs.child", "secondme.daemon.jobs.ingest"]


class JobNotFound(NotFound):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job with id {job_id!r}; `secondmectl jobs list` shows them")


class JobStateError(FailedPrecondition):
    """The job is in a state that does not allow the request (e.g. retrying a running job)."""


class UnknownJobKind(InvalidArgument):
    """No job kind by that name (see `daemon/jobs/kinds.py`)."""


@dataclass
class _Running:
    process: BaseProcess
    events: Connection
    alive: Connection
    cancelled: bool = False
    stopping: bool = False
    outcome: tuple[Any, ...] | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    # The newest progress the child sent, shown at once and stored behind (_save_progress): the
    # progress events not yet stored, the last of which newer ones of its stage may replace.
    progress: Progress | None = None
    unsaved: list[Progress] = field(default_factory=list)
    last_unsaved_replaceable: bool = False
    saving: asyncio.Task[None] | None = None
    exited: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Watchers:
    queues: list[asyncio.Queue[JobRecord]] = field(default_factory=list)


class JobManager:
    def __init__(
        self,
        repo: JobRepository,
        paths: Paths,
        config_snapshot: Callable[[], dict[str, Any]],
        max_concurrent: int = 1,
        stop_grace_seconds: float = 5.0,
    ) -> None:
        self._repo = repo
        self._paths = paths
        self._config_snapshot = config_snapshot
        self.max_concurrent = max_concurrent
        self.stop_grace_seconds = stop_grace_seconds
        self._running: dict[str, _Running] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._watchers: dict[str, _Watchers] = {}
        self._wake = asyncio.Event()
        self._scheduler: asyncio.Task[None] | None = None
        self._accepting = True
        self._mp = _job_processes()
        self._ensure_lock = asyncio.Lock()
        # kind -> function of a succeeded job's result giving the jobs to queue next (a pipeline).
        self.follow_ups: dict[str, Callable[[dict[str, Any]], list[tuple[str, dict[str, Any]]]]] = {}
        # kind -> the daemon's part of a job that succeeded in its child, before it is marked succeeded
        # (e.g. activating a trained model in the daemon's runtime); it returns the result to store, and
        # if it raises, the job fails with its message.
        self.finishers: dict[str, Callable[[JobRecord, dict[str, Any]], Awaitable[dict[str, Any]]]] = {}

    async def start(self) -> tuple[list[str], list[str]]:
        """Queue again the jobs a previous daemon's end interrupted (the resumable kinds), mark the rest
        interrupted, then start scheduling. Returns (resumed ids, interrupted ids)."""
        recovered = await self._repo.recover(RESUMABLE_KINDS, MAX_RESUMES)
        if self._mp.get_start_method() == "forkserver":
            # Started now, off the loop, so the first job does not wait for it; it exits with the daemon.
            await asyncio.to_thread(multiprocessing.forkserver.ensure_running)
        self._scheduler = asyncio.create_task(self._schedule(), name="job-scheduler")
        self._wake.set()
        return recovered

    @property
    def running_count(self) -> int:
        return len(self._running)

    async def submit(self, kind: str, params: dict[str, Any], retry_of: str | None = None) -> JobRecord:
        if kind not in JOB_KINDS:
            raise UnknownJobKind(f"unknown job kind {kind!r}")
        if not self._accepting:
            raise JobStateError("the daemon is shutting down and accepts no new jobs")
        record = await self._repo.create(kind, params, retry_of)
        self._wake.set()
        return record

    async def ensure_queued(self, kind: str, params: dict[str, Any] | None = None) -> JobRecord:
        """A job of `kind` waiting to start: the one already queued, or a new one.

        Background work that catches up with changes (embedding after ingests, the identity update
        after embeddings and owner choices) needs one run that starts after the change, not one run
        per change: a queued run will see everything changed before it starts.
        """
        async with self._ensure_lock:
            for record in await self._repo.list([JobState.QUEUED], kind=kind, limit=self.max_concurrent + 1):
                if record.id not in self._running:  # launched but not yet marked running: already reading
                    return record
            return await self.submit(kind, params or {})

    async def get(self, job_id: str) -> JobRecord:
        record = await self._repo.get(job_id)
        if record is None:
            raise JobNotFound(job_id)
        return self.current(record)

    def current(self, record: JobRecord) -> JobRecord:
        """The record with its job's newest progress, which may not be in the store yet."""
        running = self._running.get(record.id)
        if running is None or running.progress is None or record.state.terminal:
            return record
        return dataclasses.replace(record, progress=running.progress)

    async def retry(self, job_id: str) -> JobRecord:
        record = await self.get(job_id)
        if record.state not in RESTARTABLE:
            raise JobStateError(
                f"job {job_id} is {record.state.value}; only failed, cancelled or interrupted jobs can be retried"
            )
        return await self.submit(record.kind, record.params, retry_of=record.id)

    async def cancel(self, job_id: str) -> JobRecord:
        record = await self.get(job_id)
        if record.state.terminal:
            return record
        running = self._running.get(job_id)
        if running is None:
            await self._repo.finish(job_id, JobState.CANCELLED, error="cancelled before it started")
            await self._publish(job_id)
            return await self.get(job_id)
        running.cancelled = True
        if running.process.pid is not None:  # else it is killed as soon as it has started
            running.process.kill()
        await running.finished.wait()
        return await self.get(job_id)

    async def watch(self, job_id: str) -> AsyncIterator[tuple[JobRecord, Progress | None]]:
        """Yield the job's past progress events, then live ones, ending with its terminal state."""
        queue: asyncio.Queue[JobRecord] = asyncio.Queue()
        self._watchers.setdefault(job_id, _Watchers()).queues.append(queue)
        try:
            record = await self.get(job_id)
            for event in await self._repo.events(job_id):
                yield record, event
            last = record.progress
            while not record.state.terminal:
                record = await queue.get()
                if record.progress != last and not record.state.terminal:
                    last = record.progress
                    yield record, record.progress
            yield record, None
        finally:
            watchers = self._watchers.get(job_id)
            if watchers:
                watchers.queues.remove(queue)
                if not watchers.queues:
                    del self._watchers[job_id]

    async def _publish(self, job_id: str) -> None:
        watchers = self._watchers.get(job_id)
        if not watchers:
            return
        record = await self._repo.get(job_id)
        if record is not None:
            record = self.current(record)
            for queue in watchers.queues:
                queue.put_nowait(record)

    async def _schedule(self) -> None:
        while self._accepting:
            await self._wake.wait()
            self._wake.clear()
            while self._accepting and len(self._running) < self.max_concurrent:
                # First come, first served: a stream of new jobs must never starve an old one.
                queued = await self._repo.list(
                    [JobState.QUEUED], limit=self.max_concurrent + len(self._running), oldest_first=True
                )
                candidates = [j for j in queued if j.id not in self._running]
                if not candidates:
                    break
                self._launch(candidates[0])

    def _launch(self, record: JobRecord) -> None:
        events_recv, events_send = self._mp.Pipe(duplex=False)
        alive_recv, alive_send = self._mp.Pipe(duplex=False)
        process = self._mp.Process(
            target=child_main,
            args=(
                record.id,
                record.kind,
                record.params,
                str(self._paths.data_dir),
                str(self._paths.db),
                self._config_snapshot(),
                events_send,
                alive_recv,
            ),
            name=f"secondme-job-{record.id}",
            daemon=False,
        )
        running = _Running(process, events_recv, alive_send)
        self._running[record.id] = running
        task = asyncio.create_task(self._supervise(record, running, events_send, alive_recv), name=record.id)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _supervise(
        self, record: JobRecord, running: _Running, events_send: Connection, alive_recv: Connection
    ) -> None:
        job_id = record.id
        try:
            await self._repo.mark_running(job_id)
            await self._publish(job_id)
            # Spawning writes the child's preparation data and execs Python: tens of milliseconds
            # that belong on a thread, not on the loop that answers the API.
            await asyncio.to_thread(running.process.start)
            events_send.close()  # the child holds the only write end now: EOF means it is gone
            alive_recv.close()
            if running.cancelled or running.stopping:  # asked while it was being started
                running.process.kill()
            log.info("job %s (%s) started in pid %s", job_id, record.kind, running.process.pid)
            # The child is watched from the loop itself (its pipe and its sentinel are file
            # descriptors the loop polls), so a running job holds no thread.
            while True:
                await _readable(running.events.fileno())
                try:
                    message = running.events.recv()  # a whole message is there or follows at once
                except (EOFError, OSError):
                    break
                if message[0] == "progress":
                    _, stage, done, total, text = message
                    self._show_progress(job_id, running, Progress(stage, done, total, text, _now()))
                    await self._publish(job_id)
                else:
                    running.outcome = message
            await _readable(running.process.sentinel)
            running.process.join()  # it has exited: this only reaps it
            running.exited.set()
            if running.saving is not None:
                await running.saving  # the last progress is stored before the job's end
            await self._finish(job_id, running)
        except Exception:
            log.exception("supervising job %s failed", job_id)
            with contextlib.suppress(Exception):
                running.process.kill()
            await self._repo.finish(
                job_id, JobState.FAILED, error="internal error while supervising the job; see the daemon log"
            )
        finally:
            if running.saving is not None and not running.saving.done():
                running.saving.cancel()  # supervising failed: the job's end is stored, its progress need not be
            running.events.close()
            running.alive.close()
            self._running.pop(job_id, None)
            running.finished.set()
            await self._publish(job_id)
            self._wake.set()

    def _show_progress(self, job_id: str, running: _Running, progress: Progress) -> None:
        """Progress is shown from memory and stored behind it. Stored first, it waited for the store's
        write lock, which an ingest's batches take one after another: an ingest's progress stayed at 0
        while 2,500 of its 6,000 notes were stored. The store keeps, with the time each was sent, every
        stage's first and last event and its newest one every STORE_PROGRESS_SECONDS between (what a
        watcher replays, and what says how long each stage took)."""
        first_of_its_stage = running.progress is None or running.progress.stage != progress.stage
        running.progress = progress
        if running.last_unsaved_replaceable and not first_of_its_stage:
            running.unsaved[-1] = progress
        else:
            running.unsaved.append(progress)
            running.last_unsaved_replaceable = not first_of_its_stage
        if running.saving is None or running.saving.done():
            running.saving = asyncio.create_task(self._save_progress(job_id, running))

    async def _save_progress(self, job_id: str, running: _Running) -> None:
        while running.unsaved:
            progress = running.unsaved.pop(0)
            if not running.unsaved:
                running.last_unsaved_replaceable = False  # being stored: a newer one goes after it
            await self._repo.add_progress(job_id, progress)
            if not running.unsaved:  # the next after STORE_PROGRESS_SECONDS, or as soon as the job ends
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(running.exited.wait(), STORE_PROGRESS_SECONDS)

    async def _finish(self, job_id: str, running: _Running) -> None:
        outcome = running.outcome
        code = running.process.exitcode
        if running.stopping:
            await self._interrupt(job_id, DAEMON_STOPPED)
        elif running.cancelled:
            await self._repo.finish(job_id, JobState.CANCELLED, error="cancelled by the owner")
        elif outcome and outcome[0] == "result" and code == 0:
            record = await self._repo.get(job_id)
            result = outcome[1]
            finisher = self.finishers.get(record.kind) if record else None
            if finisher is not None and record is not None:
                try:
                    result = await finisher(record, result)
                except Exception as exc:  # the finisher's message says what went wrong and what was undone
                    log.warning("finishing job %s failed: %s", job_id, exc)
                    await self._repo.finish(job_id, JobState.FAILED, error=str(exc) or type(exc).__name__)
                    return
            await self._repo.finish(job_id, JobState.SUCCEEDED, result=result)
            follow_up = self.follow_ups.get(record.kind) if record else None
            for kind, params in follow_up(result) if follow_up else []:
                if self._accepting:
                    await self.ensure_queued(kind, params)
        elif code == -signal.SIGTERM:
            await self._interrupt(job_id, TERMINATED)
        elif outcome and outcome[0] == "error":
            log.warning("job %s failed: %s\n%s", job_id, outcome[1], outcome[2])
            await self._repo.finish(job_id, JobState.FAILED, error=outcome[1])
        else:
            await self._repo.finish(job_id, JobState.FAILED, error=_describe_exit(code))
        log.info("job %s finished with exit code %s", job_id, code)

    async def _interrupt(self, job_id: str, cause: str) -> None:
        """Interrupted, not failed: a resumable job goes on at the daemon's next start, another waits
        for the owner's retry."""
        record = await self._repo.get(job_id)
        if record is not None and record.kind in RESUMABLE_KINDS:
            then = "it goes on when the daemon starts again"
        else:
            then = f"`secondmectl jobs retry {job_id}` runs it again"
        await self._repo.finish(job_id, JobState.INTERRUPTED, error=f"{cause}; {then}")

    async def shutdown(self) -> None:
        """Stop scheduling; ask running children to stop, kill them after the grace period."""
        self._accepting = False
        self._wake.set()
        if self._scheduler:
            self._scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scheduler
        for running in self._running.values():
            running.stopping = True
            with contextlib.suppress(Exception):
                running.process.terminate()
        pending = [r.finished.wait() for r in self._running.values()]
        if pending:
            await asyncio.wait([asyncio.ensure_future(w) for w in pending], timeout=self.stop_grace_seconds)
        for running in list(self._running.values()):
            with contextlib.suppress(Exception):
                running.process.kill()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _job_processes() -> multiprocessing.context.BaseContext:
    """Where jobs' processes come from: multiprocessing's fork server, a single-threaded child of the
    daemon that has imported the job's code and nothing else, forks each one (forking the daemon itself,
    with its threads and its gRPC server, would not be safe); where there is none, a fresh interpreter
    each time. Forked or spawned, a job gets the same pipes, its own niceness and its own watchdog."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(JOB_PRELOAD)
    return context


async def _readable(fd: int) -> None:
    """Until `fd` can be read (data, end of file, or a process sentinel that fired)."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(fd)


def _now() -> datetime:
    return datetime.now().astimezone()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "the job process did not report a result"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the job process was killed by {name} (out of memory?); retry it with `secondmectl jobs retry`"
    if code == EXIT_PARENT_GONE:
        return "the job process stopped because the daemon went away"
    return f"the job process exited with code {code} without a result; see the daemon log"
