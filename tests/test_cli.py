"""`unmask scan` and `unmask faces` as a user runs them: output, files written, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from media_factory import EXAMPLE, gradient, png_bomb, truncated, write_video
from PIL import Image

from unmask import scan_pool
from unmask.cli import app
from unmask.result import json_schema


def unmask(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI as a user would, with a wide terminal so tables do not wrap."""
    run = subprocess.run(
        [sys.executable, "-m", "unmask.cli", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "250"},
    )
    return subprocess.CompletedProcess(
        run.args, run.returncode, run.stdout.decode(), run.stderr.decode()
    )


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    (folder / "nested").mkdir(parents=True)
    (folder / "good.jpg").write_bytes(EXAMPLE.read_bytes())
    Image.fromarray(gradient()).save(folder / "nested" / "landscape.png")
    (folder / "empty.jpg").write_bytes(b"")
    truncated(EXAMPLE, folder / "cut.jpg", keep=0.3)
    (folder / "notes.txt").write_text("not a picture\n")
    png_bomb(folder / "nested" / "bomb.png")
    return folder


def test_demo_example_shows_faces_findings_and_an_honest_verdict():
    run = unmask("scan", str(EXAMPLE))
    assert run.returncode == 0, run.stderr
    assert "Faces: 1" in run.stdout
    assert "no face-manipulation model ran" in run.stdout
    assert "metadata/" in run.stdout and "forensics/" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_a_mixed_folder_gives_one_entry_per_file_and_exit_code_2(mixed_folder: Path):
    run = unmask("scan", str(mixed_folder), "--json")
    assert run.returncode == 2
    document = json.loads(run.stdout)
    by_name = {Path(r["path"]).name: r for r in document["results"]}
    assert set(by_name) == {
        "good.jpg",
        "landscape.png",
        "empty.jpg",
        "cut.jpg",
        "notes.txt",
        "bomb.png",
    }
    assert by_name["good.jpg"]["error"] is None and len(by_name["good.jpg"]["faces"]) == 1
    assert by_name["landscape.png"]["error"] is None
    assert by_name["empty.jpg"]["error"]["code"] == "empty_file"
    assert by_name["cut.jpg"]["error"]["code"] == "corrupt_media"
    assert by_name["notes.txt"]["error"] is None
    assert by_name["notes.txt"]["skipped"] == "this is a text file, not a picture or video"
    assert by_name["bomb.png"]["error"]["code"] == "limit_exceeded"
    for result in document["results"]:
        jsonschema.validate(result, json_schema())
        if result["error"]:
            assert result["error"]["message"] and result["error"]["hint"]
    assert "Traceback" not in run.stderr


def test_the_table_names_each_broken_file_and_what_is_wrong(mixed_folder: Path):
    run = unmask("scan", str(mixed_folder), "--quiet")
    assert run.returncode == 2
    flat = " ".join(run.stdout.split())
    for name in ("empty.jpg", "cut.jpg", "notes.txt", "bomb.png"):
        assert name in flat
    assert "empty" in flat and "truncated" in flat and "megapixels" in flat


def test_jsonl_is_written_per_file_and_resume_skips_what_is_done(mixed_folder: Path, tmp_path):
    out = tmp_path / "results.jsonl"
    first = unmask("scan", str(mixed_folder / "good.jpg"), "-o", str(out))
    assert first.returncode == 0
    assert len(out.read_text().splitlines()) == 1
    out.write_text(out.read_text() + '{"path": "half a line')  # an interrupted write
    again = unmask(
        "scan",
        str(mixed_folder / "good.jpg"),
        str(mixed_folder / "empty.jpg"),
        "-o",
        str(out),
        "--resume",
    )
    assert again.returncode == 2
    paths = [
        json.loads(line)["path"]
        for line in out.read_text().splitlines()
        if line.startswith('{"schema')
    ]
    assert sorted(Path(p).name for p in paths) == ["empty.jpg", "good.jpg"]


def test_a_resumed_folder_scan_keeps_the_skipped_files_in_its_parquet_table(tmp_path: Path):
    pyarrow = pytest.importorskip("pyarrow.parquet", reason="--parquet needs the unmask[ray] extra")
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "good.jpg").write_bytes(EXAMPLE.read_bytes())
    (folder / "notes.txt").write_text("not a picture\n")
    out = tmp_path / "results.jsonl"
    first = unmask("scan", str(folder), "-q", "-o", str(out), "--parquet", str(tmp_path / "1.pq"))
    again = unmask(
        "scan", str(folder), "-q", "-o", str(out), "--resume", "--parquet", str(tmp_path / "2.pq")
    )
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    tables = [pyarrow.read_table(tmp_path / name).to_pylist() for name in ("1.pq", "2.pq")]
    # the resumed run scanned nothing, and its table still holds both files, as the first one
    assert [Path(r["path"]).name for r in tables[1]] == [Path(r["path"]).name for r in tables[0]]
    assert sorted(Path(r["path"]).name for r in tables[1]) == ["good.jpg", "notes.txt"]
    assert [r["skipped"] is not None for r in tables[1]] == [
        r["skipped"] is not None for r in tables[0]
    ]


def test_video_scan_reports_tracks_and_sampled_frames(tmp_path: Path):
    video = write_video(tmp_path / "clip.mp4", seconds=2.0)
    run = unmask("scan", str(video), "--jsonl", "--frames", "8")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    jsonschema.validate(result, json_schema())
    assert result["media"]["kind"] == "video"
    assert result["media"]["frames_sampled"] == 8


def test_maps_are_written_as_pngs(tmp_path: Path):
    maps = tmp_path / "maps"
    run = unmask("scan", str(EXAMPLE), "--maps", str(maps))
    assert run.returncode == 0, run.stderr
    written = sorted(p.name for p in maps.glob("*.png"))
    # Each map's name says what it shows, so the two noise maps are told apart.
    for part in ("error-level", "noise-level-by-block", "noise-residual-amplified"):
        assert sum(part in name for name in written) == 1, written
    for path in maps.glob("*.png"):
        assert Image.open(path).size[0] > 0


def test_standard_input_is_scanned(tmp_path: Path):
    run = unmask("scan", "-", "--json", stdin=EXAMPLE.read_bytes())
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)["results"][0]
    assert result["path"] == "<stdin>" and len(result["faces"]) == 1


def test_ai_generator_png_is_flagged_with_exit_code_1(shared_data: Path):
    comfy = shared_data / "generated" / "ai" / "ComfyUI_examples__sdturbo__sdxlturbo_example.png"
    run = unmask("scan", str(comfy), "--json")
    assert run.returncode == 1, run.stderr
    verdict = json.loads(run.stdout)["results"][0]["verdict"]
    assert verdict["label"] == "likely_manipulated"
    assert "ComfyUI" in verdict["headline"]


def test_wrong_usage_exits_64_with_a_message():
    run = unmask("scan", str(EXAMPLE), "--frames", "0")
    assert run.returncode == 64
    assert "frames" in run.stderr
    unknown = unmask("scan", str(EXAMPLE), "--detectors", "crystal-ball")
    assert unknown.returncode == 64 and "crystal-ball" in unknown.stderr


def test_help_explains_exit_codes_and_limits():
    run = unmask("scan", "--help")
    assert run.returncode == 0
    for words in ("Exit codes", "--max-pixels", "--fps", "--maps", "--resume"):
        assert words in run.stdout


def test_faces_command_prints_boxes_and_writes_crops(tmp_path: Path):
    crops = tmp_path / "crops"
    run = unmask("faces", str(EXAMPLE), "--crops", str(crops), "--size", "128")
    assert run.returncode == 0, run.stderr
    assert "1 face(s)" in run.stdout
    written = list(crops.glob("*.png"))
    assert len(written) == 1 and Image.open(written[0]).size == (128, 128)


def test_faces_crops_into_a_folder_that_cannot_be_made_is_a_plain_error(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = unmask("faces", str(EXAMPLE), "--crops", str(blocker / "crops"))
    assert run.returncode == 2
    assert "cannot write crops" in run.stderr and "Traceback" not in run.stderr


def test_faces_command_on_a_broken_file_says_so(tmp_path: Path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    run = unmask("faces", str(empty))
    assert run.returncode == 2
    assert "empty" in run.stderr and "Traceback" not in run.stderr


def test_a_closed_pipe_keeps_the_exit_code_of_the_results():
    # `| true` closes the pipe before anything is written, as `| head -1` can.
    command = f"set -o pipefail; {sys.executable} -m unmask.cli scan {EXAMPLE} -q | true"
    run = subprocess.run(["bash", "-c", command], capture_output=True, timeout=600)
    assert run.returncode == 0, run.stderr.decode()  # the example is not flagged
    assert b"Traceback" not in run.stderr


def test_notes_beside_the_pictures_are_skipped_in_one_line_and_do_not_fail_the_run(
    tmp_path: Path,
):
    folder = tmp_path / "holiday"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(EXAMPLE.read_bytes())
    (folder / "notes.md").write_text("# what happened\n")
    (folder / "results.json").write_text('{"verdict": "inconclusive"}\n')
    (folder / "labels.csv").write_text("path,label\nphoto.jpg,real\n")
    run = unmask("scan", str(folder), "--quiet")
    assert run.returncode == 0, run.stderr
    assert (
        "skipped 3 files that are not pictures or videos: labels.csv, notes.md, results.json"
        in run.stdout
    )
    assert "unmask can read" not in run.stdout  # no error entry for any of them
    # --jsonl keeps standard output for JSON: one entry per skipped file, the line on stderr.
    lines = unmask("scan", str(folder), "--jsonl")
    assert lines.returncode == 0, lines.stderr
    records = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [Path(r["path"]).name for r in records] == [
        "photo.jpg",
        "labels.csv",
        "notes.md",
        "results.json",
    ]
    for record in records:
        jsonschema.validate(record, json_schema())
    # A scanned file's record has exactly the 1.1 fields: a reader checking records against the
    # 1.1 schema (the current one without `skipped`, no other field allowed) accepts it.
    assert "skipped" not in records[0] and records[0]["verdict"]
    schema_1_1 = json_schema()
    del schema_1_1["properties"]["skipped"]
    jsonschema.validate(records[0], schema_1_1)
    for record in records[1:]:
        assert record["skipped"] == "this is a text file, not a picture or video"
        assert record["error"] is None and record["verdict"] is None
    assert "skipped 3 files" in lines.stderr
    # Named on its own, the same file is an input that could not be read.
    named = unmask("scan", str(folder / "notes.md"), "--jsonl")
    assert named.returncode == 2
    assert json.loads(named.stdout)["error"]["code"] == "unsupported_format"


def test_a_picture_name_holding_text_in_a_folder_is_an_error_not_a_skip(tmp_path: Path):
    folder = tmp_path / "album"
    folder.mkdir()
    (folder / "photo-export").write_bytes(EXAMPLE.read_bytes())  # a JPEG without its name
    (folder / "holiday.jpg").write_text("this is not a JPEG\n")
    run = unmask("scan", str(folder), "--json")
    assert run.returncode == 2, run.stderr
    by_name = {Path(r["path"]).name: r for r in json.loads(run.stdout)["results"]}
    assert by_name["holiday.jpg"]["error"]["code"] == "unsupported_format"
    assert by_name["photo-export"]["error"] is None
    assert len(by_name["photo-export"]["faces"]) == 1
    assert "skipped" not in run.stderr


def audio_only(path: Path) -> Path:
    """A second of silence as AAC, the only stream of an MP4 container (a phone's voice memo
    when `path` ends in .m4a)."""
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        stream.layout = "mono"
        for index in range(16):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = 16000, index * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_kinds_unmask_cannot_read_in_a_folder_are_not_checked_rows_without_exit_2(
    tmp_path: Path,
):
    folder = tmp_path / "card"
    folder.mkdir()
    (folder / "IMG_0001.JPG").write_bytes(EXAMPLE.read_bytes())
    raw = b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom" + bytes(range(256)) * 8
    (folder / "IMG_0001.CR3").write_bytes(raw)
    (folder / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9"/>\n')
    audio_only(folder / "memo.m4a")
    audio_only(folder / "interview.mp4")  # no audio brand: no video stream says it
    out = tmp_path / "card.jsonl"
    run = unmask("scan", str(folder), "-o", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    rows = {line.split("│")[1].strip(): line for line in run.stdout.splitlines() if "│" in line}
    assert "not checked" in rows["IMG_0001.CR3"] and "Canon RAW photo" in rows["IMG_0001.CR3"]
    assert "not checked" in rows["logo.svg"] and "SVG drawing" in rows["logo.svg"]
    assert "not checked" in rows["memo.m4a"] and "sound only" in rows["memo.m4a"]
    assert "not checked" in rows["interview.mp4"]
    assert "error" not in run.stdout
    records = {Path(r["path"]).name: r for r in map(json.loads, out.read_text().splitlines())}
    assert records["IMG_0001.JPG"]["error"] is None
    assert records["memo.m4a"]["error"]["message"].startswith("not checked: sound only")
    assert records["IMG_0001.CR3"]["error"]["code"] == "unsupported_format"
    for record in records.values():
        jsonschema.validate(record, json_schema())
    # A resumed run reads them back as not checked; named alone, each is an unreadable input.
    assert unmask("scan", str(folder), "-o", str(out), "--resume").returncode == 0
    assert unmask("scan", str(folder / "memo.m4a"), "--quiet").returncode == 2
    # A text file named .CR3 contradicts its name: an error that sets 2, as a text .jpg does.
    (folder / "IMG_0002.CR3").write_text("not a photo\n")
    again = unmask("scan", str(folder), "--jsonl")
    assert again.returncode == 2
    text = next(json.loads(line) for line in again.stdout.splitlines() if "IMG_0002" in line)
    assert text["error"]["message"].startswith("this is a text file")


def test_resume_after_a_finished_run_reports_the_errors_it_holds(tmp_path: Path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    out = tmp_path / "results.jsonl"
    assert unmask("scan", str(empty), "-o", str(out)).returncode == 2
    again = unmask("scan", str(empty), "-o", str(out), "--resume")
    assert again.returncode == 2  # nothing new was scanned, but the file is still unreadable
    assert len(out.read_text().splitlines()) == 1


def test_an_empty_folder_is_named_as_such_and_starts_no_scan_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".DS_Store").write_bytes(b"\0")  # hidden files are not walked
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("find the photos\n")

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a scan worker was started with nothing to scan")

    monkeypatch.setattr(scan_pool, "ScannerPool", no_pool)
    runner = CliRunner()
    run = runner.invoke(app, ["scan", str(empty)])
    assert run.exit_code == 0, run.output  # nothing flagged, because nothing was checked
    assert run.stderr.strip() == f"no files found in {empty}"
    assert run.stdout == ""
    as_json = runner.invoke(app, ["scan", "--json", str(empty)])
    assert as_json.exit_code == 0 and json.loads(as_json.stdout)["results"] == []
    assert "no files found in" in as_json.stderr
    both = runner.invoke(app, ["scan", str(notes), str(empty)])
    assert both.exit_code == 0, both.output
    assert "skipped 1 file that is not a picture or video: todo.txt" in both.stdout
    assert "nothing was scanned" in both.stdout and f"no files found in {empty}" in both.stderr
    assert f"no files found in {notes}" not in both.stderr


def test_a_misspelt_detector_is_a_usage_error_even_with_nothing_to_scan(tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("find the photos\n")
    run = unmask("scan", "--detectors", "metadata,forensic", str(empty))
    assert run.returncode == 64, run.stderr  # wrong usage, as with files to scan
    assert "Invalid value for --detectors: unknown detector 'forensic'" in run.stderr
    assert "known detectors: face_swap, forensics, metadata" in run.stderr
    runner = CliRunner()  # (its usage errors exit 2; the installed command's exit 64)
    on_notes = runner.invoke(app, ["scan", "--detectors", "forensic", str(notes)])
    assert "Invalid value for --detectors: unknown detector 'forensic'" in on_notes.stderr
    # A resumed run with every file done starts no scanner either.
    out = tmp_path / "done.jsonl"
    assert runner.invoke(app, ["scan", str(notes), "-o", str(out)]).exit_code == 0
    again = runner.invoke(
        app, ["scan", str(notes), "-o", str(out), "--resume", "--detectors", "metdata"]
    )
    assert "Invalid value for --detectors: unknown detector 'metdata'" in again.stderr
    right = runner.invoke(app, ["scan", "--detectors", "metadata, forensics", str(empty)])
    assert right.exit_code == 0, right.output


def test_a_video_over_the_duration_limit_is_measured_in_seconds(tmp_path: Path):
    video = write_video(tmp_path / "clip.mp4", seconds=2.0)
    run = unmask("scan", str(video), "--max-duration", "1", "--jsonl")
    assert run.returncode == 2
    message = json.loads(run.stdout)["error"]["message"]
    assert "lasts 2.0 s, above the limit of 1.0 s" in message


def test_a_folder_linking_to_itself_is_walked_once(tmp_path: Path):
    folder = tmp_path / "album"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(EXAMPLE.read_bytes())
    (folder / "again").symlink_to(folder, target_is_directory=True)
    os.mkfifo(folder / "pipe.jpg")
    run = unmask("scan", str(folder), "--json")
    results = {Path(r["path"]).name: r for r in json.loads(run.stdout)["results"]}
    assert sorted(results) == ["photo.jpg", "pipe.jpg"]
    assert "named pipe" in results["pipe.jpg"]["error"]["message"]
    assert run.returncode == 2


def test_a_folder_table_names_the_kind_of_finding_as_the_file_result_does(shared_data: Path):
    comfy = shared_data / "generated" / "ai" / "ComfyUI_examples__sdturbo__sdxlturbo_example.png"
    run = unmask("scan", str(comfy), str(EXAMPLE), "--quiet")
    assert run.returncode == 1, run.stderr
    row = next(line for line in run.stdout.splitlines() if "sdxlturbo" in line)
    assert "Likely AI-generated" in row


def _without_timings(line: str) -> dict:
    record = json.loads(line)
    for key in ("elapsed_s", "started_at"):
        record.pop(key, None)
    return record


def test_two_workers_write_the_same_jsonl_as_one_in_the_same_order(
    mixed_folder: Path, tmp_path: Path
):
    write_video(mixed_folder / "clip.mp4", seconds=2.0)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first = unmask("scan", str(mixed_folder), "--workers", "1", "--frames", "8", "-o", str(one))
    second = unmask("scan", str(mixed_folder), "--workers", "2", "--frames", "8", "-o", str(two))
    assert first.returncode == second.returncode == 2, second.stderr
    lines = [_without_timings(line) for line in one.read_text().splitlines()]
    assert lines == [_without_timings(line) for line in two.read_text().splitlines()]
    assert len(lines) == 7
    # --resume with several workers appends only what is missing
    two.write_text("\n".join(two.read_text().splitlines()[:3]) + "\n")
    again = unmask(
        "scan", str(mixed_folder), "--workers", "2", "--frames", "8", "-o", str(two), "--resume"
    )
    assert again.returncode == 2, again.stderr
    assert sorted(r["path"] for r in map(_without_timings, two.read_text().splitlines())) == sorted(
        r["path"] for r in lines
    )
