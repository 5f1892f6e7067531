/* dialogue.c -- dialogue acts from cue phrases kept in a data file. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dialogue.h"
#include "phrases.h"
#include "tokens.h"
#include "util.h"

const char *const dialogue_act_names[] = {
    "question",       "greeting",      "thanks",       "affirm", "deny", "bot_question",
    "human_question", "human_request", "out_of_scope", "detail", "ack",  NULL};

const char *const awaiting_names[] = {"none",   "order_number", "email", "device",
                                      "choice", "confirm",      NULL};

/* The rules file's labels, in the order they win over the same words. */
static const char *const cue_names[] = {"bot",  "human",  "contrast", "request",  "order",  "self",
                                        "deny", "thanks", "affirm",   "greeting", "filler", NULL};
static const struct phrase_labels cues = {.names = cue_names, .what = "cue"};

/* Words a social act may add before it reads as a question ("yes please cancel it"). */
#define SOCIAL_REST 2
#define THANKS_REST 4
#define ACK_REST    6    /* "ok I'll try restarting it first then" */
#define MAX_TEXT    1024 /* longer messages are questions whatever their first words */

struct dialogue_rules {
	struct phrase_rules *rules;
};

struct dialogue_rules *
dialogue_load(const char *path, char **cause)
{
	struct phrase_rules *rules = phrase_rules_load(path, &cues, cause);
	if (rules == NULL)
		return NULL;
	struct dialogue_rules *r = xmalloc(sizeof *r);
	r->rules = rules;
	return r;
}

void
dialogue_free(struct dialogue_rules *r)
{
	if (r == NULL)
		return;
	phrase_rules_free(r->rules);
	free(r);
}

/* Marks the words each cue covers, longer phrases and stronger cues first. */
static void
cover(const struct phrase_match *m, size_t nm, int *by, size_t nw, struct dialogue_reading *out)
{
	for (size_t i = 0; i < nw; i++)
		by[i] = -1;
	/* Longest first; on a tie the lower (stronger) cue. */
	for (size_t len = 8; len > 0; len--)
		for (int cue = 0; cue < CUE__N; cue++)
			for (size_t k = 0; k < nm; k++) {
				if (m[k].nwords != len || m[k].label != cue)
					continue;
				int free_ = 1;
				for (size_t j = m[k].word; j < m[k].word + len; j++)
					free_ &= by[j] < 0;
				if (!free_)
					continue;
				for (size_t j = m[k].word; j < m[k].word + len; j++)
					by[j] = cue;
				/* A negated cue covers its words but says nothing ("not great"). */
				if (!m[k].negated || cue == CUE_FILLER || cue == CUE_DENY)
					out->cues |= 1u << cue;
			}
}

/* The act of a message read on its own, from its cues and leftover words. */
static enum dialogue_act
act_alone(const struct dialogue_reading *r)
{
	unsigned c = r->cues;
	if (c & 1u << CUE_BOT)
		return ACT_BOT_QUESTION;
	if (c & 1u << CUE_CONTRAST) /* "thanks, but it still doesn't work" */
		return c & 1u << CUE_HUMAN ? ACT_HUMAN_QUESTION : ACT_QUESTION;
	if (r->content == 0 && !r->question) {
		if (c & 1u << CUE_DENY)
			return ACT_DENY;
		if (c & 1u << CUE_THANKS)
			return ACT_THANKS;
		if (c & 1u << CUE_AFFIRM)
			return ACT_AFFIRM;
		if (c & 1u << CUE_GREETING)
			return ACT_GREETING;
	}
	if (r->content == 0 && r->question && c == 1u << CUE_GREETING)
		return ACT_GREETING; /* "hello?" */
	if (!r->question) {
		if ((c & 1u << CUE_THANKS) && r->content <= THANKS_REST)
			return ACT_THANKS;
		if (r->lead == CUE_DENY && r->content <= SOCIAL_REST)
			return ACT_DENY;
		if (r->lead == CUE_AFFIRM && r->content <= SOCIAL_REST)
			return ACT_AFFIRM;
		/* Nothing asked for: "ok, I'll try FedEx", "done, got the label". */
		int opens = r->lead == CUE_AFFIRM || r->lead == CUE_DENY || (c & 1u << CUE_SELF);
		if (opens && !(c & 1u << CUE_REQUEST) && r->content <= ACK_REST)
			return ACT_ACK;
	}
	if (c & 1u << CUE_HUMAN)
		return ACT_HUMAN_QUESTION;
	return ACT_QUESTION;
}

void
dialogue_read(const struct dialogue_rules *r, const char *text, struct dialogue_reading *out)
{
	memset(out, 0, sizeof *out);
	out->lead = -1;
	size_t n = text ? strlen(text) : 0;
	out->question = n > 0 && memchr(text, '?', n) != NULL;
	if (r == NULL || n == 0 || n > MAX_TEXT) {
		out->content = n > 0;
		out->act = ACT_QUESTION;
		return;
	}
	char low[MAX_TEXT];
	struct token w[MAX_TEXT / 2 + 1];
	size_t nw = tokens_split((const unsigned char *)text, n, low, w);
	struct phrase_match m[MAX_TEXT / 2 + 1];
	size_t nm = phrase_rules_scan(r->rules, low, w, nw, m, nitems(m));
	int by[MAX_TEXT / 2 + 1];
	cover(m, nm, by, nw, out);

	size_t restlen = 0;
	for (size_t i = 0; i < nw; i++) {
		/* A word that asks for something is what the message is about: content. */
		if (by[i] >= 0 && by[i] != CUE_REQUEST)
			continue;
		out->content++;
		size_t len = w[i].len;
		if (restlen + len + 2 < sizeof out->rest) {
			if (restlen > 0)
				out->rest[restlen++] = ' ';
			memcpy(out->rest + restlen, low + w[i].off, len);
			restlen += len;
			out->rest[restlen] = '\0';
		}
	}
	/* The first word past greetings and filler says how the message opens. */
	for (size_t i = 0; i < nw; i++)
		if (by[i] != CUE_FILLER && by[i] != CUE_GREETING) {
			/* A word asking for something opens like any content word. */
			out->lead = by[i] == CUE_REQUEST ? -1 : by[i];
			break;
		}
	out->act = act_alone(out);
}

/* Does every leftover word of the reading appear in the offer ("yes, resend it")? */
static int
restates(const struct dialogue_reading *r, const char *offer)
{
	if (r->content == 0)
		return 1;
	if (offer == NULL)
		return 0;
	char buf[sizeof r->rest];
	memcpy(buf, r->rest, sizeof buf);
	char *save = NULL;
	for (char *word = strtok_r(buf, " ", &save); word; word = strtok_r(NULL, " ", &save))
		if (!str_casecontains(offer, word))
			return 0;
	return 1;
}

enum dialogue_act
dialogue_interpret(const struct dialogue_reading *r, const struct dialogue_context *cx)
{
	if (cx->human_requested)
		return ACT_HUMAN_REQUEST;
	if (cx->awaiting_detail && cx->detail_given)
		return ACT_DETAIL;
	switch (r->act) {
	case ACT_AFFIRM:
		/* "yes" to nothing offered, with words of its own, is a request. */
		if (r->content > 0 && !(cx->offer_pending && restates(r, cx->offer)))
			return r->cues & 1u << CUE_REQUEST ? ACT_QUESTION : ACT_ACK;
		return ACT_AFFIRM;
	case ACT_DENY:
		return r->content > 0 && !cx->offer_pending ? ACT_QUESTION : ACT_DENY;
	case ACT_QUESTION:
		return cx->out_of_scope ? ACT_OUT_OF_SCOPE : ACT_QUESTION;
	default:
		return r->act;
	}
}
