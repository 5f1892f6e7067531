/* cmd-chat.c -- frontline chat: one conversation in line mode, every turn stored. */
#include "config.h"

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
#include "jsonl.h"
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
#define CHAT_LEASE_MS    (15 * 60 * 1000)
#define CHAT_MESSAGE_MAX ((size_t)64 << 10) /* bytes; serve's default largest body */

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

/* One chat: what it runs on, and the conversation it is in. */
struct chat {
	struct ctx *ctx;
	struct agents ag;
	struct tool_backend tb;
	struct store *st;
	struct rollout_live live;
	const char *customer;
	enum tier tier;
	int json;
	int64_t id; /* the conversation */
	struct conversation conv;
	int have_conv;
	struct ai_arm arm;
	char *me;    /* who claims: "chat:CUSTOMER" */
	char *guest; /* the customer's id when none was given */
};

/*
 * Answers a stored customer message under claim cl: runs the turn, stores
 * it and only then prints it. Returns 0, or -1 with *cause when the turn
 * could not be stored.
 */
static int
answer(struct chat *ch, const struct ai_claim *cl, const char *text, char **cause)
{
	ctx_agents_policy(ch->ctx, &ch->ag);
	struct agents use;
	if (ai_turn_prepare(ch->st, ch->id, &ch->live, &ch->ag, &ch->conv, &ch->arm, text, &use,
	                    cause) != 0)
		return -1;
	cJSON *events = NULL;
	cJSON *turn = conversation_turn(&use, &ch->conv, text, &events);
	/* The human arm: the AI's answer is a shadow; a human has the conversation. */
	ai_turn_divert(turn, events, &ch->arm, &ch->conv, ch->ag.triage);
	int withheld = 0;
	int rc = ai_turn_store(ch->st, ch->id, cl, turn, events, &withheld, NULL, cause);
	if (rc != 0) {
		if (rc == 1)
			*cause = xasprintf("conversation %lld: the claim was lost during the turn",
			                   (long long)ch->id);
		cJSON_Delete(turn);
		cJSON_Delete(events);
		return -1;
	}
	const cJSON *h = cJSON_GetObjectItem(turn, "handoff");
	if (ch->json) {
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

/* The store said no: the exit code, with why. */
static int
store_failed(char *cause)
{
	fl_warnx("store: %s", cause);
	free(cause);
	return EX_IOERR;
}

/*
 * A conversation that goes on where it stopped: its state back, and the
 * message stored last time gets its turn first. Returns an exit code.
 */
static int
chat_resume(struct chat *ch)
{
	char *pending = NULL, *holder = NULL, *cause = NULL;
	struct store_claim cl;
	int rc, ex = EX_OK;
	if (resume(ch->st, ch->id, &ch->conv, &ch->arm, &pending, &cause) != 0)
		return store_failed(cause);
	if (pending != NULL && (rc = store_claim_release(ch->st, ch->id, ch->me, &cause)) == 0 &&
	    (rc = store_claim(ch->st, ch->me, CHAT_LEASE_MS, ch->id, &cl, &cause)) == 1) {
		const struct ai_claim held = {ch->me, cl.upto};
		rc = answer(ch, &held, pending, &cause);
	} else if (pending != NULL && rc == 0 &&
	           (rc = held_by(ch->st, ch->id, &holder, &cause)) == 1) {
		held_warn(ch->id, holder);
		ex = EX_TEMPFAIL;
	}
	free(pending);
	free(holder);
	return pending != NULL && rc < 0 ? store_failed(cause) : ex;
}

/* The customer's conversation, opened or resumed. Returns an exit code. */
static int
chat_open(struct chat *ch, const struct cmd_args *a)
{
	char *cause = NULL;
	int created, ex;
	if ((ex = ctx_agents(ch->ctx, cmd_args_get(a, "fixture"), &ch->ag, &ch->tb)) != EX_OK ||
	    (ch->st = ctx_store(ch->ctx, &ex)) == NULL ||
	    (ex = ctx_rollout(ch->ctx, ch->st, &ch->ag, &ch->live)) != EX_OK)
		return ex;
	if (ch->customer == NULL)
		ch->customer = ch->guest =
		    xasprintf("guest-%ld-%ld", (long)time(NULL), (long)getpid());
	/* Without --tier the stored tier stays (TIER__N keeps it). */
	if (store_customer_put(ch->st, ch->customer, NULL, NULL,
	                       cmd_args_has(a, "tier") ? ch->tier : TIER__N, &cause) != 0 ||
	    open_conversation(ch->st, ch->customer, cmd_args_has(a, "new"), &ch->id, &created,
	                      &cause) != 0)
		return store_failed(cause);
	conversation_init(&ch->conv, ch->customer, ch->tier);
	ch->have_conv = 1;
	/* One name per customer: a chat that stopped mid-turn left its claim to this one. */
	ch->me = xasprintf("chat:%s", ch->customer);
	return created ? EX_OK : chat_resume(ch);
}

/* Tells the customer that what they said is stored for the human. */
static void
stored_for_human(const struct chat *ch, const char *line)
{
	if (ch->json) {
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
}

/*
 * One customer message: stored (and acknowledged only then), and answered
 * when the AI has the conversation. Returns an exit code.
 */
static int
chat_say(struct chat *ch, const char *line)
{
	char *holder = NULL, *cause = NULL;
	struct store_claim cl;
	int created, ex = EX_OK;
	int rc = say_and_claim(ch->st, ch->id, ch->me, line, &cl, &holder, &cause);
	if (rc == SAID_CLOSED) {
		/* Closed elsewhere (idle timeout, supervisor): this line starts anew. */
		int64_t was = ch->id;
		conversation_free(&ch->conv);
		conversation_init(&ch->conv, ch->customer, ch->tier);
		ch->arm = (struct ai_arm){.ai = 1};
		rc = open_conversation(ch->st, ch->customer, 0, &ch->id, &created, &cause);
		if (rc == 0) {
			fl_warnx(
			    "conversation %lld was closed meanwhile: conversation %lld goes on",
			    (long long)was, (long long)ch->id);
			rc = say_and_claim(ch->st, ch->id, ch->me, line, &cl, &holder, &cause);
		}
	}
	if (rc == SAID_CLAIMED) {
		const struct ai_claim held = {ch->me, cl.upto};
		rc = answer(ch, &held, line, &cause);
	} else if (rc == SAID_STORED) {
		/* For the human who has it, or is to: the customer is told. */
		stored_for_human(ch, line);
		rc = 0;
	} else if (rc == SAID_HELD) {
		held_warn(ch->id, holder);
		ex = EX_TEMPFAIL;
	} else if (rc == SAID_CLOSED) {
		cause = xasprintf("conversation %lld closed as it opened", (long long)ch->id);
		rc = -1;
	}
	free(holder);
	return rc < 0 ? store_failed(cause) : ex;
}

/*
 * The input ended: the customer's rating, when they gave one, then the
 * ending, and what the idle timeout closes (for stores no console or
 * worker looks after). Returns an exit code.
 */
static int
chat_close(struct chat *ch, const struct cmd_args *a)
{
	char *cause = NULL, before[64];
	int csat = 0, rc = 0;
	const char *comment = NULL;
	if (cmd_args_has(a, "csat"))
		cp_rating_parse(cmd_args_get(a, "csat"), &csat, &comment);
	if (csat > 0) {
		cJSON *o = desk_csat_json(csat, comment);
		rc = store_event_add(ch->st, ch->id, "csat", o, &cause);
		cJSON_Delete(o);
	}
	if (rc == 0 && end_conversation(ch->st, ch->id, &cause) != 0)
		rc = -1;
	if (rc != 0)
		return store_failed(cause);
	ending_idle_before(ch->ag.policy->idle_close_minutes, before);
	if (ending_close_idle(ch->st, before, NULL, &cause) != 0) {
		fl_warnx("store: the idle timeout: %s", cause);
		free(cause);
		return EX_IOERR;
	}
	return EX_OK;
}

static void
chat_free(struct chat *ch)
{
	free(ch->me);
	if (ch->have_conv)
		conversation_free(&ch->conv);
	store_close(ch->st);
	ctx_rollout_free(&ch->live);
	ctx_agents_free(&ch->ag, &ch->tb);
	free(ch->guest);
}

static int
cmd_chat(struct ctx *ctx, const struct cmd_args *a)
{
	struct chat ch = {
	    .ctx = ctx,
	    .live = {.stage = -1, .canary_share = -1},
	    .customer = cmd_args_get(a, "customer"),
	    .tier = (enum tier)cmd_args_choice(a, "tier", TIER_STANDARD),
	    .json = cmd_args_has(a, "json"),
	    .arm = {.ai = 1},
	};
	/* Lines are read as jsonl.h reads them (not parsed): one longer than the
	 * HTTP front door's largest body is skipped as it streams by, never held. */
	struct jsonl in;
	jsonl_init(&in, stdin, "stdin");
	in.max = CHAT_MESSAGE_MAX;
	const char *line;
	size_t len;
	char *cause = NULL;
	int got, skipped = 0, ex = chat_open(&ch, a);
	while (ex == EX_OK && (got = jsonl_read(&in, &line, &len, &cause)) != 0) {
		if (got < 0) {
			fl_warnx("%s", cause);
			skipped++;
			if (got == -2)
				ex = EX_IOERR;
		} else if (len != strlen(line)) {
			fl_warnx("stdin:%ld: skipping a line with a NUL byte", in.lineno);
			skipped++;
		} else {
			char *msg = xstrdup(line);
			str_trim(msg);
			if (*msg != '\0')
				ex = chat_say(&ch, msg);
			free(msg);
		}
		free(cause);
		cause = NULL;
	}
	jsonl_free(&in);
	if (ex == EX_OK)
		ex = chat_close(&ch, a);
	chat_free(&ch);
	return ex == EX_OK && skipped ? EX_DATAERR : ex;
}

/* A --csat value: "N [COMMENT]". */
static int
csat_check(const char *v, const char **what)
{
	int score;
	const char *comment;
	*what = "a rating from 1 to 5, optionally followed by a comment";
	return cp_rating_parse(v, &score, &comment);
}

static const struct cmd_option options[] = {
    {.name = "json", .help = "one chat-turn object per message (frontline(1), chat)"},
    {.name = "customer",
     .value = CMD_TEXT,
     .arg = "ID",
     .help = "who is talking (default: a new guest); their open conversation resumes where it "
             "stopped"},
    {.name = "new", .help = "end the customer's open conversation and start a new one"},
    {.name = "tier",
     .value = CMD_CHOICE,
     .arg = "TIER",
     .choices = tier_names,
     .help = "self-serve, standard (default), premium, enterprise"},
    {.name = "fixture",
     .value = CMD_FILE,
     .arg = "FILE",
     .help = "customers and orders for the tools, instead of the config file's tool backend "
             "(default: the shipped demo fixture)"},
    {.name = "csat",
     .value = CMD_TEXT,
     .arg = "'N [COMMENT]'",
     .check = csat_check,
     .help = "the customer's rating of the chat (1-5, and a comment), stored when the input "
             "ends"},
    {0},
};

const struct cmd_entry cmd_chat_entry = {
    .name = "chat",
    .summary = "one conversation in line mode: each line of standard input is a customer message",
    .options = options,
    .exec = cmd_chat,
    .help = "Every message, event and handoff is stored before it is acknowledged.\n"
            "After a handoff the messages are stored for the specialist (\"" STORED_ACK "\").\n"
            "At the end of the input the conversation ends with its ending (frontline(1),\n"
            "METRICS) unless a human holds it. Another answerer's live claim on the\n"
            "conversation stores nothing and exits 75. A line with a NUL byte or longer\n"
            "than 64 KiB is skipped with a warning, and chat exits 65 at the end.\n"
            "Once a rollout or a canary is under way (frontline rollout, canary), a new\n"
            "conversation is assigned at its first message: the human arm gets no AI\n"
            "reply (it is stored as a shadow) and goes to a human.\n",
};
