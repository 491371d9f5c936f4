#!/usr/bin/env bash
# Drops the throw-away PostgreSQL databases (selah_t_*) that HTTP tests create. Quiet and
# harmless when PostgreSQL is not reachable: the tests themselves will then say what is wrong.
set -u
url="${PG_TEST_URL:-postgres://postgres@127.0.0.1:5432}"
command -v psql >/dev/null 2>&1 || exit 0
dbs=$(psql "$url/postgres" -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'selah\_t\_%'" 2>/dev/null) || exit 0
for db in $dbs; do
  psql "$url/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
done
exit 0
