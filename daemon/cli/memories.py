"""`secondmectl ingest` and `secondmectl memories list|show|delete`."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import EXIT_ERROR, EXIT_USAGE, FitTable, console, emit, fail, human_bytes, print_table
from secondme.daemon.cli.progress import follow_job
from secondme.daemon.client.jobs import Job
from secondme.daemon.client.memories import Memory
from secondme.pipeline.ingest.names import printable, shown

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
SOURCE_TYPES = ["text", "markdown", "pdf", "html", "image", "audio", "url"]


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    ingest = subparsers.add_parser("ingest", parents=[common], help="ingest files, folders and web pages")
    ingest.add_argument("paths", nargs="+", metavar="PATH|URL", help="a file, a folder, or an http(s) URL to fetch")
    ingest.add_argument("--include", action="append", default=[], metavar="GLOB", help="only matching files")
    ingest.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip matching files")
    ingest.add_argument(
        "--follow-external-links",
        action="store_true",
        help="also follow symlinks to files and folders outside the paths given (skipped by default)",
    )
    ingest.add_argument("--no-wait", action="store_true", help="print the job id and return at once")
    ingest.add_argument(
        "--upload", action="store_true", help="stream the files' bytes to the daemon instead of sending paths"
    )
    ingest.set_defaults(func=run_ingest)

    parser = subparsers.add_parser("memories", parents=[common], help="list, show and delete memories")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[common], help="list memories, newest first")
    listing.add_argument("--type", choices=SOURCE_TYPES, help="only this source type")
    listing.add_argument("--query", default="", help="substring of the title or source")
    listing.add_argument("--limit", type=int, default=0, help="at most this many (default: all)")
    listing.set_defaults(func=run_list)
    show = actions.add_parser("show", parents=[common], help="one memory with its text")
    show.add_argument("memory_id", metavar="ID")
    show.add_argument("--chunks", action="store_true", help="also show its chunks")
    show.set_defaults(func=run_show)
    delete = actions.add_parser("delete", parents=[common], help="delete a memory and what derives from it")
    delete.add_argument("memory_id", metavar="ID")
    delete.set_defaults(func=run_delete)


def print_problems(result: dict, job_id: str, limit: int | None = 50) -> None:
    """The files an ingest skipped, failed or only partly read, each with its reason (one line each)."""
    problems = result.get("problems", [])
    for problem in problems[:limit] if limit else problems:
        console.print(
            f"  {problem['kind']}: {printable(problem['path'])}: {problem['reason']}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    hidden = len(problems) - limit if limit and len(problems) > limit else 0
    if hidden:
        more = f"  ... and {hidden} more: `secondmectl jobs show {job_id}` lists them (`--json`: result.problems)"
        console.print(more, highlight=False, markup=False)
    if result.get("problems_not_listed"):
        console.print(
            f"  ... and {result['problems_not_listed']} more, counted but not named (a job lists the first "
            f"{len(problems):,})",
            highlight=False,
            markup=False,
        )


def _summary(job: Job, identity_follows: bool) -> None:
    result = job.result
    partial = f" ({result['partial']} partly read)" if result.get("partial") else ""
    console.print(
        f"{result.get('ingested', 0)} ingested{partial}, {result.get('duplicate', 0)} already known, "
        f"{result.get('skipped', 0)} skipped, {result.get('failed', 0)} failed",
        highlight=False,
    )
    print_problems(result, job.id)
    if result.get("ingested") and identity_follows:
        console.print(
            "embedding them and updating your identity in the background; "
            "`secondmectl identity refresh` follows it, `identity show` shows the result",
            style="dim",
            highlight=False,
        )


def run_ingest(ctx: CliContext) -> int:
    # Anything with a scheme is a URL (the daemon refuses all but http and https, saying so).
    urls = [a for a in ctx.args.paths if _URL.match(a)]
    paths = [Path(a).expanduser().resolve() for a in ctx.args.paths if not _URL.match(a)]
    missing = [shown(p) for p in paths if not p.exists()]
    if missing:
        return fail(f"no such file or folder: {', '.join(missing)}", EXIT_USAGE, ctx.json)
    if ctx.args.upload:
        if any(p.is_dir() for p in paths):
            return fail("--upload takes files, not folders", EXIT_USAGE, ctx.json)
        # A named pipe would block this read forever, a device never end: only regular files are sent.
        others = [shown(p) for p in paths if not p.is_file()]
        if others:
            return fail(f"--upload sends regular files only, not: {', '.join(others)}", EXIT_USAGE, ctx.json)
    client = ctx.client()
    jobs = []
    if ctx.args.upload:
        jobs = [client.memories.upload(p) for p in paths]
    if urls or (paths and not ctx.args.upload):
        local = [] if ctx.args.upload else paths
        jobs.append(
            client.memories.ingest(
                local, urls, ctx.args.include, ctx.args.exclude, follow_external_links=ctx.args.follow_external_links
            )
        )
    if ctx.args.no_wait:
        emit(ctx.json, {"jobs": [j.id for j in jobs]}, lambda: [console.print(j.id) for j in jobs])
        return 0
    finals = [follow_job(ctx, j.id) for j in jobs]
    if ctx.json:
        emit(True, {"jobs": finals}, lambda: None)
    else:
        for job in finals:
            if job.succeeded:
                _summary(job, ctx.config().identity.auto_update)
            else:
                console.print(f"job {job.id} {job.state}: {job.error}", highlight=False)
    return 0 if all(j.succeeded for j in finals) else EXIT_ERROR


def _date(memory: Memory) -> str:
    return f"{memory.created_at:%Y-%m-%d}" if memory.created_at else ""


def run_list(ctx: CliContext) -> int:
    memories = ctx.client().memories.list(ctx.args.type or "", ctx.args.query, ctx.args.limit)

    def human() -> None:
        table = FitTable("date", "type", "title", "chunks", "size", "id", shrink=["title"])
        for m in memories:
            table.add_row(
                _date(m), m.source_type, printable(m.title), str(m.chunk_count), human_bytes(m.size_bytes), m.id
            )
        print_table(table, ctx.wide)
        console.print(f"{len(memories)} memories", highlight=False)

    emit(ctx.json, memories, human)
    return 0


def run_show(ctx: CliContext) -> int:
    response = ctx.client().memories.get(ctx.args.memory_id, text=True, chunks=ctx.args.chunks)
    m = response.memory

    def human() -> None:
        console.print(f"{printable(m.title)}  ({m.id})", style="bold", highlight=False, markup=False)
        console.print(f"source   {printable(m.source)}", highlight=False, markup=False, soft_wrap=True)
        ingested = f"{m.ingested_at:%Y-%m-%d %H:%M}" if m.ingested_at else ""
        console.print(f"date     {_date(m)}   ingested {ingested}", highlight=False)
        console.print(f"type     {m.media_type}, {human_bytes(m.size_bytes)}, {m.chunk_count} chunks", highlight=False)
        if m.same_content_as:
            console.print(f"same     content as {m.same_content_as} (counted once)", highlight=False)
        insight = response.insight
        if insight is not None and insight.status == "failed":
            console.print(f"insight  failed, retried next update: {insight.error}", markup=False, highlight=False)
        elif insight is not None:
            console.print(f"summary  {insight.summary}", markup=False, highlight=False)
            if insight.insight:
                console.print(f"insight  {insight.insight}", markup=False, highlight=False)
            if insight.keywords:
                console.print(f"keywords {', '.join(insight.keywords)}", markup=False, highlight=False)
        console.print()
        # The terminal wraps the text (rich's own wrapping took 1.4 s a megabyte).
        console.print(response.text, markup=False, highlight=False, soft_wrap=True)
        for chunk in response.chunks:
            console.print(f"\n--- chunk {chunk.index} ({chunk.token_count} tokens)", highlight=False)
            console.print(chunk.text, markup=False, highlight=False, soft_wrap=True)

    emit(ctx.json, response, human)
    return 0


def run_delete(ctx: CliContext) -> int:
    original_removed = ctx.client().memories.delete(ctx.args.memory_id)
    emit(
        ctx.json,
        {"deleted": ctx.args.memory_id, "original_removed": original_removed},
        lambda: console.print(f"deleted {ctx.args.memory_id}", highlight=False),
    )
    return 0
