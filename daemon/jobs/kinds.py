"""The registry of job kinds: name -> "module:function" run in the child process.

A job function has the signature `run(ctx: JobContext, params: dict) -> dict`; the dict it
returns is the job's result (JSON). It is imported only in the child, so heavy imports there
never slow the daemon.
"""

from __future__ import annotations

JOB_KINDS: dict[str, str] = {
    "ingest": "secondme.daemon.jobs.ingest:run",
    "embed": "secondme.daemon.jobs.embed:run",
    "identity": "secondme.daemon.jobs.identity:run",
    "probe": "secondme.daemon.jobs.probe:run",
    "eval": "secondme.daemon.jobs.evaluation:run",
    "train": "secondme.daemon.jobs.train:run",
}

# Kinds whose job, interrupted by the daemon's end, is queued again at the next start: each commits
# its units of work as it goes and skips what is done (ingest dedupes by content, embed and identity
# pick up what is left, train goes on from its run's newest checkpoint). At most MAX_RESUMES times,
# so a job that keeps taking the daemon down stops.
RESUMABLE_KINDS = frozenset({"ingest", "embed", "identity", "train"})
MAX_RESUMES = 3
