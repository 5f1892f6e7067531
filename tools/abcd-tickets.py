#!/usr/bin/env python3
"""Converts ABCD dialogues into frontline tickets (JSON Lines).

    python3 tools/abcd-tickets.py abcd_sample.json > abcd.jsonl
    python3 tools/abcd-tickets.py abcd_v1.1.json.gz --split test > abcd-test.jsonl

ABCD, the Action-Based Conversations Dataset (Chen et al., NAACL 2021,
github.com/asappresearch/abcd), is MIT-licensed, Copyright 2021 ASAPP
Research. This converter is part of frontline (GPL-3.0-or-later); the
tickets it writes are derived from ABCD and carry ABCD's MIT notice (see
tools/README).

Input: either the sample file (a JSON array of dialogues) or the full
corpus (an object {"train":[...],"dev":[...],"test":[...]}), plain or
gzip-compressed. --split picks one part of the full corpus; without it
every part is converted, in the order train, dev, test.

Each dialogue becomes one ticket:
  id            "ABCD-<convo_id>"
  channel       "chat"
  customer      username (or "abcd-<convo_id>"), name, email, and tier from
                the membership level: guest -> self-serve, bronze ->
                standard, silver and gold -> premium
  context       the scenario's order (order_id, purchase_date, products
                with their prices, total; status "unknown", ABCD does not
                say) and an account object (member_level, username, phone,
                payment_method, address)
  messages      the customer and agent turns in order; consecutive turns of
                one speaker are joined into one message (a chat turn), and
                the agent's turns become "human" messages
  actions       the agent's actions [{"name","values","turn"}], turn = the
                number of customer messages before the action
  labels        intent_category from the flow and subflow (MAPPING below);
                escalated when the agent notified a manager (ABCD's
                notify-team action with the value "manager"), with
                escalation_turn; escalation_reason is null because the data
                does not say why
  outcome       null: ABCD records none
  source        {"dataset":"abcd","convo_id","flow","subflow","split"}

A dialogue that is not in ABCD's format is reported on stderr with its
position and skipped; the exit status is then 65 (EX_DATAERR). A file that
cannot be read or parsed exits 66 or 65 at once; bad arguments exit 64.
Python 3 standard library only.
"""
import argparse
import ast
import gzip
import json
import re
import sys

EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_IOERR = 74

PROG = "abcd-tickets"
SPLITS = ("train", "dev", "test")

# ABCD flow/subflow -> frontline intent_category. Taken from the project's
# suggested map (shared data, category_map_suggested.csv), reviewed: account
# access and profile changes are account; anything about money (fees, payment
# methods, promo codes, price disputes, subscriptions) is billing; delivery
# is shipping; refunds and returns of defective goods are returns; product
# and store-policy questions, order changes and stock are general; the
# website's troubles are technical.
MAPPING = {
    "manage_account/status_service_added": "billing",
    "manage_account/status_service_removed": "billing",
    "manage_account/status_shipping_question": "shipping",
    "manage_account/status_credit_missing": "billing",
    "manage_account/manage_payment_method": "billing",
    "order_issue/status_mystery_fee": "billing",
    "order_issue/status_delivery_time": "shipping",
    "order_issue/status_payment_method": "billing",
    "order_issue/status_quantity": "shipping",
    "order_issue/manage_cancel": "returns",
    "purchase_dispute/out_of_stock_general": "general",
    "purchase_dispute/out_of_stock_one_item": "general",
}
# Every other subflow of a flow takes the flow's category.
FLOW_DEFAULT = {
    "account_access": "account",
    "manage_account": "account",
    "order_issue": "general",
    "product_defect": "returns",
    "purchase_dispute": "billing",
    "shipping_issue": "shipping",
    "single_item_query": "general",
    "storewide_query": "general",
    "subscription_inquiry": "billing",
    "troubleshoot_site": "technical",
}
TIERS = {"guest": "self-serve", "bronze": "standard", "silver": "premium", "gold": "premium"}
MANAGER_TEXT = re.compile(r"\bmanager has been notified\b", re.I)


class BadDialogue(Exception):
    pass


def category(flow, subflow):
    if flow not in FLOW_DEFAULT:
        raise BadDialogue("unknown flow %r" % flow)
    # Query subflows carry a numeric suffix in the data (timing_4).
    base = re.sub(r"_[0-9]+$", "", subflow or "")
    return MAPPING.get("%s/%s" % (flow, base), FLOW_DEFAULT[flow])


def title(s):
    return " ".join(w.capitalize() for w in s.replace("_", " ").split())


def products(order):
    """The order's products: ABCD stores them as a Python-literal string."""
    raw = order.get("products")
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        try:
            raw = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            raise BadDialogue("scenario.order.products is not a list")
    if not isinstance(raw, list):
        raise BadDialogue("scenario.order.products is not a list")
    items = []
    for p in raw:
        if not isinstance(p, dict):
            raise BadDialogue("scenario.order.products holds a non-object")
        name = title("%s %s" % (p.get("brand", ""), p.get("product_type", ""))).strip()
        price = p.get("amount")
        if isinstance(price, str):
            try:
                price = float(price)
            except ValueError:
                price = None
        if not isinstance(price, (int, float)) or isinstance(price, bool):
            price = None
        items.append({"name": name, "qty": 1, "unit_price_usd": price})
    return items


def need(obj, key, kind, where):
    v = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(v, kind):
        raise BadDialogue("'%s' must be %s" % (where, {dict: "an object", list: "an array",
                                                     str: "a string"}.get(kind, "set")))
    return v


def convert(d, split):
    if not isinstance(d, dict):
        raise BadDialogue("a dialogue must be an object")
    cid = d.get("convo_id")
    if not isinstance(cid, (int, str)) or isinstance(cid, bool) or cid == "":
        raise BadDialogue("'convo_id' must be a number or a string")
    sc = need(d, "scenario", dict, "scenario")
    flow = need(sc, "flow", str, "scenario.flow")
    subflow = sc.get("subflow") if isinstance(sc.get("subflow"), str) else ""
    personal = sc.get("personal") if isinstance(sc.get("personal"), dict) else {}
    order = sc.get("order") if isinstance(sc.get("order"), dict) else {}
    original = need(d, "original", list, "original")
    delexed = d.get("delexed") if isinstance(d.get("delexed"), list) else None
    if delexed is not None and len(delexed) != len(original):
        delexed = None  # not aligned: actions keep their text only

    messages = []
    actions = []
    turns = 0
    escalation_turn = None
    for i, t in enumerate(original):
        if (not isinstance(t, list) or len(t) != 2 or not isinstance(t[0], str)
                or not isinstance(t[1], str)):
            raise BadDialogue("original[%d] must be [speaker, text]" % i)
        speaker, text = t
        text = text.strip()
        if speaker == "action":
            a = {"name": None, "values": [], "turn": turns, "text": text}
            tg = delexed[i].get("targets") if delexed and isinstance(delexed[i], dict) else None
            if isinstance(tg, list) and len(tg) >= 4 and isinstance(tg[2], str):
                a["name"] = tg[2]
                a["values"] = [v for v in tg[3] if isinstance(v, (str, int, float))] \
                    if isinstance(tg[3], list) else []
            actions.append(a)
            manager = (a["name"] == "notify-team" and "manager" in a["values"]) or \
                (a["name"] is None and MANAGER_TEXT.search(text))
            if manager and escalation_turn is None:
                escalation_turn = turns
            continue
        if speaker == "customer":
            role = "customer"
        elif speaker == "agent":
            role = "human"
        else:
            raise BadDialogue("original[%d]: unknown speaker %r" % (i, speaker))
        if not text:
            continue
        if messages and messages[-1]["role"] == role:
            messages[-1]["text"] += " " + text
        else:
            messages.append({"role": role, "text": text})
            if role == "customer":
                turns += 1
    if turns == 0:
        raise BadDialogue("no customer message")

    name = personal.get("customer_name")
    username = personal.get("username")
    customer = {"id": username if isinstance(username, str) and username
                else "abcd-%s" % cid}
    if isinstance(name, str) and name:
        customer["name"] = title(name)
    level = personal.get("member_level")
    customer["tier"] = TIERS.get(level, "standard") if isinstance(level, str) else "standard"
    if isinstance(personal.get("email"), str):
        customer["email"] = personal["email"]

    context = {}
    oid = order.get("order_id")
    if isinstance(oid, (str, int)) and not isinstance(oid, bool) and str(oid):
        items = products(order)
        o = {"id": str(oid), "status": "unknown"}
        if isinstance(order.get("purchase_date"), str):
            o["placed"] = order["purchase_date"]
        o["items"] = items
        prices = [it["unit_price_usd"] for it in items]
        o["total"] = round(sum(prices), 2) if prices and None not in prices else None
        if isinstance(order.get("payment_method"), str):
            o["payment_method"] = order["payment_method"]
        context["orders"] = [o]
    account = {}
    if isinstance(level, str):
        account["member_level"] = level
    for k in ("username", "phone", "account_id"):
        if isinstance(personal.get(k), str):
            account[k] = personal[k]
    if isinstance(order.get("full_address"), str):
        account["address"] = " ".join(order["full_address"].split())
    if account:
        context["account"] = account

    escalated = escalation_turn is not None
    return {"id": "ABCD-%s" % cid,
            "created_at": None,
            "channel": "chat",
            "customer": customer,
            "context": context,
            "messages": messages,
            "actions": actions,
            "labels": {"intent_category": category(flow, subflow),
                       "escalated": escalated,
                       "escalation_reason": None,
                       "escalation_turn": escalation_turn},
            "outcome": None,
            "source": {"dataset": "abcd", "convo_id": cid, "flow": flow, "subflow": subflow,
                       "split": split}}


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write("%s: %s\n" % (PROG, message))
        sys.exit(EX_USAGE)


def die(code, msg):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.exit(code)


def load(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        die(EX_NOINPUT, "%s: no such file" % path)
    except OSError as e:
        die(EX_NOINPUT, "%s: %s" % (path, e.strerror or e))
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            die(EX_DATAERR, "%s: bad gzip data: %s" % (path, e))
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        die(EX_DATAERR, "%s: not UTF-8 (byte %d)" % (path, e.start))
    except json.JSONDecodeError as e:
        die(EX_DATAERR, "%s:%d:%d: not JSON: %s" % (path, e.lineno, e.colno, e.msg))


def main():
    ap = Parser(description="Convert ABCD dialogues to frontline tickets (JSON Lines on stdout).")
    ap.add_argument("input", metavar="IN.json", help="abcd_sample.json or abcd_v1.1.json(.gz)")
    ap.add_argument("--split", choices=SPLITS, help="one part of the full corpus")
    a = ap.parse_args()

    data = load(a.input)
    if isinstance(data, list):
        if a.split:
            ap.error("%s is a list of dialogues (the sample); --split needs the full corpus"
                     % a.input)
        parts = [(None, data)]
    elif isinstance(data, dict) and any(k in data for k in SPLITS):
        keys = [a.split] if a.split else [k for k in SPLITS if k in data]
        if a.split and a.split not in data:
            die(EX_DATAERR, "%s: no '%s' split" % (a.input, a.split))
        parts = []
        for k in keys:
            if not isinstance(data[k], list):
                die(EX_DATAERR, "%s: '%s' must be an array of dialogues" % (a.input, k))
            parts.append((k, data[k]))
    else:
        die(EX_DATAERR, "%s: not ABCD data: expected an array of dialogues or an object with "
                        "train/dev/test arrays" % a.input)

    bad = 0
    written = 0
    out = sys.stdout
    try:
        for split, dialogues in parts:
            for i, d in enumerate(dialogues):
                try:
                    t = convert(d, split)
                except BadDialogue as e:
                    bad += 1
                    cid = d.get("convo_id") if isinstance(d, dict) else None
                    sys.stderr.write("%s: %s: %sdialogue %d%s: %s, skipped\n" % (
                        PROG, a.input, split + " " if split else "", i + 1,
                        " (convo %s)" % cid if cid is not None else "", e))
                    continue
                out.write(json.dumps(t, ensure_ascii=False, separators=(",", ":")) + "\n")
                written += 1
        out.flush()
    except BrokenPipeError:
        sys.exit(EX_IOERR)
    except OSError as e:
        die(EX_IOERR, "stdout: %s" % (e.strerror or e))
    if bad:
        die(EX_DATAERR, "%d dialogue%s skipped, %d converted" % (bad, "" if bad == 1 else "s",
                                                                 written))


if __name__ == "__main__":
    main()
