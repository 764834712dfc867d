"""The identity job: insights, shades and biographies brought up to date with the memories.

It follows every embedding job (and `secondmectl identity refresh`). The language model is the
pipeline's generator (a job-local copy of the active model, or the owner's endpoint), loaded only
if some unit needs it; with none, memories are still grouped into shades, named from keywords,
and the report says what waits for a model. One identity update runs at a time per data dir.
"""

from __future__ import annotations

import fcntl
from typing import Any

from secondme.daemon.config import IdentitySection, ModelsSection, section_from
from secondme.daemon.jobs.context import JobContext
from secondme.daemon.models.errors import ModelUnavailable
from secondme.daemon.models.generator import pipeline_generator, pipeline_model_name
from secondme.daemon.store.identity_job_store import SqliteIdentityStore
from secondme.pipeline.embeddings import DEFAULT_MODEL
from secondme.pipeline.errors import GenerationError
from secondme.pipeline.identity.membership import MembershipSettings
from secondme.pipeline.identity.update import IdentitySettings, LazyGenerator, update_identity
from secondme.pipeline.llm import Generator

LOCK_FILENAME = "identity.lock"


def run(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    section = section_from(IdentitySection, ctx.config.get("identity", {}))
    models = section_from(ModelsSection, ctx.config.get("models", {}))
    models_dir = ctx.data_dir / "models"

    def make() -> Generator:
        try:
            return pipeline_generator(models, ctx.db_path, models_dir)
        except ModelUnavailable as exc:
            raise GenerationError(str(exc)) from None

    settings = IdentitySettings(
        membership=MembershipSettings(section.cluster_distance, section.min_shade_memories),
        owner_name=str(ctx.config.get("owner", {}).get("name", "")),
        recent_memories=section.recent_memories,
        length_scale=section.text_length_scale,
    )
    with (ctx.data_dir / LOCK_FILENAME).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            ctx.progress("wait", 0, 1, "waiting for another identity update to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
        conn = ctx.connect()
        try:
            model = LazyGenerator(make, pipeline_model_name(models, ctx.db_path, models_dir))
            report = update_identity(SqliteIdentityStore(conn, DEFAULT_MODEL), model, settings, ctx.progress)
        finally:
            conn.close()
    return report.to_dict()
