"""Speech to text for voice memos, with timestamps, in windows so long audio shows progress.

The model is a Whisper checkpoint the owner imported (`secondmectl models import --kind whisper`);
openai-whisper would download one by name, which secondme never does. WAV is decoded in Python
(no ffmpeg needed); other formats go through ffmpeg when it is installed.
"""

from __future__ import annotations

import io
import shutil
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from secondme.pipeline.errors import IngestError
from secondme.pipeline.parsers.base import Segment

SAMPLE_RATE = 16_000
# Whisper reads 30 s at a time; windows of 10 minutes keep memory flat and progress visible.
WINDOW_SECONDS = 600


def read_wav(data: bytes) -> np.ndarray:
    """Mono float32 samples at 16 kHz from a PCM WAV file."""
    from scipy.signal import resample_poly

    try:
        with wave.open(io.BytesIO(data)) as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise IngestError(f"unreadable WAV file ({exc})") from exc
    if width not in (1, 2, 4):
        raise IngestError(f"unsupported WAV sample width ({width * 8} bits)")
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}[width]
    samples = np.frombuffer(frames[: len(frames) - len(frames) % (width * channels)], dtype=dtype).astype(np.float32)
    if width == 1:
        samples = samples - 128.0
    samples /= float(2 ** (8 * width - 1))
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE:
        gcd = np.gcd(rate, SAMPLE_RATE)
        samples = resample_poly(samples, SAMPLE_RATE // gcd, rate // gcd).astype(np.float32)
    return samples


def decode_audio(data: bytes, media_type: str) -> np.ndarray:
    if media_type == "audio/wav":
        return read_wav(data)
    if shutil.which("ffmpeg") is None:
        raise IngestError(f"{media_type} needs ffmpeg to decode; install ffmpeg (WAV works without it)")
    import subprocess

    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1"],
        input=data,
        capture_output=True,
        timeout=3600,
    )
    if result.returncode != 0:
        raise IngestError(f"ffmpeg could not decode the audio: {result.stderr.decode(errors='replace')[-200:]}")
    return np.frombuffer(result.stdout, dtype=np.int16).astype(np.float32) / 32768.0


class WhisperTranscriber:
    """openai-whisper on a local checkpoint file."""

    def __init__(self, checkpoint: Path) -> None:
        import whisper

        if not checkpoint.is_file():
            raise IngestError(
                f"no Whisper model at {checkpoint}; import one with `secondmectl models import --kind whisper`"
            )
        self._whisper = whisper
        self.model = whisper.load_model(str(checkpoint), device="cpu")

    def transcribe(self, samples: np.ndarray, progress: Callable[[float, float], None] | None = None) -> list[Segment]:
        window = WINDOW_SECONDS * SAMPLE_RATE
        total = len(samples) / SAMPLE_RATE
        segments: list[Segment] = []
        for start in range(0, max(len(samples), 1), window):
            piece = samples[start : start + window]
            offset = start / SAMPLE_RATE
            if len(piece) < SAMPLE_RATE // 10:
                break
            result = self.model.transcribe(piece, fp16=False, language="en", condition_on_previous_text=False)
            for seg in result.get("segments", []):
                text = str(seg.get("text", "")).strip()
                if text:
                    segments.append(Segment(text, start=offset + float(seg["start"]), end=offset + float(seg["end"])))
            if progress:
                progress(min(offset + WINDOW_SECONDS, total), total)
        return segments


def random_whisper_checkpoint(path: Path, seed: int = 0) -> Path:
    """A tiny random-weight Whisper checkpoint (~2 MB): the real code path, no download. For tests."""
    import dataclasses

    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(seed)
    dims = ModelDimensions(
        n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2, n_audio_layer=1,
        n_vocab=51865, n_text_ctx=448, n_text_state=64, n_text_head=2, n_text_layer=1,
    )  # fmt: skip
    model = Whisper(dims)
    torch.save({"dims": dataclasses.asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path
