/* metrics.c -- the measurement framework: per-session metrics from the store, and aggregates. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ending.h"
#include "metrics.h"
#include "policy.h"
#include "store.h"
#include "util.h"
#include "validate.h"

void
metrics_config_default(struct metrics_config *c)
{
	c->human_cost_per_hour = 30;
	c->coverage_confidence = 0.6;
	c->recontact_days = 7;
	c->coverage_gaps_max = 20;
	c->today = NULL;
}

void
metrics_config_policy(struct metrics_config *c, const struct policy *p)
{
	c->human_cost_per_hour = p->metrics.human_cost_per_hour;
	c->coverage_confidence = p->metrics.coverage_confidence;
	c->recontact_days = p->metrics.recontact_days;
}

/* ------------------------------------------------------------- helpers */

static const char *
jstr(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* A number member: 1 with *v set, 0 when absent or not a number. */
static int
jnum(const cJSON *o, const char *k, double *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(n))
		return 0;
	*v = n->valuedouble;
	return 1;
}

/* A boolean member: 1 or 0, or -1 when absent or not a boolean. */
static int
jbool(const cJSON *o, const char *k)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsBool(b) ? cJSON_IsTrue(b) : -1;
}

static int
is_str(const char *s, const char *v)
{
	return s != NULL && strcmp(s, v) == 0;
}

/* The resolution path of each ending: ending_names[i] is paths[i]'s. */
static const char *const paths[] = {"agent", "human", "abandoned", "unconfirmed", NULL};

/* An ending's path, or a path's ending (from: ending_names or paths); NULL for none. */
static const char *
path_map(const char *const *from, const char *const *to, const char *name)
{
	int i = name != NULL ? names_find(from, name) : -1;
	return i >= 0 ? to[i] : NULL;
}

static void
add_num(cJSON *o, const char *k, int have, double v)
{
	if (have)
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* from's number member fk as o's member k, or null. */
static void
copy_num(cJSON *o, const char *k, const cJSON *from, const char *fk)
{
	double v = 0;
	int have = jnum(from, fk, &v);
	add_num(o, k, have, v);
}

static void
add_str(cJSON *o, const char *k, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void
add_bool(cJSON *o, const char *k, int v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddBoolToObject(o, k, v);
}

/* Rounded so reports compare equal across platforms and read well. */
static double
round6(double v)
{
	return round(v * 1e6) / 1e6;
}

/* A mean or a rate: null when nothing is under it. */
static void
add_ratio(cJSON *o, const char *k, double num, double den)
{
	add_num(o, k, den > 0, den > 0 ? round6(num / den) : 0);
}

/* Seconds since the epoch of an ISO-8601 UTC time (or date); -1 when it does not parse. */
static long long
iso_seconds(const char *s)
{
	struct tm tm = {0};
	if (s == NULL)
		return -1;
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL) {
		memset(&tm, 0, sizeof tm);
		end = strptime(s, "%Y-%m-%d", &tm);
		if (end == NULL)
			return -1;
	}
	return (long long)timegm(&tm);
}

/* ------------------------------------------------------ text measures */

/*
 * Words for comparing customer messages: lower-case runs of letters and
 * digits of three or more characters, without the commonest function
 * words, each kept once.
 */
static const char *const stopwords[] = {
    "the",    "and",    "for",   "you",   "your",  "are",   "was",   "this",  "that", "with",
    "have",   "has",    "but",   "not",   "can",   "could", "would", "will",  "just", "from",
    "what",   "when",   "there", "they",  "them",  "our",   "ours",  "yes",   "any",  "all",
    "been",   "its",    "it's",  "how",   "why",   "who",   "did",   "does",  "get",  "got",
    "please", "thanks", "thank", "hello", "still", "again", "now",   "about", "into", "out",
    "then",   "than",   "also",  "some",  "one",   "too",   "very",
};

static int
stopword(const char *w)
{
	for (size_t i = 0; i < nitems(stopwords); i++)
		if (strcmp(w, stopwords[i]) == 0)
			return 1;
	return 0;
}

static void
words(const char *text, struct strv *out)
{
	char w[64];
	size_t n = 0;
	for (const char *p = text;; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch != '\0' && (isalnum(ch) || ch >= 0x80)) {
			if (n < sizeof w - 1)
				w[n++] = (char)tolower(ch);
			continue;
		}
		w[n] = '\0';
		if (n >= 3 && !stopword(w) && !strv_contains(out, w))
			strv_add(out, w);
		n = 0;
		if (ch == '\0')
			break;
	}
}

/*
 * A restatement: a customer message after the escalation that repeats the
 * problem -- it has at least RESTATE_MIN_WORDS words (as words() counts
 * them) and at least RESTATE_OVERLAP of them were in the customer's
 * messages before the escalation.
 */
#define RESTATE_MIN_WORDS 3
#define RESTATE_OVERLAP   0.5

static int
restates(const char *text, const struct strv *before)
{
	struct strv w = {0};
	words(text, &w);
	size_t common = 0;
	for (size_t i = 0; i < w.n; i++)
		common += strv_contains(before, w.v[i]);
	int r = w.n >= RESTATE_MIN_WORDS && (double)common >= RESTATE_OVERLAP * (double)w.n;
	strv_free(&w);
	return r;
}

/* A question, not a greeting or a thank-you: two words or more as words() counts them. */
static int
gap_worthy(const char *q)
{
	struct strv w = {0};
	words(q, &w);
	int ok = w.n >= 2;
	strv_free(&w);
	return ok;
}

char *
metrics_normalise_query(const char *q)
{
	struct buf b;
	buf_init(&b, 0);
	const char *p = q ? q : "";
	while (*p != '\0') {
		while (*p != '\0' && !isalnum((unsigned char)*p) && (unsigned char)*p < 0x80)
			p++;
		if (*p == '\0')
			break;
		int digit = 0;
		const char *s = p;
		while (*p != '\0' && (isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80)) {
			digit |= isdigit((unsigned char)*p) != 0;
			p++;
		}
		if (b.len > 0)
			buf_addc(&b, ' ');
		if (digit)
			buf_addc(&b, '#');
		else
			for (; s < p; s++)
				buf_addc(&b, (char)tolower((unsigned char)*s));
		if (b.len >= 120)
			break;
	}
	buf_addc(&b, '\0');
	char *out = buf_steal(&b);
	buf_free(&b);
	return out;
}

/* ---------------------------------------------------------- filtering */

static int
set(const char *s)
{
	return s != NULL && *s != '\0';
}

/* Whether the filter admits a finished session. */
static int
admits(const struct metrics_filter *f, const cJSON *s)
{
	if (f == NULL)
		return 1;
	const char *created = jstr(s, "created");
	if (set(f->since) && (created == NULL || strcmp(created, f->since) < 0))
		return 0;
	if (set(f->until) && (created == NULL || strcmp(created, f->until) >= 0))
		return 0;
	if (set(f->source) && strcmp(f->source, jstr(s, "source")) != 0)
		return 0;
	if (set(f->version)) {
		const char *v = jstr(s, "version");
		if (v == NULL || strcmp(v, f->version) != 0)
			return 0;
	}
	if (set(f->arm)) {
		const char *arm = jstr(s, "arm");
		int canary = jbool(s, "canary");
		if (strcmp(f->arm, "canary") == 0 || strcmp(f->arm, "current") == 0) {
			if (canary < 0 || canary != (strcmp(f->arm, "canary") == 0))
				return 0;
		} else if (arm == NULL || strcmp(arm, f->arm) != 0)
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------- live sessions */

/* What one conversation's timeline adds up to. */
struct live {
	const struct metrics_config *cfg;
	cJSON *s;
	/* Customer messages the AI has yet to answer, oldest first (borrowed). */
	const char *queue[64];
	size_t nqueue;
	int human;           /* a human has it (after a handoff or takeover) */
	int escalated;       /* a handoff or takeover happened */
	long long handed_at; /* when the first one happened, or -1 */
	struct strv before;  /* words of the customer's messages before the escalation */
	int turns, restatements;
	const char *last_role;

	/* The turn in progress. */
	int in_turn;
	const char *query;
	double top_conf;
	const char *top_topic, *triage_cat;
	int have_top;

	int retrieved, nconf;
	double conf_sum, fresh_sum;
	int nfresh;
	cJSON *violations, *flags, *gaps;
	const char *category, *reason;
	double tokens, cost;
	const cJSON *csat, *assignment;
	int agent_handoffs; /* handoffs the agent made (not a takeover's packet) */
};

static void
flag(struct live *l, const char *name)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, l->flags)
	{
		if (strcmp(f->valuestring, name) == 0)
			return;
	}
	cJSON_AddItemToArray(l->flags, cJSON_CreateString(name));
}

static void
live_message(struct live *l, const cJSON *m)
{
	const char *role = jstr(m, "role"), *text = jstr(m, "text");
	if (role == NULL || text == NULL)
		return;
	l->last_role = role;
	if (strcmp(role, "customer") != 0)
		return;
	l->turns++;
	if (l->escalated) {
		l->restatements += restates(text, &l->before);
	} else
		words(text, &l->before);
	if (!l->human && l->nqueue < nitems(l->queue))
		l->queue[l->nqueue++] = text;
}

static void
live_escalate(struct live *l, const char *at, const cJSON *payload)
{
	if (!l->escalated) {
		l->escalated = 1;
		l->handed_at = iso_seconds(at);
		if (l->reason == NULL)
			l->reason = jstr(payload, "reason");
	}
	l->human = 1;
	l->nqueue = 0; /* the AI answers nothing left over */
}

static void
live_event(struct live *l, const cJSON *e, const char *last_text)
{
	const char *kind = jstr(e, "kind"), *at = jstr(e, "at");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "payload");
	if (kind == NULL)
		return;
	if (strcmp(kind, "triage") == 0) {
		l->in_turn = 1;
		l->query = NULL;
		if (l->nqueue > 0) {
			l->query = l->queue[0];
			memmove(l->queue, l->queue + 1, --l->nqueue * sizeof *l->queue);
		}
		l->have_top = 0;
		l->top_topic = NULL;
		l->triage_cat = jstr(p, "intent_category");
		if (l->category == NULL)
			l->category = l->triage_cat;
	} else if (strcmp(kind, "retrieval") == 0) {
		const cJSON *top = cJSON_GetArrayItem(p, 0);
		double c, f;
		if (top != NULL && jnum(top, "confidence", &c)) {
			l->retrieved = 1;
			l->have_top = 1;
			l->top_conf = c;
			l->top_topic = jstr(top, "topic");
			l->conf_sum += c;
			l->nconf++;
			if (jnum(top, "freshness_days", &f)) {
				l->fresh_sum += f;
				l->nfresh++;
			}
		}
	} else if (strcmp(kind, "validation") == 0) {
		const cJSON *v;
		/* The AI's drafts only: a human's replies are theirs to answer for. */
		if (!l->in_turn)
			return;
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(p, "violations"))
		{
			if (!cJSON_IsString(v))
				continue;
			char *k = validation_kind(v->valuestring);
			cJSON_AddItemToArray(l->violations, cJSON_CreateString(k));
			free(k);
		}
	} else if (strcmp(kind, "tool") == 0) {
		if (jbool(p, "allowed") == 0) {
			char *f =
			    xasprintf("tool_refused:%s", jstr(p, "name") ? jstr(p, "name") : "?");
			flag(l, f);
			free(f);
		}
	} else if (strcmp(kind, "escalation") == 0) {
		const cJSON *sig;
		cJSON_ArrayForEach(sig, cJSON_GetObjectItemCaseSensitive(p, "signals"))
		{
			if (jbool(sig, "fired") == 1 && sig->string != NULL)
				flag(l, sig->string);
		}
		int escalate = jbool(p, "escalate");
		if (escalate == 1 && l->reason == NULL)
			l->reason = jstr(p, "reason");
		/* Answered, from knowledge the KB barely had: a coverage gap. */
		if (escalate == 0 && l->in_turn && l->query != NULL && gap_worthy(l->query) &&
		    (!l->have_top || l->top_conf < l->cfg->coverage_confidence)) {
			cJSON *g = cJSON_CreateObject();
			add_str(g, "query", l->query);
			add_str(g, "topic", l->have_top ? l->top_topic : l->triage_cat);
			cJSON_AddNumberToObject(g, "confidence", l->have_top ? l->top_conf : 0);
			cJSON_AddItemToArray(l->gaps, g);
		}
		l->in_turn = 0;
	} else if (strcmp(kind, "model") == 0) {
		double pt = 0, ct = 0, c = 0;
		jnum(p, "prompt_tokens", &pt);
		jnum(p, "completion_tokens", &ct);
		jnum(p, "cost_usd", &c);
		l->tokens += pt + ct;
		l->cost += c;
	} else if (strcmp(kind, "handoff") == 0 || strcmp(kind, "takeover") == 0) {
		/* A takeover's packet, or the human arm's, is not the agent's decision. */
		if (strcmp(kind, "handoff") == 0 &&
		    !is_str(jstr(p, "reason"), "supervisor-takeover") &&
		    !is_str(jstr(p, "reason"), "rollout-human"))
			l->agent_handoffs++;
		live_escalate(l, at, p);
		l->in_turn = 0;
	} else if (strcmp(kind, "handback") == 0) {
		l->human = 0;
		/* A message the human left unanswered is the AI's now. */
		if (l->last_role != NULL && strcmp(l->last_role, "customer") == 0 &&
		    last_text != NULL && l->nqueue < nitems(l->queue))
			l->queue[l->nqueue++] = last_text;
	} else if (strcmp(kind, "csat") == 0) {
		l->csat = p;
	} else if (strcmp(kind, "assignment") == 0) {
		if (l->assignment == NULL)
			l->assignment = p;
	}
}

/*
 * One conversation (a row of store_conversation_list) as a session;
 * recontact is filled in later, over every conversation.
 */
static int
live_session(struct store *st, const cJSON *row, const struct metrics_config *cfg, cJSON **out,
             char **cause)
{
	double idd = 0;
	jnum(row, "id", &idd);
	int64_t id = (int64_t)idd;
	cJSON *msgs = NULL, *events = NULL;
	if (store_messages(st, id, &msgs, cause) != 0)
		return -1;
	if (store_events(st, id, &events, cause) != 0) {
		cJSON_Delete(msgs);
		return -1;
	}
	struct live l = {.cfg = cfg, .handed_at = -1};
	l.violations = cJSON_CreateArray();
	l.flags = cJSON_CreateArray();
	l.gaps = cJSON_CreateArray();

	/* Messages and events in time order; a message first on a tie (it was stored first). */
	const cJSON *m = msgs->child, *e = events->child;
	const char *last_text = NULL;
	while (m != NULL || e != NULL) {
		const char *mat = m ? jstr(m, "at") : NULL, *eat = e ? jstr(e, "at") : NULL;
		if (m != NULL && (e == NULL || strcmp(mat ? mat : "", eat ? eat : "") <= 0)) {
			live_message(&l, m);
			last_text = jstr(m, "text");
			m = m->next;
		} else {
			live_event(&l, e, last_text);
			e = e->next;
		}
	}

	cJSON *s = cJSON_CreateObject();
	const char *created = jstr(row, "created"), *closed = jstr(row, "closed");
	/* The ending stored when it closed is the path: nothing else is read for it. */
	const char *ending = jstr(row, "ending");
	const char *path = path_map(ending_names, paths, ending);
	if (ending == NULL && is_str(jstr(row, "state"), "open"))
		path = "open";
	int resolved = is_str(path, "agent") || is_str(path, "human");

	long long start = iso_seconds(created);
	long long end = iso_seconds(closed);
	int finished = ending != NULL && start >= 0 && end >= start;

	cJSON_AddStringToObject(s, "source", "live");
	cJSON_AddNumberToObject(s, "id", (double)id);
	add_str(s, "customer", jstr(row, "customer"));
	add_str(s, "created", created);
	add_str(s, "category", l.category);
	add_str(s, "tier", jstr(row, "tier"));
	add_str(s, "path", path);
	add_str(s, "ending", ending);
	cJSON_AddBoolToObject(s, "resolved", resolved);
	cJSON_AddNullToObject(s, "resolved_correctly"); /* with recontact */
	cJSON_AddNumberToObject(s, "turns", l.turns);
	cJSON_AddNumberToObject(s, "restatements", l.restatements);
	cJSON_AddBoolToObject(s, "escalated", l.escalated);
	add_str(s, "escalation_reason", l.escalated ? l.reason : NULL);
	add_bool(s, "agent_escalated", l.escalated ? l.agent_handoffs > 0 : 0);
	cJSON_AddBoolToObject(s, "retrieval_used", l.retrieved);
	add_num(s, "retrieval_freshness_days", l.nfresh > 0,
	        l.nfresh ? round6(l.fresh_sum / l.nfresh) : 0);
	add_num(s, "retrieval_confidence", l.nconf > 0, l.nconf ? round6(l.conf_sum / l.nconf) : 0);
	cJSON_AddItemToObject(s, "validation_violations", l.violations);
	cJSON_AddItemToObject(s, "policy_flags", l.flags);
	add_num(s, "handle_time_seconds", finished, (double)(end - start));
	cJSON_AddNumberToObject(s, "tokens_consumed", l.tokens);
	cJSON_AddNumberToObject(s, "cost_usd", round6(l.cost));
	copy_num(s, "csat_score", l.csat, "score");
	add_str(s, "csat_verbatim", jstr(l.csat, "verbatim"));
	cJSON_AddNullToObject(s, "recontact_within_7d");
	add_str(s, "version", jstr(l.assignment, "version"));
	add_str(s, "arm", jstr(l.assignment, "arm"));
	cJSON_AddItemToObject(s, "low_confidence_queries", l.gaps);
	/* Beyond the seed's fields. */
	add_bool(s, "canary", l.assignment ? jbool(l.assignment, "canary") : -1);
	cJSON_AddStringToObject(
	    s, "first_contact",
	    jstr(l.assignment, "arm") && strcmp(jstr(l.assignment, "arm"), "human") == 0 ? "human"
	                                                                                 : "agent");
	/* A human's time: from the handoff (or takeover) to the end. */
	add_num(s, "human_seconds",
	        l.escalated && finished && l.handed_at >= 0 && end >= l.handed_at,
	        (double)(end - l.handed_at));
	add_str(s, "closed", closed);
	strv_free(&l.before);
	cJSON_Delete(msgs);
	cJSON_Delete(events);
	*out = s;
	return 0;
}

/* Today as days since the epoch: the report's date, else the store's (FRONTLINE_TODAY). */
static long
today_days(const struct metrics_config *cfg)
{
	char now[64];
	long days = 0;
	if (cfg->today != NULL && date_parse(cfg->today, &days) == 0)
		return days;
	store_now(now);
	now[10] = '\0';
	return date_parse(now, &days) == 0 ? days : 0;
}

/*
 * Re-contact: a resolved or unconfirmed session whose customer opened
 * another conversation within recontact_days of its end (its close, or
 * its creation when the close is unknown). Over every live session, so a
 * filter on dates does not hide the later contact. An unconfirmed
 * session's re-contact is unknown (null) until its window has passed:
 * the whole recontact_days after the day it closed.
 */
static void
live_recontact(cJSON *all, const struct metrics_config *cfg)
{
	long today = today_days(cfg);
	cJSON *s;
	cJSON_ArrayForEach(s, all)
	{
		int resolved = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "resolved"));
		if (!resolved && !is_str(jstr(s, "path"), "unconfirmed"))
			continue;
		const char *who = jstr(s, "customer");
		const char *at_end = jstr(s, "closed") ? jstr(s, "closed") : jstr(s, "created");
		long long end = iso_seconds(at_end);
		int again = 0;
		const cJSON *t;
		cJSON_ArrayForEach(t, all)
		{
			if (t == s || who == NULL || jstr(t, "customer") == NULL ||
			    strcmp(jstr(t, "customer"), who) != 0)
				continue;
			long long at = iso_seconds(jstr(t, "created"));
			double ti = 0, si = 0;
			jnum(t, "id", &ti);
			jnum(s, "id", &si);
			/* Opened after this one (ids break ties within a second). */
			if (at >= 0 && end >= 0 && at >= end && ti > si &&
			    at - end <= (long long)cfg->recontact_days * 86400)
				again = 1;
		}
		if (resolved) {
			cJSON_ReplaceItemInObjectCaseSensitive(s, "recontact_within_7d",
			                                       cJSON_CreateBool(again));
			cJSON_ReplaceItemInObjectCaseSensitive(s, "resolved_correctly",
			                                       cJSON_CreateBool(!again));
			continue;
		}
		char day[11] = "";
		long closed_day;
		if (at_end != NULL)
			snprintf(day, sizeof day, "%s", at_end);
		int passed =
		    date_parse(day, &closed_day) == 0 && closed_day + cfg->recontact_days < today;
		if (again || passed)
			cJSON_ReplaceItemInObjectCaseSensitive(s, "recontact_within_7d",
			                                       cJSON_CreateBool(again));
	}
}

/* ------------------------------------------------------ replay sessions */

struct replay_walk {
	const struct metrics_config *cfg;
	const struct metrics_filter *f;
	const cJSON *run;
	cJSON *out;
};

/* A replayed ticket as a session: the ticket as it happened, with the agent's shadow figures. */
static cJSON *
replay_session(const cJSON *r, const cJSON *run, const struct metrics_config *cfg)
{
	cJSON *s = cJSON_CreateObject();
	const cJSON *human = cJSON_GetObjectItemCaseSensitive(r, "human");
	const cJSON *outcome = cJSON_GetObjectItemCaseSensitive(r, "outcome");
	const cJSON *customer = cJSON_GetObjectItemCaseSensitive(r, "customer");
	const cJSON *retr = cJSON_GetObjectItemCaseSensitive(r, "retrieval");
	if (!cJSON_IsObject(outcome))
		outcome = NULL;
	double v = 0;

	cJSON_AddStringToObject(s, "source", "replay");
	add_str(s, "id", jstr(r, "id"));
	add_str(s, "customer", jstr(customer, "id"));
	add_str(s, "created", jstr(r, "created_at"));
	const char *label = jstr(human, "intent_category");
	add_str(s, "category", label ? label : jstr(r, "category"));
	add_str(s, "tier", jstr(customer, "tier"));

	int resolved = outcome ? jbool(outcome, "resolved") : -1;
	const char *by = jstr(outcome, "resolved_by");
	const char *path = NULL;
	if (resolved == 1)
		path = by != NULL && (strcmp(by, "agent") == 0 || strcmp(by, "ai") == 0) ? "agent"
		                                                                         : "human";
	else if (resolved == 0)
		path = "abandoned";
	add_str(s, "path", path);
	add_str(s, "ending", path_map(paths, ending_names, path));
	add_bool(s, "resolved", resolved);
	int recontact = outcome ? jbool(outcome, "recontact_within_7d") : -1;
	add_bool(s, "resolved_correctly", resolved == 1 && recontact >= 0 ? !recontact : -1);
	copy_num(s, "turns", r, "turns");
	cJSON_AddNullToObject(s, "restatements"); /* the ticket's texts are not in the result */
	int escalated = jbool(human, "escalated");
	add_bool(s, "escalated", escalated);
	add_str(s, "escalation_reason", escalated == 1 ? jstr(human, "escalation_reason") : NULL);
	add_bool(s, "retrieval_used", jbool(retr, "used"));
	copy_num(s, "retrieval_freshness_days", retr, "mean_freshness_days");
	copy_num(s, "retrieval_confidence", retr, "mean_confidence");
	cJSON *viol = cJSON_AddArrayToObject(s, "validation_violations");
	const cJSON *x;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r, "violations"))
	{
		if (!cJSON_IsString(x))
			continue;
		char *k = validation_kind(x->valuestring);
		cJSON_AddItemToArray(viol, cJSON_CreateString(k));
		free(k);
	}
	cJSON *flags = cJSON_AddArrayToObject(s, "policy_flags");
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "prohibited_phrases")) > 0)
		cJSON_AddItemToArray(flags, cJSON_CreateString("prohibited_phrase"));
	double ht = 0;
	int have_ht = jnum(outcome, "handle_time_s", &ht);
	add_num(s, "handle_time_seconds", have_ht, ht);
	copy_num(s, "tokens_consumed", r, "tokens");
	copy_num(s, "cost_usd", r, "cost_usd");
	copy_num(s, "csat_score", outcome, "csat");
	add_str(s, "csat_verbatim", jstr(outcome, "csat_verbatim"));
	add_bool(s, "recontact_within_7d", recontact);
	const char *ver = jstr(r, "version");
	add_str(s, "version", ver ? ver : jstr(run, "version"));
	cJSON_AddNullToObject(s, "arm");
	cJSON *gaps = cJSON_AddArrayToObject(s, "low_confidence_queries");
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r, "low_confidence_queries"))
	{
		if (jnum(x, "confidence", &v) && v < cfg->coverage_confidence)
			cJSON_AddItemToArray(gaps, cJSON_Duplicate(x, 1));
	}
	/* Beyond the seed's fields. */
	cJSON_AddNullToObject(s, "canary");
	cJSON_AddStringToObject(s, "first_contact",
	                        path && strcmp(path, "agent") == 0 ? "agent" : "human");
	/* Historical tickets were a human's work, start to end. */
	add_num(s, "human_seconds", have_ht && (path == NULL || strcmp(path, "agent") != 0), ht);
	double run_id = 0;
	jnum(run, "id", &run_id);
	cJSON_AddNumberToObject(s, "run", run_id);
	add_bool(s, "agent_escalated", jbool(r, "agent_escalated"));
	add_str(s, "agent_escalation_reason", jstr(r, "escalation_reason"));
	add_str(s, "agent_category", jstr(r, "category"));
	return s;
}

static int
replay_one(const cJSON *r, void *arg)
{
	struct replay_walk *w = arg;
	cJSON *s = replay_session(r, w->run, w->cfg);
	if (admits(w->f, s))
		cJSON_AddItemToArray(w->out, s);
	else
		cJSON_Delete(s);
	return 0;
}

/* The runs the filter picks: one by id, or the newest of each source. */
static int
replay_sessions(struct store *st, const struct metrics_filter *f, const struct metrics_config *cfg,
                cJSON *out, char **cause)
{
	cJSON *runs = NULL;
	if (store_replay_runs(st, &runs, cause) != 0)
		return -1;
	struct strv seen = {0};
	int rc = 0;
	const cJSON *run;
	cJSON_ArrayForEach(run, runs)
	{
		double id = 0;
		jnum(run, "id", &id);
		const char *src = jstr(run, "source") ? jstr(run, "source") : "";
		if (f != NULL && f->run > 0) {
			if ((long long)id != f->run)
				continue;
		} else if (strv_contains(&seen, src))
			continue; /* newest first: an older run of the same tickets */
		strv_add(&seen, src);
		struct replay_walk w = {.cfg = cfg, .f = f, .run = run, .out = out};
		if ((rc = store_replay_each(st, (int64_t)id, replay_one, &w, cause)) != 0)
			break;
	}
	if (rc == 0 && f != NULL && f->run > 0 && seen.n == 0) {
		*cause = xasprintf("no replay run %lld", f->run);
		rc = -1;
	}
	strv_free(&seen);
	cJSON_Delete(runs);
	return rc;
}

int
metrics_sessions(struct store *st, const struct metrics_filter *f, const struct metrics_config *cfg,
                 cJSON **out, char **cause)
{
	cJSON *res = cJSON_CreateArray();
	/* Never both: a replayed ticket is a human's work, a live session the agent's. */
	int replay = f != NULL && (set(f->source) ? strcmp(f->source, "replay") == 0 : f->run > 0);
	int live = !replay;
	if (live) {
		cJSON *rows = NULL;
		if (store_conversation_list(st, "", &rows, cause) != 0)
			goto fail;
		cJSON *all = cJSON_CreateArray();
		const cJSON *row;
		cJSON_ArrayForEach(row, rows)
		{
			cJSON *s;
			if (live_session(st, row, cfg, &s, cause) != 0) {
				cJSON_Delete(all);
				cJSON_Delete(rows);
				goto fail;
			}
			cJSON_AddItemToArray(all, s);
		}
		cJSON_Delete(rows);
		live_recontact(all, cfg);
		cJSON *s;
		while ((s = all->child) != NULL) {
			cJSON_DetachItemViaPointer(all, s);
			if (admits(f, s))
				cJSON_AddItemToArray(res, s);
			else
				cJSON_Delete(s);
		}
		cJSON_Delete(all);
	}
	if (replay && replay_sessions(st, f, cfg, res, cause) != 0)
		goto fail;
	*out = res;
	return 0;
fail:
	cJSON_Delete(res);
	return -1;
}

/* ---------------------------------------------------------- aggregates */

/* A count per name, in an object kept in first-seen order. */
static void
count_in(cJSON *o, const char *name, double by)
{
	cJSON *n = cJSON_GetObjectItemCaseSensitive(o, name);
	if (n == NULL)
		cJSON_AddNumberToObject(o, name, by);
	else
		cJSON_SetNumberValue(n, n->valuedouble + by);
}

static int
is(const cJSON *s, const char *k, const char *v)
{
	const char *x = jstr(s, k);
	return x != NULL && strcmp(x, v) == 0;
}

/* High effort: this many customer messages or more, or any restatement. */
#define HIGH_EFFORT_TURNS 5

struct gap {
	char *query, *topic, *example;
	int count;
	double conf_sum;
};

static int
gap_cmp(const void *a, const void *b)
{
	const struct gap *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	double mx = x->conf_sum / x->count, my = y->conf_sum / y->count;
	if (mx != my)
		return mx < my ? -1 : 1;
	int c = strcmp(x->query, y->query);
	return c ? c : strcmp(x->topic ? x->topic : "", y->topic ? y->topic : "");
}

static cJSON *
coverage_gaps(const cJSON *sessions, const struct metrics_config *cfg)
{
	struct gap *g = NULL;
	size_t n = 0;
	const cJSON *s, *q;
	cJSON_ArrayForEach(s, sessions)
	{
		cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(s, "low_confidence_queries"))
		{
			double c = 0;
			const char *raw = jstr(q, "query"), *topic = jstr(q, "topic");
			if (raw == NULL || !jnum(q, "confidence", &c))
				continue;
			char *norm = metrics_normalise_query(raw);
			if (*norm == '\0') {
				free(norm);
				continue;
			}
			size_t i;
			for (i = 0; i < n; i++)
				if (strcmp(g[i].query, norm) == 0 &&
				    (g[i].topic == NULL
				         ? topic == NULL
				         : topic != NULL && strcmp(g[i].topic, topic) == 0))
					break;
			if (i == n) {
				g = xreallocarray(g, n + 1, sizeof *g);
				g[n++] = (struct gap){.query = norm,
				                      .topic = topic ? xstrdup(topic) : NULL,
				                      .example = xstrdup(raw)};
			} else
				free(norm);
			g[i].count++;
			g[i].conf_sum += c;
		}
	}
	if (n > 0)
		qsort(g, n, sizeof *g, gap_cmp);
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		if ((int)i < cfg->coverage_gaps_max) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "query", g[i].query);
			add_str(o, "topic", g[i].topic);
			cJSON_AddNumberToObject(o, "count", g[i].count);
			cJSON_AddNumberToObject(o, "mean_confidence",
			                        round6(g[i].conf_sum / g[i].count));
			cJSON_AddStringToObject(o, "example", g[i].example);
			cJSON_AddItemToArray(a, o);
		}
		free(g[i].query);
		free(g[i].topic);
		free(g[i].example);
	}
	free(g);
	return a;
}

struct day {
	long date;
	int sessions, known_esc, escalated, responses;
	double csat_sum, cost;
};

static int
day_cmp(const void *a, const void *b)
{
	const struct day *x = a, *y = b;
	return x->date < y->date ? -1 : x->date > y->date;
}

/* Days with no sessions between the first and the last are filled in, up to a year. */
#define DAILY_FILL_MAX 366

static cJSON *
daily(const cJSON *sessions)
{
	struct day *d = NULL;
	size_t n = 0;
	const cJSON *s;
	cJSON_ArrayForEach(s, sessions)
	{
		const char *c = jstr(s, "created");
		char date[11];
		long days;
		if (c == NULL || strlen(c) < 10)
			continue;
		memcpy(date, c, 10);
		date[10] = '\0';
		if (date_parse(date, &days) != 0)
			continue;
		size_t i;
		for (i = 0; i < n && d[i].date != days; i++)
			;
		if (i == n) {
			d = xreallocarray(d, n + 1, sizeof *d);
			d[n++] = (struct day){.date = days};
		}
		d[i].sessions++;
		int e = jbool(s, "escalated");
		if (e >= 0) {
			d[i].known_esc++;
			d[i].escalated += e;
		}
		double v = 0;
		if (jnum(s, "csat_score", &v)) {
			d[i].responses++;
			d[i].csat_sum += v;
		}
		if (jnum(s, "cost_usd", &v))
			d[i].cost += v;
	}
	if (n > 0)
		qsort(d, n, sizeof *d, day_cmp);
	cJSON *a = cJSON_CreateArray();
	int fill = n > 0 && d[n - 1].date - d[0].date <= DAILY_FILL_MAX;
	for (size_t i = 0; i < n; i++) {
		long from = i > 0 && fill ? d[i - 1].date + 1 : d[i].date;
		for (long day = from; day <= d[i].date; day++) {
			struct day z = {.date = day};
			const struct day *x = day == d[i].date ? &d[i] : &z;
			char date[11];
			date_format(day, date);
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "date", date);
			cJSON_AddNumberToObject(o, "sessions", x->sessions);
			add_ratio(o, "escalation_rate", x->escalated, x->known_esc);
			add_ratio(o, "csat_mean", x->csat_sum, x->responses);
			cJSON_AddNumberToObject(o, "cost_usd", round6(x->cost));
			cJSON_AddItemToArray(a, o);
		}
	}
	free(d);
	return a;
}

/* How many sessions, live and replayed. */
static void
aggregate_sessions(cJSON *r, const cJSON *sessions)
{
	const cJSON *s;
	int n = 0, live = 0, replay = 0;
	cJSON_ArrayForEach(s, sessions)
	{
		n++;
		live += is(s, "source", "live");
		replay += is(s, "source", "replay");
	}
	cJSON_AddNumberToObject(r, "sessions", n);
	cJSON_AddNumberToObject(r, "live", live);
	cJSON_AddNumberToObject(r, "replay", replay);
}

/* How the sessions ended (ending.h); still open ones apart. */
static void
aggregate_endings(cJSON *r, const cJSON *sessions)
{
	const cJSON *s;
	cJSON *endings = cJSON_AddObjectToObject(r, "endings");
	for (size_t i = 0; ending_names[i] != NULL; i++) {
		int k = 0;
		cJSON_ArrayForEach(s, sessions) k += is(s, "ending", ending_names[i]);
		cJSON_AddNumberToObject(endings, ending_names[i], k);
	}
	int nopen = 0;
	cJSON_ArrayForEach(s, sessions) nopen += is(s, "path", "open");
	cJSON_AddNumberToObject(endings, "open", nopen);
}

/*
 * Unconfirmed: answered, then silence. Never a resolution here; those
 * whose re-contact window passed quietly are counted on their own.
 */
static void
aggregate_unconfirmed(cJSON *r, const cJSON *sessions)
{
	const cJSON *s;
	cJSON *unc = cJSON_AddObjectToObject(r, "unconfirmed");
	int nu_s = 0, nu_again = 0, nu_quiet = 0;
	cJSON_ArrayForEach(s, sessions)
	{
		if (!is(s, "path", "unconfirmed"))
			continue;
		int x = jbool(s, "recontact_within_7d");
		nu_s++;
		nu_again += x == 1;
		nu_quiet += x == 0;
	}
	cJSON_AddNumberToObject(unc, "sessions", nu_s);
	cJSON_AddNumberToObject(unc, "recontacted", nu_again);
	cJSON_AddNumberToObject(unc, "quiet", nu_quiet);
	cJSON_AddNumberToObject(unc, "window_open", nu_s - nu_again - nu_quiet);
}

/* CSAT by resolution path. */
static void
aggregate_csat(cJSON *r, const cJSON *sessions)
{
	const cJSON *s;
	cJSON *csat = cJSON_AddObjectToObject(r, "csat_by_path");
	for (size_t i = 0; paths[i] != NULL; i++) {
		int ns = 0, resp = 0;
		double sum = 0, v;
		cJSON_ArrayForEach(s, sessions)
		{
			if (!is(s, "path", paths[i]))
				continue;
			ns++;
			if (jnum(s, "csat_score", &v)) {
				resp++;
				sum += v;
			}
		}
		cJSON *o = cJSON_AddObjectToObject(csat, paths[i]);
		cJSON_AddNumberToObject(o, "sessions", ns);
		cJSON_AddNumberToObject(o, "responses", resp);
		add_ratio(o, "mean", sum, resp);
	}
}

/*
 * First-contact resolution, by who took the first contact, and who
 * resolved it: an agent-first session a human resolved after a
 * handoff is the human's resolution, never the agent's.
 */
static void
aggregate_fcr(cJSON *r, const cJSON *sessions)
{
	const cJSON *s;
	cJSON *fcr = cJSON_AddObjectToObject(r, "fcr");
	for (size_t i = 0; i < 2; i++) {
		int ns = 0, first = 0, by_agent = 0, by_human = 0;
		cJSON_ArrayForEach(s, sessions)
		{
			if (!is(s, "first_contact", paths[i]) || is(s, "path", "open") ||
			    jstr(s, "path") == NULL)
				continue;
			int rc = jbool(s, "resolved_correctly");
			int resolved = jbool(s, "resolved");
			if (resolved == 1 && rc < 0)
				continue; /* resolved, but whether it stayed so is unknown */
			ns++;
			first += resolved == 1 && rc == 1;
			by_agent += resolved == 1 && rc == 1 && is(s, "path", "agent");
			by_human += resolved == 1 && rc == 1 && is(s, "path", "human");
		}
		cJSON *o = cJSON_AddObjectToObject(fcr, paths[i]);
		cJSON_AddNumberToObject(o, "sessions", ns);
		cJSON_AddNumberToObject(o, "resolved_first_contact", first);
		add_ratio(o, "rate", first, ns);
		cJSON_AddNumberToObject(o, "resolved_by_agent", by_agent);
		add_ratio(o, "agent_rate", by_agent, ns);
		cJSON_AddNumberToObject(o, "resolved_by_human", by_human);
		add_ratio(o, "human_rate", by_human, ns);
	}
}

/* Re-contact after a resolution. */
static void
aggregate_recontact(cJSON *r, const cJSON *sessions)
{
	const cJSON *s;
	cJSON *rec = cJSON_AddObjectToObject(r, "recontact");
	int resolved = 0, again = 0;
	cJSON_ArrayForEach(s, sessions)
	{
		int x = jbool(s, "recontact_within_7d");
		if (jbool(s, "resolved") == 1 && x >= 0) {
			resolved++;
			again += x;
		}
	}
	cJSON_AddNumberToObject(rec, "resolved", resolved);
	cJSON_AddNumberToObject(rec, "recontacted", again);
	add_ratio(rec, "rate", again, resolved);
	cJSON *bp = cJSON_AddObjectToObject(rec, "by_path");
	for (size_t i = 0; i < 2; i++) {
		int rs = 0, ag = 0;
		cJSON_ArrayForEach(s, sessions)
		{
			int x = jbool(s, "recontact_within_7d");
			if (is(s, "path", paths[i]) && jbool(s, "resolved") == 1 && x >= 0) {
				rs++;
				ag += x;
			}
		}
		cJSON *o = cJSON_AddObjectToObject(bp, paths[i]);
		cJSON_AddNumberToObject(o, "resolved", rs);
		cJSON_AddNumberToObject(o, "recontacted", ag);
		add_ratio(o, "rate", ag, rs);
	}
}

/* Customer effort. */
static void
aggregate_effort(cJSON *r, const cJSON *sessions)
{
	const cJSON *s;
	cJSON *eff = cJSON_AddObjectToObject(r, "effort");
	int nt = 0, nr = 0, high = 0;
	double turns = 0, rest = 0;
	cJSON_ArrayForEach(s, sessions)
	{
		double t, x;
		int have_r = jnum(s, "restatements", &x);
		if (have_r && jbool(s, "escalated") == 1) {
			nr++;
			rest += x;
		}
		if (jnum(s, "turns", &t)) {
			nt++;
			turns += t;
			high += t >= HIGH_EFFORT_TURNS || (have_r && x > 0);
		}
	}
	add_ratio(eff, "mean_turns", turns, nt);
	add_ratio(eff, "mean_restatements", rest, nr);
	add_ratio(eff, "high_effort_rate", high, nt);
}

/* Escalation, by category and by reason. */
static void
aggregate_escalation(cJSON *r, const cJSON *sessions)
{
	const cJSON *s;
	cJSON *esc = cJSON_AddObjectToObject(r, "escalation");
	cJSON *byc = cJSON_CreateObject(), *byr = cJSON_CreateObject();
	int ne = 0, escalated = 0, na = 0, agent_esc = 0;
	cJSON_ArrayForEach(s, sessions)
	{
		int a = jbool(s, "agent_escalated");
		if (a >= 0) {
			na++;
			agent_esc += a;
		}
		int e = jbool(s, "escalated");
		if (e < 0)
			continue;
		ne++;
		escalated += e;
		const char *cat = jstr(s, "category") ? jstr(s, "category") : "unknown";
		cJSON *c = cJSON_GetObjectItemCaseSensitive(byc, cat);
		if (c == NULL) {
			c = cJSON_AddObjectToObject(byc, cat);
			cJSON_AddNumberToObject(c, "sessions", 0);
			cJSON_AddNumberToObject(c, "escalated", 0);
		}
		count_in(c, "sessions", 1);
		count_in(c, "escalated", e);
		if (e)
			count_in(byr,
			         jstr(s, "escalation_reason") ? jstr(s, "escalation_reason")
			                                      : "unknown",
			         1);
	}
	add_ratio(esc, "rate", escalated, ne);
	add_ratio(esc, "agent_rate", agent_esc, na);
	cJSON *c;
	cJSON_ArrayForEach(c, byc)
	{
		double ns = cJSON_GetObjectItemCaseSensitive(c, "sessions")->valuedouble;
		double ec = cJSON_GetObjectItemCaseSensitive(c, "escalated")->valuedouble;
		add_ratio(c, "rate", ec, ns);
	}
	cJSON_AddItemToObject(esc, "by_category", byc);
	cJSON_AddItemToObject(esc, "by_reason", byr);
}

/* Cost per resolution. */
static void
aggregate_cost(cJSON *r, const cJSON *sessions, const struct metrics_config *cfg)
{
	const cJSON *s;
	cJSON *cost = cJSON_AddObjectToObject(r, "cost");
	double model = 0, tokens = 0, hsec = 0;
	int resolutions = 0;
	cJSON_ArrayForEach(s, sessions)
	{
		double v = 0;
		if (jnum(s, "cost_usd", &v))
			model += v;
		if (jnum(s, "tokens_consumed", &v))
			tokens += v;
		if (jnum(s, "human_seconds", &v))
			hsec += v;
		resolutions += jbool(s, "resolved") == 1;
	}
	double hmin = hsec / 60, husd = hsec / 3600 * cfg->human_cost_per_hour;
	cJSON_AddNumberToObject(cost, "model_usd", round6(model));
	cJSON_AddNumberToObject(cost, "tokens", tokens);
	cJSON_AddNumberToObject(cost, "human_minutes", round6(hmin));
	cJSON_AddNumberToObject(cost, "human_usd", round6(husd));
	cJSON_AddNumberToObject(cost, "resolutions", resolutions);
	add_ratio(cost, "per_resolution_usd", model + husd, resolutions);
}

/* Knowledge and output quality. */
static void
aggregate_quality(cJSON *r, const cJSON *sessions)
{
	const cJSON *s;
	cJSON *qual = cJSON_AddObjectToObject(r, "quality");
	int nu = 0, used = 0, nf = 0, nc = 0;
	double fresh = 0, conf = 0;
	cJSON *viol = cJSON_CreateObject(), *flags = cJSON_CreateObject();
	cJSON_ArrayForEach(s, sessions)
	{
		int u = jbool(s, "retrieval_used");
		double v = 0;
		if (u >= 0) {
			nu++;
			used += u;
		}
		if (jnum(s, "retrieval_freshness_days", &v)) {
			nf++;
			fresh += v;
		}
		if (jnum(s, "retrieval_confidence", &v)) {
			nc++;
			conf += v;
		}
		const cJSON *x;
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(s, "validation_violations"))
		{
			if (cJSON_IsString(x))
				count_in(viol, x->valuestring, 1);
		}
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(s, "policy_flags"))
		{
			if (cJSON_IsString(x))
				count_in(flags, x->valuestring, 1);
		}
	}
	add_ratio(qual, "retrieval_used_rate", used, nu);
	add_ratio(qual, "mean_freshness_days", fresh, nf);
	add_ratio(qual, "mean_confidence", conf, nc);
	cJSON_AddItemToObject(qual, "violations", viol);
	cJSON_AddItemToObject(qual, "policy_flags", flags);
}

cJSON *
metrics_aggregate(const cJSON *sessions, const struct metrics_config *cfg)
{
	cJSON *r = cJSON_CreateObject();
	aggregate_sessions(r, sessions);
	aggregate_endings(r, sessions);
	aggregate_unconfirmed(r, sessions);
	aggregate_csat(r, sessions);
	aggregate_fcr(r, sessions);
	aggregate_recontact(r, sessions);
	aggregate_effort(r, sessions);
	aggregate_escalation(r, sessions);
	aggregate_cost(r, sessions, cfg);
	aggregate_quality(r, sessions);
	cJSON_AddItemToObject(r, "coverage_gaps", coverage_gaps(sessions, cfg));
	cJSON_AddItemToObject(r, "daily", daily(sessions));
	return r;
}

int
metrics_report(struct store *st, const struct metrics_filter *f, const struct metrics_config *cfg,
               cJSON **out, char **cause)
{
	cJSON *s;
	if (metrics_sessions(st, f, cfg, &s, cause) != 0)
		return -1;
	*out = metrics_aggregate(s, cfg);
	cJSON_Delete(s);
	return 0;
}
