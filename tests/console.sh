#!/bin/sh
# console.sh -- the ncurses console end to end, driven through tmux
# (send-keys / capture-pane) with isolated config and state directories.
#
# Run by make check, which sets FRONTLINE, top_srcdir and top_builddir; by
# hand: FRONTLINE=./frontline top_srcdir=. sh tests/console.sh
# Skipped (exit 77) without tmux. Prints "ok"/"FAIL" per check and
# "N passed, M failed" last.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${FRONTLINE:=${top_builddir:-.}/frontline}"
: "${FRONTLINE_MODEL:=${top_builddir:-.}/triage.model}"

if ! command -v tmux >/dev/null 2>&1; then
	echo "tmux is not installed: skipping"
	exit 77
fi
case $FRONTLINE in /*) ;; *) FRONTLINE=$(pwd)/$FRONTLINE ;; esac
case $top_srcdir in /*) ;; *) top_srcdir=$(pwd)/$top_srcdir ;; esac
case $FRONTLINE_MODEL in /*) ;; *) FRONTLINE_MODEL=$(pwd)/$FRONTLINE_MODEL ;; esac

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-console.XXXXXX") || exit 99
TMUX_SOCK=$T/tmux.sock
tm() { tmux -S "$TMUX_SOCK" "$@"; }
cleanup() {
	tm kill-server 2>/dev/null
	for p in $bg_pids; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
bg_pids=
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$T/home" "$T/cache" "$T/state" "$T/config" "$T/run"
chmod 700 "$T/run"
HOME=$T/home XDG_CACHE_HOME=$T/cache XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
XDG_RUNTIME_DIR=$T/run FRONTLINE_TODAY=2026-11-24 FRONTLINE_DATADIR=$top_srcdir
export HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_CONFIG_HOME XDG_RUNTIME_DIR FRONTLINE_TODAY
export FRONTLINE_DATADIR FRONTLINE_MODEL
unset TMUX NO_COLOR
LANG=C.UTF-8 LC_ALL=C.UTF-8
export LANG LC_ALL

passed=0 failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
not_ok() {
	failed=$((failed + 1))
	echo "FAIL - $1"
	[ -f "$T/screen" ] && sed 's/^/    | /' "$T/screen"
	return 0
}

# The console under tmux: start NAME COLSxROWS COMMAND...
start() {
	name=$1 size=$2
	shift 2
	tm -f /dev/null new-session -d -s "$name" -x "${size%x*}" -y "${size#*x}" \
		"env TERM=tmux-256color $*; echo console-exited-\$?; sleep 30"
}
screen() { tm capture-pane -p -t "$1" >"$T/screen"; }
# wait_for NAME PATTERN [SECONDS]: until the screen matches (grep -E).
wait_for() {
	i=0
	while [ $i -lt $((${3:-20} * 10)) ]; do
		screen "$1"
		grep -Eq -- "$2" "$T/screen" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
check() { # check NAME PATTERN MESSAGE [SECONDS]
	if wait_for "$1" "$2" "$4"; then ok "$3"; else not_ok "$3 (no /$2/)"; fi
}

# --- the demo: every panel, live chats, escalations and stale flags -----------
start demo 160x45 "$FRONTLINE" --db "$T/demo.db" console --demo --speed 8 --no-listen --name sam
check demo 'Queue' "the demo shows the queue"
for panel in Triage Knowledge Escalation Guardrails; do
	check demo "$panel" "the demo shows the $panel panel"
done
check demo 'AI: ' "the demo shows live AI replies" 30
check demo 'WAIT' "a demo conversation escalates to the queue" 40
# The stale fact shows for the conversation that retrieved it: walk the queue.
found=
for i in $(seq 1 30); do
	screen demo
	if grep -q 'STALE' "$T/screen"; then found=1; break; fi
	tm send-keys -t demo j
	sleep 0.3
done
if [ -n "$found" ]; then ok "a stale knowledge fact is flagged STALE"; else not_ok "no STALE flag while walking the queue"; fi
tm send-keys -t demo q
check demo 'console-exited-0' "q quits the console with status 0" 10

# --- a customer joins over the socket; the supervisor takes over and replies --
SOCK=$T/run/frontline/console.sock
start live 150x40 "$FRONTLINE" --db "$T/live.db" console --name sam
if wait_for live 'Queue' 10 && [ -S "$SOCK" ]; then ok "the console listens on \$XDG_RUNTIME_DIR/frontline/console.sock"; else not_ok "no socket at $SOCK"; fi
mkfifo "$T/cust.in"
"$FRONTLINE" customer --name "Dana Reyes" --customer C-1001 --json --linger 60 <"$T/cust.in" >"$T/cust.out" 2>"$T/cust.err" &
bg_pids="$bg_pids $!"
exec 3>"$T/cust.in"
printf 'How long does standard shipping take?\n' >&3
check live 'Dana Reyes: How long does standard shipping take' "a customer's message appears in the console"
check live 'AI: ' "the AI's reply shows in the console"
i=0; while [ $i -lt 50 ] && ! grep -q '"role":"ai"' "$T/cust.out"; do sleep 0.1; i=$((i + 1)); done
if grep -q '"role":"ai"' "$T/cust.out"; then ok "the AI's reply reaches the customer"; else not_ok "no AI reply at the customer" ; fi

printf 'I want to talk to a real person please\n' >&3
check live 'WAIT' "asking for a person puts the conversation in the queue"
check live 'customer-requested-human' "the escalation reason shows"
tm send-keys -t live Enter
check live 'Handoff packet #[0-9]+' "takeover shows the handoff packet first"
tm send-keys -t live Space
check live 'reply to Dana Reyes>' "after the packet, the reply line"
tm send-keys -t live -l 'Hi Dana, Sam here from the shipping team.'
tm send-keys -t live Enter
i=0; while [ $i -lt 50 ] && ! grep -q '"role":"human"' "$T/cust.out"; do sleep 0.1; i=$((i + 1)); done
if grep '"role":"human"' "$T/cust.out" | grep -q '"text":"Hi Dana, Sam here from the shipping team."'; then
	ok "the supervisor's reply reaches the customer"
else
	not_ok "the human reply did not reach the customer"; sed 's/^/    | /' "$T/cust.out"
fi
# A reply that breaks the guardrails is held back, then sent on a second Enter.
tm send-keys -t live -l 'Your SSN on file is 123-45-6789'
tm send-keys -t live Enter
check live 'held back' "a reply with guardrail warnings is held back"
check live 'pii:national_id' "the guardrails panel names the violation"
if grep -q '123-45-6789' "$T/cust.out"; then not_ok "the held reply reached the customer"; else ok "the held reply did not reach the customer"; fi
tm send-keys -t live Escape
sleep 0.3
check live 'reply line left' "Escape leaves the reply line"

# The customer's escape sequences are drawn inert.
printf 'look \033]0;PWNED\007\033[31mRED\033[0m \033[2J done\n' >&3
check live 'look .*RED.* done' "a message with escape sequences shows as text"
title=$(tm display-message -p -t live '#{pane_title}')
case $title in *PWNED*) not_ok "the customer's text set the terminal title ($title)" ;; *) ok "the customer's text did not set the terminal title" ;; esac
screen live
if grep -q 'Queue' "$T/screen" && grep -q 'look' "$T/screen"; then ok "the screen survived the escape sequences"; else not_ok "the screen was cleared by the customer's text"; fi

# Handoffs screen: the packet of this escalation is readable.
tm send-keys -t live h
check live 'handoffs \([0-9]+\)' "h opens the Handoffs screen"
check live 'customer-requested-human' "the packet is listed with its reason"
tm send-keys -t live Enter
check live 'Packet #[0-9]+ +reason customer-requested-human' "Enter reads the packet"
check live 'Customer: C-1001' "the packet says who the customer is"
# Each of the packet's lines once: the issue in the customer's words, what was tried, the knowledge.
screen live
if [ "$(grep -c 'I want to talk to a real person' "$T/screen")" -eq 1 ] &&
	[ "$(grep -c 'Tried: ' "$T/screen")" -eq "$(grep -c '^ *- Tried: ' "$T/screen")" ] &&
	[ "$(grep -c 'Knowledge: ' "$T/screen")" -eq "$(grep -c '^ *- Knowledge: ' "$T/screen")" ]; then
	ok "the packet reader shows each line once"
else
	not_ok "the packet reader shows lines twice"
fi
tm send-keys -t live q
tm send-keys -t live q
check live 'Queue' "q goes back to Supervise"

# Resize keeps the layout.
for size in 100x30 80x24 200x60; do
	tm resize-window -t live -x "${size%x*}" -y "${size#*x}"
	sleep 0.3
	if wait_for live 'Queue' 5 && grep -q 'Dana' "$T/screen"; then ok "resized to $size: the layout holds"; else not_ok "resized to $size"; fi
done
tm resize-window -t live -x 30 -y 8
check live 'too small' "a tiny terminal says it is too small"
tm resize-window -t live -x 150 -y 40

# Resolve, quit, restart: everything comes back from the store.
tm send-keys -t live q
check live 'console-exited-0' "the console quits cleanly with a customer connected" 10
exec 3>&-
start again 150x40 "$FRONTLINE" --db "$T/live.db" console --name sam --no-listen
check again 'HUMN.*Dana Reyes' "after a restart the takeover is still there"
check again 'Hi Dana, Sam here' "after a restart the conversation is still there"
tm send-keys -t again r
check again 'close conversation' "r asks for the outcome"
tm send-keys -t again r
check again 'DONE.*Dana Reyes' "the conversation is resolved"
tm send-keys -t again q
check again 'console-exited-0' "quits again" 10

# --- trainer review, metrics and shadow replay screens ------------------------
# A rated chat, answered and never confirmed: unconfirmed on the Metrics screen.
printf 'what are your support hours?\n' |
	"$FRONTLINE" --db "$T/live.db" chat --customer C-2002 --csat 4 >"$T/chat.out" 2>&1
start tools 150x40 "$FRONTLINE" --db "$T/live.db" console --name sam --no-listen
wait_for tools 'Queue' 10
tm send-keys -t tools F3
check tools 'trainer review' "F3 opens the Review screen"
check tools '\[ \] #1 .*customer-requested-human' "the packet is listed unreviewed"
tm send-keys -t tools Enter
check tools 'AI decided: .*reason customer-requested-human' "Enter shows what the AI decided"
check tools 'Customer: I want to talk to a real person' "the packet comes with its transcript"
tm send-keys -t tools c
tm send-keys -t tools e
check tools 'Correction: .*reason (legal-language-detected|enterprise-billing-policy)' "c and e change the correction"
tm send-keys -t tools m
check tools 'missing from the packet>' "m asks for the missing information"
tm send-keys -t tools -l 'the order number'
tm send-keys -t tools Enter
check tools 'Missing: +the order number' "the missing information is part of the draft"
tm send-keys -t tools s
check tools '\[x\] #1 .*reviewed: category, reason, missing-information' "s saves the review and the list marks it"
if "$FRONTLINE" --db "$T/live.db" handoff review --list | grep -Eq '^ +1 +reviewed +C-1001 .*wrong: category, reason, missing-information'; then
	ok "the console's review is in the store"
else
	not_ok "the console's review is not in the store"
fi

tm send-keys -t tools F5
check tools 'shadow replay' "F5 opens the Replay screen"
check tools 'Tickets: .*data/tickets/demo.jsonl' "the demo ticket set is the default"
tm send-keys -t tools f
check tools 'tickets file>' "f asks for another ticket file"
tm send-keys -t tools C-u
tm send-keys -t tools -l "$top_srcdir/tests/data/console-replay.jsonl"
tm send-keys -t tools Enter
check tools 'Report: 6 tickets, 1 bad lines, agent version .*, run 1' "the replay of a small fixture finishes with its report" 60
# r replays the same file again (under the sanitizer build a use after free aborts here).
tm send-keys -t tools r
check tools 'Report: 6 tickets, 1 bad lines, agent version .*, run 2' "r replays the same file again" 60
check tools 'Tickets: .*tests/data/console-replay.jsonl' "the Replay screen still names the file"
check tools 'agent would escalate' "the report shows the escalation confusion matrix"
check tools 'precision [0-9.]+ +recall [0-9.]+' "the report shows precision and recall"
check tools 'Escalation threshold sweep' "the report shows the threshold sweep"
tm send-keys -t tools j
tm send-keys -t tools j

tm send-keys -t tools F4
check tools 'frontline  metrics' "F4 opens the Metrics screen"
check tools 'unconfirmed +█+ +4.00 +\(1 ratings, 1 sessions\)' "the metrics show CSAT by path as a bar"
check tools 'human +no ratings \(1 sessions\)' "the metrics are the live sessions' (not the replay's)"
check tools 'Escalation to a human by category' "the metrics show escalation rates by category"
check tools 'sessions +[▁▂▃▄▅▆▇█]' "the metrics show the daily series as sparklines"
for size in 80x24 200x60; do
	tm resize-window -t tools -x "${size%x*}" -y "${size#*x}"
	sleep 0.3
	check tools 'frontline  metrics' "the Metrics screen at $size"
done
tm resize-window -t tools -x 30 -y 8
check tools 'too small' "the Metrics screen says when the terminal is too small"
tm resize-window -t tools -x 150 -y 40
# A screen's key works from every screen, not only its F-key.
tm send-keys -t tools v
check tools 'trainer review' "v opens the Review screen from the Metrics screen"
tm send-keys -t tools m
check tools 'frontline  metrics' "m opens the Metrics screen from the Review list"

# A replay that cannot finish (its file is a FIFO nobody writes) is cancelled.
mkfifo "$T/never.jsonl"
tm send-keys -t tools F5
tm send-keys -t tools f
tm send-keys -t tools C-u
tm send-keys -t tools -l "$T/never.jsonl"
tm send-keys -t tools Enter
check tools 'replaying: c cancels' "a replay runs in the background"
tm resize-window -t tools -x 90 -y 30
check tools 'replaying: c cancels' "the Replay screen resizes while it runs"
tm send-keys -t tools c
check tools 'cancelled after' "c cancels the replay"
check tools 'replay cancelled' "the status says so"
if pgrep -f "replay --progress=json --json --out .* $T/never.jsonl" >/dev/null; then
	not_ok "the cancelled replay is still running"
else
	ok "the cancelled replay is gone"
fi
tm send-keys -t tools '?'
check tools 'frontline  help ' "? opens the help from the Replay screen"
check tools 'v, F3 +the Review screen' "the help lists each screen with its keys"
tm send-keys -t tools NPage NPage
check tools 'Replay \(s, F5\)' "a help taller than the terminal scrolls to its end"
tm send-keys -t tools x
check tools 'cancelled after' "any key goes back to the Replay screen as it was"
tm send-keys -t tools h
check tools 'handoffs \([0-9]+\)' "h opens the Handoffs screen from the Replay screen"
tm send-keys -t tools F3
check tools 'trainer review' "F3 again: the Review screen"
tm resize-window -t tools -x 80 -y 24
check tools '\[x\] #1' "the Review screen at 80x24"
tm send-keys -t tools q
tm send-keys -t tools q
check tools 'console-exited-0' "quits from the tool screens" 10

# SIGTERM restores the terminal and exits.
start term 120x30 "$FRONTLINE" --db "$T/term.db" console --no-listen
wait_for term 'Queue' 10
pid=$(pgrep -f "^$FRONTLINE --db $T/term.db" | head -n 1)
kill -TERM "$pid" 2>/dev/null
check term 'console-exited-' "SIGTERM ends the console" 10

# Quitting while a turn waits on a slow model: the console gives the terminal
# back, says what it finishes, and does not draw itself over the shell again.
python3 "$top_srcdir/tests/mock-openai.py" --auto --delay-ms 3000 --port-file "$T/mock.port" \
	>/dev/null 2>"$T/mock.err" &
bg_pids="$bg_pids $!"
i=0; while [ ! -s "$T/mock.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
printf 'endpoints:\n  openai:\n    base_url: http://127.0.0.1:%s/v1\n' "$(cat "$T/mock.port")" >"$T/slow.yaml"
SOCK2=$T/slow.sock
start slow 120x30 OPENAI_API_KEY=sk-test "$FRONTLINE" --config "$T/slow.yaml" --backend openai \
	--db "$T/slow.db" console --name sam --socket "$SOCK2"
wait_for slow 'Queue' 10
printf 'How long does standard shipping take?\n' |
	"$FRONTLINE" customer --socket "$SOCK2" --customer C-1001 --linger 30 >/dev/null 2>&1 &
bg_pids="$bg_pids $!"
check slow '1 answering' "a turn waits on the slow model"
tm send-keys -t slow q
check slow 'finishing 1 turn in flight' "q with a turn in flight says so on the shell's screen" 5
sleep 1
screen slow
if grep -q 'Queue' "$T/screen"; then not_ok "the console drew itself again after giving the terminal back"; else ok "the console stays off the screen while the turn finishes"; fi
check slow 'console-exited-0' "and exits 0 once the turn is done" 30

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
