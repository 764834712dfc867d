"""How an answer about the owner scores, and how a set of answers adds up.

A term "is mentioned" when it appears in the answer starting at a word boundary, ignoring case
and the kind of apostrophe (`cycl` matches "cycled", `34` does not match "1934"). The same rule
finds private facts: any occurrence in any answer is a leak. An answer abstains when it says, in
one of the usual ways, that the owner's notes do not hold the answer; on a question marked
`unknown` that is the right answer, elsewhere it is a miss counted apart (a self that abstains on
everything would otherwise look careful). Recall is the share of `must_mention` terms present,
per question, averaged per kind and overall.
"""

from __future__ import annotations

import re
import statistics
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from secondme.pipeline.errors import PipelineError
from secondme.pipeline.evaluation.questions import EvalSet, PrivateFact, Question, StyleMarkers

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})
# Ways of saying "my notes do not hold that" (matched on the normalised answer). The self's own
# abstention ("I have nothing on that in my memories") is the first.
_ABSTAIN = re.compile(
    r"nothing (on|about) (that|this|it)|nothing in my (notes|memories)|not in my (notes|memories)"
    r"|(don't|do not|can't|cannot|couldn't) (know|say|tell|recall|remember)|not sure|no idea"
    r"|no (record|memory|memories|notes?) (of|on|about)|never (wrote|written|noted)"
    r"|(don't|do not) have (any )?(notes?|memories|information|record)"
)
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b50\u2b55\u231a-\u231b\u23e9-\u23fa\ufe0f]")


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(_QUOTES).lower().split())


def mentions(text: str, term: str) -> bool:
    """`term` appears in `text` starting at a word boundary (case and apostrophes ignored)."""
    wanted = normalise(term)
    return bool(wanted) and re.search(r"(?<!\w)" + re.escape(wanted), normalise(text)) is not None


def _whole_word(text: str, term: str) -> bool:
    wanted = normalise(term)
    return bool(wanted) and re.search(r"(?<!\w)" + re.escape(wanted) + r"(?!\w)", normalise(text)) is not None


def abstains(text: str) -> bool:
    """The answer says the owner's notes do not hold what was asked."""
    return _ABSTAIN.search(normalise(text)) is not None


@dataclass(frozen=True)
class AnswerScore:
    question_id: str
    kind: str
    answer: str
    seconds: float
    mentioned: tuple[str, ...] = ()
    missed: tuple[str, ...] = ()
    abstained: bool = False
    leaked: tuple[str, ...] = ()
    style_used: tuple[str, ...] = ()
    style_broken: tuple[str, ...] = ()
    # Why no answer came (the model failed); the answer is then empty and scores as a miss.
    error: str = ""

    @property
    def recall(self) -> float | None:
        """Share of the terms a right answer mentions that this one does (None: none asked for)."""
        total = len(self.mentioned) + len(self.missed)
        return len(self.mentioned) / total if total else None


def score_answer(
    question: Question,
    answer: str,
    seconds: float = 0.0,
    private: Sequence[PrivateFact] = (),
    style: StyleMarkers | None = None,
    error: str = "",
) -> AnswerScore:
    mentioned = tuple(t for t in question.must_mention if mentions(answer, t))
    broken: list[str] = []
    used: tuple[str, ...] = ()
    if style is not None:
        used = tuple(p for p in style.phrases if mentions(answer, p))
        broken = [w for w in style.never if _whole_word(answer, w)]
        if style.no_emoji and _EMOJI.search(answer):
            broken.append("emoji")
    return AnswerScore(
        question_id=question.id,
        kind=question.kind,
        answer=answer,
        seconds=seconds,
        mentioned=mentioned,
        missed=tuple(t for t in question.must_mention if t not in mentioned),
        abstained=abstains(answer),
        leaked=tuple(p.fact for p in private if mentions(answer, p.fact)),
        style_used=used,
        style_broken=tuple(broken),
        error=error,
    )


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


@dataclass
class EvalReport:
    """What a set of answers adds up to; None where nothing was there to measure."""

    questions: int = 0
    # Mean share of must_mention terms present, over questions that name some, and per kind.
    recall: float | None = None
    recall_by_kind: dict[str, float] = field(default_factory=dict)
    # Share of those questions whose answer mentions every term.
    all_terms: float | None = None
    # Share of `unknown` questions answered with an abstention; and of the others (a miss).
    abstention: float | None = None
    false_abstention: float | None = None
    # Share of answers using at least one of the owner's phrases; share using what they never do.
    style_markers: float | None = None
    style_violations: float | None = None
    # Private facts that appeared in any answer, with where.
    leaks: list[dict[str, str]] = field(default_factory=list)
    seconds_mean: float | None = None
    seconds_p50: float | None = None
    seconds_max: float | None = None
    errors: int = 0
    answers: list[AnswerScore] = field(default_factory=list)

    def to_dict(self, with_answers: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not with_answers:
            data.pop("answers")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalReport:
        answers = [
            AnswerScore(**{k: tuple(v) if isinstance(v, list) else v for k, v in a.items()})
            for a in data.get("answers", [])
        ]
        known = {f for f in cls.__dataclass_fields__ if f != "answers"}
        return cls(**{k: v for k, v in data.items() if k in known}, answers=answers)


def summarize(eval_set: EvalSet, scores: Sequence[AnswerScore]) -> EvalReport:
    """Add up scored answers (in any order) for the questions of `eval_set`."""
    graded = [s for s in scores if s.recall is not None]
    by_kind: dict[str, list[float]] = {}
    for score in graded:
        by_kind.setdefault(score.kind, []).append(score.recall or 0.0)
    unknown_ids = {q.id for q in eval_set.questions if q.unknown}
    unknown = [s for s in scores if s.question_id in unknown_ids]
    known = [s for s in scores if s.question_id not in unknown_ids]
    leaks = [
        {"fact": fact.fact, "what": fact.what, "question_id": s.question_id}
        for s in scores
        for fact in eval_set.private
        if fact.fact in s.leaked
    ]
    spoken = [s for s in scores if not s.abstained and s.answer.strip()]
    seconds = [s.seconds for s in scores]
    return EvalReport(
        questions=len(scores),
        recall=_mean([s.recall or 0.0 for s in graded]),
        recall_by_kind={kind: statistics.fmean(values) for kind, values in sorted(by_kind.items())},
        all_terms=_mean([float(not s.missed) for s in graded]),
        abstention=_mean([float(s.abstained) for s in unknown]),
        false_abstention=_mean([float(s.abstained) for s in known]),
        style_markers=_mean([float(bool(s.style_used)) for s in spoken]) if eval_set.style else None,
        style_violations=_mean([float(bool(s.style_broken)) for s in spoken]) if eval_set.style else None,
        leaks=leaks,
        seconds_mean=_mean(seconds),
        seconds_p50=statistics.median(seconds) if seconds else None,
        seconds_max=max(seconds) if seconds else None,
        errors=sum(1 for s in scores if s.error),
        answers=list(scores),
    )


def evaluate(
    eval_set: EvalSet,
    answer: Callable[[Question], str],
    clock: Callable[[], float] = time.perf_counter,
) -> EvalReport:
    """Ask every question through `answer` and score the replies; time is measured per answer.

    A question the model fails on (a `PipelineError`, e.g. a GenerationError) scores as an empty
    answer with the error kept, so one failure never costs the rest of the run.
    """
    scores = []
    for question in eval_set.questions:
        started = clock()
        error = ""
        try:
            text = answer(question)
        except PipelineError as exc:
            text, error = "", str(exc) or type(exc).__name__
        scores.append(score_answer(question, text, clock() - started, eval_set.private, eval_set.style, error))
    return summarize(eval_set, scores)
