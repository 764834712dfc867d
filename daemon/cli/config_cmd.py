"""`secondmectl config show|default|set`."""

from __future__ import annotations

import argparse
import sys

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import console, emit
from secondme.daemon.config import Config, config_to_dict, load_config, render_config, with_setting, write_config


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("config", parents=[common], help="show the configuration")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("show", parents=[common], help="the effective config (file + defaults)").set_defaults(func=show)
    actions.add_parser("default", parents=[common], help="print the default config file").set_defaults(func=default)
    setter = actions.add_parser(
        "set", parents=[common], help="change one setting in the config file (e.g. owner.name 'Alex Morgan')"
    )
    setter.add_argument("key", help="section.key, as `config default` lists them")
    setter.add_argument("value", help="the new value: text for names, a TOML value otherwise (true, 8, [...])")
    setter.set_defaults(func=set_value)


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


def set_value(ctx: CliContext) -> int:
    path = ctx.paths.config
    config = with_setting(load_config(path), ctx.args.key, ctx.args.value)
    write_config(path, config)
    section, _, key = ctx.args.key.partition(".")
    value = getattr(getattr(config, section), key)
    emit(
        ctx.json,
        {"path": str(path), "key": ctx.args.key, "value": value},
        lambda: console.print(
            f"{ctx.args.key} = {value!r} in {path}; a running daemon picks it up on `systemctl --user reload "
            "secondmed` (SIGHUP) or a restart",
            highlight=False,
        ),
    )
    return 0
