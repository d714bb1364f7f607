"""Which files a folder scan leaves out (`unmask.inputs.not_media`): only those that are
clearly neither pictures nor videos, by name and by their first bytes."""

from __future__ import annotations

import os
from pathlib import Path

from media_factory import EXAMPLE

from unmask.inputs import expand, not_checked, not_media


def walked(folder: Path) -> dict[str, str | None]:
    """What `not_media` says about each file a walk of `folder` meets, by file name."""
    return {item.path.name: not_media(item) for item in expand([str(folder)], 0)}


def test_notes_and_exports_beside_the_photos_are_left_out(tmp_path: Path):
    (tmp_path / "photo.jpg").write_bytes(EXAMPLE.read_bytes())
    (tmp_path / "notes.md").write_text("# what happened\n")
    (tmp_path / "results.json").write_text('{"verdict": "inconclusive"}\n')
    (tmp_path / "labels.csv").write_text("path,label\nphoto.jpg,real\n")
    (tmp_path / "statement.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    (tmp_path / "empty.txt").write_bytes(b"")
    assert walked(tmp_path) == {
        "photo.jpg": None,
        "notes.md": "a text file",
        "results.json": "a text file",
        "labels.csv": "a text file",
        "statement.pdf": "a PDF document",
        "empty.txt": "an empty file",
    }


def test_a_file_whose_name_promises_a_picture_is_never_left_out(tmp_path: Path):
    # A .jpg (or .ts, or camera raw) that is not one is a picture that failed: the scan says so.
    (tmp_path / "holiday.jpg").write_text("this is not a JPEG\n")
    (tmp_path / "clip.ts").write_text("Greetings, not a transport stream\n" * 20)
    (tmp_path / "IMG_0001.RAF").write_bytes(b"FUJIFILMCCD-RAW 0201FF383501" + bytes(200))
    (tmp_path / "empty.PNG").write_bytes(b"")
    assert set(walked(tmp_path).values()) == {None}


def test_a_picture_without_a_picture_name_is_scanned(tmp_path: Path):
    (tmp_path / "photo-export").write_bytes(EXAMPLE.read_bytes())
    (tmp_path / "picture.bak").write_bytes(EXAMPLE.read_bytes())
    assert walked(tmp_path) == {"photo-export": None, "picture.bak": None}


def test_a_file_named_by_the_user_is_never_left_out(tmp_path: Path):
    notes = tmp_path / "notes.md"
    notes.write_text("# not a picture\n")
    assert [not_media(item) for item in expand([str(notes)], 0)] == [None]


def test_what_cannot_be_opened_is_not_left_out_but_reported(tmp_path: Path):
    os.mkfifo(tmp_path / "pipe.txt")  # never opened for a blocking read
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    assert walked(tmp_path) == {"pipe.txt": None, "gone.txt": None}


def test_kinds_unmask_cannot_read_are_not_checked_only_when_their_bytes_match_their_name(
    tmp_path: Path,
):
    (tmp_path / "IMG_1.CR3").write_bytes(b"\x00\x00\x00\x18ftypcrx " + bytes(100))
    (tmp_path / "IMG_2.ORF").write_bytes(b"IIRO\x08\x00\x00\x00" + bytes(100))
    (tmp_path / "layers.psd").write_bytes(b"8BPS\x00\x01" + bytes(100))
    (tmp_path / "drawing.svg").write_text('\n <?xml version="1.0"?><svg/>')
    (tmp_path / "favicon.ico").write_bytes(b"\x00\x00\x01\x00\x01\x00" + bytes(100))
    (tmp_path / "memo.m4a").write_bytes(b"\x00\x00\x00\x1cftypM4A \x00\x00\x02\x00" + bytes(100))
    (tmp_path / "IMG_3.CR3").write_text("not a photo\n")  # bytes contradict the name
    (tmp_path / "photo.jpg").write_text("not a photo\n")
    (tmp_path / "memo.jpg").write_bytes((tmp_path / "memo.m4a").read_bytes())
    found = {
        item.path.name: not_checked(item, "unsupported_format", "this is ...")
        for item in expand([str(tmp_path)], 0)
    }
    assert {name for name, why in found.items() if why} == {
        "IMG_1.CR3",
        "IMG_2.ORF",
        "layers.psd",
        "drawing.svg",
        "favicon.ico",
        "memo.m4a",
    }
    assert found["IMG_1.CR3"] == (
        "a Canon RAW photo (CR3), which unmask cannot read",
        "export it as JPEG or PNG to check it",
    )
    assert found["memo.m4a"][0] == "sound only, no picture (an audio file)"


def test_a_named_file_or_one_refused_by_a_limit_is_never_excused(tmp_path: Path):
    raw = tmp_path / "IMG_1.CR3"
    raw.write_bytes(b"\x00\x00\x00\x18ftypcrx " + bytes(100))
    [named] = expand([str(raw)], 0)
    assert not_checked(named, "unsupported_format", "") is None
    [walked_raw] = expand([str(tmp_path)], 0)
    assert not_checked(walked_raw, "limit_exceeded", "") is None
    assert not_checked(walked_raw, "corrupt_media", "") is not None  # FFmpeg read it as a video
    # An MP4 container with sound alone says so only in the loader's words.
    (tmp_path / "IMG_1.CR3").rename(tmp_path / "talk.mp4")
    (tmp_path / "talk.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(100))
    [talk] = expand([str(tmp_path)], 0)
    assert not_checked(talk, "unsupported_format", "the file has no video stream (audio only?)")
    assert not_checked(talk, "corrupt_media", "the video container is damaged") is None
