"""Training's parts on their own: the dataset from memories (in chat's own prompt), preferences, adapters, resume."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import torch

from secondme.pipeline.chat_prompt import chat_messages
from secondme.pipeline.errors import TrainingRefused
from secondme.pipeline.grounded_reply import ABSTENTION
from secondme.pipeline.llm import LlamaSettings, LocalLlama
from secondme.pipeline.tiny_model import CHATML_TEMPLATE
from secondme.pipeline.training.dataset import (
    GROUNDED,
    NO_ANSWER,
    SELF,
    DatasetSettings,
    build_dataset,
    first_person,
)
from secondme.pipeline.training.entities import PERSON, PLACE, EntityGraph
from secondme.pipeline.training.material import Material, Memory, Passage, SelfStatement, held_out
from secondme.pipeline.training.preferences import (
    ANSWERS_UNKNOWN,
    DISCLOSES_PRIVATE,
    IGNORES_MEMORY,
    rejection_reason,
)
from secondme.pipeline.training.store import DatasetStore

NOTES = Path(__file__).parent / "persona" / "notes"
SYSTEM = "You are the AI self of Nadia Brennan."


def _memories() -> list[Memory]:
    """The persona's notes as the store would hand them over: one memory per note, ~900-character chunks."""
    found = []
    for index, path in enumerate(sorted(NOTES.glob("*.md"))):
        text = path.read_text(encoding="utf-8")
        day = datetime.strptime(path.name[:10], "%Y-%m-%d").replace(tzinfo=UTC)
        title = path.stem[11:].replace("-", " ")
        memory_id = f"mem{index:03d}"
        chunks = [text[i : i + 900] for i in range(0, len(text), 900)]
        passages = tuple(
            Passage(memory_id, index * 100 + n, day, title, "markdown", chunk) for n, chunk in enumerate(chunks)
        )
        found.append(Memory(memory_id, title, "markdown", day, day, passages))
    return found


def _material(**changes: object) -> Material:
    return replace(Material("Nadia Brennan", SYSTEM, tuple(_memories())), **changes)


def _passages(material: Material) -> dict[int, Passage]:
    return {p.chunk_id: p for m in material.memories for p in m.passages}


def test_every_example_is_the_prompt_chat_builds_for_its_question_and_quoted_memories() -> None:
    material = _material()
    dataset = build_dataset(material)
    passages = _passages(material)
    assert dataset.counts[GROUNDED] > 10 and dataset.counts[NO_ANSWER] > 0 and dataset.counts["voice"] > 0
    for example in dataset.examples:
        quoted = [passages[c] for c in example.quoted_chunk_ids]
        assert example.prompt == chat_messages(SYSTEM, [], quoted, example.question)
        assert example.quoted_ids == [p.memory_id for p in quoted]


def test_grounded_answers_are_the_owners_own_sentences_citing_the_memory_quoted() -> None:
    material = _material()
    by_id = {m.id: m for m in material.memories}
    for example in build_dataset(material).examples:
        if example.kind != GROUNDED:
            continue
        (source,) = example.memory_ids
        cited = [int(n) for n in re.findall(r"\[(\d+)\]", example.completion)]
        assert cited and example.quoted_ids[cited[-1] - 1] == source
        said = re.sub(r"\s*\[\d+\]$", "", example.completion).removesuffix(" ...")
        owner_text = " ".join(re.sub(r"(?m)^\s*(?:[-*]|\[[ x]\])\s+", " ", by_id[source].text).split())
        for sentence in re.split(r"(?<=[.!?])\s+", said):
            assert " ".join(sentence.split()) in owner_text, sentence


def test_no_answer_examples_quote_only_memories_that_do_not_hold_the_answer() -> None:
    dataset = build_dataset(_material())
    refusals = [e for e in dataset.examples if e.kind == NO_ANSWER]
    grounded = {e.question: e for e in dataset.examples if e.kind == GROUNDED}
    assert refusals
    for example in refusals:
        assert example.completion == ABSTENTION and example.memory_ids == []
        source = grounded[example.question].memory_ids[0]
        assert source not in example.quoted_ids
        if example.template.startswith("entity"):
            name = re.sub(r"^(Who is|What do you know about|Tell me about|What's your connection to|What happened in|"
                          r"What do you have to do with|What is|What can you tell me about) ", "",
                          example.question).rstrip("?.")  # fmt: skip
            quoted_text = " ".join(m["content"] for m in example.prompt[1:])
            assert name not in quoted_text.split("Message:")[0]


def test_held_out_memories_are_never_trained_on_and_give_the_evaluation_questions() -> None:
    material = _material()
    dataset = build_dataset(material)
    held = set(dataset.held_out_memory_ids)
    assert held and not held & set(dataset.train_memory_ids)
    assert held == {m.id for m in material.memories if held_out(m.id, 0.2)}
    for example in dataset.examples:
        assert not held & {*example.memory_ids, *example.quoted_ids}
    asked = [q for q in dataset.held_out if q.kind != "unknown"]
    assert asked and all(set(q.evidence) <= held and q.must_mention for q in asked)
    assert any(q.kind == "unknown" for q in dataset.held_out)


def test_private_memories_are_neither_quoted_nor_cited() -> None:
    private = frozenset(m.id for m in _memories()[:5])
    dataset = build_dataset(_material(private_memory_ids=private))
    for example in dataset.examples:
        assert not private & {*example.memory_ids, *example.quoted_ids}


def test_the_same_memories_build_the_same_version_and_duplicates_are_dropped(tmp_path: Path) -> None:
    memories = _memories()
    twin = replace(memories[3], id="twin", passages=tuple(replace(p, memory_id="twin") for p in memories[3].passages))
    first = build_dataset(_material())
    assert build_dataset(_material()).fingerprint() == first.fingerprint()
    doubled = build_dataset(_material(memories=(*memories, twin)), DatasetSettings(held_out_fraction=0.0))
    assert doubled.dropped_duplicates > 0
    store = DatasetStore(tmp_path)
    version = store.save(first, {})
    assert store.save(first, {}) == version and store.latest() == version
    assert [e.id for e in store.examples(version)] == [e.id for e in first.examples]
    manifest = store.manifest(version)
    assert manifest["examples"] == len(first.examples) and manifest["entity_graph"]["entities"] > 10


def test_too_few_memories_are_refused_with_the_number_needed() -> None:
    with pytest.raises(TrainingRefused, match=r"needs about 10 memories .* there are 4"):
        build_dataset(_material(memories=tuple(_memories()[:4])))


def test_self_examples_answer_from_the_biography_in_the_first_person() -> None:
    memories = _memories()
    statements = (
        SelfStatement("You keep bees in York.", (memories[1].id,)),
        SelfStatement("You run fell races.", (memories[3].id,)),
    )
    dataset = build_dataset(_material(biography=statements), DatasetSettings(held_out_fraction=0.0))
    selves = [e for e in dataset.examples if e.kind == SELF]
    assert {e.question for e in selves} == {"Who are you?", "Tell me about yourself."}
    assert selves[0].completion == "I keep bees in York. [1] I run fell races. [2]"
    assert first_person("Your sister says you're late.") == "My sister says I'm late."


def test_the_entity_graph_types_names_and_joins_those_that_appear_together() -> None:
    graph = EntityGraph(_memories())
    assert graph.kind("Hattie") == PERSON and graph.kind("York") == PLACE
    assert graph.graph.has_edge("Hattie", "York") or graph.graph.has_edge("Tom", "York")
    assert not any(any(c.isdigit() for c in name) for name in graph.graph.nodes)  # codes are not names


def test_the_base_answer_is_rejected_for_what_it_gets_wrong() -> None:
    example = next(e for e in build_dataset(_material()).examples if e.kind == GROUNDED)
    refusal = replace(example, kind=NO_ANSWER, completion=ABSTENTION, memory_ids=[])
    assert rejection_reason(example, "The quick brown fox jumps over the lazy dog.") == IGNORES_MEMORY
    assert rejection_reason(example, example.completion) is None
    assert rejection_reason(refusal, "It was in Paris, with my cousin.") == ANSWERS_UNKNOWN
    assert rejection_reason(refusal, "I have nothing on that in my memories.") is None
    leak = "the shed code is four four seven one and the wifi is on the box"
    assert rejection_reason(refusal, f"Well, {leak}.", private_texts=[leak]) == DISCLOSES_PRIVATE


def test_training_tokenizes_a_prompt_exactly_as_llama_cpp_does_when_serving(tiny_gguf: Path) -> None:
    from secondme.pipeline.training.base import BaseSource, load_tokenizer

    example = build_dataset(_material()).examples[0]
    tokenizer = load_tokenizer(BaseSource(tiny_gguf, CHATML_TEMPLATE))
    trained = tokenizer.apply_chat_template(example.prompt, tokenize=True, add_generation_prompt=True)
    trained = trained["input_ids"] if hasattr(trained, "keys") else trained
    served = LocalLlama(tiny_gguf, CHATML_TEMPLATE, LlamaSettings(4096, 1))
    try:
        tokens, _stop, _ = served.fit(example.prompt, 16)
    finally:
        served.close()
    assert list(trained) == list(tokens)


def test_sft_then_dpo_adapters_combine_into_one_adapter_equal_to_both(tiny_gguf: Path, tmp_path: Path) -> None:
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    from secondme.pipeline.training.combine import combine_adapters

    torch.set_num_threads(1)

    def base() -> torch.nn.Module:
        return AutoModelForCausalLM.from_pretrained(tiny_gguf.parent, gguf_file=tiny_gguf.name, dtype=torch.float32)

    def randomized(model: torch.nn.Module, rank: int, seed: int) -> torch.nn.Module:
        peft = get_peft_model(model, LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=["q_proj", "down_proj"]))
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, param in peft.named_parameters():
                if "lora_B" in name:
                    param.copy_(torch.randn(param.shape, generator=generator) * 0.1)
        return peft

    first = randomized(base(), 4, 1)
    first.save_pretrained(tmp_path / "sft")
    second = randomized(first.merge_and_unload(), 2, 2)
    second.save_pretrained(tmp_path / "dpo")
    ids = torch.tensor([[5, 60, 200, 17, 300, 42]])
    with torch.no_grad():
        expected = second(ids).logits
        combined = PeftModel.from_pretrained(
            base(), str(combine_adapters(tmp_path / "sft", tmp_path / "dpo", tmp_path / "one"))
        )
        assert json.loads((tmp_path / "one" / "adapter_config.json").read_text())["r"] == 6
        np.testing.assert_allclose(combined(ids).logits.numpy(), expected.numpy(), atol=1e-4)


def test_a_checkpoint_cut_short_by_a_kill_is_not_resumed_from(tmp_path: Path) -> None:
    from secondme.pipeline.training.trainer import latest_checkpoint

    for step, complete in ((2, True), (4, True), (6, False)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        (folder / "adapter_model.safetensors").write_bytes(b"weights")
        if complete:
            (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    assert latest_checkpoint(tmp_path) == tmp_path / "checkpoint-4"
    assert not (tmp_path / "checkpoint-6").exists()


def test_a_capable_models_questions_are_answered_with_the_memorys_sentences_and_noise_is_left_out() -> None:
    memories = _memories()
    bees = next(m for m in memories if "beekeeping" in m.title)
    asked = {bees.id: ["Who taught the beekeeping course in the church hall?", "Qwerty zxcv plonk?"]}
    dataset = build_dataset(_material(), DatasetSettings(held_out_fraction=0.0, questions_per_memory=6), asked)
    model = [e for e in dataset.examples if e.template == "model"]
    assert [e.question for e in model] == ["Who taught the beekeeping course in the church hall?"]
    assert "church hall" in model[0].completion and model[0].memory_ids == [bees.id]


def test_a_hf_directory_is_imported_as_a_gguf_that_serves_and_trains(tiny_hf_model_dir: Path, tmp_path: Path) -> None:
    import asyncio

    from secondme.daemon.models.registry import ModelRegistry
    from secondme.daemon.store import Store
    from secondme.pipeline.training.base import BaseSource

    async def create() -> None:
        await (await Store.open(tmp_path / "db.sqlite")).close()

    asyncio.run(create())
    registry = ModelRegistry(tmp_path / "db.sqlite", tmp_path / "models")
    try:
        record = registry.import_file(tiny_hf_model_dir, "from-hf")
    finally:
        registry.close()
    assert (record.architecture, record.quantization, record.source) == ("qwen2", "F16", str(tiny_hf_model_dir))
    assert record.path.is_file() and not list((tmp_path / "models").glob(".incoming-*"))
    assert BaseSource(record.path, record.chat_template).facts().layers == 2


def test_a_cpu_with_fast_bf16_trains_sft_and_dpo_in_bf16_autocast_over_fp32_weights(
    tiny_gguf: Path, tmp_path: Path
) -> None:
    from secondme.pipeline.training.base import BaseSource, load_model, load_tokenizer
    from secondme.pipeline.training.plan import DataFacts, DeviceFacts, ModelFacts, TrainingSettings, plan_training
    from secondme.pipeline.training.trainer import StepProgress, train_dpo, train_sft

    torch.set_num_threads(1)
    source = BaseSource(tiny_gguf, "")
    cpu = DeviceFacts("cpu", "1 CPU thread", 8 * 2**30, 8 * 2**30, 1, gflops=50.0, bf16=True)
    data = DataFacts(2, 80, 20, 40, dpo_pairs=2, dpo_tokens=160, dpo_scored=40, dpo_longest=40)
    settings = TrainingSettings(lora_rank=4, lora_alpha=8, effective_batch=1, max_length=64)
    plan = plan_training(ModelFacts.from_gguf(tiny_gguf), data, cpu, settings, max_steps=2)
    assert (plan.dtype, plan.weights_dtype) == ("bf16", "fp32")
    tokenizer = load_tokenizer(source)
    model = load_model(source, plan.weights_dtype, plan.device)
    ask = [{"role": "user", "content": "Where did you sail?"}]
    rows = [{"prompt": ask, "completion": [{"role": "assistant", "content": "To Fowey, at night [1]."}]}] * 2
    steps: list[StepProgress] = []
    peft_model, sft = train_sft(model, tokenizer, rows, plan, settings, tmp_path, steps.append)
    assert sft.steps == 2 and sft.final_loss is not None and math.isfinite(sft.final_loss)
    assert all(p.dtype == torch.float32 for p in peft_model.parameters())  # bf16 only inside autocast
    pairs = [{"prompt": ask, "chosen": rows[0]["completion"],
              "rejected": [{"role": "assistant", "content": "I like turtles."}]}] * 2  # fmt: skip
    _, dpo = train_dpo(peft_model.merge_and_unload(), tokenizer, pairs, plan, settings, tmp_path, steps.append)
    assert dpo.steps == 2 and (tmp_path / "dpo" / "adapter" / "adapter_config.json").is_file()
    assert [(p.stage, p.step) for p in steps][-1] == ("dpo", 2) and ("sft", 2) in [(p.stage, p.step) for p in steps]
