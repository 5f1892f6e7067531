/* cmd-db.c -- `frontline db migrate|status|export|import`: the store's schema and contents. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
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

/* Options: --help, and --json / --out FILE where the command has them. */
static int
db_options(const struct cmd_entry *e, int argc, char **argv, int *json, const char **out)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		if (c == 'h') {
			cmd_help(e, stdout);
			return EX_OK;
		}
		if (c == 'j' && json != NULL)
			*json = 1;
		else if (c == 'o' && out != NULL)
			*out = optarg;
		else {
			cmd_help(e, stderr);
			return EX_USAGE;
		}
	}
	return -1;
}

static int
cmd_db_migrate(struct ctx *ctx, int argc, char **argv)
{
	int ex = db_options(&cmd_db_migrate_entry, argc, argv, NULL, NULL);
	if (ex >= 0)
		return ex;
	if (optind != argc) {
		cmd_help(&cmd_db_migrate_entry, stderr);
		return EX_USAGE;
	}
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
cmd_db_status(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	int ex = db_options(&cmd_db_status_entry, argc, argv, &json, NULL);
	if (ex >= 0)
		return ex;
	if (optind != argc) {
		cmd_help(&cmd_db_status_entry, stderr);
		return EX_USAGE;
	}
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
	if (json) {
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

static int
cmd_db_export(struct ctx *ctx, int argc, char **argv)
{
	const char *out = NULL;
	int ex = db_options(&cmd_db_export_entry, argc, argv, NULL, &out);
	if (ex >= 0)
		return ex;
	if (optind != argc) {
		cmd_help(&cmd_db_export_entry, stderr);
		return EX_USAGE;
	}
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
	int rc = store_export(st, f, &rows, &cause);
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

static int
cmd_db_import(struct ctx *ctx, int argc, char **argv)
{
	int ex = db_options(&cmd_db_import_entry, argc, argv, NULL, NULL);
	if (ex >= 0)
		return ex;
	if (optind != argc - 1) {
		cmd_help(&cmd_db_import_entry, stderr);
		return EX_USAGE;
	}
	const char *path = argv[optind];
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
	int rc = store_import(st, f, std ? "(stdin)" : path, &rows, &cause);
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
    .args = "",
    .summary = "bring the store's schema up to this frontline's (prints from -> to)",
    .exec = cmd_db_migrate,
    .help = "Exit 65 when the database's schema is newer than this frontline.\n\n" DB_HELP,
};

const struct cmd_entry cmd_db_status_entry = {
    .name = "db",
    .verb = "status",
    .args = "[--json]",
    .summary = "the store's backend, schema, conversations, pending work and live claims",
    .exec = cmd_db_status,
    .help = "  --json           the status as a JSON object\n" DB_HELP,
};

const struct cmd_entry cmd_db_export_entry = {
    .name = "db",
    .verb = "export",
    .args = "[--out FILE]",
    .summary = "write every table of the store as JSON Lines, ids kept",
    .exec = cmd_db_export,
    .help = "  --out FILE       write to FILE (whole or not at all) instead of stdout\n" DB_HELP,
};

const struct cmd_entry cmd_db_import_entry = {
    .name = "db",
    .verb = "import",
    .args = "FILE",
    .summary = "load an export into an empty store, in one transaction (FILE - is stdin)",
    .exec = cmd_db_import,
    .help = "Exit 65 with FILE:LINE: for a bad line (nothing is imported), 73 when\n"
            "the store is not empty.\n\n" DB_HELP,
};
