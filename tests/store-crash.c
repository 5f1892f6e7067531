/*
 * store-crash.c -- a writer for the crash test (tests/store-crash.sh).
 *
 * store_crash DB N: writes turns 1..N into one conversation, each turn in
 * one transaction (the customer's "m<i>", two events, the agent's "r<i>"),
 * and prints "ack <i>" only once the turn is committed. It starts after
 * the last turn the store holds, so a writer killed at any moment is
 * simply started again.
 *
 * store_crash DB verify: checks the store holds whole turns 1..K in order,
 * nothing else, and prints "turns K". Exits 1 when it does not.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define CUSTOMER "crash-test"

static void
die(const char *what, char *cause)
{
	fprintf(stderr, "store_crash: %s: %s\n", what, cause ? cause : "?");
	free(cause);
	exit(1);
}

static const char *
text_of(const cJSON *o, const char *key)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
	return v ? v : "";
}

/*
 * Checks the conversation holds whole turns 1..K and nothing else: messages
 * m1 r1 m2 r2 ..., and events "step" 1 and 2 of each turn. Returns K,
 * or -1 after saying what is wrong. Both lists come in id order, so the
 * texts show the order of the turns.
 */
static int
check(struct store *st, int64_t conv)
{
	cJSON *msgs = NULL, *evs = NULL;
	char *cause = NULL;
	if (store_messages(st, conv, &msgs, &cause) != 0 ||
	    store_events(st, conv, &evs, &cause) != 0)
		die("read", cause);
	int nm = cJSON_GetArraySize(msgs), ne = cJSON_GetArraySize(evs), turns = nm / 2, bad = 0;
	if (nm % 2 != 0 || ne != nm) {
		fprintf(stderr, "store_crash: %d messages and %d events: not whole turns\n", nm,
		        ne);
		bad = 1;
	}
	/* (cJSON arrays are lists: walk them, GetArrayItem is linear) */
	const cJSON *m = msgs->child, *e = evs->child;
	for (int i = 0; !bad && i < turns; i++) {
		const cJSON *r = m->next;
		char want_m[32], want_r[32];
		snprintf(want_m, sizeof want_m, "m%d", i + 1);
		snprintf(want_r, sizeof want_r, "r%d", i + 1);
		if (strcmp(text_of(m, "text"), want_m) != 0 ||
		    strcmp(text_of(m, "role"), "customer") != 0 ||
		    strcmp(text_of(r, "text"), want_r) != 0 ||
		    strcmp(text_of(r, "role"), "ai") != 0) {
			fprintf(stderr, "store_crash: turn %d holds %s '%s', %s '%s'\n", i + 1,
			        text_of(m, "role"), text_of(m, "text"), text_of(r, "role"),
			        text_of(r, "text"));
			bad = 1;
		}
		for (int n = 1; !bad && n <= 2; n++, e = e->next) {
			const cJSON *p = cJSON_GetObjectItem(e, "payload");
			const cJSON *t = cJSON_GetObjectItem(p, "turn"),
			            *k = cJSON_GetObjectItem(p, "n");
			if (strcmp(text_of(e, "kind"), "step") != 0 || !cJSON_IsNumber(t) ||
			    t->valueint != i + 1 || !cJSON_IsNumber(k) || k->valueint != n) {
				fprintf(stderr, "store_crash: turn %d: event %d is wrong\n", i + 1,
				        n);
				bad = 1;
			}
		}
		m = r->next;
	}
	cJSON_Delete(msgs);
	cJSON_Delete(evs);
	return bad ? -1 : turns;
}

/* SQLite's own check of the file, outside the store. */
static int
integrity(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int ok = 0;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW) {
			const char *r = (const char *)sqlite3_column_text(q, 0);
			ok = r != NULL && strcmp(r, "ok") == 0;
			if (!ok)
				fprintf(stderr, "store_crash: integrity_check: %s\n", r ? r : "?");
		}
		sqlite3_finalize(q);
	} else
		fprintf(stderr, "store_crash: %s: %s\n", path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return ok;
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: store_crash DB N|verify\n");
		return 2;
	}
	int verify = strcmp(argv[2], "verify") == 0;
	long n = verify ? 0 : strtol(argv[2], NULL, 10);

	char *cause = NULL;
	struct store *st = store_open(argv[1], &cause);
	if (st == NULL)
		die(argv[1], cause);
	int64_t conv;
	if (store_conversation_open(st, CUSTOMER, &conv, NULL, &cause) != 0)
		die("conversation", cause);
	int done = check(st, conv);
	if (done < 0)
		return 1;
	if (verify) {
		store_close(st);
		if (!integrity(argv[1]))
			return 1;
		printf("turns %d\n", done);
		return 0;
	}

	for (long i = done + 1; i <= n; i++) {
		char m[32], r[32];
		snprintf(m, sizeof m, "m%ld", i);
		snprintf(r, sizeof r, "r%ld", i);
		if (store_begin(st, &cause) != 0 ||
		    store_message_add(st, conv, "customer", m, NULL, &cause) != 0)
			die("turn", cause);
		for (int k = 1; k <= 2; k++) {
			cJSON *p = cJSON_CreateObject();
			cJSON_AddNumberToObject(p, "turn", (double)i);
			cJSON_AddNumberToObject(p, "n", k);
			int rc = store_event_add(st, conv, "step", p, &cause);
			cJSON_Delete(p);
			if (rc != 0)
				die("event", cause);
		}
		if (store_message_add(st, conv, "ai", r, NULL, &cause) != 0 ||
		    store_commit(st, &cause) != 0)
			die("turn", cause);
		/* Acknowledged only now that it is durable. */
		printf("ack %ld\n", i);
		fflush(stdout);
	}
	store_close(st);
	return 0;
}
