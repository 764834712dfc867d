"""`secondmectl identity`: the biographies and shades the self holds of its owner, and the owner's say."""

from __future__ import annotations

import argparse

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import EXIT_ERROR, EXIT_USAGE, FitTable, console, emit, fail, print_table
from secondme.daemon.cli.progress import follow_job
from secondme.daemon.client.identity import GroundedSentence, Shade, ShadeList, ShadeText, ShadeVersion
from secondme.daemon.client.jobs import Job

_TEXT_FLAGS = {
    "name": "name",
    "aspect": "aspect",
    "icon": "icon",
    "description": "description_third",
    "description_you": "description_second",
    "content": "content_third",
    "content_you": "content_second",
}
_KINDS = ("global", "status")


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("identity", parents=[common], help="your biography and shades, and your choices")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("show", parents=[common], help="biography, status and shades with timelines").set_defaults(
        func=run_show
    )
    shades = actions.add_parser("shades", parents=[common], help="the shades, one line each")
    shades.add_argument("--all", action="store_true", help="also merged and retired shades")
    shades.set_defaults(func=run_shades)
    shade = actions.add_parser("shade", parents=[common], help="one shade: its text, timeline and members")
    shade.add_argument("shade_id", type=int, metavar="N")
    shade.set_defaults(func=run_shade)
    edit = actions.add_parser("edit", parents=[common], help="write a shade's text yourself (the pipeline keeps it)")
    edit.add_argument("shade_id", type=int, metavar="N")
    for flag, field in _TEXT_FLAGS.items():
        edit.add_argument(f"--{flag.replace('_', '-')}", dest=flag, metavar="TEXT", help=f"the {field}")
    edit.add_argument("--regenerate", action="store_true", help="hand the text back to the pipeline")
    edit.set_defaults(func=run_edit)
    for mark, words in (
        ("private", "never shown to peers, left out of the biographies"),
        ("public", "may be shown to peers whose grant allows public shades"),
        ("unmark", "neither public nor private (the default)"),
    ):
        marker = actions.add_parser(mark, parents=[common], help=f"mark a shade: {words}")
        marker.add_argument("shade_id", type=int, metavar="N")
        marker.set_defaults(func=run_mark, privacy=mark)
    merge = actions.add_parser("merge", parents=[common], help="merge shades into the first one")
    merge.add_argument("target", type=int, metavar="INTO")
    merge.add_argument("sources", type=int, nargs="+", metavar="N")
    merge.set_defaults(func=run_merge)
    split = actions.add_parser("split", parents=[common], help="split a shade in two")
    split.add_argument("shade_id", type=int, metavar="N")
    split.add_argument("--memories", nargs="+", default=[], metavar="ID", help="the members that move out")
    split.set_defaults(func=run_split)
    history = actions.add_parser("history", parents=[common], help="every version of a shade or the biography")
    history.add_argument("shade_id", type=int, nargs="?", default=0, metavar="N")
    history.add_argument("--kind", choices=_KINDS, default="global", help="which biography")
    history.set_defaults(func=run_history)
    refresh = actions.add_parser("refresh", parents=[common], help="bring the identity up to date now")
    refresh.add_argument("--no-wait", action="store_true", help="print the job id and return at once")
    refresh.add_argument(
        "--retry-failed", action="store_true", help="read again the documents whose insight failed three times"
    )
    refresh.set_defaults(func=run_refresh)


def _flags(shade: Shade) -> str:
    flags = []
    if shade.privacy != "unmarked":
        flags.append(shade.privacy)
    if shade.owner_edited:
        flags.append("your text")
    if shade.pending:
        flags.append("update pending")
    if shade.state != "active":
        flags.append(shade.state)
    return ", ".join(flags)


def _cited(sentences: list[GroundedSentence], field: str, fallback: str, indent: str = "") -> None:
    """Each sentence of a field with the memories it rests on; the plain text when it has none recorded."""
    chosen = [s for s in sentences if s.field == field]
    if not chosen:
        if fallback:
            console.print(f"{indent}{fallback}", markup=False, highlight=False)
        return
    for sentence in chosen:
        ids = ", ".join(m[:12] for m in sentence.memory_ids)
        console.print(f"{indent}{sentence.text} [dim]\\[{ids}][/]", highlight=False)


def _timeline(version: ShadeVersion | None, indent: str = "    ") -> None:
    if version is None:
        return
    for entry in version.timeline:
        console.print(f"{indent}{entry.date}  {entry.title}", highlight=False, markup=False)


def run_show(ctx: CliContext) -> int:
    identity = ctx.client().identity
    global_bio, status_bio = identity.biography("global"), identity.biography("status")
    listing = identity.shades()

    def human() -> None:
        mode = f"  [dim]({global_bio.mode})[/]" if global_bio and global_bio.mode else ""
        console.print("[bold]Biography[/]" + mode)
        if global_bio:
            _cited(global_bio.sentences, "text_third", global_bio.text_third)
        elif not listing.shades:
            console.print("(none yet: it is written from your shades, and none has formed)")
        elif any(s.privacy == "private" for s in listing.shades):
            console.print("(none yet without the shades marked private: the next identity update writes it)")
        else:
            console.print("(none yet: the next identity update writes it)")
        console.print("\n[bold]Lately[/]")
        if status_bio:
            _cited(status_bio.sentences, "text_third", status_bio.text_third)
        else:
            console.print("(none yet)")
        console.print(f"\n[bold]Shades[/] ({len(listing.shades)})")
        for shade in listing.shades:
            version, text = _version_text(shade)
            flags = _flags(shade)
            console.print(
                f"\n[bold]{shade.id}. {shade.name}[/]  {text.aspect if text else ''}  "
                f"({shade.member_count} memories, {version.confidence if version else ''} confidence"
                f"{'; ' + flags if flags else ''})",
                highlight=False,
            )
            if version and text:
                _cited(version.sentences, "description_third", text.description_third, "  ")
                _cited(version.sentences, "content_third", text.content_third, "  ")
            _timeline(version)
        _footer(listing)

    emit(ctx.json, {"biography": global_bio, "status": status_bio, **vars(listing)}, human)
    return 0


def _version_text(shade: Shade) -> tuple[ShadeVersion | None, ShadeText | None]:
    """The shade's newest version and its text (either may be missing on a shade not written yet)."""
    version = shade.latest
    return version, version.text if version else None


def _footer(listing: ShadeList) -> None:
    notes = []
    if listing.unclustered_memory_count:
        notes.append(f"{listing.unclustered_memory_count} memories not yet alike enough to others to form a shade")
    if listing.pending_insight_count:
        failed = (
            f" ({listing.failed_insight_count} failed, retried next update)" if listing.failed_insight_count else ""
        )
        notes.append(f"{listing.pending_insight_count} documents not read yet{failed}")
    for note in notes:
        console.print(f"\n{note}", style="dim", highlight=False)


def run_shades(ctx: CliContext) -> int:
    listing = ctx.client().identity.shades(include_inactive=ctx.args.all)

    def human() -> None:
        table = FitTable(
            "id", "shade", "aspect", "confidence", "memories", "since", "notes", shrink=["shade", "aspect", "notes"]
        )
        for shade in listing.shades:
            version, text = _version_text(shade)
            timeline = version.timeline if version else []
            table.add_row(
                str(shade.id),
                shade.name,
                text.aspect if text else "",
                version.confidence if version else "",
                str(shade.member_count),
                timeline[0].date if timeline else "",
                _flags(shade),
            )
        print_table(table, ctx.wide)
        _footer(listing)

    emit(ctx.json, listing, human)
    return 0


def run_shade(ctx: CliContext) -> int:
    response = ctx.client().identity.shade(ctx.args.shade_id, members=True)
    shade = response.shade

    def human() -> None:
        version, text = _version_text(shade)
        console.print(f"[bold]{shade.id}. {shade.name}[/]  {text.aspect if text else ''}", highlight=False)
        if version is not None:
            console.print(
                f"version {version.version} by {version.author}{' (' + version.model + ')' if version.model else ''}, "
                f"{version.confidence} confidence{'; ' + _flags(shade) if _flags(shade) else ''}",
                style="dim",
                highlight=False,
            )
        console.print()
        if version and text:
            _cited(version.sentences, "description_third", text.description_third)
            _cited(version.sentences, "content_third", text.content_third)
        console.print("\n[bold]Timeline[/] (the memories its text rests on)")
        _timeline(version, "  ")
        console.print(f"\n[bold]Members[/] ({len(response.members)})")
        for member in response.members:
            pinned = "  (placed by you)" if member.pinned else ""
            date = f"{member.created_at:%Y-%m-%d}" if member.created_at else ""
            console.print(f"  {date}  {member.title}  {member.memory_id}{pinned}", markup=False, highlight=False)

    emit(ctx.json, response, human)
    return 0


def _after_change(ctx: CliContext, job: Job | None, what: str) -> None:
    if not ctx.json:
        console.print(what, highlight=False)
        if job is not None:
            console.print(f"updating the identity in the background (job {job.id})", style="dim", highlight=False)


def run_edit(ctx: CliContext) -> int:
    values = {field: getattr(ctx.args, flag) for flag, field in _TEXT_FLAGS.items() if getattr(ctx.args, flag)}
    if not values and not ctx.args.regenerate:
        return fail("give the text to change (e.g. --name, --description) or --regenerate", EXIT_USAGE, ctx.json)
    response = ctx.client().identity.update_shade(ctx.args.shade_id, text=values, regenerate=ctx.args.regenerate)
    emit(ctx.json, response, lambda: None)
    _after_change(ctx, response.job, f"shade {response.shade.id}: {response.shade.name}")
    return 0


def run_mark(ctx: CliContext) -> int:
    privacy = {"private": "private", "public": "public", "unmark": "unmarked"}[ctx.args.privacy]
    response = ctx.client().identity.update_shade(ctx.args.shade_id, privacy=privacy)
    emit(ctx.json, response, lambda: None)
    shade = response.shade
    _after_change(ctx, response.job, f"shade {shade.id} ({shade.name}) is now {shade.privacy}")
    return 0


def run_merge(ctx: CliContext) -> int:
    response = ctx.client().identity.merge(ctx.args.target, ctx.args.sources)
    emit(ctx.json, response, lambda: None)
    _after_change(ctx, response.job, f"merged into shade {response.shade.id}: {response.shade.member_count} memories")
    return 0


def run_split(ctx: CliContext) -> int:
    response = ctx.client().identity.split(ctx.args.shade_id, ctx.args.memories)
    emit(ctx.json, response, lambda: None)
    _after_change(
        ctx,
        response.job,
        f"shade {response.original.id} keeps {response.original.member_count} memories; "
        f"shade {response.created.id} has {response.created.member_count}",
    )
    return 0


def run_history(ctx: CliContext) -> int:
    identity = ctx.client().identity
    if ctx.args.shade_id:
        versions = identity.versions(ctx.args.shade_id)

        def human_shade() -> None:
            for v in versions:
                when = f"{v.created_at:%Y-%m-%d %H:%M}" if v.created_at else ""
                console.print(
                    f"[bold]version {v.version}[/]  {when}  by {v.author}"
                    f"{' (' + v.model + ')' if v.model else ''}, {v.member_count} memories",
                    highlight=False,
                )
                if v.text is not None:
                    console.print(f"  {v.text.name}: {v.text.description_third}", markup=False, highlight=False)

        emit(ctx.json, versions, human_shade)
        return 0
    biographies = identity.biographies(ctx.args.kind)

    def human_bio() -> None:
        if not biographies:
            console.print(f"no {ctx.args.kind} biography yet", highlight=False)
        for b in biographies:
            when = f"{b.created_at:%Y-%m-%d %H:%M}" if b.created_at else ""
            console.print(f"[bold]{b.id}[/]  {when}  ({b.model})", highlight=False)
            console.print(f"  {b.text_third}", markup=False, highlight=False)

    emit(ctx.json, biographies, human_bio)
    return 0


def run_refresh(ctx: CliContext) -> int:
    job = ctx.client().identity.refresh(retry_failed=ctx.args.retry_failed)
    if ctx.args.no_wait:
        emit(ctx.json, {"job": job.id}, lambda: console.print(job.id, highlight=False))
        return 0
    final = follow_job(ctx, job.id)
    if ctx.json:
        emit(True, final, lambda: None)
    elif final.succeeded:
        _report(final.result)
    else:
        console.print(f"job {final.id} {final.state}: {final.error}", highlight=False)
    return 0 if final.succeeded else EXIT_ERROR


def _report(result: dict) -> None:
    insights, shades, bio = result.get("insights", {}), result.get("shades", {}), result.get("biography", {})
    console.print(
        f"documents read: {insights.get('done', 0)} by the model, {insights.get('short', 0)} short, "
        f"{insights.get('failed', 0)} failed",
        highlight=False,
    )
    console.print(
        f"shades: {shades.get('created', 0)} new, {shades.get('joined', 0)} memories joined, "
        f"{shades.get('written', 0)} described, {shades.get('unchanged', 0)} unchanged, "
        f"{shades.get('retired', 0)} retired",
        highlight=False,
    )
    console.print(f"biography: {bio.get('global', '')}; lately: {bio.get('status', '')}", highlight=False)
    if result.get("waiting_for_model"):
        console.print(f"waiting for a model: {result['waiting_for_model']}", style="yellow", highlight=False)
    for error in result.get("errors", [])[:5]:
        console.print(f"  {error}", style="dim", markup=False, highlight=False)
