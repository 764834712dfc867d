"""`secondmectl grant issue|list|show|revoke|import|export|check`: permission grants for other selves."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import EXIT_DENIED, FitTable, console, emit, print_table
from secondme.daemon.client.grants import Grant
from secondme.errors import InvalidArgument
from secondme.permissions import Action, Disclosure, parse_moment

SCOPES = [a.value for a in Action]
DISCLOSURES = [d.value for d in Disclosure]


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("grant", parents=[common], help="issue, import and revoke permission grants")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    issue = actions.add_parser("issue", parents=[common], help="sign a grant for another self; prints its token")
    issue.add_argument("peer_id", metavar="PEER_ID", help="the other self's peer ID (12D3KooW...)")
    issue.add_argument("--scope", required=True, help=f"comma-separated: {','.join(SCOPES)}")
    issue.add_argument("--expires", default="30d", help="30d, 12h, 2w or a date like 2026-12-31 (default: 30d)")
    issue.add_argument("--not-before", help="when it starts: a duration from now or a date (default: now)")
    issue.add_argument(
        "--disclosure", choices=DISCLOSURES, default=Disclosure.PUBLIC_CARD.value, help="what of you it may use"
    )
    issue.add_argument("--max-turns", type=int, default=0, metavar="N", help="turns per session")
    issue.add_argument("--max-sessions-per-day", type=int, default=0, metavar="N", help="sessions per UTC day")
    issue.add_argument("--max-concurrent", type=int, default=0, metavar="N", help="sessions at the same time")
    issue.add_argument("--note", default="", help="a reminder for yourself and the other owner")
    issue.set_defaults(func=run_issue)

    listing = actions.add_parser("list", parents=[common], help="grants issued and received")
    which = listing.add_mutually_exclusive_group()
    which.add_argument("--issued", action="store_true", help="only grants this node issued")
    which.add_argument("--received", action="store_true", help="only grants other selves gave this node")
    listing.set_defaults(func=run_list)

    show = actions.add_parser("show", parents=[common], help="one grant in full")
    show.add_argument("grant_id", metavar="ID", help="the grant id or a unique prefix (6+ hex digits)")
    show.set_defaults(func=run_show)

    revoke = actions.add_parser("revoke", parents=[common], help="refuse a grant from now on")
    revoke.add_argument("grant_id", metavar="ID", help="the grant id or a unique prefix (6+ hex digits)")
    revoke.set_defaults(func=run_revoke)

    imp = actions.add_parser("import", parents=[common], help="store a token another self's owner gave you")
    imp.add_argument("token", metavar="TOKEN", help="the smg1_... token, or - to read it from stdin")
    imp.set_defaults(func=run_import)

    export = actions.add_parser("export", parents=[common], help="print a grant's token")
    export.add_argument("grant_id", metavar="ID")
    export.set_defaults(func=run_export)

    check = actions.add_parser("check", parents=[common], help="would PEER be allowed ACTION with TOKEN now?")
    check.add_argument("token", metavar="TOKEN", help="the smg1_... token, or - to read it from stdin")
    check.add_argument("--peer", required=True, help="the peer ID presenting the grant")
    check.add_argument("--action", required=True, choices=SCOPES)
    check.set_defaults(func=run_check)


def _scope_list(text: str) -> list[str]:
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in SCOPES]
    if unknown or not names:
        raise InvalidArgument(f"unknown scope {', '.join(unknown) or repr(text)}; choose from {', '.join(SCOPES)}")
    return names


def _token_arg(text: str) -> str:
    return sys.stdin.read().strip() if text == "-" else text


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def _limit(value: int) -> str:
    return str(value) if value else "unlimited"


def _print_grant(grant: Grant) -> None:
    lines = [
        f"grant       {grant.id}  ({grant.direction}, {grant.state})",
        f"issuer      {grant.issuer}",
        f"audience    {grant.audience}",
        f"scopes      {','.join(grant.scopes)}",
        f"disclosure  {grant.disclosure}",
        f"valid       {_when(grant.not_before)} -> {_when(grant.expires)}",
    ]
    if grant.limits is not None:
        limits = grant.limits
        lines.append(
            f"limits      turns/session {_limit(limits.max_turns_per_session)}, "
            f"sessions/day {_limit(limits.max_sessions_per_day)}, concurrent {_limit(limits.max_concurrent_sessions)}"
        )
    if grant.revoked_at is not None:
        lines.append(f"revoked     {_when(grant.revoked_at)}")
    if grant.note:
        lines.append(f"note        {grant.note}")
    for line in lines:
        console.print(line, highlight=False, markup=False)


def run_issue(ctx: CliContext) -> int:
    args = ctx.args
    now = datetime.now(UTC)
    for flag in ("max_turns", "max_sessions_per_day", "max_concurrent"):
        if getattr(args, flag) < 0:
            raise InvalidArgument(f"--{flag.replace('_', '-')} must be at least 1 (leave it out for no limit)")
    response = ctx.client().grants.issue(
        args.peer_id,
        _scope_list(args.scope),
        parse_moment(args.expires, now),
        not_before=parse_moment(args.not_before, now) if args.not_before else None,
        disclosure=args.disclosure,
        max_turns_per_session=args.max_turns,
        max_sessions_per_day=args.max_sessions_per_day,
        max_concurrent_sessions=args.max_concurrent,
        note=args.note,
    )

    def human() -> None:
        _print_grant(response.grant)
        console.print("\nGive this token to the other self's owner (`secondmectl grant import TOKEN`):")
        console.print(response.token, highlight=False, markup=False, soft_wrap=True)

    emit(ctx.json, response, human)
    return 0


def run_list(ctx: CliContext) -> int:
    direction = "issued" if ctx.args.issued else "received" if ctx.args.received else ""
    grants = ctx.client().grants.list(direction)

    def human() -> None:
        table = FitTable("id", "direction", "peer", "scopes", "state", "expires", shrink=["peer", "scopes"])
        for g in grants:
            table.add_row(
                g.id if ctx.wide else g.id[:12],  # a prefix names a grant in the other commands
                g.direction,
                g.peer,
                ",".join(g.scopes),
                g.state,
                f"{g.expires:%Y-%m-%d}" if g.expires else "",
            )
        print_table(table, ctx.wide)
        console.print(f"{len(grants)} grants", highlight=False)

    emit(ctx.json, grants, human)
    return 0


def run_show(ctx: CliContext) -> int:
    grant = ctx.client().grants.get(ctx.args.grant_id)
    emit(ctx.json, grant, lambda: _print_grant(grant))
    return 0


def run_revoke(ctx: CliContext) -> int:
    response = ctx.client().grants.revoke(ctx.args.grant_id)

    def human() -> None:
        verb = "revoked" if response.newly_revoked else "was already revoked:"
        console.print(f"{verb} grant {response.id}", highlight=False)
        if response.grant is None:
            console.print("(this node has no record of that grant; the revocation holds anyway)", highlight=False)

    emit(ctx.json, response, human)
    return 0


def run_import(ctx: CliContext) -> int:
    response = ctx.client().grants.import_token(_token_arg(ctx.args.token))

    def human() -> None:
        if response.already_present:
            console.print("already imported; nothing changed", highlight=False)
        _print_grant(response.grant)

    emit(ctx.json, response, human)
    return 0


def run_export(ctx: CliContext) -> int:
    token = ctx.client().grants.export_token(ctx.args.grant_id)
    emit(ctx.json, {"token": token}, lambda: console.print(token, highlight=False, markup=False, soft_wrap=True))
    return 0


def run_check(ctx: CliContext) -> int:
    response = ctx.client().grants.check(_token_arg(ctx.args.token), ctx.args.peer, ctx.args.action)

    def human() -> None:
        verdict = "allowed" if response.allowed else f"denied ({response.reason})"
        console.print(f"{verdict}: {response.message}", highlight=False, markup=False)

    emit(ctx.json, response, human)
    return 0 if response.allowed else EXIT_DENIED
