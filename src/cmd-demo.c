/* cmd-demo.c -- frontline --demo: a guided, non-interactive tour on the shipped data. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "escalation.h"
#include "kb-audit.h"
#include "safe-text.h"

/* Customer messages from the playbook's situations; triage reads the rest. */
static const struct demo_case {
	const char *customer;
	enum tier tier;
	int turn;
} cases[] = {
    {"How long does standard shipping take to Ohio?", TIER_STANDARD, 1},
    {"Is the SUMMER20 code still valid for the outdoor cam?", TIER_SELF_SERVE, 1},
    {"I think someone logged into my account and changed my email", TIER_PREMIUM, 1},
    {"Our invoice is wrong again, we were billed twice for 40 seats", TIER_ENTERPRISE, 1},
    {"I want to dispute a $740 charge I never authorized", TIER_STANDARD, 2},
    {"This is the third time I'm writing, my camera is STILL offline", TIER_STANDARD, 3},
    {"If this isn't fixed I'll have my lawyer contact you", TIER_STANDARD, 2},
    {"what's the weather like in Paris tomorrow?", TIER_STANDARD, 1},
};

static int
cmd_demo(struct ctx *ctx, const struct cmd_args *args)
{
	int ex;
	struct policy *p;
	struct kb *kb;
	struct kb_freshness fr;
	if ((ex = ctx_retrieval(ctx, &p, &kb, &fr)) != EX_OK)
		return ex;
	struct triage *t = ctx_triage(ctx, p, NULL, &ex);
	if (t == NULL) {
		kb_close(kb);
		return ex;
	}
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
				text_printf(stdout, "  %s\n", a.v[i].message);
		printf("\n");
		kb_audit_free(&a);
	} else
		free(cause);

	for (size_t i = 0; i < nitems(cases); i++) {
		const struct demo_case *c = &cases[i];
		struct kb_hits h;
		struct triage_result tr;
		printf("customer (%s, turn %d): %s\n", tier_names[c->tier], c->turn, c->customer);
		triage_run(t, c->customer, strlen(c->customer), c->tier, &tr);
		printf("  triage    %s %.2f, urgency %s, %s, %s%s -> %s\n",
		       category_names[tr.intent_category], tr.intent_confidence,
		       urgency_names[tr.urgency], sentiment_names[tr.sentiment],
		       complexity_names[tr.complexity_signal],
		       tr.has_legal_language ? ", legal language" : "", route_names[tr.route]);
		if (kb_search(kb, c->customer, 2, &fr, &h, &cause) != 0) {
			fl_warnx("%s", cause);
			free(cause);
			triage_result_free(&tr);
			triage_close(t);
			kb_close(kb);
			return EX_SOFTWARE;
		}
		for (size_t j = 0; j < h.n; j++)
			printf("  knowledge %.2f  %s (%d days)%s\n", h.v[j].confidence,
			       h.v[j].fact.id, h.v[j].freshness_days,
			       h.v[j].stale ? "  STALE: verify before quoting" : "");
		/* No resolution agent yet: its confidence is not part of the decision. */
		struct escalation_input in = {
		    .agent_confidence = -1,
		    .turn_count = c->turn,
		    .sentiment = tr.sentiment,
		    .category = tr.intent_category,
		    .tier = c->tier,
		    .has_legal_language = tr.has_legal_language,
		    .retrieval_confidence = h.n ? h.v[0].confidence : -1,
		    .message = c->customer,
		    .amount_usd = entities_max_usd(&tr.entities),
		};
		struct escalation_decision d;
		escalation_evaluate(p, &in, &d);
		enum route r = tr.route;
		triage_result_free(&tr);
		if (d.escalate) {
			const struct esc_signal *sig = d.signals;
			while (!sig->fired)
				sig++;
			printf("  -> ESCALATE %s to %s (%s)\n", d.reason, d.queue, sig->detail);
		} else if (r == ROUTE_HUMAN_PRIORITY || r == ROUTE_HUMAN_STANDARD)
			printf("  -> ROUTED to %s by triage\n", route_names[r]);
		else
			printf("  -> AI answers on %s\n", route_names[r]);
		kb_hits_free(&h);
		printf("\n");
	}
	printf("Try: frontline triage 'my order A12345 is late', frontline kb search 'return "
	       "window',\n     frontline kb audit, frontline policy check\n");
	triage_close(t);
	kb_close(kb);
	return EX_OK;
}

const struct cmd_entry cmd_demo_entry = {
    .name = "demo",
    .summary = "a non-interactive tour: triage, retrieval with freshness, the audit, escalation",
    .exec = cmd_demo,
};
