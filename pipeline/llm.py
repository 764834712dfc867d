"""Text and structured generation: one interface, a local llama.cpp backend and an HTTP one.

The pipeline thinks through `Generator`: `generate(messages)` returns text and
`generate_json(messages, schema)` returns a value valid against the JSON schema. Small local
models ramble, so JSON output is constrained by a llama.cpp grammar compiled from the schema,
validated, and retried; an OpenAI-compatible endpoint (Ollama, LM Studio, vLLM, a cloud API)
gets the schema as `response_format` and the same validation.
"""

from __future__ import annotations

import codecs
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import httpx
import jsonschema

from secondme.pipeline.errors import GenerationError, ModelUnreachable
from secondme.pipeline.library_logs import llama_cpp_through_logging

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
JSON_ATTEMPTS = 3
# Small base models loop on their own words without a mild penalty.
REPEAT_PENALTY = 1.1


class Generator(Protocol):
    def generate(
        self, messages: list[Message], *, max_tokens: int = 512, temperature: float = 0.7, seed: int | None = None
    ) -> str: ...

    def generate_json(
        self, messages: list[Message], schema: dict[str, Any], *, max_tokens: int = 512, seed: int | None = None
    ) -> Any: ...


def parse_json(text: str, schema: dict[str, Any]) -> Any:
    """Parse and validate; raises GenerationError naming what was wrong."""
    try:
        value = json.loads(text, strict=False)  # raw control characters inside strings are harmless
    except json.JSONDecodeError as exc:
        raise GenerationError(f"the model returned invalid JSON ({exc.msg} at {exc.pos})") from None
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        raise GenerationError(f"the model's JSON does not match the schema: {exc.message}") from None
    return value


# llama.cpp refuses a grammar whose repetitions grow past a fixed bound, and llama-cpp-python then
# crashes the process instead of raising (seen with 0.3.36: a string with maxLength 1100 fails, 1000
# works). Schemas are checked against this first so a too-long field is an error, not a segfault.
MAX_GRAMMAR_STRING_LENGTH = 1000


def check_schema_for_grammar(schema: Any, where: str = "schema") -> None:
    """Raise GenerationError for a schema llama.cpp cannot turn into a grammar."""
    if isinstance(schema, dict):
        limit = schema.get("maxLength")
        if isinstance(limit, int) and limit > MAX_GRAMMAR_STRING_LENGTH:
            raise GenerationError(
                f"{where} allows strings of {limit} characters; llama.cpp grammars take at most "
                f"{MAX_GRAMMAR_STRING_LENGTH}"
            )
        for key, value in schema.items():
            check_schema_for_grammar(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            check_schema_for_grammar(value, f"{where}[{index}]")


def schema_char_bound(schema: dict[str, Any]) -> int:
    """The most characters a value valid against `schema` (as the grammar writes it) can take.

    Used as `max_tokens` for schema-constrained generation: a token is at least one character, so
    generation within this bound always ends with the JSON closed. Unbounded strings count 200.
    """
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return 2 + sum(len(name) + 6 + schema_char_bound(value) for name, value in properties.items())
    if kind == "array":
        return 2 + int(schema.get("maxItems", 8)) * (schema_char_bound(schema.get("items", {})) + 2)
    if kind == "string":
        return 2 + int(schema.get("maxLength", 200))
    return 24


@lru_cache(maxsize=64)
def _grammar(schema_text: str) -> Any:
    from llama_cpp import LlamaGrammar

    check_schema_for_grammar(json.loads(schema_text))
    return LlamaGrammar.from_json_schema(schema_text, verbose=False)


@dataclass(frozen=True)
class LlamaSettings:
    context_size: int = 4096
    threads: int = 0  # 0: llama.cpp's default (physical cores)
    gpu_layers: int = 0  # -1 offloads every layer when llama.cpp was built with CUDA/Metal


class LocalLlama:
    """One llama.cpp model, rendering chats with a Jinja template and fitting them to the context.

    Not thread-safe: the daemon drives it from one worker thread; a job child owns its own.
    """

    def __init__(
        self, path: Path, template: str, settings: LlamaSettings = LlamaSettings(), adapter: Path | None = None
    ) -> None:
        """Loads `path`; with `adapter`, a GGUF LoRA adapter is applied on top of it (a trained version).

        llama-cpp-python reads the base into memory instead of mapping it when an adapter is given, so
        an adapted model does not share its pages with other processes serving the same base.
        """
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llama_cpp_through_logging()

        kwargs: dict[str, Any] = {"n_ctx": settings.context_size, "n_gpu_layers": settings.gpu_layers}
        if settings.threads:
            kwargs["n_threads"] = settings.threads
        if adapter is not None:
            kwargs["lora_path"] = str(adapter)
        try:
            self.llm = Llama(model_path=str(path), verbose=False, **kwargs)
        except (ValueError, RuntimeError) as exc:
            what = f"{path.name} with the adapter {adapter.name}" if adapter is not None else path.name
            raise GenerationError(f"llama.cpp could not load {what}: {exc}") from None
        bos = self._token_text(self.llm.token_bos())
        eos = self._token_text(self.llm.token_eos())
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        self.path = path
        self.n_ctx = self.llm.n_ctx()

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="ignore")

    def close(self) -> None:
        self.llm.close()

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode(), add_bos=False, special=True))

    def _render(self, messages: list[Message]) -> tuple[list[int], list[str]]:
        rendered = self._formatter(messages=messages)
        stop = rendered.stop if isinstance(rendered.stop, list) else [rendered.stop] if rendered.stop else []
        return self.llm.tokenize(rendered.prompt.encode(), add_bos=False, special=True), stop

    def fit(self, messages: list[Message], max_tokens: int) -> tuple[list[int], list[str], int]:
        """Trim the history by tokens so prompt + answer fit the context; never fails on length.

        Oldest turns go first; the system prompt and the newest message stay, and if those alone
        are too long the newest message keeps its end (the question is usually last).
        """
        max_tokens = max(1, min(max_tokens, self.n_ctx // 2))
        budget = self.n_ctx - max_tokens
        kept = list(messages)
        tokens, stop = self._render(kept)
        while len(tokens) > budget and len(kept) > 2:
            drop = 1 if kept[0]["role"] == "system" else 0
            del kept[drop]
            tokens, stop = self._render(kept)
        if len(tokens) > budget:
            overflow = len(tokens) - budget
            for index in (len(kept) - 1, 0):  # shorten the newest message, then the system prompt
                ids = self.llm.tokenize(kept[index]["content"].encode(), add_bos=False, special=False)
                keep = max(0, len(ids) - overflow - 8)
                text = self.llm.detokenize(ids[len(ids) - keep :]).decode("utf-8", errors="ignore") if keep else ""
                kept[index] = {**kept[index], "content": text}
                tokens, stop = self._render(kept)
                overflow = len(tokens) - budget
                if overflow <= 0:
                    break
        return tokens, stop, max_tokens

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 512,
        temperature: float = 0.7,
        seed: int | None = None,
        schema: dict[str, Any] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> Iterator[str]:
        tokens, stop, max_tokens = self.fit(messages, max_tokens)
        if schema is not None:
            yield from self._stream_constrained(tokens, schema, max_tokens, temperature, seed, cancelled)
            return
        if seed is not None:
            self.llm.set_seed(seed)
        chunks = self.llm.create_completion(
            prompt=tokens,
            max_tokens=max_tokens,
            temperature=temperature,
            repeat_penalty=REPEAT_PENALTY,
            stop=stop,
            stream=True,
        )
        try:
            for chunk in chunks:
                if cancelled():
                    return
                text = chunk["choices"][0]["text"]
                if text:
                    yield text
        finally:
            chunks.close()

    def _stream_constrained(
        self,
        tokens: list[int],
        schema: dict[str, Any],
        max_tokens: int,
        temperature: float,
        seed: int | None,
        cancelled: Callable[[], bool],
    ) -> Iterator[str]:
        from llama_cpp import LLAMA_DEFAULT_SEED

        from secondme.pipeline.constrained import constrained_tokens

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        for piece in constrained_tokens(
            self.llm,
            tokens,
            _grammar(json.dumps(schema, sort_keys=True)),
            max_tokens=max_tokens,
            temperature=temperature,
            repeat_penalty=REPEAT_PENALTY,
            seed=LLAMA_DEFAULT_SEED if seed is None else seed,
            cancelled=cancelled,
        ):
            text = decoder.decode(piece)
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    def generate(
        self, messages: list[Message], *, max_tokens: int = 512, temperature: float = 0.7, seed: int | None = None
    ) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens, temperature=temperature, seed=seed))

    def generate_json(
        self, messages: list[Message], schema: dict[str, Any], *, max_tokens: int = 512, seed: int | None = None
    ) -> Any:
        last: GenerationError | None = None
        for attempt in range(JSON_ATTEMPTS):
            text = "".join(
                self.stream(messages, max_tokens=max_tokens, temperature=0.2 + 0.3 * attempt, seed=seed, schema=schema)
            )
            try:
                return parse_json(text, schema)
            except GenerationError as exc:  # e.g. cut off by max_tokens before the JSON closed
                last = exc
        raise GenerationError(f"no valid JSON after {JSON_ATTEMPTS} attempts: {last}")


class LockedGenerator:
    """Serializes calls to a generator shared between threads."""

    def __init__(self, inner: Generator) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    def generate(self, messages: list[Message], **kwargs: Any) -> str:
        with self._lock:
            return self._inner.generate(messages, **kwargs)

    def generate_json(self, messages: list[Message], schema: dict[str, Any], **kwargs: Any) -> Any:
        with self._lock:
            return self._inner.generate_json(messages, schema, **kwargs)


class OpenAICompatible:
    """Any server speaking the OpenAI chat completions API, configured by the owner."""

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 120.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        self._model = model
        self._base_url = base_url

    def close(self) -> None:
        self._client.close()

    def _complete(self, body: dict[str, Any]) -> str:
        try:
            response = self._client.post("/chat/completions", json={"model": self._model, **body})
        except httpx.HTTPError as exc:
            raise ModelUnreachable(f"cannot reach the model endpoint {self._base_url}: {exc}") from None
        if response.status_code != 200:
            raise GenerationError(
                f"the model endpoint {self._base_url} answered {response.status_code}: {response.text[:200]}"
            )
        try:
            return response.json()["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise GenerationError(
                f"the model endpoint {self._base_url} did not return an OpenAI chat completion"
            ) from None

    def generate(
        self, messages: list[Message], *, max_tokens: int = 512, temperature: float = 0.7, seed: int | None = None
    ) -> str:
        body: dict[str, Any] = {"messages": messages, "max_tokens": max_tokens, "temperature": temperature}
        if seed is not None:
            body["seed"] = seed
        return self._complete(body)

    def generate_json(
        self, messages: list[Message], schema: dict[str, Any], *, max_tokens: int = 512, seed: int | None = None
    ) -> Any:
        body: dict[str, Any] = {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": 0.2,
            "response_format": {"type": "json_object", "schema": schema},
        }
        if seed is not None:
            body["seed"] = seed
        last: GenerationError | None = None
        for _ in range(JSON_ATTEMPTS):
            try:
                return parse_json(self._complete(body), schema)
            except ModelUnreachable:
                raise
            except GenerationError as exc:
                last = exc
        raise GenerationError(f"no valid JSON from {self._base_url} after {JSON_ATTEMPTS} attempts: {last}")
