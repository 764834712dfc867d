"""`secondmectl train [--stages sft,dpo] [--max-steps N] [--dry-run]` and `train data show|export`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import EXIT_USAGE, console, emit, errors, fail, human_bytes
from secondme.daemon.cli.progress import job_bar
from secondme.daemon.client.jobs import Job

_STAGE_NAMES = {
    "wait": "waiting", "data": "data", "plan": "plan", "pairs": "pairs", "sft": "SFT", "dpo": "DPO",
    "export": "export", "register": "register", "probe": "probe", "ask": "eval",
}  # fmt: skip


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "train", parents=[common], help="train the self on your memories (LoRA SFT, then DPO), then activate it"
    )
    parser.add_argument("--stages", default="sft,dpo", help="sft, dpo or both (default sft,dpo)")
    parser.add_argument("--max-steps", type=int, default=0, metavar="N", help="at most N optimizer steps per stage")
    parser.add_argument("--dry-run", action="store_true", help="build the data and show the plan; train nothing")
    parser.add_argument("--merged", choices=["q4_k_m", "q8_0"], help="also write a merged, quantized model")
    parser.add_argument("--no-activate", action="store_true", help="keep the active model as it is")
    parser.add_argument("--eval-questions", metavar="FILE", help="questions file to evaluate with (eval format)")
    parser.add_argument("--no-wait", action="store_true", help="print the job id and return")
    parser.set_defaults(func=run_train)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    data = actions.add_parser("data", parents=[common], help="the training data built from your memories")
    data_actions = data.add_subparsers(dest="data_action", metavar="ACTION", required=True)
    show = data_actions.add_parser("show", parents=[common], help="what the newest dataset holds")
    show.add_argument("--version", default="", help="a dataset version (default: the newest)")
    show.add_argument("--examples", type=int, default=3, metavar="N", help="examples to print (default 3)")
    show.set_defaults(func=run_data_show)
    export = data_actions.add_parser("export", parents=[common], help="every record as JSON lines")
    export.add_argument("path", nargs="?", default="-", metavar="PATH", help="file to write (default: stdout)")
    export.add_argument("--version", default="")
    export.add_argument("--part", choices=["examples", "pairs", "heldout"], default="")
    export.set_defaults(func=run_data_export)


def run_train(ctx: CliContext) -> int:
    args = ctx.args
    if args.max_steps < 0:
        return fail("--max-steps must be 0 or more", EXIT_USAGE, ctx.json)
    eval_questions = str(Path(args.eval_questions).expanduser().resolve()) if args.eval_questions else ""
    response = ctx.client().training.train(
        [s for s in args.stages.split(",") if s.strip()],
        max_steps=args.max_steps,
        dry_run=args.dry_run,
        merged=args.merged or "",
        no_activate=args.no_activate,
        eval_questions=eval_questions,
    )
    job = response.job
    assert job is not None
    if response.queued_behind and not ctx.json:
        errors.print(
            f"another training job is running or queued ({', '.join(response.queued_behind)}); "
            f"this one ({job.id}) is queued and starts when it ends",
            highlight=False,
        )
    if args.no_wait:
        emit(ctx.json, job, lambda: console.print(job.id, highlight=False))
        return 0
    final = _follow(ctx, job.id)
    result = final.result
    emit(ctx.json, {**vars(final), "result": result}, lambda: _print_outcome(final, result))
    return 0 if final.succeeded else 1


def _follow(ctx: CliContext, job_id: str) -> Job:
    """Streams the job: a line per finished stage (the plan among them), a bar for the stage running."""
    if ctx.json:
        return ctx.client().jobs.wait(job_id)
    final: Job | None = None
    with job_bar(transient=True) as bar:
        task = bar.add_task(job_id, total=None, stage="queued", note="")
        stage, last = "", ""
        for event in ctx.client().jobs.watch(job_id):
            final = event.job
            if event.progress is None:
                continue
            p = event.progress
            if p.stage != stage and stage and last:
                bar.console.print(f"{_STAGE_NAMES.get(stage, stage):<8} {last}", highlight=False, markup=False)
            stage, last = p.stage, p.message
            bar.update(task, total=p.total or None, completed=p.done, stage=_STAGE_NAMES.get(p.stage, p.stage),
                       note=p.message[:70])  # fmt: skip
        if stage and last:
            bar.console.print(f"{_STAGE_NAMES.get(stage, stage):<8} {last}", highlight=False, markup=False)
    assert final is not None
    return final


def _percent(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print_outcome(job: Job, result: dict[str, Any]) -> None:
    if not job.succeeded:
        console.print(f"training job {job.id} {job.state}: {job.error}", highlight=False, markup=False)
        return
    if result.get("dry_run"):
        _print_plan(result)
        return
    stages = result.get("stages", {})
    for name, stage in sorted(stages.items(), key=lambda item: ("sft", "dpo").index(item[0])):
        resumed = f", resumed at step {stage['resumed_from_step']}" if stage.get("resumed_from_step") else ""
        console.print(
            f"{name.upper():<4} {stage['steps']} steps, final loss {stage['final_loss']:.3f}, "
            f"{stage['tokens_per_second']:.0f} tok/s{resumed}",
            highlight=False,
        )
    for model in result.get("models", []):
        kind = "adapter" if model["adapter"] else "merged model"
        console.print(f"new version {model['name']} ({kind}, {human_bytes(model['size_bytes'])})", highlight=False)
    if result.get("activated"):
        console.print(f"active model: {result['activated']} (`models activate --previous` goes back)", highlight=False)
    _print_eval(result.get("eval") or {})


def _print_plan(result: dict[str, Any]) -> None:
    plan, data = result["plan"], result["dataset"]
    console.print(f"base       {result['base']['name']}", highlight=False)
    counts = ", ".join(f"{n} {k.replace('_', '-')}" for k, n in data["counts"].items())
    console.print(f"data       {data['version']}: {data['examples']} examples ({counts})", highlight=False)
    console.print(
        f"memories   {data['train_memories']} to learn from, {data['held_out_memories']} held out "
        f"({data['held_out_questions']} questions)",
        highlight=False,
    )
    console.print(f"device     {plan['device_name']} ({plan['dtype']})", highlight=False)
    for stage in plan["stages"]:
        console.print(
            f"{stage['stage'].upper():<10} {stage['steps']} steps of {stage['batch_size']} x {stage['accumulation']}, "
            f"{stage['tokens']:,} tokens, ~{stage['seconds'] / 60:.1f} min",
            highlight=False,
        )
    console.print(
        f"peak       {plan['peak_memory_bytes'] / 2**30:.1f} GiB of {plan['memory_available_bytes'] / 2**30:.1f} GiB "
        f"free; ~{plan['seconds'] / 60:.0f} min in all",
        highlight=False,
    )
    for note in plan.get("notes", []):
        console.print(f"note       {note}", highlight=False)


def _print_eval(report: dict[str, Any]) -> None:
    """Base vs trained as chat serves each, and in each model's own words (where training shows)."""
    if not report.get("questions") or "served" not in report:
        return
    served, own = report["served"], report["own_words"]
    table = Table("", "base", "trained", "base (own)", "trained (own)",
                  title=f"{report['questions']} questions ({report['source']}), with retrieval")  # fmt: skip
    for label, key in (
        ("recall", "recall"),
        ("all terms", "all_terms"),
        ("abstention", "abstention"),
        ("false abstention", "false_abstention"),
        ("style markers", "style_markers"),
        ("s / answer", "seconds_mean"),
    ):
        values = [r.get(key) for r in (served["base"], served["trained"], own["base"], own["trained"])]
        if any(v is not None for v in values):
            table.add_row(label, *(_percent(v) for v in values))
    table.add_row(
        "leaks",
        *(str(len(r.get("leaks", []))) for r in (served["base"], served["trained"], own["base"], own["trained"])),
    )
    console.print(table)
    console.print(
        "(own: each model writes, as with chat.use_failed_model; `secondmectl eval` shows the served runs again)",
        highlight=False,
    )


def run_data_show(ctx: CliContext) -> int:
    data = ctx.client().training.data(ctx.args.version, max(0, ctx.args.examples))
    manifest, examples = data.manifest, data.examples

    def human() -> None:
        counts = ", ".join(f"{n} {k.replace('_', '-')}" for k, n in manifest["counts"].items())
        console.print(f"[bold]{manifest['version']}[/] built {manifest['created_at']}", highlight=False)
        console.print(f"  examples   {manifest['examples']} ({counts})", highlight=False)
        console.print(
            f"  memories   {len(manifest['train_memories'])} to learn from, {len(manifest['held_out_memories'])} "
            f"held out ({manifest['held_out_questions']} questions)",
            highlight=False,
        )
        graph = manifest["entity_graph"]
        console.print(
            f"  entities   {graph['entities']} ({', '.join(f'{n} {k}' for k, n in graph['by_kind'].items())}), "
            f"{graph['relations']} relations; most connected: {', '.join(graph['most_connected'][:5])}",
            highlight=False,
            markup=False,
        )
        for base, reasons in manifest.get("pairs", {}).items():
            console.print(f"  DPO pairs  {sum(reasons.values())} with {base}'s answers: {reasons}", highlight=False)
        console.print(f"  duplicates {manifest['dropped_duplicates']} dropped", highlight=False)
        for example in examples:
            console.print(f"\n[{example['kind']}] {example['question']}", highlight=False, markup=False)
            console.print(f"  -> {example['completion']}", highlight=False, markup=False)
            console.print(
                f"  memories {', '.join(example['memory_ids']) or '(none: the self abstains)'}", highlight=False
            )

    emit(ctx.json, {"manifest": manifest, "examples": examples}, human)
    return 0


def run_data_export(ctx: CliContext) -> int:
    records = ctx.client().training.export(ctx.args.version, ctx.args.part)
    count = 0
    if ctx.args.path == "-":
        for record in records:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return 0
    path = Path(ctx.args.path).expanduser()
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    emit(ctx.json, {"path": str(path), "records": count}, lambda: console.print(f"wrote {count} records to {path}"))
    return 0
