"""The training plan: on which device, in which precision, with which batches, for how long and how much memory.

The owner sees the plan before anything heavy starts, so it must be honest about *this* machine: the
time comes from the model's arithmetic per token and a throughput measured here (`device.probe_device`),
the memory from the weights, the LoRA state and the activations of the longest sequence. A base that
cannot be trained here (an architecture the exporter cannot write back, or more memory than the machine
has free) is refused with the numbers, before hours are spent finding out.

Everything here is pure: given the facts of the model, the data and the device, the plan follows. That
is what lets the CUDA decisions be tested on a machine without a GPU.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from secondme.pipeline.errors import TrainingRefused
from secondme.pipeline.export.archs import ARCHS
from secondme.pipeline.training.settings import TrainingSettings

# What the exporter can write back (merged GGUF and adapter): training anything else would strand the result.
TRAINABLE_ARCHITECTURES = frozenset(ARCHS)
STAGES = ("sft", "dpo")
# The linear layers a LoRA adapts: every projection of attention and MLP (QLoRA's choice; adapting only
# attention learns a voice markedly worse).
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
# Bytes of optimizer-side state per trainable parameter: fp32 weight, gradient, and AdamW's two moments.
_LORA_STATE_BYTES = 16
# Saved activations per token and layer, in values: inputs of each projection, norms, the MLP's gate and up
# outputs and their product, residuals; measured within 20% on the tiny model and Gemma 3 270M.
_ACTIVATION_HIDDEN = 10
_ACTIVATION_FFN = 4
# fp32 copies of the LM head's output over every position of a sequence (the logits, their log-softmax and
# its gradient, as a loss without a fused head keeps them), counted per sequence: measured on a full
# Gemma 3 270M training on alex (262k vocabulary, sequences up to ~1,490 tokens, 17 SFT and 2 DPO steps on
# 2 CPU cores), SFT peaked at 9.2 GiB and DPO at 13.3 GiB; this count plans 8.8 and 15.5 (without the
# head, 4.5 and 6.7). A run of 2 steps each peaked lower (6.2 and 9.9 GiB): its batches held no sequence
# as long as the longest, which the plan must allow for.
_HEAD_COPIES = 3
# The interpreter, torch and the tokenizer, beyond the tensors counted here.
_RUNTIME_OVERHEAD = {"cpu": 700 * 2**20, "cuda": 900 * 2**20}
# A backward pass through frozen weights computes input gradients only: about twice a forward.
_TRAIN_FORWARDS = 3.0
# The share of the measured matmul throughput a training step reaches (attention, norms, optimizer,
# Python). CPU: a full Gemma 3 270M SFT on the alex persona (152 examples of ~1,100 tokens, 2 cores,
# bf16 autocast) ran at 80 tok/s, ~76 GFLOP/s by this count, against a 640-wide fp32 matmul of
# ~315 GFLOP/s times bf16's step gain (1.7): 0.14. (0.45 of the bf16 matmul peak, the earlier basis,
# planned that SFT at 3 minutes; it took 35.)
_EFFICIENCY = {"cpu": 0.14, "cuda": 0.35}
# Batch sizes tried on CUDA, largest first.
_CUDA_BATCHES = (16, 8, 4, 2, 1)


@dataclass(frozen=True)
class ModelFacts:
    """The shape of the base model, from its GGUF header or its HF config."""

    architecture: str
    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    context_length: int

    @classmethod
    def from_gguf(cls, path: Path) -> ModelFacts:
        from secondme.pipeline.export import open_gguf

        with open_gguf(Path(path)) as f:
            arch = f.architecture

            def number(key: str, default: int | None = None) -> int:
                value = f.get(f"{arch}.{key}", default)
                if value is None:
                    raise TrainingRefused(f"{path.name}: the GGUF header lacks {arch}.{key}; it cannot be planned for")
                return int(value)

            hidden, heads = number("embedding_length"), number("attention.head_count")
            tokens = f.get("tokenizer.ggml.tokens") or []
            return cls(
                architecture=arch,
                layers=number("block_count"),
                hidden=hidden,
                intermediate=number("feed_forward_length"),
                heads=heads,
                kv_heads=number("attention.head_count_kv", heads),
                head_dim=number("attention.key_length", hidden // heads),
                vocab=len(tokens) or number("vocab_size"),
                context_length=number("context_length", 2048),
            )

    @classmethod
    def from_hf_config(cls, config: dict[str, Any]) -> ModelFacts:
        config = config.get("text_config") or config
        model_type = str(config.get("model_type", ""))
        arch = {"gemma3_text": "gemma3"}.get(model_type, model_type)
        try:
            hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
            return cls(
                architecture=arch,
                layers=int(config["num_hidden_layers"]),
                hidden=hidden,
                intermediate=int(config["intermediate_size"]),
                heads=heads,
                kv_heads=int(config.get("num_key_value_heads") or heads),
                head_dim=int(config.get("head_dim") or hidden // heads),
                vocab=int(config["vocab_size"]),
                context_length=int(config.get("max_position_embeddings") or 2048),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TrainingRefused(f"the model's config.json lacks {exc}; it cannot be planned for") from None

    @property
    def _per_layer(self) -> int:
        q, kv = self.heads * self.head_dim, self.kv_heads * self.head_dim
        return self.hidden * q + 2 * self.hidden * kv + q * self.hidden + 3 * self.hidden * self.intermediate

    @property
    def parameters(self) -> int:
        """Weights of the transformer blocks and the (tied) embedding; norms are negligible."""
        return self.layers * self._per_layer + self.vocab * self.hidden

    def lora_parameters(self, rank: int) -> int:
        """Trainable parameters of a rank-`rank` LoRA on every projection (`LORA_TARGETS`)."""
        q, kv = self.heads * self.head_dim, self.kv_heads * self.head_dim
        h, f = self.hidden, self.intermediate
        per_layer = (h + q) + 2 * (h + kv) + (q + h) + 2 * (h + f) + (f + h)
        return self.layers * rank * per_layer

    def forward_flops(self, tokens: int, scored: int, sequence: int) -> float:
        """FLOPs of a forward over `tokens` in sequences of about `sequence`, the LM head on `scored` of them.

        trl's fused LM head projects only the positions that carry a label, which for a model with a large
        vocabulary (Gemma's 262k) is most of the arithmetic saved.
        """
        attention = 2 * 2 * sequence * self.heads * self.head_dim * self.layers  # scores and weighted sum
        return (
            2.0 * self.layers * self._per_layer * tokens + attention * tokens + 2.0 * self.vocab * self.hidden * scored
        )

    def activation_bytes(self, tokens: int, value_bytes: int) -> int:
        """Activations a backward pass keeps for one sequence of `tokens`, the LM head's included."""
        head = _HEAD_COPIES * tokens * self.vocab * 4
        per_token_layer = (
            _ACTIVATION_HIDDEN * self.hidden
            + _ACTIVATION_FFN * self.intermediate
            + 2 * self.heads * self.head_dim
            + self.heads * tokens  # attention probabilities (the math path materialises them)
        )
        return int(self.layers * tokens * per_token_layer * value_bytes) + head


@dataclass(frozen=True)
class DeviceFacts:
    """What the machine offers training; `device.probe_device` measures it."""

    kind: str  # "cuda" or "cpu"
    name: str
    memory_bytes: int  # free VRAM on CUDA, available RAM on CPU
    host_memory_bytes: int  # available RAM (the base is read and dequantized there first)
    threads: int
    gflops: float  # measured matmul throughput in the training precision (on a CPU: fp32 times bf16's step gain)
    # CUDA: the GPU computes in bfloat16 (Ampere or newer); CPU: its bf16 matmuls are markedly faster (AMX)
    bf16: bool = False


@dataclass(frozen=True)
class DataFacts:
    """Sizes of the dataset in the base's tokens (prompt and answer; DPO counts both answers)."""

    sft_examples: int
    sft_tokens: int
    sft_scored: int  # answer tokens: the ones with a loss
    sft_longest: int
    dpo_pairs: int = 0
    dpo_tokens: int = 0
    dpo_scored: int = 0
    dpo_longest: int = 0


@dataclass(frozen=True)
class StagePlan:
    stage: str
    examples: int
    steps: int
    batch_size: int
    accumulation: int
    tokens: int
    seconds: float
    save_every: int
    learning_rate: float


@dataclass(frozen=True)
class TrainingPlan:
    device: str
    device_name: str
    dtype: str  # "fp32", "bf16" or "fp16": the precision of the arithmetic
    threads: int
    max_length: int
    lora_rank: int
    lora_alpha: int
    trainable_parameters: int
    base_parameters: int
    peak_memory_bytes: int
    memory_available_bytes: int
    stages: tuple[StagePlan, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def weights_dtype(self) -> str:
        """The precision the base is loaded in: a CPU trains in bf16 under autocast over fp32 weights."""
        return "fp32" if self.device == "cpu" else self.dtype

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.stages)

    @property
    def tokens(self) -> int:
        return sum(s.tokens for s in self.stages)

    def stage(self, name: str) -> StagePlan | None:
        return next((s for s in self.stages if s.stage == name), None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = self.seconds
        data["tokens"] = self.tokens
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingPlan:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["stages"] = tuple(StagePlan(**s) for s in data["stages"])
        known["notes"] = tuple(data.get("notes", ()))
        return cls(**known)


def plan_training(
    model: ModelFacts,
    data: DataFacts,
    device: DeviceFacts,
    settings: TrainingSettings | None = None,
    stages: tuple[str, ...] = STAGES,
    max_steps: int = 0,
) -> TrainingPlan:
    """The plan for training `model` on `data` here, or `TrainingRefused` saying why it cannot be.

    `settings` defaults to `[training]`'s defaults; `max_steps` > 0 caps the optimizer steps of
    every stage (a short trial run).
    """
    settings = settings or TrainingSettings()
    unknown = [s for s in stages if s not in STAGES]
    if unknown or not stages:
        raise TrainingRefused(f"unknown training stage(s) {', '.join(unknown) or '(none)'}; choose from sft, dpo")
    if model.architecture not in TRAINABLE_ARCHITECTURES:
        raise TrainingRefused(
            f"a {model.architecture} base cannot be trained here: the result could not be written back to GGUF "
            f"(trainable: {', '.join(sorted(TRAINABLE_ARCHITECTURES))}); import one of those as the base"
        )
    if "sft" in stages and data.sft_examples == 0:
        raise TrainingRefused("the dataset has no SFT examples; build it from more memories first")
    if stages == ("dpo",) and data.dpo_pairs == 0:
        raise TrainingRefused("the dataset has no preference pairs for DPO")

    dtype = "bf16" if device.bf16 else ("fp32" if device.kind == "cpu" else "fp16")
    # A CPU keeps fp32 weights and multiplies in bf16 under autocast (which keeps a bf16 copy of each weight
    # for the step): merging an adapter into bf16 weights would round most of it away.
    value_bytes = 4 if device.kind == "cpu" else 2
    longest = max(data.sft_longest if "sft" in stages else 0, data.dpo_longest if "dpo" in stages else 0)
    max_length = max(16, min(settings.max_length, model.context_length, longest or settings.max_length))
    trainable = model.lora_parameters(settings.lora_rank)
    weights = model.parameters * value_bytes + (model.parameters * 2 if device.kind == "cpu" and device.bf16 else 0)
    fixed = weights + trainable * _LORA_STATE_BYTES + _RUNTIME_OVERHEAD[device.kind]
    # DPO runs chosen and rejected of a pair side by side: two sequences per example.
    per_example = model.activation_bytes(max_length, value_bytes) * (2 if "dpo" in stages else 1)
    budget = int(device.memory_bytes * settings.memory_fraction)
    notes: list[str] = []

    if device.kind == "cuda":
        batch = next((b for b in _CUDA_BATCHES if fixed + b * per_example <= budget), 0)
    else:
        # On a CPU a batch of one wastes nothing on padding and costs the same arithmetic per token.
        batch = 1 if fixed + per_example <= budget else 0
    peak = fixed + max(batch, 1) * per_example
    # Loading reads the GGUF and dequantizes it beside the model being built: twice the weights, briefly.
    load_peak = 2 * model.parameters * 4 + _RUNTIME_OVERHEAD["cpu"]
    if batch == 0:
        raise TrainingRefused(
            f"training this {_billions(model.parameters)} base needs about {_gib(peak)} of "
            f"{'GPU' if device.kind == 'cuda' else 'free'} memory with sequences of {max_length} tokens, and "
            f"{device.name} has {_gib(device.memory_bytes)} free (of which the plan may use "
            f"{settings.memory_fraction:.0%}); choose a smaller base or lower training.max_length"
        )
    if load_peak > device.host_memory_bytes * settings.memory_fraction:
        raise TrainingRefused(
            f"reading this {_billions(model.parameters)} base for training needs about {_gib(load_peak)} of RAM and "
            f"{_gib(device.host_memory_bytes)} is free; close other programs or choose a smaller base"
        )
    if device.kind == "cpu":
        peak = max(peak, load_peak)
    accumulation = max(1, math.ceil(settings.effective_batch / batch))

    flops_per_second = device.gflops * 1e9 * _EFFICIENCY[device.kind]
    planned: list[StagePlan] = []
    for stage in stages:
        if stage == "sft":
            examples, epochs, tokens, scored, factor, rate = (
                data.sft_examples, settings.sft_epochs, data.sft_tokens, data.sft_scored, _TRAIN_FORWARDS,
                settings.learning_rate,
            )  # fmt: skip
        else:
            if data.dpo_pairs == 0:
                notes.append("no preference pairs: the DPO stage is skipped")
                continue
            # Policy forward and backward on both answers, and the reference forward with the adapter off.
            examples, epochs, tokens, scored, factor, rate = (
                data.dpo_pairs, settings.dpo_epochs, data.dpo_tokens, data.dpo_scored, _TRAIN_FORWARDS + 1.0,
                settings.dpo_learning_rate,
            )  # fmt: skip
        full_steps = max(1, math.ceil(examples * epochs / (batch * accumulation)))
        steps = min(full_steps, max_steps) if max_steps > 0 else full_steps
        share = steps / full_steps * epochs
        stage_tokens = int(tokens * share)
        average = max(1, tokens // max(1, examples))
        flops = factor * model.forward_flops(stage_tokens, int(scored * share), average)
        seconds = flops / flops_per_second
        step_seconds = seconds / steps
        planned.append(
            StagePlan(
                stage=stage,
                examples=examples,
                steps=steps,
                batch_size=batch,
                accumulation=accumulation,
                tokens=stage_tokens,
                seconds=seconds,
                save_every=max(1, int(settings.checkpoint_seconds // max(step_seconds, 1e-9))),
                learning_rate=rate,
            )
        )
    if device.kind == "cpu" and device.threads <= 2:
        notes.append(f"training on {device.threads} CPU thread(s): the owner's chat shares them and slows it")
    return TrainingPlan(
        device=device.kind,
        device_name=device.name,
        dtype=dtype,
        threads=device.threads,
        max_length=max_length,
        lora_rank=settings.lora_rank,
        lora_alpha=settings.lora_alpha,
        trainable_parameters=trainable,
        base_parameters=model.parameters,
        peak_memory_bytes=int(peak),
        memory_available_bytes=device.memory_bytes,
        stages=tuple(planned),
        notes=tuple(notes),
    )


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def _billions(n: int) -> str:
    return f"{n / 1e9:.1f}B-parameter" if n >= 1e9 else f"{n / 1e6:.0f}M-parameter"
