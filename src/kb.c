/* kb.c -- the knowledge base: fact files, the FTS5 index, retrieval. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "answer-type.h"
#include "entities.h"
#include "kb.h"
#include "paths.h"
#include "ydoc.h"

/* Bump when the index layout or tokenizer changes: old indexes are rebuilt. */
#define KB_INDEX_SCHEMA "8"
/*
 * bm25 column weights: title, content, eight unindexed columns, and the
 * file's title for a section fact ("Factory reset steps" for "Acme Hub").
 */
#define KB_WEIGHTS   "4.0, 1.0, 0, 0, 0, 0, 0, 0, 0, 0, 2.0"
#define KB_TOKENIZER "porter unicode61 remove_diacritics 2"
/* Candidates fetched from FTS5 before confidence is computed. */
#define KB_POOL 20
/*
 * A word of a product's name counts this much of its idf in a hit's
 * coverage: it says which product, while the other words say what is
 * asked ("how long do I have to return the thermostat").
 */
#define KB_PRODUCT_WEIGHT 0.5
/* Query terms in more facts than this are dropped (see kb_search). */
#define KB_COMMON_MAX 20000
/*
 * Reciprocal rank fusion: a fact's fused score is the sum over the
 * rankings it is in of 1 / (KB_RRF_K + rank). 60 is Cormack, Clarke and
 * Buettcher's constant (SIGIR 2009): it lets a fact near the top of both
 * rankings beat one at the very top of only one.
 */
#define KB_RRF_K 60.0

/* ------------------------------------------------------------ parsing */

static const struct ykey k_front[] = {
    {.name = "id", .type = Y_STR, .required = 1},
    {.name = "title", .type = Y_STR, .required = 1},
    {.name = "topic", .type = Y_ENUM, .values = topic_names, .required = 1},
    {.name = "product", .type = Y_STR},
    {.name = "updated", .type = Y_DATE, .required = 1},
    {.name = "version", .type = Y_INT, .min = 1, .max = 1000000},
    {.name = "volatile", .type = Y_BOOL},
    {0},
};
static const struct ykey k_front_root = {.type = Y_MAP, .sub = k_front};

static void
fact_free(struct kb_fact *f)
{
	free(f->id);
	free(f->title);
	free(f->context);
	free(f->content);
	free(f->source);
	free(f->product);
}

void
kb_facts_free(struct kb_facts *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		fact_free(&fs->v[i]);
	free(fs->v);
	memset(fs, 0, sizeof *fs);
}

static struct kb_fact *
facts_add(struct kb_facts *fs)
{
	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? fs->cap * 2 : 16;
		fs->v = xreallocarray(fs->v, fs->cap, sizeof *fs->v);
	}
	struct kb_fact *f = &fs->v[fs->n++];
	memset(f, 0, sizeof *f);
	return f;
}

/* Returns the 1-based line of the first invalid UTF-8 byte, or 0. */
static int
utf8_bad_line(const char *s, size_t len)
{
	int line = 1;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n;
		if (c == '\n')
			line++;
		if (c < 0x80)
			n = 1;
		else if ((c & 0xe0) == 0xc0 && c >= 0xc2)
			n = 2;
		else if ((c & 0xf0) == 0xe0)
			n = 3;
		else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
			n = 4;
		else
			return line;
		if (i + n > len)
			return line;
		for (size_t j = 1; j < n; j++)
			if (((unsigned char)s[i + j] & 0xc0) != 0x80)
				return line;
		/* No overlong forms, surrogates or code points past U+10FFFF. */
		unsigned char c1 = n > 1 ? (unsigned char)s[i + 1] : 0;
		if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) ||
		    (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f))
			return line;
		if (c == 0)
			return line;
		i += n;
	}
	return 0;
}

static int
valid_id(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-' ||
		      *s == '_' || *s == '.'))
			return 0;
	return 1;
}

/* Copies text without carriage returns. */
static char *
strip_cr(const char *text, size_t len, size_t *outlen)
{
	char *s = xmalloc(len + 1);
	size_t j = 0;
	for (size_t i = 0; i < len; i++)
		if (!(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n'))
			s[j++] = text[i];
	s[j] = '\0';
	*outlen = j;
	return s;
}

/*
 * Adds a fact for body text [b, e) if it holds anything; line is that of b,
 * and the fact's line is the one where its text starts.
 */
static void
add_fact(struct kb_facts *out, const struct kb_fact *meta, const char *source, const char *product,
         const char *id, const char *title, const char *context, const char *b, const char *e,
         int line)
{
	for (const char *p = b; p < e && isspace((unsigned char)*p); p++)
		if (*p == '\n')
			line++;
	char *content = xstrndup(b, (size_t)(e - b));
	str_trim(content);
	if (*content == '\0') {
		free(content);
		return;
	}
	struct kb_fact *f = facts_add(out);
	*f = *meta;
	f->id = xstrdup(id);
	f->title = xstrdup(title);
	f->context = context ? xstrdup(context) : NULL;
	f->content = content;
	f->source = xstrdup(source);
	f->product = xstrdup(product);
	f->line = line;
}

int
kb_parse_file(const char *path, const char *text0, size_t len0, struct kb_facts *out,
              struct diag *d)
{
	size_t len;
	int bad = utf8_bad_line(text0, len0);
	if (bad) {
		diag_error(d, path, bad, 0, "not valid UTF-8 text");
		return -1;
	}
	char *text = strip_cr(text0, len0, &len);
	if (strncmp(text, "---\n", 4) != 0) {
		diag_error(d, path, 1, 1,
		           "a fact file must start with '---' and YAML front matter");
		free(text);
		return -1;
	}
	char *fm = text + 4;
	char *end = strstr(fm - 1, "\n---\n");
	if (end == NULL && str_endswith(text, "\n---"))
		end = text + len - 4;
	if (end == NULL) {
		diag_error(d, path, 1, 1, "front matter is not closed by a '---' line");
		free(text);
		return -1;
	}
	int body_line = 3; /* the line after the closing '---' */
	for (const char *p = text; p <= end; p++)
		if (*p == '\n')
			body_line++;
	body_line--;

	struct ydoc y;
	int errors0 = d->errors;
	if (ydoc_load(&y, path, fm, (size_t)(end + 1 - fm), 1, d) != 0) {
		free(text);
		return -1;
	}
	yaml_node_t *root = ydoc_root(&y);
	if (root == NULL) {
		diag_error(d, path, 2, 1, "front matter is empty");
		ydoc_free(&y);
		free(text);
		return -1;
	}
	ydoc_check(&y, root, &k_front_root, "front matter", d);
	const char *id = ydoc_str(ydoc_get(&y, root, "id"));
	if (d->errors == errors0 && !valid_id(id)) {
		yaml_node_t *n = ydoc_get(&y, root, "id");
		diag_error(d, path, ydoc_line(&y, n), ydoc_col(n),
		           "id '%s' must be lower-case letters, digits, '-', '_' or '.'", id);
	}
	if (d->errors > errors0) {
		ydoc_free(&y);
		free(text);
		return -1;
	}

	struct kb_fact meta = {0};
	long v;
	int b;
	meta.topic = (enum topic)names_find(topic_names, ydoc_str(ydoc_get(&y, root, "topic")));
	yaml_node_t *n;
	const char *product = "all";
	if ((n = ydoc_get(&y, root, "product")) != NULL)
		product = ydoc_str(n);
	else
		meta.missing |= KB_MISSING_PRODUCT;
	date_parse(ydoc_str(ydoc_get(&y, root, "updated")), &meta.updated);
	if (ydoc_int(ydoc_get(&y, root, "version"), &v) == 0)
		meta.version = (int)v;
	else {
		meta.version = 1;
		meta.missing |= KB_MISSING_VERSION;
	}
	if (ydoc_bool(ydoc_get(&y, root, "volatile"), &b) == 0)
		meta.volatile_ = b;
	else
		meta.missing |= KB_MISSING_VOLATILE;
	const char *title = ydoc_str(ydoc_get(&y, root, "title"));

	/* The body: text before the first "## " is a fact of its own. */
	char *body = end + 5 <= text + len ? end + 5 : text + len;
	char *sec = NULL, *sec_title = NULL;
	int line = body_line, sec_line = body_line;
	size_t before = out->n;
	for (char *p = body;;) {
		char *eol = strchr(p, '\n');
		char *next = eol ? eol + 1 : p + strlen(p);
		int last = *next == '\0';
		if (strncmp(p, "## ", 3) == 0 || last) {
			char *stop = strncmp(p, "## ", 3) == 0 ? p : next;
			if (sec == NULL)
				add_fact(out, &meta, path, product, id, title, NULL, body, stop,
				         body_line);
			else {
				char *slug = str_slug(sec_title);
				char *fid = xasprintf("%s/%s", id, slug);
				add_fact(out, &meta, path, product, fid, sec_title, title, sec,
				         stop, sec_line);
				free(fid);
				free(slug);
				free(sec_title);
				sec_title = NULL;
			}
			if (strncmp(p, "## ", 3) == 0) {
				sec_title = xstrndup(p + 3, (size_t)((eol ? eol : next) - p - 3));
				str_trim(sec_title);
				sec = next;
				sec_line = line + 1;
				if (last) {
					free(sec_title);
					sec_title = NULL;
				}
			}
		}
		if (last)
			break;
		p = next;
		line++;
	}
	free(sec_title);
	if (out->n == before)
		diag_warn(d, path, body_line, 0, "fact '%s' has no content", id);
	ydoc_free(&y);
	free(text);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects *.md paths under dir, recursively. */
static int
find_md(const char *dir, struct strv *out, char **cause)
{
	DIR *dp = opendir(dir);
	if (dp == NULL) {
		*cause = xasprintf("%s: %s", dir, strerror(errno));
		return -1;
	}
	struct dirent *de;
	struct strv subdirs = {0};
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *p = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(p, &st) != 0) {
			free(p);
			continue;
		}
		if (S_ISDIR(st.st_mode))
			strv_take(&subdirs, p);
		else if (S_ISREG(st.st_mode) && str_endswith(de->d_name, ".md") &&
		         strcmp(de->d_name, "README.md") != 0)
			strv_take(out, p);
		else
			free(p);
	}
	closedir(dp);
	int rc = 0;
	for (size_t i = 0; i < subdirs.n && rc == 0; i++)
		rc = find_md(subdirs.v[i], out, cause);
	strv_free(&subdirs);
	return rc;
}

static int
list_files(const char *dir, struct strv *out, char **cause)
{
	if (find_md(dir, out, cause) != 0)
		return -1;
	qsort(out->v, out->n, sizeof *out->v, cmp_str);
	return 0;
}

static int
parse_path(const char *path, struct kb_facts *out, struct diag *d)
{
	size_t len;
	char *text = ydoc_read(path, 16u << 20, &len, d);
	if (text == NULL)
		return -1;
	int rc = kb_parse_file(path, text, len, out, d);
	free(text);
	return rc;
}

int
kb_load_dir(const char *dir, struct kb_facts *out, struct diag *d, char **cause)
{
	struct strv files = {0};
	if (list_files(dir, &files, cause) != 0)
		return -1;
	for (size_t i = 0; i < files.n; i++)
		parse_path(files.v[i], out, d);
	strv_free(&files);
	return 0;
}

int
kb_fact_freshness(const struct kb_fact *f, const struct kb_freshness *fr, int *stale)
{
	int days = (int)(fr->today - f->updated);
	*stale = days > fr->stale_after_days &&
	         (f->volatile_ || (fr->volatile_topics & (1u << f->topic)) != 0);
	return days;
}

/* ---------------------------------------------------------- stopwords */

/*
 * English function words, greetings and the like; "don", "isn" and the
 * rest are what the tokenizer leaves of "don't" and "isn't".
 */
static const char *const stopwords[] = {
    "a",         "about",    "above",      "after", "again",   "against", "all",     "am",
    "an",        "and",      "any",        "are",   "as",      "at",      "be",      "because",
    "been",      "before",   "being",      "below", "between", "both",    "but",     "by",
    "can",       "could",    "did",        "do",    "does",    "doing",   "down",    "during",
    "each",      "few",      "for",        "from",  "further", "had",     "has",     "have",
    "having",    "he",       "her",        "here",  "hers",    "herself", "him",     "himself",
    "his",       "how",      "i",          "if",    "in",      "into",    "is",      "it",
    "its",       "itself",   "just",       "me",    "might",   "more",    "most",    "must",
    "my",        "myself",   "no",         "nor",   "not",     "now",     "of",      "off",
    "on",        "once",     "only",       "or",    "other",   "ought",   "our",     "ours",
    "ourselves", "out",      "over",       "own",   "please",  "same",    "shall",   "she",
    "should",    "so",       "some",       "such",  "than",    "that",    "the",     "their",
    "theirs",    "them",     "themselves", "then",  "there",   "these",   "they",    "this",
    "those",     "through",  "to",         "too",   "under",   "until",   "up",      "very",
    "was",       "we",       "were",       "what",  "when",    "where",   "which",   "while",
    "who",       "whom",     "why",        "will",  "with",    "would",   "you",     "your",
    "yours",     "yourself", "yourselves", "hi",    "hello",   "thanks",  "thank",   "im",
    "ive",       "id",       "dont",       "cant",  "s",       "t",       "m",       "ve",
    "re",        "ll",       "d",          "get",   "got",     "want",    "need",    "way",
    "also",      "don",      "doesn",      "didn",  "isn",     "aren",    "wasn",    "weren",
    "hasn",      "haven",    "hadn",       "won",   "wouldn",  "couldn",  "shouldn", "mustn",
    "needn",
};

int
kb_is_stopword(const char *w, size_t len)
{
	for (size_t i = 0; i < nitems(stopwords); i++)
		if (strlen(stopwords[i]) == len && strncmp(stopwords[i], w, len) == 0)
			return 1;
	return 0;
}

/* -------------------------------------------------------------- index */

struct kb {
	sqlite3 *db;
	char *dir;
	size_t nfacts;
	size_t reindexed;
	const struct kb_progress *progress; /* while opening, or NULL */
	fts5_tokenizer tok;
	Fts5Tokenizer *tokenizer;
	sqlite3_stmt *st_df;
	sqlite3_stmt *st_get;
	/*
	 * Document frequencies already read, by stem: the index does not
	 * change while it is open, and counting a common word's facts costs
	 * a walk of its whole posting list.
	 */
	struct {
		char **stem;
		long *df;
		size_t n, cap; /* cap: 0 or a power of two */
	} dfs;
	/* The catalogue's product names and aliases, each as its stems, and whose they are. */
	struct strv *products;
	struct strv product_ids;
	size_t nproducts;
	/* The cached fact vectors of one model, in memory, unit length, by rowid. */
	struct {
		char *model; /* NULL: not loaded */
		size_t n, dim;
		sqlite3_int64 *row;
		float *v;
	} vecs;
	void *companion;
	void (*companion_free)(void *);
};

static int
exec(sqlite3 *db, const char *sql, char **cause)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		*cause = xasprintf("knowledge index: %s", err ? err : sqlite3_errmsg(db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static fts5_api *
fts5_api_get(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return api;
}

static char *
default_index_path(const char *dir)
{
	char *real = realpath(dir, NULL);
	const char *key = real ? real : dir;
	char *cache = paths_cache_dir();
	char *p = NULL;
	if (cache != NULL) {
		p = xasprintf("%s/kb-%016llx.sqlite", cache,
		              (unsigned long long)hash_fnv1a(key, strlen(key)));
		free(cache);
	}
	free(real);
	return p;
}

static int
open_db(struct kb *kb, const char *path, char **cause)
{
	if (sqlite3_open_v2(path, &kb->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		*cause = xasprintf("%s: %s", path, sqlite3_errmsg(kb->db));
		sqlite3_close(kb->db);
		kb->db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(kb->db, 5000);
	/*
	 * Other processes may be opening, or creating, the same index: check
	 * and create the schema in one write transaction. WAL only speeds
	 * things up; switching to it fails (busy) while another process has
	 * the new file open, and one of them will have switched.
	 */
	sqlite3_exec(kb->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	if (exec(kb->db, "BEGIN IMMEDIATE", cause) != 0)
		return -1;
	sqlite3_stmt *st;
	int current = 0;
	if (sqlite3_prepare_v2(kb->db, "SELECT value FROM meta WHERE key='schema'", -1, &st,
	                       NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			current =
			    strcmp((const char *)sqlite3_column_text(st, 0), KB_INDEX_SCHEMA) == 0;
		sqlite3_finalize(st);
	}
	if (!current &&
	    exec(kb->db,
	         "DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS files;"
	         "DROP TABLE IF EXISTS vocab; DROP TABLE IF EXISTS fts;"
	         "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
	         "DROP TABLE IF EXISTS fact_src;"
	         "CREATE TABLE files(path TEXT PRIMARY KEY, mtime INTEGER, size INTEGER,"
	         " nfacts INTEGER);"
	         "CREATE TABLE fact_src(rowid INTEGER PRIMARY KEY, source TEXT, hash TEXT);"
	         "CREATE INDEX fact_src_source ON fact_src(source);"
	         "CREATE VIRTUAL TABLE fts USING fts5(title, content, id UNINDEXED,"
	         " source UNINDEXED, line UNINDEXED, topic UNINDEXED, product UNINDEXED,"
	         " updated UNINDEXED, version UNINDEXED, volatile UNINDEXED, context,"
	         " tokenize='" KB_TOKENIZER "');"
	         "CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, row);"
	         "INSERT INTO meta VALUES('schema', '" KB_INDEX_SCHEMA "');",
	         cause) != 0) {
		exec(kb->db, "ROLLBACK", cause);
		return -1;
	}
	/*
	 * Fact vectors are keyed by what was embedded and by which model, not
	 * by row: they survive a rebuilt index, and an edited fact or another
	 * model simply finds no vector. So this table is never dropped above.
	 */
	if (exec(kb->db,
	         "CREATE TABLE IF NOT EXISTS emb(hash TEXT NOT NULL, model TEXT NOT NULL,"
	         " dim INTEGER NOT NULL, vec BLOB NOT NULL, PRIMARY KEY(hash, model))"
	         " WITHOUT ROWID;",
	         cause) != 0) {
		exec(kb->db, "ROLLBACK", cause);
		return -1;
	}
	return exec(kb->db, "COMMIT", cause);
}

/*
 * What is embedded for a fact: its title (after the file's, for a
 * section) and its text. Its SHA-256 keys the vector cache.
 */
static char *
embed_text(const char *context, const char *title, const char *content)
{
	if (context != NULL && *context != '\0')
		return xasprintf("%s: %s\n\n%s", context, title, content);
	return xasprintf("%s\n\n%s", title, content);
}

/* Removes a file's facts from the index. */
static int
forget_file(struct kb *kb, const char *path)
{
	sqlite3_stmt *st;
	static const char *const sql[] = {
	    "DELETE FROM fts WHERE rowid IN (SELECT rowid FROM fact_src WHERE source=?1)",
	    "DELETE FROM fact_src WHERE source=?1",
	    "DELETE FROM files WHERE path=?1",
	};
	for (size_t i = 0; i < nitems(sql); i++) {
		if (sqlite3_prepare_v2(kb->db, sql[i], -1, &st, NULL) != SQLITE_OK)
			return -1;
		sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return -1;
	}
	return 0;
}

static int
index_file(struct kb *kb, const char *path, const struct stat *st, struct diag *d, char **cause)
{
	sqlite3_stmt *ins, *fil;
	struct kb_facts fs = {0};
	int rc = -1;

	parse_path(path, &fs, d);
	if (forget_file(kb, path) != 0)
		goto db_error;
	if (sqlite3_prepare_v2(kb->db, "INSERT INTO fts VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1, &ins,
	                       NULL) != SQLITE_OK)
		goto db_error;
	for (size_t i = 0; i < fs.n; i++) {
		struct kb_fact *f = &fs.v[i];
		char date[11];
		date_format(f->updated, date);
		sqlite3_bind_text(ins, 1, f->title, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, f->content, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, f->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, f->source, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 5, f->line);
		sqlite3_bind_text(ins, 6, topic_names[f->topic], -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 7, f->product, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 8, date, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(ins, 9, f->version);
		sqlite3_bind_int(ins, 10, f->volatile_);
		sqlite3_bind_text(ins, 11, f->context ? f->context : "", -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			sqlite3_finalize(ins);
			goto db_error;
		}
		sqlite3_reset(ins);
		char *etext = embed_text(f->context, f->title, f->content);
		char hash[65];
		sha256_hex(etext, strlen(etext), hash);
		free(etext);
		char *sql =
		    sqlite3_mprintf("INSERT INTO fact_src VALUES(%lld, %Q, %Q)",
		                    (long long)sqlite3_last_insert_rowid(kb->db), path, hash);
		int erc = exec(kb->db, sql, cause);
		sqlite3_free(sql);
		if (erc != 0) {
			sqlite3_finalize(ins);
			kb_facts_free(&fs);
			return -1;
		}
	}
	sqlite3_finalize(ins);
	if (sqlite3_prepare_v2(kb->db, "INSERT OR REPLACE INTO files VALUES(?,?,?,?)", -1, &fil,
	                       NULL) != SQLITE_OK)
		goto db_error;
	sqlite3_bind_text(fil, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(fil, 2,
	                   (sqlite3_int64)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec);
	sqlite3_bind_int64(fil, 3, (sqlite3_int64)st->st_size);
	sqlite3_bind_int64(fil, 4, (sqlite3_int64)fs.n);
	sqlite3_step(fil);
	sqlite3_finalize(fil);
	kb->reindexed++;
	rc = 0;
	goto out;
db_error:
	*cause = xasprintf("knowledge index: %s", sqlite3_errmsg(kb->db));
out:
	kb_facts_free(&fs);
	return rc;
}

/*
 * Brings the index up to date with the files on disk. Files that did
 * not change are not read; a file with errors is indexed with no facts
 * and reported again only when it changes... so its errors are
 * remembered by re-reading it: invalid files are always re-parsed.
 */
static int
sync_index(struct kb *kb, struct diag *d, char **cause)
{
	struct strv files = {0};
	if (list_files(kb->dir, &files, cause) != 0)
		return -1;
	if (exec(kb->db, "BEGIN IMMEDIATE", cause) != 0) {
		strv_free(&files);
		return -1;
	}
	sqlite3_stmt *q;
	int rc = 0;
	sqlite3_prepare_v2(kb->db, "SELECT mtime, size, nfacts FROM files WHERE path=?1", -1, &q,
	                   NULL);
	for (size_t i = 0; i < files.n && rc == 0; i++) {
		struct stat st;
		if (stat(files.v[i], &st) != 0)
			continue;
		sqlite3_bind_text(q, 1, files.v[i], -1, SQLITE_STATIC);
		int same = 0, empty = 0;
		if (sqlite3_step(q) == SQLITE_ROW) {
			same = sqlite3_column_int64(q, 0) ==
			           (sqlite3_int64)st.st_mtim.tv_sec * 1000000000 +
			               st.st_mtim.tv_nsec &&
			       sqlite3_column_int64(q, 1) == (sqlite3_int64)st.st_size;
			empty = sqlite3_column_int64(q, 2) == 0;
		}
		sqlite3_reset(q);
		if (!same)
			rc = index_file(kb, files.v[i], &st, d, cause);
		else if (empty) {
			/* Unchanged but rejected last time: say why again. */
			struct kb_facts fs = {0};
			parse_path(files.v[i], &fs, d);
			kb_facts_free(&fs);
		}
		if (kb->progress != NULL)
			kb->progress->fn(kb->progress->arg, i + 1, files.n, kb->reindexed);
	}
	sqlite3_finalize(q);

	/* Forget files that are gone. */
	sqlite3_stmt *all;
	sqlite3_prepare_v2(kb->db, "SELECT path FROM files", -1, &all, NULL);
	struct strv gone = {0};
	while (rc == 0 && sqlite3_step(all) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(all, 0);
		if (bsearch(&p, files.v, files.n, sizeof *files.v, cmp_str) == NULL)
			strv_add(&gone, p);
	}
	sqlite3_finalize(all);
	for (size_t i = 0; i < gone.n && rc == 0; i++) {
		if ((rc = forget_file(kb, gone.v[i])) != 0)
			*cause = xasprintf("knowledge index: %s", sqlite3_errmsg(kb->db));
		kb->reindexed++;
	}
	strv_free(&gone);
	strv_free(&files);
	/* Vectors of text no fact holds any more are worth nothing. */
	if (rc == 0 && kb->reindexed > 0)
		rc = exec(kb->db, "DELETE FROM emb WHERE hash NOT IN (SELECT hash FROM fact_src)",
		          cause);
	if (exec(kb->db, rc == 0 ? "COMMIT" : "ROLLBACK", cause) != 0)
		return -1;
	return rc;
}

static void load_products(struct kb *);

struct kb *
kb_open(const char *dir, const char *index, struct diag *d, char **cause)
{
	return kb_open_progress(dir, index, NULL, d, cause);
}

struct kb *
kb_open_progress(const char *dir, const char *index, const struct kb_progress *p, struct diag *d,
                 char **cause)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		*cause = xasprintf("%s: %s", dir, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		*cause = xasprintf("%s: %s", dir, strerror(ENOTDIR));
		return NULL;
	}
	struct kb *kb = xcalloc(1, sizeof *kb);
	kb->dir = xstrdup(dir);
	char *path = index ? xstrdup(index) : default_index_path(dir);
	if (path == NULL || open_db(kb, path, cause) != 0) {
		/* No usable cache: fall back to an index in memory. */
		if (path != NULL && index != NULL)
			goto fail;
		free(path);
		path = xstrdup(":memory:");
		if (open_db(kb, path, cause) != 0)
			goto fail;
	}
	free(path);
	path = NULL;
	kb->progress = p;
	int synced = sync_index(kb, d, cause);
	kb->progress = NULL;
	if (synced != 0)
		goto fail;

	fts5_api *api = fts5_api_get(kb->db);
	void *ud;
	const char *args[] = {"unicode61", "remove_diacritics", "2"};
	if (api == NULL || api->xFindTokenizer(api, "porter", &ud, &kb->tok) != SQLITE_OK ||
	    kb->tok.xCreate(ud, args, 3, &kb->tokenizer) != SQLITE_OK) {
		*cause = xstrdup("knowledge index: SQLite has no FTS5 porter tokenizer");
		goto fail;
	}
	sqlite3_stmt *st_n;
	sqlite3_prepare_v2(kb->db, "SELECT count(*) FROM fts", -1, &st_n, NULL);
	if (sqlite3_step(st_n) == SQLITE_ROW)
		kb->nfacts = (size_t)sqlite3_column_int64(st_n, 0);
	sqlite3_finalize(st_n);
	if (sqlite3_prepare_v2(kb->db, "SELECT doc FROM vocab WHERE term=?", -1, &kb->st_df,
	                       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(kb->db,
	                       "SELECT title, content, id, source, line, topic, product, updated,"
	                       " version, volatile, context FROM fts WHERE rowid=?",
	                       -1, &kb->st_get, NULL) != SQLITE_OK) {
		*cause = xasprintf("knowledge index: %s", sqlite3_errmsg(kb->db));
		goto fail;
	}
	load_products(kb);
	return kb;
fail:
	free(path);
	kb_close(kb);
	return NULL;
}

static void
vecs_drop(struct kb *kb)
{
	free(kb->vecs.model);
	free(kb->vecs.row);
	free(kb->vecs.v);
	memset(&kb->vecs, 0, sizeof kb->vecs);
}

void
kb_close(struct kb *kb)
{
	if (kb == NULL)
		return;
	if (kb->companion_free != NULL)
		kb->companion_free(kb->companion);
	vecs_drop(kb);
	if (kb->tokenizer)
		kb->tok.xDelete(kb->tokenizer);
	sqlite3_finalize(kb->st_df);
	sqlite3_finalize(kb->st_get);
	for (size_t i = 0; i < kb->dfs.cap; i++)
		free(kb->dfs.stem[i]);
	free(kb->dfs.stem);
	free(kb->dfs.df);
	for (size_t i = 0; i < kb->nproducts; i++)
		strv_free(&kb->products[i]);
	free(kb->products);
	strv_free(&kb->product_ids);
	sqlite3_close(kb->db);
	free(kb->dir);
	free(kb);
}

size_t
kb_count(const struct kb *kb)
{
	return kb->nfacts;
}

size_t
kb_reindexed(const struct kb *kb)
{
	return kb->reindexed;
}

/* ---------------------------------------------------------- retrieval */

struct qterm {
	char *stem;
	char *word; /* the text the stem came from, for MATCH */
	double idf;
	double weight; /* of its idf in coverage: 1, less for a product's name */
	long df;
	int dropped; /* left out of the query: too common, or an identifier */
};

struct qterms {
	struct qterm *v;
	size_t n, cap;
};

struct tok_ctx {
	struct qterms *terms;
	const char *text;
	struct strv *stems; /* when collecting a document's stems */
};

static int
tok_query_cb(void *ctx, int flags, const char *tok, int ntok, int start, int end)
{
	struct tok_ctx *c = ctx;
	if (flags & FTS5_TOKEN_COLOCATED)
		return SQLITE_OK;
	if (c->stems != NULL) {
		char *s = xstrndup(tok, (size_t)ntok);
		strv_take(c->stems, s);
		return SQLITE_OK;
	}
	const char *w = c->text + start;
	size_t wl = (size_t)(end - start);
	char lower[64];
	if (wl < sizeof lower) {
		for (size_t i = 0; i < wl; i++)
			lower[i] = (char)tolower((unsigned char)w[i]);
		if (kb_is_stopword(lower, wl))
			return SQLITE_OK;
	}
	for (size_t i = 0; i < c->terms->n; i++)
		if ((int)strlen(c->terms->v[i].stem) == ntok &&
		    memcmp(c->terms->v[i].stem, tok, (size_t)ntok) == 0)
			return SQLITE_OK;
	if (c->terms->n == c->terms->cap) {
		c->terms->cap = c->terms->cap ? c->terms->cap * 2 : 16;
		c->terms->v = xreallocarray(c->terms->v, c->terms->cap, sizeof *c->terms->v);
	}
	struct qterm *t = &c->terms->v[c->terms->n++];
	memset(t, 0, sizeof *t);
	t->stem = xstrndup(tok, (size_t)ntok);
	t->word = xstrndup(w, wl);
	return SQLITE_OK;
}

static void
qterms_free(struct qterms *q)
{
	for (size_t i = 0; i < q->n; i++) {
		free(q->v[i].stem);
		free(q->v[i].word);
	}
	free(q->v);
}

/* Appends text's stems, in order and stopwords kept, to out. */
static void
stems_of(struct kb *kb, const char *text, struct strv *out)
{
	struct tok_ctx c = {.stems = out};
	kb->tok.xTokenize(kb->tokenizer, &c, FTS5_TOKENIZE_DOCUMENT, text, (int)strlen(text),
	                  tok_query_cb);
}

int
kb_text_holds(struct kb *kb, const char *text, const char *word)
{
	struct strv w = {0}, t = {0};
	stems_of(kb, word, &w);
	int held = w.n > 0;
	if (held) {
		stems_of(kb, text, &t);
		held = strv_contains(&t, w.v[0]);
	}
	strv_free(&w);
	strv_free(&t);
	return held;
}

/*
 * The catalogue beside the facts (frontline-kb(5)) names the products:
 * the words of a query that name one say which product it is about, not
 * what it asks. A catalogue that does not load leaves every word its
 * full weight (triage reports its errors).
 */
static void
load_products(struct kb *kb)
{
	char *path = xasprintf("%s/catalog.yaml", kb->dir);
	char *cause = NULL;
	struct stat st;
	struct entity_rules *r =
	    stat(path, &st) == 0 ? entity_rules_new(NULL, NULL, path, &cause) : NULL;
	free(cause);
	free(path);
	if (r == NULL)
		return;
	struct strv names = {0}, ids = {0};
	entity_rules_names(r, &names, &ids);
	entity_rules_free(r);
	kb->products = xcalloc(names.n + 1, sizeof *kb->products);
	for (size_t i = 0; i < names.n; i++) {
		stems_of(kb, names.v[i], &kb->products[kb->nproducts]);
		if (kb->products[kb->nproducts].n > 0) {
			strv_add(&kb->product_ids, ids.v[i]);
			kb->nproducts++;
		}
	}
	strv_free(&names);
	strv_free(&ids);
}

/*
 * The products text names (catalogue ids into ids, when not NULL) and
 * the stems that name them (into named, when not NULL).
 */
static void
find_products(struct kb *kb, const char *text, struct strv *ids, struct strv *named)
{
	struct strv seq = {0};
	if (kb->nproducts > 0)
		stems_of(kb, text, &seq);
	for (size_t p = 0; p < kb->nproducts; p++) {
		const struct strv *name = &kb->products[p];
		for (size_t j = 0; j + name->n <= seq.n; j++) {
			size_t k = 0;
			while (k < name->n && strcmp(seq.v[j + k], name->v[k]) == 0)
				k++;
			if (k < name->n)
				continue;
			if (ids != NULL && !strv_contains(ids, kb->product_ids.v[p]))
				strv_add(ids, kb->product_ids.v[p]);
			for (size_t m = 0; named != NULL && m < name->n; m++)
				strv_add(named, name->v[m]);
		}
	}
	strv_free(&seq);
}

/*
 * Marks the query's terms that stand in a product's name or alias, and
 * notes the products. When no other word of the query is in any fact
 * ("is your doorbell better than Ring's?"), the product is what it asks
 * about, and its words keep their weight.
 */
static void
mark_products(struct kb *kb, const char *query, struct qterms *q, struct strv *ids)
{
	struct strv named = {0};
	find_products(kb, query, ids, &named);
	int asked = 0;
	for (size_t i = 0; i < q->n; i++)
		asked += !q->v[i].dropped && q->v[i].df > 0 && !strv_contains(&named, q->v[i].stem);
	for (size_t i = 0; i < q->n; i++)
		q->v[i].weight =
		    asked && strv_contains(&named, q->v[i].stem) ? KB_PRODUCT_WEIGHT : 1;
	strv_free(&named);
}

/* Stems whose document frequency is remembered (kb->dfs), at most. */
#define KB_DF_CACHE 65536

/* How many facts hold stem. */
static long
doc_freq(struct kb *kb, const char *stem)
{
	uint64_t h = hash_fnv1a(stem, strlen(stem));
	size_t at = 0;
	if (kb->dfs.cap > 0)
		for (at = h & (kb->dfs.cap - 1); kb->dfs.stem[at] != NULL;
		     at = (at + 1) & (kb->dfs.cap - 1))
			if (strcmp(kb->dfs.stem[at], stem) == 0)
				return kb->dfs.df[at];
	sqlite3_bind_text(kb->st_df, 1, stem, -1, SQLITE_STATIC);
	long df =
	    sqlite3_step(kb->st_df) == SQLITE_ROW ? (long)sqlite3_column_int64(kb->st_df, 0) : 0;
	sqlite3_reset(kb->st_df);
	if (kb->dfs.n >= KB_DF_CACHE)
		return df;
	if (2 * (kb->dfs.n + 1) > kb->dfs.cap) {
		/* Grow to keep the table at most half full, then find the slot again. */
		size_t cap = kb->dfs.cap ? 2 * kb->dfs.cap : 64;
		char **stems = xcalloc(cap, sizeof *stems);
		long *dfs = xcalloc(cap, sizeof *dfs);
		for (size_t i = 0; i < kb->dfs.cap; i++) {
			if (kb->dfs.stem[i] == NULL)
				continue;
			size_t j = hash_fnv1a(kb->dfs.stem[i], strlen(kb->dfs.stem[i])) & (cap - 1);
			while (stems[j] != NULL)
				j = (j + 1) & (cap - 1);
			stems[j] = kb->dfs.stem[i];
			dfs[j] = kb->dfs.df[i];
		}
		free(kb->dfs.stem);
		free(kb->dfs.df);
		kb->dfs.stem = stems;
		kb->dfs.df = dfs;
		kb->dfs.cap = cap;
		for (at = h & (cap - 1); stems[at] != NULL; at = (at + 1) & (cap - 1))
			;
	}
	kb->dfs.stem[at] = xstrdup(stem);
	kb->dfs.df[at] = df;
	kb->dfs.n++;
	return df;
}

static double
bm25_idf(double n, double df)
{
	return log((n - df + 0.5) / (df + 0.5) + 1.0);
}

/*
 * Confidence calibration, fitted by tests/bench/bench_kb fit (see README,
 * Performance) on StackFAQ paraphrases asked of a KB with and without
 * their thread and on the development tickets' questions: a linear score
 * of the features, which orders the hits, and a logistic map of it
 * fitted on the top hits, so that a threshold on the best hit's
 * confidence means what it says.
 */
static const double calib_w[KB_NFEAT + 1] = {-7.305, -0.228, 2.726, 4.655, 10.553, -0.605,
                                             2.683,  0.677,  1.202, 0.741, 2.840,  0.175};
static const double calib_ab[2] = {0.963, 0.183};

double
kb_calibrate(const double feat[KB_NFEAT])
{
	double z = calib_w[0];
	for (int i = 0; i < KB_NFEAT; i++)
		z += calib_w[i + 1] * feat[i];
	return 1.0 / (1.0 + exp(-(calib_ab[0] * z + calib_ab[1])));
}

/* The paragraphs of content that are agent-only (agent) or not, joined; caller frees. */
static char *
paragraphs(const char *content, int agent)
{
	static const char marker[] = "agent only:";
	struct buf b;
	buf_init(&b, 0);
	const char *p = content ? content : "";
	while (*p != '\0') {
		const char *end = strstr(p, "\n\n");
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *q = p + strspn(p, " \t");
		int marked = strncasecmp(q, marker, sizeof marker - 1) == 0;
		if (n > 0 && marked == agent) {
			if (b.len > 0)
				buf_adds(&b, "\n\n");
			if (agent) /* the marker itself says nothing */
				q += sizeof marker - 1 + strspn(q + sizeof marker - 1, " \t");
			buf_add(&b, agent ? q : p, n - (size_t)((agent ? q : p) - p));
		}
		p += n;
		while (*p == '\n')
			p++;
	}
	char *s = buf_steal(&b);
	buf_free(&b);
	return s ? s : xstrdup("");
}

char *
kb_fact_public(const char *content)
{
	return paragraphs(content, 0);
}

char *
kb_fact_agent_notes(const char *content)
{
	return paragraphs(content, 1);
}

void
kb_hits_free(struct kb_hits *h)
{
	for (size_t i = 0; i < h->n; i++)
		fact_free(&h->v[i].fact);
	free(h->v);
	memset(h, 0, sizeof *h);
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return xstrdup(s ? (const char *)s : "");
}

static void
load_hit(struct kb *kb, sqlite3_int64 rowid, struct kb_fact *f)
{
	sqlite3_bind_int64(kb->st_get, 1, rowid);
	if (sqlite3_step(kb->st_get) == SQLITE_ROW) {
		f->title = col_dup(kb->st_get, 0);
		f->content = col_dup(kb->st_get, 1);
		f->id = col_dup(kb->st_get, 2);
		f->source = col_dup(kb->st_get, 3);
		f->line = sqlite3_column_int(kb->st_get, 4);
		int t = names_find(topic_names, (const char *)sqlite3_column_text(kb->st_get, 5));
		f->topic = t < 0 ? TOPIC_GENERAL : (enum topic)t;
		f->product = col_dup(kb->st_get, 6);
		const char *u = (const char *)sqlite3_column_text(kb->st_get, 7);
		if (u == NULL || date_parse(u, &f->updated) != 0)
			f->updated = 0;
		f->version = sqlite3_column_int(kb->st_get, 8);
		f->volatile_ = sqlite3_column_int(kb->st_get, 9);
		const char *ctx = (const char *)sqlite3_column_text(kb->st_get, 10);
		f->context = ctx != NULL && *ctx != '\0' ? xstrdup(ctx) : NULL;
	}
	sqlite3_reset(kb->st_get);
}

/*
 * Share of the query's idf whose terms occur in text and, in *bigrams,
 * the share of the query's neighbouring term pairs that stand next to
 * each other in text too ("standard shipping").
 */
static double
coverage(struct kb *kb, const char *text, const struct qterms *q, double idf_total, double *bigrams)
{
	struct strv stems = {0};
	struct tok_ctx c = {.stems = &stems};
	kb->tok.xTokenize(kb->tokenizer, &c, FTS5_TOKENIZE_DOCUMENT, text, (int)strlen(text),
	                  tok_query_cb);
	double got = 0;
	for (size_t i = 0; i < q->n; i++)
		if (!q->v[i].dropped && strv_contains(&stems, q->v[i].stem))
			got += q->v[i].idf * q->v[i].weight;
	if (bigrams != NULL) {
		size_t pairs = 0, found = 0;
		for (size_t i = 0; i + 1 < q->n; i++) {
			if (q->v[i].dropped || q->v[i + 1].dropped)
				continue;
			pairs++;
			for (size_t j = 0; j + 1 < stems.n; j++)
				if (strcmp(stems.v[j], q->v[i].stem) == 0 &&
				    strcmp(stems.v[j + 1], q->v[i + 1].stem) == 0) {
					found++;
					break;
				}
		}
		*bigrams = pairs ? (double)found / (double)pairs : 0;
	}
	strv_free(&stems);
	return idf_total > 0 ? got / idf_total : 0;
}

/*
 * The other way round: the share of the idf of the title's words (after
 * its file's title, for a section) that the query holds. A question
 * that names little of what a fact is about ("when does A73259 arrive"
 * and "Verification code not arriving") is weak evidence for it however
 * well the fact covers its few words.
 */
static double
title_recall(struct kb *kb, const char *title, const struct qterms *q)
{
	struct strv stems = {0};
	stems_of(kb, title, &stems);
	double all = 0, got = 0;
	double n = (double)kb->nfacts;
	for (size_t i = 0; i < stems.n; i++) {
		const char *t = stems.v[i];
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(stems.v[j], t) == 0;
		if (seen || kb_is_stopword(t, strlen(t)))
			continue;
		double idf = bm25_idf(n, (double)doc_freq(kb, t));
		all += idf;
		for (size_t k = 0; k < q->n; k++)
			if (strcmp(q->v[k].stem, t) == 0) {
				got += idf;
				break;
			}
	}
	strv_free(&stems);
	return all > 0 ? got / all : 0;
}

/*
 * Whether a fact's title is about a product the query names (1), only
 * about others (-1), or neither (0): "how do I factory reset the
 * doorbell" is not answered by "Factory reset for the Acme Smart Plug".
 */
static double
product_agreement(struct kb *kb, const char *title, const struct strv *asked)
{
	if (asked->n == 0)
		return 0;
	struct strv ids = {0};
	find_products(kb, title, &ids, NULL);
	double v = 0;
	for (size_t i = 0; i < ids.n && v <= 0; i++)
		v = strv_contains(asked, ids.v[i]) ? 1 : -1;
	strv_free(&ids);
	return v;
}

static int
cmp_confidence(const void *a, const void *b)
{
	const struct kb_hit *x = a, *y = b;
	if (x->confidence != y->confidence)
		return x->confidence < y->confidence ? 1 : -1;
	return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

/* A query, tokenized and weighed, and what its FTS5 candidates say about it. */
struct query {
	struct qterms q;
	struct buf match; /* the MATCH expression: the kept terms, ORed */
	size_t used;      /* terms in it */
	double idf_total;
	unsigned asked;       /* the kinds of value it asks for (answer_asked) */
	struct kb_hint hint;  /* topics: 0 without one */
	struct strv products; /* the catalogue products it names */
	double best, second;  /* bm25 of the best candidate and of the runner-up */
};

/*
 * A term with a digit that no fact holds is an order number, a tracking
 * code, an amount: it names a thing the knowledge base cannot know, not
 * a topic it lacks, so it weighs neither for nor against a fact.
 */
static int
identifier(const struct qterm *t)
{
	return t->df == 0 && strpbrk(t->word, "0123456789") != NULL;
}

static void
query_free(struct query *qu)
{
	qterms_free(&qu->q);
	strv_free(&qu->products);
	buf_free(&qu->match);
}

/*
 * The query with its e-mail addresses blanked out: like an order number,
 * the customer's address names a thing the knowledge base cannot know,
 * and its pieces ("example", "com") would pass for words. Caller frees.
 */
static char *
without_addresses(const char *query)
{
	char *s = xstrdup(query);
	for (char *at = strchr(s, '@'); at != NULL; at = strchr(at + 1, '@')) {
		char *b = at, *e = at + 1;
		while (b > s && (isalnum((unsigned char)b[-1]) || strchr("._%+-", b[-1]) != NULL))
			b--;
		while (isalnum((unsigned char)*e) || *e == '.' || *e == '-')
			e++;
		if (b < at && e > at + 1)
			memset(b, ' ', (size_t)(e - b));
	}
	return s;
}

static void
query_prepare(struct kb *kb, const char *text, struct query *qu)
{
	memset(qu, 0, sizeof *qu);
	char *query = without_addresses(text);
	struct qterms *q = &qu->q;
	struct tok_ctx c = {.terms = q, .text = query};
	kb->tok.xTokenize(kb->tokenizer, &c, FTS5_TOKENIZE_QUERY, query, (int)strlen(query),
	                  tok_query_cb);

	/* Document frequencies; terms in most facts carry no signal. */
	double n = (double)kb->nfacts;
	for (size_t i = 0; i < q->n; i++) {
		q->v[i].df = doc_freq(kb, q->v[i].stem);
		q->v[i].idf = bm25_idf(n, (double)q->v[i].df);
	}
	/*
	 * Terms in over half the facts say nothing about relevance, and past
	 * KB_COMMON_MAX facts their posting lists cost more than they rank:
	 * FTS5 slows sharply on them. When every term is that common, the
	 * rarest is kept.
	 */
	size_t rarest = 0;
	for (size_t i = 0; i < q->n; i++)
		if (q->v[i].df > 0 && (q->v[rarest].df == 0 || q->v[i].df < q->v[rarest].df))
			rarest = i;
	buf_init(&qu->match, 0);
	for (size_t i = 0; i < q->n; i++) {
		int common = (n >= 20 && q->v[i].df > n / 2) || q->v[i].df > KB_COMMON_MAX;
		q->v[i].dropped = (common && i != rarest) || identifier(&q->v[i]);
	}
	/* "how long", "how much": the kind of answer (answer_asked), not a topic. */
	struct strv cue = {0};
	qu->asked = answer_asked_cue(query, &cue);
	for (size_t i = 0; i < q->n; i++)
		for (size_t j = 0; j < cue.n && !q->v[i].dropped; j++)
			q->v[i].dropped = strcasecmp(q->v[i].word, cue.v[j]) == 0;
	strv_free(&cue);
	mark_products(kb, query, q, &qu->products);
	for (size_t i = 0; i < q->n; i++) {
		if (q->v[i].dropped)
			continue;
		qu->idf_total += q->v[i].idf * q->v[i].weight;
		if (q->v[i].df == 0)
			continue; /* no fact holds it: it only lowers every fact's coverage */
		/*
		 * bm25 sums over the query's phrases: a word given twice counts
		 * twice, so a product's name, given once, counts for half.
		 */
		for (int rep = q->v[i].weight < 1 ? 1 : 2; rep > 0; rep--) {
			buf_printf(&qu->match, "%s\"", qu->match.len ? " OR " : "");
			for (const char *p = q->v[i].word; *p != '\0'; p++) {
				if (*p == '"')
					buf_addc(&qu->match, '"');
				buf_addc(&qu->match, *p);
			}
			buf_addc(&qu->match, '"');
		}
		qu->used++;
	}
	free(query);
}

/* The FTS5 candidates, best bm25 first, into out (at most pool). */
static int
lexical_pool(struct kb *kb, struct query *qu, int pool, struct kb_hits *out, char **cause)
{
	out->v = xcalloc((size_t)pool, sizeof *out->v);
	if (qu->used == 0)
		return 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(kb->db,
	                       "SELECT rowid, -bm25(fts, " KB_WEIGHTS ") FROM fts WHERE fts MATCH ?"
	                       " ORDER BY bm25(fts, " KB_WEIGHTS ") LIMIT ?",
	                       -1, &st, NULL) != SQLITE_OK) {
		*cause = xasprintf("knowledge index: %s", sqlite3_errmsg(kb->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, qu->match.data, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, pool);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < (size_t)pool) {
		struct kb_hit *h = &out->v[out->n++];
		h->row = sqlite3_column_int64(st, 0);
		load_hit(kb, h->row, &h->fact);
		h->score = sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		*cause = xasprintf("knowledge index: %s", sqlite3_errmsg(kb->db));
		return -1;
	}
	if (out->n > 0) {
		qu->best = out->v[0].score;
		/* A lone candidate has no runner-up to be far ahead of. */
		qu->second = out->n > 1 ? out->v[1].score : qu->best;
	}
	return 0;
}

/* The bm25 of one fact for the query (0 when it holds no query term). */
static double
fact_bm25(struct kb *kb, const struct query *qu, sqlite3_int64 row)
{
	sqlite3_stmt *st;
	double score = 0;
	if (qu->used == 0 ||
	    sqlite3_prepare_v2(kb->db,
	                       "SELECT -bm25(fts, " KB_WEIGHTS ") FROM fts WHERE fts MATCH ?"
	                       " AND rowid = ?",
	                       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, qu->match.data, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, row);
	if (sqlite3_step(st) == SQLITE_ROW)
		score = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return score;
}

/*
 * How the topic hint speaks of a fact on topic t: for it on a hinted
 * topic, against it on another category's; policy, pricing and product
 * facts answer questions of every category.
 */
static double
hint_agreement(const struct kb_hint *hint, enum topic t)
{
	if (hint->topics == 0 || (unsigned)t >= CAT__N)
		return 0;
	return (hint->topics & (1u << t)) != 0 ? hint->confidence : -hint->confidence;
}

/*
 * A hit's features and calibrated confidence. They depend on the query
 * and the fact alone (the best bm25 is the query's, whatever found the
 * fact), so a fact's confidence for a query is the same in every mode.
 */
static void
hit_score(struct kb *kb, const struct query *qu, struct kb_hit *h, int bm25_best)
{
	double best = qu->best;
	double margin = best > 0 ? (best - qu->second) / best : 0;
	double density = qu->idf_total > 0 ? best / qu->idf_total : 0;
	char *all = xasprintf("%s\n%s\n%s", h->fact.context ? h->fact.context : "", h->fact.title,
	                      h->fact.content);
	h->feat[0] = coverage(kb, all, &qu->q, qu->idf_total, &h->feat[5]);
	h->feat[1] = coverage(kb, h->fact.title, &qu->q, qu->idf_total, NULL);
	h->feat[2] = best > 0 ? h->score / best : 0;
	/* A lone query word that one fact holds says little, however far ahead that fact is. */
	h->feat[3] = bm25_best && qu->used > 1 ? margin * h->feat[0] : 0;
	h->feat[4] = density;
	h->feat[6] = qu->asked == 0 ? 0 : (answer_held(all) & qu->asked) != 0 ? 1 : -1;
	h->feat[7] = hint_agreement(&qu->hint, h->fact.topic);
	h->feat[8] = qu->used < 10 ? (double)qu->used / 10 : 1;
	char *title = xasprintf("%s\n%s", h->fact.context ? h->fact.context : "", h->fact.title);
	h->feat[9] = title_recall(kb, title, &qu->q);
	h->feat[10] = product_agreement(kb, title, &qu->products);
	free(title);
	free(all);
	h->confidence = kb_calibrate(h->feat);
}

/* What a hit shows: "Factory reset steps: Acme Hub", and its freshness. */
static void
hit_finish(struct kb_hit *h, const struct kb_freshness *fr)
{
	if (h->fact.context != NULL) {
		char *t = xasprintf("%s: %s", h->fact.context, h->fact.title);
		free(h->fact.title);
		h->fact.title = t;
	}
	if (fr != NULL)
		h->freshness_days = kb_fact_freshness(&h->fact, fr, &h->stale);
}

/* The lexical ranking: the pool scored, best confidence first. */
static int
lexical(struct kb *kb, const char *query, const struct kb_hint *hint, int pool, struct query *qu,
        struct kb_hits *out, char **cause)
{
	memset(out, 0, sizeof *out);
	query_prepare(kb, query, qu);
	if (hint != NULL)
		qu->hint = *hint;
	out->query_terms = qu->used;
	if (lexical_pool(kb, qu, pool, out, cause) != 0) {
		kb_hits_free(out);
		return -1;
	}
	for (size_t i = 0; i < out->n; i++)
		hit_score(kb, qu, &out->v[i], i == 0);
	/* The calibrated model orders the hits: it ranks better than bm25 alone. */
	qsort(out->v, out->n, sizeof *out->v, cmp_confidence);
	return 0;
}

/* The six categories have topics of the same names, in the same order. */
_Static_assert((int)TOPIC_BILLING == (int)CAT_BILLING && (int)TOPIC_GENERAL == (int)CAT_GENERAL &&
                   (int)TOPIC_POLICY == (int)CAT__N,
               "topics begin with the categories");

struct kb_hint
kb_hint_category(enum category c, double confidence)
{
	return (struct kb_hint){.topics = c < CAT__N ? 1u << (unsigned)c : 0,
	                        .confidence = confidence};
}

int
kb_search(struct kb *kb, const char *query, int k, const struct kb_freshness *fr,
          struct kb_hits *out, char **cause)
{
	return kb_search_hinted(kb, query, k, fr, NULL, out, cause);
}

int
kb_search_hinted(struct kb *kb, const char *query, int k, const struct kb_freshness *fr,
                 const struct kb_hint *hint, struct kb_hits *out, char **cause)
{
	struct query qu;
	if (k <= 0)
		k = 5;
	int rc = lexical(kb, query, hint, k > KB_POOL ? k : KB_POOL, &qu, out, cause);
	query_free(&qu);
	if (rc != 0)
		return -1;
	while (out->n > (size_t)k)
		fact_free(&out->v[--out->n].fact);
	for (size_t i = 0; i < out->n; i++)
		hit_finish(&out->v[i], fr);
	return 0;
}

/* ---------------------------------------------------------- embeddings */

void
kb_set_companion(struct kb *kb, void *p, void (*free_fn)(void *))
{
	kb->companion = p;
	kb->companion_free = free_fn;
}

void *
kb_companion(const struct kb *kb)
{
	return kb->companion;
}

void
kb_embed_todo_free(struct kb_embed_todo *t)
{
	strv_free(&t->hashes);
	strv_free(&t->texts);
}

int
kb_embed_pending(struct kb *kb, const char *model, struct kb_embed_todo *out, char **cause)
{
	sqlite3_stmt *st;
	memset(out, 0, sizeof *out);
	/* One vector per distinct text: facts that say the same share it. */
	if (sqlite3_prepare_v2(kb->db,
	                       "SELECT f.hash, t.context, t.title, t.content FROM fact_src f"
	                       " JOIN fts t ON t.rowid = f.rowid"
	                       " WHERE NOT EXISTS (SELECT 1 FROM emb e"
	                       "  WHERE e.hash = f.hash AND e.model = ?1)"
	                       " GROUP BY f.hash ORDER BY min(f.rowid)",
	                       -1, &st, NULL) != SQLITE_OK) {
		*cause = xasprintf("knowledge index: %s", sqlite3_errmsg(kb->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *hash = (const char *)sqlite3_column_text(st, 0);
		const char *ctx = (const char *)sqlite3_column_text(st, 1);
		const char *title = (const char *)sqlite3_column_text(st, 2);
		const char *content = (const char *)sqlite3_column_text(st, 3);
		if (hash == NULL)
			continue;
		strv_add(&out->hashes, hash);
		strv_take(&out->texts, embed_text(ctx, title ? title : "", content ? content : ""));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		*cause = xasprintf("knowledge index: %s", sqlite3_errmsg(kb->db));
		kb_embed_todo_free(out);
		return -1;
	}
	return 0;
}

int
kb_embed_put(struct kb *kb, const char *model, const char *const *hashes, const float *v, size_t n,
             size_t dim, char **cause)
{
	sqlite3_stmt *del = NULL, *ins = NULL;
	if (dim == 0) {
		*cause = xstrdup("knowledge index: a vector of no dimension");
		return -1;
	}
	if (exec(kb->db, "BEGIN IMMEDIATE", cause) != 0)
		return -1;
	/* A model's vectors all have one dimension: others are from an older setting. */
	if (sqlite3_prepare_v2(kb->db, "DELETE FROM emb WHERE model = ?1 AND dim <> ?2", -1, &del,
	                       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(kb->db, "INSERT OR REPLACE INTO emb VALUES(?1, ?2, ?3, ?4)", -1,
	                       &ins, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(del, 1, model, -1, SQLITE_STATIC);
	sqlite3_bind_int64(del, 2, (sqlite3_int64)dim);
	if (sqlite3_step(del) != SQLITE_DONE)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_text(ins, 1, hashes[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, model, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, (sqlite3_int64)dim);
		sqlite3_bind_blob(ins, 4, v + i * dim, (int)(dim * sizeof *v), SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(ins);
	}
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	vecs_drop(kb);
	return exec(kb->db, "COMMIT", cause);
fail:
	*cause = xasprintf("knowledge index: %s", sqlite3_errmsg(kb->db));
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	exec(kb->db, "ROLLBACK", &(char *){NULL});
	vecs_drop(kb);
	return -1;
}

int
kb_embed_forget(struct kb *kb, const char *model, char **cause)
{
	char *sql = sqlite3_mprintf("DELETE FROM emb WHERE model = %Q", model);
	int rc = exec(kb->db, sql, cause);
	sqlite3_free(sql);
	vecs_drop(kb);
	return rc;
}

static int
cmp_row(const void *a, const void *b)
{
	sqlite3_int64 x = *(const sqlite3_int64 *)a, y = *(const sqlite3_int64 *)b;
	return x < y ? -1 : x > y;
}

/* Loads the model's fact vectors (unit length, sorted by rowid) unless they are loaded. */
static int
vecs_load(struct kb *kb, const char *model, char **cause)
{
	if (kb->vecs.model != NULL && strcmp(kb->vecs.model, model) == 0)
		return 0;
	vecs_drop(kb);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(kb->db,
	                       "SELECT f.rowid, e.dim, e.vec FROM fact_src f JOIN emb e"
	                       " ON e.hash = f.hash AND e.model = ?1 ORDER BY f.rowid",
	                       -1, &st, NULL) != SQLITE_OK) {
		*cause = xasprintf("knowledge index: %s", sqlite3_errmsg(kb->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t dim = (size_t)sqlite3_column_int64(st, 1);
		const unsigned char *blob = sqlite3_column_blob(st, 2); /* maybe unaligned */
		if (dim == 0 || blob == NULL ||
		    (size_t)sqlite3_column_bytes(st, 2) != dim * sizeof(float) ||
		    (kb->vecs.dim != 0 && dim != kb->vecs.dim))
			continue;
		kb->vecs.dim = dim;
		if (kb->vecs.n == cap) {
			cap = cap ? cap * 2 : 64;
			kb->vecs.row = xreallocarray(kb->vecs.row, cap, sizeof *kb->vecs.row);
			kb->vecs.v = xreallocarray(kb->vecs.v, cap * dim, sizeof *kb->vecs.v);
		}
		float *dst = kb->vecs.v + kb->vecs.n * dim;
		double norm = 0;
		for (size_t j = 0; j < dim; j++) {
			memcpy(&dst[j], blob + j * sizeof dst[j], sizeof dst[j]);
			norm += (double)dst[j] * dst[j];
		}
		norm = sqrt(norm);
		if (!(norm > 0) || !isfinite(norm))
			continue;
		for (size_t j = 0; j < dim; j++)
			dst[j] = (float)(dst[j] / norm);
		kb->vecs.row[kb->vecs.n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		*cause = xasprintf("knowledge index: %s", sqlite3_errmsg(kb->db));
		vecs_drop(kb);
		return -1;
	}
	kb->vecs.model = xstrdup(model);
	return 0;
}

size_t
kb_embedded(struct kb *kb, const char *model)
{
	char *cause = NULL;
	if (vecs_load(kb, model, &cause) != 0) {
		free(cause);
		return 0;
	}
	return kb->vecs.n;
}

static double
dot(const float *a, const float *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

/* The cosine of the fact at row with the unit query vector q, or NAN when it has no vector. */
static double
row_cosine(const struct kb *kb, sqlite3_int64 row, const float *q)
{
	if (kb->vecs.n == 0)
		return NAN;
	const sqlite3_int64 *p =
	    bsearch(&row, kb->vecs.row, kb->vecs.n, sizeof *kb->vecs.row, cmp_row);
	if (p == NULL)
		return NAN;
	return dot(kb->vecs.v + (size_t)(p - kb->vecs.row) * kb->vecs.dim, q, kb->vecs.dim);
}

static int
cmp_fused(const void *a, const void *b)
{
	const struct kb_hit *x = a, *y = b;
	if (x->fused != y->fused)
		return x->fused < y->fused ? 1 : -1;
	return cmp_confidence(a, b);
}

double
kb_rrf(int fts_rank, int vector_rank)
{
	double f = 0;
	if (fts_rank > 0)
		f += 1.0 / (KB_RRF_K + fts_rank);
	if (vector_rank > 0)
		f += 1.0 / (KB_RRF_K + vector_rank);
	return f;
}

int
kb_search_hybrid(struct kb *kb, const char *query, const float *qvec, size_t dim, const char *model,
                 int k, const struct kb_freshness *fr, const struct kb_hint *hint,
                 struct kb_hits *out, char **cause)
{
	if (k <= 0)
		k = 5;
	int pool = k > KB_POOL ? k : KB_POOL;
	memset(out, 0, sizeof *out);
	if (vecs_load(kb, model, cause) != 0)
		return -1;
	if (kb->vecs.n > 0 && kb->vecs.dim != dim) {
		/* The model answers in another dimension now: its old vectors are worthless. */
		*cause =
		    xasprintf("the query vector has %zu values and the cached fact vectors %zu;"
		              " the facts will be embedded again",
		              dim, kb->vecs.dim);
		char *why = NULL;
		kb_embed_forget(kb, model, &why);
		free(why);
		return -1;
	}
	double qn = 0;
	for (size_t j = 0; j < dim; j++)
		qn += (double)qvec[j] * qvec[j];
	qn = sqrt(qn);
	if (dim == 0 || !(qn > 0) || !isfinite(qn)) {
		*cause = xstrdup("the query vector has no length");
		return -1;
	}
	float *q = xmalloc(dim * sizeof *q);
	for (size_t j = 0; j < dim; j++)
		q[j] = (float)(qvec[j] / qn);

	struct query qu;
	if (lexical(kb, query, hint, pool, &qu, out, cause) != 0) {
		query_free(&qu);
		free(q);
		return -1;
	}
	out->hybrid = 1;
	for (size_t i = 0; i < out->n; i++) {
		out->v[i].fts_rank = (int)i + 1;
		out->v[i].cosine = row_cosine(kb, out->v[i].row, q);
	}

	/* The vector ranking: the pool's worth of nearest facts, best first. */
	size_t nv = 0;
	size_t *top = xcalloc((size_t)pool, sizeof *top);
	double *topc = xcalloc((size_t)pool, sizeof *topc);
	for (size_t i = 0; i < kb->vecs.n; i++) {
		double c = dot(kb->vecs.v + i * dim, q, dim);
		if (nv == (size_t)pool && c <= topc[nv - 1])
			continue;
		size_t at = nv < (size_t)pool ? nv++ : nv - 1;
		while (at > 0 && topc[at - 1] < c) {
			top[at] = top[at - 1];
			topc[at] = topc[at - 1];
			at--;
		}
		top[at] = i;
		topc[at] = c;
	}
	/* Merge: a fact in both rankings is one hit; the others join with their own features. */
	out->v = xreallocarray(out->v, out->n + nv, sizeof *out->v);
	for (size_t r = 0; r < nv; r++) {
		sqlite3_int64 row = kb->vecs.row[top[r]];
		struct kb_hit *h = NULL;
		for (size_t i = 0; i < out->n && h == NULL; i++)
			if (out->v[i].row == row)
				h = &out->v[i];
		if (h == NULL) {
			h = &out->v[out->n++];
			memset(h, 0, sizeof *h);
			h->row = row;
			load_hit(kb, row, &h->fact);
			h->score = fact_bm25(kb, &qu, row);
			hit_score(kb, &qu, h, 0);
			h->cosine = topc[r];
		}
		h->vector_rank = (int)r + 1;
	}
	free(top);
	free(topc);
	query_free(&qu);
	free(q);

	for (size_t i = 0; i < out->n; i++)
		out->v[i].fused = kb_rrf(out->v[i].fts_rank, out->v[i].vector_rank);
	qsort(out->v, out->n, sizeof *out->v, cmp_fused);
	while (out->n > (size_t)k)
		fact_free(&out->v[--out->n].fact);
	for (size_t i = 0; i < out->n; i++) {
		out->v[i].hybrid = 1;
		hit_finish(&out->v[i], fr);
	}
	return 0;
}

cJSON *
kb_hit_json(const struct kb_hit *h)
{
	char date[11];
	cJSON *o = cJSON_CreateObject();
	date_format(h->fact.updated, date);
	cJSON_AddStringToObject(o, "id", h->fact.id);
	cJSON_AddStringToObject(o, "title", h->fact.title);
	cJSON_AddStringToObject(o, "content", h->fact.content);
	cJSON_AddStringToObject(o, "source", h->fact.source);
	cJSON_AddNumberToObject(o, "line", h->fact.line);
	cJSON_AddStringToObject(o, "topic", topic_names[h->fact.topic]);
	cJSON_AddStringToObject(o, "product", h->fact.product);
	cJSON_AddStringToObject(o, "updated", date);
	cJSON_AddNumberToObject(o, "version", h->fact.version);
	cJSON_AddNumberToObject(o, "freshness_days", h->freshness_days);
	cJSON_AddBoolToObject(o, "stale", h->stale);
	cJSON_AddNumberToObject(o, "confidence", round(h->confidence * 1000) / 1000);
	cJSON_AddNumberToObject(o, "score", round(h->score * 1000) / 1000);
	if (h->hybrid) {
		if (isnan(h->cosine))
			cJSON_AddNullToObject(o, "cosine");
		else
			cJSON_AddNumberToObject(o, "cosine", round(h->cosine * 1000) / 1000);
		cJSON *r = cJSON_AddObjectToObject(o, "ranks");
		if (h->fts_rank > 0)
			cJSON_AddNumberToObject(r, "fts", h->fts_rank);
		else
			cJSON_AddNullToObject(r, "fts");
		if (h->vector_rank > 0)
			cJSON_AddNumberToObject(r, "vector", h->vector_rank);
		else
			cJSON_AddNullToObject(r, "vector");
	}
	return o;
}
