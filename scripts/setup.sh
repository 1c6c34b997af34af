#!/usr/bin/env bash
# Set up Sen on this machine: system packages (when asked), a virtualenv in .venv
# and Sen with its test tools. Idempotent; safe to run again.
#
#   bash scripts/setup.sh            # Python side only (enough for the demo)
#   bash scripts/setup.sh --system   # also Chromium, ChromeDriver, PostgreSQL, wrk, Java (tests)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--system" ]]; then
  need=()
  for pkg in chromium chromium-driver postgresql wrk openjdk-17-jre-headless; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  if (( ${#need[@]} )); then
    SUDO=""; [[ "$(id -u)" == "0" ]] || SUDO="sudo"
    echo "Installing system packages: ${need[*]}"
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
      "${need[@]}" >/dev/null
  fi
fi

PY="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[dev]'
