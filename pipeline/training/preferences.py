"""DPO pairs: the grounded answer over the base model's own answer, where the base got it wrong.

The base model answers each candidate prompt (the very prompt of a grounded or no-answer example).
Its answer becomes the rejected one when it ignores or contradicts the quoted memory (it shares too
little with the owner's own answer), when it answers although the quoted memories hold nothing on
the question, or when it repeats a private memory. Where the base already answers well there is
nothing to prefer, and no pair is made: DPO then spends its steps on the base's real mistakes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from secondme.pipeline.errors import PipelineError
from secondme.pipeline.evaluation import abstains
from secondme.pipeline.llm import Message
from secondme.pipeline.training.dataset import NO_ANSWER, Example

# Below this share of the owner's answer's content words, an answer ignores the memory it was given.
MIN_OVERLAP = 0.3
# A run of this many words of a private memory in an answer discloses it.
PRIVATE_RUN_WORDS = 6
_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")
_FUNCTION_WORDS = {
    "the", "a", "an", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "is", "was", "are", "were",
    "i", "my", "me", "it", "that", "this", "we", "our", "be", "been", "had", "have", "has", "as", "by", "from",
}  # fmt: skip

IGNORES_MEMORY = "ignores the quoted memory"
ANSWERS_UNKNOWN = "answers although its memories hold nothing on that"
DISCLOSES_PRIVATE = "repeats a private memory"
EMPTY = "says nothing"


@dataclass(frozen=True)
class PreferencePair:
    id: str
    reason: str
    prompt: list[Message]
    chosen: str
    rejected: str
    memory_ids: list[str]
    example_id: str

    def dpo_row(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "chosen": [{"role": "assistant", "content": self.chosen}],
            "rejected": [{"role": "assistant", "content": self.rejected}],
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _content(text: str) -> set[str]:
    return {w for w in _words(re.sub(r"\[\d+\]", " ", text)) if w not in _FUNCTION_WORDS and len(w) > 2}


def _runs(text: str, n: int) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def rejection_reason(example: Example, answer: str, private_texts: Sequence[str] = ()) -> str | None:
    """Why the base model's `answer` to `example` is worse than the grounded one, or None if it is not."""
    if not answer.strip():
        return EMPTY
    answer_runs = _runs(answer, PRIVATE_RUN_WORDS)
    if any(answer_runs & _runs(text, PRIVATE_RUN_WORDS) for text in private_texts):
        return DISCLOSES_PRIVATE
    if example.kind == NO_ANSWER:
        return None if abstains(answer) else ANSWERS_UNKNOWN
    wanted = _content(example.completion)
    if not wanted:
        return None
    shared = len(wanted & _content(answer)) / len(wanted)
    return IGNORES_MEMORY if shared < MIN_OVERLAP or abstains(answer) else None


def preference_pairs(
    candidates: Sequence[Example],
    answer: Callable[[list[Message], int], str],
    private_texts: Sequence[str] = (),
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> list[PreferencePair]:
    """Asks the base model (`answer(prompt, seed)`) every candidate and keeps the pairs it got wrong.

    A generation that fails (a `PipelineError`) costs its pair, never the others.
    """
    pairs = []
    for index, example in enumerate(candidates):
        try:
            text = answer(example.prompt, index)
        except PipelineError:
            text = ""
        reason = rejection_reason(example, text, private_texts)
        if reason is not None and text.strip() != example.completion.strip():
            digest = hashlib.sha256(f"{example.id}\0{text}".encode()).hexdigest()[:16]
            pairs.append(
                PreferencePair(digest, reason, example.prompt, example.completion, text, example.memory_ids, example.id)
            )
        progress(index + 1, len(candidates))
    return pairs
