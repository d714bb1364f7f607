"""`unmask scan -o FILE` or `--parquet FILE` where FILE cannot be written: a plain error, before
any scan."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent.parent / "examples" / "astronaut.jpg"


@pytest.mark.parametrize(
    ("option", "name"),
    [("--parquet", "results.parquet"), ("-o", "results.jsonl"), ("-o", "results.json")],
)
def test_results_into_a_missing_folder_are_refused_before_scanning(
    tmp_path: Path, option: str, name: str
):
    target = tmp_path / "no-such-folder" / name
    run = subprocess.run(
        [sys.executable, "-m", "unmask.cli", "scan", str(EXAMPLE), option, str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert run.returncode == 64, run.stderr
    assert option in run.stderr and "does not exist" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""  # nothing was scanned
    assert not target.parent.exists()
