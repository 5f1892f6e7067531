#!/bin/sh
# customer.sh -- frontline customer, end to end, against tests/fake_console
# (src/listener.c with an echoing stand-in for the desk; see its header for
# what it answers).
#
# Standard input a script: replies printed in order, --json objects, state
# notes, forward compatibility, escape sequences from the console printed
# inert, the linger timeout, a resolved conversation, a dropped connection,
# a refused hello, no console (exit 69 naming the socket), the default
# socket under XDG_RUNTIME_DIR, TCP, bad options (exit 64). On a terminal
# (a tmux pane; skipped without tmux): the readline prompt, a message
# arriving while the customer types is printed above the unfinished line.
#
# Run by make check; by hand:
# FRONTLINE=./frontline top_builddir=. sh tests/customer.sh
# Temporary files go under mktemp -d. Prints "N passed, M failed" last.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"
: "${FRONTLINE:=$top_builddir/frontline}"
FAKE=${FAKE_CONSOLE:-$top_builddir/tests/fake_console}

if [ ! -x "$FAKE" ]; then
	echo "customer.sh: no $FAKE (make check builds it)" >&2
	exit 99
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-customer.XXXXXX") || exit 99
fake_pids=
cleanup() {
	[ -e "$T/tmux.sock" ] && tmux -S "$T/tmux.sock" kill-server 2>/dev/null
	for p in $fake_pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$T/home" "$T/cache" "$T/state" "$T/config"
HOME=$T/home XDG_CACHE_HOME=$T/cache XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
FRONTLINE_DATADIR=$top_srcdir FRONTLINE_TODAY=2026-11-24 LC_ALL=C
export HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_CONFIG_HOME FRONTLINE_DATADIR FRONTLINE_TODAY LC_ALL
unset XDG_RUNTIME_DIR

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
		[ -s "$f" ] && sed -n '1,30s/^/    | /p' "$f" | tr '\001-\010\013-\037\177' '[?*]'
	done
	return 0
}

check() { # NAME COMMAND...: ok when the command succeeds
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "$T/out" "$T/err"; fi
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

# fake NAME ARGS...: starts a fake console logging to $T/NAME.log; sets
# $fake_pid, $fake_path and $fake_port once it listens.
fake() {
	log=$T/$1.log
	shift
	"$FAKE" "$@" >"$log" 2>"$log.err" &
	fake_pid=$!
	fake_pids="$fake_pids $fake_pid"
	if ! waitfor grep -q '^listening ' "$log"; then
		not_ok "the fake console starts ($*)" "$log.err"
		finish
	fi
	read -r _ fake_path fake_port <"$log"
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# customer ARGS...: the command under test, stdin from $T/in; sets $rc.
customer() {
	"$FRONTLINE" customer "$@" <"$T/in" >"$T/out" 2>"$T/err"
	rc=$?
}

expect_rc() { # NAME WANT
	if [ "$rc" -eq "$2" ]; then
		ok "$1: exit $2"
	else
		not_ok "$1: exit $rc, wanted $2" "$T/out" "$T/err"
	fi
}

fake main --socket "$T/console.sock"
SOCK=$T/console.sock
fake_pid_main=$fake_pid

# ------------------------------------------------ a script on standard input
printf 'hello\nhuman please\n\n   \nthanks\r\nmulti please\nfuture please\nlast line without a newline' >"$T/in"
customer --socket "$SOCK" --name 'Dana Reyes' --tier premium --customer C-1001
expect_rc "a script of messages" 0
cat >"$T/want" <<'EOF'
[connected to conversation 1 as C-1001]
[you are talking to an AI agent]
agent: echo: hello
agent: echo: human please
[a human agent will join shortly]
[you are talking to a human agent]
Sam (human): Hi, this is Sam. I can take it from here.
agent: echo: thanks
agent: first line second line
agent: with extras
agent: echo: future please
agent: echo: last line without a newline
EOF
if diff -u "$T/want" "$T/out" >"$T/diff"; then
	ok "each line answered in order; state notes; unknown types and fields ignored"
else
	not_ok "each line answered in order; state notes; unknown types and fields ignored" "$T/diff" "$T/err"
fi
# The console saw the hello, each message once and in order, then the customer leave.
waitfor grep -q '^gone C-1001$' "$T/main.log"
cat >"$T/want" <<'EOF'
hello C-1001 Dana Reyes premium
say C-1001 hello
say C-1001 human please
say C-1001 thanks
say C-1001 multi please
say C-1001 future please
say C-1001 last line without a newline
gone C-1001
EOF
if sed 1d "$T/main.log" | diff -u "$T/want" - >"$T/diff"; then
	ok "the console got the hello, every message once, in order, then bye"
else
	not_ok "the console got the hello, every message once, in order, then bye" "$T/diff"
fi

# ------------------------------------------------ --json
printf 'hi\nhuman please\n' >"$T/in"
customer --socket "$SOCK" --json
expect_rc "--json" 0
if command -v python3 >/dev/null 2>&1; then
	if python3 -c '
import json, sys
types = []
for line in open(sys.argv[1]):
    o = json.loads(line)
    types.append(o["type"] + ":" + o.get("state", o.get("role", "")))
want = ["welcome:", "state:ai", "message:ai", "message:ai", "state:waiting",
        "state:human", "message:human"]
sys.exit(0 if types == want else "got %s" % types)
' "$T/out" 2>"$T/json.err"; then
		ok "--json prints one protocol object per line, in order"
	else
		not_ok "--json prints one protocol object per line, in order" "$T/json.err" "$T/out"
	fi
else
	check "--json prints one protocol object per line (no python3: the shape only)" \
		test "$(grep -c '^{"type":"[a-z]*".*}$' "$T/out")" -eq 7
fi
check "--json: the welcome names a guest id" grep -q '^{"type":"welcome","conversation":[0-9]*,"customer":"guest-' "$T/out"

# ------------------------------------------------ escape sequences
ESC=$(printf '\033')
printf 'evil please\nesc \033[31mred\033[0m \033]0;title\007 done\n' >"$T/in"
customer --socket "$SOCK"
expect_rc "escape sequences" 0
inert() { # FILE: no ESC, BEL, DEL, C1 CSI or RLO in it
	! grep -q "$ESC" "$1" && ! grep -q "$(printf '\007')" "$1" && ! grep -q "$(printf '\177')" "$1" &&
		! grep -q "$(printf '\302\233')" "$1" && ! grep -q "$(printf '\342\200\256')" "$1"
}
check "escape sequences from the console are printed inert" inert "$T/out"
check "... as visible text (text_sanitize's symbols)" grep -qxF 'agent: ␛[2J␛]0;pwned␇ red␛[31m csi␛[31m del␡ bidi� end' "$T/out"
check "... also when they echo the customer's own" grep -qxF 'agent: echo: esc ␛[31mred␛[0m ␛]0;title␇ done' "$T/out"
customer --socket "$SOCK" --json
check "--json output is inert too (escaped)" inert "$T/out"
check "... and keeps the text" grep -qF '"text":"\u001b[2J\u001b]0;pwned\u0007 red' "$T/out"

# ------------------------------------------------ linger, resolve, drop, refuse
printf 'silent please\nafter the silence\n' >"$T/in"
customer --socket "$SOCK" --linger 0.5
expect_rc "an unanswered message" 0
check "... the next line goes after --linger" grep -qxF 'agent: echo: after the silence' "$T/out"
check "... saying so" grep -qF 'no answer within 0.5 s' "$T/err"

printf 'resolve please\nnot sent\n' >"$T/in"
customer --socket "$SOCK"
expect_rc "a resolved conversation the console closes" 0
check "... ends with the note" test "$(tail -n 1 "$T/out")" = "[conversation resolved]"
check "... and says the rest was not sent" grep -qF 'the rest of the input is not sent' "$T/err"

printf 'drop please\nnot sent\n' >"$T/in"
customer --socket "$SOCK"
expect_rc "the console drops the connection" 69
check "... a clear message" grep -qF "the console at $SOCK closed the connection" "$T/err"

printf 'hi\n' >"$T/in"
customer --socket "$SOCK" --customer reject-me
expect_rc "a refused hello" 69
check "... the console's reason is printed" grep -qF 'the console says: customer reject-me is not welcome here' "$T/err"

# ------------------------------------------------ over-long input
awk 'BEGIN { s = "x"; while (length(s) < 20000) s = s s; print s; print "short" }' >"$T/in"
customer --socket "$SOCK"
expect_rc "a line over the size limit" 0
check "... is skipped with a warning" grep -qF 'stdin:1: longer than 16384 bytes; not sent' "$T/err"
check "... and the next one is answered" grep -qxF 'agent: echo: short' "$T/out"

# ------------------------------------------------ no console
printf 'hi\n' >"$T/in"
customer --socket "$T/nobody.sock"
expect_rc "no console" 69
check "... the message names the socket" grep -qF "no console is listening on $T/nobody.sock" "$T/err"
customer
expect_rc "no console at the default socket" 69
check "... \$XDG_STATE_HOME/frontline/console.sock without XDG_RUNTIME_DIR" \
	grep -qF "no console is listening on $T/state/frontline/console.sock" "$T/err"

# ------------------------------------------------ the default socket, TCP
mkdir "$T/run"
chmod 700 "$T/run"
XDG_RUNTIME_DIR=$T/run
export XDG_RUNTIME_DIR
fake run
check "the console's default socket is \$XDG_RUNTIME_DIR/frontline/console.sock" \
	test "$fake_path" = "$T/run/frontline/console.sock"
check "... mode 0600 in a 0700 directory" \
	test "$(stat -c %a "$T/run/frontline") $(stat -c %a "$fake_path")" = "700 600"
printf 'hi\n' >"$T/in"
customer
expect_rc "the customer finds it" 0
check "... and is answered" grep -qxF 'agent: echo: hi' "$T/out"
kill "$fake_pid"
wait "$fake_pid"
check "the socket file goes with the console" test ! -e "$T/run/frontline/console.sock"
unset XDG_RUNTIME_DIR

fake tcp --tcp 0
printf 'over tcp\n' >"$T/in"
customer --tcp "$fake_port"
expect_rc "--tcp PORT" 0
check "... answered" grep -qxF 'agent: echo: over tcp' "$T/out"
kill "$fake_pid"
wait "$fake_pid"
customer --tcp "$fake_port"
expect_rc "no console on the port" 69
check "... the message names it" grep -qF "no console is listening on 127.0.0.1:$fake_port" "$T/err"

# ------------------------------------------------ bad options
for opts in "--tier gold" "--tcp 0" "--tcp 70000" "--tcp x" "--socket $SOCK --tcp 1" \
	"--linger -1" "--linger soon" "--customer a/b" "--bogus" "extra" "--csat 7" \
	"--csat good" "--csat 45"; do
	# shellcheck disable=SC2086
	customer $opts
	expect_rc "customer $opts" 64
done

# ------------------------------------------------ a rating
printf 'hi\n' >"$T/in"
customer --socket "$SOCK" --customer C-rate --linger 5 --csat '3 fine, thanks'
expect_rc "--csat" 0
waitfor grep -q '^gone C-rate$' "$T/main.log"
if grep -E '^(say|rate|gone) C-rate' "$T/main.log" | tr '\n' '|' |
	grep -qxF 'say C-rate hi|rate C-rate 3 fine, thanks|gone C-rate|'; then
	ok "--csat: the rating goes before bye"
else
	not_ok "--csat: the rating goes before bye" "$T/main.log"
fi
customer --socket "$SOCK" --customer C-norate --linger 5
waitfor grep -q '^gone C-norate$' "$T/main.log"
check "a script is never asked for a rating" sh -c "! grep -q '^rate C-norate' '$T/main.log' && ! grep -q 'How did we do' '$T/out'"

# ------------------------------------------------ on a terminal
if ! command -v tmux >/dev/null 2>&1; then
	echo "ok - on a terminal # SKIP no tmux"
	finish
fi
: >"$T/in"
TMUX_CMD="tmux -S $T/tmux.sock -f /dev/null"
pane() {
	$TMUX_CMD capture-pane -p -t fl >"$T/pane" 2>/dev/null
}
pane_has() { # FIXED-STRING: a whole line of the pane
	pane && grep -qxF -- "$1" "$T/pane"
}
keys() {
	$TMUX_CMD send-keys -t fl "$@"
}
if ! TERM=xterm $TMUX_CMD new-session -d -s fl -x 100 -y 30 \
	"'$FRONTLINE' customer --socket '$SOCK' --name Dana --customer C-tty 2>'$T/tty.err'; echo EXIT=\$?; sleep 60"; then
	not_ok "tmux starts a session"
	finish
fi
if waitfor pane_has 'you:'; then
	ok "on a terminal: the prompt after the welcome"
else
	not_ok "on a terminal: the prompt after the welcome" "$T/pane" "$T/tty.err"
fi
keys 'hello there' Enter
if waitfor pane_has 'agent: echo: hello there'; then
	ok "on a terminal: a message and its answer"
else
	not_ok "on a terminal: a message and its answer" "$T/pane" "$T/tty.err"
fi
keys 'half a'
waitfor pane_has 'you: half a'
kill -USR1 "$fake_pid_main"
if waitfor pane_has 'agent: pushed' &&
	[ "$(grep -v '^$' "$T/pane" | tail -n 2 | tr '\n' '|')" = "agent: pushed|you: half a|" ]; then
	ok "on a terminal: what arrives while typing is printed above the unfinished line"
else
	not_ok "on a terminal: what arrives while typing is printed above the unfinished line" "$T/pane"
fi
keys ' sentence' Enter
if waitfor pane_has 'agent: echo: half a sentence'; then
	ok "on a terminal: the unfinished line was kept"
else
	not_ok "on a terminal: the unfinished line was kept" "$T/pane" "$T/tty.err"
fi
keys 'evil please' Enter
if waitfor pane_has 'agent: ␛[2J␛]0;pwned␇ red␛[31m csi␛[31m del␡ bidi� end' &&
	pane_has 'you: hello there'; then
	ok "on a terminal: escape sequences are inert (the screen was not cleared)"
else
	not_ok "on a terminal: escape sequences are inert (the screen was not cleared)" "$T/pane"
fi
keys C-d
if waitfor pane_has 'How did we do? (1-5, optional comment; Enter to skip)'; then
	ok "on a terminal: leaving asks for a rating"
else
	not_ok "on a terminal: leaving asks for a rating" "$T/pane" "$T/tty.err"
fi
keys '4 lovely chat' Enter
if waitfor grep -q '^rate C-tty 4 lovely chat$' "$T/main.log" &&
	waitfor pane_has '[thank you for rating us]'; then
	ok "on a terminal: the rating is sent"
else
	not_ok "on a terminal: the rating is sent" "$T/pane" "$T/main.log"
fi
if waitfor pane_has 'EXIT=0' && waitfor grep -q '^gone C-tty$' "$T/main.log"; then
	ok "on a terminal: then bye, and exit 0"
else
	not_ok "on a terminal: then bye, and exit 0" "$T/pane" "$T/tty.err"
fi
finish
