"""ModelService: import, list, activate and remove local models."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc

from secondme.daemon.api.convert import to_timestamp
from secondme.daemon.api.errors import InvalidArgument, grpc_errors, required
from secondme.daemon.models.activation import ModelSwitch
from secondme.daemon.models.registry import ModelRecord, ModelRegistry
from secondme.daemon.models.whisper import import_whisper
from secondme.daemon.store.timeutil import from_db
from secondme.pipeline.probe import ProbeResult
from secondme.v1 import models_pb2, models_pb2_grpc

_MODELS = "`secondmectl models list` shows them"


def probe_to_pb(result: ProbeResult) -> models_pb2.ModelProbe:
    return models_pb2.ModelProbe(
        status=result.status,
        checks=[models_pb2.ProbeCheck(name=c.name, passed=c.passed, detail=c.detail) for c in result.checks],
        reason=result.reason,
    )


def model_to_pb(record: ModelRecord, probe: ProbeResult | None = None) -> models_pb2.Model:
    return models_pb2.Model(
        probe=probe_to_pb(probe) if probe else None,
        id=record.id,
        name=record.name,
        architecture=record.architecture,
        parameter_count=record.parameter_count,
        context_length=record.context_length,
        quantization=record.quantization,
        has_chat_template=record.has_chat_template,
        size_bytes=record.size_bytes,
        sha256=record.sha256,
        source=record.source,
        imported_at=to_timestamp(from_db(record.imported_at)),
        active=record.active,
        base=record.base_name,
        adapter=record.adapter,
        dataset_version=record.dataset_version,
        trained_by_job=record.trained_by_job,
        trained_through=to_timestamp(record.trained_through),
        trained_memories=record.trained_memories,
        trained_memories_deleted=record.trained_memories_deleted,
    )


class ModelServicer(models_pb2_grpc.ModelServiceServicer):
    def __init__(
        self,
        registry: ModelRegistry,
        switch: ModelSwitch,
        models_dir: Path,
        probe_of: Callable[[str], Awaitable[ProbeResult | None]],
    ) -> None:
        self._registry = registry
        self._models_dir = models_dir
        self._switch = switch
        self._probe_of = probe_of

    async def _pb(self, record: ModelRecord) -> models_pb2.Model:
        return model_to_pb(record, await self._probe_of(record.id))

    @grpc_errors
    async def ImportModel(self, request: models_pb2.ImportModelRequest, context: grpc.aio.ServicerContext):
        path = Path(required(request.path, "path", "the absolute path of the file on the daemon's machine"))
        if not path.is_absolute():
            raise InvalidArgument(f"{request.path!r} is not an absolute path on the daemon's machine")
        if request.kind == models_pb2.MODEL_KIND_WHISPER:
            stored = await asyncio.to_thread(import_whisper, path, self._models_dir)
            return models_pb2.ImportModelResponse(
                model=models_pb2.Model(name="whisper", architecture="whisper", source=str(path),
                                       size_bytes=stored.stat().st_size)
            )  # fmt: skip
        record = await asyncio.to_thread(self._registry.import_file, path, request.name or None)
        return models_pb2.ImportModelResponse(model=await self._pb(record))

    @grpc_errors
    async def ListModels(self, request: models_pb2.ListModelsRequest, context: grpc.aio.ServicerContext):
        records = await asyncio.to_thread(self._registry.list)
        return models_pb2.ListModelsResponse(models=[await self._pb(r) for r in records])

    @grpc_errors
    async def GetModel(self, request: models_pb2.GetModelRequest, context: grpc.aio.ServicerContext):
        record = await asyncio.to_thread(self._registry.get, required(request.name, "name", _MODELS))
        return models_pb2.GetModelResponse(model=await self._pb(record))

    @grpc_errors
    async def ActivateModel(self, request: models_pb2.ActivateModelRequest, context: grpc.aio.ServicerContext):
        if request.previous:
            record = await self._switch.activate_previous()
        elif request.name:
            record = await self._switch.activate(request.name)
        else:
            raise InvalidArgument("give a model name, or previous = true")
        return models_pb2.ActivateModelResponse(model=await self._pb(record))

    @grpc_errors
    async def RemoveModel(self, request: models_pb2.RemoveModelRequest, context: grpc.aio.ServicerContext):
        await asyncio.to_thread(self._registry.remove, required(request.name, "name", _MODELS))
        return models_pb2.RemoveModelResponse()
