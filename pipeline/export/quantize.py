"""F16/F32 GGUF -> Q8_0 or Q4_K_M through llama.cpp's own quantizer (`llama_model_quantize`).

We call llama.cpp rather than re-implementing quantization so the result is exactly what llama.cpp's
tools would produce, including its per-tensor choices (e.g. Q4_K_M keeps some tensors at Q6_K).
The input is validated first, so bad files fail with our message instead of llama.cpp's log noise.
"""

from __future__ import annotations

from pathlib import Path

from secondme.pipeline.errors import ExportError
from secondme.pipeline.export import archs, gguf_io

QUANT_KINDS: dict[str, int] = {"q8_0": 7, "q4_k_m": 15}  # llama_ftype values: LLAMA_FTYPE_MOSTLY_*


def quantize(src: Path, dst: Path, kind: str, *, threads: int = 0) -> Path:
    """Quantizes `src` to `dst` (written atomically) and returns `dst`.

    `kind` is "q8_0" or "q4_k_m" (case-insensitive); `threads=0` lets llama.cpp use every core.
    """
    ftype = QUANT_KINDS.get(kind.lower())
    if ftype is None:
        raise ExportError(f"unknown quantization {kind!r}; choose one of {', '.join(QUANT_KINDS)}")
    src, dst = Path(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise ExportError(f"{dst}: quantizing a file onto itself would destroy the source")
    with gguf_io.open_gguf(src) as reader:
        archs.spec_for_gguf_arch(reader.architecture)

    import llama_cpp
    from llama_cpp._utils import suppress_stdout_stderr

    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = threads
    with gguf_io.atomic_output(dst) as tmp:
        with suppress_stdout_stderr(disable=False):  # llama.cpp prints a line per tensor
            rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), params)
        if rc != 0 or not tmp.is_file():
            raise ExportError(f"llama.cpp could not quantize {src} to {kind} (return code {rc})")
    return dst
