"""The pipeline's generator inside a job child process.

Pipeline jobs (insights, biography, training-data synthesis) run in child processes. They do
not borrow the daemon's loaded model over the socket: their work is long batch generation
with JSON grammars, which would hold the one worker thread for minutes and make the owner's
chat wait behind it, and a child that crashes must not take the daemon's model with it. So a
child loads its own llama.cpp copy of the active model (read-only mmap of the same
content-addressed file, so the pages are shared with the daemon's copy), or, when the owner
configured an OpenAI-compatible endpoint in `[models]`, talks to that instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from secondme.daemon.config import ModelsSection
from secondme.daemon.models.errors import ModelUnavailable
from secondme.daemon.models.registry import ModelRecord, ModelRegistry
from secondme.pipeline.llm import Generator, LlamaSettings, LocalLlama, LockedGenerator, OpenAICompatible


def endpoint_generator(section: ModelsSection, timeout: float | None = None) -> OpenAICompatible:
    """The owner's OpenAI-compatible endpoint from `[models]`; raises ModelUnavailable when misconfigured."""
    if not section.openai_model:
        raise ModelUnavailable("[models] openai_base_url is set but openai_model is empty: name the model to use")
    key = ""
    if section.openai_api_key_env:
        key = os.environ.get(section.openai_api_key_env, "")
        if not key:
            raise ModelUnavailable(
                f"[models] openai_api_key_env names {section.openai_api_key_env}, which is not set in the environment"
            )
    return OpenAICompatible(
        section.openai_base_url, section.openai_model, key, **({"timeout": timeout} if timeout else {})
    )


def local_generator(record: ModelRecord, section: ModelsSection) -> Generator:
    """A job-local llama.cpp copy of a registered model."""
    context = min(section.context_size, record.context_length) if record.context_length else section.context_size
    settings = LlamaSettings(context, section.threads, section.gpu_layers)
    return LockedGenerator(LocalLlama(record.model_file, record.chat_template, settings, adapter=record.adapter_file))


def active_record(db_path: Path, models_dir: Path) -> ModelRecord | None:
    registry = ModelRegistry(db_path, models_dir)
    try:
        return registry.active()
    finally:
        registry.close()


def pipeline_generator(section: ModelsSection, db_path: Path, models_dir: Path) -> Generator:
    """The generator a pipeline job uses: the configured endpoint, else the active local model."""
    if section.openai_base_url:
        return endpoint_generator(section)
    record = active_record(db_path, models_dir)
    if record is None:
        raise ModelUnavailable("no model is active: run `secondmectl models import PATH` then `models activate NAME`")
    return local_generator(record, section)


def pipeline_model(section: ModelsSection, db_path: Path, models_dir: Path) -> tuple[str, str]:
    """Which model `pipeline_generator` would use: (its probe key, its name); ('', '') if none."""
    if section.openai_base_url:
        from secondme.daemon.models.probes import endpoint_key

        return endpoint_key(section), section.openai_model
    record = active_record(db_path, models_dir)
    return (record.id, record.name) if record else ("", "")
