"""The identity support score: how much of what the self keeps about its owner its memories back.

Every sentence of the biographies and the shades is checked against the memories it cites, with the
same check the identity update applies to a model's sentences (`grounding.support`), so a score of
1.0 means every stored statement passes the test a new one must pass. Sentences the owner wrote
themselves (an edited shade) cite nothing and are theirs to vouch for: they are counted apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from secondme.pipeline.identity.briefs import MemoryBrief
from secondme.pipeline.identity.grounded import GroundedSentence, Grounder


@dataclass(frozen=True)
class PartScore:
    supported: int
    total: int


@dataclass
class SupportReport:
    supported: int = 0
    total: int = 0
    # Per text ("biography", "status", "shade 3 beekeeping"): (supported, total).
    parts: dict[str, PartScore] = field(default_factory=dict)
    # The sentences that failed, with the part, the field and the memories they cite.
    unsupported: list[dict[str, Any]] = field(default_factory=list)
    # Texts written by the owner, which cite no memories and are not scored.
    owner_written: list[str] = field(default_factory=list)

    @property
    def score(self) -> float | None:
        """Share of sentences supported by their cited memories; None when there are none yet."""
        return self.supported / self.total if self.total else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = self.score
        return data


def support_score(
    parts: Mapping[str, Sequence[GroundedSentence]],
    memories: Mapping[str, MemoryBrief],
    grounder: Grounder,
    owner_written: Sequence[str] = (),
) -> SupportReport:
    """Check every sentence of `parts` against the `memories` it cites (a missing memory supports nothing)."""
    report = SupportReport(owner_written=list(owner_written))
    for part, sentences in parts.items():
        supported = 0
        for sentence in sentences:
            if grounder.supported(sentence, memories):
                supported += 1
            else:
                report.unsupported.append({"part": part, **sentence.to_dict()})
        report.parts[part] = PartScore(supported, len(sentences))
        report.supported += supported
        report.total += len(sentences)
    return report
