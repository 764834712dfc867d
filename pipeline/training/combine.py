"""Two LoRA adapters trained one after the other (SFT, then DPO over the merged SFT model) as one adapter.

W = W0 + s1·B1·A1 + s2·B2·A2 is exactly one LoRA of rank r1 + r2: A stacks A1 over A2, B sits B1·s1 beside
B2·s2, and the combined scale is 1 (alpha = rank). So the model served on the unchanged base is the very
model DPO finished with, in one file llama.cpp loads.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from secondme.pipeline.errors import TrainingError

_CONFIG = "adapter_config.json"
_WEIGHTS = "adapter_model.safetensors"


def _read(directory: Path) -> tuple[dict, dict[str, np.ndarray]]:
    from safetensors.numpy import load_file

    config = json.loads((directory / _CONFIG).read_text(encoding="utf-8"))
    return config, load_file(str(directory / _WEIGHTS))


def _scale(config: dict) -> float:
    if config.get("use_rslora") or config.get("use_dora"):
        raise TrainingError("only plain LoRA adapters can be combined")
    return float(config["lora_alpha"]) / float(config["r"])


def combine_adapters(first: Path, second: Path, out: Path) -> Path:
    """Writes to `out` (a PEFT adapter directory) the single LoRA equal to `first` then `second`."""
    from safetensors.numpy import save_file

    config1, weights1 = _read(first)
    config2, weights2 = _read(second)
    if set(weights1) != set(weights2):
        raise TrainingError("the two adapters adapt different layers; they cannot be combined")
    s1, s2 = _scale(config1), _scale(config2)
    combined: dict[str, np.ndarray] = {}
    for name in weights1:
        if ".lora_A." in name:
            combined[name] = np.concatenate([weights1[name], weights2[name]], axis=0)
        elif ".lora_B." in name:
            combined[name] = np.concatenate([weights1[name] * s1, weights2[name] * s2], axis=1)
        else:
            raise TrainingError(f"unexpected tensor {name!r} in an adapter")
    rank = int(config1["r"]) + int(config2["r"])
    config = {**config1, "r": rank, "lora_alpha": rank, "rank_pattern": {}, "alpha_pattern": {}}
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in combined.items()}, str(out / _WEIGHTS))
    (out / _CONFIG).write_text(json.dumps(config, indent=1), encoding="utf-8")
    return out
