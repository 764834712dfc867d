"""A fast, strict GGUF reader: metadata, tensor table and memory-mapped tensor data.

`gguf.GGUFReader` builds a numpy object for every string in the file; on a model with a 262k-token
vocabulary (Gemma 3) that alone takes ~10 s, longer than llama.cpp needs to quantize the whole model.
This reader walks the header with `struct` over a memory map (~0.1 s), checks every length and offset
against the file size so truncation and garbage are reported instead of read past, and maps tensor
data lazily.
"""

from __future__ import annotations

import contextlib
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf
import numpy as np

from secondme.pipeline.errors import ExportError

VT = gguf.GGUFValueType
_SCALARS: dict[VT, str] = {
    VT.UINT8: "<B",
    VT.INT8: "<b",
    VT.UINT16: "<H",
    VT.INT16: "<h",
    VT.UINT32: "<I",
    VT.INT32: "<i",
    VT.FLOAT32: "<f",
    VT.BOOL: "<?",
    VT.UINT64: "<Q",
    VT.INT64: "<q",
    VT.FLOAT64: "<d",
}
_MAX_DIMS = 4


class _Damaged(Exception):
    """Internal: the header does not parse; turned into ExportError with the file name."""


@dataclass(frozen=True)
class KeyValue:
    """One metadata entry; `sub_type` is set for arrays."""

    type: gguf.GGUFValueType
    value: Any
    sub_type: gguf.GGUFValueType | None = None


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of the file: `shape` in GGML order (fastest-varying dimension first)."""

    name: str
    tensor_type: gguf.GGMLQuantizationType
    shape: tuple[int, ...]
    offset: int  # absolute, in bytes from the start of the file
    nbytes: int


class _Cursor:
    def __init__(self, buf: mmap.mmap) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise _Damaged(f"header ends early at byte {self.pos}")
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        n = self.take("<Q")
        if self.pos + n > len(self.buf):
            raise _Damaged(f"string of {n} bytes at byte {self.pos} runs past the end of the file")
        raw = self.buf[self.pos : self.pos + n]
        self.pos += n
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Damaged(f"invalid UTF-8 in a string at byte {self.pos - n}") from exc

    def value(self, vtype: VT) -> Any:
        if vtype == VT.STRING:
            return self.string()
        if vtype in _SCALARS:
            return self.take(_SCALARS[vtype])
        raise _Damaged(f"unknown value type {int(vtype)} at byte {self.pos}")

    def array(self) -> tuple[VT, list[Any]]:
        sub = _value_type(self.take("<I"))
        n = self.take("<Q")
        if sub in _SCALARS:
            dtype = np.dtype(_SCALARS[sub])
            if self.pos + n * dtype.itemsize > len(self.buf):
                raise _Damaged(f"array of {n} values at byte {self.pos} runs past the end of the file")
            values = np.frombuffer(self.buf, dtype=dtype, count=n, offset=self.pos).tolist()
            self.pos += n * dtype.itemsize
            return sub, values
        if sub == VT.STRING:
            return sub, [self.string() for _ in range(n)]
        raise _Damaged(f"arrays of type {sub.name} are not supported")


def _value_type(raw: int) -> VT:
    try:
        return VT(raw)
    except ValueError:
        raise _Damaged(f"unknown value type {raw}") from None


class GGUFFile:
    """A parsed, validated GGUF file. Keep it open only while you need its tensor data."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with self.path.open("rb") as f:
            if f.read(4) != b"GGUF":
                raise ExportError(f"{self.path}: not a GGUF file (it does not start with the GGUF magic bytes)")
            f.seek(0)
            self._buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self.version, self.kv, self.tensors = self._parse(_Cursor(self._buf))
        except _Damaged as exc:
            self.close()
            raise ExportError(f"{self.path}: corrupt or truncated GGUF file ({exc})") from None
        self._check_tensor_data()

    def _parse(self, cur: _Cursor) -> tuple[int, dict[str, KeyValue], list[TensorEntry]]:
        cur.pos = 4
        version = cur.take("<I")
        if version not in (2, 3):
            raise _Damaged(f"unsupported GGUF version {version} (big-endian or damaged file?)")
        n_tensors, n_kv = cur.take("<Q"), cur.take("<Q")
        if n_tensors > len(self._buf) or n_kv > len(self._buf):
            raise _Damaged(f"implausible counts: {n_tensors} tensors, {n_kv} keys")
        kv: dict[str, KeyValue] = {}
        for _ in range(n_kv):
            key = cur.string()
            vtype = _value_type(cur.take("<I"))
            if vtype == VT.ARRAY:
                sub, values = cur.array()
                kv[key] = KeyValue(vtype, values, sub)
            else:
                kv[key] = KeyValue(vtype, cur.value(vtype))
        infos = []
        for _ in range(n_tensors):
            name = cur.string()
            n_dims = cur.take("<I")
            if not 1 <= n_dims <= _MAX_DIMS:
                raise _Damaged(f"tensor {name!r} has {n_dims} dimensions")
            shape = tuple(cur.take("<Q") for _ in range(n_dims))
            try:
                ttype = gguf.GGMLQuantizationType(cur.take("<I"))
            except ValueError:
                raise _Damaged(f"tensor {name!r} has an unknown type") from None
            infos.append((name, ttype, shape, cur.take("<Q")))
        align = int(kv["general.alignment"].value) if "general.alignment" in kv else gguf.GGUF_DEFAULT_ALIGNMENT
        data_start = -(-cur.pos // align) * align
        tensors = []
        for name, ttype, shape, rel in infos:
            block, type_size = gguf.GGML_QUANT_SIZES[ttype]
            if shape[0] % block:
                raise _Damaged(f"tensor {name!r} row of {shape[0]} is not a multiple of the {ttype.name} block")
            n = int(np.prod(shape, dtype=np.int64))
            tensors.append(TensorEntry(name, ttype, shape, data_start + rel, n // block * type_size))
        return version, kv, tensors

    def _check_tensor_data(self) -> None:
        size = len(self._buf)
        for t in self.tensors:
            if t.offset + t.nbytes > size:
                self.close()
                raise ExportError(
                    f"{self.path}: truncated GGUF file: tensor {t.name!r} needs bytes up to {t.offset + t.nbytes}, "
                    f"the file has {size}; copy or export it again"
                )

    @property
    def architecture(self) -> str:
        arch = self.get("general.architecture")
        if not isinstance(arch, str):
            raise ExportError(f"{self.path}: GGUF file has no general.architecture key; it is not a model file")
        return arch

    def get(self, key: str, default: Any = None) -> Any:
        """A metadata value as a Python object (lists for arrays), or `default` when absent."""
        entry = self.kv.get(key)
        return default if entry is None else entry.value

    def tensor_data(self, t: TensorEntry) -> np.ndarray:
        """The tensor's bytes, mapped (not copied): float arrays for F32/F16, bytes per row otherwise.

        The numpy shape is the GGML shape reversed, as `gguf.GGUFReader` gives it, so the arrays feed
        `gguf.dequantize` and `GGUFWriter.add_tensor(..., raw_dtype=...)` unchanged.
        """
        rows = tuple(reversed(t.shape))
        if t.tensor_type == gguf.GGMLQuantizationType.F32:
            return np.frombuffer(self._buf, np.float32, int(np.prod(rows)), t.offset).reshape(rows)
        if t.tensor_type == gguf.GGMLQuantizationType.F16:
            return np.frombuffer(self._buf, np.float16, int(np.prod(rows)), t.offset).reshape(rows)
        block, type_size = gguf.GGML_QUANT_SIZES[t.tensor_type]
        byte_rows = (*rows[:-1], rows[-1] // block * type_size)
        return np.frombuffer(self._buf, np.uint8, t.nbytes, t.offset).reshape(byte_rows)

    def dequantized(self, t: TensorEntry) -> np.ndarray:
        """The tensor as float32 values."""
        return gguf.dequantize(self.tensor_data(t), t.tensor_type)

    def close(self) -> None:
        """Unmaps the file; arrays from `tensor_data` must not be used afterwards."""
        with contextlib.suppress(BufferError):  # numpy views still alive: the map goes when they do
            self._buf.close()

    def __enter__(self) -> GGUFFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
