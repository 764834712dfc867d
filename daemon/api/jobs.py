"""JobService: list, inspect, watch, cancel and retry jobs."""

from __future__ import annotations

import grpc

from secondme.daemon.api.convert import (
    fit_page,
    job_state_from_pb,
    job_to_pb,
    next_page_token,
    page_window,
    progress_to_pb,
)
from secondme.daemon.api.errors import InvalidArgument, grpc_errors
from secondme.daemon.jobs import JobManager
from secondme.daemon.store.jobs import JobRepository
from secondme.v1 import jobs_pb2, jobs_pb2_grpc


def _job_id(value: str) -> str:
    if not value:
        raise InvalidArgument("job_id is required")
    return value


class JobServicer(jobs_pb2_grpc.JobServiceServicer):
    def __init__(self, manager: JobManager, repo: JobRepository) -> None:
        self._manager = manager
        self._repo = repo

    @grpc_errors
    async def ListJobs(self, request: jobs_pb2.ListJobsRequest, context: grpc.aio.ServicerContext):
        limit, offset = page_window(request.page_size, request.page_token)
        states = [job_state_from_pb(s) for s in request.states]
        records = [self._manager.current(r) for r in await self._repo.list(states, request.kind, limit, offset)]
        # A page fits a message however long the jobs' results are (an ingest lists up to 3 MB of files).
        jobs, cut_short = fit_page(job_to_pb(j) for j in records)
        return jobs_pb2.ListJobsResponse(
            jobs=jobs, next_page_token=next_page_token(offset, len(jobs), limit, cut_short=cut_short)
        )

    @grpc_errors
    async def GetJob(self, request: jobs_pb2.GetJobRequest, context: grpc.aio.ServicerContext):
        return jobs_pb2.GetJobResponse(job=job_to_pb(await self._manager.get(_job_id(request.job_id))))

    @grpc_errors
    async def WatchJob(self, request: jobs_pb2.WatchJobRequest, context: grpc.aio.ServicerContext):
        async for record, progress in self._manager.watch(_job_id(request.job_id)):
            yield jobs_pb2.WatchJobResponse(
                job=job_to_pb(record), progress=progress_to_pb(progress) if progress else None
            )

    @grpc_errors
    async def CancelJob(self, request: jobs_pb2.CancelJobRequest, context: grpc.aio.ServicerContext):
        return jobs_pb2.CancelJobResponse(job=job_to_pb(await self._manager.cancel(_job_id(request.job_id))))

    @grpc_errors
    async def RetryJob(self, request: jobs_pb2.RetryJobRequest, context: grpc.aio.ServicerContext):
        return jobs_pb2.RetryJobResponse(job=job_to_pb(await self._manager.retry(_job_id(request.job_id))))
