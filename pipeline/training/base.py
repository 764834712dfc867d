"""The model training starts from: the active GGUF, dequantized by transformers, or a HF directory.

Training on the dequantized weights of the very file chat serves means the adapter learns against the
weights it will be applied to (quantization error included), and the base file never changes. The
tokenizer carries the chat template serving renders with (for a base model without one, the template
the registry supplies), so trl renders every example exactly as chat renders a prompt.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secondme.pipeline.errors import TrainingRefused
from secondme.pipeline.library_logs import transformers_through_logging
from secondme.pipeline.training.plan import ModelFacts

_TORCH_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


@dataclass(frozen=True)
class BaseSource:
    """A base model on disk: a `.gguf` file or a HF directory (config.json and safetensors)."""

    path: Path
    chat_template: str

    @property
    def is_gguf(self) -> bool:
        return self.path.is_file()

    def _location(self) -> dict[str, Any]:
        if self.is_gguf:
            return {"pretrained_model_name_or_path": str(self.path.parent), "gguf_file": self.path.name}
        return {"pretrained_model_name_or_path": str(self.path)}

    def facts(self) -> ModelFacts:
        if self.is_gguf:
            return ModelFacts.from_gguf(self.path)
        config = self.path / "config.json"
        if not config.is_file():
            raise TrainingRefused(f"{self.path}: neither a GGUF file nor a HF model directory (no config.json)")
        return ModelFacts.from_hf_config(json.loads(config.read_text(encoding="utf-8")))


def quiet_libraries() -> None:
    """Progress bars and advice from transformers and datasets would fill the daemon's log."""
    import datasets
    import transformers

    transformers_through_logging()
    transformers.utils.logging.set_verbosity_error()
    datasets.utils.logging.disable_progress_bar()
    datasets.utils.logging.set_verbosity_error()
    logging.getLogger("peft").setLevel(logging.ERROR)


def load_tokenizer(base: BaseSource) -> Any:
    """The base's tokenizer with serving's chat template and a padding token."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(**base._location())
    except (OSError, ValueError, KeyError) as exc:
        raise TrainingRefused(f"transformers cannot read the tokenizer of {base.path.name}: {exc}") from None
    if base.chat_template:
        tokenizer.chat_template = base.chat_template
    if not tokenizer.chat_template:
        raise TrainingRefused(f"{base.path.name} has no chat template, and training needs the one chat uses")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(base: BaseSource, dtype: str, device: str) -> Any:
    """The base as a torch model in `dtype` ("fp32", "bf16", "fp16") on `device` ("cpu", "cuda")."""
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": getattr(torch, _TORCH_DTYPES[dtype])}
    if base.is_gguf:
        from transformers import GgufConfig

        # Every weight unpacked into a dense tensor: LoRA trains against plain float weights.
        kwargs["quantization_config"] = GgufConfig(dequantize=True)
    try:
        model = AutoModelForCausalLM.from_pretrained(**base._location(), **kwargs)
    except (OSError, ValueError, KeyError, RuntimeError, NotImplementedError) as exc:
        raise TrainingRefused(
            f"transformers cannot load {base.path.name} for training ({exc}); its GGUF loader reads llama, "
            "qwen2, qwen3 and gemma3 files among others"
        ) from None
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        # transformers marks a model read from GGUF as quantized even when every weight was unpacked, and its
        # Trainer then refuses it; the weights are dense floats, so the mark is dropped.
        quantizer.remove_quantization_config(model)
    model.config.use_cache = False
    return model.to(device)
