"""Merged weights -> F16 GGUF, either (a) over a base GGUF's metadata or (b) from a HF directory.

(a) is the training path: the base model came as GGUF, transformers dequantized it for fine-tuning, and
the merged weights go back under the base's own metadata (tokenizer, chat template, hyperparameters),
so nothing the base knew is lost or re-derived. (b) is for HF checkpoints (and the tiny test model):
hyperparameters and tokenizer are written from `config.json` and `tokenizer.json`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gguf
import numpy as np

from secondme.pipeline.errors import ExportError
from secondme.pipeline.export import archs, gguf_io, tokenizer, weights

_FILE_TYPES = {"f16": gguf.LlamaFileType.MOSTLY_F16, "f32": gguf.LlamaFileType.ALL_F32}


def export_gguf(
    source: Path | Any,
    out_path: Path,
    *,
    base_gguf: Path | None = None,
    dtype: str = "f16",
    tokenizer_dir: Path | None = None,
) -> Path:
    """Writes `source` (a HF directory or an in-memory model) to `out_path` as GGUF, atomically.

    With `base_gguf`, metadata and any tensor the source lacks come from that file (path a); otherwise
    the source must be a llama or qwen2 HF model with a byte-level BPE tokenizer (path b), read from
    `tokenizer_dir` or the source directory. Returns `out_path`. Raises `ExportError` on any bad input.
    """
    if dtype not in _FILE_TYPES:
        raise ExportError(f"unsupported export dtype {dtype!r}; use one of {', '.join(_FILE_TYPES)}")
    if not weights.is_model_object(source) and not Path(source).is_dir():
        raise ExportError(f"{source}: not a directory or model object to export")
    if base_gguf is not None:
        writer = _writer_over_base(source, Path(base_gguf), dtype)
    else:
        writer = _writer_from_hf(source, dtype, tokenizer_dir)
    return gguf_io.write_gguf(writer, Path(out_path))


def _mapped_tensors(source: Path | Any, spec: archs.ArchSpec, n_layers: int, n_head: int, n_head_kv: int, dtype: str):
    """Yields (GGUF name, array) for each source weight, renamed, fixed-up and cast."""
    name_map = gguf.get_tensor_name_map(spec.gguf_arch, n_layers)
    for hf_name, array in weights.iter_weights(source):
        gguf_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise ExportError(f"tensor {hf_name!r} has no GGUF name for architecture {spec.name!r}")
        array = spec.fixup(gguf_name, array, n_head, n_head_kv)
        yield gguf_name, gguf_io.as_f16_or_f32(gguf_name, array, dtype)


def _writer_from_hf(source: Path | Any, dtype: str, tokenizer_dir: Path | None) -> gguf.GGUFWriter:
    config = weights.load_config(source)
    spec = archs.spec_for_hf_config(config, from_hf_dir=True)
    if tokenizer_dir is None:
        if weights.is_model_object(source):
            raise ExportError("exporting a model object without base_gguf needs tokenizer_dir=")
        tokenizer_dir = Path(source)
    n_layers = int(config.get("num_hidden_layers", 0))
    n_vocab = int(config.get("vocab_size", 0))
    tied = bool(config.get("tie_word_embeddings", False))

    writer = gguf.GGUFWriter(None, spec.name)
    writer.add_file_type(_FILE_TYPES[dtype])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    n_head, n_head_kv = archs.write_hparams(writer, config, n_vocab)
    tokenizer.write_tokenizer(writer, Path(tokenizer_dir), n_vocab)
    for name, array in _mapped_tensors(source, spec, n_layers, n_head, n_head_kv, dtype):
        if tied and name == "output.weight":
            continue  # llama.cpp reuses token_embd when output is absent
        writer.add_tensor(name, array)
    return writer


def _writer_over_base(source: Path | Any, base: Path, dtype: str) -> gguf.GGUFWriter:
    reader = gguf_io.open_gguf(base)
    arch = reader.architecture
    spec = archs.spec_for_gguf_arch(arch)
    config = weights.load_config(source)
    if archs.spec_for_hf_config(config, from_hf_dir=False).name != arch:
        raise ExportError(f"model_type {config.get('model_type')!r} does not match the base GGUF's {arch!r}")
    try:
        n_layers = int(reader.get(f"{arch}.block_count"))
        n_head = int(reader.get(f"{arch}.attention.head_count"))
        n_head_kv = int(reader.get(f"{arch}.attention.head_count_kv", n_head))
    except (TypeError, ValueError):
        raise ExportError(f"{base}: base GGUF lacks {arch}.block_count or attention head counts") from None

    base_tensors = {t.name: t for t in reader.tensors}
    merged: dict[str, np.ndarray] = {}
    for name, array in _mapped_tensors(source, spec, n_layers, n_head, n_head_kv, dtype):
        if name not in base_tensors:
            if name == "output.weight":
                continue  # tied lm_head: the base shares token_embd
            raise ExportError(f"tensor {name!r} is not in the base GGUF {base}; is this the right base model?")
        expected = tuple(int(d) for d in reversed(base_tensors[name].shape))
        if tuple(array.shape) != expected:
            raise ExportError(f"tensor {name!r} has shape {tuple(array.shape)}, the base GGUF has {expected}")
        merged[name] = array

    writer = gguf.GGUFWriter(None, arch)
    gguf_io.copy_metadata(reader, writer)
    writer.add_file_type(_FILE_TYPES[dtype])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for t in reader.tensors:  # keep the base's order; copy what the source does not carry (e.g. rope_freqs)
        if t.name in merged:
            writer.add_tensor(t.name, merged.pop(t.name))
            continue
        data = np.array(reader.tensor_data(t))  # a copy: the base's map is closed before writing
        if t.tensor_type in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            writer.add_tensor(t.name, data)
        else:
            writer.add_tensor(t.name, data, raw_shape=data.shape, raw_dtype=t.tensor_type)
    reader.close()
    return writer
