"""Status's counts: answered from a recent count, never from one older than the daemon's own write.

During an ingest the count query waited 2-7 ms now and then on the job's commits, which made
GetStatus's p99 several times its idle one; the counts now come from a worker thread, reused for a
second, so status waits on no query while a job writes."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from secondme.daemon.store import counts
from secondme.daemon.store.counts import Recounted, count_totals


def _add_job(db, job_id: str) -> None:
    """A write from another connection, as a job child's are."""
    conn = sqlite3.connect(db)
    try:
        conn.execute(
            "INSERT INTO jobs(id, kind, state, params_json, created_at) VALUES (?, 'ingest', 'queued', '{}', '')",
            (job_id,),
        )
        conn.commit()
    finally:
        conn.close()


def test_a_count_is_reused_for_a_second_but_never_past_the_daemons_own_write(migrated_db):
    async def scenario() -> None:
        written = [0]
        totals = Recounted(migrated_db, count_totals, written=lambda: written[0])
        try:
            assert (await totals.get()).jobs == 0
            _add_job(migrated_db, "child-write")
            assert (await totals.get()).jobs == 0  # another process's write: up to a second late
            written[0] += 1  # the daemon wrote (an owner's change): counted again before answering
            assert (await totals.get()).jobs == 1
            _add_job(migrated_db, "later-child-write")
            deadline = time.monotonic() + counts.MAX_AGE_SECONDS + 10
            while (await totals.get()).jobs != 2:  # an older count is answered, and counted again behind
                assert time.monotonic() < deadline, "a count older than a second was never renewed"
                await asyncio.sleep(0.05)
        finally:
            await totals.close()

    asyncio.run(scenario())


def test_many_callers_after_a_write_share_one_count_at_a_time(migrated_db):
    async def scenario() -> None:
        written = [0]
        calls = [0]

        def counting(conn: sqlite3.Connection):
            calls[0] += 1
            time.sleep(0.05)  # a slow count: the callers that arrive meanwhile wait for it, not beside it
            return count_totals(conn)

        totals = Recounted(migrated_db, counting, written=lambda: written[0])
        try:
            await totals.get()
            _add_job(migrated_db, "one")
            written[0] += 1
            answers = await asyncio.gather(*(totals.get() for _ in range(20)))
            assert {a.jobs for a in answers} == {1}
            assert calls[0] == 2  # the first count, then one for all twenty callers
        finally:
            await totals.close()

    asyncio.run(scenario())
