#!/bin/sh
# drift.sh -- frontline drift: the shipped suite passes against the shipped
# baseline; a changed policy is caught and named.
#
# Run by make check (FRONTLINE, top_srcdir, top_builddir set); by hand:
# FRONTLINE=./frontline top_srcdir=. sh tests/drift.sh

: "${top_srcdir:=$(dirname "$0")/..}"
: "${FRONTLINE:=${top_builddir:-.}/frontline}"
: "${FRONTLINE_MODEL:=${top_builddir:-.}/triage.model}"

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-drift.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
mkdir "$T/home" "$T/state" "$T/config" "$T/cache"
HOME=$T/home XDG_CACHE_HOME=$T/cache XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
FRONTLINE_DATADIR=$top_srcdir
export HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_CONFIG_HOME FRONTLINE_DATADIR FRONTLINE_MODEL
unset FRONTLINE_TODAY # the baseline's own date applies
LC_ALL=C
export LC_ALL
POLICY=$top_srcdir/policies/support-agent-policy.yaml

passed=0 failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
not_ok() {
	failed=$((failed + 1))
	echo "FAIL - $1"
	shift
	for f in "$@"; do
		[ -s "$f" ] && sed -n '1,30s/^/    | /p' "$f"
	done
	return 0
}
run() {
	"$@" </dev/null >"$T/out" 2>"$T/err"
	rc=$?
}
fl() { # POLICY ARGS...
	p=$1
	shift
	run "$FRONTLINE" --policy "$p" --kb "$top_srcdir/kb" --db "$T/db" "$@"
}
expect_rc() {
	if [ "$rc" -eq "$2" ]; then ok "$1: exit $2"; else not_ok "$1: exit $rc, wanted $2" "$T/out" "$T/err"; fi
}
expect_in() {
	if grep -F -q -- "$3" "$2"; then ok "$1"; else not_ok "$1 (no '$3')" "$2"; fi
}

fl "$POLICY" drift --help
expect_rc "drift --help" 0
expect_in "the help documents exit 1" "$T/out" "1: the behaviour drifted"

# The shipped suite against the shipped baseline.
fl "$POLICY" drift
expect_rc "the shipped agents against the shipped baseline" 0
fl "$POLICY" drift --progress=json
expect_rc "--progress=json" 0
expect_in "--progress=json: a step" "$T/err" '{"done":1,"total":30,"bad":0}'
expect_in "--progress=json: the last" "$T/err" '{"done":30,"total":30,"bad":0,"finished":true}'
expect_in "no regressions" "$T/out" "30 prompts"
expect_in "no regressions" "$T/out" "no regressions"
fl "$POLICY" drift --json
expect_rc "drift --json" 0
tr -d ' \t\n' <"$T/out" >"$T/min"
expect_in "--json: passed" "$T/min" '"passed":true,"regressions":[]'

# Account questions routed to the general agent, and one turn fewer before a human.
sed -e 's/intent_category: \[billing, account\]}/intent_category: [billing]}/' \
	-e 's/max_turns: 4/max_turns: 3/' "$POLICY" >"$T/changed.yaml"
if cmp -s "$POLICY" "$T/changed.yaml"; then
	not_ok "the policy edit changed nothing (the sed patterns are stale)"
fi
fl "$T/changed.yaml" drift
expect_rc "a changed policy drifts" 1
expect_in "the route change is named" "$T/out" \
	"D-account-2fa: route was resolution-agent-authenticated, now resolution-agent-general"
expect_in "the earlier escalation is named" "$T/out" \
	"D-esc-maxturns: escalation_turn was 4, now 3"
expect_in "and the reply it no longer gives" "$T/out" "D-esc-maxturns: turn 3: no reply any more"
fl "$T/changed.yaml" drift --json
expect_rc "drift --json on the changed policy" 1
tr -d ' \t\n' <"$T/out" >"$T/min"
expect_in "--json: the regression's fields" "$T/min" \
	'{"id":"D-account-2fa","field":"route","baseline":"resolution-agent-authenticated","current":"resolution-agent-general"'

# --update writes a baseline the changed agents then pass against.
fl "$T/changed.yaml" drift --update --baseline "$T/base.json"
expect_rc "--update" 0
expect_in "the baseline names the agent version" "$T/base.json" '"version":'
expect_in "the baseline keeps its date" "$T/base.json" '"today":'
fl "$T/changed.yaml" drift --baseline "$T/base.json"
expect_rc "the changed agents against their own baseline" 0
fl "$POLICY" drift --baseline "$T/base.json"
expect_rc "and the shipped agents drift from it" 1

# A suite prompt without a baseline entry is a regression.
cp "$top_srcdir/data/drift/suite.jsonl" "$T/suite.jsonl"
echo '{"id":"D-new","messages":[{"role":"customer","text":"What are your support hours?"}]}' >>"$T/suite.jsonl"
fl "$POLICY" drift --suite "$T/suite.jsonl"
expect_rc "a new prompt" 1
expect_in "the new prompt is named" "$T/out" "D-new: no baseline for this prompt"

# Bad input.
printf '{"id":"x","messages":[{"role":"customer","text":"hi"}]}\nnot json\n' >"$T/bad.jsonl"
fl "$POLICY" drift --suite "$T/bad.jsonl"
expect_rc "a bad suite line" 65
expect_in "the bad line is named" "$T/err" "bad.jsonl:2: not JSON"
echo '{"version":"x"}' >"$T/badbase.json"
fl "$POLICY" drift --baseline "$T/badbase.json"
expect_rc "a baseline without prompts" 65
fl "$POLICY" drift --baseline "$T/none.json"
expect_rc "a missing baseline" 66
fl "$POLICY" drift --suite "$T/none.jsonl"
expect_rc "a missing suite" 66
printf 'escalation: [\n' >"$T/broken.yaml"
fl "$T/broken.yaml" drift
expect_rc "a broken policy" 78
fl "$POLICY" drift --bogus
expect_rc "an unknown option" 64

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
