"""What a GGUF file is, read from its header before anything is loaded."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import psutil

from secondme.daemon.models.errors import InvalidModelFile
from secondme.pipeline.export import ExportError, open_gguf

# Architectures this build of llama.cpp runs and that secondme has chat templates for.
SUPPORTED_ARCHITECTURES = frozenset({"llama", "qwen2", "qwen3", "gemma", "gemma2", "gemma3", "phi3", "mistral"})
# llama.cpp's general.file_type values (LLAMA_FTYPE_*), for display.
_FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
               11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
               17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}  # fmt: skip
# A loaded model needs its weights plus KV cache and compute buffers; this margin covers both.
LOAD_OVERHEAD = 1.25


@dataclass(frozen=True)
class ModelInfo:
    architecture: str
    parameter_count: int
    context_length: int
    quantization: str
    chat_template: str
    size_bytes: int


def read_model_info(path: Path) -> ModelInfo:
    """Parse and check the header; raises InvalidModelFile with a reason a person can act on."""
    try:
        with open_gguf(path) as gguf_file:
            arch = gguf_file.architecture
            params = sum(math.prod(t.shape) for t in gguf_file.tensors)
            context = int(gguf_file.get(f"{arch}.context_length", 0) or 0)
            file_type = gguf_file.get("general.file_type")
            template = gguf_file.get("tokenizer.chat_template", "") or ""
    except ExportError as exc:
        raise InvalidModelFile(str(exc)) from None
    if arch not in SUPPORTED_ARCHITECTURES:
        raise InvalidModelFile(
            f"{path.name}: architecture {arch!r} is not supported "
            f"(supported: {', '.join(sorted(SUPPORTED_ARCHITECTURES))})"
        )
    quant = _FILE_TYPES.get(file_type, f"type {file_type}") if file_type is not None else "unknown"
    return ModelInfo(arch, params, context, quant, str(template), path.stat().st_size)


def check_fits_in_memory(info: ModelInfo, name: str) -> None:
    available = psutil.virtual_memory().available
    needed = int(info.size_bytes * LOAD_OVERHEAD)
    if needed > available:
        raise InvalidModelFile(
            f"{name} needs about {needed / 2**30:.1f} GiB to load but only {available / 2**30:.1f} GiB is free; "
            "choose a smaller quantization (e.g. Q4_K_M)"
        )
