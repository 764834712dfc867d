"""The generator a pipeline job child builds: its own copy of the active local model, or none."""

from __future__ import annotations

import jsonschema
import pytest

from secondme.daemon.config import ModelsSection
from secondme.daemon.models.errors import ModelUnavailable
from secondme.daemon.models.generator import pipeline_generator
from secondme.daemon.models.registry import ModelRegistry
from secondme.daemon.store import Store

SCHEMA = {"type": "object", "properties": {"topic": {"type": "string", "maxLength": 20}}, "required": ["topic"]}


@pytest.fixture
async def db(tmp_path):
    store = await Store.open(tmp_path / "db.sqlite")
    await store.close()
    return tmp_path / "db.sqlite"


def test_without_an_active_model_the_job_is_told_how_to_get_one(db, tmp_path):
    with pytest.raises(ModelUnavailable, match="models import"):
        pipeline_generator(ModelsSection(), db, tmp_path / "models")


def test_a_job_loads_the_active_model_and_gets_schema_valid_json(db, tmp_path, tiny_gguf):
    registry = ModelRegistry(db, tmp_path / "models")
    registry.activate(registry.import_file(tiny_gguf, "tiny").id)
    registry.close()
    generator = pipeline_generator(ModelsSection(context_size=512, threads=2), db, tmp_path / "models")
    value = generator.generate_json([{"role": "user", "content": "Name a topic."}], SCHEMA, max_tokens=40, seed=3)
    jsonschema.validate(value, SCHEMA)


def test_an_endpoint_with_a_missing_key_variable_is_refused_plainly(db, tmp_path, monkeypatch):
    monkeypatch.delenv("SECONDME_TEST_NO_SUCH_KEY", raising=False)
    section = ModelsSection(
        openai_base_url="http://127.0.0.1:9/v1", openai_model="m", openai_api_key_env="SECONDME_TEST_NO_SUCH_KEY"
    )
    with pytest.raises(ModelUnavailable, match="SECONDME_TEST_NO_SUCH_KEY"):
        pipeline_generator(section, db, tmp_path / "models")
