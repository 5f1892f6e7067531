#!/bin/sh
# bench-serve.sh -- messages/s end to end: HTTP -> frontline serve -> PostgreSQL -> N
# frontline workers (offline engine) -> PostgreSQL -> NOTIFY -> serve -> SSE.
#
# Usage: bench-serve.sh BUILDDIR SRCDIR [CONVERSATIONS] [MESSAGES]
# On a throwaway loopback cluster (tests/pg-env.sh; skipped without
# PostgreSQL). For 1, 2 and 4 workers, a fresh database, one serve and the
# workers; tests/bench/bench-serve.py then runs CONVERSATIONS customers at
# once (default 200), each posting MESSAGES messages (default 10) one after
# the other and reading the replies from its event stream. The policy's turn
# limits are lifted (as the chat bench does) so no conversation is handed
# off for its length. Prints a table.
builddir=${1:-.}
srcdir=${2:-.}
convs=${3:-200}
msgs=${4:-10}
FL=$builddir/frontline

. "$srcdir/tests/bench/bench-pg.sh"
bench_pg_start bench-serve
ulimit -n 4096 2>/dev/null

sed 's/max_turns: 4/max_turns: 1000/; s/frustrated_turns: 3/frustrated_turns: 1000/' \
	"$srcdir/policies/support-agent-policy.yaml" >"$tmp/policy.yaml"
TOKEN=bench-serve-token-0123456789
export FRONTLINE_DATADIR=$srcdir FRONTLINE_MODEL=$builddir/triage.model FRONTLINE_TODAY=2026-11-24
export HOME=$tmp XDG_STATE_HOME=$tmp/state XDG_CONFIG_HOME=$tmp/config XDG_CACHE_HOME=$tmp/cache

echo "$convs customers at once, $msgs messages each, one after another; offline engine;"
echo "serve, the workers, PostgreSQL and the load generator share $(nproc) cores"
echo
echo "| commit | workers | messages | wall s | messages/s | p50 ms | p99 ms | max ms | escalated | timeouts |"
echo "|--------|---------|----------|--------|------------|--------|--------|--------|-----------|----------|"
# synchronous_commit=off (every libpq connection of these processes, through
# PGOPTIONS) shows what waiting for the WAL flush costs; "on" is what runs.
# PostgreSQL's CPU: the postmaster's own and that of its exited backends
# (reaped into cutime/cstime once serve and the workers disconnect).
pg_cpu() {
	awk '{ printf "%.2f", ($14 + $15 + $16 + $17) / 100 }' \
		"/proc/$(head -n 1 "$pg_dir/data/postmaster.pid")/stat" 2>/dev/null || echo 0
}
for sync in on off; do
for w in 1 2 4; do
	pg0=$(pg_cpu)
	PGOPTIONS="-c synchronous_commit=$sync"
	export PGOPTIONS
	url=$(PGOPTIONS= pg_newdb "bench_serve_${sync}_$w") || exit 1
	"$FL" --db "$url" db migrate >/dev/null 2>&1 # when the build has it; store_open migrates anyway
	rm -f "$tmp/port"
	FRONTLINE_SERVE_TOKEN=$TOKEN "$FL" --db "$url" serve --listen 127.0.0.1:0 --port-file "$tmp/port" \
		--rate 1000000 --burst 1000000 --max-connections 3000 --max-per-address 3000 \
		2>"$tmp/serve.log" &
	pids="$pids $!"
	i=0
	while [ ! -s "$tmp/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	if [ ! -s "$tmp/port" ]; then
		echo "serve did not start:"
		cat "$tmp/serve.log"
		exit 1
	fi
	n=0
	while [ $n -lt $w ]; do
		"$FL" --db "$url" --policy "$tmp/policy.yaml" --kb "$srcdir/kb" worker --id "bench-$n" \
			2>"$tmp/worker-$n.log" &
		pids="$pids $!"
		n=$((n + 1))
	done
	python3 "$srcdir/tests/bench/bench-serve.py" --port "$(cat "$tmp/port")" --token "$TOKEN" \
		--conversations "$convs" --messages "$msgs" --label "w$w" >"$tmp/out.json" || {
		echo "the load generator failed:"
		cat "$tmp/out.json" "$tmp/serve.log" "$tmp"/worker-*.log
		exit 1
	}
	python3 - "$w" "$tmp/out.json" "$sync" <<'EOF'
import json, sys
r = json.load(open(sys.argv[2]))
print("| %6s | %7s | %8d | %6.2f | %10.1f | %6.1f | %6.1f | %6.1f | %9d | %8d |" % (
    sys.argv[3], sys.argv[1], r["messages"], r["wall_s"], r["per_s"], r["p50_ms"] or 0, r["p99_ms"] or 0,
    r["max_ms"] or 0, r["escalated"], r["timeouts"]))
if r["errors"]:
    print("errors:", "; ".join(r["errors"]))
EOF
	# CPU seconds each process used (utime + stime), for where the time went.
	cpu=""
	for p in $pids; do
		cpu="$cpu $(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$p/stat" 2>/dev/null)"
	done
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	pids=
	sleep 1 # the backends exit and are reaped
	echo "$sync $w $(awk -v a="$pg0" -v b="$(pg_cpu)" 'BEGIN { printf "%.2f", b - a }') $cpu" >>"$tmp/cpu"
done
done
unset PGOPTIONS
echo
echo "CPU seconds used ($((convs * msgs)) messages per run): PostgreSQL (all backends), serve, each worker"
while read -r s w pg c; do
	echo "  synchronous_commit=$s, $w worker(s): postgresql $pg, serve+workers $c"
done <"$tmp/cpu"
