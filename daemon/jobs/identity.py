"""The identity job: insights, shades and biographies brought up to date with the memories.

It follows every embedding job (and `secondmectl identity refresh`). Whether a model writes the
texts (checked sentence by sentence) or they are made of the owner's own sentences is decided by
the pipeline model's capability check (`identity.mode = "auto"`), which runs here first if that
model has not been checked yet; a model that failed it, or none at all, costs the update no model
call. One identity update runs at a time per data dir.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from secondme.daemon.config import IdentitySection, ModelsSection, section_from
from secondme.daemon.jobs.context import JobContext
from secondme.daemon.jobs.probe import probe_and_save
from secondme.daemon.models.errors import ModelUnavailable
from secondme.daemon.models.generator import pipeline_generator, pipeline_model
from secondme.daemon.models.probes import is_due, read_probe
from secondme.daemon.store.identity_job_store import SqliteIdentityStore
from secondme.pipeline.embeddings import DEFAULT_MODEL
from secondme.pipeline.errors import GenerationError
from secondme.pipeline.grounding.support import SupportSettings
from secondme.pipeline.identity.membership import MembershipSettings
from secondme.pipeline.identity.update import EXTRACTIVE, GENERATIVE, IdentitySettings, LazyGenerator, update_identity
from secondme.pipeline.llm import Generator

LOCK_FILENAME = "identity.lock"


def choose_mode(section: IdentitySection, conn: sqlite3.Connection, key: str, model: LazyGenerator) -> str:
    """extractive or generative: the configured mode, or for "auto" the model's capability check."""
    if section.mode != "auto":
        return section.mode
    if not key:
        return EXTRACTIVE
    result = read_probe(conn, key)
    if is_due(result):
        generator = model.get()
        if generator is None:
            return EXTRACTIVE
        result = probe_and_save(conn, key, lambda: generator, close_after=False)  # it may write next
    return GENERATIVE if result is not None and result.passed else EXTRACTIVE


def run(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    section = section_from(IdentitySection, ctx.config.get("identity", {}))
    models = section_from(ModelsSection, ctx.config.get("models", {}))
    models_dir = ctx.data_dir / "models"

    def make() -> Generator:
        try:
            return pipeline_generator(models, ctx.db_path, models_dir)
        except ModelUnavailable as exc:
            raise GenerationError(str(exc)) from None

    with ctx.exclusive(LOCK_FILENAME, "waiting for another identity update to finish"):
        conn = ctx.connect()
        try:
            key, name = pipeline_model(models, ctx.db_path, models_dir)
            model = LazyGenerator(make if key else None, name)
            mode = choose_mode(section, conn, key, model)
            settings = IdentitySettings(
                membership=MembershipSettings(section.cluster_distance, section.min_shade_memories),
                owner_name=str(ctx.config.get("owner", {}).get("name", "")),
                owner_pronouns=str(ctx.config.get("owner", {}).get("pronouns", "they")),
                recent_memories=section.recent_memories,
                length_scale=section.text_length_scale,
                mode=mode,
                support=SupportSettings(section.support_similarity, section.support_overlap),
            )
            report = update_identity(SqliteIdentityStore(conn, DEFAULT_MODEL), model, settings, ctx.progress)
        finally:
            conn.close()
    return report.to_dict()
