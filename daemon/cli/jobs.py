"""`secondmectl jobs list|show|watch|cancel|retry`."""

from __future__ import annotations

import argparse
import json

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.memories import print_problems
from secondme.daemon.cli.output import FitTable, console, emit, print_table
from secondme.daemon.cli.progress import follow_job
from secondme.daemon.client.jobs import Job

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


def _print_job(job: Job) -> None:
    console.print(f"[bold]{job.id}[/] {job.kind} {job.state}", highlight=False)
    p = job.progress
    if p is not None and p.stage:
        console.print(f"  progress {p.stage} {p.done}/{p.total} {p.message}", highlight=False, markup=False)
    if job.error:
        console.print(f"  error    {job.error}", highlight=False, markup=False)
    result = job.result
    if result:
        brief = {k: v for k, v in result.items() if not isinstance(v, list)}
        console.print(f"  result   {json.dumps(brief)}", highlight=False, markup=False)
        if result.get("problems"):
            print_problems(result, job.id, limit=None)


def run_list(ctx: CliContext) -> int:
    jobs = ctx.client().jobs.list(ctx.args.state, limit=ctx.args.limit)

    def human() -> None:
        table = FitTable("kind", "state", "progress", "created", "id")
        for job in jobs:
            p = job.progress
            table.add_row(
                job.kind,
                job.state,
                f"{p.done}/{p.total}" if p and p.total else "",
                f"{job.created_at:%Y-%m-%d %H:%M:%S}" if job.created_at else "",
                job.id,
            )
        print_table(table, ctx.wide)

    emit(ctx.json, jobs, human)
    return 0


def run_show(ctx: CliContext) -> int:
    job = ctx.client().jobs.get(ctx.args.job_id)
    emit(ctx.json, job, lambda: _print_job(job))
    return 0


def run_watch(ctx: CliContext) -> int:
    job = follow_job(ctx, ctx.args.job_id)
    emit(ctx.json, job, lambda: _print_job(job))
    return 0 if job.succeeded else 1


def run_cancel(ctx: CliContext) -> int:
    job = ctx.client().jobs.cancel(ctx.args.job_id)
    emit(ctx.json, job, lambda: _print_job(job))
    return 0


def run_retry(ctx: CliContext) -> int:
    job = ctx.client().jobs.retry(ctx.args.job_id)
    if ctx.json:
        emit(True, job, lambda: None)
        return 0
    console.print(f"retrying as {job.id}", highlight=False)
    final = follow_job(ctx, job.id)
    _print_job(final)
    return 0 if final.succeeded else 1
