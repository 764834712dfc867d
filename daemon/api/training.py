"""TrainingService: start a training job, and read the training datasets it builds."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import grpc

from secondme.daemon.api.convert import job_to_pb
from secondme.daemon.api.errors import InvalidArgument, grpc_errors
from secondme.daemon.training import Training
from secondme.pipeline.errors import TrainingDataNotFound
from secondme.v1 import training_pb2, training_pb2_grpc

_STAGES = ("sft", "dpo")
_MERGED = ("", "q4_k_m", "q8_0")
_PARTS = ("", "examples", "pairs", "heldout")


def _params(request: training_pb2.TrainRequest) -> dict[str, Any]:
    stages = [s.strip().lower() for s in request.stages if s.strip()] or list(_STAGES)
    unknown = [s for s in stages if s not in _STAGES]
    if unknown:
        raise InvalidArgument(f"stages: unknown stage {unknown[0]!r}; choose sft, dpo or both")
    if len(set(stages)) != len(stages):
        raise InvalidArgument("stages: each stage at most once")
    if request.max_steps < 0:
        raise InvalidArgument("max_steps: must be 0 (as planned) or more")
    merged = request.merged.strip().lower()
    if merged not in _MERGED:
        raise InvalidArgument(f"merged: {request.merged!r} is not a quantization; choose q4_k_m or q8_0")
    eval_questions = request.eval_questions.strip()
    if eval_questions and not (Path(eval_questions).is_absolute() and Path(eval_questions).is_file()):
        raise InvalidArgument(f"eval_questions: {eval_questions!r} is not an absolute path to a questions file")
    return {
        "stages": sorted(stages, key=_STAGES.index),
        "max_steps": request.max_steps,
        "dry_run": request.dry_run,
        "merged": merged,
        "activate": not request.no_activate and not request.dry_run,
        "eval_questions": eval_questions,
    }


class TrainingServicer(training_pb2_grpc.TrainingServiceServicer):
    def __init__(self, training: Training, datasets_root: Path) -> None:
        self._training = training
        self._datasets_root = datasets_root

    def _store(self) -> Any:
        from secondme.pipeline.training.store import DatasetStore

        return DatasetStore(self._datasets_root)

    def _version(self, store: Any, version: str) -> str:
        found = version or store.latest()
        if not found:
            raise TrainingDataNotFound(
                "no training data yet: `secondmectl train --dry-run` builds it from your memories"
            )
        store.manifest(found)  # a clear error for an unknown version
        return found

    @grpc_errors
    async def Train(self, request: training_pb2.TrainRequest, context: grpc.aio.ServicerContext):
        record, ahead = await self._training.start(_params(request))
        return training_pb2.TrainResponse(job=job_to_pb(record), queued_behind=ahead)

    @grpc_errors
    async def GetTrainingData(self, request: training_pb2.GetTrainingDataRequest, context: grpc.aio.ServicerContext):
        if request.examples < 0:
            raise InvalidArgument("examples: must be 0 or more")

        def read() -> training_pb2.GetTrainingDataResponse:
            store = self._store()
            version = self._version(store, request.version)
            examples = store.examples(version)[: request.examples] if request.examples else []
            return training_pb2.GetTrainingDataResponse(
                manifest_json=json.dumps(store.manifest(version)),
                examples_json=[json.dumps(e.__dict__, ensure_ascii=False) for e in examples],
            )

        return await asyncio.to_thread(read)

    @grpc_errors
    async def ExportTrainingData(
        self, request: training_pb2.ExportTrainingDataRequest, context: grpc.aio.ServicerContext
    ):
        part = request.part.strip().lower()
        if part not in _PARTS:
            raise InvalidArgument(f"part: {request.part!r} is not one of examples, pairs, heldout")

        def read() -> list[str]:
            store = self._store()
            version = self._version(store, request.version)
            records: list[str] = []
            if part in ("", "examples"):
                records += [
                    json.dumps({"part": "examples", **e.__dict__}, ensure_ascii=False) for e in store.examples(version)
                ]
            if part in ("", "pairs"):
                for path in sorted((store.root / version).glob("pairs-*.jsonl")):
                    base = path.stem.removeprefix("pairs-")
                    for pair in store.pairs(version, base) or []:
                        records.append(
                            json.dumps({"part": "pairs", "base": base, **pair.to_dict()}, ensure_ascii=False)
                        )
            if part in ("", "heldout"):
                records += [
                    json.dumps({"part": "heldout", **q.__dict__}, ensure_ascii=False) for q in store.held_out(version)
                ]
            return records

        for record in await asyncio.to_thread(read):
            yield training_pb2.ExportTrainingDataResponse(record_json=record)
