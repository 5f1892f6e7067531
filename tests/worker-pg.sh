#!/bin/sh
# worker-pg.sh -- tests/check_worker on PostgreSQL: workers, consoles and
# takeovers sharing one database through claims and LISTEN/NOTIFY, on a
# throwaway loopback cluster. Skips (77) without PostgreSQL unless
# FRONTLINE_REQUIRE_PG=1.
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
exec sh "$top_srcdir/tests/pg-env.sh" run "$top_builddir/tests/check_worker"
