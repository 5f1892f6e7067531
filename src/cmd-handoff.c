/* cmd-handoff.c -- frontline handoff list|show: the packets humans pick up. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "safe-text.h"
#include "store.h"

static struct store *
open_store(struct ctx *ctx, int *ex)
{
	char *cause = NULL, *db = ctx_db_path(ctx);
	struct store *st = db ? store_open(db, &cause) : NULL;
	if (st == NULL) {
		char *shown = db ? store_target_redacted(db) : xstrdup("(no state directory)");
		if (db != NULL || ctx->settings != NULL) /* else a broken config file, reported */
			fl_warnx("cannot open the store %s: %s", shown, cause ? cause : "no HOME");
		free(shown);
		*ex = db == NULL && ctx->settings == NULL ? EX_CONFIG : EX_NOINPUT;
	}
	free(cause);
	free(db);
	return st;
}

static int
cmd_handoff_list(struct ctx *ctx, const struct cmd_args *a)
{
	int ex = EX_OK;
	struct store *st = open_store(ctx, &ex);
	if (st == NULL)
		return ex;
	cJSON *list = NULL;
	char *cause = NULL;
	if (store_handoff_list(st, &list, &cause) != 0) {
		fl_warnx("%s", cause);
		free(cause);
		store_close(st);
		return EX_IOERR;
	}
	if (cmd_args_has(a, "json")) {
		char *s = cJSON_Print(list);
		puts(s);
		free(s);
	} else if (cJSON_GetArraySize(list) == 0)
		printf("no handoff packets\n");
	else {
		const cJSON *h;
		/* On a terminal: a script reading the rows gets rows alone, as before. */
		if (isatty(STDOUT_FILENO))
			printf("%5s  %-24s  %-12s  %s\n", "id", "created", "customer", "reason");
		cJSON_ArrayForEach(h, list)
		{
			/* One packet a line: the customer's id is theirs to choose. */
			char *who = text_sanitize_line(
			    cJSON_GetStringValue(cJSON_GetObjectItem(h, "customer")));
			char *why = text_sanitize_line(
			    cJSON_GetStringValue(cJSON_GetObjectItem(h, "reason")));
			text_printf(stdout, "%5d  %-24s  %-12s  %s\n",
			            cJSON_GetObjectItem(h, "id")
			                ? cJSON_GetObjectItem(h, "id")->valueint
			                : 0,
			            cJSON_GetStringValue(cJSON_GetObjectItem(h, "created")) ?: "",
			            who, why);
			free(who);
			free(why);
		}
	}
	cJSON_Delete(list);
	store_close(st);
	return EX_OK;
}

static int
cmd_handoff_show(struct ctx *ctx, const struct cmd_args *a)
{
	int ex = EX_OK;
	char *end;
	long id = strtol(a->argv[0], &end, 10);
	if (*end != '\0' || id <= 0) {
		fl_warnx("'%s' is not a handoff id", a->argv[0]);
		return EX_USAGE;
	}
	struct store *st = open_store(ctx, &ex);
	if (st == NULL)
		return ex;
	cJSON *h = NULL;
	char *cause = NULL;
	if (store_handoff_get(st, id, &h, &cause) != 0) {
		fl_warnx("%s", cause);
		free(cause);
		store_close(st);
		return EX_IOERR;
	}
	if (h == NULL) {
		fl_warnx("no handoff packet %ld", id);
		ex = EX_NOINPUT;
	} else if (cmd_args_has(a, "json")) {
		char *s = cJSON_Print(h);
		puts(s);
		free(s);
	} else {
		text_printf(stdout, "Handoff %ld -> %s (%s)\n%s\n", id,
		            cJSON_GetStringValue(cJSON_GetObjectItem(h, "queue")) ?: "?",
		            cJSON_GetStringValue(cJSON_GetObjectItem(h, "reason")) ?: "?",
		            cJSON_GetStringValue(cJSON_GetObjectItem(h, "text")) ?: "");
	}
	cJSON_Delete(h);
	store_close(st);
	return ex;
}

static const struct cmd_option options[] = {
    {.name = "json", .help = "as JSON"},
    {0},
};

const struct cmd_entry cmd_handoff_list_entry = {
    .name = "handoff",
    .verb = "list",
    .summary = "the handoff packets, newest first",
    .options = options,
    .exec = cmd_handoff_list,
};

const struct cmd_entry cmd_handoff_show_entry = {
    .name = "handoff",
    .verb = "show",
    .summary = "one handoff packet: the summary a human reads before taking over",
    .options = options,
    .operands = "ID",
    .min_operands = 1,
    .max_operands = 1,
    .exec = cmd_handoff_show,
};
