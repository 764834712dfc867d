"""Texts about the owner made of sentences that each cite the memories they rest on.

Extractive (no model, or one that failed the capability check): every sentence is one the owner
wrote, chosen to be representative and diverse (centrality on sentence embeddings, then MMR),
moved to the second or third person by rules (`grounding.person`) and never paraphrased.
Generative (a model that passed): the model's sentences are each checked against the memories
they were written from (`grounding.support`); unsupported ones are dropped and a field left
empty is filled extractively. Either way a text is a list of `GroundedSentence`s, and the joined
text fields are only their concatenation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from secondme.pipeline.grounding.names import named_entities, shade_name
from secondme.pipeline.grounding.person import to_second, to_third
from secondme.pipeline.grounding.select import centrality, mmr
from secondme.pipeline.grounding.sentences import (
    SAVED_SOURCES,
    Sentence,
    is_instruction,
    owner_sentences,
    split_sentences,
    standalone,
    words,
)
from secondme.pipeline.grounding.support import (
    SourceSentence,
    SupportSettings,
    as_owner,
    check_support,
    content_words,
)
from secondme.pipeline.identity.briefs import MemoryBrief

Embed = Callable[[Sequence[str]], np.ndarray]
# A sentence with fewer words that carry meaning says too little about the owner on its own ("I cried a bit",
# "I will sort the ferry").
MIN_CONTENT_WORDS = 3
# Saved web pages (SAVED_SOURCES) are mostly someone else's words; the owner's own notes are preferred.
WEB_WEIGHT = 0.5
# Sentences of a shade's content (beside its one-sentence description), and of the status.
CONTENT_SENTENCES = 3
STATUS_SENTENCES = 4
# What a biography says, each as statements its best sentence is like (the mean similarity to them);
# `now`: the newer the memory the better (where they live and work today, not three years ago);
# `names`: the sentence must name something (a place, a company), since "I like the work" says neither.
BIOGRAPHY_TOPICS = (
    ("work", ("I left my old job and joined a new company as an engineer.",
              "I have worked at this company for years as an engineer.",
              "My job: I work as an engineer for this company."), True, True),
    ("home", ("I moved to a new city and now live there.",
              "I live in this city; we moved here and this is where my home is."), True, True),
    ("people", ("My partner, my family and my closest friends.",), False, False),
    ("interests", ("What I love doing in my free time, my hobbies.",), False, False),
    ("values", ("What I care about and believe in.",), False, False),
)  # fmt: skip
# Below this similarity to its topic a sentence does not answer it (the topic is left out).
TOPIC_FLOOR = 0.25
# Beside the topics, the most representative sentence of this many of the largest shades.
BIOGRAPHY_SHADES = 4
# Memories nearest a topic whose sentences are read for it.
MEMORIES_PER_TOPIC = 8
RECENCY_BONUS = 0.15
# Per name or place a sentence names (up to SPECIFIC_CAP): a sentence that names things says more.
SPECIFIC_BONUS = 0.03
SPECIFIC_CAP = 3
ASPECTS = {
    "work": ("my job, my work, colleagues, the office, a project", "💼"),
    "home": ("my flat, my house, moving home, the neighbours", "🏠"),
    "family": ("my mum, my sister, my grandad, my family", "👪"),
    "friends": ("my friends, we met up, games night", "🤝"),
    "health": ("my health, the doctor, physio, an injury", "🩺"),
    "learning": ("learning, a course, studying, reading books", "📚"),
    "food": ("cooking, baking, recipes, food, coffee", "🍳"),
    "travel": ("a trip, travelling, a holiday abroad, a ferry", "🧳"),
    "sport": ("climbing, cycling, sailing, exercise, sport", "🧗"),
    "garden": ("the garden, the allotment, planting, harvest", "🌱"),
}


@dataclass(frozen=True)
class GroundedSentence:
    field: str
    text: str
    memory_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"field": self.field, "text": self.text, "memory_ids": list(self.memory_ids)}


def joined(sentences: Sequence[GroundedSentence], name: str) -> str:
    return " ".join(s.text for s in sentences if s.field == name)


@dataclass
class SentenceCounts:
    """Sentences a model wrote, kept after the support check, and dropped."""

    written: int = 0
    kept: int = 0
    dropped: int = 0

    def add(self, other: SentenceCounts) -> None:
        self.written += other.written
        self.kept += other.kept
        self.dropped += other.dropped

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class Grounder:
    """Extractive writing and the support check, over one embedding function and the owner's name."""

    embed: Embed
    owner_name: str = ""
    support: SupportSettings = field(default_factory=SupportSettings)
    # they | she | he (grounding.person.PRONOUNS)
    owner_pronouns: str = "they"

    def _pool(
        self, memories: Sequence[MemoryBrief], first_person_only: bool, statements_only: bool = False
    ) -> tuple[list[Sentence], np.ndarray]:
        """The memories' sentences worth choosing, with their vectors: the owner's own, that stand alone and
        say what is rather than what to do; a memory without such sentences gives its others, unless
        `statements_only`."""
        sentences = [
            s
            for m in memories
            for s in owner_sentences(m.id, m.text)
            if len(content_words(s.text, self.owner_name)) >= MIN_CONTENT_WORDS
        ]
        if first_person_only:
            own = [s for s in sentences if s.first_person]
            sentences = own if own else sentences
        alone = [s for s in sentences if standalone(s.text) and not is_instruction(s.text)]
        sentences = alone if alone or statements_only else sentences
        vectors = self.embed([s.text for s in sentences]) if sentences else np.zeros((0, 1))
        return sentences, np.asarray(vectors, dtype=np.float64)

    @staticmethod
    def _weights(sentences: Sequence[Sentence], memories: Sequence[MemoryBrief]) -> np.ndarray:
        web = {m.id for m in memories if m.source_type in SAVED_SOURCES}
        return np.array([WEB_WEIGHT if s.memory_id in web else 1.0 for s in sentences])

    @property
    def _short_name(self) -> str:
        """The owner's first name: what a text calls them once it has said their full name."""
        return (words(self.owner_name) or [""])[0]

    def _pair(self, field_name: str, sentence: Sentence, again: bool = False) -> list[GroundedSentence]:
        """The sentence about the owner and to them; `again`: the text named them already (first name only)."""
        ids = (sentence.memory_id,)
        name = self._short_name if again and self._short_name else self.owner_name
        return [
            GroundedSentence(f"{field_name}_third", to_third(sentence.text, name, self.owner_pronouns), ids),
            GroundedSentence(f"{field_name}_second", to_second(sentence.text), ids),
        ]

    def _paired(self, field_name: str, sentences: Sequence[Sentence]) -> list[GroundedSentence]:
        """One text's sentences: the owner's full name in the first, their first name after it."""
        paired: list[GroundedSentence] = []
        for index, sentence in enumerate(sentences):
            paired += self._pair(field_name, sentence, again=index > 0)
        return paired

    def _specifics(self, sentence: Sentence) -> int:
        """How many names and places (not the owner's) the sentence names, up to SPECIFIC_CAP."""
        owner = {w.lower() for w in words(self.owner_name)}
        named = {e for e in named_entities(sentence.text) if not {w.lower() for w in words(e)} & owner}
        return min(len(named), SPECIFIC_CAP)

    def _chosen(self, memories: Sequence[MemoryBrief], limit: int, statements_only: bool = False) -> list[Sentence]:
        """The `limit` most representative, mutually different first-person sentences, one per memory first."""
        sentences, vectors = self._pool(memories, first_person_only=True, statements_only=statements_only)
        if not sentences:
            return []
        specific = np.array([self._specifics(s) for s in sentences])
        relevance = (centrality(vectors) + 1.0 + SPECIFIC_BONUS * specific) * self._weights(sentences, memories)
        order = mmr(vectors, relevance, len(sentences))
        chosen: list[Sentence] = []
        used: set[str] = set()
        for index in order:  # one sentence per memory while other memories have some
            if sentences[index].memory_id not in used:
                chosen.append(sentences[index])
                used.add(sentences[index].memory_id)
            if len(chosen) >= limit:
                break
        for index in order:
            if len(chosen) >= limit:
                break
            if sentences[index] not in chosen:
                chosen.append(sentences[index])
        return chosen

    def shade(
        self, members: Sequence[MemoryBrief], keywords: Sequence[str]
    ) -> tuple[dict[str, str], list[GroundedSentence]]:
        """A shade's name, aspect, icon and sentences, from its members' own words."""
        chosen = self._chosen(members, 1 + CONTENT_SENTENCES)
        dates = {m.id: (m.created_at, i) for i, m in enumerate(members)}
        sentences: list[GroundedSentence] = []
        if chosen:
            sentences += self._pair("description", chosen[0])
            for sentence in sorted(chosen[1:], key=lambda s: (dates[s.memory_id], s.position)):
                sentences += self._pair("content", sentence, again=True)
        aspect, icon = self._aspect(chosen)
        name = shade_name([f"{m.title}. {m.text}" for m in members], keywords, self.owner_name)
        return {"name": name, "aspect": aspect, "icon": icon}, sentences

    def _aspect(self, chosen: Sequence[Sentence]) -> tuple[str, str]:
        if not chosen:
            return "", ""
        mean = np.asarray(self.embed([s.text for s in chosen]), dtype=np.float64).mean(axis=0)
        prototypes = np.asarray(self.embed([p for p, _ in ASPECTS.values()]), dtype=np.float64)
        best = int(np.argmax(prototypes @ mean))
        name = list(ASPECTS)[best]
        return name, ASPECTS[name][1]

    def insight(self, memory: MemoryBrief) -> tuple[str, str, list[GroundedSentence]]:
        """(summary, insight, sentences): the document's most representative sentences, its own words."""
        chosen = self._chosen([memory], 3)
        if not chosen:
            first = [s for s in split_sentences(memory.text)][:2]
            summary = " ".join(first)
            return summary, "", [GroundedSentence("summary", s, (memory.id,)) for s in first]
        ordered = sorted(chosen[:2], key=lambda s: s.position)
        summary = [GroundedSentence("summary", s.text, (memory.id,)) for s in ordered]
        third = to_third(chosen[0].text, self.owner_name, self.owner_pronouns)
        insight = GroundedSentence("insight", third, (memory.id,))
        return " ".join(s.text for s in summary), insight.text, [*summary, insight]

    def global_biography(
        self, groups: Sequence[Sequence[MemoryBrief]], vectors: dict[str, np.ndarray]
    ) -> list[GroundedSentence]:
        """Who the owner is: for each biography topic the sentence of theirs that answers it best, then
        the most representative sentence of each of the largest groups (shades), told in date order."""
        memories = [m for group in groups for m in group]
        if not memories:
            return []
        statements = [t for _, topic, _, _ in BIOGRAPHY_TOPICS for t in topic]
        statement_vectors = np.asarray(self.embed(statements), dtype=np.float64)
        newest = sorted(memories, key=lambda m: m.created_at)
        age_rank = {m.id: i / max(1, len(newest) - 1) for i, m in enumerate(newest)}
        with_vector = [m for m in memories if m.id in vectors]
        matrix = np.stack([vectors[m.id] for m in with_vector]).astype(np.float64) if with_vector else None
        picked: list[Sentence] = []
        picked_vectors: list[np.ndarray] = []
        start = 0
        for _, topic, now, names in BIOGRAPHY_TOPICS:
            topic_vectors = statement_vectors[start : start + len(topic)]
            start += len(topic)
            if matrix is None:
                break
            near = [with_vector[i] for i in np.argsort(-(matrix @ topic_vectors.T).mean(axis=1))[:MEMORIES_PER_TOPIC]]
            sentences, sentence_vectors = self._pool(near, first_person_only=True, statements_only=True)
            if not sentences:
                continue
            similarity = (sentence_vectors @ topic_vectors.T).mean(axis=1)
            specific = np.array([self._specifics(s) for s in sentences])
            score = similarity * self._weights(sentences, near) + SPECIFIC_BONUS * specific
            if now:
                score = score + RECENCY_BONUS * np.array([age_rank[s.memory_id] for s in sentences])
            for index in np.argsort(-score):
                too_alike = any(float(sentence_vectors[index] @ v) > 0.8 for v in picked_vectors)
                if similarity[index] < TOPIC_FLOOR or (names and not specific[index]):
                    continue
                if sentences[index] not in picked and not too_alike:
                    picked.append(sentences[index])
                    picked_vectors.append(sentence_vectors[index])
                    break
        for group in sorted(groups, key=len, reverse=True)[:BIOGRAPHY_SHADES]:
            best = self._chosen(group, 1, statements_only=True)
            if best and best[0] not in picked:
                vector = np.asarray(self.embed([best[0].text]), dtype=np.float64)[0]
                if not any(float(vector @ v) > 0.8 for v in picked_vectors):
                    picked.append(best[0])
                    picked_vectors.append(vector)
        # In the order the owner lived it, so "I'm keeping the job" comes before "I've left the job".
        dates = {m.id: m.created_at for m in memories}
        return self._paired("text", sorted(picked, key=lambda s: (dates[s.memory_id], s.position)))

    def status(self, recent: Sequence[MemoryBrief]) -> list[GroundedSentence]:
        """What the owner has been doing lately: a representative sentence of each of the newest memories."""
        chosen: list[Sentence] = []
        for memory in sorted(recent, key=lambda m: m.created_at, reverse=True):
            best = self._chosen([memory], 1, statements_only=True)
            if best and best[0].first_person:
                chosen.append(best[0])
            if len(chosen) >= STATUS_SENTENCES:
                break
        order = {m.id: m.created_at for m in recent}
        return self._paired("text", sorted(chosen, key=lambda s: order[s.memory_id]))

    def check(
        self, field_name: str, text: str, sources: Sequence[MemoryBrief]
    ) -> tuple[list[GroundedSentence], SentenceCounts]:
        """A model's text split into sentences, each kept only if `sources` support it (citing the memory)."""
        claims = split_sentences(text)
        counts = SentenceCounts(written=len(claims))
        pool = [s for m in sources for s in owner_sentences(m.id, m.text)]
        if not claims or not pool:
            counts.dropped = len(claims)
            return [], counts
        pool_vectors = np.asarray(self.embed([s.text for s in pool]), dtype=np.float64)
        claim_vectors = np.asarray(self.embed([as_owner(c, self.owner_name) for c in claims]), dtype=np.float64)
        source_sentences = [SourceSentence(s.memory_id, s.text, v) for s, v in zip(pool, pool_vectors, strict=True)]
        kept = []
        for claim, vector in zip(claims, claim_vectors, strict=True):
            support = check_support(claim, vector, source_sentences, self.support, self.owner_name)
            if support.supported:
                kept.append(GroundedSentence(field_name, claim, (support.memory_id,)))
        counts.kept, counts.dropped = len(kept), len(claims) - len(kept)
        return kept, counts

    def supported(self, sentence: GroundedSentence, memories: Mapping[str, MemoryBrief]) -> bool:
        """A stored sentence passes the support check against the memories it cites (every part of it)."""
        cited = [memories[m] for m in sentence.memory_ids if m in memories]
        kept, _ = self.check(sentence.field, sentence.text, cited)
        return bool(kept) and len(kept) == len(split_sentences(sentence.text))
