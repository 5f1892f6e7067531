#!/bin/sh
# serve.sh -- frontline serve and frontline customer --url, end to end.
#
# The real binaries on a SQLite store (and on a throwaway PostgreSQL
# cluster when one can be started: tests/pg-env.sh), with tests/serve_echo
# answering customer messages in the store the way a worker would (so the
# replies are known). Checked: startup refusals (no token, a short one, a
# token file without tokens, a busy port), --port-file, a script through
# customer --url (replies in order, state notes, a handoff, a resolved
# conversation followed by a new one, the rating stored), --json, a wrong
# token (exit 69, said why), SIGTERM ending open event streams and exiting
# 0, and the access log never holding the token. Last, frontline worker
# (the offline agents) instead of serve_echo answers a customer, and the
# connection limits given as flags: --max-per-address, --header-timeout.
#
# Run by make check; by hand:
# FRONTLINE=./frontline top_builddir=. sh tests/serve.sh
# Prints "N passed, M failed" last.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"
: "${FRONTLINE:=$top_builddir/frontline}"
ECHO=$top_builddir/tests/serve_echo

if [ ! -x "$ECHO" ]; then
	echo "serve.sh: no $ECHO (make check builds it)" >&2
	exit 99
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-serve.XXXXXX") || exit 99
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	command -v pg_stop >/dev/null 2>&1 && pg_stop
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$T/home" "$T/cache" "$T/state" "$T/config"
HOME=$T/home XDG_CACHE_HOME=$T/cache XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
FRONTLINE_DATADIR=$top_srcdir FRONTLINE_TODAY=2026-11-24 LC_ALL=C
export HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_CONFIG_HOME FRONTLINE_DATADIR FRONTLINE_TODAY LC_ALL
unset XDG_RUNTIME_DIR FRONTLINE_SERVE_TOKEN

TOKEN=serve-sh-token-0123456789abcdef
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

# waitfor COMMAND...: runs it every 0.1 s until it succeeds, 20 s at most.
waitfor() {
	i=0
	while ! "$@"; do
		i=$((i + 1))
		[ "$i" -ge 200 ] && return 1
		sleep 0.1
	done
}

expect() { # NAME WANT-RC GREP-PATTERN FILE
	if [ "$rc" -eq "$2" ] && grep -q -- "$3" "$4"; then
		ok "$1"
	else
		not_ok "$1 (exit $rc, wanted $2 and '$3')" "$4"
	fi
}

# ------------------------------------------------ refusals at startup
FRONTLINE_SERVE_TOKEN= "$FRONTLINE" --db "$T/x.db" serve --listen 127.0.0.1:0 >"$T/out" 2>"$T/err"
rc=$?
expect "no token: exit 78, says how to give one" 78 "FRONTLINE_SERVE_TOKEN" "$T/err"
FRONTLINE_SERVE_TOKEN=short "$FRONTLINE" --db "$T/x.db" serve --listen 127.0.0.1:0 >"$T/out" 2>"$T/err"
rc=$?
expect "a short token: exit 78" 78 "at least 16 characters" "$T/err"
printf '# nothing here\n\n' >"$T/empty-tokens"
"$FRONTLINE" --db "$T/x.db" serve --token-file "$T/empty-tokens" >"$T/out" 2>"$T/err"
rc=$?
expect "a token file without a token: exit 78" 78 "has no token" "$T/err"
"$FRONTLINE" --db "$T/x.db" serve --token-file "$T/no-such-file" >"$T/out" 2>"$T/err"
rc=$?
expect "a missing token file: exit 78" 78 "cannot read the token file" "$T/err"
FRONTLINE_SERVE_TOKEN=$TOKEN "$FRONTLINE" --db "$T/x.db" serve --rate 0 >"$T/out" 2>"$T/err"
rc=$?
expect "a bad --rate: exit 64" 64 "rate must be" "$T/err"

FRONTLINE_SERVE_TOKEN=$TOKEN "$FRONTLINE" --db "$T/x.db" serve --header-timeout 0 >"$T/out" 2>"$T/err"
rc=$?
expect "a bad --header-timeout: exit 64" 64 "header-timeout must be" "$T/err"
FRONTLINE_SERVE_TOKEN=$TOKEN "$FRONTLINE" --db "$T/x.db" serve --max-per-address x >"$T/out" 2>"$T/err"
rc=$?
expect "a bad --max-per-address: exit 64" 64 "max-per-address must be" "$T/err"

# serve DB LOGNAME [ARGS...]: starts serve and serve_echo (not with NO_ECHO set) on DB;
# sets $port, $serve_pid, $echo_pid.
serve() {
	db=$1 log=$2
	shift 2
	rm -f "$T/port"
	FRONTLINE_SERVE_TOKEN= "$FRONTLINE" --db "$db" serve --listen 127.0.0.1:0 \
		--port-file "$T/port" --token-file "$T/tokens" --heartbeat 0.2 --poll-ms 20 \
		"$@" 2>"$T/$log" &
	serve_pid=$!
	pids="$pids $serve_pid"
	if ! waitfor test -s "$T/port"; then
		not_ok "serve starts on $db" "$T/$log"
		return 1
	fi
	port=$(cat "$T/port")
	[ -n "${NO_ECHO:-}" ] && return 0
	"$ECHO" "$db" 2>"$T/$log.echo" &
	echo_pid=$!
	pids="$pids $echo_pid"
}

stop() { # PID: SIGTERM, and its exit code in $rc
	kill -TERM "$1"
	wait "$1"
	rc=$?
}

# customer ARGS...: frontline customer --url against the server, stdin from $T/in.
customer() {
	FRONTLINE_SERVE_TOKEN=${CUSTOMER_TOKEN:-$TOKEN} "$FRONTLINE" customer \
		--url "http://127.0.0.1:$port" "$@" <"$T/in" >"$T/out" 2>"$T/err"
	rc=$?
}

# get PATH: the API's answer (status line first) with the token.
get() {
	python3 - "$port" "$TOKEN" "$1" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=20)
c.request("GET", sys.argv[3], headers={"Authorization": "Bearer " + sys.argv[2]})
r = c.getresponse()
print(r.status)
print(r.read().decode())
EOF
}

# suite BACKEND DB: everything that runs against a live server, on one store.
suite() {
	be=$1 db=$2
	printf '# the front end\n%s\n\nother-token-abcdefghijklmnop\n' "$TOKEN" >"$T/tokens"
	chmod 600 "$T/tokens"
	serve "$db" "serve-$be.log" --verbose || return

	want=poll
	[ "$be" = postgresql ] && want=notify
	get /v1/health >"$T/health"
	if grep -q "\"store\":\"$be\".*\"updates\":\"$want\"" "$T/health"; then
		ok "$be: health without a token; streams updated by $want"
	else
		not_ok "$be: health without a token; streams updated by $want" "$T/health"
	fi

	# a busy port is refused
	FRONTLINE_SERVE_TOKEN=$TOKEN "$FRONTLINE" --db "$db" serve --listen "127.0.0.1:$port" \
		>"$T/out" 2>"$T/err"
	rc=$?
	expect "$be: a busy port: exit 69, says where" 69 "cannot listen on 127.0.0.1:$port" "$T/err"

	printf 'hello there\nwhere is my order A12345?\n#handoff please\n' >"$T/in"
	customer --customer C-1 --name 'Dana Reyes' --tier premium --linger 10 --csat '4 quick'
	cat >"$T/want" <<'EOF'
[connected to conversation 1 as C-1]
[you are talking to an AI agent]
agent: echo: hello there
agent: echo: where is my order A12345?
[a human agent will join shortly]
EOF
	if [ "$rc" -eq 0 ] && diff -u "$T/want" "$T/out" >"$T/diff"; then
		ok "$be: customer --url: replies in order over SSE, the handoff as a state note"
	else
		not_ok "$be: customer --url: replies in order over SSE, the handoff (exit $rc)" \
			"$T/diff" "$T/err"
	fi
	get /v1/conversations/1 >"$T/conv1"
	if grep -q '"handler":"waiting"' "$T/conv1" && grep -q '"name":"Dana Reyes","tier":"premium"' "$T/conv1" &&
		[ "$(grep -o '"role":"customer"' "$T/conv1" | wc -l)" -eq 3 ]; then
		ok "$be: the transcript: every message stored once, the customer's details"
	else
		not_ok "$be: the transcript: every message stored once, the customer's details" "$T/conv1"
	fi

	# a resolved conversation, then the customer writes again: a new one
	printf 'hi\n#resolve thanks\nactually one more thing\n' >"$T/in"
	customer --customer C-2 --json --linger 10
	if [ "$rc" -eq 0 ] &&
		grep -q '^{"type":"welcome","conversation":2,"customer":"C-2"}$' "$T/out" &&
		grep -q '"type":"state","state":"resolved"' "$T/out" &&
		grep -q '"role":"ai","text":"echo: actually one more thing"' "$T/out"; then
		ok "$be: --json; resolved, then a new conversation for the next message"
	else
		not_ok "$be: --json; resolved, then a new conversation for the next message (exit $rc)" \
			"$T/out" "$T/err"
	fi
	get /v1/conversations/3 >"$T/conv3"
	if grep -q '"customer":"C-2"' "$T/conv3" && grep -q 'actually one more thing' "$T/conv3"; then
		ok "$be: the message after the end went to the customer's new conversation"
	else
		not_ok "$be: the message after the end went to the customer's new conversation" "$T/conv3"
	fi

	# a guest, with the second token of the file
	printf 'just looking\n' >"$T/in"
	CUSTOMER_TOKEN=other-token-abcdefghijklmnop customer --linger 10
	expect "$be: a guest with the file's second token" 0 "^agent: echo: just looking$" "$T/out"
	if grep -q '^\[connected to conversation 4 as web-[0-9a-f]*\]$' "$T/out"; then
		ok "$be: a guest gets a web- id"
	else
		not_ok "$be: a guest gets a web- id" "$T/out"
	fi

	# a wrong token: said, exit 69
	printf 'hello\n' >"$T/in"
	CUSTOMER_TOKEN=wrong-token-0123456789abcdef customer --linger 2
	expect "$be: a wrong token: exit 69" 69 "invalid token" "$T/err"

	# SIGTERM with a stream open: it ends and serve exits 0. The previous
	# suite's stream file goes first: the background client truncates it
	# only once it runs, and waitfor must not find the old "event: state".
	rm -f "$T/stream"
	python3 - "$port" "$TOKEN" >"$T/stream" 2>&1 <<'EOF' &
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
c.request("GET", "/v1/conversations/4/events", headers={"Authorization": "Bearer " + sys.argv[2]})
r = c.getresponse()
print(r.status, flush=True)
for line in r:
    print(line.decode().rstrip("\n"), flush=True)
print("END", flush=True)
EOF
	stream_pid=$!
	waitfor grep -q "^event: state" "$T/stream" 2>/dev/null
	stop "$serve_pid"
	waitfor grep -q '^END$' "$T/stream"
	wait "$stream_pid"
	if [ "$rc" -eq 0 ] && grep -q '^END$' "$T/stream"; then
		ok "$be: SIGTERM ends the open event stream, exit 0"
	else
		not_ok "$be: SIGTERM ends the open event stream, exit 0 (exit $rc)" "$T/stream" \
			"$T/serve-$be.log"
	fi
	kill "$echo_pid" 2>/dev/null
	wait "$echo_pid" 2>/dev/null
	if grep -q ' POST /v1/conversations/1/messages 202 ' "$T/serve-$be.log" &&
		grep -q ' POST /v1/conversations/1/rating 200 ' "$T/serve-$be.log" &&
		! grep -q -e "$TOKEN" -e wrong-token -e other-token "$T/serve-$be.log"; then
		ok "$be: the access log has a line per request and never a token"
	else
		not_ok "$be: the access log has a line per request and never a token" "$T/serve-$be.log"
	fi
}

# with_worker BACKEND DB: the real agents answer (frontline worker), not serve_echo.
with_worker() {
	be=$1 db=$2
	NO_ECHO=1
	serve "$db" "serve-worker-$be.log" || { NO_ECHO=; return; }
	NO_ECHO=
	"$FRONTLINE" --db "$db" worker --poll 0.1 2>"$T/worker-$be.log" &
	worker_pid=$!
	pids="$pids $worker_pid"
	printf 'what are your support hours?\n' >"$T/in"
	customer --customer C-1001 --linger 20
	if [ "$rc" -eq 0 ] && grep -q '^agent: .*24 hours a day' "$T/out"; then
		ok "$be: frontline worker answers what serve stored, over SSE"
	else
		not_ok "$be: frontline worker answers what serve stored, over SSE (exit $rc)" \
			"$T/out" "$T/err" "$T/worker-$be.log"
	fi
	stop "$worker_pid"
	stop "$serve_pid"
}

# limits DB: the per-address limit and the header deadline, from the command line.
limits() {
	NO_ECHO=1
	serve "$1" serve-limits.log --max-per-address 2 --header-timeout 0.5 || { NO_ECHO=; return; }
	NO_ECHO=
	python3 - "$port" >"$T/limits" 2>&1 <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
def gone(s, within):
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
a = socket.create_connection(("127.0.0.1", port))
a.sendall(b"GET /v1/health HTTP/1.1\r\n")  # a request line, then nothing
b = socket.create_connection(("127.0.0.1", port))
time.sleep(0.2)
c = socket.create_connection(("127.0.0.1", port))
c.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
print("third refused" if gone(c, 2) else "third answered")
t0 = time.time()
print("first cut" if gone(a, 5) and time.time() - t0 < 3 else "first kept")
print("second cut" if gone(b, 5) else "second kept")
EOF
	stop "$serve_pid"
	if grep -q '^third refused$' "$T/limits" && grep -q '^first cut$' "$T/limits" &&
		grep -q '^second cut$' "$T/limits" &&
		grep -q '127.0.0.1: 1 connection cut off: 1 refused (2 open from the address)' \
			"$T/serve-limits.log" &&
		grep -q 'did not finish the headers within 0.5 s' "$T/serve-limits.log"; then
		ok "--max-per-address refuses the third; --header-timeout cuts the rest, logged"
	else
		not_ok "--max-per-address refuses the third; --header-timeout cuts the rest, logged" \
			"$T/limits" "$T/serve-limits.log"
	fi
}

suite sqlite "$T/serve.db"
with_worker sqlite "$T/worker.db"
limits "$T/limits.db"

. "$top_srcdir/tests/pg-env.sh"
if pg_start 2>"$T/pg.err"; then
	url=$(pg_newdb serve_sh)
	if "$FRONTLINE" --db "$url" handoff list >/dev/null 2>"$T/pg.err"; then
		suite postgresql "$url"
		with_worker postgresql "$(pg_newdb serve_worker)"
	else
		echo "# skipped on PostgreSQL: this build cannot open it: $(cat "$T/pg.err")"
	fi
else
	echo "# skipped on PostgreSQL: $(cat "$T/pg.err")"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
