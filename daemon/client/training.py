"""Training the self on the owner's memories, and the data it is trained on."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from secondme.daemon.client.convert import from_message
from secondme.daemon.client.jobs import Job
from secondme.daemon.client.stubs import Stubs
from secondme.v1 import training_pb2


@dataclass
class TrainingStarted:
    job: Job | None
    # Training jobs already running or queued that this one waits for.
    queued_behind: list[str]


@dataclass
class TrainingData:
    manifest: dict[str, Any]
    examples: list[dict[str, Any]]


class TrainingCalls:
    def __init__(self, wire: Stubs) -> None:
        self._wire = wire

    def train(
        self,
        stages: Sequence[str] = ("sft", "dpo"),
        *,
        max_steps: int = 0,
        dry_run: bool = False,
        merged: str = "",
        no_activate: bool = False,
        eval_questions: str = "",
    ) -> TrainingStarted:
        request = training_pb2.TrainRequest(
            stages=list(stages),
            max_steps=max_steps,
            dry_run=dry_run,
            merged=merged,
            no_activate=no_activate,
            eval_questions=eval_questions,
        )
        return from_message(TrainingStarted, self._wire.call(self._wire.training.Train, request))

    def data(self, version: str = "", examples: int = 3) -> TrainingData:
        """What a dataset holds (the newest unless `version`), with a few of its examples."""
        request = training_pb2.GetTrainingDataRequest(version=version, examples=examples)
        response = self._wire.call(self._wire.training.GetTrainingData, request)
        return TrainingData(json.loads(response.manifest_json), [json.loads(e) for e in response.examples_json])

    def export(self, version: str = "", part: str = "") -> Iterator[dict[str, Any]]:
        """Every record of a dataset (or of one part: examples | pairs | heldout)."""
        request = training_pb2.ExportTrainingDataRequest(version=version, part=part)
        for record in self._wire.stream(self._wire.training.ExportTrainingData, request):
            yield json.loads(record.record_json)
