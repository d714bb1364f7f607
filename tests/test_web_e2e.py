"""The web pages in a real headless Chromium: upload a deepfake video, read the verdict, see
blurred previews, reveal one, create the evidence report and download it; a corrupt file shows
its error while the server keeps answering.

Needs Debian's `chromium` and Playwright's Python package (never its own browser download).
Skips without them, except under CI (CI=true), where their absence is a failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from face_model_factory import write_model
from media_factory import EXAMPLE
from web_server import serving

from unmask.bank.store import BankStore
from unmask.config import ScanConfig
from unmask.report.received import check_package_at
from unmask.scan import Scanner
from unmask.server import create_app
from unmask.server.web import WebConfig

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FRAMES = 8
DEEPFAKE = "videos/fake/DeepFaceLive__doc__celebs__Tim_Norland__Tim_Norland_0__right_swap.mp4"
"""A short (3.4 s) DeepFaceLive face swap from the shared data (labels.csv: fake, face_swap)."""
TIMEOUT_MS = 90_000


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} not found (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright's Python package is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # The stand-in face model (tests/face_model_factory.py) makes the face panel, heatmaps and
    # timeline appear whether or not a trained model is installed.
    monkeypatch.setenv("UNMASK_FACE_SWAP_MODEL", str(write_model(tmp_path / "model")))
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))
    store = BankStore(f"sqlite:///{tmp_path}/bank.sqlite3")
    app = create_app(store, web=WebConfig(frames=FRAMES, upload_dir=tmp_path / "uploads"))
    with serving(app) as base:
        yield base


def test_a_deepfake_video_in_the_browser_blurred_until_revealed_then_reported_and_a_corrupt_file(
    browser: Any, site: str, shared_data: Path, tmp_path: Path
) -> None:
    video = shared_data / DEEPFAKE
    expected = Scanner(ScanConfig(keep_maps=True, frames=FRAMES)).scan(video).verdict
    assert expected is not None
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(site + "/")
    assert "blurred" in page.locator("#what-happens + ul").inner_text()
    page.set_input_files("#files", str(video))
    page.get_by_role("button", name="Check these files").click()
    page.wait_for_url(re.compile(r"/jobs/[\w-]+$"), timeout=TIMEOUT_MS)

    # The verdict, in the scanner's own words.
    assert page.locator(".verdict .headline").inner_text() == expected.headline
    assert page.get_by_role("link", name="Create evidence report").is_visible()
    assert page.locator("svg.timeline circle").count() >= 2

    # Every picture is blurred, and nothing sharp was fetched.
    pictures = page.locator("figure.picture img")
    assert pictures.count() >= 3  # preview, face heatmap, noise maps
    for i in range(pictures.count()):
        img = pictures.nth(i)
        assert "blurred" in (img.get_attribute("class") or "")
        assert not (img.get_attribute("src") or "").endswith("/sharp")
    assert not [u for u in requested if u.endswith("/sharp")]

    # Reveal one: the sharp picture is fetched from its own URL and shown.
    first = pictures.first
    page.get_by_role("button", name="Reveal this picture").first.click()
    page.wait_for_function(
        "img => img.src.endsWith('/sharp') && img.complete && img.naturalWidth > 0",
        arg=first.element_handle(),
    )
    assert (first.get_attribute("src") or "").endswith("/sharp")
    assert "blurred" not in (first.get_attribute("class") or "")
    assert sum(u.endswith("/sharp") for u in requested) == 1
    result_url = page.url

    # Create the report: answer a few questions, download the sealed package, check it.
    page.get_by_role("link", name="Create evidence report").click()
    page.get_by_label("What is your full name?").fill("Jane Example")
    page.get_by_label("What email address").fill("jane@example.org")
    page.get_by_label("Where exactly is it?").fill("https://example.com/watch/1")
    page.get_by_label("Was it published without your consent").check()
    page.get_by_role("button", name="Create the report").click()
    page.locator("#report-ready").wait_for(timeout=TIMEOUT_MS)
    with page.expect_download() as download_info:
        page.locator("#download-report").click()
    package = tmp_path / "evidence.zip"
    download_info.value.save_as(package)
    check = check_package_at(package)
    assert check.ok, check.problems
    with zipfile.ZipFile(package) as archive:
        top = archive.namelist()[0].split("/", 1)[0]
        evidence = json.loads(archive.read(f"{top}/evidence.json"))
        notice = archive.read(f"{top}/takedown/take_it_down.txt").decode()
    assert (
        evidence["items"][0]["hashes"]["sha256"] == hashlib.sha256(video.read_bytes()).hexdigest()
    )
    assert evidence["pictures_blurred"] is True
    assert "jane@example.org" in notice and "https://example.com/watch/1" in notice

    # A corrupt file: a clear error on the page, and the server goes on answering.
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(video.read_bytes()[:4000])
    error = Scanner(ScanConfig(frames=FRAMES)).scan(broken).error
    assert error is not None
    page.goto(site + "/")
    page.set_input_files("#files", str(broken))
    page.get_by_role("button", name="Check these files").click()
    page.wait_for_url(re.compile(r"/jobs/[\w-]+$"), timeout=TIMEOUT_MS)
    assert page.locator(".verdict.error .headline").inner_text() == error.message
    assert "What you can do" in page.locator(".verdict.error").inner_text()
    assert httpx.get(result_url).status_code == 200
    assert httpx.get(site + "/").status_code == 200

    # Not a picture at all: refused on the upload page itself.
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture\n" * 10)
    page.goto(site + "/")
    page.set_input_files("#files", str(notes))
    page.get_by_role("button", name="Check these files").click()
    page.locator("#upload-status .error-text").wait_for(timeout=TIMEOUT_MS)
    assert "not a picture or video" in page.locator("#upload-status").inner_text()
    outside = [u for u in requested if not u.startswith(site)]
    assert not outside, f"the pages fetched from elsewhere: {outside}"
    page.close()


def test_a_picture_checked_beside_its_original_shows_the_comparison_blurred(
    browser: Any, site: str, tmp_path: Path
) -> None:
    import numpy as np
    from PIL import Image

    from unmask.compare import controls
    from unmask.faces import FaceDetector

    rgb = np.asarray(Image.open(EXAMPLE).convert("RGB"))
    x0, y0, x1, y1 = (round(v) for v in FaceDetector().detect(rgb)[0].box)
    edited = rgb.copy()
    edited[y0:y1, x0:x1] = rgb[y0:y1, x0:x1][::-1, ::-1]
    posted = tmp_path / "posted.jpg"
    posted.write_bytes(controls.jpeg_bytes(edited, 90))

    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(site + "/")
    page.get_by_label("Choose pictures or videos").set_input_files(str(posted))
    page.get_by_label("The original, if you have it (optional)").set_input_files(str(EXAMPLE))
    page.get_by_role("button", name="Check these files").click()
    page.wait_for_url(re.compile(r"/jobs/[\w-]+$"), timeout=TIMEOUT_MS)

    section = page.locator("#comparison")
    assert "Altered" in section.locator(".headline").inner_text()
    assert "astronaut.jpg" in section.inner_text()
    pictures = section.locator("figure.picture img")
    assert pictures.count() == 2
    for i in range(2):
        assert "blurred" in (pictures.nth(i).get_attribute("class") or "")
    assert not [u for u in requested if u.endswith("/sharp")]
    section.get_by_role("button", name="Reveal this picture").first.click()
    page.wait_for_function(
        "img => img.src.endsWith('/sharp') && img.complete && img.naturalWidth > 0",
        arg=pictures.first.element_handle(),
    )
    assert sum(u.endswith("/sharp") for u in requested) == 1
    assert not [u for u in requested if not u.startswith(site)]
    page.close()


def test_the_report_form_asks_only_what_applies_and_the_ready_page_copies_each_request(
    browser: Any, site: str
) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(site + "/")
    page.set_input_files("#files", str(EXAMPLE))
    page.get_by_role("button", name="Check these files").click()
    page.wait_for_url(re.compile(r"/jobs/[\w-]+$"), timeout=TIMEOUT_MS)
    page.get_by_role("link", name="Create evidence report").click()

    # Questions that depend on another answer appear only once it is given (the CLI's rule).
    authority = page.locator("#question-authority")
    original = page.locator("#question-original_description")
    assert not authority.is_visible() and not original.is_visible()
    page.get_by_label("Are you doing this for someone else?").fill("Mia Example")
    assert authority.is_visible()
    owns = page.get_by_label("Was a photo that you took yourself")
    owns.check()
    assert original.is_visible()
    owns.uncheck()
    assert not original.is_visible()
    page.get_by_label("Are you doing this for someone else?").fill("")
    assert not authority.is_visible()

    # Each checkbox sits beside its label, on the same line, to its left.
    for name in ("not_consensual", "minor", "confirms_accurate"):
        box = page.locator(f"#q-{name}").bounding_box()
        label = page.locator(f"label[for='q-{name}']").bounding_box()
        assert box and label
        assert box["x"] + box["width"] <= label["x"]
        assert label["y"] <= box["y"] + box["height"] / 2 <= label["y"] + label["height"]

    page.get_by_label("What is your full name?").fill("Jane Example")
    page.get_by_label("Which website or app").fill("Reddit")
    page.get_by_label("Where exactly is it?").fill("https://example.com/r/1")
    page.get_by_label("Was it published without your consent").check()
    page.get_by_role("button", name="Create the report").click()
    page.locator("#report-ready").wait_for(timeout=TIMEOUT_MS)

    # Every request readable on the page, with a copy button and where to send it.
    requests = page.locator("article.request")
    assert requests.count() == 3  # TAKE IT DOWN, DSA, platform report; no DMCA (not her photo)
    platform = page.locator("#request-platform")
    assert "To Reddit, through the Report option" in platform.locator(".send-to").inner_text()
    platform.get_by_role("button", name=re.compile("Copy the text")).click()
    platform.locator(".copy-status").filter(has_text="Copied.").wait_for(timeout=10_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == platform.locator("pre.request-text").text_content()
    assert "https://example.com/r/1" in copied and "Jane Example" in copied
    assert page.locator("#route-reddit").is_visible()
    assert page.locator("#route-stopncii").is_visible()
    context.close()
