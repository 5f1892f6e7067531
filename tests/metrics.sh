#!/bin/sh
# metrics.sh -- frontline metrics end to end: text, --json, --csv, filters, usage errors.
#
# Run by make check (FRONTLINE, top_srcdir set); by hand:
# FRONTLINE=./frontline top_srcdir=. sh tests/metrics.sh
# Conversations are written by frontline chat into a store in a temporary
# directory; the aggregates themselves are checked on hand-computed
# fixtures by tests/check_metrics.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${FRONTLINE:=${top_builddir:-.}/frontline}"
: "${FRONTLINE_MODEL:=${top_builddir:-.}/triage.model}"
export FRONTLINE_MODEL

POLICY=$top_srcdir/policies/support-agent-policy.yaml
KB=$top_srcdir/kb

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-metrics.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
mkdir "$T/home" "$T/state" "$T/config"
HOME=$T/home XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config FRONTLINE_TODAY=2026-11-24
export HOME XDG_STATE_HOME XDG_CONFIG_HOME FRONTLINE_TODAY
# The lexicons and rules of the triage engine: the source tree (builds may be out of tree).
FRONTLINE_DATADIR=$top_srcdir
export FRONTLINE_DATADIR
LC_ALL=C
export LC_ALL
if command -v python3 >/dev/null 2>&1; then have_python=1; else have_python=0; fi

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
		[ -s "$f" ] && sed -n '1,30s/^/    | /p' "$f" | tr '\001-\010\013-\037\177' '[?*]'
	done
	return 0
}
# fl ARGS...: the binary on the shipped policy and KB and the test's store.
fl() {
	"$FRONTLINE" --policy "${P:-$POLICY}" --kb "$KB" --db "$T/db" "$@" \
		<"${STDIN:-/dev/null}" >"$T/out" 2>"$T/err"
	rc=$?
}
expect_rc() { # NAME WANT
	if [ "$rc" -eq "$2" ]; then ok "$1: exit $2"; else not_ok "$1: exit $rc, wanted $2" "$T/out" "$T/err"; fi
}
expect_in() { # NAME FILE FIXED-STRING
	if grep -F -q -- "$3" "$2"; then ok "$1"; else not_ok "$1: no '$3' in $(basename "$2")" "$2"; fi
}
# jq_is NAME EXPR WANT: python's value of EXPR on the JSON in $T/out (as j) is WANT.
jq_is() {
	if [ "$have_python" = 0 ]; then
		ok "$1 (no python3: skipped)"
		return
	fi
	got=$(python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(json.dumps($2))" "$T/out" 2>&1)
	if [ "$got" = "$3" ]; then ok "$1"; else not_ok "$1: got $got, wanted $3" "$T/out"; fi
}

# ---------------------------------------------------------------- empty
fl metrics
expect_rc "empty store" 0
expect_in "empty: the report says so" "$T/out" "0 live sessions"
expect_in "empty: a mean with nothing under it is '-'" "$T/out" "resolved by the agent              0         0       -"
fl metrics --json
expect_rc "empty --json" 0
jq_is "empty --json: nulls, not zeros" '[j["csat_by_path"]["agent"]["mean"], j["cost"]["per_resolution_usd"], j["sessions"]]' '[null, null, 0]'
fl metrics --csv
expect_rc "empty --csv" 0
if [ "$(wc -l <"$T/out")" -eq 1 ] && head -n 1 "$T/out" | grep -q '^source,id,customer,created,'; then
	ok "empty --csv: the header alone"
else
	not_ok "empty --csv: the header alone" "$T/out"
fi

# ---------------------------------------------------------- two chats
printf 'where is my order A12345\n' >"$T/chat1"
STDIN=$T/chat1 fl chat --customer C-1001 --csat '5 quick, and "right"'
expect_rc "chat with --csat" 0
printf 'I will sue you, my lawyer is calling\n' >"$T/chat2"
STDIN=$T/chat2 fl chat --customer C-1004
expect_rc "escalated chat" 0
STDIN= fl chat --csat 6
expect_rc "chat --csat out of range" 64

fl metrics --json
expect_rc "metrics --json" 0
jq_is "--json: both live sessions" '[j["sessions"], j["live"], j["replay"]]' '[2, 2, 0]'
jq_is "--json: the legal chat escalated" 'j["escalation"]["by_reason"]' '{"legal-language-detected": 1}'
jq_is "--json: escalation rate" 'j["escalation"]["rate"]' '0.5'
jq_is "--json: the agent's own escalations" 'j["escalation"]["agent_rate"]' '0.5'
# The order was answered and nobody confirmed; the legal one left before a human came.
jq_is "--json: the endings the chats stored" 'j["endings"]' \
	'{"resolved-agent": 0, "resolved-human": 0, "abandoned": 1, "unconfirmed": 1, "open": 0}'
jq_is "--json: every aggregate is there" 'sorted(j.keys())' \
	'["cost", "coverage_gaps", "csat_by_path", "daily", "effort", "endings", "escalation", "fcr", "live", "quality", "recontact", "replay", "sessions", "unconfirmed"]'
jq_is "--json: one day" '[d["date"] for d in j["daily"]]' '["2026-11-24"]'

fl metrics --sessions --json
expect_rc "metrics --sessions --json" 0
jq_is "--sessions --json: the rating" '[s["csat_score"] for s in j]' '[5, null]'
jq_is "--sessions --json: the verbatim" 'j[0]["csat_verbatim"]' '"quick, and \"right\""'
jq_is "--sessions --json: the seed's fields" \
	'all(k in j[0] for k in ["resolved_correctly","turns","escalated","escalation_reason","retrieval_used","retrieval_freshness_days","retrieval_confidence","validation_violations","policy_flags","handle_time_seconds","tokens_consumed","cost_usd","csat_score","csat_verbatim"])' 'true'

fl metrics --csv
expect_rc "metrics --csv" 0
if [ "$(wc -l <"$T/out")" -eq 3 ]; then ok "--csv: a header and a row per session"; else not_ok "--csv: 3 lines" "$T/out"; fi
expect_in "--csv: text with a comma and quotes is quoted" "$T/out" ',5,"quick, and ""right""",'
expect_in "--csv: the escalation reason" "$T/out" ',legal-language-detected,'
if [ "$have_python" = 1 ]; then
	if python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 2, rows
assert rows[0]["csat_score"] == "5" and rows[0]["source"] == "live", rows[0]
assert rows[1]["escalated"] == "true", rows[1]
' "$T/out" 2>"$T/py.err"; then ok "--csv: parses as CSV"; else not_ok "--csv: parses as CSV" "$T/py.err"; fi
fi

fl metrics
expect_rc "text report" 0
for h in "How sessions ended" "CSAT by resolution path" "First-contact resolution" "Re-contact within 7 days" \
	"Customer effort" "Escalation" "Cost (human time at \$30.00/hour)" \
	"Knowledge and output quality" "Knowledge coverage gaps (answered below confidence 0.60)" "Daily"; do
	expect_in "text: $h" "$T/out" "$h"
done
expect_in "text: the reason" "$T/out" "legal-language-detected"
fl metrics --sessions
expect_rc "text sessions" 0
expect_in "text sessions: a row" "$T/out" "legal-language-detected"

# ------------------------------------------------- live, or replays only
# A shadow replay in the same store: its tickets are the human agents' work,
# never mixed into the live report.
fl replay "$top_srcdir/tests/data/console-replay.jsonl"
expect_rc "a replay stored (one bad line)" 65
fl metrics --json
jq_is "default: live sessions only" '[j["sessions"], j["live"], j["replay"]]' '[2, 2, 0]'
fl metrics --json --source replay
jq_is "--source replay: the tickets only" '[j["sessions"], j["live"], j["replay"]]' '[6, 0, 6]'
jq_is "--source replay: the humans' escalations (one ticket of six was)" 'j["escalation"]["rate"]' '0.166667'
cp "$T/out" "$T/report.json"
fl metrics --json --sessions --source replay
if [ "$have_python" = 1 ] && python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
shadow = sum(1 for x in s if x["agent_escalated"]) / len(s)
assert abs(r["escalation"]["agent_rate"] - shadow) < 1e-6, (r["escalation"], shadow)
' "$T/report.json" "$T/out" 2>"$T/py.err"; then
	ok "--source replay: the agent's rate is its shadow decisions'"
else
	not_ok "--source replay: the agent's rate is its shadow decisions'" "$T/py.err"
fi
fl metrics --source replay
expect_in "--source replay: says whose" "$T/out" "6 replayed tickets (the human agents' work"
expect_in "--source replay: the humans' rate is labelled so" "$T/out" "Escalation by human agents"
if grep -Eq '^  the agent, in shadow mode +[0-9.]+%$' "$T/out"; then ok "--source replay: the agent's shadow rate, labelled so"; else not_ok "--source replay: the agent's shadow rate, labelled so" "$T/out"; fi
fl metrics
expect_in "live: the agent's handoffs are labelled so" "$T/out" "handed off by the agent                          50.0%"
if grep -q "replayed\|shadow" "$T/out"; then not_ok "live: nothing of the replay" "$T/out"; else ok "live: nothing of the replay"; fi

# ------------------------------------------------------------- filters
fl metrics --json --source replay --since 2026-11-25
jq_is "--source replay --since tomorrow: none" 'j["sessions"]' '0'
fl metrics --json --source live --since 2026-11-24
jq_is "--since today" 'j["sessions"]' '2'
fl metrics --json --since 2026-11-25
jq_is "--since tomorrow" 'j["sessions"]' '0'
fl metrics --json --until 2026-11-24T00:00:00Z
jq_is "--until midnight" 'j["sessions"]' '0'
fl metrics --json --version nosuchversion
jq_is "--version" 'j["sessions"]' '0'
fl metrics --json --run 42
expect_rc "--run of no run" 66

# ------------------------------------------------------------- policy
cp "$POLICY" "$T/policy.yaml"
sed -e 's/^  coverage_confidence: 0.6/  coverage_confidence: 0.3/' \
	-e 's/^  human_cost_per_hour: 30/  human_cost_per_hour: 45/' "$POLICY" >"$T/policy.yaml"
P=$T/policy.yaml fl metrics
expect_rc "metrics under a policy's metrics section" 0
expect_in "policy: the coverage threshold" "$T/out" "below confidence 0.30"
expect_in "policy: the human cost" "$T/out" "human time at \$45.00/hour"
sed 's/^  recontact_days: 7/  recontact_days: 0/' "$POLICY" >"$T/bad.yaml"
fl policy check "$T/bad.yaml"
expect_rc "policy check: recontact_days 0" 78
expect_in "policy check: says where" "$T/err" "bad.yaml:"
P=$T/bad.yaml fl metrics
expect_rc "metrics with a bad policy" 78

# -------------------------------------------------------------- usage
for args in "--source web" "--since yesterday" "--until 2026-13-01" "--json --csv" \
	"--run 0" "--run x" "--arm blue" "--bogus" "extra"; do
	# shellcheck disable=SC2086
	fl metrics $args
	expect_rc "metrics $args" 64
done
fl metrics --help
expect_rc "metrics --help" 0
expect_in "--help lists --csv" "$T/out" "--csv"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
