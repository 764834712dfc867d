"""Follow a job to its end with a live progress bar (or silently, for --json)."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import errors
from secondme.daemon.client.jobs import Job


def job_bar(transient: bool = False) -> Progress:
    """A job's bar on stderr: its stage, done of total, the time it has taken and its latest note;
    tasks take the fields `stage` and `note`."""
    return Progress(
        TextColumn("[bold]{task.fields[stage]:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}", markup=False),
        console=errors,
        transient=transient,
    )


def follow_job(ctx: CliContext, job_id: str) -> Job:
    """Watch the job until it ends; returns the final job."""
    if ctx.json:
        return ctx.client().jobs.wait(job_id)
    final: Job | None = None
    with job_bar() as bar:
        task = bar.add_task(job_id, total=None, stage="queued", note="")
        for event in ctx.client().jobs.watch(job_id):
            final = event.job
            if event.progress is not None:
                p = event.progress
                bar.update(task, total=p.total or None, completed=p.done, stage=p.stage, note=p.message[:60])
    assert final is not None
    return final
