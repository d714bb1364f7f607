"""HTML and PDF from one Jinja2 template per document (WeasyPrint lays the PDF out from the HTML,
so the two always say the same)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from unmask.errors import UnmaskError


class RenderError(UnmaskError):
    code = "render_error"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("unmask.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda value: "-" if value is None else f"{100 * float(value):.1f} %"
    env.filters["plain"] = plain_value
    return env


def plain_value(value: Any) -> str:
    """A recorded value in words for a reader of the report, never Python's spelling: nothing
    recorded instead of None, yes/no instead of True/False, lists and tables as text."""
    if value is None or value == "" or value == [] or value == {}:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(plain_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {plain_value(v)}" for k, v in value.items())
    return str(value)


def render_html(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


def write_pdf(html_text: str, target: Path, base_folder: Path) -> None:
    """Lay out `html_text` as a PDF; pictures are read relative to `base_folder` only."""
    try:
        HTML = _weasyprint_html()
    except (ImportError, OSError) as exc:  # OSError: Pango missing from the system
        raise RenderError(
            f"cannot write {target.name}: the PDF renderer is not available ({exc})",
            "install WeasyPrint's system libraries (Debian: apt install libpango-1.0-0 "
            "libpangoft2-1.0-0); report.html holds the same report",
        ) from exc
    root = base_folder.resolve()
    fetcher = _package_fetcher(root)
    # Tagged (PDF structure tree from the HTML's headings, tables and lists), so screen readers
    # read the report in order; `pdfinfo` then says "Tagged: yes".
    HTML(string=html_text, base_url=str(root) + "/", url_fetcher=fetcher).write_pdf(
        target, pdf_tags=True
    )


def _weasyprint_html() -> Any:
    """WeasyPrint's HTML class, imported without its two side effects.

    - Importing it sets Pillow's global `ImageFile.LOAD_TRUNCATED_IMAGES = True`, which would
      make every later decode in this process accept truncated pictures silently (our loader
      reports them as damaged).
    - It finds Pango and its companions by trying several library names in turn; for each name
      that is not a file name cffi asks `ctypes.util.find_library`, which on Linux runs
      `ldconfig`, `gcc` and `ld` (215 programs started for one import). With that search
      switched off for the import, the names that are file names (`libpango-1.0.so.0`) load
      straight from the system's library path, and no program is started.
    """
    import ctypes.util

    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    find_library = ctypes.util.find_library
    ctypes.util.find_library = _no_library_search
    try:
        from weasyprint import HTML
    finally:
        ctypes.util.find_library = find_library
        ImageFile.LOAD_TRUNCATED_IMAGES = before
    return HTML


def _no_library_search(name: str) -> None:
    """`ctypes.util.find_library` that finds nothing and starts no program."""
    return None


def text_document_html(title: str, text: str) -> str:
    """A plain-text document (a takedown request) as simple printable HTML."""
    return render_html("text_document.html", title=title, body=text)


def _package_fetcher(root: Path) -> Any:
    """A URL fetcher that loads only files inside `root` (and data: URLs): nothing leaves the
    machine, and a hostile file name cannot pull other files into a report."""
    from urllib.parse import unquote, urlparse

    from weasyprint.urls import URLFetcher

    class PackageFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("file:"):
                path = Path(unquote(urlparse(url).path)).resolve()
                if not path.is_relative_to(root):
                    raise ValueError(f"refusing to load {path} into a report")
            return super().fetch(url, headers)

    return PackageFetcher(allowed_protocols=("file", "data"))
