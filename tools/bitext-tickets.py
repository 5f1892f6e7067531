#!/usr/bin/env python3
"""Converts Bitext customer-support instruction/response pairs into tickets.

    python3 tools/bitext-tickets.py bitext_cs_training_4514.csv > bitext.jsonl

The Bitext Customer Support LLM Chatbot Training Dataset
(github.com/bitext/customer-support-llm-chatbot-training-dataset) is under
the Community Data License Agreement - Sharing 1.0. This converter is part
of frontline (GPL-3.0-or-later) and ships without data; what it writes is
changed Bitext data and must stay under CDLA-Sharing-1.0, with credit to
Bitext and a note that it was changed (see tools/README).

Each CSV row (header context,role,instruction,intent,entity_type,
entity_value,start_offset,end_offset,category,tags,response) becomes a
one-turn ticket, good for triage accuracy and reply similarity at scale:
  id        "BITEXT-<row>" (row = 1 for the first data row)
  messages  the instruction as the customer's message and the response as
            the "human" reply (CRLF line ends made LF; Bitext's
            {{Placeholder}} tokens are left as they are)
  labels    intent_category from the intent (MAPPING below); for the
            contact_human_agent intent also escalated true with reason
            customer-requested-human at turn 1; other rows carry no
            escalation label, because the data does not say
  outcome   null
  source    {"dataset":"bitext","row","intent","category","tags"}

--limit N stops after N tickets. A row with an unknown intent or an empty
instruction is reported on stderr with its line and skipped, and the exit
status is then 65; a file that is not the Bitext CSV exits 65 at once, a
missing one 66, bad arguments 64. Python 3 standard library only.
"""
import argparse
import csv
import json
import sys

EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_IOERR = 74
PROG = "bitext-tickets"
COLUMNS = ("instruction", "intent", "category", "tags", "response")

# Bitext intent -> frontline intent_category (the project's suggested map,
# reviewed: orders placed or changed are general, cancelling one is returns).
MAPPING = {
    "create_account": "account", "delete_account": "account", "edit_account": "account",
    "recover_password": "account", "registration_problems": "account",
    "switch_account": "account", "newsletter_subscription": "account",
    "check_cancellation_fee": "billing", "check_invoice": "billing", "get_invoice": "billing",
    "check_payment_methods": "billing", "payment_issue": "billing",
    "contact_customer_service": "general", "contact_human_agent": "general",
    "complaint": "general", "review": "general", "change_order": "general",
    "place_order": "general",
    "delivery_options": "shipping", "delivery_period": "shipping", "track_order": "shipping",
    "change_shipping_address": "shipping", "set_up_shipping_address": "shipping",
    "cancel_order": "returns", "check_refund_policy": "returns", "get_refund": "returns",
    "track_refund": "returns",
}


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write("%s: %s\n" % (PROG, message))
        sys.exit(EX_USAGE)


def die(code, msg):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.exit(code)


def main():
    ap = Parser(description="Convert Bitext instruction/response pairs to frontline tickets.")
    ap.add_argument("input", metavar="IN.csv")
    ap.add_argument("--limit", type=int, metavar="N", help="stop after N tickets")
    a = ap.parse_args()
    if a.limit is not None and a.limit < 0:
        ap.error("--limit must be 0 or more")
    try:
        f = open(a.input, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        die(EX_NOINPUT, "%s: no such file" % a.input)
    except OSError as e:
        die(EX_NOINPUT, "%s: %s" % (a.input, e.strerror or e))

    bad = written = 0
    with f:
        try:
            rows = csv.DictReader(f)
            missing = [c for c in COLUMNS if c not in (rows.fieldnames or [])]
            if missing:
                die(EX_DATAERR, "%s: not the Bitext CSV: no column %s" % (a.input,
                                                                          ", ".join(missing)))
            for n, r in enumerate(rows, 1):
                if a.limit is not None and written >= a.limit:
                    break
                intent = (r.get("intent") or "").strip()
                text = (r.get("instruction") or "").strip()
                reply = (r.get("response") or "").replace("\r\n", "\n").strip()
                why = None
                if intent not in MAPPING:
                    why = "unknown intent %r" % intent
                elif not text:
                    why = "empty instruction"
                if why:
                    bad += 1
                    sys.stderr.write("%s: %s:%d: row %d: %s, skipped\n" % (
                        PROG, a.input, rows.line_num, n, why))
                    continue
                messages = [{"role": "customer", "text": text}]
                if reply:
                    messages.append({"role": "human", "text": reply})
                labels = {"intent_category": MAPPING[intent]}
                if intent == "contact_human_agent":
                    labels.update(escalated=True, escalation_reason="customer-requested-human",
                                  escalation_turn=1)
                t = {"id": "BITEXT-%d" % n, "created_at": None, "channel": "chat",
                     "messages": messages, "labels": labels, "outcome": None,
                     "source": {"dataset": "bitext", "row": n, "intent": intent,
                                "category": r.get("category"), "tags": r.get("tags")}}
                sys.stdout.write(json.dumps(t, ensure_ascii=False, separators=(",", ":")) + "\n")
                written += 1
        except UnicodeDecodeError as e:
            die(EX_DATAERR, "%s: not UTF-8 (byte %d)" % (a.input, e.start))
        except csv.Error as e:
            die(EX_DATAERR, "%s:%d: bad CSV: %s" % (a.input, rows.line_num, e))
        except BrokenPipeError:
            sys.exit(EX_IOERR)
    if bad:
        die(EX_DATAERR, "%d row%s skipped, %d converted" % (bad, "" if bad == 1 else "s",
                                                            written))


if __name__ == "__main__":
    main()
