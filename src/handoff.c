/* handoff.c -- the handoff agent: a packet a human reads in 20 seconds. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff.h"

int
handoff_words(const char *text)
{
	int n = 0, in = 0;
	for (const char *p = text; *p; p++) {
		int sp = isspace((unsigned char)*p);
		if (!sp && !in)
			n++;
		in = !sp;
	}
	return n;
}

/*
 * The customer's words with emails and long digit runs (phones, cards)
 * masked: the human has the customer id and the tools for the rest.
 */
static char *
masked(const char *s)
{
	char *m = xstrdup(s);
	size_t n = strlen(m);
	for (size_t i = 0; i < n; i++) {
		if (m[i] == '@') {
			size_t a = i;
			while (a > 0 && !isspace((unsigned char)m[a - 1]))
				a--;
			for (size_t j = a + 1; j < i; j++)
				m[j] = '*';
		}
	}
	for (size_t i = 0; i < n;) {
		size_t j = i, digits = 0;
		while (j < n && (isdigit((unsigned char)m[j]) || m[j] == ' ' || m[j] == '-' ||
		                 m[j] == '(' || m[j] == ')' || m[j] == '+')) {
			digits += isdigit((unsigned char)m[j]) != 0;
			j++;
		}
		if (digits >= 7) {
			size_t keep = 0;
			for (size_t k = j; k > i && keep < 4; k--)
				if (isdigit((unsigned char)m[k - 1])) {
					keep++;
					if (keep == 4) {
						for (size_t q = i; q < k - 1; q++)
							if (isdigit((unsigned char)m[q]))
								m[q] = '*';
					}
				}
		}
		i = j > i ? j : i + 1;
	}
	return m;
}

/* The first max words of s, with "..." when cut; caller frees. */
static char *
words_max(const char *s, int max)
{
	int n = 0, in = 0;
	const char *p = s;
	for (; *p; p++) {
		int sp = isspace((unsigned char)*p);
		if (!sp && !in && ++n > max)
			break;
		in = !sp;
	}
	if (*p == '\0')
		return xstrdup(s);
	char *r = xstrndup(s, (size_t)(p - s));
	str_trim(r);
	char *out = xasprintf("%s ...", r);
	free(r);
	return out;
}

static const struct {
	const char *reason;
	const char *step;
} next_steps[] = {
    {"legal-language-detected", "Do not admit fault or promise outcomes; follow the legal "
                                "escalation process before replying."},
    {"account-security-concern", "Verify the customer's identity, then secure the account: reset "
                                 "the password and sign out every session."},
    {"payment-dispute-over-threshold", "Review the disputed charge and the payment history "
                                       "before replying."},
    {"enterprise-billing-policy", "Bring in the account manager; check the contract's billing "
                                  "terms."},
    {"sentiment-degradation", "Open with an apology that names the problem; resolve it in this "
                              "reply if at all possible."},
    {"max-turns-reached", "Take over: the AI did not resolve this in the turns allowed."},
    {"low-confidence", "Check the answer: the AI was not confident enough to reply."},
    {"low-retrieval-confidence-sensitive-topic", "The knowledge base had no good answer: check "
                                                 "the account directly."},
    {"validation-failed", "The AI's draft broke policy and was not sent: write the reply "
                          "yourself."},
    {"triage-route", "Triage sent the latest message straight to a human queue."},
    {"write-refused", "The customer asked for something the policy does not let the AI do "
                      "(see Tried): decide on it and do it yourself."},
    {"action-requires-human", "The customer asked for something only a person does (see "
                              "Tried): do it, or tell them when it will be done."},
};

/* A model's string (untrusted), masked and cut to max words, or NULL; caller frees. */
static char *
clip(const char *s, int max)
{
	if (s == NULL || *s == '\0')
		return NULL;
	char *m = masked(s), *w = words_max(m, max);
	free(m);
	return w;
}

static char *
judged(const cJSON *j, const char *key, int max)
{
	return clip(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, key)), max);
}

cJSON *
handoff_build(const struct conversation *c, const struct triage_result *t, const char *reason,
              const char *queue)
{
	return handoff_build_judged(c, t, reason, queue, NULL);
}

cJSON *
handoff_build_judged(const struct conversation *c, const struct triage_result *t,
                     const char *reason, const char *queue, const cJSON *judgement)
{
	cJSON *p = cJSON_CreateObject();
	struct buf txt;
	buf_init(&txt, 0);
	cJSON_AddStringToObject(p, "reason", reason);
	cJSON_AddStringToObject(p, "queue", queue);

	cJSON *cust = cJSON_AddObjectToObject(p, "customer");
	cJSON_AddStringToObject(cust, "id", c->customer_id ? c->customer_id : "unknown");
	cJSON_AddStringToObject(cust, "tier", tier_names[c->tier]);
	cJSON_AddNumberToObject(cust, "messages", c->turn);
	buf_printf(&txt, "- Customer: %s, %s tier, %d message%s in this conversation\n",
	           c->customer_id ? c->customer_id : "unknown", tier_names[c->tier], c->turn,
	           c->turn == 1 ? "" : "s");
	char *summary = judged(judgement, "summary", 35);
	if (summary != NULL) {
		cJSON_AddStringToObject(p, "summary", summary);
		buf_printf(&txt, "- Summary: %s\n", summary);
		free(summary);
	}

	/* The issue in the customer's own words: the first message and the latest. */
	cJSON *issue = cJSON_AddArrayToObject(p, "issue");
	for (size_t i = 0; i < c->words.n; i++) {
		if (i != 0 && i != c->words.n - 1)
			continue;
		char *m = masked(c->words.v[i]), *w = words_max(m, 40);
		cJSON_AddItemToArray(issue, cJSON_CreateString(w));
		buf_printf(&txt, "- %s: \"%s\"\n", i == 0 ? "Issue" : "Latest", w);
		free(m);
		free(w);
	}
	buf_printf(&txt, "- Category: %s (triage %.2f), urgency %s\n", category_names[c->category],
	           t->intent_confidence, urgency_names[t->urgency]);

	/* The latest five: what failed last is what the human picks up from. */
	cJSON *tried = cJSON_AddArrayToObject(p, "tried");
	for (size_t i = c->tried.n > 5 ? c->tried.n - 5 : 0; i < c->tried.n; i++) {
		cJSON_AddItemToArray(tried, cJSON_CreateString(c->tried.v[i]));
		buf_printf(&txt, "- Tried: %s\n", c->tried.v[i]);
	}
	if (c->tried.n == 0)
		buf_adds(&txt, "- Tried: nothing yet\n");

	cJSON *kn = cJSON_AddArrayToObject(p, "knowledge");
	for (size_t i = 0; i < c->facts.n && i < 3; i++) {
		/* "id|title|days|stale" */
		char *f = xstrdup(c->facts.v[i]);
		char *id = strtok(f, "|"), *title = strtok(NULL, "|"), *days = strtok(NULL, "|"),
		     *stale = strtok(NULL, "|");
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", id ? id : "");
		cJSON_AddStringToObject(o, "title", title ? title : "");
		cJSON_AddNumberToObject(o, "freshness_days", days ? atoi(days) : 0);
		cJSON_AddBoolToObject(o, "stale", stale && *stale == '1');
		cJSON_AddItemToArray(kn, o);
		buf_printf(&txt, "- Knowledge: %s (%s days%s)\n", id ? id : "", days ? days : "?",
		           stale && *stale == '1' ? ", STALE: verify" : "");
		free(f);
	}

	cJSON *steps = cJSON_AddArrayToObject(p, "next_steps");
	for (size_t i = 0; i < nitems(next_steps); i++)
		if (strcmp(next_steps[i].reason, reason) == 0) {
			cJSON_AddItemToArray(steps, cJSON_CreateString(next_steps[i].step));
			buf_printf(&txt, "- Next: %s\n", next_steps[i].step);
		}
	/* The model's steps come after the policy's, three at most. */
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(judgement, "next_steps"), *e;
	int nj = 0;
	cJSON_ArrayForEach(e, js)
	{
		char *step = nj < 3 ? clip(cJSON_GetStringValue(e), 25) : NULL;
		if (step != NULL) {
			cJSON_AddItemToArray(steps, cJSON_CreateString(step));
			buf_printf(&txt, "- Next: %s\n", step);
			free(step);
			nj++;
		}
	}
	if (c->orders.n > 0) {
		char *s = xasprintf("Look up order %s first.", c->orders.v[c->orders.n - 1]);
		cJSON_AddItemToArray(steps, cJSON_CreateString(s));
		buf_printf(&txt, "- Next: %s\n", s);
		free(s);
	}

	char tone[160];
	snprintf(tone, sizeof tone, "%s (%.2f)%s%s%s", sentiment_names[t->sentiment],
	         t->sentiment_score, t->profanity ? ", profanity" : "",
	         t->has_legal_language ? ", legal language" : "",
	         t->urgency == URG_CRITICAL ? ", critical urgency" : "");
	char *jtone = judged(judgement, "tone", 25);
	if (jtone != NULL) {
		char *both = xasprintf("%s; %s", jtone, tone);
		cJSON_AddStringToObject(p, "tone", both);
		buf_printf(&txt, "- Tone: %s", both);
		free(both);
		free(jtone);
	} else {
		cJSON_AddStringToObject(p, "tone", tone);
		buf_printf(&txt, "- Tone: %s", tone);
	}

	/* At most HANDOFF_MAX_WORDS: drop lines from the end of the middle if needed. */
	while (handoff_words(txt.data) > HANDOFF_MAX_WORDS) {
		char *last = strrchr(txt.data, '\n');
		if (last == NULL)
			break;
		*last = '\0';
		txt.len = (size_t)(last - txt.data);
	}
	cJSON_AddStringToObject(p, "text", txt.data);
	buf_free(&txt);
	return p;
}
