"""Memory pipeline benchmarks, each a ratio against a baseline measured in the same run.

1. Ingest throughput of Markdown notes and small PDFs through a real secondmed (submit to job
   SUCCEEDED) vs reading, sniffing, parsing and chunking the same files in-process.
2. Embedding throughput of the daemon's embed job (its started_at to finished_at, with the
   model-load part shown apart) vs raw forward passes of the same model over the same chunk
   texts, same batches and threads.
3. L1 clustering: `cluster` time and memories/s at growing sizes with its growth ratio and its
   quality (adjusted Rand index against the true themes), vs scipy's exact average linkage where
   that fits in memory; then one incremental update (`plan_membership` of 10 new memories) vs
   clustering everything again from scratch.

Run: .venv/bin/python bench/bench_memory.py [--notes 2000] [--pdfs 100] [--embed-notes 200]
     [--cluster-sizes 1000,10000,50000] [--incremental 10000]
     (--quick: the tiny sizes the test runs)
"""

from __future__ import annotations

import argparse
import math
import re
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BenchDaemon, start_daemon, wait_idle

from secondme.daemon.client import Client
from secondme.daemon.client.jobs import Job
from secondme.pipeline.ingest import chunk_text
from secondme.pipeline.parsers import parser_for, sniff
from secondme.pipeline.parsers.sniff import SNIFF_BYTES

# No mesh: nothing here needs it, and its fixed default listen port would clash with other daemons.
# No mesh, and no identity update after embedding (it is not measured here).
CONFIG = "version = 1\n[network]\nenabled = false\n[identity]\nauto_update = false\n"
CHUNK_TOKENS, CHUNK_OVERLAP = 256, 32  # the [ingest] defaults the daemon uses
EMBED_BATCH = 32  # Embedder.embed's default batch size, the one the embed job uses
EMBED_GROUP_MEMORIES = 64  # daemon/jobs/embed.py BATCH_MEMORIES: the memories of one embed call
DIMENSION = 384  # all-MiniLM-L6-v2


def as_ratio(ratio: float) -> str:
    """A ratio with its significant digits, even far below 1 (never a bare 0.00x)."""
    return f"{ratio:.2f}x" if ratio >= 1 else f"{ratio:.3g}x"


# ---------------------------------------------------------------- corpus


def vocabulary() -> list[str]:
    """Whole lowercase words of the embedding model's own vocabulary (about 20k): varied, and offline."""
    from secondme.pipeline.embeddings import default_model_path

    words = (default_model_path() / "vocab.txt").read_text().split("\n")
    return [w for w in words if re.fullmatch(r"[a-z]{4,}", w)]


class Writer:
    """Texts on topics: each topic has its own 40 words (60 % of a text), the rest from the whole vocabulary.

    Texts on one topic come out about as alike as one person's notes on one subject (embedding
    cosine ~0.8), texts on different topics less (~0.6), and no two are near-duplicates (a small
    shared vocabulary would make every note ~0.92 alike, which no real corpus is).
    """

    def __init__(self, topics: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.words = np.array(vocabulary())
        self.topics = [self.rng.choice(self.words, 40, replace=False) for _ in range(topics)]

    def text(self, topic: int, count: int) -> str:
        own = self.rng.random(count) < 0.6
        picked = np.where(own, self.rng.choice(self.topics[topic], count), self.rng.choice(self.words, count))
        return " ".join(picked.tolist())


def note_text(i: int, writer: Writer) -> str:
    day = date(2020, 1, 1) + timedelta(days=i % 2000)
    body = writer.text(i % len(writer.topics), 300)
    return f"---\ntitle: Note {i}\ndate: {day.isoformat()}\n---\n# Note {i}\n\n{body}\n"


def pdf_bytes(i: int, writer: Writer, pages: int, lines: int) -> bytes:
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    pdf = PdfWriter()
    font = DictionaryObject(
        {NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
         NameObject("/BaseFont"): NameObject("/Helvetica")}
    )  # fmt: skip
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    topic = (i * 7) % len(writer.topics)
    for number in range(pages):
        page = pdf.add_blank_page(612, 792)
        shown = [f"(Report {i} page {number + 1}) Tj T*"] + [f"({writer.text(topic, 10)}) Tj T*" for _ in range(lines)]
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 10 Tf 14 TL 40 750 Td {' '.join(shown)} ET".encode())
        page[NameObject("/Contents")] = pdf._add_object(stream)
        page[NameObject("/Resources")] = resources
    out = io.BytesIO()
    pdf.write(out)
    return out.getvalue()


def make_corpus(root: Path, notes: int, pdfs: int, embed_notes: int, seed: int) -> tuple[Path, Path, Path]:
    """Folders of Markdown notes and PDFs (ingest), and of other notes (embedding), all distinct."""
    writer = Writer(topics=max(2, (notes + embed_notes) // 25), seed=seed)
    md, pdf, embed = root / "notes", root / "pdfs", root / "embed"
    for folder in (md, pdf, embed):
        folder.mkdir()
    for i in range(notes):
        (md / f"note-{i:05d}.md").write_text(note_text(i, writer))
    for i in range(notes, notes + embed_notes):
        (embed / f"note-{i:05d}.md").write_text(note_text(i, writer))
    for i in range(pdfs):
        (pdf / f"report-{i:04d}.pdf").write_bytes(pdf_bytes(i, writer, pages=3, lines=20))
    return md, pdf, embed


def parse_in_process(folder: Path) -> tuple[float, int]:
    """Seconds to read + sniff + parse + chunk every file in `folder` (parser warmed first); chunks made."""
    files = sorted(folder.iterdir())
    warm = files[0].read_bytes()
    parser_for(sniff(warm[:SNIFF_BYTES], files[0])[0]).parse(warm, files[0])
    chunks = 0
    started = time.perf_counter()
    for path in files:
        data = path.read_bytes()
        source_type, _ = sniff(data[:SNIFF_BYTES], path)
        document = parser_for(source_type).parse(data, path)
        chunks += len(chunk_text(document.text, CHUNK_TOKENS, CHUNK_OVERLAP))
    return time.perf_counter() - started, chunks


# ---------------------------------------------------------------- daemon


def daemon_log(daemon: BenchDaemon) -> str:
    path = daemon.root / "secondmed.log"
    return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def succeeded(job: Job, what: str) -> Job:
    if not job.succeeded:
        raise RuntimeError(f"{what} ended {job.state}: {job.error}")
    return job


def ingest_through_daemon(client: Client, folder: Path) -> tuple[float, Job]:
    """Seconds from Ingest submitted to the job seen SUCCEEDED; the finished job."""
    started = time.perf_counter()
    job = client.memories.ingest([str(folder)])
    final = client.jobs.wait(job.id)
    elapsed = time.perf_counter() - started
    return elapsed, succeeded(final, f"ingest of {folder}")


def chained_job(client: Client, kind: str, after: Job, timeout: float = 60) -> Job:
    """The first job of `kind` the daemon queued once `after` finished."""
    deadline = time.monotonic() + timeout
    assert after.finished_at is not None
    while time.monotonic() < deadline:
        listed = client.jobs.list(kind=kind, limit=20)
        later = [j for j in listed if j.created_at and j.created_at >= after.finished_at]
        if later:
            return min(later, key=lambda j: j.created_at)  # type: ignore[arg-type,return-value]
        time.sleep(0.05)
    raise RuntimeError(f"no {kind} job was queued after job {after.id}")


def seconds_between(a: datetime | None, b: datetime | None) -> float:
    assert a is not None and b is not None
    return (b - a).total_seconds()


@dataclass
class EmbedJobTimes:
    total: float  # started_at -> finished_at
    spawn: float  # started_at -> "load" event: child process start and imports
    load: float  # "load" -> first "embed" event: model load and the query of what to embed
    embed: float  # first "embed" event -> last one: forward passes and vector writes
    after: float  # last "embed" event -> finished_at: what the job does after embedding
    memories: int
    chunks: int


def embed_job_times(client: Client, job: Job) -> EmbedJobTimes:
    events = [e.progress for e in client.jobs.watch(job.id) if e.progress and e.progress.stage]
    load = next(e.time for e in events if e.stage == "load")
    embeds = [e.time for e in events if e.stage == "embed"]
    result = job.result
    return EmbedJobTimes(
        total=seconds_between(job.started_at, job.finished_at),
        spawn=seconds_between(job.started_at, load),
        load=seconds_between(load, embeds[0]),
        embed=seconds_between(embeds[0], embeds[-1]),
        after=seconds_between(embeds[-1], job.finished_at),
        memories=int(result["memories"]),
        chunks=int(result["chunks"]),
    )


def embedded_chunk_groups(db: Path) -> list[list[str]]:
    """The chunk texts the embed job embedded, grouped as it grouped them (one group per embed call)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        memory_ids = [
            row[0]
            for row in conn.execute(
                "SELECT m.id FROM memories m JOIN memory_embeddings e ON e.memory_id = m.id ORDER BY m.created_at"
            )
        ]
        groups = []
        for start in range(0, len(memory_ids), EMBED_GROUP_MEMORIES):
            batch = memory_ids[start : start + EMBED_GROUP_MEMORIES]
            rows = conn.execute(
                f"SELECT text FROM chunks WHERE memory_id IN ({','.join('?' * len(batch))}) ORDER BY memory_id, idx",
                batch,
            ).fetchall()
            groups.append([r[0] for r in rows])
        return groups
    finally:
        conn.close()


def raw_embedding(groups: list[list[str]]) -> tuple[float, float, float, int]:
    """(imports + load s, tokenize s, forward + pool s, threads): the raw model on the same chunks and batches."""
    started = time.perf_counter()
    import torch

    from secondme.pipeline.embeddings import MAX_TOKENS, Embedder

    embedder = Embedder()  # threads=0 as in the embed job: torch's default for this machine
    load = time.perf_counter() - started
    tokenizer, model = embedder._tokenizer, embedder._model
    started = time.perf_counter()
    batches = [
        tokenizer(texts[i : i + EMBED_BATCH], padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        for texts in groups
        for i in range(0, len(texts), EMBED_BATCH)
    ]
    tokenize = time.perf_counter() - started
    with torch.inference_mode():
        model(**batches[0])  # one warm-up pass, not timed
        started = time.perf_counter()
        for batch in batches:
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            torch.nn.functional.normalize(pooled, dim=1)
        forward = time.perf_counter() - started
    return load, tokenize, forward, torch.get_num_threads()


def cancel_chained(client: Client, kind: str, after: Job) -> None:
    """Cancel the `kind` job chained after `after` (and wait until it is gone), so the next job runs alone."""
    job = chained_job(client, kind, after)
    client.jobs.cancel(job.id)
    client.jobs.wait(job.id)
    wait_idle(client)


def bench_ingest_and_embed(notes: int, pdfs: int, embed_notes: int, seed: int) -> dict[str, float]:
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="smm-corpus-") as tmp:
        md, pdf, embed_folder = make_corpus(Path(tmp), notes, pdfs, embed_notes, seed)
        raw_md, raw_md_chunks = parse_in_process(md)
        raw_pdf, raw_pdf_chunks = parse_in_process(pdf)

        daemon = start_daemon(CONFIG, init_args=("--no-default-model",))  # no LLM to load
        try:
            client = Client.connect(daemon.socket)
            # The embedding corpus first: its chained embed job runs to the end with nothing else
            # running. Then each ingest alone, the embed job it chains cancelled before the next.
            _, small = ingest_through_daemon(client, embed_folder)
            embed = succeeded(client.jobs.wait(chained_job(client, "embed", small).id), "the embed job")
            times = embed_job_times(client, embed)
            groups = embedded_chunk_groups(daemon.root / "data" / "secondme.db")
            wait_idle(client)  # whatever the embed job chains (identity), should the config not turn it off
            md_seconds, md_job = ingest_through_daemon(client, md)
            cancel_chained(client, "embed", md_job)
            pdf_seconds, pdf_job = ingest_through_daemon(client, pdf)
            client.close()
        except Exception:
            print(daemon_log(daemon), file=sys.stderr)
            raise
        finally:
            daemon.stop()
    for label, job, count in (("Markdown", md_job, notes), ("PDF", pdf_job, pdfs)):
        ingested = job.result.get("ingested")
        if ingested != count:
            raise RuntimeError(f"the {label} ingest job stored {ingested} of {count} files: {job.result_json[:500]}")

    print(f"1. Ingest throughput ({notes} Markdown notes of 300 words, {pdfs} PDFs of 3 text pages)")
    for label, count, raw, chunks, seconds, job in (
        ("Markdown", notes, raw_md, raw_md_chunks, md_seconds, md_job),
        ("PDF", pdfs, raw_pdf, raw_pdf_chunks, pdf_seconds, pdf_job),
    ):
        in_job = seconds_between(job.started_at, job.finished_at)
        ratio = raw / seconds
        ratios[f"ingest {label} daemon/raw"] = ratio
        print(f"   {label:<8} in-process sniff+parse+chunk : {count / raw:9.1f} docs/s ({chunks} chunks)")
        print(
            f"   {label:<8} secondmed ingest job         : {count / seconds:9.1f} docs/s "
            f"(submit to SUCCEEDED {seconds:.2f} s, {in_job:.2f} s of it started to finished)"
        )
        print(f"   {label:<8} ratio daemon/raw             : {as_ratio(ratio)}")

    chunk_count = sum(len(g) for g in groups)
    if chunk_count != times.chunks:
        raise RuntimeError(f"the embed job embedded {times.chunks} chunks but {chunk_count} were read back")
    load, tokenize, forward, threads = raw_embedding(groups)
    raw_rate = chunk_count / forward
    job_rate = times.chunks / times.total
    embed_rate = times.chunks / times.embed if times.embed > 0 else math.inf
    ratios["embed job/raw forward"] = job_rate / raw_rate
    ratios["embed job, embedding stage/raw forward"] = embed_rate / raw_rate
    print(
        f"2. Embedding throughput ({times.memories} memories, {chunk_count} chunks, batches of {EMBED_BATCH}, "
        f"{threads} torch threads)"
    )
    print(
        f"   raw model forward + mean-pool : {raw_rate:9.1f} chunks/s "
        f"(forward {forward:.2f} s; not counted: imports + load {load:.2f} s, tokenize {tokenize:.2f} s)"
    )
    print(f"   secondmed embed job           : {job_rate:9.1f} chunks/s (started to finished {times.total:.2f} s)")
    print(
        f"     of which child start {times.spawn:.2f} s, imports + model load {times.load:.2f} s, "
        f"embed + store {times.embed:.2f} s ({embed_rate:.1f} chunks/s), after embedding {times.after:.2f} s"
    )
    print(
        f"   ratio job/raw                 : {as_ratio(ratios['embed job/raw forward'])} whole job, "
        f"{as_ratio(ratios['embed job, embedding stage/raw forward'])} its embedding stage"
    )
    return ratios


# ---------------------------------------------------------------- clustering


@dataclass
class Synthetic:
    vectors: np.ndarray  # float32 unit rows
    themes: np.ndarray  # the theme of each row, -1 for an outlier
    centres: np.ndarray
    spread: np.ndarray  # per theme: noise variance times dimension


def theme_members(centre: np.ndarray, spread: float, count: int, rng: np.random.Generator) -> np.ndarray:
    # centre + N(0, s^2 I) with s^2 * d = spread, normalised: two members' expected cosine is
    # 1 / (1 + spread), so spreads of 0.67-1.22 give within-theme similarities of about 0.45-0.6.
    noise = rng.standard_normal((count, len(centre))) * math.sqrt(spread / len(centre))
    return unit(centre + noise)


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def synthetic_memories(n: int, per_theme: int, cap: int, outliers: float, seed: int) -> Synthetic:
    rng = np.random.default_rng(seed)
    themes = max(2, min(cap, n // per_theme))
    centres = unit(rng.standard_normal((themes, DIMENSION)))  # random directions: across themes cosine ~0
    spread = rng.uniform(0.67, 1.22, size=themes)
    outlier_count = round(n * outliers)
    labels = rng.integers(0, themes, size=n - outlier_count)
    labels[:themes] = np.arange(themes)  # every theme has members
    vectors = np.empty((n, DIMENSION), dtype=np.float32)
    for theme in range(themes):
        rows = np.flatnonzero(labels == theme)
        vectors[rows] = theme_members(centres[theme], spread[theme], len(rows), rng)
    vectors[n - outlier_count :] = unit(rng.standard_normal((outlier_count, DIMENSION)))
    truth = np.concatenate([labels, np.full(outlier_count, -1)])
    order = rng.permutation(n)
    return Synthetic(vectors[order], truth[order], centres, spread)


def as_clustered(vectors: np.ndarray) -> np.ndarray:
    """The vectors as the pipeline clusters them: through membership.centred when it has one."""
    from secondme.pipeline.identity import membership

    centred = getattr(membership, "centred", None)
    if centred is None:
        return vectors
    moved = centred(dict(enumerate(vectors)))
    return np.stack([moved[i] for i in range(len(vectors))])


class PeakRss:
    """Peak resident memory above the level at entry while the block runs (sampled every 10 ms)."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._stop = threading.Event()
        self.peak = 0

    def __enter__(self) -> PeakRss:
        self._base = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._process.memory_info().rss - self._base)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss - self._base)


def timed(call: Callable[[], Any]) -> tuple[float, Any, int]:
    """(seconds, value, peak extra RSS bytes)."""
    with PeakRss() as rss:
        started = time.perf_counter()
        value = call()
        elapsed = time.perf_counter() - started
    return elapsed, value, rss.peak


def quality(truth: np.ndarray, labels: np.ndarray, min_shade: int) -> tuple[float, float]:
    """(ARI against the true themes over non-outliers, share of outliers in no cluster of shade size)."""
    from sklearn.metrics import adjusted_rand_score

    labels = np.asarray(labels)
    themed = truth >= 0
    ari = adjusted_rand_score(truth[themed], labels[themed])
    _, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    outliers = ~themed
    kept_out = float(np.mean(sizes[inverse[outliers]] < min_shade)) if outliers.any() else 1.0
    return ari, kept_out


def scipy_average_linkage(vectors: np.ndarray, threshold: float) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage

    return fcluster(linkage(vectors, "average", metric="cosine"), threshold, "distance")


def bench_clustering(
    sizes: list[int], scipy_max: int, per_theme: int, cap: int, outliers: float, seed: int
) -> dict[str, float]:
    import scipy.cluster.hierarchy  # noqa: F401  imported before timing, as a daemon's job would have
    import sklearn.cluster  # noqa: F401
    from sklearn.metrics import adjusted_rand_score

    from secondme.pipeline.identity.clustering import cluster
    from secondme.pipeline.identity.membership import MembershipSettings

    settings = MembershipSettings()
    threshold = settings.threshold
    ratios: dict[str, float] = {}
    per_memory: dict[int, float] = {}
    print(
        f"3. L1 clustering: cluster(vectors, threshold={threshold}) on synthetic memories ({DIMENSION}-d, "
        f"1 theme per {per_theme} memories up to {cap}, {outliers:.0%} outliers)"
    )
    for n in sizes:
        data = synthetic_memories(n, per_theme, cap, outliers, seed + n)
        vectors = as_clustered(data.vectors)
        themes = int(data.themes.max()) + 1
        seconds, found, rss = timed(lambda vectors=vectors: cluster(vectors, threshold))
        ari, kept_out = quality(data.themes, found.labels, settings.min_shade_memories)
        shades = int(np.sum(np.bincount(found.labels) >= settings.min_shade_memories))
        per_memory[n] = seconds / n
        print(
            f"   n={n:>6}: cluster {seconds:8.3f} s {n / seconds:9.0f} memories/s  peak +{rss / 2**20:5.0f} MiB  "
            f"{found.count} clusters, {shades} of >= {settings.min_shade_memories} ({themes} true themes)"
        )
        print(
            f"     cluster ARI {ari:.3f} (vs true themes, outliers ignored); outliers kept out of shades {kept_out:.0%}"
        )
        if n <= scipy_max:
            s_seconds, s_labels, s_rss = timed(lambda vectors=vectors: scipy_average_linkage(vectors, threshold))
            s_ari, s_kept = quality(data.themes, s_labels, settings.min_shade_memories)
            agree = adjusted_rand_score(s_labels, found.labels)
            ratio = s_seconds / seconds
            ratios[f"cluster/scipy speed n={n}"] = ratio
            print(
                f"     scipy linkage(average, cosine) + fcluster {s_seconds:8.3f} s {n / s_seconds:9.0f} memories/s  "
                f"peak +{s_rss / 2**20:5.0f} MiB"
            )
            print(
                f"     scipy ARI {s_ari:.3f}; outliers kept out {s_kept:.0%}; ARI cluster vs scipy {agree:.3f}; "
                f"ratio speed cluster/scipy {as_ratio(ratio)}"
            )
        else:
            need = n * (n - 1) / 2 * 8
            print(
                f"     scipy skipped at n={n}: its condensed distance matrix alone would be {need / 1e9:.1f} GB "
                f"of float64 (--scipy-max {scipy_max})"
            )
    first = sizes[0]
    for n in sizes[1:]:
        growth = per_memory[n] / per_memory[first]
        ratios[f"cluster time per memory n={n}/n={first}"] = growth
        print(f"   growth: time per memory at n={n} / at n={first}: {as_ratio(growth)} (1.00x: linear)")
    return ratios


def bench_incremental(n: int, per_theme: int, cap: int, outliers: float, seed: int) -> dict[str, float]:
    from secondme.pipeline.identity.clustering import cluster
    from secondme.pipeline.identity.membership import MembershipSettings, ShadeGroup, plan_membership

    settings = MembershipSettings()
    data = synthetic_memories(n, per_theme, cap, outliers, seed + n)
    found = cluster(as_clustered(data.vectors), settings.threshold)
    ids = [f"m{i}" for i in range(n)]
    vectors = dict(zip(ids, data.vectors, strict=True))
    shade_of: dict[str, int] = {}
    shades = []
    for shade_id, members in enumerate(found.members()):
        if len(members) >= settings.min_shade_memories:
            shades.append(ShadeGroup(shade_id, tuple(ids[i] for i in members)))
            shade_of.update((ids[i], shade_id) for i in members)
    # Where each true theme lives: the shade holding most of its members.
    home: dict[int, int] = {}
    for theme in range(int(data.themes.max()) + 1):
        placed = Counter(shade_of[ids[i]] for i in np.flatnonzero(data.themes == theme) if ids[i] in shade_of)
        if placed:
            home[theme] = placed.most_common(1)[0][0]

    rng = np.random.default_rng(seed + 1)
    joining = [int(t) for t in rng.choice(sorted(home), size=min(7, len(home)), replace=False)]
    new_vectors = [theme_members(data.centres[t], float(data.spread[t]), 1, rng)[0] for t in joining]
    fresh = 10 - len(new_vectors)
    new_vectors += list(theme_members(unit(rng.standard_normal((1, DIMENSION)))[0], 1.0, fresh, rng))
    new_ids = [f"new{i}" for i in range(len(new_vectors))]
    vectors.update(zip(new_ids, new_vectors, strict=True))
    expected = {new_ids[i]: home[t] for i, t in enumerate(joining)}
    fresh_ids = set(new_ids[len(joining) :])
    everyone = list(vectors)

    plan_membership(vectors, shades, new_ids, settings)  # warm, not timed
    plan_seconds, plan, plan_rss = timed(lambda: plan_membership(vectors, shades, new_ids, settings))
    # From scratch the pipeline places everyone with no shades yet: centring, then cluster on all of them.
    full_seconds, full, full_rss = timed(lambda: plan_membership(vectors, [], everyone, settings))
    joined_right = sum(plan.joins.get(m) == shade for m, shade in expected.items())
    fresh_right = sum(len(group) for group in plan.new_shades if set(group) == fresh_ids)
    ratio = full_seconds / plan_seconds
    ratios = {f"from scratch/plan_membership n={n}": ratio}
    print(
        f"   incremental at n={n}: {len(shades)} shades; 10 new memories, {len(joining)} of known themes "
        f"and {fresh} of a new one"
    )
    print(
        f"     plan_membership(10 new, {len(shades)} shades)       : {plan_seconds * 1e3:9.2f} ms  "
        f"peak +{plan_rss / 2**20:.0f} MiB"
    )
    print(
        f"     plan_membership(all {len(everyone)}, no shades) : {full_seconds * 1e3:9.2f} ms  "
        f"peak +{full_rss / 2**20:.0f} MiB ({len(full.new_shades)} shades, from scratch)"
    )
    print(f"     ratio from scratch/incremental: {as_ratio(ratio)}")
    print(
        f"     placed as expected: {joined_right + fresh_right} of 10 ({joined_right} of {len(joining)} joined "
        f"their theme's shade, {fresh_right} of {fresh} formed one new shade; plan: {len(plan.joins)} joins, "
        f"{len(plan.new_shades)} new shades, {len(plan.unclustered)} unclustered)"
    )
    return ratios


# ---------------------------------------------------------------- main


def sizes_list(text: str) -> list[int]:
    sizes = [int(s) for s in text.split(",") if s.strip()]
    if not sizes or any(s < 50 for s in sizes):
        raise argparse.ArgumentTypeError("give sizes of at least 50, comma-separated")
    return sizes


SIZES = {"notes": 2000, "pdfs": 100, "embed_notes": 200, "cluster_sizes": [1000, 10000, 50000], "incremental": 10000}
QUICK = {"notes": 60, "pdfs": 4, "embed_notes": 16, "cluster_sizes": [300, 600, 2400], "incremental": 600}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, help=f"Markdown notes to ingest ({SIZES['notes']})")
    parser.add_argument("--pdfs", type=int, help=f"PDFs to ingest ({SIZES['pdfs']})")
    parser.add_argument(
        "--embed-notes", type=int, help=f"other notes, 2 chunks each, to embed ({SIZES['embed_notes']})"
    )
    parser.add_argument("--cluster-sizes", type=sizes_list, help="comma-separated (1000,10000,50000)")
    parser.add_argument(
        "--incremental", type=int, help=f"memories clustered before 10 new arrive ({SIZES['incremental']})"
    )
    parser.add_argument("--scipy-max", type=int, default=10000, help="the largest size scipy's exact linkage runs at")
    parser.add_argument("--per-theme", type=int, default=40, help="memories per synthetic theme")
    parser.add_argument("--max-themes", type=int, default=250)
    parser.add_argument("--outliers", type=float, default=0.05, help="share of memories near no theme")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-daemon", action="store_true", help="run the clustering sections only")
    parser.add_argument("--quick", action="store_true", help=f"tiny sizes, the test's: {QUICK}; flags still win")
    args = parser.parse_args()
    for name, value in (QUICK if args.quick else SIZES).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    ratios: dict[str, float] = {}
    if not args.skip_daemon:
        ratios.update(bench_ingest_and_embed(args.notes, args.pdfs, args.embed_notes, args.seed))
    cluster_args = (args.per_theme, args.max_themes, args.outliers, args.seed)
    ratios.update(bench_clustering(args.cluster_sizes, args.scipy_max, *cluster_args))
    ratios.update(bench_incremental(args.incremental, *cluster_args))
    print("summary (ratios; see each section for what is divided by what)")
    for label, value in ratios.items():
        print(f"   {label:<44} {as_ratio(value):>10}")


if __name__ == "__main__":
    main()
