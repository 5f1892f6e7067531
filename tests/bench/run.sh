#!/bin/sh
# tests/bench/run.sh -- make bench: measurements, never pass/fail checks.
# Usage: run.sh BUILDDIR SRCDIR. Real data comes from ../shared/data next to
# the source tree, or from $FRONTLINE_SHARED_DATA; missing sets are skipped.
builddir=${1:-.}
srcdir=${2:-.}
data=${FRONTLINE_SHARED_DATA:-$srcdir/../shared/data}
bench="$builddir/tests/bench/bench_kb"
faq="$data/stackfaq/stackExchange-FAQ.json"

echo "frontline benchmarks on $(uname -m), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo

if [ -f "$faq" ]; then
	echo "== Knowledge retrieval quality (StackFAQ, CC BY-SA; $faq)"
	"$bench" quality "$faq" || exit 1
	echo
	echo "== Confidence model, fitted and measured on held-out threads"
	"$bench" fit "$faq" || exit 1
	echo
	echo "== Query latency over synthetic facts (1,000 queries each)"
	echo "|   facts | index build | reopen | p50 query | p99 query | answered |"
	echo "|---------|-------------|--------|-----------|-----------|----------|"
	for n in 1000 10000 100000; do
		"$bench" latency "$faq" "$n" 1000 || exit 1
	done
else
	echo "skipped: $faq not found (set FRONTLINE_SHARED_DATA to the shared data directory)"
fi

echo
echo "== Triage against fastText (banking77, Bitext, CLINC150, airline tweets, VADER gold)"
if ! command -v python3 >/dev/null 2>&1; then
	echo "skipped: python3 not found (apt-get install python3)"
elif [ ! -d "$data/clinc150" ]; then
	echo "skipped: $data/clinc150 not found"
else
	if ! command -v fasttext >/dev/null 2>&1; then
		if [ "$(id -u)" = 0 ] && apt-get install -y -qq fasttext >/dev/null 2>&1; then
			echo "installed fastText (Debian package fasttext)"
		else
			echo "fastText is not installed and could not be (apt-get install fasttext):"
			echo "frontline's figures only"
		fi
	fi
	python3 "$srcdir/tests/bench/bench-triage.py" "$builddir/frontline" "$srcdir" "$data" \
		--model "$builddir/triage.model" || exit 1
fi

echo
echo "== HTTP: 1,000 requests in flight at once through the event loop and curl multi (loopback)"
"$builddir/tests/bench/bench-http" -n 1000 -d 300 || exit 1

echo
echo "== Model backend: 1,000 conversations in flight against a loopback server answering after 300 ms"
if ! command -v python3 >/dev/null 2>&1; then
	echo "skipped: python3 not found (apt-get install python3)"
else
	mtmp=$(mktemp -d "${TMPDIR:-/tmp}/frontline-model.XXXXXX")
	python3 "$srcdir/tests/mock-openai.py" --script "$srcdir/tests/bench/model-script.json" \
		--delay-ms 300 --port-file "$mtmp/port" >/dev/null 2>&1 &
	mock=$!
	i=0
	while [ ! -s "$mtmp/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	ulimit -n 4096 2>/dev/null
	FRONTLINE_TODAY=2026-11-24 top_builddir="$builddir" \
		"$builddir/tests/bench/bench-model" "$srcdir" "$(cat "$mtmp/port")" 1000
	kill $mock 2>/dev/null
	wait $mock 2>/dev/null
	rm -rf "$mtmp"
	echo "(the loopback server is Python on the same two cores: about 2,400 requests/s, so"
	echo " it is part of the wall time; client CPU per request is frontline's own cost)"
fi

echo
echo "== chat --json: turns per second on one long scripted conversation (999 turns)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/frontline-chat.XXXXXX")
sed 's/max_turns: 4/max_turns: 1000/; s/frustrated_turns: 3/frustrated_turns: 1000/' \
	"$srcdir/policies/support-agent-policy.yaml" >"$tmp/policy.yaml"
i=0
while [ $i -lt 999 ]; do
	case $((i % 6)) in
	0) echo "the firmware update failed on my hub" ;;
	1) echo "how do I pair the motion sensor" ;;
	2) echo "what are your support hours" ;;
	3) echo "how do I turn on two-step verification" ;;
	4) echo "where is my order A12345?" ;;
	5) echo "how long is the return window?" ;;
	esac
	i=$((i + 1))
done >"$tmp/talk.txt"
start=$(date +%s.%N)
FRONTLINE_DATADIR=$srcdir FRONTLINE_MODEL=$builddir/triage.model "$builddir/frontline" \
	--policy "$tmp/policy.yaml" --kb "$srcdir/kb" --db "$tmp/chat.db" \
	chat --json --customer C-1001 <"$tmp/talk.txt" >"$tmp/out.jsonl" || exit 1
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$(wc -l <"$tmp/out.jsonl")" \
	'BEGIN { printf "%d turns in %.2f s: %.0f turns/s (each turn committed with synchronous=FULL)\n", n, e - s, n / (e - s) }'
rm -rf "$tmp"
