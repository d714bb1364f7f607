"""Interop with Meta's tools: our vPDQ picks the frames Meta's `vpdq` picks, and our names and
encodings are the ones python-threatexchange's own parsers read and write.

The reference packages are the `interop` extra (CI installs it; vpdq builds from source against
FFmpeg's -dev packages). Without them those tests skip; the ThreatExchange sample hashes in
../shared/data/hashes are checked either way."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from unmask.hashing import (
    PDQ_QUALITY_THRESHOLD,
    SIGNAL_TYPES,
    VpdqFrame,
    VpdqSignal,
    hash_file,
    parse_hash,
    serialise_vpdq,
    vpdq_match_percent,
)

SAMPLE = "TE__tmk__sample-videos__pattern-sd-grey-bar.mp4"


def _videos_by_rate(shared_data: Path) -> dict[str, Path]:
    """One shared video for each distinct average frame rate (30, 25, 24, 29.97, 22.13...)."""
    found: dict[str, Path] = {}
    for path in sorted((shared_data / "videos").glob("*/*.mp4")):
        with av.open(str(path)) as container:
            rate = str(container.streams.video[0].average_rate)
        found.setdefault(rate, path)
    return found


def test_vpdq_picks_the_frames_meta_vpdq_picks_at_every_frame_rate(shared_data: Path) -> None:
    vpdq = pytest.importorskip("vpdq", reason="Meta's vpdq: pip install -e '.[interop]'")
    videos = _videos_by_rate(shared_data)
    assert {"30000/1001", "2997/100"} <= set(videos), "the shared 29.97 fps clips are missing"
    report = []
    for rate, path in videos.items():
        ours = hash_file(path).vpdq
        theirs = [
            VpdqFrame(f.hex, f.quality, f.timestamp)
            for f in vpdq.computeHash(str(path), seconds_per_hash=1)
        ]
        query_pct, compared_pct = vpdq_match_percent(ours, theirs)
        report.append((rate, path.name, round(query_pct), round(compared_pct)))
        # Same frames, same timestamps as the reference writes them ...
        assert [str(f).rsplit(",", 1)[1] for f in ours] == [
            str(f).rsplit(",", 1)[1] for f in theirs
        ], path.name
        # ... and the two hashes of one file match each other at >= 95 % of frames both ways.
        assert query_pct >= 95 and compared_pct >= 95, report


def test_vpdq_frames_equal_threatexchange_sample_hashes(shared_data: Path) -> None:
    """ThreatExchange's sample hashes list every frame (frame, quality, pdq, seconds); at 30
    fps ours are frames 0, 30, 60... of them, at their timestamps."""
    hashes = shared_data / "hashes"
    checked = 0
    for video in sorted(hashes.glob("TE__tmk__sample-videos__*.mp4")):
        name = video.stem.removeprefix("TE__tmk__sample-videos__")
        expected = hashes / f"TE__vpdq__sample-hashes__{name}.txt"
        if not expected.exists():
            continue
        rows = [line.split(",") for line in expected.read_text().splitlines() if line]
        ours = hash_file(video).vpdq
        with av.open(str(video)) as container:
            step = int(container.streams.video[0].average_rate)
        assert len(ours) == len(range(0, len(rows), step)), name
        for frame, row in zip(ours, rows[::step], strict=True):
            _, quality, pdq_hex, seconds = row
            assert abs(frame.timestamp - float(seconds)) < 0.001, (name, seconds)
            if int(quality) < PDQ_QUALITY_THRESHOLD:  # near-blank frames hash as noise
                continue
            # Decoders and RGB conversions differ by a few bits; far inside the 31-bit radius.
            assert (int(frame.pdq, 16) ^ int(pdq_hex, 16)).bit_count() <= 10, (name, seconds)
            checked += 1
    assert checked >= 20


def test_threatexchange_parsers_read_our_hashes(shared_data: Path) -> None:
    pytest.importorskip("threatexchange", reason="pip install -e '.[interop]'")
    pytest.importorskip("vpdq", reason="threatexchange's vPDQ signal imports Meta's vpdq")
    from threatexchange.extensions.vpdq.vpdq import VPDQSignal
    from threatexchange.extensions.vpdq.vpdq_util import json_to_vpdq, vpdq_to_json
    from threatexchange.signal_type.md5 import VideoMD5Signal
    from threatexchange.signal_type.pdq.signal import PdqSignal
    from threatexchange.signal_type.sha256 import VideoSHA256Signal

    video = hash_file(shared_data / "hashes" / SAMPLE)
    photo = hash_file(shared_data / "hashes" / "TE-pdq__pdq__data__misc-images__c.png")
    te_types = {t.get_name(): t for t in (VPDQSignal, VideoMD5Signal, PdqSignal, VideoSHA256Signal)}
    # Every ThreatExchange name is one of ours, and a video's hashes carry exactly those names.
    assert set(te_types) <= set(SIGNAL_TYPES)
    assert set(video.signals()) == {"vpdq", "video_md5", "video_sha256"}
    for name, value in video.signals().items():
        assert te_types[name].validate_signal_str(value) == value
    assert PdqSignal.validate_signal_str(photo.signals()["pdq"]) == photo.pdq
    # Our vPDQ string is byte for byte what ThreatExchange writes for the same features.
    ours = video.signals()["vpdq"]
    assert vpdq_to_json(json_to_vpdq(ours)) == ours
    assert ['"' + str(f) + '"' for f in json_to_vpdq(ours)][:2] == [
        json.dumps(str(f)) for f in video.vpdq[:2]
    ]
    # And ThreatExchange's own strings read back unchanged.
    for example in VPDQSignal.get_examples():
        assert VpdqSignal.validate(example) == example


def test_older_vpdq_strings_and_names_are_still_read() -> None:
    """0.1 wrote "1.000" timestamps, compact JSON and md5/sha256: all still accepted."""
    pdq_hex = "f" * 64
    old = json.dumps([f"{pdq_hex},100,0.000", f"{pdq_hex},90,1.000"], separators=(",", ":"))
    assert VpdqSignal.validate(old) == f'["{pdq_hex},100,0.0", "{pdq_hex},90,1.0"]'
    assert serialise_vpdq(VpdqSignal.parse(old)) == VpdqSignal.validate(old)
    assert parse_hash("md5:" + "a" * 32) == ("md5", "a" * 32)
    assert parse_hash("video_sha256:" + "B" * 64) == ("video_sha256", "b" * 64)


def test_an_evidence_hash_list_imports_as_it_is(shared_data: Path) -> None:
    """The evidence package's hashes.csv (file, signal_type, hash, quality) is read by the
    bank importer unchanged: the `hash` column is taken as the signal."""
    import csv
    import io

    from unmask.bank.transfer import read_entries

    photo = hash_file(shared_data / "hashes" / "TE-pdq__pdq__data__misc-images__c.png")
    video = hash_file(shared_data / "hashes" / SAMPLE)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["file", "signal_type", "hash", "quality"])
    for name, hashes in (("c.png", photo), ("clip.mp4", video)):
        for kind, value in hashes.signals().items():
            writer.writerow([name, kind, value, hashes.pdq_quality if kind == "pdq" else ""])
    buf.seek(0)
    entries = list(read_entries(buf, "csv"))
    assert [(e.signal_type, e.value) for e in entries] == [
        *photo.signals().items(),
        *video.signals().items(),
    ]


def test_a_cut_short_video_gives_the_frames_before_the_cut_or_a_clear_error(
    shared_data: Path, tmp_path: Path
) -> None:
    from unmask.errors import UnmaskError

    data = (shared_data / "hashes" / SAMPLE).read_bytes()
    whole = hash_file(shared_data / "hashes" / SAMPLE).vpdq
    for fraction in (0.3, 0.7, 0.95):
        cut = tmp_path / f"cut-{fraction}.mp4"
        cut.write_bytes(data[: int(len(data) * fraction)])
        try:
            frames = hash_file(cut).vpdq
        except UnmaskError as exc:  # e.g. the index (moov) is missing: named, not a traceback
            assert exc.message and exc.hint
            continue
        assert frames and [str(f) for f in frames] == [str(f) for f in whole[: len(frames)]]


def test_threatexchange_parsers_read_every_row_of_our_csv_export(
    shared_data: Path, tmp_path: Path
) -> None:
    pytest.importorskip("threatexchange", reason="pip install -e '.[interop]'")
    pytest.importorskip("vpdq", reason="threatexchange's vPDQ signal imports Meta's vpdq")
    import csv
    import io

    from threatexchange.extensions.vpdq.vpdq import VPDQSignal
    from threatexchange.signal_type.md5 import VideoMD5Signal
    from threatexchange.signal_type.pdq.signal import PdqSignal
    from threatexchange.signal_type.sha256 import VideoSHA256Signal

    from unmask.bank.store import BankStore, entries_for_file
    from unmask.bank.transfer import write_csv
    from unmask.hashing import BANK_WINDOW_CUTS

    store = BankStore(f"sqlite:///{tmp_path}/b.sqlite3")
    store.create_bank("ncii")
    photo = shared_data / "hashes" / "TE-pdq__pdq__data__misc-images__c.png"
    for path in (photo, shared_data / "hashes" / SAMPLE):
        store.add_entries(
            "ncii", entries_for_file(hash_file(path, window_cuts=BANK_WINDOW_CUTS), [], "")
        )
    buf = io.StringIO()
    write_csv(store.entries("ncii", windows=True), buf)
    store.close()
    te_types = {t.get_name(): t for t in (VPDQSignal, VideoMD5Signal, PdqSignal, VideoSHA256Signal)}
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    seen = set()
    for row in rows:
        kind = row["signal_type"]
        seen.add(kind)
        if kind in te_types:
            assert te_types[kind].validate_signal_str(row["signal"]) == row["signal"], kind
        else:  # picture digests: no ThreatExchange type; its tools skip them
            assert kind in ("photo_md5", "photo_sha256")
        if kind == "pdq":
            assert len(row["pdq_windows"].split()) >= 8  # the crop windows travel along
    assert seen == {"pdq", "photo_md5", "photo_sha256", "vpdq", "video_md5", "video_sha256"}
