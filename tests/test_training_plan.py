"""The planner's decisions for given device facts: CUDA precision and batches, CPU threads, clear refusals.

No GPU runs here; the CUDA path is decided from the facts a GPU machine would report (`probe_device`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from secondme.pipeline.errors import TrainingRefused
from secondme.pipeline.training.device import probe_device
from secondme.pipeline.training.plan import (
    DataFacts,
    DeviceFacts,
    ModelFacts,
    TrainingPlan,
    TrainingSettings,
    plan_training,
)

GIB = 2**30
# Gemma 3 270M as its GGUF header describes it.
GEMMA_270M = ModelFacts("gemma3", 18, 640, 2048, 4, 1, 256, 262144, 32768)
# A 7B llama: what a laptop GPU cannot hold for training.
LLAMA_7B = ModelFacts("llama", 32, 4096, 11008, 32, 32, 128, 32000, 4096)
DATA = DataFacts(
    sft_examples=200, sft_tokens=200 * 600, sft_scored=200 * 80, sft_longest=900,
    dpo_pairs=40, dpo_tokens=40 * 1300, dpo_scored=40 * 160, dpo_longest=950,
)  # fmt: skip


def _cpu(threads: int = 2, ram: float = 16) -> DeviceFacts:
    return DeviceFacts("cpu", f"{threads} CPU threads", int(ram * GIB), int(ram * GIB), threads, gflops=60.0)


def _gpu(vram: float, bf16: bool = True, name: str = "NVIDIA RTX 4090") -> DeviceFacts:
    return DeviceFacts("cuda", name, int(vram * GIB), 64 * GIB, 8, gflops=80_000.0, bf16=bf16)


def test_a_cpu_trains_in_fp32_one_sequence_at_a_time_with_accumulation() -> None:
    plan = plan_training(GEMMA_270M, DATA, _cpu(2))
    assert (plan.device, plan.dtype, plan.threads) == ("cpu", "fp32", 2)
    sft, dpo = plan.stage("sft"), plan.stage("dpo")
    assert sft is not None and dpo is not None
    assert (sft.batch_size, sft.accumulation) == (1, 8)
    assert sft.steps == 200 * 2 // 8  # two epochs of 200 examples, 8 per optimizer step
    assert dpo.steps == 40 // 8
    assert plan.max_length == 950  # no room reserved beyond the longest example
    assert 0 < plan.peak_memory_bytes < _cpu().memory_bytes
    assert plan.seconds > 0 and plan.tokens == sft.tokens + dpo.tokens
    assert any("CPU thread" in note for note in plan.notes)


def test_a_cpu_whose_bf16_is_faster_computes_in_bf16_over_fp32_weights() -> None:
    slow = plan_training(GEMMA_270M, DATA, _cpu(2))
    fast = plan_training(GEMMA_270M, DATA, replace(_cpu(2), gflops=120.0, bf16=True))  # AMX: bf16 measured faster
    assert (slow.dtype, slow.weights_dtype) == ("fp32", "fp32")
    assert (fast.dtype, fast.weights_dtype) == ("bf16", "fp32")  # autocast; merges stay exact
    assert fast.seconds < slow.seconds
    assert fast.peak_memory_bytes > slow.peak_memory_bytes  # autocast's bf16 copy of the weights


def test_a_gpu_with_bf16_trains_in_bf16_with_a_batch_sized_from_its_memory() -> None:
    roomy = plan_training(GEMMA_270M, DATA, _gpu(24))
    tight = plan_training(GEMMA_270M, DATA, _gpu(12))
    assert roomy.dtype == roomy.weights_dtype == "bf16" and roomy.device == "cuda"
    big, small = roomy.stage("sft"), tight.stage("sft")
    assert big is not None and small is not None
    assert big.batch_size > small.batch_size >= 1
    assert big.batch_size * big.accumulation >= 8 and small.batch_size * small.accumulation >= 8
    assert roomy.peak_memory_bytes <= 0.8 * 24 * GIB and tight.peak_memory_bytes <= 0.8 * 12 * GIB
    assert roomy.seconds < plan_training(GEMMA_270M, DATA, _cpu()).seconds


def test_a_gpu_without_bf16_trains_in_fp16() -> None:
    plan = plan_training(GEMMA_270M, DATA, _gpu(16, bf16=False, name="Tesla T4"))
    assert plan.dtype == "fp16"


def test_a_base_too_big_for_the_gpu_is_refused_with_the_numbers() -> None:
    with pytest.raises(TrainingRefused, match=r"needs about [\d.]+ GiB of GPU memory.*RTX 3050 has 4.0 GiB free"):
        plan_training(LLAMA_7B, DATA, _gpu(4, name="RTX 3050"))


def test_a_base_too_big_for_the_ram_is_refused_on_a_cpu() -> None:
    with pytest.raises(TrainingRefused, match="free memory"):
        plan_training(LLAMA_7B, DATA, _cpu(ram=8))


def test_an_architecture_the_exporter_cannot_write_back_is_refused() -> None:
    phi = ModelFacts("phi3", 32, 3072, 8192, 32, 32, 96, 32064, 4096)
    with pytest.raises(TrainingRefused, match=r"phi3 base cannot be trained here.*gemma3, llama, qwen2, qwen3"):
        plan_training(phi, DATA, _cpu())


def test_max_steps_caps_every_stage_and_its_tokens() -> None:
    full = plan_training(GEMMA_270M, DATA, _cpu())
    short = plan_training(GEMMA_270M, DATA, _cpu(), max_steps=2)
    assert [s.steps for s in short.stages] == [2, 2]
    assert short.tokens < full.tokens / 5 and short.seconds < full.seconds / 5


def test_stages_can_be_chosen_and_dpo_without_pairs_is_skipped_with_a_note() -> None:
    only_sft = plan_training(GEMMA_270M, DATA, _cpu(), stages=("sft",))
    assert [s.stage for s in only_sft.stages] == ["sft"]
    no_pairs = DataFacts(sft_examples=50, sft_tokens=30_000, sft_scored=4000, sft_longest=700)
    plan = plan_training(GEMMA_270M, no_pairs, _cpu())
    assert [s.stage for s in plan.stages] == ["sft"]
    assert any("DPO stage is skipped" in note for note in plan.notes)
    with pytest.raises(TrainingRefused, match="unknown training stage"):
        plan_training(GEMMA_270M, DATA, _cpu(), stages=("rlhf",))


def test_slow_steps_are_checkpointed_every_step_fast_ones_less_often() -> None:
    slow = plan_training(GEMMA_270M, DATA, DeviceFacts("cpu", "1 CPU", 16 * GIB, 16 * GIB, 1, gflops=5.0))
    fast = plan_training(GEMMA_270M, DATA, _gpu(24))
    assert slow.stages[0].save_every == 1
    assert fast.stages[0].save_every > 1


def test_a_longer_max_length_needs_more_memory() -> None:
    short = plan_training(GEMMA_270M, DATA, _cpu(), TrainingSettings(max_length=256))
    assert short.max_length == 256
    assert short.peak_memory_bytes < plan_training(GEMMA_270M, DATA, _cpu()).peak_memory_bytes


def test_the_plan_survives_a_round_trip_through_json() -> None:
    plan = plan_training(GEMMA_270M, DATA, _gpu(24))
    assert TrainingPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_model_facts_from_the_gguf_header_count_the_real_parameters(tiny_gguf: Path, tiny_hf_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM

    facts = ModelFacts.from_gguf(tiny_gguf)
    assert facts == ModelFacts.from_hf_config(json.loads((tiny_hf_model_dir / "config.json").read_text()))
    real = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(tiny_hf_model_dir).parameters())
    assert abs(facts.parameters - real) / real < 0.02  # norms and biases are all it leaves out


def test_lora_parameters_match_what_peft_creates(tiny_hf_model_dir: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from secondme.pipeline.training.plan import LORA_TARGETS

    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_hf_model_dir), LoraConfig(r=8, target_modules=list(LORA_TARGETS))
    )
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    config = json.loads((tiny_hf_model_dir / "config.json").read_text())
    assert ModelFacts.from_hf_config(config).lora_parameters(8) == trainable


def test_this_machine_is_probed_as_a_cpu_with_a_measured_throughput() -> None:
    facts = probe_device(threads=1, width=256, allow_cuda=False)
    assert facts.kind == "cpu" and facts.threads == 1
    assert facts.gflops > 0.1 and facts.memory_bytes > 0
