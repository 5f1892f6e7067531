#!/bin/sh
# tickets.sh -- the ticket data: generator, demo set, converters.
#
# tools/gen-tickets.py is deterministic (same seed, same bytes) and writes
# valid tickets; every line of data/tickets/demo.jsonl is a valid ticket and
# the set covers what the demo needs; tools/abcd-tickets.py turns the ABCD
# fixture excerpt into the hand-checked expected tickets, tools/bitext-tickets.py
# converts a Bitext-format CSV, and both refuse bad input with a message and
# a sysexits code. The hand-labelled Acme dev and test sets and the second
# company's tickets (tests/fixtures/fernhill) are valid, cover what issue 15
# asks for, and the dev/test split is tools/split-tickets.py's output. When
# the binary has a `replay` command, the demo set, the dev and test sets and
# the second company's tickets (with its own policy and knowledge base, which
# must pass `policy check` and `kb audit`) replay without bad lines. This
# guards the data, not the engine's figures. Validity is
# tests/ticket-check.py (the rules of frontline-tickets(5)).
# Needs python3 (skipped without it); no network.
#
# Run by make check; by hand: FRONTLINE=./frontline top_srcdir=. sh tests/tickets.sh

: "${top_srcdir:=$(dirname "$0")/..}"
: "${FRONTLINE:=${top_builddir:-.}/frontline}"
: "${FRONTLINE_MODEL:=${top_builddir:-.}/triage.model}"
export FRONTLINE_MODEL

if ! command -v python3 >/dev/null 2>&1; then
	echo "tickets.sh: python3 not found (apt-get install python3): skipped"
	exit 77
fi

GEN=$top_srcdir/tools/gen-tickets.py
ABCD=$top_srcdir/tools/abcd-tickets.py
CHECK=$top_srcdir/tests/ticket-check.py
DEMO=$top_srcdir/data/tickets/demo.jsonl
FIX=$top_srcdir/tests/fixtures/abcd

T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-tickets.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
mkdir "$T/home" "$T/state" "$T/config" "$T/cache"
HOME=$T/home XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config XDG_CACHE_HOME=$T/cache
FRONTLINE_TODAY=2026-11-24
LC_ALL=C
export HOME XDG_STATE_HOME XDG_CONFIG_HOME XDG_CACHE_HOME FRONTLINE_TODAY LC_ALL
FRONTLINE_DATADIR=$top_srcdir
export FRONTLINE_DATADIR

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
		[ -s "$f" ] && sed -n '1,15s/^/    | /p' "$f"
	done
	return 0
}
# run CMD...: sets $rc, output in $T/out and $T/err.
run() {
	"$@" </dev/null >"$T/out" 2>"$T/err"
	rc=$?
}
# expect_fail NAME CODE PATTERN CMD...: CMD exits CODE and says PATTERN on stderr.
expect_fail() {
	name=$1 code=$2 pat=$3
	shift 3
	run "$@"
	if [ "$rc" -ne "$code" ]; then
		not_ok "$name: exit $rc, expected $code" "$T/err"
	elif ! grep -q -- "$pat" "$T/err"; then
		not_ok "$name: stderr does not say '$pat'" "$T/err"
	else
		ok "$name"
	fi
}

# ------------------------------------------------------------ gen-tickets.py
run python3 "$GEN" --count 3000 --seed 42 --out "$T/a.jsonl"
[ "$rc" -eq 0 ] && ok "gen-tickets writes 3000 tickets" || not_ok "gen-tickets: exit $rc" "$T/err"
python3 "$GEN" --count 3000 --seed 42 >"$T/b.jsonl" 2>"$T/err"
if cmp -s "$T/a.jsonl" "$T/b.jsonl"; then
	ok "gen-tickets: same seed, same bytes (--out and stdout)"
else
	not_ok "gen-tickets: two runs with seed 42 differ" "$T/err"
fi
python3 "$GEN" --count 3000 --seed 43 >"$T/c.jsonl" 2>"$T/err"
if cmp -s "$T/a.jsonl" "$T/c.jsonl"; then
	not_ok "gen-tickets: seeds 42 and 43 give the same tickets"
else
	ok "gen-tickets: another seed, other tickets"
fi
python3 "$GEN" --count 1000 --seed 42 >"$T/d.jsonl" 2>"$T/err"
if head -n 1000 "$T/a.jsonl" | cmp -s - "$T/d.jsonl"; then
	ok "gen-tickets: a shorter run is a prefix of a longer one"
else
	not_ok "gen-tickets: --count 1000 is not the first 1000 of --count 3000"
fi
n=$(wc -l <"$T/a.jsonl")
[ "$n" -eq 3000 ] && ok "gen-tickets: one line per ticket" || not_ok "gen-tickets: $n lines for 3000"
if python3 "$CHECK" --strict "$T/a.jsonl" >"$T/out" 2>&1; then
	ok "gen-tickets: every ticket is valid"
else
	not_ok "gen-tickets: invalid tickets" "$T/out"
fi
# Variety: every category, tier and human escalation reason the generator
# knows, 1-4 customer messages, CSAT on roughly 15%, context consistent
# with the messages (every order number a customer names is in context).
if python3 - "$T/a.jsonl" >"$T/out" 2>&1 <<'EOF'; then
import json, re, sys
cats, tiers, reasons, turns = set(), set(), set(), set()
csat = n = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    n += 1
    cats.add(t["labels"]["intent_category"])
    tiers.add(t["customer"]["tier"])
    if t["labels"]["escalated"]:
        reasons.add(t["labels"]["escalation_reason"])
        assert 1 <= t["labels"]["escalation_turn"], t["id"]
    turns.add(sum(m["role"] == "customer" for m in t["messages"]))
    csat += t["outcome"]["csat"] is not None
    ids = {o["id"] for o in t["context"].get("orders", [])}
    for m in t["messages"]:
        for oid in re.findall(r"\b[A-Z][0-9]{5,9}\b", m["text"]):
            assert oid in ids, "%s names %s, not in context" % (t["id"], oid)
assert cats == {"billing", "technical", "account", "shipping", "returns", "general"}, cats
assert tiers == {"self-serve", "standard", "premium", "enterprise"}, tiers
assert reasons == {"legal-language-detected", "customer-requested-human",
                   "account-security-concern", "payment-dispute-over-threshold",
                   "enterprise-billing-policy", "sentiment-degradation"}, reasons
assert turns == {1, 2, 3, 4}, turns
assert 0.10 < csat / n < 0.20, csat / n
EOF
	ok "gen-tickets: categories, tiers, reasons, 1-4 messages, ~15% CSAT, orders in context"
else
	not_ok "gen-tickets: variety" "$T/out"
fi
expect_fail "gen-tickets: negative --count" 64 "count" python3 "$GEN" --count -1
expect_fail "gen-tickets: --count not a number" 64 "invalid int" python3 "$GEN" --count many
expect_fail "gen-tickets: --count missing" 64 "required" python3 "$GEN" --seed 1
expect_fail "gen-tickets: unwritable --out" 74 "gen-tickets: $T/no/such/dir" \
	python3 "$GEN" --count 1 --out "$T/no/such/dir/x.jsonl"

# ------------------------------------------------------------ demo set
if python3 "$CHECK" --strict "$DEMO" >"$T/out" 2>&1; then
	ok "demo.jsonl: every line is a valid ticket"
else
	not_ok "demo.jsonl: invalid tickets" "$T/out"
fi
if python3 - "$DEMO" >"$T/out" 2>&1 <<'EOF'; then
import json, sys
lines = open(sys.argv[1]).read().splitlines()
T = [json.loads(l) for l in lines]
assert 50 <= len(T) <= 80, len(T)
cats = {}
for t in T:
    cats[t["labels"]["intent_category"]] = cats.get(t["labels"]["intent_category"], 0) + 1
assert set(cats) == {"billing", "technical", "account", "shipping", "returns", "general"}, cats
reasons = {t["labels"]["escalation_reason"] for t in T if t["labels"]["escalated"]}
for r in ("enterprise-billing-policy", "legal-language-detected", "customer-requested-human",
          "account-security-concern", "payment-dispute-over-threshold",
          "sentiment-degradation"):
    assert r in reasons, "no ticket escalated for " + r
# the enterprise billing dispute
assert any(t["customer"]["tier"] == "enterprise" and t["labels"]["intent_category"] == "billing"
           and "disput" in t["messages"][0]["text"] for t in T)
# a frustrated customer over several turns
assert any(t["labels"]["escalation_reason"] == "sentiment-degradation"
           and t["labels"]["escalation_turn"] >= 3 for t in T)
# an injection attempt, and stale-knowledge questions
assert any("ignore all previous instructions" in t["messages"][0]["text"].lower() for t in T)
assert sum("stale" in t["labels"].get("note", "") or "outdated" in t["labels"].get("note", "")
           for t in T) >= 3
# outcomes: CSAT with verbatims, re-contacts, unresolved tickets
O = [t["outcome"] for t in T]
assert sum(o["csat"] is not None for o in O) >= 8
assert sum("csat_verbatim" in o for o in O) >= 5
assert sum(o["recontact_within_7d"] for o in O) >= 4
assert sum(not o["resolved"] for o in O) >= 3
# orders the customers name are in the ticket's context, for the tools
import re
for t in T:
    ids = {o["id"] for o in t.get("context", {}).get("orders", [])}
    for m in t["messages"]:
        if m["role"] == "customer":
            for oid in re.findall(r"\b[A-Z][0-9]{5,9}\b", m["text"]):
                assert oid in ids or t["id"] == "D-047", "%s: %s not in context" % (t["id"], oid)
# one compact JSON object per line, no blank lines
assert all(l.startswith('{"id":') for l in lines)
EOF
	ok "demo.jsonl: categories, escalation reasons, the demo's cases, outcomes, orders"
else
	not_ok "demo.jsonl: coverage" "$T/out"
fi

# ------------------------------------------------------------ acme dev/test, fernhill
SPLIT=$top_srcdir/tools/split-tickets.py
ADEV=$top_srcdir/data/tickets/acme-dev.jsonl
ATEST=$top_srcdir/data/tickets/acme-test.jsonl
FERN=$top_srcdir/tests/fixtures/fernhill
if python3 "$CHECK" --strict "$ADEV" "$ATEST" >"$T/out" 2>&1; then
	ok "acme-dev.jsonl, acme-test.jsonl: every line is a valid ticket"
else
	not_ok "acme dev/test: invalid tickets" "$T/out"
fi
if python3 "$CHECK" --strict --reason food-safety-concern "$FERN/tickets.jsonl" >"$T/out" 2>&1; then
	ok "fernhill tickets.jsonl: every line is a valid ticket"
else
	not_ok "fernhill tickets.jsonl: invalid tickets" "$T/out"
fi
# What the sets must hold: sizes, about a third escalated, every category on
# each side, every hard trigger and look-alikes on each side, multi-turn
# tickets, no ticket on both sides, ids in the split's scheme, orders the
# customers name in the ticket's context, and the fixture's customers.
if python3 - "$ADEV" "$ATEST" "$FERN/tickets.jsonl" "$FERN/customers.json" >"$T/out" 2>&1 <<'EOF'; then
import json, re, sys
def load(p):
    return [json.loads(l) for l in open(p)]
dev, test, fern = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
CATS = {"billing", "technical", "account", "shipping", "returns", "general"}
HARD = {"legal-language-detected", "customer-requested-human", "account-security-concern",
        "payment-dispute-over-threshold", "enterprise-billing-policy", "sentiment-degradation"}
def check_set(name, T, prefix, order_re, hard, size):
    assert size[0] <= len(T) <= size[1], (name, len(T))
    assert [t["id"] for t in T] == ["%s-%03d" % (prefix, i) for i in range(1, len(T) + 1)], name
    esc = sum(t["labels"]["escalated"] for t in T) / len(T)
    assert 0.25 <= esc <= 0.42, (name, esc)
    assert {t["labels"]["intent_category"] for t in T} == CATS, name
    reasons = {t["labels"]["escalation_reason"] for t in T if t["labels"]["escalated"]}
    assert hard <= reasons, (name, hard - reasons)
    multi = sum(sum(m["role"] == "customer" for m in t["messages"]) > 1 for t in T)
    assert multi >= len(T) // 4, (name, multi)
    for t in T:
        L = t["labels"]
        tags = set(t["tags"])
        assert ("hard-trigger" in tags) == (L["escalation_reason"] in hard), t["id"]
        assert not ("look-alike" in tags and "hard-trigger" in tags), t["id"]
        if L["escalated"] and L["escalation_reason"] is None:
            assert L.get("note"), t["id"] + ": a null reason needs a note"
        ids = {o["id"] for o in t["context"].get("orders", [])}
        for m in t["messages"]:
            if m["role"] == "customer":
                for oid in re.findall(order_re, m["text"]):
                    assert oid in ids, "%s: %s not in context" % (t["id"], oid)
    assert sum("look-alike" in t["tags"] for t in T) >= 5, name
assert len(dev) + len(test) >= 160
assert abs(len(dev) - len(test)) <= 2
check_set("dev", dev, "AD", r"\b[A-Z][0-9]{5,9}\b", HARD, (80, 120))
check_set("test", test, "AT", r"\b[A-Z][0-9]{5,9}\b", HARD, (80, 120))
check_set("fernhill", fern, "FT", r"\bFH-[0-9]{6}\b", HARD | {"food-safety-concern"}, (40, 40))
texts = lambda T: {json.dumps([m["text"] for m in t["messages"]]) for t in T}
assert not texts(dev) & texts(test), "a ticket is in both dev and test"
fx = {c["id"]: c for c in json.load(open(sys.argv[4]))["customers"]}
for t in fern:
    c = fx[t["customer"]["id"]]
    assert {o["id"] for o in t["context"]["orders"]} <= {o["id"] for o in c["orders"]}, t["id"]
EOF
	ok "acme dev/test and fernhill: sizes, escalation share, categories, triggers, look-alikes, orders"
else
	not_ok "acme dev/test and fernhill: coverage" "$T/out"
fi
# The shipped split is the tool's output: splitting the two files again, in
# either order, writes them byte for byte.
run python3 "$SPLIT" --seed 15 --dev "$T/dev.jsonl" --test "$T/test.jsonl" "$ATEST" "$ADEV"
if [ "$rc" -eq 0 ] && cmp -s "$T/dev.jsonl" "$ADEV" && cmp -s "$T/test.jsonl" "$ATEST"; then
	ok "split-tickets: the shipped dev/test split is reproducible"
else
	not_ok "split-tickets: exit $rc, or dev/test differ from a re-split (re-run tools/split-tickets.py)" "$T/err"
fi
run python3 "$SPLIT" --seed 16 --dev "$T/dev16.jsonl" --test "$T/test16.jsonl" "$ADEV" "$ATEST"
if [ "$rc" -eq 0 ] && ! cmp -s "$T/dev16.jsonl" "$ADEV" &&
	[ "$(cat "$T/dev16.jsonl" "$T/test16.jsonl" | wc -l)" -eq "$(cat "$ADEV" "$ATEST" | wc -l)" ]; then
	ok "split-tickets: another seed, another split of the same tickets"
else
	not_ok "split-tickets: --seed 16 (exit $rc)" "$T/err"
fi
printf '{"id":"x","messages":[{"role":"customer","text":"hi"}]}\n' >"$T/nolabels.jsonl"
expect_fail "split-tickets: a ticket without labels" 65 "nolabels.jsonl:1: a ticket needs labels" \
	python3 "$SPLIT" --dev "$T/d.jsonl" --test "$T/t.jsonl" "$T/nolabels.jsonl"
expect_fail "split-tickets: missing input" 66 "no such file" \
	python3 "$SPLIT" --dev "$T/d.jsonl" --test "$T/t.jsonl" "$T/none.jsonl"
expect_fail "split-tickets: same prefixes" 64 "must differ" \
	python3 "$SPLIT" --dev "$T/d.jsonl" --test "$T/t.jsonl" --dev-prefix X --test-prefix X "$ADEV"

# ------------------------------------------------------------ abcd-tickets.py
run python3 "$ABCD" "$FIX/excerpt.json"
if [ "$rc" -eq 0 ] && cmp -s "$T/out" "$FIX/expected.jsonl"; then
	ok "abcd-tickets: the fixture excerpt gives the expected tickets"
else
	diff "$FIX/expected.jsonl" "$T/out" >"$T/diff" 2>&1
	not_ok "abcd-tickets: exit $rc or output differs from expected.jsonl" "$T/err" "$T/diff"
fi
cp "$T/out" "$T/abcd.jsonl"
if python3 "$CHECK" "$T/abcd.jsonl" >"$T/out" 2>&1; then
	ok "abcd-tickets: its tickets are valid"
else
	not_ok "abcd-tickets: invalid tickets" "$T/out"
fi
# The full corpus's shape, gzip-compressed, and --split.
python3 - "$FIX/excerpt.json" "$T/full.json.gz" <<'EOF'
import gzip, json, sys
d = json.load(open(sys.argv[1]))
with gzip.open(sys.argv[2], "wt") as f:
    json.dump({"train": [d[0]], "dev": [], "test": [d[1]]}, f)
EOF
run python3 "$ABCD" "$T/full.json.gz" --split test
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 1 ] &&
	grep -q '"id":"ABCD-3695"' "$T/out" && grep -q '"split":"test"' "$T/out"; then
	ok "abcd-tickets: full-corpus format, gzip, --split test"
else
	not_ok "abcd-tickets: --split test on the full format" "$T/err" "$T/out"
fi
run python3 "$ABCD" "$T/full.json.gz"
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 2 ] &&
	head -n 1 "$T/out" | grep -q '"split":"train"'; then
	ok "abcd-tickets: without --split, every split in order"
else
	not_ok "abcd-tickets: all splits" "$T/err" "$T/out"
fi

expect_fail "abcd-tickets: missing file" 66 "no such file" python3 "$ABCD" "$T/nothing.json"
printf '[{"convo_id": 1,' >"$T/trunc.json"
expect_fail "abcd-tickets: truncated JSON" 65 "trunc.json:1:.*not JSON" python3 "$ABCD" "$T/trunc.json"
printf '{"dialogues": []}\n' >"$T/other.json"
expect_fail "abcd-tickets: JSON that is not ABCD" 65 "not ABCD data" python3 "$ABCD" "$T/other.json"
expect_fail "abcd-tickets: --split on the sample format" 64 "needs the full corpus" \
	python3 "$ABCD" "$FIX/excerpt.json" --split dev
expect_fail "abcd-tickets: unknown --split" 64 "invalid choice" python3 "$ABCD" "$FIX/excerpt.json" --split x
expect_fail "abcd-tickets: no input" 64 "required" python3 "$ABCD"
# One bad dialogue among good ones: reported with its position, skipped, exit 65.
python3 - "$FIX/excerpt.json" "$T/mixed.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
bad = json.loads(json.dumps(d[1]))
bad["convo_id"] = 77
bad["original"][0][0] = "robot"
odd = {"convo_id": 78, "scenario": {"flow": "time_travel", "subflow": "x"},
       "original": [["customer", "hi"]]}
json.dump([d[0], bad, odd, "nonsense", d[1]], open(sys.argv[2], "w"))
EOF
run python3 "$ABCD" "$T/mixed.json"
if [ "$rc" -eq 65 ] && [ "$(wc -l <"$T/out")" -eq 2 ] &&
	grep -q 'dialogue 2 (convo 77): original\[0\]: unknown speaker' "$T/err" &&
	grep -q "dialogue 3 (convo 78): unknown flow 'time_travel'" "$T/err" &&
	grep -q 'dialogue 4: a dialogue must be an object' "$T/err" &&
	grep -q '3 dialogues skipped, 2 converted' "$T/err"; then
	ok "abcd-tickets: bad dialogues reported and skipped, the rest converted, exit 65"
else
	not_ok "abcd-tickets: mixed input (exit $rc)" "$T/err" "$T/out"
fi

# ------------------------------------------------------------ bitext-tickets.py
# A CSV in Bitext's format, written for this test (not Bitext data).
BITEXT=$top_srcdir/tools/bitext-tickets.py
printf '%s\r\n' 'context,role,instruction,intent,entity_type,entity_value,start_offset,end_offset,category,tags,response' \
	'customer support,virtual assistant,where is order 12345,track_order,order_id,12345,15,20,ORDER,BL,"Your order:' \
	'it is on its way."' \
	'customer support,virtual assistant,i want a real person,contact_human_agent,,,,,CONTACT,BQ,Connecting you now.' >"$T/bt.csv"
run python3 "$BITEXT" "$T/bt.csv"
if [ "$rc" -eq 0 ] && python3 - "$T/out" >"$T/py" 2>&1 <<'EOF2'; then
import json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])]
assert a["id"] == "BITEXT-1" and a["messages"] == [
    {"role": "customer", "text": "where is order 12345"},
    {"role": "human", "text": "Your order:\nit is on its way."}], a
assert a["labels"] == {"intent_category": "shipping"}, a["labels"]
assert a["source"]["intent"] == "track_order" and a["outcome"] is None
assert b["id"] == "BITEXT-2" and b["labels"] == {
    "intent_category": "general", "escalated": True,
    "escalation_reason": "customer-requested-human", "escalation_turn": 1}, b["labels"]
EOF2
	ok "bitext-tickets: rows become one-turn tickets with mapped labels"
else
	not_ok "bitext-tickets: conversion (exit $rc)" "$T/err" "$T/py"
fi
printf '%s\n' 'instruction,intent,category,tags,response' 'hello,teleport,X,B,hi' 'ok,track_order,ORDER,B,fine' >"$T/bt2.csv"
run python3 "$BITEXT" "$T/bt2.csv"
if [ "$rc" -eq 65 ] && [ "$(wc -l <"$T/out")" -eq 1 ] &&
	grep -q "bt2.csv:2: row 1: unknown intent 'teleport', skipped" "$T/err"; then
	ok "bitext-tickets: a bad row is reported with its line and skipped, exit 65"
else
	not_ok "bitext-tickets: bad row (exit $rc)" "$T/err"
fi
printf 'a,b\n1,2\n' >"$T/bt3.csv"
expect_fail "bitext-tickets: not the Bitext CSV" 65 "not the Bitext CSV" python3 "$BITEXT" "$T/bt3.csv"
expect_fail "bitext-tickets: missing file" 66 "no such file" python3 "$BITEXT" "$T/none.csv"
expect_fail "bitext-tickets: bad --limit" 64 "limit" python3 "$BITEXT" --limit -2 "$T/bt.csv"

# ------------------------------------------------------------ replay
# Once `frontline replay` exists, the demo set must replay without bad lines.
if [ -x "$FRONTLINE" ] && "$FRONTLINE" replay --help >/dev/null 2>&1; then
	run "$FRONTLINE" --db "$T/replay.db" replay --no-store --progress=json --json \
		--out "$T/results.jsonl" "$DEMO"
	n=$(wc -l <"$DEMO")
	if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/results.jsonl")" -eq "$n" ] &&
		tail -n 1 "$T/err" | grep -q "\"done\":$n,\"total\":$n,\"bad\":0,\"finished\":true" &&
		! grep -q 'demo.jsonl:[0-9]' "$T/err"; then
		ok "replay: demo.jsonl replays, one result per ticket, no bad lines"
	else
		not_ok "replay: demo.jsonl (exit $rc)" "$T/err"
	fi
	# The ABCD tickets replay too (their fields are all optional extras).
	run "$FRONTLINE" --db "$T/replay.db" replay --no-store --progress=json \
		--out "$T/abcd-results.jsonl" "$FIX/expected.jsonl"
	if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/abcd-results.jsonl")" -eq 2 ] &&
		tail -n 1 "$T/err" | grep -q '"bad":0,"finished":true'; then
		ok "replay: converted ABCD tickets replay without bad lines"
	else
		not_ok "replay: ABCD tickets (exit $rc)" "$T/err"
	fi
	# The hand-labelled sets replay with no bad line, and so does the second
	# company's, on its own policy and knowledge base, which must load.
	for f in "$ADEV" "$ATEST"; do
		n=$(wc -l <"$f")
		run "$FRONTLINE" --db "$T/replay.db" replay --no-store --progress=json --out "$T/r.jsonl" "$f"
		if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/r.jsonl")" -eq "$n" ] &&
			tail -n 1 "$T/err" | grep -q "\"done\":$n,\"total\":$n,\"bad\":0,\"finished\":true"; then
			ok "replay: $(basename "$f") replays, one result per ticket, no bad lines"
		else
			not_ok "replay: $(basename "$f") (exit $rc)" "$T/err"
		fi
	done
	run "$FRONTLINE" --policy "$FERN/policy.yaml" policy check
	if [ "$rc" -eq 0 ] && grep -q 'ok, version' "$T/out"; then
		ok "fernhill: policy check passes"
	else
		not_ok "fernhill: policy check (exit $rc)" "$T/out" "$T/err"
	fi
	run "$FRONTLINE" --kb "$FERN/kb" kb audit
	if [ "$rc" -eq 0 ] && grep -q '0 invalid, 0 duplicate ids, 0 conflicts, 2 stale, 0 missing metadata' "$T/out"; then
		ok "fernhill: kb audit passes, with its two deliberately stale facts"
	else
		not_ok "fernhill: kb audit (exit $rc)" "$T/out" "$T/err"
	fi
	run "$FRONTLINE" --policy "$FERN/policy.yaml" --kb "$FERN/kb" --db "$T/replay.db" \
		replay --no-store --progress=json --out "$T/r.jsonl" "$FERN/tickets.jsonl"
	if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/r.jsonl")" -eq 40 ] &&
		tail -n 1 "$T/err" | grep -q '"done":40,"total":40,"bad":0,"finished":true'; then
		ok "replay: fernhill tickets replay on fernhill's policy and knowledge base"
	else
		not_ok "replay: fernhill tickets (exit $rc)" "$T/err"
	fi
else
	echo "# replay: no replay command in $FRONTLINE yet; demo replay not checked"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
