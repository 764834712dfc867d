"""A shade's name from its memories' own words: the names and places they share, then their keywords.

Named entities are found by rule: capitalised words (and runs of them, "Day Skipper") that do not
open a sentence, are not stop words and are not months or weekdays. Keywords are the words that
set the shade apart from the others (TF-IDF, `keywords.group_keywords`). Both count only when
several of the shade's memories use them, and generic words ("finally", "minutes", "week") never
count: a name says what the memories have in common.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from secondme.pipeline.grounding.sentences import split_sentences, words
from secondme.pipeline.identity.keywords import stop_words

NAME_TERMS = 3
_CALENDAR = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}  # fmt: skip
# Words frequent in anyone's notes that say nothing about what a group of notes is about.
GENERIC_WORDS = {
    "finally", "minutes", "minute", "hours", "hour", "time", "times", "things", "thing", "really", "week", "weeks",
    "day", "days", "today", "yesterday", "tomorrow", "year", "years", "month", "months", "good", "great", "new",
    "old", "lot", "lots", "bit", "way", "just", "going", "got", "want", "need", "make", "made", "right", "fair",
    "onwards", "properly", "proper", "honestly", "frankly", "annoyingly", "actually", "probably", "maybe", "still",
    "next", "last", "first", "second", "third", "morning", "evening", "night", "tonight", "note", "notes", "plan",
    "plans", "start", "started", "end", "ended", "better", "best", "little", "big", "long", "short", "sure",
    "thanks", "thank", "love", "hi", "hello", "dear", "okay", "yes", "yeah", "nice", "quite", "pretty", "enough",
    "bits", "stuff", "half", "whole", "away", "back", "went", "come", "came", "said", "says", "know", "think",
    "thought", "feel", "felt", "like", "liked", "done", "did", "does", "doing", "getting", "use", "used", "one",
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "saved", "comment", "todo", "list",
}  # fmt: skip
_CAPITALISED = re.compile(r"^[A-Z][\w'’-]*$")


def _generic(word: str) -> bool:
    plain = word.lower()
    return plain in GENERIC_WORDS or plain in stop_words() or plain in _CALENDAR or len(plain) < 3


def named_entities(text: str) -> list[str]:
    """Capitalised words and runs of them that do not open a sentence, in order of appearance."""
    found: list[str] = []
    for sentence in split_sentences(text):
        tokens = words(sentence)
        run: list[str] = []
        for index, token in enumerate([*tokens, ""]):
            if index and _CAPITALISED.match(token) and token not in ("I", "I'm", "I've", "I'd", "I'll"):
                run.append(token)
                continue
            while run and _generic(run[0]):
                run.pop(0)
            while run and _generic(run[-1]):
                run.pop()
            if run:
                found.append(" ".join(run))
            run = []
    return found


def shade_name(member_texts: Sequence[str], keywords: Sequence[str], owner_name: str = "") -> str:
    """Up to three terms, those most of the members use first: distinctive keywords and named entities.

    Ties go to the keywords in their TF-IDF order (what sets the shade apart), then to entities.
    """
    owner = {w.lower() for w in words(owner_name)}
    needed = 2 if len(member_texts) >= 3 else 1
    lowered = [t.lower() for t in member_texts]
    entity_counts: Counter[str] = Counter()
    for text in member_texts:
        entity_counts.update(named_entities(text))
    candidates = list(dict.fromkeys([*keywords, *(e for e, _ in entity_counts.most_common())]))
    ranked: list[tuple[int, int, str]] = []
    for order, term in enumerate(candidates):
        plain = term.lower()
        if _generic(term) or any(w.lower() in owner for w in words(term)):
            continue
        shared = sum(1 for t in lowered if re.search(r"(?<!\w)" + re.escape(plain), t))
        if shared >= needed:
            ranked.append((-shared, order, term))
    terms: list[str] = []
    for _, _, term in sorted(ranked):
        if len(terms) >= NAME_TERMS:
            break
        if not any(term.lower() in t.lower() or t.lower() in term.lower() for t in terms):
            terms.append(term)
    if not terms:  # nothing shared: the most frequent entity or keyword still says something
        terms = [e for e, _ in entity_counts.most_common(1)] or [k for k in keywords if not _generic(k)][:1]
    return ", ".join(t[:1].upper() + t[1:] for t in terms) or "unnamed"
