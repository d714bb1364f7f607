"""When she found it, as a time a platform or the police can rely on: ISO 8601 with its offset
from UTC, in the time zone she names (by default this computer's).

    found = found_at("2026-11-20 21:00", "Europe/London")
    found.iso      # "2026-11-20T21:00:00+00:00"
    found.zone     # "Europe/London"

Only ISO 8601 dates and times are read ("2026-11-20", "2026-11-20 21:00",
"2026-11-20T21:00+01:00"): a guess at "01/02/2026" could be January or February, and a wrong
date in evidence is worse than none. Anything else is kept exactly as written, marked as not
read, so nothing she typed is lost.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from unmask.errors import UnmaskError

ZONEINFO_ROOT = "zoneinfo/"
"""How the system's time zone link (/etc/localtime) names its IANA zone: the part after it."""


class TimeZoneError(UnmaskError):
    code = "invalid_time_zone"


@dataclass(frozen=True)
class FoundAt:
    """When she found it: as she wrote it, and as ISO 8601 with offset when it could be read."""

    as_given: str
    iso: str | None
    zone: str | None
    """The IANA zone name the time was read in (or "UTC+01:00" for a bare offset)."""

    @property
    def shown(self) -> str:
        """One line for the report: the ISO time and zone, or her words marked as not read."""
        if self.iso:
            return f"{self.iso} ({self.zone})" if self.zone else self.iso
        if self.as_given:
            return f"{self.as_given} (as written: not a date and time unmask could read)"
        return ""


def local_zone_name() -> str:
    """This computer's time zone: the TZ variable, the /etc/localtime link's IANA name, or the
    current offset from UTC when neither names one."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name and _zone(name) is not None:
        return name
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        target = ""
    if ZONEINFO_ROOT in target:
        name = target.split(ZONEINFO_ROOT, 1)[1]
        if _zone(name) is not None:
            return name
    return _offset_name(datetime.now().astimezone().utcoffset() or timedelta(0))


def zone_named(name: str) -> tzinfo:
    """The time zone of an IANA name ("Europe/Berlin") or "UTC"; a clear error otherwise."""
    zone = _zone(name.strip())
    if zone is None:
        raise TimeZoneError(
            f"{name!r} is not a time zone unmask knows",
            "use an IANA name such as Europe/London, America/New_York or UTC",
        )
    return zone


def found_at(text: str, zone_name: str | None = None) -> FoundAt:
    """Read her answer to "when did you find it?" in `zone_name` (default: this computer's).
    A time that carries its own offset keeps it; a date alone means the start of that day."""
    given = " ".join(text.split())
    if not given:
        return FoundAt("", None, None)
    name = zone_name.strip() if zone_name and zone_name.strip() else local_zone_name()
    zone = zone_named(name)
    try:
        when = datetime.fromisoformat(given)
    except ValueError:
        try:
            day = date.fromisoformat(given)
        except ValueError:
            return FoundAt(given, None, None)
        when = datetime(day.year, day.month, day.day)
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    else:
        name = _offset_name(when.utcoffset() or timedelta(0))
    return FoundAt(given, when.isoformat(timespec="seconds"), name)


def _zone(name: str) -> tzinfo | None:
    if name.upper() in ("UTC", "Z", "ETC/UTC"):
        return ZoneInfo("UTC")
    if not name or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _offset_name(offset: timedelta) -> str:
    minutes = round(offset.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return "UTC" if minutes == 0 else f"UTC{sign}{hours:02d}:{rest:02d}"
