#!/bin/sh
# tests/bench/decisions.sh -- the offline agent's decisions against careful humans.
#
#   sh tests/bench/decisions.sh BUILDDIR SRCDIR
#
# Replays the labelled ticket sets (frontline replay, nothing stored) and prints
# one table row per set: escalation agreement, recall, precision, the agent's
# and the humans' escalation rates, the hard-trigger tickets caught, validation
# violations, the reply confidence's ECE and AUROC against the humans, and the
# sweep's best threshold for 85% agreement. Then, for the test split, whether
# `frontline rollout advance` would leave shadow on that replay (the shipped
# gate, no --force).
#
# The sets: data/tickets/acme-dev.jsonl (the split the engine was tuned on),
# acme-test.jsonl (held out), demo.jsonl, and the Fernhill Meals company in
# tests/fixtures/fernhill (its own policy, KB and customers; never looked at
# while tuning). README "Decision quality" has the figures.
builddir=${1:-.}
srcdir=${2:-.}
fl=$builddir/frontline
T=$(mktemp -d "${TMPDIR:-/tmp}/frontline-decisions.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
HOME=$T XDG_STATE_HOME=$T/state XDG_CACHE_HOME=$T/cache XDG_CONFIG_HOME=$T/config
FRONTLINE_TODAY=${FRONTLINE_TODAY:-2026-11-24}
FRONTLINE_MODEL=${FRONTLINE_MODEL:-$builddir/triage.model}
FRONTLINE_DATADIR=$srcdir
export HOME XDG_STATE_HOME XDG_CACHE_HOME XDG_CONFIG_HOME FRONTLINE_TODAY FRONTLINE_MODEL \
	FRONTLINE_DATADIR

summary() { # NAME REPORT.json RESULTS.jsonl TICKETS.jsonl
	python3 - "$@" <<'PY'
import json, sys
name, report, results, tickets = sys.argv[1:]
r = json.load(open(report))
e, c, v = r["escalation"], r["calibration"], r["violations"]
hard = {"legal-language-detected", "customer-requested-human", "account-security-concern",
        "payment-dispute-over-threshold", "enterprise-billing-policy", "sentiment-degradation"}
labels = {}
for line in open(tickets):
    t = json.loads(line)
    labels[t["id"]] = t.get("labels", {})
caught = total = 0
for line in open(results):
    res = json.loads(line)
    lb = labels.get(res["id"], {})
    reason = lb.get("escalation_reason")
    if lb.get("escalated") and (reason in hard or (reason or "").endswith("-concern")):
        total += 1
        caught += bool(res["agent_escalated"])
best = r["sweep"]["best"]
def f(x, pct=False):
    return "n/a" if x is None else (f"{x * 100:.1f}%" if pct else f"{x:.3f}")
print(f"| {name:<22} | {r['tickets']:>4} | {f(e['agreement'])} | {f(e['recall'])} | "
      f"{f(e['precision'])} | {f(e['agent_rate'], 1)} | {f(e['human_rate'], 1)} | "
      f"{caught}/{total} | {v['total']} | {f(c['ece'])} | {f(c['auroc'])} | "
      f"{f(best['threshold']) if best else 'none'} |")
PY
}

replay() { # NAME TICKETS [FRONTLINE-ARGS...]
	name=$1 tickets=$2
	shift 2
	"$fl" "$@" replay --no-store --json --target-agreement 0.85 --out "$T/res.jsonl" \
		"$tickets" >"$T/report.json" 2>"$T/err" || [ $? -eq 65 ] || {
		echo "| $name: replay failed: $(head -c 200 "$T/err") |"
		return
	}
	summary "$name" "$T/report.json" "$T/res.jsonl" "$tickets"
}

echo "| set                    | tickets | agreement | recall | precision | agent rate | human rate | hard triggers | violations | ECE | AUROC | best threshold (85%) |"
echo "|------------------------|---------|-----------|--------|-----------|------------|------------|---------------|------------|-----|-------|----------------------|"
replay "acme-dev (tuned on)" "$srcdir/data/tickets/acme-dev.jsonl"
replay "acme-test (held out)" "$srcdir/data/tickets/acme-test.jsonl"
replay "demo.jsonl" "$srcdir/data/tickets/demo.jsonl"
fh=$srcdir/tests/fixtures/fernhill
replay "Fernhill (held out)" "$fh/tickets.jsonl" --policy "$fh/policy.yaml" --kb "$fh/kb"

echo
echo "Shadow gate on a stored replay of the test split (frontline rollout advance, no --force):"
"$fl" --db "$T/gate.db" rollout advance >/dev/null 2>&1 # the ladder starts in shadow
"$fl" --db "$T/gate.db" replay --json "$srcdir/data/tickets/acme-test.jsonl" >/dev/null 2>&1
"$fl" --db "$T/gate.db" rollout advance >"$T/gate" 2>&1
rc=$?
sed 's/^/  /' "$T/gate"
echo "  exit $rc"
