/* check_validate.c -- the output validation layer: topics, phrases, PII, ungrounded figures,
 * commitments. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"
#include "testutil.h"
#include "validate.h"

#define SHIPPED "policies/support-agent-policy.yaml"

static struct policy *pol;

static void
setup(void)
{
	struct diag d = {0};
	char *path = srcpath(SHIPPED);
	pol = policy_load(path, &d);
	char *msgs = diag_join(&d);
	ck_assert_msg(pol != NULL, "%s did not load:\n%s", path, msgs);
	free(msgs);
	diag_free(&d);
	free(path);
}

static void
teardown(void)
{
	policy_free(pol);
	pol = NULL;
}

/* ---------------------------------------------------------- helpers */

/* A context built from |-separated lists and a JSON text (any may be NULL). */
struct ctx {
	struct strv knowledge, ids, allowed;
	cJSON *tools;
	struct validation_context vc;
};

static void
split(struct strv *v, const char *list)
{
	if (list == NULL)
		return;
	char *copy = xstrdup(list), *save = NULL;
	for (char *t = strtok_r(copy, "|", &save); t != NULL; t = strtok_r(NULL, "|", &save))
		strv_add(v, t);
	free(copy);
}

static void
ctx_init(struct ctx *c, const char *knowledge, const char *tools_json, const char *ids,
         const char *allowed)
{
	memset(c, 0, sizeof *c);
	split(&c->knowledge, knowledge);
	split(&c->ids, ids);
	split(&c->allowed, allowed);
	if (tools_json != NULL) {
		c->tools = cJSON_Parse(tools_json);
		ck_assert_msg(c->tools != NULL, "bad JSON in the test: %s", tools_json);
	}
	c->vc.knowledge = &c->knowledge;
	c->vc.tool_results = c->tools;
	c->vc.customer_ids = &c->ids;
	c->vc.allowed_text = &c->allowed;
}

static void
ctx_free(struct ctx *c)
{
	strv_free(&c->knowledge);
	strv_free(&c->ids);
	strv_free(&c->allowed);
	cJSON_Delete(c->tools);
}

/* The violations of reply in a context, joined by '|' ("" when it passes); caller frees. */
static char *
violations(const char *reply, const char *knowledge, const char *tools, const char *ids,
           const char *allowed)
{
	struct ctx c;
	struct validation v;
	struct buf b;

	ctx_init(&c, knowledge, tools, ids, allowed);
	validate_reply(pol, reply, &c.vc, &v);
	buf_init(&b, 0);
	for (size_t i = 0; i < v.violations.n; i++)
		buf_printf(&b, "%s%s", i ? "|" : "", v.violations.v[i]);
	ck_assert_int_eq(v.passed, v.violations.n == 0);
	validation_free(&v);
	ctx_free(&c);
	char *s = buf_steal(&b);
	buf_free(&b);
	return s;
}

#define expect(want, reply, knowledge, tools, ids)                                                 \
	do {                                                                                       \
		char *got_ = violations((reply), (knowledge), (tools), (ids), NULL);               \
		ck_assert_msg(strcmp(got_, (want)) == 0, "reply: %s\nwant: %s\ngot:  %s", (reply), \
		              (want), got_);                                                       \
		free(got_);                                                                        \
	} while (0)

#define passes(reply, knowledge, tools, ids) expect("", reply, knowledge, tools, ids)

/* ---------------------------------------------------------- clean replies */

static const char *const facts =
    "When a return is refunded|Acme issues the refund within 3 business days after the "
    "return arrives at the warehouse. The money then takes 5-10 business days to appear on "
    "a card statement.|Return window|Items can be returned within 30 days of delivery.|"
    "How to contact Acme support|Customers can reach Acme support by phone at 1-800-555-0142, "
    "or by email at help@acme.example, which is answered within 24 hours.";

static const char *const order_json =
    "[{\"id\":\"A12345\",\"status\":\"shipped\",\"carrier\":\"UPS\","
    "\"tracking\":\"1Z999AA10123456784\",\"placed\":\"2026-11-02\",\"eta\":\"2026-11-06\","
    "\"items\":[{\"name\":\"Acme Cam Outdoor\",\"qty\":1,\"unit_price_usd\":129.99}],"
    "\"total\":129.99}]";

static const char *const maya = "C-1001|maya.okafor@example.com|A12345|+1 415 555 0100";

START_TEST(clean_grounded_reply_passes)
{
	passes("I'm an AI assistant. For complex issues, I can connect you with a specialist. "
	       "Your order A12345 (tracking number 1Z999AA10123456784) shipped with UPS on "
	       "November 2 and is expected to arrive on 2026-11-06. You paid $129.99 for the "
	       "Acme Cam Outdoor. If you return it within 30 days, Acme issues the refund within "
	       "3 business days after it arrives, and the money then takes 5-10 business days "
	       "to show on your statement. You can also call us at 1-800-555-0142 or write to "
	       "help@acme.example; we'll reply within 24 hours. I've noted maya.okafor@example.com "
	       "as your contact address.",
	       facts, order_json, maya);
}
END_TEST

START_TEST(ordinary_text_without_figures_passes)
{
	passes("", NULL, NULL, NULL);
	passes("Let me help you with that. Here's what I can do: I'll check the order and get "
	       "back to you.",
	       NULL, NULL, NULL);
	/* "ring" and "nest" are ordinary words without a product noun. */
	passes("Give us a ring if the birds nest in the camera housing again.", NULL, NULL, NULL);
	/* List numbers, ordinals, a single item, ids, versions and times are no figures. */
	passes("1. Open the app.\n2. Tap Settings.\n3) Restart the camera.\nThis is the 2nd time; "
	       "1 device is affected. Update to firmware v2.3.1, it takes effect at 10:30 and "
	       "support is there 24/7. Ticket #4521 and step 3 cover it.",
	       NULL, NULL, NULL);
}
END_TEST

/* ---------------------------------------------------------- topics, phrases */

START_TEST(prohibited_topics)
{
	expect("prohibited_topic:competitor_product_comparison",
	       "Honestly, our cam is better than Ring doorbell cameras.", NULL, NULL, NULL);
	expect("prohibited_topic:competitor_product_comparison",
	       "Some customers move to Wyze instead.", NULL, NULL, NULL);
	expect("prohibited_topic:unreleased_features",
	       "There's an unreleased feature coming next month that will fix this.", NULL, NULL,
	       NULL);
	expect("prohibited_topic:internal_tooling_names", "I checked your case in Zendesk.", NULL,
	       NULL, NULL);
	expect("prohibited_topic:pricing_not_in_catalog",
	       "I can offer a special price just for you.", NULL, NULL, NULL);
	expect("prohibited_topic:legal_advice", "You should sue the courier.", NULL, NULL, NULL);
	/* Case does not matter; curly apostrophes read as straight ones. */
	expect("prohibited_topic:unreleased_features", "IT’S ON OUR ROADMAP.", NULL, NULL, NULL);
	/* Two topics, each once. */
	expect(
	    "prohibited_topic:competitor_product_comparison|prohibited_topic:unreleased_features",
	    "Unlike Arlo, we have an upcoming feature; Arlo and Eufy are worse than Nest cam.",
	    NULL, NULL, NULL);
}
END_TEST

START_TEST(prohibited_phrases)
{
	expect("prohibited_phrase:Unfortunately, I cannot",
	       "Unfortunately, I cannot change the address.", NULL, NULL, NULL);
	expect("prohibited_phrase:Unfortunately, I cannot", "UNFORTUNATELY,   I\ncannot do it.",
	       NULL, NULL, NULL);
	expect("prohibited_phrase:I'm just an AI", "Sorry, I’m just an AI.", NULL, NULL, NULL);
	expect("prohibited_phrase:That's not something I can help with",
	       "That’s not something I can help with.", NULL, NULL, NULL);
	passes("Unfortunately, the courier is late; I can chase it for you.", NULL, NULL, NULL);
}
END_TEST

/* ---------------------------------------------------------------- PII */

START_TEST(luhn)
{
	ck_assert(luhn_valid("4111111111111111", 16));
	ck_assert(luhn_valid("4111 1111 1111 1111", 19));
	ck_assert(luhn_valid("4111-1111-1111-1111", 19));
	ck_assert(luhn_valid("378282246310005", 15));       /* Amex test number */
	ck_assert(luhn_valid("6011111111111117", 16));      /* Discover */
	ck_assert(!luhn_valid("4111111111111112", 16));     /* one digit off */
	ck_assert(!luhn_valid("411111111111", 12));         /* too short */
	ck_assert(!luhn_valid("41111111111111111111", 20)); /* too long */
	ck_assert(!luhn_valid("4111x111111111111", 17));    /* not a number */
	ck_assert(!luhn_valid("", 0));
	ck_assert(!luhn_valid(NULL, 0));
	/* Only len bytes count. */
	ck_assert(luhn_valid("4111111111111111999", 16));
}
END_TEST

START_TEST(card_numbers)
{
	expect("pii:card_number", "The card on file is 4111 1111 1111 1111.", NULL, NULL, NULL);
	expect("pii:card_number", "Card 4111-1111-1111-1111 and 378282246310005.", NULL, NULL,
	       NULL);
	expect("pii:card_number", "Use 4111111111111111", NULL, NULL, NULL);
	/* Not a Luhn number: no card, and no other violation either. */
	passes("Reference 4111 1111 1111 1112 is on the invoice.", NULL, NULL, NULL);
	/* Masked, or a tracking number: no card. */
	passes("The card ending **** **** **** 1111 was charged; tracking 9400111899223344556677.",
	       NULL, NULL, NULL);
	/* Even the customer's own card is never repeated. */
	expect("pii:card_number", "Your card 4111 1111 1111 1111 is on file.", NULL, NULL,
	       "4111 1111 1111 1111");
}
END_TEST

START_TEST(national_ids)
{
	expect("pii:national_id", "The SSN we have is 123-45-6789.", NULL, NULL, NULL);
	expect("pii:national_id", "NI number AB123456C, or AB 12 34 56 C.", NULL, NULL, NULL);
	/* Never issued: area 000, 666 or 9xx; group 00; serial 0000. */
	passes("Codes 000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567 and 123-45-0000.", NULL,
	       NULL, NULL);
	/* Not an NI number: unissued prefix, bad suffix, inside a word. */
	passes("Codes QQ123456C, AB123456E and XAB123456C.", NULL, NULL, NULL);
}
END_TEST

START_TEST(emails)
{
	expect("pii:email", "I've sent it to liam.novak@example.com.", NULL, NULL, maya);
	/* The customer's own address, in any case. */
	passes("I've sent it to Maya.Okafor@Example.COM.", NULL, NULL, maya);
	/* A support address from the knowledge. */
	passes("Write to help@acme.example any time.", facts, NULL, maya);
	/* Several addresses, one of them foreign: reported once. */
	expect("pii:email",
	       "Copies went to maya.okafor@example.com, dana@example.com and lee@example.org.",
	       NULL, NULL, maya);
}
END_TEST

START_TEST(phones)
{
	/* The support line from the knowledge, however it is written. */
	passes("Call us at 1-800-555-0142.", facts, NULL, maya);
	passes("Call us at (800) 555-0142 or +1 800 555 0142.", facts, NULL, maya);
	/* The customer's own number, by its digits. */
	passes("We'll text you at (415) 555-0100.", NULL, NULL, maya);
	expect("pii:phone", "The other account holder's number is 415-555-0199.", facts, NULL,
	       maya);
	expect("pii:phone", "Reach them at +44 20 7946 0958.", facts, NULL, maya);
	/* A phone number in a tool result is the customer's data too. */
	passes("We'll call 415-555-0123.", NULL, "{\"phone\":\"415-555-0123\"}", maya);
}
END_TEST

START_TEST(account_ids)
{
	expect("pii:account_id", "That belongs to account ACME-20417.", NULL, NULL, maya);
	passes("Your account ACME-20417 is active.", NULL, NULL, "ACME-20417");
	/* The format is case-sensitive, like the policy's. */
	passes("Check acme-20417 later.", NULL, NULL, NULL);
}
END_TEST

START_TEST(pii_reported_once_per_kind_and_together)
{
	expect("pii:email|pii:card_number|pii:national_id|pii:account_id|pii:phone",
	       "a@b.example c@d.example 4111 1111 1111 1111 123-45-6789 ACME-1234 ACME-5678 "
	       "415-555-0199, 415-555-0198",
	       NULL, NULL, NULL);
}
END_TEST

/* ----------------------------------------------------------- grounding */

START_TEST(money)
{
	expect("ungrounded:$25", "I've added a $25 credit to your account.", facts, NULL, maya);
	passes("I've added a $25 credit to your account.", facts, "{\"credit_usd\":25}", maya);
	passes("I've added a $25.00 credit to your account.", facts, "{\"credit_usd\":25}", maya);
	expect("ungrounded:$25.00", "I've added a $25.00 credit to your account.", facts, NULL,
	       maya);
	/* By value: $129.99, 129.99 USD, USD 129.99 all match the tool's 129.99. */
	passes("The total was $129.99 (129.99 USD, or USD 129.99).", NULL, order_json, maya);
	/* A figure in the knowledge, as money. */
	passes("For that return $12.99 is deducted for the label.",
	       "Customers in Canada pay $12.99 for the label.", NULL, NULL);
	/* Another currency is another figure. */
	expect("ungrounded:€129.99", "That is €129.99.", "The camera is $129.99.", NULL, maya);
	/* A tool's bare number has no currency: it grounds any. */
	passes("That is €129.99.", NULL, order_json, maya);
	expect("ungrounded:$1,299.00", "The bundle is $1,299.00.", NULL, order_json, maya);
	expect("ungrounded:$10-$20", "Expect $10-$20 back.", NULL, "{\"low\":10}", NULL);
	/* Decimal commas and thousands points, the European way. */
	passes("That is €20,50 or €1.299,00.", "Prices: 20.50 EUR and 1,299.00 EUR.", NULL, NULL);
	expect("ungrounded:€1.299,01", "That is €1.299,01.", "Prices: 1,299.00 EUR.", NULL, NULL);
}
END_TEST

START_TEST(durations)
{
	passes("You can return it within 30 days.",
	       "Returns are accepted within 30 days of delivery.", NULL, NULL);
	passes("You can return it within 30 days.", "Use the 30-day window.", NULL, NULL);
	passes("There is a 30-day return window.", "Returns within 30 days.", NULL, NULL);
	expect("ungrounded:45 days", "You can return it within 45 days.",
	       "Returns are accepted within 30 days of delivery.", NULL, NULL);
	passes("The refund arrives in 3-5 business days.", "Refunds take 3-5 business days.", NULL,
	       NULL);
	passes("The refund arrives in 3–5 business days.", "Refunds take 3 to 5 business days.",
	       NULL, NULL);
	expect("ungrounded:2 business days", "The refund arrives in 2 business days.",
	       "Refunds take 3-5 business days.", NULL, NULL);
	/* A range is one figure: an end of it is not grounded by the range. */
	expect("ungrounded:5 business days", "The refund arrives in 5 business days.",
	       "Refunds take 3-5 business days.", NULL, NULL);
	/* Business days are not days. */
	expect("ungrounded:3-5 days", "The refund arrives in 3-5 days.",
	       "Refunds take 3-5 business days.", NULL, NULL);
	expect("ungrounded:48 hours|ungrounded:2 weeks",
	       "We'll answer in 48 hours, or 2 weeks at most.", facts, NULL, NULL);
	/* A tool-result number named for its unit. */
	passes("It should arrive in 4 days.", NULL, "{\"eta_days\":4}", NULL);
}
END_TEST

START_TEST(dates)
{
	expect("ungrounded:October 5", "Your replacement ships on October 5.", facts, order_json,
	       maya);
	passes("It arrives on November 6.", NULL, order_json, maya);
	passes("It arrives on Nov 6th.", NULL, order_json, maya);
	passes("It arrives on 6 November 2026.", NULL, order_json, maya);
	passes("It arrives on 11/06/2026.", NULL, order_json, maya);
	passes("It arrives on 2026-11-06.", NULL, order_json, maya);
	expect("ungrounded:2026-11-07", "It arrives on 2026-11-07.", NULL, order_json, maya);
	expect("ungrounded:November 6, 2027", "It arrives on November 6, 2027.", NULL, order_json,
	       maya);
	/* "May" is a month only with a capital. */
	passes("It may 2x the speed.", NULL, NULL, NULL);
	expect("ungrounded:May 2", "It ships May 2.", NULL, NULL, NULL);
}
END_TEST

START_TEST(percentages)
{
	expect("ungrounded:10%", "You get 10% off your next order.", facts, NULL, maya);
	passes("A 10% restocking fee applies.",
	       "Opened items are refunded minus a 10% restocking fee.", NULL, NULL);
	passes("That is 15 percent.", NULL, "{\"discount_pct\":15}", NULL);
	expect("ungrounded:20 percent", "That is 20 percent.", NULL, "{\"discount_pct\":15}", NULL);
}
END_TEST

START_TEST(counts)
{
	expect("ungrounded:3 devices", "Your plan covers 3 devices.", facts, NULL, maya);
	passes("Your plan covers 3 devices.", "Acme Protect Plus covers up to 3 devices.", NULL,
	       NULL);
	passes("Your plan covers 2 cameras.", NULL, "{\"cameras\":2}", NULL);
	/* Singular and plural are the same noun. */
	passes("It covers 4 batteries.", "Each kit has 4 battery packs... 4 battery", NULL, NULL);
	/* A tool result's list of that many. */
	passes("I see 3 orders on your account.", NULL, "{\"orders\":[{},{},{}]}", NULL);
	expect("ungrounded:4 orders", "I see 4 orders on your account.", NULL,
	       "{\"orders\":[{},{},{}]}", NULL);
	/* One of something, and numbers before ordinary words or verbs, are no counts. */
	passes("You have 1 camera. Step 2 of the guide; 2 of them; at 5 pm. Item 3 of 5 arrived, "
	       "2 remaining.",
	       NULL, NULL, NULL);
}
END_TEST

START_TEST(figures_in_ids_are_no_figures)
{
	passes("Order A12345, account ACME-12345, customer C-1001 and RMA-20417 are fine.", NULL,
	       NULL, "A12345|ACME-12345");
	passes("Your order 12345 items were packed.", NULL, NULL, "12345");
}
END_TEST

START_TEST(allowed_text_grounds)
{
	char *got = violations("You said you were charged $49.99 on October 3.", NULL, NULL, NULL,
	                       "I was charged $49.99 on October 3 for nothing");
	ck_assert_str_eq(got, "");
	free(got);
}
END_TEST

START_TEST(duplicates_reported_once)
{
	expect("ungrounded:$25|ungrounded:$30",
	       "A $25 credit now, $30 later, and another $25 credit; $25 in all.", NULL, NULL,
	       NULL);
	expect("prohibited_phrase:Unfortunately, I cannot",
	       "Unfortunately, I cannot. Unfortunately, I cannot.", NULL, NULL, NULL);
}
END_TEST

/* ------------------------------------------------------------ commitments */

START_TEST(promises_beyond_authority_are_held)
{
	/* The issue's reply, after the customer named the $740 themselves. */
	char *got = violations("I guarantee you will get a full refund of $740 today, our lawyers "
	                       "agree.",
	                       facts, order_json, maya, "I was charged $740 for nothing");
	ck_assert_str_eq(got, "commitment:guarantee:I guarantee|commitment:amount:$740|"
	                      "commitment:date:today|legal_claim:our lawyers agree");
	free(got);
	expect("commitment:guarantee:will definitely get", "You will definitely get a replacement.",
	       NULL, NULL, NULL);
	expect("commitment:guarantee:guaranteed refund", "That is a guaranteed refund.", NULL, NULL,
	       NULL);
	expect("commitment:date:by tomorrow", "It will be fixed by tomorrow.", facts, NULL, NULL);
	expect("legal_claim:You have no legal case", "You have no legal case here.", NULL, NULL,
	       NULL);
	expect("legal_claim:we are not liable", "To be clear, we are not liable for couriers.",
	       NULL, NULL, NULL);
	/* An order's total is no credit the agent may give. */
	expect("commitment:amount:$129.99", "I'll refund you $129.99 right away.", facts,
	       order_json, maya);
}
END_TEST

START_TEST(ordinary_and_grounded_replies_pass)
{
	static const char *const fact = "Same-day shipping|Orders placed before 2pm ship today.|"
	                                "Trade-ins|Customers who send in a working camera receive "
	                                "a $30 Acme store credit per device.|Price match|We "
	                                "promise to match a lower price from an authorised "
	                                "retailer.";
	/* What the knowledge says, said as a fact or as what will happen. */
	passes("Refunds reach your card within 5-10 business days after Acme issues them.", facts,
	       NULL, NULL);
	passes("Your order will ship today.", fact, NULL, NULL);
	passes("You will receive a $30 store credit for each camera you send in.", fact, NULL,
	       NULL);
	passes("We promise to match a lower price from an authorised retailer.", fact, NULL, NULL);
	/* Figures that are no promise; a promise not made. */
	passes("You paid $129.99 for the Acme Cam Outdoor.", facts, order_json, maya);
	passes("I can't promise a date, but the carrier's estimate is 2026-11-06.", NULL,
	       order_json, NULL);
	passes("Is there anything else I can help you with today?", NULL, NULL, NULL);
	passes("Our team will look into it and reply by email.", NULL, NULL, NULL);
	/* A day the knowledge gives for something else grounds nothing. */
	expect("commitment:date:today", "We will process your refund today.", fact, NULL, NULL);
}
END_TEST

START_TEST(credit_within_authority_passes)
{
	static const char *const credit = "[{\"applied\":true,\"amount_usd\":10}]";
	static const char *const reply = "I've applied a credit of $10.00 to your account.";
	/* Write tools off (the shipped policy): no credit is within authority. */
	expect("commitment:amount:$10.00", reply, NULL, credit, NULL);
	/* On: up to the policy's cap for one credit. */
	pol->write_tools_enabled = 1;
	passes(reply, NULL, credit, NULL);
	expect("ungrounded:$40.00|commitment:amount:$40.00",
	       "I've applied a credit of $40.00 to your account.", NULL, credit, NULL);
	pol->write_tools_enabled = 0;
}
END_TEST

START_TEST(kinds_for_counting)
{
	static const struct {
		const char *violation, *kind;
	} cases[] = {
	    {"ungrounded:$5", "ungrounded"},
	    {"prohibited_phrase:Unfortunately, I cannot", "prohibited_phrase"},
	    {"pii:email", "pii"},
	    {"commitment:amount:$740", "commitment:amount"},
	    {"commitment:date:by end of day: sure", "commitment:date"},
	    {"commitment:guarantee", "commitment:guarantee"},
	    {"legal_claim:our lawyers agree", "legal_claim"},
	    {"legal_claim", "legal_claim"},
	};
	for (size_t i = 0; i < nitems(cases); i++) {
		char *k = validation_kind(cases[i].violation);
		ck_assert_str_eq(k, cases[i].kind);
		/* A kind is its own kind: reports that count kinds again get the same. */
		char *again = validation_kind(k);
		ck_assert_str_eq(again, k);
		free(again);
		free(k);
	}
}
END_TEST

START_TEST(json_form)
{
	struct validation v;
	struct validation_context vc = {0};
	validate_reply(pol, "Unfortunately, I cannot refund $40.", &vc, &v);
	ck_assert(!v.passed);
	cJSON *j = validation_json(&v);
	char *s = cJSON_PrintUnformatted(j);
	ck_assert_str_eq(s,
	                 "{\"passed\":false,\"violations\":[\"prohibited_phrase:Unfortunately, I "
	                 "cannot\",\"ungrounded:$40\"]}");
	free(s);
	cJSON_Delete(j);
	validation_free(&v);

	validate_reply(pol, "Thanks!", &vc, &v);
	j = validation_json(&v);
	s = cJSON_PrintUnformatted(j);
	ck_assert_str_eq(s, "{\"passed\":true,\"violations\":[]}");
	free(s);
	cJSON_Delete(j);
	validation_free(&v);
}
END_TEST

/* ---------------------------------------------------------- robustness */

START_TEST(no_policy_no_context)
{
	struct validation v;
	validate_reply(NULL, "Unfortunately, I cannot: $5 and a@b.example", NULL, &v);
	ck_assert_int_eq(v.violations.n, 2);
	ck_assert_str_eq(v.violations.v[0], "pii:email");
	ck_assert_str_eq(v.violations.v[1], "ungrounded:$5");
	validation_free(&v);
	validate_reply(pol, NULL, NULL, &v);
	ck_assert(v.passed);
	validation_free(&v);
}
END_TEST

START_TEST(a_changed_policy_is_noticed)
{
	struct diag d = {0};
	char *path = srcpath(SHIPPED);
	char *text = slurp(path);
	char *edited = replace1(text, "I'm just an AI", "I am but a bot");
	struct policy *p2 = policy_load_text("edited.yaml", edited, strlen(edited), &d);
	ck_assert_ptr_nonnull(p2);
	struct validation v;
	validate_reply(pol, "I am but a bot.", NULL, &v);
	ck_assert(v.passed);
	validation_free(&v);
	validate_reply(p2, "I am but a bot.", NULL, &v);
	ck_assert_int_eq(v.violations.n, 1);
	ck_assert_str_eq(v.violations.v[0], "prohibited_phrase:I am but a bot");
	validation_free(&v);
	validate_reply(pol, "I am but a bot.", NULL, &v);
	ck_assert(v.passed);
	validation_free(&v);
	policy_free(p2);
	diag_free(&d);
	free(edited);
	free(text);
	free(path);
}
END_TEST

START_TEST(any_input_is_safe)
{
	static const char *const odd[] = {
	    "\xff\xfe\xfd",
	    "\xe2\x80",
	    "\xe2",
	    "$",
	    "$$$$",
	    "\xe2\x82\xac",
	    "@",
	    "@@a@b.c@",
	    "1",
	    "-",
	    "3-",
	    "3 to",
	    "3 business",
	    "October",
	    "October ",
	    " 5",
	    "2026-",
	    "2026-10-",
	    "10/05/",
	    "99999999999999999999999999999999",
	    "1.2.3.4.5.6.7.8.9",
	    "+",
	    "+1 (",
	    "(((((",
	    "AB 12 34 56",
	    "AB12345",
	    "4111 1111 1111 111",
	    "123-45-678",
	    "ACME-",
	    "1,000,000,000,000,000,000 devices",
	    "5\xc2\xa0",
	    "5\xc2",
	    "$1-$",
	    "\xe2\x80\x99\xe2\x80\x98\xe2\x80",
	};
	struct ctx c;
	ctx_init(&c, "5 days|\xff\xfe|$|October 5", "{\"a\":[[[\"\xe2\x82\"]]],\"b\":1e308}", "|@|",
	         "\xe2\x80");
	for (size_t i = 0; i < nitems(odd); i++) {
		struct validation v;
		validate_reply(pol, odd[i], &c.vc, &v);
		cJSON *j = validation_json(&v);
		cJSON_Delete(j);
		validation_free(&v);
	}

	/* Random bytes, and random bytes from the characters the scanners care about. */
	static const char alphabet[] = "0123456789 $%-./,:@+()#ACMEQBOctober daysbusiness\n\xe2\x80"
	                               "\x99\x93\xc2\xa0\xa3\x82\xac";
	srand(7);
	char buf[512];
	for (int round = 0; round < 3000; round++) {
		size_t n = (size_t)(rand() % (int)(sizeof buf - 1));
		for (size_t k = 0; k < n; k++)
			buf[k] = round % 2 ? (char)(rand() % 255 + 1)
			                   : alphabet[rand() % (int)(sizeof alphabet - 1)];
		buf[n] = '\0';
		struct validation v;
		validate_reply(pol, buf, &c.vc, &v);
		ck_assert_int_eq(v.passed, v.violations.n == 0);
		validation_free(&v);
	}
	ctx_free(&c);
}
END_TEST

START_TEST(one_megabyte)
{
	size_t n = 1 << 20;
	char *big = xmalloc(n + 1);
	static const char unit[] = "Your order ships in 5-10 business days for $129.99 via "
	                           "help@acme.example or 1-800-555-0142. ";
	for (size_t k = 0; k < n; k++)
		big[k] = unit[k % (sizeof unit - 1)];
	big[n] = '\0';
	struct validation v;
	struct ctx c;
	ctx_init(&c, facts, order_json, maya, NULL);
	validate_reply(pol, big, &c.vc, &v);
	ck_assert_msg(v.passed, "%s", v.violations.n ? v.violations.v[0] : "");
	validation_free(&v);

	/* Many distinct figures: each reported once, in reasonable time. */
	size_t o = 0;
	for (int k = 0; o + 16 < n; k++)
		o += (size_t)snprintf(big + o, 16, "$%d ", k);
	big[o] = '\0';
	validate_reply(pol, big, &c.vc, &v);
	ck_assert(!v.passed);
	ck_assert_str_eq(v.violations.v[0], "ungrounded:$0");
	ck_assert_int_gt(v.violations.n, 100000);
	validation_free(&v);

	/* Random bytes. */
	srand(11);
	for (size_t k = 0; k < n; k++)
		big[k] = (char)(rand() % 255 + 1);
	validate_reply(pol, big, &c.vc, &v);
	validation_free(&v);
	ctx_free(&c);
	free(big);
}
END_TEST

START_TEST(fast_enough)
{
	static const char reply[] =
	    "I'm an AI assistant. For complex issues, I can connect you with a specialist. Your "
	    "order A12345 shipped with UPS on November 2 and is expected to arrive on 2026-11-06. "
	    "You paid $129.99 for the Acme Cam Outdoor. If you return it within 30 days, Acme "
	    "issues the refund within 3 business days after it arrives, and the money then takes "
	    "5-10 business days to show on your statement. You can also call us at 1-800-555-0142 "
	    "or write to help@acme.example; we will reply within 24 hours. Let me help you with "
	    "anything else you need today.";
	struct ctx c;
	ctx_init(&c, facts, order_json, maya, NULL);
	int rounds = 2000;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int k = 0; k < rounds; k++) {
		struct validation v;
		validate_reply(pol, reply, &c.vc, &v);
		ck_assert(v.passed);
		validation_free(&v);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double us =
	    ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) /
	    rounds;
	/* A few microseconds in an optimised build; loose enough for sanitizers. */
	ck_assert_msg(us < 500, "%.1f us per reply", us);
	ctx_free(&c);
}
END_TEST

static Suite *
validate_suite(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("clean");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, clean_grounded_reply_passes);
	tcase_add_test(tc, ordinary_text_without_figures_passes);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, prohibited_topics);
	tcase_add_test(tc, prohibited_phrases);
	tcase_add_test(tc, a_changed_policy_is_noticed);
	suite_add_tcase(s, tc);

	tc = tcase_create("pii");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, luhn);
	tcase_add_test(tc, card_numbers);
	tcase_add_test(tc, national_ids);
	tcase_add_test(tc, emails);
	tcase_add_test(tc, phones);
	tcase_add_test(tc, account_ids);
	tcase_add_test(tc, pii_reported_once_per_kind_and_together);
	suite_add_tcase(s, tc);

	tc = tcase_create("grounding");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, money);
	tcase_add_test(tc, durations);
	tcase_add_test(tc, dates);
	tcase_add_test(tc, percentages);
	tcase_add_test(tc, counts);
	tcase_add_test(tc, figures_in_ids_are_no_figures);
	tcase_add_test(tc, allowed_text_grounds);
	tcase_add_test(tc, duplicates_reported_once);
	tcase_add_test(tc, json_form);
	tcase_add_test(tc, promises_beyond_authority_are_held);
	tcase_add_test(tc, ordinary_and_grounded_replies_pass);
	tcase_add_test(tc, credit_within_authority_passes);
	tcase_add_test(tc, kinds_for_counting);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, no_policy_no_context);
	tcase_add_test(tc, any_input_is_safe);
	tcase_add_test(tc, one_megabyte);
	tcase_add_test(tc, fast_enough);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(validate_suite());
}
