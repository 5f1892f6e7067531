#!/bin/sh
# cli.sh -- end-to-end tests of the frontline binary.
#
# Run by make check, which sets FRONTLINE, top_srcdir and top_builddir; by
# hand: FRONTLINE=./frontline top_srcdir=. sh tests/cli.sh
# The source tree is only read (make distcheck makes it read-only): anything
# written goes to a temporary directory, which is also HOME and the XDG
# directories. Prints "ok"/"FAIL" per check and "N passed, M failed" last.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${FRONTLINE:=${top_builddir:-.}/frontline}"
: "${FRONTLINE_MODEL:=${top_builddir:-.}/triage.model}"

POLICY=$top_srcdir/policies/support-agent-policy.yaml
KB=$top_srcdir/kb
DATA=$top_srcdir/tests/data

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-cli.XXXXXX") || exit 99
bg_pid=
cleanup() {
	if [ -n "$bg_pid" ]; then
		kill "$bg_pid" 2>/dev/null
		wait "$bg_pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$T/home" "$T/cache" "$T/state" "$T/config"
HOME=$T/home XDG_CACHE_HOME=$T/cache XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
FRONTLINE_TODAY=2026-11-24
export HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_CONFIG_HOME FRONTLINE_TODAY
unset FRONTLINE_DATADIR
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
		# (control characters shown as '?': the output may hold escapes)
		[ -s "$f" ] && sed -n '1,20s/^/    | /p' "$f" | tr '\001-\010\013-\037\177' '[?*]'
	done
	return 0
}

# run CMD...: runs it with stdin from /dev/null; sets $rc, output in $T/out and $T/err.
run() {
	"$@" <"${STDIN:-/dev/null}" >"$T/out" 2>"$T/err"
	rc=$?
}

# fl ARGS...: the binary on the shipped policy and knowledge base.
fl() {
	run "$FRONTLINE" --policy "$POLICY" --kb "$KB" "$@"
}

expect_rc() { # NAME WANT
	if [ "$rc" -eq "$2" ]; then
		ok "$1: exit $2"
	else
		not_ok "$1: exit $rc, wanted $2" "$T/out" "$T/err"
	fi
}

expect_in() { # NAME FILE FIXED-STRING
	if grep -F -q -- "$3" "$2"; then
		ok "$1"
	else
		not_ok "$1: no '$3' in $(basename "$2")" "$2"
	fi
}

expect_not_in() { # NAME FILE FIXED-STRING
	if grep -F -q -- "$3" "$2"; then
		not_ok "$1: unexpected '$3' in $(basename "$2")" "$2"
	else
		ok "$1"
	fi
}

# json_ok NAME FILE: every line of FILE is a JSON document.
json_ok() {
	if [ "$have_python" = 1 ]; then
		if python3 -c '
import json, sys
for line in open(sys.argv[1]):
    json.loads(line)
' "$2" 2>"$T/json.err"; then
			ok "$1"
		else
			not_ok "$1: not JSON" "$T/json.err" "$2"
		fi
	elif grep -q '^{.*}$' "$2" && ! grep -v -q '^{.*}$' "$2"; then
		ok "$1 (no python3: checked the shape only)"
	else
		not_ok "$1: not JSON objects" "$2"
	fi
}

# json_file_ok NAME FILE: FILE is one JSON document.
json_file_ok() {
	if [ "$have_python" = 1 ]; then
		if python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$2" 2>"$T/json.err"; then
			ok "$1"
		else
			not_ok "$1: not JSON" "$T/json.err" "$2"
		fi
	elif head -n 1 "$2" | grep -q '^{' && tail -n 1 "$2" | grep -q '^}'; then
		ok "$1 (no python3: checked the shape only)"
	else
		not_ok "$1: not a JSON object" "$2"
	fi
}

# wait_for FILE FIXED-STRING [TENTHS]: waits until FILE holds the string.
wait_for() {
	n=0
	while ! grep -F -q -- "$2" "$1" 2>/dev/null; do
		n=$((n + 1))
		[ "$n" -gt "${3:-200}" ] && return 1
		sleep 0.1 2>/dev/null || sleep 1
	done
	return 0
}

# wait_lines FILE N [TENTHS]: waits until FILE has at least N lines.
wait_lines() {
	n=0
	while [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -lt "$2" ]; do
		n=$((n + 1))
		[ "$n" -gt "${3:-200}" ] && return 1
		sleep 0.1 2>/dev/null || sleep 1
	done
	return 0
}

echo "# frontline: $FRONTLINE"
echo "# sources: $top_srcdir"

# ------------------------------------------------------------- basics

run "$FRONTLINE" --help
expect_rc "--help" 0
expect_in "--help lists kb search" "$T/out" "kb search"
expect_in "--help lists policy check" "$T/out" "policy check"

run "$FRONTLINE" --version
expect_rc "--version" 0
if grep -q '^frontline [0-9][0-9.]*' "$T/out"; then ok "--version prints 'frontline VERSION'"; else
	not_ok "--version output" "$T/out"; fi

run "$FRONTLINE"
expect_rc "no command" 64

fl frobnicate
expect_rc "unknown command" 64
expect_in "unknown command is named" "$T/err" "frobnicate"

fl kb
expect_rc "'kb' without a verb" 64
expect_in "'kb' without a verb lists its verbs" "$T/err" "frontline kb search"

fl kb frobnicate
expect_rc "unknown kb verb" 64

fl policy
expect_rc "'policy' without a verb" 64

fl --backend carrier-pigeon kb search x
expect_rc "bad --backend" 64

# The console is the default command: its options work without its name.
fl --no-listen --name sam
expect_rc "console options without 'console'" 64
expect_in "... are the console's (which needs a terminal)" "$T/err" "the console needs a terminal"
expect_not_in "... are not unknown" "$T/err" "unknown option"
fl --bogus
expect_rc "an option of nobody's" 64
expect_in "... is named" "$T/err" "unknown option '--bogus'"
fl chat --help
expect_rc "chat --help" 0
expect_in "chat --help points to the man page" "$T/out" "frontline(1)"
expect_not_in "chat --help does not point to DESIGN.md" "$T/out" "DESIGN"
fl kb search --tier premium x
expect_rc "an option another command has" 64
fl metrics --json --csv
expect_rc "options that exclude each other" 64
expect_in "... are named" "$T/err" "--json and --csv exclude each other"

fl kb search --help
expect_rc "kb search --help" 0
expect_in "kb search --help shows -k" "$T/out" "-k N"

# ------------------------------------------------------- policy check

fl policy check "$POLICY"
expect_rc "policy check on the shipped policy" 0
expect_in "policy check says ok and the version" "$T/out" ": ok, version "
if [ "$have_python" = 1 ]; then
	v=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest()[:12])' "$POLICY")
	expect_in "policy version is the file's SHA-256 prefix" "$T/out" "version $v:"
fi
if [ -s "$T/err" ]; then not_ok "shipped policy has no warnings" "$T/err"; else ok "shipped policy has no warnings"; fi

fl policy check
expect_rc "policy check without FILE checks the policy in force" 0
expect_in "policy check without FILE names it" "$T/out" "support-agent-policy.yaml: ok"

fl policy check "$DATA/policies/errors.yaml"
expect_rc "policy check on a broken policy" 78
for where in 8:16 12:23 14:25 16:3 17:21 19:7 20:3; do
	expect_in "broken policy: error at $where" "$T/err" "errors.yaml:$where: "
done
expect_in "broken policy: error count" "$T/err" "errors.yaml: 7 errors"
if [ -s "$T/out" ]; then not_ok "broken policy: nothing on stdout" "$T/out"; else ok "broken policy: nothing on stdout"; fi

fl policy check "$DATA/policies/semantic-errors.yaml"
expect_rc "policy check on a policy breaking cross-key rules" 78
for where in 7:5 9:3 15:5 18:5; do
	expect_in "rule breach at $where" "$T/err" "semantic-errors.yaml:$where: "
done

fl policy check "$DATA/policies/syntax-error.yaml"
expect_rc "policy check on a YAML syntax error" 78
expect_in "syntax error has line:col" "$T/err" "syntax-error.yaml:5:1: YAML syntax error"

fl policy check "$POLICY" "$DATA/policies/errors.yaml" "$DATA/policies/playbook.yaml"
expect_rc "policy check of several files, one bad" 78
expect_in "every file is checked" "$T/out" "playbook.yaml: ok"
expect_in "playbook policy warnings are printed" "$T/err" "playbook.yaml:7:5: warning:"

fl policy check -q "$POLICY"
expect_rc "policy check -q" 0
if [ -s "$T/out" ]; then not_ok "policy check -q prints nothing" "$T/out"; else ok "policy check -q prints nothing"; fi

fl policy check "$T/no-such-policy.yaml"
expect_rc "policy check on a missing file" 78

run "$FRONTLINE" --policy "$DATA/policies/errors.yaml" --kb "$KB" kb search 'return window'
expect_rc "kb search with a broken policy" 78
expect_in "kb search with a broken policy says where" "$T/err" "errors.yaml:14:25: "

# ---------------------------------------------------------- kb search

fl kb search 'return window'
expect_rc "kb search" 0
expect_in "kb search finds the return window" "$T/out" "returns-window"
if head -n 2 "$T/out" | grep -q 'Return window'; then ok "return window is the first hit"; else
	not_ok "return window is the first hit" "$T/out"; fi

fl kb search --json 'return window'
expect_rc "kb search --json" 0
json_ok "kb search --json is JSON" "$T/out"
for field in id title content source topic updated freshness_days stale confidence; do
	expect_in "hit has \"$field\"" "$T/out" "\"$field\":"
done
expect_in "--json echoes the query" "$T/out" '"query":"return window"'
if [ "$have_python" = 1 ]; then
	if python3 - "$T/out" >"$T/py.out" 2>&1 <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
hits = o["hits"]
assert 1 <= len(hits) <= 5, len(hits)
h = hits[0]
assert h["id"] == "returns-window", h["id"]
assert h["source"].endswith("kb/returns/return-window.md"), h["source"]
assert h["topic"] == "returns" and h["updated"] == "2026-10-22", h
assert h["freshness_days"] == 33 and h["stale"] is False, h
for x in hits:
    assert 0 <= x["confidence"] <= 1, x
    assert isinstance(x["stale"], bool) and isinstance(x["freshness_days"], int), x
EOF
	then ok "--json hit values"; else not_ok "--json hit values" "$T/py.out"; fi
fi

fl kb search -k 2 --json shipping
expect_rc "kb search -k 2" 0
if [ "$have_python" = 1 ]; then
	n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["hits"]))' "$T/out")
	if [ "$n" = 2 ]; then ok "-k 2 gives 2 hits"; else not_ok "-k 2 gave $n hits" "$T/out"; fi
fi

fl kb search standard shipping time
expect_rc "kb search with the query in several words" 0
expect_in "several words make one query" "$T/out" "query: standard shipping time"

fl kb search -k 0 x
expect_rc "kb search -k 0" 64
fl kb search -k 101 x
expect_rc "kb search -k 101" 64
# An index built anew says how far it is; one that is current says nothing.
XDG_CACHE_HOME=$T/cache-progress fl kb search --progress=json shipping
expect_rc "kb search --progress=json" 0
nfiles=$(find "$KB" -name '*.md' | wc -l)
expect_in "kb search: the new index's progress, in files" "$T/err" "{\"done\":$nfiles,\"total\":$nfiles,\"bad\":0,\"finished\":true}"
XDG_CACHE_HOME=$T/cache-progress fl kb search --progress=json shipping
expect_not_in "kb search: no progress for a current index" "$T/err" '"done"'
fl kb search -k two x
expect_rc "kb search -k two" 64

fl kb search 'how do I get the'
expect_rc "kb search with only stopwords" 0
expect_in "only stopwords: no matching facts" "$T/out" "no matching facts"

printf '%s\n' 'return window' '' '   ' 'reset my password' 'how long does standard shipping take' >"$T/queries"
STDIN=$T/queries fl kb search --json -k 3
expect_rc "kb search reading stdin" 0
if [ "$(wc -l <"$T/out")" -eq 3 ]; then ok "stdin: one JSON line per query, blank lines skipped"; else
	not_ok "stdin: wanted 3 lines" "$T/out"; fi
json_ok "stdin: every line is JSON" "$T/out"
expect_in "stdin: second query answered" "$T/out" '"query":"reset my password"'
expect_in "stdin: password reset found" "$T/out" '"id":"account-password-reset"'

run "$FRONTLINE" --policy "$POLICY" --kb "$T/no-such-kb" kb search x
expect_rc "kb search on a missing --kb dir" 66
expect_in "missing kb dir is named" "$T/err" "no-such-kb"

# (env, not VAR=value before a function: POSIX leaves its scope unspecified)
run env FRONTLINE_TODAY=2026-02-30 "$FRONTLINE" --policy "$POLICY" --kb "$KB" kb search x
expect_rc "bad FRONTLINE_TODAY" 78
expect_in "bad FRONTLINE_TODAY is named" "$T/err" "FRONTLINE_TODAY"
run env FRONTLINE_TODAY=yesterday "$FRONTLINE" --policy "$POLICY" policy check
expect_rc "FRONTLINE_TODAY=yesterday" 78

run env FRONTLINE_TODAY=2027-06-01 "$FRONTLINE" --policy "$POLICY" --kb "$KB" kb search --json 'return window'
if grep -q '"id":"returns-window"[^}]*"freshness_days":222,"stale":true' "$T/out"; then
	ok "FRONTLINE_TODAY moves freshness and staleness"
else
	not_ok "FRONTLINE_TODAY moves freshness and staleness" "$T/out"
fi

run "$FRONTLINE" --policy "$POLICY" --kb "$DATA/kb-bad" kb search --json gift cards
expect_rc "kb search with an invalid fact file" 0
expect_in "invalid fact file reported with file:line:col" "$T/err" "bad-date.md:6:10: "
expect_in "invalid fact file is skipped" "$T/err" "(file skipped)"
expect_in "good facts still found" "$T/out" '"id":"general-gift-cards"'

# No cache directory possible: the index lives in memory.
run env HOME=/dev/null XDG_CACHE_HOME= "$FRONTLINE" --policy "$POLICY" --kb "$KB" kb search 'return window'
expect_rc "kb search without a usable cache directory" 0
expect_in "kb search without a cache still answers" "$T/out" "returns-window"

# Untrusted text must not reach a terminal with its escape sequences.
printf 'return window \033]0;owned\007 \033[2J\n' >"$T/evil"
STDIN=$T/evil fl kb search -k 1
expect_rc "kb search of a query with escape sequences" 0
if tr -d '\033\007' <"$T/out" | cmp -s - "$T/out"; then
	ok "no raw ESC or BEL bytes in the text output"
else
	not_ok "raw ESC/BEL bytes in the text output" "$T/out"
fi

# Output that cannot be written is an error (74), however large.
if [ -w /dev/full ]; then
	: >"$T/out"
	"$FRONTLINE" --policy "$POLICY" --kb "$KB" kb search 'return window' >/dev/full 2>"$T/err"
	rc=$?
	expect_rc "kb search to a full device" 74
	"$FRONTLINE" --policy "$POLICY" --kb "$KB" kb search -k 100 --json shipping >/dev/full 2>"$T/err"
	rc=$?
	expect_rc "kb search with a lot of output to a full device" 74
fi

# ----------------------------------------------------------- kb audit

fl kb audit
expect_rc "kb audit on the shipped KB" 0
expect_in "kb audit summary" "$T/out" "0 invalid, 0 duplicate ids, 1 conflicts, 5 stale, 0 missing metadata"
expect_in "kb audit reports the conflict" "$T/out" "conflict: shipping-standard-delivery-"
fl kb audit --strict
expect_rc "kb audit --strict on the shipped KB" 1
fl kb audit --json
expect_rc "kb audit --json" 0
json_file_ok "kb audit --json is JSON" "$T/out"
if [ "$have_python" = 1 ]; then
	if python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
c = o["counts"]
assert c == {"invalid": 0, "control": 0, "duplicate": 0, "conflict": 1, "stale": 5, "missing": 0}, c
assert len(o["findings"]) == 6, o["findings"]
' "$T/out" 2>"$T/py.out"; then ok "kb audit --json counts"; else not_ok "kb audit --json counts" "$T/py.out"; fi
fi

run "$FRONTLINE" --policy "$POLICY" --kb "$DATA/kb-audit" kb audit
expect_rc "kb audit on a KB with an invalid file" 65
expect_in "invalid file reported as file:line:col" "$T/out" "general/legal-notice.md:4:8: "
expect_in "duplicate reported" "$T/out" "duplicate id 'returns-restocking'"
expect_in "audit summary of the fixture" "$T/out" "1 invalid, 1 duplicate ids, 1 conflicts, 1 stale, 1 missing metadata"

run "$FRONTLINE" --policy "$POLICY" --kb "$T/no-such-kb" kb audit
expect_rc "kb audit on a missing dir" 66

run "$FRONTLINE" --policy "$POLICY" --kb "$DATA/kb-small" kb audit --strict
expect_rc "kb audit --strict with stale facts" 1

# --------------------------------------------------------------- demo

# The demo triages too: it needs the triage data, which are not installed yet.
run env FRONTLINE_DATADIR="$top_srcdir" FRONTLINE_MODEL="$FRONTLINE_MODEL" "$FRONTLINE" \
	--policy "$POLICY" --kb "$KB" --demo
expect_rc "--demo" 0
expect_in "--demo escalates" "$T/out" "ESCALATE"
expect_in "--demo: account takeover goes to priority" "$T/out" "ESCALATE account-security-concern to human-queue-priority"
expect_in "--demo: \$740 dispute goes to billing" "$T/out" "ESCALATE payment-dispute-over-threshold to billing-specialist"
expect_in "--demo: legal threat" "$T/out" "ESCALATE legal-language-detected"
expect_in "--demo: the shipping question is answered" "$T/out" "AI answers on resolution-agent-general"
expect_in "--demo: stale knowledge is marked" "$T/out" "STALE: verify before quoting"
run env FRONTLINE_DATADIR="$top_srcdir" FRONTLINE_MODEL="$FRONTLINE_MODEL" "$FRONTLINE" \
	--policy "$POLICY" --kb "$KB" demo
expect_rc "demo command" 0

# ------------------------------------------- every KB file is distributed

if [ -r "$top_srcdir/kb/files.am" ]; then
	(cd "$top_srcdir" && find kb -name '*.md' | LC_ALL=C sort) >"$T/kb-found"
	grep -o 'kb/[^ \\]*' "$top_srcdir/kb/files.am" | grep '\.md$' | LC_ALL=C sort >"$T/kb-listed"
	if cmp -s "$T/kb-found" "$T/kb-listed"; then
		ok "kb/files.am lists exactly the .md files under kb ($(wc -l <"$T/kb-found"))"
	else
		diff "$T/kb-listed" "$T/kb-found" >"$T/kb-diff"
		not_ok "kb/files.am is out of date: run 'make kb-files' ('>' = missing from files.am)" "$T/kb-diff"
	fi
	expect_in "kb/files.am lists the catalogue" "$top_srcdir/kb/files.am" "kb/catalog.yaml"
else
	not_ok "kb/files.am is missing"
fi

# ------------------------------------------------------- policy reload

# A line holding a NUL byte is skipped with a warning on standard error
# (unbuffered): sending one after a query and waiting for the warning tells
# that the query before it has been handled.
sync_line() { printf '\000\n' >&3; }
nul_warnings() { grep -c 'NUL byte' "$1" 2>/dev/null; }

# A running kb search reads queries from a FIFO while its policy file changes.
cp "$POLICY" "$T/policy.yaml" && chmod u+w "$T/policy.yaml"
mkfifo "$T/queries.fifo"
"$FRONTLINE" --policy "$T/policy.yaml" --kb "$KB" kb search --json \
	<"$T/queries.fifo" >"$T/reload.out" 2>"$T/reload.err" &
bg_pid=$!
trap '' PIPE
exec 3>"$T/queries.fifo"

# 1. A query under the policy as shipped (stale after 90 days).
echo 'return window' >&3
sync_line
if wait_for "$T/reload.err" "NUL byte"; then ok "reload: first query handled"; else
	not_ok "reload: the first query was not handled" "$T/reload.err"; fi
# 2. A valid edit, replacing the file: stale after 30 days, so the 33-day-old
#    return window fact is stale from now on.
sed 's/stale_after_days: 90/stale_after_days: 30/' "$POLICY" >"$T/policy.new"
mv "$T/policy.new" "$T/policy.yaml"
echo 'return window' >&3
if wait_for "$T/reload.err" "reloaded: version"; then
	ok "reload: a valid change is reloaded"
else
	not_ok "reload: no 'reloaded' message" "$T/reload.err"
fi
expect_in "reload: the message names the file" "$T/reload.err" "policy $T/policy.yaml reloaded: version "
# 3. A broken edit, in place this time: refused, the last good version stays.
broken_line=$(($(wc -l <"$T/policy.yaml") + 1))
printf 'knowledge_base: oops\n' >>"$T/policy.yaml"
echo 'return window' >&3
if wait_for "$T/reload.err" "keeping version"; then
	ok "reload: a broken change is refused, keeping the version in force"
else
	not_ok "reload: no 'keeping version' message" "$T/reload.err"
fi
expect_in "reload: the error has file:line:col" "$T/reload.err" "policy.yaml:$broken_line:1: unknown key 'knowledge_base'"
# 4. Still answering under the last good version.
echo 'reset my password' >&3
exec 3>&-
wait "$bg_pid"
rc=$?
bg_pid=
trap - PIPE
if [ "$rc" -eq 0 ]; then ok "reload: the process carries on and exits 0"; else
	not_ok "reload: exit $rc" "$T/reload.err"; fi
if [ "$(wc -l <"$T/reload.out")" -eq 4 ]; then ok "reload: every query answered"; else
	not_ok "reload: wanted 4 answers" "$T/reload.out" "$T/reload.err"; fi
stale_of_line() { sed -n "$1p" "$T/reload.out" | grep -o '"stale":[a-z]*' | head -n 1; }
if [ "$(stale_of_line 1)" = '"stale":false' ] && [ "$(stale_of_line 2)" = '"stale":true' ]; then
	ok "reload: the new policy applies from the next query"
else
	not_ok "reload: stale flags of the first two answers" "$T/reload.out"
fi
if [ "$(stale_of_line 3)" = '"stale":true' ]; then
	ok "reload: the last good policy (30 days) stays in force after the broken edit"
else
	not_ok "reload: third answer not stale under the 30-day policy" "$T/reload.out"
fi
expect_in "reload: fourth answer" "$T/reload.out" '"id":"account-password-reset"'
if [ "$(grep -c 'reloaded: version' "$T/reload.err")" -eq 1 ] &&
	[ "$(grep -c 'keeping version' "$T/reload.err")" -eq 1 ]; then
	ok "reload: each change reported once"
else
	not_ok "reload: a change reported more than once" "$T/reload.err"
fi

mkfifo "$T/flush.fifo"
"$FRONTLINE" --policy "$POLICY" --kb "$KB" kb search --json \
	<"$T/flush.fifo" >"$T/flush.out" 2>"$T/flush.err" &
bg_pid=$!
trap '' PIPE
exec 3>"$T/flush.fifo"
echo 'return window' >&3
sync_line
if ! wait_for "$T/flush.err" "NUL byte"; then
	not_ok "stdin: the query was not handled" "$T/flush.err"
elif [ "$(wc -l <"$T/flush.out")" -eq 1 ]; then
	ok "stdin: each answer is written out before the next query is read"
else
	not_ok "stdin: the answer is still buffered when the next line is read"
fi
exec 3>&-
wait "$bg_pid"
bg_pid=
trap - PIPE

# ---------------------------------------------------------------- triage
# tri ARGS...: frontline triage on the shipped data, policy and KB, with the
# model $TRI_MODEL (default: the built one).
tri() {
	run env FRONTLINE_DATADIR="$top_srcdir" FRONTLINE_MODEL="${TRI_MODEL:-$FRONTLINE_MODEL}" \
		"$FRONTLINE" --policy "$POLICY" --kb "$KB" triage "$@"
}

tri --json "I was charged \$129.99 twice for order A12345"
expect_rc "triage --json" 0
json_ok "triage --json prints JSON" "$T/out"
for key in intent_category urgency sentiment entities complexity_signal \
	has_legal_language intent_confidence route; do
	expect_in "triage --json has $key" "$T/out" "\"$key\":"
done
expect_in "triage: billing" "$T/out" '"intent_category":"billing"'
expect_in "triage: the order number" "$T/out" '"order_numbers":["A12345"]'
expect_in "triage: the amount" "$T/out" '{"value":129.99,"currency":"USD"}'

tri "If this is not fixed my lawyer will contact you"
expect_rc "triage TEXT" 0
expect_in "triage TEXT reads as text" "$T/out" "route"
expect_in "triage: legal language routes to a human" "$T/out" "human-queue-standard"

printf 'where is my package\n\nsomeone hacked my account\r\nlast line without newline' >"$T/tri.in"
STDIN=$T/tri.in tri
expect_rc "triage on standard input" 0
json_ok "triage stdin: JSON lines" "$T/out"
if [ "$(wc -l <"$T/out")" -eq 4 ]; then
	ok "triage stdin: one object per line, empty lines included"
else
	not_ok "triage stdin: $(wc -l <"$T/out") lines for 4 inputs" "$T/out"
fi
expect_in "triage stdin: critical goes to the priority queue" "$T/out" \
	'"urgency":"critical"'

# A 1 MB line, binary bytes and invalid UTF-8: sane JSON, no crash.
awk 'BEGIN { for (i = 0; i < 40000; i++) printf "my order is late "; print "" }' >"$T/big.in"
printf '\001\002\377\376\033[31mred\200 caf\303\050 order\n' >>"$T/big.in"
STDIN=$T/big.in tri
expect_rc "triage: huge and binary lines" 0
json_ok "triage: huge and binary lines give JSON" "$T/out"

tri --tier platinum "hello"
expect_rc "triage: bad --tier" 64
TRI_MODEL=$T/none.model
tri "hello"
expect_rc "triage: missing model" 66
head -c 5000 "$FRONTLINE_MODEL" >"$T/cut.model"
TRI_MODEL=$T/cut.model
tri "hello"
TRI_MODEL=
expect_rc "triage: truncated model" 65
expect_in "triage: the corrupted model is named" "$T/err" "cut.model"
printf 'not a model' >"$T/junk.model"
run env FRONTLINE_DATADIR="$top_srcdir" "$FRONTLINE" --policy "$POLICY" --kb "$KB" \
	triage --model "$T/junk.model" hello
expect_rc "triage --model with a junk file" 65

# ------------------------------------------------------------ chat, handoff
# chat_fl ARGS...: frontline on the shipped data with a store in the temp dir.
chat_fl() {
	run env FRONTLINE_DATADIR="$top_srcdir" FRONTLINE_MODEL="$FRONTLINE_MODEL" \
		"$FRONTLINE" --policy "$POLICY" --kb "$KB" --db "$T/chat.db" "$@"
}
printf 'where is my order A12345?\n' >"$T/chat.in"
STDIN=$T/chat.in chat_fl chat --customer C-1001
expect_rc "chat" 0
expect_in "chat: a grounded reply" "$T/out" "agent: I'm an AI assistant"
expect_in "chat: the order's status" "$T/out" "1Z999AA10123456784"
printf 'my lawyer will sue you over this refund\n' >"$T/chat.in"
STDIN=$T/chat.in chat_fl chat --json --customer C-1003
expect_rc "chat --json" 0
json_ok "chat --json prints JSON lines" "$T/out"
for key in turn customer triage knowledge tools validation escalation reply handoff; do
	expect_in "chat --json has $key" "$T/out" "\"$key\":"
done
expect_in "chat: legal language hands off" "$T/out" '"reason":"legal-language-detected"'
chat_fl handoff list
expect_rc "handoff list" 0
expect_in "handoff list shows the packet" "$T/out" "legal-language-detected"
expect_not_in "handoff list: no header for a program" "$T/out" "customer"
if command -v script >/dev/null 2>&1; then
	# On a terminal, a header names the columns.
	script -qec "FRONTLINE_DATADIR='$top_srcdir' '$FRONTLINE' --policy '$POLICY' --kb '$KB' --db '$T/chat.db' handoff list" \
		/dev/null </dev/null >"$T/tty.out" 2>&1
	if grep -q '^ *id  *created  *customer  *reason' "$T/tty.out"; then ok "handoff list: a header on a terminal"; else
		not_ok "handoff list: a header on a terminal" "$T/tty.out"; fi
fi
chat_fl handoff show 1
expect_rc "handoff show" 0
expect_in "handoff show: the customer" "$T/out" "Customer: C-1003"
chat_fl handoff show 999
expect_rc "handoff show of a missing packet" 66
chat_fl handoff show abc
expect_rc "handoff show with a bad id" 64
STDIN=/dev/null chat_fl chat --tier gold
expect_rc "chat: bad --tier" 64
printf 'hello\n' >"$T/chat.in"
STDIN=$T/chat.in chat_fl chat --fixture "$T/none.json"
expect_rc "chat: missing fixture" 66
printf '{"customers": [\n' >"$T/broken.json"
STDIN=$T/chat.in chat_fl chat --fixture "$T/broken.json"
expect_rc "chat: broken fixture" 65

# ------------------------------------------------ the config file
# Tool backends come from the config file: a fixture named relative to it, an
# http backend with URL templates (a dead one here: the turn must still end).
mkdir -p "$T/config/frontline" "$T/cfg"
sed 's/C-1001/C-7777/' "$top_srcdir/data/fixtures/customers.json" >"$T/cfg/mine.json"
printf 'tools:\n  backend: fixture\n  fixture: mine.json\n' >"$T/cfg/config.yaml"
printf 'where is my order A12345\n' >"$T/chat.in"
STDIN=$T/chat.in chat_fl --config "$T/cfg/config.yaml" chat --customer C-7777
expect_rc "config: a fixture relative to the config file" 0
expect_in "config: the fixture's customer has the order" "$T/out" "1Z999AA10123456784"
cp "$T/cfg/config.yaml" "$T/config/frontline/config.yaml"
printf '  fixture: [\n' >>"$T/config/frontline/config.yaml"
STDIN=$T/chat.in chat_fl chat --customer C-7777
expect_rc "config: the default file is read (a broken one is an error)" 78
expect_in "config: errors name file:line" "$T/err" "frontline/config.yaml:5:1: YAML syntax error"
rm "$T/config/frontline/config.yaml"
STDIN=$T/chat.in chat_fl --config "$T/cfg/none.yaml" chat
expect_rc "config: a missing --config" 66
printf 'tools:\n  backend: http\n  http: {account_url: "ftp://x/{customer_id}"}\n' >"$T/cfg/bad.yaml"
STDIN=$T/chat.in chat_fl --config "$T/cfg/bad.yaml" chat
expect_rc "config: a bad tools section" 78
expect_in "config: a bad URL is named" "$T/err" "bad.yaml:3"
expect_in "config: http needs the read URLs" "$T/err" "needs http.account_url and http.order_url"
printf 'agents:\n  resolution: {backend: openai, endpoint: nowhere}\n' >"$T/cfg/bad.yaml"
STDIN=$T/chat.in chat_fl --config "$T/cfg/bad.yaml" chat
expect_rc "config: an agent on an unknown endpoint" 78
expect_in "config: the unknown endpoint is named" "$T/err" "no endpoint named 'nowhere'"
cat >"$T/cfg/http.yaml" <<EOF
tools:
  backend: http
  http:
    account_url: http://127.0.0.1:1/customers/{customer_id}
    order_url: http://127.0.0.1:1/orders/{order_id}
    timeout_ms: 2000
    token_env: FL_TEST_CRM_TOKEN
EOF
STDIN=$T/chat.in chat_fl --config "$T/cfg/http.yaml" chat --json --customer C-1001
expect_rc "config: the http backend's token must be set" 78
expect_in "config: the missing token variable is named" "$T/err" "FL_TEST_CRM_TOKEN"
FL_TEST_CRM_TOKEN=s3cret-token-value
export FL_TEST_CRM_TOKEN
STDIN=$T/chat.in chat_fl --config "$T/cfg/http.yaml" chat --json --customer C-1001
unset FL_TEST_CRM_TOKEN
expect_rc "config: a dead http tool backend still ends the turn" 0
expect_in "config: the failed call is recorded" "$T/out" '"refusal":"backend error: get_order_status'
expect_in "config: the turn escalates instead of guessing" "$T/out" '"escalate":true'
expect_not_in "config: the token never shows" "$T/out" "s3cret-token-value"

# The store named by the config file (relative to it), unless --db names another.
printf 'database: fromcfg.db\n' >"$T/cfg/db.yaml"
STDIN=$T/chat.in run env FRONTLINE_DATADIR="$top_srcdir" FRONTLINE_MODEL="$FRONTLINE_MODEL" \
	"$FRONTLINE" --policy "$POLICY" --kb "$KB" --config "$T/cfg/db.yaml" chat --customer C-1001
expect_rc "config: chat on the config's database" 0
if [ -s "$T/cfg/fromcfg.db" ]; then ok "config: the database is relative to the config file"; else not_ok "config: the database is relative to the config file"; fi
run "$FRONTLINE" --config "$T/cfg/db.yaml" --db "$T/chat.db" db status --json
expect_in "config: --db overrides the config's database" "$T/out" "$T/chat.db"
printf 'database: ""\n' >"$T/cfg/db-empty.yaml"
run "$FRONTLINE" --config "$T/cfg/db-empty.yaml" db status
expect_rc "config: an empty database is a config error" 78
expect_in "config: the empty database is named" "$T/err" "db-empty.yaml:1:11: database is empty"

# A worker that cannot load its agents says why and exits, without crashing.
run "$FRONTLINE" --policy "$T/no-such-policy.yaml" --db "$T/worker.db" worker --once
expect_rc "worker: a missing policy is a config error" 78
expect_in "worker: the missing policy is named" "$T/err" "no-such-policy.yaml"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
