#!/usr/bin/env python3
"""Checks that every line of a JSON Lines file is a valid frontline ticket.

    python3 tests/ticket-check.py [--strict] [--reason CODE]... FILE...

The rules are those of frontline-tickets(5): "id" (a non-empty string,
unique in the file) and "messages" (a non-empty array of {"role","text"},
role customer or human, with at least one customer message) are required;
the other fields are optional but, when present, must have the documented
type and value set. --strict also requires what the shipped and generated
sets always carry: customer with a tier, labels with intent_category and
escalated, and an outcome object (or null). --reason CODE accepts CODE as an
escalation reason besides the evaluator's own: the code of one of a policy's
sensitive-topic handlers (its name with hyphens), such as a test company's
food-safety-concern. Prints FILE:LINE: problem for each bad line and exits 1
if there was one, 0 otherwise.
"""
import json
import re
import sys

CATEGORIES = {"billing", "technical", "account", "shipping", "returns", "general"}
TIERS = {"self-serve", "standard", "premium", "enterprise"}
REASONS = {"legal-language-detected", "customer-requested-human", "account-security-concern",
           "payment-dispute-over-threshold", "enterprise-billing-policy",
           "sentiment-degradation", "max-turns-reached", "low-confidence",
           "low-retrieval-confidence-sensitive-topic"}
CHANNELS = {"chat", "email", "phone", "social"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check(t, strict, seen, reasons=REASONS):
    if not isinstance(t, dict):
        return "not a JSON object"
    tid = t.get("id")
    if not isinstance(tid, str) or not tid:
        return "'id' must be a non-empty string"
    if tid in seen:
        return "id %s appears twice" % tid
    seen.add(tid)
    msgs = t.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "'messages' must be a non-empty array"
    ncust = 0
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or m.get("role") not in ("customer", "human"):
            return "messages[%d]: role must be customer or human" % i
        if not isinstance(m.get("text"), str) or not m["text"].strip():
            return "messages[%d]: 'text' must be a non-empty string" % i
        if "at" in m and not (isinstance(m["at"], str) and TIME.match(m["at"])):
            return "messages[%d]: 'at' must be an ISO-8601 time" % i
        ncust += m["role"] == "customer"
    if ncust == 0:
        return "no customer message"
    ca = t.get("created_at")
    if ca is not None and not (isinstance(ca, str) and TIME.match(ca)):
        return "'created_at' must be an ISO-8601 time or null"
    if "channel" in t and t["channel"] not in CHANNELS:
        return "'channel' must be one of %s" % ", ".join(sorted(CHANNELS))
    c = t.get("customer")
    if c is not None:
        if not isinstance(c, dict):
            return "'customer' must be an object"
        if "id" in c and (not isinstance(c["id"], str) or not c["id"]):
            return "customer 'id' must be a non-empty string"
        if "tier" in c and c["tier"] not in TIERS:
            return "customer 'tier' %r is not one of %s" % (c["tier"], ", ".join(sorted(TIERS)))
    if strict and (not isinstance(c, dict) or "tier" not in c or "id" not in c):
        return "'customer' needs an id and a tier"
    ctx = t.get("context")
    if ctx is not None:
        if not isinstance(ctx, dict):
            return "'context' must be an object"
        if "account" in ctx and ctx["account"] is not None and not isinstance(ctx["account"], dict):
            return "context 'account' must be an object"
        orders = ctx.get("orders", [])
        if not isinstance(orders, list):
            return "context 'orders' must be an array"
        for i, o in enumerate(orders):
            if not isinstance(o, dict) or not isinstance(o.get("id"), str) or not o["id"]:
                return "context orders[%d] needs a string 'id'" % i
            if "status" in o and not isinstance(o["status"], str):
                return "context orders[%d]: 'status' must be a string" % i
            if o.get("eta") is not None and not (isinstance(o["eta"], str) and DATE.match(o["eta"])):
                return "context orders[%d]: 'eta' must be YYYY-MM-DD" % i
            if o.get("total") is not None and not is_num(o["total"]):
                return "context orders[%d]: 'total' must be a number" % i
            if "items" in o and not isinstance(o["items"], list):
                return "context orders[%d]: 'items' must be an array" % i
    lb = t.get("labels")
    if lb is not None:
        if not isinstance(lb, dict):
            return "'labels' must be an object"
        if "intent_category" in lb and lb["intent_category"] not in CATEGORIES:
            return "labels 'intent_category' %r is not a category" % lb["intent_category"]
        if "escalated" in lb and not isinstance(lb["escalated"], bool):
            return "labels 'escalated' must be true or false"
        r = lb.get("escalation_reason")
        if r is not None and r not in reasons:
            return "labels 'escalation_reason' %r is not a policy reason" % r
        if r is not None and lb.get("escalated") is not True:
            return "labels give an escalation_reason but escalated is not true"
        et = lb.get("escalation_turn")
        if et is not None:
            if not isinstance(et, int) or isinstance(et, bool) or not 0 <= et <= ncust:
                return "labels 'escalation_turn' must be 0..%d" % ncust
            if lb.get("escalated") is not True:
                return "labels give an escalation_turn but escalated is not true"
    if strict and (not isinstance(lb, dict) or "intent_category" not in lb
                   or "escalated" not in lb):
        return "'labels' needs intent_category and escalated"
    oc = t.get("outcome")
    if oc is not None:
        if not isinstance(oc, dict):
            return "'outcome' must be an object or null"
        if "resolved" in oc and not isinstance(oc["resolved"], bool):
            return "outcome 'resolved' must be true or false"
        rb = oc.get("resolved_by")
        if rb is not None and rb not in ("agent", "human"):
            return "outcome 'resolved_by' must be agent, human or null"
        if oc.get("resolved") is True and rb is None and "resolved_by" in oc:
            return "outcome resolved but resolved_by is null"
        if oc.get("resolved") is False and rb is not None:
            return "outcome not resolved but resolved_by is set"
        cs = oc.get("csat")
        if cs is not None and (not isinstance(cs, int) or isinstance(cs, bool) or not 1 <= cs <= 5):
            return "outcome 'csat' must be 1..5 or null"
        if "csat_verbatim" in oc and (cs is None or not isinstance(oc["csat_verbatim"], str)):
            return "outcome 'csat_verbatim' needs a csat and must be a string"
        if "recontact_within_7d" in oc and not isinstance(oc["recontact_within_7d"], bool):
            return "outcome 'recontact_within_7d' must be true or false"
        h = oc.get("handle_time_s")
        if h is not None and (not is_num(h) or h < 0):
            return "outcome 'handle_time_s' must be a number of seconds"
    elif strict and "outcome" not in t:
        return "'outcome' missing"
    return None


def main():
    args = sys.argv[1:]
    strict = False
    reasons = set(REASONS)
    files = []
    while args:
        a = args.pop(0)
        if a == "--strict":
            strict = True
        elif a == "--reason" and args:
            reasons.add(args.pop(0))
        else:
            files.append(a)
    if not files:
        sys.stderr.write("usage: ticket-check.py [--strict] [--reason CODE]... FILE...\n")
        return 2
    bad = 0
    for path in files:
        seen = set()
        n = 0
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                try:
                    t = json.loads(line)
                except json.JSONDecodeError as e:
                    why = "not JSON: %s (column %d)" % (e.msg, e.colno)
                else:
                    why = check(t, strict, seen, reasons)
                if why:
                    print("%s:%d: %s" % (path, n, why))
                    bad += 1
        if n == 0:
            print("%s: no tickets" % path)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
