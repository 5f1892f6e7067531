/* store.c -- the durable store: customers, conversations and their events in SQLite. */
#include "config.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

/* ---------------------------------------------------------- migrations */

/*
 * The schema, one step per version; PRAGMA user_version holds the number
 * of steps applied. A step is never edited once released: a change is a
 * new step. The SQL is kept plain (no SQLite-only types or clauses) so the
 * same steps can serve PostgreSQL; only the row ids differ there
 * (INTEGER PRIMARY KEY assigns them in SQLite, an identity column would
 * in PostgreSQL).
 */
static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE customers ("
    " id TEXT PRIMARY KEY,"
    " name TEXT,"
    " email TEXT,"
    " tier TEXT NOT NULL DEFAULT 'standard',"
    " created TEXT NOT NULL);"
    "CREATE TABLE conversations ("
    " id INTEGER PRIMARY KEY,"
    " customer_id TEXT NOT NULL REFERENCES customers(id),"
    " state TEXT NOT NULL DEFAULT 'open'"
    "  CHECK (state IN ('open', 'resolved', 'escalated', 'abandoned')),"
    " created TEXT NOT NULL,"
    " closed TEXT);"
    "CREATE INDEX conversations_customer ON conversations(customer_id);"
    /* A customer has at most one open conversation. */
    "CREATE UNIQUE INDEX conversations_open ON conversations(customer_id)"
    " WHERE state = 'open';"
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    " role TEXT NOT NULL CHECK (role IN ('customer', 'ai', 'human')),"
    " text TEXT NOT NULL,"
    " at TEXT NOT NULL);"
    "CREATE INDEX messages_conversation ON messages(conversation_id);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    " kind TEXT NOT NULL,"
    " payload TEXT,"
    " at TEXT NOT NULL);"
    "CREATE INDEX events_conversation ON events(conversation_id);"
    "CREATE TABLE handoffs ("
    " id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    " packet TEXT NOT NULL,"
    " created TEXT NOT NULL);"
    "CREATE INDEX handoffs_conversation ON handoffs(conversation_id);",
    /* 2: who handles an open conversation (the console's queue) */
    "ALTER TABLE conversations ADD COLUMN handler TEXT NOT NULL DEFAULT 'ai'"
    " CHECK (handler IN ('ai', 'waiting', 'human'));"
    "ALTER TABLE conversations ADD COLUMN owner TEXT;",
    /* 3: shadow replays, trainer reviews, the rollout and canary log */
    "CREATE TABLE replay_runs ("
    " id INTEGER PRIMARY KEY,"
    " source TEXT NOT NULL,"
    " version TEXT NOT NULL,"
    " started TEXT NOT NULL,"
    " finished TEXT,"
    " tickets INTEGER NOT NULL DEFAULT 0,"
    " report TEXT);"
    "CREATE TABLE replay_results ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES replay_runs(id),"
    " ticket TEXT NOT NULL,"
    " result TEXT NOT NULL);"
    "CREATE INDEX replay_results_run ON replay_results(run_id);"
    "CREATE TABLE reviews ("
    " id INTEGER PRIMARY KEY,"
    " handoff_id INTEGER NOT NULL REFERENCES handoffs(id),"
    " reviewer TEXT,"
    " correction TEXT NOT NULL,"
    " created TEXT NOT NULL);"
    "CREATE INDEX reviews_handoff ON reviews(handoff_id);"
    "CREATE TABLE rollout_log ("
    " id INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('rollout', 'canary')),"
    " action TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " actor TEXT,"
    " reason TEXT,"
    " at TEXT NOT NULL);",
};
#define SCHEMA_VERSION ((int)nitems(migrations))

/* How long a writer waits for another one before giving up. */
#define STORE_BUSY_MS 5000

/* ----------------------------------------------------------- statements */

enum {
	Q_CUSTOMER_PUT,
	Q_CUSTOMER_ENSURE,
	Q_CONV_FIND,
	Q_CONV_NEW,
	Q_CONV_CLOSE,
	Q_CONV_STATE,
	Q_MESSAGE_ADD,
	Q_EVENT_ADD,
	Q_HANDOFF_ADD,
	Q_MESSAGES,
	Q_EVENTS,
	Q_HANDOFFS,
	Q_HANDOFF_GET,
	Q_CONV_HANDLER,
	Q_CONV_LIST,
	Q_CONV_GET,
	Q_RUN_NEW,
	Q_RUN_FINISH,
	Q_RUNS,
	Q_RUN_GET,
	Q_RESULT_ADD,
	Q_RESULTS,
	Q_REVIEW_ADD,
	Q_REVIEWS,
	Q_ROLLOUT_ADD,
	Q_ROLLOUT_LOG,
	Q__N
};

static const char *const queries[Q__N] = {
    /* NULL name or email keeps the stored one; NULL tier (?4) keeps it too. */
    [Q_CUSTOMER_PUT] = "INSERT INTO customers (id, name, email, tier, created)"
                       " VALUES (?1, ?2, ?3, COALESCE(?4, 'standard'), ?5)"
                       " ON CONFLICT (id) DO UPDATE SET"
                       " name = COALESCE(excluded.name, customers.name),"
                       " email = COALESCE(excluded.email, customers.email),"
                       " tier = COALESCE(?4, customers.tier)",
    [Q_CUSTOMER_ENSURE] = "INSERT INTO customers (id, created) VALUES (?1, ?2)"
                          " ON CONFLICT (id) DO NOTHING",
    [Q_CONV_FIND] = "SELECT id FROM conversations WHERE customer_id = ?1 AND state = 'open'"
                    " ORDER BY id DESC LIMIT 1",
    [Q_CONV_NEW] = "INSERT INTO conversations (customer_id, state, created)"
                   " VALUES (?1, 'open', ?2)",
    [Q_CONV_CLOSE] = "UPDATE conversations SET state = ?2, closed = ?3"
                     " WHERE id = ?1 AND state = 'open'",
    [Q_CONV_STATE] = "SELECT state FROM conversations WHERE id = ?1",
    [Q_MESSAGE_ADD] = "INSERT INTO messages (conversation_id, role, text, at)"
                      " VALUES (?1, ?2, ?3, ?4)",
    [Q_EVENT_ADD] = "INSERT INTO events (conversation_id, kind, payload, at)"
                    " VALUES (?1, ?2, ?3, ?4)",
    [Q_HANDOFF_ADD] = "INSERT INTO handoffs (conversation_id, packet, created)"
                      " VALUES (?1, ?2, ?3)",
    [Q_MESSAGES] = "SELECT id, role, text, at FROM messages WHERE conversation_id = ?1"
                   " ORDER BY id",
    [Q_EVENTS] = "SELECT id, kind, payload, at FROM events WHERE conversation_id = ?1"
                 " ORDER BY id",
    [Q_HANDOFFS] = "SELECT h.id, h.conversation_id, c.customer_id, h.created, h.packet"
                   " FROM handoffs h JOIN conversations c ON c.id = h.conversation_id"
                   " ORDER BY h.id DESC",
    [Q_HANDOFF_GET] = "SELECT packet FROM handoffs WHERE id = ?1",
    [Q_CONV_HANDLER] = "UPDATE conversations SET handler = ?2, owner = ?3"
                       " WHERE id = ?1 AND state = 'open'",
    [Q_CONV_LIST] = "SELECT c.id, c.customer_id, cu.name, cu.tier, c.state, c.handler, c.owner,"
                    " c.created, c.closed"
                    " FROM conversations c JOIN customers cu ON cu.id = c.customer_id"
                    " WHERE c.state = 'open' OR c.closed >= ?1 ORDER BY c.id",
    [Q_CONV_GET] = "SELECT c.id, c.customer_id, cu.name, cu.tier, c.state, c.handler, c.owner,"
                   " c.created, c.closed"
                   " FROM conversations c JOIN customers cu ON cu.id = c.customer_id"
                   " WHERE c.id = ?1",
    [Q_RUN_NEW] = "INSERT INTO replay_runs (source, version, started) VALUES (?1, ?2, ?3)",
    [Q_RUN_FINISH] = "UPDATE replay_runs SET finished = ?2, tickets = ?3, report = ?4"
                     " WHERE id = ?1",
    /* The list leaves out the reports: only store_replay_run reads one. */
    [Q_RUNS] = "SELECT id, source, version, started, finished, tickets"
               " FROM replay_runs ORDER BY id DESC",
    /* ?1 = 0: the newest run. */
    [Q_RUN_GET] = "SELECT id, source, version, started, finished, tickets, report"
                  " FROM replay_runs WHERE id = ?1 OR ?1 = 0 ORDER BY id DESC LIMIT 1",
    [Q_RESULT_ADD] = "INSERT INTO replay_results (run_id, ticket, result) VALUES (?1, ?2, ?3)",
    [Q_RESULTS] = "SELECT result FROM replay_results WHERE run_id = ?1 ORDER BY id",
    [Q_REVIEW_ADD] = "INSERT INTO reviews (handoff_id, reviewer, correction, created)"
                     " VALUES (?1, ?2, ?3, ?4)",
    [Q_REVIEWS] = "SELECT r.id, r.handoff_id, h.conversation_id, r.reviewer, r.created,"
                  " r.correction"
                  " FROM reviews r JOIN handoffs h ON h.id = r.handoff_id ORDER BY r.id",
    [Q_ROLLOUT_ADD] = "INSERT INTO rollout_log (kind, action, state, actor, reason, at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_ROLLOUT_LOG] = "SELECT id, action, state, actor, reason, at FROM rollout_log"
                      " WHERE kind = ?1 ORDER BY id DESC",
};

struct store {
	sqlite3 *db;
	int in_tx; /* store_begin was called and not yet committed or rolled back */
	sqlite3_stmt *q[Q__N];
};

/* -------------------------------------------------------------- helpers */

/*
 * A cause from the connection's last error, "what: message", with the
 * system's error when the file system failed. what may be NULL.
 */
static char *
db_cause(sqlite3 *db, const char *what)
{
	if (db == NULL)
		return xasprintf("%s%sout of memory", what ? what : "", what ? ": " : "");
	const char *msg = sqlite3_errmsg(db);
	int code = sqlite3_errcode(db) & 0xff, e = sqlite3_system_errno(db);
	if (e != 0 && (code == SQLITE_CANTOPEN || code == SQLITE_IOERR))
		return xasprintf("%s%s%s (%s)", what ? what : "", what ? ": " : "", msg,
		                 strerror(e));
	return xasprintf("%s%s%s", what ? what : "", what ? ": " : "", msg);
}

static int
exec(struct store *s, const char *sql, const char *what, char **cause)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		*cause = db_cause(s->db, what);
		return -1;
	}
	return 0;
}

/* The prepared statement q, reset and unbound, or NULL with *cause. */
static sqlite3_stmt *
stmt(struct store *s, int q, char **cause)
{
	if (s->q[q] == NULL) {
		if (sqlite3_prepare_v3(s->db, queries[q], -1, SQLITE_PREPARE_PERSISTENT, &s->q[q],
		                       NULL) != SQLITE_OK) {
			*cause = db_cause(s->db, "prepare");
			return NULL;
		}
	} else {
		sqlite3_reset(s->q[q]);
		sqlite3_clear_bindings(s->q[q]);
	}
	return s->q[q];
}

/* Steps a statement that returns no rows; resets it either way. */
static int
step_done(struct store *s, sqlite3_stmt *st, const char *what, char **cause)
{
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		*cause = db_cause(s->db, what);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

/*
 * Now as ISO-8601 UTC text, "YYYY-MM-DDTHH:MM:SS.mmmZ". The date part
 * follows FRONTLINE_TODAY when it is set (reproducible reports); the time
 * of day is always the clock's.
 */
static void
now_iso(char out[64])
{
	struct timespec ts;
	struct tm tm;
	char date[11];
	long days;
	char *cause = NULL;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (getenv("FRONTLINE_TODAY") != NULL && date_today(&days, &cause) == 0)
		date_format(days, date);
	else
		strftime(date, sizeof date, "%Y-%m-%d", &tm);
	free(cause);
	snprintf(out, 64, "%sT%02d:%02d:%02d.%03ldZ", date, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         ts.tv_nsec / 1000000);
}

/*
 * Multi-statement operations run in a transaction of their own unless the
 * caller has one open (store_begin), so that they are atomic either way.
 */
static int
tx_enter(struct store *s, int *own, char **cause)
{
	*own = 0;
	if (s->in_tx) {
		if (sqlite3_get_autocommit(s->db)) {
			*cause = xstrdup("the transaction was rolled back by an earlier error");
			return -1;
		}
		return 0;
	}
	if (exec(s, "BEGIN IMMEDIATE", "begin", cause) != 0)
		return -1;
	*own = 1;
	return 0;
}

static int
tx_leave(struct store *s, int own, int rc, char **cause)
{
	if (!own)
		return rc;
	if (rc == 0 && exec(s, "COMMIT", "commit", cause) == 0)
		return 0;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* A single-statement write: checks that an explicit transaction is still alive. */
static int
tx_check(struct store *s, char **cause)
{
	if (s->in_tx && sqlite3_get_autocommit(s->db)) {
		*cause = xstrdup("the transaction was rolled back by an earlier error");
		return -1;
	}
	return 0;
}

/* -------------------------------------------------------- open, migrate */

static int
schema_version(struct store *s, int *v, char **cause)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
		*cause = db_cause(s->db, NULL);
		return -1;
	}
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		*cause = db_cause(s->db, NULL);
		sqlite3_finalize(st);
		return -1;
	}
	*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Applies the missing migrations in one transaction: all of them or none. */
static int
migrate(struct store *s, char **cause)
{
	int v;
	if (schema_version(s, &v, cause) != 0)
		return -1;
	if (v == SCHEMA_VERSION)
		return 0;
	if (v > SCHEMA_VERSION || v < 0)
		goto newer;
	if (exec(s, "BEGIN IMMEDIATE", NULL, cause) != 0)
		return -1;
	/* Read again under the write lock: another process may have migrated. */
	if (schema_version(s, &v, cause) != 0)
		goto fail;
	if (v > SCHEMA_VERSION || v < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		goto newer;
	}
	for (; v < SCHEMA_VERSION; v++) {
		char what[64], sql[64];
		snprintf(what, sizeof what, "migration to schema version %d", v + 1);
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
		if (exec(s, migrations[v], what, cause) != 0 || exec(s, sql, what, cause) != 0)
			goto fail;
	}
	if (exec(s, "COMMIT", NULL, cause) != 0)
		goto fail;
	return 0;
fail:
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
newer:
	*cause = xasprintf("the database has schema version %d, newer than this frontline "
	                   "understands (%d): use a newer frontline, or another database",
	                   v, SCHEMA_VERSION);
	return -1;
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
use_wal(struct store *s, char **cause)
{
	for (int tries = 0;; tries++) {
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
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
struct store *
store_open(const char *path, char **cause)
{
	if (path == NULL || *path == '\0') {
		*cause = xstrdup("the database path is empty");
		return NULL;
	}
	struct store *s = xcalloc(1, sizeof *s);
	char *why;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		goto cantopen;
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		*cause = xstrdup("the database file is read-only");
		goto fail;
	}

	int rc = use_wal(s, cause);
	if (rc > 0)
		goto cantopen;
	if (rc < 0)
		goto fail;
	/* Every commit is on disk before it returns: a turn is acknowledged after store_commit. */
	if (exec(s, "PRAGMA synchronous = FULL", NULL, cause) != 0 ||
	    exec(s, "PRAGMA foreign_keys = ON", NULL, cause) != 0 || migrate(s, cause) != 0)
		goto fail;
	return s;

cantopen:
	/* Opening is lazy: a missing or read-only directory shows up at the first pragma. */
	if ((why = dir_cause(path)) != NULL) {
		*cause = xasprintf("%s: %s", s->db ? sqlite3_errmsg(s->db) : "out of memory", why);
		free(why);
	} else
		*cause = db_cause(s->db, NULL);
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < Q__N; i++)
		sqlite3_finalize(s->q[i]);
	if (s->db != NULL && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(s->db);
	free(s);
}

/* --------------------------------------------------------- transactions */

int
store_begin(struct store *s, char **cause)
{
	if (s->in_tx) {
		*cause = xstrdup("a transaction is already open");
		return -1;
	}
	/* IMMEDIATE takes the write lock now, so the busy timeout covers it. */
	if (exec(s, "BEGIN IMMEDIATE", "begin", cause) != 0)
		return -1;
	s->in_tx = 1;
	return 0;
}

int
store_commit(struct store *s, char **cause)
{
	if (!s->in_tx) {
		*cause = xstrdup("commit: no transaction is open");
		return -1;
	}
	s->in_tx = 0;
	if (sqlite3_get_autocommit(s->db)) {
		*cause = xstrdup("commit: the transaction was rolled back by an earlier error");
		return -1;
	}
	if (exec(s, "COMMIT", "commit", cause) != 0) {
		/* Never leave the connection inside a transaction nobody will end. */
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

void
store_rollback(struct store *s)
{
	if (s == NULL)
		return;
	s->in_tx = 0;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ------------------------------------------------------------- writes */

static int
bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

int
store_customer_put(struct store *s, const char *id, const char *name, const char *email,
                   enum tier tier, char **cause)
{
	char now[64];
	if (id == NULL || *id == '\0') {
		*cause = xstrdup("customer: the id is empty");
		return -1;
	}
	if (tx_check(s, cause) != 0)
		return -1;
	sqlite3_stmt *st = stmt(s, Q_CUSTOMER_PUT, cause);
	if (st == NULL)
		return -1;
	now_iso(now);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	bind_text_or_null(st, 2, name);
	bind_text_or_null(st, 3, email);
	/* A tier outside the enum keeps the stored one (or the default). */
	bind_text_or_null(st, 4, (int)tier >= 0 && tier < TIER__N ? tier_names[tier] : NULL);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	return step_done(s, st, "customer", cause);
}

static int
conversation_open(struct store *s, const char *customer_id, int64_t *conv, int *created,
                  char **cause)
{
	char now[64];
	now_iso(now);
	sqlite3_stmt *st = stmt(s, Q_CUSTOMER_ENSURE, cause);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, customer_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	if (step_done(s, st, "customer", cause) != 0)
		return -1;

	if ((st = stmt(s, Q_CONV_FIND, cause)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, customer_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*conv = sqlite3_column_int64(st, 0);
		*created = 0;
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_DONE) {
		*cause = db_cause(s->db, "conversation");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);

	if ((st = stmt(s, Q_CONV_NEW, cause)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, customer_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	if (step_done(s, st, "conversation", cause) != 0)
		return -1;
	*conv = sqlite3_last_insert_rowid(s->db);
	*created = 1;
	return 0;
}

int
store_conversation_open(struct store *s, const char *customer_id, int64_t *conv, int *created,
                        char **cause)
{
	int own, dummy;
	if (customer_id == NULL || *customer_id == '\0') {
		*cause = xstrdup("conversation: the customer id is empty");
		return -1;
	}
	if (created == NULL)
		created = &dummy;
	if (tx_enter(s, &own, cause) != 0)
		return -1;
	int rc = conversation_open(s, customer_id, conv, created, cause);
	return tx_leave(s, own, rc, cause);
}

int
store_conversation_close(struct store *s, int64_t conv, const char *state, char **cause)
{
	static const char *const closed[] = {"resolved", "escalated", "abandoned", NULL};
	char now[64];
	if (state == NULL || names_find(closed, state) < 0) {
		*cause = xasprintf("conversation %lld: a conversation closes as resolved, "
		                   "escalated or abandoned, not '%s'",
		                   (long long)conv, state ? state : "(null)");
		return -1;
	}
	if (tx_check(s, cause) != 0)
		return -1;
	sqlite3_stmt *st = stmt(s, Q_CONV_CLOSE, cause);
	if (st == NULL)
		return -1;
	now_iso(now);
	sqlite3_bind_int64(st, 1, conv);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	if (step_done(s, st, "conversation", cause) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 1)
		return 0;

	/* Nothing changed: say why. */
	if ((st = stmt(s, Q_CONV_STATE, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, conv);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*cause = xasprintf("conversation %lld is already %s", (long long)conv,
		                   (const char *)sqlite3_column_text(st, 0));
	else if (rc == SQLITE_DONE)
		*cause = xasprintf("no conversation %lld", (long long)conv);
	else
		*cause = db_cause(s->db, "conversation");
	sqlite3_reset(st);
	return -1;
}

int
store_message_add(struct store *s, int64_t conv, const char *role, const char *text, int64_t *id,
                  char **cause)
{
	char now[64];
	if (tx_check(s, cause) != 0)
		return -1;
	sqlite3_stmt *st = stmt(s, Q_MESSAGE_ADD, cause);
	if (st == NULL)
		return -1;
	now_iso(now);
	sqlite3_bind_int64(st, 1, conv);
	bind_text_or_null(st, 2, role);
	bind_text_or_null(st, 3, text);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	if (step_done(s, st, "message", cause) != 0)
		return -1;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_event_add(struct store *s, int64_t conv, const char *kind, const cJSON *payload, char **cause)
{
	char now[64];
	if (kind == NULL || *kind == '\0') {
		*cause = xstrdup("event: the kind is empty");
		return -1;
	}
	if (tx_check(s, cause) != 0)
		return -1;
	sqlite3_stmt *st = stmt(s, Q_EVENT_ADD, cause);
	if (st == NULL)
		return -1;
	char *json = payload ? cJSON_PrintUnformatted(payload) : NULL;
	now_iso(now);
	sqlite3_bind_int64(st, 1, conv);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	bind_text_or_null(st, 3, json);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	int rc = step_done(s, st, "event", cause);
	free(json);
	return rc;
}

int
store_handoff_add(struct store *s, int64_t conv, const cJSON *packet, int64_t *id, char **cause)
{
	char now[64];
	if (!cJSON_IsObject(packet)) {
		*cause = xstrdup("handoff: the packet is not a JSON object");
		return -1;
	}
	if (tx_check(s, cause) != 0)
		return -1;
	sqlite3_stmt *st = stmt(s, Q_HANDOFF_ADD, cause);
	if (st == NULL)
		return -1;
	char *json = cJSON_PrintUnformatted(packet);
	now_iso(now);
	sqlite3_bind_int64(st, 1, conv);
	bind_text_or_null(st, 2, json);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	int rc = step_done(s, st, "handoff", cause);
	free(json);
	if (rc == 0 && id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

/* -------------------------------------------------------------- reads */

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? t : "";
}

/* Stored JSON text as cJSON: null when NULL, the text itself if it does not parse. */
static cJSON *
col_json(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	if (t == NULL)
		return cJSON_CreateNull();
	cJSON *j = cJSON_Parse(t);
	return j ? j : cJSON_CreateString(t);
}

/* Rows of a conversation's messages or events: {"id", name1, name2, "at"}. */
static int
rows(struct store *s, int q, int64_t conv, const char *name1, const char *name2, int json2,
     cJSON **out, char **cause)
{
	*out = NULL;
	sqlite3_stmt *st = stmt(s, q, cause);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, conv);
	cJSON *a = cJSON_CreateArray();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
		cJSON_AddStringToObject(o, name1, col_text(st, 1));
		if (json2)
			cJSON_AddItemToObject(o, name2, col_json(st, 2));
		else
			cJSON_AddStringToObject(o, name2, col_text(st, 2));
		cJSON_AddStringToObject(o, "at", col_text(st, 3));
		cJSON_AddItemToArray(a, o);
	}
	if (rc != SQLITE_DONE) {
		*cause = db_cause(s->db, "read");
		sqlite3_reset(st);
		cJSON_Delete(a);
		return -1;
	}
	sqlite3_reset(st);
	*out = a;
	return 0;
}

int
store_messages(struct store *s, int64_t conv, cJSON **out, char **cause)
{
	return rows(s, Q_MESSAGES, conv, "role", "text", 0, out, cause);
}

int
store_events(struct store *s, int64_t conv, cJSON **out, char **cause)
{
	return rows(s, Q_EVENTS, conv, "kind", "payload", 1, out, cause);
}

/* A row of Q_HANDOFFS: the packet's reason only, not the whole packet. */
static cJSON *
handoff_row(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
	cJSON_AddNumberToObject(o, "conversation", (double)sqlite3_column_int64(st, 1));
	cJSON_AddStringToObject(o, "customer", col_text(st, 2));
	cJSON_AddStringToObject(o, "created", col_text(st, 3));
	cJSON *packet = cJSON_Parse(col_text(st, 4));
	const char *reason = cJSON_GetStringValue(cJSON_GetObjectItem(packet, "reason"));
	if (reason != NULL)
		cJSON_AddStringToObject(o, "reason", reason);
	cJSON_Delete(packet);
	return o;
}

/* Steps a bound statement to its end, one object per row into *out (caller frees). */
static int
collect(struct store *s, sqlite3_stmt *st, cJSON *(*row)(sqlite3_stmt *), cJSON **out, char **cause)
{
	cJSON *a = cJSON_CreateArray();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cJSON_AddItemToArray(a, row(st));
	if (rc != SQLITE_DONE) {
		*cause = db_cause(s->db, "read");
		sqlite3_reset(st);
		cJSON_Delete(a);
		return -1;
	}
	sqlite3_reset(st);
	*out = a;
	return 0;
}

int
store_handoff_list(struct store *s, cJSON **out, char **cause)
{
	*out = NULL;
	sqlite3_stmt *st = stmt(s, Q_HANDOFFS, cause);
	return st ? collect(s, st, handoff_row, out, cause) : -1;
}

int
store_handoff_get(struct store *s, int64_t id, cJSON **out, char **cause)
{
	*out = NULL;
	sqlite3_stmt *st = stmt(s, Q_HANDOFF_GET, cause);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		*cause = db_cause(s->db, "read");
		sqlite3_reset(st);
		return -1;
	}
	cJSON *p = cJSON_Parse(col_text(st, 0));
	sqlite3_reset(st);
	if (!cJSON_IsObject(p)) {
		cJSON_Delete(p);
		*cause = xasprintf("handoff %lld: the stored packet is not a JSON object",
		                   (long long)id);
		return -1;
	}
	cJSON_DeleteItemFromObject(p, "id");
	cJSON_AddNumberToObject(p, "id", (double)id);
	*out = p;
	return 0;
}

int
store_conversation_handler(struct store *s, int64_t conv, const char *handler, const char *owner,
                           char **cause)
{
	static const char *const handlers[] = {"ai", "waiting", "human", NULL};
	if (handler == NULL || names_find(handlers, handler) < 0) {
		*cause =
		    xasprintf("conversation %lld: the handler is ai, waiting or human, not '%s'",
		              (long long)conv, handler ? handler : "(null)");
		return -1;
	}
	if (tx_check(s, cause) != 0)
		return -1;
	sqlite3_stmt *st = stmt(s, Q_CONV_HANDLER, cause);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, conv);
	sqlite3_bind_text(st, 2, handler, -1, SQLITE_STATIC);
	bind_text_or_null(st, 3, owner);
	if (step_done(s, st, "conversation", cause) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 1)
		return 0;
	*cause = xasprintf("conversation %lld is not open", (long long)conv);
	return -1;
}

/* A row of Q_CONV_LIST or Q_CONV_GET as an object. */
static cJSON *
conversation_row(sqlite3_stmt *st)
{
	static const char *const names[] = {"customer", "name",  "tier",    "state",
	                                    "handler",  "owner", "created", "closed"};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
	for (int i = 0; i < (int)nitems(names); i++) {
		if (sqlite3_column_type(st, i + 1) == SQLITE_NULL)
			cJSON_AddNullToObject(o, names[i]);
		else
			cJSON_AddStringToObject(o, names[i], col_text(st, i + 1));
	}
	return o;
}

int
store_conversation_list(struct store *s, const char *closed_since, cJSON **out, char **cause)
{
	*out = NULL;
	sqlite3_stmt *st = stmt(s, Q_CONV_LIST, cause);
	if (st == NULL)
		return -1;
	/* NULL: a bound after every date, so open rows only. */
	sqlite3_bind_text(st, 1, closed_since ? closed_since : "\x7f", -1, SQLITE_TRANSIENT);
	return collect(s, st, conversation_row, out, cause);
}

int
store_conversation_get(struct store *s, int64_t conv, cJSON **out, char **cause)
{
	*out = NULL;
	sqlite3_stmt *st = stmt(s, Q_CONV_GET, cause);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, conv);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = conversation_row(st);
	else if (rc != SQLITE_DONE)
		*cause = db_cause(s->db, "read");
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

void
store_now(char out[64])
{
	now_iso(out);
}

/* ------------------------------------------------------- shadow replays */

/* Binds JSON as text at i; returns the text to free after the step. */
static char *
bind_json(sqlite3_stmt *st, int i, const cJSON *j)
{
	char *text = j ? cJSON_PrintUnformatted(j) : NULL;
	bind_text_or_null(st, i, text);
	return text;
}

int
store_replay_begin(struct store *s, const char *source, const char *version, int64_t *run,
                   char **cause)
{
	char now[64];
	if (tx_check(s, cause) != 0)
		return -1;
	sqlite3_stmt *st = stmt(s, Q_RUN_NEW, cause);
	if (st == NULL)
		return -1;
	now_iso(now);
	sqlite3_bind_text(st, 1, source ? source : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, version ? version : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	if (step_done(s, st, "replay", cause) != 0)
		return -1;
	*run = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_replay_result(struct store *s, int64_t run, const char *ticket, const cJSON *result,
                    char **cause)
{
	if (!cJSON_IsObject(result)) {
		*cause = xstrdup("replay: the result is not a JSON object");
		return -1;
	}
	if (tx_check(s, cause) != 0)
		return -1;
	sqlite3_stmt *st = stmt(s, Q_RESULT_ADD, cause);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, ticket ? ticket : "", -1, SQLITE_STATIC);
	char *json = bind_json(st, 3, result);
	int rc = step_done(s, st, "replay result", cause);
	free(json);
	return rc;
}

int
store_replay_finish(struct store *s, int64_t run, int64_t tickets, const cJSON *report,
                    char **cause)
{
	char now[64];
	if (tx_check(s, cause) != 0)
		return -1;
	sqlite3_stmt *st = stmt(s, Q_RUN_FINISH, cause);
	if (st == NULL)
		return -1;
	now_iso(now);
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, tickets);
	char *json = bind_json(st, 4, report);
	int rc = step_done(s, st, "replay", cause);
	free(json);
	if (rc == 0 && sqlite3_changes(s->db) != 1) {
		*cause = xasprintf("no replay run %lld", (long long)run);
		return -1;
	}
	return rc;
}

/* A row of Q_RUNS, or of Q_RUN_GET with its report (with_report). */
static cJSON *
run_row(sqlite3_stmt *st, int with_report)
{
	static const char *const names[] = {"source", "version", "started", "finished"};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
	for (int i = 0; i < (int)nitems(names); i++) {
		if (sqlite3_column_type(st, i + 1) == SQLITE_NULL)
			cJSON_AddNullToObject(o, names[i]);
		else
			cJSON_AddStringToObject(o, names[i], col_text(st, i + 1));
	}
	cJSON_AddNumberToObject(o, "tickets", (double)sqlite3_column_int64(st, 5));
	if (with_report)
		cJSON_AddItemToObject(o, "report", col_json(st, 6));
	return o;
}

static cJSON *
run_row_brief(sqlite3_stmt *st)
{
	return run_row(st, 0);
}

int
store_replay_runs(struct store *s, cJSON **out, char **cause)
{
	*out = NULL;
	sqlite3_stmt *st = stmt(s, Q_RUNS, cause);
	return st ? collect(s, st, run_row_brief, out, cause) : -1;
}

int
store_replay_run(struct store *s, int64_t run, cJSON **out, char **cause)
{
	*out = NULL;
	sqlite3_stmt *st = stmt(s, Q_RUN_GET, cause);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = run_row(st, 1);
	else if (rc != SQLITE_DONE)
		*cause = db_cause(s->db, "read");
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
store_replay_each(struct store *s, int64_t run, int (*fn)(const cJSON *result, void *arg),
                  void *arg, char **cause)
{
	/* Its own statement: fn may read the store meanwhile. */
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, queries[Q_RESULTS], -1, &st, NULL) != SQLITE_OK) {
		*cause = db_cause(s->db, "prepare");
		return -1;
	}
	sqlite3_bind_int64(st, 1, run);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *r = cJSON_Parse(col_text(st, 0));
		if (r != NULL)
			stop = fn(r, arg);
		cJSON_Delete(r);
	}
	if (!stop && rc != SQLITE_DONE)
		*cause = db_cause(s->db, "read");
	sqlite3_finalize(st);
	return stop || rc == SQLITE_DONE ? 0 : -1;
}

/* ------------------------------------------------------ trainer reviews */

int
store_review_add(struct store *s, int64_t handoff, const char *reviewer, const cJSON *correction,
                 int64_t *id, char **cause)
{
	char now[64];
	if (!cJSON_IsObject(correction)) {
		*cause = xstrdup("review: the correction is not a JSON object");
		return -1;
	}
	if (tx_check(s, cause) != 0)
		return -1;
	sqlite3_stmt *st = stmt(s, Q_REVIEW_ADD, cause);
	if (st == NULL)
		return -1;
	now_iso(now);
	sqlite3_bind_int64(st, 1, handoff);
	bind_text_or_null(st, 2, reviewer);
	char *json = bind_json(st, 3, correction);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	int rc = step_done(s, st, "review", cause);
	free(json);
	if (rc != 0 && (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_FOREIGNKEY)) {
		free(*cause);
		*cause = xasprintf("no handoff packet %lld", (long long)handoff);
	}
	if (rc == 0 && id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

static cJSON *
review_row(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
	cJSON_AddNumberToObject(o, "handoff", (double)sqlite3_column_int64(st, 1));
	cJSON_AddNumberToObject(o, "conversation", (double)sqlite3_column_int64(st, 2));
	if (sqlite3_column_type(st, 3) == SQLITE_NULL)
		cJSON_AddNullToObject(o, "reviewer");
	else
		cJSON_AddStringToObject(o, "reviewer", col_text(st, 3));
	cJSON_AddStringToObject(o, "created", col_text(st, 4));
	cJSON_AddItemToObject(o, "correction", col_json(st, 5));
	return o;
}

int
store_reviews(struct store *s, cJSON **out, char **cause)
{
	*out = NULL;
	sqlite3_stmt *st = stmt(s, Q_REVIEWS, cause);
	return st ? collect(s, st, review_row, out, cause) : -1;
}

/* ------------------------------------------------- rollout and canary */

static int
rollout_kind_ok(const char *kind, char **cause)
{
	if (kind != NULL && (strcmp(kind, "rollout") == 0 || strcmp(kind, "canary") == 0))
		return 0;
	*cause = xasprintf("the log is 'rollout' or 'canary', not '%s'", kind ? kind : "(null)");
	return -1;
}

int
store_rollout_add(struct store *s, const char *kind, const char *action, const cJSON *state,
                  const char *actor, const char *reason, char **cause)
{
	char now[64];
	if (rollout_kind_ok(kind, cause) != 0)
		return -1;
	if (action == NULL || *action == '\0' || !cJSON_IsObject(state)) {
		*cause = xasprintf("%s: an entry needs an action and a state object", kind);
		return -1;
	}
	if (tx_check(s, cause) != 0)
		return -1;
	sqlite3_stmt *st = stmt(s, Q_ROLLOUT_ADD, cause);
	if (st == NULL)
		return -1;
	now_iso(now);
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, action, -1, SQLITE_STATIC);
	char *json = bind_json(st, 3, state);
	bind_text_or_null(st, 4, actor);
	bind_text_or_null(st, 5, reason);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
	int rc = step_done(s, st, kind, cause);
	free(json);
	return rc;
}

static cJSON *
rollout_row(sqlite3_stmt *st)
{
	static const char *const names[] = {"action", NULL, "actor", "reason", "at"};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
	for (int i = 0; i < (int)nitems(names); i++) {
		if (names[i] == NULL)
			cJSON_AddItemToObject(o, "state", col_json(st, i + 1));
		else if (sqlite3_column_type(st, i + 1) == SQLITE_NULL)
			cJSON_AddNullToObject(o, names[i]);
		else
			cJSON_AddStringToObject(o, names[i], col_text(st, i + 1));
	}
	return o;
}

int
store_rollout_log(struct store *s, const char *kind, cJSON **out, char **cause)
{
	*out = NULL;
	if (rollout_kind_ok(kind, cause) != 0)
		return -1;
	sqlite3_stmt *st = stmt(s, Q_ROLLOUT_LOG, cause);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	return collect(s, st, rollout_row, out, cause);
}

int
store_rollout_state(struct store *s, const char *kind, cJSON **out, char **cause)
{
	cJSON *log;
	*out = NULL;
	if (store_rollout_log(s, kind, &log, cause) != 0)
		return -1;
	cJSON *latest = cJSON_GetArrayItem(log, 0);
	if (latest != NULL)
		*out = cJSON_DetachItemFromObject(latest, "state");
	cJSON_Delete(log);
	return 0;
}
