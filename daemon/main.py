"""`secondmed`: a thin main. Flags and paths, then hand over to the composition root."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

import secondme.daemon
from secondme.daemon.config import ConfigError, load_config
from secondme.daemon.logs import configure_logging
from secondme.daemon.paths import Paths
from secondme.errors import SecondmeError

if TYPE_CHECKING:
    from secondme.daemon.app import Daemon

log = logging.getLogger("secondmed")

EXIT_CONFIG = 78  # EX_CONFIG: systemd's Restart=on-failure still applies, the log says why


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="secondmed", description="The secondme daemon.")
    parser.add_argument("--config", help="config file (env SECONDME_CONFIG)")
    parser.add_argument("--data-dir", help="data directory (env SECONDME_DATA_DIR)")
    parser.add_argument("--socket", help="API socket path (env SECONDME_SOCKET)")
    parser.add_argument("--log-format", choices=["plain", "json"], help="overrides daemon.log_format")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="overrides daemon.log_level")
    parser.add_argument("--version", action="version", version=f"secondmed {secondme.daemon.__version__}")
    return parser.parse_args(argv)


async def _serve(daemon: Daemon) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.request_stop)
    loop.add_signal_handler(signal.SIGHUP, daemon.reload)
    try:
        await daemon.start()
        await daemon.wait_until_stopped()
    finally:
        await daemon.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    configure_logging(args.log_level or "info", args.log_format or "plain")
    try:
        paths = Paths.resolve(config=args.config, data_dir=args.data_dir, socket=args.socket)
        config = load_config(paths.config)
        paths = Paths.resolve(
            config=args.config,
            data_dir=args.data_dir,
            socket=args.socket,
            config_data_dir=config.daemon.data_dir or None,
            config_socket=config.daemon.socket or None,
        )
    except ConfigError as exc:
        log.error("%s", exc)
        return EXIT_CONFIG
    configure_logging(args.log_level or config.daemon.log_level, args.log_format or config.daemon.log_format)
    # Imported here, not at the top: every job child is spawned and re-imports this module,
    # and the whole daemon (gRPC, the mesh, scikit-learn) would cost each job seconds to start.
    from secondme.daemon.app import Daemon

    try:
        asyncio.run(_serve(Daemon(paths, config)))
    except ConfigError as exc:
        log.error("%s", exc)
        return EXIT_CONFIG
    except SecondmeError as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
