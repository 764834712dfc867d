"""`secondmectl init`: config, data dir and the node key, idempotently."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from secondme.daemon.bootstrap import initialise
from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import console, emit
from secondme.daemon.config import Config, load_config, write_config


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("init", parents=[common], help="create the config, data dir and node key")
    parser.add_argument("--no-default-model", action="store_true", help="do not register the packaged default model")
    parser.add_argument(
        "--name", help="your name as your self says it (asked when a terminal is attached and none is set)"
    )
    parser.set_defaults(func=run)


def run(ctx: CliContext) -> int:
    paths = ctx.paths
    created = []
    existed = paths.config.exists()
    config = load_config(paths.config) if existed else Config()  # refuse to go on over a broken config
    name = _owner_name(ctx.args.name, config.owner.name)
    if name != config.owner.name or not existed:
        config = dataclasses.replace(config, owner=dataclasses.replace(config.owner, name=name))
        write_config(paths.config, config)
        if not existed:
            created.append(str(paths.config))
    done = initialise(paths, default_model=not ctx.args.no_default_model)
    created += done.created
    peer_id, model = done.peer_id, done.model
    data = {
        "peer_id": peer_id,
        "config": str(paths.config),
        "data_dir": str(paths.data_dir),
        "socket": str(paths.socket),
        "created": created,
        "owner_name": config.owner.name,
        "model": model,
    }

    def human() -> None:
        verb = "initialised" if created else "already initialised"
        console.print(f"secondme {verb}", highlight=False)
        unnamed = "(no name: `secondmectl config set owner.name NAME` sets one)"
        console.print(f"  owner     {config.owner.name or unnamed}", highlight=False)
        console.print(f"  peer ID   {peer_id}", highlight=False)
        console.print(f"  config    {paths.config}", highlight=False)
        console.print(f"  data dir  {paths.data_dir}", highlight=False)
        console.print(
            f"  model     {model or 'none (import one with `secondmectl models import PATH`)'}", highlight=False
        )
        console.print("start the daemon with `secondmed` (or `secondmectl service install`)", highlight=False)

    emit(ctx.json, data, human)
    return 0


def _owner_name(given: str | None, current: str) -> str:
    """The name from --name, else the one already set, else asked for when a person is at the terminal."""
    if given is not None:
        return given.strip()
    if current or not sys.stdin.isatty():
        return current
    try:
        return input("Your name, as your self should say it (Enter to skip): ").strip()
    except EOFError:
        return ""
