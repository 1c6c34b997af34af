#!/usr/bin/env bash
# Set up everything the tests need, start a throw-away PostgreSQL, run the suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not browser"`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --system
export SEN_TEST_POSTGRES_URL="${SEN_TEST_POSTGRES_URL:-$(bash scripts/pg-test-server.sh)}"
export OPENBLAS_NUM_THREADS=1
.venv/bin/ruff check src tests benchmarks
exec .venv/bin/python -m pytest "$@"
