#!/bin/sh
# hostile.sh -- hostile text, files and lines end to end (issue 18).
#
# Terminal injection: a knowledge-base fact and a customer message carrying
# an OSC title (ESC ] 0 ; ... BEL), a screen clear (ESC [ 2 J), a C1 CSI
# (U+009B, and the raw byte 0x9B) and a bidi override (U+202E) must reach no
# terminal through chat, kb search, handoff show/list, the reports or the
# warnings, while --json keeps the text exact; kb audit flags the fact.
# Hostile YAML (deep nesting, a second document, duplicate keys, escapes in
# values) and hostile JSON Lines (long lines, invalid UTF-8, NUL, duplicate
# keys and ids, wrong types) are refused with FILE:LINE and the right exit.
#
# Run by make check; by hand: FRONTLINE=./frontline top_srcdir=. sh tests/hostile.sh

: "${top_srcdir:=$(dirname "$0")/..}"
: "${FRONTLINE:=${top_builddir:-.}/frontline}"
: "${FRONTLINE_MODEL:=${top_builddir:-.}/triage.model}"

POLICY=$top_srcdir/policies/support-agent-policy.yaml

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-hostile.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

mkdir "$T/home" "$T/cache" "$T/state" "$T/config"
HOME=$T/home XDG_CACHE_HOME=$T/cache XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
FRONTLINE_TODAY=2026-11-24 FRONTLINE_DATADIR=$top_srcdir
export HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_CONFIG_HOME FRONTLINE_TODAY FRONTLINE_DATADIR \
	FRONTLINE_MODEL
LC_ALL=C
export LC_ALL

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
		[ -s "$f" ] && sed -n '1,12s/^/    | /p' "$f" | tr '\001-\010\013-\037\177' '[?*]' | cut -c1-300
	done
	return 0
}

# run CMD...: stdin from $STDIN (or /dev/null); sets $rc, output in $T/out and $T/err.
run() {
	"$@" <"${STDIN:-/dev/null}" >"$T/out" 2>"$T/err"
	rc=$?
}

expect_rc() { # NAME WANT
	if [ "$rc" -eq "$2" ]; then ok "$1: exit $2"; else not_ok "$1: exit $rc, wanted $2" "$T/out" "$T/err"; fi
}

expect_in() { # NAME FILE FIXED-STRING
	if grep -F -q -- "$3" "$2"; then ok "$1"; else not_ok "$1: no '$3' in $(basename "$2")" "$2"; fi
}

# The bytes a terminal obeys: C0 controls but newline, DEL, C1 controls
# (U+0080..U+009F as UTF-8), bidi embeddings/overrides/isolates, and any
# invalid UTF-8 (a raw 0x9B is an 8-bit CSI to many terminals).
C0=$(printf '[\001-\011\013-\037\177]')
C1=$(printf '\302[\200-\237]')
BIDI=$(printf '\342\200[\252-\256]\\|\342\201[\246-\251]')
inert() { # NAME FILE
	if grep -q "$C0" "$2"; then
		not_ok "$1: a C0 control or DEL reaches the terminal" "$2"
	elif grep -q "$C1" "$2"; then
		not_ok "$1: a C1 control reaches the terminal" "$2"
	elif grep -q "$BIDI" "$2"; then
		not_ok "$1: a bidi control reaches the terminal" "$2"
	elif ! iconv -f UTF-8 -t UTF-8 "$2" >/dev/null 2>&1; then
		not_ok "$1: invalid UTF-8 reaches the terminal" "$2"
	else
		ok "$1"
	fi
}

# The hostile pieces: OSC title, clear screen, C1 CSI (U+009B), bidi override.
OSC=$(printf '\033]0;pwned\007')
CLS=$(printf '\033[2J')
CSI=$(printf '\302\23331m')
RLO=$(printf '\342\200\256')

# ------------------------------------------------------ terminal injection

mkdir -p "$T/kb/returns"
cp -R "$top_srcdir/tests/data/kb-small/." "$T/kb/"
chmod -R u+w "$T/kb" # (make distcheck's source tree is read-only)
{
	printf -- '---\nid: returns-hostile\ntitle: Returns desk hours\n'
	printf 'topic: returns\nproduct: all\nupdated: 2026-11-01\nversion: 1\nvolatile: false\n---\n'
	printf 'Hostile returns desk: unopened items %sare%s taken back %s within %s 45 days.\n' \
		"$OSC" "$CLS" "$CSI" "$RLO"
} >"$T/kb/returns/hostile.md"
FL="$FRONTLINE --policy $POLICY --kb $T/kb --db $T/db"

run $FL kb search hostile returns desk unopened
expect_rc "kb search: a hostile fact" 0
expect_in "kb search: the hostile fact is found" "$T/out" "Hostile returns desk"
expect_in "kb search: its escapes are shown, not obeyed" "$T/out" "$(printf '\342\220\233[2J')"
inert "kb search: nothing a terminal obeys on stdout" "$T/out"
run $FL kb search --json hostile returns desk unopened
expect_in "kb search --json: the text stays exact (ESC escaped as JSON)" "$T/out" '\u001b]0;pwned\u0007'
expect_in "kb search --json: the text stays exact (U+202E as is)" "$T/out" "$RLO"

run $FL kb audit
expect_rc "kb audit: a fact with control characters" 65
expect_in "kb audit: the control character at file:line:col" "$T/out" \
	"returns/hostile.md:10:38: control character U+001B in a fact"
expect_in "kb audit: the count" "$T/out" "1 control characters"
inert "kb audit: its listing is inert" "$T/out"
run $FL kb audit --json
expect_in "kb audit --json: the control finding" "$T/out" '"kind":	"control"'

printf 'hostile returns desk: are unopened items taken back?\n' >"$T/in"
STDIN=$T/in run $FL chat --customer C-hostile
expect_rc "chat: a reply quoting the hostile fact" 0
expect_in "chat: the reply quotes it" "$T/out" "Hostile returns desk"
inert "chat: the reply is inert" "$T/out"

# A line past 64 KiB (serve's largest body) is not a message: skipped as it
# streams by, named by its line; the next line is still answered; exit 65.
{
	echo "hello"
	head -c 1048576 /dev/zero | tr '\0' x
	echo
	echo "how long is the return window?"
} >"$T/in"
STDIN=$T/in run $FL chat --customer C-long
expect_rc "chat: a line over 64 KiB" 65
expect_in "chat: the long line named" "$T/err" "stdin:2: the line is longer than 64 KiB"
expect_in "chat: the line after it answered" "$T/out" "30 days"
run $FL db export --out "$T/export.jsonl"
if [ "$(wc -c <"$T/export.jsonl")" -lt 524288 ]; then ok "chat: the long line was not stored"; else
	not_ok "chat: the long line was stored"; fi

# A customer's own escapes, a raw 0x9B byte and a bidi override, with a
# legal threat so that the conversation is handed off with their words.
printf 'I will sue you %s%s over my refund %s \233 %s now\n' "$OSC" "$CLS" "$CSI" "$RLO" >"$T/in"
STDIN=$T/in run $FL chat --customer "C-$(printf '\033[31m')evil"
expect_rc "chat: a hostile customer message" 0
expect_in "chat: handed off" "$T/out" "handoff show"
inert "chat: the handoff message is inert" "$T/out"
run $FL handoff list
inert "handoff list: inert (the customer id too)" "$T/out"
id=$(sed -n 's/^ *\([0-9][0-9]*\) .*/\1/p' "$T/out" | head -n 1)
run $FL handoff show "${id:-1}"
expect_rc "handoff show" 0
expect_in "handoff show: the customer's words are in the packet" "$T/out" "I will sue you"
inert "handoff show: inert" "$T/out"
run $FL handoff show --json "${id:-1}"
expect_in "handoff show --json: exact" "$T/out" '\u001b[2J'
run $FL handoff review --list
inert "handoff review --list: inert" "$T/out"

# A ticket whose bad line quotes hostile text: the warning is inert too.
printf '{"id":"T-1","messages":[{"role":"\\u001b]0;pwned\\u0007%s","text":"hi"}]}\n' "$RLO" >"$T/t.jsonl"
run $FL replay --no-store "$T/t.jsonl"
expect_rc "replay: a ticket with a hostile role" 65
expect_in "replay: the bad line is named" "$T/err" "t.jsonl:1: "
inert "replay: the warning is inert" "$T/err"
inert "replay: the report is inert" "$T/out"

# ------------------------------------------------------------------ YAML

# brackets N: N opening then N closing brackets on one line (no newline).
brackets() {
	head -c "$1" /dev/zero | tr '\0' '['
	head -c "$1" /dev/zero | tr '\0' ']'
}
brackets 100000 >"$T/deep.yaml"
echo >>"$T/deep.yaml"
# (a hang is a failure: the old loader took a minute on this file)
run timeout 30 $FRONTLINE policy check "$T/deep.yaml"
expect_rc "policy check: 100,000 nested brackets" 78
expect_in "policy check: the nesting limit at file:line:col" "$T/err" "deep.yaml:1:65: nested deeper than 64 levels"

mkdir -p "$T/kb-deep/returns"
{
	printf -- '---\nid: deep\ntitle: Deep\ntopic: returns\nupdated: 2026-01-01\nextra: '
	brackets 100000
	printf '\n---\nA body.\n'
} >"$T/kb-deep/returns/deep.md"
run timeout 30 $FRONTLINE --policy "$POLICY" --kb "$T/kb-deep" kb audit
expect_rc "kb audit: 100,000 brackets in front matter" 65
expect_in "kb audit: the nesting limit at file:line:col" "$T/out" "deep.md:6:71: nested deeper than 64 levels"
run timeout 30 $FRONTLINE --policy "$POLICY" --kb "$T/kb-deep" kb search body
expect_rc "kb search: 100,000 brackets in front matter" 0
expect_in "kb search: the file is skipped with the limit" "$T/err" "deep.md:6:71: nested deeper than 64 levels (file skipped)"

printf 'content_guardrails:\n  prohibited_topics: [politics]\n---\nrouting: []\n' >"$T/two.yaml"
run $FRONTLINE policy check "$T/two.yaml"
expect_rc "policy check: a second document" 78
expect_in "policy check: the second document at file:line:col" "$T/err" "two.yaml:3:1: a second YAML document"
printf 'content_guardrails:\n  prohibited_topics: [a]\ncontent_guardrails:\n  prohibited_topics: [b]\n' >"$T/dup.yaml"
run $FRONTLINE policy check "$T/dup.yaml"
expect_in "policy check: a duplicate top-level key is named" "$T/err" \
	"dup.yaml:3:1: duplicate key 'content_guardrails' (first at line 1)"
awk 'BEGIN { for (i = 0; i < 300000; i++) print "# padding the file past its limit" }' >"$T/big.yaml"
run $FRONTLINE policy check "$T/big.yaml"
expect_rc "policy check: a file over the size limit" 78
expect_in "policy check: the size limit is said" "$T/err" "big.yaml: file too large: over the limit of 4 MiB"

# ------------------------------------------------------------ JSON Lines

M='"messages":[{"role":"customer","text":"where is my order A12345?"}]'
{
	printf '{"id":"T-1",%s}\n' "$M"
	printf '{"id":42,%s}\n' "$M"
	printf '{"id":"T-3","id":"T-4",%s}\n' "$M"
	printf '{"id":"T-1",%s}\n' "$M"
	printf '{"id":"T-5","messages":[{"role":"customer","text":"caf\351"}]}\n'
	printf '{"id":"T-6","outcome":{"csat":"5"},%s}\n' "$M"
	printf '{"id":"T-7","note":"' && head -c 9000000 /dev/zero | tr '\0' 'x' && printf '",%s}\n' "$M"
	printf '{"id":"T-8",%s}\n' "$M"
} >"$T/bad.jsonl"
run $FRONTLINE --policy "$POLICY" --kb "$T/kb" replay --no-store --json "$T/bad.jsonl"
expect_rc "replay: bad lines are skipped, the good ones replayed" 65
expect_in "replay: a numeric id" "$T/err" 'bad.jsonl:2: "id" is not a non-empty string'
expect_in "replay: a duplicate key" "$T/err" 'bad.jsonl:3: $: duplicate key "id"'
expect_in "replay: a duplicate ticket id" "$T/err" 'bad.jsonl:4: duplicate ticket id "T-1" (first at line 1)'
expect_in "replay: invalid UTF-8" "$T/err" "bad.jsonl:5: not valid UTF-8 (at byte 55)"
expect_in "replay: a wrong type" "$T/err" "bad.jsonl:6: outcome.csat is not a number"
expect_in "replay: a line over the limit, which is said" "$T/err" \
	"bad.jsonl:7: the line is longer than 8 MiB, the limit: skipped"
expect_in "replay: nothing accepted is lost" "$T/out" '"tickets":	2'
expect_in "replay: the bad lines are counted" "$T/out" '"bad_lines":	6'

# db import keeps the rules replay and serve keep: what it takes, export gives back.
run $FL db export --out "$T/export.jsonl"
expect_rc "db export" 0
rm -f "$T/db2"*
run $FRONTLINE --db "$T/db2" db import "$T/export.jsonl"
expect_rc "db import of an export" 0
run $FRONTLINE --db "$T/db2" db export --out "$T/export2.jsonl"
if cmp -s "$T/export.jsonl" "$T/export2.jsonl"; then ok "db import then export: byte-identical"; else not_ok "db import then export: byte-identical"; fi
import_bad() { # NAME SED-SCRIPT WANT: the export with line 2 changed is refused
	sed "2$2" "$T/export.jsonl" >"$T/bad-export.jsonl"
	cmp -s "$T/export.jsonl" "$T/bad-export.jsonl" && not_ok "$1: the test did not change the export"
	rm -f "$T/db3"*
	run $FRONTLINE --db "$T/db3" db import "$T/bad-export.jsonl"
	expect_rc "$1" 65
	expect_in "$1: the line and why" "$T/err" "bad-export.jsonl:2: $3"
}
import_bad "db import: a NUL escape" 's/"name":null/"name":"Dana\\u0000evil"/' 'a NUL character'
import_bad "db import: invalid UTF-8" "s/\"name\":null/\"name\":\"Dana$(printf '\377')\"/" 'not valid UTF-8'
import_bad "db import: a duplicate key" 's/"name":null/"name":null,"name":"x"/' '$.row: duplicate key "name"'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
