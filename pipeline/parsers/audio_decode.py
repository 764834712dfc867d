"""Audio bytes to 16 kHz mono float32 samples, one window at a time.

A two-hour memo is 460 MB as 16 kHz float32 (more while resampling), so nothing here decodes
a recording whole: every decoder yields consecutive windows of `window_seconds`, and only the
window being transcribed is in memory. PCM WAV is read by Python's `wave` module (no other
dependency); other formats, and WAV variants `wave` cannot read, go through PyAV when it is
installed (it comes with the speech extra) or else the `ffmpeg` program, its output streamed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import shutil
import subprocess
import threading
import wave
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from secondme.pipeline.errors import IngestError

SAMPLE_RATE = 16_000  # what every Whisper model listens at


class AudioDecodeError(IngestError):
    """The audio stream broke off part-way (truncated or corrupt); what came before is usable."""


@dataclass
class AudioWindows:
    # Seconds of audio the container says it holds; 0 when it does not say (a raw stream).
    total_seconds: float
    # Consecutive windows of 16 kHz mono float32 samples; may raise AudioDecodeError part-way.
    windows: Iterator[np.ndarray]


def _resample(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE:
        return samples
    from scipy.signal import resample_poly

    gcd = int(np.gcd(rate, SAMPLE_RATE))
    return resample_poly(samples, SAMPLE_RATE // gcd, rate // gcd).astype(np.float32)


def _pcm_to_float(raw: bytes, width: int, channels: int) -> np.ndarray:
    frame = width * channels
    raw = raw[: len(raw) - len(raw) % frame]
    if width == 3:  # 24-bit: widen each little-endian sample to int32 (the top byte carries the sign)
        triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        padded = np.zeros((len(triples), 4), dtype=np.uint8)
        padded[:, 1:] = triples
        samples = padded.view("<i4").reshape(-1).astype(np.float32) / 2.0**31
    else:
        dtype = {1: np.uint8, 2: np.dtype("<i2"), 4: np.dtype("<i4")}[width]
        samples = np.frombuffer(raw, dtype=dtype).astype(np.float32)
        if width == 1:
            samples -= 128.0  # 8-bit WAV is unsigned
        samples /= float(2 ** (8 * width - 1))
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples


def wav_windows(data: bytes, window_seconds: float) -> AudioWindows:
    """PCM WAV read `window_seconds` at a time. Raises IngestError for what `wave` cannot read."""
    try:
        wav = wave.open(io.BytesIO(data))  # noqa: SIM115 - closed by the window generator
    except (wave.Error, EOFError) as exc:
        raise IngestError(f"unreadable WAV file ({exc})") from exc
    rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
    if width not in (1, 2, 3, 4) or rate <= 0 or channels <= 0:
        wav.close()
        raise IngestError(f"unsupported WAV format ({width * 8}-bit, {channels} channels, {rate} Hz)")
    frames_per_window = max(1, int(window_seconds * rate))

    def windows() -> Iterator[np.ndarray]:
        with wav:
            while raw := wav.readframes(frames_per_window):
                yield _resample(_pcm_to_float(raw, width, channels), rate)

    return AudioWindows(wav.getnframes() / rate, windows())


class _Rechunk:
    """Collects 16 kHz samples from many small frames and hands them out as whole windows."""

    def __init__(self, window_samples: int) -> None:
        self.size = window_samples
        self.parts: list[np.ndarray] = []
        self.count = 0

    def add(self, samples: np.ndarray) -> Iterator[np.ndarray]:
        self.parts.append(samples)
        self.count += len(samples)
        while self.count >= self.size:
            joined = np.concatenate(self.parts)
            yield joined[: self.size]
            rest = joined[self.size :]
            self.parts, self.count = ([rest] if len(rest) else []), len(rest)

    def rest(self) -> Iterator[np.ndarray]:
        if self.count:
            yield np.concatenate(self.parts)


def av_windows(data: bytes, window_seconds: float) -> AudioWindows:
    """Any format FFmpeg's libraries read, through PyAV, decoded and resampled frame by frame."""
    import av

    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, ValueError) as exc:
        raise IngestError(f"the audio cannot be decoded ({exc})") from exc
    if not container.streams.audio:
        container.close()
        raise IngestError("the file has no audio stream")
    stream = container.streams.audio[0]
    if stream.duration and stream.time_base:
        total = float(stream.duration * stream.time_base)
    else:
        total = container.duration / av.time_base if container.duration else 0.0

    def windows() -> Iterator[np.ndarray]:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        chunks = _Rechunk(int(window_seconds * SAMPLE_RATE))
        with container:
            decoded = container.decode(stream)
            while True:
                try:
                    frame = next(decoded, None)
                except av.FFmpegError as exc:
                    yield from chunks.rest()
                    raise AudioDecodeError(f"the audio breaks off: {exc}") from exc
                for out in resampler.resample(frame):
                    yield from chunks.add(out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0)
                if frame is None:  # resample(None) above flushed the resampler
                    break
        yield from chunks.rest()

    return AudioWindows(total, windows())


def ffmpeg_windows(data: bytes, window_seconds: float) -> AudioWindows:
    """Any format the `ffmpeg` program reads, its 16 kHz PCM output read one window at a time."""
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", "pipe:0"]
    command += ["-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1"]

    def windows() -> Iterator[np.ndarray]:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stdin, stdout, stderr = process.stdin, process.stdout, process.stderr
        assert stdin is not None and stdout is not None and stderr is not None
        errors: list[bytes] = []

        def feed() -> None:
            try:
                stdin.write(data)
            except OSError:
                pass  # ffmpeg stopped reading: it says why on stderr
            finally:
                with contextlib.suppress(OSError):
                    stdin.close()

        threads = [
            threading.Thread(target=feed, daemon=True),
            threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True),
        ]
        for thread in threads:
            thread.start()
        produced = False
        try:
            while raw := stdout.read(int(window_seconds * SAMPLE_RATE) * 2):
                produced = True
                yield np.frombuffer(raw[: len(raw) - len(raw) % 2], dtype="<i2").astype(np.float32) / 32768.0
            process.wait()
        finally:
            if process.poll() is None:  # the caller stopped early (an error or a cancel)
                process.kill()
                process.wait()
            for thread in threads:
                thread.join(timeout=5)
            stdout.close()
            stderr.close()
        if process.returncode != 0:
            reason = b"".join(errors).decode(errors="replace").strip()[-300:] or f"exit code {process.returncode}"
            error = AudioDecodeError if produced else IngestError
            raise error(f"ffmpeg could not decode the audio: {reason}")

    return AudioWindows(0.0, windows())


def open_audio(data: bytes, media_type: str, window_seconds: float) -> AudioWindows:
    """The best decoder for these bytes; raises IngestError saying what to install if none fits."""
    have_av = importlib.util.find_spec("av") is not None
    if media_type == "audio/wav":
        try:
            return wav_windows(data, window_seconds)
        except IngestError:
            if not have_av:  # e.g. float or WAVE_FORMAT_EXTENSIBLE, which `wave` refuses
                raise
    if have_av:
        return av_windows(data, window_seconds)
    if shutil.which("ffmpeg"):
        return ffmpeg_windows(data, window_seconds)
    raise IngestError(
        f"{media_type} needs PyAV (pip install 'secondme[speech]') or the ffmpeg program to decode; "
        "PCM WAV works without either"
    )
