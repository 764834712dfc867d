"""Split a document into overlapping windows of tokens.

Tokens here are words and punctuation marks, which track subword-tokenizer counts closely
enough to size chunks for an embedding model, and keep character offsets so every chunk
points back to the exact span of its source.
"""

from __future__ import annotations

import re
from collections import deque
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
    """Windows of `chunk_tokens` tokens, each starting `chunk_tokens - overlap` tokens after the last;
    the last window ends with the text. Only one window's token offsets are held at a time (a 45 MB
    text has some 7 million tokens: as a list of offsets they took 900 MB)."""
    if chunk_tokens <= 0 or not 0 <= overlap < chunk_tokens:
        raise ValueError("need chunk_tokens > 0 and 0 <= overlap < chunk_tokens")
    chunks: list[Chunk] = []
    step = chunk_tokens - overlap
    window: deque[tuple[int, int]] = deque()

    def emit(count: int) -> None:
        begin, end = window[0][0], window[count - 1][1]
        chunks.append(Chunk(len(chunks), text[begin:end], count, begin, end))

    for match in _TOKEN.finditer(text):
        if len(window) == chunk_tokens:  # a token after a full window: the window is not the last
            emit(chunk_tokens)
            for _ in range(step):
                window.popleft()
        window.append(match.span())
    if window:
        emit(len(window))
    return chunks
