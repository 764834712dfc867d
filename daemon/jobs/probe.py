"""The probe job: the capability check of the active model and of the configured endpoint, once each.

It runs after a model is activated and at start for any model not checked yet, in a child process
like every model-heavy job (a few short generations), so the owner's chat never waits on it. Each
result is stored as soon as it is known. An endpoint that cannot be reached within
`models.probe_timeout_seconds` is stored as unchecked and checked again at the next start.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from secondme.daemon.config import ModelsSection, section_from
from secondme.daemon.jobs.context import JobContext
from secondme.daemon.models.errors import ModelUnavailable
from secondme.daemon.models.generator import active_record, endpoint_generator, local_generator
from secondme.daemon.models.probes import endpoint_key, is_due, read_probe, save_probe
from secondme.pipeline.errors import GenerationError
from secondme.pipeline.llm import Generator
from secondme.pipeline.probe import UNCHECKED, ProbeResult, run_probe


def probe_and_save(
    conn: sqlite3.Connection, key: str, make: Callable[[], Generator], close_after: bool = True
) -> ProbeResult:
    """Check one model and store the result (unchecked, with the reason, when it cannot even load).

    The generator is closed afterwards unless `close_after` is false (the caller goes on using it).
    """
    try:
        generator = make()
    except (ModelUnavailable, GenerationError) as exc:
        result = ProbeResult(UNCHECKED, reason=str(exc))
    else:
        result = run_probe(generator)
        close = getattr(generator, "close", None)
        if close_after and close is not None:
            close()
    save_probe(conn, key, result)
    return result


def run(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    section = section_from(ModelsSection, ctx.config.get("models", {}))
    force = bool(params.get("force"))
    targets: list[tuple[str, str, Callable[[], Generator]]] = []
    record = active_record(ctx.db_path, ctx.data_dir / "models")
    if record is not None:
        targets.append((record.id, record.name, lambda: local_generator(record, section)))
    if section.openai_base_url:
        targets.append(
            (endpoint_key(section), section.openai_model,
             lambda: endpoint_generator(section, section.probe_timeout_seconds))
        )  # fmt: skip
    conn = ctx.connect()
    found: dict[str, Any] = {}
    try:
        for done, (key, name, make) in enumerate(targets):
            if not force and not is_due(read_probe(conn, key)):
                found[name] = "already checked"
                continue
            ctx.progress("probe", done, len(targets), f"checking {name}")
            result = probe_and_save(conn, key, make)
            found[name] = result.status
            ctx.progress("probe", done + 1, len(targets), f"{name}: {result.status}")
    finally:
        conn.close()
    return {"models": found}
