"""Training examples from the owner's memories, in the very prompt chat builds (RAFT-style).

Each example is a chat turn as `chat_prompt.chat_messages` writes it at serving time (the system
prompt, memories quoted in the user turn, the message) and the answer the self should give:

* **grounded**: a question about one memory (templates over its title, date, people, places and
  organisations, spread over the entity graph), that memory's passage quoted among distractors (the
  memories nearest to it that do not mention what is asked), and an answer made of the owner's own
  sentences citing `[n]`. A question can be clumsy; the answer is never invented: it is their words.
* **no_answer**: the same kind of question with only distractors quoted, answered with
  `ABSTENTION`, so the self learns to say so instead of making something up.
* **voice**: "tell me about X in your own words", answered with the owner's own passage: how they write.
* **self**: "who are you / what have you been up to", answered from the grounded biography's
  sentences, citing the memories they rest on.

Preference candidates (for DPO) are grounded and no-answer prompts whose chosen answer is the
grounded one; the rejected answer is the base model's own (`preferences.preference_pairs`).
Held-out memories produce only evaluation questions, in the eval format, so the eval asks what the
model never trained on. Everything is deterministic for a given material (seeded by content).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from secondme.pipeline.chat_prompt import QUOTE_CHARS, chat_messages
from secondme.pipeline.errors import TrainingRefused
from secondme.pipeline.grounded_reply import ABSTENTION
from secondme.pipeline.grounding.sentences import owner_sentences
from secondme.pipeline.llm import Message
from secondme.pipeline.training.entities import ORGANISATION, OTHER, PERSON, PLACE, EntityGraph
from secondme.pipeline.training.material import Material, Memory, Passage, held_out

GROUNDED, NO_ANSWER, VOICE, SELF = "grounded", "no_answer", "voice", "self"
# Words of the owner's text an answer may hold (a short answer is what chat should give).
ANSWER_WORDS = 70
VOICE_WORDS = 110

_ENTITY_QUESTIONS = {
    PERSON: ("Who is {name}?", "What do you know about {name}?", "Tell me about {name}."),
    PLACE: ("What's your connection to {name}?", "What happened in {name}?", "Tell me about {name}."),
    ORGANISATION: ("What do you have to do with {name}?", "Tell me about {name}.", "What is {name}?"),
    OTHER: ("What can you tell me about {name}?", "What do you know about {name}?"),
}
_RELATION_QUESTIONS = ("How are {a} and {b} connected?", "What do {a} and {b} have to do with each other?")
_TITLE_QUESTIONS = ("What did you write about {title}?", "Tell me about {title}.")
_DATE_QUESTIONS = ("What were you up to in {month}?", "What happened in {month}?")
_VOICE_PROMPT = "Tell me about {title}, in your own words."
_SELF_QUESTIONS = (
    ("global", "Who are you?"),
    ("global", "Tell me about yourself."),
    ("status", "What have you been up to lately?"),
)
# Topics asked about in held-out "unknown" questions; only those the owner's memories never mention are used.
_UNKNOWN_TOPICS = (
    "your trip to Reykjavik", "your violin lessons", "your time in Buenos Aires", "the cat you had as a child",
    "your scuba diving course", "your favourite opera", "your brother's wedding in Lisbon", "your chess club",
    "the Tokyo office", "your motorbike", "learning Mandarin", "your allotment in Cardiff",
)  # fmt: skip


@dataclass(frozen=True)
class DatasetSettings:
    held_out_fraction: float = 0.2
    distractors: int = 3
    questions_per_memory: int = 3
    # Share of grounded questions also asked with only distractors quoted (RAFT's "no golden document").
    no_answer_share: float = 0.3
    min_memories: int = 8
    max_preference_prompts: int = 32


@dataclass(frozen=True)
class Example:
    """One SFT example: a chat prompt and the answer, with the memories it rests on."""

    id: str
    kind: str
    template: str
    question: str
    prompt: list[Message]
    completion: str
    memory_ids: list[str]  # the memories the answer rests on (empty for no-answer)
    quoted_ids: list[str]  # every memory quoted in the prompt, in order
    quoted_chunk_ids: list[int]  # the passage (chunk) of each, as retrieval would quote it

    def sft_row(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "completion": [{"role": "assistant", "content": self.completion}]}


@dataclass(frozen=True)
class HeldOutQuestion:
    """An evaluation question in the eval format (`evaluation.questions`), from a held-out memory."""

    id: str
    question: str
    kind: str
    answer: str
    must_mention: list[str]
    evidence: list[str]


@dataclass
class Dataset:
    examples: list[Example]
    preference_candidates: list[Example]
    held_out: list[HeldOutQuestion]
    train_memory_ids: list[str]
    held_out_memory_ids: list[str]
    entity_graph: dict[str, Any]
    newest_ingested_at: str  # of the memories trained on (the model's trained_through)
    dropped_duplicates: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A content hash: the same material and settings always give the same version."""
        digest = hashlib.sha256()
        for item in (*self.examples, *self.preference_candidates, *self.held_out):
            digest.update(json.dumps(asdict(item), sort_keys=True).encode())
        return digest.hexdigest()[:16]


def clean_sentences(text: str) -> list[str]:
    """The passage's sentences that stand alone as the owner's statements (as grounded identity picks them)."""
    return [s.text for s in owner_sentences("", text)]


def _limit_words(parts: list[str], words: int) -> str:
    out: list[str] = []
    count = 0
    for part in parts:
        n = len(part.split())
        if out and count + n > words:
            break
        out.append(part)
        count += n
    text = " ".join(out)
    if count > words:  # one long sentence: cut it at a word
        text = " ".join(text.split()[:words]) + " ..."
    return text


def _quotable(passage: Passage) -> Passage:
    """The passage as chat quotes it: at most QUOTE_CHARS characters."""
    if len(passage.text) <= QUOTE_CHARS:
        return passage
    return Passage(passage.memory_id, passage.chunk_id, passage.created_at, passage.title, passage.source_type,
                   passage.text[:QUOTE_CHARS])  # fmt: skip


class _Builder:
    def __init__(
        self, material: Material, settings: DatasetSettings, model_questions: Mapping[str, Sequence[str]]
    ) -> None:
        self.material = material
        self.settings = settings
        self.model_questions = model_questions
        seed = hashlib.sha256("".join(sorted(m.id for m in material.memories)).encode()).digest()
        self.random = random.Random(int.from_bytes(seed[:8], "big"))
        usable = [m for m in material.memories if m.id not in material.private_memory_ids and m.passages]
        self.train = [m for m in usable if not held_out(m.id, settings.held_out_fraction)]
        self.held = [m for m in usable if held_out(m.id, settings.held_out_fraction)]
        self.by_id = {m.id: m for m in usable}
        self.graph = EntityGraph(usable)
        self.asked: Counter[str] = Counter()
        self._vectors = self._matrix(self.train)

    @staticmethod
    def _matrix(memories: list[Memory]) -> np.ndarray | None:
        if not memories or any(m.vector is None for m in memories):
            return None
        return np.stack([np.asarray(m.vector, dtype=np.float32) for m in memories])

    def _distractors(self, target: Memory, avoid: list[str], count: int) -> list[Memory]:
        """The memories nearest to `target` that mention none of `avoid` (so they cannot answer)."""
        candidates = [m for m in self.train if m.id != target.id]
        if self._vectors is not None and target.vector is not None:
            scores = self._vectors @ np.asarray(target.vector, dtype=np.float32)
            order = {m.id: -float(scores[i]) for i, m in enumerate(self.train)}
            candidates.sort(key=lambda m: order[m.id])
        else:
            self.random.shuffle(candidates)
        lowered = [a.lower() for a in avoid if a]
        chosen = [m for m in candidates if not any(a in m.text.lower() for a in lowered)]
        return chosen[:count]

    def _example(
        self, kind: str, template: str, question: str, quoted: list[Passage], answer: str, sources: list[str]
    ) -> Example:
        prompt = chat_messages(self.material.system_prompt, [], [_quotable(p) for p in quoted], question)
        key = json.dumps([kind, question, [p.chunk_id for p in quoted], answer])
        return Example(
            id=hashlib.sha256(key.encode()).hexdigest()[:16],
            kind=kind,
            template=template,
            question=question,
            prompt=prompt,
            completion=answer,
            memory_ids=sources,
            quoted_ids=[p.memory_id for p in quoted],
            quoted_chunk_ids=[p.chunk_id for p in quoted],
        )

    def _with_gold(self, gold: Passage, distractors: list[Memory]) -> tuple[list[Passage], int]:
        """The gold passage at a random place among the distractors' first passages; returns its number [n]."""
        quoted = [m.passages[0] for m in distractors]
        position = self.random.randint(0, len(quoted))
        quoted.insert(position, gold)
        return quoted, position + 1

    def _questions(self, memory: Memory) -> list[tuple[str, str, str, list[str], Passage]]:
        """(template, question, answer text, terms the answer names, passage) for one memory."""
        found: list[tuple[str, str, str, list[str], Passage]] = []
        entities = self.graph.entities_of(memory.id)
        # Least-asked names first, spreading questions over the owner's people and places.
        entities.sort(key=lambda n: (self.asked[n], -self.graph.graph.degree(n), n))
        for name in entities:
            for passage in memory.passages:
                said = [s for s in clean_sentences(passage.text) if name in s]
                if said:
                    kind = self.graph.kind(name)
                    question = self.random.choice(_ENTITY_QUESTIONS[kind]).format(name=name)
                    found.append((f"entity:{kind}", question, _limit_words(said, ANSWER_WORDS), [name], passage))
                    break
        for a, b in self.graph.relations_of(memory.id):
            for passage in memory.passages:
                said = [s for s in clean_sentences(passage.text) if a in s or b in s]
                if any(a in s for s in said) and any(b in s for s in said):
                    question = self.random.choice(_RELATION_QUESTIONS).format(a=a, b=b)
                    found.append(("relation", question, _limit_words(said, ANSWER_WORDS), [a, b], passage))
                    break
        for question in self.model_questions.get(memory.id, ()):
            found.extend(self._model_question(memory, question))
        first = memory.passages[0]
        opening = clean_sentences(first.text)
        if opening and memory.title:
            question = self.random.choice(_TITLE_QUESTIONS).format(title=memory.title.strip().rstrip("."))
            found.append(("title", question, _limit_words(opening, ANSWER_WORDS), [], first))
        if opening:
            month = f"{memory.created_at:%B %Y}"
            question = self.random.choice(_DATE_QUESTIONS).format(month=month)
            found.append(("date", question, _limit_words(opening, ANSWER_WORDS), [month], first))
        # The model's questions, then entity and relation ones (in graph order), then title/date, to the budget.
        named = [q for q in found if q[0] == "model"] + [q for q in found if q[0].startswith(("entity", "relation"))]
        plain = [q for q in found if not q[0].startswith(("entity", "relation", "model"))]
        self.random.shuffle(plain)
        chosen = (named[: max(1, self.settings.questions_per_memory - 1)] + plain)[: self.settings.questions_per_memory]
        for _template, _question, _answer, terms, _passage in chosen:
            for term in terms:
                self.asked[term] += 1
        return chosen

    def _model_question(self, memory: Memory, question: str) -> list[tuple[str, str, str, list[str], Passage]]:
        """A question the model wrote about this memory, answered with the sentences that share its words.

        The model only asks: a question sharing no content word with any sentence is left out, so a
        noisy question never becomes an answer the memory does not give.
        """
        asked = {w for w in _content_words(question)}
        best: tuple[int, Passage, list[str]] | None = None
        for passage in memory.passages:
            scored = [(len(asked & set(_content_words(s))), s) for s in clean_sentences(passage.text)]
            said = [s for n, s in scored if n > 0]
            score = sum(n for n, _ in scored)
            if said and (best is None or score > best[0]):
                best = (score, passage, said)
        if best is None:
            return []
        _, passage, said = best
        answer = _limit_words(said, ANSWER_WORDS)
        return [("model", question.strip(), answer, _answer_terms(answer), passage)]

    def _avoid(self, memory: Memory, template: str, terms: list[str]) -> list[str]:
        if template == "date":
            return [f"{memory.created_at:%Y-%m}", *terms]
        if template == "title":
            return [memory.title]
        return terms

    def build(self) -> Dataset:
        examples: list[Example] = []
        candidates: list[Example] = []
        for memory in self.train:
            for template, question, answer, terms, passage in self._questions(memory):
                avoid = self._avoid(memory, template, terms)
                distractors = [
                    d for d in self._distractors(memory, avoid, self.settings.distractors + 1)
                    if not (template == "date" and f"{d.created_at:%Y-%m}" == f"{memory.created_at:%Y-%m}")
                ]  # fmt: skip
                quoted, number = self._with_gold(passage, distractors[: self.settings.distractors])
                grounded = self._example(GROUNDED, template, question, quoted, f"{answer} [{number}]", [memory.id])
                examples.append(grounded)
                candidates.append(grounded)
                if self.random.random() < self.settings.no_answer_share and len(distractors) >= 1:
                    only = [m.passages[0] for m in distractors[: self.settings.distractors + 1]]
                    refusal = self._example(NO_ANSWER, template, question, only, ABSTENTION, [])
                    examples.append(refusal)
                    candidates.append(refusal)
            voice = _limit_words(clean_sentences(memory.passages[0].text), VOICE_WORDS)
            if voice and memory.title:
                distractors = self._distractors(memory, [memory.title], self.settings.distractors)
                quoted, number = self._with_gold(memory.passages[0], distractors)
                question = _VOICE_PROMPT.format(title=memory.title.strip().rstrip("."))
                examples.append(self._example(VOICE, "voice", question, quoted, f"{voice} [{number}]", [memory.id]))
        examples.extend(self._self_examples())
        unique: dict[str, Example] = {}
        for example in examples:
            unique.setdefault(_dedup_key(example), example)
        kept = list(unique.values())
        kept_ids = {e.id for e in kept}
        candidates = [c for c in candidates if c.id in kept_ids]
        self.random.shuffle(candidates)
        newest = max((m.ingested_at for m in self.train), default=None)
        return Dataset(
            examples=kept,
            preference_candidates=candidates[: self.settings.max_preference_prompts],
            held_out=self._held_out_questions(),
            train_memory_ids=sorted(m.id for m in self.train),
            held_out_memory_ids=sorted(m.id for m in self.held),
            entity_graph=self.graph.summary(),
            newest_ingested_at=newest.isoformat() if newest else "",
            dropped_duplicates=len(examples) - len(kept),
            counts=dict(sorted(Counter(e.kind for e in kept).items())),
        )

    def _self_examples(self) -> list[Example]:
        found = []
        for source, question in _SELF_QUESTIONS:
            statements = self.material.biography if source == "global" else self.material.status
            cited = [mid for s in statements for mid in s.memory_ids if mid in self.by_id]
            quoted_memories = list(dict.fromkeys(cited))[: self.settings.distractors + 1]
            if not statements:
                continue
            quoted = [self.by_id[mid].passages[0] for mid in quoted_memories]
            numbers = {mid: i + 1 for i, mid in enumerate(quoted_memories)}
            parts = []
            for statement in statements:
                marks = "".join(f"[{numbers[m]}]" for m in statement.memory_ids if m in numbers)
                parts.append(f"{first_person(statement.text)} {marks}".strip())
            answer = _limit_words(parts, ANSWER_WORDS)
            found.append(self._example(SELF, f"self:{source}", question, quoted, answer, quoted_memories))
        return found

    def _held_out_questions(self) -> list[HeldOutQuestion]:
        questions = []
        for memory in self.held:
            chosen = self._questions(memory)[:2]
            for index, (template, question, answer, terms, _passage) in enumerate(chosen):
                must = [t for t in terms if t and not re.fullmatch(r"[A-Z][a-z]+ \d{4}", t)] or _answer_terms(answer)
                questions.append(
                    HeldOutQuestion(
                        id=f"h-{memory.id[:8]}-{index}",
                        question=question,
                        kind="fact" if template != "date" else "temporal",
                        answer=answer,
                        must_mention=must[:2],
                        evidence=[memory.id],
                    )
                )
        corpus = " ".join(m.text.lower() for m in self.by_id.values())
        unknown = [t for t in _UNKNOWN_TOPICS if not any(w in corpus for w in _content_words(t))]
        for index, topic in enumerate(unknown[: max(2, len(questions) // 3)]):
            questions.append(
                HeldOutQuestion(id=f"h-unknown-{index}", question=f"Tell me about {topic}.", kind="unknown",
                                answer="", must_mention=[], evidence=[])
            )  # fmt: skip
        return questions


def _content_words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Za-z]{4,}", text) if w.lower() not in {"your", "tell", "about", "with"}]


def _answer_terms(answer: str) -> list[str]:
    """Distinctive words of an answer (capitalised or numbers), for a question that named none."""
    words = re.findall(r"\b(?:[A-Z][a-z]{2,}|\d[\d.,:]*)\b", answer)
    return [w for w in dict.fromkeys(words) if w.lower() not in {"the", "this", "that", "then", "there"}][:2]


def _dedup_key(example: Example) -> str:
    """Examples that ask the same thing and answer the same way are one example."""
    question = re.sub(r"\W+", " ", example.question.lower()).strip()
    return hashlib.sha256(f"{example.kind}\0{question}\0{example.completion}".encode()).hexdigest()


_SECOND_TO_FIRST = [
    (r"\byou are\b", "I am"), (r"\bYou are\b", "I am"), (r"\byou're\b", "I'm"), (r"\bYou're\b", "I'm"),
    (r"\byou were\b", "I was"), (r"\bYou were\b", "I was"), (r"\byou have\b", "I have"), (r"\bYou have\b", "I have"),
    (r"\byou've\b", "I've"), (r"\bYou've\b", "I've"), (r"\byourself\b", "myself"), (r"\bYourself\b", "Myself"),
    (r"\byours\b", "mine"), (r"\byour\b", "my"), (r"\bYour\b", "My"), (r"\bYou\b", "I"), (r"\byou\b", "me"),
]  # fmt: skip


def first_person(text: str) -> str:
    """A biography sentence in the second person ("You moved to York") said by the self ("I moved to York")."""
    for pattern, replacement in _SECOND_TO_FIRST:
        text = re.sub(pattern, replacement, text)
    return text


def build_dataset(
    material: Material,
    settings: DatasetSettings = DatasetSettings(),
    model_questions: Mapping[str, Sequence[str]] | None = None,
) -> Dataset:
    """The training set for `material`, or `TrainingRefused` when there are too few memories to learn from.

    `model_questions` (memory id -> questions) are the base model's own questions about a memory,
    asked only when it passed its capability check; they join the templates' questions.
    """
    builder = _Builder(material, settings, model_questions or {})
    if len(builder.train) < settings.min_memories:
        usable = len(builder.train) + len(builder.held)
        needed = math.ceil(settings.min_memories / (1 - settings.held_out_fraction))
        raise TrainingRefused(
            f"training needs about {needed} memories with text ({settings.min_memories} to learn from, the rest "
            f"held out to evaluate the result); there are {usable}: ingest more of your notes first"
        )
    return builder.build()
