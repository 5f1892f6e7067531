#!/bin/sh
# db.sh -- frontline db migrate|status|export|import end to end: a store
# filled by real chats is exported, imported into an empty store (SQLite,
# and PostgreSQL on a throwaway cluster when it is installed) and exported
# again byte for byte; bad imports name FILE:LINE and change nothing; a
# connection password is never printed.
#
# Run by make check, which sets FRONTLINE, top_srcdir and top_builddir.
# Prints "ok"/"FAIL" per check and "N passed, M failed" last.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${FRONTLINE:=${top_builddir:-.}/frontline}"
: "${FRONTLINE_MODEL:=${top_builddir:-.}/triage.model}"
case $FRONTLINE in /*) ;; *) FRONTLINE=$(pwd)/$FRONTLINE ;; esac
case $top_srcdir in /*) ;; *) top_srcdir=$(pwd)/$top_srcdir ;; esac
case $FRONTLINE_MODEL in /*) ;; *) FRONTLINE_MODEL=$(pwd)/$FRONTLINE_MODEL ;; esac

. "$top_srcdir/tests/pg-env.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-db.XXXXXX") || exit 99
cleanup() {
	pg_stop
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$T/home" "$T/cache" "$T/state" "$T/config"
HOME=$T/home XDG_CACHE_HOME=$T/cache XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
FRONTLINE_TODAY=2026-11-24 FRONTLINE_DATADIR=$top_srcdir
export HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_CONFIG_HOME FRONTLINE_TODAY FRONTLINE_DATADIR
export FRONTLINE_MODEL
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
	for f in "$T/out" "$T/err"; do
		[ -s "$f" ] && sed -n '1,15s/^/    | /p' "$f"
	done
	return 0
}
# fl DB ARGS...: frontline on the shipped policy and KB with the store DB.
fl() {
	db=$1
	shift
	"$FRONTLINE" --policy "$top_srcdir/policies/support-agent-policy.yaml" \
		--kb "$top_srcdir/kb" --db "$db" "$@" <"${STDIN:-/dev/null}" >"$T/out" 2>"$T/err"
	rc=$?
}
expect_rc() {
	if [ "$rc" = "$2" ]; then ok "$1"; else not_ok "$1 (exit $rc, want $2)"; fi
}
expect_in() {
	if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1 (no '$3')"; fi
}
expect_not_in() {
	if grep -qF -- "$3" "$2"; then not_ok "$1 ('$3' is there)"; else ok "$1"; fi
}
same() {
	if cmp -s "$2" "$3"; then ok "$1"; else
		not_ok "$1"
		diff "$2" "$3" | sed -n '1,10s/^/    | /p'
	fi
}

# ------------------------------------------------------------- SQLite
A=$T/a.db
fl "$A" db status
expect_rc "status of a missing file" 66
fl "$A" db migrate
expect_rc "migrate creates the store" 0
expect_in "migrate says from and to" "$T/out" "schema version 0 -> 6"
fl "$A" db migrate
expect_in "migrate again: up to date" "$T/out" "schema version 6: up to date"

printf 'where is my order A12345?\nthanks\n' >"$T/chat1"
printf 'my lawyer will sue you over this refund\n' >"$T/chat2"
STDIN=$T/chat1 fl "$A" chat --customer C-1001
expect_rc "a chat fills the store" 0
STDIN=$T/chat2 fl "$A" chat --customer C-1003
expect_rc "a chat that hands off" 0

fl "$A" db status
expect_in "status: the backend" "$T/out" "backend:  sqlite"
expect_in "status: the schema" "$T/out" "schema:   6 (this frontline: 6)"
fl "$A" db status --json
expect_in "status --json" "$T/out" '"pending":'

fl "$A" db export --out "$T/a.jsonl"
expect_rc "export --out" 0
expect_in "export: the header" "$T/a.jsonl" '{"format":"frontline-export","schema":6}'
expect_in "export: the handoff" "$T/a.jsonl" '{"table":"handoffs"'
expect_in "export: each conversation's ending" "$T/a.jsonl" '"lease_until":null,"ending":"abandoned"}'
fl "$A" db export
same "export to stdout is the same" "$T/a.jsonl" "$T/out"

fl "$T/b.db" db import "$T/a.jsonl"
expect_rc "import into a new store" 0
fl "$T/b.db" db export --out "$T/b.jsonl"
same "SQLite -> SQLite: the same bytes" "$T/a.jsonl" "$T/b.jsonl"
fl "$T/b.db" db import "$T/a.jsonl"
expect_rc "import into a store with rows" 73
expect_in "refused: not empty" "$T/err" "not empty"
fl "$T/b.db" handoff list
expect_in "the imported store serves the commands" "$T/out" "legal-language-detected"

{
	head -n 3 "$T/a.jsonl"
	echo '{"table":"messages","row":{"id":"x"}}'
	tail -n +4 "$T/a.jsonl"
} >"$T/bad.jsonl"
fl "$T/c.db" db import "$T/bad.jsonl"
expect_rc "a bad line: exit 65" 65
expect_in "a bad line is named FILE:LINE" "$T/err" "$T/bad.jsonl:4: "
fl "$T/c.db" db export --out "$T/c.jsonl"
if [ "$(wc -l <"$T/c.jsonl")" = 1 ]; then ok "nothing was imported"; else not_ok "nothing was imported"; fi
fl "$T/c.db" db import "$T/missing.jsonl"
expect_rc "import of a missing file" 66
fl "$A" db import
expect_rc "import without a file" 64
fl "$A" db export --bogus
expect_rc "an unknown option" 64
# --progress=json: the rows (lines) as they go through, and the end.
fl "$A" db export --progress=json --out "$T/p.jsonl"
expect_rc "export --progress=json" 0
same "export --progress=json writes the same" "$T/a.jsonl" "$T/p.jsonl"
n=$(wc -l <"$T/a.jsonl")
expect_in "export: the progress ends with every line" "$T/err" "{\"done\":$n,\"total\":null,\"bad\":0,\"finished\":true}"
fl "$T/p.db" db import --progress=json "$T/a.jsonl"
expect_rc "import --progress=json" 0
expect_in "import: the progress knows the total" "$T/err" "{\"done\":$n,\"total\":$n,\"bad\":0,\"finished\":true}"
fl "$T/p.db" db export --out "$T/p2.jsonl"
same "import --progress=json imports the same" "$T/a.jsonl" "$T/p2.jsonl"
fl "$A" db import --help
expect_rc "import --help" 0
expect_in "import --help names the exit codes" "$T/out" "FILE:LINE"

fl 'postgresql://ann:s3cret@127.0.0.1:1/x?connect_timeout=3' db status
expect_rc "an unreachable server" 69
expect_in "the target is shown" "$T/err" "postgresql://ann:***@127.0.0.1:1/x"
expect_not_in "the password is not" "$T/err" "s3cret"

# --------------------------------------------------------- PostgreSQL
if pg_start; then
	P=$(pg_newdb fl_db_p) || exit 99
	fl "$P" db status
	expect_in "pg: status before migrating" "$T/out" "schema:   0 (this frontline: 6; run 'frontline db migrate')"
	fl "$P" db import "$T/a.jsonl"
	expect_rc "pg: import (migrates first)" 0
	fl "$P" db export --out "$T/p.jsonl"
	same "SQLite -> PostgreSQL: the same bytes" "$T/a.jsonl" "$T/p.jsonl"
	fl "$T/back.db" db import "$T/p.jsonl"
	expect_rc "PostgreSQL -> SQLite: import" 0
	fl "$T/back.db" db export --out "$T/back.jsonl"
	same "SQLite -> PostgreSQL -> SQLite: the same bytes" "$T/a.jsonl" "$T/back.jsonl"
	fl "$P" db status
	expect_in "pg: status names the backend" "$T/out" "backend:  postgresql"
	STDIN=$T/chat1 fl "$P" chat --customer C-2002
	expect_rc "pg: a chat after the import" 0
	fl "$P" handoff list
	expect_in "pg: the imported handoff" "$T/out" "legal-language-detected"
	fl "$P" db import "$T/a.jsonl"
	expect_rc "pg: import into a store with rows" 73
	Q=$(pg_newdb fl_db_q) || exit 99
	fl "$Q" db import "$T/bad.jsonl"
	expect_rc "pg: a bad line: exit 65" 65
	fl "$Q" db export --out "$T/q.jsonl"
	if [ "$(wc -l <"$T/q.jsonl")" = 1 ]; then ok "pg: nothing was imported"; else not_ok "pg: nothing was imported"; fi
else
	echo "# PostgreSQL is not installed: its checks are skipped"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
