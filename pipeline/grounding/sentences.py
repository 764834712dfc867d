"""The owner's sentences in a memory: Markdown and e-mail furniture removed, short fragments left out.

A memory's text is what the parser kept: front matter, headings, list markers, links, e-mail
headers and sign-offs are there too. What remains is split into sentences; a list item is a
sentence of its own, and so is a short line without closing punctuation (a saved page's title or
heading, which the page's parser leaves as a plain line above its paragraph). Fragments of fewer
than `MIN_WORDS` words ("Onwards. — A.") and run-ons of more than `MAX_WORDS` say too little or too
much to stand alone as a statement about the owner. `standalone` says whether a sentence still
reads right on its own, away from the ones around it: one that opens by pointing back ("She thinks
so", "That person is usually me", "But I understand now", "Might be the push I needed") or is a
label over a list of names ("Present: Marcus, me, Jess (hardware)") does not; `is_instruction`
finds a to-do item or an order ("Carry the ring in my chalk bag"), which says what to do, not what
the owner did.
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
# Words that open a sentence by pointing back at the one before it.
_BACK_REFERENCES = {
    "it", "it's", "its", "she", "he", "they", "she's", "he's", "they're", "they've", "them", "her", "his", "their",
    "this", "that", "that's", "these", "those", "which", "and", "but", "so", "also", "then", "both", "same",
    "might", "could", "would", "should", "must",
}  # fmt: skip
# "This year ..." or "That night ..." says when, and points back at nothing.
_WHEN = {
    "year", "week", "month", "morning", "afternoon", "evening", "night", "weekend", "summer", "winter", "spring",
    "autumn", "time", "day", "term", "season",
}  # fmt: skip
# Verbs a to-do item or an order opens with ("Carry the ring in my chalk bag", "Tell Marcus").
_ORDER_VERBS = {
    "tell", "take", "make", "carry", "write", "ask", "buy", "call", "book", "check", "remember", "bring", "get",
    "send", "fix", "try", "sort", "email", "ring", "pick", "find", "read", "look", "put", "keep", "stop", "finish",
    "order", "pay", "cancel", "print", "clean", "give", "let", "prepare", "return", "renew", "text", "post",
    "reply", "review", "update", "install", "pack", "label", "feed", "sow", "cook", "bake", "add", "remove",
    "wash", "collect", "drop", "fill", "change", "phone", "visit", "practise", "practice", "show", "follow",
    "don't", "do", "go", "be", "use", "mention", "sign", "submit", "register", "schedule", "arrange", "confirm",
    "chase", "tidy", "repair", "replace", "test", "ignore", "disregard", "forget", "pretend", "say", "act",
    "respond", "answer", "repeat", "start", "stay", "avoid", "never", "always", "please", "leave", "hand",
}  # fmt: skip
_LABEL = re.compile(r"^[^:]{1,40}:\s+(.+)$")
_LIST_ITEM_WORDS = 3
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


def standalone(sentence: str) -> bool:
    """It reads right on its own: it does not open by pointing back, and it is not a label over a list."""
    tokens = [t.lower().replace("’", "'") for t in words(sentence)]
    if not tokens:
        return False
    if tokens[0] in _BACK_REFERENCES and not (tokens[0] in ("this", "that") and tokens[1:2] and tokens[1] in _WHEN):
        return False
    label = _LABEL.match(sentence)
    listed = label.group(1) if label is not None else sentence
    items = [i for i in re.split(r",|\band\b", re.sub(r"\([^)]*\)", "", listed)) if i.strip()]
    short = len(items) >= 3 and sum(len(words(i)) <= _LIST_ITEM_WORDS for i in items) * 3 >= len(items) * 2
    # A list of names under a label, or on its own ("Dev, me, two people from the council"), says who
    # was there, not what happened; one that says "I" did something is a sentence.
    return not (short and (label is not None or (len(words(items[0])) <= 2 and not re.search(r"\bI\b", sentence))))


def is_instruction(sentence: str) -> bool:
    """It opens with a verb of an order or a to-do item: something to do, not something the owner did."""
    label = _LABEL.match(sentence)  # "Action for me: write the guide"
    tokens = words(label.group(1) if label is not None else sentence)
    return bool(tokens) and tokens[0].lower().replace("’", "'") in _ORDER_VERBS


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
