"""Chunking, sniffing and parsing, on their own."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secondme.pipeline.errors import UnsupportedContent
from secondme.pipeline.ingest import chunk_text, walk_paths
from secondme.pipeline.parsers import SourceType, parser_for, sniff
from secondme.pipeline.parsers.text import MarkdownParser, TextParser


@given(st.text(max_size=3000), st.integers(16, 200), st.integers(0, 15))
@settings(max_examples=200, deadline=None)
def test_chunks_cover_every_token_and_point_back_to_their_text(text, size, overlap):
    chunks = chunk_text(text, size, overlap)
    for chunk in chunks:
        assert text[chunk.start_char : chunk.end_char] == chunk.text
        assert 1 <= chunk.token_count <= size
    if chunks:
        assert chunks[-1].end_char == len(text.rstrip()) or text[chunks[-1].end_char :].strip() == ""
        for before, after in itertools.pairwise(chunks):
            # windows overlap, or (without overlap) only whitespace lies between them: nothing is lost
            assert after.start_char <= before.end_char or text[before.end_char : after.start_char].strip() == ""
    else:
        assert not any(c.isalnum() or not c.isspace() for c in text)


def test_chunk_overlap_repeats_the_last_tokens():
    words = " ".join(f"t{i}" for i in range(100))
    first, second, *_ = chunk_text(words, 30, 5)
    assert first.text.split()[-5:] == second.text.split()[:5]


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n....", "photo.jpg", SourceType.IMAGE),  # a PNG named .jpg is still an image
        (b"\xff\xd8\xff\xe0JFIF", "scan.png", SourceType.IMAGE),
        (b"%PDF-1.7\n", "doc.txt", SourceType.PDF),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "memo", SourceType.AUDIO),
        (b"<!DOCTYPE html><html><body>hi", "saved.txt", SourceType.HTML),
        (b"# Title\n\nBody", "note.md", SourceType.MARKDOWN),
        (b"# Title\n\nBody", "note.txt", SourceType.TEXT),
        (b"just words", "no-extension", SourceType.TEXT),
    ],
)
def test_sniffing_trusts_content_over_the_extension(head, name, expected):
    from pathlib import Path

    assert sniff(head, Path(name))[0] is expected


def test_known_binaries_are_named_in_the_refusal():
    with pytest.raises(UnsupportedContent, match="ZIP archive"):
        sniff(b"PK\x03\x04rest")
    with pytest.raises(UnsupportedContent, match="binary content"):
        sniff(bytes(range(0, 32)) * 10)


def test_markdown_title_comes_from_front_matter_then_heading():
    parsed = MarkdownParser().parse(b"Intro line\n\n## The heading\ntext", None)
    assert parsed.title == "The heading"
    parsed = MarkdownParser().parse(b"---\ntitle: From YAML\n---\n# Heading\n", None)
    assert parsed.title == "From YAML"
    broken = MarkdownParser().parse(b"---\n: : not yaml [\n---\n# Kept\n", None)
    assert broken.title == "Kept" and "not yaml" in broken.text


def test_every_sniffed_type_either_parses_or_says_it_is_not_supported_yet():
    for source_type in SourceType:
        try:
            parser_for(source_type)
        except UnsupportedContent as exc:
            assert "not supported yet" in str(exc)


def test_walk_skips_hidden_files_and_reports_missing_paths(tmp_path):
    (tmp_path / "a.md").write_text("a")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("b")
    found = list(walk_paths([tmp_path, tmp_path / "missing"]))
    assert [c.path.name for c in found if not c.problem] == ["a.md", "b.txt"]
    assert [c.problem for c in found if c.problem] == ["no such file or folder"]


def test_a_saved_email_is_titled_and_dated_by_its_headers(persona):
    path = persona / "notes" / "2024-04-06-email-to-dad.txt"
    doc = TextParser().parse(path.read_bytes(), None)
    assert doc.title == "Moved in (and the bees survived)" and doc.created_at.date().isoformat() == "2024-04-06"
    assert doc.text.startswith("From: Nadia Brennan")  # the headers stay: who it was to is part of it
    rfc = TextParser().parse(b"From: a@b\nTo: c@d\nDate: Tue, 3 Jun 2025 10:00:00 +0100\nSubject: Hi\n\nbody\n", None)
    assert rfc.title == "Hi" and rfc.created_at.isoformat() == "2025-06-03T10:00:00+01:00"
    not_mail = TextParser().parse(b"Subject: a list\nitems: three\n\nmore\n", None)  # no From/To: not an e-mail
    assert not_mail.title == "Subject: a list"


def test_a_title_is_never_a_lone_brace_or_rule():
    assert TextParser().parse(b'{\n  "name": "x"\n}\n', None).title == '"name": "x"'
    assert TextParser().parse(b"----\n\n== Notes ==\n", None).title == "== Notes =="


def test_text_saved_two_or_four_bytes_a_character_is_read_as_text():
    # Before: Notepad's "Unicode" (UTF-16LE with its byte-order mark) was taken for MPEG audio,
    # "the audio cannot be decoded"; without the mark, or big-endian, for binary data.
    words = "Grandma's recipe: café crème, 😀 and all.\r\nSecond line.\r\n"
    saved = {
        "utf-16 with its mark (Notepad, PowerShell)": ("\ufeff" + words).encode("utf-16-le"),
        "utf-16 big-endian": ("\ufeff" + words).encode("utf-16-be"),
        "utf-16 without a mark": words.encode("utf-16-le"),
        "utf-32": ("\ufeff" + words).encode("utf-32"),
    }
    for how, data in saved.items():
        assert sniff(data, Path("recipe.txt")) == (SourceType.TEXT, "text/plain"), how
        text = parser_for(SourceType.TEXT).parse(data, Path("recipe.txt")).text
        assert text.startswith("Grandma's recipe: café crème, 😀 and all.") and "\ufeff" not in text, how
    page = "\ufeff<!doctype html><html><body><p>Wide page</p></body></html>".encode("utf-16-le")
    assert sniff(page, None)[0] is SourceType.HTML
    mpeg = b"\xff\xfb\x90\x64" + bytes(range(256)) * 8  # an MPEG audio frame is still audio
    assert sniff(mpeg, None)[0] is SourceType.AUDIO


def test_every_name_the_ingest_package_offers_is_the_one_its_home_module_defines():
    """The package imports its names when first used (a parse worker needs few of them): a name listed in
    `__all__` but missing from the map of homes, or mapped to the wrong module, must fail here, not in
    the first caller."""
    import importlib
    import subprocess
    import sys

    import secondme.pipeline.ingest as package

    assert sorted(package.__all__) == sorted(package._HOMES)
    for name, home in package._HOMES.items():
        assert getattr(package, name) is getattr(importlib.import_module(f"{package.__name__}.{home}"), name)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        package.nothing  # noqa: B018
    # A worker's import of the parse module leaves the walk, the fetcher and the run unloaded.
    heavy = ["secondme.pipeline.ingest.run", "secondme.pipeline.ingest.walk", "secondme.pipeline.fetch"]
    probe = f"import sys, secondme.pipeline.ingest.isolation; print(sorted(set(sys.modules) & set({heavy!r})))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"
