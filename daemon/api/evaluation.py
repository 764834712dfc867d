"""EvalService: the owner's questions asked as chat would answer them, scored; stored runs to compare."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import grpc

from secondme.daemon.api.convert import job_to_pb, to_timestamp
from secondme.daemon.api.errors import FailedPrecondition, InvalidArgument, grpc_errors
from secondme.daemon.jobs import JobManager
from secondme.daemon.models.registry import ModelRegistry
from secondme.daemon.store.eval_runs import EvalRunRecord, EvalRunRepository
from secondme.pipeline.evaluation.questions import EvalFormatError, parse_private, parse_questions, parse_style
from secondme.v1 import eval_pb2, eval_pb2_grpc

MAX_RUNS = 100


def _json(text: str, field: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvalFormatError(f"{field} line {exc.lineno} is not valid JSON ({exc.msg})") from None


def run_to_pb(record: EvalRunRecord, with_answers: bool) -> eval_pb2.EvalRun:
    report = record.report
    optional = {
        name: value
        for name in (
            "recall",
            "all_terms",
            "abstention",
            "false_abstention",
            "style_markers",
            "style_violations",
            "seconds_mean",
            "seconds_p50",
            "seconds_max",
        )
        if (value := getattr(report, name)) is not None
    }
    return eval_pb2.EvalRun(
        id=record.id,
        model_id=record.model_id,
        model_name=record.model_name,
        source=record.source,
        retrieval=record.retrieval,
        created_at=to_timestamp(record.created_at),
        questions=report.questions,
        recall_by_kind=report.recall_by_kind,
        leaks=[eval_pb2.EvalLeak(**leak) for leak in report.leaks],
        errors=report.errors,
        answers=[
            eval_pb2.EvalAnswer(
                question_id=a.question_id,
                kind=a.kind,
                answer=a.answer,
                seconds=a.seconds,
                mentioned=a.mentioned,
                missed=a.missed,
                abstained=a.abstained,
                leaked=a.leaked,
                style_used=a.style_used,
                style_broken=a.style_broken,
                error=a.error,
            )
            for a in (report.answers if with_answers else [])
        ],
        **optional,
    )


class EvalServicer(eval_pb2_grpc.EvalServiceServicer):
    def __init__(
        self,
        jobs: JobManager,
        runs: EvalRunRepository,
        registry: ModelRegistry,
        memory_count: Callable[[], Awaitable[int]],
    ) -> None:
        self._jobs = jobs
        self._runs = runs
        self._registry = registry
        self._memory_count = memory_count

    @grpc_errors
    async def StartEval(self, request: eval_pb2.StartEvalRequest, context: grpc.aio.ServicerContext):
        source = request.source or "questions.jsonl"
        if not request.questions_jsonl.strip() and not request.identity:
            raise InvalidArgument("questions_jsonl is empty: send a questions file, or set identity")
        if request.questions_jsonl.strip():  # refused here, naming the line, rather than in the job
            parse_questions(request.questions_jsonl, source)
            if request.private_json.strip():
                parse_private(_json(request.private_json, "private_json"), "private_json")
            if request.style_json.strip():
                parse_style(_json(request.style_json, "style_json"), "style_json")
        if await self._memory_count() == 0:
            raise FailedPrecondition(
                "there is nothing to ask about: no memories yet; add the owner's notes with "
                "`secondmectl memories add PATH` first"
            )
        model_ids: list[str] = []
        if request.questions_jsonl.strip():
            if request.models:
                model_ids = [(await asyncio.to_thread(self._registry.get, name)).id for name in request.models]
            else:
                active = await asyncio.to_thread(self._registry.active)
                if active is None:
                    raise FailedPrecondition(
                        "no model is active to ask: activate one with `secondmectl models activate NAME`, "
                        "or name models with --model"
                    )
                model_ids = [active.id]
        job = await self._jobs.submit(
            "eval",
            {
                "questions": request.questions_jsonl,
                "private": request.private_json,
                "style": request.style_json,
                "source": source,
                "models": list(dict.fromkeys(model_ids)),
                "retrieval": not request.without_retrieval,
                "identity": request.identity,
                "let_models_write": request.let_models_write,
            },
        )
        return eval_pb2.StartEvalResponse(job=job_to_pb(job))

    @grpc_errors
    async def ListEvalRuns(self, request: eval_pb2.ListEvalRunsRequest, context: grpc.aio.ServicerContext):
        if request.page_size < 0:
            raise InvalidArgument("page_size must not be negative")
        limit = min(request.page_size or MAX_RUNS, MAX_RUNS)
        records = await self._runs.runs(list(request.run_ids), latest=not request.run_ids, limit=limit)
        return eval_pb2.ListEvalRunsResponse(runs=[run_to_pb(r, request.with_answers) for r in records])
