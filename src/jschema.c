/* jschema.c -- validate, export and describe frontline's JSON schemas. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jschema.h"
#include "types.h"
#include "util.h"

/* ------------------------------------------------------------ TriageResult */

static const struct jschema js_category = {
    .type = JSCHEMA_STRING,
    .description = "what the customer needs help with",
    .enum_values = category_names,
};
static const struct jschema js_urgency = {
    .type = JSCHEMA_STRING,
    .enum_values = urgency_names,
};
static const struct jschema js_sentiment = {
    .type = JSCHEMA_STRING,
    .enum_values = sentiment_names,
};
static const struct jschema js_complexity = {
    .type = JSCHEMA_STRING,
    .description = "how hard the request looks to resolve; unknown when unclear",
    .enum_values = complexity_names,
};
static const struct jschema js_confidence = {
    .type = JSCHEMA_NUMBER,
    .description = "probability that intent_category is right",
    .has_minimum = 1,
    .minimum = 0,
    .has_maximum = 1,
    .maximum = 1,
};
static const struct jschema js_legal = {
    .type = JSCHEMA_BOOLEAN,
    .description = "the message mentions lawyers, lawsuits, regulators or legal rights",
};

/* Entity limits: generous for a support message, small enough to refuse junk. */
#define ENTITY_MAX_ITEMS 32

static const struct jschema js_order_number = {
    .type = JSCHEMA_STRING, .min_length = 1, .max_length = 64};
static const struct jschema js_account_id = {
    .type = JSCHEMA_STRING, .min_length = 1, .max_length = 64};
static const struct jschema js_email = {.type = JSCHEMA_STRING, .min_length = 3, .max_length = 254};
static const struct jschema js_phone = {.type = JSCHEMA_STRING, .min_length = 3, .max_length = 32};
static const struct jschema js_product = {
    .type = JSCHEMA_STRING, .min_length = 1, .max_length = 64};

static const struct jschema_prop js_amount_props[] = {
    {.name = "value",
     .schema = &(const struct jschema){.type = JSCHEMA_NUMBER, .has_minimum = 1, .minimum = 0}},
    {.name = "currency",
     .schema = &(const struct jschema){.type = JSCHEMA_STRING,
                                       .description = "ISO 4217 code, e.g. USD",
                                       .min_length = 3,
                                       .max_length = 3}},
    {.name = NULL},
};
static const struct jschema js_amount = {.type = JSCHEMA_OBJECT, .props = js_amount_props};

#define ENTITY_ARRAY(item, desc)                                                                   \
	(&(const struct jschema){.type = JSCHEMA_ARRAY,                                            \
	                         .description = desc,                                              \
	                         .items = item,                                                    \
	                         .max_items = ENTITY_MAX_ITEMS})

/* What the offline engine finds stays when the model leaves something out: all optional. */
static const struct jschema_prop js_entities_props[] = {
    {.name = "order_numbers", .schema = ENTITY_ARRAY(&js_order_number, NULL), .optional = 1},
    {.name = "account_ids", .schema = ENTITY_ARRAY(&js_account_id, NULL), .optional = 1},
    {.name = "emails", .schema = ENTITY_ARRAY(&js_email, NULL), .optional = 1},
    {.name = "phones", .schema = ENTITY_ARRAY(&js_phone, NULL), .optional = 1},
    {.name = "amounts",
     .schema = ENTITY_ARRAY(&js_amount, "money amounts mentioned"),
     .optional = 1},
    {.name = "products",
     .schema = ENTITY_ARRAY(&js_product, "product names or ids mentioned"),
     .optional = 1},
    {.name = NULL},
};
static const struct jschema js_entities = {
    .type = JSCHEMA_OBJECT,
    .description = "what the message mentions, copied exactly; empty arrays when none",
    .props = js_entities_props,
};

/*
 * What the triage agent must decide is required; what the offline engine
 * also finds (entities, complexity, legal language) may be left out and
 * the offline result stands. No route: the policy's routing table decides
 * it, never the model.
 */
static const struct jschema_prop js_triage_props[] = {
    {.name = "intent_category", .schema = &js_category},
    {.name = "urgency", .schema = &js_urgency},
    {.name = "sentiment", .schema = &js_sentiment},
    {.name = "entities", .schema = &js_entities, .optional = 1},
    {.name = "complexity_signal", .schema = &js_complexity, .optional = 1},
    {.name = "has_legal_language", .schema = &js_legal, .optional = 1},
    {.name = "intent_confidence", .schema = &js_confidence},
    {.name = NULL},
};

const struct jschema jschema_triage = {
    .type = JSCHEMA_OBJECT,
    .description = "triage of one customer support message",
    .props = js_triage_props,
};

/* ---------------------------------------------------------------- helpers */

/* The buffer's text, handed to the caller (who frees it); b is released. */
static char *
take(struct buf *b)
{
	char *s = buf_steal(b);
	buf_free(b);
	return s;
}

/* How many characters of a value a cause quotes. */
#define QUOTE_MAX 40

static size_t
props_count(const struct jschema_prop *p)
{
	size_t n = 0;
	while (p != NULL && p[n].name != NULL)
		n++;
	return n;
}

/* Number of code points in s, or (size_t)-1 when s is not valid UTF-8. */
static size_t
utf8_count(const char *s)
{
	size_t n = 0, len = strlen(s);
	for (size_t i = 0; i < len; n++) {
		size_t k = utf8_seq_len((const unsigned char *)s + i, len - i);
		if (k == 0)
			return (size_t)-1;
		i += k;
	}
	return n;
}

/*
 * s as a JSON string literal of at most QUOTE_MAX code points, safe on a
 * terminal: C0 and C1 controls and bidi overrides escaped, invalid UTF-8
 * replaced by U+FFFD.
 */
static void
quote(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n = 0;
	buf_addc(b, '"');
	for (; i < len && n < QUOTE_MAX; n++) {
		size_t k = utf8_seq_len(p + i, len - i);
		unsigned cp = p[i];
		if (k == 2)
			cp = ((p[i] & 0x1fu) << 6) | (p[i + 1] & 0x3fu);
		else if (k == 3)
			cp =
			    ((p[i] & 0x0fu) << 12) | ((p[i + 1] & 0x3fu) << 6) | (p[i + 2] & 0x3fu);
		if (k == 0) {
			buf_adds(b, "\xef\xbf\xbd"); /* U+FFFD */
			k = 1;
		} else if (cp == '"' || cp == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, (char)cp);
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
		           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
			buf_printf(b, "\\u%04x", cp);
		} else {
			buf_add(b, p + i, k);
		}
		i += k;
	}
	buf_addc(b, '"');
	if (i < len)
		buf_adds(b, "...");
}

static int
is_identifier(const char *s)
{
	if (*s == '\0' || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static void
path_key(struct buf *path, const char *key)
{
	if (is_identifier(key)) {
		buf_printf(path, ".%s", key);
	} else {
		buf_addc(path, '[');
		quote(path, key);
		buf_addc(path, ']');
	}
}

static const char *
type_noun(enum jschema_type t)
{
	switch (t) {
	case JSCHEMA_OBJECT:
		return "an object";
	case JSCHEMA_STRING:
		return "a string";
	case JSCHEMA_NUMBER:
		return "a number";
	case JSCHEMA_INTEGER:
		return "an integer";
	case JSCHEMA_BOOLEAN:
		return "a boolean";
	case JSCHEMA_ARRAY:
		return "an array";
	}
	return "a value";
}

const char *
jschema_value_noun(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	return "an invalid value";
}

/* Formats a number the way a person reads it: 1, 0.5, 1e+300. */
static void
number_text(char out[32], double d)
{
	snprintf(out, 32, "%.15g", d);
}

/* --------------------------------------------------------------- checking */

struct checker {
	struct buf path;
	char *cause;
};

static int fail(struct checker *, const char *, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct checker *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	c->cause = xasprintf("%s: %s", c->path.data, msg);
	free(msg);
	return -1;
}

static int check_value(struct checker *, const struct jschema *, const cJSON *);

static int
check_string(struct checker *c, const struct jschema *s, const cJSON *v)
{
	const char *str = v->valuestring;
	size_t n = utf8_count(str);
	struct buf q;
	buf_init(&q, 0);
	quote(&q, str);
	int rc = 0;
	if (n == (size_t)-1) {
		rc = fail(c, "%s is not valid UTF-8", q.data);
	} else if (s->enum_values != NULL) {
		int found = 0;
		for (size_t i = 0; s->enum_values[i] != NULL && !found; i++)
			found = strcmp(s->enum_values[i], str) == 0;
		if (!found) {
			struct buf set;
			buf_init(&set, 0);
			for (size_t i = 0; s->enum_values[i] != NULL; i++)
				buf_printf(&set, "%s%s", i ? ", " : "", s->enum_values[i]);
			rc = fail(c, "%s is not one of %s", q.data, set.data);
			buf_free(&set);
		}
	} else if (n < s->min_length) {
		rc = fail(c, "%s is shorter than %zu characters", q.data, s->min_length);
	} else if (s->max_length != 0 && n > s->max_length) {
		rc = fail(c, "%s is longer than %zu characters", q.data, s->max_length);
	}
	buf_free(&q);
	return rc;
}

static int
check_number(struct checker *c, const struct jschema *s, const cJSON *v)
{
	double d = v->valuedouble;
	char num[32], lim[32];
	number_text(num, d);
	if (!isfinite(d))
		return fail(c, "%s is not a finite number", num);
	/* Integers must be exact in a double: |d| <= 2^53. */
	if (s->type == JSCHEMA_INTEGER && (d != floor(d) || fabs(d) > 9007199254740992.0))
		return fail(c, "%s is not an integer", num);
	if (s->has_minimum && d < s->minimum) {
		number_text(lim, s->minimum);
		return fail(c, "%s is below the minimum %s", num, lim);
	}
	if (s->has_maximum && d > s->maximum) {
		number_text(lim, s->maximum);
		return fail(c, "%s is above the maximum %s", num, lim);
	}
	return 0;
}

static int
check_array(struct checker *c, const struct jschema *s, const cJSON *v)
{
	int n = cJSON_GetArraySize(v);
	if (s->max_items != 0 && (size_t)n > s->max_items)
		return fail(c, "%d items, more than the maximum %zu", n, s->max_items);
	if (s->items == NULL)
		return 0;
	size_t mark = c->path.len;
	int i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, v)
	{
		buf_printf(&c->path, "[%d]", i++);
		if (check_value(c, s->items, e) != 0)
			return -1;
		c->path.len = mark;
		c->path.data[mark] = '\0';
	}
	return 0;
}

static int
check_object(struct checker *c, const struct jschema *s, const cJSON *v)
{
	const struct jschema_prop *props = s->props;
	size_t n = props_count(props);
	/* Which keys were seen: finds duplicates in one pass over the value. */
	unsigned char *seen = xcalloc(n ? n : 1, 1);
	int rc = 0;

	const cJSON *e;
	cJSON_ArrayForEach(e, v)
	{
		const char *key = e->string ? e->string : "";
		size_t i = 0;
		while (i < n && strcmp(props[i].name, key) != 0)
			i++;
		if (i == n || seen[i]) {
			struct buf q;
			buf_init(&q, 0);
			quote(&q, key);
			rc = fail(c, i == n ? "unknown key %s" : "duplicate key %s", q.data);
			buf_free(&q);
			goto out;
		}
		seen[i] = 1;
	}
	for (size_t i = 0; i < n; i++)
		if (!seen[i] && !props[i].optional) {
			rc = fail(c, "missing required key \"%s\"", props[i].name);
			goto out;
		}

	size_t mark = c->path.len;
	for (size_t i = 0; i < n; i++) {
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(v, props[i].name);
		if (item == NULL || (props[i].optional && cJSON_IsNull(item)))
			continue;
		path_key(&c->path, props[i].name);
		if (check_value(c, props[i].schema, item) != 0) {
			rc = -1;
			goto out;
		}
		c->path.len = mark;
		c->path.data[mark] = '\0';
	}
out:
	free(seen);
	return rc;
}

/*
 * "0.9" where a number belongs, "true" or "false" where a boolean does, as
 * the string's value (v changes type in place). Anything else is left for
 * the type check to refuse.
 */
static void
coerce(cJSON *v, enum jschema_type want)
{
	if (!cJSON_IsString(v) || v->valuestring == NULL || (v->type & cJSON_IsReference))
		return;
	const char *s = v->valuestring;
	if (want == JSCHEMA_BOOLEAN && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
		int b = s[0] == 't';
		free(v->valuestring);
		v->valuestring = NULL;
		v->type = (v->type & ~0xff) | (b ? cJSON_True : cJSON_False);
		v->valueint = b;
		return;
	}
	if (want != JSCHEMA_NUMBER && want != JSCHEMA_INTEGER)
		return;
	char *end;
	double d = strtod(s, &end);
	if (*s == '\0' || isspace((unsigned char)*s) || *end != '\0' || !isfinite(d))
		return;
	free(v->valuestring);
	v->valuestring = NULL;
	v->type = (v->type & ~0xff) | cJSON_Number;
	cJSON_SetNumberValue(v, d);
}

/*
 * What jschema_read forgives, undone before the strict check: keys the
 * schema does not list are dropped (counted in *ignored), numbers and
 * booleans in strings taken. Known keys given twice stay, for the check.
 */
static void
relax(const struct jschema *s, cJSON *v, int *ignored)
{
	coerce(v, s->type);
	if (s->type == JSCHEMA_ARRAY && cJSON_IsArray(v) && s->items != NULL) {
		cJSON *e;
		cJSON_ArrayForEach(e, v) relax(s->items, e, ignored);
	} else if (s->type == JSCHEMA_OBJECT && cJSON_IsObject(v)) {
		for (cJSON *e = v->child, *next; e != NULL; e = next) {
			next = e->next;
			const struct jschema_prop *p = s->props;
			while (p != NULL && p->name != NULL && strcmp(p->name, e->string) != 0)
				p++;
			if (p != NULL && p->name != NULL) {
				relax(p->schema, e, ignored);
				continue;
			}
			/* What servers and models add ("confidence", "reasoning"). */
			cJSON_Delete(cJSON_DetachItemViaPointer(v, e));
			(*ignored)++;
		}
	}
}

static int
check_value(struct checker *c, const struct jschema *s, const cJSON *v)
{
	int ok;
	switch (s->type) {
	case JSCHEMA_OBJECT:
		ok = cJSON_IsObject(v);
		break;
	case JSCHEMA_STRING:
		ok = cJSON_IsString(v) && v->valuestring != NULL;
		break;
	case JSCHEMA_NUMBER:
	case JSCHEMA_INTEGER:
		ok = cJSON_IsNumber(v);
		break;
	case JSCHEMA_BOOLEAN:
		ok = cJSON_IsBool(v);
		break;
	case JSCHEMA_ARRAY:
		ok = cJSON_IsArray(v);
		break;
	default:
		ok = 0;
	}
	if (!ok)
		return fail(c, "expected %s, got %s", type_noun(s->type), jschema_value_noun(v));

	switch (s->type) {
	case JSCHEMA_OBJECT:
		return check_object(c, s, v);
	case JSCHEMA_STRING:
		return check_string(c, s, v);
	case JSCHEMA_NUMBER:
	case JSCHEMA_INTEGER:
		return check_number(c, s, v);
	case JSCHEMA_ARRAY:
		return check_array(c, s, v);
	case JSCHEMA_BOOLEAN:
		break;
	}
	return 0;
}

int
jschema_check(const struct jschema *s, const cJSON *value, char **cause)
{
	struct checker c = {.cause = NULL};
	buf_init(&c.path, 0);
	buf_addc(&c.path, '$');
	int rc = 0;
	if (value == NULL) {
		c.cause = xstrdup("$: no value");
		rc = -1;
	} else {
		rc = check_value(&c, s, value);
	}
	buf_free(&c.path);
	if (cause != NULL)
		*cause = c.cause;
	else
		free(c.cause);
	return rc;
}

int
jschema_read(const struct jschema *s, cJSON *value, int *ignored, char **cause)
{
	int n = 0;
	if (value != NULL)
		relax(s, value, &n);
	if (ignored != NULL)
		*ignored = n;
	return jschema_check(s, value, cause);
}

/* -------------------------------------------------------- bounds as text */

/*
 * The constraints strict mode has no keyword for, in words: "from 0 to
 * 1", "exactly 3 characters", "at most 32 items". Empty when none.
 */
static void
bounds_text(struct buf *b, const struct jschema *s)
{
	char lo[32], hi[32];
	switch (s->type) {
	case JSCHEMA_NUMBER:
	case JSCHEMA_INTEGER:
		number_text(lo, s->minimum);
		number_text(hi, s->maximum);
		if (s->has_minimum && s->has_maximum)
			buf_printf(b, "from %s to %s", lo, hi);
		else if (s->has_minimum)
			buf_printf(b, "at least %s", lo);
		else if (s->has_maximum)
			buf_printf(b, "at most %s", hi);
		break;
	case JSCHEMA_STRING:
		if (s->enum_values != NULL)
			break;
		if (s->max_length != 0 && s->min_length == s->max_length)
			buf_printf(b, "exactly %zu characters", s->max_length);
		else if (s->max_length != 0 && s->min_length > 1)
			buf_printf(b, "%zu to %zu characters", s->min_length, s->max_length);
		else if (s->max_length != 0)
			buf_printf(b, "at most %zu characters", s->max_length);
		else if (s->min_length != 0)
			buf_printf(b, "at least %zu characters", s->min_length);
		break;
	case JSCHEMA_ARRAY:
		if (s->max_items != 0)
			buf_printf(b, "at most %zu items", s->max_items);
		break;
	case JSCHEMA_OBJECT:
	case JSCHEMA_BOOLEAN:
		break;
	}
}

/* ------------------------------------------------------------ JSON Schema */

static const char *const type_keywords[] = {
    [JSCHEMA_OBJECT] = "object",   [JSCHEMA_STRING] = "string",   [JSCHEMA_NUMBER] = "number",
    [JSCHEMA_INTEGER] = "integer", [JSCHEMA_BOOLEAN] = "boolean", [JSCHEMA_ARRAY] = "array",
};

static cJSON *
to_json(const struct jschema *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", type_keywords[s->type]);

	struct buf d;
	buf_init(&d, 0);
	if (s->description != NULL)
		buf_adds(&d, s->description);
	struct buf bounds;
	buf_init(&bounds, 0);
	bounds_text(&bounds, s);
	if (bounds.len > 0)
		buf_printf(&d, d.len ? " (%s)" : "%s", bounds.data);
	buf_free(&bounds);
	if (d.len > 0)
		cJSON_AddStringToObject(o, "description", d.data);
	buf_free(&d);

	switch (s->type) {
	case JSCHEMA_STRING:
		if (s->enum_values != NULL) {
			cJSON *en = cJSON_AddArrayToObject(o, "enum");
			for (size_t i = 0; s->enum_values[i] != NULL; i++)
				cJSON_AddItemToArray(en, cJSON_CreateString(s->enum_values[i]));
		}
		break;
	case JSCHEMA_ARRAY:
		/* Strict mode wants items; an unconstrained one is the empty schema. */
		cJSON_AddItemToObject(o, "items",
		                      s->items ? to_json(s->items) : cJSON_CreateObject());
		break;
	case JSCHEMA_OBJECT: {
		cJSON *props = cJSON_AddObjectToObject(o, "properties");
		cJSON *req = cJSON_AddArrayToObject(o, "required");
		for (const struct jschema_prop *p = s->props; p && p->name; p++) {
			cJSON *sub = to_json(p->schema);
			if (p->optional) {
				cJSON *any = cJSON_CreateObject();
				cJSON *alts = cJSON_AddArrayToObject(any, "anyOf");
				cJSON_AddItemToArray(alts, sub);
				cJSON *null = cJSON_CreateObject();
				cJSON_AddStringToObject(null, "type", "null");
				cJSON_AddItemToArray(alts, null);
				sub = any;
			}
			cJSON_AddItemToObject(props, p->name, sub);
			cJSON_AddItemToArray(req, cJSON_CreateString(p->name));
		}
		cJSON_AddFalseToObject(o, "additionalProperties");
		break;
	}
	case JSCHEMA_NUMBER:
	case JSCHEMA_INTEGER:
	case JSCHEMA_BOOLEAN:
		break;
	}
	return o;
}

cJSON *
jschema_to_json(const struct jschema *s)
{
	return to_json(s);
}

/* ------------------------------------------------------------ description */

static void
indent(struct buf *b, int depth)
{
	for (int i = 0; i < depth; i++)
		buf_adds(b, "  ");
}

static void describe(struct buf *, const struct jschema *, int depth);

static void
describe_object(struct buf *b, const struct jschema *s, int depth)
{
	size_t n = props_count(s->props);
	if (n == 0) {
		buf_adds(b, "{}");
		return;
	}
	buf_adds(b, "{\n");
	for (size_t i = 0; i < n; i++) {
		const struct jschema_prop *p = &s->props[i];
		indent(b, depth + 1);
		buf_json_str(b, p->name);
		buf_adds(b, ": ");
		describe(b, p->schema, depth + 1);
		if (p->optional)
			buf_adds(b, " or null");
		if (i + 1 < n)
			buf_addc(b, ',');
		/* Objects carry their description on their opening line. */
		if (p->schema->description != NULL && p->schema->type != JSCHEMA_OBJECT)
			buf_printf(b, " // %s", p->schema->description);
		buf_addc(b, '\n');
	}
	indent(b, depth);
	buf_addc(b, '}');
}

static void
describe(struct buf *b, const struct jschema *s, int depth)
{
	struct buf bounds;
	buf_init(&bounds, 0);
	bounds_text(&bounds, s);
	switch (s->type) {
	case JSCHEMA_OBJECT:
		if (s->description != NULL && depth > 0) {
			/* "{ // what it is" keeps the comment on the opening line. */
			struct buf inner;
			buf_init(&inner, 0);
			describe_object(&inner, s, depth);
			if (inner.data[1] == '\n')
				buf_printf(b, "{ // %s%s", s->description, inner.data + 1);
			else
				buf_adds(b, inner.data);
			buf_free(&inner);
		} else {
			describe_object(b, s, depth);
		}
		break;
	case JSCHEMA_STRING:
		if (s->enum_values != NULL) {
			for (size_t i = 0; s->enum_values[i] != NULL; i++) {
				if (i > 0)
					buf_adds(b, " | ");
				buf_json_str(b, s->enum_values[i]);
			}
		} else {
			buf_adds(b, "string");
		}
		break;
	case JSCHEMA_NUMBER:
	case JSCHEMA_INTEGER:
		buf_adds(b, type_keywords[s->type]);
		break;
	case JSCHEMA_BOOLEAN:
		buf_adds(b, "true | false");
		break;
	case JSCHEMA_ARRAY:
		buf_addc(b, '[');
		if (s->items != NULL) {
			describe(b, s->items, depth);
			buf_adds(b, ", ...]");
		} else {
			buf_adds(b, "...]");
		}
		break;
	}
	if (bounds.len > 0 && s->type != JSCHEMA_OBJECT)
		buf_printf(b, " (%s)", bounds.data);
	buf_free(&bounds);
}

char *
jschema_describe(const struct jschema *s)
{
	struct buf b;
	buf_init(&b, 0);
	if (s->type == JSCHEMA_OBJECT && s->description != NULL)
		buf_printf(&b, "// %s\n", s->description);
	describe(&b, s, 0);
	return take(&b);
}
