"""Path (a): a base that came as GGUF is loaded by transformers, and merged weights go back under its metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM
from transformers.modeling_gguf_pytorch_utils import Gemma2TensorProcessor, LlamaTensorProcessor

from secondme.pipeline.errors import ExportError
from secondme.pipeline.export import export_gguf, open_gguf
from secondme.pipeline.export.archs import ARCHS
from secondme.pipeline.tiny_model import TinyModelSpec, build_hf_model


def _load_from_gguf(path: Path) -> torch.nn.Module:
    return AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)


def _tensors(path: Path) -> dict[str, np.ndarray]:
    with open_gguf(path) as f:
        return {t.name: np.array(f.dequantized(t)) for t in f.tensors}


def _metadata(path: Path) -> dict[str, object]:
    with open_gguf(path) as f:
        return {k: f.get(k) for k in f.kv}


def test_qwen2_gguf_through_transformers_exports_back_identically(tiny_gguf: Path, tmp_path: Path) -> None:
    out = export_gguf(_load_from_gguf(tiny_gguf), tmp_path / "back.gguf", base_gguf=tiny_gguf)
    before, after = _tensors(tiny_gguf), _tensors(out)
    assert before.keys() == after.keys()
    for name, array in before.items():
        np.testing.assert_array_equal(after[name], array, err_msg=name)
    assert _metadata(out) == _metadata(tiny_gguf)  # tokenizer, chat template, hyperparameters all kept


def test_llama_gguf_round_trip_redoes_the_qk_permutation(tmp_path: Path) -> None:
    hf_dir = build_hf_model(tmp_path / "hf", TinyModelSpec(architecture="llama", fit_steps=0))
    base = export_gguf(hf_dir, tmp_path / "llama.gguf")
    out = export_gguf(_load_from_gguf(base), tmp_path / "back.gguf", base_gguf=base)
    before, after = _tensors(base), _tensors(out)
    for name in ("blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.1.attn_q.weight"):
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)


def test_merged_weights_replace_the_base_weights(tiny_gguf: Path, tmp_path: Path) -> None:
    model = _load_from_gguf(tiny_gguf)
    with torch.no_grad():
        model.model.layers[1].mlp.down_proj.weight.mul_(2.0)
    out = export_gguf(model, tmp_path / "merged.gguf", base_gguf=tiny_gguf)
    before, after = _tensors(tiny_gguf), _tensors(out)
    np.testing.assert_allclose(after["blk.1.ffn_down.weight"], 2.0 * before["blk.1.ffn_down.weight"])
    np.testing.assert_array_equal(after["blk.0.ffn_down.weight"], before["blk.0.ffn_down.weight"])


def test_base_of_another_architecture_is_refused(tiny_gguf: Path, tmp_path: Path) -> None:
    llama_dir = build_hf_model(tmp_path / "hf", TinyModelSpec(architecture="llama", fit_steps=0))
    with pytest.raises(ExportError, match="does not match the base GGUF"):
        export_gguf(llama_dir, tmp_path / "x.gguf", base_gguf=tiny_gguf)
    assert not (tmp_path / "x.gguf").exists()


@pytest.mark.parametrize("name", ["blk.3.attn_norm.weight", "output_norm.weight", "blk.0.post_ffw_norm.weight"])
def test_gemma_norm_offset_is_the_inverse_of_transformers_load(name: str) -> None:
    hf_weight = np.linspace(-0.5, 0.5, 64, dtype=np.float32)
    exported = ARCHS["gemma3"].fixup(name, hf_weight, 4, 1)
    np.testing.assert_allclose(exported, hf_weight + 1.0)  # llama.cpp multiplies by the stored weight
    loaded = Gemma2TensorProcessor().process(weights=exported, name=name).weights
    np.testing.assert_allclose(loaded, hf_weight, atol=1e-6)


def test_llama_permutation_is_the_inverse_of_transformers_load() -> None:
    rng = np.random.default_rng(0)
    config = {"num_attention_heads": 8, "num_key_value_heads": 2}
    processor = LlamaTensorProcessor(config=config)
    for name, rows in (("blk.0.attn_q.weight", 8 * 16), ("blk.0.attn_k.weight", 2 * 16)):
        hf_weight = rng.standard_normal((rows, 32)).astype(np.float32)
        exported = ARCHS["llama"].fixup(name, hf_weight, 8, 2)
        assert not np.array_equal(exported, hf_weight)
        np.testing.assert_array_equal(processor.process(weights=exported, name=name).weights, hf_weight)
