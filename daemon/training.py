"""The daemon's side of training: queueing a training job, and activating what it made.

The job child trains, exports and registers; only the daemon's runtime can load a model for chat,
so activation happens here, once the job has succeeded: the new version is loaded and then recorded
as active (the previous one is kept for `models activate --previous`). A version llama.cpp cannot
load is removed again and the job fails saying so; the model that was active stays active.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from secondme.daemon.jobs import JobManager
from secondme.daemon.models.activation import ModelSwitch
from secondme.daemon.models.errors import ModelError
from secondme.daemon.models.registry import ModelRegistry
from secondme.daemon.store.jobs import JobRecord, JobRepository, JobState
from secondme.pipeline.errors import TrainingError

log = logging.getLogger(__name__)

KIND = "train"


class Training:
    def __init__(self, jobs: JobManager, repo: JobRepository, registry: ModelRegistry, switch: ModelSwitch) -> None:
        self._jobs = jobs
        self._repo = repo
        self._registry = registry
        self._switch = switch

    async def start(self, params: dict[str, Any]) -> tuple[JobRecord, list[str]]:
        """Queues a training job; returns it and the training jobs ahead of it."""
        ahead = await self._repo.list([JobState.RUNNING, JobState.QUEUED], kind=KIND, limit=50, oldest_first=True)
        active = await asyncio.to_thread(self._registry.active)
        if active is None:
            raise TrainingError("no model is active to train from; import one with `secondmectl models import PATH`")
        # The run id names the run's folder: a retry of this job (same params) resumes it.
        params = {**params, "run_id": uuid.uuid4().hex[:12], "base_id": active.base_id or active.id}
        record = await self._jobs.submit(KIND, params)
        return record, [j.id for j in ahead]

    async def finish(self, record: JobRecord, result: dict[str, Any]) -> dict[str, Any]:
        """Activates the version the job made (unless asked not to); undoes the registration if it cannot load."""
        target = result.get("activate")
        if not target:
            return result
        try:
            activated = await self._switch.activate(target)
        except ModelError as exc:
            removed = []
            for model in result.get("models", []):
                try:
                    await asyncio.to_thread(self._registry.remove, model["id"])
                    removed.append(model["name"])
                except ModelError:
                    log.exception("could not remove the unloadable trained version %s", model["name"])
            raise TrainingError(
                f"the trained model could not be loaded ({exc}); {', '.join(removed) or 'nothing'} removed again, "
                "the active model is unchanged"
            ) from None
        log.info("training job %s activated %s", record.id, activated.name)
        return {**result, "activated": activated.name}
