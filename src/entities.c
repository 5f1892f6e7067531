/* entities.c -- order numbers, account ids, contacts, money and products in a message. */
#include "config.h"

#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "tokens.h"
#include "entities.h"
#include "phone.h"
#include "ydoc.h"

/*
 * Everything here runs on every customer message, so the scanners are
 * hand-written single passes over the bytes; only formats a policy
 * overrides go through regexec(3), and only for text with a digit.
 * Input is any NUL-terminated byte string: every look-ahead stops at
 * the terminating NUL (which is no class of character below), so no
 * scanner reads past the end.
 */

#define MAX_PER_KIND    64   /* entities of one kind kept per message */
#define MAX_ALIAS_WORDS 8    /* words in a product name or alias */
#define SMALL_TEXT      1024 /* texts up to this size need no allocation */

/* The built-in formats; a policy giving exactly these gets the fast scanners. */
static const char default_order_re[] = "\\b[A-Z][0-9]{5,9}\\b";
static const char default_account_re[] = "\\bACME-[0-9]{4,8}\\b";

struct alias {
	char *words; /* lower-case words, concatenated */
	uint8_t wlen[MAX_ALIAS_WORDS];
	int nwords;
	size_t chars;
	uint32_t hash; /* of the first word */
	size_t product;
	int line;
};

struct entity_rules {
	regex_t order_re, account_re;
	int have_order_re, have_account_re; /* 0: the built-in scanner */

	char **products; /* catalogue ids */
	size_t nproducts;
	struct alias *aliases;
	size_t naliases;
	/* Aliases by hash of their first word: bucket b is [start[b], start[b + 1]). */
	uint32_t *start;
	uint32_t *order; /* alias indices, longest first within a bucket */
	uint32_t mask;
};

/* ------------------------------------------------------- characters */

/* --------------------------------------------------------- catalogue */

static const struct ykey k_str = {.type = Y_STR};
static const struct ykey k_product[] = {
    {.name = "id", .type = Y_STR, .required = 1},
    {.name = "name", .type = Y_STR, .required = 1},
    {.name = "aliases", .type = Y_LIST, .sub = &k_str},
    {.name = "category", .type = Y_STR},
    {.name = "price_usd", .type = Y_NUM, .min = 0, .max = 1e9},
    {0},
};
static const struct ykey k_product_map = {.type = Y_MAP, .sub = k_product};
static const struct ykey k_catalog[] = {
    {.name = "products", .type = Y_LIST, .sub = &k_product_map, .required = 1},
    {0},
};
static const struct ykey k_catalog_root = {.type = Y_MAP, .sub = k_catalog};

static int
alias_same(const struct alias *a, const struct alias *b)
{
	if (a->nwords != b->nwords || a->chars != b->chars)
		return 0;
	for (int i = 0; i < a->nwords; i++)
		if (a->wlen[i] != b->wlen[i])
			return 0;
	return memcmp(a->words, b->words, a->chars) == 0;
}

/* Adds one name or alias of product pi, checking it can ever match. */
static void
add_alias(struct entity_rules *r, struct ydoc *y, yaml_node_t *n, size_t pi, size_t *cap,
          struct diag *d)
{
	const char *text = ydoc_str(n);
	size_t len = strlen(text);
	char *low = xmalloc(len + 1);
	struct token *w = xmalloc((len / 2 + 1) * sizeof *w);
	size_t nw = tokens_split((const unsigned char *)text, len, low, w);
	int line = ydoc_line(y, n), col = ydoc_col(n);

	if (nw == 0)
		diag_error(d, y->file, line, col, "product name '%s' has no letters or digits",
		           text);
	else if (nw > MAX_ALIAS_WORDS)
		diag_error(d, y->file, line, col, "product name '%s' has more than %d words", text,
		           MAX_ALIAS_WORDS);
	else {
		struct alias a = {.nwords = (int)nw, .product = pi, .line = line};
		int bad = 0;
		for (size_t i = 0; i < nw; i++) {
			if (w[i].len > 255 || (i > 0 && w[i].hard))
				bad = 1;
			a.wlen[i] = (uint8_t)w[i].len;
		}
		a.chars = w[nw - 1].off + w[nw - 1].len;
		a.hash = w[0].hash;
		if (bad) {
			diag_error(d, y->file, line, col,
			           "product name '%s' has punctuation between its words or a word "
			           "longer than 255 characters",
			           text);
			goto out;
		}
		a.words = low;
		for (size_t i = 0; i < r->naliases; i++) {
			struct alias *o = &r->aliases[i];
			if (!alias_same(o, &a))
				continue;
			if (o->product != pi)
				diag_error(d, y->file, line, col,
				           "'%s' already names product '%s' (line %d)", text,
				           r->products[o->product], o->line);
			goto out; /* a repeat within one product is harmless */
		}
		if (r->naliases == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			r->aliases = xreallocarray(r->aliases, *cap, sizeof *r->aliases);
		}
		r->aliases[r->naliases++] = a;
		low = NULL;
	}
out:
	free(low);
	free(w);
}

static int
alias_longer(const struct alias *a, const struct alias *b)
{
	if (a->nwords != b->nwords)
		return a->nwords > b->nwords;
	return a->chars > b->chars;
}

/* Buckets the aliases by their first word, longest first within a bucket. */
static void
index_aliases(struct entity_rules *r)
{
	size_t nb = 16;
	while (nb < r->naliases * 2)
		nb *= 2;
	r->mask = (uint32_t)(nb - 1);
	r->start = xcalloc(nb + 1, sizeof *r->start);
	r->order = xcalloc(r->naliases + 1, sizeof *r->order);
	for (size_t i = 0; i < r->naliases; i++)
		r->start[(r->aliases[i].hash & r->mask) + 1]++;
	for (size_t b = 0; b < nb; b++)
		r->start[b + 1] += r->start[b];
	uint32_t *fill = xmalloc(nb * sizeof *fill);
	memcpy(fill, r->start, nb * sizeof *fill);
	for (size_t i = 0; i < r->naliases; i++) {
		size_t b = r->aliases[i].hash & r->mask;
		/* Insertion into the bucket keeps it sorted, longest first. */
		size_t j = fill[b]++;
		while (j > r->start[b] &&
		       alias_longer(&r->aliases[i], &r->aliases[r->order[j - 1]])) {
			r->order[j] = r->order[j - 1];
			j--;
		}
		r->order[j] = (uint32_t)i;
	}
	free(fill);
}

static int
load_catalog(struct entity_rules *r, const char *path, char **cause)
{
	size_t len;
	char *text = file_read(path, 4u << 20, &len, cause);
	if (text == NULL)
		return -1;

	struct diag d = {0};
	struct ydoc y;
	if (ydoc_load(&y, path, text, len, 0, &d) != 0)
		goto fail;
	yaml_node_t *root = ydoc_root(&y);
	if (root == NULL) {
		diag_error(&d, path, 1, 0, "the catalogue is empty");
		goto fail;
	}
	ydoc_check(&y, root, &k_catalog_root, "", &d);
	if (d.errors > 0)
		goto fail;

	yaml_node_t *list = ydoc_get(&y, root, "products");
	size_t np = ydoc_count(list), cap = 0;
	r->products = xcalloc(np + 1, sizeof *r->products);
	int *lines = xcalloc(np + 1, sizeof *lines);
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *p = yaml_document_get_node(&y.doc, list->data.sequence.items.start[i]);
		yaml_node_t *idn = ydoc_get(&y, p, "id");
		const char *id = ydoc_str(idn);
		int dup = 0;
		if (*id == '\0')
			diag_error(&d, path, ydoc_line(&y, idn), ydoc_col(idn),
			           "products[%zu].id: empty product id", i);
		for (size_t j = 0; j < r->nproducts; j++)
			if (strcmp(r->products[j], id) == 0) {
				diag_error(&d, path, ydoc_line(&y, idn), ydoc_col(idn),
				           "duplicate product id '%s' (first at line %d)", id,
				           lines[j]);
				dup = 1;
			}
		if (dup)
			continue;
		lines[r->nproducts] = ydoc_line(&y, idn);
		size_t pi = r->nproducts++;
		r->products[pi] = xstrdup(id);
		add_alias(r, &y, ydoc_get(&y, p, "name"), pi, &cap, &d);
		yaml_node_t *al = ydoc_get(&y, p, "aliases");
		for (size_t k = 0; k < ydoc_count(al); k++)
			add_alias(r, &y,
			          yaml_document_get_node(&y.doc, al->data.sequence.items.start[k]),
			          pi, &cap, &d);
	}
	free(lines);
	if (d.errors > 0)
		goto fail;
	ydoc_free(&y);
	free(text);
	diag_free(&d);
	index_aliases(r);
	return 0;

fail:
	ydoc_free(&y);
	free(text);
	*cause = diag_join(&d);
	diag_free(&d);
	return -1;
}

/* -------------------------------------------------------------- rules */

static int
compile(regex_t *re, const char *src, const char *what, char **cause)
{
	int rc = regcomp(re, src, REG_EXTENDED);
	if (rc == 0)
		return 0;
	char msg[256];
	regerror(rc, re, msg, sizeof msg);
	*cause = xasprintf("entities.%s: bad regular expression '%s': %s", what, src, msg);
	return -1;
}

struct entity_rules *
entity_rules_new(const char *order_re, const char *account_re, const char *catalog_path,
                 char **cause)
{
	struct entity_rules *r = xcalloc(1, sizeof *r);

	if (order_re != NULL && strcmp(order_re, default_order_re) != 0) {
		if (compile(&r->order_re, order_re, "order_number", cause) != 0)
			goto fail;
		r->have_order_re = 1;
	}
	if (account_re != NULL && strcmp(account_re, default_account_re) != 0) {
		if (compile(&r->account_re, account_re, "account_id", cause) != 0)
			goto fail;
		r->have_account_re = 1;
	}
	if (catalog_path != NULL && load_catalog(r, catalog_path, cause) != 0)
		goto fail;
	return r;
fail:
	entity_rules_free(r);
	return NULL;
}

void
entity_rules_names(const struct entity_rules *r, struct strv *names, struct strv *products)
{
	for (size_t i = 0; i < r->naliases; i++) {
		const struct alias *a = &r->aliases[i];
		struct buf b;
		buf_init(&b, 0);
		const char *w = a->words;
		for (int k = 0; k < a->nwords; w += a->wlen[k++])
			buf_printf(&b, "%s%.*s", k ? " " : "", (int)a->wlen[k], w);
		strv_take(names, buf_steal(&b));
		buf_free(&b);
		strv_add(products, r->products[a->product]);
	}
}

void
entity_rules_free(struct entity_rules *r)
{
	if (r == NULL)
		return;
	if (r->have_order_re)
		regfree(&r->order_re);
	if (r->have_account_re)
		regfree(&r->account_re);
	for (size_t i = 0; i < r->nproducts; i++)
		free(r->products[i]);
	free(r->products);
	for (size_t i = 0; i < r->naliases; i++)
		free(r->aliases[i].words);
	free(r->aliases);
	free(r->start);
	free(r->order);
	free(r);
}

/* ------------------------------------------------------------ scanning */

struct scan {
	const char *s;
	size_t n;
	unsigned char *taken; /* 1 where an entity was found; NULL without digits */
	struct entities *out;
};

static void
take(struct scan *sc, size_t a, size_t b)
{
	if (sc->taken != NULL)
		memset(sc->taken + a, 1, b - a);
}

static int
taken_any(const struct scan *sc, size_t a, size_t b)
{
	if (sc->taken == NULL)
		return 0;
	for (size_t i = a; i < b; i++)
		if (sc->taken[i])
			return 1;
	return 0;
}

/* Adds s[a, b) to v unless there (cmp: strcmp or strcasecmp). */
static void
add_unique(struct strv *v, const char *s, size_t a, size_t b,
           int (*cmp)(const char *, const char *, size_t))
{
	size_t len = b - a;
	if (v->n >= MAX_PER_KIND)
		return;
	for (size_t i = 0; i < v->n; i++)
		if (strlen(v->v[i]) == len && cmp(v->v[i], s + a, len) == 0)
			return;
	strv_take(v, xstrndup(s + a, len));
}

/* ----------------------------------------------------------- emails */

static void
scan_emails(struct scan *sc)
{
	const char *s = sc->s;
	size_t n = sc->n, floor = 0;
	const char *p = memchr(s, '@', n);

	while (p != NULL && sc->out->emails.n < MAX_PER_KIND) {
		size_t at = (size_t)(p - s);
		size_t lim = at > 64 ? at - 64 : 0;
		if (lim < floor)
			lim = floor;
		size_t a = at;
		while (a > lim && email_local_char(s[a - 1]))
			a--;
		while (a < at && !is_alnum(s[a]))
			a++;
		size_t b = at + 1, blim = at + 1 + 253 < n ? at + 1 + 253 : n;
		while (b < blim && email_domain_char(s[b]))
			b++;
		while (b > at + 1 && (s[b - 1] == '.' || s[b - 1] == '-'))
			b--;
		int ok = a < at && !(a == lim && lim > floor && email_local_char(s[a - 1])) &&
		         s[at - 1] != '.' && email_domain_ok(s + at + 1, b - at - 1) &&
		         !is_word(s[b]);
		if (ok) {
			add_unique(&sc->out->emails, s, a, b, strncasecmp);
			take(sc, a, b);
			floor = b;
		}
		p = memchr(p + 1, '@', n - at - 1);
	}
}

/* ------------------------------------------------ order numbers, ids */

struct cand {
	size_t a, b;
};

struct cands {
	struct cand v[MAX_PER_KIND * 2];
	size_t n;
};

static void
cand_add(struct cands *c, size_t a, size_t b)
{
	if (c->n < nitems(c->v))
		c->v[c->n++] = (struct cand){a, b};
}

/* Sorts by position (few items, mostly in order already) and adds them. */
static void
cands_flush(struct cands *c, const char *s, struct strv *v)
{
	for (size_t i = 1; i < c->n; i++) {
		struct cand x = c->v[i];
		size_t j = i;
		while (j > 0 && c->v[j - 1].a > x.a) {
			c->v[j] = c->v[j - 1];
			j--;
		}
		c->v[j] = x;
	}
	for (size_t i = 0; i < c->n; i++)
		add_unique(v, s, c->v[i].a, c->v[i].b, strncmp);
}

/* Matches of a policy format, skipping what is already taken (emails). */
static void
regex_scan(struct scan *sc, const regex_t *re, struct cands *c)
{
	size_t off = 0;
	regmatch_t m;

	while (off <= sc->n && c->n < MAX_PER_KIND) {
		m.rm_so = (regoff_t)off;
		m.rm_eo = (regoff_t)sc->n;
		if (regexec(re, sc->s, 1, &m, REG_STARTEND) != 0)
			break;
		size_t a = (size_t)m.rm_so, b = (size_t)m.rm_eo;
		if (b <= a) { /* an empty match: move on */
			off = a + 1;
			continue;
		}
		off = b;
		/* Printable ASCII only, without the spaces around. */
		while (a < b && sc->s[a] == ' ')
			a++;
		while (b > a && sc->s[b - 1] == ' ')
			b--;
		int ok = a < b && b - a <= 64 && !taken_any(sc, a, b);
		for (size_t i = a; ok && i < b; i++)
			ok = (unsigned char)sc->s[i] >= ' ' && (unsigned char)sc->s[i] < 0x7f;
		if (ok)
			cand_add(c, a, b);
	}
}

static size_t
digits_at(const char *s, size_t i, size_t max)
{
	size_t k = 0;
	while (k <= max && is_digit(s[i + k]))
		k++;
	return k;
}

/* Skips the filler between "order" and its number: "#", "no.", "number:". */
static size_t
order_filler(const char *s, size_t i)
{
	static const char *const words[] = {"number", "num", "nr", "no", "id", "ref"};
	for (int rounds = 0; rounds < 4; rounds++) {
		size_t j = i;
		while (s[j] == ' ' || s[j] == '#' || s[j] == ':' || s[j] == '.' || s[j] == '-')
			j++;
		for (size_t w = 0; w < nitems(words); w++) {
			size_t l = strlen(words[w]);
			if (strncasecmp(s + j, words[w], l) == 0 && !is_word(s[j + l])) {
				j += l;
				break;
			}
		}
		if (j == i)
			break;
		i = j;
	}
	return i;
}

/*
 * One pass for the built-in formats and for "order #12345678": upper-case
 * letters starting a word, and the word "order".
 */
static void
scan_ids(struct scan *sc, const struct entity_rules *r, struct cands *orders,
         struct cands *accounts)
{
	const char *s = sc->s;
	int builtin_order = r == NULL || !r->have_order_re;
	int builtin_account = r == NULL || !r->have_account_re;

	for (size_t i = 0; i < sc->n; i++) {
		int c = (unsigned char)s[i];
		if (!is_alpha(c))
			continue;
		if ((i > 0 && is_word(s[i - 1])) || sc->taken[i]) {
			while (is_word(s[i + 1]))
				i++;
			continue;
		}
		if ((c | 0x20) == 'o' && strncasecmp(s + i, "order", 5) == 0 &&
		    (!is_word(s[i + 5]) || ((s[i + 5] | 0x20) == 's' && !is_word(s[i + 6])))) {
			size_t j = order_filler(s, i + 5 + ((s[i + 5] | 0x20) == 's'));
			size_t k = digits_at(s, j, 12);
			if (j > i + 5 && k >= 5 && k <= 12 && !is_word(s[j + k]) &&
			    !(s[j + k] == '.' && is_digit(s[j + k + 1])) &&
			    !(s[j + k] == ',' && is_digit(s[j + k + 1])) &&
			    !taken_any(sc, j, j + k)) {
				cand_add(orders, j, j + k);
				take(sc, j, j + k);
				i = j + k - 1;
				continue;
			}
		} else if (c >= 'A' && c <= 'Z') {
			size_t k;
			if (builtin_order && is_digit(s[i + 1]) &&
			    (k = digits_at(s, i + 1, 9)) >= 5 && k <= 9 && !is_word(s[i + 1 + k])) {
				cand_add(orders, i, i + 1 + k);
				take(sc, i, i + 1 + k);
				i += k;
				continue;
			}
			if (builtin_account && c == 'A' && strncmp(s + i, "ACME-", 5) == 0 &&
			    (k = digits_at(s, i + 5, 8)) >= 4 && k <= 8 && !is_word(s[i + 5 + k])) {
				cand_add(accounts, i, i + 5 + k);
				take(sc, i, i + 5 + k);
				i += 4 + k;
				continue;
			}
		}
		while (is_word(s[i + 1]))
			i++;
	}
}

/* ------------------------------------------------------------- money */

struct code {
	const char *word; /* lower case */
	const char *iso;
};

/* ISO codes, written before or after the number, any case. */
static const struct code codes[] = {
    {"usd", "USD"}, {"eur", "EUR"}, {"gbp", "GBP"}, {"cad", "CAD"}, {"aud", "AUD"},
    {"nzd", "NZD"}, {"jpy", "JPY"}, {"chf", "CHF"}, {"inr", "INR"}, {"mxn", "MXN"},
};

/* Currency words after the number. */
static const struct code words[] = {
    {"dollars", "USD"}, {"dollar", "USD"}, {"bucks", "USD"},  {"euros", "EUR"},
    {"euro", "EUR"},    {"pounds", "GBP"}, {"pound", "GBP"},  {"quid", "GBP"},
    {"yen", "JPY"},     {"francs", "CHF"}, {"rupees", "INR"}, {"pesos", "MXN"},
};

/* The code or word of table t spelt by the len letters at s, or NULL. */
static const char *
lookup(const struct code *t, size_t nt, const char *s, size_t len)
{
	for (size_t i = 0; i < nt; i++)
		if (strlen(t[i].word) == len && strncasecmp(t[i].word, s, len) == 0)
			return t[i].iso;
	return NULL;
}

/* A dollar sign's prefix: US$, C$, CA$, A$, AU$, NZ$. */
static const char *
dollar_kind(const char *s, size_t at, size_t *start)
{
	static const struct code kinds[] = {{"us", "USD"}, {"c", "CAD"},  {"ca", "CAD"},
	                                    {"a", "AUD"},  {"au", "AUD"}, {"nz", "NZD"}};
	size_t a = at;
	while (a > 0 && at - a < 3 && is_alpha(s[a - 1]))
		a--;
	if (a < at && (a == 0 || !is_word(s[a - 1]))) {
		const char *iso = lookup(kinds, nitems(kinds), s + a, at - a);
		if (iso != NULL) {
			*start = a;
			return iso;
		}
	}
	*start = at;
	return "USD";
}

/* A currency just before position j (a symbol, or a code and a space). */
static const char *
prefix_currency(const char *s, size_t j, size_t *start)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = j > 0 && s[j - 1] == ' ' ? j - 1 : j; /* one space allowed */

	if (k >= 1 && s[k - 1] == '$')
		return dollar_kind(s, k - 1, start);
	if (k >= 3 && u[k - 3] == 0xe2 && u[k - 2] == 0x82 && u[k - 1] == 0xac)
		return (*start = k - 3), "EUR";
	if (k >= 2 && u[k - 2] == 0xc2 && u[k - 1] == 0xa3)
		return (*start = k - 2), "GBP";
	if (k >= 2 && u[k - 2] == 0xc2 && u[k - 1] == 0xa5)
		return (*start = k - 2), "JPY";
	if (k >= 3 && is_alpha(s[k - 1]) && is_alpha(s[k - 2]) && is_alpha(s[k - 3]) &&
	    (k == 3 || !is_word(s[k - 4]))) {
		const char *iso = lookup(codes, nitems(codes), s + k - 3, 3);
		if (iso != NULL)
			return (*start = k - 3), iso;
	}
	return NULL;
}

/* A currency just after position j; *end is set past it. */
static const char *
suffix_currency(const char *s, size_t j, size_t *end)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = s[j] == ' ' ? j + 1 : j;

	if (s[k] == '$' && !is_word(s[k + 1]))
		return (*end = k + 1), "USD";
	if (u[k] == 0xe2 && u[k + 1] == 0x82 && u[k + 2] == 0xac)
		return (*end = k + 3), "EUR";
	if (u[k] == 0xc2 && u[k + 1] == 0xa3)
		return (*end = k + 2), "GBP";
	size_t e = k;
	while (is_alpha(s[e]) && e - k < 8)
		e++;
	if (e == k || is_word(s[e]))
		return NULL;
	const char *iso = lookup(codes, nitems(codes), s + k, e - k);
	if (iso == NULL)
		iso = lookup(words, nitems(words), s + k, e - k);
	if (iso == NULL && e - k == 2 && strncasecmp(s + k, "us", 2) == 0 && s[e] == ' ' &&
	    strncasecmp(s + e + 1, "dollar", 6) == 0) {
		e += 7;
		if ((s[e] | 0x20) == 's')
			e++;
		if (is_word(s[e]))
			return NULL;
		iso = "USD";
	}
	if (iso != NULL)
		*end = e;
	return iso;
}

/*
 * Parses a number at s[i]: digits with optional thousands commas, and a
 * fraction of one or two digits after a point (or after a comma, the
 * European way: "12,50"). Returns the end, or 0 when it is no amount (a
 * point followed by three digits is ambiguous and refused).
 */
static size_t
parse_number(const char *s, size_t i, double *v)
{
	uint64_t ip = 0, f = 0, scale = 1;
	size_t p = i;
	int nd = 0, grouped = 0;

	while (is_digit(s[p])) {
		if (++nd > 13)
			return 0;
		ip = ip * 10 + (uint64_t)(s[p++] - '0');
	}
	if (nd <= 3)
		while (s[p] == ',' && is_digit(s[p + 1]) && is_digit(s[p + 2]) &&
		       is_digit(s[p + 3]) && !is_digit(s[p + 4])) {
			if ((nd += 3) > 13)
				return 0;
			ip = ip * 1000 + (uint64_t)((s[p + 1] - '0') * 100 + (s[p + 2] - '0') * 10 +
			                            (s[p + 3] - '0'));
			p += 4;
			grouped = 1;
		}
	if ((s[p] == '.' || (s[p] == ',' && !grouped)) && is_digit(s[p + 1])) {
		size_t fd = digits_at(s, p + 1, 3);
		if (fd <= 2) {
			if (s[p] == '.' || fd == 2) {
				for (size_t k = 1; k <= fd; k++) {
					f = f * 10 + (uint64_t)(s[p + k] - '0');
					scale *= 10;
				}
				p += 1 + fd;
			}
		} else if (s[p] == '.')
			return 0;
	}
	*v = (double)(ip * scale + f) / (double)scale;
	return p;
}

static int
money_same(const struct money *a, const struct money *b)
{
	double d = a->value - b->value;
	return strcmp(a->currency, b->currency) == 0 && d < 1e-9 && d > -1e-9;
}

static void
add_money(struct entities *e, double v, const char *iso)
{
	struct money m = {.value = v};
	memcpy(m.currency, iso, 4);
	for (size_t i = 0; i < e->namounts; i++)
		if (money_same(&e->amounts[i], &m))
			return;
	if (e->namounts >= MAX_PER_KIND)
		return;
	if ((e->namounts & (e->namounts - 1)) == 0) /* 0, 1, 2, 4, ...: grow */
		e->amounts = xreallocarray(e->amounts, e->namounts ? e->namounts * 2 : 2,
		                           sizeof *e->amounts);
	e->amounts[e->namounts++] = m;
}

static int
is_dollar(const char *iso)
{
	return iso[2] == 'D'; /* USD, CAD, AUD, NZD */
}

static void
scan_amounts(struct scan *sc)
{
	const char *s = sc->s;

	for (size_t i = 0; i < sc->n; i++) {
		if (!is_digit(s[i]))
			continue;
		size_t start = i, end;
		const char *pre = prefix_currency(s, i, &start);
		if ((i > 0 && is_word(s[i - 1]) && (pre == NULL || start + 3 != i)) ||
		    sc->taken[i] || (start < i && sc->taken[start])) {
			while (is_digit(s[i + 1]) || is_word(s[i + 1]))
				i++;
			continue;
		}
		double v;
		size_t p = parse_number(s, i, &v);
		if (p == 0) {
			while (is_digit(s[i + 1]) || s[i + 1] == '.' || s[i + 1] == ',')
				i++;
			continue;
		}
		/* Multipliers: $1.2k, $3M, 5k dollars. */
		if ((s[p] == 'k' || s[p] == 'K') && !is_word(s[p + 1]))
			v *= 1e3, p++;
		else if (pre != NULL && (s[p] == 'm' || s[p] == 'M') && !is_word(s[p + 1]))
			v *= 1e6, p++;
		end = p;
		const char *post = is_word(s[p]) ? NULL : suffix_currency(s, p, &end);
		const char *iso = pre;
		if (post != NULL && (pre == NULL || (strcmp(pre, "USD") == 0 && s[start] == '$' &&
		                                     is_dollar(post))))
			iso = post; /* "$40 CAD" is Canadian */
		else if (post != NULL && strcmp(post, pre) != 0)
			end = p; /* "$40 EUR"? The symbol wins; the code is left. */
		if (iso == NULL) {
			i = p - 1;
			continue;
		}
		add_money(sc->out, v, iso);
		take(sc, start, end);
		i = end - 1;
	}
}

/* ------------------------------------------------------------- phones */

static void
scan_phones(struct scan *sc)
{
	char keys[MAX_PER_KIND][16], key[16];
	size_t nkeys = 0, pos = 0, a, b;

	while (nkeys < MAX_PER_KIND && phone_next(sc->s, sc->n, sc->taken, &pos, &a, &b, key)) {
		size_t k;
		for (k = 0; k < nkeys; k++)
			if (strcmp(keys[k], key) == 0)
				break;
		if (k == nkeys) {
			memcpy(keys[nkeys++], key, sizeof key);
			strv_take(&sc->out->phones, xstrndup(sc->s + a, b - a));
		}
		take(sc, a, b);
	}
}

/* ----------------------------------------------------------- products */

static void
scan_products(const struct entity_rules *r, const char *text, size_t n, struct entities *out)
{
	char lowbuf[SMALL_TEXT];
	struct token wbuf[SMALL_TEXT / 2 + 1];
	unsigned char seenbuf[256];
	char *low = n <= SMALL_TEXT ? lowbuf : xmalloc(n);
	struct token *w = n <= SMALL_TEXT ? wbuf : xmalloc((n / 2 + 1) * sizeof *w);
	unsigned char *seen = r->nproducts <= sizeof seenbuf ? seenbuf : xmalloc(r->nproducts);
	size_t found = 0;

	memset(seen, 0, r->nproducts);
	size_t nw = tokens_split((const unsigned char *)text, n, low, w);
	for (size_t i = 0; i < nw && found < r->nproducts; i++) {
		uint32_t b = w[i].hash & r->mask;
		for (uint32_t k = r->start[b]; k < r->start[b + 1]; k++) {
			const struct alias *a = &r->aliases[r->order[k]];
			if (i + (size_t)a->nwords > nw)
				continue;
			const char *aw = a->words;
			int j;
			for (j = 0; j < a->nwords; j++) {
				const struct token *t = &w[i + (size_t)j];
				if (t->len != a->wlen[j] || (j > 0 && t->hard) ||
				    memcmp(low + t->off, aw, t->len) != 0)
					break;
				aw += a->wlen[j];
			}
			if (j < a->nwords)
				continue;
			if (!seen[a->product]) {
				seen[a->product] = 1;
				found++;
				strv_add(&out->products, r->products[a->product]);
			}
			i += (size_t)a->nwords - 1;
			break;
		}
	}
	if (low != lowbuf)
		free(low);
	if (w != wbuf)
		free(w);
	if (seen != seenbuf)
		free(seen);
}

/* ------------------------------------------------------------- extract */

void
entities_extract(const struct entity_rules *r, const char *text, struct entities *out)
{
	unsigned char takenbuf[SMALL_TEXT];
	struct scan sc = {.s = text ? text : "", .out = out};
	int digits = 0;

	memset(out, 0, sizeof *out);
	sc.n = strlen(sc.s);
	for (size_t i = 0; i < sc.n && !digits; i++)
		digits = is_digit(sc.s[i]);

	if (digits) {
		sc.taken = sc.n <= sizeof takenbuf ? takenbuf : xmalloc(sc.n);
		memset(sc.taken, 0, sc.n);
	}
	scan_emails(&sc);
	if (digits) {
		struct cands o = {.n = 0}, a = {.n = 0};
		if (r != NULL && r->have_account_re)
			regex_scan(&sc, &r->account_re, &a);
		for (size_t i = 0; i < a.n; i++)
			take(&sc, a.v[i].a, a.v[i].b);
		if (r != NULL && r->have_order_re)
			regex_scan(&sc, &r->order_re, &o);
		for (size_t i = 0; i < o.n; i++)
			take(&sc, o.v[i].a, o.v[i].b);
		scan_ids(&sc, r, &o, &a);
		cands_flush(&o, sc.s, &out->order_numbers);
		cands_flush(&a, sc.s, &out->account_ids);
		scan_amounts(&sc);
		scan_phones(&sc);
		if (sc.taken != takenbuf)
			free(sc.taken);
	}
	if (r != NULL && r->naliases > 0)
		scan_products(r, sc.s, sc.n, out);
}

void
entities_free(struct entities *e)
{
	strv_free(&e->order_numbers);
	strv_free(&e->account_ids);
	strv_free(&e->emails);
	strv_free(&e->phones);
	strv_free(&e->products);
	free(e->amounts);
	memset(e, 0, sizeof *e);
}

static cJSON *
json_strv(const struct strv *v)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < v->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v->v[i]));
	return a;
}

cJSON *
entities_json(const struct entities *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "order_numbers", json_strv(&e->order_numbers));
	cJSON_AddItemToObject(o, "account_ids", json_strv(&e->account_ids));
	cJSON_AddItemToObject(o, "emails", json_strv(&e->emails));
	cJSON_AddItemToObject(o, "phones", json_strv(&e->phones));
	cJSON *am = cJSON_CreateArray();
	for (size_t i = 0; i < e->namounts; i++) {
		cJSON *m = cJSON_CreateObject();
		cJSON_AddNumberToObject(m, "value", e->amounts[i].value);
		cJSON_AddStringToObject(m, "currency", e->amounts[i].currency);
		cJSON_AddItemToArray(am, m);
	}
	cJSON_AddItemToObject(o, "amounts", am);
	cJSON_AddItemToObject(o, "products", json_strv(&e->products));
	return o;
}

double
entities_max_usd(const struct entities *e)
{
	double max = -1;
	for (size_t i = 0; i < e->namounts; i++)
		if (e->amounts[i].value > max)
			max = e->amounts[i].value;
	return max;
}
