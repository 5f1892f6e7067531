/* check_jschema.c -- schema validation, JSON Schema export, descriptions (src/jschema.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jschema.h"
#include "testutil.h"
#include "types.h"
#include "util.h"

/* DESIGN.md section 5's example without its route (the policy's), which must pass. */
static const char triage_ok[] =
    "{\"intent_category\":\"shipping\",\"urgency\":\"normal\",\"sentiment\":\"frustrated\","
    "\"entities\":{\"order_numbers\":[\"A12345\"],\"account_ids\":[],\"emails\":[],\"phones\":[],"
    "\"amounts\":[{\"value\":129.99,\"currency\":\"USD\"}],\"products\":[]},"
    "\"complexity_signal\":\"simple\",\"has_legal_language\":false,"
    "\"intent_confidence\":0.91}";

static cJSON *
parse(const char *text)
{
	cJSON *v = cJSON_Parse(text);
	ck_assert_msg(v != NULL, "test JSON does not parse: %s", text);
	return v;
}

/* Checks v against the triage schema; returns the cause (caller frees) or NULL. */
static char *
triage_cause(const cJSON *v)
{
	char *cause = NULL;
	int rc = jschema_check(&jschema_triage, v, &cause);
	ck_assert_int_eq(rc, cause == NULL ? 0 : -1);
	return cause;
}

/* The triage example with one member replaced (or removed when json is NULL). */
static char *
triage_with(const char *path_obj, const char *key, const char *json)
{
	cJSON *v = parse(triage_ok);
	cJSON *obj = v;
	if (path_obj != NULL)
		obj = cJSON_GetObjectItemCaseSensitive(v, path_obj);
	ck_assert_ptr_nonnull(obj);
	if (json == NULL) {
		ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(obj, key));
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	} else if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL) {
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, parse(json));
	} else {
		cJSON_AddItemToObject(obj, key, parse(json));
	}
	char *cause = triage_cause(v);
	cJSON_Delete(v);
	return cause;
}

static void
expect_cause(char *cause, const char *want)
{
	ck_assert_msg(cause != NULL, "accepted, want \"%s\"", want);
	ck_assert_msg(strcmp(cause, want) == 0, "cause \"%s\", want \"%s\"", cause, want);
	free(cause);
}

/* ------------------------------------------------------------- triage */

START_TEST(triage_example_passes)
{
	cJSON *v = parse(triage_ok);
	char *cause = (char *)1;
	ck_assert_int_eq(jschema_check(&jschema_triage, v, &cause), 0);
	ck_assert_ptr_null(cause);
	/* Every value of every set passes too, and the boundaries of confidence. */
	static const struct {
		const char *key;
		const char *const *names;
	} sets[] = {
	    {"intent_category", category_names},
	    {"urgency", urgency_names},
	    {"sentiment", sentiment_names},
	    {"complexity_signal", complexity_names},
	};
	for (size_t s = 0; s < nitems(sets); s++)
		for (size_t i = 0; sets[s].names[i] != NULL; i++) {
			cJSON_ReplaceItemInObjectCaseSensitive(
			    v, sets[s].key, cJSON_CreateString(sets[s].names[i]));
			ck_assert_msg(jschema_check(&jschema_triage, v, NULL) == 0, "%s=%s",
			              sets[s].key, sets[s].names[i]);
		}
	cJSON_ReplaceItemInObjectCaseSensitive(v, "intent_confidence", cJSON_CreateNumber(0));
	ck_assert_int_eq(jschema_check(&jschema_triage, v, NULL), 0);
	cJSON_ReplaceItemInObjectCaseSensitive(v, "intent_confidence", cJSON_CreateNumber(1));
	ck_assert_int_eq(jschema_check(&jschema_triage, v, NULL), 0);
	cJSON_Delete(v);
}
END_TEST

START_TEST(triage_enum_violations)
{
	expect_cause(triage_with(NULL, "urgency", "\"urgent\""),
	             "$.urgency: \"urgent\" is not one of critical, high, normal, low");
	expect_cause(triage_with(NULL, "intent_category", "\"Billing\""),
	             "$.intent_category: \"Billing\" is not one of billing, technical, account, "
	             "shipping, returns, general");
	expect_cause(triage_with(NULL, "sentiment", "\"angry\""),
	             "$.sentiment: \"angry\" is not one of frustrated, neutral, positive");
	expect_cause(
	    triage_with(NULL, "complexity_signal", "\"hard\""),
	    "$.complexity_signal: \"hard\" is not one of simple, moderate, complex, unknown");
	/* C1 controls and bidi overrides in a value are escaped in the cause. */
	expect_cause(
	    triage_with(NULL, "urgency", "\"\\u009b2J\\u202ehigh\""),
	    "$.urgency: \"\\u009b2J\\u202ehigh\" is not one of critical, high, normal, low");
	expect_cause(triage_with(NULL, "urgency", "\"\""),
	             "$.urgency: \"\" is not one of critical, high, normal, low");
}
END_TEST

START_TEST(triage_confidence_range)
{
	expect_cause(triage_with(NULL, "intent_confidence", "1.5"),
	             "$.intent_confidence: 1.5 is above the maximum 1");
	expect_cause(triage_with(NULL, "intent_confidence", "-0.01"),
	             "$.intent_confidence: -0.01 is below the minimum 0");
	expect_cause(triage_with(NULL, "intent_confidence", "1e400"),
	             "$.intent_confidence: inf is not a finite number");
	expect_cause(triage_with(NULL, "intent_confidence", "\"0.9\""),
	             "$.intent_confidence: expected a number, got a string");
	expect_cause(triage_with("entities", "amounts", "[{\"value\":-5,\"currency\":\"USD\"}]"),
	             "$.entities.amounts[0].value: -5 is below the minimum 0");
}
END_TEST

START_TEST(triage_missing_keys)
{
	/* What the agent must decide; the rest the offline engine finds too. */
	static const char *const top[] = {"intent_category", "urgency", "sentiment",
	                                  "intent_confidence"};
	for (size_t i = 0; i < nitems(top); i++) {
		char want[128];
		snprintf(want, sizeof want, "$: missing required key \"%s\"", top[i]);
		expect_cause(triage_with(NULL, top[i], NULL), want);
	}
	static const char *const optional[] = {"entities", "complexity_signal",
	                                       "has_legal_language"};
	for (size_t i = 0; i < nitems(optional); i++) {
		char *c = triage_with(NULL, optional[i], NULL);
		ck_assert_msg(c == NULL, "%s: %s", optional[i], c);
		c = triage_with(NULL, optional[i], "null");
		ck_assert_msg(c == NULL, "%s null: %s", optional[i], c);
	}
	static const char *const ent[] = {"order_numbers", "account_ids", "emails",
	                                  "phones",        "amounts",     "products"};
	for (size_t i = 0; i < nitems(ent); i++) {
		char *c = triage_with("entities", ent[i], NULL);
		ck_assert_msg(c == NULL, "entities.%s: %s", ent[i], c);
	}
	expect_cause(triage_with("entities", "amounts", "[{\"value\":1}]"),
	             "$.entities.amounts[0]: missing required key \"currency\"");
	expect_cause(triage_with("entities", "amounts", "[{\"currency\":\"EUR\"}]"),
	             "$.entities.amounts[0]: missing required key \"value\"");
}
END_TEST

START_TEST(triage_extra_and_duplicate_keys)
{
	expect_cause(triage_with(NULL, "reasoning", "\"because\""), "$: unknown key \"reasoning\"");
	expect_cause(triage_with(NULL, "route", "\"human-queue-priority\""),
	             "$: unknown key \"route\"");
	expect_cause(triage_with("entities", "names", "[]"), "$.entities: unknown key \"names\"");
	expect_cause(
	    triage_with("entities", "amounts", "[{\"value\":1,\"currency\":\"USD\",\"note\":1}]"),
	    "$.entities.amounts[0]: unknown key \"note\"");
	/* A strange key is quoted and escaped, never printed raw. */
	expect_cause(triage_with(NULL, "a b\x1b[2J", "1"), "$: unknown key \"a b\\u001b[2J\"");

	/* cJSON keeps both copies of a repeated key; the schema refuses the second. */
	char *dup = replace1(triage_ok, "\"urgency\":\"normal\"",
	                     "\"urgency\":\"normal\",\"urgency\":\"critical\"");
	cJSON *v = parse(dup);
	expect_cause(triage_cause(v), "$: duplicate key \"urgency\"");
	cJSON_Delete(v);
	free(dup);
}
END_TEST

/* jschema_read on the triage example edited by text substitution; returns the cause or NULL. */
static char *
read_triage(const char *from, const char *to, int *ignored, cJSON **out)
{
	char *text = from ? replace1(triage_ok, from, to) : xstrdup(triage_ok);
	cJSON *v = parse(text);
	free(text);
	char *cause = NULL;
	int rc = jschema_read(&jschema_triage, v, ignored, &cause);
	ck_assert_int_eq(rc, cause == NULL ? 0 : -1);
	if (out != NULL)
		*out = v;
	else
		cJSON_Delete(v);
	return cause;
}

/* What servers without strict structured output send: read as pydantic and instructor do. */
START_TEST(model_answers_are_read_leniently)
{
	int ignored = -1;
	cJSON *v = NULL;
	/* Extra keys, at the top and inside: dropped and counted. */
	char *c = read_triage("\"intent_confidence\":0.91",
	                      "\"intent_confidence\":0.91,\"confidence\":0.97,"
	                      "\"route\":\"human-queue-priority\",\"reasoning\":{\"a\":[1]}",
	                      &ignored, &v);
	ck_assert_msg(c == NULL, "%s", c);
	ck_assert_int_eq(ignored, 3);
	ck_assert_ptr_null(cJSON_GetObjectItem(v, "confidence"));
	ck_assert_ptr_null(cJSON_GetObjectItem(v, "route"));
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(v, "urgency"));
	cJSON_Delete(v);
	c = read_triage("\"products\":[]", "\"products\":[],\"dates\":[\"today\"]", &ignored, NULL);
	ck_assert_msg(c == NULL && ignored == 1, "%s", c);
	c = read_triage("\"currency\":\"USD\"", "\"currency\":\"USD\",\"raw\":\"$129.99\"",
	                &ignored, NULL);
	ck_assert_msg(c == NULL && ignored == 1, "%s", c);
	/* Numbers and booleans as strings become what the schema wants. */
	c = read_triage("\"intent_confidence\":0.91", "\"intent_confidence\":\"0.9\"", &ignored,
	                &v);
	ck_assert_msg(c == NULL, "%s", c);
	ck_assert_int_eq(ignored, 0);
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(v, "intent_confidence")));
	ck_assert_double_eq(cJSON_GetObjectItem(v, "intent_confidence")->valuedouble, 0.9);
	cJSON_Delete(v);
	c = read_triage("\"has_legal_language\":false", "\"has_legal_language\":\"true\"", NULL,
	                &v);
	ck_assert_msg(c == NULL, "%s", c);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(v, "has_legal_language")));
	cJSON_Delete(v);
	c = read_triage("\"value\":129.99", "\"value\":\"129.99\"", NULL, NULL);
	ck_assert_msg(c == NULL, "%s", c);

	/* What is really wrong is still refused. */
	expect_cause(read_triage("\"urgency\":\"normal\"", "\"urgency\":\"urgent\"", NULL, NULL),
	             "$.urgency: \"urgent\" is not one of critical, high, normal, low");
	expect_cause(read_triage("\"urgency\":\"normal\",", "", NULL, NULL),
	             "$: missing required key \"urgency\"");
	expect_cause(
	    read_triage("\"intent_confidence\":0.91", "\"intent_confidence\":\"high\"", NULL, NULL),
	    "$.intent_confidence: expected a number, got a string");
	expect_cause(
	    read_triage("\"intent_confidence\":0.91", "\"intent_confidence\":\"0.9x\"", NULL, NULL),
	    "$.intent_confidence: expected a number, got a string");
	expect_cause(
	    read_triage("\"intent_confidence\":0.91", "\"intent_confidence\":\"9\"", NULL, NULL),
	    "$.intent_confidence: 9 is above the maximum 1");
	expect_cause(read_triage("\"has_legal_language\":false", "\"has_legal_language\":\"no\"",
	                         NULL, NULL),
	             "$.has_legal_language: expected a boolean, got a string");
	expect_cause(read_triage("\"urgency\":\"normal\"",
	                         "\"urgency\":\"normal\",\"urgency\":\"low\"", NULL, NULL),
	             "$: duplicate key \"urgency\"");
	/* A number is not a string: an enum stays an enum. */
	expect_cause(read_triage("\"sentiment\":\"frustrated\"", "\"sentiment\":1", NULL, NULL),
	             "$.sentiment: expected a string, got a number");
}
END_TEST

START_TEST(triage_wrong_types)
{
	static const struct {
		const char *obj, *key, *json, *want;
	} cases[] = {
	    {NULL, "intent_category", "3", "$.intent_category: expected a string, got a number"},
	    {NULL, "urgency", "null", "$.urgency: expected a string, got null"},
	    {NULL, "sentiment", "[\"neutral\"]", "$.sentiment: expected a string, got an array"},
	    {NULL, "entities", "[]", "$.entities: expected an object, got an array"},
	    {NULL, "has_legal_language", "\"false\"",
	     "$.has_legal_language: expected a boolean, got a string"},
	    {NULL, "has_legal_language", "0",
	     "$.has_legal_language: expected a boolean, got a number"},
	    {NULL, "intent_confidence", "true",
	     "$.intent_confidence: expected a number, got a boolean"},
	    {"entities", "order_numbers", "\"A12345\"",
	     "$.entities.order_numbers: expected an array, got a string"},
	    {"entities", "emails", "[\"a@b.co\", 7]",
	     "$.entities.emails[1]: expected a string, got a number"},
	    {"entities", "phones", "{}", "$.entities.phones: expected an array, got an object"},
	    {"entities", "amounts", "[129.99]",
	     "$.entities.amounts[0]: expected an object, got a number"},
	    {"entities", "amounts", "[{\"value\":\"129.99\",\"currency\":\"USD\"}]",
	     "$.entities.amounts[0].value: expected a number, got a string"},
	    {"entities", "amounts", "[{\"value\":1,\"currency\":840}]",
	     "$.entities.amounts[0].currency: expected a string, got a number"},
	    {"entities", "products", "[[]]",
	     "$.entities.products[0]: expected a string, got an array"},
	};
	for (size_t i = 0; i < nitems(cases); i++)
		expect_cause(triage_with(cases[i].obj, cases[i].key, cases[i].json), cases[i].want);

	cJSON *arr = parse("[1]");
	expect_cause(triage_cause(arr), "$: expected an object, got an array");
	cJSON_Delete(arr);
	char *cause = NULL;
	ck_assert_int_eq(jschema_check(&jschema_triage, NULL, &cause), -1);
	expect_cause(cause, "$: no value");
}
END_TEST

START_TEST(triage_lengths_and_counts)
{
	expect_cause(triage_with("entities", "amounts", "[{\"value\":1,\"currency\":\"US\"}]"),
	             "$.entities.amounts[0].currency: \"US\" is shorter than 3 characters");
	expect_cause(triage_with("entities", "amounts", "[{\"value\":1,\"currency\":\"USDX\"}]"),
	             "$.entities.amounts[0].currency: \"USDX\" is longer than 3 characters");
	/* Lengths count characters, not bytes: three two-byte characters fit. */
	char *ok = triage_with("entities", "amounts",
	                       "[{\"value\":1,\"currency\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}]");
	ck_assert_msg(ok == NULL, "%s", ok);
	expect_cause(triage_with("entities", "order_numbers", "[\"\"]"),
	             "$.entities.order_numbers[0]: \"\" is shorter than 1 characters");

	/* 33 order numbers: one over. */
	struct buf b;
	buf_init(&b, 0);
	buf_addc(&b, '[');
	for (int i = 0; i < 33; i++)
		buf_printf(&b, "%s\"A%05d\"", i ? "," : "", i);
	buf_addc(&b, ']');
	expect_cause(triage_with("entities", "order_numbers", b.data),
	             "$.entities.order_numbers: 33 items, more than the maximum 32");
	/* 32 is fine. */
	char *at = strrchr(b.data, ',');
	strcpy(at, "]");
	char *c32 = triage_with("entities", "order_numbers", b.data);
	ck_assert_msg(c32 == NULL, "%s", c32);
	buf_free(&b);

	/* A long value is quoted shortened, with its control characters escaped. */
	char email[400];
	memset(email, 'x', 300);
	strcpy(email + 300, "@example.com");
	char *json = xasprintf("[\"\\u001b]0;hi\\u0007%s\"]", email);
	char *cause = triage_with("entities", "emails", json);
	ck_assert_ptr_nonnull(cause);
	const char *prefix = "$.entities.emails[0]: \"\\u001b]0;hi\\u0007xxx";
	ck_assert_msg(strncmp(cause, prefix, strlen(prefix)) == 0, "%s", cause);
	ck_assert_msg(strstr(cause, "\"... is longer than 254 characters") != NULL, "%s", cause);
	ck_assert_msg(strchr(cause, '\x1b') == NULL && strchr(cause, '\a') == NULL, "%s", cause);
	ck_assert_uint_lt(strlen(cause), 140);
	free(cause);
	free(json);

	expect_cause(triage_with("entities", "products", "[\"caf\xc3\"]"),
	             "$.entities.products[0]: \"caf\xef\xbf\xbd\" is not valid UTF-8");
}
END_TEST

/* ------------------------------------------------ a schema of our own */

static const char *const colours[] = {"red", "green", NULL};
static const struct jschema js_count = {.type = JSCHEMA_INTEGER, .has_maximum = 1, .maximum = 10};
static const struct jschema js_colour = {.type = JSCHEMA_STRING, .enum_values = colours};
static const struct jschema js_note = {
    .type = JSCHEMA_STRING, .description = "free text", .max_length = 5};
static const struct jschema_prop item_props[] = {
    {.name = "count", .schema = &js_count},
    {.name = "colour", .schema = &js_colour, .optional = 1},
    {.name = NULL},
};
static const struct jschema js_item = {.type = JSCHEMA_OBJECT, .props = item_props};
static const struct jschema js_items = {.type = JSCHEMA_ARRAY, .items = &js_item, .max_items = 3};
static const struct jschema js_any = {.type = JSCHEMA_ARRAY};
static const struct jschema_prop box_props[] = {
    {.name = "items", .schema = &js_items},
    {.name = "note", .schema = &js_note, .optional = 1},
    {.name = "with space", .schema = &js_any, .optional = 1},
    {.name = NULL},
};
static const struct jschema js_box = {
    .type = JSCHEMA_OBJECT, .description = "a box", .props = box_props};

static char *
box_cause(const char *json)
{
	cJSON *v = parse(json);
	char *cause = NULL;
	int rc = jschema_check(&js_box, v, &cause);
	ck_assert_int_eq(rc, cause ? -1 : 0);
	cJSON_Delete(v);
	return cause;
}

START_TEST(custom_integers_optional_and_nesting)
{
	ck_assert_ptr_null(box_cause("{\"items\":[]}"));
	ck_assert_ptr_null(box_cause("{\"items\":[{\"count\":3}],\"note\":null}"));
	ck_assert_ptr_null(
	    box_cause("{\"items\":[{\"count\":-3,\"colour\":null}],\"note\":\"hi\"}"));
	ck_assert_ptr_null(box_cause("{\"items\":[{\"count\":10,\"colour\":\"red\"}],"
	                             "\"with space\":[1,\"a\",{},null]}"));
	expect_cause(box_cause("{\"items\":[{\"count\":1.5}]}"),
	             "$.items[0].count: 1.5 is not an integer");
	expect_cause(box_cause("{\"items\":[{\"count\":1},{\"count\":11}]}"),
	             "$.items[1].count: 11 is above the maximum 10");
	expect_cause(box_cause("{\"items\":[{\"count\":1,\"colour\":\"blue\"}]}"),
	             "$.items[0].colour: \"blue\" is not one of red, green");
	expect_cause(box_cause("{\"items\":[{\"count\":1}],\"note\":\"toolong\"}"),
	             "$.note: \"toolong\" is longer than 5 characters");
	expect_cause(box_cause("{\"items\":[{},{},{},{}]}"),
	             "$.items: 4 items, more than the maximum 3");
	expect_cause(box_cause("{\"items\":[],\"with space\":{}}"),
	             "$[\"with space\"]: expected an array, got an object");
	/* A required key may not be null. */
	expect_cause(box_cause("{\"items\":null}"), "$.items: expected an array, got null");
}
END_TEST

/* -------------------------------------------------------- JSON Schema */

/* Keywords OpenAI's strict mode refused or ignored at some point. */
static const char *const unsafe_keywords[] = {
    "minimum",  "maximum",  "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
    "minItems", "maxItems", "pattern",          "format",           "default",   "multipleOf",
};

/* Walks an exported schema: strict-mode rules hold at every node. */
static void
assert_strict(const cJSON *s, const char *where)
{
	ck_assert_msg(cJSON_IsObject(s), "%s: not an object", where);
	for (size_t i = 0; i < nitems(unsafe_keywords); i++)
		ck_assert_msg(cJSON_GetObjectItemCaseSensitive(s, unsafe_keywords[i]) == NULL,
		              "%s: has %s", where, unsafe_keywords[i]);
	const cJSON *any = cJSON_GetObjectItemCaseSensitive(s, "anyOf");
	if (any != NULL) {
		ck_assert_int_eq(cJSON_GetArraySize(any), 2);
		assert_strict(cJSON_GetArrayItem(any, 0), where);
		ck_assert_str_eq(
		    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(any, 1), "type")),
		    "null");
		return;
	}
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "type"));
	ck_assert_msg(type != NULL, "%s: no type", where);
	if (strcmp(type, "object") == 0) {
		const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
		const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required");
		ck_assert_msg(
		    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s, "additionalProperties")),
		    "%s: additionalProperties is not false", where);
		ck_assert_int_eq(cJSON_GetArraySize(props), cJSON_GetArraySize(req));
		int i = 0;
		const cJSON *p;
		cJSON_ArrayForEach(p, props)
		{
			ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(req, i)),
			                 p->string);
			char *sub = xasprintf("%s.%s", where, p->string);
			assert_strict(p, sub);
			free(sub);
			i++;
		}
	} else if (strcmp(type, "array") == 0) {
		const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
		ck_assert_msg(items != NULL, "%s: array without items", where);
		if (cJSON_GetArraySize(items) > 0) {
			char *sub = xasprintf("%s[]", where);
			assert_strict(items, sub);
			free(sub);
		}
	}
}

static const cJSON *
at(const cJSON *s, const char *a, const char *b, const char *c)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, a);
	if (b != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	if (c != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, c);
	ck_assert_msg(v != NULL, "no %s.%s.%s", a, b ? b : "", c ? c : "");
	return v;
}

START_TEST(triage_json_schema_is_strict)
{
	cJSON *s = jschema_to_json(&jschema_triage);
	assert_strict(s, "$");
	/* The properties are DESIGN.md's, in order. */
	const char *want[] = {"intent_category",  "urgency",           "sentiment",
	                      "entities",         "complexity_signal", "has_legal_language",
	                      "intent_confidence"};
	const cJSON *req = at(s, "required", NULL, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(req), (int)nitems(want));
	for (size_t i = 0; i < nitems(want); i++)
		ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(req, (int)i)), want[i]);
	/* Enums are the value sets. */
	const cJSON *en = at(s, "properties", "urgency", "enum");
	ck_assert_int_eq(cJSON_GetArraySize(en), URG__N);
	for (int i = 0; i < URG__N; i++)
		ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(en, i)), urgency_names[i]);
	ck_assert_ptr_null(cJSON_GetObjectItem(at(s, "properties", NULL, NULL), "route"));
	/* Types, and the bounds moved into words. */
	ck_assert_str_eq(cJSON_GetStringValue(at(s, "properties", "intent_confidence", "type")),
	                 "number");
	const char *d =
	    cJSON_GetStringValue(at(s, "properties", "intent_confidence", "description"));
	ck_assert_msg(strstr(d, "from 0 to 1") != NULL, "%s", d);
	/* An optional key is required and nullable: anyOf [its schema, null]. */
	const cJSON *legal =
	    cJSON_GetArrayItem(at(s, "properties", "has_legal_language", "anyOf"), 0);
	ck_assert_str_eq(cJSON_GetStringValue(at(legal, "type", NULL, NULL)), "boolean");
	const cJSON *entities = cJSON_GetArrayItem(at(s, "properties", "entities", "anyOf"), 0);
	const cJSON *amounts = cJSON_GetArrayItem(
	    at(at(entities, "properties", NULL, NULL), "amounts", "anyOf", NULL), 0);
	const cJSON *amount = at(amounts, "items", NULL, NULL);
	ck_assert_str_eq(cJSON_GetStringValue(at(amount, "type", NULL, NULL)), "object");
	ck_assert_str_eq(cJSON_GetStringValue(at(amount, "properties", "value", "type")), "number");
	const char *cd = cJSON_GetStringValue(at(amount, "properties", "currency", "description"));
	ck_assert_msg(strstr(cd, "exactly 3 characters") != NULL, "%s", cd);
	const cJSON *emails = cJSON_GetArrayItem(
	    at(at(entities, "properties", NULL, NULL), "emails", "anyOf", NULL), 0);
	const char *ed = cJSON_GetStringValue(at(emails, "description", NULL, NULL));
	ck_assert_msg(strstr(ed, "at most 32 items") != NULL, "%s", ed);
	cJSON_Delete(s);
}
END_TEST

START_TEST(optional_properties_are_required_and_nullable)
{
	cJSON *s = jschema_to_json(&js_box);
	assert_strict(s, "$");
	const cJSON *note = at(s, "properties", "note", NULL);
	const cJSON *any = at(note, "anyOf", NULL, NULL);
	ck_assert_str_eq(cJSON_GetStringValue(at(cJSON_GetArrayItem(any, 0), "type", NULL, NULL)),
	                 "string");
	ck_assert_str_eq(
	    cJSON_GetStringValue(at(cJSON_GetArrayItem(any, 0), "description", NULL, NULL)),
	    "free text (at most 5 characters)");
	const cJSON *req = at(s, "required", NULL, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(req), 3);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(req, 1)), "note");
	/* An array of anything still carries items, as the empty schema. */
	const cJSON *anyarr = at(s, "properties", "with space", NULL);
	const cJSON *items =
	    at(cJSON_GetArrayItem(at(anyarr, "anyOf", NULL, NULL), 0), "items", NULL, NULL);
	ck_assert(cJSON_IsObject(items));
	ck_assert_int_eq(cJSON_GetArraySize(items), 0);
	ck_assert_str_eq(cJSON_GetStringValue(at(s, "properties", "items", "type")), "array");
	ck_assert_str_eq(cJSON_GetStringValue(at(at(s, "properties", "items", "items"),
	                                         "properties", "count", "type")),
	                 "integer");
	cJSON_Delete(s);
}
END_TEST

/* -------------------------------------------------------- description */

START_TEST(describe_small_schema_exactly)
{
	char *d = jschema_describe(&js_box);
	ck_assert_str_eq(d, "// a box\n"
	                    "{\n"
	                    "  \"items\": [{\n"
	                    "    \"count\": integer (at most 10),\n"
	                    "    \"colour\": \"red\" | \"green\" or null\n"
	                    "  }, ...] (at most 3 items),\n"
	                    "  \"note\": string (at most 5 characters) or null, // free text\n"
	                    "  \"with space\": [...] or null\n"
	                    "}");
	free(d);
}
END_TEST

START_TEST(describe_triage_names_every_key_and_value)
{
	char *d = jschema_describe(&jschema_triage);
	static const char *const keys[] = {
	    "\"intent_category\": ",
	    "\"urgency\": ",
	    "\"sentiment\": ",
	    "\"entities\": { // ",
	    "\"order_numbers\": [",
	    "\"account_ids\": [",
	    "\"emails\": [",
	    "\"phones\": [",
	    "\"amounts\": [{",
	    "\"value\": number",
	    "\"currency\": string",
	    "\"products\": [",
	    "\"complexity_signal\"",
	    "\"has_legal_language\": true | false",
	    "\"intent_confidence\": number (from 0 to 1)",
	};
	for (size_t i = 0; i < nitems(keys); i++)
		ck_assert_msg(strstr(d, keys[i]) != NULL, "no %s in:\n%s", keys[i], d);
	const char *const *sets[] = {category_names, urgency_names, sentiment_names,
	                             complexity_names};
	for (size_t s = 0; s < nitems(sets); s++)
		for (size_t i = 0; sets[s][i] != NULL; i++) {
			char *q = xasprintf("\"%s\"", sets[s][i]);
			ck_assert_msg(strstr(d, q) != NULL, "no %s in:\n%s", q, d);
			free(q);
		}
	/* Every line but the comment and the braces is indented. */
	ck_assert_msg(
	    strstr(d, "\n  \"urgency\": \"critical\" | \"high\" | \"normal\" | \"low\",\n") != NULL,
	    "%s", d);
	free(d);
}
END_TEST

static Suite *
jschema_suite(void)
{
	Suite *s = suite_create("jschema");
	TCase *tc = tcase_create("check");
	tcase_add_test(tc, triage_example_passes);
	tcase_add_test(tc, triage_enum_violations);
	tcase_add_test(tc, triage_confidence_range);
	tcase_add_test(tc, triage_missing_keys);
	tcase_add_test(tc, triage_extra_and_duplicate_keys);
	tcase_add_test(tc, model_answers_are_read_leniently);
	tcase_add_test(tc, triage_wrong_types);
	tcase_add_test(tc, triage_lengths_and_counts);
	tcase_add_test(tc, custom_integers_optional_and_nesting);
	suite_add_tcase(s, tc);
	tc = tcase_create("export");
	tcase_add_test(tc, triage_json_schema_is_strict);
	tcase_add_test(tc, optional_properties_are_required_and_nullable);
	tcase_add_test(tc, describe_small_schema_exactly);
	tcase_add_test(tc, describe_triage_names_every_key_and_value);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(jschema_suite());
}
