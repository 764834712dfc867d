"""`secondmectl id` and `secondmectl peers list|discovered|connect|disconnect|card|block|unblock|send-grant|talk`.

`send-grant` lives here because `secondmectl grant` (daemon/cli/grant.py) has no hook for
subcommands from other modules; it delivers an issued grant to its audience over the mesh.
"""

from __future__ import annotations

import argparse

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import FitTable, console, emit, print_table
from secondme.network.protocols import KIND_BY_NAME


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    subparsers.add_parser("id", parents=[common], help="this self's peer ID and addresses to share").set_defaults(
        func=run_id
    )
    parser = subparsers.add_parser("peers", parents=[common], help="other AI selves on the mesh")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", parents=[common], help="known peers, connected or not").set_defaults(func=run_list)
    actions.add_parser(
        "discovered", parents=[common], help="selves found by mDNS, the DHT or rendezvous lately"
    ).set_defaults(func=run_discovered)

    connect = actions.add_parser("connect", parents=[common], help="dial a peer by multiaddr")
    connect.add_argument("multiaddr", metavar="MULTIADDR", help="as the other owner's `secondmectl id` prints it")
    connect.set_defaults(func=run_connect)

    disconnect = actions.add_parser("disconnect", parents=[common], help="close connections to a peer")
    disconnect.add_argument("peer_id", metavar="PEER_ID")
    disconnect.set_defaults(func=run_disconnect)

    card = actions.add_parser("card", parents=[common], help="fetch a connected peer's public card")
    card.add_argument("peer_id", metavar="PEER_ID")
    card.set_defaults(func=run_card)

    block = actions.add_parser("block", parents=[common], help="refuse all connections from a peer")
    block.add_argument("peer_id", metavar="PEER_ID")
    block.set_defaults(func=run_block)

    unblock = actions.add_parser("unblock", parents=[common], help="accept a blocked peer again")
    unblock.add_argument("peer_id", metavar="PEER_ID")
    unblock.set_defaults(func=run_unblock)

    send = actions.add_parser("send-grant", parents=[common], help="deliver a grant you issued to its audience")
    send.add_argument("peer_id", metavar="PEER_ID", help="the grant's audience")
    send.add_argument("grant_id", metavar="GRANT_ID", help="the grant id or a unique prefix (6+ hex digits)")
    send.set_defaults(func=run_send_grant)

    talk = actions.add_parser("talk", parents=[common], help="a session exchange under a grant the peer gave you")
    talk.add_argument("peer_id", metavar="PEER_ID")
    talk.add_argument("turns", metavar="TEXT", nargs="+", help="one turn per argument")
    talk.add_argument("--kind", choices=sorted(KIND_BY_NAME), default="roleplay")
    talk.set_defaults(func=run_talk)


def run_id(ctx: CliContext) -> int:
    me = ctx.client().peers.me()

    def human() -> None:
        console.print(f"[bold]peer ID[/] {me.peer_id}", highlight=False)
        for address in me.addresses:
            console.print(address, highlight=False, soft_wrap=True)

    emit(ctx.json, me, human)
    return 0


def run_list(ctx: CliContext) -> int:
    peers = ctx.client().peers.list()

    def human() -> None:
        if not peers:
            console.print("no peers yet; `secondmectl peers connect MULTIADDR` dials one")
            return
        table = FitTable("peer ID", "name", "connected", "last seen", "address", shrink=["name", "address"])
        for peer in peers:
            seen = f"{peer.last_seen:%Y-%m-%d %H:%M}" if peer.last_seen else ""
            state = "blocked" if peer.blocked else ("yes" if peer.connected else "no")
            name = peer.card.display_name if peer.card else ""
            table.add_row(peer.peer_id, name, state, seen, peer.addresses[0] if peer.addresses else "")
        print_table(table, ctx.wide)

    emit(ctx.json, {"peers": peers}, human)
    return 0


def run_discovered(ctx: CliContext) -> int:
    discovered = ctx.client().peers.discovered()

    def human() -> None:
        if not discovered:
            console.print("nothing discovered lately (mDNS finds selves on the LAN when network.mdns is on)")
            return
        table = FitTable("peer ID", "found by", "connected", "address", shrink=["address"])
        for peer in discovered:
            state = "yes" if peer.connected else ("no (known)" if peer.known else "no")
            table.add_row(peer.peer_id, peer.source, state, peer.addresses[0] if peer.addresses else "")
        print_table(table, ctx.wide)
        console.print("`secondmectl peers connect ADDRESS/p2p/PEER_ID` dials one", highlight=False)

    emit(ctx.json, {"peers": discovered}, human)
    return 0


def run_connect(ctx: CliContext) -> int:
    peer_id = ctx.client().peers.connect(ctx.args.multiaddr)
    emit(ctx.json, {"peer_id": peer_id}, lambda: console.print(f"connected to {peer_id}", highlight=False))
    return 0


def run_disconnect(ctx: CliContext) -> int:
    was_connected = ctx.client().peers.disconnect(ctx.args.peer_id)
    text = "disconnected" if was_connected else "was not connected"
    emit(ctx.json, {"was_connected": was_connected}, lambda: console.print(text))
    return 0


def run_card(ctx: CliContext) -> int:
    card = ctx.client().peers.card(ctx.args.peer_id)

    def human() -> None:
        if card.withheld:
            console.print(f"[bold]{card.peer_id}[/]: nothing about its owner ({card.withheld})", highlight=False)
        else:
            console.print(f"[bold]{card.display_name}[/]  {card.bio}", highlight=False)
        for shade in card.shades:
            console.print(f"  - {shade.name}: {shade.description}", highlight=False)
        if card.biography:
            console.print(card.biography, highlight=False)
        console.print(f"sessions {', '.join(card.session_kinds)}", highlight=False)
        if card.software_version:
            console.print(f"software {card.software_version}", highlight=False)

    emit(ctx.json, card, human)
    return 0


def run_block(ctx: CliContext) -> int:
    ctx.client().peers.block(ctx.args.peer_id)
    emit(ctx.json, {"blocked": ctx.args.peer_id}, lambda: console.print(f"blocked {ctx.args.peer_id}"))
    return 0


def run_unblock(ctx: CliContext) -> int:
    ctx.client().peers.unblock(ctx.args.peer_id)
    emit(ctx.json, {"unblocked": ctx.args.peer_id}, lambda: console.print(f"unblocked {ctx.args.peer_id}"))
    return 0


def run_send_grant(ctx: CliContext) -> int:
    reply = ctx.client().peers.send_grant(ctx.args.grant_id, ctx.args.peer_id)
    text = "delivered" if reply.accepted else f"refused by the peer: {reply.message}"
    emit(ctx.json, reply, lambda: console.print(text, highlight=False))
    return 0 if reply.accepted else 1


def run_talk(ctx: CliContext) -> int:
    replies = ctx.client().peers.exchange(ctx.args.peer_id, ctx.args.kind, ctx.args.turns)

    def human() -> None:
        for text, answer in zip(ctx.args.turns, replies, strict=False):
            console.print(f"[bold]you[/]  {text}\n[bold]them[/] {answer}", highlight=False)

    emit(ctx.json, {"replies": replies}, human)
    return 0
