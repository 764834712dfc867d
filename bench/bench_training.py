"""Training benchmarks, each a ratio against a baseline measured in the same run.

1. SFT tokens/s and peak RSS of the training job (`secondmectl train --stages sft`: a job child with
   checkpoints, progress and our data path) vs a plain trl loop (SFTTrainer, nothing else) on the
   same model, the same examples and the same settings (goal: >= 0.95x the speed, <= 1.1x the memory).
2. Decode tokens/s of the trained version served as a LoRA adapter on the base vs the merged,
   quantized model (same quantization as the base).
3. The whole loop: ingest (and the identity update), then `secondmectl train` (data, plan, pairs, SFT,
   DPO, export, register, eval), with the job's own eval table, base + retrieval vs trained + retrieval,
   on the persona's eval questions when it has them (goal on ../shared/personas/alex with the packaged
   Gemma: recall +0.15, abstention >= 0.8, the loop <= 30 min on 2 cores).

    .venv/bin/python bench/bench_training.py                       # tiny model, the project's persona
    .venv/bin/python bench/bench_training.py --gemma --full PERSONA  # packaged Gemma, a full training

Without --full every stage is capped at --steps optimizer steps. Heavy with --gemma: run it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from harness import BenchDaemon, start_daemon, wait_idle

from secondme.daemon.client import Client

PERSONA = Path(__file__).resolve().parents[1] / "tests" / "persona"
PROMPT = [{"role": "user", "content": "Tell me about the last race you ran, and how it went."}]


def config(args: argparse.Namespace, identity: bool) -> str:
    threads, eval_questions, max_length = args.threads, args.eval_questions, args.max_length
    return f"""version = 1
[network]
enabled = false
[models]
threads = {threads}
context_size = 4096
[identity]
auto_update = {"true" if identity else "false"}
[chat]
use_failed_model = true
[training]
threads = {threads}
max_length = {max_length}
eval_questions = {eval_questions}
sft_epochs = {args.epochs}
questions_per_memory = {args.questions_per_memory}
distractors = {args.distractors}
preference_prompts = {args.pairs}
effective_batch = {args.effective_batch}
checkpoint_seconds = 120.0
"""


class PeakRss:
    """The peak resident memory (VmHWM) of the daemon's job children, polled while they live."""

    def __init__(self, daemon_pid: int) -> None:
        self.daemon_pid = daemon_pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(0.2):
            # The job's process is a child of the daemon's fork server, a grandchild of the daemon.
            for child in psutil.Process(self.daemon_pid).children(recursive=True):
                try:
                    status = Path(f"/proc/{child.pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak = max(self.peak, int(line.split()[1]) * 1024)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def train(daemon: BenchDaemon, client: Client, **fields: Any) -> tuple[dict[str, Any], float, int]:
    rss = PeakRss(daemon.process.pid)
    started = time.monotonic()
    job = client.training.train(**fields).job
    assert job is not None
    done = client.jobs.wait(job.id)
    seconds = time.monotonic() - started
    peak = rss.stop()
    if not done.succeeded:
        raise RuntimeError(f"training failed: {done.error}")
    return done.result, seconds, peak


def plain_trl(args: argparse.Namespace) -> None:
    """The baseline, in its own process: trl's SFTTrainer on the same rows and settings, nothing of ours."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig
    from trl import SFTConfig, SFTTrainer

    from secondme.daemon.jobs.child import JOB_NICENESS

    os.nice(JOB_NICENESS)  # as every job child does: the two share the machine on equal terms
    spec = json.loads(Path(args.plain_trl).read_text())
    torch.set_num_threads(spec["threads"])
    gguf = Path(spec["gguf"])
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tokenizer.chat_template = spec["chat_template"]
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32, quantization_config=GgufConfig(dequantize=True)
    )
    if getattr(model, "hf_quantizer", None) is not None:  # transformers marks a quantized GGUF's model quantized
        model.hf_quantizer.remove_quantization_config(model)
    model = get_peft_model(
        model,
        LoraConfig(r=spec["rank"], lora_alpha=spec["alpha"], target_modules=spec["targets"], lora_dropout=0.0),
    )
    sft = SFTConfig(
        output_dir=spec["out"], per_device_train_batch_size=spec["batch"], gradient_accumulation_steps=spec["accum"],
        max_steps=spec["steps"], learning_rate=spec["lr"], lr_scheduler_type="cosine", logging_steps=1,
        save_strategy="no", report_to=[], disable_tqdm=True, seed=1234, data_seed=1234,
        max_length=spec["max_length"], use_cpu=True, completion_only_loss=True, bf16=spec["dtype"] == "bf16",
        gradient_checkpointing=False,
    )  # fmt: skip
    trainer = SFTTrainer(
        model=model, args=sft, train_dataset=Dataset.from_list(spec["rows"]), processing_class=tokenizer
    )
    inner, counted = trainer.data_collator, [0]

    def counting(examples: list[Any]) -> Any:
        batch = inner(examples)
        counted[0] += int(batch["attention_mask"].sum())
        return batch

    trainer.data_collator = counting
    started = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"tokens": counted[0], "seconds": seconds, "peak_rss": peak}))


def sft_comparison(daemon: BenchDaemon, client: Client, steps: int, threads: int, merged: str = "") -> dict[str, Any]:
    """The plain trl loop runs before and after the job (A-B-A), so a load that drifts meanwhile shows."""
    print(f"\n1. SFT, {steps} optimizer steps: the training job vs a plain trl loop (trl, job, trl)")
    dry, _, _ = train(daemon, client, stages=["sft"], max_steps=steps, dry_run=True)  # the data and the plan
    plan = dry["plan"]
    base = client.models.get(dry["base"]["id"])
    gguf = daemon.root / "data" / "models" / f"{base.sha256}.gguf"
    template = _chat_template(daemon, base.id)
    examples = list(client.training.export(part="examples"))
    rows = [
        {"prompt": e["prompt"], "completion": [{"role": "assistant", "content": e["completion"]}]} for e in examples
    ]
    sft_plan = next(s for s in plan["stages"] if s["stage"] == "sft")
    from secondme.pipeline.training.plan import LORA_TARGETS

    with tempfile.TemporaryDirectory() as tmp:
        spec = {
            "gguf": str(gguf), "chat_template": template, "rows": _fitting(gguf, template, rows, plan["max_length"]),
            "threads": threads, "rank": plan["lora_rank"], "alpha": plan["lora_alpha"], "targets": list(LORA_TARGETS),
            "batch": sft_plan["batch_size"], "accum": sft_plan["accumulation"], "steps": sft_plan["steps"],
            "lr": sft_plan["learning_rate"], "max_length": plan["max_length"], "out": tmp, "dtype": plan["dtype"],
        }  # fmt: skip
        (Path(tmp) / "spec.json").write_text(json.dumps(spec))
        before = _plain(Path(tmp) / "spec.json")
        result, _, job_peak = train(daemon, client, stages=["sft"], max_steps=steps, no_activate=True, merged=merged)
        after = _plain(Path(tmp) / "spec.json")
    stage = result["stages"]["sft"]
    rate, dtype = stage["tokens_per_second"], result["plan"]["dtype"]
    print(f"   job ({dtype}): {stage['tokens']:>7} tokens in {stage['seconds']:7.1f} s = {rate:7.1f} tok/s,"
          f" peak RSS {job_peak / 2**20:6.0f} MiB (plan said {plan['peak_memory_bytes'] / 2**20:.0f} MiB,"
          f" ~{sft_plan['seconds']:.0f} s)")  # fmt: skip
    for label, plain in (("before", before), ("after", after)):
        plain_rss = plain["peak_rss"] / 2**20
        print(f"   trl {label:<6} ({plan['dtype']}) {plain['tokens']:>7} tokens in {plain['seconds']:7.1f} s = "
              f"{plain['tokens'] / plain['seconds']:7.1f} tok/s, peak RSS {plain_rss:6.0f} MiB")  # fmt: skip
    plain_rate = (before["tokens"] + after["tokens"]) / (before["seconds"] + after["seconds"])
    print(f"   speed  {rate / plain_rate:.2f}x of the two trl runs together  (goal >= 0.95x)")
    print(f"   memory {job_peak / max(before['peak_rss'], after['peak_rss']):.2f}x  (goal <= 1.1x)")
    return result


def _plain(spec: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--plain-trl", str(spec)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"the plain trl loop failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _chat_template(daemon: BenchDaemon, model_id: str) -> str:
    import sqlite3

    db = sqlite3.connect(daemon.root / "data" / "secondme.db")
    try:
        return db.execute("SELECT chat_template FROM models WHERE id = ?", (model_id,)).fetchone()[0]
    finally:
        db.close()


def _fitting(gguf: Path, template: str, rows: list[dict[str, Any]], max_length: int) -> list[dict[str, Any]]:
    """The rows the job trains on: those whose prompt and answer fit max_length (as the job filters)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tokenizer.chat_template = template

    def length(row: dict[str, Any]) -> int:
        ids = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=True)
        return len(ids["input_ids"] if hasattr(ids, "keys") else ids)

    return [r for r in rows if length(r) <= max_length]


def decode_comparison(daemon: BenchDaemon, client: Client, adapter_name: str, merged_name: str, threads: int) -> None:
    from secondme.pipeline.llm import LlamaSettings, LocalLlama

    print("\n2. Decode: the adapter on the base vs the merged model")
    models = {m.name: m for m in client.models.list()}
    adapter, merged = models[adapter_name], models[merged_name]
    base = next(m for m in models.values() if m.name == adapter.base)
    path = daemon.root / "data" / "models"
    template = _chat_template(daemon, base.id)
    rates = {}
    for label, model_file, adapter_file in (
        ("adapter", path / f"{base.sha256}.gguf", path / f"{adapter.sha256}.gguf"),
        ("merged", path / f"{merged.sha256}.gguf", None),
    ):
        llm = LocalLlama(model_file, template, LlamaSettings(2048, threads), adapter=adapter_file)
        try:
            best = 0.0
            for _ in range(3):
                started = time.perf_counter()
                tokens = sum(1 for _ in llm.stream(PROMPT, max_tokens=128, temperature=0.0, seed=0))
                best = max(best, tokens / (time.perf_counter() - started))
        finally:
            llm.close()
        rates[label] = best
        print(f"   {label:<8} {best:7.1f} tok/s ({merged.quantization if label == 'merged' else base.quantization})")
    print(f"   adapter / merged {rates['adapter'] / rates['merged']:.2f}x")


def sampled(questions: Path, every: int, folder: Path) -> Path:
    """Every `every`-th question of the file (all kinds keep their share), beside copies of its private and
    style files; the file itself when `every` is 1."""
    if every <= 1:
        return questions
    folder.mkdir(parents=True, exist_ok=True)
    lines = [line for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    (folder / "questions.jsonl").write_text("\n".join(lines[::every]) + "\n", encoding="utf-8")
    for name in ("private.json", "style.json"):
        if (questions.parent / name).is_file():
            (folder / name).write_text((questions.parent / name).read_text(encoding="utf-8"), encoding="utf-8")
    return folder / "questions.jsonl"


def print_eval(report: dict[str, Any]) -> None:
    if "served" not in report:
        print("   (no evaluation)")
        return
    print(f"   {report['questions']} questions ({report['source']}), with retrieval")
    columns = [("served", "base"), ("served", "trained"), ("own_words", "base"), ("own_words", "trained")]
    print(f"   {'':<17} {'base':>8} {'trained':>8} {'base own':>9} {'trained own':>12}")
    for key in ("recall", "all_terms", "abstention", "false_abstention", "style_markers", "seconds_mean"):
        values = [report[a][b].get(key) for a, b in columns]
        if all(v is None for v in values):
            continue
        cells = ["-" if v is None else f"{v:.2f}" for v in values]
        print(f"   {key:<17} {cells[0]:>8} {cells[1]:>8} {cells[2]:>9} {cells[3]:>12}")
    leaks = [len(report[a][b]["leaks"]) for a, b in columns]
    print(f"   {'leaks':<17} {leaks[0]:>8} {leaks[1]:>8} {leaks[2]:>9} {leaks[3]:>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("persona", nargs="?", type=Path, default=PERSONA)
    parser.add_argument("--gemma", action="store_true", help="the packaged Gemma 3 270M instead of the tiny model")
    parser.add_argument("--full", action="store_true", help="train as planned instead of --steps per stage")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--eval-questions", type=int, default=24, help="held-out questions, when PERSONA has none")
    parser.add_argument("--epochs", type=float, default=1.0, help="SFT epochs")
    parser.add_argument("--questions-per-memory", type=int, default=2)
    parser.add_argument("--distractors", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=16, help="preference prompts the base answers for DPO")
    parser.add_argument("--effective-batch", type=int, default=8, help="examples per optimizer step")
    parser.add_argument("--eval-sample", type=int, default=1, metavar="K", help="ask every K-th persona question")
    parser.add_argument("--no-comparison", action="store_true", help="skip 1. (the job vs plain trl)")
    parser.add_argument("--only-comparison", action="store_true", help="only 1. (its job also merges) and 2.")
    parser.add_argument("--plain-trl", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.persona = args.persona.resolve()  # the daemon takes absolute paths only
    if args.plain_trl:
        plain_trl(args)
        return

    from secondme.pipeline.tiny_model import build_tiny_model

    text = config(args, identity=args.gemma)
    daemon = start_daemon(text, init_args=() if args.gemma else ("--no-default-model",))
    try:
        client = Client.connect(daemon.socket)
        if not args.gemma:
            tiny = build_tiny_model(daemon.root / "tiny")["f16"]
            client.models.import_file(tiny, "tiny")
            client.models.activate("tiny")
        active = next(m for m in client.models.list() if m.active)
        print(f"base {active.name} ({active.quantization}), persona {args.persona}, {args.threads} threads")

        loop_started = time.monotonic()
        job = client.memories.ingest([args.persona / "notes"])
        client.jobs.wait(job.id)
        wait_idle(client)  # embed, and the identity update when it runs
        ingest_seconds = time.monotonic() - loop_started
        print(f"ingest + embed{' + identity' if args.gemma else ''}: {ingest_seconds:.0f} s")

        if not args.no_comparison:
            made = sft_comparison(daemon, client, args.steps, args.threads, "q8_0" if args.only_comparison else "")
            if args.only_comparison:  # and the decode comparison on what that job made
                names = [m["name"] for m in made["models"]]
                decode_comparison(daemon, client, names[0], names[-1], args.threads)
                return

        if not args.full:  # what a full training would cost here, as the plan says (measured throughput)
            dry = client.training.train(dry_run=True).job
            assert dry is not None
            plan = client.jobs.wait(dry.id).result["plan"]
            stages = ", ".join(f"{s['stage'].upper()} {s['steps']} steps ~{s['seconds'] / 60:.0f} min"
                               for s in plan["stages"])  # fmt: skip
            print(f"\n   a full training here, as planned now: {stages} ({plan['tokens']:,} tokens, "
                  f"~{plan['seconds'] / 60:.0f} min; DPO pairs estimated)")  # fmt: skip

        print("\n3. The whole loop: secondmectl train" + ("" if args.full else f" --max-steps {args.steps}"))
        questions = args.persona / "eval" / "questions.jsonl"
        fields: dict[str, Any] = {"merged": "q4_k_m" if args.gemma else "q8_0"}
        if questions.is_file():
            fields["eval_questions"] = str(sampled(questions, args.eval_sample, daemon.root / "eval"))
        if not args.full:
            fields["max_steps"] = args.steps
        result, seconds, peak = train(daemon, client, **fields)
        for name in ("sft", "dpo"):
            stage = result.get("stages", {}).get(name)
            if stage:
                print(f"   {name.upper():<4} {stage['steps']} steps, loss {stage['final_loss']:.3f}, "
                      f"{stage['tokens_per_second']:.0f} tok/s, {stage['seconds']:.0f} s")  # fmt: skip
        plan = result["plan"]
        print(f"   plan: ~{plan['seconds']:.0f} s of training, peak {plan['peak_memory_bytes'] / 2**20:.0f} MiB; "
              f"measured peak {peak / 2**20:.0f} MiB")  # fmt: skip
        peaks = result.get("peak_memory_mb", {})
        order = ("data", "pairs", "load", "sft", "dpo", "export", "eval")
        stage_peaks = ", ".join(f"{name} {peaks[name]}" for name in order if name in peaks)
        print(f"   peak MiB by stage (the plan estimates load, sft and dpo): {stage_peaks}")
        print(f"   dataset: {result['dataset']['counts']}, {result['dataset'].get('preference_pairs', 0)} pairs")
        print_eval(result.get("eval") or {})
        print(f"   train job {seconds:.0f} s; with ingest {seconds + ingest_seconds:.0f} s "
              f"= {(seconds + ingest_seconds) / 60:.1f} min (goal <= 30 min on 2 cores)")  # fmt: skip
        names = [m["name"] for m in result["models"]]
        decode_comparison(daemon, client, names[0], names[-1], args.threads)
    finally:
        daemon.stop()


if __name__ == "__main__":
    main()
