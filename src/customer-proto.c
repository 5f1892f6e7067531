/* customer-proto.c -- the customer protocol: line-delimited JSON between the console and customers.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chars.h"
#include "customer-proto.h"

const char *const cp_role_names[] = {"ai", "human", NULL};
const char *const cp_state_names[] = {"ai", "waiting", "human", "resolved", NULL};

/* The types of each direction; anything else is CP_UNKNOWN there. */
static const struct cp_type_name {
	const char *name;
	enum cp_type type;
	enum cp_dir dir;
} cp_types[] = {
    {"hello", CP_HELLO, CP_TO_CONSOLE},      {"say", CP_SAY, CP_TO_CONSOLE},
    {"bye", CP_BYE, CP_TO_CONSOLE},          {"welcome", CP_WELCOME, CP_TO_CUSTOMER},
    {"message", CP_MESSAGE, CP_TO_CUSTOMER}, {"state", CP_STATE, CP_TO_CUSTOMER},
    {"typing", CP_TYPING, CP_TO_CUSTOMER},   {"error", CP_ERROR, CP_TO_CUSTOMER},
    {"rate", CP_RATE, CP_TO_CONSOLE},
};

/* ------------------------------------------------------------ decoding */

/* Does s hold a C0 or C1 control character or DEL? */
static int
has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return 1;
	return 0;
}

int
cp_id_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CP_MAX_ID)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && strchr("._:@+-", s[i]) == NULL)
			return 0;
	return 1;
}

/*
 * The string field key of o into *out: NULL when absent (an error when
 * required). Returns 0, or -1 with *cause.
 */
static int
field_str(const cJSON *o, const char *key, int required, const char **out, char **cause)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NULL;
	if (v == NULL || cJSON_IsNull(v)) {
		if (required) {
			*cause = xasprintf("\"%s\" is missing", key);
			return -1;
		}
		return 0;
	}
	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		*cause = xasprintf("\"%s\" must be a string", key);
		return -1;
	}
	if (!utf8_valid(v->valuestring, strlen(v->valuestring))) {
		*cause = xasprintf("\"%s\" is not valid UTF-8", key);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

/* A field naming one entry of a table (required); its index in *out. */
static int
field_enum(const cJSON *o, const char *key, const char *const *names, const char *what, int *out,
           char **cause)
{
	const char *s;
	if (field_str(o, key, 1, &s, cause) != 0)
		return -1;
	if ((*out = names_find(names, s)) < 0) {
		struct buf b;
		buf_init(&b, 0);
		for (size_t i = 0; names[i] != NULL; i++)
			buf_printf(&b, "%s%s",
			           i == 0         ? ""
			           : names[i + 1] ? ", "
			                          : " or ",
			           names[i]);
		*cause = xasprintf("unknown %s \"%.40s\" (%s)", what, s, b.data);
		buf_free(&b);
		return -1;
	}
	return 0;
}

int
cp_rating_parse(const char *s, int *score, const char **comment)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '1' || *s > '5' || (s[1] != '\0' && s[1] != ' ' && s[1] != '\t'))
		return -1;
	*score = *s - '0';
	s++;
	while (*s == ' ' || *s == '\t')
		s++;
	*comment = *s != '\0' ? s : NULL;
	return 0;
}

int
cp_name_valid(const char *s)
{
	size_t n = strlen(s);
	return n <= CP_MAX_NAME && utf8_valid(s, n) && !has_control(s);
}

static int
decode_hello(const cJSON *o, struct cp_msg *m, char **cause)
{
	const char *tier;
	if (field_str(o, "customer", 0, &m->customer, cause) != 0 ||
	    field_str(o, "name", 0, &m->name, cause) != 0 ||
	    field_str(o, "tier", 0, &tier, cause) != 0)
		return -1;
	if (m->customer != NULL && !cp_id_valid(m->customer)) {
		*cause =
		    xasprintf("\"customer\" must be 1 to %d letters, digits or ._:@+-", CP_MAX_ID);
		return -1;
	}
	if (m->name != NULL && !cp_name_valid(m->name)) {
		*cause = xasprintf("\"name\" must be at most %d bytes, without control characters",
		                   CP_MAX_NAME);
		return -1;
	}
	if (m->name != NULL && *m->name == '\0')
		m->name = NULL;
	m->tier = TIER_STANDARD;
	if (tier != NULL) {
		int t;
		if (field_enum(o, "tier", tier_names, "tier", &t, cause) != 0)
			return -1;
		m->tier = (enum tier)t;
		m->tier_given = 1;
	}
	return 0;
}

static int
decode_say(const cJSON *o, struct cp_msg *m, char **cause)
{
	if (field_str(o, "text", 1, &m->text, cause) != 0)
		return -1;
	size_t n = strlen(m->text);
	if (n > CP_MAX_TEXT) {
		*cause = xasprintf("\"text\" is too long (%zu bytes; at most %d)", n, CP_MAX_TEXT);
		return -1;
	}
	const char *p = m->text;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p == '\0') {
		*cause = xstrdup("\"text\" is empty");
		return -1;
	}
	return 0;
}

static int
decode_rate(const cJSON *o, struct cp_msg *m, char **cause)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "score");
	if (!cJSON_IsNumber(v) || floor(v->valuedouble) != v->valuedouble || v->valuedouble < 1 ||
	    v->valuedouble > 5) {
		*cause = xstrdup("\"score\" must be an integer from 1 to 5");
		return -1;
	}
	m->score = (int)v->valuedouble;
	if (field_str(o, "comment", 0, &m->text, cause) != 0)
		return -1;
	if (m->text == NULL)
		return 0;
	size_t n = strlen(m->text);
	if (n > CP_MAX_COMMENT) {
		*cause =
		    xasprintf("\"comment\" is too long (%zu bytes; at most %d)", n, CP_MAX_COMMENT);
		return -1;
	}
	const char *p = m->text;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p == '\0')
		m->text = NULL;
	return 0;
}

static int
decode_welcome(const cJSON *o, struct cp_msg *m, char **cause)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "conversation");
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
	    floor(v->valuedouble) != v->valuedouble) {
		*cause = xstrdup("\"conversation\" must be a non-negative integer");
		return -1;
	}
	m->conversation = (int64_t)v->valuedouble;
	return field_str(o, "customer", 0, &m->customer, cause);
}

static int
decode_message(const cJSON *o, struct cp_msg *m, char **cause)
{
	int role;
	if (field_enum(o, "role", cp_role_names, "role", &role, cause) != 0 ||
	    field_str(o, "text", 1, &m->text, cause) != 0 ||
	    field_str(o, "name", 0, &m->name, cause) != 0 || field_str(o, "at", 0, &m->at, cause))
		return -1;
	m->role = (enum cp_role)role;
	return 0;
}

int
cp_decode(const char *line, size_t len, enum cp_dir dir, struct cp_msg *m, char **cause)
{
	memset(m, 0, sizeof *m);
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts(line, len, &end, 0);
	if (o == NULL) {
		*cause =
		    xasprintf("invalid JSON at byte %zu",
		              end != NULL && end >= line ? (size_t)(end - line) + 1 : (size_t)1);
		return -1;
	}
	/* Only white space may follow the object. */
	while (end != NULL && (size_t)(end - line) < len && (*end == ' ' || *end == '\t'))
		end++;
	if (end == NULL || (size_t)(end - line) != len) {
		cJSON_Delete(o);
		*cause = xstrdup("invalid JSON: text after the object");
		return -1;
	}
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		*cause = xstrdup("a message must be a JSON object");
		return -1;
	}
	m->json = o;
	const char *type;
	if (field_str(o, "type", 1, &type, cause) != 0)
		goto fail;
	m->type = CP_UNKNOWN;
	for (size_t i = 0; i < nitems(cp_types); i++)
		if (cp_types[i].dir == dir && strcmp(cp_types[i].name, type) == 0)
			m->type = cp_types[i].type;

	int rc = 0, v;
	switch (m->type) {
	case CP_HELLO:
		rc = decode_hello(o, m, cause);
		break;
	case CP_SAY:
		rc = decode_say(o, m, cause);
		break;
	case CP_WELCOME:
		rc = decode_welcome(o, m, cause);
		break;
	case CP_MESSAGE:
		rc = decode_message(o, m, cause);
		break;
	case CP_STATE:
		rc = field_enum(o, "state", cp_state_names, "state", &v, cause);
		m->state = (enum cp_state)v;
		break;
	case CP_TYPING:
		rc = field_enum(o, "who", cp_role_names, "typing role", &v, cause);
		m->role = (enum cp_role)v;
		break;
	case CP_ERROR:
		rc = field_str(o, "message", 1, &m->text, cause);
		break;
	case CP_RATE:
		rc = decode_rate(o, m, cause);
		break;
	case CP_BYE:
	case CP_UNKNOWN:
		break;
	}
	if (rc == 0)
		return 0;
fail : {
	/* Say which message was wrong: "hello: ..." */
	char *c =
	    xasprintf("%s: %s", type != NULL && m->type != CP_UNKNOWN ? type : "message", *cause);
	free(*cause);
	*cause = c;
}
	cp_msg_free(m);
	return -1;
}

void
cp_msg_free(struct cp_msg *m)
{
	cJSON_Delete(m->json);
	memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ building */

static cJSON *
new_typed(const char *type)
{
	cJSON *o = cJSON_CreateObject();
	if (o == NULL || cJSON_AddStringToObject(o, "type", type) == NULL)
		abort(); /* out of memory, like xmalloc */
	return o;
}

/* Adds a string member; like xmalloc, running out of memory aborts. */
static void
add_str(cJSON *o, const char *key, const char *value)
{
	if (cJSON_AddStringToObject(o, key, value) == NULL)
		abort();
}

cJSON *
cp_new_hello(const char *customer, const char *name, const enum tier *tier)
{
	cJSON *o = new_typed("hello");
	if (customer != NULL)
		add_str(o, "customer", customer);
	if (name != NULL)
		add_str(o, "name", name);
	if (tier != NULL)
		add_str(o, "tier", tier_names[*tier]);
	return o;
}

cJSON *
cp_new_say(const char *text)
{
	cJSON *o = new_typed("say");
	add_str(o, "text", text);
	return o;
}

cJSON *
cp_new_bye(void)
{
	return new_typed("bye");
}

cJSON *
cp_new_rate(int score, const char *comment)
{
	cJSON *o = new_typed("rate");
	if (cJSON_AddNumberToObject(o, "score", score) == NULL)
		abort();
	if (comment != NULL)
		add_str(o, "comment", comment);
	return o;
}

cJSON *
cp_new_welcome(int64_t conversation, const char *customer)
{
	cJSON *o = new_typed("welcome");
	if (cJSON_AddNumberToObject(o, "conversation", (double)conversation) == NULL)
		abort();
	if (customer != NULL)
		add_str(o, "customer", customer);
	return o;
}

cJSON *
cp_new_message(enum cp_role role, const char *name, const char *text, const char *at)
{
	char now[32];
	if (at == NULL) {
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
		at = now;
	}
	cJSON *o = new_typed("message");
	add_str(o, "role", cp_role_names[role]);
	if (name != NULL)
		add_str(o, "name", name);
	add_str(o, "text", text);
	add_str(o, "at", at);
	return o;
}

cJSON *
cp_new_state(enum cp_state state)
{
	cJSON *o = new_typed("state");
	add_str(o, "state", cp_state_names[state]);
	return o;
}

cJSON *
cp_new_typing(enum cp_role who)
{
	cJSON *o = new_typed("typing");
	add_str(o, "who", cp_role_names[who]);
	return o;
}

cJSON *
cp_new_error(const char *message)
{
	cJSON *o = new_typed("error");
	add_str(o, "message", message);
	return o;
}

/* ------------------------------------------------------------ encoding */

/*
 * A JSON string literal safe for a terminal: valid UTF-8, every control
 * character escaped, C1, the line and paragraph separators and the
 * bidirectional controls included.
 */
static int
put_str(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	int rc = buf_addc(b, '"');
	while (n > 0 && rc == 0) {
		unsigned char c = *p;
		size_t l = utf8_seq_len(p, n);
		char e[8];
		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			rc = buf_add(b, e, 2);
		} else if (c == '\n')
			rc = buf_adds(b, "\\n");
		else if (c == '\t')
			rc = buf_adds(b, "\\t");
		else if (c < 0x20 || c == 0x7f) {
			snprintf(e, sizeof e, "\\u%04x", c);
			rc = buf_adds(b, e);
		} else if (l == 0) {
			rc = buf_adds(b, "\\ufffd");
			l = 1;
		} else if (l == 2 && c == 0xc2 && p[1] <= 0x9f) {
			snprintf(e, sizeof e, "\\u%04x", p[1]); /* C1: U+0080..U+009F */
			rc = buf_adds(b, e);
		} else if (l == 3 && c == 0xe2 &&
		           ((p[1] == 0x80 && p[2] >= 0xa8 && p[2] <= 0xae) ||
		            (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9))) {
			/* U+2028..U+202E, U+2066..U+2069: separators, bidi controls */
			snprintf(e, sizeof e, "\\u%04x",
			         0x2000 + ((p[1] & 0x3f) << 6) + (p[2] & 0x3f));
			rc = buf_adds(b, e);
		} else
			rc = buf_add(b, p, l);
		p += l;
		n -= l;
	}
	return rc == 0 ? buf_addc(b, '"') : rc;
}

static int
put_value(struct buf *b, const cJSON *v)
{
	const cJSON *c;
	int rc = 0, first = 1;
	if (cJSON_IsString(v))
		return put_str(b, v->valuestring ? v->valuestring : "");
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (!isfinite(d))
			return buf_adds(b, "null");
		if (floor(d) == d && fabs(d) < 9007199254740992.0)
			return buf_printf(b, "%lld", (long long)d);
		return buf_printf(b, "%.17g", d);
	}
	if (cJSON_IsTrue(v))
		return buf_adds(b, "true");
	if (cJSON_IsFalse(v))
		return buf_adds(b, "false");
	if (cJSON_IsArray(v)) {
		rc = buf_addc(b, '[');
		cJSON_ArrayForEach(c, v)
		{
			if (rc == 0 && !first)
				rc = buf_addc(b, ',');
			if (rc == 0)
				rc = put_value(b, c);
			first = 0;
		}
		return rc == 0 ? buf_addc(b, ']') : rc;
	}
	if (cJSON_IsObject(v)) {
		rc = buf_addc(b, '{');
		cJSON_ArrayForEach(c, v)
		{
			if (rc == 0 && !first)
				rc = buf_addc(b, ',');
			if (rc == 0)
				rc = put_str(b, c->string ? c->string : "");
			if (rc == 0)
				rc = buf_addc(b, ':');
			if (rc == 0)
				rc = put_value(b, c);
			first = 0;
		}
		return rc == 0 ? buf_addc(b, '}') : rc;
	}
	return buf_adds(b, "null"); /* null, and raw values */
}

int
cp_encode(struct buf *b, const cJSON *msg)
{
	size_t mark = b->len;
	if (put_value(b, msg) == 0 && buf_addc(b, '\n') == 0)
		return 0;
	b->len = mark;
	if (b->data != NULL)
		b->data[mark] = '\0';
	return -1;
}

/* ------------------------------------------------------------ framing */

int
cp_lines_feed(struct buf *partial, const char *data, size_t len,
              int (*fn)(void *arg, const char *line, size_t len), void *arg)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl != NULL ? (size_t)(nl - data) : len;
		size_t total = partial->len + take;
		char last = take > 0           ? data[take - 1]
		            : partial->len > 0 ? partial->data[partial->len - 1]
		                               : '\0';
		/* A line's "\r\n" does not count: a last "\r" may be the start of one. */
		if (total - (last == '\r') > CP_MAX_LINE || buf_add(partial, data, take) != 0) {
			buf_reset(partial);
			return -1;
		}
		if (nl == NULL)
			return 0;
		size_t n = partial->len - (last == '\r');
		partial->data[n] = '\0';
		int stop = fn(arg, partial->data, n);
		buf_reset(partial);
		if (stop)
			return 1;
		data += take + 1;
		len -= take + 1;
	}
	return 0;
}
