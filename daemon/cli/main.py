"""`secondmectl` entry point: global options, one module per command group, error handling."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from secondme.daemon.cli import (
    backup,
    chat,
    config_cmd,
    evaluate,
    grant,
    identity,
    init,
    jobs,
    memories,
    models,
    peers,
    service,
    status,
    train,
)
from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import EXIT_FOR_KIND, fail
from secondme.errors import SecondmeError

# Each module exposes register(subparsers, common) and sets `func` on its parsers.
COMMAND_GROUPS: list[Callable[..., None]] = [
    init.register,
    backup.register,
    status.register,
    memories.register,
    identity.register,
    jobs.register,
    config_cmd.register,
    service.register,
    grant.register,
    peers.register,
    models.register,
    chat.register,
    evaluate.register,
    train.register,
]


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    common.add_argument(
        "--wide", action="store_true", default=argparse.SUPPRESS, help="tables show every cell whole, however wide"
    )
    parser = argparse.ArgumentParser(prog="secondmectl", description="Control your secondme daemon.", parents=[common])
    parser.add_argument("--socket", help="daemon socket (env SECONDME_SOCKET)")
    parser.add_argument("--config", help="config file (env SECONDME_CONFIG)")
    parser.add_argument("--data-dir", help="data directory (env SECONDME_DATA_DIR)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in COMMAND_GROUPS:
        register(subparsers, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = CliContext(args, json=getattr(args, "json", False), wide=getattr(args, "wide", False))
    try:
        return int(args.func(ctx) or 0)
    except SecondmeError as exc:
        return fail(exc.message, EXIT_FOR_KIND[exc.kind], ctx.json)
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
