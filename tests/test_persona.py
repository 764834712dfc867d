"""The project's test persona holds together: what its eval files name is in its notes and media."""

from __future__ import annotations

import json
import re
from pathlib import Path

from secondme.pipeline.parsers import ParseStatus, parser_for, sniff


def _files(persona) -> dict[str, Path]:
    return {p.name: p for folder in ("notes", "media") for p in (persona / folder).iterdir()}


def test_every_question_is_answered_by_files_the_persona_has(persona):
    files = _files(persona)
    questions = [json.loads(line) for line in (persona / "eval" / "questions.jsonl").read_text().splitlines()]
    assert len({q["id"] for q in questions}) == len(questions)
    kinds = {q["kind"] for q in questions}
    assert {"fact", "temporal", "preference", "opinion", "style", "unknown"} <= kinds
    for question in questions:
        if question["kind"] == "unknown":
            assert question["evidence"] == [] and question["must_mention"] == [], question["id"]
            continue
        assert question["evidence"] and set(question["evidence"]) <= set(files), question["id"]
        texts = []
        for name in question["evidence"]:
            if files[name].suffix in (".md", ".txt", ".html"):
                texts.append(files[name].read_text())
        if texts:  # the written evidence mentions what a right answer must (media are checked below)
            joined = " ".join(" ".join(texts).split()).lower()
            assert all(term.lower() in joined for term in question["must_mention"]), question


def test_private_facts_are_in_the_files_they_name(persona):
    for fact in json.loads((persona / "eval" / "private.json").read_text()):
        text = (persona / "notes" / fact["file"]).read_text()
        assert fact["fact"] in text, fact


def test_every_markdown_note_carries_its_date_in_front_matter_and_its_name(persona):
    for note in (persona / "notes").glob("*.md"):
        front = re.match(r"---\ndate: (\d{4}-\d{2}-\d{2})\n", note.read_text())
        assert front and front.group(1) == note.name[:10], note.name


def test_the_printed_note_and_the_media_texts_are_there_to_be_read(persona):
    media = persona / "media"
    known = {
        **json.loads((media / "image_text.json").read_text()),
        **json.loads((media / "transcripts.json").read_text()),
    }
    assert set(known) == {p.name for p in media.iterdir() if p.suffix in (".png", ".wav")}
    for pdf in media.glob("*.pdf"):  # the PDFs are text, not scans (OCR of them is not what they test)
        data = pdf.read_bytes()
        source_type, _ = sniff(data[:8192], pdf)
        doc = parser_for(source_type).parse(data, pdf)
        assert doc.status is ParseStatus.OK and len(doc.text) > 300, pdf.name
