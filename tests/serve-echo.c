/* serve-echo.c -- a stand-in responder for the serve tests: answers customer messages in the store.
 *
 * Usage: serve_echo DB
 * Every 20 ms, each open AI-handled conversation whose newest message is
 * the customer's gets an answer, stored as frontline's agents store one:
 *   "#handoff" in the text   the conversation waits for a human (no reply)
 *   "#human"                 a human ("tester") takes it and answers
 *   "#resolve"               "echo: TEXT", then the conversation is resolved
 *   anything else            "echo: TEXT"
 * It runs until SIGTERM or SIGINT. It is not the agent pipeline: it lets
 * the serve tests see replies, state changes and closings arrive over SSE
 * without depending on what the agents would say.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	stop = 1;
}

/* Answers one conversation's newest customer message. Returns 0 or -1 with *cause. */
static int
answer(struct store *st, int64_t conv, const char *text, char **cause)
{
	char *reply = xasprintf("echo: %s", text);
	int rc = store_begin(st, cause);
	if (rc == 0 && strstr(text, "#handoff") != NULL)
		rc = store_conversation_handler(st, conv, "waiting", NULL, cause);
	else if (rc == 0 && strstr(text, "#human") != NULL)
		rc = store_conversation_handler(st, conv, "human", "tester", cause) == 0 &&
		             store_message_add(st, conv, "human", "a human here", NULL, cause) == 0
		         ? 0
		         : -1;
	else if (rc == 0)
		rc = store_message_add(st, conv, "ai", reply, NULL, cause);
	if (rc == 0 && strstr(text, "#resolve") != NULL)
		rc = store_conversation_end(st, conv, "resolved-agent", NULL, cause);
	free(reply);
	if (rc == 0)
		return store_commit(st, cause);
	store_rollback(st);
	return -1;
}

int
main(int argc, char **argv)
{
	char *cause = NULL;
	if (argc != 2) {
		fprintf(stderr, "usage: serve_echo DB\n");
		return 64;
	}
	struct store *st = store_open(argv[1], &cause);
	if (st == NULL) {
		fprintf(stderr, "serve_echo: %s: %s\n", argv[1], cause);
		return 74;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop) {
		cJSON *list = NULL, *c;
		if (store_conversation_list(st, NULL, &list, &cause) != 0) {
			fprintf(stderr, "serve_echo: %s\n", cause);
			free(cause);
			cause = NULL;
		}
		cJSON_ArrayForEach(c, list)
		{
			const char *h = cJSON_GetStringValue(cJSON_GetObjectItem(c, "handler"));
			int64_t conv = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(c, "id"));
			cJSON *msgs = NULL;
			if (h == NULL || strcmp(h, "ai") != 0 ||
			    store_messages(st, conv, &msgs, &cause) != 0) {
				free(cause);
				cause = NULL;
				continue;
			}
			const cJSON *m = cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
			const char *role = cJSON_GetStringValue(cJSON_GetObjectItem(m, "role"));
			const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(m, "text"));
			if (role != NULL && strcmp(role, "customer") == 0 && text != NULL &&
			    answer(st, conv, text, &cause) != 0) {
				fprintf(stderr, "serve_echo: conversation %lld: %s\n",
				        (long long)conv, cause);
				free(cause);
				cause = NULL;
			}
			cJSON_Delete(msgs);
		}
		cJSON_Delete(list);
		nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
	}
	store_close(st);
	return 0;
}
