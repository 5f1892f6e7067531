#!/bin/sh
# desk-pg.sh -- the console's live side (tests/check_desk, its "live" cases)
# on PostgreSQL: what other processes change reaches a desk as a delta, a
# burst to one conversation is read once, and a desk whose connection was
# lost catches up on everything -- counted in statements. On a throwaway
# loopback cluster; skips (77) without PostgreSQL unless FRONTLINE_REQUIRE_PG=1.
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
CK_RUN_CASE=live
export CK_RUN_CASE
exec sh "$top_srcdir/tests/pg-env.sh" run "$top_builddir/tests/check_desk"
