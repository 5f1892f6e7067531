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

tickets="$srcdir/data/tickets"
policy="$srcdir/policies/support-agent-policy.yaml"
echo "== Knowledge retrieval on customer questions (the Acme tickets' gold facts, $tickets/acme-gold-facts.tsv)"
echo "(Qs: questions a fact answers, read on their own; R@1>=.5: share of them whose top hit is"
echo " right at or over the 0.5 retrieval floor; none >= .5: questions no fact answers whose top hit"
echo " reaches it; other: messages with nothing to look up; ECE and AUROC of the top hit's confidence"
echo " over every question; fu MRR: follow-ups that need the turns before them. \"hint\": searched"
echo " with triage's intent as the topic hint, as the agent searches; the model was fitted on dev)"
"$bench" gold "$srcdir/kb" "$tickets/acme-gold-facts.tsv" \
	--triage "$builddir/triage.model" "$srcdir/data/triage" "$policy" \
	dev="$tickets/acme-dev.jsonl" test="$tickets/acme-test.jsonl" || exit 1
echo

if [ -f "$faq" ]; then
	echo "== Knowledge retrieval quality (StackFAQ, CC BY-SA; $faq)"
	"$bench" quality "$faq" || exit 1
	echo
	echo "== Confidence model, fitted and measured on held-out threads and tickets"
	"$bench" fit "$faq" "$srcdir/kb" "$tickets/acme-gold-facts.tsv" "$tickets/acme-dev.jsonl" \
		--triage "$builddir/triage.model" "$srcdir/data/triage" "$policy" || exit 1
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
	echo
	echo "== Teaching triage a team's tickets: learning curves against fastText (a domain held out"
	echo "   of the base corpus: banking77; CLINC150's banking and credit-card intents)"
	python3 "$srcdir/tests/bench/bench-train.py" "$builddir/frontline" "$srcdir" "$data" || exit 1
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
echo "== Hybrid retrieval: what embeddings cost (loopback mock-openai; its hashed vectors measure cost, not quality)"
if ! command -v python3 >/dev/null 2>&1; then
	echo "skipped: python3 not found (apt-get install python3)"
else
	etmp=$(mktemp -d "${TMPDIR:-/tmp}/frontline-emb.XXXXXX")
	python3 "$srcdir/tests/mock-openai.py" --port-file "$etmp/port" --log "$etmp/log.jsonl" \
		--embedding-dim 1536 >/dev/null 2>&1 &
	emock=$!
	i=0
	while [ ! -s "$etmp/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	cat >"$etmp/cfg.yaml" <<EOF
endpoints:
  openai: {base_url: "http://127.0.0.1:$(cat "$etmp/port")/v1"}
agents:
  embeddings: {backend: openai, model: text-embedding-3-small}
EOF
	now() { date +%s.%N; }
	elapsed() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.6f", e - s }'; }
	fl() { XDG_CACHE_HOME="$etmp/cache" FRONTLINE_DATADIR=$srcdir FRONTLINE_TODAY=2026-11-24 \
		"$builddir/frontline" --config "$etmp/cfg.yaml" --kb "$srcdir/kb" "$@"; }
	# The queries: the chat bench's six questions and the shipped KB's titles, 300 in all.
	grep -h '^title:' "$srcdir"/kb/*/*.md | sed 's/^title: //' >"$etmp/titles"
	: >"$etmp/q"
	while [ "$(wc -l <"$etmp/q")" -lt 300 ]; do
		cat "$etmp/titles" >>"$etmp/q"
		printf '%s\n' "the firmware update failed on my hub" "how do I pair the motion sensor" \
			"what are your support hours" "where is my order A12345?" \
			"how long is the return window?" "my parcel vanished" >>"$etmp/q"
	done
	head -n 300 "$etmp/q" >"$etmp/q300"
	n=300
	fl --backend offline kb search "return window" >/dev/null 2>&1 # builds the FTS5 index
	s=$(now); fl --backend offline kb search --json "return window" >/dev/null; e=$(now)
	one_fts=$(elapsed "$s" "$e")
	s=$(now); fl kb search --json "return window" >"$etmp/first.json"; e=$(now)
	one_first=$(elapsed "$s" "$e")
	facts=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("facts_embedded", 0))' "$etmp/first.json")
	reqs=$(wc -l <"$etmp/log.jsonl")
	s=$(now); fl kb search --json "return window" >/dev/null; e=$(now)
	one_warm=$(elapsed "$s" "$e")
	s=$(now); fl --backend offline kb search --json <"$etmp/q300" >/dev/null; e=$(now)
	all_fts=$(elapsed "$s" "$e")
	s=$(now); fl kb search --json <"$etmp/q300" >"$etmp/h.jsonl"; e=$(now)
	all_hyb=$(elapsed "$s" "$e")
	hybrid=$(grep -c '"retrieval":"hybrid"' "$etmp/h.jsonl")
	awk -v f="$facts" -v r="$reqs" -v a="$one_fts" -v b="$one_first" -v c="$one_warm" \
		-v x="$all_fts" -v y="$all_hyb" -v n="$n" -v h="$hybrid" 'BEGIN {
		printf "embedding the shipped KB once: %d facts in %d requests (64 per request, 1,536 dimensions),\n", f, r - 1
		printf "  %.0f ms more than an FTS5 search from the same cold process (%.0f vs %.0f ms; cached query: %.0f ms)\n", (b - a) * 1000, b * 1000, a * 1000, c * 1000
		printf "%d queries in one process: FTS5 %.1f ms/query, hybrid %.1f ms/query (%d hybrid),\n", n, x * 1000 / n, y * 1000 / n, h
		printf "  so %.1f ms per query for the query embedding round trip and the fusion\n", (y - x) * 1000 / n
	}'
	kill $emock 2>/dev/null
	wait $emock 2>/dev/null
	rm -rf "$etmp"
	echo "(the mock is Python on the same cores and answers at once; a real endpoint adds its network"
	echo " and model latency to every query, and its price per token to the one-time embedding)"
fi

echo
echo "== Console: first frame, redraw cost with 1,000 live conversations, keys while 200 stream"
if ! command -v python3 >/dev/null 2>&1; then
	echo "skipped: python3 not found (apt-get install python3)"
else
	python3 "$srcdir/tests/bench/bench-console.py" "$builddir/frontline" "$srcdir" || exit 1
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

echo
echo "== The front door: HTTP -> frontline serve -> PostgreSQL -> frontline worker x N -> SSE"
sh "$srcdir/tests/bench/bench-serve.sh" "$builddir" "$srcdir" || exit 1

echo
echo "== A support floor on one PostgreSQL: N consoles, 1,000 chats (a message each every 30 s), 2 workers"
ftmp=$(mktemp "${TMPDIR:-/tmp}/frontline-floor.XXXXXX")
sh "$srcdir/tests/bench/floor.sh" "$builddir" "$srcdir" --consoles 1,10,25,50 --chats 1000 \
	--seconds 60 >"$ftmp" || exit 1
sh "$srcdir/tests/bench/floor.sh" "$builddir" "$srcdir" --consoles 50 --chats 1000 --seconds 60 \
	--listen-only >>"$ftmp" || exit 1
sh "$srcdir/tests/bench/floor.sh" "$builddir" "$srcdir" --consoles 1,10,25,50 --chats 1000 \
	--seconds 60 --relay >>"$ftmp" || exit 1
cat "$ftmp"
command -v python3 >/dev/null 2>&1 && python3 - "$ftmp" <<'EOF'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
desk = [r for r in runs if r["mode"] == "desk"]
if not desk:
    sys.exit(0)
print()
print("| consoles | messages/s | reply p50/p99 ms | fan-out p50/p99 ms | PostgreSQL ms/msg | workers ms/msg | serve ms/msg | console us/change | statements/change |")
print("|----------|------------|------------------|--------------------|-------------------|----------------|--------------|-------------------|-------------------|")
for r in runs:
    fan = ["-" if r[k] is None else r[k] for k in ("p50_fanout_ms", "p99_fanout_ms")]
    print("| %-8s | %10.1f | %7s / %-7s | %8s / %-8s | %17.2f | %14.2f | %12.2f | %17.1f | %17s |" % (
        "%d%s" % (r["consoles"], {"desk": "", "listen-only": " L", "relay": " R"}[r["mode"]]),
        r["messages_per_s"],
        r["p50_reply_ms"], r["p99_reply_ms"], fan[0], fan[1],
        r["pg_cpu_ms_per_message"], r["worker_cpu_ms_per_message"], r["serve_cpu_ms_per_message"],
        r["console_cpu_us_per_change"], r["console_statements_per_change"]))
# The marginal cost of a console: the least-squares slope over the consoles.
def line(rs, key):
    xs, ys = [r["consoles"] for r in rs], [r[key] for r in rs]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - slope * mx, slope
relay = [r for r in runs if r["mode"] == "relay"]
if len(set(r["consoles"] for r in relay)) > 1:
    print()
    for what, key in (("PostgreSQL", "pg_cpu_ms_per_message"), ("serve", "serve_cpu_ms_per_message")):
        a, b = line(relay, key)
        print("R (consoles through serve's relay): %s CPU per message %.2f ms plus %.0f us per console"
              % (what, a, b * 1000))
xs = [r["consoles"] for r in desk]
if len(set(xs)) > 1:
    base, slope = line(desk, "pg_cpu_ms_per_message")
    print()
    print("PostgreSQL CPU per message: %.2f ms plus %.0f us per console (least squares over %d runs)"
          % (base, slope * 1000, len(desk)))
    one = [r for r in desk if r["consoles"] == min(xs)][0]
    listen = [r for r in runs if r["mode"] == "listen-only"]
    if listen:
        l = listen[0]
        per = (l["pg_cpu_ms_per_message"] - one["pg_cpu_ms_per_message"]) / (l["consoles"] - one["consoles"])
        print("of which the notifications alone (%d L: consoles that only listen): %.0f us per console"
              % (l["consoles"], per * 1000))
        same = [r for r in desk if r["consoles"] == l["consoles"]]
        if same:
            print("and reading what they name (%d against %d L): %.0f us per console" % (
                l["consoles"], l["consoles"],
                (same[0]["pg_cpu_ms_per_message"] - l["pg_cpu_ms_per_message"]) / l["consoles"] * 1000))
EOF
rm -f "$ftmp"

echo
echo "== serve: /v1/health from a second address while 1,000 connections trickle headers"
if ! command -v python3 >/dev/null 2>&1; then
	echo "skipped: python3 not found (apt-get install python3)"
else
	(ulimit -n 4096 2>/dev/null; python3 "$srcdir/tests/bench/bench-trickle.py" "$builddir/frontline") ||
		exit 1
fi

echo
echo "== Shadow-mode replay on the offline engine: 100,000 synthetic tickets (tools/gen-tickets.py)"
sh "$srcdir/tests/bench/bench-replay.sh" "$builddir" "$srcdir" 100000 || exit 1
