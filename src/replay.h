/* replay.h -- shadow-mode replay: tickets through the agents, compared with the humans. */
#ifndef FL_REPLAY_H
#define FL_REPLAY_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "agents.h"
#include "jsonl.h"
#include "types.h"

/* ---------------------------------------------------------------- tickets */

/* A ticket (DESIGN.md section 5) as replay reads it. */
struct ticket {
	cJSON *json;             /* the whole ticket; owned */
	char *id;                /* owned */
	const char *customer_id; /* customer.id, or NULL; borrowed from json */
	enum tier tier;          /* customer.tier, standard when absent */
	const char *created_at;  /* or NULL */
	/* Borrowed from json; NULL when absent (or JSON null). */
	const cJSON *customer, *context, *labels, *outcome, *messages;
	int customer_messages;
};

/*
 * Parses one line of a ticket file: the line rules of jsonl.h, then the
 * ticket's (frontline-tickets(5)). Only "id" (a non-empty string) and
 * "messages" are required; what is present must be well formed and of
 * its type (roles customer or human, non-empty texts, at least one
 * customer message, known tier and label category, booleans, numbers and
 * strings where the page says so). Returns 0 and fills t (free with
 * ticket_free), or -1 with *cause (caller frees) saying what is wrong
 * with the line.
 */
int ticket_parse(const char *line, size_t len, struct ticket *t, char **cause);
void ticket_free(struct ticket *);

/*
 * The next ticket of a ticket file read by r (jsonl.h), with its id
 * unique across the file. Returns 1 with t (free with ticket_free), 0 at
 * the end, -1 with *cause "NAME:LINE: why" for a bad line (skipped: call
 * again for the next), -2 with *cause on a read error. Replay, the drift
 * suite and triage training read tickets through this.
 */
int ticket_read(struct jsonl *r, struct ticket *t, char **cause);
/* The same for a line the caller read from r (for files that mix formats). */
int ticket_line(struct jsonl *r, const char *line, size_t len, struct ticket *t, char **cause);

/* ---------------------------------------------------------- one ticket */

/*
 * Runs a ticket's customer messages through the agents in order, sending
 * nothing and writing nothing, with the ticket's context as the tool
 * backend (ag's own backend when it has none). The agent stops at the turn
 * it escalates; when only its confidence made it escalate, the remaining
 * messages still run (nothing of them is recorded but what the threshold
 * sweep needs). version is the agent version to record.
 *
 * Returns the replay result object (DESIGN.md section 5 and the issue 7
 * contract; the caller frees), or NULL with *cause when the ticket's
 * context cannot make a tool backend.
 */
cJSON *replay_ticket(const struct agents *ag, const char *version, const struct ticket *t,
                     char **cause);

/*
 * The threshold sweep's question for one result: would the agent have
 * escalated the ticket had the confidence threshold been threshold?
 */
int replay_sweep_escalates(const cJSON *result, double threshold);

/* ---------------------------------------------------------------- report */

struct replay_report;

/* An empty report; target_agreement is what the sweep's best threshold must reach. */
struct replay_report *replay_report_new(double target_agreement);
void replay_report_free(struct replay_report *);
/* Counts one result (not kept). */
void replay_report_add(struct replay_report *, const cJSON *result);
/* Counts a line that could not be replayed. */
void replay_report_bad(struct replay_report *);
/*
 * The report as JSON (frontline.1 lists the fields); rates and means with
 * nothing under them are null. The caller frees it.
 */
cJSON *replay_report_json(const struct replay_report *);
/* The report as text. */
void replay_report_print(const cJSON *report, FILE *);

#endif
