"""`secondmectl config show|default`."""

from __future__ import annotations

import argparse
import sys

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import console, emit
from secondme.daemon.config import Config, config_to_dict, render_config


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("config", parents=[common], help="show the configuration")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("show", parents=[common], help="the effective config (file + defaults)").set_defaults(func=show)
    actions.add_parser("default", parents=[common], help="print the default config file").set_defaults(func=default)


def show(ctx: CliContext) -> int:
    config = ctx.config()

    def human() -> None:
        console.print(
            f"# {ctx.paths.config}{'' if ctx.paths.config.exists() else ' (missing: defaults)'}",
            highlight=False,
        )
        sys.stdout.write(render_config(config))

    emit(ctx.json, {"path": str(ctx.paths.config), "config": config_to_dict(config)}, human)
    return 0


def default(ctx: CliContext) -> int:
    emit(ctx.json, config_to_dict(Config()), lambda: sys.stdout.write(render_config(Config())))
    return 0
