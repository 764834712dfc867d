"""Reading and writing GGUF files safely: validated opening, metadata copy, and atomic writes.

Every write goes to a hidden temporary file beside the target and is renamed over it only once complete
and flushed to disk, so a job killed mid-export never leaves a half-written file under the final name
(and never clobbers the previous good file).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import gguf
import numpy as np

from secondme.pipeline.errors import ExportError
from secondme.pipeline.export.header import GGUFFile

# Keys that describe the file itself rather than the model; the writer sets its own.
_FILE_KEYS = (
    "GGUF.",
    "general.architecture",
    "general.alignment",
    "general.file_type",
    "general.quantization_version",
    "split.",
)


def open_gguf(path: Path) -> GGUFFile:
    """Opens and validates a GGUF file; every way it can be broken becomes one `ExportError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: no such GGUF file")
    return GGUFFile(path)


def copy_metadata(base: GGUFFile, writer: gguf.GGUFWriter) -> None:
    """Copies every model key (hyperparameters, tokenizer, chat template...) from a base file to a writer."""
    for key, entry in base.kv.items():
        if not key.startswith(_FILE_KEYS):
            writer.add_key_value(key, entry.value, entry.type, sub_type=entry.sub_type)


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yields a temporary path beside `target`; on success it replaces `target`, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(target)
    tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        yield tmp
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _remove_stale_partials(target: Path) -> None:
    """Deletes temporaries left by writers that were killed (their pid is gone), so disk space comes back."""
    for partial in target.parent.glob(f".{target.name}.partial-*"):
        pid = partial.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_gguf(writer: gguf.GGUFWriter, target: Path) -> Path:
    """Writes a fully populated writer to `target` atomically."""
    with atomic_output(target) as tmp:
        writer.write_header_to_file(path=tmp)
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    return Path(target)


def as_f16_or_f32(name: str, array: np.ndarray, dtype: str) -> np.ndarray:
    """llama.cpp's convention: 1-D tensors (norms, biases) stay F32, matrices take the requested float type."""
    array = np.ascontiguousarray(array)
    if array.ndim <= 1 or dtype == "f32":
        return array.astype(np.float32, copy=False)
    if dtype == "f16":
        return array.astype(np.float16, copy=False)
    raise ExportError(f"unsupported export dtype {dtype!r} for {name}; use 'f16' or 'f32'")
