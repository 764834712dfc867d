"""The eval job: every question asked the way chat would answer it, with each model, scored and stored.

A question goes through chat's own path (`daemon.chat_context`): the same retrieval, the same
decision to abstain, quote the owner or let the model write (from the model's capability check and
`[chat]`), the same prompt. Only the model differs: like every model-heavy job it is the child's
own llama.cpp copy of the model, so an eval of several models never swaps the one the owner chats
with. Each model's scored run is stored once all its questions are answered. With `identity`, the
job also scores how well the stored biographies and shades are supported by the memories they cite.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from typing import Any

from secondme.daemon.chat_context import GENERATED, ChatContext, Grounding
from secondme.daemon.config import ChatSection, IdentitySection, ModelsSection, section_from
from secondme.daemon.identity_prompt import IdentityPrompt
from secondme.daemon.jobs.context import JobContext
from secondme.daemon.jobs.probe import probe_and_save
from secondme.daemon.memory_search import RetrievalSettings, Retriever
from secondme.daemon.models.generator import local_generator
from secondme.daemon.models.probes import is_due, read_probe
from secondme.daemon.models.registry import ModelRecord, ModelRegistry
from secondme.daemon.store.db import Store
from secondme.daemon.store.eval_runs import save_run
from secondme.daemon.store.identity import IdentityRepository
from secondme.daemon.store.identity_job_store import SqliteIdentityStore
from secondme.pipeline.embeddings import DEFAULT_MODEL
from secondme.pipeline.evaluation import EvalSet, Question, evaluate
from secondme.pipeline.evaluation.questions import parse_private, parse_questions, parse_style
from secondme.pipeline.grounding.support import SupportSettings
from secondme.pipeline.identity.grounded import Grounder
from secondme.pipeline.identity.support_score import SupportReport, support_score
from secondme.pipeline.identity.update import default_embed
from secondme.pipeline.llm import Generator

# An answer to one question; a fixed seed so a rerun of the same model answers alike.
ANSWER_TOKENS = 200
ANSWER_SEED = 7
ANSWER_TEMPERATURE = 0.7
# Memories are read whole for the support check (a sentence may come from anywhere in them).
WHOLE_TEXT = 1_000_000


def eval_set_from(params: dict[str, Any]) -> EvalSet | None:
    """The questions (and private facts, style) the owner sent, as the servicer checked them."""
    if not params.get("questions"):
        return None
    source = str(params.get("source") or "questions.jsonl")
    private = parse_private(json.loads(params["private"])) if params.get("private") else ()
    style = parse_style(json.loads(params["style"])) if params.get("style") else None
    return EvalSet(parse_questions(params["questions"], source), private, style, source)


class ChatPath:
    """Chat's way from a question to an answer, with a job-local copy of one model."""

    def __init__(
        self,
        context: ChatContext,
        grounding: Grounding,
        record: ModelRecord,
        generator: Generator,
        capable: bool,
        retrieval: bool,
    ) -> None:
        self._context = context
        self._grounding = grounding
        self._record = record
        self._generator = generator
        self._capable = capable
        self._retrieval = retrieval

    async def answer(self, question: str) -> str:
        prepared = await self._context.prepare([], question, self._record.trained_through, retrieve=self._retrieval)
        plan = await self._context.plan(
            question, prepared, self._record.name, self._capable, self._grounding, retrieved=self._retrieval
        )
        if plan.mode != GENERATED:
            return plan.text
        return await asyncio.to_thread(
            self._generator.generate,
            prepared.messages,
            max_tokens=ANSWER_TOKENS,
            temperature=ANSWER_TEMPERATURE,
            seed=ANSWER_SEED,
        )


def _capable(conn: sqlite3.Connection, record: ModelRecord, models: ModelsSection) -> bool:
    """Whether the model passed its capability check (checked here first if it never was)."""
    result = read_probe(conn, record.id)
    if is_due(result):
        result = probe_and_save(conn, record.id, lambda: local_generator(record, models))
    return result is not None and result.passed


def identity_support(conn: sqlite3.Connection, ctx: JobContext) -> SupportReport:
    section = section_from(IdentitySection, ctx.config.get("identity", {}))
    owner = str(ctx.config.get("owner", {}).get("name", ""))
    store = SqliteIdentityStore(conn, DEFAULT_MODEL)
    parts, owner_written = store.stored_statements()
    cited = sorted({m for sentences in parts.values() for s in sentences for m in s.memory_ids})
    memories = {b.id: b for b in store.briefs(cited, WHOLE_TEXT)}
    grounder = Grounder(default_embed(), owner, SupportSettings(section.support_similarity, section.support_overlap))
    ctx.progress("identity", 0, 1, "checking the identity's sentences against their memories")
    report = support_score(parts, memories, grounder, owner_written)
    ctx.progress("identity", 1, 1, f"{report.supported} of {report.total} sentences supported")
    return report


def run(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    eval_set = eval_set_from(params)
    found: dict[str, Any] = {}
    conn = ctx.connect()
    try:
        if params.get("identity"):
            found["identity"] = identity_support(conn, ctx).to_dict()
        if eval_set is not None:
            found["runs"] = ask(
                ctx,
                conn,
                eval_set,
                list(params.get("models", [])),
                bool(params.get("retrieval")),
                let_models_write=bool(params.get("let_models_write")),
            )
    finally:
        conn.close()
    return found


def _asking(
    ctx: JobContext, loop: asyncio.AbstractEventLoop, path: ChatPath, model: str, first: int, total: int
) -> Callable[[Question], str]:
    """The answer function `evaluate` calls, reporting progress as it goes."""
    asked = iter(range(first, first + total))

    def answer(question: Question) -> str:
        ctx.progress("ask", next(asked), total, f"{model}: {question.id}")
        return loop.run_until_complete(path.answer(question.question))

    return answer


def ask(
    ctx: JobContext,
    conn: sqlite3.Connection,
    eval_set: EvalSet,
    model_ids: list[str],
    retrieval: bool,
    *,
    let_models_write: bool = False,
    save: bool = True,
) -> list[dict[str, Any]]:
    """Each model's scored run over `eval_set`, through chat's path (stored in `eval_runs` when `save`).

    `let_models_write` answers as chat does with `chat.use_failed_model`: a model that failed its
    capability check writes instead of quoting, so two models that both fail it still differ in
    their answers (how training measures what it changed).
    """
    models = section_from(ModelsSection, ctx.config.get("models", {}))
    chat = section_from(ChatSection, ctx.config.get("chat", {}))
    owner = str(ctx.config.get("owner", {}).get("name", ""))
    grounding = Grounding(chat.min_relevance, chat.use_failed_model or let_models_write)
    registry = ModelRegistry(ctx.db_path, ctx.data_dir / "models")
    try:
        records = [registry.get(model_id) for model_id in model_ids]
    finally:
        registry.close()
    loop = asyncio.new_event_loop()
    store = loop.run_until_complete(Store.open(ctx.db_path))
    runs = []
    try:
        context = ChatContext(
            IdentityPrompt(IdentityRepository(store), lambda: owner),
            Retriever(store),
            RetrievalSettings(chat.retrieve_memories, chat.fresh_memories, chat.min_similarity),
        )
        total = len(records) * len(eval_set.questions)
        for done_models, record in enumerate(records):
            ctx.progress("probe", done_models, len(records), f"capability check of {record.name}")
            capable = _capable(conn, record, models)
            path = ChatPath(context, grounding, record, local_generator(record, models), capable, retrieval)
            first = done_models * len(eval_set.questions)
            report = evaluate(eval_set, _asking(ctx, loop, path, record.name, first, total))
            ctx.progress("ask", first + len(eval_set.questions), total, f"{record.name}: done")
            run_id = save_run(conn, record.id, record.name, eval_set.source, retrieval, report) if save else None
            runs.append({"id": run_id, "model": record.name, "model_id": record.id, "capable": capable,
                         **report.to_dict(with_answers=False)})  # fmt: skip
    finally:
        loop.run_until_complete(store.close())
        loop.close()
    return runs
