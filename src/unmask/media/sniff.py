"""Tell what a file is from its first bytes, never from its name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SNIFF_BYTES = 1024
"""Enough for every signature below, including five MPEG transport-stream packets."""

TS_PACKET = 188
"""MPEG-TS packet size (ISO/IEC 13818-1); Blu-ray M2TS adds a 4-byte timestamp (192)."""
TS_MIN_PACKETS = 3
"""Sync bytes (0x47, the letter "G") needed at packet intervals before a file counts as a
transport stream: one "G" at the start is any text file that starts with G."""

# ISO base media file format brands (ISO/IEC 14496-12 "ftyp"). HEIF/AVIF are still images;
# everything else in an ftyp box is treated as video and left to FFmpeg to confirm.
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


@dataclass(frozen=True)
class Sniffed:
    family: Literal["image", "video", "unknown"]
    format: str
    mime: str
    description: str


def sniff(head: bytes) -> Sniffed:
    """Classify a file by its signature (magic bytes)."""
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "JPEG", "image/jpeg", "JPEG image")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "PNG", "image/png", "PNG image")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image", "GIF", "image/gif", "GIF image")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "WEBP", "image/webp", "WebP image")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return Sniffed("video", "avi", "video/x-msvideo", "AVI video")
    if head[:2] == b"BM" and len(head) >= 26:
        return Sniffed("image", "BMP", "image/bmp", "BMP image")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return Sniffed("image", "TIFF", "image/tiff", "TIFF image")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        kind = "webm" if b"webm" in head else "matroska"
        mime = "video/webm" if kind == "webm" else "video/x-matroska"
        return Sniffed("video", kind, mime, "WebM video" if kind == "webm" else "Matroska video")
    if head[4:8] == b"ftyp":
        brands = {head[i : i + 4] for i in range(8, min(len(head), 40), 4)}
        if brands & _AVIF_BRANDS:
            return Sniffed("image", "AVIF", "image/avif", "AVIF image")
        if brands & _HEIF_BRANDS:
            return Sniffed("image", "HEIF", "image/heic", "HEIC/HEIF image")
        if head[8:12] == b"qt  ":
            return Sniffed("video", "mov", "video/quicktime", "QuickTime video")
        return Sniffed("video", "mp4", "video/mp4", "MP4 video")
    if head[4:8] in (b"styp", b"moof", b"sidx"):
        return Sniffed("video", "mp4", "video/mp4", "MP4 (fragmented) video segment")
    if head[4:8] in (b"moov", b"mdat", b"free", b"wide", b"skip"):
        return Sniffed("video", "mov", "video/quicktime", "QuickTime video")
    if _sync_bytes_at(head, 0, TS_PACKET) or _sync_bytes_at(head, 4, TS_PACKET + 4):
        return Sniffed("video", "mpegts", "video/mp2t", "MPEG transport stream")
    return Sniffed("unknown", "", "application/octet-stream", _describe_unknown(head))


def _sync_bytes_at(head: bytes, first: int, interval: int) -> bool:
    """0x47 at `first` and every `interval` bytes after it, in every packet the head holds
    (TS_MIN_PACKETS of them at least, fewer only when the whole file is shorter)."""
    positions = range(first, len(head), interval)
    enough = len(positions) >= TS_MIN_PACKETS or (len(head) < SNIFF_BYTES and len(positions) >= 2)
    return enough and all(head[p] == 0x47 for p in positions)


def _describe_unknown(head: bytes) -> str:
    known = {
        b"%PDF": "a PDF document",
        b"PK\x03\x04": "a ZIP archive (or an Office document)",
        b"\x1f\x8b": "a gzip archive",
        b"Rar!": "a RAR archive",
        b"7z\xbc\xaf": "a 7-Zip archive",
        b"ID3": "an MP3 audio file",
        b"fLaC": "a FLAC audio file",
        b"OggS": "an Ogg audio/video file",
        b"\x7fELF": "a program (ELF executable)",
        b"MZ": "a Windows program",
        b"<svg": "an SVG drawing (vector graphics are not supported)",
        b"<?xml": "an XML document",
    }
    for magic, description in known.items():
        if head.startswith(magic):
            return description
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "a WAV audio file"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "a file of an unrecognised type"
    return "a text file"
