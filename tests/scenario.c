/*
 * scenario.c -- runs a scripted conversation through `frontline chat --json`
 * and checks each turn against expectations.
 *
 *   scenario FRONTLINE SCENARIO-FILE [FRONTLINE-ARGS...] [-- CHAT-ARGS...]
 *
 * FRONTLINE-ARGS go before "chat" (--policy, --kb, --db), CHAT-ARGS after it
 * (--fixture).
 *
 * A scenario file holds, one per line:
 *   # comment
 *   # kb: DIR, # policy: FILE, # fixture: FILE
 *                          (read by scenarios.sh: the knowledge base, policy
 *                          and tool fixture to use, relative to the source tree)
 *   customer ID            (chat --customer)
 *   tier TIER              (chat --tier)
 *   > message              a customer message
 *   expect PATH OP VALUE   a check on the latest turn's chat-turn object
 * PATH is dotted ("escalation.reason", "tools.0.allowed", "validation.violations.0");
 * "words:PATH" counts the words of a string. OP is = != ~ (contains) !~ <= >=.
 * VALUE is text, or null, true, false, or a number. Prints "ok"/"FAIL" lines
 * and "N passed, M failed"; exits 1 on any failure.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util.h"

struct expect {
	int after; /* the turn it checks */
	int line;
	char *path, *op, *value;
};

static const cJSON *
walk(const cJSON *o, const char *path)
{
	char *p = xstrdup(path), *save = NULL;
	for (char *tok = strtok_r(p, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save)) {
		if (cJSON_IsArray(o) && isdigit((unsigned char)*tok))
			o = cJSON_GetArrayItem(o, atoi(tok));
		else
			o = cJSON_GetObjectItemCaseSensitive(o, tok);
	}
	free(p);
	return o;
}

static int
words(const char *s)
{
	int n = 0, in = 0;
	for (; *s; s++) {
		int sp = isspace((unsigned char)*s);
		n += !sp && !in;
		in = !sp;
	}
	return n;
}

/* Returns 1 when the expectation holds; *got describes what was found. */
static int
check(const cJSON *turn, const struct expect *e, char **got)
{
	const char *path = e->path;
	int count = strncmp(path, "words:", 6) == 0;
	const cJSON *v = walk(turn, count ? path + 6 : path);
	char *s;
	double num = 0;
	int isnum = 0;
	if (count && cJSON_IsString(v)) {
		num = words(v->valuestring);
		isnum = 1;
		s = xasprintf("%g", num);
	} else if (v == NULL || cJSON_IsNull(v))
		s = xstrdup("null");
	else if (cJSON_IsString(v))
		s = xstrdup(v->valuestring);
	else {
		s = cJSON_PrintUnformatted(v);
		if (cJSON_IsNumber(v)) {
			num = v->valuedouble;
			isnum = 1;
		}
	}
	*got = s;
	if (strcmp(e->op, "=") == 0)
		return strcmp(s, e->value) == 0;
	if (strcmp(e->op, "!=") == 0)
		return strcmp(s, e->value) != 0;
	if (strcmp(e->op, "~") == 0)
		return strstr(s, e->value) != NULL;
	if (strcmp(e->op, "!~") == 0)
		return strstr(s, e->value) == NULL;
	if (strcmp(e->op, "<=") == 0)
		return isnum && num <= atof(e->value);
	if (strcmp(e->op, ">=") == 0)
		return isnum && num >= atof(e->value);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: scenario FRONTLINE SCENARIO [ARGS...]\n");
		return 64;
	}
	char *cause;
	char *text = file_read(argv[2], 0, NULL, &cause);
	if (text == NULL) {
		fprintf(stderr, "scenario: %s\n", cause);
		return 66;
	}
	struct strv msgs = {0};
	struct expect *ex = NULL;
	size_t nex = 0;
	const char *customer = NULL, *tier = NULL;
	int lineno = 0;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (*l == '#' || *l == '\0')
			continue;
		if (strncmp(l, "customer ", 9) == 0)
			customer = l + 9;
		else if (strncmp(l, "tier ", 5) == 0)
			tier = l + 5;
		else if (strncmp(l, "> ", 2) == 0)
			strv_add(&msgs, l + 2);
		else if (strncmp(l, "expect ", 7) == 0) {
			char *p = l + 7, *sp1 = strchr(p, ' '),
			     *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
			if (sp1 == NULL || sp2 == NULL || msgs.n == 0) {
				fprintf(stderr,
				        "%s:%d: expected 'expect PATH OP VALUE' after a message\n",
				        argv[2], lineno);
				return 65;
			}
			*sp1 = *sp2 = '\0';
			ex = xreallocarray(ex, nex + 1, sizeof *ex);
			ex[nex++] = (struct expect){(int)msgs.n, lineno, p, sp1 + 1, sp2 + 1};
		} else {
			fprintf(stderr, "%s:%d: unknown line\n", argv[2], lineno);
			return 65;
		}
	}

	/* The conversation: messages in, one JSON line per turn out. */
	char in_path[] = "/tmp/frontline-scenario-XXXXXX";
	int fd = mkstemp(in_path);
	FILE *in = fdopen(fd, "w");
	for (size_t i = 0; i < msgs.n; i++)
		fprintf(in, "%s\n", msgs.v[i]);
	fclose(in);
	struct buf cmd;
	buf_init(&cmd, 0);
	buf_printf(&cmd, "'%s'", argv[1]);
	int a = 3;
	for (; a < argc && strcmp(argv[a], "--") != 0; a++)
		buf_printf(&cmd, " '%s'", argv[a]);
	buf_adds(&cmd, " chat --json");
	for (a++; a < argc; a++)
		buf_printf(&cmd, " '%s'", argv[a]);
	if (customer)
		buf_printf(&cmd, " --customer '%s'", customer);
	if (tier)
		buf_printf(&cmd, " --tier '%s'", tier);
	buf_printf(&cmd, " < '%s'", in_path);
	FILE *out = popen(cmd.data, "r");
	cJSON *turns[256] = {0};
	int nturns = 0;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, out) != -1 && nturns < 256)
		turns[nturns++] = cJSON_Parse(line);
	int status = pclose(out);
	unlink(in_path);

	int passed = 0, failed = 0;
	if (status != 0) {
		printf("FAIL - %s: chat exited with status %d\n", argv[2], status);
		failed++;
	}
	for (size_t i = 0; i < nex; i++) {
		char *got = NULL;
		int t = ex[i].after - 1;
		int ok = t < nturns && turns[t] != NULL && check(turns[t], &ex[i], &got);
		const char *why = got ? got : t < nturns ? "invalid JSON" : "no such turn";
		if (ok)
			printf("ok - %s:%d: turn %d: %s %s %s\n", argv[2], ex[i].line, t + 1,
			       ex[i].path, ex[i].op, ex[i].value);
		else
			printf("FAIL - %s:%d: turn %d: %s %s %s (got %s)\n", argv[2], ex[i].line,
			       t + 1, ex[i].path, ex[i].op, ex[i].value, why);
		ok ? passed++ : failed++;
		free(got);
	}
	printf("%d passed, %d failed\n", passed, failed);
	for (int i = 0; i < nturns; i++)
		cJSON_Delete(turns[i]);
	free(line);
	free(ex);
	strv_free(&msgs);
	buf_free(&cmd);
	free(text);
	return failed ? 1 : 0;
}
