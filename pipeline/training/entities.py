"""The people, places and organisations of the owner's memories, and which of them appear together.

Second-Me spreads its synthetic questions over an entity graph so a training set is not fifty
questions about the owner's job; we do the same without a model: names are found by rule
(capitalised runs that do not open a sentence), typed by the words around them ("in York" is a
place, "Minster Maps Ltd" an organisation, "with Priya" a person), and joined in a networkx graph
whose edges count the memories two names share. Question selection walks it: least-asked entities
first, and relations (edges) as well as single names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from secondme.pipeline.grounding.sentences import split_sentences
from secondme.pipeline.training.material import Memory

PERSON, PLACE, ORGANISATION, OTHER = "person", "place", "organisation", "other"

_TOKEN = re.compile(r"[A-Za-z][\w'’&.-]*[\w]|[A-Za-z]")
_POSSESSIVE = re.compile(r"['’]s$")
_CALENDAR = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}  # fmt: skip
# Capitalised words that are not names even in the middle of a sentence.
_NOT_NAMES = {
    "i", "i'm", "i've", "i'd", "i'll", "ok", "okay", "mr", "mrs", "ms", "dr", "re", "fwd", "subject", "from", "to",
    "dear", "hi", "hello", "thanks", "cheers", "best", "regards", "todo", "note", "notes", "the", "a", "an",
    "and", "or", "but", "it", "we", "my", "our", "this", "that", "so", "then", "also", "pm", "am", "tv", "uk", "usa",
}  # fmt: skip
_ORG_WORDS = {
    "ltd", "limited", "inc", "plc", "llc", "gmbh", "co", "company", "robotics", "analytics", "labs", "systems",
    "university", "college", "school", "council", "club", "society", "group", "bank", "trust", "institute",
    "association", "maps", "studio", "studios", "press", "records", "partners", "agency", "foundation",
}  # fmt: skip
_PLACE_WORDS = {
    "street", "road", "lane", "avenue", "park", "hill", "river", "lake", "bay", "harbour", "station", "beach",
    "island", "valley", "moor", "fell", "peak", "peaks", "city", "town", "village", "market", "bridge", "square",
}  # fmt: skip
_PLACE_BEFORE = {"in", "to", "from", "at", "near", "around", "across", "through", "into", "towards", "via", "visit"}
_PERSON_BEFORE = {"with", "told", "met", "called", "asked", "emailed", "texted", "mum", "dad", "friend"}
_PERSON_AFTER = {"said", "says", "told", "asked", "thinks", "thought", "wrote", "came", "joined"}


@dataclass(frozen=True)
class Mention:
    name: str
    kind: str
    sentence: str


def _is_capitalised(token: str) -> bool:
    """A word that may be (part of) a name; never one holding a digit (codes and passwords are not names)."""
    plain = token.lower()
    return (
        token[:1].isupper()
        and plain not in _NOT_NAMES
        and plain not in _CALENDAR
        and plain.removesuffix("s") not in _CALENDAR
        and not any(c.isdigit() for c in token)
    )


def _kind(run: list[str], before: str, after: str) -> str:
    words = {w.lower().strip(".") for w in run}
    if words & _ORG_WORDS or any(w.isupper() and len(w) > 1 for w in run):
        return ORGANISATION
    if words & _PLACE_WORDS or before in _PLACE_BEFORE:
        return PLACE
    if before in _PERSON_BEFORE or after in _PERSON_AFTER or after.startswith("'s"):
        return PERSON
    return OTHER


def mentions(text: str, known: frozenset[str] = frozenset()) -> list[Mention]:
    """Names in `text` with their kind and the sentence they are in, in order of appearance.

    A capitalised word opening a sentence counts only when it is in `known` (names found mid-sentence
    elsewhere): "Tom got the job" names Tom once Tom is known, "Houses in York..." never names Houses.
    """
    found: list[Mention] = []
    for sentence in split_sentences(text):
        tokens = [_POSSESSIVE.sub("", t) for t in _TOKEN.findall(sentence)]
        run: list[str] = []
        start = 0
        for index, token in enumerate([*tokens, ""]):
            if token and _is_capitalised(token) and (index > 0 or token in known):
                if not run:
                    start = index
                run.append(token)
                continue
            if run:
                before = tokens[start - 1].lower() if start > 0 else ""
                after = token.lower()
                name = " ".join(run).strip(".")
                if len(name) >= 3:
                    found.append(Mention(name, _kind(run, before, after), sentence))
                run = []
    return found


class EntityGraph:
    """Entities as nodes (kind, the memories that mention them), co-occurrence in a memory as weighted edges."""

    def __init__(self, memories: Iterable[Memory]) -> None:
        self.graph = nx.Graph()
        memories = list(memories)
        known = frozenset(mention.name for m in memories for mention in mentions(m.text))
        for memory in memories:
            names: dict[str, str] = {}
            for mention in mentions(memory.text, known):
                kinds: Counter[str] = (
                    self.graph.nodes[mention.name]["kinds"] if mention.name in self.graph else Counter()
                )
                kinds[mention.kind] += 1
                if mention.name not in self.graph:
                    self.graph.add_node(mention.name, kinds=kinds, memories=set())
                self.graph.nodes[mention.name]["memories"].add(memory.id)
                names[mention.name] = mention.kind
            ordered = sorted(names)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 :]:
                    weight = self.graph.edges[a, b]["weight"] + 1 if self.graph.has_edge(a, b) else 1
                    self.graph.add_edge(a, b, weight=weight)

    def kind(self, name: str) -> str:
        """The entity's kind by majority over its mentions; a typed mention beats 'other'."""
        kinds: Counter[str] = self.graph.nodes[name]["kinds"]
        typed = [(count, kind) for kind, count in kinds.items() if kind != OTHER]
        return max(typed)[1] if typed else OTHER

    def entities_of(self, memory_id: str) -> list[str]:
        return sorted(n for n, data in self.graph.nodes(data=True) if memory_id in data["memories"])

    def relations_of(self, memory_id: str) -> list[tuple[str, str]]:
        names = set(self.entities_of(memory_id))
        return sorted((a, b) for a, b in self.graph.edges if a in names and b in names)

    def summary(self) -> dict[str, object]:
        kinds = Counter(self.kind(n) for n in self.graph.nodes)
        central = sorted(self.graph.degree(weight="weight"), key=lambda item: (-item[1], item[0]))[:10]
        return {
            "entities": self.graph.number_of_nodes(),
            "relations": self.graph.number_of_edges(),
            "by_kind": dict(sorted(kinds.items())),
            "most_connected": [name for name, _ in central],
        }
