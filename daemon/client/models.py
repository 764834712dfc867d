"""Models: the GGUF files the self can serve, which one is active, and the speech model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from secondme.daemon.client.convert import enum_number, from_message
from secondme.daemon.client.stubs import Stubs
from secondme.v1 import models_pb2

# Loading a model into llama.cpp may take minutes on a small machine.
ACTIVATE_SECONDS = 600


@dataclass
class ProbeCheck:
    name: str
    passed: bool
    detail: str


@dataclass
class ModelProbe:
    # passed | failed | unchecked | "" (not checked yet)
    status: str
    checks: list[ProbeCheck]
    reason: str


@dataclass
class Model:
    id: str
    name: str
    architecture: str
    parameter_count: int
    context_length: int
    quantization: str
    has_chat_template: bool
    size_bytes: int
    sha256: str
    source: str
    imported_at: datetime | None
    active: bool
    probe: ModelProbe | None
    # For a model trained here: the model it was trained from, whether it is a LoRA adapter on it,
    # the dataset and job that made it, and the memories it learned (and how many are deleted since).
    base: str
    adapter: bool
    dataset_version: str
    trained_by_job: str
    trained_through: datetime | None
    trained_memories: int
    trained_memories_deleted: int


class ModelCalls:
    def __init__(self, wire: Stubs) -> None:
        self._wire = wire

    def import_file(self, path: Path, name: str = "", kind: str = "chat") -> Model:
        """Copy a model file (kind chat: GGUF; whisper: a Whisper .pt) into the daemon's store."""
        request = models_pb2.ImportModelRequest(
            path=str(path), name=name, kind=enum_number(models_pb2.ModelKind.DESCRIPTOR, kind, "kind")
        )
        return from_message(Model, self._wire.call(self._wire.models.ImportModel, request).model)

    def list(self) -> list[Model]:
        response = self._wire.call(self._wire.models.ListModels, models_pb2.ListModelsRequest())
        return [from_message(Model, m) for m in response.models]

    def get(self, name: str) -> Model:
        request = models_pb2.GetModelRequest(name=name)
        return from_message(Model, self._wire.call(self._wire.models.GetModel, request).model)

    def activate(self, name: str = "", previous: bool = False) -> Model:
        """Serve this model from now on (or, with `previous`, the one active before)."""
        request = models_pb2.ActivateModelRequest(name=name, previous=previous)
        return from_message(Model, self._wire.call(self._wire.models.ActivateModel, request, ACTIVATE_SECONDS).model)

    def remove(self, name: str) -> None:
        self._wire.call(self._wire.models.RemoveModel, models_pb2.RemoveModelRequest(name=name))
