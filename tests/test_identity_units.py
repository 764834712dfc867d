"""The identity pipeline's pure parts: clustering, membership, same content, keywords, retrieval, grammars."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.metrics import adjusted_rand_score

from secondme.pipeline.errors import GenerationError
from secondme.pipeline.identity import clustering
from secondme.pipeline.identity.clustering import cluster, cohesion, split_in_two, weighted_average_linkage
from secondme.pipeline.identity.keywords import document_keywords, group_keywords
from secondme.pipeline.identity.membership import MembershipSettings, ShadeGroup, plan_membership
from secondme.pipeline.identity.shades import Evidence, select_evidence
from secondme.pipeline.llm import check_schema_for_grammar, schema_char_bound
from secondme.pipeline.retrieval import best_per_memory, dense_ranking, fts_query, fuse
from secondme.pipeline.same_content import find_same_content, overlap, shingles


def themed(n: int, themes: int, dimension: int = 64, noise: float = 0.8, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(themes, dimension))
    truth = rng.integers(0, themes, n)
    vectors = centres[truth] + rng.normal(scale=noise, size=(n, dimension))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), truth


@pytest.mark.parametrize("threshold", [0.3, 0.6, 0.9])
def test_clustering_equals_exact_average_linkage_on_cosine_distance(threshold):
    vectors, _ = themed(300, 8)
    ours = cluster(vectors, threshold)
    reference = fcluster(linkage(vectors, "average", metric="cosine"), threshold, "distance")
    assert ours.count == len(set(reference))
    assert adjusted_rand_score(reference, ours.labels) == 1.0


def test_weighted_linkage_of_groups_equals_linkage_of_their_members():
    vectors, _ = themed(200, 6, seed=3)
    sizes = np.random.default_rng(4).integers(1, 5, len(vectors))
    expanded = np.repeat(vectors, sizes, axis=0)
    reference = fcluster(linkage(expanded, "average", metric="cosine"), 0.7, "distance")
    groups = weighted_average_linkage(vectors * sizes[:, None], sizes.astype(float), 0.7)
    assert adjusted_rand_score(reference, np.repeat(groups, sizes)) == 1.0


def test_large_inputs_go_through_micro_groups_and_agree_with_the_exact_clustering(monkeypatch):
    vectors, truth = themed(3000, 12, noise=0.6, seed=5)
    monkeypatch.setattr(clustering, "EXACT_LIMIT", 5000)
    exact = cluster(vectors, 0.6)
    monkeypatch.setattr(clustering, "EXACT_LIMIT", 500)
    grouped = cluster(vectors, 0.6)
    assert adjusted_rand_score(exact.labels, grouped.labels) > 0.99
    assert adjusted_rand_score(truth, grouped.labels) > 0.99


def test_average_linkage_keeps_each_cluster_within_the_threshold():
    vectors, _ = themed(400, 10, noise=0.9, seed=6)
    for members in cluster(vectors, 0.7).members():
        if len(members) > 1:
            assert cohesion(vectors[members].sum(axis=0), len(members)) >= 1 - 0.7 - 1e-9


def test_clusters_are_numbered_by_first_appearance_and_members_listed():
    found = cluster(np.array([[1.0, 0], [0, 1.0], [0.99, 0.1], [0.05, 0.99]]), 0.2)
    assert found.count == 2 and list(found.labels) == [0, 1, 0, 1]
    assert [list(m) for m in found.members()] == [[0, 2], [1, 3]]
    assert cluster(np.zeros((0, 3)), 0.5).count == 0 and cluster(np.ones((1, 3)) / 3**0.5, 0.5).count == 1


def test_split_in_two_separates_two_themes():
    vectors, truth = themed(40, 2, noise=0.5, seed=7)
    assert adjusted_rand_score(truth, split_in_two(vectors)) == 1.0


def _ids(prefix: str, vectors: np.ndarray) -> dict[str, np.ndarray]:
    return {f"{prefix}{i}": v for i, v in enumerate(vectors)}


def test_new_memories_join_the_nearest_shade_and_strangers_wait_in_the_pool():
    vectors, truth = themed(60, 3, noise=0.5, seed=11)
    memories = {f"m{i}": v for i, v in enumerate(vectors)}
    shades = [ShadeGroup(t, tuple(f"m{i}" for i in range(50) if truth[i] == t)) for t in range(3)]
    rng = np.random.default_rng(12)
    loner = rng.normal(size=vectors.shape[1])
    memories["loner"] = loner / np.linalg.norm(loner)
    pending = [f"m{i}" for i in range(50, 60)] + ["loner"]
    plan = plan_membership(memories, shades, pending, MembershipSettings(0.85, 3))
    assert plan.joins == {f"m{i}": int(truth[i]) for i in range(50, 60)}
    assert plan.unclustered == ["loner"] and plan.new_shades == []


def test_a_new_group_of_alike_memories_becomes_a_shade_and_small_groups_wait():
    old, _ = themed(30, 2, noise=0.5, seed=21)
    new_theme, _ = themed(4, 1, noise=0.4, seed=22)
    pair, _ = themed(2, 1, noise=0.3, seed=23)
    memories = {**_ids("old", old), **_ids("new", new_theme), **_ids("pair", pair)}
    shades = [ShadeGroup(1, tuple(f"old{i}" for i in range(30)))]
    plan = plan_membership(memories, shades, [*_ids("new", new_theme), *_ids("pair", pair)], MembershipSettings(0.6, 3))
    assert plan.joins == {}
    assert [sorted(g) for g in plan.new_shades] == [sorted(_ids("new", new_theme))]
    assert sorted(plan.unclustered) == sorted(_ids("pair", pair))


def test_memories_without_a_vector_are_not_placed():
    plan = plan_membership({}, [], ["ghost"])
    assert not plan.joins and not plan.new_shades and not plan.unclustered


def test_same_content_in_two_forms_is_linked_to_the_earlier_one(persona):
    from pypdf import PdfReader

    note = (persona / "notes" / "2024-08-17-celadon-glaze-tests.md").read_text()
    pdf = "\n".join(p.extract_text() for p in PdfReader(persona / "media" / "2024-08-17-celadon-glaze-tests.pdf").pages)
    other = (persona / "notes" / "2025-06-21-craft-fair-stall.md").read_text()  # the same glaze, other words
    assert overlap(shingles(note), shingles(pdf)) > 0.9
    assert overlap(shingles(note), shingles(other)) < 0.1
    texts = {"note": note, "pdf": pdf, "other": other}
    vectors = np.array([[1.0, 0.0], [0.999, 0.0447], [0.995, 0.0998]])  # all close: only the words decide
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    order = {"note": ("1", "note"), "pdf": ("2", "pdf"), "other": ("3", "other")}
    links = find_same_content(["pdf", "other"], list(texts), vectors, texts.__getitem__, order)
    assert [(link.memory_id, link.same_as) for link in links] == [("pdf", "note")]


def test_keywords_come_from_content_words_and_set_groups_apart():
    words = document_keywords("The sourdough starter, Gerald. Gerald the starter is sulking. 2024!")
    assert words == ["starter", "gerald", "sourdough", "sulking"]  # by count, ties by first use; no numbers
    found = group_keywords(["sailing tide chart tide boat", "sourdough bread starter bread", "the of and"])
    assert found[0][0] == "tide" and found[1][0] == "bread" and found[2] == []


def test_evidence_decides_confidence_and_the_timeline_spans_the_shade():
    from datetime import UTC, datetime, timedelta

    from secondme.pipeline.identity.briefs import MemoryBrief

    start = datetime(2023, 1, 1, tzinfo=UTC)
    members = [MemoryBrief(f"m{i}", f"note {i}", start + timedelta(days=30 * i), "markdown") for i in range(25)]
    vectors = {m.id: np.array([1.0, 0.0]) for m in members}
    chosen = select_evidence(members, vectors, limit=5)
    assert len(chosen) == 5 and chosen[0].id == "m0" and chosen[-1].created_at >= start + timedelta(days=600)
    assert [m.created_at for m in chosen] == sorted(m.created_at for m in chosen)
    assert Evidence(25, start, start + timedelta(days=700), 0.5).confidence == "high"
    assert Evidence(3, start, start + timedelta(days=40), 0.2).confidence == "medium"
    assert Evidence(2, start, start, 0.9).confidence == "low"


def test_fts_queries_quote_every_term_so_hostile_text_is_only_words():
    assert fts_query("Where do you live these days?") == '"live"'
    assert fts_query('What about "Gerald" OR NEAR(x*) -- ; DROP') == '"gerald" OR "near" OR "drop"'
    assert fts_query("?? !!") == ""


def test_fusion_rewards_agreement_and_keeps_both_reasons():
    memory_of = {1: "a", 2: "b", 3: "c", 4: "a"}
    hits = fuse([(1, 0.9), (2, 0.8)], [2, 3, 99], memory_of)  # 99: a chunk the index does not hold
    assert [h.chunk_id for h in hits] == [2, 1, 3]
    assert hits[0].similarity == 0.8 and hits[0].lexical_rank == 1 and hits[2].similarity is None
    assert [h.memory_id for h in best_per_memory(fuse([(1, 0.9), (4, 0.8), (2, 0.7)], [], memory_of), 5)] == ["a", "b"]
    matrix = np.eye(3, dtype=np.float32)
    assert dense_ranking(np.array([0, 1, 0], dtype=np.float32), matrix, np.array([7, 8, 9]), 2, 0.5) == [(8, 1.0)]


def test_schemas_llama_cpp_cannot_compile_are_refused_before_they_crash_it():
    check_schema_for_grammar({"type": "string", "maxLength": 1000})
    with pytest.raises(GenerationError, match="at most 1000"):
        check_schema_for_grammar({"type": "object", "properties": {"bio": {"type": "string", "maxLength": 1400}}})
    bound = schema_char_bound(
        {"type": "object", "properties": {"a": {"type": "string", "maxLength": 10}, "b": {"type": "array",
         "items": {"type": "string", "maxLength": 3}, "maxItems": 2}}}
    )  # fmt: skip
    assert bound == 2 + (1 + 6 + 12) + (1 + 6 + 2 + 2 * 7)


def test_degenerate_answers_of_small_models_are_told_apart_from_text(persona):
    notes = persona / "notes"
    from secondme.pipeline.identity.writing import Field, Writer, implausible

    text = Field(10, 200)
    assert implausible("The count: 100000000000000000000", text) == "one character repeated"
    assert implausible("https://github.com/sourdough/x", text) == "a bare URL"
    assert implausible("100,000,000", text) == "no words" and implausible("2018-06-30 15:47:59", text) == "no words"
    assert implausible(["2024"], Field(2, 24, items=6)) == ""  # a year is a fine keyword
    assert implausible("Ages: " + ", ".join(f"10.{i}" for i in range(3, 60)), Field(80, 880)) == "a pattern repeated"
    note = (notes / "2024-01-20-moving-to-york.md").read_text()[:880]
    assert implausible(note, Field(80, 880)) == ""
    assert implausible("They bake bread on Sundays; see www.example.org", text) == ""
    assert implausible(["https://a.example", "bread"], Field(2, 24, items=6)) == ""  # lists: the best item
    from secondme.pipeline.identity.biography import global_messages, status_messages
    from secondme.pipeline.identity.briefs import MemoryBrief
    from secondme.pipeline.identity.insights import insight_messages
    from secondme.pipeline.identity.shades import shade_messages

    brief = MemoryBrief(id="m", title="t", created_at=datetime(2024, 1, 1), source_type="markdown", text="x")
    prompts = [shade_messages([brief], "Nadia Brennan"), global_messages([], "Nadia Brennan"),
               status_messages([brief], "", "Nadia Brennan"), insight_messages(brief, "", "Nadia Brennan")]  # fmt: skip
    told = [p[0]["content"] for p in prompts]
    echo = "name (two to four words naming the facet), aspect (the area of life, such as work"
    assert implausible(echo, Field(20, 280), told[0]) == "the instructions repeated"
    copied = "A facet of Nadia Brennan's life from a few of their own notes"
    assert implausible(copied, text, told[0]) == "the instructions repeated"
    for path in sorted(notes.iterdir()):  # the owner's own words are never taken for a copy of the instructions
        assert all(implausible(path.read_text(errors="replace")[:880], Field(80, 880), t) == "" for t in told), path
    writer = Writer(generator=None, length_scale=0.1)  # type: ignore[arg-type]
    schema = writer.schema({"content": Field(40, 480), "keywords": Field(2, 24, items=6)})
    assert schema["properties"]["content"] == {"type": "string", "minLength": 40, "maxLength": 48}
    assert schema["properties"]["keywords"]["items"]["maxLength"] == 3 and schema["required"] == ["content", "keywords"]
