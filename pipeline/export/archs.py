"""What differs per architecture: the GGUF name, hyperparameter keys, and tensor fix-ups HF -> GGUF.

The fix-ups are the inverse of what transformers applies when it loads a GGUF file
(`transformers/modeling_gguf_pytorch_utils.py`), so a GGUF -> transformers -> GGUF round trip returns
the same tensors:

* llama: llama.cpp's converter permutes the rows of Q and K so its interleaved RoPE matches HF's
  rotate-half RoPE; transformers' `LlamaTensorProcessor` undoes that on load, so we redo it.
* gemma2/gemma3: HF's Gemma RMSNorm multiplies by `(1 + w)` while llama.cpp multiplies by the stored
  weight, so GGUF files store `w + 1`; transformers' `Gemma2TensorProcessor` subtracts 1 from every
  `*norm.weight` on load, so we add it back.
* qwen2/qwen3: use NEOX-style RoPE in llama.cpp, identical to HF's; no change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gguf
import numpy as np

from secondme.pipeline.errors import ExportError

FixUp = Callable[[str, np.ndarray, int, int], np.ndarray]


def _identity(name: str, w: np.ndarray, n_head: int, n_head_kv: int) -> np.ndarray:
    return w


def permute_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's Q/K row permutation (convert_hf_to_gguf.py `LlamaModel.permute`)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _llama_fixup(name: str, w: np.ndarray, n_head: int, n_head_kv: int) -> np.ndarray:
    if name.endswith(".attn_q.weight") or name.endswith(".attn_q.bias"):
        return permute_qk(w, n_head)
    if name.endswith(".attn_k.weight") or name.endswith(".attn_k.bias"):
        return permute_qk(w, n_head_kv)
    return w


def _gemma_fixup(name: str, w: np.ndarray, n_head: int, n_head_kv: int) -> np.ndarray:
    if "norm.weight" in name:
        return w.astype(np.float32) + 1.0
    return w


@dataclass(frozen=True)
class ArchSpec:
    """How one architecture is written to GGUF."""

    gguf_arch: gguf.MODEL_ARCH
    fixup: FixUp
    from_hf_dir: bool  # whether a plain HF directory of this architecture can be exported (path b)

    @property
    def name(self) -> str:
        return gguf.MODEL_ARCH_NAMES[self.gguf_arch]


# Keyed by GGUF architecture name; HF model_type maps onto these below.
ARCHS: dict[str, ArchSpec] = {
    "llama": ArchSpec(gguf.MODEL_ARCH.LLAMA, _llama_fixup, from_hf_dir=True),
    "qwen2": ArchSpec(gguf.MODEL_ARCH.QWEN2, _identity, from_hf_dir=True),
    "qwen3": ArchSpec(gguf.MODEL_ARCH.QWEN3, _identity, from_hf_dir=False),
    "gemma3": ArchSpec(gguf.MODEL_ARCH.GEMMA3, _gemma_fixup, from_hf_dir=False),
}

_HF_MODEL_TYPES = {"llama": "llama", "qwen2": "qwen2", "qwen3": "qwen3", "gemma3": "gemma3", "gemma3_text": "gemma3"}


def spec_for_gguf_arch(arch: str) -> ArchSpec:
    """The spec for a GGUF `general.architecture`, or a clear refusal."""
    try:
        return ARCHS[arch]
    except KeyError:
        raise ExportError(
            f"architecture {arch!r} is not supported for export; supported: {', '.join(sorted(ARCHS))}"
        ) from None


def spec_for_hf_config(config: dict[str, Any], *, from_hf_dir: bool) -> ArchSpec:
    """The spec for a HF config's `model_type`; path (b) only accepts architectures we write hparams for."""
    model_type = str(config.get("model_type", ""))
    arch = _HF_MODEL_TYPES.get(model_type)
    if arch is None:
        raise ExportError(
            f"model_type {model_type!r} is not supported for export; supported: {', '.join(sorted(_HF_MODEL_TYPES))}"
        )
    spec = ARCHS[arch]
    if from_hf_dir and not spec.from_hf_dir:
        supported = sorted(a for a, s in ARCHS.items() if s.from_hf_dir)
        raise ExportError(
            f"model_type {model_type!r} can only be exported with base_gguf= (its original GGUF file); "
            f"from a plain HF directory the supported types are {', '.join(supported)}"
        )
    return spec


def rope_theta(config: dict[str, Any]) -> float:
    """RoPE base frequency from either the transformers 5 (`rope_parameters`) or 4.x (`rope_theta`) layout."""
    params = config.get("rope_parameters") or {}
    scaling = config.get("rope_scaling") or {}
    rope_type = params.get("rope_type") or scaling.get("rope_type") or scaling.get("type") or "default"
    if rope_type != "default":
        raise ExportError(f"RoPE scaling {rope_type!r} is not supported for export from a HF directory")
    theta = params.get("rope_theta", config.get("rope_theta", 10000.0))
    return float(theta)


def write_hparams(writer: gguf.GGUFWriter, config: dict[str, Any], n_vocab: int) -> tuple[int, int]:
    """Writes the hyperparameter keys llama.cpp reads for llama/qwen2; returns (n_head, n_head_kv)."""
    try:
        n_embd = int(config["hidden_size"])
        n_head = int(config["num_attention_heads"])
        n_head_kv = int(config.get("num_key_value_heads") or n_head)
        head_dim = int(config.get("head_dim") or n_embd // n_head)
        writer.add_context_length(int(config["max_position_embeddings"]))
        writer.add_embedding_length(n_embd)
        writer.add_block_count(int(config["num_hidden_layers"]))
        writer.add_feed_forward_length(int(config["intermediate_size"]))
        writer.add_head_count(n_head)
        writer.add_head_count_kv(n_head_kv)
        writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-6)))
        writer.add_rope_freq_base(rope_theta(config))
        writer.add_rope_dimension_count(head_dim)
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
        writer.add_vocab_size(n_vocab)
    except KeyError as exc:
        raise ExportError(f"config.json lacks {exc.args[0]!r}, which GGUF export needs") from None
    if config.get("hidden_act", "silu") != "silu":
        raise ExportError(f"hidden_act {config.get('hidden_act')!r} is not supported; llama.cpp expects 'silu'")
    return n_head, n_head_kv
