"""Schema-constrained JSON: secondme's lazy grammar check vs llama-cpp-python's grammar vs plain text.

Same GGUF, prompt, seed, threads and token budget in one run. llama-cpp-python applies the grammar
to the whole vocabulary at every step; secondme checks only the sampled token and falls back to
the full pass when it is refused (pipeline/constrained.py). Prints tokens/s of each and the ratios.
Uses the packaged default model when installed (its 262k-token vocabulary is where it matters),
else the tiny fixture model.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench_chat import model_file

from secondme.daemon.models.info import read_model_info
from secondme.daemon.models.templates import template_for
from secondme.pipeline.llm import LlamaSettings, LocalLlama, _grammar, parse_json

SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "minLength": 10, "maxLength": 320},
        "insight": {"type": "string", "minLength": 10, "maxLength": 200},
        "keywords": {"type": "array", "items": {"type": "string", "minLength": 2, "maxLength": 24}, "maxItems": 6},
    },
    "required": ["summary", "insight", "keywords"],
    "additionalProperties": False,
}
PROMPT = "Describe a day of sailing from Plymouth to Fowey. Answer with JSON: summary, insight, keywords."


def timed(run) -> tuple[float, str]:
    started = time.perf_counter()
    text = run()
    return time.perf_counter() - started, text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=160, help="token budget per answer")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path, label = model_file(Path(scratch))
        info = read_model_info(path)
        model = LocalLlama(path, template_for(info.architecture, info.chat_template), LlamaSettings(2048, args.threads))
        messages = [{"role": "user", "content": PROMPT}]
        prompt, _, _ = model.fit(messages, args.tokens)
        grammar = _grammar(json.dumps(SCHEMA, sort_keys=True))
        rates: dict[str, list[float]] = {"lazy": [], "llama-cpp-python grammar": [], "plain": []}
        for seed in range(args.runs):

            def lazy(seed: int = seed) -> str:
                return "".join(
                    model.stream(messages, max_tokens=args.tokens, schema=SCHEMA, seed=seed, temperature=0.2)
                )

            def eager(seed: int = seed) -> str:
                model.llm.set_seed(seed)
                out = model.llm.create_completion(prompt=prompt, max_tokens=args.tokens, temperature=0.2,
                                                  grammar=grammar, repeat_penalty=1.1)  # fmt: skip
                return out["choices"][0]["text"]

            def plain(seed: int = seed) -> str:
                return model.generate(messages, max_tokens=args.tokens, seed=seed, temperature=0.2)

            for name, run in (("lazy", lazy), ("llama-cpp-python grammar", eager), ("plain", plain)):
                seconds, text = timed(run)
                rates[name].append(model.count_tokens(text) / seconds)
                if name == "lazy" and text.rstrip().endswith("}"):
                    parse_json(text, SCHEMA)  # an answer that closed is valid JSON for the schema
        model.close()
    best = {name: max(values) for name, values in rates.items()}
    print(f"model: {label}, {args.runs} runs of up to {args.tokens} tokens, {args.threads} threads")
    for name, value in best.items():
        print(f"{name:<26} {value:8.1f} tok/s (best of {args.runs})")
    print(f"ratio lazy/llama-cpp-python grammar {best['lazy'] / best['llama-cpp-python grammar']:.2f}x")
    print(f"ratio lazy/plain {best['lazy'] / best['plain']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
