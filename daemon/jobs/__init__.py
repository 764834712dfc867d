"""Long work as jobs: persisted, watched, cancelled, and run in child processes."""

from secondme.daemon.jobs.context import JobContext
from secondme.daemon.jobs.manager import JobManager, JobNotFound, JobStateError, UnknownJobKind

__all__ = ["JobContext", "JobManager", "JobNotFound", "JobStateError", "UnknownJobKind"]
