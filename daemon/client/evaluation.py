"""Evaluations: questions about the owner asked as chat would answer them, scored, and the stored runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from secondme.daemon.client.convert import from_message
from secondme.daemon.client.jobs import Job
from secondme.daemon.client.stubs import Stubs
from secondme.v1 import eval_pb2


@dataclass
class EvalLeak:
    fact: str
    what: str
    question_id: str


@dataclass
class EvalAnswer:
    question_id: str
    kind: str
    answer: str
    seconds: float
    mentioned: list[str]
    missed: list[str]
    abstained: bool
    leaked: list[str]
    style_used: list[str]
    style_broken: list[str]
    error: str


@dataclass
class EvalRun:
    id: int
    model_id: str
    model_name: str
    source: str
    retrieval: bool
    created_at: datetime | None
    questions: int
    # Scores are None where no question measured them.
    recall: float | None
    recall_by_kind: dict[str, float]
    all_terms: float | None
    abstention: float | None
    false_abstention: float | None
    style_markers: float | None
    style_violations: float | None
    leaks: list[EvalLeak]
    seconds_mean: float | None
    seconds_p50: float | None
    seconds_max: float | None
    errors: int
    answers: list[EvalAnswer]


class EvalCalls:
    def __init__(self, wire: Stubs) -> None:
        self._wire = wire

    def start(
        self,
        questions_jsonl: str = "",
        *,
        private_json: str = "",
        style_json: str = "",
        source: str = "",
        models: Sequence[str] = (),
        without_retrieval: bool = False,
        identity: bool = False,
        let_models_write: bool = False,
    ) -> Job:
        """An eval job: the questions asked of each model (default: the active one), and/or the identity scored."""
        request = eval_pb2.StartEvalRequest(
            questions_jsonl=questions_jsonl,
            private_json=private_json,
            style_json=style_json,
            source=source,
            models=list(models),
            without_retrieval=without_retrieval,
            identity=identity,
            let_models_write=let_models_write,
        )
        return from_message(Job, self._wire.call(self._wire.eval.StartEval, request).job)

    def runs(self, run_ids: Sequence[int] = (), answers: bool = False, limit: int = 0) -> list[EvalRun]:
        """Those runs, or the newest run of each model."""
        request = eval_pb2.ListEvalRunsRequest(run_ids=list(run_ids), with_answers=answers, page_size=limit)
        return [from_message(EvalRun, r) for r in self._wire.call(self._wire.eval.ListEvalRuns, request).runs]
