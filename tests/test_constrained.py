"""Grammar-constrained generation on the tiny model: the lazy check never lets invalid JSON through."""

from __future__ import annotations

import pytest

from secondme.daemon.models.templates import CHATML_TEMPLATE
from secondme.pipeline.errors import GenerationError
from secondme.pipeline.llm import LlamaSettings, LocalLlama, parse_json

SCHEMA = {
    "type": "object",
    "properties": {
        "mood": {"type": "string", "enum": ["calm", "stormy", "becalmed"]},
        "knots": {"type": "integer"},
        "crew": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 12}, "maxItems": 3},
        "log": {"type": "string", "minLength": 5, "maxLength": 60},
    },
    "required": ["mood", "knots", "crew", "log"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def llama(tiny_gguf):
    model = LocalLlama(tiny_gguf, CHATML_TEMPLATE, LlamaSettings(1024, 2))
    yield model
    model.close()


def test_every_constrained_answer_of_a_random_model_is_valid_json_for_the_schema(llama):
    # random weights propose invalid tokens at most steps: each is refused and resampled under the grammar
    for seed in range(8):
        text = "".join(llama.stream([{"role": "user", "content": "Log the sail."}], max_tokens=400, schema=SCHEMA,
                                    seed=seed, temperature=0.8))  # fmt: skip
        value = parse_json(text, SCHEMA)
        assert value["mood"] in ("calm", "stormy", "becalmed") and 5 <= len(value["log"]) <= 60


def test_plain_generation_after_constrained_generation_is_unaffected(llama):
    constrained = llama.generate_json([{"role": "user", "content": "Log."}], SCHEMA, max_tokens=400, seed=1)
    assert set(constrained) == set(SCHEMA["properties"])
    first = llama.generate([{"role": "user", "content": "hello"}], max_tokens=12, seed=5, temperature=0.7)
    again = llama.generate([{"role": "user", "content": "hello"}], max_tokens=12, seed=5, temperature=0.7)
    assert first == again and first


def test_cancelling_stops_a_constrained_generation(llama):
    pieces = []
    for piece in llama.stream([{"role": "user", "content": "Log."}], max_tokens=400, schema=SCHEMA, seed=2,
                              cancelled=lambda: len(pieces) >= 3):  # fmt: skip
        pieces.append(piece)
    assert len(pieces) == 3


def test_a_schema_llama_cpp_cannot_compile_is_an_error_not_a_crash(llama):
    too_long = {"type": "object", "properties": {"bio": {"type": "string", "maxLength": 5000}}, "required": ["bio"]}
    with pytest.raises(GenerationError, match="at most 1000"):
        "".join(llama.stream([{"role": "user", "content": "x"}], max_tokens=10, schema=too_long))
