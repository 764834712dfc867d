"""`secondmectl chat`: talk to your AI self, interactively or with one message (-m)."""

from __future__ import annotations

import argparse
import sys

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import console, emit
from secondme.daemon.client import Client
from secondme.daemon.client.chat import ChatDone, ConversationDetail


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("chat", parents=[common], help="talk to your AI self")
    parser.add_argument("-m", "--message", help="send one message and print the reply")
    parser.add_argument("--conversation", default="", metavar="ID", help="continue a conversation")
    parser.add_argument("--max-tokens", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--list", action="store_true", help="list past conversations")
    parser.add_argument("--show", metavar="ID", default="", help="print a past conversation, message by message")
    parser.add_argument("--without-memories", action="store_true", help="do not bring in memories for this reply")
    parser.set_defaults(func=run)


def _send(client: Client, ctx: CliContext, text: str, conversation: str, echo: bool) -> tuple[str, ChatDone]:
    """Stream one reply (printing it as it comes when `echo`); returns (reply, what it was made of)."""
    pieces = client.chat.send(
        text,
        conversation,
        max_tokens=ctx.args.max_tokens,
        temperature=ctx.args.temperature,
        seed=ctx.args.seed,
        without_memories=ctx.args.without_memories,
    )
    reply: list[str] = []
    done = ChatDone(conversation, "", 0, [], "", "")
    for piece in pieces:
        if piece.done is not None:
            done = piece.done
        else:
            reply.append(piece.token)
            if echo:
                sys.stdout.write(piece.token)
                sys.stdout.flush()
    if echo:
        sys.stdout.write("\n")
        if done.mode == "quoted":
            console.print("  (quoted from your notes: the model did not pass the capability check)", style="dim")
        if done.warning:
            console.print(f"  {done.warning}", style="yellow", markup=False, highlight=False)
        for number, cited in enumerate(done.cited, start=1):
            fresh = ", newer than the model" if cited.fresh else ""
            console.print(f"  [{number}] {cited.date} {cited.title}{fresh}", style="dim", markup=False, highlight=False)
    return "".join(reply), done


def _print_conversation(detail: ConversationDetail) -> None:
    """Each message with who said it; a reply that was cut off (the daemon stopped mid-reply) says so."""
    console.print(f"[bold]{detail.conversation.title}[/] {detail.conversation.id}", highlight=False)
    for message in detail.messages:
        who = "you" if message.role == "user" else f"self ({message.model or 'quoted'})"
        when = f"{message.created_at:%Y-%m-%d %H:%M}" if message.created_at else ""
        console.print(f"{when} {who}:", style="dim", highlight=False, markup=False)
        console.print(message.content, highlight=False, markup=False, soft_wrap=True)
        if message.incomplete:
            console.print("  [cut off: the reply stopped before it was finished]", style="yellow", markup=False)


def run(ctx: CliContext) -> int:
    client = ctx.client()
    if ctx.args.show:
        detail = client.chat.conversation(ctx.args.show)
        emit(ctx.json, detail, lambda: _print_conversation(detail))
        return 0
    if ctx.args.list:
        conversations = client.chat.conversations()
        emit(
            ctx.json,
            conversations,
            lambda: [console.print(f"{c.id}  {c.title}  ({c.message_count} messages)", highlight=False, markup=False)
                     for c in conversations],
        )  # fmt: skip
        return 0
    if ctx.args.message:
        reply, done = _send(client, ctx, ctx.args.message, ctx.args.conversation, echo=not ctx.json)
        if ctx.json:
            emit(True, {"reply": reply, **vars(done)}, lambda: None)
        return 0
    conversation = ctx.args.conversation
    console.print("talking to your AI self; Ctrl-D to leave", style="dim")
    while True:
        try:
            text = input("> ")
        except EOFError:
            console.print()
            return 0
        if text.strip():
            conversation = _send(client, ctx, text, conversation, echo=True)[1].conversation_id
