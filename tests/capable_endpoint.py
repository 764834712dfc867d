"""An OpenAI-compatible endpoint on loopback that answers as a capable instruction-tuned model would.

No capable chat model runs on this machine (the packaged Gemma 3 270M and the tiny fixture model
both fail the capability check), so the generative path is driven by this server: it answers the
probe's four tasks right, and writes every identity text the way a fluent but careless model does,
from the notes it is shown plus what they never say (`INVENTED`: a claim naming a place, and one
naming nothing, which only the similarity and overlap thresholds can catch). What the daemon keeps
of those texts is then the real support check's doing.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Said of the owner in every text the endpoint writes; no note of the test persona says either.
INVENTED = ("She lives in Paris with her husband.", "She sings in a choir on Thursdays.")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _material(user: str) -> str:
    """The part of a writing request that holds the owner's notes (or the facets written from them)."""
    if "<document>" in user:
        return user.split("<document>", 1)[1].split("</document>", 1)[0]
    for header in ("Newest notes:", "Facets:", "oldest first:"):
        if header in user:
            user = user.split(header, 1)[1]
            break
    return "\n".join(line.split(": ", 1)[-1] for line in user.splitlines() if line.startswith("- "))


def _sentences(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        for part in _SENTENCE_END.split(line.strip().lstrip("#").strip()):
            if len(part.split()) >= 5 and part[-1] in ".!?":
                found.append(part)
    return found


def _fit(text: str, low: int, high: int) -> str:
    text = text[:high].strip()
    return text if len(text) >= low else (text + " " + "notes" * low)[:high]


def _written(schema: dict[str, Any], user: str) -> dict[str, Any]:
    """Every field of the schema filled from the notes in `user`, with the invented sentence added."""
    properties = schema["properties"]
    if "city" in properties:  # the probe's JSON task
        return {"city": "Lisbon", "year": 2019}
    if all(f"{key}:\n" in user for key in properties):  # a rewrite in the second person: the same texts back
        blocks = dict(block.split(":\n", 1) for block in user.split("\n\n") if ":\n" in block)
        return {key: blocks[key].strip() for key in properties}
    own = _sentences(_material(user)) or ["I wrote a note about my week."]
    words = re.findall(r"[A-Za-z]{4,}", own[0])
    value: dict[str, Any] = {}
    for key, spec in properties.items():
        if spec["type"] == "array":
            value[key] = [w.lower() for w in words[:3]] or ["notes"]
        elif key == "icon":
            value[key] = "*"
        elif key in ("name", "title", "aspect"):
            value[key] = _fit(" ".join(words[:3]), spec["minLength"], spec["maxLength"])
        else:
            text = ""
            for sentence in own:
                if len(text) >= spec["minLength"]:
                    break
                text = f"{text} {sentence}".strip()
            value[key] = _fit(" ".join((*INVENTED, text)), spec["minLength"], spec["maxLength"])
    return value


def _answer(body: dict[str, Any]) -> str:
    text = " ".join(m["content"] for m in body["messages"])
    user = next((m["content"] for m in body["messages"] if m["role"] == "user"), "")
    if "response_format" in body:
        return json.dumps(_written(body["response_format"]["schema"], user))
    if "number seven" in text:
        return "7"
    if "plot" in text and "number" in text:
        return "Plot 14."
    return "I don't know."


class CapableHandler(http.server.BaseHTTPRequestHandler):
    delay = 0.0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(self.delay)
        reply = json.dumps({"choices": [{"message": {"content": _answer(body)}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (the probe's timeout) closes the connection mid-reply: expected here."""


@contextmanager
def serving(handler: type[CapableHandler] = CapableHandler) -> Iterator[str]:
    """The endpoint's base URL while it runs."""
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()
        server.server_close()
