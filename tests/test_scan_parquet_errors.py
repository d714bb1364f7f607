"""`unmask scan --parquet FILE` where FILE cannot be written: a plain error, before any scan."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parent.parent / "examples" / "astronaut.jpg"


def test_parquet_in_a_missing_folder_is_refused_before_scanning(tmp_path: Path):
    target = tmp_path / "no-such-folder" / "results.parquet"
    run = subprocess.run(
        [sys.executable, "-m", "unmask.cli", "scan", str(EXAMPLE), "--parquet", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert run.returncode == 64, run.stderr
    assert "--parquet" in run.stderr and "does not exist" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""  # nothing was scanned
    assert not target.parent.exists()
