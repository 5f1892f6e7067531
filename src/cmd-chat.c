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
#include "ending.h"
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

/* What the customer reads when a message goes to the human, not the AI. */
#define STORED_ACK "(stored for the specialist)"

/*
 * Chat answers under a claim, as a worker does (worker.h), so that a
 * frontline worker on the same store never answers its messages too. The
 * turn runs without renewing it: the lease outlasts any turn.
 */
#define CHAT_LEASE_MS (15 * 60 * 1000)

/* What say_and_claim did with a customer message. */
enum said {
	SAID_CLAIMED, /* stored and claimed: the AI answers it now */
	SAID_STORED,  /* stored for the human who has the conversation, or is to take it */
	SAID_HELD,    /* not stored: another answerer's live claim holds the conversation */
	SAID_CLOSED,  /* not stored: the conversation closed meanwhile */
};

/*
 * Stores the customer's message and claims the conversation in one
 * transaction: nobody else can claim it in between. Returns an enum said
 * (SAID_CLAIMED sets *cl; SAID_HELD sets *holder, caller frees), or -1
 * with *cause.
 */
static int
say_and_claim(struct store *st, int64_t id, const char *me, const char *text,
              struct store_claim *cl, char **holder, char **cause)
{
	cJSON *row = NULL;
	if (store_begin(st, cause) != 0)
		return -1;
	int rc = -1;
	if (store_conversation_lock(st, id, cause) != 0 ||
	    store_conversation_get(st, id, &row, cause) != 0)
		goto out;
	const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(row, "state"));
	const char *handler = cJSON_GetStringValue(cJSON_GetObjectItem(row, "handler"));
	const char *by = cJSON_GetStringValue(cJSON_GetObjectItem(row, "claimed_by"));
	if (state == NULL || strcmp(state, "open") != 0) {
		rc = SAID_CLOSED;
		goto out;
	}
	int ai = handler != NULL && strcmp(handler, "ai") == 0;
	if (store_message_add(st, id, "customer", text, NULL, cause) != 0)
		goto out;
	int claimed = store_claim(st, me, CHAT_LEASE_MS, id, cl, cause);
	if (claimed < 0)
		goto out;
	if (!claimed && ai) {
		/* A live claim: the message would be answered where chat cannot show it. */
		*holder = xstrdup(by ? by : "another answerer");
		rc = SAID_HELD;
		goto out;
	}
	if (store_commit(st, cause) != 0)
		goto out;
	cJSON_Delete(row);
	return claimed ? SAID_CLAIMED : SAID_STORED;
out:
	store_rollback(st);
	cJSON_Delete(row);
	return rc;
}

/*
 * Answers a stored customer message under claim cl: runs the turn, stores
 * it and only then prints it. Returns 0, or -1 with *cause when the turn
 * could not be stored.
 */
static int
answer(struct ctx *ctx, struct agents *ag, struct store *st, int64_t id, struct conversation *conv,
       struct rollout_live *live, struct ai_arm *arm, const struct ai_claim *cl, const char *text,
       int json, char **cause)
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
	int rc = ai_turn_store(st, id, cl, turn, events, &withheld, NULL, cause);
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
	} else if (withheld)
		puts(STORED_ACK);
	else
		text_printf(stdout, "agent: %s\n",
		            cJSON_GetStringValue(cJSON_GetObjectItem(turn, "reply")));
	fflush(stdout);
	cJSON_Delete(turn);
	cJSON_Delete(events);
	return 0;
}

/*
 * The customer's open conversation, or a new one (*created says which);
 * with fresh, an open one is ended first (closed_by "new-conversation")
 * and a new one opened. Returns 0 or -1 with *cause.
 */
static int
open_conversation(struct store *st, const char *customer, int fresh, int64_t *id, int *created,
                  char **cause)
{
	if (store_conversation_open(st, customer, id, created, cause) != 0)
		return -1;
	if (!fresh || *created)
		return 0;
	const struct ending_close how = {.closed_by = "new-conversation"};
	/* 1: closed meanwhile by someone else, which is as good. */
	if (ending_close(st, *id, &how, NULL, NULL, cause) < 0)
		return -1;
	return store_conversation_open(st, customer, id, created, cause);
}

/* Who holds a live claim on conversation id: 1 (*holder, caller frees), 0 nobody, -1. */
static int
held_by(struct store *st, int64_t id, char **holder, char **cause)
{
	cJSON *row = NULL;
	if (store_conversation_get(st, id, &row, cause) != 0)
		return -1;
	const char *by = cJSON_GetStringValue(cJSON_GetObjectItem(row, "claimed_by"));
	const char *handler = cJSON_GetStringValue(cJSON_GetObjectItem(row, "handler"));
	int held = by != NULL && handler != NULL && strcmp(handler, "ai") == 0;
	if (held)
		*holder = xstrdup(by);
	cJSON_Delete(row);
	return held;
}

static void
held_warn(int64_t id, const char *holder)
{
	fl_warnx("conversation %lld is being answered by %s: nothing was stored; try again once "
	         "it is done (its claim ends with the turn, or when its lease runs out)",
	         (long long)id, holder);
}

/*
 * The input ended: the customer left. The AI's conversation, or one still
 * waiting for a human, closes with its ending; one a human holds stays
 * theirs to close. Returns 0 or -1 with *cause.
 */
static int
end_conversation(struct store *st, int64_t id, char **cause)
{
	cJSON *row = NULL;
	if (store_conversation_get(st, id, &row, cause) != 0)
		return -1;
	const char *handler = cJSON_GetStringValue(cJSON_GetObjectItem(row, "handler"));
	const char *owner = cJSON_GetStringValue(cJSON_GetObjectItem(row, "owner"));
	int rc = 0;
	if (handler != NULL && strcmp(handler, "human") == 0)
		fl_warnx("conversation %lld stays open: %s has it", (long long)id,
		         owner ? owner : "a human");
	else if (row != NULL) {
		const struct ending_close how = {.closed_by = "end-of-input"};
		rc = ending_close(st, id, &how, NULL, NULL, cause) < 0 ? -1 : 0;
	}
	cJSON_Delete(row);
	return rc;
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
	    {"new", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c, json = 0, ex = EX_OK, tier_given = 0;
	enum tier tier = TIER_STANDARD;
	const char *customer = NULL, *fixture = NULL, *csat_comment = NULL;
	int csat = 0, fresh = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jc:t:f:r:nh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'n':
			fresh = 1;
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
	    open_conversation(st, customer, fresh, &id, &created, &cause) != 0) {
		fl_warnx("store: %s", cause);
		ex = EX_IOERR;
		goto out;
	}
	conversation_init(&conv, customer, tier);
	have_conv = 1;
	/* One name per customer: a chat that stopped mid-turn left its claim to this one. */
	me = xasprintf("chat:%s", customer);
	if (!created) {
		char *pending = NULL, *holder = NULL;
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
			            &cause);
		} else if (rc == 0 && pending != NULL &&
		           (rc = held_by(st, id, &holder, &cause)) == 1) {
			held_warn(id, holder);
			ex = EX_TEMPFAIL;
		}
		free(pending);
		free(holder);
		if (rc < 0) {
			fl_warnx("store: %s", cause);
			ex = EX_IOERR;
		}
		if (ex != EX_OK)
			goto out;
	}

	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) != -1) {
		if ((size_t)n != strlen(line)) {
			fl_warnx("stdin: skipping a line with a NUL byte");
			continue;
		}
		str_trim(line);
		if (*line == '\0')
			continue;
		/* The customer's message is acknowledged only once it is stored. */
		char *holder = NULL;
		int rc = say_and_claim(st, id, me, line, &cl, &holder, &cause);
		if (rc == SAID_CLOSED) {
			/* Closed elsewhere (idle timeout, supervisor): this line starts anew. */
			int64_t was = id;
			conversation_free(&conv);
			conversation_init(&conv, customer, tier);
			arm = (struct ai_arm){.ai = 1};
			rc = open_conversation(st, customer, 0, &id, &created, &cause);
			if (rc == 0) {
				fl_warnx(
				    "conversation %lld was closed meanwhile: conversation %lld "
				    "goes on",
				    (long long)was, (long long)id);
				rc = say_and_claim(st, id, me, line, &cl, &holder, &cause);
			}
		}
		if (rc == SAID_CLAIMED) {
			const struct ai_claim held = {me, cl.upto};
			rc =
			    answer(ctx, &ag, st, id, &conv, &live, &arm, &held, line, json, &cause);
		} else if (rc == SAID_STORED) {
			/* For the human who has it, or is to: the customer is told. */
			if (json) {
				cJSON *o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "customer", line);
				cJSON_AddStringToObject(o, "stored_for", "human");
				char *j = cJSON_PrintUnformatted(o);
				puts(j);
				free(j);
				cJSON_Delete(o);
			} else
				puts(STORED_ACK);
			fflush(stdout);
			rc = 0;
		} else if (rc == SAID_HELD) {
			held_warn(id, holder);
			ex = EX_TEMPFAIL;
		} else if (rc == SAID_CLOSED) {
			cause = xasprintf("conversation %lld closed as it opened", (long long)id);
			rc = -1;
		}
		free(holder);
		if (rc < 0) {
			fl_warnx("store: %s", cause);
			ex = EX_IOERR;
		}
		if (ex != EX_OK)
			break;
	}
	free(line);
	/* The chat is over: the customer's rating, when they gave one, then the ending. */
	if (ex == EX_OK && csat > 0) {
		cJSON *o = desk_csat_json(csat, csat_comment);
		if (store_event_add(st, id, "csat", o, &cause) != 0) {
			fl_warnx("store: %s", cause);
			ex = EX_IOERR;
		}
		cJSON_Delete(o);
	}
	if (ex == EX_OK && end_conversation(st, id, &cause) != 0) {
		fl_warnx("store: %s", cause);
		ex = EX_IOERR;
	}
	/* And what the idle timeout closes, for stores no console or worker looks after. */
	char before[64];
	ending_idle_before(ag.policy->idle_close_minutes, before);
	if (ex == EX_OK && ending_close_idle(st, before, NULL, &cause) != 0) {
		fl_warnx("store: the idle timeout: %s", cause);
		ex = EX_IOERR;
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
    .args = "[--json] [--customer ID] [--new] [--tier TIER] [--fixture FILE] "
            "[--csat 'N [COMMENT]']",
    .summary = "one conversation in line mode: each line of standard input is a customer message",
    .exec = cmd_chat,
    .help = "  --json           one chat-turn object per message (DESIGN.md section 5)\n"
            "  --customer ID    who is talking (default: a new guest); their open\n"
            "                   conversation resumes where it stopped\n"
            "  --new            end the customer's open conversation and start a new one\n"
            "  --tier TIER      self-serve, standard (default), premium, enterprise\n"
            "  --fixture FILE   customers and orders for the tools, instead of the config\n"
            "                   file's tool backend (default: the shipped demo fixture)\n"
            "  --csat 'N [COMMENT]'  the customer's rating of the chat (1-5, and a\n"
            "                   comment), stored when the input ends\n"
            "Every message, event and handoff is stored before it is acknowledged.\n"
            "After a handoff the messages are stored for the specialist (\"" STORED_ACK "\").\n"
            "At the end of the input the conversation ends with its ending (frontline(1),\n"
            "METRICS) unless a human holds it. Another answerer's live claim on the\n"
            "conversation stores nothing and exits 75.\n"
            "Once a rollout or a canary is under way (frontline rollout, canary), a new\n"
            "conversation is assigned at its first message: the human arm gets no AI\n"
            "reply (it is stored as a shadow) and goes to a human.\n",
};
