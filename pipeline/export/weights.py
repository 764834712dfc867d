"""Where merged weights come from: a HF directory of safetensors, or a model object in memory.

Weights are streamed one tensor at a time as float32 numpy arrays, so exporting a directory never needs
the whole model instantiated (or held twice) in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from secondme.pipeline.errors import ExportError

# Buffers some checkpoints carry that are not weights llama.cpp wants.
_SKIP_SUFFIXES = ("rotary_emb.inv_freq",)


def is_model_object(source: object) -> bool:
    """True for an in-memory torch module (e.g. a merged PEFT model) rather than a path."""
    return hasattr(source, "state_dict") and hasattr(source, "config")


def load_config(source: Path | Any) -> dict[str, Any]:
    """The HF config as a dict, from `config.json` or a model object; text configs are unwrapped."""
    if is_model_object(source):
        config = source.config.to_dict()
    else:
        path = Path(source) / "config.json"
        if not path.is_file():
            raise ExportError(f"{source}: not a HF model directory (no config.json)")
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ExportError(f"{path}: invalid JSON ({exc})") from exc
    return config.get("text_config") or config


def iter_weights(source: Path | Any) -> Iterator[tuple[str, np.ndarray]]:
    """Yields (HF tensor name, float32 array) for every weight of the model."""
    if is_model_object(source):
        if hasattr(source, "peft_config"):
            raise ExportError("the model still has unmerged LoRA adapters; call merge_and_unload() before exporting")
        for name, tensor in source.state_dict().items():
            if not name.endswith(_SKIP_SUFFIXES):
                yield name, tensor.detach().to("cpu").float().numpy()
        return
    files = sorted(Path(source).glob("*.safetensors"))
    if not files:
        raise ExportError(f"{source}: no *.safetensors weights; save the model with safe_serialization=True")
    from safetensors import SafetensorError, safe_open

    for file in files:
        try:
            with safe_open(str(file), framework="pt") as f:
                for name in f.keys():  # noqa: SIM118 - safe_open is not a mapping
                    if not name.endswith(_SKIP_SUFFIXES):
                        yield name, f.get_tensor(name).float().numpy()
        except SafetensorError as exc:
            raise ExportError(f"{file}: corrupt safetensors file ({exc})") from exc
