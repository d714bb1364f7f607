"""Screenshots of the main web pages for the README, taken in headless Chromium.

Starts the app on a free local port with a throw-away bank, scans the bundled example
(`examples/astronaut.jpg`, a public-domain NASA portrait) with the models installed, and saves
the upload page, its result page (pictures blurred, as every visitor first sees them), the
result page at phone width, the report wizard and its ready page (the requests with their copy
buttons), the comparison of an edited copy with the example as its original, and the bank page
to docs/screenshots/.

    python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]

Needs Playwright's Python package and a system Chromium (Debian: chromium); it never
downloads a browser.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from web_server import serving  # noqa: E402

from unmask.bank.store import BankStore  # noqa: E402
from unmask.server import create_app  # noqa: E402
from unmask.server.web import WebConfig  # noqa: E402

EXAMPLE = REPO / "examples" / "astronaut.jpg"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1000, "height": 900}
PHONE = {"width": 390, "height": 844}
RESULT_HEIGHT = 1700
"""The result page is cut at this height: verdict, next steps and the blurred preview."""
READY_HEIGHT = 1500
"""The ready page down to its first request and copy button."""


def shoot(page: Page, path: Path, full: bool = False, height: int | None = None) -> None:
    if height is not None:
        size = page.viewport_size or DESKTOP
        page.screenshot(
            path=str(path),
            clip={"x": 0, "y": 0, "width": size["width"], "height": height},
            full_page=True,
        )
    else:
        page.screenshot(path=str(path), full_page=full)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def edited_copy(folder: Path) -> Path:
    """The example with its face turned upside down inside its box, as JPEG q90."""
    import numpy as np
    from PIL import Image

    from unmask.compare import controls
    from unmask.faces import FaceDetector

    rgb = np.asarray(Image.open(EXAMPLE).convert("RGB"))
    x0, y0, x1, y1 = (round(v) for v in FaceDetector().detect(rgb)[0].box)
    edited = rgb.copy()
    edited[y0:y1, x0:x1] = rgb[y0:y1, x0:x1][::-1, ::-1]
    path = folder / "posted.jpg"
    path.write_bytes(controls.jpeg_bytes(edited, 90))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = BankStore(f"sqlite:///{tmp}/bank.sqlite3")
        store.create_bank("ncii", "Hashes submitted by people depicted")
        store.create_bank("reported", "Hashes of content reported to the platform")
        key = store.create_key("screenshots", ["admin"])
        app = create_app(store, web=WebConfig(upload_dir=Path(tmp) / "uploads"))
        with serving(app) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium, headless=True, args=FLAGS
            )
            page = browser.new_page(viewport=DESKTOP)
            page.goto(base + "/")
            shoot(page, args.out / "upload.png")

            page.set_input_files("#files", str(EXAMPLE))
            page.get_by_role("button", name="Check these files").click()
            page.wait_for_url(re.compile(r"/jobs/[\w-]+$"), timeout=120_000)
            page.wait_for_load_state("networkidle")
            shoot(page, args.out / "result.png", height=RESULT_HEIGHT)

            phone = browser.new_page(viewport=PHONE)
            phone.goto(page.url)
            phone.wait_for_load_state("networkidle")
            shoot(phone, args.out / "result-phone.png")

            page.goto(page.url + "/report")
            shoot(page, args.out / "report.png", height=DESKTOP["height"])
            page.get_by_label("What is your full name?").fill("Jane Example")
            page.get_by_label("Which website or app").fill("Instagram")
            page.get_by_label("Where exactly is it?").fill("https://example.com/p/1")
            page.get_by_label("Was it published without your consent").check()
            page.get_by_label("Which country do you live in?").fill("United Kingdom")
            page.get_by_role("button", name="Create the report").click()
            page.locator("#report-ready").wait_for(timeout=120_000)
            shoot(page, args.out / "report-ready.png", height=READY_HEIGHT)

            page.goto(base + "/")
            page.set_input_files("#files", str(edited_copy(Path(tmp))))
            page.set_input_files("#originals", str(EXAMPLE))
            page.get_by_role("button", name="Check these files").click()
            page.wait_for_url(re.compile(r"/jobs/[\w-]+$"), timeout=120_000)
            page.wait_for_load_state("networkidle")
            page.locator("#comparison").screenshot(path=str(args.out / "compare.png"))
            print(f"wrote {args.out / 'compare.png'}")

            page.goto(base + "/bank")
            page.fill("#api_key", key)
            page.get_by_role("button", name="Open the bank").click()
            page.wait_for_url(base + "/bank")
            shoot(page, args.out / "bank.png", height=DESKTOP["height"])
            browser.close()
        store.close()


if __name__ == "__main__":
    main()
