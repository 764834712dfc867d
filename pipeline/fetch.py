"""Fetch one web page (or PDF, or any document) because the owner asked for it.

Only `ingest URL` calls this, in the ingest job's child: the daemon never fetches on its own.
http and https only, bounded redirects, connect/read timeouts and an overall deadline, and the
body capped at `ingest.max_file_bytes` while it streams, so a huge or endless response costs
at most that much memory. Every failure is an `IngestError` that says what happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from secondme.pipeline.errors import ContentTooLarge, IngestError

MAX_REDIRECTS = 5
CONNECT_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 30.0
# A server that trickles bytes never trips the read timeout; this bounds the whole download.
DEADLINE_SECONDS = 120.0
MAX_URL_CHARS = 4096
USER_AGENT = "secondme/0.1 (fetched at its owner's request)"
_ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,text/*;q=0.8,*/*;q=0.5"


def url_problem(url: str) -> str:
    """Why `url` cannot be fetched, or "" when it is a plain http(s) URL."""
    if len(url) > MAX_URL_CHARS:
        return f"the URL is longer than {MAX_URL_CHARS} characters"
    if any(c.isspace() for c in url):
        return f"{url!r} contains whitespace"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return f"{url!r} is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return f"{url!r} is not an http or https URL"
    if not parts.hostname:
        return f"{url!r} has no host"
    if parts.username or parts.password:
        return f"{url!r} carries a user name or password, which would be stored with the memory"
    return ""


@dataclass(frozen=True)
class FetchedPage:
    final_url: str  # after redirects: what the memory records as its source
    data: bytes
    content_type: str  # the server's media type, lower-case, without parameters ("" if none)
    last_modified: datetime | None


def _last_modified(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _too_large(limit: int) -> ContentTooLarge:
    return ContentTooLarge(f"the page is larger than the {limit / 1e6:.1f} MB limit (raise ingest.max_file_bytes)")


def fetch_url(url: str, max_bytes: int, deadline_seconds: float = DEADLINE_SECONDS) -> FetchedPage:
    """GET `url` and return its body; raises IngestError (ContentTooLarge past `max_bytes`)."""
    problem = url_problem(url)
    if problem:
        raise IngestError(problem)
    import httpx

    deadline = time.monotonic() + deadline_seconds
    timeout = httpx.Timeout(READ_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS)
    headers = {"User-Agent": USER_AGENT, "Accept": _ACCEPT}
    try:
        with (
            httpx.Client(
                follow_redirects=True, max_redirects=MAX_REDIRECTS, timeout=timeout, headers=headers
            ) as client,
            client.stream("GET", url) as response,
        ):
            if not response.is_success:
                raise IngestError(f"the server answered {response.status_code} {response.reason_phrase}".rstrip())
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(max_bytes)
            body = bytearray()
            for chunk in response.iter_bytes():  # decoded (gzip etc.): the cap is on what we keep
                body += chunk
                if len(body) > max_bytes:
                    raise _too_large(max_bytes)
                if time.monotonic() > deadline:
                    raise IngestError(f"the download took longer than {deadline_seconds:.0f} s")
            final_url = str(response.url)
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            modified = _last_modified(response.headers.get("last-modified"))
    except httpx.TooManyRedirects as exc:
        raise IngestError(f"more than {MAX_REDIRECTS} redirects") from exc
    except httpx.UnsupportedProtocol as exc:
        raise IngestError(f"redirected to an address that is not http(s) ({exc})") from exc
    except httpx.TimeoutException as exc:
        raise IngestError(f"the server did not answer in time ({type(exc).__name__})") from exc
    except httpx.ConnectError as exc:
        raise IngestError(f"could not connect to {urlsplit(url).netloc} ({exc})") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise IngestError(f"the download failed ({type(exc).__name__}: {exc})") from exc
    if not body:
        raise IngestError("the server sent an empty body")
    return FetchedPage(final_url, bytes(body), content_type, modified)
