"""`secondmectl eval [QUESTIONS.jsonl] [--model NAME...] [--no-retrieval] [--identity]`.

With a questions file (or a folder holding `questions.jsonl`, with `private.json` and `style.json`
beside it), every question is asked as chat would answer it, with each model, and the scored runs
are printed side by side. With `--model` and no file, the questions are those a training job asks
at its end: the first `[training] eval_questions` held-out questions of the newest training dataset,
so `secondmectl eval --model BASE --model TRAINED` asks again what `secondmectl train` showed.
`--identity` scores how well the identity's sentences are supported by the memories they cite.
With none of these, the newest stored run of each model is shown.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.table import Table

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import console, emit, errors, fail
from secondme.daemon.cli.progress import follow_job
from secondme.daemon.client import Client
from secondme.daemon.client.evaluation import EvalRun
from secondme.daemon.client.jobs import Job
from secondme.pipeline.evaluation.questions import (
    PRIVATE_FILE,
    QUESTIONS_FILE,
    STYLE_FILE,
    EvalFormatError,
    parse_questions,
)
from secondme.pipeline.training import HELD_OUT_SOURCE

# Rows of the side-by-side table: (label, field of EvalRun, shown as a percentage).
_ROWS = (
    ("recall", "recall", True),
    ("all terms", "all_terms", True),
    ("abstention (unknown)", "abstention", True),
    ("false abstention", "false_abstention", True),
    ("style markers", "style_markers", True),
    ("style violations", "style_violations", True),
    ("seconds per answer", "seconds_mean", False),
)


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "eval", parents=[common], help="ask questions about the owner as chat would, and score the answers"
    )
    parser.add_argument(
        "questions",
        metavar="QUESTIONS",
        nargs="?",
        help="questions.jsonl, or a folder holding it (see the README); with --model and none: the held-out "
        "questions the last training asked",
    )
    parser.add_argument(
        "--model", action="append", default=[], metavar="NAME", help="a model to ask (repeatable; default: the active)"
    )
    parser.add_argument("--no-retrieval", action="store_true", help="ask without the owner's memories")
    parser.add_argument("--identity", action="store_true", help="score the identity's support by its memories")
    parser.add_argument(
        "--let-models-write",
        action="store_true",
        help="a model that failed its capability check writes its answers instead of quoting you",
    )
    parser.add_argument("--answers", action="store_true", help="print every answer with its score")
    parser.set_defaults(func=run)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFormatError(f"cannot read {path}: {exc}") from None


def _start(ctx: CliContext, client: Client) -> Job:
    files: dict[str, str] = {}
    if ctx.args.questions:
        path = Path(ctx.args.questions).expanduser()
        if path.is_dir():
            path = path / QUESTIONS_FILE
        if not path.is_file():
            raise EvalFormatError(f"no questions file at {path}")
        files["questions_jsonl"] = _read(path)
        files["source"] = str(path.resolve())
        parse_questions(files["questions_jsonl"], str(path))  # a bad line is named here, with the file's path
        if (path.parent / PRIVATE_FILE).is_file():
            files["private_json"] = _read(path.parent / PRIVATE_FILE)
        if (path.parent / STYLE_FILE).is_file():
            files["style_json"] = _read(path.parent / STYLE_FILE)
    elif ctx.args.model and not ctx.args.identity:
        files["questions_jsonl"] = _held_out_questions(ctx, client)
        files["source"] = HELD_OUT_SOURCE
    return client.eval.start(
        models=ctx.args.model,
        without_retrieval=ctx.args.no_retrieval,
        identity=ctx.args.identity,
        let_models_write=ctx.args.let_models_write,
        **files,
    )


def _held_out_questions(ctx: CliContext, client: Client) -> str:
    """The held-out questions a training job asks at its end (`daemon/jobs/train.py`), as a questions file."""
    count = ctx.config().training.eval_questions
    records = [r for r in client.training.export(part="heldout")][:count]
    if not records:
        raise EvalFormatError(
            "no questions: give a questions file, or train first (`secondmectl train` holds memories out to ask about)"
        )
    return "".join(json.dumps({k: v for k, v in r.items() if k != "part"}, ensure_ascii=False) + "\n" for r in records)


def run(ctx: CliContext) -> int:
    client = ctx.client()
    if not ctx.args.questions and not ctx.args.identity and not ctx.args.model:
        if ctx.args.no_retrieval or ctx.args.let_models_write:
            return fail("--no-retrieval and --let-models-write need a questions file or --model", as_json=ctx.json)
        runs = client.eval.runs(answers=ctx.args.answers)
        emit(ctx.json, {"runs": runs}, lambda: _print_runs(runs, ctx.args.answers))
        return 0
    job = _start(ctx, client)
    final = follow_job(ctx, job.id)
    if not final.succeeded:
        why = final.error or f"see `secondmectl jobs show {final.id}`"
        return fail(f"the eval job did not finish: {why}", as_json=ctx.json)
    result = final.result
    run_ids = [r["id"] for r in result.get("runs", [])]
    runs = client.eval.runs(run_ids, answers=ctx.args.answers) if run_ids else []
    runs.sort(key=lambda r: run_ids.index(r.id))
    identity = result.get("identity")

    def human() -> None:
        if identity is not None:
            _print_identity(identity)
        if runs:
            _print_runs(runs, ctx.args.answers)

    data: dict[str, Any] = {"runs": runs}
    if identity is not None:
        data["identity"] = identity
    emit(ctx.json, data, human)
    return 0


def _value(run: EvalRun, field: str, percent: bool) -> str:
    value = getattr(run, field)
    if value is None:
        return "-"
    return f"{value:.0%}" if percent else f"{value:.1f}"


def _print_runs(runs: list[EvalRun], answers: bool) -> None:
    if not runs:
        console.print("no eval runs yet: run `secondmectl eval QUESTIONS.jsonl`", highlight=False)
        return
    by_source: dict[str, list[EvalRun]] = defaultdict(list)
    for run in runs:
        by_source[run.source].append(run)
    for source, group in by_source.items():
        console.print(f"[bold]{source}[/] ({group[0].questions} questions)", highlight=False)
        table = Table("")
        for run in group:
            table.add_column(run.model_name + ("" if run.retrieval else "\n(no retrieval)"), justify="right")
        kinds = sorted({k for r in group for k in r.recall_by_kind})
        rows = [(label, [_value(r, f, p) for r in group]) for label, f, p in _ROWS[:1]]
        rows += [(f"  {kind}", [f"{r.recall_by_kind[kind]:.0%}" if kind in r.recall_by_kind else "-" for r in group])
                 for kind in kinds]  # fmt: skip
        rows += [(label, [_value(r, f, p) for r in group]) for label, f, p in _ROWS[1:]]
        rows.append(("private facts leaked", [str(len(r.leaks)) for r in group]))
        rows.append(("errors", [str(r.errors) for r in group]))
        for label, values in rows:
            table.add_row(label, *values)
        console.print(table)
        for run in group:
            for leak in run.leaks:
                errors.print(f"leak: {run.model_name} said {leak.fact!r} ({leak.what}) answering {leak.question_id}",
                             highlight=False, markup=False)  # fmt: skip
            if answers:
                _print_answers(run)


def _print_answers(run: EvalRun) -> None:
    console.print(f"[bold]{run.model_name}[/] answers", highlight=False)
    for answer in run.answers:
        missed = f"  missed: {', '.join(answer.missed)}" if answer.missed else ""
        flag = " (abstained)" if answer.abstained else ""
        console.print(f"  {answer.question_id} [{answer.kind}]{flag}{missed}", highlight=False, markup=False)
        text = " ".join((answer.error or answer.answer).split())
        console.print(f"    {text[:300]}", highlight=False, markup=False)


def _print_identity(identity: dict[str, Any]) -> None:
    score = identity.get("score")
    if score is None:
        console.print("identity support: the identity has no sentences yet", highlight=False)
    else:
        console.print(
            f"identity support: {score:.0%} ({identity['supported']} of {identity['total']} sentences "
            "supported by the memories they cite)",
            highlight=False,
        )
    for part, counts in identity.get("parts", {}).items():
        console.print(f"  {part[:56]:<56} {counts['supported']:>3} of {counts['total']}", highlight=False, markup=False)
    for part in identity.get("owner_written", []):
        console.print(f"  {part[:56]:<56} written by the owner", highlight=False, markup=False)
    for sentence in identity.get("unsupported", [])[:20]:
        console.print(f"  unsupported ({sentence['part']}): {sentence['text'][:200]}", highlight=False, markup=False)
