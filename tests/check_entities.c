/* check_entities.c -- ids, contacts, money and products in messages (src/entities.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "entities.h"
#include "testutil.h"

static struct entity_rules *
rules_new(const char *order_re, const char *account_re, int catalog)
{
	char *cat = catalog ? srcpath("kb/catalog.yaml") : NULL;
	char *cause = NULL;
	struct entity_rules *r = entity_rules_new(order_re, account_re, cat, &cause);
	ck_assert_msg(r != NULL, "%s", cause ? cause : "?");
	free(cat);
	return r;
}

/* Extracts with the default formats and the shipped catalogue. */
static struct entities
extract(const char *text)
{
	struct entity_rules *r = rules_new(NULL, NULL, 1);
	struct entities e;
	entities_extract(r, text, &e);
	entity_rules_free(r);
	return e;
}

/* The entities of text as compact JSON; caller frees. */
static char *
json_of(const char *text)
{
	struct entities e = extract(text);
	cJSON *j = entities_json(&e);
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	entities_free(&e);
	return s;
}

/* The strings of v joined with '|'; caller frees. */
static char *
joined(const struct strv *v)
{
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < v->n; i++)
		buf_printf(&b, "%s%s", i ? "|" : "", v->v[i]);
	char *s = xstrdup(b.data);
	buf_free(&b);
	return s;
}

#define ck_list(v, expect)                                                                         \
	do {                                                                                       \
		char *j_ = joined(&(v));                                                           \
		ck_assert_str_eq(j_, expect);                                                      \
		free(j_);                                                                          \
	} while (0)

/* -------------------------------------------------------- the playbook */

START_TEST(playbook_example)
{
	char *j = json_of("I was charged $129.99 twice for order A12345, reach me at "
	                  "dana@example.com or +1 (555) 010-0142");
	ck_assert_str_eq(j,
	                 "{\"order_numbers\":[\"A12345\"],\"account_ids\":[],"
	                 "\"emails\":[\"dana@example.com\"],\"phones\":[\"+1 (555) 010-0142\"],"
	                 "\"amounts\":[{\"value\":129.99,\"currency\":\"USD\"}],\"products\":[]}");
	free(j);
}
END_TEST

START_TEST(nothing_found_gives_empty_lists)
{
	char *j = json_of("Hello, where is my package?");
	ck_assert_str_eq(j, "{\"order_numbers\":[],\"account_ids\":[],\"emails\":[],"
	                    "\"phones\":[],\"amounts\":[],\"products\":[]}");
	free(j);
}
END_TEST

/* ----------------------------------------------------- order numbers */

START_TEST(order_numbers_default_format)
{
	struct entities e = extract("Orders B123456789 and Z55555 arrived, C12345 did not.");
	ck_list(e.order_numbers, "B123456789|Z55555|C12345");
	entities_free(&e);

	/* Too short, too long, lower case, inside a word, glued to a word. */
	e = extract("A1 A1234 A1234567890 a12345 XA12345 A12345B A12345_ _A12345");
	ck_list(e.order_numbers, "");
	entities_free(&e);
}
END_TEST

START_TEST(order_numbers_after_the_word_order)
{
	struct entities e = extract("My order #12345678 and order number 98765432, also Order No. "
	                            "5556667 and ORDER: 11122233 and orders #44455566");
	ck_list(e.order_numbers, "12345678|98765432|5556667|11122233|44455566");
	/* Those digits are not phone numbers. */
	ck_list(e.phones, "");
	entities_free(&e);

	/* Too few digits, or a quantity. */
	e = extract("I'd like to order 2 cameras; order #123 is old; order 5000.50 dollars");
	ck_list(e.order_numbers, "");
	entities_free(&e);
}
END_TEST

START_TEST(order_numbers_in_text_order_and_deduplicated)
{
	struct entities e =
	    extract("order #87654321 then A12345, A12345 again and order number 87654321");
	ck_list(e.order_numbers, "87654321|A12345");
	entities_free(&e);
}
END_TEST

/* ------------------------------------------------------- account ids */

START_TEST(account_ids_default_format)
{
	struct entities e = extract("Account ACME-1234, ACME-12345678 and ACME-1234 again.");
	ck_list(e.account_ids, "ACME-1234|ACME-12345678");
	entities_free(&e);

	e = extract("acme-12345 ACME-123 ACME-123456789 XACME-12345 ACME-1234x");
	ck_list(e.account_ids, "");
	entities_free(&e);
}
END_TEST

/* ----------------------------------------------------- policy formats */

START_TEST(policy_formats_override_the_defaults)
{
	struct entity_rules *r = rules_new("\\bORD-[0-9]{6}\\b", "\\bCUST[0-9]{5}\\b", 0);
	struct entities e;
	entities_extract(r,
	                 "Order ORD-123456 (not A12345), customer CUST00042 not ACME-12345; "
	                 "ord-654321 is lower case.",
	                 &e);
	ck_list(e.order_numbers, "ORD-123456");
	ck_list(e.account_ids, "CUST00042");
	entities_free(&e);

	/* "order #..." still counts with a policy format. */
	entities_extract(r, "order #12345678 and ORD-000001", &e);
	ck_list(e.order_numbers, "12345678|ORD-000001");
	entities_free(&e);

	/* No digit, no match (the formats are only tried on text with digits). */
	entities_extract(r, "ORD-abcdef", &e);
	ck_list(e.order_numbers, "");
	entities_free(&e);
	entity_rules_free(r);
}
END_TEST

START_TEST(policy_format_is_case_sensitive_and_skips_emails)
{
	struct entity_rules *r = rules_new("[A-Z][0-9]{5}", NULL, 0);
	struct entities e;
	entities_extract(r, "a12345 is not, B12345 is; Q99999@example.com is an email", &e);
	ck_list(e.order_numbers, "B12345");
	ck_list(e.emails, "Q99999@example.com");
	entities_free(&e);
	entity_rules_free(r);
}
END_TEST

START_TEST(policy_giving_the_defaults_matches_like_the_defaults)
{
	const char *text = "order A12345 and account ACME-5555, call 555-010-0142";
	struct entity_rules *a = rules_new(NULL, NULL, 0);
	struct entity_rules *b = rules_new("\\b[A-Z][0-9]{5,9}\\b", "\\bACME-[0-9]{4,8}\\b", 0);
	struct entity_rules *c = rules_new("\\b[A-Z][0-9]{5,9}\\b ?", "(\\bACME-[0-9]{4,8}\\b)", 0);
	struct entities ea, eb, ec;
	entities_extract(a, text, &ea);
	entities_extract(b, text, &eb);
	entities_extract(c, text, &ec);
	ck_list(ea.order_numbers, "A12345");
	ck_list(eb.order_numbers, "A12345");
	ck_list(ea.account_ids, "ACME-5555");
	ck_list(eb.account_ids, "ACME-5555");
	ck_list(ec.account_ids, "ACME-5555");
	ck_list(ec.order_numbers, "A12345"); /* without the space it matched */
	entities_free(&ea);
	entities_free(&eb);
	entities_free(&ec);
	entity_rules_free(a);
	entity_rules_free(b);
	entity_rules_free(c);
}
END_TEST

START_TEST(bad_policy_format_is_refused)
{
	char *cause = NULL;
	ck_assert_ptr_null(entity_rules_new("[A-Z", NULL, NULL, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "order_number"));
	free(cause);
	cause = NULL;
	ck_assert_ptr_null(entity_rules_new(NULL, "(ACME", NULL, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "account_id"));
	free(cause);
}
END_TEST

/* ------------------------------------------------------------- emails */

START_TEST(emails)
{
	struct entities e = extract("Write to Dana.Reyes+acme@mail.example.co.uk, or "
	                            "dana@example.com. Also DANA@EXAMPLE.COM and <ops@acme.io>.");
	ck_list(e.emails, "Dana.Reyes+acme@mail.example.co.uk|dana@example.com|ops@acme.io");
	entities_free(&e);

	e = extract("not emails: foo@bar, @example.com, a@b.c, x@-bad.com, me@ex..com, "
	            "twitter @acme, a@@b.com, user.@example.com");
	ck_list(e.emails, "");
	entities_free(&e);
}
END_TEST

START_TEST(digits_in_an_email_are_not_other_entities)
{
	struct entities e = extract("mail A12345@example.com or 5550100142@sms.example.com");
	ck_list(e.emails, "A12345@example.com|5550100142@sms.example.com");
	ck_list(e.order_numbers, "");
	ck_list(e.phones, "");
	entities_free(&e);
}
END_TEST

/* ------------------------------------------------------------- phones */

START_TEST(phones_north_american_and_international)
{
	struct entities e = extract("Call +1 (555) 010-0142, or 555-010-0143, (555) 010-0144, "
	                            "555.010.0145, 1-800-555-0146, 5550100147, 555-0148, "
	                            "+44 20 7946 0958, +33 1 23 45 67 89, +4915123456789 or "
	                            "020 7946 0959.");
	ck_list(e.phones, "+1 (555) 010-0142|555-010-0143|(555) 010-0144|555.010.0145|"
	                  "1-800-555-0146|5550100147|555-0148|+44 20 7946 0958|"
	                  "+33 1 23 45 67 89|+4915123456789|020 7946 0959");
	entities_free(&e);
}
END_TEST

START_TEST(phones_deduplicated_by_digits)
{
	struct entities e =
	    extract("(555) 010-0142 or 555-010-0142 or +1 555 010 0142 or 1.555.010.0142");
	ck_list(e.phones, "(555) 010-0142");
	entities_free(&e);
}
END_TEST

START_TEST(phones_not_dates_amounts_or_ids)
{
	struct entities e = extract(
	    "Delivered 2026-10-05 at 10:30, due 05.10.2026, years 2019-2021, ZIP 94107-1234, "
	    "IP 192.168.1.10, version 2.1.12345, card 4111 1111 1111 1111, $5550100142, "
	    "1,234,567 items, ticket #12345678, 12.5%, 123456, room 101 555, A1234567, "
	    "ACME-5550100, 55-55-55, SSN 123-45-6789");
	ck_list(e.phones, "");
	entities_free(&e);

	/* Trailing words are not swallowed: "2 times" is not part of the number. */
	e = extract("I called 555-010-0142 2 times and 2026-10-05 10:30 too");
	ck_list(e.phones, "555-010-0142");
	entities_free(&e);
}
END_TEST

/* ------------------------------------------------------------- amounts */

static void
ck_amounts(const char *text, const char *expect)
{
	struct entities e = extract(text);
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < e.namounts; i++)
		buf_printf(&b, "%s%.2f %s", i ? "|" : "", e.amounts[i].value,
		           e.amounts[i].currency);
	ck_assert_msg(strcmp(b.data, expect) == 0, "%s: got '%s', expected '%s'", text, b.data,
	              expect);
	buf_free(&b);
	entities_free(&e);
}

START_TEST(amounts_with_currency)
{
	ck_amounts("$129.99", "129.99 USD");
	ck_amounts("129.99 USD", "129.99 USD");
	ck_amounts("USD 40", "40.00 USD");
	ck_amounts("usd40 and EUR 12", "40.00 USD|12.00 EUR");
	ck_amounts("€50", "50.00 EUR");
	ck_amounts("£20", "20.00 GBP");
	ck_amounts("50 euros", "50.00 EUR");
	ck_amounts("1,299.00 dollars", "1299.00 USD");
	ck_amounts("$1,234,567.5", "1234567.50 USD");
	ck_amounts("$1.2k", "1200.00 USD");
	ck_amounts("5k dollars", "5000.00 USD");
	ck_amounts("$3M", "3000000.00 USD");
	ck_amounts("$ 40", "40.00 USD");
	ck_amounts("40$", "40.00 USD");
	ck_amounts("12,50 €", "12.50 EUR");
	ck_amounts("US$20", "20.00 USD");
	ck_amounts("$40 CAD", "40.00 CAD");
	ck_amounts("C$15 and A$16", "15.00 CAD|16.00 AUD");
	ck_amounts("$40 USD", "40.00 USD");
	ck_amounts("40 US dollars", "40.00 USD");
	ck_amounts("¥500", "500.00 JPY");
	ck_amounts("3 bucks, 2 quid", "3.00 USD|2.00 GBP");
}
END_TEST

START_TEST(amounts_without_currency_or_ambiguous_are_not_money)
{
	ck_amounts("I have 3 cameras and 129.99 in my head, 50% off", "");
	ck_amounts("$1.299 is ambiguous", "");
	ck_amounts("order A12345 dollars", "");
	ck_amounts("5 dollarstore", "");
}
END_TEST

START_TEST(amounts_take_the_whole_number_once)
{
	/* "$500" inside "$5000" is not a second amount. */
	ck_amounts("$5000", "5000.00 USD");
	ck_amounts("I paid $5000, yes $5000, not $500.", "5000.00 USD|500.00 USD");
	ck_amounts("$129.99 and 129.99 USD", "129.99 USD");
	ck_amounts("$129.99 and 129.99 EUR", "129.99 USD|129.99 EUR");
}
END_TEST

START_TEST(max_usd)
{
	struct entities e = extract("nothing here");
	ck_assert(entities_max_usd(&e) == -1);
	entities_free(&e);
	e = extract("$40, €900 and 129.99 USD");
	ck_assert(entities_max_usd(&e) == 900);
	entities_free(&e);
}
END_TEST

/* ------------------------------------------------------------ products */

START_TEST(products_from_the_catalogue)
{
	struct entities e = extract("my outdoor cam and the Acme Hub");
	ck_list(e.products, "acme-cam-outdoor|acme-hub");
	entities_free(&e);

	/* Longest first: the name, not "hub" or the plan. */
	e = extract("The ACME CAM INDOOR, a Doorbell-Pro, the acme protect pro plan.");
	ck_list(e.products, "acme-cam-indoor|acme-doorbell-pro|acme-protect-pro");
	entities_free(&e);

	/* Each once, in first-seen order; smart quotes and dashes are spaces. */
	e = extract("smart lock\xe2\x80\x94the smart lock, \xe2\x80\x9cthermostat\xe2\x80\x9d, "
	            "and the smart lock again");
	ck_list(e.products, "acme-smart-lock|acme-thermostat");
	entities_free(&e);
}
END_TEST

START_TEST(products_whole_words_only)
{
	/* Not inside words, not across punctuation. */
	struct entities e =
	    extract("hubcap, thermostats, the outdoor. Cam, smart, plug, doorbells");
	ck_list(e.products, "");
	entities_free(&e);
}
END_TEST

START_TEST(no_catalogue_no_products)
{
	struct entity_rules *r = rules_new(NULL, NULL, 0);
	struct entities e;
	entities_extract(r, "my Acme Hub", &e);
	ck_list(e.products, "");
	entities_free(&e);
	entity_rules_free(r);
}
END_TEST

/* ------------------------------------------------ catalogue load errors */

static char *
catalog_error(const char *yaml)
{
	char *dir = tmpdir_new();
	char *path = tmpfile_with(dir, "catalog.yaml", yaml);
	char *cause = NULL;
	struct entity_rules *r = entity_rules_new(NULL, NULL, path, &cause);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strncmp(cause, path, strlen(path)) == 0, "no file name in '%s'", cause);
	char *msg = xstrdup(cause + strlen(path));
	free(cause);
	free(path);
	rm_rf(dir);
	free(dir);
	return msg;
}

#define ck_catalog_error(yaml, expect)                                                             \
	do {                                                                                       \
		char *m_ = catalog_error(yaml);                                                    \
		ck_assert_msg(strstr(m_, expect) != NULL, "got '%s', expected '%s'", m_, expect);  \
		free(m_);                                                                          \
	} while (0)

START_TEST(catalogue_errors_have_file_and_line)
{
	ck_catalog_error("products:\n  - id: a\n    name: [unclosed\n", ":4:");
	ck_catalog_error("products:\n  - id: a\n    name: A\n  - id: b\n",
	                 ":4:5: products[1]: "
	                 "missing required key 'name'");
	ck_catalog_error("products:\n  - id: a\n    name: A\n    colour: red\n",
	                 ":4:5: unknown key 'colour'");
	ck_catalog_error("products:\n  - id: a\n    name: A\n  - id: a\n    name: B\n",
	                 ":4:9: duplicate product id 'a' (first at line 2)");
	ck_catalog_error("products:\n  - id: a\n    name: A\n    aliases: [cam]\n"
	                 "  - id: b\n    name: B\n    aliases: [Cam]\n",
	                 ":7:15: 'Cam' already names product 'a' (line 4)");
	ck_catalog_error("products:\n  - id: a\n    name: '...'\n", ":3:11: product name '...' "
	                                                            "has no letters");
	ck_catalog_error("products:\n  - id: a\n    name: A\n    price_usd: cheap\n",
	                 ":4:16: products[0].price_usd: expected a number");
	ck_catalog_error("items: []\n", ":1:1: the top level: missing required key 'products'");
	ck_catalog_error("", ": the catalogue is empty");
}
END_TEST

START_TEST(catalogue_missing_file)
{
	char *cause = NULL;
	ck_assert_ptr_null(entity_rules_new(NULL, NULL, "/nonexistent/catalog.yaml", &cause));
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent/catalog.yaml"));
	free(cause);
}
END_TEST

START_TEST(catalogue_same_alias_twice_in_one_product_is_fine)
{
	char *dir = tmpdir_new();
	char *path = tmpfile_with(dir, "c.yaml",
	                          "products:\n  - id: acme-hub\n    name: Acme Hub\n"
	                          "    aliases: [acme hub, ACME-hub, hub]\n");
	char *cause = NULL;
	struct entity_rules *r = entity_rules_new(NULL, NULL, path, &cause);
	ck_assert_msg(r != NULL, "%s", cause ? cause : "?");
	struct entities e;
	entities_extract(r, "the acme-hub and the hub", &e);
	ck_list(e.products, "acme-hub");
	entities_free(&e);
	entity_rules_free(r);
	free(path);
	rm_rf(dir);
	free(dir);
}
END_TEST

/* ------------------------------------------------------------ any input */

/* Extracts from an exact-size heap copy, so sanitizers see any over-read. */
static void
extract_bytes(const struct entity_rules *r, const char *bytes, size_t len, struct entities *e)
{
	char *copy = xmalloc(len + 1);
	memcpy(copy, bytes, len);
	copy[len] = '\0';
	entities_extract(r, copy, e);
	free(copy);
}

START_TEST(any_input_is_safe)
{
	struct entity_rules *r = rules_new(NULL, NULL, 1);
	struct entity_rules *p = rules_new("[A-Z]+-?[0-9]+", "x*", 1);
	struct entities e;

	entities_extract(r, "", &e);
	ck_assert_uint_eq(e.order_numbers.n + e.emails.n + e.phones.n + e.namounts, 0);
	entities_free(&e);
	entities_extract(r, NULL, &e);
	entities_free(&e);
	entities_extract(NULL, "order A12345 for $5", &e);
	ck_list(e.order_numbers, "A12345");
	entities_free(&e);

	/* Texts that end in the middle of every kind of entity. */
	static const char *const tails[] = {
	    "$",        "$1,",  "$1.",         "1,2",   "€",           "\xe2\x82",  "\xc2", "+",
	    "+1 (",     "(555", "555-",        "order", "order #",     "order no.", "A",    "A1234",
	    "ACME-",    "ACME", "a@",          "a@b.",  "@",           "x@y.com",   "5k",   "1 us",
	    "1 us dol", "don'", "can\xe2\x80", "smart", "outdoor cam", "12,5",      "40 ",
	};
	for (size_t i = 0; i < nitems(tails); i++) {
		extract_bytes(r, tails[i], strlen(tails[i]), &e);
		entities_free(&e);
		extract_bytes(p, tails[i], strlen(tails[i]), &e);
		entities_free(&e);
	}

	/* Binary and invalid UTF-8. */
	unsigned char bin[4096];
	unsigned int seed = 7;
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < sizeof bin; i++) {
			seed = seed * 1103515245u + 12345u;
			bin[i] = (unsigned char)(seed >> 16);
			if (bin[i] == 0)
				bin[i] = '@';
		}
		extract_bytes(round & 1 ? p : r, (const char *)bin, sizeof bin, &e);
		entities_free(&e);
	}
	static const char bad[] = "\xff\xfe A12345 \xc3\x28 $5 \xe2\x82\xac\xe2\x82";
	extract_bytes(r, bad, sizeof bad - 1, &e);
	ck_list(e.order_numbers, "A12345");
	entities_free(&e);
	entity_rules_free(p);
	entity_rules_free(r);
}
END_TEST

START_TEST(one_megabyte_is_fine_and_capped)
{
	struct entity_rules *r = rules_new(NULL, NULL, 1);
	size_t n = 1u << 20;
	char *big = xmalloc(n + 1);
	static const char unit[] = "order A12345 $12 dana@example.com 555-010-0142 the hub x@y.io ";
	for (size_t i = 0; i < n; i++)
		big[i] = unit[i % (sizeof unit - 1)];
	big[n] = '\0';
	struct entities e;
	entities_extract(r, big, &e);
	ck_list(e.order_numbers, "A12345");
	ck_assert_uint_eq(e.namounts, 1);
	ck_list(e.products, "acme-hub");
	entities_free(&e);

	/* Many different entities: each list stops at a bound. */
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; b.len < n; i++)
		buf_printf(&b, "A%06d $%d u%d@example.com ", i % 1000000, i, i);
	entities_extract(r, b.data, &e);
	ck_assert_uint_le(e.order_numbers.n, 64);
	ck_assert_uint_ge(e.order_numbers.n, 10);
	ck_assert_uint_le(e.namounts, 64);
	ck_assert_uint_le(e.emails.n, 64);
	entities_free(&e);

	/* Pathological runs: all '@', all digits, all '$', all letters. */
	const char fill[] = "@9$a.+(";
	for (size_t f = 0; f < sizeof fill - 1; f++) {
		memset(big, fill[f], n);
		entities_extract(r, big, &e);
		entities_free(&e);
	}
	buf_free(&b);
	free(big);
	entity_rules_free(r);
}
END_TEST

static Suite *
entities_suite(void)
{
	Suite *s = suite_create("entities");
	TCase *tc = tcase_create("extract");
	tcase_add_test(tc, playbook_example);
	tcase_add_test(tc, nothing_found_gives_empty_lists);
	tcase_add_test(tc, order_numbers_default_format);
	tcase_add_test(tc, order_numbers_after_the_word_order);
	tcase_add_test(tc, order_numbers_in_text_order_and_deduplicated);
	tcase_add_test(tc, account_ids_default_format);
	tcase_add_test(tc, emails);
	tcase_add_test(tc, digits_in_an_email_are_not_other_entities);
	tcase_add_test(tc, phones_north_american_and_international);
	tcase_add_test(tc, phones_deduplicated_by_digits);
	tcase_add_test(tc, phones_not_dates_amounts_or_ids);
	tcase_add_test(tc, amounts_with_currency);
	tcase_add_test(tc, amounts_without_currency_or_ambiguous_are_not_money);
	tcase_add_test(tc, amounts_take_the_whole_number_once);
	tcase_add_test(tc, max_usd);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_test(tc, policy_formats_override_the_defaults);
	tcase_add_test(tc, policy_format_is_case_sensitive_and_skips_emails);
	tcase_add_test(tc, policy_giving_the_defaults_matches_like_the_defaults);
	tcase_add_test(tc, bad_policy_format_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("catalogue");
	tcase_add_test(tc, products_from_the_catalogue);
	tcase_add_test(tc, products_whole_words_only);
	tcase_add_test(tc, no_catalogue_no_products);
	tcase_add_test(tc, catalogue_errors_have_file_and_line);
	tcase_add_test(tc, catalogue_missing_file);
	tcase_add_test(tc, catalogue_same_alias_twice_in_one_product_is_fine);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, any_input_is_safe);
	tcase_add_test(tc, one_megabyte_is_fine_and_capped);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(entities_suite());
}
