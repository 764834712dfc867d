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
from typing import Any

import gguf
import numpy as np

from secondme.pipeline.errors import ExportError

GGUF_MAGIC = b"GGUF"

# Keys that describe the file itself rather than the model; the writer sets its own.
_FILE_KEYS = ("GGUF.", "general.architecture", "general.file_type", "general.quantization_version", "split.")


def open_gguf(path: Path) -> gguf.GGUFReader:
    """Opens a GGUF file, turning every way it can be broken into one `ExportError` that names the file."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: no such GGUF file")
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise ExportError(f"{path}: not a GGUF file (it does not start with the GGUF magic bytes)")
    try:
        reader = gguf.GGUFReader(path)
    except Exception as exc:  # the reader raises ValueError, IndexError, struct errors... on damage
        raise ExportError(f"{path}: corrupt or truncated GGUF file ({type(exc).__name__}: {exc})") from exc
    _check_tensor_data_fits(path, reader)
    return reader


def _check_tensor_data_fits(path: Path, reader: gguf.GGUFReader) -> None:
    """A truncated file can still parse its header; make sure every tensor's bytes are really there."""
    size = path.stat().st_size
    for t in reader.tensors:
        if t.data_offset + t.n_bytes > size:
            raise ExportError(
                f"{path}: truncated GGUF file: tensor {t.name!r} needs bytes up to {t.data_offset + t.n_bytes}, "
                f"the file has {size}; copy or export it again"
            )


def architecture(reader: gguf.GGUFReader) -> str:
    """The `general.architecture` of a GGUF file, e.g. "gemma3"."""
    field = reader.get_field("general.architecture")
    if field is None:
        raise ExportError("GGUF file has no general.architecture key; it is not a model file")
    return str(field.contents())


def field_value(reader: gguf.GGUFReader, key: str) -> Any:
    """A metadata value as a Python object, or None when the key is absent."""
    field = reader.get_field(key)
    return None if field is None else field.contents()


def copy_metadata(reader: gguf.GGUFReader, writer: gguf.GGUFWriter) -> None:
    """Copies every model key (hyperparameters, tokenizer, chat template...) from a base file to a writer."""
    for key, field in reader.fields.items():
        if key.startswith(_FILE_KEYS):
            continue
        vtype = field.types[0]
        value = field.contents()
        if vtype == gguf.GGUFValueType.ARRAY:
            sub_type = field.types[-1]
            if sub_type == gguf.GGUFValueType.ARRAY:
                raise ExportError(f"GGUF key {key!r} holds nested arrays, which cannot be copied")
            writer.add_key_value(key, value, vtype, sub_type=sub_type)
        else:
            writer.add_key_value(key, value, vtype)


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yields a temporary path beside `target`; on success it replaces `target`, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        yield tmp
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


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
