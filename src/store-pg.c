/*
 * store-pg.c -- the store's PostgreSQL driver (libpq): one connection,
 * queries prepared on first use, NOTIFY at commit, LISTEN on request.
 * A connection found dead outside a transaction is made again once.
 */
#include "config.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-driver.h"
#include "util.h"

/* Type OIDs (catalog/pg_type.h is a server header). */
#define INT8OID 20
#define TEXTOID 25

/* Serialises migrating processes: pg_advisory_xact_lock's key ("frontlin"). */
#define MIGRATE_LOCK_KEY "7380955316566009966"

struct pg {
	PGconn *conn;
	unsigned char *prepared; /* by query number */
	int nprepared;
	struct strv channels; /* LISTENed, again after a reconnection */
	int tx;               /* inside a transaction: no reconnection */
	int migrating;        /* holds the migration lock until the transaction ends */
};

struct store_cur {
	struct store_common *sc;
	PGresult *res;
	int row, rows;
};

#define SC(s) ((struct store_common *)(s))
#define PG(s) ((struct pg *)SC(s)->db)

static void
quiet(void *arg, const char *message)
{
	/* NOTICEs ("relation already exists, skipping") are not the user's business. */
}

/* The first line of a libpq message, "what: message"; caller frees. */
static char *
pg_message(const char *what, const char *msg)
{
	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	if (strncmp(msg, "ERROR:  ", 8) == 0)
		msg += 8;
	size_t len = strcspn(msg, "\n");
	return xasprintf("%s%s%.*s", what ? what : "", what ? ": " : "", (int)len, msg);
}

static char *
conn_cause(PGconn *conn, const char *what)
{
	if (PQstatus(conn) == CONNECTION_BAD) {
		char *m = pg_message(NULL, PQerrorMessage(conn));
		char *c = xasprintf("%s%sthe connection to PostgreSQL was lost (%s)",
		                    what ? what : "", what ? ": " : "", m);
		free(m);
		return c;
	}
	return pg_message(what, PQerrorMessage(conn));
}

static char *
result_cause(PGconn *conn, PGresult *res, const char *what)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (primary == NULL || PQstatus(conn) == CONNECTION_BAD)
		return conn_cause(conn, what);
	return pg_message(what, primary);
}

static enum store_err
result_err(PGconn *conn, PGresult *res)
{
	if (PQstatus(conn) == CONNECTION_BAD)
		return STORE_ERR_CONNECTION;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state == NULL)
		return STORE_ERR_OTHER;
	if (strcmp(state, "23503") == 0)
		return STORE_ERR_FOREIGN_KEY;
	if (strcmp(state, "23505") == 0)
		return STORE_ERR_UNIQUE;
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		return STORE_ERR_CONNECTION;
	return STORE_ERR_OTHER;
}

/*
 * Once the connection is lost outside a transaction, connects again (the
 * server restarted, an idle connection was cut): prepared statements and
 * subscriptions are made again. Returns 0 when the connection is usable.
 */
static int
revive(struct store *s, const char *what, char **cause)
{
	struct pg *pg = PG(s);
	if (PQstatus(pg->conn) == CONNECTION_OK)
		return 0;
	if (pg->tx) {
		*cause = conn_cause(pg->conn, what);
		SC(s)->err = STORE_ERR_CONNECTION;
		return -1;
	}
	PQreset(pg->conn);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		*cause = conn_cause(pg->conn, what);
		SC(s)->err = STORE_ERR_CONNECTION;
		return -1;
	}
	memset(pg->prepared, 0, (size_t)pg->nprepared);
	for (size_t i = 0; i < pg->channels.n; i++) {
		char *sql = xasprintf("LISTEN %s", pg->channels.v[i]);
		PGresult *res = PQexec(pg->conn, sql);
		free(sql);
		int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!ok)
			*cause = result_cause(pg->conn, res, what);
		PQclear(res);
		if (!ok)
			return -1;
	}
	return 0;
}

static int
pg_exec(struct store *s, const char *sql, const char *what, char **cause)
{
	struct pg *pg = PG(s);
	for (int attempt = 0;; attempt++) {
		if (revive(s, what, cause) != 0)
			return -1;
		PGresult *res = PQexec(pg->conn, sql);
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			PQclear(res);
			return 0;
		}
		int retry = attempt == 0 && !pg->tx && PQstatus(pg->conn) == CONNECTION_BAD;
		if (!retry) {
			*cause = result_cause(pg->conn, res, what);
			SC(s)->err = result_err(pg->conn, res);
		}
		PQclear(res);
		if (!retry)
			return -1;
	}
}

static int
pg_open(struct store *s, const char *target, char **cause)
{
	struct pg *pg = xcalloc(1, sizeof *pg);
	SC(s)->db = pg;
	pg->conn = PQconnectdb(target);
	if (pg->conn == NULL) {
		*cause = xstrdup("cannot connect to PostgreSQL: out of memory");
		return -1;
	}
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		*cause = pg_message("cannot connect to PostgreSQL", PQerrorMessage(pg->conn));
		return -1;
	}
	PQsetNoticeProcessor(pg->conn, quiet, NULL);
	return 0;
}

static void
pg_close(struct store *s)
{
	struct pg *pg = PG(s);
	if (pg == NULL)
		return;
	PQfinish(pg->conn);
	free(pg->prepared);
	strv_free(&pg->channels);
	free(pg);
	SC(s)->db = NULL;
}

/* Tokens replaced, ?N turned into $N (outside quoted text). */
static char *
pg_rewrite(const char *sql)
{
	static const char *const tokens[][2] = {
	    {"@NOW_MS@", "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"},
	    {"@SKIP_LOCKED@", "FOR UPDATE SKIP LOCKED"},
	    {"@FOR_UPDATE@", "FOR UPDATE"},
	    {"@BINARY@", "COLLATE \"C\""},
	    {"@INSTR@", "strpos"},
	    {"INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
	    {"INTEGER", "BIGINT"},
	};
	char *t = store_sql_tokens(sql, tokens, nitems(tokens));
	char quote = 0;
	for (char *p = t; *p != '\0'; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"')
			quote = *p;
		else if (*p == '?' && p[1] >= '0' && p[1] <= '9')
			*p = '$';
	}
	return t;
}

static struct store_cur *
pg_run(struct store *s, int q, const char *sql, const struct sv *p, int n, const char *what,
       char **cause)
{
	struct pg *pg = PG(s);
	const char **values = xcalloc((size_t)n + 1, sizeof *values);
	Oid *types = xcalloc((size_t)n + 1, sizeof *types);
	char(*ints)[24] = xcalloc((size_t)n + 1, sizeof *ints);
	PGresult *res = NULL;
	char name[32];
	snprintf(name, sizeof name, "q%d", q);
	for (int i = 0; i < n; i++) {
		if (p[i].type == SV_INT) {
			snprintf(ints[i], sizeof ints[i], "%lld", (long long)p[i].i);
			values[i] = ints[i];
			types[i] = INT8OID;
		} else if (p[i].type == SV_TEXT) {
			values[i] = p[i].s;
			types[i] = TEXTOID;
		}
	}
	for (int attempt = 0;; attempt++) {
		if (revive(s, what, cause) != 0)
			goto fail;
		if (q >= 0 && (q >= pg->nprepared || !pg->prepared[q])) {
			if (q >= pg->nprepared) {
				pg->prepared = xrealloc(pg->prepared, (size_t)q + 1);
				memset(pg->prepared + pg->nprepared, 0,
				       (size_t)(q + 1 - pg->nprepared));
				pg->nprepared = q + 1;
			}
			res = PQprepare(pg->conn, name, sql, n, types);
			if (PQresultStatus(res) == PGRES_COMMAND_OK)
				pg->prepared[q] = 1;
			else
				goto failed;
			PQclear(res);
		}
		if (q >= 0)
			res = PQexecPrepared(pg->conn, name, n, values, NULL, NULL, 0);
		else
			res = PQexecParams(pg->conn, sql, n, types, values, NULL, NULL, 0);
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
			break;
	failed:
		if (attempt == 0 && !pg->tx && PQstatus(pg->conn) == CONNECTION_BAD) {
			PQclear(res);
			res = NULL;
			continue;
		}
		*cause = result_cause(pg->conn, res, what);
		SC(s)->err = result_err(pg->conn, res);
		PQclear(res);
		goto fail;
	}
	free(values);
	free(types);
	free(ints);
	struct store_cur *c = xcalloc(1, sizeof *c);
	c->sc = SC(s);
	c->res = res;
	c->row = -1;
	c->rows = PQntuples(res);
	return c;
fail:
	free(values);
	free(types);
	free(ints);
	return NULL;
}

static int
pg_step(struct store_cur *c, char **cause)
{
	return ++c->row < c->rows ? 1 : 0;
}

static const char *
pg_text(struct store_cur *c, int col)
{
	if (c->row < 0 || c->row >= c->rows || PQgetisnull(c->res, c->row, col))
		return NULL;
	return PQgetvalue(c->res, c->row, col);
}

static int64_t
pg_integer(struct store_cur *c, int col)
{
	const char *t = pg_text(c, col);
	return t ? strtoll(t, NULL, 10) : 0;
}

static int64_t
pg_changes(struct store_cur *c)
{
	return strtoll(PQcmdTuples(c->res), NULL, 10);
}

static void
pg_end(struct store_cur *c)
{
	if (c == NULL)
		return;
	PQclear(c->res);
	free(c);
}

static void
migrate_unlock(struct store *s)
{
	if (PG(s)->migrating)
		PQclear(PQexec(PG(s)->conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
	PG(s)->migrating = 0;
}

static int
pg_begin(struct store *s, char **cause)
{
	if (pg_exec(s, "BEGIN", "begin", cause) != 0)
		return -1;
	PG(s)->tx = 1;
	return 0;
}

static int
pg_begin_read(struct store *s, char **cause)
{
	if (pg_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin", cause) != 0)
		return -1;
	PG(s)->tx = 1;
	return 0;
}

static int
pg_commit(struct store *s, char **cause)
{
	struct pg *pg = PG(s);
	PGresult *res = PQexec(pg->conn, "COMMIT");
	pg->tx = 0;
	int rc = 0;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		*cause = result_cause(pg->conn, res, "commit");
		SC(s)->err = result_err(pg->conn, res);
		rc = -1;
	} else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		/* COMMIT of a failed transaction rolls it back without an error. */
		*cause = xstrdup("commit: the transaction was rolled back by an earlier error");
		rc = -1;
	}
	PQclear(res);
	if (rc != 0 && PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
		PQclear(PQexec(pg->conn, "ROLLBACK"));
	migrate_unlock(s);
	return rc;
}

static void
pg_rollback(struct store *s)
{
	struct pg *pg = PG(s);
	pg->tx = 0;
	PGTransactionStatusType t = PQtransactionStatus(pg->conn);
	if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR)
		PQclear(PQexec(pg->conn, "ROLLBACK"));
	migrate_unlock(s);
}

static int
pg_tx_failed(struct store *s)
{
	return PQtransactionStatus(PG(s)->conn) != PQTRANS_INTRANS;
}

/* One query's single value into *out (caller frees), or -1. */
static int
pg_value(struct store *s, const char *sql, char **out, char **cause)
{
	struct store_cur *c = pg_run(s, -1, sql, NULL, 0, NULL, cause);
	if (c == NULL)
		return -1;
	*out = c->rows > 0 && !PQgetisnull(c->res, 0, 0) ? xstrdup(PQgetvalue(c->res, 0, 0)) : NULL;
	pg_end(c);
	return 0;
}

/* The schema_version table holds the number of migrations applied. */
static int
pg_get_version(struct store *s, int *v, char **cause)
{
	char *t;
	*v = 0;
	if (pg_value(s, "SELECT to_regclass('schema_version') IS NOT NULL", &t, cause) != 0)
		return -1;
	int exists = t != NULL && strcmp(t, "t") == 0;
	free(t);
	if (!exists)
		return 0;
	if (pg_value(s, "SELECT MAX(version) FROM schema_version", &t, cause) != 0)
		return -1;
	*v = t ? atoi(t) : 0;
	free(t);
	return 0;
}

/*
 * A lock of the session, taken before the transaction: a transaction that
 * begins after another process's migration committed sees its tables (a
 * lock taken inside would not refresh the catalogue it reads).
 */
static int
pg_migrate_lock(struct store *s, char **cause)
{
	if (pg_exec(s, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", "migration", cause) != 0)
		return -1;
	PG(s)->migrating = 1;
	if (pg_begin(s, cause) != 0) {
		migrate_unlock(s);
		return -1;
	}
	return 0;
}

static int
pg_set_version(struct store *s, int v, char **cause)
{
	char what[64];
	snprintf(what, sizeof what, "migration to schema version %d", v);
	char *sql =
	    xasprintf("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
	              "DELETE FROM schema_version;"
	              "INSERT INTO schema_version (version) VALUES (%d)",
	              v);
	int rc = pg_exec(s, sql, what, cause);
	free(sql);
	return rc;
}

static int
pg_after_import(struct store *s, const char *table, char **cause)
{
	char *sql = xasprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'),"
	                      " COALESCE((SELECT MAX(id) FROM %s), 0) + 1, false)",
	                      table, table);
	int rc = pg_exec(s, sql, table, cause);
	free(sql);
	return rc;
}

static int
pg_notify(struct store *s, const char *channel, const char *payload, char **cause)
{
	struct store_cur *c =
	    pg_run(s, -1, "SELECT pg_notify($1, $2)",
	           (const struct sv[]){SV_STR(channel), SV_STR(payload)}, 2, "notify", cause);
	pg_end(c);
	return c ? 0 : -1;
}

static int
pg_listen(struct store *s, const char *channel, char **cause)
{
	/* A lost connection is made again first, with every LISTEN it had. */
	if (revive(s, "listen", cause) != 0)
		return -1;
	if (strv_contains(&PG(s)->channels, channel))
		return 0;
	char *sql = xasprintf("LISTEN %s", channel);
	int rc = pg_exec(s, sql, "listen", cause);
	free(sql);
	if (rc == 0)
		strv_add(&PG(s)->channels, channel);
	return rc;
}

static int
pg_notify_fd(struct store *s)
{
	return PQsocket(PG(s)->conn);
}

static int
pg_notifications(struct store *s,
                 void (*fn)(void *arg, const char *channel, const char *payload, int own),
                 void *arg, char **cause)
{
	PGconn *conn = PG(s)->conn;
	if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) {
		*cause = conn_cause(conn, "notifications");
		SC(s)->err = STORE_ERR_CONNECTION;
		return -1;
	}
	int count = 0, self = PQbackendPID(conn);
	PGnotify *n;
	while ((n = PQnotifies(conn)) != NULL) {
		if (fn != NULL)
			fn(arg, n->relname, n->extra, n->be_pid == self);
		PQfreemem(n);
		count++;
	}
	return count;
}

const struct store_driver store_pg_driver = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .rewrite = pg_rewrite,
    .exec = pg_exec,
    .run = pg_run,
    .step = pg_step,
    .text = pg_text,
    .integer = pg_integer,
    .changes = pg_changes,
    .end = pg_end,
    .begin = pg_begin,
    .begin_read = pg_begin_read,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .tx_failed = pg_tx_failed,
    .get_version = pg_get_version,
    .migrate_lock = pg_migrate_lock,
    .set_version = pg_set_version,
    .after_import = pg_after_import,
    .notify = pg_notify,
    .listen = pg_listen,
    .notify_fd = pg_notify_fd,
    .notifications = pg_notifications,
};
