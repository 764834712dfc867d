"""The model runtime on the tiny fixture model: priorities, bound, cancellation, swap, trimming, JSON."""

from __future__ import annotations

import asyncio
import shutil
import threading

import pytest

from secondme.daemon.models.errors import InvalidModelFile, ModelUnavailable, RuntimeBusy
from secondme.daemon.models.registry import ModelRegistry, TrainedVersion
from secondme.daemon.models.runtime import ModelRuntime, Priority, _Work
from secondme.daemon.store import Store
from secondme.pipeline.llm import LlamaSettings

SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 30},
        "keywords": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 3},
    },
    "required": ["title", "keywords"],
}


@pytest.fixture
async def registry(tmp_path):
    store = await Store.open(tmp_path / "db.sqlite")
    await store.close()
    reg = ModelRegistry(tmp_path / "db.sqlite", tmp_path / "models")
    yield reg
    reg.close()


@pytest.fixture
async def runtime(registry, tiny_gguf):
    record = registry.activate(registry.import_file(tiny_gguf, "tiny").id)
    rt = ModelRuntime(LlamaSettings(context_size=512, threads=2), max_waiting=4)
    await rt.load(record)
    yield rt
    await rt.close()


def _ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


async def test_streams_a_reply_and_a_fixed_seed_repeats_it(runtime):
    first = [p async for p in runtime.stream(_ask("hello"), max_tokens=16, seed=7)]
    second = [p async for p in runtime.stream(_ask("hello"), max_tokens=16, seed=7)]
    assert len(first) > 1 and first == second


async def test_structured_generation_returns_schema_valid_json(runtime):
    value = await runtime.generate_json(_ask("describe a walk"), SCHEMA, max_tokens=160, seed=3)
    assert isinstance(value["title"], str) and len(value["title"]) <= 30
    assert isinstance(value["keywords"], list) and len(value["keywords"]) <= 3


async def test_a_prompt_far_longer_than_the_context_is_trimmed_not_fatal(runtime):
    history = [{"role": "system", "content": "you are a test " * 40}]
    for _ in range(6):
        history += [{"role": "user", "content": "tide " * 400}, {"role": "assistant", "content": "ok"}]
    history.append({"role": "user", "content": "question " * 3000})
    reply = await runtime.generate(history, max_tokens=8)
    assert isinstance(reply, str)


async def test_owner_requests_are_served_before_waiting_peer_turns(runtime):
    loop = asyncio.get_running_loop()
    busy, release, all_done, order = threading.Event(), threading.Event(), threading.Event(), []

    def work(name: str, block: bool = False) -> _Work:
        def run(_: _Work) -> None:
            if block:
                busy.set()
                release.wait(30)
            order.append(name)
            if len(order) == 5:
                all_done.set()

        return _Work(run, loop)

    runtime._submit(work("busy", block=True), Priority.OWNER)  # occupies the worker
    assert await asyncio.to_thread(busy.wait, 30)
    for name, priority in (("peer1", Priority.PEER), ("pipeline", Priority.PIPELINE), ("peer2", Priority.PEER)):
        runtime._submit(work(name), priority, bounded=False)
    runtime._submit(work("owner"), Priority.OWNER, bounded=False)
    release.set()
    assert await asyncio.to_thread(all_done.wait, 30)
    assert order == ["busy", "owner", "pipeline", "peer1", "peer2"]


async def test_beyond_the_bound_requests_are_refused_at_once(runtime):
    tasks = [asyncio.create_task(runtime.generate(_ask("x"), max_tokens=32)) for _ in range(10)]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    refused = [r for r in results if isinstance(r, RuntimeBusy)]
    served = [r for r in results if isinstance(r, str)]
    assert refused and served and len(refused) + len(served) == 10
    assert "max_waiting" in str(refused[0])


async def test_closing_the_stream_stops_the_generation(runtime):
    stream = runtime.stream(_ask("tell me everything"), max_tokens=400, temperature=1.0, seed=1)
    received = [await anext(stream) for _ in range(3)]
    await stream.aclose()
    nxt = await runtime.generate(_ask("next"), max_tokens=4)  # served at once, nothing in the way
    assert len(received) == 3 and isinstance(nxt, str)
    assert 3 <= runtime.stats.last_cancelled_tokens < 400


async def test_swapping_models_waits_for_the_streaming_reply(runtime, registry, tiny_gguf_q8):
    other = registry.import_file(tiny_gguf_q8, "tiny-q8")
    stream = runtime.stream(_ask("a long story"), max_tokens=48, temperature=1.0, seed=5)
    pieces = [await anext(stream)]
    swap = asyncio.create_task(runtime.load(other))
    pieces += [p async for p in stream]
    await swap
    assert len(pieces) > 3  # the reply was not cut by the swap
    assert runtime.loaded.name == "tiny-q8"
    assert await runtime.generate(_ask("hi"), max_tokens=4) is not None


async def test_no_active_model_is_a_clear_error(tmp_path):
    rt = ModelRuntime(LlamaSettings(context_size=512), max_waiting=2)
    with pytest.raises(ModelUnavailable, match="models import"):
        await rt.generate(_ask("hi"))
    await rt.close()


def test_registry_refuses_corrupt_truncated_and_unsupported_files(registry, tiny_gguf, tmp_path):
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"not a model at all" * 100)
    with pytest.raises(InvalidModelFile, match="not a GGUF file"):
        registry.import_file(garbage)
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(tiny_gguf.read_bytes()[: tiny_gguf.stat().st_size // 2])
    with pytest.raises(InvalidModelFile, match="truncated"):
        registry.import_file(truncated)
    assert registry.list() == []
    assert not list((tmp_path / "models").glob(".incoming-*"))


def test_registry_imports_by_content_and_remembers_the_previous_model(registry, tiny_gguf, tiny_gguf_q8, tmp_path):
    first = registry.import_file(tiny_gguf, "tiny")
    copy = tmp_path / "copy.gguf"
    shutil.copyfile(tiny_gguf, copy)
    assert registry.import_file(copy, "again").id == first.id  # same bytes: same model
    second = registry.import_file(tiny_gguf_q8, "tiny-q8")
    assert (first.architecture, first.quantization, first.has_chat_template) == ("qwen2", "F16", True)
    assert second.quantization == "Q8_0" and first.parameter_count == second.parameter_count
    registry.activate("tiny")
    registry.activate("tiny-q8")
    assert registry.previous().name == "tiny"
    assert registry.activate(registry.previous().id).name == "tiny"
    with pytest.raises(Exception, match="active model"):
        registry.remove("tiny")
    registry.remove("tiny-q8")
    assert not second.path.exists() and [m.name for m in registry.list()] == ["tiny"]


def test_a_training_runs_versions_are_registered_all_or_none(registry, tiny_gguf, tiny_gguf_q8, tmp_path):
    base = registry.import_file(tiny_gguf, "tiny")
    adapter = tmp_path / "adapter.gguf"
    adapter.write_bytes(b"GGUF adapter bytes")
    broken = tmp_path / "merged.gguf"
    broken.write_bytes(b"not a model")

    def version(name: str, is_adapter: bool) -> TrainedVersion:
        return TrainedVersion(name, base.id, is_adapter, "v1", None, ("m1", "m2"), "job1")

    files = sorted(p.name for p in (tmp_path / "models").iterdir())
    with pytest.raises(InvalidModelFile):
        registry.register_trained([(adapter, version("tiny-self", True)), (broken, version("tiny-self-q8_0", False))])
    assert [m.name for m in registry.list()] == ["tiny"]  # the adapter was not registered without the merged model
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == files

    pair = [(adapter, version("tiny-self", True)), (tiny_gguf_q8, version("tiny-self-q8_0", False))]
    made = registry.register_trained(pair)
    assert [(m.name, m.adapter, m.base_id, m.trained_memories) for m in made] == [
        ("tiny-self", True, base.id, 2),
        ("tiny-self-q8_0", False, base.id, 2),
    ]
    assert registry.register_trained(pair) == made  # a resumed job registers once
    assert len(registry.list()) == 3
