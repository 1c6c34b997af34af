#!/usr/bin/env bash
# Set up Sen and run its main job on the embedded default: generate the demo
# retailer, load it through the import path, start the server, print URL and login.
# Extra arguments go to `sen demo up` (e.g. `--customers 10000 --port 8080`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/sen demo up "$@"
