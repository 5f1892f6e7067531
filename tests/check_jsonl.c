/* check_jsonl.c -- JSON Lines read with one set of rules (src/jsonl.c), and tickets through it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "replay.h"
#include "testutil.h"

/* The line must be refused with a cause containing want. */
static void
refused(const char *line, size_t len, const char *want)
{
	char *cause = NULL;
	cJSON *o = jsonl_parse(line, len, &cause);
	ck_assert_msg(o == NULL, "accepted: %s", line);
	ck_assert_msg(strstr(cause, want) != NULL, "cause '%s' lacks '%s'", cause, want);
	free(cause);
}

#define REFUSED(lit, want) refused((lit), sizeof(lit) - 1, (want))

START_TEST(one_set_of_rules_for_a_line)
{
	char *cause = NULL;
	cJSON *o = jsonl_parse("{\"a\":[1,{\"b\":\"\\u00e9\"}]} \r", 24, &cause);
	ck_assert_msg(o != NULL, "%s", cause);
	cJSON_Delete(o);

	REFUSED("{\"a\":\"x\0y\"}", "a NUL byte in the line");
	REFUSED("{\"a\":\"x\\u0000y\"}", "a NUL character (\\u0000) at byte 8");
	/* An escaped backslash before "u0000" is text, not a NUL. */
	o = jsonl_parse("{\"a\":\"x\\\\u0000y\"}", 17, &cause);
	ck_assert_msg(o != NULL, "%s", cause);
	cJSON_Delete(o);
	REFUSED("{\"a\":\"caf\xe9\"}", "not valid UTF-8 (at byte 10)");
	REFUSED("{\"a\":\"\xc2\x9b\xed\xa0\x80\"}",
	        "not valid UTF-8 (at byte 9)"); /* a surrogate */
	REFUSED("{\"a\":1", "not JSON (error at byte");
	REFUSED("{\"a\":1} {}", "text after the value at byte 9");
	REFUSED("[1,2]", "not a JSON object");
	REFUSED("{\"a\":1e999}", "$.a: a number out of range");
	REFUSED("{\"id\":\"a\",\"x\":1,\"id\":\"b\"}", "$: duplicate key \"id\"");
	REFUSED("{\"m\":[{},{\"r\":1,\"r\":2}]}", "$.m[1]: duplicate key \"r\"");
}
END_TEST

/* A wide object is checked for duplicates by sorting, not pair by pair. */
START_TEST(duplicates_in_a_wide_object)
{
	struct buf b;
	buf_init(&b, 0);
	buf_addc(&b, '{');
	for (int i = 0; i < 200000; i++)
		buf_printf(&b, "%s\"k%d\":1", i ? "," : "", i < 199999 ? i : 4242);
	buf_addc(&b, '}');
	refused(b.data, b.len, "$: duplicate key \"k4242\"");
	buf_free(&b);
}
END_TEST

/* An endless stream of 'x' with no newline, made as it is read: nothing holds it whole. */
struct endless {
	size_t left;
};

static ssize_t
endless_read(void *cookie, char *buf, size_t size)
{
	struct endless *e = cookie;
	size_t n = size < e->left ? size : e->left;
	memset(buf, 'x', n);
	if (n > 0 && n == e->left)
		buf[n - 1] = '\n';
	e->left -= n;
	return (ssize_t)n;
}

START_TEST(a_hundred_megabyte_line_is_never_held_whole)
{
	struct endless e = {.left = (size_t)100 << 20};
	FILE *f = fopencookie(&e, "r", (cookie_io_functions_t){.read = endless_read});
	ck_assert_ptr_nonnull(f);
	struct jsonl r;
	jsonl_init(&r, f, "big.jsonl");
	const char *line;
	size_t len;
	char *cause = NULL;
	ck_assert_int_eq(jsonl_read(&r, &line, &len, &cause), -1);
	ck_assert_str_eq(cause, "big.jsonl:1: the line is longer than 8 MiB, the limit: skipped");
	free(cause);
	/* At most the limit was buffered (rounded up to a power of two). */
	ck_assert_uint_le(r.line.cap, 2 * JSONL_LINE_MAX + 2);
	ck_assert_uint_eq(e.left, 0);
	ck_assert_int_eq(jsonl_read(&r, &line, &len, &cause), 0);
	jsonl_free(&r);
	fclose(f);
}
END_TEST

START_TEST(the_reader_goes_on_past_a_bad_line)
{
	char text[] = "{\"a\":1}\r\n"
	              "   \n"
	              "{\"a\":\"0123456789012345678901234567890123456789\"}\n"
	              "{\"a\":2,\"a\":3}\n"
	              "{\"b\":2}";
	FILE *f = fmemopen(text, sizeof text - 1, "r");
	struct jsonl r;
	jsonl_init(&r, f, "t.jsonl");
	r.max = 32;
	cJSON *o = NULL;
	char *cause = NULL;
	ck_assert_int_eq(jsonl_next(&r, &o, &cause), 1);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "a")->valueint, 1);
	cJSON_Delete(o);
	ck_assert_int_eq(jsonl_next(&r, &o, &cause), -1);
	ck_assert_str_eq(cause, "t.jsonl:3: the line is longer than 32 bytes, the limit: skipped");
	free(cause);
	ck_assert_int_eq(jsonl_next(&r, &o, &cause), -1);
	ck_assert_str_eq(cause, "t.jsonl:4: $: duplicate key \"a\"");
	free(cause);
	ck_assert_int_eq(jsonl_next(&r, &o, &cause), 1);
	ck_assert_int_eq(r.lineno, 5);
	cJSON_Delete(o);
	ck_assert_int_eq(jsonl_next(&r, &o, &cause), 0);
	jsonl_free(&r);
	fclose(f);
}
END_TEST

/* ------------------------------------------------------------- tickets */

#define MSG "\"messages\":[{\"role\":\"customer\",\"text\":\"hi\"}]"

static void
ticket_refused(const char *line, const char *want)
{
	struct ticket t;
	char *cause = NULL;
	ck_assert_msg(ticket_parse(line, strlen(line), &t, &cause) == -1, "accepted: %s", line);
	ck_assert_msg(strstr(cause, want) != NULL, "cause '%s' lacks '%s'", cause, want);
	free(cause);
}

START_TEST(ticket_fields_have_their_types)
{
	ticket_refused("{\"id\":42," MSG "}", "\"id\" is not a non-empty string");
	ticket_refused("{\"id\":\"T\",\"id\":\"U\"," MSG "}", "duplicate key \"id\"");
	ticket_refused("{\"id\":\"T\",\"messages\":[{\"role\":\"customer\",\"text\":\"\xff\"}]}",
	               "not valid UTF-8");
	ticket_refused("{\"id\":\"T\",\"outcome\":{\"csat\":\"5\"}," MSG "}",
	               "outcome.csat is not a number");
	ticket_refused("{\"id\":\"T\",\"outcome\":{\"csat\":9}," MSG "}",
	               "outcome.csat is out of range [1, 5]");
	ticket_refused("{\"id\":\"T\",\"outcome\":{\"resolved\":\"yes\"}," MSG "}",
	               "outcome.resolved is not true or false");
	ticket_refused("{\"id\":\"T\",\"labels\":{\"escalation_turn\":0}," MSG "}",
	               "labels.escalation_turn is out of range");
	ticket_refused("{\"id\":\"T\",\"channel\":7," MSG "}", "channel is not a string");
	ticket_refused(
	    "{\"id\":\"T\",\"messages\":[{\"role\":\"customer\",\"text\":\"hi\",\"at\":1}]}",
	    "messages[0]: \"at\" is not a string");
	/* Null is absent, as the page says. */
	struct ticket t;
	char *cause = NULL;
	const char *ok = "{\"id\":\"T\",\"outcome\":{\"csat\":null,\"resolved\":true}," MSG "}";
	ck_assert_msg(ticket_parse(ok, strlen(ok), &t, &cause) == 0, "%s", cause);
	ticket_free(&t);
}
END_TEST

START_TEST(ticket_ids_are_unique_in_a_file)
{
	char text[] = "{\"id\":\"T-1\"," MSG "}\n"
	              "{\"id\":\"T-2\"," MSG "}\n"
	              "{\"id\":\"T-1\"," MSG "}\n"
	              "{\"id\":\"T-3\",\"messages\":[]}\n"
	              "{\"id\":\"T-3\"," MSG "}\n";
	FILE *f = fmemopen(text, sizeof text - 1, "r");
	struct jsonl r;
	jsonl_init(&r, f, "t.jsonl");
	struct ticket t;
	char *cause = NULL;
	ck_assert_int_eq(ticket_read(&r, &t, &cause), 1);
	ticket_free(&t);
	ck_assert_int_eq(ticket_read(&r, &t, &cause), 1);
	ticket_free(&t);
	ck_assert_int_eq(ticket_read(&r, &t, &cause), -1);
	ck_assert_str_eq(cause, "t.jsonl:3: duplicate ticket id \"T-1\" (first at line 1)");
	free(cause);
	/* A bad ticket does not take its id: the next with it is the first. */
	ck_assert_int_eq(ticket_read(&r, &t, &cause), -1);
	ck_assert_str_eq(cause, "t.jsonl:4: no customer message");
	free(cause);
	ck_assert_int_eq(ticket_read(&r, &t, &cause), 1);
	ck_assert_str_eq(t.id, "T-3");
	ticket_free(&t);
	ck_assert_int_eq(ticket_read(&r, &t, &cause), 0);
	jsonl_free(&r);
	fclose(f);
}
END_TEST

/* Many ids: the set grows and still finds every one. */
START_TEST(many_ids)
{
	struct jsonl r;
	jsonl_init(&r, stdin, "ids");
	char id[32];
	for (int i = 0; i < 100000; i++) {
		r.lineno = i + 1;
		snprintf(id, sizeof id, "T-%d", i);
		ck_assert_int_eq(jsonl_unique(&r, id), 0);
	}
	ck_assert_int_eq(jsonl_unique(&r, "T-0"), 1);
	ck_assert_int_eq(jsonl_unique(&r, "T-99999"), 100000);
	jsonl_free(&r);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("jsonl");
	TCase *tc = tcase_create("lines");
	tcase_add_test(tc, one_set_of_rules_for_a_line);
	tcase_add_test(tc, duplicates_in_a_wide_object);
	tcase_add_test(tc, a_hundred_megabyte_line_is_never_held_whole);
	tcase_add_test(tc, the_reader_goes_on_past_a_bad_line);
	suite_add_tcase(s, tc);
	tc = tcase_create("tickets");
	tcase_add_test(tc, ticket_fields_have_their_types);
	tcase_add_test(tc, ticket_ids_are_unique_in_a_file);
	tcase_add_test(tc, many_ids);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
