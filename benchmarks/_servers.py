"""The ingest benchmark's no-op peer: the same framework and uvicorn settings as
`sen serve` (uvloop, httptools, no access log, the same GC settings), so the ratio
of Sen to it shows what Sen's checks and durable storage cost.

Run as ``python benchmarks/_servers.py PORT``.
"""

from __future__ import annotations

import gc
import sys

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


def main() -> None:
    port = int(sys.argv[1])
    app = noop_app()
    gc.freeze()  # the same collector settings as `sen serve`
    gc.set_threshold(100_000, 50, 100)
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
