"""``POST /api/imports``: a file upload imported through the event writer.

The running server owns the analytical store, so the import runs in the
writer's thread (``app.state.writer.run_exclusive``) between two group
commits, never beside one. Authentication is added where the router is
included.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from sen.errors import SenError
from sen.ingest.importer import events_mapping, import_file, new_load_id
from sen.ingest.mapping import load_mapping

router = APIRouter()
_SAFE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".ndjson", ".jsonl", ".json",
                  ".parquet", ".pq"}


@router.post("/api/imports")
async def create_import(
    request: Request,
    file: Annotated[UploadFile, File(description="The file to import.")],
    mapping: Annotated[str | None, Form(description="The mapping YAML text.")] = None,
    kind: Annotated[str | None, Form(description="Without a mapping: `events`.")] = None,
    source: Annotated[str | None, Form(description="Source name, for events.")] = None,
) -> dict[str, Any]:
    """Import the uploaded file; returns the import summary."""
    try:
        if mapping:
            m = load_mapping(mapping, is_text=True)
        elif kind == "events":
            m = events_mapping(source or "import")
        else:
            raise HTTPException(422, "Send `mapping` (YAML text), or kind=events and source.")
    except SenError as exc:
        raise HTTPException(422, str(exc)) from None
    suffix = Path(file.filename or "upload").suffix.lower()
    suffix = suffix if suffix in _SAFE_SUFFIXES else ".dat"
    state = request.app.state
    settings = getattr(state, "settings", None)
    quarantine_dir = Path(getattr(settings, "quarantine_dir", Path(tempfile.gettempdir())))
    timezone = getattr(settings, "timezone", "Asia/Ho_Chi_Minh")
    load_id = new_load_id()
    with tempfile.TemporaryDirectory(prefix="sen-upload-") as tmp:
        stem = Path(file.filename or "upload").stem or "upload"
        path = Path(tmp) / f"{stem}{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        ops = getattr(state, "ops", None)

        def work():  # noqa: ANN202 - runs in the writer thread
            return import_file(state.analytics, path, m, quarantine_dir=quarantine_dir,
                               ops=ops, load_id=load_id, timezone=timezone)

        try:
            summary = await run_in_threadpool(state.writer.run_exclusive, work)
        except SenError as exc:
            status = 503 if exc.transient else 422
            raise HTTPException(status, str(exc)) from None
    state.writer.note_imported(summary.load_id)
    return summary.as_dict()
