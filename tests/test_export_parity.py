"""Parity: for the same token ids, llama.cpp on our exported GGUF computes what transformers computes."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest
import torch
from llama_cpp import Llama
from transformers import AutoModelForCausalLM, AutoTokenizer

from secondme.pipeline.export import export_gguf, open_gguf
from secondme.pipeline.tiny_model import TinyModelSpec, build_hf_model

TEXT = "Alex lives by the sea and walks to the harbour. On Tuesdays Alex climbs at the gym with Priya, 42!"
F16_TOLERANCE = 0.02  # absolute, on logits whose std is ~2; F16 weights are exact, activations round in ggml
Q8_TOLERANCE = 0.5


def _token_ids(hf_dir: Path) -> list[int]:
    return AutoTokenizer.from_pretrained(hf_dir)(TEXT)["input_ids"]


def transformers_logits(hf_dir: Path, ids: list[int]) -> np.ndarray:
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy()


def llama_cpp_logits(gguf_path: Path, ids: list[int]) -> np.ndarray:
    llm = Llama(str(gguf_path), n_ctx=256, n_threads=2, logits_all=True, verbose=False)
    try:
        llm.eval(ids)
        return np.array(llm.scores[: len(ids)])
    finally:
        llm.close()


@pytest.fixture(scope="module")
def qwen2_reference(tiny_hf_model_dir: Path) -> tuple[list[int], np.ndarray]:
    ids = _token_ids(tiny_hf_model_dir)
    return ids, transformers_logits(tiny_hf_model_dir, ids)


@pytest.fixture(scope="module")
def tiny_llama_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny *llama* model (HF dir, F16 GGUF): llama is the architecture whose Q/K rows must be permuted."""
    root = tmp_path_factory.mktemp("tiny-llama")
    hf_dir = build_hf_model(root / "hf", TinyModelSpec(architecture="llama", fit_steps=40))
    return hf_dir, export_gguf(hf_dir, root / "llama-f16.gguf")


def test_f16_logits_match_transformers_at_every_position(
    tiny_gguf: Path, qwen2_reference: tuple[list[int], np.ndarray]
) -> None:
    ids, ref = qwen2_reference
    got = llama_cpp_logits(tiny_gguf, ids)
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() < F16_TOLERANCE
    assert (got.argmax(axis=1) == ref.argmax(axis=1)).all()


def test_q8_logits_stay_close_to_transformers(
    tiny_gguf_q8: Path, qwen2_reference: tuple[list[int], np.ndarray]
) -> None:
    ids, ref = qwen2_reference
    got = llama_cpp_logits(tiny_gguf_q8, ids)
    assert np.abs(got - ref).max() < Q8_TOLERANCE
    assert (got.argmax(axis=1) == ref.argmax(axis=1)).mean() >= 0.9


def test_llama_export_permutes_qk_so_logits_match(tiny_llama_dirs: tuple[Path, Path]) -> None:
    hf_dir, gguf_path = tiny_llama_dirs
    ids = _token_ids(hf_dir)
    ref = transformers_logits(hf_dir, ids)
    got = llama_cpp_logits(gguf_path, ids)
    assert np.abs(got - ref).max() < F16_TOLERANCE
    assert (got.argmax(axis=1) == ref.argmax(axis=1)).all()


def test_quantized_files_use_the_requested_types_and_generate(tiny_gguf_q8: Path, tiny_gguf_q4km: Path) -> None:
    q8_types = {t.tensor_type for t in open_gguf(tiny_gguf_q8).tensors}
    q4_types = {t.tensor_type for t in open_gguf(tiny_gguf_q4km).tensors}
    assert gguf.GGMLQuantizationType.Q8_0 in q8_types
    assert gguf.GGMLQuantizationType.Q4_K in q4_types  # k-quants really applied, not a fallback type
    assert open_gguf(tiny_gguf_q4km).get("general.file_type") == gguf.LlamaFileType.MOSTLY_Q4_K_M
    for path in (tiny_gguf_q8, tiny_gguf_q4km):
        llm = Llama(str(path), n_ctx=128, n_threads=2, verbose=False)
        try:
            out = llm.create_completion("Alex lives by", max_tokens=5, temperature=0)
            assert out["usage"]["completion_tokens"] >= 1
            assert out["choices"][0]["text"]
        finally:
            llm.close()
