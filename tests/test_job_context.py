"""What a job function gets in its child: the exclusive lock one job of a kind holds at a time."""

from __future__ import annotations

import fcntl
import multiprocessing
import threading

from secondme.daemon.jobs.context import JobContext


def test_a_second_job_of_a_kind_says_it_waits_and_starts_when_the_first_lets_go(tmp_path):
    ours, theirs = multiprocessing.Pipe()
    ctx = JobContext("job_second", tmp_path, tmp_path / "secondme.db", {}, theirs)
    entered = threading.Event()

    def second() -> None:
        with ctx.exclusive("kind.lock", "waiting for the other one to finish"):
            entered.set()

    with (tmp_path / "kind.lock").open("a") as first:
        fcntl.flock(first, fcntl.LOCK_EX)  # another job (its own open file) holds the lock
        waiting = threading.Thread(target=second)
        waiting.start()
        assert ours.recv() == ("progress", "wait", 0, 1, "waiting for the other one to finish")
        assert not entered.is_set()
    waiting.join(60)  # closing the first's file let go of the lock
    assert entered.is_set()
