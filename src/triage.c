/* triage.c -- the triage agent (playbook role 1) on the offline engine. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "classifier.h"
#include "prefilter.h"
#include "sentiment.h"
#include "triage.h"
#include "urgency.h"

/* Longest text analysed; the rest of a huge message adds nothing. */
#define TRIAGE_MAX_TEXT 65536

struct triage {
	struct classifier *cls;
	int cat_class[CAT__N]; /* the classifier's class for each category */
	int oos_class;         /* "not a support request", or -1 */
	struct sentiment_lexicon *sent;
	struct urgency_rules *urg;
	struct dialogue_rules *dlg;
	struct entity_rules *ent;
	char *catalog;
	const struct policy *policy;
	/* Literals one of which a match of a legal pattern holds: most texts need no more. */
	struct prefilter legal_filter;
};

/*
 * Phrases that refer to earlier, unresolved contact. Matched as whole
 * words in the lower-cased message.
 */
static const char *const prior_contact[] = {
    "second time",
    "third time",
    "fourth time",
    "fifth time",
    "again and again",
    "yet again",
    "still not fixed",
    "still broken",
    "still not working",
    "still not resolved",
    "still doesn't work",
    "still isn't working",
    "still not sorted",
    "still no response",
    "still no reply",
    "still waiting for a reply",
    "still waiting for a response",
    "still having the same",
    "same problem again",
    "not fixed yet",
    "already contacted",
    "already called",
    "already emailed",
    "already told",
    "already tried",
    "already reported",
    "last time i",
    "keeps happening",
    "how many times",
    "multiple times",
    "several times",
    "no one has",
    "nobody has",
    "ticket number",
    "case number",
    "reference number",
    "previous ticket",
    "previous case",
    "my last ticket",
    "open ticket",
    "i wrote before",
    "i've written",
    "i have written",
    "i've contacted",
    "i contacted you",
    "told you before",
    "as i said before",
};

/* Phrases that join separate requests in one message. */
static const char *const multi_issue[] = {
    "also",           "another issue",  "another problem", "another question",
    "second issue",   "second problem", "two issues",      "two problems",
    "two things",     "a few things",   "several issues",  "couple of issues",
    "on top of that", "in addition",    "additionally",    "as well as",
    "and also",       "plus",           "separately",      "unrelated",
};

/*
 * A 256-bit set of the words in a text, by hash: a phrase is looked for
 * only when its first word may be there, which skips almost every search.
 */
struct wordset {
	uint64_t bits[4];
};

static unsigned
word_bit(const char *w, size_t n)
{
	return (unsigned)(hash_fnv1a(w, n) & 255);
}

static int
is_word_byte(unsigned char c)
{
	return isalnum(c) || c == '\'' || c >= 0x80;
}

static void
wordset_of(const char *lower, struct wordset *ws)
{
	memset(ws, 0, sizeof *ws);
	for (const char *p = lower; *p != '\0';) {
		while (*p != '\0' && !is_word_byte((unsigned char)*p))
			p++;
		const char *b = p;
		while (is_word_byte((unsigned char)*p))
			p++;
		if (p > b) {
			unsigned bit = word_bit(b, (size_t)(p - b));
			ws->bits[bit >> 6] |= 1ULL << (bit & 63);
		}
	}
}

static int
wordset_may_have(const struct wordset *ws, const char *phrase)
{
	size_t n = strcspn(phrase, " ");
	unsigned bit = word_bit(phrase, n);
	return (ws->bits[bit >> 6] >> (bit & 63)) & 1;
}

/* Does the lower-cased text hold phrase as whole words? */
static int
has_phrase(const char *text, const char *phrase)
{
	size_t n = strlen(phrase);
	for (const char *p = strstr(text, phrase); p != NULL; p = strstr(p + 1, phrase)) {
		int left = p == text || !isalnum((unsigned char)p[-1]);
		int right = !isalnum((unsigned char)p[n]);
		if (left && right)
			return 1;
	}
	return 0;
}

static int
any_phrase(const char *text, const struct wordset *ws, const char *const *phrases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (wordset_may_have(ws, phrases[i]) && has_phrase(text, phrases[i]))
			return 1;
	return 0;
}

/* "ticket #4521", "case 88812", "ref: 12345": a reference to an earlier ticket. */
static int
has_ticket_ref(const char *text)
{
	static const char *const words[] = {"ticket", "case", "ref", "reference", "incident"};
	for (size_t i = 0; i < nitems(words); i++) {
		for (const char *p = strstr(text, words[i]); p != NULL;
		     p = strstr(p + 1, words[i])) {
			if (p != text && isalnum((unsigned char)p[-1]))
				continue;
			const char *q = p + strlen(words[i]);
			while (*q == ' ' || *q == '#' || *q == ':' || *q == '.' || *q == 'n' ||
			       *q == 'o')
				q++;
			int digits = 0;
			while (isdigit((unsigned char)q[digits]))
				digits++;
			if (digits >= 3)
				return 1;
		}
	}
	return 0;
}

int
triage_set_policy(struct triage *t, const struct policy *p, char **cause)
{
	struct entity_rules *ent =
	    entity_rules_new(p->order_number_re, p->account_id_re, t->catalog, cause);
	if (ent == NULL)
		return -1;
	prefilter_free(&t->legal_filter);
	prefilter_init(&t->legal_filter, &p->esc.legal.src);
	entity_rules_free(t->ent);
	t->ent = ent;
	t->policy = p;
	return 0;
}

struct triage *
triage_open(const char *model, const char *data_dir, const char *catalog, const struct policy *p,
            char **cause, int *ex)
{
	struct triage *t = xcalloc(1, sizeof *t);
	struct stat st;
	char *path;

	t->cls = classifier_load(model, cause);
	if (t->cls == NULL) {
		*ex = errno == ENOENT ? EX_NOINPUT : EX_DATAERR;
		goto fail;
	}
	for (int c = 0; c < CAT__N; c++)
		if ((t->cat_class[c] = classifier_find(t->cls, category_names[c])) < 0) {
			*cause =
			    xasprintf("%s: the model has no class '%s'", model, category_names[c]);
			*ex = EX_DATAERR;
			goto fail;
		}
	t->oos_class = classifier_find(t->cls, "out_of_scope");

	if (stat(data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		*cause = xasprintf("%s: %s", data_dir, strerror(errno ? errno : ENOTDIR));
		*ex = EX_NOINPUT;
		goto fail;
	}
	t->sent = sentiment_load(data_dir, cause);
	if (t->sent == NULL) {
		*ex = EX_DATAERR;
		goto fail;
	}
	path = xasprintf("%s/urgency.rules", data_dir);
	t->urg = urgency_load(path, cause);
	free(path);
	if (t->urg == NULL) {
		*ex = EX_DATAERR;
		goto fail;
	}
	path = xasprintf("%s/dialogue.rules", data_dir);
	t->dlg = dialogue_load(path, cause);
	free(path);
	if (t->dlg == NULL) {
		*ex = EX_DATAERR;
		goto fail;
	}
	t->catalog = catalog ? xstrdup(catalog) : NULL;
	if (triage_set_policy(t, p, cause) != 0) {
		*ex = EX_CONFIG;
		goto fail;
	}
	return t;
fail:
	triage_close(t);
	return NULL;
}

void
triage_close(struct triage *t)
{
	if (t == NULL)
		return;
	classifier_free(t->cls);
	sentiment_free(t->sent);
	urgency_free(t->urg);
	dialogue_free(t->dlg);
	entity_rules_free(t->ent);
	prefilter_free(&t->legal_filter);
	free(t->catalog);
	free(t);
}

void
triage_result_free(struct triage_result *r)
{
	entities_free(&r->entities);
}

/* What the intent model says of a text. */
struct intent_read {
	enum category cat;
	double confidence;
	double second;   /* the runner-up category's probability */
	enum category runner_up; /* the next most likely category but cat */
	double runner_up_confidence;
	int not_support; /* the best class is "not a support request" */
	double out_of_scope; /* P(not a support request) */
};

/*
 * The category of text under model cls, whose class for each category is
 * cat_class[] and for "not a support request" oos (-1: none).
 */
static void
intent(const struct classifier *cls, const int *cat_class, int oos, const char *text, size_t len,
       struct intent_read *r)
{
	double p[CLS_MAX];
	int best = classifier_predict(cls, text, len, p);
	double top = -1, second = -1;
	int cat = CAT_GENERAL;
	for (int c = 0; c < CAT__N; c++) {
		double q = p[cat_class[c]];
		if (q > top) {
			second = top;
			top = q;
			cat = c;
		} else if (q > second)
			second = q;
	}
	r->not_support = best == oos;
	if (r->not_support) {
		/* Not a support request: general, as unlikely as the model says. */
		cat = CAT_GENERAL;
		top = p[cat_class[CAT_GENERAL]];
	}
	r->cat = (enum category)cat;
	r->confidence = top;
	r->second = second;
	r->out_of_scope = oos >= 0 ? p[oos] : 0;
	/* The runner-up to the category given, which out of scope may have moved. */
	r->runner_up = CAT_GENERAL;
	double ru = -1;
	for (int c = 0; c < CAT__N; c++)
		if (c != cat && p[cat_class[c]] > ru) {
			r->runner_up = (enum category)c;
			ru = p[cat_class[c]];
		}
	r->runner_up_confidence = ru;
}

int
triage_intent(const struct classifier *cls, const char *text, size_t len, enum category *cat,
              double *confidence)
{
	int cat_class[CAT__N];
	for (int c = 0; c < CAT__N; c++)
		if ((cat_class[c] = classifier_find(cls, category_names[c])) < 0)
			return -1;
	struct intent_read r;
	intent(cls, cat_class, classifier_find(cls, "out_of_scope"), text, len, &r);
	*cat = r.cat;
	*confidence = r.confidence;
	return 0;
}

const struct classifier *
triage_classifier(const struct triage *t)
{
	return t->cls;
}

void
triage_run(const struct triage *t, const char *text, size_t len, enum tier tier,
           struct triage_result *out)
{
	char sbuf[2048], lbuf[2048];
	size_t n = len > TRIAGE_MAX_TEXT ? TRIAGE_MAX_TEXT : len;
	char *s = n < sizeof sbuf ? sbuf : xmalloc(n + 1);
	char *lower = n < sizeof lbuf ? lbuf : xmalloc(n + 1);
	int words = 0;

	/* Control characters and NULs read as spaces. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		s[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
		lower[i] = (char)tolower((unsigned char)s[i]);
		words |= isalnum(c) || c >= 0x80;
	}
	s[n] = lower[n] = '\0';

	memset(out, 0, sizeof *out);

	struct intent_read ir;
	intent(t->cls, t->cat_class, t->oos_class, s, n, &ir);
	out->intent_category = ir.cat;
	out->intent_confidence = ir.confidence;
	out->out_of_scope = ir.out_of_scope;
	out->not_support = ir.not_support;
	out->runner_up = ir.runner_up;
	out->runner_up_confidence = ir.runner_up_confidence;
	dialogue_read(t->dlg, s, &out->dialogue);

	/* Sentiment, urgency, entities. */
	struct sentiment_result sr;
	sentiment_analyze(t->sent, s, n, &sr);
	out->sentiment = sr.label;
	out->sentiment_score = sr.compound;
	out->profanity = sr.profanity;
	out->urgency = urgency_classify(t->urg, s, &out->urgency_rule);
	entities_extract(t->ent, s, &out->entities);

	/* Complexity: flagged early so no turns are spent on a lost cause. */
	if (t->policy->esc.legal.src.n > 0 && prefilter_may_match(&t->legal_filter, lower, n))
		out->has_legal_language = patset_match(&t->policy->esc.legal, s) >= 0;
	unsigned r = 0;
	if (out->has_legal_language)
		r |= CPLX_LEGAL;
	struct wordset ws;
	wordset_of(lower, &ws);
	if (any_phrase(lower, &ws, prior_contact, nitems(prior_contact)) || has_ticket_ref(lower))
		r |= CPLX_PRIOR_CONTACT;
	int questions = 0;
	for (size_t i = 0; i < n; i++)
		questions += s[i] == '?';
	if (!ir.not_support &&
	    ((ir.second >= 0.15 && any_phrase(lower, &ws, multi_issue, nitems(multi_issue))) ||
	     (ir.second >= 0.25 && questions >= 2)))
		r |= CPLX_MULTI_ISSUE;
	if (sr.compound <= -0.6 || sr.profanity > 0 || (sr.intensity >= 2 && sr.compound < -0.05))
		r |= CPLX_EMOTIONAL;
	out->complexity_reasons = r;
	int nr = __builtin_popcount(r);
	if (!words)
		out->complexity_signal = CPLX_UNKNOWN;
	else if ((r & (CPLX_LEGAL | CPLX_PRIOR_CONTACT)) || nr >= 2)
		out->complexity_signal = CPLX_COMPLEX;
	else if (nr == 1)
		out->complexity_signal = CPLX_MODERATE;
	else
		out->complexity_signal = CPLX_SIMPLE;

	out->route = policy_route(t->policy, out->intent_category, out->urgency, out->sentiment,
	                          out->complexity_signal, tier, out->has_legal_language);

	if (s != sbuf)
		free(s);
	if (lower != lbuf)
		free(lower);
}

static const char *const reason_names[] = {"multi_issue", "prior_contact", "legal_language",
                                           "emotional_intensity"};

/* Appends a number in [-1, 1] with three decimals, without printf (hot path). */
static void
json_fixed3(struct buf *b, double v)
{
	char out[8];
	size_t n = 0;
	long m = lround(v * 1000);
	if (m < 0) {
		out[n++] = '-';
		m = -m;
	}
	if (m > 999999)
		m = 999999;
	long whole = m / 1000, frac = m % 1000;
	char w[8];
	int wn = 0;
	do {
		w[wn++] = (char)('0' + whole % 10);
		whole /= 10;
	} while (whole > 0 && wn < 7);
	while (wn > 0)
		out[n++] = w[--wn];
	out[n++] = '.';
	out[n++] = (char)('0' + frac / 100);
	out[n++] = (char)('0' + frac / 10 % 10);
	buf_add(b, out, n);
	buf_addc(b, (char)('0' + frac % 10));
}

static void
json_key(struct buf *b, const char *key, const char *value)
{
	buf_adds(b, key);
	buf_addc(b, '"');
	buf_adds(b, value);
	buf_addc(b, '"');
}

static void
json_strv(struct buf *b, const char *key, const struct strv *sv)
{
	buf_adds(b, key);
	buf_addc(b, '[');
	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			buf_addc(b, ',');
		buf_json_str(b, sv->v[i]);
	}
	buf_addc(b, ']');
}

void
triage_json_write(const struct triage_result *r, struct buf *b)
{
	const struct entities *e = &r->entities;
	json_key(b, "{\"intent_category\":", category_names[r->intent_category]);
	json_key(b, ",\"urgency\":", urgency_names[r->urgency]);
	json_key(b, ",\"sentiment\":", sentiment_names[r->sentiment]);
	json_strv(b, ",\"entities\":{\"order_numbers\":", &e->order_numbers);
	json_strv(b, ",\"account_ids\":", &e->account_ids);
	json_strv(b, ",\"emails\":", &e->emails);
	json_strv(b, ",\"phones\":", &e->phones);
	buf_adds(b, ",\"amounts\":[");
	for (size_t i = 0; i < e->namounts; i++) {
		/* Amounts are rare: printf is fine here. */
		buf_printf(b, "%s{\"value\":%.15g,\"currency\":", i ? "," : "",
		           e->amounts[i].value);
		buf_json_str(b, e->amounts[i].currency);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	json_strv(b, ",\"products\":", &e->products);
	json_key(b, "},\"complexity_signal\":", complexity_names[r->complexity_signal]);
	buf_adds(b, r->has_legal_language ? ",\"has_legal_language\":true"
	                                  : ",\"has_legal_language\":false");
	buf_adds(b, ",\"intent_confidence\":");
	json_fixed3(b, r->intent_confidence);
	json_key(b, ",\"route\":", route_names[r->route]);
	buf_adds(b, ",\"sentiment_score\":");
	json_fixed3(b, r->sentiment_score);
	buf_adds(b, ",\"urgency_rule\":");
	if (r->urgency_rule)
		buf_json_str(b, r->urgency_rule);
	else
		buf_adds(b, "null");
	json_key(b, ",\"dialogue_act\":", dialogue_act_names[r->dialogue.act]);
	buf_adds(b, ",\"out_of_scope\":");
	json_fixed3(b, r->out_of_scope);
	json_key(b, ",\"category_source\":", r->from_knowledge ? "knowledge" : "intent");
	buf_adds(b, ",\"complexity_reasons\":[");
	int first = 1;
	for (size_t i = 0; i < nitems(reason_names); i++)
		if (r->complexity_reasons & (1u << i)) {
			buf_adds(b, first ? "\"" : ",\"");
			buf_adds(b, reason_names[i]);
			buf_addc(b, '"');
			first = 0;
		}
	buf_adds(b, "]}");
}

cJSON *
triage_json(const struct triage_result *r)
{
	struct buf b;
	buf_init(&b, 0);
	triage_json_write(r, &b);
	cJSON *o = cJSON_Parse(b.data);
	buf_free(&b);
	return o;
}
