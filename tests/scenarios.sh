#!/bin/sh
# scenarios.sh -- the data-driven conversation tests: every tests/scenarios/*.scn
# run through `frontline chat --json` by tests/scenario, each on a fresh store.
: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"
: "${FRONTLINE:=$top_builddir/frontline}"
: "${FRONTLINE_MODEL:=$top_builddir/triage.model}"
T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-scn.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
HOME=$T XDG_STATE_HOME=$T/state XDG_CACHE_HOME=$T/cache FRONTLINE_TODAY=2026-11-24
FRONTLINE_DATADIR=$top_srcdir
export HOME XDG_STATE_HOME XDG_CACHE_HOME FRONTLINE_TODAY FRONTLINE_DATADIR FRONTLINE_MODEL
passed=0 failed=0 n=0
for scn in "$top_srcdir"/tests/scenarios/*.scn; do
	n=$((n + 1))
	# A scenario may name its own knowledge base, policy and tool fixture,
	# relative to the source tree: "# kb: DIR", "# policy: FILE", "# fixture: FILE".
	kb=$(sed -n 's/^# kb: //p' "$scn")
	policy=$(sed -n 's/^# policy: //p' "$scn")
	fixture=$(sed -n 's/^# fixture: //p' "$scn")
	set -- --policy "$top_srcdir/${policy:-policies/support-agent-policy.yaml}" \
		--kb "$top_srcdir/${kb:-kb}" --db "$T/db-$n.sqlite"
	[ -n "$fixture" ] && set -- "$@" -- --fixture "$top_srcdir/$fixture"
	"$top_builddir/tests/scenario" "$FRONTLINE" "$scn" "$@" >"$T/out" 2>&1
	cat "$T/out"
	p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$T/out")
	f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$T/out")
	[ -n "$p" ] || { p=0; f=1; }
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
