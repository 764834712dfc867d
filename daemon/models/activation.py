"""Switching the active model: the runtime loads it first, the registry records it only once it runs.

The owner's `models activate` and a finished training job switch through the same lock, so two
switches never interleave and the registry never names as active a model the runtime could not load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from secondme.daemon.models.errors import ModelNotFound
from secondme.daemon.models.registry import ModelRecord, ModelRegistry
from secondme.daemon.models.runtime import ModelRuntime


class ModelSwitch:
    def __init__(
        self, registry: ModelRegistry, runtime: ModelRuntime, activated: Callable[[], Awaitable[object]]
    ) -> None:
        self._registry = registry
        self._runtime = runtime
        self._activated = activated  # the new model's capability check, once, in a job
        self._lock = asyncio.Lock()

    async def activate(self, name_or_id: str) -> ModelRecord:
        async with self._lock:
            target = await asyncio.to_thread(self._registry.get, name_or_id)
            await self._runtime.load(target)
            record = await asyncio.to_thread(self._registry.activate, target.id)
        await self._activated()
        return record

    async def activate_previous(self) -> ModelRecord:
        async with self._lock:
            target = await asyncio.to_thread(self._registry.previous)
            if target is None:
                raise ModelNotFound("no model was active before the current one")
            await self._runtime.load(target)
            record = await asyncio.to_thread(self._registry.activate, target.id)
        await self._activated()
        return record
