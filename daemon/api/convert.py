"""Small conversions shared by servicers: timestamps, durations, page tokens, job messages."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from secondme.daemon.api.errors import InvalidArgument
from secondme.daemon.store.jobs import JobRecord, JobState, Progress
from secondme.v1 import jobs_pb2

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def to_timestamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def from_timestamp(stamp: Timestamp, present: bool) -> datetime | None:
    return stamp.ToDatetime(tzinfo=UTC) if present else None


def page_window(page_size: int, page_token: str) -> tuple[int, int]:
    """Return (limit, offset) for a request's page size and opaque page token."""
    if page_size < 0:
        raise InvalidArgument("page_size must not be negative")
    limit = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if not page_token:
        return limit, 0
    try:
        offset = int(json.loads(base64.urlsafe_b64decode(page_token.encode()))["offset"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument("page_token is not one this daemon issued; start again without it") from exc
    if offset < 0:
        raise InvalidArgument("page_token is not one this daemon issued; start again without it")
    return limit, offset


M = TypeVar("M", bound=Message)

# A page of a listing ends early, with a token for the rest, rather than pass this many bytes (a
# message carries 8 MiB; one job's result or one memory's metadata can be megabytes).
PAGE_BYTES = 4 << 20


def fit_page(messages: Iterable[M]) -> tuple[list[M], bool]:
    """As many of `messages` as fit a page (at least one), and whether some were left for the next."""
    kept: list[M] = []
    size = 0
    for message in messages:
        size += message.ByteSize()
        if kept and size > PAGE_BYTES:
            return kept, True
        kept.append(message)
    return kept, False


def next_page_token(offset: int, returned: int, limit: int, total: int | None = None, cut_short: bool = False) -> str:
    """The token of the page after this one ("" for none). `cut_short`: the page ended before `limit`
    because the message was full, not because nothing follows."""
    following = offset + returned
    if (returned < limit and not cut_short) or (total is not None and following >= total):
        return ""
    return base64.urlsafe_b64encode(json.dumps({"offset": following}).encode()).decode()


_STATES = {
    JobState.QUEUED: jobs_pb2.JOB_STATE_QUEUED,
    JobState.RUNNING: jobs_pb2.JOB_STATE_RUNNING,
    JobState.SUCCEEDED: jobs_pb2.JOB_STATE_SUCCEEDED,
    JobState.FAILED: jobs_pb2.JOB_STATE_FAILED,
    JobState.CANCELLED: jobs_pb2.JOB_STATE_CANCELLED,
    JobState.INTERRUPTED: jobs_pb2.JOB_STATE_INTERRUPTED,
}
_STATES_BACK = {v: k for k, v in _STATES.items()}


def job_state_from_pb(value: int) -> JobState:
    try:
        return _STATES_BACK[value]
    except KeyError as exc:
        raise InvalidArgument(f"unknown job state {value}") from exc


def progress_to_pb(progress: Progress) -> jobs_pb2.JobProgress:
    return jobs_pb2.JobProgress(
        stage=progress.stage,
        done=progress.done,
        total=progress.total,
        message=progress.message,
        time=to_timestamp(progress.at),
    )


def job_to_pb(record: JobRecord) -> jobs_pb2.Job:
    return jobs_pb2.Job(
        id=record.id,
        kind=record.kind,
        state=_STATES[record.state],
        params_json=json.dumps(record.params, sort_keys=True),
        created_at=to_timestamp(record.created_at),
        started_at=to_timestamp(record.started_at),
        finished_at=to_timestamp(record.finished_at),
        progress=progress_to_pb(record.progress),
        result_json=json.dumps(record.result, sort_keys=True) if record.result is not None else "",
        error=record.error,
        retry_of=record.retry_of or "",
    )
