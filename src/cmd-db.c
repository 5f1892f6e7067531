/* cmd-db.c -- `frontline db migrate|status|export|import`: the store's schema and contents. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "progress.h"
#include "store.h"

#define DB_HELP                                                                                    \
	"The store is --db: a SQLite file, or postgresql://USER@HOST:PORT/DB (a\n"                 \
	"password is better kept in ~/.pgpass or $PGPASSWORD than in the URI).\n"

/*
 * The store without migrating it; NULL with the problem printed and *ex
 * set. Only migrate makes a SQLite file that is not there.
 */
static struct store *
db_open(struct ctx *ctx, int create, int *ex)
{
	char *cause = NULL, *target = ctx_db_path(ctx);
	if (target == NULL && ctx->settings == NULL) { /* a broken config file, reported */
		*ex = EX_CONFIG;
		return NULL;
	}
	if (target == NULL) {
		fl_warnx("no store: give --db (there is no HOME for the default)");
		*ex = EX_USAGE;
		return NULL;
	}
	if (!create && !store_is_postgres(target) && access(target, F_OK) != 0) {
		fl_warnx("no store at %s: %s", target, strerror(errno));
		free(target);
		*ex = EX_NOINPUT;
		return NULL;
	}
	struct store *st = store_open_unmigrated(target, &cause);
	if (st == NULL) {
		char *shown = store_target_redacted(target);
		fl_warnx("cannot open the store %s: %s", shown, cause);
		free(shown);
		*ex = EX_UNAVAILABLE;
	}
	free(cause);
	free(target);
	return st;
}

static int
cmd_db_migrate(struct ctx *ctx, const struct cmd_args *a)
{
	int ex;
	struct store *st = db_open(ctx, 1, &ex);
	if (st == NULL)
		return ex;
	int from, to;
	char *cause = NULL;
	if (store_migrate(st, &from, &to, &cause) != 0) {
		fl_warnx("%s", cause);
		free(cause);
		store_close(st);
		return EX_DATAERR;
	}
	if (from == to)
		printf("schema version %d: up to date (%s)\n", to, store_backend(st));
	else
		printf("schema version %d -> %d (%s)\n", from, to, store_backend(st));
	store_close(st);
	return EX_OK;
}

static int
cmd_db_status(struct ctx *ctx, const struct cmd_args *a)
{
	int ex;
	struct store *st = db_open(ctx, 0, &ex);
	if (st == NULL)
		return ex;
	cJSON *o = NULL;
	char *cause = NULL;
	if (store_status(st, &o, &cause) != 0) {
		fl_warnx("%s", cause);
		free(cause);
		store_close(st);
		return EX_UNAVAILABLE;
	}
	store_close(st);
	char *target = ctx_db_path(ctx), *shown = store_target_redacted(target);
	free(target);
	cJSON_AddStringToObject(o, "target", shown);
	free(shown);
	if (cmd_args_has(a, "json")) {
		char *s = cJSON_Print(o);
		puts(s);
		free(s);
		cJSON_Delete(o);
		return EX_OK;
	}
	const cJSON *schema = cJSON_GetObjectItem(o, "schema");
	int have = cJSON_GetObjectItem(schema, "have")->valueint;
	int want = cJSON_GetObjectItem(schema, "want")->valueint;
	printf("backend:  %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(o, "backend")));
	printf("target:   %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(o, "target")));
	printf("schema:   %d (this frontline: %d%s)\n", have, want,
	       have < want   ? "; run 'frontline db migrate'"
	       : have > want ? "; the database is newer"
	                     : "");
	if (cJSON_GetObjectItem(o, "open") != NULL) {
		printf("open:     %d conversations\n", cJSON_GetObjectItem(o, "open")->valueint);
		printf("pending:  %d waiting for the AI\n",
		       cJSON_GetObjectItem(o, "pending")->valueint);
		printf("claimed:  %d", cJSON_GetObjectItem(o, "claimed")->valueint);
		const cJSON *w;
		const char *sep = " (";
		cJSON_ArrayForEach(w, cJSON_GetObjectItem(o, "workers"))
		{
			printf("%s%s: %d", sep, w->string, w->valueint);
			sep = ", ";
		}
		printf("%s\n", *sep == ',' ? ")" : "");
	}
	cJSON_Delete(o);
	return EX_OK;
}

/* Exports the store to f through a stream that shows the progress; 0, or -1 with *cause. */
static int
export_to(struct store *st, FILE *f, const struct cmd_args *a, int64_t *rows, char **cause)
{
	struct progress pg = {.what = "export", .unit = "lines", .total = -1, .step = 1000};
	cmd_progress(a, &pg);
	FILE *s = pg.kind == PROGRESS_NONE ? f : progress_stream(f, "w", &pg);
	if (s == NULL)
		s = f;
	int rc = store_export(st, s, rows, cause);
	if (s != f && fclose(s) != 0 && rc == 0) {
		*cause = xasprintf("%s", strerror(errno));
		rc = -1;
	}
	return rc;
}

static int
cmd_db_export(struct ctx *ctx, const struct cmd_args *a)
{
	const char *out = cmd_args_get(a, "out");
	int ex;
	struct store *st = db_open(ctx, 0, &ex);
	if (st == NULL)
		return ex;
	/* A file appears whole or not at all. */
	char *tmp =
	    out && strcmp(out, "-") != 0 ? xasprintf("%s.tmp.%ld", out, (long)getpid()) : NULL;
	FILE *f = tmp ? fopen(tmp, "w") : stdout;
	if (f == NULL) {
		fl_warnx("%s: %s", tmp, strerror(errno));
		free(tmp);
		store_close(st);
		return EX_CANTCREAT;
	}
	int64_t rows;
	char *cause = NULL;
	int rc = export_to(st, f, a, &rows, &cause);
	store_close(st);
	if (tmp != NULL) {
		if (fclose(f) != 0 && rc == 0) {
			cause = xasprintf("%s: %s", out, strerror(errno));
			rc = -1;
		}
		if (rc == 0 && rename(tmp, out) != 0) {
			cause = xasprintf("%s: %s", out, strerror(errno));
			rc = -1;
		}
		if (rc != 0)
			unlink(tmp);
		free(tmp);
	}
	if (rc != 0) {
		fl_warnx("export: %s", cause);
		free(cause);
		return EX_IOERR;
	}
	if (out != NULL && strcmp(out, "-") != 0)
		fprintf(stderr, "exported %lld rows to %s\n", (long long)rows, out);
	return EX_OK;
}

/* Imports from f (name in messages) through a stream that shows the progress. */
static int
import_from(struct store *st, FILE *f, const char *name, const struct cmd_args *a, int64_t *rows,
            char **cause)
{
	struct progress pg = {.what = "import", .unit = "lines"};
	cmd_progress(a, &pg);
	pg.total = f == stdin ? -1 : progress_count_lines(name);
	pg.step = pg.total > 0 ? (pg.total + 99) / 100 : 1000;
	FILE *s = pg.kind == PROGRESS_NONE ? f : progress_stream(f, "r", &pg);
	if (s == NULL)
		s = f;
	int rc = store_import(st, s, f == stdin ? "(stdin)" : name, rows, cause);
	if (s != f)
		fclose(s);
	return rc;
}

static int
cmd_db_import(struct ctx *ctx, const struct cmd_args *a)
{
	const char *path = a->argv[0];
	int std = strcmp(path, "-") == 0;
	FILE *f = std ? stdin : fopen(path, "r");
	if (f == NULL) {
		fl_warnx("%s: %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	/* A new store is made (migrated) first: the import needs the tables. */
	char *cause = NULL, *target = ctx_db_path(ctx);
	struct store *st = target ? store_open(target, &cause) : NULL;
	if (st == NULL) {
		char *shown = store_target_redacted(target);
		fl_warnx("cannot open the store %s: %s", shown, cause ? cause : "no --db");
		free(shown);
		free(cause);
		free(target);
		if (!std)
			fclose(f);
		return EX_UNAVAILABLE;
	}
	free(target);
	int64_t rows;
	int rc = import_from(st, f, path, a, &rows, &cause);
	store_close(st);
	if (!std)
		fclose(f);
	if (rc != 0) {
		fl_warnx("%s%s", rc == 1 ? "" : "import: ", cause);
		free(cause);
		return rc == 1 ? EX_DATAERR : rc == 2 ? EX_CANTCREAT : EX_IOERR;
	}
	printf("imported %lld rows\n", (long long)rows);
	return EX_OK;
}

const struct cmd_entry cmd_db_migrate_entry = {
    .name = "db",
    .verb = "migrate",
    .summary = "bring the store's schema up to this frontline's (prints from -> to)",
    .exec = cmd_db_migrate,
    .help = "Exit 65 when the database's schema is newer than this frontline.\n\n" DB_HELP,
};

static const struct cmd_option status_options[] = {
    {.name = "json", .help = "the status as a JSON object"},
    {0},
};

const struct cmd_entry cmd_db_status_entry = {
    .name = "db",
    .verb = "status",
    .summary = "the store's backend, schema, conversations, pending work and live claims",
    .options = status_options,
    .exec = cmd_db_status,
    .help = DB_HELP,
};

static const struct cmd_option export_options[] = {
    {.name = "out",
     .value = CMD_FILE,
     .arg = "FILE",
     .help = "write to FILE (whole or not at all) instead of stdout"},
    CMD_OPTION_PROGRESS,
    {0},
};

const struct cmd_entry cmd_db_export_entry = {
    .name = "db",
    .verb = "export",
    .summary = "write every table of the store as JSON Lines, ids kept",
    .options = export_options,
    .exec = cmd_db_export,
    .help = DB_HELP,
};

static const struct cmd_option import_options[] = {
    CMD_OPTION_PROGRESS,
    {0},
};

const struct cmd_entry cmd_db_import_entry = {
    .name = "db",
    .verb = "import",
    .summary = "load an export into an empty store, in one transaction (FILE - is stdin)",
    .options = import_options,
    .operands = "FILE",
    .min_operands = 1,
    .max_operands = 1,
    .operand_value = CMD_FILE,
    .exec = cmd_db_import,
    .help = "Exit 65 with FILE:LINE: for a bad line (nothing is imported), 73 when\n"
            "the store is not empty.\n\n" DB_HELP,
};
