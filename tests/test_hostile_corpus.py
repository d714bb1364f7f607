"""Every file of the hostile corpus through `scan`, `hash` and `verify` (and a few through
`report create`), as a user runs them: each ends with a result or a clear error entry within
its budget, never a hang or a traceback, with exit code 0, 1 or 2 and bounded memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_factory import CORPUS, FILE_SYSTEM
from hostile_run import Run, run_unmask

BUDGET_S = 20
"""--time-budget given to every command: well above what any corpus file needs once its
limits are checked (the slowest, a 100-megapixel picture, takes about 10 s to scan here)."""
HANG_GUARD_S = BUDGET_S + 40
"""A run still going after this is a hang: the budget, the worker's kill grace and start-up."""
PEAK_MEMORY_MB = 1500
"""Most memory one command may hold on any corpus file (the 100-megapixel pictures are the
largest; 0.1 needed 2.2-3.2 GB on them)."""

# What `scan` must say about each file: an error code, or None for a result. Every other code
# is a failure; so is a result where an error is expected, and the other way round.
SCAN_OUTCOME: dict[str, str | None] = {
    "gif_frames_bomb": "limit_exceeded",
    "gif_big_canvas": None,
    "gif_big_canvas_frames": "limit_exceeded",
    "apng_frames_bomb": "limit_exceeded",
    "webp_frames_bomb": "limit_exceeded",
    "jpeg_scan_bomb": "limit_exceeded",
    "png_big_canvas": None,
    "png_claims_huge": "limit_exceeded",
    "png_sparse_201mb": "limit_exceeded",
    "png_many_chunks": "limit_exceeded",
    "tiff_many_pages": None,
    "avif_claims_huge": "unsupported_format",
    "heif_claims_huge": "corrupt_media",
    "png_xmp_openers": None,
    "tiff_xmp_openers": None,
    "jpeg_xmp_entities": None,
    "bmff_many_boxes": "corrupt_media",
    "bmff_deep_boxes": "unsupported_format",
    "webm_without_codec": "unreadable_file",
    "starts_with_g": "unsupported_format",
    "polyglot_jpeg_zip": None,
    "markup_name": None,
    "escape_name": None,
    "fifo_jpg": "unreadable_file",
    "socket_jpg": "unreadable_file",
    "device_link": "unreadable_file",
    "dangling_link": "unreadable_file",
    "self_link": "unreadable_file",
    "looping_folder": None,
}
REPORTED = ("gif_big_canvas", "png_xmp_openers", "fifo_jpg")
"""A few that also go through `report create --no-ask` (the slowest command)."""
VERIFIED = sorted(set(CORPUS) - set(FILE_SYSTEM) | {"fifo_jpg", "dangling_link"})
"""`verify` refuses file-system objects with the loader's own check, tested here on two."""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {name: make(folder) for name, make in CORPUS.items()}


def test_the_expectations_cover_the_whole_corpus():
    assert set(SCAN_OUTCOME) == set(CORPUS)


def assert_held(run: Run) -> None:
    """No hang, no traceback, a documented exit code, bounded memory."""
    assert not run.hung, f"{run.args} still running after {HANG_GUARD_S} s"
    assert not run.traceback, run.stdout + run.stderr
    assert run.returncode in (0, 1, 2), (run.returncode, run.stderr[-2000:])
    assert run.peak_rss_mb < PEAK_MEMORY_MB, f"{run.args}: {run.peak_rss_mb:.0f} MB"


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_scan_gives_each_hostile_file_a_result_or_its_error(corpus: dict[str, Path], case: str):
    path = corpus[case]
    run = run_unmask(
        "scan", str(path), "--jsonl", "--time-budget", str(BUDGET_S), timeout_s=HANG_GUARD_S
    )
    assert_held(run)
    results = [json.loads(line) for line in run.stdout.splitlines()]
    expected = SCAN_OUTCOME[case]
    if case == "looping_folder":  # the link back to the folder is not followed again
        assert [Path(r["path"]).name for r in results] == ["inside.jpg"]
    else:
        assert len(results) == 1
    for result in results:
        error = result["error"]
        if expected is None:
            assert error is None and result["verdict"]["label"], error
        else:
            assert error is not None and error["code"] == expected, error
            assert error["message"] and error["hint"]
    assert run.returncode == (0 if expected is None else 2)


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_hash_gives_each_hostile_file_its_hashes_or_a_clear_error(
    corpus: dict[str, Path], case: str
):
    path = corpus[case]
    if case == "looping_folder":
        path = path / "again" / "again" / "inside.jpg"  # through the loop, by name
    run = run_unmask(
        "hash", str(path), "--json", "--time-budget", str(BUDGET_S), timeout_s=HANG_GUARD_S
    )
    assert_held(run)
    if run.returncode == 0:
        assert len(json.loads(run.stdout)["sha256"]) == 64
    else:
        assert run.stderr.startswith("error:") and run.stdout == ""


@pytest.mark.parametrize("case", VERIFIED)
def test_verify_gives_each_hostile_file_a_state_or_a_clear_error(
    corpus: dict[str, Path], case: str
):
    run = run_unmask(
        "verify",
        str(corpus[case]),
        "--json",
        "--time-budget",
        str(BUDGET_S),
        timeout_s=HANG_GUARD_S,
    )
    assert_held(run)
    document = json.loads(run.stdout)
    if run.returncode == 0:
        assert document["content_credentials"]["state"]
        if SCAN_OUTCOME[case] is not None and case not in FILE_SYSTEM:
            assert document.get("not_checked"), "an undecodable file must say what was skipped"
    elif "damaged" in document:  # checked in part: what was read is there, and no "error"
        assert document["damaged"] and document["content_credentials"]["state"]
        assert "error" not in document
    else:
        assert document["error"]["message"] and document["error"]["hint"]


@pytest.mark.parametrize("case", REPORTED)
def test_report_create_ends_on_hostile_files(corpus: dict[str, Path], case: str, tmp_path: Path):
    run = run_unmask(
        "report",
        "create",
        str(corpus[case]),
        "--no-ask",
        "--no-pdf",
        "--no-notices",
        "-o",
        str(tmp_path / "package"),
        timeout_s=HANG_GUARD_S * 2,
    )
    assert_held(run)


@pytest.mark.parametrize("case", ["markup_name", "escape_name"])
def test_names_are_shown_as_text_never_as_markup_or_terminal_commands(
    corpus: dict[str, Path], case: str
):
    path = corpus[case]
    for command in ("scan", "hash"):
        run = run_unmask(command, str(path), timeout_s=HANG_GUARD_S)
        assert_held(run)
        assert run.returncode in (0, 1), run.stderr
        shown = run.stdout + run.stderr
        assert "\x1b" not in shown  # no escape code reaches the terminal
        assert str(path).encode("unicode_escape").decode("ascii") in shown
