"""Strangers bench: 1,000 throwaway identities connect to a real secondmed, read its card and leave.

Prints, all measured in this one run, for the daemon (a real secondmed on 127.0.0.1):
1. address-book rows, RSS and open file descriptors after a warm-up and after the strangers
   have come and gone (goal: flat);
2. the connection-accept rate of a probe (fresh identities one after another, each accepted,
   answered with a card, and gone) while idle and while the strangers arrive, and their ratio.
The crowd runs in a child process (bench/strangers.py), so its client work does not slow the
probe. On a shared machine the rates move with the load: read the ratio, not the figures.

Run: .venv/bin/python bench/bench_strangers.py [--strangers 1000] [--at-once 25] [--probes 20]
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BenchDaemon, describe, start_daemon
from strangers import churn, probe_accepts

from secondme.daemon.client import Client

CONFIG = 'version = 1\n[owner]\nname = "Bench"\n[network]\nlisten = ["/ip4/127.0.0.1/tcp/0"]\nmdns = false\n'
CROWD = Path(__file__).resolve().parent / "strangers.py"


def rows(daemon: BenchDaemon) -> int:
    with sqlite3.connect(f"file:{daemon.root / 'data' / 'secondme.db'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM peers").fetchone()[0])


def settle(client: Client, limit: float = 120.0) -> None:
    """Wait until no stranger is connected any more."""
    deadline = time.monotonic() + limit
    while client.peers.list() and time.monotonic() < deadline:
        time.sleep(0.5)


def state(label: str, daemon: BenchDaemon, process: psutil.Process) -> tuple[int, int, int]:
    now = (rows(daemon), process.memory_info().rss, process.num_fds())
    print(f"{label:<28} address-book rows {now[0]:>4}   RSS {now[1] / 2**20:7.1f} MiB   open fds {now[2]:>4}")
    return now


def rate(samples: list[float]) -> float:
    return len(samples) / sum(samples)


def run(args: argparse.Namespace) -> None:
    daemon = start_daemon(CONFIG, ("--no-default-model",))  # no model loading in the background
    client = Client.connect(daemon.socket)
    process = psutil.Process(daemon.process.pid)
    try:
        address = client.peers.me().addresses[0]
        state("at start", daemon, process)
        warm = trio.run(churn, address, args.warm_up, args.at_once)
        settle(client)
        before = state(f"after {warm.visits} warm-up strangers", daemon, process)

        idle = trio.run(probe_accepts, address, args.probes)
        crowd = subprocess.Popen(
            [sys.executable, str(CROWD), address, str(args.strangers), str(args.at_once)],
            stdout=subprocess.PIPE,
            text=True,
        )
        busy: list[float] = []
        while crowd.poll() is None and len(busy) < args.probes * 10:
            busy += trio.run(probe_accepts, address, 1)
        out, _ = crowd.communicate(timeout=3600)
        visits, failed, seconds = out.split()
        settle(client)
        after = state(f"after {visits} strangers", daemon, process)

        print(f"strangers: {visits} came and went, {failed} failed, in {float(seconds):.1f} s")
        growth = (after[1] - before[1]) / 2**20
        print(f"rows {before[0]} -> {after[0]}; RSS {growth:+.1f} MiB; open fds {after[2] - before[2]:+d}")
        print(f"probe idle   {describe(idle)}  -> {rate(idle):.2f} accepts/s")
        print(f"probe busy   {describe(busy)}  -> {rate(busy):.2f} accepts/s")
        print(f"ratio accept rate busy/idle: {rate(busy) / rate(idle):.2f}x")
    finally:
        client.close()
        daemon.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strangers", type=int, default=1000)
    parser.add_argument("--warm-up", type=int, default=50)
    parser.add_argument("--at-once", type=int, default=25)
    parser.add_argument("--probes", type=int, default=20)
    run(parser.parse_args())
