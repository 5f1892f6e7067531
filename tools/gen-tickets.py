#!/usr/bin/env python3
"""Writes synthetic support tickets for frontline replay benchmarks.

    python3 tools/gen-tickets.py --count 100000 --seed 7 --out /tmp/t.jsonl

Each line is one ticket in the format of frontline-tickets(5) (DESIGN
section 5): a customer, the orders and account the tools can look up, 1-4
customer messages each answered by a human agent, the human's labels
(intent_category, escalated, escalation_reason, escalation_turn) and the
outcome (resolved, resolved_by, csat for about 15% of tickets,
recontact_within_7d, handle_time_s).

The tickets are made from scenario tables for Acme Corp (the fictional
company of kb/): the same products, prices, order-number format and
policies. Labels follow the policy a careful human agent works by
(kb/general/escalation.md, policies/support-agent-policy.yaml): a human
escalates when the customer asks for a person, uses legal language, reports
an account takeover, disputes more than $500, is an Acme for Business
customer with a billing question, or is still frustrated after repeated
attempts. The escalation_reason values are the names frontline's escalation
evaluator gives (src/escalation.c).

Same --seed and --count give the same bytes: the only randomness is one
random.Random(seed), and nothing depends on the clock or the environment.
Python 3 standard library only.
"""
import argparse
import json
import random
import sys

EX_USAGE = 64
EX_IOERR = 74

CATEGORIES = ["billing", "technical", "account", "shipping", "returns", "general"]
TIERS = ["self-serve", "standard", "premium", "enterprise"]
TIER_WEIGHTS = [35, 35, 20, 10]

# Escalation reasons, as src/escalation.c names them.
R_LEGAL = "legal-language-detected"
R_HUMAN = "customer-requested-human"
R_SECURITY = "account-security-concern"
R_DISPUTE = "payment-dispute-over-threshold"
R_ENTERPRISE = "enterprise-billing-policy"
R_SENTIMENT = "sentiment-degradation"

# Acme devices (kb/catalog.yaml): id, name, list price.
PRODUCTS = [
    ("acme-hub", "Acme Hub", 99.99),
    ("acme-cam-indoor", "Acme Cam Indoor", 59.99),
    ("acme-cam-outdoor", "Acme Cam Outdoor", 129.99),
    ("acme-doorbell-pro", "Acme Doorbell Pro", 179.99),
    ("acme-thermostat", "Acme Thermostat", 149.99),
    ("acme-smart-plug", "Acme Smart Plug", 24.99),
    ("acme-mesh-router", "Acme Mesh Router", 199.99),
    ("acme-motion-sensor", "Acme Motion Sensor", 29.99),
    ("acme-smart-lock", "Acme Smart Lock", 219.99),
]
CAMERAS = [p for p in PRODUCTS if p[0] in ("acme-cam-indoor", "acme-cam-outdoor",
                                           "acme-doorbell-pro")]
PLANS = [("Acme Protect Basic", 4.99), ("Acme Protect Plus", 9.99), ("Acme Protect Pro", 19.99)]
CARRIERS = {"UPS": "1Z999AA1%010d", "USPS": "9400111899%012d", "FedEx": "78%010d"}

FIRST = ["Maya", "Liam", "Priya", "Jonas", "Elena", "Marcus", "Aisha", "Tomás", "Hannah",
         "Kenji", "Fatima", "Owen", "Sofia", "Daniel", "Grace", "Mateo", "Nadia", "Ethan",
         "Chloe", "Ravi", "Lucia", "Samuel", "Ingrid", "Kwame", "Yara", "Felix", "Mei",
         "Carlos", "Zoe", "Arjun"]
LAST = ["Okafor", "Novak", "Raman", "Berg", "Petrova", "Hill", "Khan", "Alvarez", "Schmidt",
        "Tanaka", "Haddad", "Murphy", "Rossi", "Cohen", "Nguyen", "Silva", "Ivanova",
        "Walker", "Dubois", "Patel", "Moreno", "Adeyemi", "Larsen", "Mensah", "Farouk",
        "Weber", "Chen", "Ortiz", "Brooks", "Iyer"]
COMPANIES = ["Harbor Property Group", "Northwind Rentals", "Maple Street Lofts",
             "Bluebird Dental", "Cedar Ridge HOA", "Summit Storage"]

# 2026-09-01T00:00:00Z and the span tickets are spread over (84 days).
EPOCH_START = 1788220800
SPAN_S = 84 * 86400
DAY = 86400

_DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]


def civil(t):
    """(year, month, day, hh, mm, ss) of a Unix time, proleptic Gregorian, UTC."""
    days, rem = divmod(t, DAY)
    # Howard Hinnant's days_from_civil inverse.
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d, rem // 3600, rem % 3600 // 60, rem % 60


def iso(t):
    y, m, d, hh, mm, ss = civil(t)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, m, d, hh, mm, ss)


def date(t):
    y, m, d = civil(t)[:3]
    return "%04d-%02d-%02d" % (y, m, d)


def money(x):
    return "%.2f" % x


class Ticket:
    """One ticket being built: messages, context and the human's labels."""

    def __init__(self, rnd, n, seed, created):
        self.rnd = rnd
        self.id = "G%d-%07d" % (seed, n)
        self.created = created
        self.clock = created
        self.messages = []
        self.turns = 0              # customer messages so far
        self.escalation = None      # (reason, turn)
        self.orders = []
        self.account = None

    def customer(self, text):
        self.turns += 1
        self.messages.append({"role": "customer", "text": text, "at": iso(self.clock)})
        self.clock += self.rnd.randint(40, 400)

    def human(self, text):
        self.messages.append({"role": "human", "text": text, "at": iso(self.clock)})
        self.clock += self.rnd.randint(20, 300)

    def escalate(self, reason):
        """The human hands the ticket on at the current customer turn (first one wins)."""
        if self.escalation is None:
            self.escalation = (reason, self.turns)

    def order(self, status, products=None, placed_days_ago=None):
        rnd = self.rnd
        if products is None:
            products = [rnd.choice(PRODUCTS)]
        if placed_days_ago is None:
            placed_days_ago = rnd.randint(2, 12)
        placed = self.created - placed_days_ago * DAY
        carrier = rnd.choice(("UPS", "USPS", "FedEx"))
        items = []
        total = 0.0
        for pid, name, price in products:
            qty = 1 if rnd.random() < 0.85 else 2
            items.append({"product_id": pid, "name": name, "qty": qty, "unit_price_usd": price})
            total += qty * price
        o = {"id": "%s%06d" % (rnd.choice("ABS"), rnd.randint(10000, 999999)),
             "status": status,
             "placed": date(placed),
             "carrier": None if status == "processing" else carrier,
             "tracking": None if status == "processing" else
             CARRIERS[carrier] % rnd.randint(0, 10 ** 9),
             "eta": date(placed + rnd.randint(4, 8) * DAY) if status != "delayed"
             else date(self.created + rnd.randint(3, 9) * DAY),
             "items": items,
             "total": round(total, 2)}
        self.orders.append(o)
        return o

    def acct(self, tier, plan=None, status="active", balance=0.0):
        if plan is None:
            plan = self.rnd.choice(PLANS)[0]
        self.account = {"plan": plan, "balance_usd": balance, "status": status,
                        "two_factor": self.rnd.random() < 0.4}
        if tier == "enterprise":
            self.account["business"] = True
        return self.account


# ------------------------------------------------------------------ scenarios
#
# Each scenario writes the opening of a ticket: the first customer message,
# the human's answer and, sometimes, a follow-up. It returns whether the
# customer's problem was one a human could settle (True) or one that stays
# open (False). Later modifiers may add turns (a request for a person, legal
# language, frustration) within the 4-message limit.

def first_item(o):
    return o["items"][0]["name"]


def s_billing_double(t, c):
    plan, price = t.rnd.choice(PLANS)
    t.acct(c["tier"], plan)
    t.customer("I was charged twice for my %s subscription this month, $%s both times. "
               "Can you fix that?" % (plan, money(price)))
    t.human("I'm sorry about the duplicate charge, %s. I can see two charges of $%s on the "
            "same day; the second one is a duplicate and I've refunded it. Card refunds take "
            "5-10 business days to appear on your statement." % (c["first"], money(price)))
    if t.rnd.random() < 0.4:
        t.customer("Thanks. Will I get an email confirming the refund?")
        t.human("Yes, you'll get a confirmation email within the hour, and the refund shows on "
                "your invoice history under Account > Billing > Invoices.")
    return True


def s_billing_invoice(t, c):
    t.acct(c["tier"])
    o = t.order("delivered", placed_days_ago=t.rnd.randint(10, 60))
    t.customer("I need an invoice for order %s for my expense report. Where can I download "
               "it?" % o["id"])
    t.human("You can download the PDF invoice in the Acme Home app under Account > Billing > "
            "Invoices, or at acme.example/invoices. I've also re-sent the invoice for %s to "
            "your email." % o["id"])
    return True


def s_billing_cancel(t, c):
    plan, price = t.rnd.choice(PLANS)
    t.acct(c["tier"], plan)
    t.customer("How do I cancel my %s plan? I don't use the cloud recordings anymore." % plan)
    t.human("You can cancel anytime under Account > Subscription > Cancel plan in the app. "
            "Your plan stays active until the end of the period you've paid for. Would you "
            "like me to cancel it for you now?")
    if t.rnd.random() < 0.6:
        t.customer("Yes please, cancel it.")
        t.human("Done: your %s plan is cancelled and stays active until the end of this "
                "billing period. You'll get a confirmation email shortly." % plan)
    return True


def s_billing_unrecognized(t, c):
    plan, price = t.rnd.choice(PLANS)
    t.acct(c["tier"], plan)
    t.customer("There's a charge on my card from ACME*PROTECT for $%s that I don't "
               "recognise. What is it?" % money(price))
    t.human("ACME*PROTECT is how your %s subscription appears on card statements; it renews "
            "on the same day each month. If you'd rather not keep it, I can help you cancel."
            % plan)
    return True


def s_billing_failed(t, c):
    plan, price = t.rnd.choice(PLANS)
    t.acct(c["tier"], plan, status="past_due", balance=price)
    t.customer("The app says my payment failed and my %s plan is past due. My card is fine "
               "though." % plan)
    t.human("Thanks for letting me know. The last charge of $%s was declined by the bank; "
            "you can update the card under Account > Billing > Payment method and we'll retry "
            "right away. Recordings keep working during the retry period." % money(price))
    return True


def s_billing_dispute_big(t, c):
    t.acct(c["tier"])
    o = t.order("delivered", products=[PRODUCTS[8], PRODUCTS[6], PRODUCTS[3]],
                placed_days_ago=t.rnd.randint(15, 40))
    t.customer("I'm disputing the charge of $%s for order %s. I never received half of those "
               "items and I want the charge reversed." % (money(o["total"]), o["id"]))
    t.escalate(R_DISPUTE)
    t.human("I understand, and I'm sorry for the trouble. Disputes over $500 are handled by "
            "our Billing Specialist team, so I've passed your case to them with the order "
            "details; they'll reply by email within 2 business days.")
    return True


def s_billing_enterprise(t, c):
    t.acct(c["tier"], "Acme Protect Pro")
    n = t.rnd.randint(12, 60)
    amount = round(n * 19.99, 2)
    t.customer("Our monthly invoice for %s came to $%s but we only have %d cameras on "
               "Protect Pro. Can you correct the invoice?" % (c["company"], money(amount), n - 3))
    t.escalate(R_ENTERPRISE)
    t.human("Thanks for flagging this. Acme for Business invoices are handled by our Business "
            "Billing team, so I've sent them your invoice question and device count; your "
            "account manager will follow up by email within one business day.")
    return True


def s_tech_offline(t, c):
    p = t.rnd.choice(CAMERAS)
    t.order("delivered", products=[p], placed_days_ago=t.rnd.randint(20, 200))
    t.customer("My %s keeps going offline in the app. It was working fine last week."
               % p[1])
    t.human("Let's sort that out. First check the status light: if it's blinking amber the "
            "camera lost Wi-Fi. Restart your router, then hold the camera's button for 2 "
            "seconds to reconnect. Is your network 2.4 GHz?")
    if t.rnd.random() < 0.6:
        t.customer("It's a mixed 2.4/5 GHz network. I restarted the router and it's back "
                   "online now.")
        t.human("Great. If it drops again, try moving the router closer or adding a mesh "
                "node; the camera needs a steady 2.4 GHz signal.")
    return True


def s_tech_setup(t, c):
    p = t.rnd.choice(CAMERAS)
    t.order("delivered", products=[p], placed_days_ago=t.rnd.randint(2, 10))
    t.customer("I can't get my new %s to set up. The app says it can't find the device."
               % p[1])
    t.human("Sorry about that. Keep your phone within 10 feet of the device, make sure your "
            "phone is on your 2.4 GHz Wi-Fi, and scan the QR code on the quick-start card. "
            "Acme devices can't join a 5 GHz-only network.")
    return True


def s_tech_flicker(t, c):
    t.order("delivered", products=[PRODUCTS[1]], placed_days_ago=t.rnd.randint(30, 300))
    t.customer("The night vision on my indoor cam flickers badly since last week.")
    t.human("That's a known issue on firmware 2.8.1. Firmware 2.8.2 fixes it: go to Device > "
            "Settings > Device info and tap Update now, or it will install automatically by "
            "December 5.")
    return True


def s_tech_plug(t, c):
    t.customer("How do I reset my smart plug? It won't connect after I changed routers.")
    t.human("Leave the plug in the outlet and hold its button for 10 seconds until the light "
            "blinks red quickly, then release. It restarts in about 5 seconds and you can add "
            "it again in the app.")
    return True


def s_tech_thermostat(t, c):
    t.order("delivered", products=[PRODUCTS[4]], placed_days_ago=t.rnd.randint(3, 30))
    t.customer("Will the Acme Thermostat work with my electric baseboard heaters?")
    t.human("If your baseboards are 120 V or 240 V line-voltage, the Acme Thermostat isn't "
            "compatible: it works with 24 V systems. If you haven't installed it yet you can "
            "return it within 30 days of delivery.")
    return True


def s_account_password(t, c):
    t.acct(c["tier"])
    t.customer("I forgot my password and the reset email never arrives.")
    t.human("Reset links go to the account's email and expire after 60 minutes. Please check "
            "your spam folder; I've just sent a fresh link to %s." % c["email"])
    if t.rnd.random() < 0.5:
        t.customer("Found it in spam, I'm in now. Thanks!")
        t.human("Glad you're back in. Have a good day!")
    return True


def s_account_email(t, c):
    t.acct(c["tier"])
    t.customer("How do I change the email on my account? I'm moving away from my old "
               "address.")
    t.human("In the app go to Account > Profile > Email. We send a confirmation link to the "
            "new address that must be clicked within 24 hours, and a notice to the old one.")
    return True


def s_account_lockout(t, c):
    t.acct(c["tier"])
    t.customer("My account is locked after I typed the wrong password a few times. Can you "
               "unlock it?")
    t.human("The lock clears by itself after 30 minutes, or right away if you reset your "
            "password from the sign-in screen. I can't unlock it manually, but the reset link "
            "will get you in immediately.")
    return True


def s_account_hacked(t, c):
    t.acct(c["tier"])
    t.customer("I think my account was hacked. Someone changed my password without my "
               "permission and I got a sign-in alert from another state.")
    t.escalate(R_SECURITY)
    t.human("I'm sorry, that's worrying. For your security I'm handing this to our Account "
            "Security team right now; they'll verify your identity and lock the account. "
            "Please don't share any codes with anyone meanwhile.")
    return True


def s_account_delete(t, c):
    t.acct(c["tier"], status="active")
    t.customer("I want to delete my account and all my data.")
    t.human("You can delete it in the app under Account > Privacy > Delete account, after "
            "cancelling any active Protect plan. The account can be restored within 30 days; "
            "after that the data is removed.")
    return True


def s_ship_where(t, c):
    o = t.order("shipped")
    t.customer("Where is my order %s? It still hasn't arrived." % o["id"])
    t.human("Your order %s shipped with %s, tracking %s, and the estimated delivery is %s. "
            "Tracking can take up to 24 hours to update." % (o["id"], o["carrier"],
                                                              o["tracking"], o["eta"]))
    return True


def s_ship_delayed(t, c):
    t.acct(c["tier"])
    o = t.order("delayed", placed_days_ago=t.rnd.randint(8, 15))
    t.customer("My order %s was supposed to arrive days ago. What is going on?" % o["id"])
    t.human("I'm sorry, %s is delayed in the %s network; the new estimate is %s. I've added a "
            "$10 credit to your account for the inconvenience." % (o["id"], o["carrier"],
                                                                   o["eta"]))
    if t.rnd.random() < 0.5:
        t.customer("OK, thanks for the credit. I just need it before the weekend.")
        t.human("Understood. I'll keep an eye on it; if it isn't delivered by %s, reply here "
                "and we'll send a replacement." % o["eta"])
    return True


def s_ship_address(t, c):
    o = t.order("processing", placed_days_ago=0)
    t.customer("I put the wrong shipping address on order %s. Can I change it?" % o["id"])
    t.human("Yes: the order is still in Received status, so you can change it under Account > "
            "Orders > Change address, or tell me the new address and I'll update it now.")
    return True


def s_ship_lost(t, c):
    o = t.order("delivered", placed_days_ago=t.rnd.randint(6, 12))
    t.customer("Tracking says order %s was delivered yesterday but there's no package."
               % o["id"])
    t.human("I'm sorry. Please check with neighbours and around the building, as carriers "
            "sometimes mark packages early. If it hasn't turned up within 48 hours, reply "
            "here and I'll open a lost-package claim and send a replacement.")
    return False if t.rnd.random() < 0.3 else True


def s_ship_canada(t, c):
    t.customer("Do you ship to Canada, and how much is shipping?")
    t.human("Yes. Orders to Canada ship with UPS, take 4-8 business days and cost a flat "
            "$12.99; duties and taxes are collected at checkout so there's nothing to pay on "
            "delivery.")
    return True


def s_ret_window(t, c):
    o = t.order("delivered", placed_days_ago=t.rnd.randint(8, 25))
    t.customer("Can I still return the %s from order %s? I changed my mind."
               % (first_item(o), o["id"]))
    t.human("Yes, devices bought from acme.example can be returned within 30 days of delivery "
            "for any reason, and US return shipping is free. I've started the return; the RMA "
            "number and prepaid UPS label are on their way by email.")
    return True


def s_ret_damaged(t, c):
    o = t.order("delivered", placed_days_ago=t.rnd.randint(4, 10))
    t.customer("The %s from order %s arrived with a cracked case." % (first_item(o), o["id"]))
    t.human("I'm sorry it arrived damaged. You can choose a free replacement or a full refund, "
            "with no restocking fee. Could you send a photo of the damage? Then I'll set it "
            "up right away.")
    if t.rnd.random() < 0.6:
        t.customer("Photo attached. A replacement please.")
        t.human("Thanks, the replacement is on its way and you'll get a prepaid label to send "
                "the damaged one back.")
    return True


def s_ret_refund(t, c):
    o = t.order("delivered", placed_days_ago=t.rnd.randint(20, 40))
    t.customer("I returned order %s last week. When will I get my refund?" % o["id"])
    t.human("We issue the refund within 3 business days after the return reaches the "
            "warehouse, and then it takes 5-10 business days to show on your card. I can see "
            "the return for %s was received, so the refund is on its way." % o["id"])
    return True


def s_ret_warranty(t, c):
    p = t.rnd.choice(PRODUCTS)
    o = t.order("delivered", products=[p], placed_days_ago=t.rnd.randint(60, 300))
    t.customer("My %s stopped working, I bought it a few months ago (order %s)."
               % (p[1], o["id"]))
    t.human("I'm sorry. It's past the 30-day return window but within the 1-year warranty, "
            "so we'll replace it. Have you tried a factory reset? If so, I'll open the "
            "warranty claim now.")
    return True


def s_gen_hours(t, c):
    t.customer("What are your support hours? I want to call someone.")
    t.human("Human agents are available by chat and phone every day from 8 am to 10 pm "
            "Eastern Time, at 1-800-555-0142. Chat with the assistant is open 24/7.")
    return True


def s_gen_spanish(t, c):
    t.customer("Do you offer support in Spanish for my mother?")
    t.human("Yes, Acme support is available in Spanish by chat, phone and email, and the Acme "
            "Home app is available in Spanish too.")
    return True


def s_gen_pricematch(t, c):
    p = t.rnd.choice(PRODUCTS)
    t.customer("I saw the %s cheaper at another store. Do you price match?" % p[1])
    t.human("We match a lower advertised price for an identical new Acme device from an "
            "authorized US retailer, at purchase or within 14 days after delivery. Send me "
            "the link and your order number and I'll refund the difference.")
    return True


def s_gen_business(t, c):
    t.customer("I manage 14 rental units. Is there a business program for property managers?")
    t.human("Yes, Acme for Business is for landlords and property managers with 10 or more "
            "devices or several properties; each account gets a dedicated account manager. "
            "I can have the team contact you.")
    return True


SCENARIOS = {
    "billing": [s_billing_double, s_billing_invoice, s_billing_cancel, s_billing_unrecognized,
                s_billing_failed, s_billing_dispute_big],
    "technical": [s_tech_offline, s_tech_setup, s_tech_flicker, s_tech_plug, s_tech_thermostat],
    "account": [s_account_password, s_account_email, s_account_lockout, s_account_hacked,
                s_account_delete],
    "shipping": [s_ship_where, s_ship_delayed, s_ship_address, s_ship_lost, s_ship_canada],
    "returns": [s_ret_window, s_ret_damaged, s_ret_refund, s_ret_warranty],
    "general": [s_gen_hours, s_gen_spanish, s_gen_pricematch, s_gen_business],
}
CATEGORY_WEIGHTS = [22, 18, 14, 20, 14, 12]

FRUSTRATED = [
    "This is the second time I've had to explain this. It's really frustrating.",
    "Honestly this is ridiculous, nothing you've suggested has worked.",
    "I'm fed up. I've wasted my whole afternoon on this.",
    "This is unacceptable. Why is this so hard?",
]
FRUSTRATED_REPLY = [
    "I'm sorry this has taken so long; I understand how frustrating it is. Let me take care "
    "of it directly.",
    "You're right that this shouldn't be this hard, and I apologise. Here's what I'll do "
    "now.",
]
ASK_HUMAN = [
    "Can I talk to a real person please?",
    "I'd like to speak to a manager.",
    "Please transfer me to a human agent.",
    "agent",
]
LEGAL = [
    "If this isn't sorted out I'll be talking to my lawyer.",
    "I'm going to file a complaint with the Better Business Bureau.",
    "This is a breach of contract and I'm considering legal action.",
]
THANKS = ["Thanks, that helps.", "Perfect, thank you!", "OK, got it.", "Great, thanks for the help."]
VERBATIM_GOOD = ["Quick and clear answer.", "Agent was friendly and fixed it fast.",
                 "Solved on the first try, thanks."]
VERBATIM_BAD = ["Took far too long and I had to repeat myself.",
                "Still not fixed.", "Had to explain everything twice."]


def make_customer(rnd, n, category):
    tier = rnd.choices(TIERS, TIER_WEIGHTS)[0]
    first = rnd.choice(FIRST)
    last = rnd.choice(LAST)
    c = {"id": "C-%d" % (20000 + rnd.randint(0, 79999)),
         "name": "%s %s" % (first, last),
         "tier": tier,
         "email": "%s.%s@example.com" % (first.lower().replace("á", "a"), last.lower()),
         "first": first}
    if tier == "enterprise":
        c["company"] = rnd.choice(COMPANIES)
    return c


def generate(rnd, n, seed):
    created = EPOCH_START + rnd.randrange(SPAN_S)
    t = Ticket(rnd, n, seed, created)
    category = rnd.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
    c = make_customer(rnd, n, category)
    scenario = rnd.choice(SCENARIOS[category])
    # An Acme for Business customer's billing question goes to Business Billing.
    if category == "billing" and c["tier"] == "enterprise" and rnd.random() < 0.7:
        scenario = s_billing_enterprise
    solved = scenario(t, c)

    # Modifiers, within the 4-message limit.
    frustrated = 0
    r = rnd.random()
    if r < 0.06 and t.turns < 4:
        t.customer(rnd.choice(ASK_HUMAN))
        t.escalate(R_HUMAN)
        t.human("Of course. I'm connecting you with a colleague now; they can see everything "
                "we've discussed, so you won't need to repeat yourself.")
    elif r < 0.09 and t.turns < 4:
        t.customer(rnd.choice(LEGAL))
        t.escalate(R_LEGAL)
        t.human("I understand. I'm passing your case to a senior agent who will contact you "
                "directly about it.")
    elif r < 0.15 and t.turns <= 2:
        # Still unhappy after repeated attempts: the human hands it to a supervisor.
        while t.turns < 4:
            t.customer(rnd.choice(FRUSTRATED))
            frustrated += 1
            if frustrated >= 2:
                t.escalate(R_SENTIMENT)
                t.human("I'm sorry we haven't got this right. I'm bringing in my supervisor, "
                        "who can do more than I can here; they have the full history.")
                break
            t.human(rnd.choice(FRUSTRATED_REPLY))
        solved = solved and rnd.random() < 0.7
    elif r < 0.40 and t.turns < 4 and t.escalation is None:
        t.customer(rnd.choice(THANKS))

    escalated = t.escalation is not None
    resolved = solved and rnd.random() < (0.9 if escalated else 0.96)
    recontact = rnd.random() < (0.25 if not resolved else 0.12 if escalated else 0.06)
    outcome = {"resolved": resolved,
               "resolved_by": "human" if resolved else None,
               "csat": None,
               "recontact_within_7d": recontact,
               "handle_time_s": 60 * t.turns + rnd.randint(60, 420) + (600 if escalated else 0)}
    if rnd.random() < 0.15:
        if not resolved:
            score = rnd.choice((1, 1, 2, 2, 3))
        elif escalated or frustrated:
            score = rnd.choice((2, 3, 3, 4, 4, 5))
        else:
            score = rnd.choice((3, 4, 4, 5, 5, 5))
        outcome["csat"] = score
        if rnd.random() < 0.4:
            outcome["csat_verbatim"] = rnd.choice(VERBATIM_GOOD if score >= 4 else VERBATIM_BAD)

    customer = {"id": c["id"], "name": c["name"], "tier": c["tier"], "email": c["email"]}
    context = {}
    if t.orders:
        context["orders"] = t.orders
    if t.account is not None:
        context["account"] = t.account
    return {"id": t.id,
            "created_at": iso(created),
            "channel": "email" if rnd.random() < 0.2 else "chat",
            "customer": customer,
            "context": context,
            "messages": t.messages,
            "labels": {"intent_category": category,
                       "escalated": escalated,
                       "escalation_reason": t.escalation[0] if escalated else None,
                       "escalation_turn": t.escalation[1] if escalated else None},
            "outcome": outcome}


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write("gen-tickets: %s\n" % message)
        sys.exit(EX_USAGE)


def main():
    ap = Parser(description="Write N synthetic frontline tickets (JSON Lines).")
    ap.add_argument("--count", type=int, required=True, metavar="N")
    ap.add_argument("--seed", type=int, default=1, metavar="S")
    ap.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    a = ap.parse_args()
    if a.count < 0:
        ap.error("--count must be 0 or more")
    if a.seed < 0:
        ap.error("--seed must be 0 or more")
    rnd = random.Random(a.seed)
    enc = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    try:
        out = open(a.out, "w", encoding="utf-8") if a.out else sys.stdout
        buf = []
        for n in range(1, a.count + 1):
            buf.append(enc(generate(rnd, n, a.seed)))
            if len(buf) == 1000:
                buf.append("")
                out.write("\n".join(buf))
                buf = []
        if buf:
            buf.append("")
            out.write("\n".join(buf))
        out.flush()
        if a.out:
            out.close()
    except OSError as e:
        sys.stderr.write("gen-tickets: %s: %s\n" % (a.out or "stdout", e.strerror or e))
        sys.exit(EX_IOERR)


if __name__ == "__main__":
    main()
