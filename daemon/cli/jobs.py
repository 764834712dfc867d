"""`secondmectl jobs list|show|watch|cancel|retry`."""

from __future__ import annotations

import argparse
import json

from rich.table import Table

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.memories import print_problems
from secondme.daemon.cli.output import console, emit, message_dict
from secondme.daemon.cli.progress import follow_job
from secondme.v1 import jobs_pb2

STATES = ["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("jobs", parents=[common], help="list, watch, cancel and retry jobs")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[common], help="recent jobs, newest first")
    listing.add_argument("--state", choices=STATES, action="append", default=[])
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(func=run_list)
    for name, func, text in (
        ("show", run_show, "one job with its result"),
        ("watch", run_watch, "follow a job's progress until it ends"),
        ("cancel", run_cancel, "stop a job (its child process is killed)"),
        ("retry", run_retry, "run a failed, cancelled or interrupted job again"),
    ):
        sub = actions.add_parser(name, parents=[common], help=text)
        sub.add_argument("job_id", metavar="JOB_ID")
        sub.set_defaults(func=func)


def _state(job: jobs_pb2.Job) -> str:
    return jobs_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_").lower()


def _print_job(job: jobs_pb2.Job) -> None:
    console.print(f"[bold]{job.id}[/] {job.kind} {_state(job)}", highlight=False)
    p = job.progress
    if p.stage:
        console.print(f"  progress {p.stage} {p.done}/{p.total} {p.message}", highlight=False, markup=False)
    if job.error:
        console.print(f"  error    {job.error}", highlight=False, markup=False)
    if job.result_json:
        result = json.loads(job.result_json)
        brief = {k: v for k, v in result.items() if not isinstance(v, list)}
        console.print(f"  result   {json.dumps(brief)}", highlight=False, markup=False)
        if result.get("problems"):
            print_problems(result, job.id, limit=None)


def run_list(ctx: CliContext) -> int:
    states = [jobs_pb2.JobState.Value(f"JOB_STATE_{s.upper()}") for s in ctx.args.state]
    response = ctx.client().jobs.ListJobs(jobs_pb2.ListJobsRequest(states=states, page_size=ctx.args.limit))

    def human() -> None:
        table = Table("kind", "state", "progress", "created")
        table.add_column("id", no_wrap=True)
        for job in response.jobs:
            p = job.progress
            table.add_row(
                job.kind,
                _state(job),
                f"{p.done}/{p.total}" if p.total else "",
                job.created_at.ToDatetime().strftime("%Y-%m-%d %H:%M:%S"),
                job.id,
            )
        console.print(table)

    emit(ctx.json, [message_dict(j) for j in response.jobs], human)
    return 0


def run_show(ctx: CliContext) -> int:
    job = ctx.client().jobs.GetJob(jobs_pb2.GetJobRequest(job_id=ctx.args.job_id)).job
    emit(ctx.json, message_dict(job), lambda: _print_job(job))
    return 0


def run_watch(ctx: CliContext) -> int:
    job = follow_job(ctx, ctx.args.job_id)
    emit(ctx.json, message_dict(job), lambda: _print_job(job))
    return 0 if job.state == jobs_pb2.JOB_STATE_SUCCEEDED else 1


def run_cancel(ctx: CliContext) -> int:
    job = ctx.client().jobs.CancelJob(jobs_pb2.CancelJobRequest(job_id=ctx.args.job_id)).job
    emit(ctx.json, message_dict(job), lambda: _print_job(job))
    return 0


def run_retry(ctx: CliContext) -> int:
    job = ctx.client().jobs.RetryJob(jobs_pb2.RetryJobRequest(job_id=ctx.args.job_id)).job
    if ctx.json:
        emit(True, message_dict(job), lambda: None)
        return 0
    console.print(f"retrying as {job.id}", highlight=False)
    final = follow_job(ctx, job.id)
    _print_job(final)
    return 0 if final.state == jobs_pb2.JOB_STATE_SUCCEEDED else 1
