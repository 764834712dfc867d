"""One identity update: insights for new documents, shade membership, shade texts, biographies.

Incremental by construction: each stage does only what changed since the last run. Documents
without an insight get one; memories in no shade are placed (joining a shade, forming one, or
waiting in the pool); only shades whose membership changed ("dirty") get a new text; a biography
is written again only when what it is written from changed. Every unit of work is stored as it
completes, so a kill loses only the unit in flight, and a failure of one unit is counted and
retried next run, never the end of the batch.

The orchestration is here, the storage is not: the daemon's identity job passes an
`IdentityStore` over its SQLite file, so this module runs the same in a job child, a test or a
benchmark.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from secondme.pipeline.errors import GenerationError
from secondme.pipeline.grounding.support import SupportSettings
from secondme.pipeline.identity.biography import BiographyText, ShadeSummary, write_global, write_status
from secondme.pipeline.identity.briefs import MemoryBrief
from secondme.pipeline.identity.grounded import Embed, GroundedSentence, Grounder, SentenceCounts, joined
from secondme.pipeline.identity.insights import MAX_DOCUMENT_CHARS, Insight, is_short, write_insight
from secondme.pipeline.identity.keywords import document_keywords, group_keywords
from secondme.pipeline.identity.membership import MembershipPlan, MembershipSettings, ShadeGroup, plan_membership
from secondme.pipeline.identity.shades import (
    Evidence,
    ShadeText,
    evidence_for,
    select_evidence,
    timeline,
    write_shade,
)
from secondme.pipeline.identity.writing import Writer
from secondme.pipeline.llm import Generator

log = logging.getLogger(__name__)

# Characters of each evidence memory read for a shade's prompt (its gist falls back to the text's start),
# and of each member read to name a shade by keywords.
GIST_CHARS = 400
KEYWORD_TEXT_CHARS = 2000
# Characters of each memory whose sentences a shade or biography is chosen from.
SHADE_TEXT_CHARS = 4000
EXTRACTIVE, GENERATIVE = "extractive", "generative"
# A document whose insight failed this many times waits for the owner (`identity refresh --retry-failed`).
MAX_INSIGHT_ATTEMPTS = 3

ProgressCallback = Callable[[str, int, int, str], None]


@dataclass(frozen=True)
class StoredVersion:
    version: int
    author: str  # pipeline | owner
    model: str  # '' when no model wrote it
    text: ShadeText
    member_count: int
    mode: str = ""  # extractive | generative; '' for the owner's text and versions made before grounding


@dataclass(frozen=True)
class StoredShade:
    id: int
    revision: int
    dirty: bool
    owner_edited: bool
    privacy: str
    members: tuple[str, ...]
    latest: StoredVersion | None
    # The members' own dates, oldest and newest (YYYY-MM-DD).
    first: str = ""
    last: str = ""

    @property
    def written(self) -> bool:
        """Its text rests on its memories (grounded) or is the owner's, not a provisional keyword name."""
        latest = self.latest
        return latest is not None and (latest.author == "owner" or bool(latest.mode) or bool(latest.model))


@dataclass(frozen=True)
class StoredBiography:
    id: int
    text_third: str
    sources: list[Any]


class IdentityStore(Protocol):
    def biography(self, kind: str) -> StoredBiography | None: ...

    def memories_needing_insight(self, max_attempts: int, text_chars: int) -> list[MemoryBrief]:
        """Memories with text and no insight yet, or whose insight failed fewer than `max_attempts` times."""

    def save_insight(
        self,
        memory_id: str,
        insight: Insight,
        model: str,
        biography_id: int | None,
        sentences: Sequence[GroundedSentence] = (),
    ) -> None: ...

    def save_insight_failure(self, memory_id: str, error: str, model: str) -> None: ...

    def vectors(self) -> dict[str, np.ndarray]:
        """Unit vectors of the memories to model (one per content: same-content copies left out)."""

    def shades(self) -> list[StoredShade]:
        """The active shades."""

    def unplaced(self) -> list[str]:
        """Memories with a vector that are in no active shade (new ones and the pool)."""

    def apply_membership(self, plan: MembershipPlan) -> list[int]:
        """Record joins, new shades and the pool in one transaction; returns the new shades' ids."""

    def retire_empty(self) -> list[int]:
        """Retire active shades left without members; returns their ids."""

    def briefs(self, memory_ids: list[str], text_chars: int) -> list[MemoryBrief]:
        """The memories, oldest first, with at most `text_chars` of each one's text."""

    def save_shade_version(
        self,
        shade_id: int,
        revision: int,
        text: ShadeText,
        *,
        author: str,
        model: str,
        evidence: Evidence,
        timeline: list[dict[str, str]],
        still_dirty: bool,
        sentences: Sequence[GroundedSentence] = (),
        mode: str = "",
    ) -> bool:
        """Store a new version if the shade's revision is still `revision`; False when the owner got there first."""

    def recent(self, limit: int, exclude_shades: list[int], text_chars: int) -> list[MemoryBrief]:
        """The newest memories with text, oldest first, leaving out members of the given shades."""

    def save_biography(
        self,
        kind: str,
        text_third: str,
        text_second: str,
        sources: list[Any],
        model: str,
        sentences: Sequence[GroundedSentence] = (),
        mode: str = "",
    ) -> int: ...


@dataclass(frozen=True)
class IdentitySettings:
    membership: MembershipSettings = field(default_factory=MembershipSettings)
    owner_name: str = ""
    # they | she | he: how third-person sentences refer to the owner after their name.
    owner_pronouns: str = "they"
    recent_memories: int = 12
    # Every written text's length bound, scaled (see writing.Writer).
    length_scale: float = 1.0
    # extractive: texts are the owner's own sentences; generative: the model writes, checked sentence
    # by sentence (the identity job picks this from the model's capability check).
    mode: str = EXTRACTIVE
    support: SupportSettings = field(default_factory=SupportSettings)


class LazyGenerator:
    """The model is loaded only when some unit needs it, and only once; a load failure is kept as the reason."""

    def __init__(self, make: Callable[[], Generator] | None, name: str = "") -> None:
        self._make = make
        self.name = name
        self._generator: Generator | None = None
        self.unavailable = "" if make else "no language model is configured"

    def get(self) -> Generator | None:
        if self._generator is None and not self.unavailable and self._make is not None:
            try:
                self._generator = self._make()
            except GenerationError as exc:
                self.unavailable = str(exc)
                log.warning("identity update continues without a model: %s", exc)
        return self._generator

    def writer(self, settings: IdentitySettings) -> Writer | None:
        generator = self.get()
        return Writer(generator, settings.owner_name, settings.length_scale) if generator is not None else None


@dataclass
class IdentityReport:
    model: str = ""
    mode: str = ""
    waiting_for_model: str = ""
    insights: dict[str, int] = field(default_factory=lambda: {"done": 0, "extracted": 0, "short": 0, "failed": 0})
    shades: dict[str, int] = field(
        default_factory=lambda: {
            "created": 0,
            "joined": 0,
            "retired": 0,
            "written": 0,
            "failed": 0,
            "unchanged": 0,
            "unclustered": 0,
        }
    )
    biography: dict[str, str] = field(default_factory=lambda: {"global": "unchanged", "status": "unchanged"})
    # Sentences a model wrote, kept after the support check, and dropped (generative mode).
    sentences: SentenceCounts = field(default_factory=SentenceCounts)
    # Fields a model's text left empty once checked, filled with the owner's own sentences instead.
    fallbacks: int = 0
    errors: list[str] = field(default_factory=list)

    def error(self, what: str, exc: Exception) -> None:
        if len(self.errors) < 20:
            self.errors.append(f"{what}: {exc}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "mode": self.mode,
            "waiting_for_model": self.waiting_for_model,
            "sentences": self.sentences.to_dict(),
            "fallbacks": self.fallbacks,
            "insights": self.insights,
            "shades": self.shades,
            "biography": self.biography,
            "errors": self.errors,
        }


@dataclass
class _Update:
    """One run's stages over the same store, model, grounding and report."""

    store: IdentityStore
    model: LazyGenerator
    settings: IdentitySettings
    report: IdentityReport
    progress: ProgressCallback
    grounder: Grounder

    @property
    def generative(self) -> bool:
        return self.settings.mode == GENERATIVE

    def _writer(self) -> Writer | None:
        return self.model.writer(self.settings) if self.generative else None

    def _checked(
        self, wanted: dict[str, str], sources: list[MemoryBrief], fallback: list[GroundedSentence]
    ) -> list[GroundedSentence]:
        """The model's fields sentence by sentence, unsupported ones dropped; an emptied field falls back."""
        kept: list[GroundedSentence] = []
        for name, text in wanted.items():
            sentences, counts = self.grounder.check(name, text, sources)
            self.report.sentences.add(counts)
            if not sentences:
                sentences = [s for s in fallback if s.field == name]
                self.report.fallbacks += 1
            kept.extend(sentences)
        return kept

    def insights(self) -> None:
        store, report = self.store, self.report
        # One character more than the model is given, so a document that is cut is known to be cut.
        pending = store.memories_needing_insight(MAX_INSIGHT_ATTEMPTS, MAX_DOCUMENT_CHARS + 1)
        biography = store.biography("global")
        self.progress("insights", 0, len(pending), f"{len(pending)} documents to read")
        for done, memory in enumerate(pending, start=1):
            summary, insight_text, sentences = self.grounder.insight(memory)
            own = Insight("short" if is_short(memory.text) else "extracted", memory.title, summary, insight_text,
                          tuple(document_keywords(memory.text)))  # fmt: skip
            writer = None if is_short(memory.text) else self._writer()
            if writer is None:
                store.save_insight(memory.id, own, "", None, sentences)
                report.insights["short" if is_short(memory.text) else "extracted"] += 1
            else:
                try:
                    written = write_insight(writer, memory, biography.text_third if biography else "")
                except Exception as exc:  # one document's failure is recorded, never the batch's end
                    store.save_insight_failure(memory.id, str(exc) or type(exc).__name__, self.model.name)
                    report.insights["failed"] += 1
                    report.error(f"insight for {memory.id}", exc)
                else:
                    checked = self._checked(
                        {"summary": written.summary, "insight": written.insight}, [memory], sentences
                    )
                    insight = Insight("done", written.title, joined(checked, "summary"), joined(checked, "insight"),
                                      written.keywords)  # fmt: skip
                    store.save_insight(
                        memory.id, insight, self.model.name, biography.id if biography else None, checked
                    )
                    report.insights["done"] += 1
            self.progress("insights", done, len(pending), memory.title[:60])

    def membership(self) -> dict[str, np.ndarray]:
        store, report = self.store, self.report
        self.progress("cluster", 0, 1, "grouping alike memories")
        vectors = store.vectors()
        groups = [ShadeGroup(s.id, s.members) for s in store.shades()]
        plan = plan_membership(vectors, groups, store.unplaced(), self.settings.membership)
        created = store.apply_membership(plan)
        report.shades["created"] = len(created)
        report.shades["joined"] = len(plan.joins)
        report.shades["unclustered"] = len(plan.unclustered)
        report.shades["retired"] = len(store.retire_empty())
        self.progress("cluster", 1, 1, f"{len(created)} new shades, {len(plan.joins)} memories joined shades")
        return vectors

    def shade_texts(self, vectors: dict[str, np.ndarray]) -> None:
        store, report = self.store, self.report
        shades = store.shades()
        due = [s for s in shades if s.dirty or s.latest is None]
        report.shades["unchanged"] = len(shades) - len(due)
        keyword_lists: dict[int, list[str]] | None = None
        self.progress("shades", 0, len(due), f"{len(due)} shades to describe")
        for done, shade in enumerate(due, start=1):
            members = store.briefs(list(shade.members), 0)
            if not members:
                continue
            evidence = evidence_for(members, vectors)
            chosen = store.briefs([m.id for m in select_evidence(members, vectors)], SHADE_TEXT_CHARS)
            common = {"evidence": evidence, "timeline": timeline(chosen)}
            if shade.owner_edited and shade.latest is not None:
                store.save_shade_version(shade.id, shade.revision, shade.latest.text, author="owner", model="",
                                         still_dirty=False, sentences=[], mode="", **common)  # fmt: skip
                report.shades["written"] += 1
                continue
            if keyword_lists is None:
                keyword_lists = self._keywords(shades)
            labels, own = self.grounder.shade(chosen, keyword_lists.get(shade.id, []))
            sentences, model_name, mode = own, "", EXTRACTIVE
            text = _shade_text(labels, sentences)
            writer = self._writer()
            retry = False
            if writer is not None:
                try:
                    written = write_shade(writer, [replace(m, text=m.text[:GIST_CHARS]) for m in chosen])
                except Exception as exc:  # the owner's own sentences stand in; the next run tries again
                    report.shades["failed"] += 1
                    report.error(f"text of shade {shade.id}", exc)
                    retry = True
                else:
                    fields = {name: getattr(written, name) for name in _SHADE_SENTENCE_FIELDS}
                    sentences = self._checked(fields, chosen, own)
                    labels = {"name": written.name, "aspect": written.aspect, "icon": written.icon}
                    text, model_name, mode = _shade_text(labels, sentences), self.model.name, GENERATIVE
            saved = store.save_shade_version(shade.id, shade.revision, text, author="pipeline", model=model_name,
                                             still_dirty=retry, sentences=sentences, mode=mode, **common)  # fmt: skip
            report.shades["written"] += int(saved)
            self.progress("shades", done, len(due), text.name[:60])

    def _keywords(self, shades: list[StoredShade]) -> dict[int, list[str]]:
        texts = [
            " ".join(f"{b.title} {b.text}" for b in self.store.briefs(list(s.members), KEYWORD_TEXT_CHARS))
            for s in shades
        ]
        return {s.id: words for s, words in zip(shades, group_keywords(texts, top=8), strict=True)}

    def biographies(self, vectors: dict[str, np.ndarray]) -> None:
        store = self.store
        self.progress("biography", 0, 2, "writing the biographies")
        shades = store.shades()
        private = [s.id for s in shades if s.privacy == "private"]
        shown = [s for s in shades if s.privacy != "private" and s.written and s.latest is not None]
        # Written from the memories of the shades not marked private, and changed when those change.
        sources = sorted([s.id, s.latest.version] for s in shown if s.latest is not None)
        groups = [store.briefs(list(s.members), SHADE_TEXT_CHARS) for s in shown]
        candidates = [m for group in groups for m in group]

        def write_global_from_shades(writer: Writer) -> BiographyText:
            return write_global(
                writer, [ShadeSummary(s.latest.text, len(s.members), s.first, s.last) for s in shown if s.latest]
            )

        self._biography(
            "global", sources, candidates, lambda: self.grounder.global_biography(groups, vectors),
            write_global_from_shades,
        )  # fmt: skip
        self.progress("biography", 1, 2, "global biography")
        recent = store.recent(self.settings.recent_memories, private, SHADE_TEXT_CHARS)

        def write_status_from_recent(writer: Writer) -> BiographyText:
            biography = store.biography("global")
            return write_status(writer, [replace(m, text=m.text[:GIST_CHARS]) for m in recent],
                                biography.text_third if biography else "")  # fmt: skip

        self._biography(
            "status", [m.id for m in recent], recent, lambda: self.grounder.status(recent), write_status_from_recent
        )
        self.progress("biography", 2, 2, "status biography")

    def _biography(
        self,
        kind: str,
        sources: list[Any],
        memories: list[MemoryBrief],
        extract: Callable[[], list[GroundedSentence]],
        write: Callable[[Writer], BiographyText],
    ) -> None:
        """Write the `kind` biography again only if what it is written from (`sources`) changed."""
        current = self.store.biography(kind)
        if not sources or (current is not None and current.sources == sources):
            return
        own = extract()
        sentences, model_name, mode = own, "", EXTRACTIVE
        writer = self._writer()
        if writer is not None:
            try:
                text = write(writer)
            except Exception as exc:  # the owner's own sentences stand in; the next run tries again
                self.report.error(f"{kind} biography", exc)
            else:
                fields = {"text_third": text.text_third, "text_second": text.text_second}
                sentences, model_name, mode = self._checked(fields, memories, own), self.model.name, GENERATIVE
        if not sentences:
            self.report.biography[kind] = "nothing to say yet"
            return
        self.store.save_biography(kind, joined(sentences, "text_third"), joined(sentences, "text_second"), sources,
                                  model_name, sentences, mode)  # fmt: skip
        self.report.biography[kind] = "written"


_SHADE_SENTENCE_FIELDS = ("description_third", "description_second", "content_third", "content_second")


def _shade_text(labels: dict[str, str], sentences: list[GroundedSentence]) -> ShadeText:
    return ShadeText(
        name=labels.get("name", "") or "unnamed",
        aspect=labels.get("aspect", ""),
        icon=labels.get("icon", ""),
        **{name: joined(sentences, name) for name in _SHADE_SENTENCE_FIELDS},
    )


def update_identity(
    store: IdentityStore,
    model: LazyGenerator,
    settings: IdentitySettings = IdentitySettings(),
    progress: ProgressCallback | None = None,
    grounder: Grounder | None = None,
) -> IdentityReport:
    """Bring the identity up to date; `grounder` embeds sentences (the packaged embedder when not given)."""
    report = IdentityReport(model=model.name, mode=settings.mode)
    if grounder is None:
        grounder = Grounder(default_embed(), settings.owner_name, settings.support, settings.owner_pronouns)
    run = _Update(store, model, settings, report, progress or (lambda *_: None), grounder)
    run.insights()
    vectors = run.membership()
    run.shade_texts(vectors)
    run.biographies(vectors)
    report.waiting_for_model = model.unavailable if settings.mode == GENERATIVE else ""
    return report


def default_embed() -> Embed:
    """The packaged sentence embedder, loaded on first use (a run with nothing to write never loads it)."""
    loaded: list[Any] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        if not loaded:
            from secondme.pipeline.embeddings import Embedder

            loaded.append(Embedder())
        return loaded[0].embed(list(texts))

    return embed
