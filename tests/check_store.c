/* check_store.c -- the durable store (src/store.c). */
#include "config.h"

#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "testutil.h"

/*
 * The suite runs on SQLite, or on PostgreSQL when FRONTLINE_TEST_PG names
 * a server (tests/store-pg.sh): then db is a fresh database per test, and
 * the SQLite-only cases (files, pragmas) are left out.
 */
static const char *pg_server; /* FRONTLINE_TEST_PG, or NULL */
static char *dir;
static char *db;      /* the store's target: a file, or a postgresql:// URI */
static char *pg_name; /* the test's database on the server */

static void
pg_quiet(void *arg, const char *message)
{
}

static PGconn *
pg_raw(const char *target)
{
	PGconn *c = PQconnectdb(target);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	PQsetNoticeProcessor(c, pg_quiet, NULL);
	return c;
}

/* Runs SQL on the server's maintenance database (creating or dropping ours). */
static void
pg_admin(const char *sql)
{
	PGconn *c = pg_raw(pg_server);
	PGresult *r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

static void
setup(void)
{
	dir = tmpdir_new();
	unsetenv("FRONTLINE_TODAY");
	if (pg_server == NULL) {
		db = xasprintf("%s/frontline.db", dir);
		return;
	}
	pg_name = xasprintf("fl_store_%ld", (long)getpid());
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s", pg_name);
	pg_admin(sql);
	free(sql);
	sql = xasprintf("CREATE DATABASE %s", pg_name);
	pg_admin(sql);
	free(sql);
	const char *slash = strrchr(pg_server, '/');
	db = xasprintf("%.*s/%s", (int)(slash - pg_server), pg_server, pg_name);
}

static void
teardown(void)
{
	if (pg_server != NULL) {
		char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_name);
		pg_admin(sql);
		free(sql);
		free(pg_name);
	}
	rm_rf(dir);
	free(dir);
	free(db);
}

static struct store *
open_ok(const char *path)
{
	char *cause = NULL;
	struct store *s = store_open(path, &cause);
	ck_assert_msg(s != NULL, "store_open %s: %s", path, cause);
	return s;
}

/* Runs SQL on the database directly, outside the store. */
static void
raw_exec(const char *path, const char *sql)
{
	if (store_is_postgres(path)) {
		PGconn *c = pg_raw(path);
		PGresult *r = PQexec(c, sql);
		ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK ||
		                  PQresultStatus(r) == PGRES_TUPLES_OK,
		              "%s: %s", sql, PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		return;
	}
	sqlite3 *h;
	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	char *err = NULL;
	ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, &err) == SQLITE_OK, "%s: %s", sql, err);
	sqlite3_close(h);
}

/* The first column of the first row of a query, as text (caller frees), or NULL. */
static char *
raw_text(const char *path, const char *sql)
{
	char *v = NULL;
	if (store_is_postgres(path)) {
		PGconn *c = pg_raw(path);
		PGresult *r = PQexec(c, sql);
		ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
		              PQerrorMessage(c));
		if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
			v = xstrdup(PQgetvalue(r, 0, 0));
		PQclear(r);
		PQfinish(c);
		return v;
	}
	sqlite3 *h;
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(h));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static long
raw_int(const char *path, const char *sql)
{
	char *t = raw_text(path, sql);
	ck_assert_msg(t != NULL, "no row for %s", sql);
	long v = atol(t);
	free(t);
	return v;
}

static void
assert_text(const char *path, const char *sql, const char *want)
{
	char *got = raw_text(path, sql);
	if (want == NULL)
		ck_assert_msg(got == NULL, "%s: got '%s', want NULL", sql, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, want) == 0, "%s: got '%s', want '%s'", sql,
		              got ? got : "(null)", want);
	free(got);
}

/* Opening must fail; returns the cause (caller frees). */
static char *
open_fails(const char *path)
{
	char *cause = NULL;
	struct store *s = store_open(path, &cause);
	ck_assert_msg(s == NULL, "store_open %s succeeded", path);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(*cause != '\0', "empty cause");
	return cause;
}

static const char *
str(const cJSON *o, const char *key)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
	ck_assert_msg(v != NULL, "no string '%s'", key);
	return v;
}

static double
num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);
	ck_assert_msg(cJSON_IsNumber(v), "no number '%s'", key);
	return v->valuedouble;
}

/* An ISO-8601 UTC time as the store writes it. */
static void
assert_iso(const char *t)
{
	ck_assert_msg(strlen(t) == 24 && t[4] == '-' && t[7] == '-' && t[10] == 'T' &&
	                  t[13] == ':' && t[16] == ':' && t[19] == '.' && t[23] == 'Z',
	              "not an ISO-8601 UTC time: '%s'", t);
	long days;
	char date[11];
	memcpy(date, t, 10);
	date[10] = '\0';
	ck_assert_int_eq(date_parse(date, &days), 0);
}

/* ------------------------------------------------------- open, migrate */

/* store_replay_each's callback: the results' ids into a strv. */
static int
collect_ids(const cJSON *result, void *arg)
{
	strv_add((struct strv *)arg, cJSON_GetStringValue(cJSON_GetObjectItem(result, "id")));
	return 0;
}

START_TEST(create_and_reopen)
{
	struct store *s = open_ok(db);
	int64_t conv;
	int created;
	char *cause = NULL;
	ck_assert_int_eq(store_conversation_open(s, "ann", &conv, &created, &cause), 0);
	ck_assert_int_eq(created, 1);
	ck_assert_int_gt(conv, 0);
	ck_assert_int_eq(store_message_add(s, conv, "customer", "hello", NULL, &cause), 0);
	store_close(s);

	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 6);
	assert_text(db, "PRAGMA journal_mode", "wal");
	for (const char *const *t = (const char *const[]){"customers", "conversations", "messages",
	                                                  "events", "handoffs", NULL};
	     *t != NULL; t++) {
		char *sql = xasprintf("SELECT name FROM sqlite_master WHERE name = '%s'", *t);
		assert_text(db, sql, *t);
		free(sql);
	}
	assert_text(db,
	            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql LIKE "
	            "'%conversation_id%'",
	            "3");

	/* Reopening keeps everything and migrates nothing. */
	s = open_ok(db);
	int64_t again;
	ck_assert_int_eq(store_conversation_open(s, "ann", &again, &created, &cause), 0);
	ck_assert_int_eq(created, 0);
	ck_assert_int_eq(again, conv);
	cJSON *m;
	ck_assert_int_eq(store_messages(s, conv, &m, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(m), 1);
	ck_assert_str_eq(str(cJSON_GetArrayItem(m, 0), "text"), "hello");
	cJSON_Delete(m);
	store_close(s);
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 6);
}
END_TEST

START_TEST(migrates_an_empty_database)
{
	/* A database from before the store's first version: user_version 0. */
	raw_exec(db, "CREATE TABLE unrelated(x); INSERT INTO unrelated VALUES (42);");
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 0);
	struct store *s = open_ok(db);
	store_close(s);
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 6);
	ck_assert_int_eq(raw_int(db, "SELECT x FROM unrelated"), 42);
	assert_text(db, "SELECT name FROM sqlite_master WHERE name = 'handoffs'", "handoffs");
}
END_TEST

START_TEST(a_failed_migration_changes_nothing)
{
	/* A table in the way makes migration 1 fail halfway: all of it is undone. */
	raw_exec(db, "CREATE TABLE messages(x);");
	char *cause = open_fails(db);
	ck_assert_msg(strstr(cause, "schema version 1") && strstr(cause, "messages") &&
	                  strstr(cause, "already exists"),
	              "%s", cause);
	free(cause);
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 0);
	assert_text(db, "SELECT name FROM sqlite_master WHERE name = 'customers'", NULL);

	/* Once it is out of the way, the migration goes through. */
	raw_exec(db, "DROP TABLE messages;");
	store_close(open_ok(db));
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 6);
}
END_TEST

START_TEST(a_version_1_store_gains_the_handler)
{
	/* A store written by the first release: open conversations become the AI's. */
	struct store *s = open_ok(db);
	store_close(s);
	raw_exec(db,
	         "ALTER TABLE conversations DROP COLUMN ending;"
	         "DROP INDEX conversations_pending;"
	         "ALTER TABLE conversations DROP COLUMN last_customer;"
	         "ALTER TABLE conversations DROP COLUMN answered;"
	         "ALTER TABLE conversations DROP COLUMN lease_owner;"
	         "ALTER TABLE conversations DROP COLUMN lease_until;"
	         "DROP TABLE replay_results; DROP TABLE replay_runs; DROP TABLE reviews;"
	         "DROP TABLE rollout_log;"
	         "DROP INDEX conversations_open; ALTER TABLE conversations DROP COLUMN owner;"
	         "ALTER TABLE conversations DROP COLUMN handler; PRAGMA user_version = 1;"
	         "CREATE UNIQUE INDEX conversations_open ON conversations(customer_id)"
	         " WHERE state = 'open';"
	         "INSERT INTO customers (id, created) VALUES ('old', '2026-01-01');"
	         "INSERT INTO conversations (customer_id, created) VALUES ('old', '2026-01-01');");
	s = open_ok(db);
	cJSON *l;
	char *cause = NULL;
	ck_assert_int_eq(store_conversation_list(s, NULL, &l, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(l), 1);
	ck_assert_str_eq(str(cJSON_GetArrayItem(l, 0), "handler"), "ai");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "owner")));
	cJSON_Delete(l);
	store_close(s);
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 6);
}
END_TEST

START_TEST(handler_and_list)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t a, b;
	ck_assert_int_eq(store_customer_put(s, "ann", "Ann Lee", NULL, TIER_PREMIUM, &cause), 0);
	ck_assert_int_eq(store_conversation_open(s, "ann", &a, NULL, &cause), 0);
	ck_assert_int_eq(store_conversation_open(s, "bob", &b, NULL, &cause), 0);

	ck_assert_int_eq(store_conversation_handler(s, a, "waiting", NULL, &cause), 0);
	ck_assert_int_eq(store_conversation_handler(s, a, "human", "sam", &cause), 0);
	ck_assert_int_eq(store_conversation_handler(s, a, "boss", NULL, &cause), -1);
	ck_assert_msg(strstr(cause, "'boss'"), "%s", cause);
	free(cause);
	cause = NULL;

	cJSON *l;
	ck_assert_int_eq(store_conversation_list(s, NULL, &l, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(l), 2);
	cJSON *o = cJSON_GetArrayItem(l, 0);
	ck_assert_str_eq(str(o, "customer"), "ann");
	ck_assert_str_eq(str(o, "name"), "Ann Lee");
	ck_assert_str_eq(str(o, "tier"), "premium");
	ck_assert_str_eq(str(o, "state"), "open");
	ck_assert_str_eq(str(o, "handler"), "human");
	ck_assert_str_eq(str(o, "owner"), "sam");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 1), "name")));
	cJSON_Delete(l);

	/* Closed: gone from the open list, back with a bound before its closing. */
	ck_assert_int_eq(store_conversation_end(s, a, "resolved-human", NULL, &cause), 0);
	ck_assert_int_eq(store_conversation_handler(s, a, "ai", NULL, &cause), -1);
	ck_assert_msg(strstr(cause, "not open"), "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_conversation_list(s, NULL, &l, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(l), 1);
	ck_assert_str_eq(str(cJSON_GetArrayItem(l, 0), "customer"), "bob");
	cJSON_Delete(l);
	ck_assert_int_eq(store_conversation_list(s, "2000-01-01", &l, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(l), 2);
	ck_assert_str_eq(str(cJSON_GetArrayItem(l, 0), "state"), "resolved");
	cJSON_Delete(l);
	ck_assert_int_eq(store_conversation_list(s, "9999-01-01", &l, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(l), 1);
	cJSON_Delete(l);
	store_close(s);
}
END_TEST

START_TEST(refuses_a_newer_schema)
{
	store_close(open_ok(db));
	raw_exec(db, "PRAGMA user_version = 99;");
	char *cause = open_fails(db);
	ck_assert_msg(strstr(cause, "99") && strstr(cause, "newer"), "%s", cause);
	free(cause);
	/* Refused, not touched. */
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 99);
}
END_TEST

START_TEST(refuses_a_file_that_is_not_a_database)
{
	free(tmpfile_with(dir, "frontline.db", "this is not SQLite, just some text in a file\n"));
	char *cause = open_fails(db);
	ck_assert_msg(strstr(cause, "not a database"), "%s", cause);
	free(cause);
}
END_TEST

START_TEST(a_missing_directory_gives_a_cause)
{
	char *path = xasprintf("%s/no/such/dir/frontline.db", dir);
	char *cause = open_fails(path);
	ck_assert_msg(strstr(cause, "no/such/dir") && strstr(cause, "No such file"), "%s", cause);
	free(cause);
	free(path);
}
END_TEST

START_TEST(a_file_in_place_of_the_directory_gives_a_cause)
{
	free(tmpfile_with(dir, "plain", "x\n"));
	char *path = xasprintf("%s/plain/frontline.db", dir);
	char *cause = open_fails(path);
	ck_assert_msg(strstr(cause, "plain") && strstr(cause, "Not a directory"), "%s", cause);
	free(cause);
	free(path);
}
END_TEST

START_TEST(a_read_only_directory_gives_a_cause)
{
	char *ro = xasprintf("%s/ro", dir);
	ck_assert_int_eq(mkdir(ro, 0555), 0);
	char *path = xasprintf("%s/frontline.db", ro);
	if (access(ro, W_OK) == 0) {
		/* root writes anywhere: a read-only file system will do. */
		free(path);
		path = xstrdup("/proc/frontline.db");
	}
	char *cause = open_fails(path);
	ck_assert_msg(strstr(cause, "unable to open"), "%s", cause);
	if (strncmp(path, "/proc/", 6) != 0)
		ck_assert_msg(strstr(cause, "not writable"), "%s", cause);
	free(cause);
	free(path);
	chmod(ro, 0700);
	free(ro);
}
END_TEST

START_TEST(a_read_only_database_file_gives_a_cause)
{
	store_close(open_ok(db));
	ck_assert_int_eq(chmod(db, 0444), 0);
	if (access(db, W_OK) == 0)
		return; /* root */
	char *cause = open_fails(db);
	ck_assert_msg(strstr(cause, "read-only"), "%s", cause);
	free(cause);
}
END_TEST

/* Several processes opening one new store at once: one migrates, all work. */
START_TEST(processes_can_share_a_new_store)
{
	enum { NPROC = 4, NMSG = 25 };
	pid_t pids[NPROC];
	for (int p = 0; p < NPROC; p++) {
		if ((pids[p] = fork()) == 0) {
			char *cause = NULL, who[16];
			struct store *s = store_open(db, &cause);
			if (s == NULL) {
				fprintf(stderr, "child %d: %s\n", p, cause);
				_exit(1);
			}
			int64_t conv;
			snprintf(who, sizeof who, "c%d", p);
			if (store_conversation_open(s, who, &conv, NULL, &cause) != 0) {
				fprintf(stderr, "child %d: %s\n", p, cause);
				_exit(2);
			}
			for (int i = 0; i < NMSG; i++) {
				if (store_begin(s, &cause) != 0 ||
				    store_message_add(s, conv, "customer", who, NULL, &cause) !=
				        0 ||
				    store_event_add(s, conv, "n", NULL, &cause) != 0 ||
				    store_commit(s, &cause) != 0) {
					fprintf(stderr, "child %d: %s\n", p, cause);
					_exit(3);
				}
			}
			store_close(s);
			_exit(0);
		}
		ck_assert_int_gt(pids[p], 0);
	}
	for (int p = 0; p < NPROC; p++) {
		int status;
		ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		              "child %d failed (status %d)", p, status);
	}
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM messages"), NPROC * NMSG);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM events"), NPROC * NMSG);
	ck_assert_int_eq(raw_int(db, "SELECT count(DISTINCT conversation_id) FROM messages"),
	                 NPROC);
}
END_TEST

/* ------------------------------------------------------------ customers */

START_TEST(customer_put_keeps_what_is_not_given)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	ck_assert_int_eq(
	    store_customer_put(s, "ann", "Ann Lee", "ann@example.com", TIER_PREMIUM, &cause), 0);
	assert_text(db, "SELECT name || '|' || email || '|' || tier FROM customers WHERE id='ann'",
	            "Ann Lee|ann@example.com|premium");
	char *created = raw_text(db, "SELECT created FROM customers WHERE id='ann'");
	assert_iso(created);

	/* NULL name keeps the name; a new email replaces the old one. */
	ck_assert_int_eq(
	    store_customer_put(s, "ann", NULL, "lee@example.com", TIER_ENTERPRISE, &cause), 0);
	assert_text(db, "SELECT name || '|' || email || '|' || tier FROM customers WHERE id='ann'",
	            "Ann Lee|lee@example.com|enterprise");
	/* A tier outside the enum keeps the tier. */
	ck_assert_int_eq(store_customer_put(s, "ann", NULL, NULL, TIER__N, &cause), 0);
	assert_text(db, "SELECT name || '|' || email || '|' || tier FROM customers WHERE id='ann'",
	            "Ann Lee|lee@example.com|enterprise");
	/* created is when the customer was first seen. */
	assert_text(db, "SELECT created FROM customers WHERE id='ann'", created);
	free(created);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM customers"), 1);

	/* A new customer with only an id gets the defaults. */
	ck_assert_int_eq(store_customer_put(s, "bob", NULL, NULL, TIER__N, &cause), 0);
	assert_text(db, "SELECT tier FROM customers WHERE id='bob'", "standard");
	assert_text(db, "SELECT name FROM customers WHERE id='bob'", NULL);

	ck_assert_int_eq(store_customer_put(s, "", "x", NULL, TIER_STANDARD, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	store_close(s);
}
END_TEST

/* -------------------------------------------------------- conversations */

START_TEST(open_conversation_is_reused_until_closed)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t a, a2, b, a3;
	int created = -1;

	/* An unknown customer is created with the defaults. */
	ck_assert_int_eq(store_conversation_open(s, "carol", &a, &created, &cause), 0);
	ck_assert_int_eq(created, 1);
	ck_assert_int_gt(a, 0);
	assert_text(db, "SELECT tier FROM customers WHERE id='carol'", "standard");
	assert_text(db, "SELECT state FROM conversations", "open");

	ck_assert_int_eq(store_conversation_open(s, "carol", &a2, &created, &cause), 0);
	ck_assert_int_eq(created, 0);
	ck_assert_int_eq(a2, a);

	ck_assert_int_eq(store_conversation_open(s, "dave", &b, &created, &cause), 0);
	ck_assert_int_eq(created, 1);
	ck_assert_int_ne(b, a);

	/* The ending, its state, and the event with the evidence, in one transaction. */
	cJSON *ev = cJSON_Parse("{\"reason\":\"confirmed\",\"ending\":\"abandoned\"}");
	ck_assert_int_eq(store_conversation_end(s, a, "resolved-agent", ev, &cause), 0);
	cJSON_Delete(ev);
	char *sql = xasprintf("SELECT state || '|' || ending || '|' || CASE WHEN closed IS NOT NULL"
	                      " THEN 1 ELSE 0 END FROM conversations WHERE id = %lld",
	                      (long long)a);
	assert_text(db, sql, "resolved|resolved-agent|1");
	free(sql);
	/* The event says the ending first; the evidence cannot say another. */
	assert_text(db, "SELECT payload FROM events WHERE kind = 'ending'",
	            "{\"ending\":\"resolved-agent\",\"reason\":\"confirmed\"}");
	cJSON *row = NULL;
	ck_assert_int_eq(store_conversation_get(s, a, &row, &cause), 0);
	ck_assert_str_eq(str(row, "ending"), "resolved-agent");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(row, "claimed_by")));
	cJSON_Delete(row);

	/* Closed: the next message starts a new conversation. */
	ck_assert_int_eq(store_conversation_open(s, "carol", &a3, &created, &cause), 0);
	ck_assert_int_eq(created, 1);
	ck_assert_int_gt(a3, b);

	/* Closing twice, with a state's name, with no ending, what does not exist. */
	ck_assert_int_eq(store_conversation_end(s, a, "abandoned", NULL, &cause), -1);
	ck_assert_msg(strstr(cause, "already resolved"), "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_conversation_end(s, a3, "resolved", NULL, &cause), -1);
	ck_assert_msg(strstr(cause, "not 'resolved'"), "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_conversation_end(s, a3, NULL, NULL, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_conversation_end(s, 9999, "abandoned", NULL, &cause), -1);
	ck_assert_msg(strstr(cause, "no conversation 9999"), "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM events WHERE kind = 'ending'"), 1);
	/* Unconfirmed is not a resolution, even in the coarse state. */
	ck_assert_int_eq(store_conversation_end(s, a3, "unconfirmed", NULL, &cause), 0);
	ck_assert_int_eq(store_conversation_end(s, b, "resolved-human", NULL, &cause), 0);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM conversations WHERE state='open'"), 0);
	sql = xasprintf("SELECT state FROM conversations WHERE id = %lld", (long long)a3);
	assert_text(db, sql, "abandoned");
	free(sql);
	store_close(s);
}
END_TEST

/* ----------------------------------------------------------- round trip */

START_TEST(messages_round_trip_in_order)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t conv, other, ids[4];
	ck_assert_int_eq(store_conversation_open(s, "ann", &conv, NULL, &cause), 0);
	ck_assert_int_eq(store_conversation_open(s, "bob", &other, NULL, &cause), 0);
	static const char *const role[] = {"customer", "ai", "customer", "human"};
	static const char *const text[] = {
	    "Where is order A12345?", "It shipped yesterday \xe2\x80\x94 tracking follows.",
	    "It's 'late'; \"really\" late.\nSecond line.", "Hi, Sam here."};
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(store_message_add(s, conv, role[i], text[i], &ids[i], &cause), 0);
		if (i > 0)
			ck_assert_int_gt(ids[i], ids[i - 1]);
		/* Another conversation's messages in between stay apart. */
		ck_assert_int_eq(store_message_add(s, other, "customer", "noise", NULL, &cause), 0);
	}
	cJSON *m;
	ck_assert_int_eq(store_messages(s, conv, &m, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(m), 4);
	for (int i = 0; i < 4; i++) {
		const cJSON *o = cJSON_GetArrayItem(m, i);
		ck_assert_int_eq((int64_t)num(o, "id"), ids[i]);
		ck_assert_str_eq(str(o, "role"), role[i]);
		ck_assert_str_eq(str(o, "text"), text[i]);
		assert_iso(str(o, "at"));
	}
	cJSON_Delete(m);

	/* Unknown roles and conversations are refused with the database's word for it. */
	ck_assert_int_eq(store_message_add(s, conv, "robot", "x", NULL, &cause), -1);
	ck_assert_msg(str_casecontains(cause, "CHECK constraint"), "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_message_add(s, 12345, "ai", "x", NULL, &cause), -1);
	ck_assert_msg(str_casecontains(cause, "FOREIGN KEY"), "%s", cause);
	free(cause);
	cause = NULL;

	/* A conversation with nothing in it. */
	int64_t empty;
	ck_assert_int_eq(store_conversation_open(s, "eve", &empty, NULL, &cause), 0);
	ck_assert_int_eq(store_messages(s, empty, &m, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(m), 0);
	cJSON_Delete(m);
	store_close(s);
}
END_TEST

START_TEST(events_round_trip_in_order)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t conv;
	ck_assert_int_eq(store_conversation_open(s, "ann", &conv, NULL, &cause), 0);
	static const char *const kinds[] = {"triage", "retrieval", "tool", "outcome"};
	static const char *const payloads[] = {
	    "{\"intent_category\":\"shipping\",\"intent_confidence\":0.91,\"entities\":"
	    "{\"order_numbers\":[\"A12345\"]}}",
	    "[{\"id\":\"returns-window\",\"stale\":false}]", NULL, "\"resolved\""};
	for (int i = 0; i < 4; i++) {
		cJSON *p = payloads[i] ? cJSON_Parse(payloads[i]) : NULL;
		ck_assert_int_eq(store_event_add(s, conv, kinds[i], p, &cause), 0);
		cJSON_Delete(p);
	}
	cJSON *e;
	ck_assert_int_eq(store_events(s, conv, &e, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(e), 4);
	double last = 0;
	for (int i = 0; i < 4; i++) {
		const cJSON *o = cJSON_GetArrayItem(e, i);
		ck_assert(num(o, "id") > last);
		last = num(o, "id");
		ck_assert_str_eq(str(o, "kind"), kinds[i]);
		assert_iso(str(o, "at"));
		const cJSON *got = cJSON_GetObjectItem(o, "payload");
		if (payloads[i] == NULL)
			ck_assert(cJSON_IsNull(got));
		else {
			cJSON *want = cJSON_Parse(payloads[i]);
			ck_assert_msg(cJSON_Compare(got, want, 1), "payload %d differs", i);
			cJSON_Delete(want);
		}
	}
	cJSON_Delete(e);

	ck_assert_int_eq(store_event_add(s, conv, "", NULL, &cause), -1);
	free(cause);
	store_close(s);
}
END_TEST

START_TEST(handoffs_round_trip_newest_first)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t c1, c2, h1, h2;
	ck_assert_int_eq(store_conversation_open(s, "ann", &c1, NULL, &cause), 0);
	ck_assert_int_eq(store_conversation_open(s, "bob", &c2, NULL, &cause), 0);
	cJSON *p1 = cJSON_Parse("{\"reason\":\"legal-language\",\"queue\":\"human-queue-priority\","
	                        "\"customer\":{\"id\":\"ann\",\"tier\":\"premium\"},"
	                        "\"tried\":[\"order-status\"],\"text\":\"Summary\"}");
	cJSON *p2 = cJSON_Parse("{\"queue\":\"human-queue-standard\",\"text\":\"No reason\"}");
	ck_assert_int_eq(store_handoff_add(s, c1, p1, &h1, &cause), 0);
	ck_assert_int_eq(store_handoff_add(s, c2, p2, &h2, &cause), 0);
	ck_assert_int_gt(h1, 0);
	ck_assert_int_gt(h2, h1);

	cJSON *list;
	ck_assert_int_eq(store_handoff_list(s, &list, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(list), 2);
	const cJSON *o = cJSON_GetArrayItem(list, 0);
	ck_assert_int_eq((int64_t)num(o, "id"), h2);
	ck_assert_int_eq((int64_t)num(o, "conversation"), c2);
	ck_assert_str_eq(str(o, "customer"), "bob");
	assert_iso(str(o, "created"));
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "reason"));
	o = cJSON_GetArrayItem(list, 1);
	ck_assert_int_eq((int64_t)num(o, "id"), h1);
	ck_assert_int_eq((int64_t)num(o, "conversation"), c1);
	ck_assert_str_eq(str(o, "customer"), "ann");
	ck_assert_str_eq(str(o, "reason"), "legal-language");
	cJSON_Delete(list);

	/* The packet comes back as it went in, plus its id. */
	cJSON *got;
	ck_assert_int_eq(store_handoff_get(s, h1, &got, &cause), 0);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq((int64_t)num(got, "id"), h1);
	cJSON_DeleteItemFromObject(got, "id");
	ck_assert(cJSON_Compare(got, p1, 1));
	cJSON_Delete(got);

	ck_assert_int_eq(store_handoff_get(s, h2 + 100, &got, &cause), 0);
	ck_assert_ptr_null(got);

	ck_assert_int_eq(store_handoff_add(s, c1, cJSON_GetObjectItem(p1, "tried"), NULL, &cause),
	                 -1);
	free(cause);
	cJSON_Delete(p1);
	cJSON_Delete(p2);
	store_close(s);
}
END_TEST

START_TEST(an_empty_store_lists_nothing)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	cJSON *list;
	ck_assert_int_eq(store_handoff_list(s, &list, &cause), 0);
	ck_assert(cJSON_IsArray(list));
	ck_assert_int_eq(cJSON_GetArraySize(list), 0);
	cJSON_Delete(list);
	store_close(s);
}
END_TEST

START_TEST(times_follow_frontline_today)
{
	setenv("FRONTLINE_TODAY", "2030-01-02", 1);
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t conv;
	ck_assert_int_eq(store_conversation_open(s, "ann", &conv, NULL, &cause), 0);
	ck_assert_int_eq(store_message_add(s, conv, "customer", "hi", NULL, &cause), 0);
	cJSON *m;
	ck_assert_int_eq(store_messages(s, conv, &m, &cause), 0);
	const char *at = str(cJSON_GetArrayItem(m, 0), "at");
	assert_iso(at);
	ck_assert_msg(strncmp(at, "2030-01-02T", 11) == 0, "%s", at);
	cJSON_Delete(m);
	store_close(s);
	unsetenv("FRONTLINE_TODAY");
}
END_TEST

/* --------------------------------------------------------- transactions */

/* A turn: the customer's message, two events, the reply. */
static void
add_turn(struct store *s, int64_t conv, const char *msg, const char *reply)
{
	char *cause = NULL;
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "for", msg);
	ck_assert_int_eq(store_message_add(s, conv, "customer", msg, NULL, &cause), 0);
	ck_assert_int_eq(store_event_add(s, conv, "triage", p, &cause), 0);
	ck_assert_int_eq(store_event_add(s, conv, "retrieval", p, &cause), 0);
	ck_assert_int_eq(store_message_add(s, conv, "ai", reply, NULL, &cause), 0);
	cJSON_Delete(p);
}

static int
count(struct store *s, int64_t conv, int events)
{
	cJSON *a;
	char *cause = NULL;
	ck_assert_int_eq(
	    events ? store_events(s, conv, &a, &cause) : store_messages(s, conv, &a, &cause), 0);
	int n = cJSON_GetArraySize(a);
	cJSON_Delete(a);
	return n;
}

START_TEST(rollback_drops_a_turn)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t conv;
	ck_assert_int_eq(store_conversation_open(s, "ann", &conv, NULL, &cause), 0);

	ck_assert_int_eq(store_begin(s, &cause), 0);
	add_turn(s, conv, "m1", "r1");
	ck_assert_int_eq(store_commit(s, &cause), 0);

	ck_assert_int_eq(store_begin(s, &cause), 0);
	add_turn(s, conv, "m2", "r2");
	/* Inside the transaction the turn is visible to its own connection... */
	ck_assert_int_eq(count(s, conv, 0), 4);
	/* ...and to nobody else. */
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM messages"), 2);
	store_rollback(s);
	ck_assert_int_eq(count(s, conv, 0), 2);
	ck_assert_int_eq(count(s, conv, 1), 2);

	/* Rolling back with nothing open is harmless; commit without begin is an error. */
	store_rollback(s);
	ck_assert_int_eq(store_commit(s, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;

	/* begin does not nest. */
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_eq(store_begin(s, &cause), -1);
	free(cause);
	cause = NULL;
	add_turn(s, conv, "m3", "r3");
	ck_assert_int_eq(store_commit(s, &cause), 0);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM messages"), 4);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM events"), 4);

	/* A failing call inside a turn, then rollback: nothing of the turn is left. */
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_eq(store_message_add(s, conv, "customer", "m4", NULL, &cause), 0);
	ck_assert_int_eq(store_message_add(s, conv, "nobody", "r4", NULL, &cause), -1);
	free(cause);
	cause = NULL;
	store_rollback(s);
	ck_assert_int_eq(count(s, conv, 0), 4);

	/* A conversation opened inside a rolled-back turn is gone with it. */
	int64_t c2;
	int created;
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_eq(store_conversation_open(s, "zed", &c2, &created, &cause), 0);
	ck_assert_int_eq(created, 1);
	store_rollback(s);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM customers WHERE id='zed'"), 0);
	store_close(s);
}
END_TEST

START_TEST(an_uncommitted_turn_is_lost_on_close)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t conv;
	ck_assert_int_eq(store_conversation_open(s, "ann", &conv, NULL, &cause), 0);
	add_turn(s, conv, "m1", "r1"); /* autocommit: each add is durable */
	ck_assert_int_eq(store_begin(s, &cause), 0);
	add_turn(s, conv, "m2", "r2");
	store_close(s);

	s = open_ok(db);
	ck_assert_int_eq(count(s, conv, 0), 2);
	ck_assert_int_eq(count(s, conv, 1), 2);
	store_close(s);
}
END_TEST

START_TEST(each_add_commits_on_its_own_without_begin)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t conv;
	ck_assert_int_eq(store_conversation_open(s, "ann", &conv, NULL, &cause), 0);
	ck_assert_int_eq(store_message_add(s, conv, "customer", "one", NULL, &cause), 0);
	/* Another connection sees it at once. */
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM messages"), 1);
	ck_assert_int_eq(store_event_add(s, conv, "triage", NULL, &cause), 0);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM events"), 1);
	/* A failed add leaves the earlier ones alone. */
	ck_assert_int_eq(store_message_add(s, conv, "robot", "two", NULL, &cause), -1);
	free(cause);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM messages"), 1);
	store_close(s);
}
END_TEST

START_TEST(replay_runs_round_trip)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t run, other;
	ck_assert_int_eq(store_replay_begin(s, "tickets.jsonl", "abc123def456", &run, &cause), 0);
	for (int i = 0; i < 3; i++) {
		cJSON *r = cJSON_CreateObject();
		char id[16];
		snprintf(id, sizeof id, "T-%d", i);
		cJSON_AddStringToObject(r, "id", id);
		ck_assert_int_eq(store_replay_result(s, run, id, r, &cause), 0);
		cJSON_Delete(r);
	}
	cJSON *report = cJSON_Parse("{\"tickets\":3}");
	ck_assert_int_eq(store_replay_finish(s, run, 3, report, &cause), 0);
	cJSON_Delete(report);
	ck_assert_int_eq(store_replay_begin(s, "other.jsonl", "abc123def456", &other, &cause), 0);
	ck_assert_int_eq(store_replay_finish(s, 999, 0, NULL, &cause), -1);
	ck_assert_msg(strstr(cause, "no replay run 999") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	store_close(s);

	s = open_ok(db);
	cJSON *runs;
	ck_assert_int_eq(store_replay_runs(s, &runs, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(runs), 2);
	ck_assert_str_eq(str(cJSON_GetArrayItem(runs, 0), "source"), "other.jsonl");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 0), "finished")));
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 1), "tickets")->valueint, 3);
	cJSON_Delete(runs);

	cJSON *one;
	ck_assert_int_eq(store_replay_run(s, run, &one, &cause), 0);
	ck_assert_int_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(one, "report"), "tickets")->valueint, 3);
	cJSON_Delete(one);
	ck_assert_int_eq(store_replay_run(s, 0, &one, &cause), 0);
	ck_assert_str_eq(str(one, "source"), "other.jsonl");
	cJSON_Delete(one);
	ck_assert_int_eq(store_replay_run(s, 12345, &one, &cause), 0);
	ck_assert_ptr_null(one);

	struct strv seen = {0};
	ck_assert_int_eq(store_replay_each(s, run, collect_ids, &seen, &cause), 0);
	ck_assert_int_eq((int)seen.n, 3);
	ck_assert_str_eq(seen.v[0], "T-0");
	ck_assert_str_eq(seen.v[2], "T-2");
	strv_free(&seen);
	store_close(s);
}
END_TEST

START_TEST(reviews_round_trip)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t conv, h, r;
	ck_assert_int_eq(store_conversation_open(s, "ann", &conv, NULL, &cause), 0);
	cJSON *packet = cJSON_Parse("{\"reason\":\"low-confidence\"}");
	ck_assert_int_eq(store_handoff_add(s, conv, packet, &h, &cause), 0);
	cJSON_Delete(packet);
	cJSON *c = cJSON_Parse("{\"category\":\"billing\"}");
	ck_assert_int_eq(store_review_add(s, h, "tess", c, &r, &cause), 0);
	ck_assert_int_gt(r, 0);
	ck_assert_int_eq(store_review_add(s, h + 100, "tess", c, &r, &cause), -1);
	ck_assert_msg(strstr(cause, "no handoff packet") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	cJSON_Delete(c);

	cJSON *l;
	ck_assert_int_eq(store_reviews(s, &l, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(l), 1);
	cJSON *row = cJSON_GetArrayItem(l, 0);
	ck_assert_int_eq(cJSON_GetObjectItem(row, "conversation")->valueint, (int)conv);
	ck_assert_str_eq(str(row, "reviewer"), "tess");
	ck_assert_str_eq(str(cJSON_GetObjectItem(row, "correction"), "category"), "billing");
	cJSON_Delete(l);
	store_close(s);
}
END_TEST

START_TEST(rollout_log_keeps_the_newest_state)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	cJSON *st;
	ck_assert_int_eq(store_rollout_state(s, "rollout", &st, &cause), 0);
	ck_assert_ptr_null(st);
	cJSON *a = cJSON_Parse("{\"stage\":\"shadow\"}");
	cJSON *b = cJSON_Parse("{\"stage\":\"pilot\"}");
	ck_assert_int_eq(store_rollout_add(s, "rollout", "start", a, "ops", NULL, &cause), 0);
	ck_assert_int_eq(
	    store_rollout_add(s, "rollout", "advance", b, "ops", "gate passed", &cause), 0);
	ck_assert_int_eq(store_rollout_add(s, "canary", "start", a, NULL, NULL, &cause), 0);
	ck_assert_int_eq(store_rollout_add(s, "launch", "start", a, NULL, NULL, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_rollout_add(s, "rollout", "", a, NULL, NULL, &cause), -1);
	free(cause);
	cause = NULL;
	cJSON_Delete(a);
	cJSON_Delete(b);
	ck_assert_int_eq(store_rollout_state(s, "rollout", &st, &cause), 0);
	ck_assert_str_eq(str(st, "stage"), "pilot");
	cJSON_Delete(st);
	cJSON *log;
	ck_assert_int_eq(store_rollout_log(s, "rollout", &log, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(log), 2);
	ck_assert_str_eq(str(cJSON_GetArrayItem(log, 0), "reason"), "gate passed");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 1), "reason")));
	cJSON_Delete(log);
	store_close(s);
}
END_TEST

/* ------------------------------------------------ work queue, takeover */

/* A conversation for customer who with n customer messages; the last one's id in *last. */
static int64_t
conv_with(struct store *s, const char *who, int n, int64_t *last)
{
	char *cause = NULL;
	int64_t conv, id = 0;
	ck_assert_msg(store_conversation_open(s, who, &conv, NULL, &cause) == 0, "%s", cause);
	for (int i = 0; i < n; i++)
		ck_assert_msg(store_message_add(s, conv, "customer", "help", &id, &cause) == 0,
		              "%s", cause);
	if (last != NULL)
		*last = id;
	return conv;
}

static int
claim(struct store *s, const char *worker, int lease_ms, int64_t conv, struct store_claim *c)
{
	char *cause = NULL;
	int rc = store_claim(s, worker, lease_ms, conv, c, &cause);
	ck_assert_msg(rc >= 0, "claim: %s", cause);
	return rc;
}

/* Claims for worker until it gets one (an expired lease), within a generous bound. */
static void
claim_eventually(struct store *s, const char *worker, int64_t conv, struct store_claim *c)
{
	for (int i = 0; i < 3000; i++) {
		if (claim(s, worker, 60000, conv, c) == 1)
			return;
		nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
	}
	ck_abort_msg("conversation %lld was never claimed by %s", (long long)conv, worker);
}

/* Stores an AI turn for a claim: finish, the reply, commit. Returns finish's result. */
static int
answer(struct store *s, const char *worker, const struct store_claim *c, const char **handler)
{
	char *cause = NULL;
	const char *h = NULL;
	ck_assert_msg(store_begin(s, &cause) == 0, "%s", cause);
	int rc = store_claim_finish(s, c->conv, worker, c->upto, &h, &cause);
	ck_assert_msg(rc >= 0, "finish: %s", cause);
	if (rc == 1) {
		store_rollback(s);
		return 1;
	}
	if (strcmp(h, "ai") == 0)
		ck_assert_msg(store_message_add(s, c->conv, "ai", "answer", NULL, &cause) == 0,
		              "%s", cause);
	ck_assert_msg(store_commit(s, &cause) == 0, "%s", cause);
	if (handler != NULL)
		*handler = h;
	return 0;
}

START_TEST(customer_messages_make_work)
{
	struct store *s = open_ok(db);
	struct store_claim c;
	int64_t last, first;
	ck_assert_str_eq(store_backend(s), pg_server ? "postgresql" : "sqlite");
	ck_assert_int_eq(claim(s, "w1", 60000, 0, &c), 0);
	int64_t conv = conv_with(s, "ann", 1, &first);
	conv_with(s, "ann", 1, &last);
	/* A reply is not work. */
	char *cause = NULL;
	ck_assert_int_eq(store_message_add(s, conv, "human", "hi", NULL, &cause), 0);
	ck_assert_int_eq(claim(s, "w1", 60000, 0, &c), 1);
	ck_assert_int_eq(c.conv, conv);
	ck_assert_int_eq(c.answered, 0);
	ck_assert_int_eq(c.upto, last);

	cJSON *m;
	ck_assert_int_eq(store_messages_after(s, conv, first, &m, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(m), 2);
	ck_assert_int_eq((int64_t)num(cJSON_GetArrayItem(m, 0), "id"), last);
	ck_assert_str_eq(str(cJSON_GetArrayItem(m, 1), "role"), "human");
	cJSON_Delete(m);
	ck_assert_int_eq(store_messages_after(s, conv, 0, &m, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(m), 3);
	cJSON_Delete(m);

	/* Answered up to the claim: nothing left. */
	ck_assert_int_eq(answer(s, "w1", &c, NULL), 0);
	ck_assert_int_eq(claim(s, "w2", 60000, 0, &c), 0);
	ck_assert_int_eq(claim(s, "w2", 60000, conv, &c), 0);
	/* The next message is new work, after what was answered. */
	conv_with(s, "ann", 1, &last);
	ck_assert_int_eq(claim(s, "w2", 60000, conv, &c), 1);
	ck_assert_int_eq(c.answered, first + 1);
	ck_assert_int_eq(c.upto, last);
	store_close(s);
}
END_TEST

START_TEST(a_live_claim_is_exclusive)
{
	struct store *s = open_ok(db);
	struct store_claim c, d;
	char *cause = NULL;
	int64_t a = conv_with(s, "ann", 1, NULL);
	ck_assert_int_eq(claim(s, "w1", 60000, a, &c), 1);
	ck_assert_int_eq(claim(s, "w2", 60000, 0, &d), 0);
	ck_assert_int_eq(claim(s, "w2", 60000, a, &d), 0);
	ck_assert_int_eq(claim(s, "w1", 60000, a, &d), 0);
	ck_assert_int_eq(store_claim_renew(s, a, "w1", 60000, &cause), 0);
	ck_assert_int_eq(store_claim_renew(s, a, "w2", 60000, &cause), 1);

	/* Another conversation is free meanwhile. */
	int64_t b = conv_with(s, "bob", 1, NULL);
	ck_assert_int_eq(claim(s, "w2", 60000, 0, &d), 1);
	ck_assert_int_eq(d.conv, b);

	/* Released: pending again, for anyone. */
	ck_assert_int_eq(store_claim_release(s, a, "w2", &cause), 0); /* not w2's: no-op */
	ck_assert_int_eq(claim(s, "w3", 60000, 0, &d), 0);
	ck_assert_int_eq(store_claim_release(s, a, "w1", &cause), 0);
	ck_assert_int_eq(store_claim_renew(s, a, "w1", 60000, &cause), 1);
	ck_assert_int_eq(claim(s, "w3", 60000, 0, &d), 1);
	ck_assert_int_eq(d.conv, a);
	/* The released worker's finish is refused. */
	ck_assert_int_eq(answer(s, "w1", &c, NULL), 1);
	ck_assert_int_eq(answer(s, "w3", &d, NULL), 0);

	cJSON *st;
	ck_assert_int_eq(store_status(s, &st, &cause), 0);
	ck_assert_int_eq((int)num(st, "open"), 2);
	ck_assert_int_eq((int)num(st, "pending"), 1);
	ck_assert_int_eq((int)num(st, "claimed"), 1);
	ck_assert_int_eq((int)num(cJSON_GetObjectItem(st, "workers"), "w2"), 1);
	cJSON_Delete(st);
	store_close(s);
}
END_TEST

START_TEST(an_expired_claim_is_taken_and_the_stale_worker_loses)
{
	struct store *s = open_ok(db);
	struct store_claim c, d;
	char *cause = NULL;
	int64_t a = conv_with(s, "ann", 2, NULL);
	/* A lease of 0 ms: expired as soon as the database's clock moves. */
	ck_assert_int_eq(claim(s, "stale", 0, a, &c), 1);
	claim_eventually(s, "fresh", 0, &d);
	ck_assert_int_eq(d.conv, a);
	ck_assert_int_eq(d.upto, c.upto);
	ck_assert_int_eq(store_claim_renew(s, a, "stale", 60000, &cause), 1);
	ck_assert_int_eq(answer(s, "stale", &c, NULL), 1);
	ck_assert_int_eq(answer(s, "fresh", &d, NULL), 0);
	cJSON *m;
	ck_assert_int_eq(store_messages(s, a, &m, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(m), 3);
	cJSON_Delete(m);
	store_close(s);
}
END_TEST

START_TEST(a_message_during_the_turn_stays_pending)
{
	struct store *s = open_ok(db);
	struct store_claim c;
	int64_t first, second;
	int64_t a = conv_with(s, "ann", 1, &first);
	ck_assert_int_eq(claim(s, "w1", 60000, 0, &c), 1);
	conv_with(s, "ann", 1, &second);
	ck_assert_int_eq(answer(s, "w1", &c, NULL), 0);
	ck_assert_int_eq(claim(s, "w1", 60000, 0, &c), 1);
	ck_assert_int_eq(c.conv, a);
	ck_assert_int_eq(c.answered, first);
	ck_assert_int_eq(c.upto, second);
	store_close(s);
}
END_TEST

START_TEST(the_longest_waiting_is_claimed_first)
{
	struct store *s = open_ok(db);
	struct store_claim c;
	int64_t a = conv_with(s, "ann", 0, NULL), b = conv_with(s, "bob", 1, NULL);
	conv_with(s, "ann", 1, NULL);
	ck_assert_int_eq(claim(s, "w1", 60000, 0, &c), 1);
	ck_assert_int_eq(c.conv, b);
	ck_assert_int_eq(claim(s, "w1", 60000, 0, &c), 1);
	ck_assert_int_eq(c.conv, a);
	store_close(s);
}
END_TEST

START_TEST(a_takeover_mid_turn_withholds_the_reply)
{
	struct store *s = open_ok(db);
	struct store_claim c;
	const char *h;
	char *cause = NULL;
	int64_t a = conv_with(s, "ann", 1, NULL);
	ck_assert_int_eq(claim(s, "w1", 60000, 0, &c), 1);
	ck_assert_int_eq(store_conversation_take(s, a, "sam", &cause), 0);
	ck_assert_int_eq(answer(s, "w1", &c, &h), 0);
	ck_assert_str_eq(h, "human");
	cJSON *m;
	ck_assert_int_eq(store_messages(s, a, &m, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(m), 1);
	cJSON_Delete(m);
	/* A human's conversation is not work, even with a new message. */
	conv_with(s, "ann", 1, NULL);
	ck_assert_int_eq(claim(s, "w1", 60000, 0, &c), 0);
	/* Back with the AI, it is. */
	ck_assert_int_eq(store_conversation_handler(s, a, "ai", NULL, &cause), 0);
	ck_assert_int_eq(claim(s, "w1", 60000, 0, &c), 1);
	ck_assert_int_eq(store_conversation_end(s, a, "unconfirmed", NULL, &cause), 0);
	ck_assert_int_eq(answer(s, "w1", &c, &h), 0);
	ck_assert_str_eq(h, "closed");
	store_close(s);
}
END_TEST

/* What pollers ask before reading: has anything been committed since? */
START_TEST(changes_are_seen_by_pollers)
{
	struct store *s = open_ok(db), *other = open_ok(db);
	char *cause = NULL;
	ck_assert_int_eq(store_changed(s, &cause), 1);
	if (strcmp(store_backend(s), "sqlite") == 0) {
		ck_assert_int_eq(store_changed(s, &cause), 0);
		conv_with(other, "ann", 1, NULL);
		ck_assert_int_eq(store_changed(s, &cause), 1);
		ck_assert_int_eq(store_changed(s, &cause), 0);
		conv_with(s, "bob", 1, NULL);
		ck_assert_int_eq(store_changed(s, &cause), 1);
		ck_assert_int_eq(store_changed(s, &cause), 0);
	} else /* PostgreSQL: notifications say what changed; a poll always looks */
		ck_assert_int_eq(store_changed(s, &cause), 1);
	store_close(other);
	store_close(s);
}
END_TEST

START_TEST(a_takeover_is_exclusive)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t a = conv_with(s, "ann", 1, NULL);
	ck_assert_int_eq(store_conversation_take(s, a, "sam", &cause), 0);
	ck_assert_int_eq(store_conversation_take(s, a, "sam", &cause), 0);
	ck_assert_int_eq(store_conversation_take(s, a, "kim", &cause), 1);
	ck_assert_msg(strstr(cause, "sam") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	cJSON *o;
	ck_assert_int_eq(store_conversation_get(s, a, &o, &cause), 0);
	ck_assert_str_eq(str(o, "handler"), "human");
	ck_assert_str_eq(str(o, "owner"), "sam");
	cJSON_Delete(o);
	/* Handed back (waiting for anyone): another human may take it. */
	ck_assert_int_eq(store_conversation_handler(s, a, "waiting", NULL, &cause), 0);
	ck_assert_int_eq(store_conversation_take(s, a, "kim", &cause), 0);
	ck_assert_int_eq(store_conversation_end(s, a, "resolved-human", NULL, &cause), 0);
	ck_assert_int_eq(store_conversation_take(s, a, "kim", &cause), -1);
	ck_assert_msg(strstr(cause, "resolved") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_conversation_take(s, a + 100, "kim", &cause), -1);
	ck_assert_msg(strstr(cause, "no conversation") != NULL, "%s", cause);
	free(cause);
	store_close(s);
}
END_TEST

START_TEST(the_password_is_never_shown)
{
	static const char *const cases[][2] = {
	    {"postgresql://ann:s3cret@db.example:5432/front",
	     "postgresql://ann:***@db.example:5432/front"},
	    {"postgres://ann@db/front", "postgres://ann@db/front"},
	    {"postgresql://db/front?sslmode=require&password=s3cret&x=1",
	     "postgresql://db/front?sslmode=require&password=***&x=1"},
	    {"postgresql://a:b@c@h/d", "postgresql://a:***@h/d"},
	    {"postgresql://h", "postgresql://h"},
	    {"/var/lib/frontline/frontline.db", "/var/lib/frontline/frontline.db"},
	};
	for (size_t i = 0; i < nitems(cases); i++) {
		char *r = store_target_redacted(cases[i][0]);
		ck_assert_str_eq(r, cases[i][1]);
		ck_assert_ptr_null(strstr(r, "s3cret"));
		free(r);
	}
	ck_assert(store_is_postgres("postgres://x"));
	ck_assert(!store_is_postgres("postgres.db"));
}
END_TEST

/* ------------------------------------------------------- notifications */

struct heard {
	struct strv what; /* "channel:payload" */
};

static void
hear(void *arg, const struct store_change *ch)
{
	char *t = xasprintf("%s:%lld", ch->channel, (long long)ch->conv);
	strv_take(&((struct heard *)arg)->what, t);
}

/* Waits (boundedly) for the listener's fd and drains; returns the count. */
static int
drain(struct store *l, struct heard *h, int want)
{
	char *cause = NULL;
	int total = 0;
	for (int i = 0; i < 100 && total < want; i++) {
		struct pollfd pfd = {.fd = store_notify_fd(l), .events = POLLIN};
		poll(&pfd, 1, 100);
		int n = store_notifications(l, hear, h, &cause);
		ck_assert_msg(n >= 0, "%s", cause);
		total += n;
	}
	return total;
}

START_TEST(changes_are_notified_at_commit)
{
	struct store *l = open_ok(db), *s = open_ok(db);
	char *cause = NULL;
	struct heard h = {0};
	ck_assert_int_eq(store_listen(l, STORE_CHANNEL_CONV, &cause), 0);
	ck_assert_int_eq(store_listen(l, STORE_CHANNEL_WORK, &cause), 0);
	ck_assert_int_eq(store_listen(l, "bad channel;", &cause), -1);
	free(cause);
	cause = NULL;
	if (pg_server == NULL) {
		/* SQLite: nothing to watch; callers poll. */
		ck_assert_int_eq(store_notify_fd(l), -1);
		ck_assert_int_eq(store_notifications(l, hear, &h, &cause), 0);
		store_close(s);
		store_close(l);
		return;
	}
	ck_assert_int_ge(store_notify_fd(l), 0);

	int64_t a = conv_with(s, "ann", 0, NULL);
	ck_assert_int_eq(drain(l, &h, 1), 1);
	char *want = xasprintf("frontline_conv:%lld", (long long)a);
	ck_assert_str_eq(h.what.v[0], want);
	strv_free(&h.what);

	/* Nothing before the commit, one of each after it. */
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_eq(store_message_add(s, a, "customer", "one", NULL, &cause), 0);
	ck_assert_int_eq(store_event_add(s, a, "triage", NULL, &cause), 0);
	ck_assert_int_eq(store_notifications(l, hear, &h, &cause), 0);
	ck_assert_int_eq(store_commit(s, &cause), 0);
	ck_assert_int_eq(drain(l, &h, 2), 2);
	ck_assert(strv_contains(&h.what, want));
	char *work = xasprintf("frontline_work:%lld", (long long)a);
	ck_assert(strv_contains(&h.what, work));
	strv_free(&h.what);

	/* A rolled back transaction says nothing; an event alone is no work. */
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_eq(store_message_add(s, a, "customer", "two", NULL, &cause), 0);
	store_rollback(s);
	ck_assert_int_eq(store_event_add(s, a, "note", NULL, &cause), 0);
	ck_assert_int_eq(drain(l, &h, 1), 1);
	ck_assert_str_eq(h.what.v[0], want);
	strv_free(&h.what);
	free(want);
	free(work);
	store_close(s);
	store_close(l);
}
END_TEST

/* Every change, whole. */
struct changes {
	struct store_change v[16];
	int n;
};

static void
keep(void *arg, const struct store_change *ch)
{
	struct changes *cs = arg;
	if (cs->n < (int)nitems(cs->v)) {
		cs->v[cs->n] = *ch;
		cs->v[cs->n++].channel = NULL; /* valid during the call only */
	}
}

static void
collect_changes(struct store *l, struct changes *cs, int want)
{
	char *cause = NULL;
	for (int i = 0; i < 100 && cs->n < want; i++) {
		struct pollfd pfd = {.fd = store_notify_fd(l), .events = POLLIN};
		poll(&pfd, 1, 100);
		ck_assert_msg(store_notifications(l, keep, cs, &cause) >= 0, "%s", cause);
	}
	ck_assert_int_eq(cs->n, want);
}

START_TEST(a_notification_says_what_changed)
{
	struct store *l = open_ok(db), *s = open_ok(db);
	char *cause = NULL;
	ck_assert_int_eq(store_listen(l, STORE_CHANNEL_CONV, &cause), 0);
	int64_t a = conv_with(s, "ann", 0, NULL), msg = 0;
	struct changes cs = {0};
	collect_changes(l, &cs, 1);
	ck_assert_int_eq(cs.v[0].conv, a);
	ck_assert_uint_eq(cs.v[0].what, STORE_CHANGE_OPENED);
	ck_assert(!cs.v[0].own);

	/* A turn: its events (their first and last ids), its reply, who has it now. */
	cs.n = 0;
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_eq(store_event_add(s, a, "triage", NULL, &cause), 0);
	ck_assert_int_eq(store_event_add(s, a, "escalation", NULL, &cause), 0);
	ck_assert_int_eq(store_message_add(s, a, "ai", "over to a human", &msg, &cause), 0);
	ck_assert_int_eq(store_conversation_handler(s, a, "waiting", NULL, &cause), 0);
	ck_assert_int_eq(store_commit(s, &cause), 0);
	collect_changes(l, &cs, 1);
	cJSON *m, *e;
	ck_assert_int_eq(store_conversation_since(s, a, 0, 0, NULL, &m, &e, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(e), 2);
	ck_assert_uint_eq(cs.v[0].what,
	                  STORE_CHANGE_EVENT | STORE_CHANGE_REPLY | STORE_CHANGE_HANDS);
	ck_assert_int_eq(cs.v[0].message, msg);
	ck_assert_int_eq(cs.v[0].event_first, (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(
	                                          cJSON_GetArrayItem(e, 0), "id")));
	ck_assert_int_eq(cs.v[0].event_last, (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(
	                                         cJSON_GetArrayItem(e, 1), "id")));
	cJSON_Delete(m);
	cJSON_Delete(e);

	/* The listener's own commits say so; another program's payload may mean anything. */
	cs.n = 0;
	ck_assert_int_eq(store_message_add(l, a, "customer", "hello", &msg, &cause), 0);
	raw_exec(db, "NOTIFY frontline_conv, '42'");
	raw_exec(db, "NOTIFY frontline_conv, 'what?'");
	collect_changes(l, &cs, 3);
	ck_assert(cs.v[0].own);
	ck_assert_uint_eq(cs.v[0].what, STORE_CHANGE_CUSTOMER);
	ck_assert_int_eq(cs.v[0].message, msg);
	ck_assert(!cs.v[1].own);
	ck_assert_int_eq(cs.v[1].conv, 42);
	ck_assert_uint_eq(cs.v[1].what, STORE_CHANGE_ANY);
	ck_assert_int_eq(cs.v[2].conv, 0);
	store_close(s);
	store_close(l);
}
END_TEST

/* The connection's own commits are told at once, on either backend; a rollback is not. */
START_TEST(own_commits_are_told_at_once)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	struct changes cs = {0};
	int64_t a = conv_with(s, "ann", 0, NULL), msg = 0;
	store_on_commit(s, keep, &cs);
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_eq(store_event_add(s, a, "takeover", NULL, &cause), 0);
	ck_assert_int_eq(store_message_add(s, a, "human", "Sam here", &msg, &cause), 0);
	ck_assert_int_eq(cs.n, 0);
	ck_assert_int_eq(store_commit(s, &cause), 0);
	ck_assert_int_eq(cs.n, 1);
	ck_assert(cs.v[0].own);
	ck_assert_int_eq(cs.v[0].conv, a);
	ck_assert_uint_eq(cs.v[0].what, STORE_CHANGE_EVENT | STORE_CHANGE_REPLY);
	ck_assert_int_eq(cs.v[0].message, msg);
	ck_assert_int_gt(cs.v[0].event_first, 0);
	ck_assert_int_eq(cs.v[0].event_first, cs.v[0].event_last);
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_eq(store_event_add(s, a, "note", NULL, &cause), 0);
	store_rollback(s);
	ck_assert_int_eq(cs.n, 1);
	store_on_commit(s, NULL, NULL);
	ck_assert_int_eq(store_event_add(s, a, "note", NULL, &cause), 0);
	ck_assert_int_eq(cs.n, 1);
	store_close(s);
}
END_TEST

/* What changed after the ids a reader has, in one statement; INT64_MAX skips a kind. */
START_TEST(since_reads_only_what_is_newer)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t a = conv_with(s, "ann", 2, NULL), b = conv_with(s, "bob", 1, NULL);
	cJSON *pay = cJSON_Parse("{\"urgency\":\"high\"}");
	ck_assert_int_eq(store_event_add(s, a, "triage", pay, &cause), 0);
	ck_assert_int_eq(store_event_add(s, b, "triage", NULL, &cause), 0);
	cJSON_Delete(pay);
	cJSON *m, *e;
	uint64_t n0 = store_statements(s);
	ck_assert_int_eq(store_conversation_since(s, a, 0, 0, NULL, &m, &e, &cause), 0);
	ck_assert_uint_eq(store_statements(s) - n0, 1);
	ck_assert_int_eq(cJSON_GetArraySize(m), 2);
	ck_assert_int_eq(cJSON_GetArraySize(e), 1);
	ck_assert_str_eq(str(cJSON_GetArrayItem(m, 1), "role"), "customer");
	ck_assert_str_eq(str(cJSON_GetArrayItem(e, 0), "kind"), "triage");
	ck_assert_str_eq(str(cJSON_GetObjectItem(cJSON_GetArrayItem(e, 0), "payload"), "urgency"),
	                 "high");
	int64_t m1 =
	    (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 0), "id"));
	cJSON_Delete(m);
	cJSON_Delete(e);
	ck_assert_int_eq(store_conversation_since(s, a, m1, INT64_MAX, NULL, &m, &e, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(m), 1);
	ck_assert_int_eq(cJSON_GetArraySize(e), 0);
	cJSON_Delete(m);
	cJSON_Delete(e);
	/* Payloads of the kinds a reader does not show are left out; the events are there. */
	cJSON *score = cJSON_Parse("{\"score\":5}");
	ck_assert_int_eq(store_event_add(s, a, "csat", score, &cause), 0);
	cJSON_Delete(score);
	ck_assert_int_eq(
	    store_conversation_since(s, a, INT64_MAX, 0, ",retrieval,triage,", &m, &e, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(m), 0);
	ck_assert_int_eq(cJSON_GetArraySize(e), 2);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(e, 0), "payload")));
	ck_assert_str_eq(str(cJSON_GetArrayItem(e, 1), "kind"), "csat");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(cJSON_GetArrayItem(e, 1), "payload")));
	cJSON_Delete(m);
	cJSON_Delete(e);
	store_close(s);
}
END_TEST

/* --------------------------------------------------------- processes */

/*
 * Workers in processes of their own answer every pending conversation:
 * each is answered exactly once (PostgreSQL: FOR UPDATE SKIP LOCKED).
 */
START_TEST(workers_answer_each_conversation_once)
{
	enum { NWORK = 4, NCONV = 40 };
	struct store *s = open_ok(db);
	for (int i = 0; i < NCONV; i++) {
		char who[16];
		snprintf(who, sizeof who, "c%d", i);
		conv_with(s, who, 1 + i % 3, NULL);
	}
	store_close(s);
	pid_t pids[NWORK];
	for (int w = 0; w < NWORK; w++) {
		if ((pids[w] = fork()) == 0) {
			char *cause = NULL, id[16];
			snprintf(id, sizeof id, "w%d", w);
			struct store *ws = store_open(db, &cause);
			if (ws == NULL)
				_exit(1);
			struct store_claim c;
			int rc;
			while ((rc = store_claim(ws, id, 60000, 0, &c, &cause)) == 1) {
				const char *h;
				if (store_begin(ws, &cause) != 0 ||
				    store_claim_finish(ws, c.conv, id, c.upto, &h, &cause) != 0 ||
				    store_message_add(ws, c.conv, "ai", id, NULL, &cause) != 0 ||
				    store_commit(ws, &cause) != 0) {
					fprintf(stderr, "%s: %s\n", id, cause);
					_exit(2);
				}
			}
			if (rc < 0)
				fprintf(stderr, "%s: %s\n", id, cause);
			store_close(ws);
			_exit(rc == 0 ? 0 : 3);
		}
		ck_assert_int_gt(pids[w], 0);
	}
	for (int w = 0; w < NWORK; w++) {
		int status;
		ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d: status %d",
		              w, status);
	}
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM messages WHERE role = 'ai'"), NCONV);
	ck_assert_int_eq(raw_int(db, "SELECT count(DISTINCT conversation_id) FROM messages"
	                             " WHERE role = 'ai'"),
	                 NCONV);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM conversations"
	                             " WHERE answered <> last_customer OR lease_owner IS NOT NULL"),
	                 0);
}
END_TEST

/* A worker that dies holding a claim: its conversation is answered by another after the lease. */
START_TEST(a_dead_workers_claim_expires)
{
	struct store *s = open_ok(db);
	int64_t a = conv_with(s, "ann", 1, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		char *cause = NULL;
		struct store_claim c;
		struct store *ws = store_open(db, &cause);
		int rc = ws ? store_claim(ws, "doomed", 200, 0, &c, &cause) : -1;
		/* Dies mid-turn: no finish, no release. */
		raise(SIGKILL);
		_exit(rc);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	assert_text(db, "SELECT lease_owner FROM conversations", "doomed");
	struct store_claim c;
	claim_eventually(s, "heir", 0, &c);
	ck_assert_int_eq(c.conv, a);
	ck_assert_int_eq(answer(s, "heir", &c, NULL), 0);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM messages WHERE role = 'ai'"), 1);
	store_close(s);
}
END_TEST

/* Supervisors in processes of their own take the same chat at once: exactly one wins. */
START_TEST(one_of_many_takeovers_wins)
{
	enum { NSUP = 6 };
	struct store *s = open_ok(db);
	int64_t a = conv_with(s, "ann", 1, NULL);
	store_close(s);
	int go[2];
	ck_assert_int_eq(pipe(go), 0);
	pid_t pids[NSUP];
	for (int i = 0; i < NSUP; i++) {
		if ((pids[i] = fork()) == 0) {
			char *cause = NULL, who[16], byte;
			snprintf(who, sizeof who, "sup%d", i);
			close(go[1]);
			struct store *ss = store_open(db, &cause);
			if (ss == NULL)
				_exit(9);
			/* All start together: the parent closes the pipe. */
			if (read(go[0], &byte, 1) != 0)
				_exit(8);
			int rc = store_conversation_take(ss, a, who, &cause);
			store_close(ss);
			_exit(rc == 0 ? 0 : rc == 1 ? 1 : 7);
		}
		ck_assert_int_gt(pids[i], 0);
	}
	close(go[0]);
	close(go[1]);
	int won = 0, lost = 0;
	for (int i = 0; i < NSUP; i++) {
		int status;
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status));
		if (WEXITSTATUS(status) == 0)
			won++;
		else if (WEXITSTATUS(status) == 1)
			lost++;
	}
	ck_assert_int_eq(won, 1);
	ck_assert_int_eq(lost, NSUP - 1);
}
END_TEST

/*
 * A conversation's messages become visible in id order: a reader that has
 * seen a customer message has also seen a human reply given before it,
 * however late that reply's transaction commits. (serve's event streams
 * go on from the newest id they saw.) Here the reply's transaction is held
 * open while another process adds a customer message and reads.
 */
/*
 * A message (events: an event) written after another transaction took its
 * id, while that one is still open, commits after it: a reader going on
 * from the newest id it has read never skips the earlier one.
 */
static void
seen_in_id_order(int events)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t a = conv_with(s, "ann", 1, NULL), first = 0;
	ck_assert_int_eq(store_begin(s, &cause), 0);
	if (events) {
		ck_assert_int_eq(store_event_add(s, a, "handoff", NULL, &cause), 0);
		cJSON *m, *e;
		ck_assert_int_eq(store_conversation_since(s, a, INT64_MAX, 0, NULL, &m, &e, &cause),
		                 0);
		first = (int64_t)cJSON_GetNumberValue(
		    cJSON_GetObjectItem(cJSON_GetArrayItem(e, cJSON_GetArraySize(e) - 1), "id"));
		cJSON_Delete(m);
		cJSON_Delete(e);
	} else
		ck_assert_int_eq(store_message_add(s, a, "human", "I'm on it", &first, &cause), 0);
	int res[2];
	ck_assert_int_eq(pipe(res), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(res[0]);
		struct store *ss = store_open(db, &cause);
		cJSON *msgs = NULL, *evs = NULL;
		char seen = 'x';
		if (ss != NULL &&
		    (events ? store_event_add(ss, a, "csat", NULL, &cause)
		            : store_message_add(ss, a, "customer", "thanks", NULL, &cause)) == 0 &&
		    store_conversation_since(ss, a, 0, 0, NULL, &msgs, &evs, &cause) == 0) {
			seen = 'n';
			const cJSON *m, *rows = events ? evs : msgs;
			cJSON_ArrayForEach(m, rows)
			{
				if ((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "id")) ==
				    first)
					seen = 'y';
			}
		}
		cJSON_Delete(msgs);
		cJSON_Delete(evs);
		store_close(ss);
		_exit(write(res[1], &seen, 1) == 1 ? 0 : 1);
	}
	ck_assert_int_gt(pid, 0);
	close(res[1]);
	/* Long enough for the other process to add and read, were it not held up. */
	nanosleep(&(struct timespec){.tv_nsec = 300 * 1000 * 1000}, NULL);
	ck_assert_int_eq(store_commit(s, &cause), 0);
	char seen = 0;
	ck_assert_int_eq(read(res[0], &seen, 1), 1);
	close(res[0]);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(seen, 'y');
	store_close(s);
}

START_TEST(messages_are_seen_in_id_order)
{
	seen_in_id_order(0);
}
END_TEST

START_TEST(events_are_seen_in_id_order)
{
	seen_in_id_order(1);
}
END_TEST

/* ------------------------------------------------ PostgreSQL specifics */

START_TEST(pg_schema_version_and_a_newer_schema)
{
	store_close(open_ok(db));
	ck_assert_int_eq(raw_int(db, "SELECT version FROM schema_version"), 6);
	/* Row ids are 64-bit identities. */
	assert_text(db,
	            "SELECT data_type FROM information_schema.columns"
	            " WHERE table_name = 'messages' AND column_name = 'id'",
	            "bigint");
	raw_exec(db, "UPDATE schema_version SET version = 99");
	char *cause = open_fails(db);
	ck_assert_msg(strstr(cause, "99") && strstr(cause, "newer"), "%s", cause);
	free(cause);
	ck_assert_int_eq(raw_int(db, "SELECT version FROM schema_version"), 99);
}
END_TEST

START_TEST(pg_a_bad_server_gives_a_cause_without_the_password)
{
	/* A port nobody listens on (the test server's, plus one). */
	char *cause = NULL;
	const char *colon = strrchr(pg_server, ':');
	int port = atoi(colon + 1);
	char *target = xasprintf("postgresql://ann:s3cret@127.0.0.1:%d/x?connect_timeout=5",
	                         port + 1 == 65536 ? 1 : port + 1);
	ck_assert_ptr_null(store_open(target, &cause));
	ck_assert_msg(strstr(cause, "PostgreSQL") != NULL, "%s", cause);
	ck_assert_ptr_null(strstr(cause, "s3cret"));
	free(cause);
	free(target);
}
END_TEST

/* The server ends the connection: outside a transaction the store connects again. */
START_TEST(pg_a_lost_connection_is_made_again)
{
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t a = conv_with(s, "ann", 1, NULL);
	ck_assert_int_eq(store_listen(s, STORE_CHANNEL_WORK, &cause), 0);
	char *kill = xasprintf("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
	                       " WHERE datname = '%s' AND pid <> pg_backend_pid()",
	                       pg_name);
	raw_exec(db, kill);
	cJSON *m;
	ck_assert_msg(store_messages(s, a, &m, &cause) == 0, "%s", cause);
	ck_assert_int_eq(cJSON_GetArraySize(m), 1);
	cJSON_Delete(m);

	/* Inside a transaction it is an error with a clear cause, and the store goes on. */
	ck_assert_int_eq(store_begin(s, &cause), 0);
	raw_exec(db, kill);
	ck_assert_int_eq(store_message_add(s, a, "ai", "x", NULL, &cause), -1);
	ck_assert_msg(strstr(cause, "connection") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	store_rollback(s);
	ck_assert_msg(store_message_add(s, a, "customer", "again", NULL, &cause) == 0, "%s", cause);
	/* Subscriptions survive the new connection. */
	struct store *w = open_ok(db);
	ck_assert_int_eq(store_message_add(w, a, "customer", "more", NULL, &cause), 0);
	struct heard h = {0};
	ck_assert_int_ge(drain(s, &h, 1), 1);
	strv_free(&h.what);
	h = (struct heard){0};

	/* Lost while only listening: LISTEN again (no other query first) connects again. */
	raw_exec(db, kill);
	int lost = 0;
	for (int i = 0; i < 100 && !lost;
	     i++) { /* the server's goodbye, then the end of the socket */
		struct pollfd pfd = {.fd = store_notify_fd(s), .events = POLLIN};
		poll(&pfd, 1, 100);
		lost = store_notifications(s, hear, &h, &cause) < 0;
	}
	ck_assert(lost);
	free(cause);
	cause = NULL;
	ck_assert_msg(store_listen(s, STORE_CHANNEL_WORK, &cause) == 0, "%s", cause);
	ck_assert_int_ge(store_notify_fd(s), 0);
	ck_assert_int_eq(store_message_add(w, a, "customer", "and more", NULL, &cause), 0);
	ck_assert_int_ge(drain(s, &h, 1), 1);
	strv_free(&h.what);
	store_close(w);
	free(kill);
	store_close(s);
}
END_TEST

/* ---------------------------------------------------- SQLite specifics */

START_TEST(a_version_3_store_counts_old_messages_answered)
{
	/* Before schema 4 the desk answered each message in the turn that stored it. */
	struct store *s = open_ok(db);
	int64_t a = conv_with(s, "ann", 2, NULL);
	store_close(s);
	raw_exec(db, "ALTER TABLE conversations DROP COLUMN ending;"
	             "DROP INDEX conversations_pending;"
	             "ALTER TABLE conversations DROP COLUMN last_customer;"
	             "ALTER TABLE conversations DROP COLUMN answered;"
	             "ALTER TABLE conversations DROP COLUMN lease_owner;"
	             "ALTER TABLE conversations DROP COLUMN lease_until;"
	             "PRAGMA user_version = 3;");
	s = open_ok(db);
	struct store_claim c;
	ck_assert_int_eq(claim(s, "w1", 60000, 0, &c), 0);
	int64_t last;
	conv_with(s, "ann", 1, &last);
	ck_assert_int_eq(claim(s, "w1", 60000, 0, &c), 1);
	ck_assert_int_eq(c.conv, a);
	ck_assert_int_eq(c.answered, last - 1);
	store_close(s);
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 6);
}
END_TEST

START_TEST(a_version_4_store_gains_the_endings_its_rows_prove)
{
	/* Closed before endings were stored: each gets the ending its rows can still prove. */
	struct store *s = open_ok(db);
	char *cause = NULL;
	int64_t human = conv_with(s, "ann", 1, NULL), taken = conv_with(s, "bob", 1, NULL);
	int64_t escalated = conv_with(s, "cy", 1, NULL), resolved = conv_with(s, "di", 1, NULL);
	int64_t open = conv_with(s, "ed", 1, NULL);
	ck_assert_int_eq(store_message_add(s, human, "human", "sorted", NULL, &cause), 0);
	ck_assert_int_eq(store_event_add(s, taken, "takeover", NULL, &cause), 0);
	store_close(s);
	char *sql = xasprintf("UPDATE conversations SET state = 'resolved', closed = '2026-11-01'"
	                      " WHERE id IN (%lld, %lld);"
	                      "UPDATE conversations SET state = 'abandoned' WHERE id = %lld;"
	                      "UPDATE conversations SET state = 'escalated' WHERE id = %lld;"
	                      "ALTER TABLE conversations DROP COLUMN ending;"
	                      "PRAGMA user_version = 4;",
	                      (long long)human, (long long)resolved, (long long)taken,
	                      (long long)escalated);
	raw_exec(db, sql);
	free(sql);
	s = open_ok(db);
	store_close(s);
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 6);
	static const char *const want[] = {"resolved-human", "resolved-human", "abandoned",
	                                   "unconfirmed", "(open)"};
	const int64_t ids[] = {human, taken, escalated, resolved, open};
	for (size_t i = 0; i < nitems(ids); i++) {
		sql = xasprintf(
		    "SELECT COALESCE(ending, '(open)') FROM conversations WHERE id = %lld",
		    (long long)ids[i]);
		assert_text(db, sql, want[i]);
		free(sql);
	}
	/* With its evidence: closed before schema 5, and how. */
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM events WHERE kind = 'ending'"), 4);
	sql = xasprintf("SELECT payload || '|' || at FROM events WHERE kind = 'ending'"
	                " AND conversation_id = %lld",
	                (long long)resolved);
	assert_text(db, sql,
	            "{\"ending\":\"unconfirmed\",\"closed_by\":\"migration\","
	            "\"reason\":\"closed before schema 5 as resolved\"}|2026-11-01");
	free(sql);
}
END_TEST

/* ------------------------------------------------------ export, import */

/* Rows in every table, with NULLs, quotes, newlines, non-ASCII text and a live claim. */
static void
populate(struct store *s)
{
	char *cause = NULL;
	int64_t a, b, h, run;
	struct store_claim c;
	ck_assert_int_eq(
	    store_customer_put(s, "ann", "Ann \"Lee\"", "ann@example.com", TIER_PREMIUM, &cause),
	    0);
	ck_assert_int_eq(store_customer_put(s, "Zoë", NULL, NULL, TIER__N, &cause), 0);
	ck_assert_int_eq(store_conversation_open(s, "ann", &a, NULL, &cause), 0);
	ck_assert_int_eq(
	    store_message_add(s, a, "customer", "héllo\n\t\"quoted\" \\ ✓", NULL, &cause), 0);
	cJSON *p = cJSON_Parse("{\"intent\":\"refund\",\"score\":0.25,\"tags\":[\"a\",null]}");
	ck_assert_int_eq(store_event_add(s, a, "triage", p, &cause), 0);
	ck_assert_int_eq(store_event_add(s, a, "note", NULL, &cause), 0);
	ck_assert_int_eq(store_handoff_add(s, a, p, &h, &cause), 0);
	ck_assert_int_eq(store_review_add(s, h, NULL, p, NULL, &cause), 0);
	ck_assert_int_eq(store_message_add(s, a, "ai", "bye", NULL, &cause), 0);
	ck_assert_int_eq(store_conversation_end(s, a, "abandoned", p, &cause), 0);
	ck_assert_int_eq(store_conversation_open(s, "Zoë", &b, NULL, &cause), 0);
	ck_assert_int_eq(
	    store_message_add(s, b, "customer", "?1 $1 '; DROP TABLE x; --", NULL, &cause), 0);
	ck_assert_int_eq(store_claim(s, "host:42", 3600 * 1000, 0, &c, &cause), 1);
	ck_assert_int_eq(store_conversation_take(s, b, "sam", &cause), 0);
	ck_assert_int_eq(store_replay_begin(s, "tickets.jsonl", "v1", &run, &cause), 0);
	ck_assert_int_eq(store_replay_result(s, run, "T-1", p, &cause), 0);
	ck_assert_int_eq(store_replay_finish(s, run, 1, p, &cause), 0);
	ck_assert_int_eq(store_replay_begin(s, "other", "v2", &run, &cause), 0);
	ck_assert_int_eq(store_rollout_add(s, "rollout", "start", p, NULL, "why\nnot", &cause), 0);
	ck_assert_int_eq(store_rollout_add(s, "canary", "start", p, "ops", NULL, &cause), 0);
	cJSON_Delete(p);
}

/* The store's export as text (caller frees); *rows its row count. */
static char *
export_of(const char *target, int64_t *rows)
{
	struct store *s = open_ok(target);
	char *path = xasprintf("%s/export.jsonl", dir), *cause = NULL;
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_msg(store_export(s, f, rows, &cause) == 0, "%s", cause);
	ck_assert_int_eq(fclose(f), 0);
	store_close(s);
	char *text = slurp(path);
	free(path);
	return text;
}

/* Imports text into target; returns store_import's result, *cause its cause (caller frees). */
static int
import_into(const char *target, const char *text, int64_t *rows, char **cause)
{
	struct store *s = open_ok(target);
	char *path = xasprintf("%s/import.jsonl", dir);
	spew(path, text);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	*cause = NULL;
	int rc = store_import(s, f, "import.jsonl", rows, cause);
	fclose(f);
	store_close(s);
	free(path);
	return rc;
}

/*
 * SQLite -> this suite's backend -> SQLite: each export is the same bytes
 * (on PostgreSQL, the round trip), and new rows continue after
 * the imported ids.
 */
START_TEST(export_import_round_trip_is_lossless)
{
	char *src = xasprintf("%s/src.db", dir), *back = xasprintf("%s/back.db", dir);
	char *cause = NULL;
	struct store *s = open_ok(src);
	populate(s);
	store_close(s);
	int64_t rows, n;
	char *e1 = export_of(src, &rows);
	ck_assert_int_eq(rows, 17);
	ck_assert_msg(strncmp(e1, "{\"format\":\"frontline-export\",\"schema\":6}\n", 41) == 0,
	              "%s", e1);

	ck_assert_msg(import_into(db, e1, &n, &cause) == 0, "%s", cause);
	ck_assert_int_eq(n, rows);
	char *e2 = export_of(db, &n);
	ck_assert_str_eq(e2, e1);
	ck_assert_msg(import_into(back, e2, &n, &cause) == 0, "%s", cause);
	char *e3 = export_of(back, &n);
	ck_assert_str_eq(e3, e1);

	/* The imported store works on: ids after the imported ones, the claim still held. */
	s = open_ok(db);
	int64_t conv, id;
	ck_assert_int_eq(store_conversation_open(s, "bob", &conv, NULL, &cause), 0);
	ck_assert_int_eq(conv, 3);
	ck_assert_int_eq(store_message_add(s, conv, "customer", "new", &id, &cause), 0);
	ck_assert_int_eq(id, 4);
	struct store_claim c;
	ck_assert_int_eq(store_conversation_handler(s, 2, "ai", NULL, &cause), 0);
	ck_assert_int_eq(claim(s, "w1", 60000, 2, &c), 0);
	ck_assert_int_eq(store_claim_renew(s, 2, "host:42", 60000, &cause), 0);
	store_close(s);
	/* A second import is refused: the store is not empty. */
	ck_assert_int_eq(import_into(db, e1, &n, &cause), 2);
	ck_assert_msg(strstr(cause, "not empty"), "%s", cause);
	free(cause);
	free(e1);
	free(e2);
	free(e3);
	free(src);
	free(back);
}
END_TEST

START_TEST(a_bad_import_line_imports_nothing)
{
	static const char *const bad[][2] = {
	    {"{\"format\":\"frontline-export\",\"schema\":3}\n", "import.jsonl:1: "},
	    {"[1,2]\n", "import.jsonl:1: not a JSON object"},
	    {"{\"format\":\"frontline-export\",\"schema\":4}\n", "import.jsonl:1: "},
	    /* Schema 5's tables are schema 6's: 5 is taken (below), a newer one is not. */
	    {"{\"format\":\"frontline-export\",\"schema\":7}\n", "import.jsonl:1: "},
	    {"{\"format\":\"frontline-export\",\"schema\":5}\n"
	     "{\"table\":\"customers\",\"row\":{\"id\":\"a\",\"name\":null,\"email\":null,"
	     "\"tier\":\"standard\",\"created\":\"2026-01-01\"}}\n"
	     "{\"table\":\"customers\",\"row\":{\"id\":\"b\"\n",
	     "import.jsonl:3: not JSON"},
	    {"{\"format\":\"frontline-export\",\"schema\":5}\n\n"
	     "{\"table\":\"robots\",\"row\":{}}\n",
	     "import.jsonl:3: no known \"table\""},
	    {"{\"format\":\"frontline-export\",\"schema\":5}\n"
	     "{\"table\":\"customers\",\"row\":{\"id\":7,\"name\":null,\"email\":null,"
	     "\"tier\":\"standard\",\"created\":\"2026-01-01\"}}\n",
	     "import.jsonl:2: customers.id: a string"},
	    {"{\"format\":\"frontline-export\",\"schema\":5}\n"
	     "{\"table\":\"customers\",\"row\":{\"id\":\"a\",\"name\":null,\"email\":null,"
	     "\"tier\":\"standard\",\"created\":\"2026-01-01\",\"x\":1}}\n",
	     "import.jsonl:2: customers has no column 'x'"},
	    /* A reference to a conversation that is not there: the database says no. */
	    {"{\"format\":\"frontline-export\",\"schema\":5}\n"
	     "{\"table\":\"customers\",\"row\":{\"id\":\"a\",\"name\":null,\"email\":null,"
	     "\"tier\":\"standard\",\"created\":\"2026-01-01\"}}\n"
	     "{\"table\":\"messages\",\"row\":{\"id\":1,\"conversation_id\":9,\"role\":\"ai\","
	     "\"text\":\"x\",\"at\":\"2026-01-01\"}}\n",
	     "import.jsonl:3: messages: "},
	    /* What export would not give back byte for byte (a cut string, U+FFFD). */
	    {"{\"format\":\"frontline-export\",\"schema\":5}\n"
	     "{\"table\":\"customers\",\"row\":{\"id\":\"a\",\"name\":\"Dana\xff\",\"email\":null,"
	     "\"tier\":\"standard\",\"created\":\"2026-01-01\"}}\n",
	     "import.jsonl:2: not valid UTF-8 (at byte 50)"},
	    {"{\"format\":\"frontline-export\",\"schema\":5}\n"
	     "{\"table\":\"customers\",\"row\":{\"id\":\"a\",\"name\":\"Da\\u0000na\",\"email\":"
	     "null,"
	     "\"tier\":\"standard\",\"created\":\"2026-01-01\"}}\n",
	     "import.jsonl:2: a NUL character (\\u0000)"},
	    {"{\"format\":\"frontline-export\",\"schema\":5}\n"
	     "{\"table\":\"customers\",\"row\":{\"id\":\"a\",\"id\":\"b\",\"name\":null,"
	     "\"email\":null,\"tier\":\"standard\",\"created\":\"2026-01-01\"}}\n",
	     "import.jsonl:2: $.row: duplicate key \"id\""},
	    {"", "import.jsonl: empty"},
	};
	for (size_t i = 0; i < nitems(bad); i++) {
		int64_t n;
		char *cause = NULL;
		ck_assert_int_eq(import_into(db, bad[i][0], &n, &cause), 1);
		ck_assert_msg(strncmp(cause, bad[i][1], strlen(bad[i][1])) == 0, "case %zu: %s", i,
		              cause);
		ck_assert_int_eq(n, 0);
		free(cause);
		ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM customers"), 0);
	}
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create(pg_server ? "store (PostgreSQL)" : "store (SQLite)");
	TCase *tc;
	if (pg_server == NULL) {
		tc = tcase_create("open");
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, create_and_reopen);
		tcase_add_test(tc, migrates_an_empty_database);
		tcase_add_test(tc, a_failed_migration_changes_nothing);
		tcase_add_test(tc, refuses_a_newer_schema);
		tcase_add_test(tc, a_version_1_store_gains_the_handler);
		tcase_add_test(tc, a_version_3_store_counts_old_messages_answered);
		tcase_add_test(tc, a_version_4_store_gains_the_endings_its_rows_prove);
		tcase_add_test(tc, refuses_a_file_that_is_not_a_database);
		tcase_add_test(tc, a_missing_directory_gives_a_cause);
		tcase_add_test(tc, a_file_in_place_of_the_directory_gives_a_cause);
		tcase_add_test(tc, a_read_only_directory_gives_a_cause);
		tcase_add_test(tc, a_read_only_database_file_gives_a_cause);
		suite_add_tcase(s, tc);
	} else {
		tc = tcase_create("postgresql");
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, pg_schema_version_and_a_newer_schema);
		tcase_add_test(tc, messages_are_seen_in_id_order);
		tcase_add_test(tc, events_are_seen_in_id_order);
		tcase_add_test(tc, a_notification_says_what_changed);
		tcase_add_test(tc, pg_a_bad_server_gives_a_cause_without_the_password);
		tcase_add_test(tc, pg_a_lost_connection_is_made_again);
		suite_add_tcase(s, tc);
	}

	tc = tcase_create("rows");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, handler_and_list);
	tcase_add_test(tc, customer_put_keeps_what_is_not_given);
	tcase_add_test(tc, open_conversation_is_reused_until_closed);
	tcase_add_test(tc, messages_round_trip_in_order);
	tcase_add_test(tc, events_round_trip_in_order);
	tcase_add_test(tc, handoffs_round_trip_newest_first);
	tcase_add_test(tc, an_empty_store_lists_nothing);
	tcase_add_test(tc, times_follow_frontline_today);
	tcase_add_test(tc, replay_runs_round_trip);
	tcase_add_test(tc, reviews_round_trip);
	tcase_add_test(tc, rollout_log_keeps_the_newest_state);
	suite_add_tcase(s, tc);

	tc = tcase_create("transactions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rollback_drops_a_turn);
	tcase_add_test(tc, an_uncommitted_turn_is_lost_on_close);
	tcase_add_test(tc, each_add_commits_on_its_own_without_begin);
	suite_add_tcase(s, tc);

	tc = tcase_create("contract");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, customer_messages_make_work);
	tcase_add_test(tc, a_live_claim_is_exclusive);
	tcase_add_test(tc, an_expired_claim_is_taken_and_the_stale_worker_loses);
	tcase_add_test(tc, a_message_during_the_turn_stays_pending);
	tcase_add_test(tc, the_longest_waiting_is_claimed_first);
	tcase_add_test(tc, a_takeover_mid_turn_withholds_the_reply);
	tcase_add_test(tc, a_takeover_is_exclusive);
	tcase_add_test(tc, changes_are_seen_by_pollers);
	tcase_add_test(tc, the_password_is_never_shown);
	tcase_add_test(tc, changes_are_notified_at_commit);
	tcase_add_test(tc, own_commits_are_told_at_once);
	tcase_add_test(tc, since_reads_only_what_is_newer);
	suite_add_tcase(s, tc);

	tc = tcase_create("export");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, export_import_round_trip_is_lossless);
	tcase_add_test(tc, a_bad_import_line_imports_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("processes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, processes_can_share_a_new_store);
	tcase_add_test(tc, workers_answer_each_conversation_once);
	tcase_add_test(tc, a_dead_workers_claim_expires);
	tcase_add_test(tc, one_of_many_takeovers_wins);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	pg_server = getenv("FRONTLINE_TEST_PG");
	if (pg_server != NULL && *pg_server == '\0')
		pg_server = NULL;
	return run_suite(store_suite());
}
