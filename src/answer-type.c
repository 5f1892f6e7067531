/* answer-type.c -- the kind of value a question asks for, and the kinds a text holds. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "answer-type.h"
#include "chars.h"
#include "tokens.h"
#include "util.h"

/* Words after "what" or "which" that name the value asked for ("what email", "which hours"). */
static const struct {
	const char *word;
	unsigned types;
} nouns[] = {
    {"email", ANSWER_EMAIL},  {"emails", ANSWER_EMAIL}, {"mail", ANSWER_EMAIL},
    {"phone", ANSWER_PHONE},  {"number", ANSWER_PHONE}, {"time", ANSWER_TIME},
    {"times", ANSWER_TIME},   {"hours", ANSWER_TIME},   {"price", ANSWER_PRICE},
    {"prices", ANSWER_PRICE}, {"cost", ANSWER_PRICE},   {"date", ANSWER_DATE},
};

/* Units that make a number a duration ("30 days", "2 business days"). */
static const char *const units[] = {"second", "minute", "hour", "day", "week", "month", "year"};
static const char *const months[] = {"january",   "february", "march",    "april",
                                     "may",       "june",     "july",     "august",
                                     "september", "october",  "november", "december"};
static const char *const weekdays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                       "friday", "saturday", "sunday"};

/* How far after "what" a noun still names what is asked ("what is your support email"). */
#define NOUN_REACH 4

struct words {
	char *low;
	struct token *w;
	size_t n;
};

static void
words_split(const char *text, struct words *ws)
{
	size_t len = strlen(text);
	ws->low = xmalloc(len + 1);
	ws->w = xmalloc((len / 2 + 1) * sizeof *ws->w);
	ws->n = tokens_split((const unsigned char *)text, len, ws->low, ws->w);
}

static void
words_free(struct words *ws)
{
	free(ws->low);
	free(ws->w);
}

/* Is word i (0-based) of ws exactly s? */
static int
word_is(const struct words *ws, size_t i, const char *s)
{
	return i < ws->n && ws->w[i].len == strlen(s) &&
	       memcmp(ws->low + ws->w[i].off, s, ws->w[i].len) == 0;
}

/* Does word i start with s (a unit with its plural: "day", "days")? */
static int
word_starts(const struct words *ws, size_t i, const char *s, size_t extra)
{
	size_t n = strlen(s);
	return i < ws->n && ws->w[i].len >= n && ws->w[i].len <= n + extra &&
	       memcmp(ws->low + ws->w[i].off, s, n) == 0;
}

static int
word_in(const struct words *ws, size_t i, const char *const *set, size_t nset)
{
	for (size_t k = 0; k < nset; k++)
		if (word_is(ws, i, set[k]))
			return 1;
	return 0;
}

static int
word_number(const struct words *ws, size_t i)
{
	if (i >= ws->n)
		return 0;
	for (size_t k = 0; k < ws->w[i].len; k++)
		if (!is_digit(ws->low[ws->w[i].off + k]))
			return 0;
	return 1;
}

unsigned
answer_asked(const char *question)
{
	return answer_asked_cue(question, NULL);
}

unsigned
answer_asked_cue(const char *question, struct strv *cue)
{
	struct words ws;
	unsigned types = 0;
	words_split(question, &ws);
	for (size_t i = 0; i < ws.n; i++) {
		if (word_is(&ws, i, "when"))
			types |= ANSWER_DATE | ANSWER_TIME | ANSWER_DURATION;
		else if (word_is(&ws, i, "how")) {
			unsigned t = 0;
			if (word_is(&ws, i + 1, "long") || word_is(&ws, i + 1, "soon"))
				t = ANSWER_DURATION;
			else if (word_is(&ws, i + 1, "much"))
				t = ANSWER_PRICE;
			else if (word_is(&ws, i + 1, "many"))
				for (size_t u = 0; u < nitems(units); u++)
					if (word_starts(&ws, i + 2, units[u], 1))
						t = ANSWER_DURATION;
			if (t != 0 && cue != NULL)
				strv_take(cue, xstrndup(ws.low + ws.w[i + 1].off, ws.w[i + 1].len));
			types |= t;
		} else if (word_is(&ws, i, "what") || word_is(&ws, i, "whats") ||
		           word_is(&ws, i, "which")) {
			for (size_t j = i + 1; j < ws.n && j <= i + NOUN_REACH && !ws.w[j].hard;
			     j++)
				for (size_t k = 0; k < nitems(nouns); k++)
					if (word_is(&ws, j, nouns[k].word))
						types |= nouns[k].types;
		}
	}
	words_free(&ws);
	return types;
}

/* An e-mail address: a word, '@', then a domain with a dot. */
static int
has_email(const char *s)
{
	for (const char *at = strchr(s, '@'); at != NULL; at = strchr(at + 1, '@')) {
		if (at == s || !is_alnum(at[-1]))
			continue;
		const char *p = at + 1;
		while (is_alnum(*p) || *p == '-' || *p == '.')
			p++;
		const char *dot = memchr(at + 1, '.', (size_t)(p - at - 1));
		if (dot != NULL && dot > at + 1 && dot + 1 < p)
			return 1;
	}
	return 0;
}

static int
phone_sep(int c)
{
	return c == '-' || c == '.' || c == '(' || c == ')' || c == ' ';
}

/* A telephone number: ten or more digits in one run of digits and separators ("(555) 010-4477"). */
static int
has_phone(const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		if (!is_digit(*p) || (p > s && (is_digit(p[-1]) || p[-1] == '$' || p[-1] == '.')))
			continue;
		int digits = 0;
		for (const char *q = p;;) {
			while (is_digit(*q)) {
				digits++;
				q++;
			}
			/* At most two separators between groups: ") ", " - " is three. */
			size_t n = 0;
			while (n < 2 && phone_sep(q[n]))
				n++;
			if (n == 0 || !is_digit(q[n]))
				break;
			q += n;
		}
		if (digits >= 10)
			return 1;
	}
	return 0;
}

unsigned
answer_held(const char *text)
{
	unsigned types = 0;
	if (has_email(text))
		types |= ANSWER_EMAIL;
	if (has_phone(text))
		types |= ANSWER_PHONE;
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '$' && is_digit(p[1]))
			types |= ANSWER_PRICE;
		if (*p == ':' && p > text && is_digit(p[-1]) && is_digit(p[1]) && is_digit(p[2]))
			types |= ANSWER_TIME;
	}
	struct words ws;
	words_split(text, &ws);
	for (size_t i = 0; i < ws.n; i++) {
		if (word_number(&ws, i)) {
			/* "5-10 business days", "30-day window", "within 1 hour" */
			size_t u = i + 1;
			if (word_number(&ws, u))
				u++;
			if (word_is(&ws, u, "business") || word_is(&ws, u, "calendar"))
				u++;
			for (size_t k = 0; k < nitems(units); k++)
				if (word_starts(&ws, u, units[k], 1))
					types |= ANSWER_DURATION;
			if (word_is(&ws, i + 1, "am") || word_is(&ws, i + 1, "pm"))
				types |= ANSWER_TIME;
		} else if (ws.w[i].len > 2 && is_digit(ws.low[ws.w[i].off])) {
			/* "10am", "8pm" */
			const char *end = ws.low + ws.w[i].off + ws.w[i].len - 2;
			int digits = 1;
			for (const char *d = ws.low + ws.w[i].off; d < end; d++)
				digits &= is_digit(*d);
			if (digits && (memcmp(end, "am", 2) == 0 || memcmp(end, "pm", 2) == 0))
				types |= ANSWER_TIME;
		}
		if ((word_in(&ws, i, months, nitems(months)) && word_number(&ws, i + 1)) ||
		    word_in(&ws, i, weekdays, nitems(weekdays)))
			types |= ANSWER_DATE;
	}
	words_free(&ws);
	return types;
}
