"""What this machine offers training, measured rather than assumed.

CUDA is used when torch sees a GPU (bf16 where the GPU computes in it, else fp16); otherwise the CPU
with the configured threads, in bf16 mixed precision where this CPU multiplies bf16 markedly faster
than fp32 (AMX: about 2x, measured) and in fp32 where it does not (without AMX bf16 is slower). The
throughput is a short fp32 matmul of the model's own width: a laptop and a server with the same core
count differ by several times, and the plan's time estimate must say so. Where bf16 is chosen it is
counted at the gain a whole training step gets from it, not at its matmul peak: AMX multiplies a
640-wide bf16 matmul at ~2,200 GFLOP/s on 2 cores, 20 times fp32, yet a Gemma 3 270M step ran only
~1.7 times faster, and a plan from the matmul peak promised 3 minutes for a 35-minute SFT.
"""

from __future__ import annotations

import os
import time
from typing import Any

import psutil

from secondme.pipeline.training.plan import DeviceFacts

_PROBE_SECONDS = 0.3
# bf16 is chosen on a CPU only when its matmuls are at least this much faster than fp32's: autocast
# converts the weights and the gradients' inputs, which costs part of the gain.
_CPU_BF16_GAIN = 1.4
_CPU_DTYPE_WIDTH = 1024
# What bf16 autocast gains a whole CPU training step over fp32 where it is chosen (measured on AMX with
# Gemma 3 270M: 5.3 s vs 8.3-11.2 s a step; the rest of a step is not matmuls).
CPU_BF16_STEP_GAIN = 1.7


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity), not the machine's total."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def probe_device(threads: int = 0, width: int = 1024, allow_cuda: bool = True) -> DeviceFacts:
    """The device training will use, with its free memory and a measured matmul throughput.

    `threads` = 0 uses every usable CPU; `width` is the model's hidden size (the probe's matrix side).
    """
    import torch

    threads = threads or usable_cpus()
    torch.set_num_threads(threads)
    host = psutil.virtual_memory().available
    if allow_cuda and torch.cuda.is_available():
        index = torch.cuda.current_device()
        free, _total = torch.cuda.mem_get_info(index)
        bf16 = torch.cuda.is_bf16_supported()
        dtype = torch.bfloat16 if bf16 else torch.float16
        return DeviceFacts(
            kind="cuda",
            name=torch.cuda.get_device_name(index),
            memory_bytes=int(free),
            host_memory_bytes=int(host),
            threads=threads,
            gflops=_matmul_gflops(width, dtype, "cuda"),
            bf16=bf16,
        )
    # Whether bf16 pays is the CPU's (AMX or not), decided at a width where it shows the same way every time:
    # a test model's few hundred columns measure either way by chance.
    side = max(width, _CPU_DTYPE_WIDTH)
    faster = torch.backends.mkldnn.is_available() and (
        _matmul_gflops(side, torch.bfloat16, "cpu") >= _CPU_BF16_GAIN * _matmul_gflops(side, torch.float32, "cpu")
    )
    return DeviceFacts(
        kind="cpu",
        name=f"{threads} CPU thread{'s' if threads != 1 else ''}",
        memory_bytes=int(host),
        host_memory_bytes=int(host),
        threads=threads,
        gflops=_matmul_gflops(width, torch.float32, "cpu") * (CPU_BF16_STEP_GAIN if faster else 1.0),
        bf16=faster,
    )


def _matmul_gflops(width: int, dtype: Any, device: str) -> float:
    """Sustained GFLOP/s of (512 x width) @ (width x width) products, the shape of a training step's projections."""
    import torch

    a = torch.randn(512, width, dtype=dtype, device=device)
    b = torch.randn(width, width, dtype=dtype, device=device)
    a @ b  # warm-up: the first call picks kernels
    runs, started = 0, time.perf_counter()
    while True:
        a @ b
        runs += 1
        if device == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - started
        if elapsed >= _PROBE_SECONDS:
            return 2.0 * 512 * width * width * runs / elapsed / 1e9
