"""Writes the test persona's media files (tests/persona/media) from their known text: PDFs, images and voice memos.

The files are committed, so tests read them as an owner's files and need none of the tools used
here. Run this after changing a text below or a note a PDF is printed from:

    .venv/bin/python scripts/make_persona_media.py

Voice memos need `espeak-ng` (`apt-get install espeak-ng`; the tests do not, so CI does not install
it); images use the DejaVu Sans font (Debian's fonts-dejavu-core). Whisper and tesseract are not
used here: the tests check that they hear and read what `transcripts.json` and `image_text.json` say.
"""

from __future__ import annotations

import io
import json
import subprocess
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, TextStringObject

PERSONA = Path(__file__).resolve().parents[1] / "tests" / "persona"
MEDIA = PERSONA / "media"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

IMAGES = {
    "2024-07-06-clay-receipt.png": (
        "LEEDS CLAY SUPPLIES\nStoneware clay 25kg 18.50\nCeladon glaze 500g 12.00\nTOTAL 30.50"
    ),
    "2025-02-03-whiteboard.png": "MINSTER MAPS ROADMAP\n1. Step-free routes\n2. Live bus times\n3. Large print maps",
}
MEMOS = {
    "2025-04-27-voice-memo.wav": (
        "Note to self. I finished the Three Peaks race yesterday in six hours and twelve minutes. "
        "My knee held up until the last hill. Next year I want to run it in under six hours."
    ),
    "2025-09-09-voice-memo.wav": (
        "Quick memo. The honey jars arrived broken again from the supplier. Ring them on Monday and "
        "ask for a refund. Also check that the bees have enough sugar for the winter."
    ),
}
GTFS_HANDBOOK = [
    "Northway GTFS feed: handbook",
    "This handbook describes the open GTFS feed of Northway Buses: what is in it, how it is built "
    "from the timetable tables, and what to do when the weekly export fails.",
    "The feed holds agency, routes, trips, stop times, stops and calendar files. Every stop carries "
    "the code from the national stop list; a stop without one is refused by the export, never guessed.",
    "The export reads the SQLite timetable tables, checks that every trip visits its stops in order "
    "and that no time goes backwards, then writes the zip file and its checksum.",
    "If the export fails, read the first error: it names the route, the trip and the stop. Nine times "
    "in ten it is a new stop that is not yet in the national list. Ask the council to add it.",
    "Publishing: the feed goes to the council every Monday at 6 am. Keep the previous week's file; "
    "the council's journey planner falls back to it if the new one is refused.",
    "Owner of the feed: Nadia Brennan, data team. Questions to the data team channel, not by e-mail.",
]
HIVE_RECORDS = [
    "Hive records, spring 2025",
    "Top Hive: the united colony from last autumn. Ten frames of bees on 2 March, calm, plenty of "
    "stores left. Marked queen seen. Varroa board count: four mites in a week, no treatment needed.",
    "Hive Two: empty since the unite in October. Frames scraped and the box scorched clean for the "
    "new queen, ordered from the Ryedale breeder for May.",
    "To do before the first full inspection: new foundation in ten frames, a clean smoker, and "
    "fondant on both hives until the willow flowers.",
]


def _pdf(pages: list[list[str]], title: str | None) -> bytes:
    """A PDF of text lines in Helvetica, one list of lines per page; extractable, as a printout is."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    for lines in pages:
        page = writer.add_blank_page(595, 842)  # A4 in points
        commands = ["BT /F1 11 Tf 14 TL 56 780 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            commands.append(f"({escaped}) Tj T*")
        commands.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(commands).encode("cp1252"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = resources
    if title:  # "(anonymous)" is what some PDF writers put when they know none
        writer.add_metadata({"/Title": TextStringObject(title)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _paginate(paragraphs: list[str], lines_per_page: int, width: int = 88, gap: bool = True) -> list[list[str]]:
    """Wrapped lines cut into pages; `gap` puts a blank line between paragraphs."""
    lines: list[str] = []
    for paragraph in paragraphs:
        indent = "   " if paragraph[:1] in "-123456789" else ""  # list items wrap under their text
        lines += textwrap.wrap(paragraph, width, subsequent_indent=indent) or [""]
        if gap:
            lines.append("")
    return [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)]


def _note_paragraphs(name: str) -> tuple[str, list[str]]:
    """A Markdown note without its front matter: its title and its lines, as a printout shows them."""
    text = (PERSONA / "notes" / name).read_text()
    body = text.split("---", 2)[2].strip().splitlines()
    title = body[0].removeprefix("# ").strip()
    return title, [title, *body[1:]]


def _image(text: str) -> bytes:
    font = ImageFont.truetype(str(FONT), 30)
    lines = text.splitlines()
    image = Image.new("RGB", (760, 70 + 52 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 35 + 52 * i), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _speech(text: str, path: Path) -> None:
    subprocess.run(["espeak-ng", "-v", "en-gb", "-s", "150", "-w", str(path), text], check=True)


def main() -> None:
    MEDIA.mkdir(exist_ok=True)
    title, lines = _note_paragraphs("2024-08-17-celadon-glaze-tests.md")
    (MEDIA / "2024-08-17-celadon-glaze-tests.pdf").write_bytes(_pdf(_paginate(lines, 22, 80, gap=False), title))
    (MEDIA / "2024-06-14-gtfs-feed-handbook.pdf").write_bytes(_pdf(_paginate(GTFS_HANDBOOK, 8), "(anonymous)"))
    (MEDIA / "2025-03-02-hive-records.pdf").write_bytes(_pdf(_paginate(HIVE_RECORDS, 9), "(anonymous)"))
    for name, text in IMAGES.items():
        (MEDIA / name).write_bytes(_image(text))
    (MEDIA / "image_text.json").write_text(json.dumps(IMAGES, indent=1) + "\n")
    for name, text in MEMOS.items():
        _speech(text, MEDIA / name)
    (MEDIA / "transcripts.json").write_text(json.dumps(MEMOS, indent=1) + "\n")


if __name__ == "__main__":
    main()
