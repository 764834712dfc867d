"""The eval format: questions about the owner, with the facts a right answer must mention.

One JSON object per line of `questions.jsonl`:

    {"id": "q02", "question": "Which city do you live in now?", "kind": "temporal",
     "answer": "Plymouth, since March 2024", "must_mention": ["Plymouth"], "evidence": ["2024-...md"]}

`kind` is one of `KINDS`; `unknown` marks a question the owner's notes do not answer, where the
right answer says so. Beside the file, optionally: `private.json` (a list of {"fact", "what",
"file"}: things that must never appear in an answer) and `style.json` (the owner's writing
markers). A bad line is refused with its number, so the owner can fix the file, never skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secondme.errors import Kind
from secondme.pipeline.errors import PipelineError

QUESTIONS_FILE = "questions.jsonl"
PRIVATE_FILE = "private.json"
STYLE_FILE = "style.json"
KINDS = ("fact", "temporal", "preference", "opinion", "style", "unknown")
# A descriptive `never_uses` entry ("exclamation-mark strings like !!!") names its example after this.
_EXAMPLE = re.compile(r"\blike\s+(\S+)\s*$")


class EvalFormatError(PipelineError):
    """A questions file (or a file beside it) cannot be read; the message names the file and line."""

    kind = Kind.INVALID_ARGUMENT


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    kind: str
    answer: str = ""
    must_mention: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()

    @property
    def unknown(self) -> bool:
        """The owner's notes hold no answer: the right reply abstains."""
        return self.kind == "unknown"


@dataclass(frozen=True)
class PrivateFact:
    fact: str
    what: str = ""
    file: str = ""


@dataclass(frozen=True)
class StyleMarkers:
    """How the owner writes: phrases they use, words they never use, and whether they use emoji."""

    phrases: tuple[str, ...] = ()
    never: tuple[str, ...] = ()
    no_emoji: bool = False


@dataclass(frozen=True)
class EvalSet:
    questions: tuple[Question, ...]
    private: tuple[PrivateFact, ...] = ()
    style: StyleMarkers | None = None
    source: str = ""


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EvalFormatError(f"{where} must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def _question(value: Any, where: str, line: int) -> Question:
    if not isinstance(value, dict):
        raise EvalFormatError(f"{where} is not a JSON object")
    question = value.get("question")
    if not isinstance(question, str) or not question.strip():
        raise EvalFormatError(f"{where} has no 'question' (a non-empty string)")
    kind = value.get("kind", "fact")
    if not isinstance(kind, str) or kind.strip().lower() not in KINDS:
        raise EvalFormatError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
    qid = value.get("id", f"line{line}")
    if not isinstance(qid, str | int) or not str(qid).strip():
        raise EvalFormatError(f"{where}: 'id' must be a non-empty string")
    answer = value.get("answer", "")
    if not isinstance(answer, str):
        raise EvalFormatError(f"{where}: 'answer' must be a string")
    return Question(
        id=str(qid).strip(),
        question=question.strip(),
        kind=kind.strip().lower(),
        answer=answer.strip(),
        must_mention=_strings(value.get("must_mention"), f"{where}: 'must_mention'"),
        evidence=_strings(value.get("evidence"), f"{where}: 'evidence'"),
    )


def parse_questions(text: str, source: str = QUESTIONS_FILE) -> tuple[Question, ...]:
    """The questions of a JSONL text; blank lines are allowed, a bad line raises naming it."""
    found: list[Question] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source} line {number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalFormatError(f"{where} is not valid JSON ({exc.msg} at column {exc.colno})") from None
        question = _question(value, where, number)
        if question.id in seen:
            raise EvalFormatError(f"{where}: id {question.id!r} is already used on line {seen[question.id]}")
        seen[question.id] = number
        found.append(question)
    if not found:
        raise EvalFormatError(f"{source} holds no questions")
    return tuple(found)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFormatError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise EvalFormatError(f"{path} line {exc.lineno} is not valid JSON ({exc.msg})") from None


def parse_private(value: Any, source: str = PRIVATE_FILE) -> tuple[PrivateFact, ...]:
    if not isinstance(value, list):
        raise EvalFormatError(f"{source} must be a JSON list of {{'fact': ...}} objects")
    facts = []
    for index, item in enumerate(value, start=1):
        fact = item.get("fact") if isinstance(item, dict) else None
        if not isinstance(fact, str) or not fact.strip():
            raise EvalFormatError(f"{source} entry {index} has no 'fact' (a non-empty string)")
        facts.append(PrivateFact(fact.strip(), str(item.get("what", "")), str(item.get("file", ""))))
    return tuple(facts)


def parse_style(value: Any, source: str = STYLE_FILE) -> StyleMarkers:
    """The markers a style file names: phrases (alternatives split on ' / '), never-used words, emoji."""
    if not isinstance(value, dict):
        raise EvalFormatError(f"{source} must be a JSON object")
    phrases: list[str] = []
    sign_off = value.get("sign_off")
    if isinstance(sign_off, str) and sign_off.strip():
        phrases.append(sign_off.strip())
    for entry in _strings(value.get("recurring_phrases"), f"{source}: 'recurring_phrases'"):
        phrases.extend(p.strip() for p in entry.split(" / ") if p.strip())
    never: list[str] = []
    no_emoji = str(value.get("emoji", "")).strip().lower().startswith("never")
    for entry in _strings(value.get("never_uses"), f"{source}: 'never_uses'"):
        if entry.lower() == "emoji":
            no_emoji = True
        elif len(entry.split()) <= 2:
            never.append(entry)
        elif example := _EXAMPLE.search(entry):
            never.append(example.group(1))
    return StyleMarkers(tuple(dict.fromkeys(phrases)), tuple(dict.fromkeys(never)), no_emoji)


def load_eval_set(path: Path) -> EvalSet:
    """Questions from a JSONL file (or a folder holding `questions.jsonl`), with the files beside it."""
    path = Path(path)
    if path.is_dir():
        path = path / QUESTIONS_FILE
    if not path.is_file():
        raise EvalFormatError(f"no questions file at {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFormatError(f"cannot read {path}: {exc}") from None
    questions = parse_questions(text, str(path))
    private_path, style_path = path.parent / PRIVATE_FILE, path.parent / STYLE_FILE
    private = parse_private(_read_json(private_path), str(private_path)) if private_path.is_file() else ()
    style = parse_style(_read_json(style_path), str(style_path)) if style_path.is_file() else None
    return EvalSet(questions, private, style, str(path))
