/* cmd.c -- the command table and what commands share. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "classifier.h"
#include "cmd.h"
#include "loop.h"
#include "model.h"
#include "paths.h"
#include "safe-text.h"
#include "store.h"

static const struct cmd_entry *const cmd_table[] = {
    &cmd_console_entry,
    &cmd_chat_entry,
    &cmd_worker_entry,
    &cmd_customer_entry,
    &cmd_serve_entry,
    &cmd_triage_entry,
    &cmd_triage_train_entry,
    &cmd_triage_eval_entry,
    &cmd_handoff_list_entry,
    &cmd_handoff_show_entry,
    &cmd_handoff_review_entry,
    &cmd_kb_search_entry,
    &cmd_kb_audit_entry,
    &cmd_policy_check_entry,
    &cmd_demo_entry,
    &cmd_replay_entry,
    &cmd_drift_entry,
    &cmd_metrics_entry,
    &cmd_rollout_status_entry,
    &cmd_rollout_advance_entry,
    &cmd_rollout_rollback_entry,
    &cmd_canary_start_entry,
    &cmd_canary_status_entry,
    &cmd_canary_promote_entry,
    &cmd_canary_rollback_entry,
    &cmd_db_migrate_entry,
    &cmd_db_status_entry,
    &cmd_db_export_entry,
    &cmd_db_import_entry,

};

void
fl_warnx(const char *fmt, ...)
{
	va_list ap;
	fputs("frontline: ", stderr);
	va_start(ap, fmt);
	text_vprintf(stderr, fmt, ap); /* causes quote customer, model and file text */
	va_end(ap);
	fputc('\n', stderr);
}

static void
entry_name(const struct cmd_entry *e, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s", e->name, e->verb ? " " : "", e->verb ? e->verb : "");
}

void
cmd_usage(FILE *f)
{
	fprintf(f, "usage: frontline [--policy FILE] [--kb DIR] [--db FILE|URI] [--config FILE]\n"
	           "                 [--backend offline|openai] COMMAND [ARGS]\n"
	           "       frontline --demo | --help | --version\n\ncommands:\n");
	char name[64];
	int width = 0;
	for (size_t i = 0; i < nitems(cmd_table); i++) {
		entry_name(cmd_table[i], name, sizeof name);
		if ((int)strlen(name) > width)
			width = (int)strlen(name);
	}
	for (size_t i = 0; i < nitems(cmd_table); i++) {
		entry_name(cmd_table[i], name, sizeof name);
		fprintf(f, "  %-*s %s\n", width, name, cmd_table[i]->summary);
	}
	fprintf(f, "\nRun 'frontline COMMAND --help' for a command's options; see frontline(1).\n");
}

void
cmd_help(const struct cmd_entry *e, FILE *f)
{
	char name[64];
	entry_name(e, name, sizeof name);
	fprintf(f, "usage: frontline %s %s\n%s.\n", name, e->args, e->summary);
	if (e->help != NULL)
		fprintf(f, "\n%s", e->help);
}

int
cmd_no_options(const struct cmd_entry *e, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			cmd_help(e, stdout);
			return EX_OK;
		}
		cmd_help(e, stderr);
		return EX_USAGE;
	}
	return -1;
}

int
cmd_dispatch(struct ctx *ctx, int argc, char **argv)
{
	for (size_t i = 0; i < nitems(cmd_table); i++) {
		const struct cmd_entry *e = cmd_table[i];
		if (strcmp(argv[0], e->name) != 0)
			continue;
		if (e->verb == NULL) {
			/* A command that takes text may have verbs too: "triage train". */
			for (size_t j = i + 1; argc > 1 && j < nitems(cmd_table); j++)
				if (strcmp(cmd_table[j]->name, e->name) == 0 &&
				    cmd_table[j]->verb && strcmp(cmd_table[j]->verb, argv[1]) == 0)
					return cmd_table[j]->exec(ctx, argc - 1, argv + 1);
			return e->exec(ctx, argc, argv);
		}
		if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
			FILE *f = argc < 2 ? stderr : stdout;
			fprintf(f, "usage:\n");
			for (size_t j = 0; j < nitems(cmd_table); j++)
				if (strcmp(cmd_table[j]->name, e->name) == 0 && cmd_table[j]->verb)
					fprintf(f, "  frontline %s %s %s\n", e->name,
					        cmd_table[j]->verb, cmd_table[j]->args);
			return argc < 2 ? EX_USAGE : EX_OK;
		}
		for (size_t j = i; j < nitems(cmd_table); j++)
			if (strcmp(cmd_table[j]->name, e->name) == 0 && cmd_table[j]->verb &&
			    strcmp(cmd_table[j]->verb, argv[1]) == 0)
				return cmd_table[j]->exec(ctx, argc - 1, argv + 1);
		fl_warnx("unknown command '%s %s'; try 'frontline %s --help'", argv[0], argv[1],
		         argv[0]);
		return EX_USAGE;
	}
	fl_warnx("unknown command '%s'; try 'frontline --help'", argv[0]);
	return EX_USAGE;
}

void
ctx_data_hint(void)
{
	char *msg = paths_data_missing();
	if (msg != NULL)
		fl_warnx("%s", msg);
	free(msg);
}

struct policy *
ctx_policy(struct ctx *ctx)
{
	char *cause;
	if (ctx->policy_loaded)
		return ctx->policy.current;
	if (policy_watch_init(&ctx->policy, ctx->policy_path, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		fl_warnx("cannot load the policy %s", ctx->policy_path);
		ctx_data_hint();
		free(cause);
		return NULL;
	}
	ctx->policy_loaded = 1;
	return ctx->policy.current;
}

void
ctx_policy_poll(struct ctx *ctx)
{
	char *cause = NULL;
	if (!ctx->policy_loaded)
		return;
	char old[13];
	memcpy(old, ctx->policy.current->version, sizeof old);
	switch (policy_watch_poll(&ctx->policy, &cause)) {
	case 1:
		fl_warnx("policy %s reloaded: version %s -> %s", ctx->policy_path, old,
		         ctx->policy.current->version);
		break;
	case -1:
		fprintf(stderr, "%s\n", cause);
		free(cause);
		break;
	}
}

int
ctx_agents_policy(struct ctx *ctx, struct agents *ag)
{
	ctx_policy_poll(ctx);
	const struct policy *p = ctx->policy.current;
	if (p == NULL || p == ag->policy)
		return 0;
	char *cause = NULL;
	if (ag->triage != NULL && triage_set_policy(ag->triage, p, &cause) != 0) {
		/* The old version stays alive in the watch: triage keeps using it. */
		fl_warnx("triage keeps policy version %s: %s", ag->policy->version, cause);
		free(cause);
		return 0;
	}
	ag->policy = p;
	ctx_freshness(ctx, p, &ag->fresh);
	return 1;
}

void
ctx_freshness(struct ctx *ctx, const struct policy *p, struct kb_freshness *fr)
{
	fr->today = ctx->today;
	fr->stale_after_days = p->stale_after_days;
	fr->volatile_topics = p->volatile_topics;
}

struct kb *
ctx_kb(struct ctx *ctx, int *ex)
{
	struct diag d = {0};
	char *cause = NULL;
	struct stat st;
	if (stat(ctx->kb_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fl_warnx("cannot open the knowledge base %s: %s", ctx->kb_dir,
		         errno ? strerror(errno) : "not a directory");
		ctx_data_hint();
		*ex = EX_NOINPUT;
		return NULL;
	}
	struct kb *kb = kb_open(ctx->kb_dir, NULL, &d, &cause);
	for (size_t i = 0; i < d.msgs.n; i++)
		fprintf(stderr, "%s%s\n", d.msgs.v[i],
		        strstr(d.msgs.v[i], "warning:") ? "" : " (file skipped)");
	diag_free(&d);
	if (kb == NULL) {
		fl_warnx("cannot open the knowledge base: %s", cause);
		*ex = EX_IOERR;
		free(cause);
	}
	return kb;
}

int
ctx_retrieval(struct ctx *ctx, struct policy **p, struct kb **kb, struct kb_freshness *fr)
{
	int ex = EX_OK;
	if ((*p = ctx_policy(ctx)) == NULL)
		return EX_CONFIG;
	if ((*kb = ctx_kb(ctx, &ex)) == NULL)
		return ex;
	ctx_freshness(ctx, *p, fr);
	return EX_OK;
}

struct triage *
ctx_triage(struct ctx *ctx, const struct policy *p, const char *model, int *ex)
{
	char *path = paths_triage_model(ctx->datadir, model, NULL);
	char *data = xasprintf("%s/data/triage", ctx->datadir);
	char *catalog = xasprintf("%s/catalog.yaml", ctx->kb_dir);
	struct stat st;
	char *cause = NULL;
	struct triage *t =
	    triage_open(path, data, stat(catalog, &st) == 0 ? catalog : NULL, p, &cause, ex);
	if (t == NULL) {
		fl_warnx("cannot load the triage engine: %s", cause);
		ctx_data_hint();
		free(cause);
	}
	free(path);
	free(data);
	free(catalog);
	return t;
}

struct classifier *
ctx_intent_model(struct ctx *ctx, const char *option, char **path, const char **source, int *ex)
{
	char *cause = NULL;
	*path = paths_triage_model(ctx->datadir, option, source);
	struct classifier *c = classifier_load(*path, &cause);
	if (c == NULL) {
		*ex = errno == ENOENT ? EX_NOINPUT : EX_DATAERR;
		fl_warnx("cannot load the triage model: %s", cause);
		ctx_data_hint();
		free(cause);
	}
	return c;
}

const struct settings *
ctx_settings(struct ctx *ctx, int *ex)
{
	if (ctx->settings != NULL)
		return ctx->settings;
	char *path = NULL;
	if (ctx->config_path == NULL) {
		char *dir = paths_config_dir();
		if (dir == NULL) /* no HOME: nothing to read */
			return ctx->settings = settings_default();
		path = xasprintf("%s/config.yaml", dir);
		free(dir);
	}
	struct stat st;
	if (path == NULL && stat(ctx->config_path, &st) != 0) {
		fl_warnx("config file %s: %s", ctx->config_path, strerror(errno));
		*ex = EX_NOINPUT;
		return NULL;
	}
	struct diag d = {0};
	ctx->settings = settings_load(path ? path : ctx->config_path, path == NULL, &d);
	if (d.msgs.n > 0) {
		char *all = diag_join(&d);
		fprintf(stderr, "%s\n", all);
		free(all);
	}
	if (ctx->settings == NULL)
		*ex = EX_CONFIG;
	diag_free(&d);
	free(path);
	return ctx->settings;
}

int
ctx_tool_backend(struct ctx *ctx, const char *fixture, struct tool_backend *tb)
{
	int ex = EX_OK;
	const struct settings *s = ctx_settings(ctx, &ex);
	if (s == NULL)
		return ex;
	const struct tools_settings *t = &s->tools;
	char *cause = NULL;
	if (fixture == NULL && t->kind == TOOLS_HTTP) {
		const char *token = t->token_env ? getenv(t->token_env) : NULL;
		if (t->token_env != NULL && (token == NULL || *token == '\0')) {
			fl_warnx("tools: the http backend's token variable %s is not set",
			         t->token_env);
			return EX_CONFIG;
		}
		/* Tool calls run on the process's one loop, like the model calls. */
		if (ctx->loop == NULL)
			ctx->loop = loop_new();
		struct tool_http_config hc = {
		    .loop = ctx->loop,
		    .account_url = t->account_url,
		    .order_url = t->order_url,
		    .credit_url = t->credit_url,
		    .resend_url = t->resend_url,
		    .timeout_ms = t->timeout_ms,
		    .bearer_token = token,
		};
		if (tool_backend_http(tb, &hc, &cause) != 0) {
			fl_warnx("tools: %s", cause);
			free(cause);
			return EX_CONFIG;
		}
		return EX_OK;
	}
	char *dflt = xasprintf("%s/data/fixtures/customers.json", ctx->datadir);
	const char *path = fixture ? fixture : t->fixture ? t->fixture : dflt;
	struct stat st;
	if (stat(path, &st) != 0) {
		fl_warnx("tools: the customer fixture %s: %s", path, strerror(errno));
		ex = EX_NOINPUT;
	} else if (tool_backend_fixture(tb, path, &cause) != 0) {
		fl_warnx("tools: %s", cause);
		ex = EX_DATAERR;
	}
	free(cause);
	free(dflt);
	return ex;
}

int
ctx_models(struct ctx *ctx, struct agents *ag)
{
	int ex = EX_OK, any = 0;
	const struct settings *s = ctx_settings(ctx, &ex);
	if (s == NULL)
		return ex;
	for (int r = 0; r < AGENT__N; r++) {
		ag->backend[r] = s->agents[r].backend;
		if (ctx->backend != NULL)
			ag->backend[r] =
			    strcmp(ctx->backend, "openai") == 0 ? BACKEND_OPENAI : BACKEND_OFFLINE;
		/* No embeddings model, no embeddings: FTS5 retrieval alone. */
		if (r == AGENT_EMBEDDINGS && s->agents[r].model == NULL)
			ag->backend[r] = BACKEND_OFFLINE;
		any |= ag->backend[r] == BACKEND_OPENAI;
	}
	ag->models = NULL;
	if (!any)
		return EX_OK;
	if (ctx->models == NULL) {
		char *cause = NULL;
		if (ctx->loop == NULL)
			ctx->loop = loop_new();
		ctx->models = models_new(ctx->loop, s, ctx->datadir, &cause);
		if (ctx->models == NULL) {
			fl_warnx("model backend: %s", cause);
			free(cause);
			return EX_CONFIG;
		}
	}
	ag->models = ctx->models;
	return EX_OK;
}

char *
cmd_join_args(int argc, char **argv, int from)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = from; i < argc; i++) {
		if (i > from)
			buf_addc(&b, ' ');
		buf_adds(&b, argv[i]);
	}
	char *s = buf_steal(&b);
	buf_free(&b);
	return s;
}

int
cmd_parse_tier(const char *arg, enum tier *out)
{
	int i = names_find(tier_names, arg);
	if (i < 0) {
		fl_warnx("--tier must be self-serve, standard, premium or enterprise, not '%s'",
		         arg);
		return -1;
	}
	*out = (enum tier)i;
	return 0;
}

char *
ctx_db_path(struct ctx *ctx)
{
	if (ctx->db_path != NULL)
		return xstrdup(ctx->db_path);
	int ex;
	const struct settings *set = ctx_settings(ctx, &ex);
	if (set == NULL) /* a broken config file: its errors are printed */
		return NULL;
	if (set->database != NULL)
		return xstrdup(set->database);
	char *dir = paths_state_dir();
	if (dir == NULL)
		return NULL;
	char *p = xasprintf("%s/frontline.db", dir);
	free(dir);
	return p;
}

struct store *
ctx_store(struct ctx *ctx, int *ex)
{
	char *cause = NULL, *db = ctx_db_path(ctx);
	if (db == NULL && ctx->settings == NULL) { /* a broken config file */
		*ex = EX_CONFIG;
		return NULL;
	}
	struct store *st = db ? store_open(db, &cause) : NULL;
	if (st == NULL) {
		/* A connection string may hold a password: never print it. */
		char *shown = db ? store_target_redacted(db) : xstrdup("(no state directory)");
		fl_warnx("cannot open the store %s: %s", shown, cause ? cause : "no HOME");
		free(shown);
		*ex = EX_CANTCREAT;
	}
	free(cause);
	free(db);
	return st;
}

int
ctx_agents(struct ctx *ctx, const char *fixture, struct agents *ag, struct tool_backend *tb)
{
	struct policy *p;
	int ex;
	if ((ex = ctx_retrieval(ctx, &p, &ag->kb, &ag->fresh)) != EX_OK)
		return ex;
	ag->policy = p;
	if ((ag->triage = ctx_triage(ctx, p, NULL, &ex)) == NULL)
		return ex;
	if ((ex = ctx_tool_backend(ctx, fixture, tb)) != EX_OK)
		return ex;
	ag->tools = tb;
	return ctx_models(ctx, ag);
}

void
ctx_agents_free(struct agents *ag, struct tool_backend *tb)
{
	if (tb->free)
		tool_backend_free(tb);
	triage_close(ag->triage);
	kb_close(ag->kb);
}
