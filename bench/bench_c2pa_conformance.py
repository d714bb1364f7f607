"""C2PA conformance: how often `unmask verify` reaches the state the shared conformance files'
sources document (`c2pa/expected.csv`: valid, invalid or none), and whether each failure is
explained as c2pa-python (c2pa-rs) explains its status code. Uses the trust unmask uses by
default (the shipped C2PA trust list), in a temporary unmask home.
Run: .venv/bin/python bench/bench_c2pa_conformance.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

import c2pa

from unmask.provenance.credentials import CredentialsError, offline_context, read_credentials
from unmask.provenance.explain import CONTENT_CHANGED, explain_code
from unmask.provenance.trust import TrustAnchors, load_trust

STATES_FOR = {"valid": {"valid_untrusted", "trusted"}, "invalid": {"invalid"}, "none": {"none"}}


def library_failures(path: Path, trust: TrustAnchors) -> list[tuple[str, str]] | None:
    try:
        reader = c2pa.Reader(str(path), context=offline_context(trust))
    except c2pa.C2paError:
        return None
    with reader:
        results = reader.get_validation_results() or {}
    failures = (results.get("activeManifest") or {}).get("failure") or []
    return [(str(f["code"]), str(f.get("explanation", ""))) for f in failures]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = ap.parse_args()
    os.environ["UNMASK_HOME"] = tempfile.mkdtemp()
    folder = args.data / "c2pa"
    trust = load_trust()
    with (folder / "expected.csv").open(encoding="utf-8") as handle:
        expected = {r["file"]: r["expected_state"] for r in csv.DictReader(handle)}

    agree, documented, disagreements = 0, 0, []
    explained, wrong, refused = 0, [], []
    states: dict[str, int] = {}
    started = time.perf_counter()
    for path in sorted(folder.iterdir()):
        if path.suffix in (".csv", ".md", ".json"):
            continue
        try:
            report = read_credentials(path, trust=trust)
        except CredentialsError as exc:
            states["error"] = states.get("error", 0) + 1
            if expected.get(path.name) in STATES_FOR:
                documented += 1
                disagreements.append(
                    f"{path.name}: expected {expected[path.name]}, error ({exc.message})"
                )
            continue
        states[report.state] = states.get(report.state, 0) + 1
        want = expected.get(path.name)
        if want in STATES_FOR:
            documented += 1
            if report.state in STATES_FOR[want]:
                agree += 1
            else:
                codes = ", ".join(f.code for f in report.failures) or "-"
                disagreements.append(f"{path.name}: expected {want}, got {report.state} ({codes})")
        library = library_failures(path, trust)
        if library is None:  # the library raised: a failure is named from its error
            if report.failures:
                refused.append(f"{path.name}: {report.failures[0].code}")
            continue
        ours = [f for f in report.failures + report.unchecked if f.where == "this file"]
        if {c for c, _ in library} != {f.code for f in ours}:
            wrong.append(
                f"{path.name}: codes {sorted(c for c, _ in library)} vs "
                f"{sorted(f.code for f in ours)}"
            )
        for failure in ours:
            explained += 1
            said = next((e for c, e in library if c == failure.code), "")
            if failure.meaning != explain_code(failure.code, said) or (
                failure.meaning.startswith(CONTENT_CHANGED) and "do not match" not in said
            ):
                wrong.append(f"{path.name}: {failure.code} as {failure.meaning!r} ({said})")
    elapsed = time.perf_counter() - started

    print(f"trust: the C2PA trust list as of {trust.c2pa_list.as_of if trust.c2pa_list else '-'}")
    print(f"states: {dict(sorted(states.items()))}")
    print(f"documented states reached: {agree} of {documented} ({100 * agree / documented:.1f} %)")
    for line in disagreements:
        print(f"  differs: {line}")
    print(f"failures explained: {explained}, wrong explanations: {len(wrong)}")
    for line in wrong:
        print(f"  wrong: {line}")
    print(f"refused by the library with an error, named from it: {len(refused)}")
    for line in refused:
        print(f"  refused: {line}")
    print(f"time: {elapsed:.1f} s for {sum(states.values())} files")


if __name__ == "__main__":
    main()
