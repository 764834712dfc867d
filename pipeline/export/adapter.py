"""A PEFT LoRA adapter -> a GGUF adapter file that llama.cpp applies on top of the unchanged base GGUF.

Serving an adapter instead of a merged model keeps the owner's base file untouched (a trained version
costs megabytes, and rolling back is switching the adapter off) and lets the adapter, trained on the
base's own dequantized weights, run on that very quantized base.

The layout is the one llama.cpp's `convert_lora_to_gguf.py` writes and `llama_adapter_lora_init` reads:
`general.type = "adapter"`, `adapter.type = "lora"`, `adapter.lora.alpha`, `general.architecture` equal
to the base's, and per adapted weight two tensors named after the base tensor, `<name>.lora_a` with
numpy shape (rank, in) and `<name>.lora_b` with shape (out, rank); llama.cpp scales the product by
alpha / rank exactly as PEFT does. Architecture fix-ups of the rows (llama's Q/K permutation) apply to
`lora_b`, whose rows are the weight's output rows; `lora_a` mixes input columns, which no fix-up touches.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gguf
import numpy as np

from secondme.pipeline.errors import ExportError
from secondme.pipeline.export import archs, gguf_io

_LORA_A = ".lora_A.weight"
_LORA_B = ".lora_B.weight"
_PREFIX = "base_model.model."


def export_lora_adapter(source: Path | Any, out_path: Path, *, base_gguf: Path) -> Path:
    """Writes the LoRA adapter `source` (a PEFT model in memory or a saved adapter directory) as GGUF.

    `base_gguf` is the file the adapter will be applied to: its architecture and tensor shapes are
    checked here, so a mismatch is an `ExportError` now rather than a load failure at serving time.
    Written atomically; returns `out_path`.
    """
    config, state = _adapter_parts(source)
    alpha = _alpha(config)
    with gguf_io.open_gguf(Path(base_gguf)) as base:
        arch = base.architecture
        spec = archs.spec_for_gguf_arch(arch)
        try:
            n_layers = int(base.get(f"{arch}.block_count"))
            n_head = int(base.get(f"{arch}.attention.head_count"))
            n_head_kv = int(base.get(f"{arch}.attention.head_count_kv", n_head))
        except (TypeError, ValueError):
            raise ExportError(f"{base_gguf}: base GGUF lacks {arch}.block_count or attention head counts") from None
        shapes = {t.name: tuple(int(d) for d in t.shape) for t in base.tensors}

    writer = gguf.GGUFWriter(None, arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    name_map = gguf.get_tensor_name_map(spec.gguf_arch, n_layers)
    for hf_name, (a, b) in sorted(_pairs(state).items()):
        gguf_name = name_map.get_name(hf_name, try_suffixes=(".weight",))
        if gguf_name is None:
            raise ExportError(f"adapted weight {hf_name!r} has no GGUF name for architecture {arch!r}")
        ggml_shape = shapes.get(gguf_name)  # (in, out): fastest-varying dimension first
        if ggml_shape is None:
            raise ExportError(f"the adapter adapts {gguf_name!r}, which the base GGUF {base_gguf} does not have")
        if a.shape[1] != ggml_shape[0] or b.shape[0] != ggml_shape[1] or a.shape[0] != b.shape[1]:
            raise ExportError(
                f"adapter for {gguf_name!r} has A {a.shape} and B {b.shape}, which do not fit the base tensor "
                f"of {ggml_shape[1]} x {ggml_shape[0]}; was it trained on another base model?"
            )
        b = spec.fixup(gguf_name, b, n_head, n_head_kv)
        writer.add_tensor(f"{gguf_name}.lora_a", np.ascontiguousarray(a, dtype=np.float32))
        writer.add_tensor(f"{gguf_name}.lora_b", np.ascontiguousarray(b, dtype=np.float32))
    return gguf_io.write_gguf(writer, Path(out_path))


def _adapter_parts(source: Path | Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(LoRA config as a dict, adapter weights by PEFT name) from a model object or a directory."""
    if hasattr(source, "peft_config"):
        from peft import get_peft_model_state_dict

        adapter_name = getattr(source, "active_adapter", "default")
        config = source.peft_config[adapter_name].to_dict()
        state = {
            k: v.detach().to("cpu").float().numpy()
            for k, v in get_peft_model_state_dict(source, adapter_name=adapter_name).items()
        }
        return config, state
    directory = Path(source)
    config_path, weights_path = directory / "adapter_config.json", directory / "adapter_model.safetensors"
    if not config_path.is_file() or not weights_path.is_file():
        raise ExportError(f"{directory}: not a saved LoRA adapter (adapter_config.json and .safetensors)")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ExportError(f"{config_path}: invalid JSON ({exc})") from exc
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(weights_path), framework="pt") as f:
            state = {name: f.get_tensor(name).float().numpy() for name in f.keys()}  # noqa: SIM118
    except SafetensorError as exc:
        raise ExportError(f"{weights_path}: corrupt safetensors file ({exc})") from exc
    return config, state


def _alpha(config: dict[str, Any]) -> float:
    """The alpha llama.cpp must scale by; refuses PEFT variants whose scaling llama.cpp does not apply."""
    peft_type = config.get("peft_type", "LORA")
    if str(getattr(peft_type, "value", peft_type)).upper() != "LORA":
        raise ExportError(f"only LoRA adapters can be exported, not {config.get('peft_type')!r}")
    for flag, why in (("use_dora", "DoRA"), ("use_rslora", "rank-stabilised LoRA")):
        if config.get(flag):
            raise ExportError(f"{why} adapters are not supported by llama.cpp's LoRA loader; train a plain LoRA")
    if config.get("modules_to_save"):
        raise ExportError("the adapter trains whole modules (modules_to_save), which a GGUF LoRA cannot hold")
    try:
        return float(config["lora_alpha"])
    except (KeyError, TypeError, ValueError):
        raise ExportError("the adapter config has no numeric lora_alpha") from None


def _pairs(state: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Adapter tensors grouped by the HF name of the weight they adapt: {name: (A, B)}."""
    parts: dict[str, dict[str, np.ndarray]] = {}
    for name, array in state.items():
        if name.endswith(_LORA_A):
            key, half = name[: -len(_LORA_A)], "a"
        elif name.endswith(_LORA_B):
            key, half = name[: -len(_LORA_B)], "b"
        else:
            raise ExportError(f"unexpected tensor {name!r} in the adapter: only lora_A / lora_B weights are exported")
        parts.setdefault(key.removeprefix(_PREFIX) + ".weight", {})[half] = array
    if not parts:
        raise ExportError("the adapter holds no LoRA weights")
    pairs = {}
    for name, halves in parts.items():
        if set(halves) != {"a", "b"}:
            raise ExportError(f"the adapter has only one half of the LoRA pair for {name!r}")
        pairs[name] = (halves["a"], halves["b"])
    return pairs
