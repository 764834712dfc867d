"""What the self says when it must not let a model speak for the owner: it abstains, or it quotes.

A question about the owner ("where do you live?") whose best retrieved memory is not relevant
enough gets `ABSTENTION` instead of the model's imagination. With a model that failed the
capability check, the reply is made of the owner's own sentences that best match the question (or,
asked what the owner has been up to, the most representative sentence of each of their newest notes),
each marked as quoted with its date ("On 2024-03-02 I wrote: “…”"; a saved web page is someone
else's words: "On 2024-03-02 I saved a page that says: “…”"). Asked its name, such a self says
the name the owner gave ("I'm Alex Morgan."). All are the owner's words or an honest "nothing", so
chat, training and the eval share them from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

import numpy as np

from secondme.pipeline.grounding.select import centrality, mmr
from secondme.pipeline.grounding.sentences import (
    SAVED_SOURCES,
    Sentence,
    is_instruction,
    owner_sentences,
    standalone,
)

ABSTENTION = "I have nothing on that in my memories."
QUOTED_SENTENCES = 2
# Below this similarity to the question a sentence is not quoted as an answer to it.
QUOTE_FLOOR = 0.2
_ABOUT_OWNER = re.compile(r"\b(you|your|yours|yourself|u|ur)\b", re.I)
# "What have you been up to?": a question about the owner's recent doings, which their newest notes
# answer whatever they are about (no memory is similar to the question itself).
_DOINGS = re.compile(
    r"\b(up to|been doing|been busy|been working on|keeping busy|what'?s new|what is new|new with you"
    r"|how have you been|what'?s going on)\b",
    re.I,
)
# "What's your name?": the one thing the self knows of its owner that is no memory, the name they gave.
_NAME = re.compile(
    r"\b(what'?s|what is|tell me) your (full |first )?name\b|\bwho are you\b|\bwhat (do|should|can) (i|we|people) "
    r"call you\b|\bwhat are you called\b",
    re.I,
)
# Newest notes a reply about the owner's doings quotes from.
RECENT_QUOTED = 3


class QuotableMemory(Protocol):
    @property
    def memory_id(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def text(self) -> str: ...

    @property
    def source_type(self) -> str: ...


def about_owner(question: str) -> bool:
    """The message asks the self about its owner (it says "you" or "your")."""
    return _ABOUT_OWNER.search(question) is not None


def asks_about_doings(question: str) -> bool:
    """The message asks what the owner has been up to lately."""
    return _DOINGS.search(question) is not None


def asks_name(question: str) -> bool:
    """The message asks the self's (the owner's) name."""
    return _NAME.search(question) is not None


def name_reply(owner_name: str) -> str:
    """The owner's name as they gave it, said in the first person."""
    return f"I'm {owner_name}."


def should_abstain(question: str, best_similarity: float, min_relevance: float) -> bool:
    """A question about the owner that no retrieved memory is relevant enough to answer (one about their
    recent doings is answered by their newest notes, whatever those are about)."""
    return about_owner(question) and not asks_about_doings(question) and best_similarity < min_relevance


def closest_sentence(
    question: str, memories: Sequence[QuotableMemory], embed: Callable[[Sequence[str]], np.ndarray]
) -> float:
    """How similar the owner's one sentence closest to the question is to it (cosine; 0 when none).

    A chunk's embedding blends everything the chunk says, so a note about a move, a job and a flat
    answers "Which city do you live in now?" weakly as a whole; a question and a sentence compare like
    with like. On the invented persona's 50 answerable questions, the best chunk fell below
    `chat.min_relevance` for 20, and chunk and sentence both for 7, while 9 of the 10 questions its
    notes do not answer stayed below it either way.
    """
    _, _, relevance = _owner_sentences_against(question, memories, embed)
    return float(np.max(relevance)) if len(relevance) else 0.0


def _owner_sentences_against(
    question: str, memories: Sequence[QuotableMemory], embed: Callable[[Sequence[str]], np.ndarray]
) -> tuple[list[tuple[QuotableMemory, Sentence]], np.ndarray, np.ndarray]:
    """(the owner's sentences in `memories` with their memory, their vectors, each one's cosine to the question)."""
    pool = [(m, s) for m in memories for s in owner_sentences(m.memory_id, m.text)]
    if not pool:
        return [], np.empty((0, 0)), np.empty(0)
    vectors = np.asarray(embed([question, *(s.text for _, s in pool)]), dtype=np.float64)
    return pool, vectors[1:], vectors[1:] @ vectors[0]


def _quote_line(memory: QuotableMemory, sentence: str) -> str:
    said = "saved a page that says" if memory.source_type in SAVED_SOURCES else "wrote"
    return f"On {memory.created_at:%Y-%m-%d} I {said}: “{sentence}”"


def quoted_reply(
    question: str, memories: Sequence[QuotableMemory], embed: Callable[[Sequence[str]], np.ndarray]
) -> tuple[str, list[str]]:
    """(reply, memory ids quoted): the owner's sentences that best answer the question, marked as quoted.

    Returns the abstention and no ids when no sentence is close enough to the question.
    """
    pool, vectors, relevance = _owner_sentences_against(question, memories, embed)
    if not pool:
        return ABSTENTION, []
    chosen = mmr(vectors, relevance, QUOTED_SENTENCES, floor=QUOTE_FLOOR)
    if not chosen:
        return ABSTENTION, []
    lines = []
    ids: list[str] = []
    for index in sorted(chosen, key=lambda i: pool[i][0].created_at):
        memory, sentence = pool[index]
        lines.append(_quote_line(memory, sentence.text))
        if memory.memory_id not in ids:
            ids.append(memory.memory_id)
    return "\n".join(lines), ids


def recent_reply(
    memories: Sequence[QuotableMemory], embed: Callable[[Sequence[str]], np.ndarray], count: int = RECENT_QUOTED
) -> tuple[str, list[str]]:
    """(reply, memory ids quoted): the most representative first-person sentence of each of the `count`
    newest of the owner's own notes (saved pages are someone else's words; a note of to-dos has no
    sentence of what they did), oldest first.

    Returns the abstention and no ids when none of them holds a sentence of the owner's.
    """
    chosen: list[tuple[QuotableMemory, str]] = []
    for memory in sorted(memories, key=lambda m: m.created_at, reverse=True):
        if memory.source_type in SAVED_SOURCES:
            continue
        sentences = owner_sentences(memory.memory_id, memory.text)
        sentences = [s for s in sentences if s.first_person] or sentences
        # What they did, not what they mean to do: a note of to-dos or resolutions says nothing of it.
        sentences = [s for s in sentences if standalone(s.text) and not is_instruction(s.text)]
        if not sentences:
            continue
        vectors = np.asarray(embed([s.text for s in sentences]), dtype=np.float64)
        chosen.append((memory, sentences[int(np.argmax(centrality(vectors)))].text))
        if len(chosen) >= count:
            break
    if not chosen:
        return ABSTENTION, []
    chosen.sort(key=lambda pair: pair[0].created_at)
    return "\n".join(_quote_line(m, s) for m, s in chosen), [m.memory_id for m, _ in chosen]
