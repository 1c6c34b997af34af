#!/usr/bin/env bash
# Start a throw-away PostgreSQL cluster for the operational-store tests and print
# its SQLAlchemy URL. Idempotent: a cluster already answering on the port is reused.
#
#   export SEN_TEST_POSTGRES_URL="$(bash scripts/pg-test-server.sh)"
#
# Settings: SEN_PG_PORT (54329), SEN_PG_DIR (/tmp/sen-pg-test). Runs as root (via the
# `postgres` user, which the Debian package creates) or as any other user.
set -euo pipefail

PORT="${SEN_PG_PORT:-54329}"
DIR="${SEN_PG_DIR:-/tmp/sen-pg-test}"
URL="postgresql+psycopg://postgres@127.0.0.1:${PORT}/postgres"

BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [[ -z "${BIN}" || ! -x "${BIN}/initdb" ]]; then
  echo "PostgreSQL server binaries not found under /usr/lib/postgresql; install them with" \
       "'apt-get install -y postgresql'." >&2
  exit 1
fi

as_owner() {
  if [[ "$(id -u)" == "0" ]]; then
    su postgres -s /bin/bash -c "$*"
  else
    bash -c "$*"
  fi
}

if "${BIN}/pg_isready" -q -h 127.0.0.1 -p "${PORT}"; then
  echo "${URL}"
  exit 0
fi

mkdir -p "${DIR}"
if [[ "$(id -u)" == "0" ]]; then chown postgres:postgres "${DIR}"; fi
chmod 700 "${DIR}"

if [[ ! -f "${DIR}/data/PG_VERSION" ]]; then
  as_owner "'${BIN}/initdb' -D '${DIR}/data' -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >'${DIR}/initdb.log' 2>&1" || {
      cat "${DIR}/initdb.log" >&2; exit 1; }
fi

as_owner "'${BIN}/pg_ctl' -D '${DIR}/data' -l '${DIR}/server.log' -w -t 60 \
  -o \"-p ${PORT} -c listen_addresses=127.0.0.1 -k '${DIR}' -c fsync=off \
  -c synchronous_commit=off -c full_page_writes=off\" start >/dev/null" || {
    cat "${DIR}/server.log" >&2; exit 1; }

echo "${URL}"
