"""Building an evidence package: scan and hash each file, write the record, the report, the hash
list and the takedown requests, then seal everything.

Layout of a package (all paths relative to its folder):

    README.txt            what the package is and how to check it
    evidence.json         the machine-readable record (scan results, hashes, sightings, versions)
    hashes.csv            hashes only, for hash-sharing services and platforms (no media)
    report.html / .pdf    the report: plain words first, then the details
    pictures/             previews and maps (blurred unless --reveal)
    takedown/             one .txt and one .pdf per takedown request
    media/                the files themselves, only with --include-media
    signing-key.pub.pem, manifest.json, manifest.sig   the seal (see `unmask.report.signing`)

The package is written into a hidden folder beside the target and moved into place only when it
is complete and sealed, so an interrupted run never leaves a half package that looks whole.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from unmask import __version__
from unmask.compare.result import Comparison
from unmask.config import ScanConfig
from unmask.errors import UnmaskError
from unmask.hashing import (
    VPDQ_SECONDS_PER_HASH,
    FileHashes,
    VpdqFrame,
    file_md5,
    file_sha256,
    hash_file,
    pdq,
)
from unmask.report import pictures
from unmask.report.comparison import (
    comparison_line,
    comparison_record,
    comparison_view,
    strip_folders,
)
from unmask.report.plaintext import wrap
from unmask.report.render import RenderError, render_html, text_document_html, write_pdf
from unmask.report.routes import choose_routes, load_directory, routes_text
from unmask.report.signing import MANIFEST, SealingKey, load_or_create_key, seal
from unmask.report.takedown import (
    NOTICE_KINDS,
    NOTICE_TITLES,
    Answers,
    EvidenceSummary,
    missing_elements,
    render_notice,
    why_not_written,
)
from unmask.report.timeline import timeline_chart
from unmask.report.times import found_at as read_found_at
from unmask.report.timestamp import TOKEN as TIMESTAMP_TOKEN
from unmask.report.timestamp import request_timestamp
from unmask.result import ScanResult
from unmask.terminal import file_name_part
from unmask.video_hashing import VpdqHasher

EVIDENCE_FORMAT = "unmask-evidence/1"
ROUTES_FILE = "takedown/where-to-send.txt"


class PackageError(UnmaskError):
    code = "report_error"


@dataclass
class Sighting:
    """Where and when the person found the media (what she tells us; not checked)."""

    urls: list[str] = field(default_factory=list)
    found_at: str = ""
    """When she found it, as she wrote it."""
    notes: str = ""
    found_at_iso: str = ""
    """The same as ISO 8601 with its offset from UTC, when it could be read
    (`unmask.report.times.found_at`); empty otherwise."""
    time_zone: str = ""
    """The time zone it was read in (IANA name, or "UTC+01:00")."""

    @classmethod
    def from_answers(
        cls, urls: list[str], found_at: str, notes: str, time_zone: str | None = None
    ) -> Sighting:
        """A sighting whose time is read in `time_zone` (default: this computer's zone)."""
        found = read_found_at(found_at, time_zone)
        return cls(
            urls=urls,
            found_at=found.as_given,
            notes=notes,
            found_at_iso=found.iso or "",
            time_zone=found.zone or "",
        )


@dataclass
class EvidenceItem:
    """One file: where it is on disk, what the scan found, and its hashes."""

    path: Path
    name: str
    result: ScanResult
    hashes: FileHashes | None = None
    hash_error: str | None = None
    comparison: Comparison | None = None
    """The comparison with the original she named (`unmask report --original`)."""
    comparison_pictures: dict[str, tuple[Path, Path]] | None = None
    """Its evidence pictures when already drawn (blurred, sharp), as the web app keeps them;
    otherwise they are drawn from the comparison's maps."""


@dataclass
class PackageOptions:
    reveal: bool = False
    """Include sharp previews and maps instead of blurred ones."""
    include_media: bool = False
    """Copy the files themselves into media/ (by default only their hashes travel)."""
    notices: tuple[str, ...] = NOTICE_KINDS
    make_zip: bool = False
    pdf: bool = True
    face_swap_model: Path | None = None
    """The face model the scan used when not the shipped one (recorded with its hash)."""
    tsa_url: str | None = None
    """An RFC 3161 timestamp authority to stamp the seal (`unmask.report.timestamp`); None
    (the default) sends nothing anywhere."""


@dataclass
class BuiltPackage:
    folder: Path
    fingerprint: str
    files: list[str]
    zip_path: Path | None = None
    incomplete_notices: dict[str, list[str]] = field(default_factory=dict)
    notices: list[dict[str, Any]] = field(default_factory=list)
    """Each notice asked for: kind, title, text (empty when left out), txt, missing, left_out."""
    left_out_notices: dict[str, str] = field(default_factory=dict)
    """Notice kind -> why it was asked for but not written (a DMCA notice without her owning
    the photo used); the report and README.txt say so too."""
    """Notice kind -> the questions still unanswered (their places are marked in the text)."""
    warnings: list[str] = field(default_factory=list)


def gather(
    paths: Iterable[Path],
    config: ScanConfig,
    on_file: Callable[[Path], None] | None = None,
    originals: Sequence[Path] = (),
) -> list[EvidenceItem]:
    """Scan (keeping maps for the report) and hash each file. Bad files keep their error.

    With `originals`, each file is also compared with them (`unmask.compare`): an `altered`
    outcome becomes the scan's strong finding, and the comparison its own report section. An
    original that cannot be read is a warning on that file, not an error of the package."""
    from dataclasses import replace

    from unmask.compare.scan_finding import add_comparison
    from unmask.scan import Scanner

    # The preview comes from the scan's frames, and a video's vPDQ from the scan's decoding
    # pass (every frame decoded once for both): the file is not decoded again for the report.
    scanner = Scanner(replace(config, keep_maps=True, keep_preview=True))
    items = []
    for path in paths:
        if on_file is not None:
            on_file(path)
        hasher = VpdqHasher(VPDQ_SECONDS_PER_HASH, pdq)
        result = scanner.scan(path, tap=hasher)
        comparison = None
        if originals:
            comparison = add_comparison(result, path, list(originals), config, keep_maps=True)
            strip_folders(result.findings)
        item = evidence_item(Path(path), Path(path).name, result, hasher)
        item.comparison = comparison
        items.append(item)
    return items


def evidence_item(
    path: Path, name: str, result: ScanResult, hasher: VpdqHasher | None = None
) -> EvidenceItem:
    """A scanned file with its hashes (or why they could not be computed). `hasher`: the tap
    that hashed a video during its scan; without one (or for a picture) the file is hashed
    here."""
    item = EvidenceItem(path=path, name=name, result=result)
    if not result.ok:
        return item
    try:
        if hasher is not None and hasher.started and result.sha256:
            vpdq = [VpdqFrame(*frame) for frame in hasher.frames()]
            item.hashes = FileHashes(
                path=str(path), kind="video", sha256=result.sha256, md5=file_md5(path), vpdq=vpdq
            )
        else:
            item.hashes = hash_file(path)
    except UnmaskError as exc:
        item.hash_error = exc.message
    return item


def build_package(
    items: list[EvidenceItem],
    out: Path,
    sighting: Sighting | None = None,
    answers: Answers | None = None,
    options: PackageOptions | None = None,
    key: SealingKey | None = None,
) -> BuiltPackage:
    """Write, seal and move into place the evidence package for `items` at `out`."""
    if not items:
        raise PackageError("no files to report on")
    options = options or PackageOptions()
    sighting = sighting or Sighting()
    answers = answers or Answers()
    # One list of locations: those given as --url and those in the answers, in both places.
    urls = list(dict.fromkeys([*sighting.urls, *answers.urls]))
    sighting.urls, answers.urls = urls, list(urls)
    check_target(out, options.make_zip)
    key = key or load_or_create_key()
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        notices, warnings = _write(work, items, sighting, answers, options, key, created_at)
        seal(work, key, created_at)
        if options.tsa_url:
            token = request_timestamp((work / MANIFEST).read_bytes(), options.tsa_url)
            (work / TIMESTAMP_TOKEN).write_bytes(token)
        if out.exists():
            out.rmdir()  # _check_target allowed only an empty folder
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BuiltPackage(
        folder=out,
        fingerprint=key.fingerprint,
        files=sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()),
        zip_path=zip_package(out) if options.make_zip else None,
        incomplete_notices={n["kind"]: n["missing"] for n in notices if n["missing"]},
        notices=notices,
        left_out_notices={n["kind"]: n["left_out"] for n in notices if n["left_out"]},
        warnings=warnings,
    )


def check_target(out: Path, make_zip: bool = False) -> None:
    """Refuse a target that holds anything already: a package is never mixed with other files.
    Called before the (slow) scans, and again just before writing."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise PackageError(
            f"{out} already exists and is not an empty folder",
            "choose a new folder with -o; an evidence package is never mixed with other files",
        )
    zipped = zip_path_for(out)
    if make_zip and zipped.exists():
        raise PackageError(f"{zipped} already exists", "choose another folder name with -o")


def _write(
    folder: Path,
    items: list[EvidenceItem],
    sighting: Sighting,
    answers: Answers,
    options: PackageOptions,
    key: SealingKey,
    created_at: str,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Write every file of the package into `folder`; returns the takedown requests written and
    warnings (a PDF that could not be laid out)."""
    warnings: list[str] = []
    (folder / "pictures").mkdir()
    views = [_item_view(folder, index, item, options) for index, item in enumerate(items, start=1)]
    if options.include_media:
        (folder / "media").mkdir()
        for index, item in enumerate(items, start=1):
            if item.path.is_file():
                name = f"{index:02d}-{file_name_part(item.name, 'file')}"
                shutil.copy2(item.path, folder / "media" / name)
    evidence = _evidence_record(items, views, sighting, options, key, created_at)
    (folder / "evidence.json").write_text(
        json.dumps(evidence, indent=2, ensure_ascii=False) + "\n", "utf-8"
    )
    _write_hash_list(folder / "hashes.csv", items)
    summary = EvidenceSummary(
        files=[(item.name, item.result.sha256 or "") for item in items if item.result.sha256],
        # Only what was flagged is quoted: her request never rests on "no signs found".
        verdict_lines=[_verdict_line(item) for item in items if item.result.flagged],
        analysed_at=created_at,
        tool=f"Unmask {__version__}",
        signing_key_fingerprint=key.fingerprint,
        flagged=any(item.result.flagged for item in items),
        perceptual=_perceptual(items),
        comparisons=[
            comparison_line(item.comparison)
            for item in items
            if item.comparison is not None and item.comparison.outcome == "altered"
        ],
    )
    notices = _write_notices(folder, options, answers, summary)
    routes = choose_routes(answers)
    if notices:
        (folder / ROUTES_FILE).write_text(routes_text(answers), "utf-8")
    context = {
        "created_at": created_at,
        "version": __version__,
        "fingerprint": key.fingerprint,
        "items": views,
        "sighting": sighting,
        "reveal": options.reveal,
        "include_media": options.include_media,
        "notices": notices,
        "routes": routes if notices else [],
        "open_questions": _union(n["missing"] for n in notices),
        "routes_file": ROUTES_FILE,
        "timestamped": bool(options.tsa_url),
        "routes_directory": load_directory(),
        "preview_captions": pictures.PREVIEW_CAPTION,
        "checks_run": _union(i.result.verdict.checks_run for i in items if i.result.verdict),
        "not_covered": _union(i.result.verdict.not_covered for i in items if i.result.verdict),
    }
    report_html = render_html("report.html", **context)
    (folder / "report.html").write_text(report_html, "utf-8")
    (folder / "README.txt").write_text(render_html("README.txt", **context), "utf-8")
    if options.pdf:
        try:
            write_pdf(report_html, folder / "report.pdf", folder)
            for notice in (n for n in notices if not n["left_out"]):
                write_pdf(
                    text_document_html(notice["title"], notice["text"]),
                    folder / notice["pdf"],
                    folder,
                )
        except RenderError as exc:
            warnings.append(f"{exc.message}; {exc.hint}")
    return notices, warnings


def _item_view(folder: Path, index: int, item: EvidenceItem, options: PackageOptions) -> dict:
    """What the report template shows for one file; writes its pictures."""
    result = item.result
    prefix = f"{index:02d}"
    view: dict[str, Any] = {
        "index": index,
        "name": item.name,
        "result": result,
        "hashes": item.hashes,
        "hash_error": item.hash_error,
        "preview": None,
        "maps": [],
        "timeline": None,
        "face_scores": {},
        "comparison": None,
    }
    if not result.ok:
        return view
    if item.comparison is not None:
        view["comparison"] = comparison_view(
            item.comparison, folder, prefix, options.reveal, item.comparison_pictures
        )
    render_picture = pictures.sharp if options.reveal else pictures.blurred
    if result.preview is not None:
        name = f"pictures/{prefix}-preview.png"
        render_picture(result.preview).save(folder / name)
        view["preview"] = name
    for finding in result.findings:
        for map_name, array in finding.maps.items():
            parts = file_name_part(finding.detector, "check"), file_name_part(map_name, "map")
            name = f"pictures/{prefix}-{parts[0]}-{parts[1]}.png"
            render_picture(np.asarray(array, dtype=np.uint8)).save(folder / name)
            title, caption = pictures.describe_map(map_name, finding)
            view["maps"].append({"file": name, "title": title, "caption": caption})
        if finding.code == "face_manipulation" and finding.track_id is not None:
            view["face_scores"][finding.track_id] = finding
    view["timeline"] = timeline_chart(result)
    return view


def _evidence_record(
    items: list[EvidenceItem],
    views: list[dict],
    sighting: Sighting,
    options: PackageOptions,
    key: SealingKey,
    created_at: str,
) -> dict[str, Any]:
    return {
        "format": EVIDENCE_FORMAT,
        "created_at": created_at,
        "tool": {"name": "unmask", "version": __version__},
        "models": _models(items, options.face_swap_model),
        "sealing_key": {"algorithm": "Ed25519", "fingerprint": key.fingerprint},
        "sighting": {
            "urls": sighting.urls,
            "found_at": sighting.found_at,
            "found_at_iso": sighting.found_at_iso or None,
            "time_zone": sighting.time_zone or None,
            "notes": sighting.notes,
        },
        "pictures_blurred": not options.reveal,
        "media_included": options.include_media,
        "items": [
            {
                "file": item.name,
                # File names only: the folders on her computer are nobody else's business.
                "hashes": {**item.hashes.to_dict(), "path": item.name} if item.hashes else None,
                "hash_error": item.hash_error,
                "pictures": [v for v in [view["preview"]] if v] + [m["file"] for m in view["maps"]],
                "scan": {**item.result.to_dict(), "path": item.name},
                "comparison": (
                    comparison_record(item.comparison, view["comparison"])
                    if item.comparison is not None and view["comparison"] is not None
                    else None
                ),
            }
            for item, view in zip(items, views, strict=True)
        ],
    }


def _models(items: list[EvidenceItem], face_swap_model: Path | None) -> dict[str, Any]:
    """Which models made the findings, with the SHA-256 of their files."""
    from unmask.models import MODEL_DIR, ModelError, model_path

    record: dict[str, Any] = {
        "face_detector": {
            "name": "mtcnn",
            "files": {p.name: file_sha256(p) for p in sorted(MODEL_DIR.glob("mtcnn_*.onnx"))},
        },
        "face_swap": None,
    }
    used = [i.result.verdict.face_model for i in items if i.result.verdict]
    card = next((model for model in used if model is not None), None)
    if card is not None:
        try:
            path = model_path("face_swap", face_swap_model)
        except ModelError:
            path = None
        record["face_swap"] = {
            "name": card.name,
            "version": card.version,
            "threshold": card.threshold,
            "file": path.name if path else None,
            "sha256": file_sha256(path) if path else None,
        }
    return record


def _write_hash_list(path: Path, items: list[EvidenceItem]) -> None:
    """One row per hash: file, signal type, hash, PDQ quality. Signal types and encodings are
    ThreatExchange's (`FileHashes.signals`: photo_/video_sha256 and _md5, pdq, vpdq as
    `vpdq_to_json`), so `unmask bank import` and HMA-style tools read the rows as they are."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "signal_type", "hash", "quality"])
        for item in items:
            if item.hashes is None:
                if item.result.sha256:  # a file that could not be decoded: kind unknown
                    writer.writerow([item.name, "sha256", item.result.sha256, ""])
                continue
            for signal, value in item.hashes.signals().items():
                quality = item.hashes.pdq_quality if signal == "pdq" else ""
                writer.writerow([item.name, signal, value, quality])


def _perceptual(items: list[EvidenceItem]) -> list[tuple[str, str, list[str]]]:
    """(file, "pdq" | "vpdq", hashes) of every file that has them, for the platform report."""
    out: list[tuple[str, str, list[str]]] = []
    for item in items:
        if item.hashes is None:
            continue
        if item.hashes.pdq is not None:
            out.append((item.name, "pdq", [item.hashes.pdq]))
        if item.hashes.vpdq:
            out.append((item.name, "vpdq", [str(frame) for frame in item.hashes.vpdq]))
    return out


def _write_notices(
    folder: Path,
    options: PackageOptions,
    answers: Answers,
    summary: EvidenceSummary,
) -> list[dict[str, Any]]:
    """Each requested takedown notice as text; `missing` lists the questions still open (each
    once), `left_out` why a notice was asked for but not written (its reason is then written
    as takedown/KIND-not-written.txt, so the package itself says why it is absent)."""
    if not options.notices:
        return []
    (folder / "takedown").mkdir()
    notices = []
    for kind in options.notices:
        name = f"takedown/{kind}"
        left_out = why_not_written(kind, answers)
        if left_out is not None:
            (folder / f"{name}-not-written.txt").write_text(wrap(left_out) + "\n", "utf-8")
            text, missing = "", []
        else:
            text = render_notice(kind, answers, summary, today=date.today())
            (folder / f"{name}.txt").write_text(text, "utf-8")
            missing = list(dict.fromkeys(e.question for e in missing_elements(kind, answers)))
        notices.append(
            {
                "kind": kind,
                "title": NOTICE_TITLES[kind],
                "text": text,
                "txt": f"{name}.txt" if left_out is None else f"{name}-not-written.txt",
                "pdf": f"{name}.pdf",
                "missing": missing,
                "left_out": left_out,
            }
        )
    return notices


def _union(lists: Iterable[list[str]]) -> list[str]:
    return list(dict.fromkeys(line for lines in lists for line in lines))


def _verdict_line(item: EvidenceItem) -> str:
    result = item.result
    if result.error:
        return f"{item.name}: could not be analysed ({result.error.message})."
    assert result.verdict is not None
    return f"{item.name}: {result.verdict.headline}"


def zip_path_for(folder: Path) -> Path:
    return folder.with_name(folder.name + ".zip")


def zip_package(folder: Path) -> Path:
    """`folder`.zip holding the package under one top folder, files in sorted order."""
    target = zip_path_for(folder)
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    os.replace(partial, target)
    return target
