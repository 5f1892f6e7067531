#!/bin/sh
# bench-replay.sh -- shadow-mode replay throughput and peak memory on the offline
# engine over synthetic tickets (tools/gen-tickets.py). A measurement, never a check.
# Usage: bench-replay.sh BUILDDIR SRCDIR [COUNT]
builddir=${1:-.}
srcdir=${2:-.}
count=${3:-100000}

if ! command -v python3 >/dev/null 2>&1; then
	echo "skipped: python3 not found (apt-get install python3)"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/frontline-replay.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
python3 "$srcdir/tools/gen-tickets.py" --count "$count" --seed 1 >"$tmp/tickets.jsonl" || exit 1
size=$(wc -c <"$tmp/tickets.jsonl")
turns=$(grep -o '"role": *"customer"' "$tmp/tickets.jsonl" | wc -l)
echo "$count synthetic tickets (seed 1): $((size / 1048576)) MiB, $turns customer messages"

# measure LABEL ARGS...: wall time and peak RSS of one replay, through getrusage.
measure() {
	label=$1
	shift
	rm -f "$tmp/db" "$tmp/db-wal" "$tmp/db-shm"
	python3 - "$label" "$count" "$turns" "$@" <<'PY'
import os, resource, subprocess, sys, time
label, count, turns, argv = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
t0 = time.monotonic()
with open(os.devnull, "w") as null:
    rc = subprocess.call(argv, stdout=null)
dt = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%-28s %7.1f s  %8.0f tickets/s  %8.0f turns/s  peak RSS %4.0f MiB  CPU %.1f s  (exit %d)"
      % (label, dt, count / dt, turns / dt, ru.ru_maxrss / 1024, ru.ru_utime + ru.ru_stime, rc))
PY
}

fl() {
	echo "env FRONTLINE_DATADIR=$srcdir FRONTLINE_TODAY=2026-11-24 FRONTLINE_MODEL=$builddir/triage.model" \
		"$builddir/frontline --policy $srcdir/policies/support-agent-policy.yaml --kb $srcdir/kb" \
		"--db $tmp/db"
}
# shellcheck disable=SC2046
measure "replay, stored" $(fl) replay --json "$tmp/tickets.jsonl"
# shellcheck disable=SC2046
measure "replay --no-store --out" $(fl) replay --json --no-store --out "$tmp/results.jsonl" \
	"$tmp/tickets.jsonl"
echo "(results per ticket: $(($(wc -c <"$tmp/results.jsonl") / count)) bytes on average;" \
	"the stored run commits every 500 tickets)"
