/* cmd-kb-search.c -- frontline kb search: retrieval with freshness and confidence. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "loop.h"
#include "model.h"
#include "progress.h"
#include "retrieval.h"
#include "safe-text.h"

/* The hits as text; the query, titles and content are shown inert (safe-text.h). */
static void
print_text(const char *query, const struct kb_hits *h)
{
	char *q = text_sanitize_line(query);
	printf("query: %s\n", q);
	free(q);
	if (h->n == 0)
		printf("  no matching facts\n");
	for (size_t i = 0; i < h->n; i++) {
		const struct kb_hit *x = &h->v[i];
		char date[11];
		date_format(x->fact.updated, date);
		char *title = text_sanitize_line(x->fact.title);
		text_printf(stdout, "%2zu. %.2f  %s%s\n", i + 1, x->confidence, title,
		            x->stale ? "  [STALE]" : "");
		free(title);
		text_printf(stdout, "    %s  %s:%d  %s, updated %s (%d days)\n    %s\n", x->fact.id,
		            x->fact.source, x->fact.line, topic_names[x->fact.topic], date,
		            x->freshness_days, x->fact.content);
	}
}

struct search {
	const char *query;
	int json;
	int done, ex;
};

/* Prints a retrieval's hits; a fallback from embeddings to FTS5 alone is said on stderr. */
static void
searched(struct retrieval_result *r, void *arg)
{
	struct search *s = arg;
	s->done = 1;
	if (r->kb_error != NULL) {
		fl_warnx("%s", r->kb_error);
		s->ex = EX_SOFTWARE;
		return;
	}
	if (r->embeddings && !r->hybrid)
		fl_warnx("embeddings (%s) failed, FTS5 alone: %s: %s", r->model,
		         r->fault ? r->fault : "error", r->error ? r->error : "");
	if (s->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "query", s->query);
		if (r->embeddings) {
			cJSON_AddStringToObject(o, "retrieval", r->hybrid ? "hybrid" : "fts");
			if (!r->hybrid)
				cJSON_AddStringToObject(o, "fallback",
				                        r->fault ? r->fault : "error");
			if (r->facts_embedded > 0)
				cJSON_AddNumberToObject(o, "facts_embedded",
				                        (double)r->facts_embedded);
		}
		cJSON *arr = cJSON_AddArrayToObject(o, "hits");
		for (size_t i = 0; i < r->hits.n; i++)
			cJSON_AddItemToArray(arr, kb_hit_json(&r->hits.v[i]));
		char *txt = cJSON_PrintUnformatted(o);
		puts(txt);
		free(txt);
		cJSON_Delete(o);
	} else
		print_text(s->query, &r->hits);
}

/* One query: FTS5, or hybrid when an embeddings model is configured (the loop runs meanwhile). */
static int
search_one(struct kb *kb, struct models *m, const char *query, int k, int json,
           const struct kb_freshness *fr)
{
	struct search s = {.query = query, .json = json, .ex = EX_OK};
	retrieval_start(kb, m, query, k, fr, searched, &s);
	while (!s.done)
		loop_once(models_loop(m), -1);
	return s.ex;
}

static int
cmd_kb_search(struct ctx *ctx, const struct cmd_args *a)
{
	int k = (int)cmd_args_number(a, "k", 5), json = cmd_args_has(a, "json"), ex;
	struct policy *p;
	struct kb *kb;
	struct kb_freshness fr;
	struct progress pg = {.what = "kb index", .unit = "files"};
	cmd_progress(a, &pg);
	ctx->kb_progress = &pg;
	ex = ctx_retrieval(ctx, &p, &kb, &fr);
	ctx->kb_progress = NULL;
	if (ex != EX_OK)
		return ex;
	/* Hybrid retrieval when the config file names an embeddings model. */
	struct agents ag = {0};
	if ((ex = ctx_models(ctx, &ag)) != EX_OK) {
		kb_close(kb);
		return ex;
	}
	struct models *m = ag.backend[AGENT_EMBEDDINGS] == BACKEND_OPENAI ? ag.models : NULL;

	if (a->argc > 0) {
		char *q = cmd_join_args(a->argc, a->argv, 0);
		ex = search_one(kb, m, q, k, json, &fr);
		free(q);
	} else {
		/* One query per line; the policy is re-read when it changes. */
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		while (ex == EX_OK && (n = getline(&line, &cap, stdin)) != -1) {
			if ((size_t)n != strlen(line)) {
				fl_warnx("stdin: skipping a line with a NUL byte");
				continue;
			}
			str_trim(line);
			if (*line == '\0')
				continue;
			ctx_policy_poll(ctx);
			ctx_freshness(ctx, ctx->policy.current, &fr);
			ex = search_one(kb, m, line, k, json, &fr);
			if (!json)
				putchar('\n');
			/* Whoever sends the next query may be waiting for this answer. */
			if (fflush(stdout) != 0)
				ex = EX_IOERR;
		}
		free(line);
	}
	kb_close(kb);
	return ex;
}

static const struct cmd_option options[] = {
    {.name = "k",
     .value = CMD_INT,
     .arg = "N",
     .min = 1,
     .max = 100,
     .help = "at most N hits (default 5)"},
    {.name = "json", .help = "one {\"query\",\"hits\":[...]} object per query"},
    CMD_OPTION_PROGRESS,
    {0},
};

const struct cmd_entry cmd_kb_search_entry = {
    .name = "kb",
    .verb = "search",
    .summary = "retrieve facts for QUERY, or for each line of standard input",
    .options = options,
    .operands = "[QUERY]",
    .max_operands = CMD_MANY,
    .exec = cmd_kb_search,
    .help = "Each hit has its source, freshness in days, a stale flag and a calibrated\n"
            "confidence in [0,1]. With an embeddings model in the config file, FTS5 and\n"
            "vector rankings are fused (facts are embedded once, into the index cache).\n"
            "An index built anew shows its progress (--progress).\n",
};
