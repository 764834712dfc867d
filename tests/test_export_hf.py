"""Path (b): a HF directory -> F16 GGUF that llama.cpp loads, tokenizes like HF, and generates from."""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import pytest
from llama_cpp import Llama
from transformers import AutoTokenizer

from secondme.pipeline.export import open_gguf
from secondme.pipeline.tiny_model import CHATML_TEMPLATE

SAMPLES = [
    "Hello world",
    "Alex lives by the sea. In 2024 they moved!",
    "I'm   not sure\n\nit'll work: ÜBER café 🙂 \t tabs",
    "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n",
    "def add(a, b):\n    return a + b\n",
]


@pytest.fixture(scope="module")
def tiny_llama(tiny_gguf: Path) -> Llama:
    return Llama(str(tiny_gguf), n_ctx=256, n_threads=2, verbose=False, seed=1)


def test_tiny_model_has_k_quant_friendly_shapes(tiny_hf_model_dir: Path) -> None:
    config = json.loads((tiny_hf_model_dir / "config.json").read_text())
    assert config["model_type"] == "qwen2"
    assert config["hidden_size"] % 256 == 0
    assert config["intermediate_size"] % 256 == 0


def test_exported_gguf_carries_tokenizer_and_chatml_template(tiny_gguf: Path, tiny_hf_model_dir: Path) -> None:
    reader = open_gguf(tiny_gguf)
    tok = AutoTokenizer.from_pretrained(tiny_hf_model_dir)
    assert reader.get("general.architecture") == "qwen2"
    assert reader.get("tokenizer.ggml.model") == "gpt2"
    assert reader.get("tokenizer.ggml.pre") == "qwen2"
    assert reader.get("tokenizer.chat_template") == CHATML_TEMPLATE
    assert reader.get("tokenizer.ggml.eos_token_id") == tok.convert_tokens_to_ids("<|im_end|>")
    assert len(reader.get("tokenizer.ggml.tokens")) == len(tok)
    types = reader.get("tokenizer.ggml.token_type")
    assert types[tok.convert_tokens_to_ids("<|im_start|>")] == gguf.TokenType.CONTROL
    # Matrices are F16, norms and biases F32, like llama.cpp's own converter.
    by_name = {t.name: t.tensor_type for t in reader.tensors}
    assert by_name["blk.0.attn_q.weight"] == gguf.GGMLQuantizationType.F16
    assert by_name["blk.0.attn_norm.weight"] == gguf.GGMLQuantizationType.F32
    assert "output.weight" not in by_name  # tied embeddings: llama.cpp reuses token_embd


@pytest.mark.parametrize("text", SAMPLES)
def test_llama_cpp_tokenizes_exactly_like_hf(tiny_llama: Llama, tiny_hf_model_dir: Path, text: str) -> None:
    tok = AutoTokenizer.from_pretrained(tiny_hf_model_dir)
    assert tiny_llama.tokenize(text.encode(), add_bos=True, special=True) == tok(text)["input_ids"]


def test_llama_cpp_renders_chatml_and_generates(tiny_llama: Llama) -> None:
    out = tiny_llama.create_chat_completion(
        messages=[{"role": "user", "content": "Where does Alex live?"}], max_tokens=8, temperature=0
    )
    assert out["choices"][0]["message"]["content"]
    text = tiny_llama.create_completion("Alex lives by", max_tokens=6, temperature=0)["choices"][0]["text"]
    assert len(tiny_llama.tokenize(text.encode(), add_bos=False)) >= 1
