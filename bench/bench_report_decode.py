"""`unmask report create` on a video against `unmask scan` of the same video (issue 17, item 1):
CPU seconds of each command (user + system of the child process and its threads), its peak
resident memory, and the ratios, all in one run.

A report needs what a scan needs plus the video's vPDQ, which by Meta's definition decodes every
frame (unmask.video_hashing); `unmask hash` on the same video is that cost on its own, so
"scan + hash" is what a report costs when the two are decoded separately, and the report's
floor is about "scan + hash - the scan's own sample decoding".

Videos: the 60 s 1280x720 clip bench/bench_sampling.py makes from a face video of the
shared data (made here in a temporary folder), and any given with --video. Runs alternate
(scan, hash, report, report --no-pdf, ...) so that other work on the machine weighs on all
alike; medians of --repeat are reported.

Usage:  .venv/bin/python bench/bench_report_decode.py [--repeat 3] [--video PATH ...]
            [--before SRC]
Needs ../shared/data (or UNMASK_DATA). `--before SRC` also times another version of the code in
the same run (its `src` folder, e.g. from `git archive COMMIT src | tar -x -C /tmp/before`, put
first on PYTHONPATH); those figures are prefixed "before_".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sampling import SOURCE, make_clip

UNMASK = [sys.executable, "-m", "unmask.cli"]


def time_video(
    video: Path, repeat: int, work: Path, before: Path | None = None
) -> dict[str, object]:
    """Median CPU seconds and largest peak memory of each command on `video`, with ratios."""
    home = work / "home"
    cases = {  # "{out}": a new folder for each report
        "scan": ["scan", str(video), "-q", "--json"],
        "hash": ["hash", str(video), "--json"],
        "report_no_pdf": ["report", "create", "-o", "{out}", "--no-ask", "--no-pdf", str(video)],
        "report": ["report", "create", "-o", "{out}", "--no-ask", str(video)],
    }
    versions = {"": None} if before is None else {"": None, "before_": before}
    cpu: dict[str, list[float]] = {}
    peak: dict[str, list[int]] = {}
    for n in range(repeat):
        for name, arguments in cases.items():
            for prefix, source in versions.items():
                out = str(work / f"{prefix}{name}{n}")
                command = [out if a == "{out}" else a for a in arguments]
                seconds, kilobytes = timed(command, home, source)
                cpu.setdefault(prefix + name, []).append(seconds)
                peak.setdefault(prefix + name, []).append(kilobytes)
    median = {name: statistics.median(values) for name, values in cpu.items()}
    result: dict[str, object] = {
        "video": video.name,
        **{f"{name}_cpu_s": round(value, 2) for name, value in median.items()},
        **{f"{name}_peak_mb": round(max(values) / 1024) for name, values in peak.items()},
    }
    for prefix in versions:
        scan = median[prefix + "scan"]
        for name in ("report_no_pdf", "report", "hash"):
            result[f"{prefix}{name}_to_scan"] = round(median[prefix + name] / scan, 2)
    return result


def timed(arguments: list[str], home: Path, source: Path | None) -> tuple[float, int]:
    """CPU seconds (user + system) and peak resident KB of one command, by GNU time."""
    env = {**os.environ, "UNMASK_HOME": str(home)}
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(source), env.get("PYTHONPATH", "")])
    with tempfile.NamedTemporaryFile("r", suffix=".time") as record:
        command = ["/usr/bin/time", "-f", "%U %S %M", "-o", record.name, *UNMASK, *arguments]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode not in (0, 1):  # 1: a file flagged or not analysed
            sys.exit(f"{' '.join(arguments)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        user, system, kilobytes = record.read().split()[-3:]
    return float(user) + float(system), int(kilobytes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--video", type=Path, action="append", default=[])
    parser.add_argument("--skip-clip", action="store_true", help="only the --video files")
    parser.add_argument("--before", type=Path, help="another version's src folder, timed too")
    args = parser.parse_args()
    if not args.skip_clip and not SOURCE.exists():
        sys.exit(f"shared data not found at {SOURCE.parent}; set UNMASK_DATA")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        videos = list(args.video)
        if not args.skip_clip:
            videos.insert(0, make_clip(work / "clip60.mp4"))
        for video in videos:
            results.append(time_video(video, args.repeat, work, args.before))
            print(json.dumps(results[-1], indent=2), flush=True)
    print(json.dumps({"cpu_count": os.cpu_count(), "load_average": os.getloadavg()}))


if __name__ == "__main__":
    main()
