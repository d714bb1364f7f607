"""When she found it: ISO 8601 with its offset, in the time zone she names (by default this
computer's); anything else kept exactly as written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from unmask.cli import app
from unmask.report.times import TimeZoneError, found_at, local_zone_name

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg"


@pytest.mark.parametrize(
    ("text", "zone", "iso", "recorded_zone"),
    [
        ("2026-11-20 21:00", "Europe/London", "2026-11-20T21:00:00+00:00", "Europe/London"),
        ("2026-07-01 21:00", "Europe/London", "2026-07-01T21:00:00+01:00", "Europe/London"),
        ("2026-11-20T21:00", "America/New_York", "2026-11-20T21:00:00-05:00", "America/New_York"),
        ("2026-11-20", "Australia/Sydney", "2026-11-20T00:00:00+11:00", "Australia/Sydney"),
        ("2026-11-20T21:00+05:30", "Europe/London", "2026-11-20T21:00:00+05:30", "UTC+05:30"),
        ("2026-11-20 21:00Z", "Europe/Berlin", "2026-11-20T21:00:00+00:00", "UTC"),
    ],
)
def test_a_time_is_recorded_with_its_offset_in_her_zone(
    text: str, zone: str, iso: str, recorded_zone: str
) -> None:
    found = found_at(text, zone)
    assert (found.iso, found.zone, found.as_given) == (iso, recorded_zone, text)


def test_words_that_are_not_an_iso_date_are_kept_as_written_and_not_guessed() -> None:
    for text in ("20 November 2026, 9 pm", "01/02/2026", "last night"):
        found = found_at(text, "Europe/London")
        assert (found.as_given, found.iso, found.zone) == (text, None, None)
        assert "not a date and time unmask could read" in found.shown
    assert found_at("   ", "Europe/London").shown == ""


def test_the_default_zone_is_this_computers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert local_zone_name() == "Asia/Tokyo"
    assert found_at("2026-11-20 09:00").iso == "2026-11-20T09:00:00+09:00"


def test_an_unknown_zone_is_a_clear_error() -> None:
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "Europe/"):
        with pytest.raises(TimeZoneError, match="not a time zone unmask knows"):
            found_at("2026-11-20 21:00", bad)


def test_the_package_records_the_time_with_its_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))
    out = tmp_path / "evidence"
    args = ["report", str(EXAMPLE), "-o", str(out), "--no-ask", "--no-pdf"]
    when = ["--found-at", "2026-07-01 09:30", "--time-zone", "Europe/Berlin"]
    result = CliRunner().invoke(app, [*args, *when])
    assert result.exit_code == 0, result.output
    sighting = json.loads((out / "evidence.json").read_text())["sighting"]
    assert sighting["found_at_iso"] == "2026-07-01T09:30:00+02:00"
    assert sighting["time_zone"] == "Europe/Berlin"
    assert sighting["found_at"] == "2026-07-01 09:30"
    assert "2026-07-01T09:30:00+02:00 (Europe/Berlin)" in (out / "report.html").read_text()

    bad = CliRunner().invoke(
        app, [*args[:3], str(tmp_path / "other"), *args[4:], *when[:2], "--time-zone", "Mars/Base"]
    )
    assert bad.exit_code == 2 and "not a time zone unmask knows" in bad.output
    assert "Traceback" not in bad.output and not (tmp_path / "other").exists()
