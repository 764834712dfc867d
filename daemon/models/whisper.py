"""The owner's speech model: one Whisper checkpoint file, imported into the data dir.

openai-whisper fetches models by name from the internet; secondme never does, so the owner
imports a checkpoint file once and every ingest job uses it, in preference to the packaged
faster-whisper weights (the `speech` extra) that transcribe when nothing was imported.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from secondme.daemon.models.errors import InvalidModelFile

WHISPER_FILENAME = "whisper.pt"


def import_whisper(source: Path, models_dir: Path) -> Path:
    """Check that `source` is a Whisper checkpoint, then copy it in atomically."""
    import torch

    try:
        checkpoint = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InvalidModelFile(f"{source.name} is not a Whisper checkpoint (a PyTorch .pt file): {exc}") from None
    if not isinstance(checkpoint, dict) or not {"dims", "model_state_dict"} <= checkpoint.keys():
        raise InvalidModelFile(f"{source.name} is a PyTorch file but not a Whisper checkpoint (no dims/weights)")
    models_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=models_dir, prefix=".incoming-", suffix=".pt")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(source.read_bytes())
            out.flush()
            os.fsync(out.fileno())
        target = models_dir / WHISPER_FILENAME
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
