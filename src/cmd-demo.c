/* cmd-demo.c -- frontline --demo: a guided, non-interactive tour on the shipped data. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "escalation.h"
#include "kb-audit.h"

/* Customer situations from the playbook, with the signals triage reports for them. */
static const struct demo_case {
	const char *customer;
	const char *query;
	enum tier tier;
	enum category category;
	enum sentiment sentiment;
	int turn;
	double agent_confidence;
	int legal;
	double amount_usd;
} cases[] = {
    {"How long does standard shipping take to Ohio?", NULL, TIER_STANDARD, CAT_SHIPPING,
     SENT_NEUTRAL, 1, 0.91, 0, -1},
    {"Is the SUMMER20 code still valid for the outdoor cam?", NULL, TIER_SELF_SERVE, CAT_BILLING,
     SENT_NEUTRAL, 1, 0.80, 0, -1},
    {"I think someone logged into my account and changed my email", NULL, TIER_PREMIUM, CAT_ACCOUNT,
     SENT_FRUSTRATED, 1, 0.85, 0, -1},
    {"Our invoice is wrong again, we were billed twice for 40 seats", "invoice billed twice",
     TIER_ENTERPRISE, CAT_BILLING, SENT_FRUSTRATED, 1, 0.77, 0, -1},
    {"I want to dispute a $740 charge I never authorized", NULL, TIER_STANDARD, CAT_BILLING,
     SENT_FRUSTRATED, 2, 0.70, 0, 740},
    {"This is the third time I'm writing, my camera is STILL offline", "camera offline",
     TIER_STANDARD, CAT_TECHNICAL, SENT_FRUSTRATED, 3, 0.83, 0, -1},
    {"If this isn't fixed I'll have my lawyer contact you", NULL, TIER_STANDARD, CAT_RETURNS,
     SENT_FRUSTRATED, 2, 0.90, 1, -1},
};

static int
cmd_demo(struct ctx *ctx, int argc, char **argv)
{
	int ex = cmd_no_options(&cmd_demo_entry, argc, argv);
	if (ex >= 0)
		return ex;
	struct policy *p;
	struct kb *kb;
	struct kb_freshness fr;
	if ((ex = ctx_retrieval(ctx, &p, &kb, &fr)) != EX_OK)
		return ex;
	char today[11];
	date_format(ctx->today, today);

	printf("frontline %s demo -- policy %s (version %s), knowledge base %s: %zu facts, "
	       "today %s\n\n",
	       PACKAGE_VERSION, ctx->policy_path, p->version, ctx->kb_dir, kb_count(kb), today);

	struct kb_audit a;
	char *cause;
	if (kb_audit_run(ctx->kb_dir, &fr, &a, &cause) == 0) {
		printf("Knowledge audit: %zu stale, %zu conflicts, %zu invalid\n",
		       a.counts[AUDIT_STALE], a.counts[AUDIT_CONFLICT], a.counts[AUDIT_INVALID]);
		for (size_t i = 0; i < a.n; i++)
			if (a.v[i].kind == AUDIT_CONFLICT)
				printf("  %s\n", a.v[i].message);
		printf("\n");
		kb_audit_free(&a);
	} else
		free(cause);

	for (size_t i = 0; i < nitems(cases); i++) {
		const struct demo_case *c = &cases[i];
		struct kb_hits h;
		printf("customer (%s, turn %d): %s\n", tier_names[c->tier], c->turn, c->customer);
		if (kb_search(kb, c->query ? c->query : c->customer, 2, &fr, &h, &cause) != 0) {
			fl_warnx("%s", cause);
			free(cause);
			kb_close(kb);
			return EX_SOFTWARE;
		}
		for (size_t j = 0; j < h.n; j++)
			printf("  knowledge %.2f  %s (%d days)%s\n", h.v[j].confidence,
			       h.v[j].fact.id, h.v[j].freshness_days,
			       h.v[j].stale ? "  STALE: verify before quoting" : "");
		struct escalation_input in = {
		    .agent_confidence = c->agent_confidence,
		    .turn_count = c->turn,
		    .sentiment = c->sentiment,
		    .category = c->category,
		    .tier = c->tier,
		    .has_legal_language = c->legal || patset_match(&p->esc.legal, c->customer) >= 0,
		    .retrieval_confidence = h.n ? h.v[0].confidence : -1,
		    .message = c->customer,
		    .amount_usd = c->amount_usd,
		};
		struct escalation_decision d;
		escalation_evaluate(p, &in, &d);
		enum route r = policy_route(p, c->category, URG_NORMAL, c->sentiment, CPLX_SIMPLE,
		                            c->tier, in.has_legal_language);
		if (d.escalate) {
			const struct esc_signal *sig = d.signals;
			while (!sig->fired)
				sig++;
			printf("  -> ESCALATE %s to %s (%s)\n", d.reason, d.queue, sig->detail);
		} else
			printf("  -> AI answers on %s\n", route_names[r]);
		kb_hits_free(&h);
		printf("\n");
	}
	printf("Try: frontline kb search 'return window', frontline kb audit, "
	       "frontline policy check\n");
	kb_close(kb);
	return EX_OK;
}

const struct cmd_entry cmd_demo_entry = {
    .name = "demo",
    .args = "",
    .summary = "a non-interactive tour: retrieval with freshness, the audit, escalation",
    .exec = cmd_demo,
};
