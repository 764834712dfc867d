"""Split a document into overlapping windows of tokens.

Tokens here are words and punctuation marks, which track subword-tokenizer counts closely
enough to size chunks for an embedding model, and keep character offsets so every chunk
points back to the exact span of its source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    token_count: int
    start_char: int
    end_char: int


def chunk_text(text: str, chunk_tokens: int, overlap: int) -> list[Chunk]:
    if chunk_tokens <= 0 or not 0 <= overlap < chunk_tokens:
        raise ValueError("need chunk_tokens > 0 and 0 <= overlap < chunk_tokens")
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if not spans:
        return []
    chunks: list[Chunk] = []
    step = chunk_tokens - overlap
    start = 0
    while True:
        window = spans[start : start + chunk_tokens]
        begin, end = window[0][0], window[-1][1]
        chunks.append(Chunk(len(chunks), text[begin:end], len(window), begin, end))
        if start + chunk_tokens >= len(spans):
            return chunks
        start += step
