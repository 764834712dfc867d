"""Bad input to export/quantize gets an `ExportError` that says what is wrong, and never a half-written file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import gguf
import numpy as np
import pytest

from secondme.pipeline.errors import ExportError, PipelineError
from secondme.pipeline.export import export_gguf, open_gguf, quantize
from secondme.pipeline.export.gguf_io import atomic_output


@pytest.fixture
def truncated_gguf(tiny_gguf: Path, tmp_path: Path) -> Path:
    path = tmp_path / "truncated.gguf"
    path.write_bytes(tiny_gguf.read_bytes()[: tiny_gguf.stat().st_size // 2])
    return path


@pytest.fixture
def gpt2_gguf(tmp_path: Path) -> Path:
    """A well-formed GGUF of an architecture we do not export (gpt2)."""
    path = tmp_path / "gpt2.gguf"
    writer = gguf.GGUFWriter(path, "gpt2")
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.zeros((8, 256), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_export_error_is_a_pipeline_error() -> None:
    assert issubclass(ExportError, PipelineError)


def test_truncated_gguf_is_refused_by_name(truncated_gguf: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"truncated\.gguf: (corrupt or )?truncated"):
        open_gguf(truncated_gguf)
    with pytest.raises(ExportError, match="truncated"):
        quantize(truncated_gguf, tmp_path / "q.gguf", "q8_0")
    assert not (tmp_path / "q.gguf").exists()


def test_truncated_base_gguf_is_refused(truncated_gguf: Path, tiny_hf_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="truncated"):
        export_gguf(tiny_hf_model_dir, tmp_path / "out.gguf", base_gguf=truncated_gguf)


def test_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.gguf"
    bogus.write_text("these are my notes, not a model")
    with pytest.raises(ExportError, match="not a GGUF file"):
        quantize(bogus, tmp_path / "q.gguf", "q4_k_m")


def test_garbage_after_the_magic_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "garbage.gguf"
    bogus.write_bytes(b"GGUF" + bytes(range(256)) * 4)
    with pytest.raises(ExportError, match=r"garbage\.gguf: corrupt"):
        open_gguf(bogus)


def test_unsupported_gguf_architecture_is_refused(gpt2_gguf: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="'gpt2' is not supported"):
        quantize(gpt2_gguf, tmp_path / "q.gguf", "q8_0")


def test_unsupported_hf_model_type_is_refused(tiny_hf_model_dir: Path, tmp_path: Path) -> None:
    hf_dir = shutil.copytree(tiny_hf_model_dir, tmp_path / "hf")
    config = json.loads((hf_dir / "config.json").read_text())
    config["model_type"] = "gpt2"
    (hf_dir / "config.json").write_text(json.dumps(config))
    with pytest.raises(ExportError, match="'gpt2' is not supported"):
        export_gguf(hf_dir, tmp_path / "out.gguf")
    config["model_type"] = "gemma3_text"
    (hf_dir / "config.json").write_text(json.dumps(config))
    with pytest.raises(ExportError, match="base_gguf="):
        export_gguf(hf_dir, tmp_path / "out.gguf")


def test_directory_without_weights_is_refused(tiny_hf_model_dir: Path, tmp_path: Path) -> None:
    hf_dir = shutil.copytree(tiny_hf_model_dir, tmp_path / "hf")
    (hf_dir / "model.safetensors").unlink()
    with pytest.raises(ExportError, match=r"no \*\.safetensors"):
        export_gguf(hf_dir, tmp_path / "out.gguf")
    with pytest.raises(ExportError, match="not a HF model directory"):
        export_gguf(tmp_path, tmp_path / "out.gguf")


def test_unknown_quantization_and_in_place_quantization_are_refused(tiny_gguf: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="choose one of q8_0, q4_k_m"):
        quantize(tiny_gguf, tmp_path / "q.gguf", "q3_weird")
    copy = shutil.copy(tiny_gguf, tmp_path / "m.gguf")
    with pytest.raises(ExportError, match="onto itself"):
        quantize(copy, copy, "q8_0")


def test_failed_write_leaves_previous_file_and_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "model.gguf"
    target.write_bytes(b"previous good model")
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_bytes(b"half a mod")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"previous good model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.gguf"]


def test_successful_export_replaces_the_target_atomically(tiny_hf_model_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "model.gguf"
    target.write_bytes(b"old")
    export_gguf(tiny_hf_model_dir, target)
    assert open_gguf(target).get("general.architecture") == "qwen2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.gguf"]


def test_partial_left_by_a_killed_writer_is_cleaned_up(tiny_hf_model_dir: Path, tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".model.gguf.partial-{dead.pid}"
    stale.write_bytes(b"half a model from a killed job")
    export_gguf(tiny_hf_model_dir, tmp_path / "model.gguf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.gguf"]


def test_unmerged_lora_weights_are_refused_with_a_hint(tiny_hf_model_dir: Path, tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_hf_model_dir)
    peft_model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj"]))
    with pytest.raises(ExportError, match=r"merge_and_unload"):
        export_gguf(peft_model, tmp_path / "out.gguf", tokenizer_dir=tiny_hf_model_dir)
    merged = peft_model.merge_and_unload()
    export_gguf(merged, tmp_path / "out.gguf", tokenizer_dir=tiny_hf_model_dir)
    assert open_gguf(tmp_path / "out.gguf").architecture == "qwen2"
