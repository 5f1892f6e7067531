/* cmd-handoff-review.c -- frontline handoff review: mark what the AI got wrong in a handoff. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "review.h"
#include "safe-text.h"
#include "store.h"
#include "types.h"

static const char *
str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return s ? s : "";
}

static int64_t
num(const cJSON *o, const char *k)
{
	return (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* "category, reason" of a correction's wrong list, or "nothing". Caller frees. */
static char *
wrong_list(const cJSON *corr)
{
	struct buf b;
	buf_init(&b, 0);
	const cJSON *w;
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(corr, "wrong"))
	{
		if (cJSON_IsString(w))
			buf_printf(&b, "%s%s", b.len ? ", " : "", w->valuestring);
	}
	if (b.len == 0)
		buf_adds(&b, "nothing");
	char *s = buf_steal(&b);
	buf_free(&b); /* buf_steal leaves an empty buffer behind */
	return s;
}

/* ------------------------------------------------------------------ list */

static int
review_list(struct store *st, int json)
{
	cJSON *list = NULL, *reviews = NULL;
	char *cause = NULL;
	if (store_handoff_list(st, &list, &cause) != 0 ||
	    store_reviews(st, &reviews, &cause) != 0) {
		fl_warnx("%s", cause);
		free(cause);
		cJSON_Delete(list);
		return EX_IOERR;
	}
	cJSON *out = cJSON_CreateArray();
	const cJSON *h;
	int unreviewed = 0;
	cJSON_ArrayForEach(h, list)
	{
		const cJSON *r = review_latest(reviews, num(h, "id"));
		const cJSON *corr = cJSON_GetObjectItemCaseSensitive(r, "correction");
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddNumberToObject(o, "id", (double)num(h, "id"));
			cJSON_AddNumberToObject(o, "conversation", (double)num(h, "conversation"));
			cJSON_AddStringToObject(o, "customer", str(h, "customer"));
			cJSON_AddStringToObject(o, "reason", str(h, "reason"));
			cJSON_AddBoolToObject(o, "reviewed", r != NULL);
			cJSON_AddItemToObject(o, "review",
			                      corr ? cJSON_Duplicate(corr, 1) : cJSON_CreateNull());
			cJSON_AddItemToArray(out, o);
			continue;
		}
		char *w = corr ? wrong_list(corr) : NULL;
		char *who = text_sanitize_line(str(h, "customer"));
		text_printf(stdout, "%5lld  %-10s  %-12s  %-32s%s%s\n", (long long)num(h, "id"),
		            r ? "reviewed" : "unreviewed", who, str(h, "reason"),
		            w ? "  wrong: " : "", w ? w : "");
		free(who);
		free(w);
		unreviewed += r == NULL;
	}
	if (json) {
		char *s = cJSON_Print(out);
		puts(s);
		free(s);
	} else if (cJSON_GetArraySize(list) == 0)
		printf("no handoff packets\n");
	else
		printf("%d of %d unreviewed\n", unreviewed, cJSON_GetArraySize(list));
	cJSON_Delete(out);
	cJSON_Delete(list);
	cJSON_Delete(reviews);
	return EX_OK;
}

/* ---------------------------------------------------------------- export */

static int
review_export_to(struct store *st, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (f == NULL) {
		fl_warnx("cannot write %s: %s", path, strerror(errno));
		return EX_CANTCREAT;
	}
	size_t n = 0;
	char *cause = NULL;
	int rc = review_export(st, f, &n, &cause);
	if (fflush(f) != 0 && rc == 0) {
		rc = -1;
		cause = xasprintf("%s", strerror(errno));
	}
	if (f != stdout && fclose(f) != 0 && rc == 0) {
		rc = -1;
		cause = xasprintf("%s", strerror(errno));
	}
	if (rc != 0) {
		fl_warnx("export to %s: %s", path, cause);
		free(cause);
		return EX_IOERR;
	}
	fprintf(stderr, "frontline: %zu reviewed ticket%s written to %s\n", n, n == 1 ? "" : "s",
	        strcmp(path, "-") == 0 ? "standard output" : path);
	return EX_OK;
}

/* ----------------------------------------------------------------- save */

/* Stores the edit of rp and says what was recorded. */
static int
save(struct store *st, const struct review_packet *rp, const struct review_edit *e,
     const char *reviewer)
{
	cJSON *corr = review_correction(rp, e);
	int64_t id;
	char *cause = NULL;
	int ex = EX_OK;
	if (store_review_add(st, rp->id, reviewer, corr, &id, &cause) != 0) {
		fl_warnx("%s", cause);
		free(cause);
		ex = EX_IOERR;
	} else {
		char *w = wrong_list(corr);
		printf("handoff %lld reviewed (review %lld): category %s, %s; wrong: %s\n",
		       (long long)rp->id, (long long)id,
		       str(corr, "category")[0] ? str(corr, "category") : "?",
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(corr, "escalated"))
		           ? str(corr, "reason")
		           : "should not have escalated",
		       w);
		free(w);
	}
	cJSON_Delete(corr);
	return ex;
}

/* ----------------------------------------------------------- interactive */

/* The packet and its transcript, for the reviewer to read. */
static void
show(const struct review_packet *rp)
{
	text_printf(stdout, "\n=== Handoff %lld  (conversation %lld)  reason %s  queue %s\n",
	            (long long)rp->id, (long long)rp->conv, rp->ai_reason ? rp->ai_reason : "?",
	            str(rp->packet, "queue"));
	text_printf(stdout, "%s\n--- transcript\n", str(rp->packet, "text"));
	const cJSON *m;
	cJSON_ArrayForEach(m, rp->messages)
	{
		text_printf(stdout, "%-8s %s\n", str(m, "role"), str(m, "text"));
	}
	text_printf(stdout, "---\nThe AI said: category %s, escalation reason %s\n",
	            rp->ai_category ? rp->ai_category : "(unknown)",
	            rp->ai_reason ? rp->ai_reason : "?");
}

/* One line from stdin without its newline, or NULL at the end. Caller frees. */
static char *
ask(const char *prompt)
{
	char *line = NULL;
	size_t cap = 0;
	fputs(prompt, stdout);
	fflush(stdout);
	if (getline(&line, &cap, stdin) < 0) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	str_trim(line);
	return line;
}

enum walk { WALK_SAVED, WALK_SKIPPED, WALK_QUIT };

/* Asks about one packet; on valid answers stores the review. */
static enum walk
walk_one(struct store *st, const struct review_packet *rp, const struct policy *p,
         const char *reviewer, int *ex)
{
	struct review_edit e = {0};
	char *cat = NULL, *reason = NULL, *note = NULL, *l;
	enum walk w = WALK_QUIT;
	show(rp);
	for (;;) {
		free(cat);
		if ((cat = ask("Right category (Enter: the AI's; s skip; q quit): ")) == NULL)
			goto out;
		if (strcmp(cat, "q") == 0)
			goto out;
		if (strcmp(cat, "s") == 0) {
			w = WALK_SKIPPED;
			goto out;
		}
		e.category = *cat ? cat : NULL;
		struct review_edit only = {.category = e.category};
		char *cause = NULL;
		if (review_edit_check(&only, p, &cause) == 0)
			break;
		text_printf(stdout, "%s\n", cause);
		free(cause);
	}
	for (;;) {
		free(reason);
		if ((reason =
		         ask("Right escalation reason (Enter: the AI's; 'none': should not have "
		             "escalated): ")) == NULL)
			goto out;
		e.no_escalation = strcmp(reason, "none") == 0;
		e.reason = *reason && !e.no_escalation ? reason : NULL;
		struct review_edit only = {.reason = e.reason};
		char *cause = NULL;
		if (review_edit_check(&only, p, &cause) == 0)
			break;
		text_printf(stdout, "%s\n", cause);
		free(cause);
	}
	printf("Information missing from the packet, one per line (empty line: done):\n");
	while ((l = ask("  missing: ")) != NULL && *l != '\0')
		strv_take(&e.missing, l);
	free(l);
	if ((note = ask("Note (optional): ")) != NULL)
		e.note = note;
	*ex = save(st, rp, &e, reviewer);
	w = *ex == EX_OK ? WALK_SAVED : WALK_QUIT;
out:
	strv_free(&e.missing);
	free(cat);
	free(reason);
	free(note);
	return w;
}

static int
review_walk(struct store *st, const struct policy *p, const char *reviewer)
{
	cJSON *list = NULL, *reviews = NULL;
	char *cause = NULL;
	int ex = EX_OK, saved = 0, todo = 0;
	if (store_handoff_list(st, &list, &cause) != 0 ||
	    store_reviews(st, &reviews, &cause) != 0) {
		fl_warnx("%s", cause);
		free(cause);
		cJSON_Delete(list);
		return EX_IOERR;
	}
	/* Oldest first: the list is newest first. */
	for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
		int64_t id = num(cJSON_GetArrayItem(list, i), "id");
		if (review_latest(reviews, id) != NULL)
			continue;
		todo++;
		struct review_packet rp;
		int got = review_packet_load(st, id, &rp, &cause);
		if (got < 0) {
			fl_warnx("%s", cause);
			free(cause);
			ex = EX_IOERR;
			break;
		}
		if (got == 1)
			continue;
		enum walk w = walk_one(st, &rp, p, reviewer, &ex);
		review_packet_free(&rp);
		saved += w == WALK_SAVED;
		if (w == WALK_QUIT)
			break;
	}
	if (todo == 0)
		printf("every handoff packet is reviewed\n");
	else
		printf("%d review%s saved\n", saved, saved == 1 ? "" : "s");
	cJSON_Delete(list);
	cJSON_Delete(reviews);
	return ex;
}

/* ------------------------------------------------------------------ main */

/*
 * Whether the options go together: a packet reviewed, the list, the
 * export or the walk, one at a time. EX_OK, or EX_USAGE having said why.
 */
static int
check_request(const struct cmd_args *a, const struct review_edit *e, int correcting)
{
	int ok = cmd_args_has(a, "ok"), list = cmd_args_has(a, "list");
	const char *export = cmd_args_get(a, "export");
	if ((list && export) || ((list || export) && (a->argc > 0 || correcting || ok))) {
		fl_warnx("--list, --export and reviewing a packet go alone");
		return EX_USAGE;
	}
	if (ok && (e->category || e->reason || e->no_escalation || e->missing.n)) {
		fl_warnx("--ok says the AI got it right: it takes no correction (only --note)");
		return EX_USAGE;
	}
	return EX_OK;
}

/* Reviews packet id: stores the edit. */
static int
review_one(struct store *st, long long id, const struct review_edit *e, const char *reviewer)
{
	struct review_packet rp = {0};
	char *cause = NULL;
	int ex;
	switch (review_packet_load(st, id, &rp, &cause)) {
	case -1:
		fl_warnx("%s", cause);
		free(cause);
		ex = EX_IOERR;
		break;
	case 1:
		fl_warnx("no handoff packet %lld", id);
		ex = EX_NOINPUT;
		break;
	default:
		ex = save(st, &rp, e, reviewer);
	}
	review_packet_free(&rp);
	return ex;
}

static int
cmd_handoff_review(struct ctx *ctx, const struct cmd_args *a)
{
	struct review_edit e = {
	    .category = cmd_args_get(a, "category"),
	    .reason = cmd_args_get(a, "reason"),
	    .no_escalation = cmd_args_has(a, "no-escalation"),
	    .note = cmd_args_get(a, "note"),
	};
	const struct strv *missing = cmd_args_all(a, "missing");
	for (size_t i = 0; i < missing->n; i++)
		strv_add(&e.missing, missing->v[i]);
	const char *reviewer = cmd_args_get(a, "reviewer"), *export = cmd_args_get(a, "export");
	const char *arg = a->argc > 0 ? a->argv[0] : NULL;
	int list = cmd_args_has(a, "list"), ok = cmd_args_has(a, "ok");
	int correcting = e.category || e.reason || e.no_escalation || e.missing.n || e.note;
	int interactive = !list && !export && arg == NULL;
	struct store *st = NULL;
	const struct policy *p = NULL; /* it names the reasons its handlers give */
	char *cause = NULL, *end = NULL;
	long long id = arg ? strtoll(arg, &end, 10) : 0;

	int ex = check_request(a, &e, correcting);
	if (ex == EX_OK && (e.reason != NULL || interactive) && (p = ctx_policy(ctx)) == NULL)
		ex = EX_CONFIG;
	if (ex != EX_OK)
		goto out;
	if (review_edit_check(&e, p, &cause) != 0) {
		fl_warnx("%s", cause);
		free(cause);
		ex = EX_USAGE;
	} else if (arg != NULL && (*end != '\0' || id <= 0)) {
		fl_warnx("'%s' is not a handoff id", arg);
		ex = EX_USAGE;
	} else if (arg != NULL && !correcting && !ok) {
		fl_warnx("nothing to record: give --ok, or what was wrong (--category, --reason, "
		         "--no-escalation, --missing, --note)");
		ex = EX_USAGE;
	} else if (interactive && (correcting || ok)) {
		fl_warnx("a correction needs the handoff ID it is about");
		ex = EX_USAGE;
	} else if (interactive && !(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))) {
		fl_warnx("no handoff ID: the interactive walk needs a terminal");
		cmd_help(&cmd_handoff_review_entry, stderr);
		ex = EX_USAGE;
	}
	if (ex != EX_OK || (st = ctx_store(ctx, &ex)) == NULL)
		goto out;
	if (reviewer == NULL) {
		const char *u = getenv("USER");
		reviewer = u && *u ? u : "reviewer";
	}
	if (list)
		ex = review_list(st, cmd_args_has(a, "json"));
	else if (export)
		ex = review_export_to(st, export);
	else if (interactive)
		ex = review_walk(st, p, reviewer);
	else
		ex = review_one(st, id, &e, reviewer);
out:
	strv_free(&e.missing);
	store_close(st);
	return ex;
}

static const struct cmd_option options[] = {
    {.name = "category",
     .value = CMD_TEXT,
     .arg = "C",
     .help = "the right category (billing, technical, account, shipping, returns, general)"},
    {.name = "reason", .value = CMD_TEXT, .arg = "R", .help = "the right escalation reason"},
    {.name = "no-escalation", .help = "the conversation should not have escalated"},
    {.name = "missing",
     .value = CMD_TEXT,
     .arg = "TEXT",
     .repeat = 1,
     .help = "information the packet should have carried (repeatable)"},
    {.name = "note", .value = CMD_TEXT, .arg = "TEXT", .help = "a note for the trainers"},
    {.name = "ok", .help = "the AI got it right"},
    {.name = "reviewer", .value = CMD_TEXT, .arg = "NAME", .help = "who reviews (default: $USER)"},
    {.name = "list", .help = "every packet, reviewed or not, with what was wrong"},
    {.name = "json", .help = "with --list: as JSON"},
    {.name = "export",
     .value = CMD_FILE,
     .arg = "FILE|-",
     .help = "the reviewed handoffs as JSON Lines tickets (frontline replay reads them)"},
    {0},
};

const struct cmd_entry cmd_handoff_review_entry = {
    .name = "handoff",
    .verb = "review",
    .summary = "mark what the AI got wrong in handoff packets; export the corrections as "
               "tickets",
    .options = options,
    .operands = "ID",
    .max_operands = 1,
    .usage = "[ID [--ok | --category C] [--reason R | --no-escalation] [--missing TEXT]... "
             "[--note TEXT] [--reviewer NAME]] | --list [--json] | --export FILE|-",
    .exec = cmd_handoff_review,
    .help = "ID is the handoff packet reviewed (see handoff list). Without ID on a\n"
            "terminal, walks the unreviewed packets one by one.\n",
};
