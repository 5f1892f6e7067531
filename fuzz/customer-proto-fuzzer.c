/*
 * customer-proto-fuzzer.c -- the customer protocol (frontline-protocol(7)):
 * a byte stream split into lines, each line decoded both ways. A line that
 * decodes is built again with the cp_new_* builders, encoded, and decoded
 * once more: it must say the same thing (what the console sends is what
 * the customer reads).
 */
#include "config.h"

#include "customer-proto.h"
#include "fuzz.h"

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Its strings are UTF-8 (cp_encode replaces what is not: no round trip to expect). */
static int
utf8_fields(const struct cp_msg *m)
{
	const char *const s[] = {m->customer, m->name, m->text, m->at};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		if (s[i] != NULL && !utf8_valid(s[i], strlen(s[i])))
			return 0;
	return 1;
}

static cJSON *
rebuild(const struct cp_msg *m)
{
	switch (m->type) {
	case CP_HELLO:
		return cp_new_hello(m->customer, m->name, m->tier_given ? &m->tier : NULL);
	case CP_SAY:
		return cp_new_say(m->text);
	case CP_BYE:
		return cp_new_bye();
	case CP_RATE:
		return cp_new_rate(m->score, m->text);
	case CP_WELCOME:
		return cp_new_welcome(m->conversation, m->customer);
	case CP_MESSAGE:
		return cp_new_message(m->role, m->name, m->text, m->at ? m->at : "-");
	case CP_STATE:
		return cp_new_state(m->state);
	case CP_TYPING:
		return cp_new_typing(m->role);
	case CP_ERROR:
		return cp_new_error(m->text);
	case CP_UNKNOWN:
		break;
	}
	return NULL;
}

static void
round_trip(const struct cp_msg *m, enum cp_dir dir)
{
	cJSON *o = rebuild(m);
	if (o == NULL || !utf8_fields(m)) {
		cJSON_Delete(o);
		return;
	}
	struct buf b;
	buf_init(&b, 0);
	if (cp_encode(&b, o) != 0 || b.len == 0 || b.data[b.len - 1] != '\n')
		abort();
	/* one line, safe on a terminal as it is */
	if (memchr(b.data, '\n', b.len - 1) != NULL)
		abort();
	fuzz_assert_inert(b.data, b.len - 1, 0);
	struct cp_msg m2;
	char *cause = NULL;
	if (cp_decode(b.data, b.len - 1, dir, &m2, &cause) != 0)
		abort(); /* what was valid is valid again */
	if (m2.type != m->type || !same(m2.customer, m->customer) || !same(m2.name, m->name) ||
	    !same(m2.text, m->text) || m2.score != m->score || m2.conversation != m->conversation ||
	    (m->type == CP_HELLO && m2.tier != m->tier) ||
	    ((m->type == CP_MESSAGE || m->type == CP_TYPING) && m2.role != m->role) ||
	    (m->type == CP_STATE && m2.state != m->state))
		abort();
	cp_msg_free(&m2);
	cJSON_Delete(o);
	buf_free(&b);
}

static int
on_line(void *arg, const char *line, size_t len)
{
	(void)arg;
	for (int d = 0; d < 2; d++) {
		struct cp_msg m;
		char *cause = NULL;
		if (cp_decode(line, len, (enum cp_dir)d, &m, &cause) == 0) {
			round_trip(&m, (enum cp_dir)d);
			cp_msg_free(&m);
		} else if (cause == NULL)
			abort();
		free(cause);
	}
	int score;
	const char *comment;
	if (cp_rating_parse(line, &score, &comment) == 0 && (score < 1 || score > 5))
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf partial;
	buf_init(&partial, 0);
	/* in two pieces, cut where the first byte says */
	size_t cut = size > 0 ? data[0] % (size + 1) : 0;
	if (cp_lines_feed(&partial, (const char *)data, cut, on_line, NULL) == 0)
		cp_lines_feed(&partial, (const char *)data + cut, size - cut, on_line, NULL);
	buf_free(&partial);
	return 0;
}
