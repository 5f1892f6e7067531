#!/bin/sh
# replay.sh -- frontline replay end to end: the report, --out, bad lines, exit
# codes, --json, progress and the stored run.
#
# Run by make check (FRONTLINE, top_srcdir, top_builddir set); by hand:
# FRONTLINE=./frontline top_srcdir=. sh tests/replay.sh
# Prints "ok"/"FAIL" per check and "N passed, M failed" last.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${FRONTLINE:=${top_builddir:-.}/frontline}"
: "${FRONTLINE_MODEL:=${top_builddir:-.}/triage.model}"

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-replay.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
mkdir "$T/home" "$T/state" "$T/config" "$T/cache"
HOME=$T/home XDG_CACHE_HOME=$T/cache XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
FRONTLINE_TODAY=2026-11-24 FRONTLINE_DATADIR=$top_srcdir
export HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_CONFIG_HOME FRONTLINE_TODAY FRONTLINE_DATADIR
export FRONTLINE_MODEL
LC_ALL=C
export LC_ALL
TICKETS=$top_srcdir/tests/fixtures/replay/tickets.jsonl
DB=$T/replay.db

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
		[ -s "$f" ] && sed -n '1,20s/^/    | /p' "$f"
	done
	return 0
}
run() {
	"$@" <"${STDIN:-/dev/null}" >"$T/out" 2>"$T/err"
	rc=$?
}
fl() {
	run "$FRONTLINE" --policy "$top_srcdir/policies/support-agent-policy.yaml" \
		--kb "$top_srcdir/kb" --db "$DB" "$@"
}
expect_rc() { # NAME WANT
	if [ "$rc" -eq "$2" ]; then ok "$1: exit $2"; else not_ok "$1: exit $rc, wanted $2" "$T/out" "$T/err"; fi
}
expect_in() { # NAME FILE FIXED-STRING
	if grep -F -q -- "$3" "$2"; then ok "$1"; else not_ok "$1 (no '$3')" "$2"; fi
}
expect_not_in() { # NAME FILE FIXED-STRING
	if grep -F -q -- "$3" "$2"; then not_ok "$1 ('$3' found)" "$2"; else ok "$1"; fi
}
# runs of the store, counted with python3's sqlite3 (or the sqlite3 shell)
count_rows() { # TABLE
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from " + sys.argv[2]).fetchone()[0])' "$DB" "$1"
	else
		sqlite3 "$DB" "select count(*) from $1"
	fi
}

fl replay --help
expect_rc "replay --help" 0
expect_in "the help names --progress" "$T/out" "--progress=json"

# Bad lines are named with their line numbers; the good ones are replayed.
fl replay --out "$T/results.jsonl" "$TICKETS"
expect_rc "a file with bad lines" 65
expect_in "line 2 is not JSON" "$T/err" "tickets.jsonl:2: not JSON"
expect_in "line 4 has a bad role" "$T/err" 'tickets.jsonl:4: messages[0]: role "bot" is not customer or human'
expect_not_in "the blank line 5 is not a bad line" "$T/err" "tickets.jsonl:5:"
expect_in "the run went on" "$T/out" "Replay of 3 tickets (2 bad lines skipped)"
expect_in "the report has the escalation agreement" "$T/out" "Escalation (3 labelled)"
expect_in "the report has the sweep" "$T/out" "Threshold sweep"
expect_in "the report says where the run is stored" "$T/out" "Stored as replay run 1"
n=$(wc -l <"$T/results.jsonl")
if [ "$n" -eq 3 ]; then ok "--out: one line per replayed ticket"; else not_ok "--out has $n lines" "$T/results.jsonl"; fi
ids=$(sed 's/^{"id":"\([^"]*\)".*/\1/' "$T/results.jsonl" | tr '\n' ' ')
if [ "$ids" = "T-1 T-3 T-5 " ]; then ok "--out: the tickets in order"; else not_ok "--out ids: $ids" "$T/results.jsonl"; fi
for field in '"agent_escalated":true' '"escalation_reason":"legal-language-detected"' \
	'"escalation_turn":1' '"agreement":{"category":true,"escalation":true' \
	'"sweep":{"min_confidence"' '"customer":{"id":"C-42","tier":"premium"}' \
	'"name":"get_order_status"' '"reply_similarity":{"f1":'; do
	expect_in "--out has $field" "$T/results.jsonl" "$field"
done
if [ "$(count_rows replay_runs)" = 1 ] && [ "$(count_rows replay_results)" = 3 ]; then
	ok "the run and its 3 results are stored"
else
	not_ok "stored: $(count_rows replay_runs) runs, $(count_rows replay_results) results"
fi

# --json: the report's fields.
fl replay --json --no-store "$TICKETS"
expect_rc "--json with bad lines" 65
if command -v python3 >/dev/null 2>&1; then
	if python3 - "$T/out" <<'PY'; then ok "--json: the report's fields and figures"; else not_ok "--json report" "$T/out"; fi
import json, sys
r = json.load(open(sys.argv[1]))
assert r["tickets"] == 3 and r["bad_lines"] == 2, r
assert r["triage"]["labelled"] == 3 and r["triage"]["accuracy"] == 1, r["triage"]
assert "confusion" in r["triage"] and "macro_f1" in r["triage"]
e = r["escalation"]
assert (e["tp"], e["fp"], e["fn"], e["tn"]) == (1, 0, 0, 2), e
assert e["reasons"] == {"legal-language-detected": 1}, e
assert e["by_turn"] == {"1": 1}, e
assert "billing" in e["by_category"]
assert r["reply_similarity"]["turns"] == 2 and 0 < r["reply_similarity"]["f1"] < 1
assert r["outcomes"]["csat_by_path"]["human"]["mean"] == 4
assert r["outcomes"]["recontact"]["rate"] == 0.5
s = r["sweep"]
assert len(s["points"]) == 19 and s["target_agreement"] == 0.8
assert s["points"][0]["threshold"] == 0.05 and s["points"][-1]["threshold"] == 0.95
assert "run" not in r  # --no-store
for k in ("violations", "prohibited_phrases", "tools"):
    assert k in r, k
PY
else
	expect_in "--json: the sweep" "$T/out" '"sweep"'
fi
if [ "$(count_rows replay_runs)" = 1 ]; then ok "--no-store stores nothing"; else not_ok "--no-store stored a run"; fi

# Only good lines, from standard input: exit 0.
grep -v -e '"T-2"' -e '"bot"' "$TICKETS" >"$T/good.jsonl"
STDIN=$T/good.jsonl fl replay --json -
expect_rc "a good file on standard input" 0
expect_in "stdin is stored under its name" "$T/out" '"run":'
STDIN=
fl replay --limit 1 --json --no-store "$T/good.jsonl"
expect_rc "--limit 1" 0
tr -d ' \t\n' <"$T/out" >"$T/min"
expect_in "--limit 1 replays one ticket" "$T/min" '"tickets":1,'
fl replay --target-agreement 1 --json --no-store "$T/good.jsonl"
tr -d ' \t\n' <"$T/out" >"$T/min"
expect_in "--target-agreement is in the report" "$T/min" '"target_agreement":1,'

# Progress for the console: one JSON line per step, counted up front.
fl replay --progress=json --no-store "$TICKETS"
expect_in "progress: a step" "$T/err" '{"done":1,"total":5,"bad":0}'
expect_in "progress: the last" "$T/err" '{"done":5,"total":5,"bad":2,"finished":true}'
fl replay --no-store "$TICKETS"
expect_not_in "no terminal, no progress bar" "$T/err" "replay ["

# Usage and input errors.
fl replay --no-store "$T/nonexistent.jsonl"
expect_rc "a missing file" 66
fl replay
expect_rc "no file" 64
fl replay --progress=bar "$TICKETS"
expect_rc "--progress takes json" 64
fl replay --target-agreement 1.5 "$TICKETS"
expect_rc "--target-agreement out of range" 64
fl replay --limit 0 "$TICKETS"
expect_rc "--limit 0" 64

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
