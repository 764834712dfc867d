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

from dataclasses import dataclass
from typing import Any

from secondme.pipeline.llm import MAX_GRAMMAR_STRING_LENGTH, Generator, Message, schema_char_bound

# Headroom over the schema's character bound for escaped characters (a quote is two characters).
TOKEN_HEADROOM = 1.1


@dataclass(frozen=True)
class Field:
    min_chars: int
    max_chars: int
    # A list of up to this many short strings instead of one string.
    items: int = 0


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
        """The model's answer with every field present and within its bound; raises GenerationError."""
        schema = self.schema(fields)
        tokens = int(schema_char_bound(schema) * TOKEN_HEADROOM)
        return self.generator.generate_json(messages, schema, max_tokens=tokens, seed=0)

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
