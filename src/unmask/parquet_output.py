"""Scan results as one Parquet table, for analysts (`unmask scan --parquet FILE`).

One row per file: the columns an analyst filters and counts on (verdict, probability, error
code, media kind, faces, findings), and the whole result as the JSON document `--jsonl` writes,
so that nothing a row leaves out is lost. Rows are written in the order of the results given.
Needs pyarrow (it comes with `unmask[ray]`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from unmask.errors import UnmaskError

INSTALL_LINE = 'pip install "unmask[ray]"'
ROWS_PER_GROUP = 4096
"""Rows per Parquet row group: small enough to stream a large corpus, large enough to compress."""


class ParquetNotAvailableError(UnmaskError):
    code = "parquet_unavailable"


def columns() -> Any:
    """The table's schema (a `pyarrow.Schema`)."""
    pa = _pyarrow()
    return pa.schema(
        [
            ("path", pa.string()),
            ("sha256", pa.string()),
            ("kind", pa.string()),
            ("width", pa.int64()),
            ("height", pa.int64()),
            ("duration_s", pa.float64()),
            ("verdict", pa.string()),
            ("probability", pa.float64()),
            ("faces", pa.int64()),
            ("findings", pa.int64()),
            ("strong_findings", pa.list_(pa.string())),
            ("error_code", pa.string()),
            ("error_message", pa.string()),
            ("skipped", pa.string()),
            ("tool_version", pa.string()),
            ("schema_version", pa.string()),
            ("started_at", pa.string()),
            ("elapsed_s", pa.float64()),
            ("result_json", pa.string()),
        ]
    )


def row(record: dict[str, Any]) -> dict[str, Any]:
    """One table row from a result as `ScanResult.to_dict()` (or a `--jsonl` line) gives it."""
    media = record.get("media") or {}
    verdict = record.get("verdict") or {}
    error = record.get("error") or {}
    findings = record.get("findings") or []
    return {
        "path": str(record.get("path")),
        "sha256": record.get("sha256"),
        "kind": media.get("kind"),
        "width": media.get("width"),
        "height": media.get("height"),
        "duration_s": media.get("duration_s"),
        "verdict": verdict.get("label"),
        "probability": verdict.get("probability"),
        "faces": len(record.get("faces") or []),
        "findings": len(findings),
        "strong_findings": [
            f"{f.get('detector')}:{f.get('code')}"
            for f in findings
            if f.get("strength") == "strong"
        ],
        "error_code": error.get("code"),
        "error_message": error.get("message"),
        "skipped": record.get("skipped"),
        "tool_version": record.get("tool_version"),
        "schema_version": record.get("schema_version"),
        "started_at": record.get("started_at"),
        "elapsed_s": record.get("elapsed_s"),
        "result_json": json.dumps(record, ensure_ascii=False),
    }


def write_parquet(target: Path, records: Iterable[dict[str, Any]]) -> int:
    """Write the results to `target` (replaced), row group by row group; return the row count."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    schema = columns()
    written = 0
    batch: list[dict[str, Any]] = []
    with pq.ParquetWriter(str(target), schema, compression="zstd") as writer:
        for record in records:
            batch.append(row(record))
            if len(batch) == ROWS_PER_GROUP:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                written += len(batch)
                batch = []
        if batch or not written:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            written += len(batch)
    return written


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise ParquetNotAvailableError(
            "--parquet needs pyarrow, which is not installed", f"install it with: {INSTALL_LINE}"
        ) from None
    return pyarrow
