#!/bin/sh
# floor.sh -- a support floor on one PostgreSQL, measured as it grows:
# M customers chatting through frontline serve, frontline workers answering
# on the offline engine, N consoles (headless desks, tests/bench/floor-desk)
# watching every conversation live, all on loopback and one throwaway cluster.
#
# Usage: floor.sh BUILDDIR SRCDIR [--consoles N[,N...]] [--chats M[,M...]]
#                 [--seconds S] [--period P] [--workers W] [--warmup W]
#                 [--listen-only | --relay]
# Defaults: 10 consoles, 1000 chats, 60 s, a message per chat every 30 s,
# 2 workers. serve keeps idle keep-alive connections 120 s (--header-timeout),
# so customers who write every 30 s keep theirs, as a front end's pool would. Every combination of the lists is one run on a fresh database
# and prints one JSON line:
#   consoles, chats, seconds, messages (customer messages posted in the
#   window), messages_per_s, p50_reply_ms / p99_reply_ms (POST to the reply
#   on the customer's event stream), changes (messages committed in the
#   window: customers' and replies, each one change every console applies),
#   p50_fanout_ms / p99_fanout_ms (a message's stored time -- its insert,
#   just before the commit -- to the moment the last console has it),
#   missed (changes some console never had), pg_cpu_ms_per_message (all of
#   PostgreSQL's processes), worker_cpu_ms_per_message (all workers),
#   serve_cpu_ms_per_message, console_cpu_us_per_change (the consoles'
#   process over consoles x changes), console_statements_per_change (what a
#   console ran per change it applied), escalated, timeouts, errors.
# With --listen-only the consoles only LISTEN and take their notifications
# ("mode":"listen-only"; no fan-out figures): what the notifications alone
# cost PostgreSQL and a console, apart from reading what they name.
# With --relay the consoles take the changes from serve's floor stream
# (GET /v1/floor/events, as frontline console --floor does) instead of
# LISTEN: serve reads each change once for all of them ("mode":"relay").
# The window starts once every conversation is open and the consoles have
# taken them in (--warmup seconds after). Skipped (a line saying so) without
# python3 or PostgreSQL.
builddir=$1
srcdir=$2
shift 2 2>/dev/null || {
	echo "usage: floor.sh BUILDDIR SRCDIR [--consoles N,...] [--chats M,...] [--seconds S]" >&2
	exit 64
}
consoles=10 chats=1000 seconds=60 period=30 workers=2 warmup=3 mode=desk
while [ $# -gt 0 ]; do
	case $1 in
	--listen-only | --relay)
		mode=${1#--}
		shift
		continue
		;;
	--consoles) consoles=$2 ;;
	--chats) chats=$2 ;;
	--seconds) seconds=$2 ;;
	--period) period=$2 ;;
	--workers) workers=$2 ;;
	--warmup) warmup=$2 ;;
	*)
		echo "floor.sh: unknown option $1" >&2
		exit 64
		;;
	esac
	shift 2
done
FL=$builddir/frontline
DESK=$builddir/tests/bench/floor-desk
for f in "$FL" "$DESK"; do
	if [ ! -x "$f" ]; then
		echo "floor.sh: $f is not built (make bench builds it)" >&2
		exit 66
	fi
done
. "$srcdir/tests/bench/bench-pg.sh"
bench_pg_start floor
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null

# As the serve bench: turn limits lifted, so no conversation is handed off for its length.
sed 's/max_turns: 4/max_turns: 1000/; s/frustrated_turns: 3/frustrated_turns: 1000/' \
	"$srcdir/policies/support-agent-policy.yaml" >"$tmp/policy.yaml"
TOKEN=floor-bench-token-0123456789
export FRONTLINE_DATADIR=$srcdir FRONTLINE_MODEL=$builddir/triage.model FRONTLINE_TODAY=2026-11-24
export HOME=$tmp XDG_STATE_HOME=$tmp/state XDG_CONFIG_HOME=$tmp/config XDG_CACHE_HOME=$tmp/cache
postmaster=$(head -n 1 "$pg_dir/data/postmaster.pid")

wait_for() { # FILE PATTERN: up to 60 s
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	grep -q "$2" "$1" 2>/dev/null
}

run=0
for n in $(echo "$consoles" | tr ',' ' '); do
for m in $(echo "$chats" | tr ',' ' '); do
	run=$((run + 1))
	url=$(pg_newdb "floor_$run") || exit 1
	"$FL" --db "$url" db migrate >/dev/null || exit 1
	rm -f "$tmp/port"
	FRONTLINE_SERVE_TOKEN=$TOKEN "$FL" --db "$url" serve --listen 127.0.0.1:0 --port-file "$tmp/port" \
		--rate 1000000 --burst 1000000 --max-connections 6000 --max-per-address 6000 --header-timeout 120 \
		2>"$tmp/serve.log" &
	serve=$!
	pids="$pids $serve"
	cpu="serve=$serve"
	k=0
	while [ $k -lt "$workers" ]; do
		"$FL" --db "$url" --policy "$tmp/policy.yaml" --kb "$srcdir/kb" worker --id "floor-$k" \
			2>"$tmp/worker-$k.log" &
		pids="$pids $!"
		cpu="$cpu,workers=$!"
		k=$((k + 1))
	done
	set --
	[ "$mode" = listen-only ] && set -- --listen-only
	if [ "$mode" = relay ]; then
		wait_for "$tmp/port" . || { cat "$tmp/serve.log" >&2; exit 1; }
		set -- --relay "http://127.0.0.1:$(cat "$tmp/port")"
	fi
	FRONTLINE_SERVE_TOKEN=$TOKEN "$DESK" --db "$url" --consoles "$n" --srcdir "$srcdir" \
		--out "$tmp/desks.txt" "$@" 2>"$tmp/desk.log" &
	desk=$!
	pids="$pids $desk"
	cpu="$cpu,consoles=$desk"
	if ! wait_for "$tmp/port" . || ! wait_for "$tmp/desk.log" listening; then
		echo "floor.sh: serve or the consoles did not start:" >&2
		cat "$tmp/serve.log" "$tmp/desk.log" >&2
		exit 1
	fi
	python3 "$srcdir/tests/bench/floor-chats.py" --port "$(cat "$tmp/port")" --token "$TOKEN" \
		--chats "$m" --seconds "$seconds" --period "$period" --warmup "$warmup" \
		--cpu "$cpu" --pg-pid "$postmaster" --mark "$desk" --out "$tmp/chats.json" >/dev/null || {
		echo "floor.sh: the customers failed:" >&2
		cat "$tmp/serve.log" "$tmp"/worker-*.log "$tmp/desk.log" >&2
		exit 1
	}
	# The consoles write what they took in when they stop.
	kill "$desk"
	wait "$desk"
	stop_all
	psql -q -X -A -t -F ' ' -d "$url" -c "SELECT id, at FROM messages" >"$tmp/messages.txt" || exit 1
	python3 - "$n" "$tmp/chats.json" "$tmp/desks.txt" "$tmp/messages.txt" "$mode" <<'EOF'
import json, sys
consoles, mode = int(sys.argv[1]), sys.argv[5]
c = json.load(open(sys.argv[2]))
took, marks = {}, []
for line in open(sys.argv[3]):
    f = line.split()
    if f[0] == "mark":
        marks.append(int(f[1]))
    else:
        took[int(f[0])] = (int(f[1]), int(f[2]))
start, end = c["window_ms"]
day = 86400000
def in_window(ms):
    return (ms - start) % day < (end - start) % day
fanout, missed = [], 0
for line in open(sys.argv[4]):
    mid, at = line.split()
    hh, mm, ss = at[11:23].split(":")
    ms = (int(hh) * 3600 + int(mm) * 60) * 1000 + round(float(ss) * 1000)
    if not in_window(ms):
        continue
    desks, last = took.get(int(mid), (0, 0))
    if mode == "listen-only":
        fanout.append(None)
    elif desks < consoles:
        missed += 1
    else:
        fanout.append((last - ms) % day)
def pct(v, p):
    v = sorted(v)
    return round(v[min(len(v) - 1, int(p / 100 * len(v)))], 1) if v else None
cpu, msgs = c["cpu_s"], max(c["posted"], 1)
changes = len(fanout) + missed
if mode == "listen-only":
    fanout = []
out = {
    "consoles": consoles, "mode": mode, "chats": c["chats"], "seconds": c["seconds"],
    "messages": c["posted"], "messages_per_s": c["messages_per_s"],
    "p50_reply_ms": c["p50_reply_ms"], "p99_reply_ms": c["p99_reply_ms"],
    "changes": changes, "p50_fanout_ms": pct(fanout, 50), "p99_fanout_ms": pct(fanout, 99),
    "missed": missed,
    "pg_cpu_ms_per_message": round(cpu.get("postgresql", 0) * 1000 / msgs, 3),
    "worker_cpu_ms_per_message": round(cpu.get("workers", 0) * 1000 / msgs, 3),
    "serve_cpu_ms_per_message": round(cpu.get("serve", 0) * 1000 / msgs, 3),
    "console_cpu_us_per_change": round(cpu.get("consoles", 0) * 1e6 / max(consoles * changes, 1), 1),
    "console_statements_per_change":
        round((marks[1] - marks[0]) / max(consoles * changes, 1), 3) if len(marks) >= 2 else None,
    "escalated": c["escalated"], "timeouts": c["timeouts"], "errors": c["errors"],
    **({"first_errors": c["first_errors"]} if c["errors"] else {}),
}
print(json.dumps(out))
EOF
done
done
