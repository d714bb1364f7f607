"""Structure checks that run before any decoder or validator sees a file.

Each walks a container's own framing (JPEG markers, PNG chunks, ISO BMFF boxes) in linear
time with hard caps, and refuses shapes that are legal but make a decoder or a validator do
work far out of proportion to the file's size: a progressive JPEG with thousands of scans
(libjpeg runs each over the whole picture), a PNG with hundreds of thousands of chunks before
its pixels, an MP4 with 200,000 boxes (c2pa-rs was measured quadratic on those). Real files
stay far below every cap; the caps' provenance is given with each.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from unmask.errors import LimitExceededError

MAX_JPEG_SCANS = 500
"""Most scans (SOS markers) in one JPEG. libjpeg's standard progressive script has 10 scans,
mozjpeg's optimised ones about 20; libjpeg-turbo's own fuzzers and its TurboJPEG scan limit
(TJPARAM_SCANLIMIT) guard against scan floods with a limit of 500."""
MAX_JPEG_SCAN_PIXELS = 3_000_000_000
"""Most scans x pixels in one JPEG: each progressive scan passes over the whole coefficient
buffer, so 2,000 scans of an 8000 x 8000 picture (440 KB on disk) took over 100 s of CPU in
0.1. Three billion is 30 scans of a 100-megapixel picture, above any real encoder's output."""
MAX_PNG_CHUNKS = 100_000
"""Most PNG chunks read. Real PNGs hold a handful of metadata chunks and IDAT chunks of 8 KB
(libpng's default) to 1 MB, so a 200 MiB PNG (the image file limit) holds about 25,600; 201 MB
of empty chunks (a sparse file) hold 16 million, which kept 0.1's `verify` busy for minutes.
c2pa-python read 100,000 empty chunks in 4.7 s on the reference machine."""
MAX_BMFF_BOXES = 20_000
"""Most ISO BMFF boxes in one file (top level, and inside the movie and item boxes). A phone
video holds a few dozen; a fragmented MP4 two top-level boxes a fragment (7,200 for a two-hour
film cut in 2-second fragments; fragments are not walked inside). c2pa-python 0.38 took 1 s
on 10,000 top-level boxes, 5 s on 20,000 and 27 s on 40,000 (quadratic) on the 2-core machine
of BENCHMARKS.md."""
MAX_BMFF_DEPTH = 32
"""Deepest nesting of ISO BMFF container boxes. ISO/IEC 14496-12 nests about 8 deep
(moov/trak/mdia/minf/stbl/stsd/...); a HEIF item tree a little more."""

_BMFF_CONTAINERS = {
    b"moov", b"trak", b"edts", b"mdia", b"minf", b"dinf", b"stbl", b"mvex", b"udta", b"meta",
    b"iprp", b"ipco", b"sinf", b"schi", b"tref", b"iref",
}  # fmt: skip
"""Container boxes walked inside (ISO/IEC 14496-12 and 23008-12); per-fragment boxes (moof,
traf) are not, so a long fragmented recording counts two boxes a fragment."""


def check_jpeg_scans(data: bytes, pixels: int) -> int:
    """Count the scans of a JPEG (its SOS markers: in entropy-coded data a 0xFF byte is always
    followed by 0x00 or a restart marker, so FF DA occurs only as a real marker); raise
    `LimitExceededError` above MAX_JPEG_SCANS or MAX_JPEG_SCAN_PIXELS. Returns the count."""
    scans = data.count(b"\xff\xda")
    if scans > MAX_JPEG_SCANS or scans * pixels > MAX_JPEG_SCAN_PIXELS:
        raise LimitExceededError(
            f"the JPEG is stored in {scans:,} scans (a photo has 1 to about 20); decoding "
            "them would take far longer than the picture is worth, a known decoder attack",
            "if you trust this file, re-save it (e.g. as PNG) with another program first",
        )
    return scans


def check_png_chunks(handle: BinaryIO, end: int) -> int:
    """Walk a PNG's chunks (reading only each chunk's length and type) and raise above
    MAX_PNG_CHUNKS. Returns the count."""
    offset, count = 8, 0
    while offset + 8 <= end:
        count += 1
        if count > MAX_PNG_CHUNKS:
            raise LimitExceededError(
                f"the PNG holds more than {MAX_PNG_CHUNKS:,} chunks; real pictures hold a few "
                "dozen, or some tens of thousands for the largest",
                "the file is probably deliberately malformed",
            )
        handle.seek(offset)
        header = handle.read(8)
        if len(header) < 8:
            break
        length, kind = struct.unpack(">I4s", header)
        if kind == b"IEND":
            break
        offset += 12 + length
    return count


def check_bmff_boxes(handle: BinaryIO, end: int) -> int:
    """Walk an ISO BMFF file's boxes (top level and inside the usual containers), reading only
    box headers; raise above MAX_BMFF_BOXES boxes or MAX_BMFF_DEPTH levels. Returns the count.
    """
    count = 0
    # (start of the next box, end of its parent, depth)
    stack: list[tuple[int, int, int]] = [(0, end, 0)]
    while stack:
        offset, parent_end, depth = stack.pop()
        while offset + 8 <= parent_end:
            count += 1
            if count > MAX_BMFF_BOXES:
                raise LimitExceededError(
                    f"the file holds more than {MAX_BMFF_BOXES:,} boxes (an MP4 or HEIF file "
                    "holds a few dozen to a few thousand)",
                    "the file is probably deliberately malformed",
                )
            handle.seek(offset)
            header = handle.read(16)
            if len(header) < 8:
                break
            size, kind = struct.unpack(">I4s", header[:8])
            header_size = 8
            if size == 1 and len(header) == 16:
                size, header_size = struct.unpack(">Q", header[8:16])[0], 16
            elif size == 0:
                size = parent_end - offset
            if size < header_size:
                break
            box_end = min(offset + size, parent_end)
            if kind in _BMFF_CONTAINERS:
                if depth + 1 > MAX_BMFF_DEPTH:
                    raise LimitExceededError(
                        f"the file nests boxes more than {MAX_BMFF_DEPTH} levels deep (real "
                        "files nest about 8)",
                        "the file is probably deliberately malformed",
                    )
                inner = offset + header_size + (4 if kind == b"meta" else 0)  # full box
                stack.append((box_end, parent_end, depth))
                offset, parent_end, depth = inner, box_end, depth + 1
                continue
            offset = box_end
    return count


_BMFF_FIRST_BOXES = {
    b"ftyp",
    b"styp",
    b"moov",
    b"mdat",
    b"free",
    b"wide",
    b"skip",
    b"moof",
    b"sidx",
}


def check_structure(handle: BinaryIO, end: int) -> None:
    """The checks that apply to a file's container (PNG chunks, ISO BMFF boxes), chosen by its
    first bytes; for callers such as the Content Credentials reader that hand the whole file
    to a parser of their own."""
    handle.seek(0)
    head = handle.read(16)
    handle.seek(0)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        check_png_chunks(handle, end)
    elif head[4:8] in _BMFF_FIRST_BOXES:
        check_bmff_boxes(handle, end)
    handle.seek(0)


__all__ = [
    "MAX_BMFF_BOXES",
    "MAX_BMFF_DEPTH",
    "MAX_JPEG_SCANS",
    "MAX_JPEG_SCAN_PIXELS",
    "MAX_PNG_CHUNKS",
    "check_bmff_boxes",
    "check_jpeg_scans",
    "check_png_chunks",
    "check_structure",
]
