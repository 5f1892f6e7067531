/*
 * bench-model.c -- many conversations waiting on a model at once.
 *
 *   bench-model SRCDIR PORT N
 *
 * Starts N conversations (customer C-1001, one message each) with every
 * agent on the openai backend against a loopback server on PORT (the
 * caller runs tests/mock-openai.py --auto --delay-ms 300), all in flight
 * at once on one event loop, and reports wall time against the ideal
 * (the server's delay times the model rounds a turn needs), client CPU
 * per model request, peak memory; then the same turns on the offline
 * engine alone: frontline's own cost per turn, beyond the model's time.
 * Measures only; never a pass/fail check.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "conversation.h"
#include "loop.h"
#include "model.h"

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int pending;
static long failed_steps;

static void
done(cJSON *turn, cJSON *events, void *arg)
{
	(void)arg;
	const cJSON *m, *steps = cJSON_GetObjectItem(turn, "models");
	cJSON_ArrayForEach(m, steps) failed_steps += !cJSON_IsTrue(cJSON_GetObjectItem(m, "ok"));
	cJSON_Delete(turn);
	cJSON_Delete(events);
	pending--;
}

static const char *const messages[] = {
    "where is my order A12345?",
    "how long do I have to return a camera",
    "how do I factory reset the doorbell",
    "can I change the shipping address on my order A12345",
};

int
main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: bench-model SRCDIR PORT N\n");
		return 64;
	}
	const char *src = argv[1];
	int n = atoi(argv[3]);
	char *cause = NULL, *path;
	struct diag d = {0};

	path = xasprintf("%s/policies/support-agent-policy.yaml", src);
	struct policy *p = policy_load(path, &d);
	free(path);
	path = xasprintf("%s/kb", src);
	struct kb *kb = p ? kb_open(path, ":memory:", &d, &cause) : NULL;
	free(path);
	char *model =
	    xasprintf("%s/triage.model", getenv("top_builddir") ? getenv("top_builddir") : ".");
	char *data = xasprintf("%s/data/triage", src),
	     *catalog = xasprintf("%s/kb/catalog.yaml", src);
	int ex;
	struct triage *tr = kb ? triage_open(model, data, catalog, p, &cause, &ex) : NULL;
	if (tr == NULL) {
		fprintf(stderr, "bench-model: %s\n",
		        cause ? cause : "cannot load the policy or KB");
		return 1;
	}
	path = xasprintf("%s/data/fixtures/customers.json", src);
	struct tool_backend tb = {0};
	if (tool_backend_fixture(&tb, path, &cause) != 0) {
		fprintf(stderr, "bench-model: %s\n", cause);
		return 1;
	}
	free(path);

	struct settings *s = settings_default();
	free(s->endpoints[0].base_url);
	s->endpoints[0].base_url = xasprintf("http://127.0.0.1:%s/v1", argv[2]);
	s->endpoints[0].total_timeout_ms = 120000;
	s->endpoints[0].first_byte_timeout_ms = 120000;
	struct loop *loop = loop_new();
	struct models *ms = models_new(loop, s, src, &cause);
	if (ms == NULL) {
		fprintf(stderr, "bench-model: %s\n", cause);
		return 1;
	}
	struct agents ag = {.policy = p, .triage = tr, .kb = kb, .tools = &tb, .models = ms};
	ag.fresh.today = 20781; /* 2026-11-24 */
	ag.fresh.stale_after_days = p->stale_after_days;
	ag.fresh.volatile_topics = p->volatile_topics;

	/* Offline first: frontline's own cost per turn. */
	struct conversation *conv = xcalloc((size_t)n, sizeof *conv);
	double c0 = cpu_ms(), w0 = now_ms();
	for (int i = 0; i < n; i++) {
		conversation_init(&conv[i], "C-1001", TIER_STANDARD);
		cJSON *ev, *t = conversation_turn(&ag, &conv[i], messages[i % 4], &ev);
		cJSON_Delete(t);
		cJSON_Delete(ev);
		conversation_free(&conv[i]);
	}
	double off_cpu = cpu_ms() - c0, off_wall = now_ms() - w0;

	for (int r = 0; r < AGENT__N; r++)
		ag.backend[r] = r == AGENT_EMBEDDINGS ? BACKEND_OFFLINE : BACKEND_OPENAI;
	struct model_stats before, after;
	models_stats(ms, &before);
	c0 = cpu_ms();
	w0 = now_ms();
	pending = n;
	for (int i = 0; i < n; i++) {
		conversation_init(&conv[i], "C-1001", TIER_STANDARD);
		conversation_turn_start(&ag, &conv[i], messages[i % 4], done, NULL);
	}
	while (pending > 0)
		loop_once(loop, -1);
	double wall = now_ms() - w0, cpu = cpu_ms() - c0;
	models_stats(ms, &after);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	uint64_t calls = after.calls - before.calls;
	double rounds = (double)calls / n;

	printf("| conversations in flight | %d |\n", n);
	printf("| model requests | %llu (%.2f per turn: triage, resolution, handoff when it "
	       "escalates) |\n",
	       (unsigned long long)calls, rounds);
	printf("| failed model steps | %ld |\n", failed_steps);
	printf("| wall time | %.0f ms |\n", wall);
	printf("| ideal (300 ms x %.2f rounds) | %.0f ms |\n", rounds, 300 * rounds);
	printf("| client CPU per model request | %.0f us |\n", cpu * 1e3 / (double)calls);
	printf("| peak RSS | %.1f MiB |\n", ru.ru_maxrss / 1024.0);
	printf("| offline turn (frontline's own work) | %.0f us CPU, %.0f us wall |\n",
	       off_cpu * 1e3 / n, off_wall * 1e3 / n);
	for (int i = 0; i < n; i++)
		conversation_free(&conv[i]);
	free(conv);
	models_free(ms);
	loop_free(loop);
	settings_free(s);
	tool_backend_free(&tb);
	triage_close(tr);
	kb_close(kb);
	policy_free(p);
	diag_free(&d);
	free(model);
	free(data);
	free(catalog);
	return 0;
}
