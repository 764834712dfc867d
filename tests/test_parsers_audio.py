"""Voice memos: WAV decoding, a random-weight Whisper running the real code path, and the daemon flow."""

from __future__ import annotations

import io
import json
import wave

import numpy as np
import pytest
from helpers import all_memories, ingest, result, wait_job

from secondme.pipeline.errors import IngestError
from secondme.pipeline.parsers import ParseStatus, SourceType, parser_for
from secondme.pipeline.transcribe import SAMPLE_RATE, WhisperTranscriber, random_whisper_checkpoint, read_wav
from secondme.v1 import memory_pb2


@pytest.fixture(scope="module")
def whisper_checkpoint(tmp_path_factory):
    return random_whisper_checkpoint(tmp_path_factory.mktemp("whisper") / "tiny-random.pt")


def test_wav_is_decoded_to_16k_mono_without_ffmpeg(persona):
    data = (persona / "media" / "2025-09-14-voice-memo.wav").read_bytes()
    samples = read_wav(data)
    with wave.open(io.BytesIO(data)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert samples.dtype == np.float32 and abs(len(samples) / SAMPLE_RATE - seconds) < 0.01
    assert 0 < np.abs(samples).max() <= 1.0
    with pytest.raises(IngestError, match="unreadable WAV"):
        read_wav(b"RIFF\x00\x00\x00\x00WAVEjunk")


def test_random_weight_whisper_runs_the_real_path_with_timestamps(whisper_checkpoint, persona):
    samples = read_wav((persona / "media" / "2025-12-02-voice-memo.wav").read_bytes())
    calls = []
    segments = WhisperTranscriber(whisper_checkpoint).transcribe(samples, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == pytest.approx(calls[-1][1])
    for segment in segments:  # the words are noise; the structure is real
        assert 0 <= segment.start <= segment.end


def test_audio_without_a_speech_model_says_how_to_get_one(persona, monkeypatch):
    monkeypatch.delenv("SECONDME_WHISPER_MODEL", raising=False)
    with pytest.raises(IngestError, match="models import --kind whisper"):
        parser_for(SourceType.AUDIO).parse((persona / "media" / "2025-09-14-voice-memo.wav").read_bytes(), None)


def test_silence_gives_an_empty_transcript_not_an_error(whisper_checkpoint, monkeypatch):
    monkeypatch.setenv("SECONDME_WHISPER_MODEL", str(whisper_checkpoint))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(np.zeros(SAMPLE_RATE * 2, dtype=np.int16).tobytes())
    doc = parser_for(SourceType.AUDIO).parse(buffer.getvalue(), None)
    assert doc.metadata["duration_seconds"] == 2.0
    assert doc.status in (ParseStatus.OK, ParseStatus.EMPTY)


def test_imported_whisper_model_makes_voice_memos_memories(daemon, whisper_checkpoint, persona, tmp_path):
    not_a_model = tmp_path / "fake.pt"
    not_a_model.write_bytes(b"nope")
    bad = daemon.ctl("models", "import", "--kind", "whisper", str(not_a_model), check=False)
    assert bad.returncode == 2 and "not a Whisper checkpoint" in bad.stderr
    out = json.loads(daemon.ctl("models", "import", "--kind", "whisper", str(whisper_checkpoint), "--json").stdout)
    assert out["architecture"] == "whisper"
    memo = persona / "media" / "2025-09-14-voice-memo.wav"
    job = wait_job(daemon.client, ingest(daemon.client, memo).id, timeout=300)
    assert result(job)["ingested"] == 1, result(job)
    (memory,) = all_memories(daemon.client)
    assert memory.source_type == memory_pb2.SOURCE_TYPE_AUDIO
    assert memory.created_at.ToDatetime().date().isoformat() == "2025-09-14"
    meta = json.loads(memory.metadata_json)
    assert meta["speech_model"] == "whisper.pt" and meta["duration_seconds"] == pytest.approx(11.84, abs=0.01)
