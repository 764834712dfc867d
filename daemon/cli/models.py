"""`secondmectl models import|list|show|activate|remove`."""

from __future__ import annotations

import argparse
from datetime import UTC
from pathlib import Path

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import EXIT_USAGE, FitTable, console, emit, fail, human_bytes, print_table
from secondme.daemon.client.models import Model


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("models", parents=[common], help="import, list and activate local models")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser("import", parents=[common], help="import a GGUF file (or a llama/qwen2 HF directory)")
    imp.add_argument("path", metavar="PATH")
    imp.add_argument("--name", default="", help="defaults to the file name")
    imp.add_argument("--activate", action="store_true", help="also make it the active model")
    imp.add_argument("--kind", choices=["chat", "whisper"], default="chat", help="a GGUF chat model or a Whisper .pt")
    imp.set_defaults(func=run_import)
    actions.add_parser("list", parents=[common], help="imported models").set_defaults(func=run_list)
    show = actions.add_parser("show", parents=[common], help="one model's metadata")
    show.add_argument("name", metavar="NAME")
    show.set_defaults(func=run_show)
    activate = actions.add_parser("activate", parents=[common], help="serve chat with this model (no restart)")
    activate.add_argument("name", metavar="NAME", nargs="?", default="")
    activate.add_argument("--previous", action="store_true", help="switch back to the previously active model")
    activate.set_defaults(func=run_activate)
    remove = actions.add_parser("remove", parents=[common], help="delete an imported model")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(func=run_remove)


def _params(count: int) -> str:
    return f"{count / 1e9:.1f}B" if count >= 1e9 else f"{count / 1e6:.0f}M"


def _print(model: Model) -> None:
    console.print(f"[bold]{model.name}[/]{'  (active)' if model.active else ''}", highlight=False)
    for key, value in (
        ("architecture", model.architecture),
        ("parameters", _params(model.parameter_count)),
        ("context", str(model.context_length)),
        ("quantization", model.quantization),
        ("chat template", "from the file" if model.has_chat_template else "supplied by secondme"),
        ("size", human_bytes(model.size_bytes)),
        ("sha256", model.sha256),
        ("capability", _probe_line(model)),
    ):
        console.print(f"  {key:<14}{value}", highlight=False, markup=False)
    for key, value in _lineage(model):
        console.print(f"  {key:<14}{value}", highlight=False, markup=False)
    for check in model.probe.checks if model.probe else []:
        mark = "ok  " if check.passed else "fail"
        console.print(f"    {mark} {check.name}: {check.detail[:60]}", highlight=False, markup=False)


def _lineage(model: Model) -> list[tuple[str, str]]:
    """What a version trained here was made from (nothing for a model imported as it is)."""
    if not model.base:
        return []
    lines = [
        ("trained from", f"{model.base}" + (" (a LoRA adapter served on it)" if model.adapter else " (merged)")),
        ("dataset", model.dataset_version),
        ("trained by", f"job {model.trained_by_job}"),
    ]
    if model.trained_through is not None:
        lines.append(
            ("trained up to", f"memories ingested by {model.trained_through.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
        )
    seen = f"{model.trained_memories} memories"
    if model.trained_memories_deleted:
        seen += (
            f", {model.trained_memories_deleted} of them deleted since (its weights saw them; train again to forget)"
        )
    lines.append(("learned", seen))
    return lines


def _probe_line(model: Model) -> str:
    probe = model.probe
    if probe is None or not probe.status:
        return "not checked yet (runs once it is active)"
    if probe.status == "passed":
        return "passed: it may write about you, each sentence checked against your memories"
    if probe.status == "unchecked":
        return f"unchecked ({probe.reason}): treated as failed until checked"
    return "failed: replies and identity are built from your own sentences"


def run_import(ctx: CliContext) -> int:
    path = Path(ctx.args.path).expanduser().resolve()
    if not path.is_file() and not (path.is_dir() and ctx.args.kind == "chat"):
        return fail(f"no such file: {path}", EXIT_USAGE, ctx.json)
    models = ctx.client().models
    kind = "whisper" if ctx.args.kind == "whisper" else "chat"
    model = models.import_file(path, ctx.args.name, kind)
    if kind == "whisper":
        emit(ctx.json, model, lambda: console.print("imported the Whisper speech model", highlight=False))
        return 0
    if ctx.args.activate:
        model = models.activate(model.name)
    emit(ctx.json, model, lambda: _print(model))
    return 0


def run_list(ctx: CliContext) -> int:
    models = ctx.client().models.list()

    def human() -> None:
        table = FitTable("", "name", "arch", "params", "quant", "context", "size", shrink=["name"])
        for m in models:
            table.add_row(
                "*" if m.active else "", m.name, m.architecture, _params(m.parameter_count), m.quantization,
                str(m.context_length), human_bytes(m.size_bytes),
            )  # fmt: skip
        print_table(table, ctx.wide)

    emit(ctx.json, models, human)
    return 0


def run_show(ctx: CliContext) -> int:
    model = ctx.client().models.get(ctx.args.name)
    emit(ctx.json, model, lambda: _print(model))
    return 0


def run_activate(ctx: CliContext) -> int:
    if not ctx.args.name and not ctx.args.previous:
        return fail("give a model name or --previous", EXIT_USAGE, ctx.json)
    model = ctx.client().models.activate(ctx.args.name, ctx.args.previous)
    emit(ctx.json, model, lambda: console.print(f"active model: {model.name}", highlight=False))
    return 0


def run_remove(ctx: CliContext) -> int:
    ctx.client().models.remove(ctx.args.name)
    emit(ctx.json, {"removed": ctx.args.name}, lambda: console.print(f"removed {ctx.args.name}", highlight=False))
    return 0
