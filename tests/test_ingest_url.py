"""`ingest URL`: pages fetched by the daemon on the owner's request, from a real HTTP server on loopback."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import grpc
import pytest
from helpers import all_memories, result, wait_job

from secondme.pipeline.errors import ContentTooLarge, IngestError
from secondme.pipeline.fetch import fetch_url, url_problem
from secondme.v1 import memory_pb2

LIMIT = 1_000_000  # the test daemon's ingest.max_file_bytes
ARTICLE = "2025-08-30-saved-tea-science.html"


class _Site(BaseHTTPRequestHandler):
    """A small site: an article behind a redirect, a PDF without a telling name, and bad cases."""

    protocol_version = "HTTP/1.1"
    files: ClassVar[dict[str, bytes]] = {}

    def log_message(self, *args: object) -> None:  # quiet test output
        pass

    def _send(self, status: int, body: bytes = b"", content_type: str = "text/plain", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        if path == "/old/cold-water":
            self._send(301, Location="/articles/cold-water")
        elif path == "/articles/cold-water":
            self._send(200, self.files["article"], "text/html; charset=utf-8")
        elif path == "/download?id=7":
            self._send(
                200, self.files["pdf"], "application/octet-stream", Last_Modified="Sat, 29 Jun 2024 10:00:00 GMT"
            )
        elif path == "/notes/plain":
            self._send(
                200,
                b"Bought a second-hand dinghy today.\n",
                "text/plain",
                Last_Modified="Tue, 04 Mar 2025 08:00:00 GMT",
            )
        elif path == "/big":
            self._send(200, b"x" * (LIMIT + 10), "text/plain")
        elif path == "/big-unannounced":  # no Content-Length: only the streamed count can stop it
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(LIMIT // 65536 + 2):
                    self.wfile.write(b"<p>" + b"y" * 65533)
            self.close_connection = True
        elif path == "/archive":
            self._send(200, b"PK\x03\x04" + b"\x00" * 200, "application/zip")
        elif path == "/loop":
            self._send(302, Location="/loop")
        elif path == "/to-ftp":
            self._send(302, Location="ftp://127.0.0.1/file")
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(100):  # bounded: 10 s at most, long after the client gave up
                    self.wfile.write(b"z")
                    self.wfile.flush()
                    time.sleep(0.1)
            self.close_connection = True
        else:
            self._send(404, b"not here")


@pytest.fixture
def site(persona) -> Iterator[str]:
    _Site.files = {
        "article": (persona / "notes" / ARTICLE).read_bytes(),
        "pdf": (persona / "media" / "2024-08-17-celadon-glaze-tests.pdf").read_bytes(),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_only_plain_http_and_https_urls_are_accepted():
    assert url_problem("https://example.org/page") == ""
    assert url_problem("http://127.0.0.1:8080/a?b=c") == ""
    assert "not an http or https URL" in url_problem("ftp://example.org/file")
    assert "not an http or https URL" in url_problem("file:///etc/passwd")
    assert "has no host" in url_problem("http:///path")
    assert "user name or password" in url_problem("https://owner:secret@example.org/")
    assert "whitespace" in url_problem("https://example.org/a page")
    assert "not a valid URL" in url_problem("http://example.org:port/")


def test_fetch_follows_redirects_and_refuses_what_it_should(site):
    page = fetch_url(f"{site}/old/cold-water", LIMIT)
    assert page.final_url == f"{site}/articles/cold-water" and page.content_type == "text/html"
    assert page.data.startswith(b"<!DOCTYPE html") or b"<html" in page.data[:200]
    with pytest.raises(IngestError, match="404 Not Found"):
        fetch_url(f"{site}/missing", LIMIT)
    with pytest.raises(ContentTooLarge, match=r"1\.0 MB limit"):
        fetch_url(f"{site}/big", LIMIT)
    with pytest.raises(ContentTooLarge, match=r"1\.0 MB limit"):
        fetch_url(f"{site}/big-unannounced", LIMIT)
    with pytest.raises(IngestError, match="more than 5 redirects"):
        fetch_url(f"{site}/loop", LIMIT)
    with pytest.raises(IngestError, match="not http"):
        fetch_url(f"{site}/to-ftp", LIMIT)
    with pytest.raises(IngestError, match="could not connect"):
        fetch_url(f"http://127.0.0.1:{_closed_port()}/", LIMIT)
    with pytest.raises(IngestError, match="took longer than 1 s"):
        fetch_url(f"{site}/trickle", LIMIT, deadline_seconds=1)


def test_ingest_url_makes_url_memories_and_says_why_each_bad_one_was_skipped(start_daemon, site, persona):
    daemon = start_daemon(f"version = 1\n[ingest]\nmax_file_bytes = {LIMIT}\n")
    refused = f"http://127.0.0.1:{_closed_port()}/gone"
    urls = [
        f"{site}/old/cold-water",
        f"{site}/download?id=7",
        f"{site}/notes/plain",
        f"{site}/missing",
        refused,
        f"{site}/big",
        f"{site}/big-unannounced",
        f"{site}/archive",
    ]
    note = persona / "notes" / "2024-01-20-moving-to-york.md"
    out = daemon.ctl("ingest", str(note), *urls, "--json")
    (job,) = json.loads(out.stdout)["jobs"]
    summary = json.loads(job["result_json"])
    assert summary["total"] == 9 and summary["ingested"] == 4 and summary["skipped"] == 5, summary
    reasons = {p["path"]: p["reason"] for p in summary["problems"]}
    assert "404 Not Found" in reasons[f"{site}/missing"]
    assert "could not connect" in reasons[refused] and "refused" in reasons[refused].lower()
    assert "1.0 MB limit" in reasons[f"{site}/big"] and "1.0 MB limit" in reasons[f"{site}/big-unannounced"]
    assert "ZIP archive" in reasons[f"{site}/archive"]

    memories = {m.source: m for m in all_memories(daemon.client)}
    assert str(note) in memories
    article = memories[f"{site}/articles/cold-water"]  # the URL after the redirect
    assert article.source_type == memory_pb2.SOURCE_TYPE_URL and article.media_type == "text/html"
    assert article.title == "Why your tea tastes different at work"
    assert article.created_at.ToDatetime().date().isoformat() == "2025-08-21"  # the page's own date
    assert json.loads(article.metadata_json)["parsed_as"] == "html"
    text = daemon.client.memory.GetMemory(memory_pb2.GetMemoryRequest(memory_id=article.id, include_text=True)).text
    assert "<" not in text and len(text) > 200
    pdf = memories[f"{site}/download?id=7"]  # sniffed as PDF whatever the server called it
    assert pdf.source_type == memory_pb2.SOURCE_TYPE_URL and pdf.media_type == "application/pdf"
    assert json.loads(pdf.metadata_json)["content_type"] == "application/octet-stream"
    plain = memories[f"{site}/notes/plain"]  # no date inside: the server's Last-Modified
    assert plain.created_at.ToDatetime().date().isoformat() == "2025-03-04"

    again = daemon.client.memory.Ingest(memory_pb2.IngestRequest(urls=[f"{site}/articles/cold-water"]), timeout=30)
    assert result(wait_job(daemon.client, again.job.id))["duplicate"] == 1


def test_urls_that_are_not_http_are_refused_before_any_job(daemon):
    for url in ("ftp://127.0.0.1/file", "file:///etc/passwd", "https://me:pw@127.0.0.1/"):
        with pytest.raises(grpc.RpcError) as caught:
            daemon.client.memory.Ingest(memory_pb2.IngestRequest(urls=[url]), timeout=30)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, url
    with pytest.raises(grpc.RpcError) as caught:
        daemon.client.memory.Ingest(memory_pb2.IngestRequest(), timeout=30)
    assert "at least one path or URL" in caught.value.details()
    cli = daemon.ctl("ingest", "ftp://127.0.0.1/file", check=False)
    assert cli.returncode == 2 and "not an http or https URL" in cli.stderr
