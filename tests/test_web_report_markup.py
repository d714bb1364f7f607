"""Text from a file (EXIF, XMP, its name) is shown as text everywhere: escaped in the web pages
and the report's HTML, drawn as plain words in the PDFs, never run or interpreted as markup."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pypdfium2
import pytest
from media_factory import EXAMPLE
from PIL import Image
from test_web import JSON, wait_done
from test_web_security import fast_app
from web_server import page_client

from unmask.config import ScanConfig
from unmask.report.package import PackageOptions, build_package, evidence_item
from unmask.report.signing import SealingKey
from unmask.scan import Scanner

MAKE = "<script>alert('exif')</script>"
MODEL = '<img src=x onerror="alert(1)">'
CREATOR = "<script>alert('xmp')</script>"
NAME = "<img src=x onerror=alert('name')>.jpg"
"""(A name with a slash is cut to its last part, like a path: this one has none.)"""
RAW = ("<script>alert(", "<img src=x")
"""What must never reach a page or report unescaped."""


def hostile_jpeg() -> bytes:
    """A real photo whose EXIF make and model and XMP creator tool are HTML."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = MAKE, MODEL  # Make, Model
    creator = CREATOR.replace("<", "&lt;").replace(">", "&gt;")  # as XML text
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        f'xmlns:xmp="http://ns.adobe.com/xap/1.0/"><xmp:CreatorTool>{creator}</xmp:CreatorTool>'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    out = io.BytesIO()
    Image.open(EXAMPLE).save(out, "JPEG", exif=exif, xmp=xmp.encode(), quality=90)
    return out.getvalue()


def assert_escaped(html: str, where: str) -> None:
    for raw in RAW:
        assert raw not in html, where
    assert "&lt;script&gt;alert(" in html or "&lt;img src=x" in html, f"escaped in {where}"


def test_the_metadata_really_carries_the_markup(tmp_path: Path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(hostile_jpeg())
    result = Scanner(ScanConfig(detectors=("metadata",))).scan(path)
    shown = json.dumps(result.to_dict())
    assert "alert('exif')" in shown and 'onerror=\\"alert(1)\\"' in shown


def test_web_pages_escape_exif_xmp_and_file_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))
    with page_client(fast_app(tmp_path)) as client:
        files = [("files", (NAME, hostile_jpeg(), "image/jpeg"))]
        answer = client.post("/upload", files=files, headers=JSON)
        job_id = answer.json()["jobs"][0]["id"]
        wait_done(client, job_id)
        assert_escaped(client.get(f"/progress?job={job_id}").text, "the progress page")
        result = client.get(f"/jobs/{job_id}").text
        assert_escaped(result, "the result page")
        for escaped in ("&lt;script&gt;alert(&#39;exif&#39;)", "alert(&#39;xmp&#39;)"):
            assert escaped in result
        assert "&lt;img src=x onerror=alert(&#39;name&#39;)&gt;.jpg" in result
        assert_escaped(client.get(f"/jobs/{job_id}/report").text, "the report form")
        made = client.post(f"/jobs/{job_id}/report", data={"full_name": CREATOR})
        assert_escaped(made.text, "the report-ready page")
        package = client.get(f"/jobs/{job_id}/report.zip").content
        checked = client.post(
            "/verify", files=[("package", (NAME.replace(".jpg", ".zip"), package, "x"))]
        )
        assert_escaped(checked.text, "the check page")
        assert "Intact." in checked.text


def test_the_report_html_and_pdfs_show_the_markup_as_words(tmp_path: Path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = tmp_path / "photo.jpg"
    path.write_bytes(hostile_jpeg())
    result = Scanner(ScanConfig(detectors=("metadata", "forensics"), keep_maps=True)).scan(path)
    item = evidence_item(path, NAME, result)
    key = SealingKey(Ed25519PrivateKey.generate())
    built = build_package(
        [item], tmp_path / "evidence", options=PackageOptions(make_zip=True), key=key
    )
    html = (built.folder / "report.html").read_text()
    assert_escaped(html, "report.html")
    assert "&lt;img src=x onerror=alert(&#39;name&#39;)&gt;.jpg" in html
    text = pdf_text(built.folder / "report.pdf")
    assert NAME in text  # drawn as text, not interpreted
    assert "<script>alert('exif')</script>" in text
    notice = pdf_text(built.folder / "takedown" / "platform.pdf")
    assert NAME in notice
    assert built.zip_path is not None
    with zipfile.ZipFile(built.zip_path) as archive:
        names = archive.namelist()
    assert not any("<" in n for n in names)  # no file of the package is named from the input


def pdf_text(path: Path) -> str:
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return " ".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()
