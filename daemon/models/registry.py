"""The model registry: GGUF files stored by content hash, their metadata, and which one is active.

It is synchronous on its own SQLite connection, so `secondmectl init` can register the default
model before any daemon runs and the daemon can call it from a worker thread. Files are copied
under a temporary name while hashing and renamed into place; activation is one transaction that
remembers the previous model.

A version trained here is usually a LoRA adapter: its file is the adapter, served on its base
model's file (`model_file` + `adapter_file`), so rolling back is switching the adapter off. It
records the dataset it was made from and every memory it learned, which stay listed when a memory
is deleted: the weights have seen it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from secondme.daemon.models.errors import InvalidModelFile, ModelError, ModelNotFound
from secondme.daemon.models.info import ModelInfo, check_fits_in_memory, read_model_info
from secondme.daemon.models.templates import template_for
from secondme.daemon.store.sync import connect, transaction
from secondme.daemon.store.timeutil import from_db, now_db, to_db

COPY_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ModelRecord:
    id: str
    sha256: str
    name: str
    kind: str
    architecture: str
    parameter_count: int
    context_length: int
    quantization: str
    has_chat_template: bool
    chat_template: str
    size_bytes: int
    source: str
    imported_at: str
    path: Path
    active: bool = False
    # The ingested_at of the newest memory it was trained on; None for a base model.
    trained_through: datetime | None = None
    # A trained version: the model it was trained from, and whether its own file is a LoRA adapter on it.
    base_id: str | None = None
    base_name: str = ""
    base_path: Path | None = None
    adapter: bool = False
    dataset_version: str = ""
    trained_by_job: str = ""
    # Memories it was trained on, and how many of them have been deleted since.
    trained_memories: int = 0
    trained_memories_deleted: int = 0

    @property
    def model_file(self) -> Path:
        """The GGUF model llama.cpp loads: the base's file for an adapter version, else its own."""
        return self.base_path if self.adapter and self.base_path is not None else self.path

    @property
    def adapter_file(self) -> Path | None:
        """The GGUF LoRA adapter applied on `model_file`, for an adapter version."""
        return self.path if self.adapter else None


# Each model with its base's file and its training memories counted (deleted ones apart).
_SELECT = """
    SELECT m.*, b.sha256 AS base_sha256, b.name AS base_name,
           (SELECT COUNT(*) FROM model_training_memories t WHERE t.model_id = m.id) AS trained_memories,
           (SELECT COUNT(*) FROM model_training_memories t
             WHERE t.model_id = m.id AND NOT EXISTS (SELECT 1 FROM memories x WHERE x.id = t.memory_id))
             AS trained_memories_deleted
    FROM models m LEFT JOIN models b ON b.id = m.base_id
"""


@dataclass(frozen=True)
class TrainedVersion:
    """What a training job hands the registry with its result file."""

    name: str
    base_id: str
    adapter: bool
    dataset_version: str
    trained_through: datetime | None
    memory_ids: tuple[str, ...]
    job_id: str


class ModelRegistry:
    def __init__(self, db_path: Path, models_dir: Path) -> None:
        self._conn = connect(db_path)
        self._dir = models_dir
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _record(self, row: sqlite3.Row, active_id: str | None) -> ModelRecord:
        return ModelRecord(
            id=row["id"],
            sha256=row["sha256"],
            name=row["name"],
            kind=row["kind"],
            architecture=row["architecture"],
            parameter_count=row["parameter_count"],
            context_length=row["context_length"],
            quantization=row["quantization"],
            has_chat_template=bool(row["has_chat_template"]),
            chat_template=row["chat_template"],
            size_bytes=row["size_bytes"],
            source=row["source"],
            imported_at=row["imported_at"],
            path=self._dir / f"{row['sha256']}.gguf",
            active=row["id"] == active_id,
            trained_through=from_db(row["trained_through"]),
            base_id=row["base_id"],
            base_name=row["base_name"] or "",
            base_path=self._dir / f"{row['base_sha256']}.gguf" if row["base_sha256"] else None,
            adapter=bool(row["adapter"]),
            dataset_version=row["dataset_version"],
            trained_by_job=row["trained_by_job"],
            trained_memories=row["trained_memories"],
            trained_memories_deleted=row["trained_memories_deleted"],
        )

    def _state(self) -> tuple[str | None, str | None]:
        row = self._conn.execute("SELECT active_id, previous_id FROM model_state WHERE singleton = 1").fetchone()
        return (row[0], row[1]) if row else (None, None)

    def list(self) -> list[ModelRecord]:
        with self._lock:
            active, _ = self._state()
            rows = self._conn.execute(_SELECT + " ORDER BY m.imported_at, m.name").fetchall()
            return [self._record(r, active) for r in rows]

    def get(self, name_or_id: str) -> ModelRecord:
        with self._lock:
            return self._get(name_or_id)

    def _get(self, name_or_id: str) -> ModelRecord:
        active, _ = self._state()
        row = self._conn.execute(
            _SELECT + " WHERE m.name = ? OR m.id = ? OR m.sha256 = ?", (name_or_id, name_or_id, name_or_id)
        ).fetchone()
        if row is None:
            raise ModelNotFound(f"no model named {name_or_id!r}; `secondmectl models list` shows them")
        return self._record(row, active)

    def active(self) -> ModelRecord | None:
        with self._lock:
            active, _ = self._state()
            return self._get(active) if active else None

    def previous(self) -> ModelRecord | None:
        with self._lock:
            _, previous = self._state()
            return self._get(previous) if previous else None

    def import_file(
        self, source: Path, name: str | None = None, chat_template: str = "", origin: str = ""
    ) -> ModelRecord:
        """Validate, copy in by content hash and register; importing the same bytes again is a no-op.

        A directory is taken for a HF checkpoint (`import_hf_directory`).
        """
        source = Path(source)
        if source.is_dir():
            return self.import_hf_directory(source, name)
        if not source.is_file():
            raise InvalidModelFile(f"no such file: {source}")
        info = read_model_info(source)
        name = name or source.stem
        check_fits_in_memory(info, name)
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        sha, tmp = self._copy_hashing(source)
        try:
            with self._lock:
                existing = self._conn.execute("SELECT name FROM models WHERE sha256 = ?", (sha,)).fetchone()
                if existing:
                    return self._get(existing[0])
                if self._conn.execute("SELECT 1 FROM models WHERE name = ?", (name,)).fetchone():
                    raise ModelError(f"a different model is already named {name!r}; pass --name to choose another")
                os.replace(tmp, self._dir / f"{sha}.gguf")
                tmp = None
                template = template_for(info.architecture, info.chat_template or chat_template)
                with transaction(self._conn) as conn:
                    conn.execute(
                        """INSERT INTO models(id, sha256, name, kind, architecture, parameter_count, context_length,
                               quantization, has_chat_template, chat_template, size_bytes, source, imported_at)
                           VALUES (?, ?, ?, 'chat', ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        (sha[:16], sha, name, info.architecture, info.parameter_count, info.context_length,
                         info.quantization, int(bool(info.chat_template)), template, info.size_bytes,
                         origin or str(source), now_db()),
                    )  # fmt: skip
                return self._get(name)
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def import_hf_directory(self, directory: Path, name: str | None = None) -> ModelRecord:
        """Import a HF model directory (llama or qwen2 safetensors): written to F16 GGUF, then imported.

        llama.cpp serves GGUF only, so a HF checkpoint becomes one here; training then reads that file
        back losslessly (F16 is what such checkpoints hold), and its adapters apply to it.
        """
        from secondme.pipeline.export import ExportError, export_gguf

        directory = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self._dir, prefix=".incoming-", suffix=".gguf")
        os.close(fd)
        try:
            try:
                export_gguf(directory, Path(tmp), dtype="f16")
            except ExportError as exc:
                raise InvalidModelFile(f"{directory} cannot be imported: {exc}") from None
            return self.import_file(Path(tmp), name or directory.name, origin=str(directory))
        finally:
            Path(tmp).unlink(missing_ok=True)

    def register_trained(self, versions: list[tuple[Path, TrainedVersion]]) -> list[ModelRecord]:
        """Copy a training run's files in and register them with their lineage and memories, in one transaction:
        a run killed at any point has registered all its versions or none.

        Registering the same bytes again returns the existing version (a resumed job registers once).
        """
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        prepared: list[tuple[TrainedVersion, ModelRecord, ModelInfo | None, int, str, str]] = []
        try:
            for source, version in versions:
                source = Path(source)
                base = self.get(version.base_id)
                if version.adapter:
                    size, info = source.stat().st_size, None
                else:
                    info = read_model_info(source)
                    check_fits_in_memory(info, version.name)
                    size = info.size_bytes
                sha, tmp = self._copy_hashing(source)
                prepared.append((version, base, info, size, sha, tmp))
            with self._lock:
                found: list[str] = []
                placed: list[Path] = []
                try:
                    with transaction(self._conn) as conn:
                        for version, base, info, size, sha, tmp in prepared:
                            existing = conn.execute("SELECT id FROM models WHERE sha256 = ?", (sha,)).fetchone()
                            if existing:
                                found.append(existing[0])
                                continue
                            target = self._dir / f"{sha}.gguf"
                            os.replace(tmp, target)
                            placed.append(target)  # removed again unless the transaction commits
                            conn.execute(
                                """INSERT INTO models(id, sha256, name, kind, architecture, parameter_count,
                                       context_length, quantization, has_chat_template, chat_template, size_bytes,
                                       source, imported_at, trained_through, base_id, adapter, dataset_version,
                                       trained_by_job)
                                   VALUES (?, ?, ?, 'chat', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                                (sha[:16], sha, self._free_name(version.name), base.architecture,
                                 base.parameter_count if info is None else info.parameter_count,
                                 base.context_length if info is None else info.context_length,
                                 base.quantization if info is None else info.quantization,
                                 int(base.has_chat_template), base.chat_template, size,
                                 f"trained by job {version.job_id}", now_db(),
                                 to_db(version.trained_through) if version.trained_through else None,
                                 base.id, int(version.adapter), version.dataset_version, version.job_id),
                            )  # fmt: skip
                            conn.executemany(
                                "INSERT OR IGNORE INTO model_training_memories(model_id, memory_id) VALUES (?, ?)",
                                [(sha[:16], memory_id) for memory_id in version.memory_ids],
                            )
                            found.append(sha[:16])
                except BaseException:
                    for path in placed:
                        path.unlink(missing_ok=True)
                    raise
                return [self._get(model_id) for model_id in found]
        finally:
            for *_, tmp in prepared:
                Path(tmp).unlink(missing_ok=True)

    def _free_name(self, wanted: str) -> str:
        name, n = wanted, 1
        while self._conn.execute("SELECT 1 FROM models WHERE name = ?", (name,)).fetchone():
            n += 1
            name = f"{wanted}-{n}"
        return name

    def versions_trained_on(self, memory_id: str) -> list[ModelRecord]:
        """Model versions whose weights learned this memory."""
        with self._lock:
            active, _ = self._state()
            rows = self._conn.execute(
                _SELECT + " WHERE m.id IN (SELECT model_id FROM model_training_memories WHERE memory_id = ?)"
                " ORDER BY m.imported_at",
                (memory_id,),
            ).fetchall()
            return [self._record(r, active) for r in rows]

    def _copy_hashing(self, source: Path) -> tuple[str, str]:
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=self._dir, prefix=".incoming-", suffix=".gguf")
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                while block := src.read(COPY_CHUNK):
                    digest.update(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest.hexdigest(), tmp

    def activate(self, name_or_id: str) -> ModelRecord:
        """Make a model the active one; the current one becomes `previous`. One transaction."""
        with self._lock:
            record = self._get(name_or_id)
            active, _ = self._state()
            if active == record.id:
                return record
            with transaction(self._conn) as conn:
                conn.execute(
                    "UPDATE model_state SET previous_id = active_id, active_id = ? WHERE singleton = 1", (record.id,)
                )
            return self._get(record.id)

    def remove(self, name_or_id: str) -> ModelRecord:
        with self._lock:
            record = self._get(name_or_id)
            if record.active:
                raise ModelError(f"{record.name} is the active model; activate another one before removing it")
            dependants = [
                r[0] for r in self._conn.execute("SELECT name FROM models WHERE base_id = ?", (record.id,)).fetchall()
            ]
            if dependants:
                raise ModelError(
                    f"{record.name} is the base of the trained version(s) {', '.join(dependants)}; remove those first"
                )
            with transaction(self._conn) as conn:
                conn.execute("UPDATE model_state SET previous_id = NULL WHERE previous_id = ?", (record.id,))
                conn.execute("DELETE FROM models WHERE id = ?", (record.id,))
            record.path.unlink(missing_ok=True)
            return record

    def sweep_incoming(self) -> None:
        """Remove partial copies left by an import that was killed."""
        if self._dir.exists():
            for partial in self._dir.glob(".incoming-*"):
                partial.unlink(missing_ok=True)
