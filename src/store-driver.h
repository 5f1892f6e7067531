/*
 * store-driver.h -- what src/store.c needs from a database: the table of
 * functions each backend (store-sqlite.c, store-pg.c) fills in. Internal to
 * the store; nothing else includes it.
 *
 * store.c writes every query once, in SQLite's dialect with ?N
 * placeholders, and a driver rewrites it for its database (PostgreSQL:
 * ?N becomes $N). The few places where the dialects differ are tokens
 * the driver replaces:
 *   @NOW_MS@       the database clock in milliseconds since the epoch
 *   @SKIP_LOCKED@  lock the selected rows, skipping those locked already
 *   @FOR_UPDATE@   lock the selected rows
 *   @BINARY@       compare text byte by byte (a stable export order)
 *   @INSTR@        the function (haystack, needle) giving where needle
 *                  starts in haystack, from 1; 0 when it is not there
 * and, in migrations only, "INTEGER PRIMARY KEY" (a row id assigned by the
 * database) and "INTEGER" (a 64-bit integer).
 */
#ifndef FL_STORE_DRIVER_H
#define FL_STORE_DRIVER_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* A query parameter. */
enum sv_type { SV_NULL, SV_INT, SV_TEXT };
struct sv {
	enum sv_type type;
	int64_t i;
	const char *s;
};
#define SV_INT64(x) ((struct sv){.type = SV_INT, .i = (x)})
#define SV_STR(x)   ((struct sv){.type = (x) != NULL ? SV_TEXT : SV_NULL, .s = (x)})

/* What a failed statement was, when the store reacts to it. */
enum store_err {
	STORE_ERR_OTHER,
	STORE_ERR_FOREIGN_KEY, /* a reference to a row that does not exist */
	STORE_ERR_UNIQUE,      /* a duplicate key */
	STORE_ERR_CONNECTION,  /* the connection to the server was lost */
};

/* The rows of one statement, read with the driver's step/text/integer. */
struct store_cur;

struct store_driver {
	const char *name; /* "sqlite", "postgresql" */

	/* Connects to target; on success sets s->db. Returns 0 or -1 with *cause. */
	int (*open)(struct store *s, const char *target, char **cause);
	void (*close)(struct store *s);
	/* The driver's version of a query (tokens replaced); caller frees. */
	char *(*rewrite)(const char *sql);

	/*
	 * Runs SQL without parameters or rows; several statements may be
	 * separated by ';'. 0 or -1 with *cause ("what: message").
	 */
	int (*exec)(struct store *s, const char *sql, const char *what, char **cause);
	/*
	 * Runs a statement: q >= 0 is the store's query q (sql is its
	 * rewritten text; a driver may keep it prepared), q < 0 a statement
	 * run once. Returns a cursor before the first row, or NULL with
	 * *cause and s->err.
	 */
	struct store_cur *(*run)(struct store *s, int q, const char *sql, const struct sv *p, int n,
	                         const char *what, char **cause);
	/* The next row: 1, 0 at the end, -1 with *cause and s->err. */
	int (*step)(struct store_cur *, char **cause);
	/* A column of the current row; NULL for SQL NULL. Valid until the next step. */
	const char *(*text)(struct store_cur *, int col);
	int64_t (*integer)(struct store_cur *, int col);
	/* Rows changed by the statement, after its last step. */
	int64_t (*changes)(struct store_cur *);
	void (*end)(struct store_cur *);

	/* Transactions: begin takes the write lock where the database has one. */
	int (*begin)(struct store *s, char **cause);
	/* A read-only transaction on one snapshot (the export); ended with rollback. */
	int (*begin_read)(struct store *s, char **cause);
	int (*commit)(struct store *s, char **cause);
	void (*rollback)(struct store *s);
	/* 1 when the open transaction was ended or spoilt by an error. */
	int (*tx_failed)(struct store *s);

	/*
	 * The schema version (0: none yet). migrate_lock starts the migration
	 * transaction (serialising migrating processes); set_version records
	 * the version inside it.
	 */
	int (*get_version)(struct store *s, int *v, char **cause);
	int (*migrate_lock)(struct store *s, char **cause);
	int (*set_version)(struct store *s, int v, char **cause);
	/* After an import: row ids continue past the largest imported id (may be NULL). */
	int (*after_import)(struct store *s, const char *table, char **cause);

	/* Notifications; NULL where the database has none. */
	int (*notify)(struct store *s, const char *channel, const char *payload, char **cause);
	int (*listen)(struct store *s, const char *channel, char **cause);
	int (*notify_fd)(struct store *s);
	/* fn per notification; own: sent by this connection's transactions. */
	int (*notifications)(struct store *s,
	                     void (*fn)(void *arg, const char *channel, const char *payload,
	                                int own),
	                     void *arg, char **cause);
};

/* sql with each tokens[i][0] replaced by tokens[i][1] (the first that matches); caller frees. */
char *store_sql_tokens(const char *sql, const char *const (*tokens)[2], size_t n);

extern const struct store_driver store_sqlite_driver;
extern const struct store_driver store_pg_driver;

/* The part of struct store the drivers share with store.c. */
struct store_common {
	const struct store_driver *drv;
	void *db;           /* the driver's connection */
	int in_tx;          /* store_begin was called and not yet committed or rolled back */
	enum store_err err; /* what the last failure was */
};

#endif
