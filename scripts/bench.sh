#!/usr/bin/env bash
# Run every benchmark at one scale (default small: seconds each); the last line of each
# is its JSON figures. Usage: bash scripts/bench.sh [small|full]
set -euo pipefail
cd "$(dirname "$0")/.."
scale="${1:-small}"
for name in ingest identity clv traits segments; do
  echo "== benchmarks/${name}.py --scale ${scale}"
  .venv/bin/python "benchmarks/${name}.py" --scale "${scale}"
done
