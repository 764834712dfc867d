"""The owner's second person: the same text addressed to them ("you"), for the self to speak from.

A separate small task rather than a second set of fields in the first answer: a small model
rewrites a given paragraph far more faithfully than it writes two versions at once, and each
answer stays within what a small context can generate.
"""

from __future__ import annotations

from typing import Any

from secondme.pipeline.llm import Generator, schema_char_bound

# Headroom over the schema's character bound for escaped characters (a quote is two characters).
TOKEN_HEADROOM = 1.1


def max_tokens_for(schema: dict[str, Any]) -> int:
    return int(schema_char_bound(schema) * TOKEN_HEADROOM)


def string_field(min_length: int, max_length: int) -> dict[str, Any]:
    return {"type": "string", "minLength": min_length, "maxLength": max_length}


def object_schema(fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"type": "object", "properties": fields, "required": list(fields), "additionalProperties": False}


def in_second_person(
    generator: Generator, texts: dict[str, str], limits: dict[str, int], owner_name: str = ""
) -> dict[str, str]:
    """Each text rewritten addressing the owner as "you", same facts; raises GenerationError."""
    who = owner_name or "the owner"
    schema = object_schema({key: string_field(min(10, max(1, len(texts[key]) // 4)), limits[key]) for key in texts})
    system = (
        f"You rewrite texts about {who} so that they speak to {who} directly, as 'you', keeping every fact "
        "and date and adding nothing. Answer with JSON holding the rewritten texts under the same keys."
    )
    user = "\n\n".join(f"{key}:\n{value}" for key, value in texts.items())
    value = generator.generate_json(
        [{"role": "system", "content": system}, {"role": "user", "content": user}],
        schema,
        max_tokens=max_tokens_for(schema),
        seed=0,
    )
    return {key: str(value[key]).strip() for key in texts}
