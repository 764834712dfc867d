"""Third-party libraries speak through the process's logging, never straight to the terminal.

transformers draws progress bars ('Loading weights: 100%|…') and prints its advice with a
handler of its own; llama.cpp writes its native log lines ('llama_kv_cache_iswa: using
full-size SWA cache …') to stderr from C. Both end up on the terminal the daemon was started
from, among its own lines. Each function here is called where the library is first used (it
is idempotent and cheap); the daemon's logging (`daemon/logs.py`) keeps third-party records at
debug level.
"""

from __future__ import annotations

import logging
from typing import Any

# llama.cpp's native lines, logged at debug level (`secondmed --log-level debug` shows them).
NATIVE_LOG = logging.getLogger("llama_cpp")

_llama_callback: Any = None


def transformers_through_logging() -> None:
    """No progress bars from transformers (nor huggingface_hub under it); its records propagate to
    the process's handlers instead of its own stderr handler."""
    import transformers

    library = transformers.utils.logging
    library.disable_progress_bar()
    library.disable_default_handler()
    library.enable_propagation()


def llama_cpp_through_logging() -> None:
    """llama.cpp's native log lines go to the `llama_cpp` logger at debug level.

    llama-cpp-python installs a callback that prints to stderr whatever its table of levels takes
    for an error; the table predates ggml's current numbering, so warnings print too.
    """
    global _llama_callback
    if _llama_callback is not None:
        return
    import ctypes

    import llama_cpp

    @llama_cpp.llama_log_callback
    def forward(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        if NATIVE_LOG.isEnabledFor(logging.DEBUG):
            line = text.decode("utf-8", errors="replace").rstrip()
            if line:
                NATIVE_LOG.debug("%s", line)

    llama_cpp.llama_log_set(forward, ctypes.c_void_p(0))
    _llama_callback = forward  # ctypes calls it for as long as the process lives: keep it alive
