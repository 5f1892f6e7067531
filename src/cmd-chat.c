/* cmd-chat.c -- frontline chat: one conversation in line mode, every turn stored. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ai-turn.h"
#include "cmd.h"
#include "conversation.h"
#include "customer-proto.h"
#include "desk.h"
#include "rollout.h"
#include "safe-text.h"
#include "store.h"

/*
 * Brings the conversation's state back from its last "state" event. A
 * customer message stored without the turn that answers it (chat stopped
 * between the two commits) comes back in *pending (caller frees; NULL when
 * every message was answered): it is answered before anything new is read.
 * Every turn ends with the agent's message, so a pending message is the
 * last one. Returns 0, or -1 with *cause.
 */
static int
resume(struct store *st, int64_t conv, struct conversation *c, struct ai_arm *arm, char **pending,
       char **cause)
{
	cJSON *events = NULL, *msgs = NULL;
	*pending = NULL;
	if (store_events(st, conv, &events, cause) != 0 ||
	    store_messages(st, conv, &msgs, cause) != 0) {
		cJSON_Delete(events);
		return -1;
	}
	ai_turn_restore(c, arm, events);
	const cJSON *m = cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
	const char *role = cJSON_GetStringValue(cJSON_GetObjectItem(m, "role"));
	if (role != NULL && strcmp(role, "customer") == 0)
		*pending = xstrdup(cJSON_GetStringValue(cJSON_GetObjectItem(m, "text")));
	cJSON_Delete(events);
	cJSON_Delete(msgs);
	return 0;
}

/*
 * Chat answers under a claim, as a worker does (worker.h), so that a
 * frontline worker on the same store never answers its messages too. The
 * turn runs without renewing it: the lease outlasts any turn.
 */
#define CHAT_LEASE_MS (15 * 60 * 1000)

/*
 * Stores the customer's message and claims the conversation in one
 * transaction: nobody else can claim it in between. Returns 1 (claimed,
 * *cl set), 0 (another answerer holds it), -1 with *cause.
 */
static int
say_and_claim(struct store *st, int64_t id, const char *me, const char *text,
              struct store_claim *cl, char **cause)
{
	if (store_begin(st, cause) != 0)
		return -1;
	int rc = -1;
	if (store_message_add(st, id, "customer", text, NULL, cause) == 0)
		rc = store_claim(st, me, CHAT_LEASE_MS, id, cl, cause);
	if (rc < 0 || store_commit(st, cause) != 0) {
		store_rollback(st);
		return -1;
	}
	return rc;
}

/*
 * Answers a stored customer message under claim cl: runs the turn, stores
 * it and only then prints it. Sets *done when a human has the
 * conversation now. Returns 0, or -1 with *cause when the turn could not
 * be stored.
 */
static int
answer(struct ctx *ctx, struct agents *ag, struct store *st, int64_t id, struct conversation *conv,
       struct rollout_live *live, struct ai_arm *arm, const struct ai_claim *cl, const char *text,
       int json, int *done, char **cause)
{
	ctx_agents_policy(ctx, ag);
	struct agents use;
	if (ai_turn_prepare(st, id, live, ag, conv, arm, text, &use, cause) != 0)
		return -1;
	cJSON *events = NULL;
	cJSON *turn = conversation_turn(&use, conv, text, &events);
	/* The human arm: the AI's answer is a shadow; a human has the conversation. */
	ai_turn_divert(turn, events, arm, conv, ag->triage);
	int withheld = 0;
	int rc = ai_turn_store(st, id, cl, turn, events, 1, &withheld, NULL, cause);
	if (rc != 0) {
		if (rc == 1)
			*cause = xasprintf("conversation %lld: the claim was lost during the turn",
			                   (long long)id);
		cJSON_Delete(turn);
		cJSON_Delete(events);
		return -1;
	}
	const cJSON *h = cJSON_GetObjectItem(turn, "handoff");
	if (json) {
		char *s = cJSON_PrintUnformatted(turn);
		puts(s);
		free(s);
	} else if (cJSON_IsObject(h) &&
	           cJSON_GetStringValue(cJSON_GetObjectItem(h, "message_to_customer")) == NULL) {
		text_printf(stdout, "[routed to %s: %s; frontline handoff show %d]\n",
		            cJSON_GetStringValue(cJSON_GetObjectItem(h, "queue")),
		            cJSON_GetStringValue(cJSON_GetObjectItem(h, "reason")),
		            cJSON_GetObjectItem(h, "id") ? cJSON_GetObjectItem(h, "id")->valueint
		                                         : 0);
	} else if (cJSON_IsObject(h)) {
		text_printf(
		    stdout, "agent: %s\n[handed off to %s: %s; frontline handoff show %d]\n",
		    cJSON_GetStringValue(cJSON_GetObjectItem(h, "message_to_customer")),
		    cJSON_GetStringValue(cJSON_GetObjectItem(h, "queue")),
		    cJSON_GetStringValue(cJSON_GetObjectItem(h, "reason")),
		    cJSON_GetObjectItem(h, "id") ? cJSON_GetObjectItem(h, "id")->valueint : 0);
	} else
		text_printf(stdout, "agent: %s\n",
		            cJSON_GetStringValue(cJSON_GetObjectItem(turn, "reply")));
	fflush(stdout);
	*done = cJSON_IsObject(h); /* a human has it now */
	cJSON_Delete(turn);
	cJSON_Delete(events);
	return 0;
}

static int
cmd_chat(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"customer", required_argument, NULL, 'c'},
	    {"tier", required_argument, NULL, 't'},
	    {"fixture", required_argument, NULL, 'f'},
	    {"csat", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c, json = 0, ex = EX_OK, tier_given = 0;
	enum tier tier = TIER_STANDARD;
	const char *customer = NULL, *fixture = NULL, *csat_comment = NULL;
	int csat = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jc:t:f:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'c':
			customer = optarg;
			break;
		case 't':
			if (cmd_parse_tier(optarg, &tier) != 0)
				return EX_USAGE;
			tier_given = 1;
			break;
		case 'f':
			fixture = optarg;
			break;
		case 'r':
			if (cp_rating_parse(optarg, &csat, &csat_comment) != 0) {
				fl_warnx(
				    "--csat must be a rating from 1 to 5, optionally followed by "
				    "a comment, not '%s'",
				    optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			cmd_help(&cmd_chat_entry, stdout);
			return EX_OK;
		default:
			cmd_help(&cmd_chat_entry, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		cmd_help(&cmd_chat_entry, stderr);
		return EX_USAGE;
	}

	struct agents ag = {0};
	struct tool_backend tb = {0};
	struct store *st = NULL;
	char *cause = NULL, *guest = NULL;
	struct conversation conv;
	int have_conv = 0;
	struct rollout_live live = {.stage = -1, .canary_share = -1};
	struct ai_arm arm = {.ai = 1};
	char *me = NULL;
	struct store_claim cl;

	if ((ex = ctx_agents(ctx, fixture, &ag, &tb)) != EX_OK)
		goto out;
	if ((st = ctx_store(ctx, &ex)) == NULL)
		goto out;
	if ((ex = ctx_rollout(ctx, st, &ag, &live)) != EX_OK)
		goto out;
	if (customer == NULL)
		customer = guest = xasprintf("guest-%ld-%ld", (long)time(NULL), (long)getpid());
	int64_t id;
	int created;
	/* Without --tier the stored tier stays (TIER__N keeps it). */
	if (store_customer_put(st, customer, NULL, NULL, tier_given ? tier : TIER__N, &cause) !=
	        0 ||
	    store_conversation_open(st, customer, &id, &created, &cause) != 0) {
		fl_warnx("store: %s", cause);
		ex = EX_IOERR;
		goto out;
	}
	conversation_init(&conv, customer, tier);
	have_conv = 1;
	/* One name per customer: a chat that stopped mid-turn left its claim to this one. */
	me = xasprintf("chat:%s", customer);
	int done = 0;
	if (!created) {
		char *pending = NULL;
		if (resume(st, id, &conv, &arm, &pending, &cause) != 0) {
			fl_warnx("store: %s", cause);
			ex = EX_IOERR;
			goto out;
		}
		/* Where it stopped: the message stored last time gets its turn first. */
		int rc = 0;
		if (pending != NULL && (rc = store_claim_release(st, id, me, &cause)) == 0 &&
		    (rc = store_claim(st, me, CHAT_LEASE_MS, id, &cl, &cause)) == 1) {
			const struct ai_claim held = {me, cl.upto};
			rc = answer(ctx, &ag, st, id, &conv, &live, &arm, &held, pending, json,
			            &done, &cause);
		} else if (rc == 0 && pending != NULL)
			fl_warnx("conversation %lld: the last message is answered elsewhere",
			         (long long)id);
		free(pending);
		if (rc < 0) {
			fl_warnx("store: %s", cause);
			ex = EX_IOERR;
			goto out;
		}
	}

	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while (!done && (n = getline(&line, &cap, stdin)) != -1) {
		if ((size_t)n != strlen(line)) {
			fl_warnx("stdin: skipping a line with a NUL byte");
			continue;
		}
		str_trim(line);
		if (*line == '\0')
			continue;
		/* The customer's message is acknowledged only once it is stored. */
		int rc = say_and_claim(st, id, me, line, &cl, &cause);
		if (rc == 1) {
			const struct ai_claim held = {me, cl.upto};
			rc = answer(ctx, &ag, st, id, &conv, &live, &arm, &held, line, json, &done,
			            &cause);
		} else if (rc == 0)
			fl_warnx(
			    "conversation %lld: the message is answered elsewhere (a frontline "
			    "worker holds the conversation)",
			    (long long)id);
		if (rc < 0) {
			fl_warnx("store: %s", cause);
			ex = EX_IOERR;
			break;
		}
	}
	free(line);
	/* The chat is over: the customer's rating, when they gave one. */
	if (ex == EX_OK && csat > 0) {
		cJSON *o = desk_csat_json(csat, csat_comment);
		if (store_event_add(st, id, "csat", o, &cause) != 0) {
			fl_warnx("store: %s", cause);
			ex = EX_IOERR;
		}
		cJSON_Delete(o);
	}
out:
	free(cause);
	free(me);
	if (have_conv)
		conversation_free(&conv);
	store_close(st);
	ctx_rollout_free(&live);
	ctx_agents_free(&ag, &tb);
	free(guest);
	return ex;
}

const struct cmd_entry cmd_chat_entry = {
    .name = "chat",
    .args = "[--json] [--customer ID] [--tier TIER] [--fixture FILE] [--csat 'N [COMMENT]']",
    .summary = "one conversation in line mode: each line of standard input is a customer message",
    .exec = cmd_chat,
    .help = "  --json           one chat-turn object per message (DESIGN.md section 5)\n"
            "  --customer ID    who is talking (default: a new guest); their open\n"
            "                   conversation resumes where it stopped\n"
            "  --tier TIER      self-serve, standard (default), premium, enterprise\n"
            "  --fixture FILE   customers and orders for the tools, instead of the config\n"
            "                   file's tool backend (default: the shipped demo fixture)\n"
            "  --csat 'N [COMMENT]'  the customer's rating of the chat (1-5, and a\n"
            "                   comment), stored when the input ends\n"
            "Every message, event and handoff is stored before it is acknowledged.\n"
            "Once a rollout or a canary is under way (frontline rollout, canary), a new\n"
            "conversation is assigned at its first message: the human arm gets no AI\n"
            "reply (it is stored as a shadow) and goes to a human.\n",
};
