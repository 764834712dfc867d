"""A LoRA trained with PEFT, written as a GGUF adapter, runs in llama.cpp on the unchanged base as in PEFT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from secondme.pipeline.errors import ExportError
from secondme.pipeline.export import export_gguf, open_gguf
from secondme.pipeline.export.adapter import export_lora_adapter
from secondme.pipeline.llm import LlamaSettings, LocalLlama
from secondme.pipeline.tiny_model import CHATML_TEMPLATE, TinyModelSpec, build_hf_model, corpus_text

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@pytest.fixture(autouse=True)
def _few_threads() -> None:
    torch.set_num_threads(2)


def _peft_model(gguf_path: Path, std: float = 0.05, **lora: object) -> torch.nn.Module:
    """The base loaded from its GGUF (as training loads it) with a LoRA whose B is not zero."""
    base = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=16, target_modules=TARGETS, lora_dropout=0.0, **lora)  # type: ignore[arg-type]
    model = get_peft_model(base, config)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * std)
    return model


def _llama_logits(gguf_path: Path, ids: list[int], adapter: Path | None) -> np.ndarray:
    from llama_cpp import Llama

    kwargs = {"lora_path": str(adapter)} if adapter else {}
    llm = Llama(model_path=str(gguf_path), logits_all=True, verbose=False, n_ctx=256, n_threads=2, **kwargs)
    try:
        llm.eval(ids)
        return np.array(llm.scores[: len(ids)])
    finally:
        llm.close()


def _assert_served_like_peft(gguf_path: Path, adapter: Path, model: torch.nn.Module) -> None:
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    ids = tokenizer(corpus_text().splitlines()[0])["input_ids"]
    with torch.no_grad():
        expected = model(torch.tensor([ids])).logits[0].numpy()
        with model.disable_adapter():
            base = model(torch.tensor([ids])).logits[0].numpy()
    served = _llama_logits(gguf_path, ids, adapter)
    assert np.abs(expected - base).max() > 0.2  # the adapter changes the model measurably...
    assert np.abs(served - expected).max() < 0.02  # ...and llama.cpp applies exactly that change
    assert (served.argmax(-1) == expected.argmax(-1)).all()


def test_qwen2_adapter_runs_in_llama_cpp_as_in_peft(tiny_gguf: Path, tmp_path: Path) -> None:
    model = _peft_model(tiny_gguf)
    adapter = export_lora_adapter(model, tmp_path / "adapter.gguf", base_gguf=tiny_gguf)
    with open_gguf(adapter) as f:
        assert f.get("general.type") == "adapter"
        assert f.get("adapter.type") == "lora"
        assert f.get("adapter.lora.alpha") == 16.0
        assert f.architecture == "qwen2"
        assert {t.name for t in f.tensors} >= {"blk.0.attn_q.weight.lora_a", "blk.1.ffn_down.weight.lora_b"}
    _assert_served_like_peft(tiny_gguf, adapter, model)


def test_llama_adapter_permutes_q_and_k_like_the_base(tmp_path: Path) -> None:
    hf_dir = build_hf_model(tmp_path / "hf", TinyModelSpec(architecture="llama", fit_steps=0))
    base = export_gguf(hf_dir, tmp_path / "llama.gguf")
    model = _peft_model(base)
    adapter = export_lora_adapter(model, tmp_path / "adapter.gguf", base_gguf=base)
    _assert_served_like_peft(base, adapter, model)


def test_a_saved_adapter_directory_exports_the_same_file(tiny_gguf: Path, tmp_path: Path) -> None:
    model = _peft_model(tiny_gguf)
    model.save_pretrained(tmp_path / "saved")
    from_memory = export_lora_adapter(model, tmp_path / "a.gguf", base_gguf=tiny_gguf)
    from_disk = export_lora_adapter(tmp_path / "saved", tmp_path / "b.gguf", base_gguf=tiny_gguf)
    assert from_memory.read_bytes() == from_disk.read_bytes()


def test_the_adapted_model_generates_through_the_chat_runtime(tiny_gguf: Path, tmp_path: Path) -> None:
    adapter = export_lora_adapter(_peft_model(tiny_gguf, std=0.5), tmp_path / "adapter.gguf", base_gguf=tiny_gguf)
    messages = [{"role": "user", "content": "Where does Alex walk every morning?"}]
    settings = LlamaSettings(512, 2)
    plain = LocalLlama(tiny_gguf, CHATML_TEMPLATE, settings)
    adapted = LocalLlama(tiny_gguf, CHATML_TEMPLATE, settings, adapter=adapter)
    try:
        with_base = plain.generate(messages, max_tokens=12, temperature=0.0)
        with_adapter = adapted.generate(messages, max_tokens=12, temperature=0.0)
    finally:
        plain.close()
        adapted.close()
    assert with_adapter and with_adapter != with_base


def test_an_adapter_for_another_base_is_refused(tiny_gguf: Path, tmp_path: Path) -> None:
    other_dir = build_hf_model(tmp_path / "hf", TinyModelSpec(hidden_size=512, intermediate_size=1024, fit_steps=0))
    other = export_gguf(other_dir, tmp_path / "other.gguf")
    with pytest.raises(ExportError, match="another base model"):
        export_lora_adapter(_peft_model(tiny_gguf), tmp_path / "adapter.gguf", base_gguf=other)
    assert not (tmp_path / "adapter.gguf").exists()


def test_adapters_llama_cpp_cannot_apply_are_refused(tiny_gguf: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="DoRA"):
        export_lora_adapter(_peft_model(tiny_gguf, use_dora=True), tmp_path / "a.gguf", base_gguf=tiny_gguf)
    with pytest.raises(ExportError, match="not a saved LoRA adapter"):
        export_lora_adapter(tmp_path, tmp_path / "a.gguf", base_gguf=tiny_gguf)
