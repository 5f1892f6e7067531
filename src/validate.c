/* validate.c -- the output validation layer: nothing reaches a customer unchecked. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "prefilter.h"
#include "phone.h"
#include "tools.h"
#include "validate.h"

/*
 * Every reply goes through this before a customer sees it, so the checks
 * are hand-written passes over the bytes: the policy's topic expressions
 * run only when a literal they need is in the reply, and the sources a
 * figure or a contact could come from (knowledge, tool results, allowed
 * text) are read only when the reply has one. Input is any NUL-terminated
 * byte string: every look-ahead stops at the terminating NUL, which is no
 * class of character below, so no scanner reads past the end.
 */

#define MAX_JSON_DEPTH 64 /* tool results nested deeper are not read */
#define MAX_NOUN       24 /* letters of a counted noun that are compared */

static const char default_account_re[] = "\\bACME-[0-9]{4,8}\\b";

/* ------------------------------------------------------- characters */

static inline int
is_upper(int c)
{
	return (unsigned)c - 'A' < 26u;
}

/* ’ or ‘ (U+2019, U+2018), read as a straight apostrophe. */
static inline int
curly_at(const unsigned char *u)
{
	return u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0x98 || u[2] == 0x99);
}

/* Bytes of white space at u: ASCII blanks or a no-break space. */
static inline size_t
space_at(const unsigned char *u)
{
	switch (u[0]) {
	case ' ':
	case '\t':
	case '\n':
	case '\r':
	case '\f':
	case '\v':
		return 1;
	case 0xc2:
		return u[1] == 0xa0 ? 2 : 0;
	default:
		return 0;
	}
}

/* Bytes of the blank between a number and its unit: one space or a no-break space. */
static inline size_t
gap_at(const char *s, size_t p)
{
	const unsigned char *u = (const unsigned char *)s + p;
	if (u[0] == ' ')
		return 1;
	return u[0] == 0xc2 && u[1] == 0xa0 ? 2 : 0;
}

/* Does the word w (lower case) start at s, case ignored, and end there? */
static int
word_at(const char *s, const char *w)
{
	if (lower(s[0]) != w[0])
		return 0;
	size_t n = strlen(w);
	return strncasecmp(s, w, n) == 0 && !is_alpha(s[n]);
}

/*
 * The phrase form of in: ASCII lower case, curly apostrophes straight,
 * each run of white space one space, no space at either end. out needs
 * strlen(in) + 1 bytes (the form is never longer).
 */
static void
fold(const char *in, char *out)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t o = 0;
	int blank = 0;

	while (*u) {
		size_t k = space_at(u);
		if (k > 0) {
			blank = 1;
			u += k;
			continue;
		}
		if (blank && o > 0)
			out[o++] = ' ';
		blank = 0;
		if (curly_at(u)) {
			out[o++] = '\'';
			u += 3;
		} else
			out[o++] = (char)lower(*u++);
	}
	out[o] = '\0';
}

/* ------------------------------------------------------- violations */

/* The violations found so far, with a hash index so each is kept once. */
struct vlist {
	struct strv *v;
	size_t *slot; /* index + 1 into v, or 0 */
	size_t cap;   /* a power of two */
};

static size_t
vlist_home(const struct vlist *vl, const char *e)
{
	return (size_t)hash_fnv1a(e, strlen(e)) & (vl->cap - 1);
}

static void
vlist_grow(struct vlist *vl)
{
	free(vl->slot);
	vl->cap = vl->cap ? vl->cap * 2 : 16;
	vl->slot = xcalloc(vl->cap, sizeof *vl->slot);
	for (size_t i = 0; i < vl->v->n; i++) {
		size_t k = vlist_home(vl, vl->v->v[i]);
		while (vl->slot[k] != 0)
			k = (k + 1) & (vl->cap - 1);
		vl->slot[k] = i + 1;
	}
}

/* Adds "kind:detail" (detail is len bytes) unless it is there already. */
static void
vlist_add(struct vlist *vl, const char *kind, const char *detail, size_t len)
{
	size_t kl = strlen(kind);
	char *e = xmalloc(kl + len + 2);
	memcpy(e, kind, kl);
	e[kl] = ':';
	memcpy(e + kl + 1, detail, len);
	e[kl + 1 + len] = '\0';

	if ((vl->v->n + 1) * 2 > vl->cap)
		vlist_grow(vl);
	size_t k = vlist_home(vl, e);
	while (vl->slot[k] != 0) {
		if (strcmp(vl->v->v[vl->slot[k] - 1], e) == 0) {
			free(e);
			return;
		}
		k = (k + 1) & (vl->cap - 1);
	}
	strv_take(vl->v, e);
	vl->slot[k] = vl->v->n;
}

/* ------------------------------------------------ the policy, compiled */

/*
 * The literals one of which every match of a pattern contains, each with
 * its trigrams: a literal is looked for only when the text has all of
 * them, which rules out nearly every pattern in one look at a bit set.
 */
#define TRI_BITS 4096

struct trigrams {
	uint64_t bits[TRI_BITS / 64];
};

struct lit {
	char *s; /* lower case */
	uint16_t *tri;
	size_t ntri;
};

struct litset {
	struct lit *v;
	size_t n;
	int always; /* no literals known: the pattern must always run */
};

static inline unsigned
tri_of(const char *p)
{
	uint32_t x = (uint32_t)(unsigned char)p[0] << 16 | (uint32_t)(unsigned char)p[1] << 8 |
	             (unsigned char)p[2];
	return (x * 2654435761u) >> (32 - 12);
}

static void
trigrams_of(struct trigrams *tg, const char *lo, size_t n)
{
	memset(tg, 0, sizeof *tg);
	for (size_t i = 0; i + 3 <= n; i++) {
		unsigned b = tri_of(lo + i);
		tg->bits[b / 64] |= 1ULL << (b % 64);
	}
}

static void
litset_init(struct litset *ls, const char *re)
{
	struct strv v = {0};
	memset(ls, 0, sizeof *ls);
	if (prefilter_literals(re, &v) != 0 || v.n == 0) {
		strv_free(&v);
		ls->always = 1;
		return;
	}
	ls->v = xcalloc(v.n, sizeof *ls->v);
	ls->n = v.n;
	for (size_t i = 0; i < v.n; i++) {
		struct lit *l = &ls->v[i];
		size_t len = strlen(v.v[i]);
		l->s = xstrdup(v.v[i]);
		l->ntri = len >= 3 ? len - 2 : 0;
		l->tri = xcalloc(l->ntri ? l->ntri : 1, sizeof *l->tri);
		for (size_t k = 0; k < l->ntri; k++)
			l->tri[k] = (uint16_t)tri_of(l->s + k);
	}
	strv_free(&v);
}

static void
litset_free(struct litset *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		free(ls->v[i].s);
		free(ls->v[i].tri);
	}
	free(ls->v);
	memset(ls, 0, sizeof *ls);
}

/* May the pattern match text lo (lower case, with trigrams tg)? */
static int
litset_may(const struct litset *ls, const struct trigrams *tg, const char *lo)
{
	if (ls->always)
		return 1;
	for (size_t i = 0; i < ls->n; i++) {
		const struct lit *l = &ls->v[i];
		size_t k = 0;
		while (k < l->ntri && (tg->bits[l->tri[k] / 64] >> (l->tri[k] % 64) & 1))
			k++;
		if (k == l->ntri && strstr(lo, l->s) != NULL)
			return 1;
	}
	return 0;
}

/* The same for text in any case, without trigrams. */
static int
litset_may_any_case(const struct litset *ls, const char *s)
{
	if (ls->always)
		return 1;
	for (size_t i = 0; i < ls->n; i++)
		if (strcasestr(s, ls->v[i].s) != NULL)
			return 1;
	return 0;
}

/* Per pattern of a list. */
struct list_filter {
	struct litset *pat;
	size_t n;
};

static void
list_filter_init(struct list_filter *lf, const struct strv *src)
{
	lf->n = src->n;
	lf->pat = xcalloc(src->n ? src->n : 1, sizeof *lf->pat);
	for (size_t j = 0; j < src->n; j++)
		litset_init(&lf->pat[j], src->v[j]);
}

static void
list_filter_free(struct list_filter *lf)
{
	for (size_t j = 0; j < lf->n; j++)
		litset_free(&lf->pat[j]);
	free(lf->pat);
}

/*
 * What validation needs from a policy beyond what it holds: literal
 * filters for the topic and commitment patterns, folded phrases, the
 * account-id format compiled case-sensitively. Kept per thread for the
 * last policy seen.
 */
struct vcache {
	const struct policy *policy;
	char hash[65];
	uint64_t print; /* of the content, for a policy without a hash */
	struct list_filter *topics;
	size_t ntopics;
	struct list_filter commit[COMMIT__N];
	struct strv phrases; /* folded, in the policy's order */
	regex_t account;
	int have_account;
	struct litset account_lits;
};

static uint64_t
mix(uint64_t h, const char *s)
{
	return (h * 1099511628211ULL) ^ (s ? hash_fnv1a(s, strlen(s)) : 0x9e37);
}

/* A fingerprint of what the cache depends on, for policies built without a file hash. */
static uint64_t
fingerprint(const struct policy *p)
{
	uint64_t h = p->ntopics;
	for (size_t t = 0; t < p->ntopics; t++) {
		h = mix(h, p->topics[t].name);
		for (size_t j = 0; j < p->topics[t].patterns.src.n; j++)
			h = mix(h, p->topics[t].patterns.src.v[j]);
	}
	for (size_t i = 0; i < p->prohibited_phrases.n; i++)
		h = mix(h, p->prohibited_phrases.v[i]);
	for (int k = 0; k < COMMIT__N; k++)
		for (size_t j = 0; j < p->commitments[k].src.n; j++)
			h = mix(h, p->commitments[k].src.v[j]);
	return mix(h, p->account_id_re);
}

static int
cache_fits(const struct vcache *c, const struct policy *p)
{
	if (c->policy != p)
		return 0;
	if (p == NULL)
		return 1;
	if (strcmp(c->hash, p->hash) != 0 || c->ntopics != p->ntopics ||
	    c->phrases.n != p->prohibited_phrases.n)
		return 0;
	for (int k = 0; k < COMMIT__N; k++)
		if (c->commit[k].n != p->commitments[k].src.n)
			return 0;
	return p->hash[0] != '\0' || c->print == fingerprint(p);
}

static void
cache_free(void *arg)
{
	struct vcache *c = arg;
	if (c == NULL)
		return;
	for (size_t t = 0; t < c->ntopics; t++)
		list_filter_free(&c->topics[t]);
	free(c->topics);
	for (int k = 0; k < COMMIT__N; k++)
		list_filter_free(&c->commit[k]);
	strv_free(&c->phrases);
	if (c->have_account)
		regfree(&c->account);
	litset_free(&c->account_lits);
	free(c);
}

static struct vcache *
cache_new(const struct policy *p)
{
	struct vcache *c = xcalloc(1, sizeof *c);

	c->policy = p;
	if (p != NULL) {
		memcpy(c->hash, p->hash, sizeof c->hash);
		c->hash[sizeof c->hash - 1] = '\0';
		if (c->hash[0] == '\0')
			c->print = fingerprint(p);
		c->ntopics = p->ntopics;
	}
	c->topics = xcalloc(c->ntopics ? c->ntopics : 1, sizeof *c->topics);
	for (size_t t = 0; t < c->ntopics; t++)
		list_filter_init(&c->topics[t], &p->topics[t].patterns.src);
	static const struct strv none;
	for (int k = 0; k < COMMIT__N; k++)
		list_filter_init(&c->commit[k], p != NULL ? &p->commitments[k].src : &none);

	for (size_t i = 0; p != NULL && i < p->prohibited_phrases.n; i++) {
		const char *ph = p->prohibited_phrases.v[i];
		char *f = xmalloc(strlen(ph) + 1);
		fold(ph, f);
		strv_take(&c->phrases, f);
	}

	const char *re =
	    p != NULL && p->account_id_re != NULL ? p->account_id_re : default_account_re;
	if (regcomp(&c->account, re, REG_EXTENDED) == 0) {
		c->have_account = 1;
		litset_init(&c->account_lits, re);
	}
	return c;
}

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;
static int cache_key_ok;

static void
cache_key_init(void)
{
	cache_key_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

/*
 * The compiled form of p: this thread's cached one when it is for the
 * same policy (same object, same content), else a new one that replaces
 * it. *owned is set when the caller must free the result (no cache).
 */
static struct vcache *
cache_get(const struct policy *p, int *owned)
{
	pthread_once(&cache_once, cache_key_init);
	struct vcache *old = cache_key_ok ? pthread_getspecific(cache_key) : NULL;
	if (old != NULL && cache_fits(old, p)) {
		*owned = 0;
		return old;
	}
	struct vcache *c = cache_new(p);
	if (cache_key_ok && pthread_setspecific(cache_key, c) == 0) {
		cache_free(old);
		*owned = 0;
	} else
		*owned = 1;
	return c;
}

/* ------------------------------------------------------------ sources */

typedef void (*text_fn)(void *arg, const char *s, size_t n);
/* A number in a tool result, or (length set) the length of a list there. */
typedef void (*number_fn)(void *arg, const char *key, double v, int length);

static void
json_walk(const cJSON *j, const char *key, int depth, text_fn tf, number_fn nf, void *arg)
{
	if (j == NULL || depth > MAX_JSON_DEPTH)
		return;
	if (cJSON_IsString(j) && j->valuestring != NULL)
		tf(arg, j->valuestring, strlen(j->valuestring));
	else if (cJSON_IsNumber(j))
		nf(arg, key, j->valuedouble, 0);
	else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
		if (cJSON_IsArray(j) && j->child != NULL)
			nf(arg, key, cJSON_GetArraySize(j), 1);
		for (const cJSON *c = j->child; c != NULL; c = c->next)
			json_walk(c, cJSON_IsObject(j) ? c->string : key, depth + 1, tf, nf, arg);
	}
}

/* Calls tf on every text a reply may draw on and nf on every tool-result number. */
static void
sources_each(const struct validation_context *ctx, text_fn tf, number_fn nf, void *arg)
{
	const struct strv *lists[] = {ctx->knowledge, ctx->allowed_text};
	for (size_t l = 0; l < nitems(lists); l++)
		for (size_t i = 0; lists[l] != NULL && i < lists[l]->n; i++)
			if (lists[l]->v[i] != NULL)
				tf(arg, lists[l]->v[i], strlen(lists[l]->v[i]));
	json_walk(ctx->tool_results, NULL, 0, tf, nf, arg);
}

/* ------------------------------------------------------------- topics */

/* s is the reply with straight apostrophes, lo the same in lower case with trigrams tg. */
static void
check_topics(const struct policy *p, const struct vcache *c, const char *s, const char *lo,
             const struct trigrams *tg, struct vlist *vl)
{
	for (size_t t = 0; p != NULL && t < c->ntopics; t++) {
		const struct patset *ps = &p->topics[t].patterns;
		const struct list_filter *tf = &c->topics[t];
		for (size_t j = 0; j < tf->n && j < ps->src.n; j++) {
			if (!litset_may(&tf->pat[j], tg, lo))
				continue;
			if (pattern_fires(&ps->v[j], s)) {
				const char *name = p->topics[t].name ? p->topics[t].name : "";
				vlist_add(vl, "prohibited_topic", name, strlen(name));
				break;
			}
		}
	}
}

static void
check_phrases(const struct policy *p, const struct vcache *c, const char *folded, struct vlist *vl)
{
	for (size_t i = 0; p != NULL && i < c->phrases.n; i++) {
		const char *ph = p->prohibited_phrases.v[i];
		if (c->phrases.v[i][0] != '\0' && strstr(folded, c->phrases.v[i]) != NULL)
			vlist_add(vl, "prohibited_phrase", ph, strlen(ph));
	}
}

/* ------------------------------------------------------ contacts, ids */

/* The next email address at or after *pos: 1 with it in [*a, *b), or 0. */
static int
next_email(const char *s, size_t n, size_t *pos, size_t *a, size_t *b)
{
	size_t from = *pos;
	const char *p = from < n ? memchr(s + from, '@', n - from) : NULL;

	while (p != NULL) {
		size_t at = (size_t)(p - s);
		size_t lim = at > 64 ? at - 64 : 0;
		if (lim < from)
			lim = from;
		size_t x = at;
		while (x > lim && email_local_char(s[x - 1]))
			x--;
		while (x < at && !is_alnum(s[x]))
			x++;
		size_t y = at + 1, ylim = n - at - 1 > 253 ? at + 1 + 253 : n;
		while (y < ylim && email_domain_char(s[y]))
			y++;
		while (y > at + 1 && (s[y - 1] == '.' || s[y - 1] == '-'))
			y--;
		if (x < at && !(x == lim && lim > from && email_local_char(s[x - 1])) &&
		    s[at - 1] != '.' && email_domain_ok(s + at + 1, y - at - 1) && !is_word(s[y])) {
			*a = x;
			*b = y;
			*pos = y;
			return 1;
		}
		p = memchr(p + 1, '@', n - at - 1);
	}
	*pos = n;
	return 0;
}

int
luhn_valid(const char *s, size_t len)
{
	unsigned char d[19];
	size_t nd = 0;

	if (s == NULL)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (is_digit(s[i])) {
			if (nd == sizeof d)
				return 0;
			d[nd++] = (unsigned char)(s[i] - '0');
		} else if (s[i] != ' ' && s[i] != '-')
			return 0;
	}
	if (nd < 13)
		return 0;
	unsigned sum = 0;
	for (size_t k = 0; k < nd; k++) {
		unsigned v = d[nd - 1 - k];
		if (k % 2 == 1 && (v *= 2) > 9)
			v -= 9;
		sum += v;
	}
	return sum % 10 == 0;
}

/* Can a card number start at s[i] (a digit)? Not inside a word, an amount or an id. */
static int
card_start_ok(const char *s, size_t i)
{
	if (i == 0)
		return 1;
	int c = (unsigned char)s[i - 1];
	if (is_word(c) || c == '.' || c == ',' || c == '/' || c == ':' || c == '$' || c == '#' ||
	    c == '@' || c == '+')
		return 0;
	return !(c == '-' && i >= 2 && is_alpha(s[i - 2]));
}

/*
 * A card number starting at s[i]: one run of 13-19 digits, or groups
 * separated by one space or hyphen (the first of 4-6 digits, the others
 * 2-7) with 13-19 digits in all, passing the Luhn check. Returns the end
 * of the longest such number, or 0; *next is where scanning goes on.
 */
static size_t
card_at(const char *s, size_t i, const unsigned char *taken, size_t *next)
{
	size_t gs[8], ge[8], p = i, tot = 0, found = 0;
	int ng = 0;

	while (ng < (int)nitems(gs)) {
		gs[ng] = p;
		while (is_digit(s[p]))
			p++;
		ge[ng++] = p;
		if ((s[p] == ' ' || s[p] == '-') && is_digit(s[p + 1]) && !taken[p + 1])
			p++;
		else
			break;
	}
	*next = ge[0];
	for (int e = 0; e < ng; e++) {
		size_t len = ge[e] - gs[e];
		if (e == 0 ? len < 13 && (len < 4 || len > 6) : len < 2 || len > 7)
			break;
		if ((tot += len) > 19)
			break;
		int c = (unsigned char)s[ge[e]];
		if (tot >= 13 && !is_word(c) &&
		    !((c == '.' || c == ',') && is_digit(s[ge[e] + 1])) &&
		    luhn_valid(s + gs[0], ge[e] - gs[0]))
			found = ge[e];
	}
	return found;
}

/* A US social security number at s[i]: ddd-dd-dddd, not an unissued area, group or serial. */
static size_t
ssn_at(const char *s, size_t i)
{
	const char *p = s + i;
	if (!(is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) && p[3] == '-' && is_digit(p[4]) &&
	      is_digit(p[5]) && p[6] == '-' && is_digit(p[7]) && is_digit(p[8]) && is_digit(p[9]) &&
	      is_digit(p[10])))
		return 0;
	if (is_word(p[11]) || (p[11] == '-' && is_digit(p[12])))
		return 0;
	int area = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	int group = (p[4] - '0') * 10 + (p[5] - '0');
	int serial = (p[7] - '0') * 1000 + (p[8] - '0') * 100 + (p[9] - '0') * 10 + (p[10] - '0');
	if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
		return 0;
	return i + 11;
}

/*
 * A UK National Insurance number at s[i]: two letters (not an unissued
 * prefix), six digits (perhaps in spaced pairs), a suffix A-D.
 */
static size_t
nino_at(const char *s, size_t i)
{
	static const char bad_prefix[][3] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};
	const char *p = s + i;

	if (!is_upper(p[0]) || !is_upper(p[1]) || strchr("DFIQUV", p[0]) != NULL ||
	    strchr("DFIOQUV", p[1]) != NULL)
		return 0;
	for (size_t k = 0; k < nitems(bad_prefix); k++)
		if (p[0] == bad_prefix[k][0] && p[1] == bad_prefix[k][1])
			return 0;
	size_t q = 2;
	int spaced = p[q] == ' ';
	q += (size_t)spaced;
	for (int pair = 0; pair < 3; pair++) {
		if (!is_digit(p[q]) || !is_digit(p[q + 1]))
			return 0;
		q += 2;
		if (spaced && pair < 2) {
			if (p[q] != ' ')
				return 0;
			q++;
		}
	}
	if (spaced || p[q] == ' ')
		q += p[q] == ' ';
	if (p[q] < 'A' || p[q] > 'D' || is_word(p[q + 1]))
		return 0;
	return i + q + 1;
}

/* The next account id (the policy's format) at or after *pos, or 0. */
static int
next_account(const struct vcache *c, const char *s, size_t n, size_t *pos, size_t *a, size_t *b)
{
	while (*pos < n) {
		regmatch_t m = {.rm_so = (regoff_t)*pos, .rm_eo = (regoff_t)n};
		if (regexec(&c->account, s, 1, &m, REG_STARTEND) != 0 || m.rm_so < 0)
			break;
		if (m.rm_eo <= m.rm_so) {
			*pos = (size_t)m.rm_so + 1;
			continue;
		}
		*a = (size_t)m.rm_so;
		*b = (size_t)m.rm_eo;
		*pos = *b;
		return 1;
	}
	*pos = n;
	return 0;
}

/* Could the account format match text t? With tg, t is in lower case and those are its trigrams. */
static int
account_may_match(const struct vcache *c, const char *t, size_t n, const struct trigrams *tg)
{
	if (!c->have_account || n > (size_t)INT_MAX / 2)
		return 0;
	return tg != NULL ? litset_may(&c->account_lits, tg, t)
	                  : litset_may_any_case(&c->account_lits, t);
}

/* ---------------------------------------------------------- figures */

enum fig_kind { FIG_NONE, FIG_MONEY, FIG_PCT, FIG_DATE, FIG_DUR, FIG_COUNT, FIG_NUM };

/* Units of a duration; a business or working day is a unit of its own. */
enum { U_SECOND = 1, U_MINUTE, U_HOUR, U_DAY, U_WEEK, U_MONTH, U_YEAR, U_BUSINESS = 16 };

struct figure {
	enum fig_kind kind;
	size_t a, b;     /* where it is in the text */
	double lo, hi;   /* value, or a range */
	const char *cur; /* money: ISO 4217 */
	int y, m, d;     /* date: year 0 when not given, day 0 for a month */
	int m2, d2;      /* the other reading of an ambiguous numeric date, or 0 */
	int unit;        /* duration */
	uint64_t noun;   /* count: hash of the noun's singular */
};

static const struct {
	const char *name;
	int month;
	int capital; /* must be capitalised: an abbreviation, or "May" */
} months[] = {
    {"january", 1, 0},   {"february", 2, 0}, {"march", 3, 0},     {"april", 4, 0},
    {"may", 5, 1},       {"june", 6, 0},     {"july", 7, 0},      {"august", 8, 0},
    {"september", 9, 0}, {"october", 10, 0}, {"november", 11, 0}, {"december", 12, 0},
    {"jan", 1, 1},       {"feb", 2, 1},      {"mar", 3, 1},       {"apr", 4, 1},
    {"jun", 6, 1},       {"jul", 7, 1},      {"aug", 8, 1},       {"sep", 9, 1},
    {"sept", 9, 1},      {"oct", 10, 1},     {"nov", 11, 1},      {"dec", 12, 1},
};

/* The month named by the len letters at s, or 0. */
static int
month_word(const char *s, size_t len)
{
	if (len < 3 || len > 9)
		return 0;
	for (size_t k = 0; k < nitems(months); k++)
		if (months[k].name[0] == lower(s[0]) && strlen(months[k].name) == len &&
		    strncasecmp(s, months[k].name, len) == 0 &&
		    (!months[k].capital || is_upper(s[0])))
			return months[k].month;
	return 0;
}

/* Words after a number that make it no count: "2 of", "3 pm", "5 or more". */
static const char *const not_nouns[] = {
    "a",     "about", "after", "again", "ago",   "all",    "also",  "am",    "an",    "and",
    "are",   "as",    "at",    "be",    "been",  "before", "both",  "but",   "by",    "can",
    "could", "did",   "do",    "does",  "each",  "either", "for",   "from",  "had",   "has",
    "have",  "he",    "her",   "here",  "his",   "i",      "if",    "in",    "into",  "is",
    "it",    "its",   "just",  "left",  "less",  "may",    "me",    "might", "minus", "more",
    "must",  "my",    "no",    "nor",   "not",   "of",     "off",   "on",    "only",  "onto",
    "or",    "our",   "out",   "over",  "per",   "plus",   "pm",    "shall", "she",   "should",
    "since", "so",    "than",  "that",  "the",   "their",  "them",  "then",  "there", "these",
    "they",  "this",  "those", "to",    "too",   "total",  "under", "until", "up",    "us",
    "via",   "vs",    "was",   "we",    "were",  "what",   "when",  "where", "which", "while",
    "who",   "why",   "will",  "with",  "would", "x",      "yet",   "you",   "your",
};

/* Words before a number that make it a label, not a quantity: "step 2", "order 12345". */
static const char *const labels[] = {
    "account", "apt",       "attempt",  "case",    "chapter",    "code", "day",
    "ext",     "extension", "floor",    "gen",     "generation", "id",   "invoice",
    "issue",   "item",      "level",    "line",    "model",      "no",   "number",
    "option",  "order",     "page",     "part",    "phase",      "pin",  "plan",
    "point",   "port",      "question", "ref",     "reference",  "rma",  "room",
    "round",   "section",   "series",   "sku",     "slot",       "step", "suite",
    "ticket",  "tier",      "unit",     "version", "week",       "year", "zone",
};

static int
in_list(const char *const *list, size_t n, const char *s, size_t len)
{
	for (size_t k = 0; k < n; k++)
		if (list[k][0] == lower(s[0]) && strlen(list[k]) == len &&
		    strncasecmp(s, list[k], len) == 0)
			return 1;
	return 0;
}

/* Is the number at s[a] a label: after "order", "#", "step" and the like? */
static int
label_before(const char *s, size_t a)
{
	size_t k = a;
	while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '#' || s[k - 1] == '.' || s[k - 1] == ':'))
		k--;
	if (k < a && s[a - 1] == '#')
		return 1;
	size_t e = k;
	while (k > 0 && is_alpha(s[k - 1]) && e - k <= 12)
		k--;
	if (k == e || (k > 0 && is_word(s[k - 1])))
		return 0;
	return in_list(labels, nitems(labels), s + k, e - k);
}

/* Is s[i] the first thing on its line, bar blanks and a bullet? */
static int
line_start(const char *s, size_t i)
{
	while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '-' || s[i - 1] == '*'))
		i--;
	return i == 0 || s[i - 1] == '\n' || s[i - 1] == '\r';
}

/* "arrived", "remaining": a verb, not the noun a count needs ("speed" is a noun). */
static int
verb_form(const char *w, size_t len)
{
	if (len >= 4 && lower(w[len - 2]) == 'e' && lower(w[len - 1]) == 'd')
		return lower(w[len - 3]) != 'e';
	return len >= 5 && lower(w[len - 3]) == 'i' && lower(w[len - 2]) == 'n' &&
	       lower(w[len - 1]) == 'g';
}

/* Hash of the singular of the len letters at s, lower case. */
static uint64_t
noun_hash(const char *s, size_t len)
{
	char w[MAX_NOUN + 1];
	if (len > MAX_NOUN)
		len = MAX_NOUN;
	for (size_t k = 0; k < len; k++)
		w[k] = (char)lower(s[k]);
	if (len > 3 && memcmp(w + len - 3, "ies", 3) == 0)
		w[len - 3] = 'y', len -= 2;
	else if (len > 4 &&
	         (memcmp(w + len - 4, "ches", 4) == 0 || memcmp(w + len - 4, "shes", 4) == 0 ||
	          memcmp(w + len - 4, "sses", 4) == 0))
		len -= 2;
	else if (len > 3 &&
	         (memcmp(w + len - 3, "xes", 3) == 0 || memcmp(w + len - 3, "zes", 3) == 0))
		len -= 2;
	else if (len > 2 && w[len - 1] == 's' && w[len - 2] != 's' && w[len - 2] != 'u' &&
	         w[len - 2] != 'i')
		len--;
	return hash_fnv1a(w, len);
}

/*
 * A number at s[i]: digits, thousands commas, a fraction. Returns its
 * end, or 0 when it has more than 15 digits (an id, not a figure).
 */
static size_t
parse_num(const char *s, size_t i, double *v, int *ndigits, int *grouped)
{
	uint64_t ip = 0;
	size_t p = i;
	int nd = 0;

	*grouped = 0;
	while (is_digit(s[p])) {
		if (++nd > 15)
			return 0;
		ip = ip * 10 + (uint64_t)(s[p++] - '0');
	}
	if (nd <= 3)
		while (s[p] == ',' && is_digit(s[p + 1]) && is_digit(s[p + 2]) &&
		       is_digit(s[p + 3]) && !is_digit(s[p + 4])) {
			if ((nd += 3) > 15)
				return 0;
			ip = ip * 1000 + (uint64_t)((s[p + 1] - '0') * 100 + (s[p + 2] - '0') * 10 +
			                            (s[p + 3] - '0'));
			p += 4;
			*grouped = 1;
		}
	double f = 0, scale = 1;
	if (s[p] == '.' && is_digit(s[p + 1])) {
		int fd = 0;
		for (p++; is_digit(s[p]); p++)
			if (fd++ < 9) {
				f = f * 10 + (s[p] - '0');
				scale *= 10;
			}
	}
	*v = (double)ip + f / scale;
	*ndigits = nd;
	return p;
}

/* Value of the k digits at s (all digits). */
static int
digits_val(const char *s, size_t k)
{
	int v = 0;
	for (size_t j = 0; j < k; j++)
		v = v * 10 + (s[j] - '0');
	return v;
}

static size_t
digit_run(const char *s, size_t p)
{
	size_t q = p;
	while (is_digit(s[q]))
		q++;
	return q - p;
}

/* An ordinal suffix (st, nd, rd, th) at s[p] ending a word: its end, else p. */
static size_t
ordinal_after(const char *s, size_t p)
{
	static const char *const sfx[] = {"st", "nd", "rd", "th"};
	for (size_t k = 0; k < nitems(sfx); k++)
		if (lower(s[p]) == sfx[k][0] && lower(s[p + 1]) == sfx[k][1] && !is_word(s[p + 2]))
			return p + 2;
	return p;
}

/* A year (1900-2199) after a day: ", 2026" or " 2026". Its end, else p. */
static size_t
year_after(const char *s, size_t p, int *y)
{
	size_t k = p;
	if (s[k] == ',')
		k++;
	if (s[k] != ' ')
		return p;
	k++;
	if (digit_run(s, k) != 4 || is_word(s[k + 4]))
		return p;
	int v = digits_val(s + k, 4);
	if (v < 1900 || v > 2199)
		return p;
	*y = v;
	return k + 4;
}

/* A day of the month (1-31, perhaps an ordinal) at s[i]; its end or 0. */
static size_t
day_at(const char *s, size_t i, int *d)
{
	size_t k = digit_run(s, i);
	if (k < 1 || k > 2)
		return 0;
	int v = digits_val(s + i, k);
	size_t e = ordinal_after(s, i + k);
	if (v < 1 || v > 31 || is_word(s[e]))
		return 0;
	*d = v;
	return e;
}

/* Numeric dates: 2026-10-05, 2026/10/05, 10/05/2026, 5.10.2026, 10-05-26. */
static size_t
numeric_date_at(const char *s, size_t i, struct figure *f)
{
	size_t l1 = digit_run(s, i), p = i + l1;
	char sep = s[p];
	if (l1 > 4 || (sep != '-' && sep != '/' && sep != '.'))
		return 0;
	size_t l2 = digit_run(s, p + 1), q = p + 1 + l2;
	if (l2 < 1 || l2 > 2 || s[q] != sep)
		return 0;
	size_t l3 = digit_run(s, q + 1), e = q + 1 + l3;
	if (l3 < 1 || l3 > 4)
		return 0;
	int a = digits_val(s + i, l1), b = digits_val(s + p + 1, l2), c = digits_val(s + q + 1, l3);

	if (l1 == 4 && sep != '.' && l3 >= 1 && l3 <= 2) {
		if (is_word(s[e]) && !(s[e] == 'T' && is_digit(s[e + 1])))
			return 0;
		if (a < 1900 || a > 2199 || b < 1 || b > 12 || c < 1 || c > 31)
			return 0;
		f->y = a, f->m = b, f->d = c;
		return e;
	}
	if (l1 > 2 || (l3 != 2 && l3 != 4) || is_word(s[e]) ||
	    ((s[e] == '.' || s[e] == '-' || s[e] == '/') && is_digit(s[e + 1])))
		return 0;
	int y = l3 == 2 ? 2000 + c : c;
	int m = a, d = b; /* month first, the US way */
	if (sep == '.')
		m = b, d = a; /* day first */
	if (m > 12 && d <= 12) {
		int t = m;
		m = d, d = t;
	} else if (m <= 12 && d <= 12 && m != d)
		f->m2 = d, f->d2 = m;
	if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1900 || y > 2199) {
		f->m2 = f->d2 = 0;
		return 0;
	}
	f->y = y, f->m = m, f->d = d;
	return e;
}

/* "October 5", "Oct. 5th, 2026", "October 2026": a month name just before s[i]. */
static size_t
month_first_at(const char *s, size_t i, size_t *start, struct figure *f)
{
	if (i < 2 || s[i - 1] != ' ')
		return 0;
	size_t we = i - 1;
	if (s[we - 1] == '.')
		we--;
	size_t ws = we;
	while (ws > 0 && is_alpha(s[ws - 1]) && we - ws < 10)
		ws--;
	if (ws == we || (ws > 0 && is_word(s[ws - 1])))
		return 0;
	int m = month_word(s + ws, we - ws);
	if (m == 0 || (we < i - 1 && we - ws > 4))
		return 0;
	size_t e;
	int d;
	if (digit_run(s, i) == 4 && !is_word(s[i + 4])) {
		int y = digits_val(s + i, 4);
		if (y < 1900 || y > 2199)
			return 0;
		f->y = y, f->m = m;
		e = i + 4;
	} else if ((e = day_at(s, i, &d)) != 0) {
		f->m = m, f->d = d;
		e = year_after(s, e, &f->y);
	} else
		return 0;
	*start = ws;
	return e;
}

/* "5 October", "5th of Oct 2026". */
static size_t
day_first_at(const char *s, size_t i, struct figure *f)
{
	int d;
	size_t e = day_at(s, i, &d);
	if (e == 0 || s[e] != ' ')
		return 0;
	e++;
	if (strncasecmp(s + e, "of ", 3) == 0)
		e += 3;
	size_t we = e;
	while (is_alpha(s[we]) && we - e < 10)
		we++;
	int m = we > e && !is_word(s[we]) ? month_word(s + e, we - e) : 0;
	if (m == 0)
		return 0;
	if (s[we] == '.' && we - e == 3 && s[we + 1] == ' ' && is_digit(s[we + 2]))
		we++; /* "5 Oct. 2026" */
	f->m = m, f->d = d;
	return year_after(s, we, &f->y);
}

/* A currency just before a number at s[i]: "$", "US$", "€", "£", "USD ". */
static const char *
currency_before(const char *s, size_t i, size_t *start)
{
	static const char *const codes[] = {"USD", "EUR", "GBP", "CAD", "AUD"};
	const unsigned char *u = (const unsigned char *)s;

	if (i >= 1 && s[i - 1] == '$') {
		*start = i >= 3 && s[i - 3] == 'U' && s[i - 2] == 'S' ? i - 3 : i - 1;
		return "USD";
	}
	if (i >= 3 && u[i - 3] == 0xe2 && u[i - 2] == 0x82 && u[i - 1] == 0xac)
		return (*start = i - 3), "EUR";
	if (i >= 2 && u[i - 2] == 0xc2 && u[i - 1] == 0xa3)
		return (*start = i - 2), "GBP";
	if (i >= 4 && s[i - 1] == ' ' && (i == 4 || !is_word(s[i - 5])))
		for (size_t k = 0; k < nitems(codes); k++)
			if (memcmp(s + i - 4, codes[k], 3) == 0)
				return (*start = i - 4), codes[k];
	return NULL;
}

/* A currency just after a number ending at p: " USD", " dollars", "EUR". */
static const char *
currency_after(const char *s, size_t p, size_t *end)
{
	static const struct {
		const char *w;
		const char *iso;
		int word; /* needs the space */
	} after[] = {
	    {"usd", "USD", 0},    {"eur", "EUR", 0},   {"gbp", "GBP", 0},
	    {"cad", "CAD", 0},    {"aud", "AUD", 0},   {"dollars", "USD", 1},
	    {"dollar", "USD", 1}, {"euros", "EUR", 1}, {"euro", "EUR", 1},
	};
	size_t k = p + (s[p] == ' ');
	for (size_t j = 0; j < nitems(after); j++) {
		if (lower(s[k]) != after[j].w[0])
			continue;
		size_t l = strlen(after[j].w);
		if ((after[j].word && k == p) || strncasecmp(s + k, after[j].w, l) != 0 ||
		    is_word(s[k + l]))
			continue;
		if (!after[j].word && !(is_upper(s[k]) && is_upper(s[k + 1]) && is_upper(s[k + 2])))
			continue; /* codes in capitals: "eur" is no currency */
		*end = k + l;
		return after[j].iso;
	}
	return NULL;
}

/* A range's second number after the first ends at p: "-5", " to 5", "–$20". */
static size_t
range_after(const char *s, size_t p, int money, double *hi)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = p;
	int sp = s[k] == ' ';

	k += (size_t)sp;
	if (s[k] == '-')
		k++;
	else if (u[k] == 0xe2 && u[k + 1] == 0x80 && (u[k + 2] == 0x93 || u[k + 2] == 0x94))
		k += 3;
	else if (sp && s[k] == 't' && s[k + 1] == 'o' && s[k + 2] == ' ')
		k += 2;
	else
		return 0;
	if (sp || s[k] == ' ') {
		if (s[k] != ' ')
			return 0;
		k++;
	}
	if (money) { /* the sign again: "$10-$20" */
		if (s[k] == '$')
			k++;
		else if (u[k] == 0xe2 && u[k + 1] == 0x82 && u[k + 2] == 0xac)
			k += 3;
		else if (u[k] == 0xc2 && u[k + 1] == 0xa3)
			k += 2;
	}
	if (!is_digit(s[k]))
		return 0;
	int nd, grouped;
	size_t e = parse_num(s, k, hi, &nd, &grouped);
	if (e == 0 || is_word(s[e]) || ((s[e] == '.' || s[e] == ',') && is_digit(s[e + 1])))
		return 0;
	return e;
}

/* A percent sign or word after a number ending at p: its end, or 0. */
static size_t
percent_after(const char *s, size_t p)
{
	if (s[p] == '%')
		return p + 1;
	if (s[p] == ' ' && s[p + 1] == '%')
		return p + 2;
	if (s[p] != ' ' && s[p] != '-')
		return 0;
	if (word_at(s + p + 1, "percent"))
		return p + 8;
	if (s[p] == ' ' && strncasecmp(s + p + 1, "per cent", 8) == 0 && !is_alpha(s[p + 9]))
		return p + 9;
	return 0;
}

/* A unit of time after a number ending at p: "30 days", "30-day", "3 business days". */
static size_t
unit_after(const char *s, size_t p, int *unit)
{
	static const struct {
		const char *w;
		int unit;
	} units[] = {
	    {"seconds", U_SECOND}, {"second", U_SECOND}, {"secs", U_SECOND},  {"sec", U_SECOND},
	    {"minutes", U_MINUTE}, {"minute", U_MINUTE}, {"mins", U_MINUTE},  {"min", U_MINUTE},
	    {"hours", U_HOUR},     {"hour", U_HOUR},     {"hrs", U_HOUR},     {"hr", U_HOUR},
	    {"days", U_DAY},       {"day", U_DAY},       {"weeks", U_WEEK},   {"week", U_WEEK},
	    {"wks", U_WEEK},       {"wk", U_WEEK},       {"months", U_MONTH}, {"month", U_MONTH},
	    {"years", U_YEAR},     {"year", U_YEAR},     {"yrs", U_YEAR},     {"yr", U_YEAR},
	};
	size_t k = p, g;
	int business = 0;

	if (s[k] == '-')
		k++;
	else if ((g = gap_at(s, k)) != 0)
		k += g;
	else
		return 0;
	if (word_at(s + k, "business") || word_at(s + k, "working") || word_at(s + k, "calendar")) {
		business = lower(s[k]) != 'c';
		k += lower(s[k]) == 'w' ? 7 : 8;
		if (s[k] != ' ' && s[k] != '-')
			return 0;
		k++;
	}
	for (size_t j = 0; j < nitems(units); j++)
		if (word_at(s + k, units[j].w)) {
			*unit = units[j].unit | (business ? U_BUSINESS : 0);
			return k + strlen(units[j].w);
		}
	return 0;
}

/* Can a figure start at s[a]? Not inside a word, an id, a version or a time. */
static int
figure_start_ok(const char *s, size_t a, int money)
{
	if (a == 0)
		return 1;
	int c = (unsigned char)s[a - 1];
	if (is_word(c) || c == '#' || c == '@')
		return 0;
	if (a >= 2 && is_alnum(s[a - 2]) && c != 0 && strchr("-./:,=&?+\\", c) != NULL)
		return money && c == '-'; /* "$10-$20" */
	return 1;
}

/* Past the word, id or compound ("v1.2.3", "10:30", "24/7") at s[i]. */
static size_t
skip_token(const char *s, size_t i)
{
	size_t p = i;
	while (is_word(s[p]) ||
	       (s[p] != '\0' && strchr("-./:,", s[p]) != NULL && is_alnum(s[p + 1])))
		p++;
	return p > i ? p : i + 1;
}

/*
 * The figure whose number starts at s[i] (a digit), into f. Returns the
 * position to go on from (past i); f->kind is FIG_NONE when there is none.
 */
static size_t
figure_at(const char *s, size_t i, struct figure *f)
{
	size_t a = i, p, e;
	memset(f, 0, sizeof *f);

	const char *cur = currency_before(s, i, &a);
	if (!figure_start_ok(s, a, cur != NULL))
		return skip_token(s, i);
	if (cur == NULL) {
		size_t start = i;
		if ((e = numeric_date_at(s, i, f)) != 0 ||
		    (e = month_first_at(s, i, &start, f)) != 0 ||
		    (e = day_first_at(s, i, f)) != 0) {
			f->kind = FIG_DATE;
			f->a = start;
			f->b = e;
			return e;
		}
		memset(f, 0, sizeof *f);
	}

	double v, hi;
	int nd, grouped, unit;
	if ((p = parse_num(s, i, &v, &nd, &grouped)) == 0)
		return skip_token(s, i);
	f->a = a;
	f->lo = f->hi = v;
	size_t r = range_after(s, p, cur != NULL, &hi);

	if (cur != NULL) {
		/* "€20,50": a decimal comma, the European way. */
		if (!grouped && s[p] == ',' && is_digit(s[p + 1]) && is_digit(s[p + 2]) &&
		    !is_digit(s[p + 3])) {
			/* "€1.299,00": that point groups thousands. */
			const char *dot = memchr(s + i, '.', p - i);
			if (dot != NULL && s + p - dot == 4) {
				v = 0;
				for (size_t q = i; q < p; q++)
					if (is_digit(s[q]))
						v = v * 10 + (s[q] - '0');
			}
			f->lo = f->hi = v + (s[p + 1] - '0') / 10.0 + (s[p + 2] - '0') / 100.0;
			p += 3;
			r = range_after(s, p, 1, &hi);
		}
		f->kind = FIG_MONEY;
		f->cur = cur;
		if (r != 0)
			f->hi = hi, p = r;
		if (is_word(s[p]))
			return f->kind = FIG_NONE, skip_token(s, i);
		f->b = p;
		return p;
	}
	if (r != 0) {
		if ((e = percent_after(s, r)) != 0)
			f->kind = FIG_PCT;
		else if ((e = unit_after(s, r, &unit)) != 0)
			f->kind = FIG_DUR, f->unit = unit;
		if (e != 0) {
			f->hi = hi;
			f->b = e;
			return e;
		}
	}
	if ((e = percent_after(s, p)) != 0) {
		f->kind = FIG_PCT;
		f->b = e;
		return e;
	}
	if ((e = unit_after(s, p, &unit)) != 0) {
		f->kind = FIG_DUR;
		f->unit = unit;
		f->b = e;
		return e;
	}
	if (!is_word(s[p]) && (cur = currency_after(s, p, &e)) != NULL) {
		f->kind = FIG_MONEY;
		f->cur = cur;
		f->b = e;
		return e;
	}
	if (is_word(s[p]) || (s[p] != '\0' && strchr("-./:,", s[p]) != NULL && is_alnum(s[p + 1])))
		return skip_token(s, i);

	/* A count: a number and a noun. */
	size_t g = gap_at(s, p), ws = p + g, we = ws;
	while (is_alpha(s[we]) && we - ws <= MAX_NOUN)
		we++;
	if (g != 0 && we - ws >= 2 && !is_word(s[we]) && v != 1 && (grouped || nd <= 4) &&
	    !in_list(not_nouns, nitems(not_nouns), s + ws, we - ws) &&
	    !verb_form(s + ws, we - ws) && month_word(s + ws, we - ws) == 0 && !line_start(s, i) &&
	    !label_before(s, i)) {
		f->kind = FIG_COUNT;
		f->noun = noun_hash(s + ws, we - ws);
		f->b = we;
		return p;
	}
	if (!label_before(s, i)) {
		f->kind = FIG_NUM;
		f->b = p;
	}
	return p;
}

/* The next figure at or after *pos, skipping what taken marks (may be NULL): 1 or 0. */
static int
next_figure(const char *s, size_t n, const unsigned char *taken, size_t *pos, struct figure *f)
{
	size_t i = *pos;
	while (i < n) {
		if (!is_digit(s[i])) {
			i += strcspn(s + i, "0123456789");
			continue;
		}
		if (taken != NULL && taken[i]) {
			while (i < n && taken[i])
				i++;
			continue;
		}
		i = figure_at(s, i, f);
		if (f->kind != FIG_NONE) {
			*pos = i;
			return 1;
		}
	}
	*pos = n;
	return 0;
}

/* ---------------------------------------------------- the ground truth */

enum key_kind {
	K_MONEY = 1, /* unit: currency; a: value */
	K_NUM,       /* a plain number in a text, or any tool-result number */
	K_TOOLNUM,   /* a tool-result number */
	K_PCT,
	K_DATE, /* unit: one of the D_ below; a: year; b: month * 100 + day */
	K_DUR,  /* unit; a, b: the range */
	K_TOOLDUR,
	K_COUNT,  /* a: value; w: noun */
	K_LENGTH, /* a tool result's list of a: "3 orders" for three of them */
};
enum { D_FULL = 1, D_MONTH_DAY, D_YEARLESS, D_YEAR_MONTH };

struct fkey {
	uint32_t kind, unit;
	int64_t a, b;
	uint64_t w;
};

/* Figures the sources hold, as a hash set of keys. */
struct fset {
	struct fkey *v;
	unsigned char *used;
	size_t n, cap;
};

/* A value as an exact key: thousandths. */
static int64_t
scaled(double v)
{
	if (!(v > -1e15 && v < 1e15))
		return INT64_MIN;
	return (int64_t)llround(v * 1000);
}

static struct fkey
fkey_of(uint32_t kind, uint32_t unit, int64_t a, int64_t b, uint64_t w)
{
	struct fkey k;
	memset(&k, 0, sizeof k);
	k.kind = kind, k.unit = unit, k.a = a, k.b = b, k.w = w;
	return k;
}

static size_t
fset_home(const struct fset *fs, const struct fkey *k)
{
	uint64_t h = ((uint64_t)k->kind << 32 | k->unit) * 0x9e3779b97f4a7c15ULL;
	h ^= (uint64_t)k->a * 0xc2b2ae3d27d4eb4fULL;
	h ^= (uint64_t)k->b * 0x165667b19e3779f9ULL;
	h ^= k->w;
	h ^= h >> 31;
	h *= 0xd6e8feb86659fd93ULL;
	h ^= h >> 32;
	return (size_t)h & (fs->cap - 1);
}

static int
fset_has(const struct fset *fs, struct fkey k)
{
	if (fs->cap == 0)
		return 0;
	for (size_t i = fset_home(fs, &k);; i = (i + 1) & (fs->cap - 1)) {
		if (!fs->used[i])
			return 0;
		if (memcmp(&fs->v[i], &k, sizeof k) == 0)
			return 1;
	}
}

static void
fset_add(struct fset *fs, struct fkey k)
{
	if ((fs->n + 1) * 2 > fs->cap) {
		struct fset g = {.cap = fs->cap ? fs->cap * 2 : 64};
		g.v = xcalloc(g.cap, sizeof *g.v);
		g.used = xcalloc(g.cap, 1);
		for (size_t i = 0; i < fs->cap; i++)
			if (fs->used[i])
				fset_add(&g, fs->v[i]);
		free(fs->v);
		free(fs->used);
		*fs = g;
	}
	size_t i = fset_home(fs, &k);
	while (fs->used[i]) {
		if (memcmp(&fs->v[i], &k, sizeof k) == 0)
			return;
		i = (i + 1) & (fs->cap - 1);
	}
	fs->v[i] = k;
	fs->used[i] = 1;
	fs->n++;
}

static uint32_t
currency_unit(const char *iso)
{
	return (uint32_t)(unsigned char)iso[0] << 16 | (uint32_t)(unsigned char)iso[1] << 8 |
	       (unsigned char)iso[2];
}

static void
add_date(struct fset *fs, int y, int m, int d)
{
	int64_t md = m * 100 + d;
	if (d != 0) {
		fset_add(fs, fkey_of(K_DATE, D_MONTH_DAY, 0, md, 0));
		fset_add(fs, fkey_of(K_DATE, y ? D_FULL : D_YEARLESS, y, md, 0));
	}
	if (y != 0)
		fset_add(fs, fkey_of(K_DATE, D_YEAR_MONTH, y, m * 100, 0));
}

static void
fset_text(void *arg, const char *s, size_t n)
{
	struct fset *fs = arg;
	struct figure f;
	size_t pos = 0;

	while (next_figure(s, n, NULL, &pos, &f)) {
		switch (f.kind) {
		case FIG_MONEY:
			fset_add(fs, fkey_of(K_MONEY, currency_unit(f.cur), scaled(f.lo), 0, 0));
			fset_add(fs, fkey_of(K_MONEY, currency_unit(f.cur), scaled(f.hi), 0, 0));
			break;
		case FIG_PCT:
			fset_add(fs, fkey_of(K_PCT, 0, scaled(f.lo), 0, 0));
			fset_add(fs, fkey_of(K_PCT, 0, scaled(f.hi), 0, 0));
			break;
		case FIG_DATE:
			add_date(fs, f.y, f.m, f.d);
			if (f.m2 != 0)
				add_date(fs, f.y, f.m2, f.d2);
			break;
		case FIG_DUR:
			fset_add(fs,
			         fkey_of(K_DUR, (uint32_t)f.unit, scaled(f.lo), scaled(f.hi), 0));
			break;
		case FIG_COUNT:
			fset_add(fs, fkey_of(K_COUNT, 0, scaled(f.lo), 0, f.noun));
			break;
		case FIG_NUM:
			fset_add(fs, fkey_of(K_NUM, 0, scaled(f.lo), 0, 0));
			break;
		case FIG_NONE:
			break;
		}
	}
}

/* A tool-result number; its name may say it is a duration ("eta_days": 3). */
static void
fset_number(void *arg, const char *name, double v, int length)
{
	static const struct {
		const char *w;
		int unit;
	} hints[] = {{"second", U_SECOND}, {"minute", U_MINUTE}, {"hour", U_HOUR}, {"day", U_DAY},
	             {"week", U_WEEK},     {"month", U_MONTH},   {"year", U_YEAR}};
	struct fset *fs = arg;

	if (length) {
		fset_add(fs, fkey_of(K_LENGTH, 0, scaled(v), 0, 0));
		return;
	}
	fset_add(fs, fkey_of(K_NUM, 0, scaled(v), 0, 0));
	fset_add(fs, fkey_of(K_TOOLNUM, 0, scaled(v), 0, 0));
	if (name == NULL)
		return;
	char low[64];
	size_t n = 0;
	for (; name[n] != '\0' && n < sizeof low - 1; n++)
		low[n] = (char)lower(name[n]);
	low[n] = '\0';
	for (size_t k = 0; k < nitems(hints); k++)
		if (strstr(low, hints[k].w) != NULL) {
			int b = strstr(low, "business") || strstr(low, "working") ? U_BUSINESS : 0;
			fset_add(
			    fs, fkey_of(K_TOOLDUR, (uint32_t)(hints[k].unit | b), scaled(v), 0, 0));
		}
}

static int
date_known(const struct fset *fs, int y, int m, int d)
{
	int64_t md = m * 100 + d;
	if (d == 0)
		return fset_has(fs, fkey_of(K_DATE, D_YEAR_MONTH, y, m * 100, 0));
	if (y == 0)
		return fset_has(fs, fkey_of(K_DATE, D_MONTH_DAY, 0, md, 0));
	return fset_has(fs, fkey_of(K_DATE, D_FULL, y, md, 0)) ||
	       fset_has(fs, fkey_of(K_DATE, D_YEARLESS, 0, md, 0));
}

static int
money_known(const struct fset *fs, const char *cur, double v)
{
	return fset_has(fs, fkey_of(K_MONEY, currency_unit(cur), scaled(v), 0, 0)) ||
	       fset_has(fs, fkey_of(K_NUM, 0, scaled(v), 0, 0));
}

static int
pct_known(const struct fset *fs, double v)
{
	return fset_has(fs, fkey_of(K_PCT, 0, scaled(v), 0, 0)) ||
	       fset_has(fs, fkey_of(K_TOOLNUM, 0, scaled(v), 0, 0));
}

static int
grounded(const struct fset *fs, const struct figure *f)
{
	switch (f->kind) {
	case FIG_MONEY:
		return money_known(fs, f->cur, f->lo) && money_known(fs, f->cur, f->hi);
	case FIG_PCT:
		return pct_known(fs, f->lo) && pct_known(fs, f->hi);
	case FIG_DATE:
		return date_known(fs, f->y, f->m, f->d) ||
		       (f->m2 != 0 && date_known(fs, f->y, f->m2, f->d2));
	case FIG_DUR:
		return fset_has(fs, fkey_of(K_DUR, (uint32_t)f->unit, scaled(f->lo), scaled(f->hi),
		                            0)) ||
		       (f->lo == f->hi &&
		        fset_has(fs, fkey_of(K_TOOLDUR, (uint32_t)f->unit, scaled(f->lo), 0, 0)));
	case FIG_COUNT:
		return fset_has(fs, fkey_of(K_COUNT, 0, scaled(f->lo), 0, f->noun)) ||
		       fset_has(fs, fkey_of(K_LENGTH, 0, scaled(f->lo), 0, 0)) ||
		       fset_has(fs, fkey_of(K_NUM, 0, scaled(f->lo), 0, 0));
	default:
		return 1;
	}
}

/* ------------------------------------------------------------ allowed */

/* Contacts and ids the sources hold, read when a reply has one. */
struct allow {
	int built;
	const struct vcache *c;
	struct strv emails, accounts, phones; /* phones as keys */
};

static void
allow_text(void *arg, const char *s, size_t n)
{
	struct allow *al = arg;
	size_t pos = 0, a, b;
	char k[16];

	while (next_email(s, n, &pos, &a, &b))
		strv_take(&al->emails, xstrndup(s + a, b - a));
	pos = 0;
	while (phone_next(s, n, NULL, &pos, &a, &b, k))
		strv_add(&al->phones, k);
	if (account_may_match(al->c, s, n, NULL)) {
		pos = 0;
		while (next_account(al->c, s, n, &pos, &a, &b))
			strv_take(&al->accounts, xstrndup(s + a, b - a));
	}
}

/* A tool-result number may be a phone number stored as one. */
static void
allow_number(void *arg, const char *name, double v, int length)
{
	struct allow *al = arg;
	if (!length && v >= 1e6 && v < 1e15 && v == floor(v)) {
		char dg[24], k[16];
		int n = snprintf(dg, sizeof dg, "%.0f", v);
		if (n > 0 && n <= 15) {
			phone_key(dg, n, k);
			strv_add(&al->phones, k);
		}
	}
}

static void
allow_need(struct allow *al, const struct validation_context *ctx)
{
	if (!al->built) {
		al->built = 1;
		sources_each(ctx, allow_text, allow_number, al);
	}
}

static void
allow_free(struct allow *al)
{
	strv_free(&al->emails);
	strv_free(&al->accounts);
	strv_free(&al->phones);
}

static int
strv_has_case(const struct strv *v, const char *s, size_t len)
{
	for (size_t i = 0; v != NULL && i < v->n; i++)
		if (v->v[i] != NULL && strlen(v->v[i]) == len && strncasecmp(v->v[i], s, len) == 0)
			return 1;
	return 0;
}

/* Is this email or account id (s[0, len)) the customer's own or in the sources? */
static int
value_allowed(struct allow *al, const struct validation_context *ctx, const struct strv *found,
              const char *s, size_t len)
{
	if (strv_has_case(ctx->customer_ids, s, len))
		return 1;
	allow_need(al, ctx);
	return strv_has_case(found, s, len);
}

static int
phone_allowed(struct allow *al, const struct validation_context *ctx, const char *k)
{
	const struct strv *ids = ctx->customer_ids;
	for (size_t i = 0; ids != NULL && i < ids->n; i++) {
		char dg[16], ik[16];
		int n = 0, many = 0;
		for (const char *q = ids->v[i]; q != NULL && *q != '\0'; q++)
			if (is_digit(*q)) {
				if (n == 15) {
					many = 1;
					break;
				}
				dg[n++] = *q;
			}
		if (!many && n >= 7) {
			phone_key(dg, n, ik);
			if (phone_same(k, ik))
				return 1;
		}
	}
	allow_need(al, ctx);
	for (size_t i = 0; i < al->phones.n; i++)
		if (phone_same(k, al->phones.v[i]))
			return 1;
	return 0;
}

static void
mark(unsigned char *taken, size_t a, size_t b)
{
	memset(taken + a, 1, b - a);
}

/*
 * Contacts, ids and numbers that must not reach a customer. What is
 * found is marked in taken so no figure is read inside it.
 */
static void
check_pii(const struct vcache *c, const struct validation_context *ctx, const char *s,
          const char *lo, const struct trigrams *tg, size_t n, unsigned char *taken,
          struct vlist *vl)
{
	struct allow al = {.c = c};
	size_t pos = 0, a, b, e;
	int reported = 0;
	char k[16];

	while (next_email(s, n, &pos, &a, &b)) {
		mark(taken, a, b);
		if (!reported && !value_allowed(&al, ctx, &al.emails, s + a, b - a)) {
			vlist_add(vl, "pii", "email", 5);
			reported = 1;
		}
	}

	reported = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]) || taken[i])
			continue;
		if (!card_start_ok(s, i)) {
			while (is_digit(s[i + 1]))
				i++;
			continue;
		}
		size_t next;
		if ((e = card_at(s, i, taken, &next)) != 0) {
			mark(taken, i, e);
			if (!reported)
				vlist_add(vl, "pii", "card_number", 11);
			reported = 1;
			i = e - 1;
		} else if ((e = ssn_at(s, i)) != 0 &&
		           (i == 0 || (s[i - 1] != '-' && s[i - 1] != '.' && s[i - 1] != '$'))) {
			mark(taken, i, e);
			vlist_add(vl, "pii", "national_id", 11);
			i = e - 1;
		} else
			i = next - 1;
	}
	for (size_t i = 0; i + 8 < n; i++)
		if (is_upper(s[i]) && !taken[i] && (i == 0 || !is_word(s[i - 1])) &&
		    (e = nino_at(s, i)) != 0) {
			mark(taken, i, e);
			vlist_add(vl, "pii", "national_id", 11);
			i = e - 1;
		}

	if (account_may_match(c, lo, n, tg)) {
		reported = 0;
		pos = 0;
		while (next_account(c, s, n, &pos, &a, &b)) {
			mark(taken, a, b);
			if (!reported && !value_allowed(&al, ctx, &al.accounts, s + a, b - a)) {
				vlist_add(vl, "pii", "account_id", 10);
				reported = 1;
			}
		}
	}

	reported = 0;
	pos = 0;
	while (phone_next(s, n, taken, &pos, &a, &b, k)) {
		mark(taken, a, b);
		if (!reported && !phone_allowed(&al, ctx, k)) {
			vlist_add(vl, "pii", "phone", 5);
			reported = 1;
		}
	}
	allow_free(&al);
}

/* Is the number at s[a, b) (digits) inside one of the customer's ids? */
static int
in_customer_ids(const struct validation_context *ctx, const char *s, size_t a, size_t b)
{
	const struct strv *ids = ctx->customer_ids;
	size_t len = b - a;
	for (size_t i = 0; ids != NULL && i < ids->n; i++) {
		const char *id = ids->v[i];
		for (const char *q = id; q != NULL && *q != '\0'; q++)
			if (is_digit(*q) && (q == id || !is_digit(q[-1]))) {
				size_t k = digit_run(q, 0);
				if (k == len && memcmp(q, s + a, len) == 0)
					return 1;
				q += k - 1;
			}
	}
	return 0;
}

static void
check_figures(const struct validation_context *ctx, const char *s, size_t n,
              const unsigned char *taken, struct vlist *vl)
{
	struct fset fs = {0};
	struct figure f;
	size_t pos = 0;
	int built = 0;

	while (next_figure(s, n, taken, &pos, &f)) {
		if (f.kind == FIG_NUM)
			continue;
		if (f.kind == FIG_COUNT && in_customer_ids(ctx, s, f.a, f.a + digit_run(s, f.a)))
			continue;
		if (!built) {
			sources_each(ctx, fset_text, fset_number, &fs);
			built = 1;
		}
		if (!grounded(&fs, &f))
			vlist_add(vl, "ungrounded", s + f.a, f.b - f.a);
	}
	free(fs.v);
	free(fs.used);
}

/* -------------------------------------------------------- commitments */

/* The most money a reply may promise: a credit the agent may apply, else none. */
static double
credit_authority(const struct policy *p)
{
	for (int r = 0; r < ROUTE__N; r++)
		if (policy_tool_allowed(p, (enum route)r, TOOL_APPLY_STANDARD_CREDIT))
			return p->credit_max_per_credit;
	return 0;
}

/* Adds "kind:sub:TEXT" (sub may be NULL), TEXT being s[a, b) cut to a readable length. */
static void
commit_add(struct vlist *vl, const char *kind, const char *sub, const char *s, size_t a, size_t b)
{
	if (b - a > 60) {
		b = a + 60;
		while (b > a && ((unsigned char)s[b] & 0xc0) == 0x80)
			b--; /* not inside a UTF-8 character */
	}
	struct buf d;
	buf_init(&d, 0);
	if (sub != NULL)
		buf_printf(&d, "%s:", sub);
	buf_add(&d, s + a, b - a);
	vlist_add(vl, kind, d.data, d.len);
	buf_free(&d);
}

static int
sentence_end(const char *s, size_t k)
{
	unsigned char c = (unsigned char)s[k], next = (unsigned char)s[k + 1];
	return c == '\n' || c == '\r' ||
	       ((c == '.' || c == '!' || c == '?') && (next == '\0' || next <= ' '));
}

/* Bytes a sentence reaches on either side of what is looked at, at most. */
#define MAX_SENTENCE 400

/* The sentence of s (length n) around s[a, b): *sa, *sb. */
static void
sentence_around(const char *s, size_t n, size_t a, size_t b, size_t *sa, size_t *sb)
{
	size_t lo = a > MAX_SENTENCE ? a - MAX_SENTENCE : 0;
	size_t hi = n - b > MAX_SENTENCE ? b + MAX_SENTENCE : n;
	while (a > lo && !sentence_end(s, a - 1))
		a--;
	while (b < hi && !sentence_end(s, b))
		b++;
	*sa = a;
	*sb = b;
}

/* The next word of five letters or more in s[*p, e), by its first five: 1, or 0 at e. */
static int
next_stem(const char *s, size_t *p, size_t e, const char **w)
{
	while (*p < e) {
		while (*p < e && !is_alpha(s[*p]))
			(*p)++;
		size_t b = *p;
		while (*p < e && is_alpha(s[*p]))
			(*p)++;
		if (*p - b >= 5) {
			*w = s + b;
			return 1;
		}
	}
	return 0;
}

/* Do x[xa, xb) and y[ya, yb) share a word of five letters or more (its first five)? */
static int
share_stem(const char *x, size_t xa, size_t xb, const char *y, size_t ya, size_t yb)
{
	const char *u, *v;
	for (size_t p = xa; next_stem(x, &p, xb, &u);)
		for (size_t q = ya; next_stem(y, &q, yb, &v);)
			if (strncasecmp(u, v, 5) == 0)
				return 1;
	return 0;
}

struct said {
	const char *reply; /* the promise's sentence is reply[a, b), what is said [da, db) */
	size_t a, b, da, db;
	int found;
};

/* Does text say it in a sentence sharing a word with the promise's? */
static void
said_text(void *arg, const char *t, size_t n)
{
	struct said *sd = arg;
	size_t dn = sd->db - sd->da;
	for (size_t h = 0; !sd->found && h + dn <= n; h++) {
		if (strncasecmp(t + h, sd->reply + sd->da, dn) != 0)
			continue;
		size_t ta, tb;
		sentence_around(t, n, h, h + dn, &ta, &tb);
		sd->found = share_stem(sd->reply, sd->a, sd->da, t, ta, tb) ||
		            share_stem(sd->reply, sd->db, sd->b, t, ta, tb);
	}
}

static void
said_number(void *arg, const char *key, double v, int length)
{
	(void)arg, (void)key, (void)v, (void)length;
}

/*
 * Is what the reply says at s[da, db) grounded: said by a fact or a tool
 * result (not the customer) in a sentence about the same thing ("will
 * ship today" by "orders placed before 2pm ship today", not "a refund
 * today")? Quoting the knowledge promises nothing of the agent's own.
 */
static int
said_by_sources(const struct validation_context *ctx, const char *s, size_t n, size_t da, size_t db)
{
	struct said sd = {.reply = s, .da = da, .db = db};
	sentence_around(s, n, da, db, &sd.a, &sd.b);
	for (size_t i = 0; ctx->knowledge != NULL && i < ctx->knowledge->n && !sd.found; i++)
		if (ctx->knowledge->v[i] != NULL)
			said_text(&sd, ctx->knowledge->v[i], strlen(ctx->knowledge->v[i]));
	if (!sd.found)
		json_walk(ctx->tool_results, NULL, 0, said_text, said_number, &sd);
	return sd.found;
}

static int
cmp_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	return (a > b) - (a < b);
}

/* The text a reply is checked in: as written (straight apostrophes), in lower case with trigrams.
 */
struct reply_text {
	const char *s, *lo;
	size_t n;
	const struct trigrams *tg;
};

/* Where the patterns fire in r, in order of position: an array of starts (caller frees). */
static size_t *
starts_of(const struct patset *ps, const struct list_filter *lf, const struct reply_text *r,
          size_t *count)
{
	const char *s = r->s;
	size_t *v = NULL, nv = 0, cap = 0;
	for (size_t i = 0; i < ps->src.n && i < lf->n; i++) {
		if (!litset_may(&lf->pat[i], r->tg, r->lo))
			continue;
		size_t from = 0, a, b;
		while (pattern_find(&ps->v[i], s, from, &a, &b)) {
			if (nv == cap)
				v = xreallocarray(v, cap = cap ? cap * 2 : 8, sizeof *v);
			v[nv++] = a;
			from = b > a ? b : a + 1;
		}
	}
	if (nv > 1)
		qsort(v, nv, sizeof *v, cmp_size);
	*count = nv;
	return v;
}

/* Does one of the sorted starts lie in [a, b)? */
static int
start_in(const size_t *v, size_t nv, size_t a, size_t b)
{
	size_t lo = 0, hi = nv;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nv && v[lo] < b;
}

/*
 * Money the reply promises (a figure in a sentence where an amount
 * pattern fires) beyond the credit authority, unless the knowledge states
 * it: a refund of the order's total is no credit the agent may give.
 */
static void
check_amounts(const struct policy *p, const struct vcache *c, const struct validation_context *ctx,
              const struct reply_text *r, const unsigned char *taken, struct vlist *vl)
{
	const char *s = r->s;
	size_t n = r->n;
	double cap = credit_authority(p);
	size_t *promises = NULL, npromises = 0;
	struct fset known = {0};
	struct figure f;
	size_t pos = 0;
	int looked = 0;

	while (p->commitments[COMMIT_AMOUNT].src.n > 0 && next_figure(s, n, taken, &pos, &f)) {
		if (f.kind != FIG_MONEY || f.hi <= cap + 0.005)
			continue;
		if (!looked) {
			promises = starts_of(&p->commitments[COMMIT_AMOUNT],
			                     &c->commit[COMMIT_AMOUNT], r, &npromises);
			for (size_t i = 0; ctx->knowledge != NULL && i < ctx->knowledge->n; i++)
				if (ctx->knowledge->v[i] != NULL)
					fset_text(&known, ctx->knowledge->v[i],
					          strlen(ctx->knowledge->v[i]));
			looked = 1;
		}
		if (npromises == 0)
			break;
		size_t a, b;
		sentence_around(s, n, f.a, f.b, &a, &b);
		if (start_in(promises, npromises, a, b) &&
		    (!money_known(&known, f.cur, f.lo) || !money_known(&known, f.cur, f.hi)))
			commit_add(vl, "commitment", "amount", s, f.a, f.b);
	}
	free(promises);
	free(known.v);
	free(known.used);
}

/*
 * What the reply promises beyond authority: an outcome as certain, money
 * beyond the credit cap, a day no source gives, a legal position.
 */
static void
check_commitments(const struct policy *p, const struct vcache *c,
                  const struct validation_context *ctx, const struct reply_text *r,
                  const unsigned char *taken, struct vlist *vl)
{
	static const struct {
		enum commitment_kind k;
		const char *kind, *sub;
	} lists[] = {
	    {COMMIT_GUARANTEE, "commitment", "guarantee"},
	    {COMMIT_AMOUNT, "commitment", "amount"},
	    {COMMIT_DATE, "commitment", "date"},
	    {COMMIT_LEGAL_CLAIM, "legal_claim", NULL},
	};
	for (size_t l = 0; l < nitems(lists); l++) {
		const struct patset *ps = &p->commitments[lists[l].k];
		const struct list_filter *lf = &c->commit[lists[l].k];
		if (lists[l].k == COMMIT_AMOUNT) {
			check_amounts(p, c, ctx, r, taken, vl);
			continue;
		}
		for (size_t i = 0; i < ps->src.n && i < lf->n; i++) {
			size_t a, b;
			if (!litset_may(&lf->pat[i], r->tg, r->lo) ||
			    !pattern_find(&ps->v[i], r->s, 0, &a, &b) ||
			    said_by_sources(ctx, r->s, r->n, a, b))
				continue;
			commit_add(vl, lists[l].kind, lists[l].sub, r->s, a, b);
		}
	}
}

/* -------------------------------------------------------------- public */

void
validate_reply(const struct policy *p, const char *reply, const struct validation_context *ctx,
               struct validation *out)
{
	static const struct validation_context none;
	int owned;

	memset(out, 0, sizeof *out);
	if (reply == NULL)
		reply = "";
	if (ctx == NULL)
		ctx = &none;
	struct vcache *c = cache_get(p, &owned);

	/* Straight apostrophes throughout; lower case for the literal filters. */
	size_t n = strlen(reply);
	const char *s = reply;
	char *own = NULL;
	if (memchr(reply, 0xe2, n) != NULL) {
		const unsigned char *u = (const unsigned char *)reply;
		own = xmalloc(n + 1);
		for (n = 0; *u != '\0';)
			if (curly_at(u)) {
				own[n++] = '\'';
				u += 3;
			} else
				own[n++] = (char)*u++;
		own[n] = '\0';
		s = own;
	}
	char *lo = xmalloc(n + 1);
	for (size_t i = 0; i <= n; i++)
		lo[i] = (char)lower((unsigned char)s[i]);

	struct trigrams tg;
	trigrams_of(&tg, lo, n);

	struct vlist vl = {.v = &out->violations};
	check_topics(p, c, s, lo, &tg, &vl);
	if (p != NULL && c->phrases.n > 0) {
		/* White space folded only when there is some to fold. */
		char *folded = NULL;
		if (strpbrk(lo, "\t\n\r\f\v\xc2") != NULL || strstr(lo, "  ") != NULL) {
			folded = xmalloc(n + 1);
			fold(lo, folded);
		}
		check_phrases(p, c, folded ? folded : lo, &vl);
		free(folded);
	}
	unsigned char *taken = xcalloc(n + 1, 1);
	check_pii(c, ctx, s, lo, &tg, n, taken, &vl);
	check_figures(ctx, s, n, taken, &vl);
	if (p != NULL)
		check_commitments(p, c, ctx, &(struct reply_text){s, lo, n, &tg}, taken, &vl);

	out->passed = out->violations.n == 0;
	free(vl.slot);
	free(taken);
	free(lo);
	free(own);
	if (owned)
		cache_free(c);
}

void
validation_free(struct validation *v)
{
	if (v == NULL)
		return;
	strv_free(&v->violations);
	memset(v, 0, sizeof *v);
}

char *
validation_kind(const char *violation)
{
	const char *colon = strchr(violation, ':');
	if (colon != NULL && strncmp(violation, "commitment:", 11) == 0)
		colon = strchr(colon + 1, ':');
	return colon ? xstrndup(violation, (size_t)(colon - violation)) : xstrdup(violation);
}

cJSON *
validation_json(const struct validation *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "passed", v != NULL && v->passed);
	cJSON *a = cJSON_AddArrayToObject(o, "violations");
	for (size_t i = 0; v != NULL && i < v->violations.n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v->violations.v[i]));
	return o;
}
