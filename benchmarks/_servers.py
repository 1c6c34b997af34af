"""Servers the ingest benchmark loads: Sen itself, and a no-op peer on the same framework.

Run as ``python benchmarks/_servers.py sen|noop DATA_DIR PORT``; both use the
same uvicorn settings (uvloop, httptools, no access log), so their ratio shows
what Sen's validation and durable storage cost on top of the framework.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response


def noop_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/batch")
    async def batch(request: Request) -> Response:
        await request.body()
        return Response(b'{"success":true}', media_type="application/json")

    return app


def sen_app(data_dir: Path) -> FastAPI:
    from sen.config import get_settings
    from sen.web.app import create_app

    return create_app(get_settings(data_dir=data_dir))


def main() -> None:
    kind, data_dir, port = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    app = noop_app() if kind == "noop" else sen_app(data_dir)
    gc.freeze()  # the same collector settings as `sen serve`
    gc.set_threshold(100_000, 50, 100)
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
