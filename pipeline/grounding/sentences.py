"""The owner's sentences in a memory: Markdown and e-mail furniture removed, short fragments left out.

A memory's text is what the parser kept: front matter, headings, list markers, links, e-mail
headers and sign-offs are there too. What remains is split into sentences; a list item is a
sentence of its own, and so is a short line without closing punctuation (a saved page's title or
heading, which the page's parser leaves as a plain line above its paragraph). Fragments of fewer
than `MIN_WORDS` words ("Onwards. — A.") and run-ons of more than `MAX_WORDS` say too little or too
much to stand alone as a statement about the owner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from secondme.pipeline.grounding.person import subjectless_past

# Sources that hold someone else's words, which the owner saved rather than wrote.
SAVED_SOURCES = ("html", "url")
MIN_WORDS = 4
MAX_WORDS = 45
_FRONT_MATTER = re.compile(r"\A\s*---\s*\n.*?\n---\s*(\n|\Z)", re.S)
_HEADER = re.compile(r"^(from|to|cc|bcc|subject|date|sent|reply-to)\s*:", re.I)
_BULLET = re.compile(r"^\s*([-*+•]|\d+[.)])\s+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+|www\.\S+")
_EMPHASIS = re.compile(r"(\*\*|__|`|~~)")
_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
# A line this short that does not end like prose is a title, not a wrapped piece of a paragraph.
_TITLE_CHARS = 60
_PROSE_END = tuple(".!?:;,\"'’”)")
_FIRST_PERSON = re.compile(r"\b(I|I'm|I’m|I've|I’ve|I'd|I’d|I'll|I’ll|me|my|mine|myself)\b")


@dataclass(frozen=True)
class Sentence:
    memory_id: str
    text: str
    # Its order in the memory (0-based), so a memory's sentences can be put back in order.
    position: int

    @property
    def first_person(self) -> bool:
        """Says "I", "me" or "my", or leaves its "I" out as a diary does ("Moved to York"): a statement
        of the owner about themselves."""
        return _FIRST_PERSON.search(self.text) is not None or subjectless_past(self.text)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def _blocks(text: str) -> list[str]:
    """Paragraphs and list items of the text, furniture removed, each on one line."""
    text = _FRONT_MATTER.sub("", text.replace("\r\n", "\n"))
    blocks: list[str] = []
    current: list[str] = []

    def close() -> None:
        if current:
            blocks.append(" ".join(current))
            current.clear()

    for raw in text.split("\n"):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith(">") or _HEADER.match(line) or set(line) <= set("-=*_|"):
            close()
            continue
        if _BULLET.match(line):
            close()
            line = _BULLET.sub("", line)
        current.append(line)
        if len(line) < _TITLE_CHARS and not line.endswith(_PROSE_END):
            close()
    close()
    return blocks


def _clean(sentence: str) -> str:
    sentence = _LINK.sub(r"\1", sentence)
    sentence = _URL.sub("", sentence)
    sentence = _EMPHASIS.sub("", sentence)
    return " ".join(sentence.split()).strip(" -–—")


def split_sentences(text: str) -> list[str]:
    """Every sentence of a text, cleaned, in order (no length filter)."""
    found = []
    for block in _blocks(text):
        for piece in _SPLIT.split(block):
            cleaned = _clean(piece)
            if cleaned:
                found.append(cleaned)
    return found


def owner_sentences(memory_id: str, text: str) -> list[Sentence]:
    """The sentences of a memory that can stand alone as a statement (MIN_WORDS..MAX_WORDS words)."""
    kept = []
    for sentence in split_sentences(text):
        count = len(words(sentence))
        if MIN_WORDS <= count <= MAX_WORDS and not sentence.endswith(":"):
            kept.append(Sentence(memory_id, sentence, len(kept)))
    return kept
