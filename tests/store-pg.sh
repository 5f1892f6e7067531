#!/bin/sh
# store-pg.sh -- the store's test suite (tests/check_store) on PostgreSQL:
# the same cases as on SQLite, on a throwaway loopback cluster, plus the
# PostgreSQL specifics (schema_version, lost connections) and the
# claim/lease/takeover contract in concurrent processes.
# Skips (77) without PostgreSQL unless FRONTLINE_REQUIRE_PG=1.
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
exec sh "$top_srcdir/tests/pg-env.sh" run "$top_builddir/tests/check_store"
