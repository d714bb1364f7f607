"""The report as a police officer or a screen reader meets it: a tagged PDF, recorded values in
words (never Python's None, False or ['...']), and the questions left open listed once."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
from click.testing import CliRunner

from unmask.cli import app
from unmask.report.answers import questions
from unmask.report.render import plain_value

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pdf")
    out = folder / "evidence"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UNMASK_HOME", str(folder / "home"))
        result = CliRunner().invoke(app, ["report", str(EXAMPLE), "-o", str(out), "--no-ask"])
    assert result.exit_code == 0, result.output
    return out


def _text(pdf: Path) -> str:
    return " ".join(p.get_textpage().get_text_range() for p in pdfium.PdfDocument(pdf))


def test_every_pdf_is_tagged_for_screen_readers(package: Path) -> None:
    pdfs = [package / "report.pdf", *sorted((package / "takedown").glob("*.pdf"))]
    assert len(pdfs) == 4  # report, TAKE IT DOWN, DSA, platform (no DMCA: not her photo)
    for pdf in pdfs:
        assert pdfium_raw.FPDFCatalog_IsTagged(pdfium.PdfDocument(pdf).raw), pdf.name
        if shutil.which("pdfinfo"):
            info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
            assert re.search(r"^Tagged:\s+yes$", info, re.M), pdf.name


def test_the_report_shows_no_python_spelling_of_values(package: Path) -> None:
    text = _text(package / "report.pdf")
    for python in (r"\bNone\b", r"\bFalse\b", r"\bTrue\b", r"\['", r"'\]", r"\{'"):
        assert not re.search(python, text), python
    assert not re.search(r"[?.],", text), "no '?,' or '.,' where answers were joined"


def test_the_questions_left_open_are_listed_once(package: Path) -> None:
    html = " ".join((package / "report.html").read_text().split())
    open_list = html.split("The questions left open, each once")[1].split("</ul>")[0]
    asked = [q for _, q, _ in questions()]
    listed = re.findall(r"<li>(.*?)</li>", open_list)
    assert listed and len(listed) == len(set(listed))
    assert "What is your full name? Typing it counts as your electronic signature." in " ".join(
        listed
    )
    assert any(q.startswith("Which website or app") for q in listed)
    assert all(q.replace("&#39;", "'") in " ".join(asked) or "?" in q for q in listed)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "not recorded"),
        (False, "no"),
        (True, "yes"),
        (["VideoHandler"], "VideoHandler"),
        ({"make": "Canon", "gps": None}, "make: Canon; gps: not recorded"),
        (0.5, "0.5"),
    ],
)
def test_recorded_values_are_written_in_words(value: object, words: str) -> None:
    assert plain_value(value) == words


def test_writing_a_pdf_starts_no_other_program(tmp_path: Path) -> None:
    """WeasyPrint's library search would run ldconfig, gcc and ld (over 200 programs) from a
    tool that promises to do nothing behind the user's back; render.py switches it off. Run in a
    fresh interpreter, where WeasyPrint is not imported yet."""
    import sys

    script = f"""
import subprocess
started = []
real_popen = subprocess.Popen.__init__
def record(self, args, *rest, **options):
    started.append(args)
    real_popen(self, args, *rest, **options)
subprocess.Popen.__init__ = record
from pathlib import Path
from unmask.report.render import text_document_html, write_pdf
target = Path({str(tmp_path / "note.pdf")!r})
write_pdf(text_document_html("Note", "Hello"), target, target.parent)
assert target.read_bytes().startswith(b"%PDF"), "no PDF"
print("started:", started)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "started: []"
