"""The OpenAI-compatible backend against real HTTP servers on loopback."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from secondme.pipeline.errors import GenerationError
from secondme.pipeline.llm import OpenAICompatible

SCHEMA = {"type": "object", "properties": {"mood": {"type": "string", "maxLength": 20}}, "required": ["mood"]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tiny_gguf):
    """llama-cpp-python's own OpenAI-compatible server, serving the tiny model on 127.0.0.1."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(tiny_gguf), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "512", "--n_threads", "2", "--model_alias", "tiny"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/models", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError(f"llama_cpp.server did not start: {process.stderr.read().decode()[-2000:]}")
    yield base
    process.terminate()
    process.wait(20)


def test_text_and_schema_valid_json_from_a_real_server(llama_server):
    backend = OpenAICompatible(llama_server, "tiny")
    text = backend.generate([{"role": "user", "content": "hello"}], max_tokens=8, seed=1)
    assert isinstance(text, str)
    value = backend.generate_json([{"role": "user", "content": "how are you?"}], SCHEMA, max_tokens=64, seed=1)
    assert isinstance(value["mood"], str) and len(value["mood"]) <= 20
    backend.close()


def test_an_endpoint_that_is_down_is_a_clear_error():
    backend = OpenAICompatible(f"http://127.0.0.1:{_free_port()}/v1", "any", timeout=2)
    with pytest.raises(GenerationError, match="cannot reach the model endpoint"):
        backend.generate([{"role": "user", "content": "hi"}])


class _Garbage(http.server.BaseHTTPRequestHandler):
    """A server on loopback that answers chat completions with content that is not JSON."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"choices": [{"message": {"content": "{not json at all"}}]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_invalid_json_from_the_endpoint_is_retried_then_reported():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        backend = OpenAICompatible(f"http://127.0.0.1:{server.server_port}/v1", "any")
        with pytest.raises(GenerationError, match=r"no valid JSON .* after 3 attempts"):
            backend.generate_json([{"role": "user", "content": "hi"}], SCHEMA)
    finally:
        server.shutdown()


def test_a_configured_endpoint_is_what_a_pipeline_job_talks_to(llama_server, tmp_path):
    from secondme.daemon.config import ModelsSection
    from secondme.daemon.models.generator import pipeline_generator

    section = ModelsSection(openai_base_url=llama_server, openai_model="tiny")
    # No database is needed: with an endpoint configured the local registry is never read.
    generator = pipeline_generator(section, tmp_path / "absent.db", tmp_path / "models")
    assert isinstance(generator, OpenAICompatible)
    value = generator.generate_json([{"role": "user", "content": "How do you feel?"}], SCHEMA, max_tokens=30, seed=1)
    assert isinstance(value["mood"], str)
