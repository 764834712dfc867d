"""PDF, web page and image parsing on the persona's files, and their bad-input cases."""

from __future__ import annotations

import io
import json

import pytest
from helpers import all_memories, ingest, result, wait_job
from PIL import Image

from secondme.pipeline.errors import IngestError
from secondme.pipeline.parsers import ParseStatus, SourceType, parser_for, sniff
from secondme.v1 import memory_pb2


def _parse(path):
    data = path.read_bytes()
    source_type, _ = sniff(data[:8192], path)
    return source_type, parser_for(source_type).parse(data, path)


def _words(text: str) -> list[str]:
    return text.split()


def test_images_are_read_by_ocr_as_their_known_text(persona):
    known = json.loads((persona / "media" / "image_text.json").read_text())
    for name, text in known.items():
        source_type, doc = _parse(persona / "media" / name)
        assert source_type is SourceType.IMAGE and doc.status is ParseStatus.OK
        assert _words(doc.text) == _words(text)
        assert doc.created_at.date().isoformat() == name[:10]


def test_pdfs_give_their_pages_text_title_and_the_owners_date(persona):
    source_type, doc = _parse(persona / "media" / "2024-08-17-celadon-glaze-tests.pdf")
    assert source_type is SourceType.PDF and doc.status is ParseStatus.OK
    assert doc.title == "Celadon glaze tests"
    assert "Salthill" in doc.text and [s.start for s in doc.segments] == [1, 2]
    assert doc.created_at.date().isoformat() == "2024-08-17"
    _, handbook = _parse(persona / "media" / "2024-06-14-gtfs-feed-handbook.pdf")  # titled "(anonymous)"
    assert handbook.title == "Northway GTFS feed: handbook"


def test_saved_web_pages_give_the_article_not_the_page(persona):
    source_type, doc = _parse(persona / "notes" / "2025-08-30-saved-tea-science.html")
    assert source_type is SourceType.HTML
    assert doc.title == "Why your tea tastes different at work"
    assert doc.created_at.date().isoformat() == "2025-08-21"  # the article's own date
    assert "<" not in doc.text and len(doc.text) > 200


def test_broken_pdfs_are_refused_with_reasons(tmp_path, persona):
    from pypdf import PdfWriter

    with pytest.raises(IngestError, match="corrupt or unreadable PDF"):
        parser_for(SourceType.PDF).parse(b"%PDF-1.7\n" + b"\x00garbage" * 100, None)
    writer = PdfWriter(clone_from=persona / "media" / "2025-03-02-hive-records.pdf")
    writer.encrypt(user_password="secret", owner_password="owner")
    locked = io.BytesIO()
    writer.write(locked)
    with pytest.raises(IngestError, match="encrypted with a password"):
        parser_for(SourceType.PDF).parse(locked.getvalue(), None)


def test_a_five_hundred_page_pdf_is_read_page_by_page():
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject(
        {NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
         NameObject("/BaseFont"): NameObject("/Helvetica")}
    )  # fmt: skip
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    for number in range(500):
        page = writer.add_blank_page(200, 200)
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 20 100 Td (page {number}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = resources
    out = io.BytesIO()
    writer.write(out)
    doc = parser_for(SourceType.PDF).parse(out.getvalue(), None)
    assert doc.metadata["pages"] == 500 and doc.status is ParseStatus.OK
    assert [s.start for s in doc.segments] == list(range(1, 501))
    assert doc.segments[499].text == "page 499"


def test_images_without_text_say_so_and_truncated_images_are_refused(tmp_path):
    plain = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(plain, format="PNG")
    doc = parser_for(SourceType.IMAGE).parse(plain.getvalue(), None)
    assert doc.status is ParseStatus.EMPTY and doc.metadata["width"] == 64
    jpeg = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(jpeg, format="JPEG")
    renamed = tmp_path / "really-a-jpeg.png"
    renamed.write_bytes(jpeg.getvalue())
    assert sniff(renamed.read_bytes()[:16], renamed) == (SourceType.IMAGE, "image/jpeg")
    with pytest.raises(IngestError, match="unreadable or truncated image"):
        parser_for(SourceType.IMAGE).parse(plain.getvalue()[:60], None)


def test_a_huge_html_file_is_refused_quickly():
    markup = b"<html><body>" + b"<div>" * 2_000_000 + b"x" + b"</div>" * 2_000_000 + b"</body></html>"
    with pytest.raises(IngestError, match="MB of markup"):
        parser_for(SourceType.HTML).parse(markup, None)


def test_the_persona_folder_ingests_every_readable_type_through_the_daemon(daemon, persona):
    job = wait_job(daemon.client, ingest(daemon.client, persona).id, timeout=600)
    summary = result(job)
    memories = all_memories(daemon.client)
    by_name = {m.source.rsplit("/", 1)[-1]: m for m in memories}
    assert by_name["2025-02-03-whiteboard.png"].source_type == memory_pb2.SOURCE_TYPE_IMAGE
    assert by_name["2024-08-17-celadon-glaze-tests.pdf"].source_type == memory_pb2.SOURCE_TYPE_PDF
    assert by_name["2023-08-20-saved-varroa-mites.html"].source_type == memory_pb2.SOURCE_TYPE_HTML
    assert by_name["2025-04-27-voice-memo.wav"].source_type == memory_pb2.SOURCE_TYPE_AUDIO  # packaged weights
    notes = list((persona / "notes").iterdir())
    assert all(n.name in by_name for n in notes)
    problems = {p["path"].rsplit("/", 1)[-1]: p["reason"] for p in summary["problems"]}
    assert set(problems) <= {"image_text.json", "transcripts.json", "README.md", "private.json",
                             "questions.jsonl", "style.json"}  # fmt: skip
