"""Jobs as a program sees them: what runs, how far it got, and its result."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from secondme.daemon.client.convert import enum_number, from_message
from secondme.daemon.client.stubs import Stubs
from secondme.v1 import jobs_pb2

TERMINAL_STATES = ("succeeded", "failed", "cancelled", "interrupted")


@dataclass
class JobProgress:
    stage: str
    done: int
    total: int
    message: str
    # When the job reported it.
    time: datetime | None


@dataclass
class Job:
    id: str
    kind: str
    # queued | running | succeeded | failed | cancelled | interrupted
    state: str
    params_json: str
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    progress: JobProgress | None
    result_json: str
    error: str
    retry_of: str

    @property
    def result(self) -> dict[str, Any]:
        return json.loads(self.result_json) if self.result_json else {}

    @property
    def succeeded(self) -> bool:
        return self.state == "succeeded"

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES


@dataclass
class JobEvent:
    """One step of a watched job: the job as it is now, and the progress just reported (if any)."""

    job: Job
    progress: JobProgress | None


class JobCalls:
    def __init__(self, wire: Stubs) -> None:
        self._wire = wire

    def list(self, states: Sequence[str] = (), kind: str = "", limit: int = 0) -> list[Job]:
        """The newest `limit` jobs (50 when 0), read in as many pages as their results take."""
        limit = limit or 50
        numbers = [enum_number(jobs_pb2.JobState.DESCRIPTOR, s, "state") for s in states]
        found: list[Job] = []
        token = ""
        while len(found) < limit:
            request = jobs_pb2.ListJobsRequest(
                states=numbers, kind=kind, page_size=limit - len(found), page_token=token
            )
            response = self._wire.call(self._wire.jobs.ListJobs, request)
            found.extend(from_message(Job, j) for j in response.jobs)
            token = response.next_page_token
            if not token:
                break
        return found

    def get(self, job_id: str) -> Job:
        return from_message(Job, self._wire.call(self._wire.jobs.GetJob, jobs_pb2.GetJobRequest(job_id=job_id)).job)

    def watch(self, job_id: str) -> Iterator[JobEvent]:
        """The job's progress until it ends (the last event holds the finished job)."""
        for event in self._wire.stream(self._wire.jobs.WatchJob, jobs_pb2.WatchJobRequest(job_id=job_id)):
            yield from_message(JobEvent, event)

    def wait(self, job_id: str) -> Job:
        final = None
        for event in self.watch(job_id):
            final = event.job
        assert final is not None
        return final

    def cancel(self, job_id: str) -> Job:
        request = jobs_pb2.CancelJobRequest(job_id=job_id)
        return from_message(Job, self._wire.call(self._wire.jobs.CancelJob, request).job)

    def retry(self, job_id: str) -> Job:
        """A new job running the same work again."""
        request = jobs_pb2.RetryJobRequest(job_id=job_id)
        return from_message(Job, self._wire.call(self._wire.jobs.RetryJob, request).job)
