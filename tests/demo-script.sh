#!/bin/sh
# demo-script.sh -- keeps the demo honest: every simulated customer of
# data/demo/customers.yaml is played through `frontline chat --json` on the
# shipped policy, knowledge base and tool fixture, and its expect: annotation
# (escalated or not and why, stale facts, tools run or never planned, words
# never said) is checked against the turns. When the knowledge base, the
# policy or the engine change what the demo shows, this fails and says which
# customer no longer shows what it claims.
#
# Run by make check; by hand:
#   top_srcdir=. top_builddir=. sh tests/demo-script.sh
# DEMO_SCRIPT=FILE checks another script. The script is read by
# tests/check_demo_sim, with the loader the console uses.
: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"
: "${FRONTLINE:=$top_builddir/frontline}"
: "${FRONTLINE_MODEL:=$top_builddir/triage.model}"
: "${DEMO_SCRIPT:=$top_srcdir/data/demo/customers.yaml}"
READER=$top_builddir/tests/check_demo_sim
FIXTURE=$top_srcdir/data/fixtures/customers.json

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-demo.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
mkdir "$T/home" "$T/state" "$T/cache" "$T/config"
HOME=$T/home XDG_STATE_HOME=$T/state XDG_CACHE_HOME=$T/cache XDG_CONFIG_HOME=$T/config
FRONTLINE_TODAY=2026-11-24 FRONTLINE_DATADIR=$top_srcdir
export HOME XDG_STATE_HOME XDG_CACHE_HOME XDG_CONFIG_HOME FRONTLINE_TODAY FRONTLINE_DATADIR \
	FRONTLINE_MODEL
LC_ALL=C
export LC_ALL

[ -x "$READER" ] || { echo "$READER is not built (make check builds it)"; exit 99; }
"$READER" --list "$DEMO_SCRIPT" >"$T/list" || exit 1

passed=0 failed=0 n=0
tab=$(printf '\t')
while IFS=$tab read -r i id tier; do
	n=$((n + 1))
	"$READER" --messages "$DEMO_SCRIPT" "$i" >"$T/in-$i" || exit 99
	"$FRONTLINE" --policy "$top_srcdir/policies/support-agent-policy.yaml" \
		--kb "$top_srcdir/kb" --db "$T/db-$i.sqlite" --backend offline \
		chat --json --customer "$id" --tier "$tier" --fixture "$FIXTURE" \
		<"$T/in-$i" >"$T/out-$i" 2>"$T/err-$i"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL - $id: frontline chat exited $rc"
		sed 's/^/    | /' "$T/err-$i"
		failed=$((failed + 1))
		continue
	fi
	"$READER" --verify "$DEMO_SCRIPT" "$i" "$FIXTURE" <"$T/out-$i" >"$T/verdict-$i"
	rc=$?
	cat "$T/verdict-$i"
	p=$(grep -c '^ok - ' "$T/verdict-$i")
	f=$(grep -c '^FAIL - ' "$T/verdict-$i")
	[ $rc -eq 0 ] || [ "$f" -gt 0 ] || f=1
	passed=$((passed + p))
	failed=$((failed + f))
done <"$T/list"
[ "$n" -gt 0 ] || { echo "FAIL - no customers in $DEMO_SCRIPT"; failed=$((failed + 1)); }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
