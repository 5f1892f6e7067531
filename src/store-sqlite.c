/* store-sqlite.c -- the store's SQLite driver: one file, WAL mode, synchronous=FULL. */
#include "config.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store-driver.h"
#include "util.h"

/* How long a writer waits for another one before giving up. */
#define STORE_BUSY_MS 5000

struct sq {
	sqlite3 *h;
	sqlite3_stmt **q; /* prepared queries by number, made on first use */
	int nq;
};

struct store_cur {
	struct store_common *sc;
	sqlite3 *h;
	sqlite3_stmt *st;
	int once; /* finalized at the end, not kept */
	const char *what;
};

#define SC(s) ((struct store_common *)(s))
#define SQ(s) ((struct sq *)SC(s)->db)

/*
 * A cause from the connection's last error, "what: message", with the
 * system's error when the file system failed. what may be NULL.
 */
static char *
db_cause(sqlite3 *h, const char *what)
{
	if (h == NULL)
		return xasprintf("%s%sout of memory", what ? what : "", what ? ": " : "");
	const char *msg = sqlite3_errmsg(h);
	int code = sqlite3_errcode(h) & 0xff, e = sqlite3_system_errno(h);
	if (e != 0 && (code == SQLITE_CANTOPEN || code == SQLITE_IOERR))
		return xasprintf("%s%s%s (%s)", what ? what : "", what ? ": " : "", msg,
		                 strerror(e));
	return xasprintf("%s%s%s", what ? what : "", what ? ": " : "", msg);
}

static enum store_err
err_kind(sqlite3 *h)
{
	switch (sqlite3_extended_errcode(h)) {
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return STORE_ERR_FOREIGN_KEY;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return STORE_ERR_UNIQUE;
	default:
		return STORE_ERR_OTHER;
	}
}

static int
sq_exec(struct store *s, const char *sql, const char *what, char **cause)
{
	if (sqlite3_exec(SQ(s)->h, sql, NULL, NULL, NULL) != SQLITE_OK) {
		*cause = db_cause(SQ(s)->h, what);
		SC(s)->err = err_kind(SQ(s)->h);
		return -1;
	}
	return 0;
}

/* Why path cannot be opened, when its directory is the reason; NULL otherwise. */
static char *
dir_cause(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".")
	                          : xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	struct stat sb;
	char *cause = NULL;
	if (stat(dir, &sb) != 0)
		cause = xasprintf("%s: %s", dir, strerror(errno));
	else if (!S_ISDIR(sb.st_mode))
		cause = xasprintf("%s: %s", dir, strerror(ENOTDIR));
	else if (access(dir, W_OK) != 0)
		cause = xasprintf("%s: directory is not writable (%s)", dir, strerror(errno));
	free(dir);
	return cause;
}

/*
 * WAL lets readers (the console, metrics) run beside the writer. Returns
 * 0, -1 with *cause, or 1 when the file cannot be used (the connection's
 * error says why). Switching to WAL takes an exclusive lock without
 * calling the busy handler, so while another process holds the file (one
 * creating the same new store, say) it is tried again for a while.
 */
static int
use_wal(sqlite3 *h, char **cause)
{
	for (int tries = 0;; tries++) {
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(h, "PRAGMA journal_mode = WAL", -1, &st, NULL);
		if (rc == SQLITE_OK) {
			if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
				const char *mode = (const char *)sqlite3_column_text(st, 0);
				int wal = mode != NULL && strcmp(mode, "wal") == 0;
				if (!wal)
					*cause = xasprintf("cannot use WAL mode (the journal mode "
					                   "stays %s)",
					                   mode ? mode : "unknown");
				sqlite3_finalize(st);
				return wal ? 0 : -1;
			}
			sqlite3_finalize(st);
		}
		if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) ||
		    tries * 10 >= STORE_BUSY_MS)
			return 1;
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
}

/*
 * Causes name no path: callers print it ("cannot open the store PATH:
 * CAUSE"). A directory that is the reason is named, though.
 */
static int
sq_open(struct store *s, const char *path, char **cause)
{
	struct sq *q = xcalloc(1, sizeof *q);
	char *why;
	SC(s)->db = q;
	if (sqlite3_open_v2(path, &q->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		goto cantopen;
	sqlite3_extended_result_codes(q->h, 1);
	sqlite3_busy_timeout(q->h, STORE_BUSY_MS);
	if (sqlite3_db_readonly(q->h, "main") == 1) {
		*cause = xstrdup("the database file is read-only");
		return -1;
	}
	int rc = use_wal(q->h, cause);
	if (rc > 0)
		goto cantopen;
	if (rc < 0)
		return -1;
	/* Every commit is on disk before it returns: a turn is acknowledged after store_commit. */
	if (sq_exec(s, "PRAGMA synchronous = FULL", NULL, cause) != 0 ||
	    sq_exec(s, "PRAGMA foreign_keys = ON", NULL, cause) != 0)
		return -1;
	return 0;

cantopen:
	/* Opening is lazy: a missing or read-only directory shows up at the first pragma. */
	if ((why = dir_cause(path)) != NULL) {
		*cause = xasprintf("%s: %s", q->h ? sqlite3_errmsg(q->h) : "out of memory", why);
		free(why);
	} else
		*cause = db_cause(q->h, NULL);
	return -1;
}

static void
sq_close(struct store *s)
{
	struct sq *q = SQ(s);
	if (q == NULL)
		return;
	for (int i = 0; i < q->nq; i++)
		sqlite3_finalize(q->q[i]);
	free(q->q);
	if (q->h != NULL && !sqlite3_get_autocommit(q->h))
		sqlite3_exec(q->h, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(q->h);
	free(q);
	SC(s)->db = NULL;
}

static char *
sq_rewrite(const char *sql)
{
	static const char *const tokens[][2] = {
	    {"@NOW_MS@", "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"},
	    /* BEGIN IMMEDIATE already holds the only write lock. */
	    {"@SKIP_LOCKED@", ""},
	    {"@FOR_UPDATE@", ""},
	    {"@BINARY@", "COLLATE BINARY"},
	    {"@INSTR@", "instr"},
	};
	return store_sql_tokens(sql, tokens, nitems(tokens));
}

static int
bind(sqlite3_stmt *st, const struct sv *p, int n)
{
	for (int i = 0; i < n; i++) {
		int rc;
		switch (p[i].type) {
		case SV_INT:
			rc = sqlite3_bind_int64(st, i + 1, p[i].i);
			break;
		case SV_TEXT:
			rc = sqlite3_bind_text(st, i + 1, p[i].s, -1, SQLITE_TRANSIENT);
			break;
		default:
			rc = sqlite3_bind_null(st, i + 1);
			break;
		}
		if (rc != SQLITE_OK)
			return -1;
	}
	return 0;
}

static struct store_cur *
sq_run(struct store *s, int qn, const char *sql, const struct sv *p, int n, const char *what,
       char **cause)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	if (qn >= 0 && qn < q->nq && q->q[qn] != NULL) {
		st = q->q[qn];
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		if (sqlite3_prepare_v3(q->h, sql, -1, qn >= 0 ? SQLITE_PREPARE_PERSISTENT : 0, &st,
		                       NULL) != SQLITE_OK) {
			*cause = db_cause(q->h, what ? what : "prepare");
			SC(s)->err = STORE_ERR_OTHER;
			return NULL;
		}
		if (qn >= 0) {
			if (qn >= q->nq) {
				q->q = xreallocarray(q->q, (size_t)qn + 1, sizeof *q->q);
				memset(q->q + q->nq, 0,
				       ((size_t)qn + 1 - (size_t)q->nq) * sizeof *q->q);
				q->nq = qn + 1;
			}
			q->q[qn] = st;
		}
	}
	if (bind(st, p, n) != 0) {
		*cause = db_cause(q->h, what ? what : "bind");
		SC(s)->err = STORE_ERR_OTHER;
		if (qn < 0)
			sqlite3_finalize(st);
		return NULL;
	}
	struct store_cur *c = xcalloc(1, sizeof *c);
	c->sc = SC(s);
	c->h = q->h;
	c->st = st;
	c->once = qn < 0;
	c->what = what;
	return c;
}

static int
sq_step(struct store_cur *c, char **cause)
{
	int rc = sqlite3_step(c->st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	*cause = db_cause(c->h, c->what ? c->what : "read");
	c->sc->err = err_kind(c->h);
	return -1;
}

static const char *
sq_text(struct store_cur *c, int col)
{
	return (const char *)sqlite3_column_text(c->st, col);
}

static int64_t
sq_integer(struct store_cur *c, int col)
{
	return sqlite3_column_int64(c->st, col);
}

static int64_t
sq_changes(struct store_cur *c)
{
	return sqlite3_changes(c->h);
}

static void
sq_end(struct store_cur *c)
{
	if (c == NULL)
		return;
	if (c->once)
		sqlite3_finalize(c->st);
	else
		sqlite3_reset(c->st);
	free(c);
}

static int
sq_begin(struct store *s, char **cause)
{
	/* IMMEDIATE takes the write lock now, so the busy timeout covers it. */
	return sq_exec(s, "BEGIN IMMEDIATE", "begin", cause);
}

static int
sq_begin_read(struct store *s, char **cause)
{
	/* WAL: a deferred transaction reads one snapshot and blocks no writer. */
	if (sq_exec(s, "BEGIN", "begin", cause) != 0)
		return -1;
	/* The snapshot starts at the first read. */
	return sq_exec(s, "SELECT 1 FROM sqlite_master LIMIT 1", "begin", cause);
}

static int
sq_commit(struct store *s, char **cause)
{
	if (sq_exec(s, "COMMIT", "commit", cause) != 0) {
		/* Never leave the connection inside a transaction nobody will end. */
		if (!sqlite3_get_autocommit(SQ(s)->h))
			sqlite3_exec(SQ(s)->h, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static void
sq_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(SQ(s)->h))
		sqlite3_exec(SQ(s)->h, "ROLLBACK", NULL, NULL, NULL);
}

static int
sq_tx_failed(struct store *s)
{
	/* An error that ends the transaction leaves SQLite in autocommit mode. */
	return sqlite3_get_autocommit(SQ(s)->h);
}

/* PRAGMA user_version holds the number of migrations applied. */
static int
sq_get_version(struct store *s, int *v, char **cause)
{
	sqlite3_stmt *st;
	sqlite3 *h = SQ(s)->h;
	if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
		*cause = db_cause(h, NULL);
		return -1;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		*cause = db_cause(h, NULL);
		sqlite3_finalize(st);
		return -1;
	}
	*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int
sq_migrate_lock(struct store *s, char **cause)
{
	return sq_exec(s, "BEGIN IMMEDIATE", NULL, cause);
}

static int
sq_set_version(struct store *s, int v, char **cause)
{
	char sql[64], what[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
	snprintf(what, sizeof what, "migration to schema version %d", v);
	return sq_exec(s, sql, what, cause);
}

const struct store_driver store_sqlite_driver = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .rewrite = sq_rewrite,
    .exec = sq_exec,
    .run = sq_run,
    .step = sq_step,
    .text = sq_text,
    .integer = sq_integer,
    .changes = sq_changes,
    .end = sq_end,
    .begin = sq_begin,
    .begin_read = sq_begin_read,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .tx_failed = sq_tx_failed,
    .get_version = sq_get_version,
    .migrate_lock = sq_migrate_lock,
    .set_version = sq_set_version,
};
