"""Follow a job to its end with a live progress bar (or silently, for --json)."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import errors
from secondme.v1 import jobs_pb2


def follow_job(ctx: CliContext, job_id: str) -> jobs_pb2.Job:
    """Stream WatchJob until the job ends; returns the final job."""
    stream = ctx.client().jobs.WatchJob(jobs_pb2.WatchJobRequest(job_id=job_id))
    final: jobs_pb2.Job | None = None
    if ctx.json:
        for event in stream:
            final = event.job
        assert final is not None
        return final
    with Progress(
        TextColumn("[bold]{task.fields[stage]:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}", markup=False),
        console=errors,
        transient=False,
    ) as bar:
        task = bar.add_task(job_id, total=None, stage="queued", note="")
        for event in stream:
            final = event.job
            if event.HasField("progress"):
                p = event.progress
                bar.update(task, total=p.total or None, completed=p.done, stage=p.stage, note=p.message[:60])
    assert final is not None
    return final
