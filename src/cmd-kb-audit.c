/* cmd-kb-audit.c -- frontline kb audit: knowledge base health. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "cmd.h"
#include "kb-audit.h"
#include "safe-text.h"

static int
cmd_kb_audit(struct ctx *ctx, const struct cmd_args *args)
{
	int json = cmd_args_has(args, "json"), strict = cmd_args_has(args, "strict");
	struct policy *p = ctx_policy(ctx);
	if (p == NULL)
		return EX_CONFIG;
	struct kb_freshness fr;
	struct kb_audit a;
	char *cause;
	ctx_freshness(ctx, p, &fr);
	if (kb_audit_run(ctx->kb_dir, &fr, &a, &cause) != 0) {
		fl_warnx("%s", cause);
		ctx_data_hint();
		free(cause);
		return EX_NOINPUT;
	}

	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kb", ctx->kb_dir);
		cJSON_AddNumberToObject(o, "facts", (double)a.nfacts);
		cJSON *counts = cJSON_AddObjectToObject(o, "counts");
		for (int k = 0; k < AUDIT__N; k++)
			cJSON_AddNumberToObject(counts, audit_kind_names[k], (double)a.counts[k]);
		cJSON *arr = cJSON_AddArrayToObject(o, "findings");
		for (size_t i = 0; i < a.n; i++) {
			cJSON *f = cJSON_CreateObject();
			cJSON_AddStringToObject(f, "kind", audit_kind_names[a.v[i].kind]);
			cJSON_AddStringToObject(f, "message", a.v[i].message);
			cJSON_AddItemToArray(arr, f);
		}
		char *s = cJSON_Print(o);
		puts(s);
		free(s);
		cJSON_Delete(o);
	} else {
		for (int k = 0; k < AUDIT__N; k++)
			for (size_t i = 0; i < a.n; i++)
				if (a.v[i].kind == (enum audit_kind)k)
					text_printf(stdout, "%s\n", a.v[i].message);
		text_printf(
		    stdout,
		    "%s: %zu facts; %zu invalid, %zu duplicate ids, %zu conflicts, %zu stale, "
		    "%zu missing metadata, %zu control characters\n",
		    ctx->kb_dir, a.nfacts, a.counts[AUDIT_INVALID], a.counts[AUDIT_DUPLICATE],
		    a.counts[AUDIT_CONFLICT], a.counts[AUDIT_STALE], a.counts[AUDIT_MISSING],
		    a.counts[AUDIT_CONTROL]);
	}
	int rc = EX_OK;
	if (a.counts[AUDIT_INVALID] || a.counts[AUDIT_CONTROL] || a.counts[AUDIT_DUPLICATE])
		rc = EX_DATAERR;
	else if (strict &&
	         (a.counts[AUDIT_CONFLICT] || a.counts[AUDIT_STALE] || a.counts[AUDIT_MISSING]))
		rc = 1;
	kb_audit_free(&a);
	return rc;
}

static const struct cmd_option options[] = {
    {.name = "json", .help = "the findings as one JSON object"},
    {.name = "strict", .help = "exit 1 when there are conflicts, stale facts or missing metadata"},
    {0},
};

const struct cmd_entry cmd_kb_audit_entry = {
    .name = "kb",
    .verb = "audit",
    .summary = "report invalid fact files, control characters, duplicate ids, conflicts, stale "
               "facts, missing metadata",
    .options = options,
    .exec = cmd_kb_audit,
    .help = "Exit status: 0 healthy, 65 (EX_DATAERR) when files are invalid, facts hold\n"
            "control characters or bidi controls, or ids repeat.\n",
};
