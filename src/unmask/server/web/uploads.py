"""Receive a multipart form straight into a private folder, within size limits.

Files are streamed to disk as they arrive (never held in memory, never spooled to the system's
shared temporary folder) and the size limit is enforced while reading, so a too-large upload is
refused as soon as it crosses the limit. Each file's type is then told from its first bytes,
never from its name.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from unmask.media.sniff import SNIFF_BYTES, sniff
from unmask.server.guard import FORM_FIELD, FormTokenError, check_form_token
from unmask.server.limits import STOPPED, TIMED_OUT

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_FIELD_BYTES = 1024**2
"""Largest text field (hash lists pasted into the bank form stay far below this)."""
MAX_FIELDS = 50
MULTIPART_OVERHEAD = 64 * 1024
"""Allowance for part headers and boundaries when checking Content-Length up front."""


class UploadError(Exception):
    """An upload the page refuses, with what to tell the user."""

    def __init__(self, status: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.hint = status, message, hint


@dataclass
class ReceivedFile:
    filename: str
    """The name the browser sent, cleaned for display."""
    path: Path
    size: int = 0
    field: str = "files"
    """The form field it came in (the upload page: "files" to check, "originals" to compare
    them with)."""


@dataclass
class ReceivedForm:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[ReceivedFile] = field(default_factory=list)

    def value(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default


def display_name(raw: str) -> str:
    """A file name safe to show and log: last path part, no control characters, <= 120 chars."""
    name = re.split(r"[\\/]", raw)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:120] or "upload"


def describe_size(size: int) -> str:
    if size >= 1024**2:
        return f"{size / 1024**2:.0f} MB"
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} bytes"


async def receive_form(
    request: Request, folder: Path | None, max_file_bytes: int = 0, max_files: int = 0
) -> ReceivedForm:
    """Parse a form (urlencoded, or multipart/form-data with files written into `folder`).

    Every form of the pages comes through here, so here the session's form token is checked
    (`unmask.server.guard`): in a multipart form it must come before the first file, so no
    byte of a forged upload is written. Raises `UploadError` (403 forged, 408 stalled, 413 too
    large, 400 malformed or too many parts); the caller removes `folder` either way."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    length = request.headers.get("content-length")
    if content_type == b"application/x-www-form-urlencoded" or (
        content_type != b"multipart/form-data" and length in (None, "0")
    ):
        form = await _read_fields(request, length)
        _check_token(request, form.value(FORM_FIELD) or None)
        return form
    if content_type != b"multipart/form-data" or not boundary:
        raise UploadError(400, "this form must be sent as multipart/form-data")
    if folder is None:
        raise UploadError(400, "this form takes no files", "send it as the page's form sends it")
    limit = max_file_bytes * max_files + MULTIPART_OVERHEAD
    if length is not None and length.isdigit() and int(length) > limit:
        raise UploadError(413, *_too_large(max_file_bytes, int(length)))
    reader = _FormReader(folder, max_file_bytes, max_files, request)
    parser = MultipartParser(boundary, reader.callbacks(), max_size=limit)
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except UploadError:
        raise
    except Exception as exc:  # malformed multipart, client gone, body deadline passed
        raise _cut_off(request) from exc
    finally:
        reader.close()
    _check_token(request, reader.token)
    return reader.form


async def _read_fields(request: Request, length: str | None) -> ReceivedForm:
    """An urlencoded form, read with a size cap whether or not Content-Length is sent."""
    if length is not None and length.isdigit() and int(length) > MAX_FIELD_BYTES:
        raise UploadError(413, "this form is too long")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FIELD_BYTES:
                raise UploadError(413, "this form is too long")
    except UploadError:
        raise
    except Exception as exc:
        raise _cut_off(request) from exc
    form = ReceivedForm()
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    if len(pairs) > MAX_FIELDS:
        raise UploadError(400, "this form has too many fields")
    for name, value in pairs:
        form.fields.setdefault(name, []).append(value)
    return form


def _check_token(request: Request, token: str | None) -> None:
    try:
        check_form_token(request, token)
    except FormTokenError:
        raise UploadError(
            403,
            "This form did not come from this server's own page, or the page is too old.",
            "Reload the page and send the form again.",
        ) from None


def _cut_off(request: Request) -> UploadError:
    state = request.scope.get("state", {})
    if state.get(STOPPED):
        return UploadError(
            503,
            "The server is stopping, so this upload was stopped; nothing was kept.",
            "Start the server again and upload the file again.",
        )
    if state.get(TIMED_OUT):
        return UploadError(
            408,
            "The upload stalled: nothing arrived for a while, so it was stopped and nothing "
            "was kept.",
            "Check the connection and try again.",
        )
    return UploadError(400, "the upload was cut off or malformed; please try again")


def check_media_type(received: ReceivedFile) -> str | None:
    """None for a picture or video unmask can read; otherwise a sentence saying what it is."""
    with received.path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    kind = sniff(head)
    if kind.family != "unknown":
        return None
    return (
        f"“{received.filename}” is {kind.description}, not a picture or video unmask can read "
        "(JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC, AVIF; MP4, MOV, MKV, WebM, AVI)."
    )


def _too_large(max_bytes: int, size: int | None = None) -> tuple[str, str]:
    what = f" ({describe_size(size)})" if size is not None else ""
    return (
        f"This upload is too large{what}: each file may be up to {describe_size(max_bytes)}.",
        "Scan a shorter clip, or ask whoever runs this server to raise --max-upload-mb. "
        "Nothing was kept.",
    )


class _FormReader:
    """Callbacks for python-multipart's streaming parser."""

    def __init__(self, folder: Path, max_file_bytes: int, max_files: int, request: Request) -> None:
        self.form = ReceivedForm()
        self.token: str | None = None
        self._request = request
        self._folder, self._max_file, self._max_files = folder, max_file_bytes, max_files
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._file: ReceivedFile | None = None
        self._handle: IO[bytes] | None = None
        self._text = bytearray()
        self._discard = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field_data,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _part_begin(self) -> None:
        self._headers, self._file, self._text = {}, None, bytearray()
        self._discard = False

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            if sum(len(v) for v in self.form.fields.values()) >= MAX_FIELDS:
                raise UploadError(400, "this form has too many fields")
            return
        if not filename:  # a file input left empty still sends a part, with no file name
            self._discard = True
            return
        if self.token is None:  # no file is written before the form is known to be genuine
            _check_token(self._request, None)
        if len(self.form.files) >= self._max_files:
            raise UploadError(
                413,
                f"Too many files at once: up to {self._max_files} per upload.",
                "Send the rest in a second upload.",
            )
        index = len(self.form.files)
        self._file = ReceivedFile(
            display_name(filename.decode("utf-8", "replace")),
            self._folder / f"part-{index}",
            field=self._name,
        )
        fd = os.open(self._file.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._handle = os.fdopen(fd, "wb")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._discard:
            return
        if self._file is None:
            self._text += data[start:end]
            if len(self._text) > MAX_FIELD_BYTES:
                raise UploadError(413, f"the field {self._name!r} is too long")
            return
        self._file.size += end - start
        if self._file.size > self._max_file:
            raise UploadError(413, *_too_large(self._max_file))
        assert self._handle is not None
        self._handle.write(data[start:end])

    def _part_end(self) -> None:
        if self._discard:
            return
        if self._file is None:
            text = self._text.decode("utf-8", "replace")
            if self._name == FORM_FIELD:
                _check_token(self._request, text)
                self.token = text
            self.form.fields.setdefault(self._name, []).append(text)
            return
        self.close()
        self.form.files.append(self._file)
        self._file = None
