#!/usr/bin/env python3
"""Splits labelled tickets into a dev and a test set, reproducibly.

    python3 tools/split-tickets.py [--seed S] --dev DEV.jsonl --test TEST.jsonl
                                   [--dev-prefix AD] [--test-prefix AT] FILE...

Reads every ticket of FILE... (JSON Lines, frontline-tickets(5); each ticket
needs labels.intent_category and labels.escalated) and writes about half of
them to DEV and the rest to TEST, stratified: within each stratum, category x
escalated, further cut by escalation reason (escalated tickets) or by the
first case their "tags" name (KINDS: look-alike, greeting, ...), and into
one-turn and multi-turn tickets, the tickets are shuffled with the seed and
dealt out.
The odd ticket of a stratum goes to the set with fewer tickets of its
reason or kind so far, then of its escalated value, then fewer tickets.

The split depends only on the tickets' content and the seed, never on their
ids or the order of the input: tickets are put in a canonical order (the
SHA-256 of each ticket without its id) before shuffling. Each set is then
numbered by created_at, PREFIX-001 onwards. Running the tool again on DEV and
TEST themselves therefore writes the same two files byte for byte, which is
how tests/tickets.sh checks that the shipped split is this tool's output.

All input is read before anything is written, so DEV and TEST may be input
files. Output is one compact JSON object per line, "id" first. Exit status:
64 bad arguments, 65 a line that is not a ticket with those labels, 66 an
input that cannot be read, 74 an output that cannot be written.
"""
import argparse
import hashlib
import json
import os
import random
import sys
from collections import Counter


def fail(code, msg):
    sys.stderr.write("split-tickets: %s\n" % msg)
    sys.exit(code)


def read(paths):
    tickets = []
    for path in paths:
        try:
            f = open(path, encoding="utf-8")
        except OSError as e:
            fail(66, "%s: %s" % (path, e.strerror.lower()))
        with f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    t = json.loads(line)
                except json.JSONDecodeError as e:
                    fail(65, "%s:%d: not JSON (%s)" % (path, n, e.msg))
                lb = t.get("labels") if isinstance(t, dict) else None
                if (not isinstance(lb, dict) or not isinstance(lb.get("intent_category"), str)
                        or not isinstance(lb.get("escalated"), bool)):
                    fail(65, "%s:%d: a ticket needs labels.intent_category and labels.escalated"
                         % (path, n))
                tickets.append(t)
    if not tickets:
        fail(65, "no tickets in %s" % " ".join(paths))
    return tickets


def content_key(t):
    rest = {k: v for k, v in t.items() if k != "id"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


# Cases of a ticket that is not escalated, the rarest first: a ticket is of
# the first kind its "tags" name, so that each set gets its share of each.
KINDS = ("look-alike", "greeting", "bot-question", "about-humans", "competitor", "unreleased",
         "missing-detail", "topic-change", "late-order", "stale-kb", "out-of-scope", "deny",
         "affirm", "thanks")


def kind(t):
    """The escalation reason of an escalated ticket, else its first of KINDS."""
    if t["labels"]["escalated"]:
        return "reason:%s" % t["labels"].get("escalation_reason")
    tags = t.get("tags") or []
    return next((k for k in KINDS if k in tags), "other")


def stratum(t):
    multi = sum(m.get("role") == "customer" for m in t.get("messages") or []) > 1
    return (t["labels"]["intent_category"], t["labels"]["escalated"], kind(t), multi)


def split(tickets, seed):
    keyed = sorted(((content_key(t), t) for t in tickets), key=lambda kt: kt[0])
    groups = {}
    for k, t in keyed:
        groups.setdefault(stratum(t), []).append((k, t))
    rng = random.Random(seed)
    dev, test = [], []
    ndev, ntest = Counter(), Counter()  # tickets per kind and per escalated value
    for s in sorted(groups, key=str):
        _, escalated, k, _ = s
        g = groups[s]
        rng.shuffle(g)
        half = len(g) // 2
        dev.extend(g[:half])
        test.extend(g[half:2 * half])
        for n in (ndev, ntest):
            n[k] += half
            n[escalated] += half
        if len(g) % 2:
            # The odd ticket goes where its kind (an escalation reason, a
            # look-alike), then its escalated value, then tickets are fewer.
            to_dev = (ndev[k], ndev[escalated], len(dev)) <= (ntest[k], ntest[escalated], len(test))
            (dev if to_dev else test).append(g[-1])
            n = ndev if to_dev else ntest
            n[k] += 1
            n[escalated] += 1
    return dev, test


def number(part, prefix):
    part.sort(key=lambda kt: (kt[1].get("created_at") or "", kt[0]))
    out = []
    for i, (_, t) in enumerate(part, 1):
        nt = {"id": "%s-%03d" % (prefix, i)}
        nt.update((k, v) for k, v in t.items() if k != "id")
        out.append(nt)
    return out


def write(path, tickets):
    tmp = "%s.tmp%d" % (path, os.getpid())
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for t in tickets:
                f.write(json.dumps(t, ensure_ascii=False, separators=(",", ":")) + "\n")
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        fail(74, "%s: %s" % (path, e.strerror.lower()))


def main():
    ap = argparse.ArgumentParser(prog="split-tickets.py",
                                 description="Split labelled tickets into dev and test.")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--dev-prefix", default="AD")
    ap.add_argument("--test-prefix", default="AT")
    ap.add_argument("inputs", nargs="+", metavar="FILE")
    try:
        a = ap.parse_args()
    except SystemExit as e:
        sys.exit(64 if e.code else 0)
    if a.dev_prefix == a.test_prefix:
        fail(64, "--dev-prefix and --test-prefix must differ")
    dev, test = split(read(a.inputs), a.seed)
    write(a.dev, number(dev, a.dev_prefix))
    write(a.test, number(test, a.test_prefix))
    esc = lambda p: sum(t["labels"]["escalated"] for _, t in p)
    print("dev: %d tickets (%d escalated); test: %d tickets (%d escalated)"
          % (len(dev), esc(dev), len(test), esc(test)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
