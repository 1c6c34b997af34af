"""Load a generated retailer into Sen through the same import path users use.

Reference data first (stores, products), then customers, orders and events,
so every order line can find its product and store. Each file is imported as
its mapping says; re-running changes nothing (imports are idempotent).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from sen.ingest.importer import ImportSummary, import_file
from sen.ingest.sources import SOURCE_KINDS, ensure_source
from sen.store.analytics import DuckDBEngine

_ORDER = ("stores", "products", "customers", "orders", "events")


def importable_files(out_dir: Path) -> list[dict]:
    """The manifest's data files that have a mapping, in load order."""
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    files = [f for f in manifest["files"] if f.get("mapping") and f["kind"] in _ORDER]
    return sorted(files, key=lambda f: _ORDER.index(f["kind"]))


def load(
    out_dir: Path,
    engine: DuckDBEngine,
    ops: sa.Engine,
    *,
    quarantine_dir: Path,
    timezone: str,
    on_file: Callable[[dict], None] | None = None,
) -> list[ImportSummary]:
    """Import every file of the retailer in ``out_dir``; one summary per file."""
    summaries = []
    for entry in importable_files(out_dir):
        if on_file is not None:
            on_file(entry)
        source = entry.get("source") or "import"
        kind = source if source in SOURCE_KINDS else "import"
        ensure_source(ops, source, kind)
        summaries.append(import_file(engine, out_dir / entry["path"], out_dir / entry["mapping"],
                                     quarantine_dir=quarantine_dir, ops=ops, timezone=timezone))
    return summaries
