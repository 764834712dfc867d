"""Keywords without a language model: for short notes, and to name shades while no model is active.

The words that stand for a document or a group of documents are the frequent ones that other
documents do not share (TF-IDF); English stop words and bare numbers never count.
"""

from __future__ import annotations

import functools
import re
from collections import Counter

_WORD = re.compile(r"[^\W\d_][\w'-]*[^\W_]|[^\W\d_]", re.UNICODE)
MIN_WORD_CHARS = 3


@functools.cache
def stop_words() -> frozenset[str]:
    # scikit-learn is imported when first needed: it costs seconds, and this module is imported
    # by the daemon's API (through the identity store) that never computes a keyword.
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def _words(text: str) -> list[str]:
    stop = stop_words()
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if len(w) >= MIN_WORD_CHARS and w not in stop]


def document_keywords(text: str, top: int = 6) -> list[str]:
    """The most frequent content words of one text, most frequent first (ties by first use)."""
    counts = Counter(_words(text))
    order = {w: i for i, w in reversed(list(enumerate(_words(text))))}
    ranked = sorted(counts, key=lambda w: (-counts[w], order[w]))
    return ranked[:top]


def group_keywords(groups: list[str], top: int = 5) -> list[list[str]]:
    """For each group's concatenated text, the words that most set it apart from the other groups."""
    if not groups:
        return []
    if not any(_words(g) for g in groups):
        return [[] for _ in groups]
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=_words, sublinear_tf=True)
    matrix = vectorizer.fit_transform(groups)
    vocabulary = vectorizer.get_feature_names_out()
    found = []
    for row in range(matrix.shape[0]):
        values = matrix.getrow(row)
        ranked = sorted(zip(values.data, values.indices, strict=True), key=lambda item: (-item[0], vocabulary[item[1]]))
        found.append([str(vocabulary[index]) for _, index in ranked[:top]])
    return found
