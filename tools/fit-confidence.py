#!/usr/bin/env python3
"""fit-confidence.py -- fits the reply confidence of the offline resolution agent.

The reply confidence is P(a careful human lets the agent's reply stand): a
logistic model over features that carry across companies (src/resolution.h,
enum reply_feature: the quoted fact's confidence, its margin and coverage,
an answer from tool results, a social act answered in kind, a question
back to the customer, a stale fact, no answer at all).

    frontline replay --no-store --out dev-results.jsonl data/tickets/acme-dev.jsonl
    tools/fit-confidence.py [--gold GOLD.tsv] dev-results.jsonl [--folds 5] [--l2 1.0]
    tools/fit-confidence.py [--gold GOLD.tsv] --weights 'W0,W1,...' test-results.jsonl

Each reply of a result carries its features, the fact it quoted and
"stands" (replay: true when the human had not escalated by that turn, false
when they escalated at it for a reason about the answer, null otherwise).
That is whether the human judged the turn answerable, not whether the
agent's own draft was right; with --gold (data/tickets/acme-gold-facts.tsv:
which facts answer each message) a draft stands only when the human let
the turn stand and the draft is one a careful human would send: an answer
in kind to a greeting or thanks, a question back, an answer from tool
results, or a fact the gold file names for that message; a draft with no
answer, or quoting another fact, does not.

The script fits on every labelled reply, reports ECE and AUROC of held-out
predictions (k-fold by ticket, so a ticket's turns never train the model
that scores them), and prints the weights as the C initializer
src/resolution.c keeps. With --weights it fits nothing and reports those
weights' ECE and AUROC on the results (the held-out test figures). Fit on
the development split only. Standard library only.
"""
import argparse
import json
import math
import random
import sys

FEATURES = ["fact_confidence", "fact_margin", "coverage", "tool_answer", "social",
            "asked", "stale", "no_answer"]


def load_gold(path):
    """{(ticket, turn): set of fact ids or None for no question} from the gold TSV."""
    gold = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 4:
                continue
            tid, turn, kind, facts = cols[:4]
            ids = None if kind == "other" or facts == "-" else \
                set() if facts == "none" else set(facts.split(","))
            gold[(tid, int(turn))] = ids
    return gold


def draft_stands(rep, gold, tid):
    """Would a careful human send the agent's own draft (given the gold facts)?"""
    f = rep.get("features") or {}
    if f.get("no_answer"):
        return False
    fact = rep.get("fact")
    if fact is None:
        return True  # in kind, a question back, or tool results
    want = gold.get((tid, rep["turn"]))
    if want is None:
        return True  # no question for the knowledge base: nothing to get wrong
    return fact in want


def load(paths, gold=None):
    """Rows (ticket id, features, stood) from replay --out files."""
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{lineno}: {e}")
                for rep in r.get("replies", []):
                    st, feat = rep.get("stands"), rep.get("features")
                    if not isinstance(st, bool) or not isinstance(feat, dict):
                        continue
                    x = [float(feat.get(n, 0) or 0) for n in FEATURES]
                    if x[FEATURES.index("no_answer")]:
                        continue  # no draft: the agent's confidence is 0, nothing to fit
                    if gold is not None and st:
                        st = draft_stands(rep, gold, r["id"])
                    rows.append((r["id"], x, 1.0 if st else 0.0))
    return rows


def sigmoid(z):
    if z < -60:
        return 0.0
    if z > 60:
        return 1.0
    return 1.0 / (1.0 + math.exp(-z))


def solve(a, b):
    """Solves a x = b by Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        if abs(m[c][c]) < 1e-12:
            continue
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / m[i][i] if abs(m[i][i]) > 1e-12 else 0.0 for i in range(n)]


def fit(rows, l2):
    """Logistic regression by Newton's method; the bias is not penalised."""
    d = len(FEATURES) + 1
    w = [0.0] * d
    for _ in range(50):
        grad = [0.0] * d
        hess = [[0.0] * d for _ in range(d)]
        for _, x, y in rows:
            xb = [1.0] + x
            p = sigmoid(sum(wi * xi for wi, xi in zip(w, xb)))
            for i in range(d):
                grad[i] += (p - y) * xb[i]
                for j in range(d):
                    hess[i][j] += p * (1 - p) * xb[i] * xb[j]
        for i in range(1, d):
            grad[i] += l2 * w[i]
            hess[i][i] += l2
        step = solve(hess, grad)
        w = [wi - si for wi, si in zip(w, step)]
        if max(abs(s) for s in step) < 1e-8:
            break
    return w


def predict(w, x):
    if x[FEATURES.index("no_answer")]:
        return 0.0
    return sigmoid(w[0] + sum(wi * xi for wi, xi in zip(w[1:], x)))


def ece(pairs):
    bins = [[0.0, 0.0, 0] for _ in range(10)]
    for p, y in pairs:
        b = min(9, max(0, int(p * 10)))
        bins[b][0] += p
        bins[b][1] += y
        bins[b][2] += 1
    return sum(abs(c - s) for c, s, n in bins if n) / max(1, len(pairs))


def auroc(pairs):
    pos = [p for p, y in pairs if y]
    neg = [p for p, y in pairs if not y]
    if not pos or not neg:
        return float("nan")
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", nargs="+", help="replay --out files (development split)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gold", help="which facts answer each message (TSV)")
    ap.add_argument("--weights", help="evaluate these weights (bias first), fit nothing")
    a = ap.parse_args()
    rows = load(a.results, load_gold(a.gold) if a.gold else None)
    if not rows:
        sys.exit("no labelled replies: run frontline replay --out on labelled tickets")
    if a.weights:
        w = [float(v) for v in a.weights.replace("{", "").replace("}", "").split(",")]
        if len(w) != len(FEATURES) + 1:
            sys.exit(f"--weights: {len(FEATURES) + 1} numbers, bias first")
        pairs = [(predict(w, x), y) for _, x, y in rows]
        n_neg = sum(1 for _, _, y in rows if not y)
        print(f"{len(rows)} replies, {n_neg} not standing: ECE {ece(pairs):.3f}, "
              f"AUROC {auroc(pairs):.3f}")
        return
    tickets = sorted({t for t, _, _ in rows})
    random.Random(a.seed).shuffle(tickets)
    fold_of = {t: i % a.folds for i, t in enumerate(tickets)}
    held = []
    for k in range(a.folds):
        train = [r for r in rows if fold_of[r[0]] != k]
        w = fit(train, a.l2)
        held += [(predict(w, x), y) for t, x, y in rows if fold_of[t] == k]
    w = fit(rows, a.l2)
    n_neg = sum(1 for _, _, y in rows if not y)
    print(f"{len(rows)} replies from {len(tickets)} tickets, {n_neg} not let stand")
    print(f"held-out ({a.folds}-fold by ticket): ECE {ece(held):.3f}, AUROC {auroc(held):.3f}")
    fitted = [(predict(w, x), y) for _, x, y in rows]
    print(f"fitted on all: ECE {ece(fitted):.3f}, AUROC {auroc(fitted):.3f}")
    print("weights (bias, " + ", ".join(FEATURES) + "):")
    print("static const double conf_w[FEAT__N + 1] = {" +
          ", ".join(f"{v:.3f}" for v in w) + "};")


if __name__ == "__main__":
    main()
