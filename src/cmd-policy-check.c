/* cmd-policy-check.c -- frontline policy check: validate policy files. */
#include "config.h"

#include <stdio.h>
#include <sysexits.h>

#include "cmd.h"

static int
cmd_policy_check(struct ctx *ctx, const struct cmd_args *a)
{
	int quiet = cmd_args_has(a, "quiet"), bad = 0;
	const char *dflt[] = {ctx->policy_path};
	const char *const *files = a->argc > 0 ? (const char *const *)a->argv : dflt;
	int nfiles = a->argc > 0 ? a->argc : 1;

	for (int i = 0; i < nfiles; i++) {
		struct diag d = {0};
		struct policy *p = policy_load(files[i], &d);
		for (size_t j = 0; j < d.msgs.n; j++)
			fprintf(stderr, "%s\n", d.msgs.v[j]);
		if (p == NULL) {
			fprintf(stderr, "%s: %d error%s\n", files[i], d.errors,
			        d.errors == 1 ? "" : "s");
			if (files == dflt)
				ctx_data_hint();
			bad = 1;
		} else if (!quiet) {
			unsigned ntools = 0;
			for (int r = 0; r < ROUTE__N; r++)
				ntools += __builtin_popcount(p->route_tools[r]);
			printf("%s: ok, version %s: %zu prohibited topics, %zu disclosures, "
			       "%zu sensitive-topic handlers, %zu routing rules, %u route tool "
			       "grants, write tools %s\n",
			       files[i], p->version, p->ntopics, p->ndisclosures, p->nhandlers,
			       p->nrules, ntools, p->write_tools_enabled ? "on" : "off");
		}
		policy_free(p);
		diag_free(&d);
	}
	return bad ? EX_CONFIG : EX_OK;
}

static const struct cmd_option options[] = {
    {.name = "quiet", .key = 'q', .help = "print nothing for valid files"},
    {0},
};

const struct cmd_entry cmd_policy_check_entry = {
    .name = "policy",
    .verb = "check",
    .summary = "validate policy files (default: the policy in force)",
    .options = options,
    .operands = "[FILE...]",
    .max_operands = CMD_MANY,
    .operand_value = CMD_FILE,
    .exec = cmd_policy_check,
    .help = "Errors are printed as file:line:col: message, every one in the file;\n"
            "the exit status is 78 (EX_CONFIG) when any file is invalid.\n",
};
