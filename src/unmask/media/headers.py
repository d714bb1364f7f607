"""Read what a file's headers say: XMP packets, ICC profile names, Photoshop image resources.

Pure functions over the raw bytes and text the loader collected in `ImageHeaders`; what the
values *mean* (a generator, an editor) is for the detectors to decide.

Every value is hostile input: parsing never raises, XML goes through defusedxml, sizes and
counts are capped, and text is cleaned of control and bidirectional-override characters
before anyone shows it.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree as SafeET  # type: ignore[import-untyped]

JSON_MAX_CHARS = 8_000_000

# -- text -------------------------------------------------------------------------------------

# Control characters, and the invisible and bidirectional formatting characters that can make
# a shown name read differently from what it is (e.g. U+202E right-to-left override).
_UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def clean_text(value: Any, limit: int | None = None) -> str | None:
    """A value as clean one-line-safe text (control characters removed), or None."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    elif isinstance(value, tuple | list):
        value = " ".join(str(v) for v in value)
    text = _UNSAFE_CHARACTERS.sub("", str(value)).strip()
    if not text:
        return None
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def exif_text(value: Any) -> str | None:
    """EXIF UserComment starts with an 8-byte character-code header (EXIF 2.32, 4.6.5)."""
    if isinstance(value, bytes):
        head, body = value[:8], value[8:]
        if head.startswith(b"UNICODE"):
            be = body.decode("utf-16-be", errors="replace")
            le = body.decode("utf-16-le", errors="replace")
            return clean_text(be if _printable_share(be) >= _printable_share(le) else le)
        if head.startswith((b"ASCII", b"JIS", b"\x00\x00\x00\x00\x00\x00\x00\x00")):
            return clean_text(body)
        if len(value) % 2 == 0 and value[1:2] == b"\x00":  # XPComment: UTF-16LE
            return clean_text(value.decode("utf-16-le", errors="replace"))
    return clean_text(value)


def _printable_share(text: str) -> float:
    return sum(ch.isprintable() or ch in "\n\t" for ch in text) / max(1, len(text))


def looks_like_json(text: str) -> bool:
    """Structured data rather than a name: JSON, or ComfyUI's "prompt:{...}" in an EXIF field."""
    stripped = text.lstrip()
    return stripped.startswith(("{", "[")) or stripped.lower().startswith(
        ("prompt:{", "workflow:{")
    )


def parse_json(text: str) -> Any:
    """The parsed value, or None when the text is too large or not JSON."""
    if len(text) > JSON_MAX_CHARS:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


# -- XMP --------------------------------------------------------------------------------------

XMP_MAX_PACKET_CHARS = 2_000_000
"""Longest XMP text read. A JPEG holds at most 64 KB of standard XMP (one APP1 segment, XMP
Specification Part 3, 1.1.3); PNG iTXt chunks and TIFF tag 700 have no such bound, and the
largest packets seen in practice (Photoshop documents with a long history) stay under 1 MB.
Longer text is cut, and the cut is noted in the evidence."""
XMP_MAX_VALUE_CHARS = 4_000
"""Longest property value read by the pattern fallback (a value without its closing quote or
tag is not read past this)."""
XMP_MAX_PATTERN_VALUES = 1_000
"""Most values of one property the pattern fallback collects."""

_XMP_PREFIXES = {
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#": "stEvt",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://iptc.org/std/Iptc4xmpExt/2008-02-29/": "Iptc4xmpExt",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
}


@dataclass
class XmpFacts:
    """The properties of an XMP packet, flattened."""

    properties: list[tuple[str, str]] = field(default_factory=list)
    """(prefix:Name, value) pairs, in document order."""
    note: str | None = None
    """Set when the packet was cut or not well-formed and only patterns were read."""

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.properties if key == name]


def parse_xmp(packet: str | bytes) -> XmpFacts:
    """Flatten an XMP packet into (prefix:Name, value) pairs; never raises.

    Linear in the packet's length, whatever it holds: the text is cut at XMP_MAX_PACKET_CHARS,
    the `x:xmpmeta` and `rdf:RDF` elements are located with `str.find` (no regular expression
    touches the packet: a backtracking pattern took minutes on 1 MB of repeated openers), and
    at most three candidate texts go to defusedxml, whose expat parser is linear and refuses
    entity expansion and external entities. Where none parses, a few properties are read by
    plain substring search (the DigitalSourceType found that way is named
    "regex:DigitalSourceType", a name kept for the JSON evidence's readers).
    """
    text = packet.decode("utf-8", errors="replace") if isinstance(packet, bytes) else str(packet)
    notes = []
    if len(text) > XMP_MAX_PACKET_CHARS:
        text = text[:XMP_MAX_PACKET_CHARS]
        notes.append(
            f"XMP packet longer than {XMP_MAX_PACKET_CHARS:,} characters; the rest was not read"
        )
    text = text.replace("\x00", "")
    for candidate in _xmp_candidates(text):
        root = _xml_root(candidate)
        if root is not None:
            facts = XmpFacts(note="; ".join(notes) or None)
            _walk_xmp(root, None, facts.properties, depth=0)
            return facts
    notes.append("XMP packet is not well-formed XML; read with patterns only")
    facts = XmpFacts(note="; ".join(notes))
    for name, local in (
        ("xmp:CreatorTool", "CreatorTool"),
        ("stEvt:softwareAgent", "softwareAgent"),
        ("regex:DigitalSourceType", "DigitalSourceType"),
    ):
        facts.properties.extend((name, value) for value in _pattern_values(text, local))
    return facts


def _xmp_candidates(text: str) -> list[str]:
    """The whole text, the outermost x:xmpmeta element and the outermost rdf:RDF element."""
    candidates = [text.strip()]
    for opening, closing in (
        ("xmpmeta", "xmpmeta>"),
        ("xapmeta", "xapmeta>"),
        ("rdf:RDF", "rdf:RDF>"),
    ):
        start = text.find(opening)
        end = text.rfind(closing)
        if start < 0 or end < start:
            continue
        tag_start = text.rfind("<", max(0, start - 32), start)
        close_start = text.rfind("</", max(0, end - 32), end)
        if tag_start < 0 or close_start < 0 or close_start <= tag_start:
            continue
        span = text[tag_start : end + len(closing)]
        if span != candidates[-1]:
            candidates.append(span)
    return candidates


def _pattern_values(text: str, local: str) -> list[str]:
    """Values of `local` written as `local="v"`, `<p:local>v<` or `local rdf:resource="v"`,
    found by substring search: each occurrence reads at most XMP_MAX_VALUE_CHARS further."""
    values: list[str] = []
    position = text.find(local)
    while position >= 0 and len(values) < XMP_MAX_PATTERN_VALUES:
        after = position + len(local)
        window = text[after : after + XMP_MAX_VALUE_CHARS + 64]
        value = None if _in_closing_tag(text, position) else _value_after(window)
        if value is not None:
            values.append(value)
        position = text.find(local, after)
    return values


def _in_closing_tag(text: str, position: int) -> bool:
    opening = text.rfind("<", max(0, position - 32), position)
    return opening >= 0 and text.startswith("</", opening) and text.find(">", opening, position) < 0


def _value_after(window: str) -> str | None:
    rest = window.lstrip()
    if rest.startswith("="):
        rest = rest[1:].lstrip()
        if rest.startswith('"'):
            end = rest.find('"', 1)
            return rest[1:end] if end > 0 else None
        return None
    if window.startswith(">"):
        end = window.find("<", 1)
        return window[1:end] if end > 0 else None
    if rest.startswith("rdf:resource"):
        rest = rest[len("rdf:resource") :].lstrip()
        if rest.startswith("="):
            rest = rest[1:].lstrip()
            if rest.startswith('"'):
                end = rest.find('"', 1)
                return rest[1:end] if end > 0 else None
    return None


def _xml_root(text: str) -> Any | None:
    try:
        return SafeET.fromstring(text)
    except Exception:  # any parse failure means "not usable XML"
        return None


def _qualified(tag: str) -> str:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return f"{_XMP_PREFIXES.get(uri, uri)}:{local}"
    return tag


def _walk_xmp(element: Any, prop: str | None, out: list[tuple[str, str]], depth: int) -> None:
    if depth > 64 or len(out) > 20_000:
        return
    name = _qualified(str(element.tag))
    is_rdf = name.startswith("rdf:")
    current = prop if is_rdf else name
    for attr, value in element.attrib.items():
        attr_name = _qualified(str(attr))
        if attr_name == "rdf:resource" and current:
            out.append((current, str(value)))
        elif not attr_name.startswith(("rdf:", "xml:")):
            out.append((attr_name, str(value)))
    text = (element.text or "").strip()
    if text and current and len(element) == 0:
        out.append((current, text))
    for child in element:
        _walk_xmp(child, current, out, depth + 1)


# -- ICC --------------------------------------------------------------------------------------


def icc_description(profile: bytes) -> str | None:
    """The 'desc' tag of an ICC profile (ICC.1:2010 sections 7.3 and 10.13 / 10.15)."""
    try:
        if len(profile) < 132:
            return None
        (count,) = struct.unpack(">I", profile[128:132])
        for i in range(min(count, 200)):
            entry = profile[132 + 12 * i : 144 + 12 * i]
            if len(entry) < 12:
                return None
            signature, offset, size = struct.unpack(">4sII", entry)
            if signature != b"desc":
                continue
            data = profile[offset : offset + size]
            if data[:4] == b"desc" and len(data) >= 12:  # ICC v2 textDescriptionType
                (n,) = struct.unpack(">I", data[8:12])
                return clean_text(data[12 : 12 + n].split(b"\x00")[0].decode("latin-1"), 120)
            if data[:4] == b"mluc" and len(data) >= 16:  # ICC v4 multiLocalizedUnicodeType
                records, record_size = struct.unpack(">II", data[8:16])
                if records < 1 or record_size < 12:
                    return None
                length, start = struct.unpack(">II", data[16 + 4 : 16 + 12])
                return clean_text(
                    data[start : start + length].decode("utf-16-be", errors="replace"), 120
                )
            return None
    except (struct.error, ValueError):
        return None
    return None


# -- Photoshop image resources ----------------------------------------------------------------


@dataclass
class PhotoshopResources:
    """What a JPEG's Photoshop Image Resource Blocks hold."""

    resources: list[int]
    """Image resource IDs, in file order (Adobe Photoshop File Formats Specification)."""
    writer: str | None
    """The writer name of the version-info resource (0x0421), if present."""


def photoshop_resources(raw: bytes) -> PhotoshopResources | None:
    """Image resource IDs in a JPEG's APP13 "Photoshop 3.0" segments (read before the scan data)."""
    if not raw.startswith(b"\xff\xd8"):
        return None
    resources: list[int] = []
    writer: str | None = None
    pos = 2
    for _ in range(1000):
        if pos + 4 > len(raw) or raw[pos] != 0xFF:
            break
        marker = raw[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA or marker == 0xD9:
            break
        (length,) = struct.unpack(">H", raw[pos + 2 : pos + 4])
        data = raw[pos + 4 : pos + 2 + length]
        pos += 2 + length
        if marker != 0xED or not data.startswith(b"Photoshop 3.0\x00"):
            continue
        p = 14
        while p + 12 <= len(data) and data[p : p + 4] in (
            b"8BIM",
            b"MeSa",
            b"PHUT",
            b"AgHg",
            b"DCSR",
        ):
            (rid,) = struct.unpack(">H", data[p + 4 : p + 6])
            name_len = data[p + 6]
            p += 6 + 1 + name_len + ((1 + name_len) % 2)
            if p + 4 > len(data):
                break
            (size,) = struct.unpack(">I", data[p : p + 4])
            block = data[p + 4 : p + 4 + size]
            p += 4 + size + (size % 2)
            resources.append(rid)
            if rid == 0x0421 and len(block) >= 9:
                writer = _irb_unicode(block, 5)
    return PhotoshopResources(resources, writer)


def _irb_unicode(block: bytes, offset: int) -> str | None:
    if offset + 4 > len(block):
        return None
    (count,) = struct.unpack(">I", block[offset : offset + 4])
    raw = block[offset + 4 : offset + 4 + 2 * min(count, 200)]
    return clean_text(raw.decode("utf-16-be", errors="replace"), 80)
