"""The capability check a model must pass before it may write about the owner in its own words.

Four short tasks, each real generation: follow a plain instruction, answer a question from a quoted
note with the right span (not the note copied back), say it does not know when the note does not
hold the answer, and produce the JSON the pipeline asks for with the right values. A model passes
only if it does all four; the pipeline and chat then let it write (checked sentence by sentence),
and otherwise build what they say from the owner's own sentences. A model that cannot be reached
(an endpoint that times out) is "unchecked", which counts as not passed until a later check.

The packaged Gemma 3 270M is a base model: it repeats the question, and fails here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from secondme.pipeline.errors import GenerationError, ModelUnreachable
from secondme.pipeline.evaluation.scoring import abstains
from secondme.pipeline.llm import Generator, Message

# Bumped when the tasks change, so a model checked by older tasks is checked again.
PROBE_VERSION = 1
PASSED, FAILED, UNCHECKED = "passed", "failed", "unchecked"
MAX_ANSWER_WORDS = 14
_SYSTEM_NOTES = (
    "Answer the question from the note the user quotes, briefly, in a few words. If the note does not say, "
    "answer exactly: I don't know."
)


@dataclass(frozen=True)
class ProbeCheck:
    name: str
    passed: bool
    # What the model answered (cut), or why the check could not run.
    detail: str


@dataclass(frozen=True)
class ProbeResult:
    status: str  # passed | failed | unchecked
    checks: tuple[ProbeCheck, ...] = ()
    reason: str = ""
    seconds: float = 0.0
    version: int = PROBE_VERSION

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeResult:
        checks = tuple(ProbeCheck(**c) for c in data.get("checks", []))
        return cls(
            status=str(data.get("status", UNCHECKED)),
            checks=checks,
            reason=str(data.get("reason", "")),
            seconds=float(data.get("seconds", 0.0)),
            version=int(data.get("version", 0)),
        )


@dataclass(frozen=True)
class _Task:
    name: str
    run: Callable[[Generator], tuple[bool, str]]


def _short(text: str) -> str:
    return " ".join(text.split())[:160]


def _brief(text: str) -> bool:
    return 0 < len(text.split()) <= MAX_ANSWER_WORDS


def _ask(generator: Generator, system: str, user: str) -> str:
    messages: list[Message] = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return generator.generate(messages, max_tokens=32, temperature=0.0, seed=0).strip()


def _instruction(generator: Generator) -> tuple[bool, str]:
    answer = _ask(
        generator, "Follow the user's instruction exactly.", "Write the number seven in digits, and nothing else."
    )
    return re.fullmatch(r"\W*7\W*", answer) is not None, _short(answer)


def _quoted_answer(generator: Generator) -> tuple[bool, str]:
    note = (
        'Note (2024-03-02): "Plot 14 is mostly bindweed. Mrs Okafor from the next plot lent me a fork, and the '
        'water butt goes in before anything else."'
    )
    answer = _ask(generator, _SYSTEM_NOTES, f"{note}\n\nQuestion: What is the number of my plot?")
    return bool(re.search(r"\b14\b", answer)) and _brief(answer) and "bindweed" not in answer.lower(), _short(answer)


def _abstain(generator: Generator) -> tuple[bool, str]:
    note = 'Note (2024-04-13): "Broad beans are in, two rows, and the rhubarb survived the frost."'
    answer = _ask(generator, _SYSTEM_NOTES, f"{note}\n\nQuestion: What is my sister's name?")
    return abstains(answer) and _brief(answer), _short(answer)


_CITY_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 40}, "year": {"type": "integer"}},
    "required": ["city", "year"],
    "additionalProperties": False,
}


def _json(generator: Generator) -> tuple[bool, str]:
    messages: list[Message] = [
        {
            "role": "system",
            "content": "Extract from the note the city the writer moved to and the year. Answer with JSON.",
        },
        {"role": "user", "content": 'Note: "In 2019 we finally left Leeds and moved to Lisbon, where Ines grew up."'},
    ]
    value = generator.generate_json(messages, _CITY_SCHEMA, max_tokens=48, seed=0)
    right = "lisbon" in str(value.get("city", "")).lower() and value.get("year") == 2019
    return right, _short(str(value))


TASKS = (
    _Task("follows an instruction", _instruction),
    _Task("answers from a quoted note", _quoted_answer),
    _Task("says when the note does not say", _abstain),
    _Task("writes the JSON asked for", _json),
)


def run_probe(generator: Generator, clock: Callable[[], float] = time.monotonic) -> ProbeResult:
    """Run every task; passed only if all pass, unchecked if the model cannot be reached."""
    started = clock()
    checks = []
    for task in TASKS:
        try:
            passed, detail = task.run(generator)
        except ModelUnreachable as exc:
            return ProbeResult(UNCHECKED, tuple(checks), str(exc), clock() - started)
        except GenerationError as exc:  # e.g. no valid JSON: the model failed this task
            passed, detail = False, f"no usable answer: {exc}"
        checks.append(ProbeCheck(task.name, passed, detail))
    status = PASSED if all(c.passed for c in checks) else FAILED
    return ProbeResult(status, tuple(checks), "", clock() - started)


@dataclass
class ProbeSummary:
    """A line for people: what the check found."""

    result: ProbeResult
    failed: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.failed = [c.name for c in self.result.checks if not c.passed]

    def line(self) -> str:
        if self.result.status == UNCHECKED:
            return f"unchecked: {self.result.reason}" if self.result.reason else "not checked yet"
        if self.result.passed:
            return "passed: it writes in its own words, checked against your memories"
        return "failed (" + "; ".join(self.failed) + "): what it says of you is built from your own sentences"
