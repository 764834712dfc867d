"""Where each model's capability check is kept, and which models still need one.

A local model is known by its id; the configured OpenAI-compatible endpoint by its URL and model
name (another endpoint or model is another key). A check older than the probe's version, or one
that could not reach the model, is due again.
"""

from __future__ import annotations

import json
import sqlite3

from secondme.daemon.config import ModelsSection
from secondme.daemon.store.db import Store
from secondme.daemon.store.timeutil import now_db
from secondme.pipeline.probe import PROBE_VERSION, UNCHECKED, ProbeResult


def endpoint_key(section: ModelsSection) -> str:
    return f"endpoint:{section.openai_base_url.rstrip('/')}#{section.openai_model}"


def is_due(result: ProbeResult | None) -> bool:
    return result is None or result.status == UNCHECKED or result.version != PROBE_VERSION


def read_probe(conn: sqlite3.Connection, key: str) -> ProbeResult | None:
    row = conn.execute("SELECT result_json FROM model_probes WHERE model_key = ?", (key,)).fetchone()
    return ProbeResult.from_dict(json.loads(row[0])) if row else None


def save_probe(conn: sqlite3.Connection, key: str, result: ProbeResult) -> None:
    conn.execute(
        """INSERT INTO model_probes(model_key, status, result_json, version, probed_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(model_key) DO UPDATE SET status = excluded.status, result_json = excluded.result_json,
               version = excluded.version, probed_at = excluded.probed_at""",
        (key, result.status, json.dumps(result.to_dict()), result.version, now_db()),
    )


async def load_probe(store: Store, key: str) -> ProbeResult | None:
    row = await store.fetchone("SELECT result_json FROM model_probes WHERE model_key = ?", (key,))
    return ProbeResult.from_dict(json.loads(row[0])) if row else None
