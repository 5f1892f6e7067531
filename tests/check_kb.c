/* check_kb.c -- fact files, freshness, the index and retrieval (src/kb.c). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kb.h"
#include "retrieval.h"
#include "testutil.h"

/* today = 2026-11-24, the shipped policy's freshness settings */
#define TODAY 20781L
static const struct kb_freshness fresh_policy = {
    .today = TODAY,
    .stale_after_days = 90,
    .volatile_topics = 1u << TOPIC_PRICING | 1u << TOPIC_POLICY | 1u << TOPIC_PRODUCT,
};

static long
day(const char *ymd)
{
	long d;
	ck_assert_msg(date_parse(ymd, &d) == 0, "bad date %s", ymd);
	return d;
}

/* ------------------------------------------------------------ parsing */

#define FRONT(id, topic, extra)                                                                    \
	"---\n"                                                                                    \
	"id: " id "\n"                                                                             \
	"title: A title\n"                                                                         \
	"topic: " topic "\n"                                                                       \
	"product: all\n"                                                                           \
	"updated: 2026-11-01\n"                                                                    \
	"version: 2\n"                                                                             \
	"volatile: true\n" extra "---\n"

static int
parse(const char *path, const char *text, struct kb_facts *out, struct diag *d)
{
	return kb_parse_file(path, text, strlen(text), out, d);
}

START_TEST(parse_single_fact)
{
	struct kb_facts fs = {0};
	struct diag d = {0};
	const char *text = "---\n"
	                   "id: returns-window\n"
	                   "title: Return window\n"
	                   "topic: returns\n"
	                   "product: acme-hub\n"
	                   "updated: 2026-10-22\n"
	                   "version: 3\n"
	                   "volatile: true\n"
	                   "---\n"
	                   "Devices can be returned within 30 days.\n"
	                   "Any reason will do.\n";
	ck_assert_int_eq(parse("kb/returns/window.md", text, &fs, &d), 0);
	ck_assert_int_eq(d.errors, 0);
	ck_assert_int_eq(d.warnings, 0);
	ck_assert_uint_eq(fs.n, 1);
	struct kb_fact *f = &fs.v[0];
	ck_assert_str_eq(f->id, "returns-window");
	ck_assert_str_eq(f->title, "Return window");
	ck_assert_str_eq(f->content,
	                 "Devices can be returned within 30 days.\nAny reason will do.");
	ck_assert_str_eq(f->source, "kb/returns/window.md");
	ck_assert_int_eq(f->line, 10);
	ck_assert_int_eq(f->topic, TOPIC_RETURNS);
	ck_assert_str_eq(f->product, "acme-hub");
	ck_assert_int_eq(f->updated, day("2026-10-22"));
	ck_assert_int_eq(f->version, 3);
	ck_assert_int_eq(f->volatile_, 1);
	ck_assert_uint_eq(f->missing, 0);
	kb_facts_free(&fs);
	diag_free(&d);
}
END_TEST

START_TEST(parse_sections_are_facts)
{
	struct kb_facts fs = {0};
	struct diag d = {0};
	const char *text = FRONT("shipping-options", "shipping", "") /* 9 lines */
	    "Three ways to ship.\n"                                  /* 10 */
	    "\n"                                                     /* 11 */
	    "## Standard shipping & costs\n"                         /* 12 */
	    "Free over $49.\n"                                       /* 13 */
	    "### Not a section\n"                                    /* 14 */
	    "Still standard.\n"                                      /* 15 */
	    "## Overnight: next day!\n"                              /* 16 */
	    "Costs $29.99.\n";                                       /* 17 */
	ck_assert_int_eq(parse("opts.md", text, &fs, &d), 0);
	ck_assert_uint_eq(fs.n, 3);

	/* Text before the first heading is the file's own fact. */
	ck_assert_str_eq(fs.v[0].id, "shipping-options");
	ck_assert_str_eq(fs.v[0].title, "A title");
	ck_assert_str_eq(fs.v[0].content, "Three ways to ship.");
	ck_assert_int_eq(fs.v[0].line, 10);

	ck_assert_str_eq(fs.v[1].id, "shipping-options/standard-shipping-costs");
	ck_assert_str_eq(fs.v[1].title, "Standard shipping & costs");
	ck_assert_str_eq(fs.v[1].content, "Free over $49.\n### Not a section\nStill standard.");
	ck_assert_int_eq(fs.v[1].line, 13);

	ck_assert_str_eq(fs.v[2].id, "shipping-options/overnight-next-day");
	ck_assert_str_eq(fs.v[2].title, "Overnight: next day!");
	ck_assert_str_eq(fs.v[2].content, "Costs $29.99.");
	ck_assert_int_eq(fs.v[2].line, 17);

	/* Every section inherits the file's metadata. */
	for (size_t i = 0; i < fs.n; i++) {
		ck_assert_str_eq(fs.v[i].source, "opts.md");
		ck_assert_int_eq(fs.v[i].topic, TOPIC_SHIPPING);
		ck_assert_str_eq(fs.v[i].product, "all");
		ck_assert_int_eq(fs.v[i].updated, day("2026-11-01"));
		ck_assert_int_eq(fs.v[i].version, 2);
		ck_assert_int_eq(fs.v[i].volatile_, 1);
		ck_assert_uint_eq(fs.v[i].missing, 0);
	}
	kb_facts_free(&fs);
	diag_free(&d);
}
END_TEST

START_TEST(parse_file_starting_with_a_heading)
{
	struct kb_facts fs = {0};
	struct diag d = {0};
	const char *text = FRONT("plans", "pricing", "") /* 9 */
	    "## Basic\n"                                 /* 10 */
	    "Basic costs $4.99 per month.\n"             /* 11 */
	    "## Plus\n"                                  /* 12 */
	    "Plus costs $9.99 per month.";               /* 13, no final newline */
	ck_assert_int_eq(parse("plans.md", text, &fs, &d), 0);
	ck_assert_uint_eq(fs.n, 2);
	ck_assert_str_eq(fs.v[0].id, "plans/basic");
	ck_assert_int_eq(fs.v[0].line, 11);
	ck_assert_str_eq(fs.v[1].id, "plans/plus");
	ck_assert_str_eq(fs.v[1].content, "Plus costs $9.99 per month.");
	ck_assert_int_eq(fs.v[1].line, 13);
	/* An empty section is dropped. */
	kb_facts_free(&fs);
	text = FRONT("plans", "pricing", "") "## Empty\n\n## Full\nSomething.\n";
	ck_assert_int_eq(parse("plans.md", text, &fs, &d), 0);
	ck_assert_uint_eq(fs.n, 1);
	ck_assert_str_eq(fs.v[0].id, "plans/full");
	kb_facts_free(&fs);
	diag_free(&d);
}
END_TEST

START_TEST(parse_line_is_where_the_text_starts)
{
	struct kb_facts fs = {0};
	struct diag d = {0};
	const char *text = FRONT("spaced", "general", "") /* 9 */
	    "\n"                                          /* 10 */
	    "Intro text.\n"                               /* 11 */
	    "\n"                                          /* 12 */
	    "## Section\n"                                /* 13 */
	    "\n"                                          /* 14 */
	    "Section text.\n";                            /* 15 */
	ck_assert_int_eq(parse("spaced.md", text, &fs, &d), 0);
	ck_assert_uint_eq(fs.n, 2);
	ck_assert_str_eq(fs.v[0].content, "Intro text.");
	ck_assert_str_eq(fs.v[1].content, "Section text.");
	ck_assert_int_eq(fs.v[0].line, 11);
	ck_assert_int_eq(fs.v[1].line, 15);
	kb_facts_free(&fs);
	diag_free(&d);
}
END_TEST

START_TEST(parse_crlf_file)
{
	struct kb_facts fs = {0};
	struct diag d = {0};
	const char *text = "---\r\n"
	                   "id: crlf-fact\r\n"
	                   "title: Written on Windows\r\n"
	                   "topic: technical\r\n"
	                   "product: all\r\n"
	                   "updated: 2026-11-01\r\n"
	                   "version: 1\r\n"
	                   "volatile: false\r\n"
	                   "---\r\n"
	                   "First line.\r\n"
	                   "Second line.\r\n"
	                   "## A section\r\n"
	                   "Section text.\r\n";
	ck_assert_int_eq(parse("crlf.md", text, &fs, &d), 0);
	ck_assert_int_eq(d.errors, 0);
	ck_assert_uint_eq(fs.n, 2);
	ck_assert_str_eq(fs.v[0].id, "crlf-fact");
	ck_assert_str_eq(fs.v[0].title, "Written on Windows");
	ck_assert_str_eq(fs.v[0].content, "First line.\nSecond line.");
	ck_assert_int_eq(fs.v[0].line, 10);
	ck_assert_int_eq(fs.v[0].volatile_, 0);
	ck_assert_str_eq(fs.v[1].id, "crlf-fact/a-section");
	ck_assert_str_eq(fs.v[1].title, "A section");
	ck_assert_str_eq(fs.v[1].content, "Section text.");
	ck_assert_int_eq(fs.v[1].line, 13);
	for (size_t i = 0; i < fs.n; i++)
		ck_assert(strchr(fs.v[i].content, '\r') == NULL &&
		          strchr(fs.v[i].title, '\r') == NULL);
	kb_facts_free(&fs);
	diag_free(&d);
}
END_TEST

START_TEST(parse_optional_keys_default_and_are_marked_missing)
{
	struct kb_facts fs = {0};
	struct diag d = {0};
	const char *text = "---\n"
	                   "id: bare\n"
	                   "title: \"Bare: no optional keys\"\n"
	                   "topic: general\n"
	                   "updated: 2026-01-05\n"
	                   "---\n"
	                   "Some text.\n";
	ck_assert_int_eq(parse("bare.md", text, &fs, &d), 0);
	ck_assert_int_eq(d.errors, 0);
	ck_assert_uint_eq(fs.n, 1);
	ck_assert_str_eq(fs.v[0].title, "Bare: no optional keys");
	ck_assert_str_eq(fs.v[0].product, "all");
	ck_assert_int_eq(fs.v[0].version, 1);
	ck_assert_int_eq(fs.v[0].volatile_, 0);
	ck_assert_uint_eq(fs.v[0].missing,
	                  KB_MISSING_PRODUCT | KB_MISSING_VERSION | KB_MISSING_VOLATILE);
	ck_assert_int_eq(fs.v[0].line, 7);
	kb_facts_free(&fs);

	/* yes/no and on/off are booleans too. */
	text = "---\nid: y\ntitle: Y\ntopic: product\nproduct: all\nupdated: 2026-01-05\n"
	       "version: 7\nvolatile: yes\n---\nText.\n";
	ck_assert_int_eq(parse("y.md", text, &fs, &d), 0);
	ck_assert_int_eq(fs.v[0].volatile_, 1);
	ck_assert_uint_eq(fs.v[0].missing, 0);
	kb_facts_free(&fs);
	diag_free(&d);
}
END_TEST

START_TEST(parse_empty_body_warns)
{
	struct kb_facts fs = {0};
	struct diag d = {0};
	const char *text = FRONT("empty", "general", "") "\n   \n";
	ck_assert_int_eq(parse("empty.md", text, &fs, &d), 0);
	ck_assert_uint_eq(fs.n, 0);
	ck_assert_int_eq(d.errors, 0);
	ck_assert_int_eq(d.warnings, 1);
	ck_assert_ptr_nonnull(
	    diag_find(&d, "empty.md:", "warning: fact 'empty' has no content", NULL));
	kb_facts_free(&fs);
	diag_free(&d);
}
END_TEST

static const struct bad_case {
	const char *name;
	const char *text;
	const char *where; /* the message starts with this */
	const char *what;
} bad_cases[] = {
    {"no front matter", "# Just Markdown\nText.\n", "bad.md:1:1: ", "must start with '---'"},
    {"front matter not first", "\n---\nid: x\n---\nText.\n",
     "bad.md:1:1: ", "must start with '---'"},
    {"unclosed front matter", "---\nid: x\ntitle: X\ntopic: general\nupdated: 2026-01-01\nText.\n",
     "bad.md:1:1: ", "not closed"},
    {"bad date",
     "---\nid: x\ntitle: X\ntopic: general\nproduct: all\nupdated: 2026-02-29\n---\nText.\n",
     "bad.md:6:10: ", "expected a date as YYYY-MM-DD, got '2026-02-29'"},
    {"sloppy date", "---\nid: x\ntitle: X\ntopic: general\nupdated: 2026-2-1\n---\nText.\n",
     "bad.md:5:10: ", "expected a date"},
    {"unknown topic", "---\nid: x\ntitle: X\ntopic: legal\nupdated: 2026-01-01\n---\nText.\n",
     "bad.md:4:8: ", "'legal' is not one of"},
    {"unknown key",
     "---\nid: x\ntitle: X\ntopic: general\nupdated: 2026-01-01\ncolour: red\n---\nText.\n",
     "bad.md:6:1: ", "unknown key 'colour' in front matter"},
    {"duplicate key",
     "---\nid: x\ntitle: X\ntopic: general\ntitle: Y\nupdated: 2026-01-01\n---\nText.\n",
     "bad.md:5:1: ", "duplicate key 'front matter.title'"},
    {"missing required key", "---\nid: x\ntitle: X\ntopic: general\n---\nText.\n",
     "bad.md:2:1: ", "missing required key 'updated'"},
    {"version out of range",
     "---\nid: x\ntitle: X\ntopic: general\nupdated: 2026-01-01\nversion: 0\n---\nText.\n",
     "bad.md:6:10: ", "out of range"},
    {"volatile not a boolean",
     "---\nid: x\ntitle: X\ntopic: general\nupdated: 2026-01-01\nvolatile: maybe\n---\nText.\n",
     "bad.md:6:11: ", "expected true or false"},
    {"bad id", "---\nid: Returns Window\ntitle: X\ntopic: general\nupdated: 2026-01-01\n---\nT.\n",
     "bad.md:2:5: ", "must be lower-case"},
    {"yaml syntax", "---\nid: x\ntitle: [unclosed\ntopic: general\n---\nText.\n",
     "bad.md:", "YAML syntax error"},
    {"front matter not a mapping", "---\n- a\n- b\n---\nText.\n",
     "bad.md:2:1: ", "expected a mapping"},
    {"invalid UTF-8 in the body",
     "---\nid: x\ntitle: X\ntopic: general\nupdated: 2026-01-01\n---\nGood line.\n"
     "Caf\xe9 latin-1 line.\n",
     "bad.md:8: ", "not valid UTF-8"},
    {"invalid UTF-8 in the front matter",
     "---\nid: x\ntitle: Bad \xc3\x28 title\ntopic: general\nupdated: 2026-01-01\n---\nText.\n",
     "bad.md:3: ", "not valid UTF-8"},
    {"overlong UTF-8",
     "---\nid: x\ntitle: \xc0\xaf\ntopic: general\nupdated: 2026-01-01\n---\nT.\n",
     "bad.md:3: ", "not valid UTF-8"},
};

START_TEST(parse_bad_files)
{
	const struct bad_case *c = &bad_cases[_i];
	struct kb_facts fs = {0};
	struct diag d = {0};
	/* A fact already there stays; the bad file adds none. */
	ck_assert_int_eq(parse("good.md", FRONT("good", "general", "") "Good.\n", &fs, &d), 0);
	ck_assert_uint_eq(fs.n, 1);

	ck_assert_msg(parse("bad.md", c->text, &fs, &d) == -1, "%s: accepted", c->name);
	ck_assert_msg(d.errors >= 1, "%s: no error", c->name);
	ck_assert_uint_eq(fs.n, 1);
	ck_assert_str_eq(fs.v[0].id, "good");
	int found = 0;
	for (size_t i = 0; i < d.msgs.n; i++)
		if (strncmp(d.msgs.v[i], c->where, strlen(c->where)) == 0 &&
		    strstr(d.msgs.v[i], c->what) != NULL)
			found = 1;
	char *all = diag_join(&d);
	ck_assert_msg(found, "%s: no message '%s...%s' in:\n%s", c->name, c->where, c->what, all);
	free(all);
	kb_facts_free(&fs);
	diag_free(&d);
}
END_TEST

START_TEST(parse_rejects_every_invalid_utf8_form)
{
	static const char *const bad[] = {
	    "\xe0\x80\xaf",     /* overlong three-byte '/' */
	    "\xed\xa0\x80",     /* UTF-16 surrogate U+D800 */
	    "\xf0\x82\x82\xac", /* overlong four-byte */
	    "\xf4\x90\x80\x80", /* beyond U+10FFFF */
	};
	for (size_t i = 0; i < nitems(bad); i++) {
		char *text =
		    xasprintf("%sLine ten.\nBad %s here.\n", FRONT("u", "general", ""), bad[i]);
		struct kb_facts fs = {0};
		struct diag d = {0};
		ck_assert_msg(parse("utf.md", text, &fs, &d) == -1, "case %zu accepted", i);
		ck_assert_ptr_nonnull(diag_find(&d, "utf.md:11: ", "not valid UTF-8", NULL));
		ck_assert_uint_eq(fs.n, 0);
		kb_facts_free(&fs);
		diag_free(&d);
		free(text);
	}
	/* Valid multi-byte text is fine: e-acute, euro sign, an emoji. */
	struct kb_facts fs = {0};
	struct diag d = {0};
	ck_assert_int_eq(parse("ok.md",
	                       FRONT("ok", "general", "") "Caf\xc3\xa9 \xe2\x82\xac"
	                                                  "5 \xf0\x9f\x93\xa6\n",
	                       &fs, &d),
	                 0);
	ck_assert_uint_eq(fs.n, 1);
	kb_facts_free(&fs);
	diag_free(&d);
}
END_TEST

START_TEST(parse_is_safe_on_short_and_odd_input)
{
	static const char *const texts[] = {"",
	                                    "-",
	                                    "---",
	                                    "---\n",
	                                    "---\n---\n",
	                                    "---\n---",
	                                    "---\n\n---\nText\n",
	                                    "---\nid: x\n---"};
	for (size_t i = 0; i < nitems(texts); i++) {
		struct kb_facts fs = {0};
		struct diag d = {0};
		ck_assert_msg(parse("odd.md", texts[i], &fs, &d) == -1, "accepted '%s'", texts[i]);
		ck_assert_uint_eq(fs.n, 0);
		ck_assert_int_ge(d.errors, 1);
		kb_facts_free(&fs);
		diag_free(&d);
	}
	/* The text need not be NUL-terminated at len. */
	const char *text = FRONT("cut", "general", "") "Kept.\nCut off here";
	struct kb_facts fs = {0};
	struct diag d = {0};
	ck_assert_int_eq(
	    kb_parse_file("cut.md", text, strlen(text) - strlen("Cut off here"), &fs, &d), 0);
	ck_assert_uint_eq(fs.n, 1);
	ck_assert_str_eq(fs.v[0].content, "Kept.");
	kb_facts_free(&fs);
	diag_free(&d);
}
END_TEST

/* ---------------------------------------------------------- freshness */

static int
stale_of(const char *updated, int volatile_, enum topic topic, int *days)
{
	struct kb_fact f = {0};
	f.updated = day(updated);
	f.volatile_ = volatile_;
	f.topic = topic;
	int stale = -1;
	*days = kb_fact_freshness(&f, &fresh_policy, &stale);
	return stale;
}

START_TEST(freshness_and_the_stale_rule)
{
	int days;
	/* Old and volatile: stale. */
	ck_assert_int_eq(stale_of("2026-05-12", 1, TOPIC_SHIPPING, &days), 1);
	ck_assert_int_eq(days, 196);
	/* Old, not volatile, but on a volatile topic: stale. */
	ck_assert_int_eq(stale_of("2026-06-03", 0, TOPIC_POLICY, &days), 1);
	ck_assert_int_eq(stale_of("2026-06-03", 0, TOPIC_PRICING, &days), 1);
	ck_assert_int_eq(stale_of("2026-06-03", 0, TOPIC_PRODUCT, &days), 1);
	/* Old evergreen technical fact: never stale. */
	ck_assert_int_eq(stale_of("2024-01-10", 0, TOPIC_TECHNICAL, &days), 0);
	ck_assert_int_eq(days, 1049);
	/* Fresh and volatile: not stale. */
	ck_assert_int_eq(stale_of("2026-11-14", 1, TOPIC_PRICING, &days), 0);
	ck_assert_int_eq(days, 10);
	/* Exactly stale_after_days is still fresh; one more day is not. */
	ck_assert_int_eq(stale_of("2026-08-26", 1, TOPIC_SHIPPING, &days), 0);
	ck_assert_int_eq(days, 90);
	ck_assert_int_eq(stale_of("2026-08-25", 1, TOPIC_SHIPPING, &days), 1);
	ck_assert_int_eq(days, 91);
	/* Updated today. */
	ck_assert_int_eq(stale_of("2026-11-24", 1, TOPIC_PRICING, &days), 0);
	ck_assert_int_eq(days, 0);

	/* The policy's topics and limit decide. */
	struct kb_freshness none = {.today = TODAY, .stale_after_days = 30, .volatile_topics = 0};
	struct kb_fact f = {0};
	int stale;
	f.updated = day("2026-10-01");
	f.topic = TOPIC_PRICING;
	ck_assert_int_eq(kb_fact_freshness(&f, &none, &stale), 54);
	ck_assert_int_eq(stale, 0);
	f.volatile_ = 1;
	kb_fact_freshness(&f, &none, &stale);
	ck_assert_int_eq(stale, 1);
}
END_TEST

/* -------------------------------------------------------------- index */

static struct kb *
open_ok(const char *dir, const char *index, struct diag *d)
{
	char *cause = NULL;
	struct kb *kb = kb_open(dir, index, d, &cause);
	ck_assert_msg(kb != NULL, "kb_open(%s): %s", dir, cause ? cause : "?");
	return kb;
}

static void
search_ok(struct kb *kb, const char *q, int k, struct kb_hits *h)
{
	char *cause = NULL;
	int rc = kb_search(kb, q, k, &fresh_policy, h, &cause);
	ck_assert_msg(rc == 0, "kb_search(%s): %s", q, cause ? cause : "?");
}

/* The id of the best hit for q, or "" (caller frees). */
static char *
top_id(struct kb *kb, const char *q)
{
	struct kb_hits h;
	search_ok(kb, q, 5, &h);
	char *id = xstrdup(h.n ? h.v[0].fact.id : "");
	kb_hits_free(&h);
	return id;
}

#define assert_top(kb, q, want)                                                                    \
	do {                                                                                       \
		char *got_ = top_id((kb), (q));                                                    \
		ck_assert_msg(strcmp(got_, (want)) == 0, "'%s': top hit '%s', want '%s'", (q),     \
		              got_, (want));                                                       \
		free(got_);                                                                        \
	} while (0)

/* A copy of a fixture KB that tests may change; caller rm_rf's the parent. */
static char *
copy_kb(const char *fixture, const char *tmp)
{
	char *src = srcpath(fixture);
	char *dst = xasprintf("%s/kb", tmp);
	/* Files from a read-only source tree (distcheck) must become writable. */
	char *cmd = xasprintf("cp -R '%s' '%s' && chmod -R u+w '%s'", src, dst, dst);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(src);
	return dst;
}

START_TEST(open_indexes_every_fact)
{
	char *tmp = tmpdir_new();
	char *dir = srcpath("tests/data/kb-small");
	char *index = xasprintf("%s/index.sqlite", tmp);
	struct diag d = {0};
	struct kb *kb = open_ok(dir, index, &d);
	char *msgs = diag_join(&d);
	ck_assert_msg(d.msgs.n == 0, "%s", msgs);
	free(msgs);
	ck_assert_uint_eq(kb_count(kb), 9);
	ck_assert_uint_eq(kb_reindexed(kb), 7); /* files */
	kb_close(kb);
	struct stat st;
	ck_assert_int_eq(stat(index, &st), 0);
	diag_free(&d);
	free(index);
	free(dir);
	rm_rf(tmp);
	free(tmp);
}
END_TEST

static struct kb *small_kb;

static void
small_setup(void)
{
	struct diag d = {0};
	char *dir = srcpath("tests/data/kb-small");
	small_kb = open_ok(dir, ":memory:", &d);
	diag_free(&d);
	free(dir);
}

static void
small_teardown(void)
{
	kb_close(small_kb);
	small_kb = NULL;
}

START_TEST(search_finds_the_right_fact_first)
{
	assert_top(small_kb, "how many days until standard delivery arrives", "shipping-standard");
	assert_top(small_kb, "I forgot my password", "account-password/reset-a-forgotten-password");
	assert_top(small_kb, "how do I change my password",
	           "account-password/change-your-password");
	assert_top(small_kb, "what time does live chat open", "general-support-hours");
	assert_top(small_kb, "hub light blinking amber, how to wipe it to factory settings",
	           "technical-hub-factory-reset");
	assert_top(small_kb, "can I still return my device, it arrived 3 weeks ago",
	           "returns-window");
	assert_top(small_kb, "PROTECT basic monthly PRICE?", "pricing-protect-basic");
}
END_TEST

START_TEST(search_hits_carry_fact_freshness_and_confidence)
{
	struct kb_hits h;
	search_ok(small_kb, "How much does Acme Protect Basic cost per month", 5, &h);
	ck_assert_uint_ge(h.n, 1);
	ck_assert_uint_gt(h.query_terms, 0);
	const struct kb_hit *x = &h.v[0];
	ck_assert_str_eq(x->fact.id, "pricing-protect-basic");
	ck_assert_str_eq(x->fact.title, "Acme Protect Basic price");
	ck_assert_ptr_nonnull(strstr(x->fact.content, "$4.99 per month"));
	ck_assert_ptr_nonnull(strstr(x->fact.source, "kb-small/pricing/protect-basic.md"));
	ck_assert_int_eq(x->fact.line, 10);
	ck_assert_int_eq(x->fact.topic, TOPIC_PRICING);
	ck_assert_str_eq(x->fact.product, "acme-protect-basic");
	ck_assert_int_eq(x->fact.updated, day("2026-01-15"));
	ck_assert_int_eq(x->fact.version, 2);
	ck_assert_int_eq(x->fact.volatile_, 1);
	ck_assert_int_eq(x->freshness_days, 313);
	ck_assert_int_eq(x->stale, 1);
	for (size_t i = 0; i < h.n; i++) {
		ck_assert(h.v[i].confidence >= 0 && h.v[i].confidence <= 1);
		/* Best first. */
		if (i > 0)
			ck_assert(h.v[i].confidence <= h.v[i - 1].confidence);
	}
	kb_hits_free(&h);

	/* A fresh fact is not stale; an old evergreen one neither. */
	search_ok(small_kb, "standard shipping business days", 1, &h);
	ck_assert_str_eq(h.v[0].fact.id, "shipping-standard");
	ck_assert_int_eq(h.v[0].freshness_days, 23);
	ck_assert_int_eq(h.v[0].stale, 0);
	kb_hits_free(&h);
	search_ok(small_kb, "factory reset hub", 1, &h);
	ck_assert_str_eq(h.v[0].fact.id, "technical-hub-factory-reset");
	ck_assert_int_gt(h.v[0].freshness_days, 600);
	ck_assert_int_eq(h.v[0].stale, 0);
	kb_hits_free(&h);
	/* Old on a volatile topic, not volatile itself: stale. */
	search_ok(small_kb, "limited warranty manufacturing defects", 1, &h);
	ck_assert_str_eq(h.v[0].fact.id, "policy-warranty");
	ck_assert_int_eq(h.v[0].stale, 1);
	kb_hits_free(&h);
}
END_TEST

START_TEST(confidence_separates_good_and_poor_matches)
{
	struct kb_hits good, poor;
	search_ok(small_kb, "reset a forgotten password", 1, &good);
	ck_assert_uint_eq(good.n, 1);
	/* Shares two incidental words ("camera", "phone") with facts, nothing else. */
	search_ok(small_kb,
	          "my neighbour's camera films my garden, is it legal to record a phone call", 1,
	          &poor);
	ck_assert_uint_eq(poor.n, 1);
	ck_assert_msg(good.v[0].confidence > poor.v[0].confidence, "good %.3f, poor %.3f",
	              good.v[0].confidence, poor.v[0].confidence);
	ck_assert_msg(good.v[0].confidence >= 0.5, "good %.3f", good.v[0].confidence);
	ck_assert_msg(poor.v[0].confidence < 0.5, "poor %.3f", poor.v[0].confidence);
	kb_hits_free(&good);
	kb_hits_free(&poor);
}
END_TEST

START_TEST(k_limits_the_hits)
{
	struct kb_hits h;
	/* Three facts mention passwords. */
	search_ok(small_kb, "password", 10, &h);
	ck_assert_uint_eq(h.n, 3);
	kb_hits_free(&h);
	search_ok(small_kb, "password", 2, &h);
	ck_assert_uint_eq(h.n, 2);
	kb_hits_free(&h);
	search_ok(small_kb, "password", 1, &h);
	ck_assert_uint_eq(h.n, 1);
	kb_hits_free(&h);
}
END_TEST

START_TEST(stopwords_and_unknown_words_give_no_hits)
{
	struct kb_hits h;
	static const char *const queries[] = {
	    "how do I get the",
	    "Hi! Thanks, please help me",
	    "",
	    "   ",
	    "?!...",
	    "xylophone quintessential zygote", /* words no fact contains */
	};
	for (size_t i = 0; i < nitems(queries); i++) {
		char *cause = NULL;
		ck_assert_int_eq(kb_search(small_kb, queries[i], 5, &fresh_policy, &h, &cause), 0);
		ck_assert_msg(h.n == 0, "'%s': %zu hits", queries[i], h.n);
		ck_assert_uint_eq(h.query_terms, 0);
		kb_hits_free(&h);
	}
	ck_assert(kb_is_stopword("the", 3));
	ck_assert(kb_is_stopword("want", 4));
	ck_assert(!kb_is_stopword("password", 8));
}
END_TEST

START_TEST(query_syntax_is_not_interpreted)
{
	/* Customer text goes to FTS5: its operators and quotes must be plain words. */
	static const char *const queries[] = {
	    "password\" OR \"",
	    "NEAR(password reset)",
	    "title:password",
	    "password*",
	    "-password",
	    "(password",
	    "password AND NOT reset",
	    "\"\"\"",
	    "pass'word",
	    "^password",
	    "{password}",
	    "password + reset",
	};
	for (size_t i = 0; i < nitems(queries); i++) {
		struct kb_hits h;
		char *cause = NULL;
		int rc = kb_search(small_kb, queries[i], 5, &fresh_policy, &h, &cause);
		ck_assert_msg(rc == 0, "'%s': %s", queries[i], cause ? cause : "?");
		kb_hits_free(&h);
	}
	struct kb_hits h;
	search_ok(small_kb, "title:password", 5, &h);
	ck_assert_uint_ge(h.n, 1);
	kb_hits_free(&h);
}
END_TEST

START_TEST(hit_json_has_the_design_fields)
{
	struct kb_hits h;
	search_ok(small_kb, "return window", 1, &h);
	ck_assert_uint_eq(h.n, 1);
	cJSON *o = kb_hit_json(&h.v[0]);
	static const char *const strings[] = {"id",    "title",   "content", "source",
	                                      "topic", "product", "updated"};
	for (size_t i = 0; i < nitems(strings); i++)
		ck_assert_msg(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, strings[i])), "%s",
		              strings[i]);
	static const char *const numbers[] = {"line", "version", "freshness_days", "confidence",
	                                      "score"};
	for (size_t i = 0; i < nitems(numbers); i++)
		ck_assert_msg(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, numbers[i])), "%s",
		              numbers[i]);
	ck_assert(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(o, "stale")));
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "id")->valuestring, "returns-window");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "updated")->valuestring, "2026-10-01");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "topic")->valuestring, "returns");
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(o, "freshness_days")->valueint, 54);
	double c = cJSON_GetObjectItemCaseSensitive(o, "confidence")->valuedouble;
	ck_assert(c >= 0 && c <= 1);
	ck_assert_double_eq_tol(c, h.v[0].confidence, 0.0005 + 1e-9);
	cJSON_Delete(o);
	kb_hits_free(&h);
}
END_TEST

/* -------------------------------------------------------- persistence */

static size_t
nhits(struct kb *kb, const char *q)
{
	struct kb_hits h;
	search_ok(kb, q, 10, &h);
	size_t n = h.n;
	kb_hits_free(&h);
	return n;
}

START_TEST(index_is_kept_up_to_date)
{
	char *tmp = tmpdir_new();
	char *dir = copy_kb("tests/data/kb-small", tmp);
	char *index = xasprintf("%s/index.sqlite", tmp);
	struct diag d = {0};
	long t = 1700000000;

	struct kb *kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(kb_reindexed(kb), 7);
	ck_assert_uint_eq(kb_count(kb), 9);
	kb_close(kb);

	/* Nothing changed: nothing is parsed again. */
	kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(kb_reindexed(kb), 0);
	ck_assert_uint_eq(kb_count(kb), 9);
	assert_top(kb, "I forgot my password", "account-password/reset-a-forgotten-password");
	kb_close(kb);

	/* Touched: that one file again. */
	char *hours = xasprintf("%s/general/support-hours.md", dir);
	set_mtime(hours, t++);
	kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(kb_reindexed(kb), 1);
	ck_assert_uint_eq(kb_count(kb), 9);
	kb_close(kb);

	/* Changed: the new text is searchable, the old one gone. */
	char *text = slurp(hours);
	char *changed = replace1(text, "including holidays", "except on the zeppelin festival");
	spew(hours, changed);
	set_mtime(hours, t++);
	kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(kb_reindexed(kb), 1);
	ck_assert_uint_eq(kb_count(kb), 9);
	assert_top(kb, "zeppelin", "general-support-hours");
	ck_assert_uint_eq(nhits(kb, "holidays"), 0);
	kb_close(kb);

	/* A new file. */
	free(tmpfile_with(dir, "general/gift-cards.md",
	                  FRONT("general-gift-cards", "general", "") "Gift cards never expire.\n"));
	kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(kb_reindexed(kb), 1);
	ck_assert_uint_eq(kb_count(kb), 10);
	assert_top(kb, "do gift cards expire", "general-gift-cards");
	kb_close(kb);

	/* A deleted file: its facts go. */
	char *pw = xasprintf("%s/account/password.md", dir);
	ck_assert_int_eq(unlink(pw), 0);
	kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(kb_count(kb), 7);
	ck_assert_uint_eq(nhits(kb, "password"), 0);
	kb_close(kb);
	kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(kb_reindexed(kb), 0);
	ck_assert_uint_eq(kb_count(kb), 7);
	kb_close(kb);

	ck_assert_int_eq(d.errors, 0);
	diag_free(&d);
	free(pw);
	free(changed);
	free(text);
	free(hours);
	free(index);
	free(dir);
	rm_rf(tmp);
	free(tmp);
}
END_TEST

START_TEST(a_file_turning_bad_loses_its_facts_and_is_reported)
{
	char *tmp = tmpdir_new();
	char *dir = copy_kb("tests/data/kb-small", tmp);
	char *index = xasprintf("%s/index.sqlite", tmp);
	struct diag d = {0};
	struct kb *kb = open_ok(dir, index, &d);
	kb_close(kb);

	char *win = xasprintf("%s/returns/return-window.md", dir);
	char *text = slurp(win);
	char *bad = replace1(text, "updated: 2026-10-01", "updated: 2026-10-32");
	spew(win, bad);
	set_mtime(win, 1700000000);
	kb = open_ok(dir, index, &d);
	ck_assert_ptr_nonnull(diag_find(&d, "return-window.md:6:10: ", "expected a date", NULL));
	ck_assert_uint_eq(kb_count(kb), 8);
	ck_assert_uint_eq(nhits(kb, "return window"), 0);
	kb_close(kb);
	diag_free(&d);

	/* Still bad, unchanged: reported again on the next open. */
	kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(kb_reindexed(kb), 0);
	ck_assert_ptr_nonnull(diag_find(&d, "return-window.md:6:10: ", "expected a date", NULL));
	kb_close(kb);
	diag_free(&d);

	/* Fixed: back. */
	spew(win, text);
	set_mtime(win, 1700000001);
	kb = open_ok(dir, index, &d);
	ck_assert_int_eq(d.errors, 0);
	ck_assert_uint_eq(kb_count(kb), 9);
	assert_top(kb, "return window", "returns-window");
	kb_close(kb);
	diag_free(&d);

	free(bad);
	free(text);
	free(win);
	free(index);
	free(dir);
	rm_rf(tmp);
	free(tmp);
}
END_TEST

START_TEST(bad_file_among_good_ones)
{
	char *dir = srcpath("tests/data/kb-bad");
	struct diag d = {0};
	struct kb *kb = open_ok(dir, ":memory:", &d);
	ck_assert_int_eq(d.errors, 1);
	const char *m = diag_find(&d, "bad-date.md:6:10: ", "'2026-02-30'", NULL);
	char *all = diag_join(&d);
	ck_assert_msg(m != NULL, "%s", all);
	free(all);
	ck_assert_uint_eq(kb_count(kb), 2);
	assert_top(kb, "do gift cards expire", "general-gift-cards");
	assert_top(kb, "order before noon, does it leave the warehouse today", "shipping-same-day");
	ck_assert_uint_eq(nhits(kb, "holiday cutoff december"), 0);
	kb_close(kb);
	diag_free(&d);
	free(dir);
}
END_TEST

START_TEST(skips_dot_files_and_readme_follows_symlinks)
{
	char *tmp = tmpdir_new();
	char *dir = copy_kb("tests/data/kb-bad", tmp);
	char *bad = xasprintf("%s/bad-date.md", dir);
	ck_assert_int_eq(unlink(bad), 0);
	char *hidden = xasprintf("%s/.drafts", dir);
	ck_assert_int_eq(mkdir(hidden, 0700), 0);
	free(tmpfile_with(hidden, "draft.md", FRONT("draft-one", "general", "") "Zebra draft.\n"));
	free(tmpfile_with(dir, ".hidden.md", FRONT("hidden-one", "general", "") "Zebra hidden.\n"));
	free(tmpfile_with(dir, "README.md", "# About this knowledge base\nZebra readme.\n"));
	free(tmpfile_with(dir, "notes.txt", "Zebra notes.\n"));
	/* A linked directory of facts counts. */
	char *other = xasprintf("%s/elsewhere", tmp);
	ck_assert_int_eq(mkdir(other, 0700), 0);
	free(
	    tmpfile_with(other, "linked.md", FRONT("linked-one", "general", "") "Zebra linked.\n"));
	char *link = xasprintf("%s/linked", dir);
	ck_assert_int_eq(symlink(other, link), 0);

	struct diag d = {0};
	struct kb *kb = open_ok(dir, ":memory:", &d);
	char *all = diag_join(&d);
	ck_assert_msg(d.msgs.n == 0, "%s", all);
	free(all);
	ck_assert_uint_eq(kb_count(kb), 3);
	struct kb_hits h;
	search_ok(kb, "zebra", 10, &h);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_str_eq(h.v[0].fact.id, "linked-one");
	kb_hits_free(&h);
	kb_close(kb);

	/* kb_load_dir sees the same files, in byte order of their paths. */
	struct kb_facts fs = {0};
	char *cause = NULL;
	ck_assert_int_eq(kb_load_dir(dir, &fs, &d, &cause), 0);
	ck_assert_uint_eq(fs.n, 3);
	ck_assert_str_eq(fs.v[0].id, "general-gift-cards");
	ck_assert_str_eq(fs.v[1].id, "linked-one");
	ck_assert_str_eq(fs.v[2].id, "shipping-same-day");
	kb_facts_free(&fs);

	diag_free(&d);
	free(link);
	free(other);
	free(hidden);
	free(bad);
	free(dir);
	rm_rf(tmp);
	free(tmp);
}
END_TEST

START_TEST(open_fails_on_a_missing_dir)
{
	struct diag d = {0};
	char *cause = NULL;
	struct kb *kb = kb_open("/nonexistent/kb", ":memory:", &d, &cause);
	ck_assert_ptr_null(kb);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "/nonexistent/kb") != NULL, "%s", cause);
	free(cause);

	/* A file is not a directory. */
	char *tmp = tmpdir_new();
	char *file = tmpfile_with(tmp, "file.md", "not a dir\n");
	cause = NULL;
	ck_assert_ptr_null(kb_open(file, ":memory:", &d, &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, file) != NULL, "%s", cause);
	free(cause);

	/* kb_load_dir too. */
	struct kb_facts fs = {0};
	cause = NULL;
	ck_assert_int_eq(kb_load_dir("/nonexistent/kb", &fs, &d, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent/kb"));
	free(cause);
	ck_assert_uint_eq(fs.n, 0);
	diag_free(&d);
	free(file);
	rm_rf(tmp);
	free(tmp);
}
END_TEST

START_TEST(open_says_why_it_fails)
{
	struct diag d = {0};
	char *cause = NULL;
	ck_assert_ptr_null(kb_open("/nonexistent/kb", ":memory:", &d, &cause));
	char *want = xasprintf("/nonexistent/kb: %s", strerror(ENOENT));
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);

	char *tmp = tmpdir_new();
	char *file = tmpfile_with(tmp, "file.md", "not a dir\n");
	cause = NULL;
	errno = 0;
	ck_assert_ptr_null(kb_open(file, ":memory:", &d, &cause));
	want = xasprintf("%s: %s", file, strerror(ENOTDIR));
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	diag_free(&d);
	free(file);
	rm_rf(tmp);
	free(tmp);
}
END_TEST

START_TEST(default_index_lives_in_the_cache_dir)
{
	char *tmp = tmpdir_new();
	char *cache = xasprintf("%s/cache", tmp);
	setenv("XDG_CACHE_HOME", cache, 1);
	char *dir = srcpath("tests/data/kb-small");
	struct diag d = {0};
	struct kb *kb = open_ok(dir, NULL, &d);
	ck_assert_uint_eq(kb_reindexed(kb), 7);
	kb_close(kb);
	/* One kb-<16 hex digits>.sqlite, reused by the next open. */
	char *cmd = xasprintf("ls '%s/frontline' | grep -Eq '^kb-[0-9a-f]{16}\\.sqlite$'", cache);
	ck_assert_int_eq(system(cmd), 0);
	kb = open_ok(dir, NULL, &d);
	ck_assert_uint_eq(kb_reindexed(kb), 0);
	ck_assert_uint_eq(kb_count(kb), 9);
	kb_close(kb);

	/* No usable cache directory: the index lives in memory for the run. */
	char *blocker = tmpfile_with(tmp, "not-a-dir", "x");
	setenv("XDG_CACHE_HOME", blocker, 1);
	kb = open_ok(dir, NULL, &d);
	ck_assert_uint_eq(kb_count(kb), 9);
	assert_top(kb, "I forgot my password", "account-password/reset-a-forgotten-password");
	kb_close(kb);
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	kb = open_ok(dir, NULL, &d);
	ck_assert_uint_eq(kb_count(kb), 9);
	kb_close(kb);

	ck_assert_int_eq(d.errors, 0);
	diag_free(&d);
	free(blocker);
	free(cmd);
	free(dir);
	free(cache);
	rm_rf(tmp);
	free(tmp);
}
END_TEST

START_TEST(processes_can_share_a_new_index)
{
	char *tmp = tmpdir_new();
	char *dir = srcpath("tests/data/kb-small");
	int failed_rounds = 0;
	/* The race is in the first open of an index: try a few fresh ones. */
	for (int round = 0; round < 12; round++) {
		char *index = xasprintf("%s/shared-%d.sqlite", tmp, round);
		int gate[2];
		ck_assert_int_eq(pipe(gate), 0);
		for (int i = 0; i < 8; i++) {
			pid_t pid = fork();
			ck_assert_int_ge(pid, 0);
			if (pid == 0) {
				char c;
				close(gate[1]);
				/* Start together: when the parent closes the pipe. */
				if (read(gate[0], &c, 1) != 0)
					_exit(2);
				struct diag d = {0};
				char *cause = NULL;
				struct kb *kb = kb_open(dir, index, &d, &cause);
				if (kb == NULL) {
					fprintf(stderr, "round %d: %s\n", round, cause);
					_exit(1);
				}
				int ok = kb_count(kb) == 9;
				kb_close(kb);
				_exit(ok ? 0 : 3);
			}
		}
		close(gate[0]);
		close(gate[1]);
		int status, bad = 0;
		while (wait(&status) > 0)
			bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
		failed_rounds += bad;
		free(index);
	}
	free(dir);
	rm_rf(tmp);
	free(tmp);
	ck_assert_msg(failed_rounds == 0, "%d of 12 rounds had a process fail to open the index",
	              failed_rounds);
}
END_TEST

/* -------------------------------------------------------- shipped KB */

static struct kb *shipped_kb;

/* A KB of the source tree, indexed in memory; it must have no problems. */
static struct kb *
open_clean(const char *rel)
{
	struct diag d = {0};
	char *dir = srcpath(rel);
	struct kb *kb = open_ok(dir, ":memory:", &d);
	char *msgs = diag_join(&d);
	ck_assert_msg(d.msgs.n == 0, "%s has problems:\n%s", rel, msgs);
	free(msgs);
	diag_free(&d);
	free(dir);
	return kb;
}

static void
shipped_setup(void)
{
	shipped_kb = open_clean("kb");
}

static void
shipped_teardown(void)
{
	kb_close(shipped_kb);
	shipped_kb = NULL;
}

START_TEST(shipped_kb_answers_realistic_questions)
{
	ck_assert_uint_ge(kb_count(shipped_kb), 100);
	assert_top(shipped_kb, "reset my password", "account-password-reset");
	assert_top(shipped_kb, "return window", "returns-window");
	assert_top(shipped_kb, "how many days do I have to return a camera", "returns-window");
	/* A section is found by its file's title too ("Factory reset steps" / "Acme Doorbell Pro").
	 */
	assert_top(shipped_kb, "how do I factory reset the doorbell",
	           "technical-factory-reset/acme-doorbell-pro");
	assert_top(shipped_kb, "reset the hub", "technical-factory-reset/acme-hub");
	struct kb_hits hub;
	search_ok(shipped_kb, "reset the hub", 1, &hub);
	ck_assert_str_eq(hub.v[0].fact.title, "Factory reset steps: Acme Hub");
	kb_hits_free(&hub);

	/* Standard shipping: one of the two (conflicting) delivery-time facts. */
	struct kb_hits h;
	search_ok(shipped_kb, "how long does standard shipping take", 2, &h);
	ck_assert_uint_eq(h.n, 2);
	for (size_t i = 0; i < h.n; i++)
		ck_assert_msg(strncmp(h.v[i].fact.id, "shipping-standard-delivery-", 27) == 0,
		              "hit %zu: %s", i, h.v[i].fact.id);
	kb_hits_free(&h);

	/* The expired promotion is found, and flagged stale. */
	search_ok(shipped_kb, "SUMMER20 promo code", 1, &h);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_str_eq(h.v[0].fact.id, "pricing-summer-outdoor-promo");
	ck_assert_int_eq(h.v[0].stale, 1);
	ck_assert_int_eq(h.v[0].freshness_days, 146);
	kb_hits_free(&h);
}
END_TEST

START_TEST(a_lone_incidental_match_is_not_confident)
{
	static const char *const queries[] = {
	    "what is the weather forecast for the holidays", /* "holidays": order processing */
	    "my neighbours are noisy",                       /* "neighbours": lost packages */
	};
	for (size_t i = 0; i < nitems(queries); i++) {
		struct kb_hits h;
		search_ok(shipped_kb, queries[i], 1, &h);
		if (h.n > 0)
			ck_assert_msg(h.v[0].confidence < 0.5, "'%s': %s with confidence %.3f",
			              queries[i], h.v[0].fact.id, h.v[0].confidence);
		kb_hits_free(&h);
	}
}
END_TEST

/* ------------------------------------------------------ retrieval */

/*
 * tests/data/kb-retrieval: a bicycle shop's facts and catalogue, for the
 * mechanisms that must carry to any company's knowledge base.
 */
static struct kb *shop_kb;

static void
shop_setup(void)
{
	shop_kb = open_clean("tests/data/kb-retrieval");
}

static void
shop_teardown(void)
{
	kb_close(shop_kb);
	shop_kb = NULL;
}

/* The best hit for low is under the retrieval floor of 0.5, the best for high at or over it. */
static void
assert_floor_between(struct kb *kb, const char *low, const char *high)
{
	const char *q[2] = {low, high};
	for (int i = 0; i < 2; i++) {
		struct kb_hits h;
		search_ok(kb, q[i], 3, &h);
		double c = h.n ? h.v[0].confidence : 0;
		ck_assert_msg(i == 0 ? c < 0.5 : c >= 0.5, "'%s': confidence %.3f", q[i], c);
		kb_hits_free(&h);
	}
}

START_TEST(a_product_name_does_not_outrank_what_is_asked)
{
	/* The Roadster's own fact shares "Roadster" and "frame"; the question is about returning.
	 */
	assert_top(shop_kb, "Can I still return the Roadster if the frame is too big for me?",
	           "returns-window");
	/* Among facts that answer what is asked, the product still picks one. */
	assert_top(shop_kb, "how do I factory reset the bike lock", "technical-lock-reset");
	assert_top(shop_kb, "factory reset for the cargo bike display",
	           "technical-factory-reset/cargo-e-display");
	assert_top(shop_kb, "how do I reset the lights on my roadster",
	           "technical-factory-reset/roadster-lights");
	/* A title about another product is marked so. */
	struct kb_hits h;
	search_ok(shop_kb, "factory reset for the cargo bike display", 5, &h);
	const struct kb_hit *lock = NULL;
	for (size_t i = 0; i < h.n; i++)
		if (strcmp(h.v[i].fact.id, "technical-lock-reset") == 0)
			lock = &h.v[i];
	ck_assert_ptr_nonnull(lock);
	ck_assert_double_eq(lock->feat[10], -1);
	ck_assert_double_eq(h.v[0].feat[10], 1);
	kb_hits_free(&h);
}
END_TEST

START_TEST(a_question_about_what_no_fact_mentions_scores_low)
{
	/* "loyalty" is in no fact: "program" alone finds the trade-in program. */
	assert_floor_between(shop_kb, "Do you have a loyalty program?",
	                     "Tell me about the trade-in program");
}
END_TEST

START_TEST(a_lone_shared_word_is_not_confident)
{
	/* One word the question shares with a title says little of what the fact is about. */
	assert_floor_between(shop_kb, "When will Z48213 ship?", "do you ship abroad");
}
END_TEST

START_TEST(identifiers_weigh_neither_way)
{
	struct kb_hits a, b;
	search_ok(shop_kb, "can I return order Z48213?", 3, &a);
	search_ok(shop_kb, "can I return my order?", 3, &b);
	ck_assert_uint_ge(a.n, 1);
	ck_assert_str_eq(a.v[0].fact.id, "returns-window");
	ck_assert_str_eq(b.v[0].fact.id, "returns-window");
	ck_assert_double_eq_tol(a.v[0].feat[0], b.v[0].feat[0], 1e-12);
	ck_assert_double_eq_tol(a.v[0].confidence, b.v[0].confidence, 1e-12);
	kb_hits_free(&a);
	kb_hits_free(&b);
	/* So do the pieces of an e-mail address ("sam", "spokes", "example"). */
	search_ok(shop_kb, "sam@spokes.example here, can I return my order?", 3, &a);
	search_ok(shop_kb, "can I return my order?", 3, &b);
	ck_assert_uint_eq(a.query_terms, b.query_terms);
	ck_assert_double_eq_tol(a.v[0].confidence, b.v[0].confidence, 1e-12);
	kb_hits_free(&a);
	kb_hits_free(&b);
	/* A word with digits that a fact holds is an ordinary word. */
	search_ok(shop_kb, "1-800-555-0199", 3, &a);
	ck_assert_uint_ge(a.n, 1);
	ck_assert_str_eq(a.v[0].fact.id, "general-contact");
	kb_hits_free(&a);
}
END_TEST

START_TEST(the_kind_of_value_asked_for_picks_the_fact_that_holds_one)
{
	/* Both facts are about writing to the shop; only one gives an address. */
	assert_top(shop_kb, "What email do I write to?", "general-contact");
	assert_top(shop_kb, "what time do you close on saturday", "general-opening-hours");
	struct kb_hits h;
	search_ok(shop_kb, "What email do I write to?", 5, &h);
	for (size_t i = 0; i < h.n; i++)
		ck_assert_double_eq(h.v[i].feat[6],
		                    strcmp(h.v[i].fact.id, "general-contact") == 0 ? 1 : -1);
	kb_hits_free(&h);
	/* "how long" asks for a duration; "long" is no word of the topic ("How long repairs take").
	 */
	struct kb_hits b;
	search_ok(shop_kb, "how long is the return window?", 5, &h);
	search_ok(shop_kb, "the return window?", 5, &b);
	ck_assert_uint_eq(h.query_terms, b.query_terms);
	ck_assert_str_eq(h.v[0].fact.id, "returns-window");
	ck_assert_double_eq_tol(h.v[0].feat[0], b.v[0].feat[0], 1e-12);
	ck_assert_double_eq(h.v[0].feat[6], 1);
	kb_hits_free(&h);
	kb_hits_free(&b);
	/* No value asked for: the feature is silent. */
	search_ok(shop_kb, "trade-in program", 5, &h);
	ck_assert_uint_ge(h.n, 1);
	ck_assert_double_eq(h.v[0].feat[6], 0);
	kb_hits_free(&h);
}
END_TEST

START_TEST(contractions_leave_no_words_behind)
{
	/* "don't" is split at its apostrophe: "don" is no word of the question either. */
	struct kb_hits a, b;
	search_ok(shop_kb, "it doesn't open, so I'd like to factory reset the bike lock", 3, &a);
	search_ok(shop_kb, "it opens, so I'd like to factory reset the bike lock", 3, &b);
	ck_assert_uint_ge(a.n, 1);
	ck_assert_str_eq(a.v[0].fact.id, b.v[0].fact.id);
	ck_assert_double_eq_tol(a.v[0].feat[0], b.v[0].feat[0], 1e-12);
	kb_hits_free(&a);
	kb_hits_free(&b);
	search_ok(shop_kb, "I don't, it doesn't, we didn't, they won't, isn't it", 5, &a);
	ck_assert_uint_eq(a.n, 0);
	kb_hits_free(&a);
}
END_TEST

/* kb_search_hinted, checked. */
static void
hinted_ok(struct kb *kb, const char *q, const struct kb_hint *hint, struct kb_hits *h)
{
	char *cause = NULL;
	int rc = kb_search_hinted(kb, q, 5, &fresh_policy, hint, h, &cause);
	ck_assert_msg(rc == 0, "kb_search_hinted(%s): %s", q, cause ? cause : "?");
}

START_TEST(a_topic_hint_is_a_soft_prior)
{
	/* "arrived": a delivery, or a verification code. */
	const char *q = "it still has not arrived";
	struct kb_hits none, plain, ship, tech;
	search_ok(shop_kb, q, 5, &plain);
	hinted_ok(shop_kb, q, NULL, &none);
	/* No hint is kb_search. */
	ck_assert_uint_eq(none.n, plain.n);
	for (size_t i = 0; i < none.n; i++) {
		ck_assert_str_eq(none.v[i].fact.id, plain.v[i].fact.id);
		ck_assert_double_eq(none.v[i].confidence, plain.v[i].confidence);
		ck_assert_double_eq(none.v[i].feat[7], 0);
	}
	ck_assert_str_eq(plain.v[0].fact.id, "shipping-delivery");

	struct kb_hint h = kb_hint_category(CAT_TECHNICAL, 0.9);
	ck_assert_uint_eq(h.topics, 1u << TOPIC_TECHNICAL);
	hinted_ok(shop_kb, q, &h, &tech);
	ck_assert_str_eq(tech.v[0].fact.id, "technical-app-sign-in/verification-code-not-arriving");
	ck_assert_double_eq(tech.v[0].feat[7], 0.9);
	ck_assert_str_eq(tech.v[1].fact.id, "shipping-delivery");
	ck_assert_double_eq(tech.v[1].feat[7], -0.9);
	h = kb_hint_category(CAT_SHIPPING, 0.9);
	hinted_ok(shop_kb, q, &h, &ship);
	ck_assert_str_eq(ship.v[0].fact.id, "shipping-delivery");
	ck_assert(ship.v[0].confidence > plain.v[0].confidence);
	kb_hits_free(&none);
	kb_hits_free(&plain);
	kb_hits_free(&ship);
	kb_hits_free(&tech);

	/* Soft: a question the words settle stays settled under a wrong hint. */
	h = kb_hint_category(CAT_TECHNICAL, 0.9);
	hinted_ok(shop_kb, "when does my bike arrive", &h, &tech);
	ck_assert_str_eq(tech.v[0].fact.id, "shipping-delivery");
	kb_hits_free(&tech);

	/* Policy, pricing and product facts answer every category: the hint leaves them be. */
	h = kb_hint_category(CAT_BILLING, 1);
	hinted_ok(shop_kb, "trade-in program", &h, &ship);
	ck_assert_str_eq(ship.v[0].fact.id, "policy-trade-in");
	ck_assert_double_eq(ship.v[0].feat[7], 0);
	kb_hits_free(&ship);
}
END_TEST

struct retrieved {
	int calls;
	struct kb_hits hits;
};

static void
retrieved(struct retrieval_result *r, void *arg)
{
	struct retrieved *x = arg;
	x->calls++;
	x->hits = r->hits;
	memset(&r->hits, 0, sizeof r->hits);
}

START_TEST(retrieval_passes_the_hint_on)
{
	struct kb_hint h = kb_hint_category(CAT_TECHNICAL, 0.9);
	struct retrieved x = {0};
	retrieval_start_hinted(shop_kb, NULL, "it still has not arrived", 3, &fresh_policy, &h,
	                       retrieved, &x);
	ck_assert_int_eq(x.calls, 1); /* FTS5 alone: done before it returns */
	ck_assert_uint_ge(x.hits.n, 1);
	ck_assert_str_eq(x.hits.v[0].fact.id,
	                 "technical-app-sign-in/verification-code-not-arriving");
	ck_assert_double_eq(x.hits.v[0].feat[7], 0.9);
	kb_hits_free(&x.hits);
	memset(&x, 0, sizeof x);
	retrieval_start(shop_kb, NULL, "it still has not arrived", 3, &fresh_policy, retrieved, &x);
	ck_assert_int_eq(x.calls, 1);
	ck_assert_double_eq(x.hits.v[0].feat[7], 0);
	kb_hits_free(&x.hits);
}
END_TEST

START_TEST(repeated_searches_agree)
{
	/* The second search reads document frequencies from the cache the first filled. */
	const char *q = "how do I factory reset the bike lock";
	struct kb_hits a, b;
	search_ok(shop_kb, q, 5, &a);
	search_ok(shop_kb, q, 5, &b);
	ck_assert_uint_eq(a.n, b.n);
	for (size_t i = 0; i < a.n; i++) {
		ck_assert_str_eq(a.v[i].fact.id, b.v[i].fact.id);
		for (int k = 0; k < KB_NFEAT; k++)
			ck_assert_double_eq(a.v[i].feat[k], b.v[i].feat[k]);
	}
	kb_hits_free(&a);
	kb_hits_free(&b);
}
END_TEST

/* ---------------------------------------------------------- embeddings */

#define EMB_DIM 32

/* The todo entry whose text holds needle; -1 when none. */
static int
todo_find(const struct kb_embed_todo *t, const char *needle)
{
	for (size_t i = 0; i < t->texts.n; i++)
		if (strstr(t->texts.v[i], needle) != NULL)
			return (int)i;
	return -1;
}

/*
 * Embeds every fact without a vector for model: the fact at todo place
 * i gets the unit vector e_(i % dim) plus a little of e_((i+1) % dim), so
 * that exactly one fact is nearest to any e_i. Returns how many.
 */
static size_t
embed_all(struct kb *kb, const char *model, size_t dim, struct kb_embed_todo *todo)
{
	char *cause = NULL;
	ck_assert_msg(kb_embed_pending(kb, model, todo, &cause) == 0, "%s", cause);
	size_t n = todo->hashes.n;
	if (n == 0)
		return 0;
	float *v = xcalloc(n * dim, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		v[i * dim + i % dim] = 1.0f;
		v[i * dim + (i + 1) % dim] = 0.1f;
	}
	ck_assert_msg(
	    kb_embed_put(kb, model, (const char *const *)todo->hashes.v, v, n, dim, &cause) == 0,
	    "%s", cause);
	free(v);
	return n;
}

static size_t
pending(struct kb *kb, const char *model)
{
	struct kb_embed_todo t;
	char *cause = NULL;
	ck_assert_msg(kb_embed_pending(kb, model, &t, &cause) == 0, "%s", cause);
	size_t n = t.hashes.n;
	kb_embed_todo_free(&t);
	return n;
}

static void
hybrid_ok(struct kb *kb, const char *q, const float *qv, size_t dim, const char *model, int k,
          struct kb_hits *h)
{
	char *cause = NULL;
	int rc = kb_search_hybrid(kb, q, qv, dim, model, k, &fresh_policy, NULL, h, &cause);
	ck_assert_msg(rc == 0, "kb_search_hybrid(%s): %s", q, cause ? cause : "?");
}

static const struct kb_hit *
hit_of(const struct kb_hits *h, const char *id)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->v[i].fact.id, id) == 0)
			return &h->v[i];
	return NULL;
}

START_TEST(rrf_prefers_agreement)
{
	ck_assert(kb_rrf(0, 0) == 0);
	ck_assert_double_eq_tol(kb_rrf(1, 0), 1.0 / 61, 1e-12);
	ck_assert(kb_rrf(1, 0) == kb_rrf(0, 1));
	/* Near the top of both beats the top of one. */
	ck_assert(kb_rrf(2, 2) > kb_rrf(1, 0));
	ck_assert(kb_rrf(1, 1) > kb_rrf(1, 2));
	ck_assert(kb_rrf(3, 0) < kb_rrf(2, 0));
}
END_TEST

START_TEST(hybrid_finds_what_fts_misses)
{
	struct kb_embed_todo todo;
	ck_assert_uint_eq(embed_all(small_kb, "m1", EMB_DIM, &todo), 9);
	int target = todo_find(&todo, "Return window");
	ck_assert_int_ge(target, 0);
	float q[EMB_DIM] = {0};
	q[target] = 1.0f;

	/* No word of this query is in the KB: FTS5 finds nothing. */
	const char *query = "zorblatt quuxification";
	struct kb_hits h;
	search_ok(small_kb, query, 3, &h);
	ck_assert_uint_eq(h.n, 0);
	kb_hits_free(&h);

	hybrid_ok(small_kb, query, q, EMB_DIM, "m1", 3, &h);
	ck_assert_int_eq(h.hybrid, 1);
	ck_assert_uint_eq(h.n, 3);
	ck_assert_str_eq(h.v[0].fact.id, "returns-window");
	ck_assert_int_eq(h.v[0].vector_rank, 1);
	ck_assert_int_eq(h.v[0].fts_rank, 0);
	ck_assert_double_eq_tol(h.v[0].cosine, 1.0 / sqrt(1.01), 1e-6);
	/* Nothing lexical vouches for it: the calibrated confidence stays low. */
	ck_assert_msg(h.v[0].confidence < 0.05, "confidence %.3f", h.v[0].confidence);
	cJSON *j = kb_hit_json(&h.v[0]);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(j, "cosine"));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ranks"), "fts")));
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ranks"), "vector")->valueint,
	                 1);
	cJSON_Delete(j);
	kb_hits_free(&h);

	/* A fact FTS5 ranks below another rises when the vectors agree with it. */
	search_ok(small_kb, "password", 5, &h);
	ck_assert_uint_ge(h.n, 2);
	char *second = xstrdup(h.v[1].fact.id);
	double second_conf = h.v[1].confidence;
	kb_hits_free(&h);
	int sec = todo_find(&todo, strstr(second, "change") ? "Change your password"
	                                                    : "Reset a forgotten password");
	ck_assert_int_ge(sec, 0);
	memset(q, 0, sizeof q);
	q[sec] = 1.0f;
	hybrid_ok(small_kb, "password", q, EMB_DIM, "m1", 5, &h);
	ck_assert_str_eq(h.v[0].fact.id, second);
	ck_assert_int_eq(h.v[0].fts_rank, 2);
	ck_assert_int_eq(h.v[0].vector_rank, 1);
	/* Same fact, same query: the same confidence as without vectors. */
	ck_assert_double_eq_tol(h.v[0].confidence, second_conf, 1e-12);
	kb_hits_free(&h);
	free(second);
	kb_embed_todo_free(&todo);
}
END_TEST

START_TEST(hybrid_confidence_is_mode_independent)
{
	/* The shipped KB: a common word matches more facts than FTS5's candidate pool. */
	struct kb_embed_todo todo;
	size_t n = embed_all(shipped_kb, "m1", 512, &todo);
	ck_assert_uint_ge(n, 100);
	const char *query = "order";
	struct kb_hits all;
	search_ok(shipped_kb, query, 100, &all);
	ck_assert_uint_gt(all.n, 12);
	/* Point the query's vector at the hub fact FTS5 ranks last. */
	const struct kb_hit *last = &all.v[all.n - 1];
	char *want = xstrdup(last->fact.id);
	double want_conf = last->confidence;
	int at = -1;
	for (size_t i = 0; i < todo.texts.n && at < 0; i++) {
		const char *title = last->fact.title;
		if (strncmp(todo.texts.v[i], title, strlen(title)) == 0 &&
		    strstr(todo.texts.v[i], last->fact.content) != NULL)
			at = (int)i;
	}
	ck_assert_int_ge(at, 0);
	ck_assert_int_lt(at, 512);
	float *q = xcalloc(512, sizeof *q);
	q[at] = 1.0f;
	/*
	 * The rest of the vector ranking: facts without the word, so that no
	 * fact in both rankings outscores the one found by its vector alone.
	 */
	float w = 0.5f;
	for (size_t i = 0; i < todo.texts.n && w > 0.3f; i++)
		if ((int)i != at && (int)i + 1 != at &&
		    strcasestr(todo.texts.v[i], query) == NULL) {
			q[i] = w;
			w -= 0.01f;
		}
	struct kb_hits h;
	hybrid_ok(shipped_kb, query, q, 512, "m1", 3, &h);
	const struct kb_hit *got = hit_of(&h, want);
	ck_assert_msg(got != NULL, "%s is not among the hybrid hits", want);
	ck_assert_int_eq(got->fts_rank, 0); /* beyond FTS5's pool: found by its vector */
	ck_assert_int_eq(got->vector_rank, 1);
	ck_assert_msg(got->score > 0, "its bm25 was not computed");
	ck_assert_double_eq_tol(got->confidence, want_conf, 1e-12);
	/* And every hit both modes return has one confidence. */
	for (size_t i = 0; i < h.n; i++) {
		const struct kb_hit *o = hit_of(&all, h.v[i].fact.id);
		if (o != NULL)
			ck_assert_double_eq_tol(h.v[i].confidence, o->confidence, 1e-12);
	}
	kb_hits_free(&h);
	kb_hits_free(&all);
	free(q);
	free(want);
	kb_embed_todo_free(&todo);
}
END_TEST

START_TEST(embedding_cache_is_keyed_by_content_and_model)
{
	char *tmp = tmpdir_new();
	char *dir = copy_kb("tests/data/kb-small", tmp);
	char *index = xasprintf("%s/index.sqlite", tmp);
	struct diag d = {0};
	struct kb_embed_todo todo;
	char *cause = NULL;

	struct kb *kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(pending(kb, "m1"), 9);
	ck_assert_uint_eq(embed_all(kb, "m1", EMB_DIM, &todo), 9);
	kb_embed_todo_free(&todo);
	ck_assert_uint_eq(pending(kb, "m1"), 0);
	ck_assert_uint_eq(kb_embedded(kb, "m1"), 9);
	/* Another model has its own vectors. */
	ck_assert_uint_eq(pending(kb, "m2"), 9);
	kb_close(kb);

	/* Reopened: the vectors were kept. A touched file keeps its facts' vectors. */
	char *hours = xasprintf("%s/general/support-hours.md", dir);
	set_mtime(hours, 1700000000);
	kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(kb_reindexed(kb), 1);
	ck_assert_uint_eq(pending(kb, "m1"), 0);
	kb_close(kb);

	/* An edited fact needs a new vector; the others keep theirs. */
	char *text = slurp(hours);
	char *changed = replace1(text, "including holidays", "except on the zeppelin festival");
	spew(hours, changed);
	set_mtime(hours, 1700000001);
	kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(pending(kb, "m1"), 1);
	ck_assert_uint_eq(kb_embedded(kb, "m1"), 8);
	ck_assert_int_ge(kb_embed_pending(kb, "m1", &todo, &cause), 0);
	ck_assert_ptr_nonnull(strstr(todo.texts.v[0], "zeppelin"));
	kb_embed_todo_free(&todo);

	/* Vectors of another dimension replace the model's old ones. */
	ck_assert_uint_eq(embed_all(kb, "m1", 16, &todo), 1);
	kb_embed_todo_free(&todo);
	ck_assert_uint_eq(kb_embedded(kb, "m1"), 1);
	ck_assert_uint_eq(pending(kb, "m1"), 8);
	ck_assert_uint_eq(embed_all(kb, "m1", 16, &todo), 8);
	kb_embed_todo_free(&todo);

	/* A query of yet another dimension: refused, and the model's vectors dropped. */
	float q[EMB_DIM] = {1.0f};
	struct kb_hits h;
	ck_assert_int_eq(
	    kb_search_hybrid(kb, "password", q, EMB_DIM, "m1", 3, &fresh_policy, NULL, &h, &cause),
	    -1);
	ck_assert_ptr_nonnull(strstr(cause, "32 values"));
	free(cause);
	cause = NULL;
	ck_assert_uint_eq(pending(kb, "m1"), 9);
	kb_close(kb);

	/* An index rebuilt for a new layout keeps the vectors: they are keyed by content. */
	kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(embed_all(kb, "m1", EMB_DIM, &todo), 9);
	kb_embed_todo_free(&todo);
	kb_close(kb);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(index, &db), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_exec(db, "UPDATE meta SET value='0' WHERE key='schema'", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(kb_reindexed(kb), 7);
	ck_assert_uint_eq(pending(kb, "m1"), 0);
	kb_close(kb);

	/* A deleted file's vectors go with it. */
	char *pw = xasprintf("%s/account/password.md", dir);
	ck_assert_int_eq(unlink(pw), 0);
	kb = open_ok(dir, index, &d);
	ck_assert_uint_eq(kb_embedded(kb, "m1"), 6);
	kb_close(kb);
	ck_assert_int_eq(sqlite3_open(index, &db), SQLITE_OK);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "SELECT count(*) FROM emb", -1, &st, NULL);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 6);
	sqlite3_finalize(st);
	sqlite3_close(db);

	ck_assert_int_eq(d.errors, 0);
	diag_free(&d);
	free(pw);
	free(changed);
	free(text);
	free(hours);
	free(index);
	free(dir);
	rm_rf(tmp);
	free(tmp);
}
END_TEST

START_TEST(hybrid_refuses_bad_query_vectors)
{
	struct kb_embed_todo todo;
	embed_all(small_kb, "m1", EMB_DIM, &todo);
	kb_embed_todo_free(&todo);
	float zero[EMB_DIM] = {0};
	float nan_[EMB_DIM] = {NAN};
	struct kb_hits h;
	char *cause = NULL;
	ck_assert_int_eq(kb_search_hybrid(small_kb, "password", zero, EMB_DIM, "m1", 3,
	                                  &fresh_policy, NULL, &h, &cause),
	                 -1);
	ck_assert_ptr_nonnull(strstr(cause, "no length"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(kb_search_hybrid(small_kb, "password", nan_, EMB_DIM, "m1", 3,
	                                  &fresh_policy, NULL, &h, &cause),
	                 -1);
	free(cause);
	/* A model with no vectors yet: the FTS5 ranking alone, fused with nothing. */
	float q[8] = {1.0f};
	hybrid_ok(small_kb, "password", q, 8, "never-embedded", 5, &h);
	struct kb_hits fts;
	search_ok(small_kb, "password", 5, &fts);
	ck_assert_uint_eq(h.n, fts.n);
	for (size_t i = 0; i < h.n; i++) {
		ck_assert_str_eq(h.v[i].fact.id, fts.v[i].fact.id);
		ck_assert_int_eq(h.v[i].fts_rank, (int)i + 1);
		ck_assert_int_eq(h.v[i].vector_rank, 0);
		ck_assert(isnan(h.v[i].cosine));
	}
	kb_hits_free(&fts);
	kb_hits_free(&h);
}
END_TEST

static Suite *
kb_suite(void)
{
	Suite *s = suite_create("kb");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, parse_single_fact);
	tcase_add_test(tc, parse_sections_are_facts);
	tcase_add_test(tc, parse_file_starting_with_a_heading);
	tcase_add_test(tc, parse_line_is_where_the_text_starts);
	tcase_add_test(tc, parse_crlf_file);
	tcase_add_test(tc, parse_optional_keys_default_and_are_marked_missing);
	tcase_add_test(tc, parse_empty_body_warns);
	tcase_add_loop_test(tc, parse_bad_files, 0, (int)nitems(bad_cases));
	tcase_add_test(tc, parse_rejects_every_invalid_utf8_form);
	tcase_add_test(tc, parse_is_safe_on_short_and_odd_input);
	tcase_add_test(tc, freshness_and_the_stale_rule);
	suite_add_tcase(s, tc);

	tc = tcase_create("search");
	tcase_add_checked_fixture(tc, small_setup, small_teardown);
	tcase_add_test(tc, search_finds_the_right_fact_first);
	tcase_add_test(tc, search_hits_carry_fact_freshness_and_confidence);
	tcase_add_test(tc, confidence_separates_good_and_poor_matches);
	tcase_add_test(tc, k_limits_the_hits);
	tcase_add_test(tc, stopwords_and_unknown_words_give_no_hits);
	tcase_add_test(tc, query_syntax_is_not_interpreted);
	tcase_add_test(tc, hit_json_has_the_design_fields);
	tcase_add_test(tc, rrf_prefers_agreement);
	tcase_add_test(tc, hybrid_finds_what_fts_misses);
	tcase_add_test(tc, hybrid_refuses_bad_query_vectors);
	suite_add_tcase(s, tc);

	tc = tcase_create("index");
	tcase_add_test(tc, open_indexes_every_fact);
	tcase_add_test(tc, index_is_kept_up_to_date);
	tcase_add_test(tc, a_file_turning_bad_loses_its_facts_and_is_reported);
	tcase_add_test(tc, bad_file_among_good_ones);
	tcase_add_test(tc, skips_dot_files_and_readme_follows_symlinks);
	tcase_add_test(tc, open_fails_on_a_missing_dir);
	tcase_add_test(tc, open_says_why_it_fails);
	tcase_add_test(tc, default_index_lives_in_the_cache_dir);
	tcase_add_test(tc, processes_can_share_a_new_index);
	tcase_add_test(tc, embedding_cache_is_keyed_by_content_and_model);
	suite_add_tcase(s, tc);

	tc = tcase_create("retrieval");
	tcase_add_checked_fixture(tc, shop_setup, shop_teardown);
	tcase_add_test(tc, a_product_name_does_not_outrank_what_is_asked);
	tcase_add_test(tc, a_question_about_what_no_fact_mentions_scores_low);
	tcase_add_test(tc, a_lone_shared_word_is_not_confident);
	tcase_add_test(tc, identifiers_weigh_neither_way);
	tcase_add_test(tc, the_kind_of_value_asked_for_picks_the_fact_that_holds_one);
	tcase_add_test(tc, contractions_leave_no_words_behind);
	tcase_add_test(tc, a_topic_hint_is_a_soft_prior);
	tcase_add_test(tc, retrieval_passes_the_hint_on);
	tcase_add_test(tc, repeated_searches_agree);
	suite_add_tcase(s, tc);

	tc = tcase_create("shipped");
	tcase_add_checked_fixture(tc, shipped_setup, shipped_teardown);
	tcase_add_test(tc, shipped_kb_answers_realistic_questions);
	tcase_add_test(tc, a_lone_incidental_match_is_not_confident);
	tcase_add_test(tc, hybrid_confidence_is_mode_independent);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(kb_suite());
}
