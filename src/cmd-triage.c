/* cmd-triage.c -- frontline triage: the triage agent on a message or a stream of them. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "triage.h"

static void
print_text(const struct triage_result *r)
{
	const struct entities *e = &r->entities;
	printf("intent      %s (%.2f)\n", category_names[r->intent_category], r->intent_confidence);
	printf("urgency     %s%s%s%s\n", urgency_names[r->urgency], r->urgency_rule ? " (" : "",
	       r->urgency_rule ? r->urgency_rule : "", r->urgency_rule ? ")" : "");
	printf("sentiment   %s (%.2f%s)\n", sentiment_names[r->sentiment], r->sentiment_score,
	       r->profanity ? ", profanity" : "");
	printf("complexity  %s", complexity_names[r->complexity_signal]);
	static const char *const why[] = {"multiple issues", "earlier contact", "legal language",
	                                  "emotional intensity"};
	for (int i = 0, first = 1; i < 4; i++)
		if (r->complexity_reasons & (1u << i)) {
			printf("%s%s", first ? " (" : ", ", why[i]);
			first = 0;
		}
	printf("%s\n", r->complexity_reasons ? ")" : "");
	printf("legal       %s\n", r->has_legal_language ? "yes" : "no");
	printf("route       %s\n", route_names[r->route]);
	const struct {
		const char *name;
		const struct strv *v;
	} lists[] = {{"orders", &e->order_numbers},
	             {"accounts", &e->account_ids},
	             {"emails", &e->emails},
	             {"phones", &e->phones},
	             {"products", &e->products}};
	for (size_t i = 0; i < nitems(lists); i++)
		for (size_t j = 0; j < lists[i].v->n; j++)
			printf("%-11s %s\n", j ? "" : lists[i].name, lists[i].v->v[j]);
	for (size_t i = 0; i < e->namounts; i++)
		printf("%-11s %.2f %s\n", i ? "" : "amounts", e->amounts[i].value,
		       e->amounts[i].currency);
}

/* Writes all of b to stdout; returns 0 or -1. */
static int
flush_out(struct buf *b)
{
	if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
		return -1;
	buf_reset(b);
	return fflush(stdout) == 0 ? 0 : -1;
}

/*
 * One JSON object per input line, in order (an empty line gets one too,
 * so outputs line up with inputs). Answers are written out whenever no
 * more input is waiting, so a program driving frontline through a pipe
 * gets each answer at once, and a big batch gets big writes.
 */
static int
triage_stream(struct ctx *ctx, struct triage *t, enum tier tier)
{
	struct buf in, out;
	char chunk[1 << 16];
	size_t start = 0;
	int eof = 0;

	buf_init(&in, 0);
	buf_init(&out, 0);
	while (!eof) {
		if (flush_out(&out) != 0) {
			fl_warnx("standard output: %s", strerror(errno));
			buf_free(&in);
			buf_free(&out);
			return EX_IOERR;
		}
		ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fl_warnx("standard input: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			eof = 1;
			if (in.len > start)
				buf_addc(&in, '\n'); /* a last line without a newline */
		} else
			buf_add(&in, chunk, (size_t)n);

		if (ctx->policy_loaded) {
			const struct policy *before = ctx->policy.current;
			ctx_policy_poll(ctx);
			char *cause;
			if (ctx->policy.current != before &&
			    triage_set_policy(t, ctx->policy.current, &cause) != 0) {
				fl_warnx("%s", cause);
				free(cause);
			}
		}
		for (;;) {
			char *nl = memchr(in.data + start, '\n', in.len - start);
			if (nl == NULL)
				break;
			size_t len = (size_t)(nl - (in.data + start));
			if (len > 0 && in.data[start + len - 1] == '\r')
				len--;
			struct triage_result r;
			triage_run(t, in.data + start, len, tier, &r);
			triage_json_write(&r, &out);
			buf_addc(&out, '\n');
			triage_result_free(&r);
			start = (size_t)(nl - in.data) + 1;
		}
		/* Keep only the unfinished line. */
		memmove(in.data, in.data + start, in.len - start);
		in.len -= start;
		in.data[in.len] = '\0';
		start = 0;
	}
	int rc = flush_out(&out) == 0 ? EX_OK : EX_IOERR;
	buf_free(&in);
	buf_free(&out);
	return rc;
}

static int
cmd_triage(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"tier", required_argument, NULL, 't'},
	    {"model", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c, json = 0, ex = EX_OK;
	enum tier tier = TIER_STANDARD;
	const char *model = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jt:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 't': {
			int i = names_find(tier_names, optarg);
			if (i < 0) {
				fl_warnx("--tier must be self-serve, standard, premium or "
				         "enterprise, not '%s'",
				         optarg);
				return EX_USAGE;
			}
			tier = (enum tier)i;
			break;
		}
		case 'm':
			model = optarg;
			break;
		case 'h':
			cmd_help(&cmd_triage_entry, stdout);
			return EX_OK;
		default:
			cmd_help(&cmd_triage_entry, stderr);
			return EX_USAGE;
		}
	}
	struct policy *p = ctx_policy(ctx);
	if (p == NULL)
		return EX_CONFIG;
	struct triage *t = ctx_triage(ctx, p, model, &ex);
	if (t == NULL)
		return ex;

	if (optind < argc) {
		struct buf q;
		buf_init(&q, 0);
		for (int i = optind; i < argc; i++)
			buf_printf(&q, "%s%s", i > optind ? " " : "", argv[i]);
		struct triage_result r;
		triage_run(t, q.data, q.len, tier, &r);
		if (json) {
			struct buf out;
			buf_init(&out, 0);
			triage_json_write(&r, &out);
			puts(out.data);
			buf_free(&out);
		} else
			print_text(&r);
		triage_result_free(&r);
		buf_free(&q);
	} else
		ex = triage_stream(ctx, t, tier);
	triage_close(t);
	return ex;
}

const struct cmd_entry cmd_triage_entry = {
    .name = "triage",
    .args = "[--json] [--tier TIER] [--model FILE] [TEXT]",
    .summary = "classify, read and route TEXT, or each line of standard input (JSON lines)",
    .exec = cmd_triage,
    .help =
        "  --json        print TEXT's TriageResult as JSON (standard input always is)\n"
        "  --tier TIER   the customer's tier for routing: self-serve, standard (default),\n"
        "                premium, enterprise\n"
        "  --model FILE  the intent model (default: $FRONTLINE_MODEL, else the installed one)\n",
};
