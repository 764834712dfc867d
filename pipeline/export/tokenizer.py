"""Writes a HF byte-level BPE tokenizer into GGUF metadata so llama.cpp tokenizes exactly like HF.

llama.cpp re-implements the tokenizer from the GGUF keys: the vocabulary in id order, the merges, the
token types (control tokens are only matched as whole strings when parsing specials), the special ids,
and the *pre-tokenizer* name, which selects the regex that splits text before BPE. We identify the
pre-tokenizer by its regex rather than by name, since that is what decides the split; an unknown regex
is refused, because a wrong one silently produces different token ids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gguf

from secondme.pipeline.errors import ExportError

# Pre-tokenizer regexes, as they appear in tokenizer.json, mapped to llama.cpp's `tokenizer.ggml.pre` names.
_QWEN2_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_LLAMA3_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_PRE_BY_REGEX = {_QWEN2_REGEX: "qwen2", _LLAMA3_REGEX: "llama-bpe"}


def _pre_tokenizer_name(tok_json: dict[str, Any]) -> str:
    pre = tok_json.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", [pre]) if pre.get("type") == "Sequence" else [pre]
    for step in steps:
        if step.get("type") == "Split":
            regex = (step.get("pattern") or {}).get("Regex")
            if regex in _PRE_BY_REGEX:
                return _PRE_BY_REGEX[regex]
            raise ExportError(f"tokenizer pre-tokenizer regex {regex!r} is not one llama.cpp is known to share")
        if step.get("type") == "ByteLevel" and step.get("use_regex", True):
            return "gpt-2"
    raise ExportError("tokenizer.json has no byte-level pre-tokenizer; only byte-level BPE tokenizers are supported")


def _merges(model: dict[str, Any]) -> list[str]:
    merges = model.get("merges") or []
    return [m if isinstance(m, str) else " ".join(m) for m in merges]


def write_tokenizer(writer: gguf.GGUFWriter, tokenizer_dir: Path, n_vocab: int) -> None:
    """Adds the `tokenizer.*` keys for the tokenizer in `tokenizer_dir`, padded to `n_vocab` entries."""
    from transformers import AutoTokenizer

    tok_path = Path(tokenizer_dir) / "tokenizer.json"
    if not tok_path.is_file():
        raise ExportError(f"{tokenizer_dir}: no tokenizer.json; only fast (tokenizers) BPE tokenizers are supported")
    try:
        tok_json = json.loads(tok_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"{tok_path}: unreadable tokenizer ({exc})") from exc
    model = tok_json.get("model") or {}
    if model.get("type") != "BPE" or model.get("byte_fallback"):
        raise ExportError(f"{tok_path}: only byte-level BPE tokenizers are supported, found {model.get('type')!r}")

    tokens: dict[int, str] = {int(i): t for t, i in model["vocab"].items()}
    types: dict[int, gguf.TokenType] = dict.fromkeys(tokens, gguf.TokenType.NORMAL)
    for added in tok_json.get("added_tokens") or []:
        tokens[int(added["id"])] = added["content"]
        types[int(added["id"])] = gguf.TokenType.CONTROL if added.get("special") else gguf.TokenType.USER_DEFINED
    if max(tokens) >= n_vocab:
        raise ExportError(f"tokenizer has token id {max(tokens)} but the model's vocabulary has only {n_vocab} rows")

    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(_pre_tokenizer_name(tok_json))
    writer.add_token_list([tokens.get(i, f"[PAD{i}]") for i in range(n_vocab)])
    writer.add_token_types([types.get(i, gguf.TokenType.UNUSED) for i in range(n_vocab)])
    writer.add_token_merges(_merges(model))

    hf = AutoTokenizer.from_pretrained(tokenizer_dir)
    if hf.bos_token_id is not None:
        writer.add_bos_token_id(hf.bos_token_id)
    if hf.eos_token_id is not None:
        writer.add_eos_token_id(hf.eos_token_id)
    if hf.pad_token_id is not None:
        writer.add_pad_token_id(hf.pad_token_id)
    probe = hf("a")["input_ids"]
    writer.add_add_bos_token(bool(probe) and hf.bos_token_id is not None and probe[0] == hf.bos_token_id)
    writer.add_add_eos_token(bool(probe) and hf.eos_token_id is not None and probe[-1] == hf.eos_token_id)
    template = hf.chat_template
    if isinstance(template, str) and template:
        writer.add_chat_template(template)
