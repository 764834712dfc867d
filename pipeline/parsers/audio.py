"""Voice memos: a transcript with timestamps, window by window, with progress in seconds.

The speech model is the owner's imported Whisper checkpoint when there is one, else the
packaged faster-whisper weights (`secondme.pipeline.transcribe.choose_transcriber`).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np

from secondme.pipeline.parsers.audio_decode import open_audio
from secondme.pipeline.parsers.base import (
    ParsedDocument,
    ParseProgress,
    ParserSettings,
    ParseStatus,
    Segment,
    SourceType,
    loading_libraries,
)
from secondme.pipeline.parsers.sniff import sniff
from secondme.pipeline.parsers.text import date_from_name
from secondme.pipeline.transcribe import (
    SILENCE_PEAK,
    WINDOW_SECONDS,
    SecondsProgress,
    Transcriber,
    Transcript,
    choose_transcriber,
    clock,
    packaged_model,
    transcribe_windows,
)


@cache
def _transcriber(checkpoint: str) -> Transcriber:
    """One loaded model per process (loading costs a second or more; a batch has many memos)."""
    return choose_transcriber(Path(checkpoint) if checkpoint else None, packaged_model())


class _OnDemand:
    """The speech model, loaded when the first window with sound comes: silence needs none."""

    def __init__(self, checkpoint: str) -> None:
        self._checkpoint = checkpoint
        self._engine: Transcriber | None = None

    @property
    def name(self) -> str:
        return self._engine.name if self._engine else ""

    def transcribe(self, samples: np.ndarray, progress: SecondsProgress | None = None) -> list[Segment]:
        if self._engine is None:
            with loading_libraries():
                self._engine = _transcriber(self._checkpoint)
        return self._engine.transcribe(samples, progress)


def _timestamps(segments: list[Segment]) -> list[list[float | int]]:
    """[start s, end s, first char, end char] per segment: where each stretch of the text was said."""
    spans, position = [], 0
    for segment in segments:
        spans.append(
            [round(segment.start or 0.0, 2), round(segment.end or 0.0, 2), position, position + len(segment.text)]
        )
        position += len(segment.text) + 1  # the segments are joined with one space
    return spans


def _document(transcript: Transcript, media_type: str, path: Path | None, model: str) -> ParsedDocument:
    text = " ".join(s.text for s in transcript.segments)
    if not transcript.seconds:
        status, detail = ParseStatus.EMPTY, "no audio samples (the file has a header and no sound)"
    elif transcript.loudest < SILENCE_PEAK:
        status, detail = ParseStatus.EMPTY, f"silence: {clock(transcript.seconds)} of audio without a sound"
    elif not text:
        status, detail = (
            ParseStatus.EMPTY,
            f"no speech was recognised in {clock(transcript.seconds)} of audio ({model})",
        )
    elif transcript.problem:
        status, detail = ParseStatus.PARTIAL, transcript.problem
    else:
        status, detail = ParseStatus.OK, ""
    return ParsedDocument(
        text=text,
        source_type=SourceType.AUDIO,
        media_type=media_type,
        title=spoken_title(text),
        created_at=date_from_name(path),
        status=status,
        status_detail=detail,
        metadata={
            "duration_seconds": round(transcript.seconds, 2),
            "speech_model": model,
            "timestamps": _timestamps(transcript.segments),
        },
        segments=tuple(transcript.segments),
    )


class AudioParser:
    source_type = SourceType.AUDIO

    def __init__(self, settings: ParserSettings | None = None) -> None:
        self.settings = settings or ParserSettings()

    def parse(self, data: bytes, path: Path | None, progress: ParseProgress | None = None) -> ParsedDocument:
        transcriber = _OnDemand(self.settings.whisper_checkpoint)
        _, media_type = sniff(data[:64], path)
        audio = open_audio(data, media_type, WINDOW_SECONDS)

        def seconds(done: float, total: float) -> None:
            if progress:
                progress("transcribe", int(done), int(total), f"{clock(done)} of {clock(total)}")

        transcript = transcribe_windows(transcriber, audio, seconds, self.settings.max_audio_seconds)
        return _document(transcript, media_type, path, transcriber.name)


def spoken_title(text: str, limit: int = 80) -> str | None:
    """A transcript's opening sentences (a voice memo has no heading): at least a short phrase's worth
    ("Quick memo." alone says nothing), cut at a word within `limit`."""
    title = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        title = f"{title} {sentence}".strip()
        if len(title) >= 25:
            break
    if len(title) > limit:
        title = title[:limit].rsplit(" ", 1)[0] + "..."
    return title or None
