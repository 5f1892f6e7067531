/*
 * chat-crash.c -- the store's side of the chat crash test (tests/chat-crash.sh).
 *
 * chat_crash measure FILE PROGRAM [ARG...]: runs PROGRAM to its end, copying
 * its standard output to ours, and writes "first US each US" to FILE: when
 * its first line came, and the mean time between the lines after it (the
 * script aims its kills with these). Exits with PROGRAM's status.
 *
 * chat_crash run K US PROGRAM [ARG...]: runs PROGRAM, copying its standard
 * output to ours, and kills it with SIGKILL US microseconds after it printed
 * its K-th line (after it started, when K is 0), unless it exits first. Exits
 * as the shell reports a command: 137 when the kill took it, else its status.
 * (chat prints a turn only once it is stored: the kill lands in the turns
 * that follow, which a delay from the start rarely hits, startup being most
 * of a run.)
 *
 * chat_crash state DB CUSTOMER: prints "messages N pending P schema V": the
 * customer's messages stored, 1 when the last one has no turn yet, and the
 * schema version (0 while the store is not created). A missing DB is all 0.
 *
 * chat_crash inject DB CUSTOMER TEXT: stores TEXT as the customer's next
 * message and nothing else, as a chat killed before its turn commits leaves it.
 *
 * chat_crash claim DB CUSTOMER WORKER MS: claims the customer's open
 * conversation for WORKER with a lease of MS milliseconds (0: one that
 * runs out at once), as a worker that died mid-turn leaves it
 * (tests/lifecycle.sh). Exits 1 when there was nothing to claim.
 *
 * chat_crash verify DB CUSTOMER SCRIPT ACKS: checks the store against the
 * script (one customer message per line) and the turns chat printed (ACKS:
 * chat-turn JSON lines). Prints "turns N acks M handoffs H" and exits 0, or
 * says what is wrong on standard error and exits 1.
 *
 * Reads go through SQL of their own, not store.c, so that a bug there
 * cannot hide itself.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

static int problems;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("chat_crash: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* A problem in the store; the first few are shown. */
static void
bad(const char *fmt, ...)
{
	if (problems++ >= 10)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("chat_crash: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Read-write: the first reader after a crash may have to recover the WAL. */
static sqlite3 *
db_open(const char *path)
{
	sqlite3 *db;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		die("%s: %s", path, sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static sqlite3_stmt *
prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die("%s: %s", sql, sqlite3_errmsg(db));
	return st;
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? t : "";
}

static int
schema_version(sqlite3 *db)
{
	sqlite3_stmt *st = prepare(db, "PRAGMA user_version");
	int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return v;
}

/* The customer's conversations, oldest first: how many in *n, the first one returned. */
static int64_t
conversations(sqlite3 *db, const char *customer, int *n, char cstate[32])
{
	sqlite3_stmt *st =
	    prepare(db, "SELECT id, state FROM conversations WHERE customer_id = ?1 ORDER BY id");
	sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
	int64_t first = 0;
	*n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((*n)++ == 0) {
			first = sqlite3_column_int64(st, 0);
			snprintf(cstate, 32, "%s", col_text(st, 1));
		}
	}
	sqlite3_finalize(st);
	return first;
}

static const char *const messages_sql =
    "SELECT role, text FROM messages WHERE conversation_id = ?1 ORDER BY id";
static const char *const events_sql =
    "SELECT kind, payload FROM events WHERE conversation_id = ?1 ORDER BY id";

/* Rows (a, b) of a query on one conversation, as two parallel string lists. */
static void
rows(sqlite3 *db, const char *sql, int64_t conv, struct strv *a, struct strv *b)
{
	sqlite3_stmt *st = prepare(db, sql);
	sqlite3_bind_int64(st, 1, conv);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		strv_add(a, col_text(st, 0));
		strv_add(b, col_text(st, 1));
	}
	if (rc != SQLITE_DONE)
		die("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
}

static int
state(const char *path, const char *customer)
{
	int n = 0, pending = 0, v = 0;
	if (access(path, F_OK) == 0) {
		sqlite3 *db = db_open(path);
		if ((v = schema_version(db)) > 0) {
			char cstate[32];
			int nconv;
			int64_t conv = conversations(db, customer, &nconv, cstate);
			struct strv role = {0}, text = {0};
			rows(db, messages_sql, conv, &role, &text);
			for (size_t i = 0; i < role.n; i++)
				n += strcmp(role.v[i], "customer") == 0;
			pending = role.n > 0 && strcmp(role.v[role.n - 1], "customer") == 0;
			strv_free(&role);
			strv_free(&text);
		}
		sqlite3_close(db);
	}
	printf("messages %d pending %d schema %d\n", n, pending, v);
	return 0;
}

static int
inject(const char *path, const char *customer, const char *text)
{
	char *cause = NULL;
	int64_t conv;
	struct store *s = store_open(path, &cause);
	if (s == NULL || store_conversation_open(s, customer, &conv, NULL, &cause) != 0 ||
	    store_message_add(s, conv, "customer", text, NULL, &cause) != 0)
		die("%s: %s", path, cause);
	store_close(s);
	return 0;
}

static int
claim(const char *path, const char *customer, const char *worker, const char *ms)
{
	char *cause = NULL;
	int64_t conv;
	struct store_claim c;
	struct store *s = store_open(path, &cause);
	int rc = s == NULL || store_conversation_open(s, customer, &conv, NULL, &cause) != 0
	             ? -1
	             : store_claim(s, worker, (int)strtol(ms, NULL, 10), conv, &c, &cause);
	if (rc < 0)
		die("%s: %s", path, cause);
	store_close(s);
	return rc == 1 ? 0 : 1;
}

/* ------------------------------------------------------------------- run */

static long long
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Runs argv, copying its output, and kills it us microseconds after its
 * k-th line (after its start when k is 0; never when k is negative). When
 * times is not NULL it gets the microseconds to the first line and from
 * the first to the last, and *nlines the lines. Returns the exit status
 * the shell would report.
 */
static int
run(long k, long us, char **argv, long long times[2], long *nlines)
{
	int fd[2];
	if (pipe(fd) != 0)
		die("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fd[0]);
		if (dup2(fd[1], STDOUT_FILENO) < 0)
			_exit(126);
		close(fd[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "chat_crash: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fd[1]);
	/* Copies the output as it comes, counting lines, until the deadline. */
	long long start = now_us(), first = -1, last = -1;
	long long deadline = k == 0 ? start + us : -1;
	long lines = 0;
	int killed = 0;
	char b[65536];
	for (;;) {
		int timeout = -1;
		if (!killed && deadline >= 0) {
			long long left = deadline - now_us();
			if (left <= 0) {
				kill(pid, SIGKILL);
				killed = 1;
				continue;
			}
			/* poll counts milliseconds: the last one is slept exactly */
			if (left < 1000) {
				nanosleep(&(struct timespec){.tv_nsec = (long)left * 1000}, NULL);
				continue;
			}
			timeout = (int)(left / 1000);
		}
		struct pollfd p = {.fd = fd[0], .events = POLLIN};
		int rc = poll(&p, 1, timeout);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			die("poll: %s", strerror(errno));
		if (rc == 0)
			continue;
		ssize_t n = read(fd[0], b, sizeof b);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (fwrite(b, 1, (size_t)n, stdout) != (size_t)n || fflush(stdout) != 0)
			die("stdout: %s", strerror(errno));
		for (ssize_t i = 0; i < n; i++) {
			if (b[i] != '\n')
				continue;
			last = now_us();
			if (first < 0)
				first = last;
			if (++lines == k && deadline < 0)
				deadline = last + us;
		}
	}
	if (times != NULL) {
		times[0] = first < 0 ? -1 : first - start;
		times[1] = first < 0 ? 0 : last - first;
		*nlines = lines;
	}
	close(fd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* ---------------------------------------------------------------- verify */

/* One turn's events, from its "triage" to its "state". */
struct group {
	size_t first, n; /* indexes into the event lists */
	int handoff;     /* index of its handoff event, or -1 */
};

/*
 * A turn's events come in this order: triage, retrieval, tool..., validation,
 * [disclosure], escalation, [handoff], state. Returns 0 when kinds[0..n) do.
 */
static int
group_ok(char **kinds, size_t n, int *handoff)
{
	size_t i = 0;
	*handoff = -1;
	if (i < n && strcmp(kinds[i], "triage") == 0)
		i++;
	else
		return -1;
	if (i < n && strcmp(kinds[i], "retrieval") == 0)
		i++;
	else
		return -1;
	while (i < n && strcmp(kinds[i], "tool") == 0)
		i++;
	if (i < n && strcmp(kinds[i], "validation") == 0)
		i++;
	else
		return -1;
	if (i < n && strcmp(kinds[i], "disclosure") == 0)
		i++;
	if (i < n && strcmp(kinds[i], "escalation") == 0)
		i++;
	else
		return -1;
	if (i < n && strcmp(kinds[i], "handoff") == 0)
		*handoff = (int)i++;
	if (i < n && strcmp(kinds[i], "state") == 0)
		i++;
	else
		return -1;
	return i == n ? 0 : -1;
}

/* Does the stored JSON text equal the printed value? */
static int
same_json(const char *stored, const cJSON *printed)
{
	cJSON *s = cJSON_Parse(stored);
	int eq = s != NULL && printed != NULL && cJSON_Compare(s, printed, 1);
	cJSON_Delete(s);
	return eq;
}

/* The events of stored turn k (1-based) against the turn chat printed for it. */
static void
check_ack(int line, const cJSON *turn, int k, const struct group *g, char **kinds, char **payloads,
          const char *ai_text, sqlite3 *db, int64_t conv)
{
	static const struct {
		const char *kind, *key;
	} same[] = {
	    {"triage", "triage"},          {"retrieval", "knowledge"},
	    {"validation", "validation"},  {"escalation", "escalation"},
	    {"disclosure", "disclosures"},
	};
	const cJSON *h = cJSON_GetObjectItem(turn, "handoff");
	const char *reply = cJSON_GetStringValue(cJSON_GetObjectItem(turn, "reply"));
	if (reply == NULL)
		reply = cJSON_GetStringValue(cJSON_GetObjectItem(h, "message_to_customer"));
	if (reply == NULL || strcmp(reply, ai_text) != 0)
		bad("acknowledged turn %d (ack line %d): the stored reply differs from the printed "
		    "one",
		    k, line);

	/* Events of one kind in the group, against the printed key. */
	for (size_t s = 0; s < nitems(same); s++) {
		const cJSON *want = cJSON_GetObjectItem(turn, same[s].key);
		int found = 0;
		for (size_t i = g->first; i < g->first + g->n; i++) {
			if (strcmp(kinds[i], same[s].kind) != 0)
				continue;
			found = 1;
			if (!same_json(payloads[i], want))
				bad("acknowledged turn %d: its stored %s event differs from what "
				    "chat "
				    "printed",
				    k, same[s].kind);
		}
		/* No disclosure is made on most turns: then there is no event. */
		if (!found && !(strcmp(same[s].kind, "disclosure") == 0 && cJSON_IsArray(want) &&
		                cJSON_GetArraySize(want) == 0))
			bad("acknowledged turn %d: no %s event is stored", k, same[s].kind);
	}
	const cJSON *tool =
	    cJSON_GetObjectItem(turn, "tools") ? cJSON_GetObjectItem(turn, "tools")->child : NULL;
	for (size_t i = g->first; i < g->first + g->n; i++) {
		if (strcmp(kinds[i], "tool") != 0)
			continue;
		if (!same_json(payloads[i], tool))
			bad("acknowledged turn %d: a stored tool event differs from what chat "
			    "printed",
			    k);
		tool = tool ? tool->next : NULL;
	}
	if (tool != NULL)
		bad("acknowledged turn %d: chat printed more tool calls than are stored", k);

	if (!cJSON_IsObject(h)) {
		if (g->handoff >= 0)
			bad("acknowledged turn %d: a handoff is stored, none was printed", k);
		return;
	}
	if (g->handoff < 0) {
		bad("acknowledged turn %d: chat printed a handoff that is not stored", k);
		return;
	}
	/* The event and the packet are stored before chat learns the packet's id. */
	cJSON *packet = cJSON_Duplicate(h, 1);
	const cJSON *id = cJSON_GetObjectItem(h, "id");
	cJSON_DeleteItemFromObject(packet, "id");
	if (!same_json(payloads[g->handoff], packet))
		bad("acknowledged turn %d: the stored handoff event differs from the printed "
		    "packet",
		    k);
	sqlite3_stmt *st =
	    prepare(db, "SELECT packet FROM handoffs WHERE id = ?1 AND conversation_id = ?2");
	sqlite3_bind_int64(st, 1, cJSON_IsNumber(id) ? (sqlite3_int64)id->valuedouble : -1);
	sqlite3_bind_int64(st, 2, conv);
	if (sqlite3_step(st) != SQLITE_ROW)
		bad("acknowledged turn %d: handoff %g is not stored", k,
		    cJSON_IsNumber(id) ? id->valuedouble : -1);
	else if (!same_json(col_text(st, 0), packet))
		bad("acknowledged turn %d: the stored handoff packet differs from the printed one",
		    k);
	sqlite3_finalize(st);
	cJSON_Delete(packet);
}

static int
integrity(sqlite3 *db)
{
	sqlite3_stmt *st = prepare(db, "PRAGMA integrity_check");
	int ok = sqlite3_step(st) == SQLITE_ROW && strcmp(col_text(st, 0), "ok") == 0;
	if (!ok)
		bad("integrity_check: %s", col_text(st, 0));
	sqlite3_finalize(st);
	return ok;
}

/* The non-empty lines of a file. */
static void
lines(const char *path, struct strv *out)
{
	char *cause = NULL;
	char *text = file_read(path, 64 << 20, NULL, &cause);
	if (text == NULL)
		die("%s", cause);
	for (char *s = text, *nl; *s != '\0'; s = nl + 1) {
		nl = strchr(s, '\n');
		if (nl == NULL) {
			/* A line cut short by the kill was never acknowledged. */
			break;
		}
		*nl = '\0';
		if (*s != '\0')
			strv_add(out, s);
	}
	free(text);
}

static int
verify(const char *path, const char *customer, const char *script_path, const char *acks_path)
{
	struct strv script = {0}, acks = {0}, role = {0}, text = {0}, kinds = {0}, payloads = {0};
	lines(script_path, &script);
	lines(acks_path, &acks);
	sqlite3 *db = db_open(path);
	integrity(db);

	int nconv;
	char cstate[32] = "";
	int64_t conv = conversations(db, customer, &nconv, cstate);
	if (nconv != 1)
		bad("%s has %d conversations, not one", customer, nconv);
	rows(db, messages_sql, conv, &role, &text);
	rows(db, events_sql, conv, &kinds, &payloads);

	/* The script, once, in order, each message followed by exactly one reply. */
	if (role.n != 2 * script.n)
		bad("%zu messages are stored for a script of %zu (%zu expected)", role.n, script.n,
		    2 * script.n);
	for (size_t i = 0; i < role.n; i++) {
		const char *want = i % 2 == 0 ? "customer" : "ai";
		if (strcmp(role.v[i], want) != 0)
			bad("message %zu is from the %s, not the %s (turn %zu)", i + 1, role.v[i],
			    want, i / 2 + 1);
		else if (i % 2 == 0 &&
		         (i / 2 >= script.n || strcmp(text.v[i], script.v[i / 2]) != 0))
			bad("customer message %zu is '%s', not '%s'", i / 2 + 1, text.v[i],
			    i / 2 < script.n ? script.v[i / 2] : "(past the end of the script)");
	}

	/* The events: one whole group per turn, each ending in the state after it. */
	struct group *g = xcalloc(kinds.n + 1, sizeof *g);
	size_t ng = 0, start = 0, handoffs = 0, ai_disclosed = 0;
	for (size_t i = 0; i < kinds.n; i++) {
		if (strcmp(kinds.v[i], "state") != 0)
			continue;
		struct group *t = &g[ng++];
		t->first = start;
		t->n = i + 1 - start;
		start = i + 1;
		if (group_ok(kinds.v + t->first, t->n, &t->handoff) != 0) {
			bad("turn %zu: its events are not a whole turn", ng);
			continue;
		}
		t->handoff = t->handoff < 0 ? -1 : t->handoff + (int)t->first;
		handoffs += t->handoff >= 0;
		cJSON *st = cJSON_Parse(payloads.v[i]);
		const cJSON *tn = cJSON_GetObjectItem(st, "turn");
		if (!cJSON_IsNumber(tn) || tn->valueint != (int)ng)
			bad("turn %zu: the state after it says turn %d: the conversation did not "
			    "resume where it stopped",
			    ng, cJSON_IsNumber(tn) ? tn->valueint : -1);
		cJSON_Delete(st);
		for (size_t j = t->first; j < i; j++)
			if (strcmp(kinds.v[j], "disclosure") == 0 &&
			    strstr(payloads.v[j], "\"ai_disclosure\"") != NULL)
				ai_disclosed++;
	}
	/* After the last turn, only the ending when the input ran out (the customer left). */
	int ended = start + 1 == kinds.n && strcmp(kinds.v[start], "ending") == 0;
	if (start != kinds.n && !ended)
		bad("%zu events after the last whole turn", kinds.n - start);
	if (ng != script.n)
		bad("%zu turns' events are stored for a script of %zu", ng, script.n);
	if (ai_disclosed != 1)
		bad("the AI disclosure was made %zu times, not once", ai_disclosed);
	if (handoffs > 1 || (handoffs == 1 && (ng == 0 || g[ng - 1].handoff < 0)))
		bad("%zu handoffs, not at most one at the end", handoffs);
	/*
	 * Open until the input ends (a kill leaves it open), then closed with
	 * its ending; handed off at the end of the script and left before a
	 * human answered, it is abandoned for want of one.
	 */
	cJSON *end = ended ? cJSON_Parse(payloads.v[start]) : NULL;
	const char *ending = cJSON_GetStringValue(cJSON_GetObjectItem(end, "ending"));
	const char *want_state = "open";
	if (ended)
		want_state = ending != NULL && strncmp(ending, "resolved-", 9) == 0 ? "resolved"
		                                                                    : "abandoned";
	if (nconv == 1 && strcmp(cstate, want_state) != 0)
		bad("the conversation is %s, not %s", cstate, want_state);
	if (ended && handoffs &&
	    (ending == NULL || strcmp(ending, "abandoned") != 0 ||
	     strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(end, "reason")) ?: "",
	            "escalated-no-human") != 0))
		bad("the ending is %s, not abandoned for want of a human", payloads.v[start]);
	cJSON_Delete(end);
	sqlite3_stmt *q = prepare(db, "SELECT count(*) FROM handoffs WHERE conversation_id = ?1");
	sqlite3_bind_int64(q, 1, conv);
	if (sqlite3_step(q) != SQLITE_ROW || (size_t)sqlite3_column_int64(q, 0) != handoffs)
		bad("%lld handoff packets are stored for %zu handoff events",
		    (long long)sqlite3_column_int64(q, 0), handoffs);
	sqlite3_finalize(q);

	/* What chat printed: each turn at most once, in order, and stored as printed. */
	int last = 0;
	for (size_t a = 0; a < acks.n; a++) {
		cJSON *turn = cJSON_Parse(acks.v[a]);
		const cJSON *tn = cJSON_GetObjectItem(turn, "turn");
		const char *cust = cJSON_GetStringValue(cJSON_GetObjectItem(turn, "customer"));
		int k = cJSON_IsNumber(tn) ? tn->valueint : 0;
		if (!cJSON_IsObject(turn) || k <= 0 || cust == NULL)
			bad("ack line %zu is not a chat turn", a + 1);
		else if (k <= last)
			bad("turn %d was acknowledged after turn %d: answered twice, or out of "
			    "order",
			    k, last);
		else if ((size_t)k > ng || 2 * (size_t)k > role.n)
			bad("acknowledged turn %d is not stored", k);
		else if (strcmp(cust, script.v[k - 1]) != 0)
			bad("acknowledged turn %d answers '%s', not the script's '%s'", k, cust,
			    script.v[k - 1]);
		else
			check_ack((int)a + 1, turn, k, &g[k - 1], kinds.v, payloads.v,
			          text.v[2 * k - 1], db, conv);
		if (k > last)
			last = k;
		cJSON_Delete(turn);
	}
	sqlite3_close(db);
	if (problems == 0)
		printf("turns %zu acks %zu handoffs %zu\n", ng, acks.n, handoffs);
	else if (problems > 10)
		fprintf(stderr, "chat_crash: ... %d problems in all\n", problems);
	free(g);
	strv_free(&script);
	strv_free(&acks);
	strv_free(&role);
	strv_free(&text);
	strv_free(&kinds);
	strv_free(&payloads);
	return problems ? 1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "measure") == 0) {
		long long t[2];
		long lines;
		int rc = run(-1, 0, argv + 3, t, &lines);
		long long each = lines > 1 ? t[1] / (lines - 1) : 0;
		FILE *f = fopen(argv[2], "w");
		if (f == NULL || fprintf(f, "first %lld each %lld\n", t[0], each) < 0 ||
		    fclose(f) != 0)
			die("%s: %s", argv[2], strerror(errno));
		return rc;
	}
	if (argc >= 5 && strcmp(argv[1], "run") == 0)
		return run(strtol(argv[2], NULL, 10), strtol(argv[3], NULL, 10), argv + 4, NULL,
		           NULL);
	if (argc == 4 && strcmp(argv[1], "state") == 0)
		return state(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "inject") == 0)
		return inject(argv[2], argv[3], argv[4]);
	if (argc == 6 && strcmp(argv[1], "verify") == 0)
		return verify(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 6 && strcmp(argv[1], "claim") == 0)
		return claim(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: chat_crash measure FILE PROGRAM [ARG...] |\n"
	                "       run K US PROGRAM [ARG...] | state DB CUSTOMER |\n"
	                "       inject DB CUSTOMER TEXT | verify DB CUSTOMER SCRIPT ACKS |\n"
	                "       claim DB CUSTOMER WORKER MS\n");
	return 2;
}
