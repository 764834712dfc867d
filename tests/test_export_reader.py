"""Our fast GGUF reader must see exactly what the reference `gguf.GGUFReader` sees."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

from secondme.pipeline.export import open_gguf


def test_fast_reader_agrees_with_gguf_reader_on_metadata_and_tensors(tiny_gguf_q4km: Path) -> None:
    reference = gguf.GGUFReader(tiny_gguf_q4km)
    with open_gguf(tiny_gguf_q4km) as ours:
        expected_kv = {k: f.contents() for k, f in reference.fields.items() if not k.startswith("GGUF.")}
        assert {k: ours.get(k) for k in ours.kv} == expected_kv
        assert [t.name for t in ours.tensors] == [t.name for t in reference.tensors]
        for mine, theirs in zip(ours.tensors, reference.tensors, strict=True):
            assert mine.tensor_type == theirs.tensor_type
            assert mine.shape == tuple(int(d) for d in theirs.shape)
            np.testing.assert_array_equal(ours.tensor_data(mine), theirs.data, err_msg=mine.name)
