"""How the identity steps ask the model for text: schema-bounded JSON, and the owner's second person.

Every field has a length bound, which the JSON grammar enforces: small local models otherwise run
on until the token limit and leave the JSON open. `length_scale` shrinks or grows every bound at
once, so a slow machine can ask for shorter texts (the tests' random-weight model fills every
field to its bound). `max_tokens` follows from the bounds, so generation always ends closed.

The second person ("you") is a separate small task rather than a second set of fields in the first
answer: a small model rewrites a given paragraph far more faithfully than it writes two versions at
once, and each answer stays within what a small context can generate.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

from secondme.pipeline.errors import GenerationError
from secondme.pipeline.llm import MAX_GRAMMAR_STRING_LENGTH, Generator, Message, schema_char_bound
from secondme.pipeline.same_content import shingles

# Headroom over the schema's character bound for escaped characters (a quote is two characters).
TOKEN_HEADROOM = 1.1


# Tries per answer, each with its own seed: Gemma 3 270M copied the instructions back for 2 of 6
# seeds of one biography, the first seed among them.
PLAUSIBLE_ATTEMPTS = 3
_URL = re.compile(r"^\S*(://|www\.)\S*$")
_RUN = re.compile(r"(\S)\1{7,}")
# Text that compresses below this ratio repeats itself ("10.3, 10.4, 10.5, ..." compresses to 0.28,
# a sentence said forty times to 0.05); the persona's notes never went below 0.58 at these lengths.
REPETITION_RATIO = 0.35
REPETITION_MIN_CHARS = 120
# Words in a row shared with the instructions that make an answer a copy of them (Gemma 3 270M
# answered "name (two to four words naming the facet), aspect (the area of life, ...").
ECHO_WORDS = 6


@dataclass(frozen=True)
class Field:
    min_chars: int
    max_chars: int
    # A list of up to this many short strings instead of one string.
    items: int = 0


def implausible(value: Any, field: Field, instructions: str = "") -> str:
    """Why a generated value is one of the degenerate answers small models give under a grammar ('' if not).

    Seen from Gemma 3 270M: a sentence-long field holding no word ("100,000,000", a timestamp), a
    URL, one character over and over, a counting pattern ("10.3, 10.4, ..."), or the instructions
    copied back. Lists (keywords) are judged by their best item.
    """
    texts = [str(t).strip() for t in (value if isinstance(value, list) else [value])]
    told = shingles(instructions, ECHO_WORDS)
    reasons = [
        _degenerate(t, field) or ("the instructions repeated" if shingles(t, ECHO_WORDS) & told else "") for t in texts
    ]
    return "" if any(not r for r in reasons) else reasons[0]


def _degenerate(text: str, field: Field) -> str:
    if field.min_chars >= 10 and not any(c.isalpha() for c in text):
        return "no words"
    if _URL.match(text):
        return "a bare URL"
    if _RUN.search(text):
        return "one character repeated"
    if len(text) >= REPETITION_MIN_CHARS and len(zlib.compress(text.encode(), 9)) < REPETITION_RATIO * len(
        text.encode()
    ):
        return "a pattern repeated"
    return ""


@dataclass(frozen=True)
class Writer:
    generator: Generator
    owner_name: str = ""
    length_scale: float = 1.0

    @property
    def who(self) -> str:
        return self.owner_name or "the owner"

    def bound(self, field: Field) -> int:
        return max(field.min_chars + 1, min(MAX_GRAMMAR_STRING_LENGTH, round(field.max_chars * self.length_scale)))

    def schema(self, fields: dict[str, Field]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for name, field in fields.items():
            text = {"type": "string", "minLength": field.min_chars, "maxLength": self.bound(field)}
            if field.items:
                properties[name] = {"type": "array", "items": text, "minItems": 1, "maxItems": field.items}
            else:
                properties[name] = text
        return {"type": "object", "properties": properties, "required": list(fields), "additionalProperties": False}

    def ask(self, messages: list[Message], fields: dict[str, Field]) -> dict[str, Any]:
        """The model's answer with every field present, within its bound and made of words.

        Valid JSON is not yet an answer: a small base model under a grammar may fill a field with a
        URL or a run of zeros rather than stop. Such an answer is asked for again with another seed, and
        if no seed gives an answer the unit fails (and is retried at a later update) instead of
        storing noise as what the owner's notes say. The system message holds only instructions
        (what the owner's notes say comes in the user message), so an answer that shares a run of
        its words copied the instructions.
        """
        instructions = " ".join(str(m["content"]) for m in messages if m["role"] == "system")
        schema = self.schema(fields)
        tokens = int(schema_char_bound(schema) * TOKEN_HEADROOM)
        problem = ""
        for seed in range(PLAUSIBLE_ATTEMPTS):
            value = self.generator.generate_json(messages, schema, max_tokens=tokens, seed=seed)
            reasons = ((name, implausible(value[name], fields[name], instructions)) for name in fields)
            problem = next((f"{name}: {why}" for name, why in reasons if why), "")
            if not problem:
                return value
        raise GenerationError(f"the model's answer is not text ({problem}) after {PLAUSIBLE_ATTEMPTS} attempts")

    def second_person(self, texts: dict[str, str], fields: dict[str, Field]) -> dict[str, str]:
        """Each text rewritten addressing the owner as "you", same facts; raises GenerationError."""
        wanted = {key: Field(min(10, max(1, len(texts[key]) // 4)), fields[key].max_chars) for key in texts}
        system = (
            f"You rewrite texts about {self.who} so that they speak to {self.who} directly, as 'you', keeping "
            "every fact and date and adding nothing. Answer with JSON holding the rewritten texts under the "
            "same keys."
        )
        user = "\n\n".join(f"{key}:\n{value}" for key, value in texts.items())
        value = self.ask([{"role": "system", "content": system}, {"role": "user", "content": user}], wanted)
        return {key: str(value[key]).strip() for key in texts}
