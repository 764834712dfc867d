"""Voice memos: a transcript with timestamps, from the owner's imported Whisper model."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from secondme.pipeline.errors import IngestError
from secondme.pipeline.parsers.base import ParsedDocument, ParseStatus, SourceType
from secondme.pipeline.parsers.sniff import sniff
from secondme.pipeline.parsers.text import date_from_name
from secondme.pipeline.transcribe import SAMPLE_RATE, WhisperTranscriber, decode_audio

# Set by the ingest job to <data dir>/models/whisper.pt when the owner imported a Whisper model.
WHISPER_MODEL_ENV = "SECONDME_WHISPER_MODEL"


@cache
def _transcriber(checkpoint: str) -> WhisperTranscriber:

    return WhisperTranscriber(Path(checkpoint))


class AudioParser:
    source_type = SourceType.AUDIO

    def parse(self, data: bytes, path: Path | None) -> ParsedDocument:

        checkpoint = os.environ.get(WHISPER_MODEL_ENV, "")
        if not checkpoint or not Path(checkpoint).is_file():
            raise IngestError(
                "no speech model: import a Whisper checkpoint with `secondmectl models import --kind whisper PATH`"
            )
        _, media_type = sniff(data[:64], path)
        samples = decode_audio(data, media_type)
        duration = len(samples) / SAMPLE_RATE
        segments = _transcriber(checkpoint).transcribe(samples)
        text = " ".join(s.text for s in segments).strip()
        return ParsedDocument(
            text=text,
            source_type=self.source_type,
            media_type=media_type,
            title=(text[:80] or None),
            created_at=date_from_name(path),
            status=ParseStatus.OK if text else ParseStatus.EMPTY,
            status_detail="" if text else "no speech was recognised",
            metadata={"duration_seconds": round(duration, 2), "speech_model": Path(checkpoint).name},
            segments=tuple(segments),
        )
