"""A hostile-media corpus made in code: decompression bombs, decoder time sinks, malformed
containers and odd file-system objects, each small on disk (sparse where it must be large).

Each maker writes one file (or file-system object) into a folder and returns its path. The
shapes follow the hostile-input findings of 0.1 (hardening notes): GIF, APNG and WebP frame
bombs, a progressive-JPEG scan bomb, 200,000 ISO-BMFF boxes, megabytes of repeated XMP
openers, a FIFO named .jpg, a symlink loop, markup and terminal escapes in file names.
"""

from __future__ import annotations

import io
import os
import socket
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

Maker = Callable[[Path], Path]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _small_picture() -> Image.Image:
    rng = np.random.default_rng(7)
    return Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))


# -- animation bombs --------------------------------------------------------------------------


def gif_frames_bomb(
    folder: Path, width: int = 4000, height: int = 4000, frames: int = 3000
) -> Path:
    """Thousands of one-pixel frames on a large canvas: each frame is composited on the whole
    canvas, so 69 KB on disk cost 48 billion pixel operations in 0.1."""
    header = (
        b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    )
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    # Graphic control (delay 1/100 s), a 1x1 image, LZW codes clear/0/end at code size 2.
    frame = (
        b"\x21\xf9\x04\x00\x01\x00\x00\x00"
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
        + b"\x02\x02\x44\x01\x00"
    )
    path = folder / f"gif-{width}x{height}x{frames}.gif"
    path.write_bytes(header + loop + frame * frames + b"\x3b")
    return path


def gif_big_canvas(folder: Path) -> Path:
    """A GIF of a few dozen bytes whose canvas is 9999 x 9999 (just under 100 megapixels)."""
    return gif_frames_bomb(folder, 9999, 9999, 1)


def gif_big_canvas_frames(folder: Path) -> Path:
    """500 frames on a 9999 x 9999 canvas."""
    return gif_frames_bomb(folder, 9999, 9999, 500)


def apng_frames_bomb(folder: Path, side: int = 4000, frames: int = 3000) -> Path:
    """An APNG: a blank side x side first frame, then thousands of 1x1 frames."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    body = [_png_chunk(b"IHDR", ihdr), _png_chunk(b"acTL", struct.pack(">II", frames, 0))]
    sequence = 0

    def fctl(w: int, h: int) -> bytes:
        nonlocal sequence
        data = struct.pack(">IIIIIHHBB", sequence, w, h, 0, 0, 1, 100, 0, 0)
        sequence += 1
        return _png_chunk(b"fcTL", data)

    body.append(fctl(side, side))
    body.append(_png_chunk(b"IDAT", zlib.compress(b"\x00" * ((side + 1) * side), 9)))
    pixel = zlib.compress(b"\x00\x80")
    for _ in range(frames - 1):
        body.append(fctl(1, 1))
        body.append(_png_chunk(b"fdAT", struct.pack(">I", sequence) + pixel))
        sequence += 1
    path = folder / f"apng-{side}x{side}x{frames}.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(body) + _png_chunk(b"IEND", b""))
    return path


def webp_frames_bomb(folder: Path, side: int = 9000, frames: int = 2000) -> Path:
    """An animated WebP: thousands of 1x1 lossless frames on a side x side canvas."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 10, 10)).save(buffer, "WEBP", lossless=True)
    data = buffer.getvalue()
    offset = data.find(b"VP8L")
    (size,) = struct.unpack("<I", data[offset + 4 : offset + 8])
    vp8l = data[offset : offset + 8 + size + (size & 1)]

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            kind
            + struct.pack("<I", len(payload))
            + payload
            + (b"\x00" if len(payload) & 1 else b"")
        )

    def u24(value: int) -> bytes:
        return struct.pack("<I", value)[:3]

    vp8x = bytes([0x02, 0, 0, 0]) + u24(side - 1) + u24(side - 1)  # animation flag
    anim = struct.pack("<IH", 0xFFFFFFFF, 0)
    frame = chunk(b"ANMF", u24(0) + u24(0) + u24(0) + u24(0) + u24(10) + b"\x00" + vp8l)
    payload = b"WEBP" + chunk(b"VP8X", vp8x) + chunk(b"ANIM", anim) + frame * frames
    path = folder / f"webp-{side}x{side}x{frames}.webp"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(payload)) + payload)
    return path


# -- still-image bombs ------------------------------------------------------------------------


def jpeg_scan_bomb(folder: Path, side: int = 8000, repeats: int = 2000) -> Path:
    """A progressive JPEG whose last scan is repeated thousands of times: libjpeg runs every
    scan over the whole coefficient buffer before giving the first pixel."""
    buffer = io.BytesIO()
    Image.new("L", (side, side), 128).save(buffer, "JPEG", progressive=True, quality=50)
    data = buffer.getvalue()
    scans = _jpeg_scans(data)
    start, end = scans[-1]
    path = folder / f"jpeg-progressive-{side}-{repeats}-scans.jpg"
    path.write_bytes(data[:end] + data[start:end] * repeats + data[end:])
    return path


def _jpeg_scans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each SOS segment with its entropy-coded data."""
    scans: list[tuple[int, int]] = []
    position = data.find(b"\xff\xda")
    while position >= 0:
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        cursor = position + 2 + length
        while True:
            cursor = data.find(b"\xff", cursor)
            following = data[cursor + 1]
            if following != 0 and not 0xD0 <= following <= 0xD7:
                break
            cursor += 2
        scans.append((position, cursor))
        position = data.find(b"\xff\xda", cursor)
    return scans


def png_big_canvas(folder: Path) -> Path:
    """A 9999 x 9999 greyscale PNG of zeros: about 100 KB, 100 megapixels once decoded."""
    side = 9999
    raw = zlib.compress(b"\x00" * ((side + 1) * side), 9)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path = folder / "png-9999x9999.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", raw)
        + _png_chunk(b"IEND", b"")
    )
    return path


def png_claims_huge(folder: Path) -> Path:
    """A tiny PNG whose header claims 60,000 x 60,000 pixels."""
    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 1, 0, 0, 0, 0)
    path = folder / "png-claims-60000x60000.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )
    return path


def png_sparse_201mb(folder: Path) -> Path:
    """A valid small PNG header followed by 201 MB of zeros (sparse on disk): millions of empty
    chunks with a zero type."""
    path = folder / "png-sparse-201mb.png"
    ihdr = struct.pack(">IIBBBBB", 64, 64, 8, 0, 0, 0, 0)
    with path.open("wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr))
        handle.truncate(201 * 1000 * 1000)
    return path


def png_many_chunks(folder: Path, count: int = 200_000) -> Path:
    """A small PNG with 200,000 private ancillary chunks before its image data."""
    picture = io.BytesIO()
    _small_picture().save(picture, "PNG")
    data = picture.getvalue()
    idat = data.find(b"IDAT") - 4
    filler = _png_chunk(b"prVt", b"") * count
    path = folder / f"png-{count}-chunks.png"
    path.write_bytes(data[:idat] + filler + data[idat:])
    return path


def tiff_many_pages(folder: Path, pages: int = 20_000) -> Path:
    """A TIFF whose IFD chain holds 20,000 one-pixel pages, the last pointing back to the first."""
    entries = 8
    ifd_size = 2 + 12 * entries + 4
    pixel_offset = 8
    first_ifd = 16
    out = bytearray(b"II*\x00" + struct.pack("<I", first_ifd) + b"\x80" + b"\x00" * 7)
    for page in range(pages):
        offset = first_ifd + page * ifd_size
        next_ifd = offset + ifd_size if page < pages - 1 else first_ifd  # a loop at the end
        tags = [
            (256, 4, 1, 1),  # ImageWidth
            (257, 4, 1, 1),  # ImageLength
            (258, 3, 1, 8),  # BitsPerSample
            (259, 3, 1, 1),  # Compression: none
            (262, 3, 1, 1),  # Photometric: black is zero
            (273, 4, 1, pixel_offset),  # StripOffsets
            (278, 4, 1, 1),  # RowsPerStrip
            (279, 4, 1, 1),  # StripByteCounts
        ]
        out += struct.pack("<H", entries)
        for tag, kind, count, value in tags:
            out += struct.pack("<HHII", tag, kind, count, value)
        out += struct.pack("<I", next_ifd)
    path = folder / f"tiff-{pages}-pages.tiff"
    path.write_bytes(bytes(out))
    return path


def avif_claims_huge(folder: Path) -> Path:
    """An AVIF whose 'ispe' box claims 30,000 x 30,000 pixels."""
    return _patched_ispe(folder, "AVIF", "avif-claims-30000.avif")


def heif_claims_huge(folder: Path) -> Path:
    """A HEIC whose 'ispe' box claims 30,000 x 30,000 pixels."""
    return _patched_ispe(folder, "HEIF", "heic-claims-30000.heic")


def _patched_ispe(folder: Path, fmt: str, name: str) -> Path:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    _small_picture().save(buffer, fmt, quality=60)
    data = bytearray(buffer.getvalue())
    position = data.find(b"ispe")
    while position >= 0:
        data[position + 8 : position + 16] = struct.pack(">II", 30_000, 30_000)
        position = data.find(b"ispe", position + 4)
    path = folder / name
    path.write_bytes(bytes(data))
    return path


# -- metadata ---------------------------------------------------------------------------------


def png_xmp_openers(folder: Path, size: int = 1_000_000) -> Path:
    """A PNG whose XMP iTXt chunk is 1 MB of repeated `<x:xmpmeta` openers."""
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta " * (size // 11))
    path = folder / "png-xmp-1mb-openers.png"
    _small_picture().save(path, "PNG", pnginfo=info)
    return path


def tiff_xmp_openers(folder: Path, size: int = 3_000_000) -> Path:
    """A TIFF whose XMP tag (700) holds 3 MB of repeated `<x:xmpmeta` openers."""
    from PIL import TiffImagePlugin

    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[700] = ("<x:xmpmeta " * (size // 11)).encode()
    info.tagtype[700] = 1  # BYTE
    path = folder / "tiff-xmp-3mb-openers.tiff"
    _small_picture().save(path, "TIFF", tiffinfo=info)
    return path


def jpeg_xmp_entities(folder: Path) -> Path:
    """A JPEG whose XMP is a billion-laughs entity bomb."""
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
            for p, c in zip("abcdefg", "bcdefgh", strict=True)
        )
        + ']><x:xmpmeta xmlns:x="adobe:ns:meta/">&h;</x:xmpmeta>'
    )
    path = folder / "jpeg-xmp-billion-laughs.jpg"
    _small_picture().save(path, "JPEG", xmp=laughs.encode())
    return path


# -- containers -------------------------------------------------------------------------------


def bmff_many_boxes(folder: Path, boxes: int = 200_000) -> Path:
    """An MP4 header followed by 200,000 empty top-level `free` boxes."""
    ftyp = struct.pack(">I4s4sI", 24, b"ftyp", b"isom", 512) + b"isomiso2"
    path = folder / f"mp4-{boxes}-free-boxes.mp4"
    path.write_bytes(ftyp + struct.pack(">I4s", 8, b"free") * boxes)
    return path


def bmff_deep_boxes(folder: Path, depth: int = 50_000) -> Path:
    """An MP4 whose `moov` nests 50,000 container boxes inside each other."""
    ftyp = struct.pack(">I4s4sI", 24, b"ftyp", b"isom", 512) + b"isomiso2"
    body = b""
    for level in range(depth):
        size = 8 * (depth - level)
        body += struct.pack(">I4s", size, b"moov" if level == 0 else b"trak")
    path = folder / f"mp4-{depth}-nested-boxes.mp4"
    path.write_bytes(ftyp + body)
    return path


def webm_without_codec(folder: Path) -> Path:
    """A WebM whose video track names a codec FFmpeg does not know (no codec context)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as container:
        stream = container.add_stream("libvpx-vp9", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(
                np.full((48, 64, 3), i * 40, dtype=np.uint8), format="rgb24"
            )
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data = buffer.getvalue().replace(b"V_VP9", b"V_XX9")
    path = folder / "webm-unknown-codec.webm"
    path.write_bytes(data)
    return path


def starts_with_g(folder: Path) -> Path:
    """A text file that starts with "G" (the MPEG-TS sync byte) and is nothing else."""
    path = folder / "starts-with-G.ts"
    path.write_text("Greetings, this is a text file and not a transport stream.\n" * 20)
    return path


def polyglot_jpeg_zip(folder: Path) -> Path:
    """A JPEG with a ZIP archive appended."""
    picture = io.BytesIO()
    _small_picture().save(picture, "JPEG")
    path = folder / "polyglot.jpg"
    path.write_bytes(picture.getvalue() + b"PK\x03\x04" + os.urandom(512))
    return path


# -- file names -------------------------------------------------------------------------------


def markup_name(folder: Path) -> Path:
    """A good picture whose path holds Rich markup: `dir[/]bad.jpg` (file `]bad.jpg` in a
    folder named `dir[`)."""
    (folder / "dir[").mkdir()
    path = folder / "dir[" / "]bad.jpg"
    _small_picture().save(path, "JPEG")
    return path


def escape_name(folder: Path) -> Path:
    """A good picture whose name clears the screen and colours text if printed raw."""
    path = folder / "clear\x1b[2Jscreen\x1b[31m.jpg"
    _small_picture().save(path, "JPEG")
    return path


# -- file-system objects ----------------------------------------------------------------------


def fifo_jpg(folder: Path) -> Path:
    """A FIFO named .jpg: opening it for reading blocks until someone writes."""
    path = folder / "fifo.jpg"
    os.mkfifo(path)
    return path


def socket_jpg(folder: Path) -> Path:
    """A Unix socket named .jpg (left bound; the test removes it)."""
    path = folder / "socket.jpg"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.close()
    return path


def device_link(folder: Path) -> Path:
    """A link named .jpg to /dev/zero, a device that never ends."""
    path = folder / "zero.jpg"
    path.symlink_to("/dev/zero")
    return path


def dangling_link(folder: Path) -> Path:
    path = folder / "dangling.jpg"
    path.symlink_to(folder / "does-not-exist.jpg")
    return path


def self_link(folder: Path) -> Path:
    """A link named .jpg that points to itself (opening it fails with ELOOP)."""
    path = folder / "self.jpg"
    path.symlink_to(path)
    return path


def looping_folder(folder: Path) -> Path:
    """A folder holding one picture and a link back to itself."""
    path = folder / "loop"
    path.mkdir()
    _small_picture().save(path / "inside.jpg", "JPEG")
    (path / "again").symlink_to(path, target_is_directory=True)
    return path


IMAGE_BOMBS: dict[str, Maker] = {
    "gif_frames_bomb": gif_frames_bomb,
    "gif_big_canvas": gif_big_canvas,
    "gif_big_canvas_frames": gif_big_canvas_frames,
    "apng_frames_bomb": apng_frames_bomb,
    "webp_frames_bomb": webp_frames_bomb,
    "jpeg_scan_bomb": jpeg_scan_bomb,
    "png_big_canvas": png_big_canvas,
    "png_claims_huge": png_claims_huge,
    "png_sparse_201mb": png_sparse_201mb,
    "png_many_chunks": png_many_chunks,
    "tiff_many_pages": tiff_many_pages,
    "avif_claims_huge": avif_claims_huge,
    "heif_claims_huge": heif_claims_huge,
}
METADATA: dict[str, Maker] = {
    "png_xmp_openers": png_xmp_openers,
    "tiff_xmp_openers": tiff_xmp_openers,
    "jpeg_xmp_entities": jpeg_xmp_entities,
}
CONTAINERS: dict[str, Maker] = {
    "bmff_many_boxes": bmff_many_boxes,
    "bmff_deep_boxes": bmff_deep_boxes,
    "webm_without_codec": webm_without_codec,
    "starts_with_g": starts_with_g,
    "polyglot_jpeg_zip": polyglot_jpeg_zip,
}
NAMES: dict[str, Maker] = {"markup_name": markup_name, "escape_name": escape_name}
FILE_SYSTEM: dict[str, Maker] = {
    "fifo_jpg": fifo_jpg,
    "socket_jpg": socket_jpg,
    "device_link": device_link,
    "dangling_link": dangling_link,
    "self_link": self_link,
    "looping_folder": looping_folder,
}
CORPUS: dict[str, Maker] = {**IMAGE_BOMBS, **METADATA, **CONTAINERS, **NAMES, **FILE_SYSTEM}
"""Every maker, by name."""
