/*
 * store.c -- the durable store: customers, conversations and their events,
 * in SQLite or PostgreSQL. The logic and the SQL live here, written once;
 * a driver (store-sqlite.c, store-pg.c; see store-driver.h) runs them.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonl.h"
#include "store-driver.h"
#include "store.h"

/*
 * The schema, one step per version; the database records how many steps
 * were applied (SQLite: PRAGMA user_version; PostgreSQL: the
 * schema_version table). A step is never edited once released: a change
 * is a new step. The SQL is kept plain so that the same steps serve both
 * databases: the PostgreSQL driver turns "INTEGER PRIMARY KEY" into an
 * identity column and INTEGER into BIGINT (store-driver.h).
 */
static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE customers ("
    " id TEXT PRIMARY KEY,"
    " name TEXT,"
    " email TEXT,"
    " tier TEXT NOT NULL DEFAULT 'standard',"
    " created TEXT NOT NULL);"
    "CREATE TABLE conversations ("
    " id INTEGER PRIMARY KEY,"
    " customer_id TEXT NOT NULL REFERENCES customers(id),"
    " state TEXT NOT NULL DEFAULT 'open'"
    "  CHECK (state IN ('open', 'resolved', 'escalated', 'abandoned')),"
    " created TEXT NOT NULL,"
    " closed TEXT);"
    "CREATE INDEX conversations_customer ON conversations(customer_id);"
    /* A customer has at most one open conversation. */
    "CREATE UNIQUE INDEX conversations_open ON conversations(customer_id)"
    " WHERE state = 'open';"
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    " role TEXT NOT NULL CHECK (role IN ('customer', 'ai', 'human')),"
    " text TEXT NOT NULL,"
    " at TEXT NOT NULL);"
    "CREATE INDEX messages_conversation ON messages(conversation_id);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    " kind TEXT NOT NULL,"
    " payload TEXT,"
    " at TEXT NOT NULL);"
    "CREATE INDEX events_conversation ON events(conversation_id);"
    "CREATE TABLE handoffs ("
    " id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    " packet TEXT NOT NULL,"
    " created TEXT NOT NULL);"
    "CREATE INDEX handoffs_conversation ON handoffs(conversation_id);",
    /* 2: who handles an open conversation (the console's queue) */
    "ALTER TABLE conversations ADD COLUMN handler TEXT NOT NULL DEFAULT 'ai'"
    " CHECK (handler IN ('ai', 'waiting', 'human'));"
    "ALTER TABLE conversations ADD COLUMN owner TEXT;",
    /* 3: shadow replays, trainer reviews, the rollout and canary log */
    "CREATE TABLE replay_runs ("
    " id INTEGER PRIMARY KEY,"
    " source TEXT NOT NULL,"
    " version TEXT NOT NULL,"
    " started TEXT NOT NULL,"
    " finished TEXT,"
    " tickets INTEGER NOT NULL DEFAULT 0,"
    " report TEXT);"
    "CREATE TABLE replay_results ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES replay_runs(id),"
    " ticket TEXT NOT NULL,"
    " result TEXT NOT NULL);"
    "CREATE INDEX replay_results_run ON replay_results(run_id);"
    "CREATE TABLE reviews ("
    " id INTEGER PRIMARY KEY,"
    " handoff_id INTEGER NOT NULL REFERENCES handoffs(id),"
    " reviewer TEXT,"
    " correction TEXT NOT NULL,"
    " created TEXT NOT NULL);"
    "CREATE INDEX reviews_handoff ON reviews(handoff_id);"
    "CREATE TABLE rollout_log ("
    " id INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('rollout', 'canary')),"
    " action TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " actor TEXT,"
    " reason TEXT,"
    " at TEXT NOT NULL);",
    /*
     * 4: the work queue. last_customer is the newest customer message,
     * answered the newest one the AI has answered; a worker's claim is
     * lease_owner until lease_until (milliseconds on the database's
     * clock). Before this version the desk answered every message in the
     * turn that stored it, so what is already stored counts as answered.
     */
    "ALTER TABLE conversations ADD COLUMN last_customer INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE conversations ADD COLUMN answered INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE conversations ADD COLUMN lease_owner TEXT;"
    "ALTER TABLE conversations ADD COLUMN lease_until INTEGER;"
    "UPDATE conversations SET last_customer = COALESCE((SELECT MAX(m.id) FROM messages m"
    " WHERE m.conversation_id = conversations.id AND m.role = 'customer'), 0);"
    "UPDATE conversations SET answered = last_customer;"
    "CREATE INDEX conversations_pending ON conversations(last_customer)"
    " WHERE state = 'open' AND handler = 'ai' AND last_customer > answered;",
    /*
     * 5: how each conversation ended (ending.h), a fact stored when it
     * closes, with its evidence in an "ending" event. Conversations closed
     * before this version get the ending their rows can still prove: a
     * human took over or replied (resolved-human); closed as abandoned, or
     * at a handoff nobody answered (abandoned); anything else closed
     * without a confirmation the store can show (unconfirmed).
     */
    "ALTER TABLE conversations ADD COLUMN ending TEXT"
    " CHECK (ending IN ('resolved-agent', 'resolved-human', 'abandoned', 'unconfirmed'));"
    "UPDATE conversations SET ending = CASE"
    " WHEN EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id"
    "  AND m.role = 'human')"
    "  OR EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = conversations.id"
    "  AND e.kind = 'takeover') THEN 'resolved-human'"
    " WHEN state IN ('abandoned', 'escalated') THEN 'abandoned'"
    " ELSE 'unconfirmed' END"
    " WHERE state <> 'open';"
    "INSERT INTO events (conversation_id, kind, payload, at)"
    " SELECT id, 'ending', '{\"ending\":\"' || ending || '\",\"closed_by\":\"migration\","
    "\"reason\":\"closed before schema 5 as ' || state || '\"}', COALESCE(closed, created)"
    " FROM conversations WHERE state <> 'open' ORDER BY id;",
    /*
     * 6: a reader goes on from the newest message and event it has
     * (store_conversation_since): indexes in that order, so that what it
     * reads costs the change, not the conversation's whole history.
     */
    "DROP INDEX IF EXISTS messages_conversation;"
    "CREATE INDEX IF NOT EXISTS messages_conversation_id ON messages(conversation_id, id);"
    "DROP INDEX IF EXISTS events_conversation;"
    "CREATE INDEX IF NOT EXISTS events_conversation_id ON events(conversation_id, id);",
};
#define SCHEMA_VERSION ((int)nitems(migrations))

/* ----------------------------------------------------------- statements */

enum {
	Q_CUSTOMER_PUT,
	Q_CUSTOMER_ENSURE,
	Q_CONV_FIND,
	Q_CONV_NEW,
	Q_CONV_END,
	Q_CONV_STATE,
	Q_MESSAGE_ADD,
	Q_CONV_CUSTOMER_SAID,
	Q_CONV_LOCK,
	Q_EVENT_ADD,
	Q_HANDOFF_ADD,
	Q_MESSAGES,
	Q_MESSAGES_AFTER,
	Q_SINCE,
	Q_EVENTS,
	Q_HANDOFFS,
	Q_HANDOFF_GET,
	Q_CONV_HANDLER,
	Q_CONV_LIST,
	Q_CONV_GET,
	Q_CONV_IDLE,
	Q_CONV_TAKE,
	Q_CONV_OWNER,
	Q_CLAIM_PICK,
	Q_CLAIM_SET,
	Q_CLAIM_RENEW,
	Q_CLAIM_ROW,
	Q_CLAIM_DONE,
	Q_CLAIM_RELEASE,
	Q_RUN_NEW,
	Q_RUN_FINISH,
	Q_RUNS,
	Q_RUN_GET,
	Q_RESULT_ADD,
	Q_RESULTS,
	Q_REVIEW_ADD,
	Q_REVIEWS,
	Q_ROLLOUT_ADD,
	Q_ROLLOUT_LOG,
	Q_STATUS,
	Q_STATUS_WORKERS,
	Q__N
};

static const char *const queries[Q__N] = {
    /* NULL name or email keeps the stored one; NULL tier (?4) keeps it too. */
    [Q_CUSTOMER_PUT] = "INSERT INTO customers (id, name, email, tier, created)"
                       " VALUES (?1, ?2, ?3, COALESCE(?4, 'standard'), ?5)"
                       " ON CONFLICT (id) DO UPDATE SET"
                       " name = COALESCE(excluded.name, customers.name),"
                       " email = COALESCE(excluded.email, customers.email),"
                       " tier = COALESCE(?4, customers.tier)",
    [Q_CUSTOMER_ENSURE] = "INSERT INTO customers (id, created) VALUES (?1, ?2)"
                          " ON CONFLICT (id) DO NOTHING",
    [Q_CONV_FIND] = "SELECT id FROM conversations WHERE customer_id = ?1 AND state = 'open'"
                    " ORDER BY id DESC LIMIT 1",
    /* No row back: another connection opened one first (look again). */
    [Q_CONV_NEW] = "INSERT INTO conversations (customer_id, state, created)"
                   " VALUES (?1, 'open', ?2)"
                   " ON CONFLICT (customer_id) WHERE state = 'open' DO NOTHING RETURNING id",
    [Q_CONV_END] = "UPDATE conversations SET state = ?2, ending = ?3, closed = ?4"
                   " WHERE id = ?1 AND state = 'open'",
    [Q_CONV_STATE] = "SELECT state FROM conversations WHERE id = ?1",
    [Q_MESSAGE_ADD] = "INSERT INTO messages (conversation_id, role, text, at)"
                      " VALUES (?1, ?2, ?3, ?4) RETURNING id",
    [Q_CONV_CUSTOMER_SAID] = "UPDATE conversations SET last_customer = ?2"
                             " WHERE id = ?1 AND last_customer < ?2",
    [Q_CONV_LOCK] = "SELECT id FROM conversations WHERE id = ?1 @FOR_UPDATE@",
    [Q_EVENT_ADD] = "INSERT INTO events (conversation_id, kind, payload, at)"
                    " VALUES (?1, ?2, ?3, ?4) RETURNING id",
    [Q_HANDOFF_ADD] = "INSERT INTO handoffs (conversation_id, packet, created)"
                      " VALUES (?1, ?2, ?3) RETURNING id",
    [Q_MESSAGES] = "SELECT id, role, text, at FROM messages WHERE conversation_id = ?1"
                   " ORDER BY id",
    [Q_MESSAGES_AFTER] = "SELECT id, role, text, at FROM messages"
                         " WHERE conversation_id = ?1 AND id > ?2 ORDER BY id",
    /*
     * Messages (0) then events (1), each in id order: the rows of both
     * lists; the payloads of the kinds in ?4 (",kind,kind,") left out.
     */
    [Q_SINCE] = "SELECT 0, id, role, text, at FROM messages"
                " WHERE conversation_id = ?1 AND id > ?2"
                " UNION ALL SELECT 1, id, kind,"
                " CASE WHEN @INSTR@(?4, ',' || kind || ',') > 0 THEN NULL ELSE payload END, at"
                " FROM events WHERE conversation_id = ?1 AND id > ?3 ORDER BY 1, 2",
    [Q_EVENTS] = "SELECT id, kind, payload, at FROM events WHERE conversation_id = ?1"
                 " ORDER BY id",
    [Q_HANDOFFS] = "SELECT h.id, h.conversation_id, c.customer_id, h.created, h.packet"
                   " FROM handoffs h JOIN conversations c ON c.id = h.conversation_id"
                   " ORDER BY h.id DESC",
    [Q_HANDOFF_GET] = "SELECT packet FROM handoffs WHERE id = ?1",
    [Q_CONV_HANDLER] = "UPDATE conversations SET handler = ?2, owner = ?3"
                       " WHERE id = ?1 AND state = 'open'",
    /* A NULL bound compares as unknown: open rows only. */
    [Q_CONV_LIST] = "SELECT c.id, c.customer_id, cu.name, cu.tier, c.state, c.handler, c.owner,"
                    " c.created, c.closed, c.ending,"
                    " CASE WHEN c.lease_until >= @NOW_MS@ THEN c.lease_owner END"
                    " FROM conversations c JOIN customers cu ON cu.id = c.customer_id"
                    " WHERE c.state = 'open' OR c.closed >= ?1 ORDER BY c.id",
    [Q_CONV_GET] = "SELECT c.id, c.customer_id, cu.name, cu.tier, c.state, c.handler, c.owner,"
                   " c.created, c.closed, c.ending,"
                   " CASE WHEN c.lease_until >= @NOW_MS@ THEN c.lease_owner END"
                   " FROM conversations c JOIN customers cu ON cu.id = c.customer_id"
                   " WHERE c.id = ?1",
    /*
     * The AI's open conversations with nothing stored since ?1 (no
     * message, no event) and no live claim, oldest first, ?2 at most.
     */
    [Q_CONV_IDLE] = "SELECT c.id FROM conversations c"
                    " WHERE c.state = 'open' AND c.handler = 'ai' AND c.created < ?1"
                    " AND (c.lease_owner IS NULL OR c.lease_until < @NOW_MS@)"
                    " AND NOT EXISTS (SELECT 1 FROM messages m"
                    "  WHERE m.conversation_id = c.id AND m.at >= ?1)"
                    " AND NOT EXISTS (SELECT 1 FROM events e"
                    "  WHERE e.conversation_id = c.id AND e.at >= ?1)"
                    " ORDER BY c.id LIMIT ?2",
    /* One statement, so two supervisors cannot both win: the second sees the first's owner. */
    [Q_CONV_TAKE] = "UPDATE conversations SET handler = 'human', owner = ?2"
                    " WHERE id = ?1 AND state = 'open'"
                    " AND (handler <> 'human' OR owner IS NULL OR owner = ?2)",
    [Q_CONV_OWNER] = "SELECT state, handler, owner FROM conversations WHERE id = ?1",
    /* ?1 = 0: any pending conversation, the one waiting longest first. */
    [Q_CLAIM_PICK] = "SELECT id, answered, last_customer FROM conversations"
                     " WHERE state = 'open' AND handler = 'ai' AND last_customer > answered"
                     " AND (lease_owner IS NULL OR lease_until < @NOW_MS@)"
                     " AND (id = ?1 OR ?1 = 0)"
                     " ORDER BY last_customer LIMIT 1 @SKIP_LOCKED@",
    [Q_CLAIM_SET] = "UPDATE conversations SET lease_owner = ?2, lease_until = @NOW_MS@ + ?3"
                    " WHERE id = ?1",
    [Q_CLAIM_RENEW] = "UPDATE conversations SET lease_until = @NOW_MS@ + ?3"
                      " WHERE id = ?1 AND lease_owner = ?2",
    [Q_CLAIM_ROW] = "SELECT state, handler, lease_owner FROM conversations WHERE id = ?1"
                    " @FOR_UPDATE@",
    [Q_CLAIM_DONE] = "UPDATE conversations SET"
                     " answered = CASE WHEN ?2 > answered THEN ?2 ELSE answered END,"
                     " lease_owner = NULL, lease_until = NULL WHERE id = ?1",
    [Q_CLAIM_RELEASE] = "UPDATE conversations SET lease_owner = NULL, lease_until = NULL"
                        " WHERE id = ?1 AND lease_owner = ?2",
    [Q_RUN_NEW] = "INSERT INTO replay_runs (source, version, started) VALUES (?1, ?2, ?3)"
                  " RETURNING id",
    [Q_RUN_FINISH] = "UPDATE replay_runs SET finished = ?2, tickets = ?3, report = ?4"
                     " WHERE id = ?1",
    /* The list leaves out the reports: only store_replay_run reads one. */
    [Q_RUNS] = "SELECT id, source, version, started, finished, tickets"
               " FROM replay_runs ORDER BY id DESC",
    /* ?1 = 0: the newest run. */
    [Q_RUN_GET] = "SELECT id, source, version, started, finished, tickets, report"
                  " FROM replay_runs WHERE id = ?1 OR ?1 = 0 ORDER BY id DESC LIMIT 1",
    [Q_RESULT_ADD] = "INSERT INTO replay_results (run_id, ticket, result) VALUES (?1, ?2, ?3)",
    [Q_RESULTS] = "SELECT result FROM replay_results WHERE run_id = ?1 ORDER BY id",
    [Q_REVIEW_ADD] = "INSERT INTO reviews (handoff_id, reviewer, correction, created)"
                     " VALUES (?1, ?2, ?3, ?4) RETURNING id",
    [Q_REVIEWS] = "SELECT r.id, r.handoff_id, h.conversation_id, r.reviewer, r.created,"
                  " r.correction"
                  " FROM reviews r JOIN handoffs h ON h.id = r.handoff_id ORDER BY r.id",
    [Q_ROLLOUT_ADD] = "INSERT INTO rollout_log (kind, action, state, actor, reason, at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_ROLLOUT_LOG] = "SELECT id, action, state, actor, reason, at FROM rollout_log"
                      " WHERE kind = ?1 ORDER BY id DESC",
    [Q_STATUS] = "SELECT"
                 " (SELECT COUNT(*) FROM conversations WHERE state = 'open'),"
                 " (SELECT COUNT(*) FROM conversations WHERE state = 'open'"
                 "  AND handler = 'ai' AND last_customer > answered),"
                 " (SELECT COUNT(*) FROM conversations WHERE lease_owner IS NOT NULL"
                 "  AND lease_until >= @NOW_MS@)",
    [Q_STATUS_WORKERS] = "SELECT lease_owner, COUNT(*) FROM conversations"
                         " WHERE lease_owner IS NOT NULL AND lease_until >= @NOW_MS@"
                         " GROUP BY lease_owner ORDER BY lease_owner @BINARY@",
};

/* A conversation changed by the open transaction: notified at commit. */
struct touched {
	int64_t conv;
	unsigned what;   /* STORE_CHANGE_*; 0: locked, not changed yet */
	int work;        /* a customer message came in, or it can be claimed again */
	int64_t message; /* the newest message added */
	int64_t event_first, event_last; /* the events added */
	int locked;                      /* its row is locked until the transaction ends */
};

struct store {
	struct store_common c; /* first: the driver's view */
	char *sql[Q__N];       /* the driver's version of each query, made on first use */
	struct touched *touched;
	size_t ntouched, ctouched;
	/* store_changed: PRAGMA data_version (SQLite; other connections' commits)
	 * and this connection's own commits, at its last call. */
	int64_t data_version;
	uint64_t commits, commits_seen;
	int data_version_seen;
	uint64_t statements; /* store_statements */
	/* store_on_commit */
	void (*on_commit)(void *arg, const struct store_change *);
	void *on_commit_arg;
};

#define DRV(s) ((s)->c.drv)

/* The parameters of a statement: P(SV_INT64(conv), SV_STR(text)). */
#define P(...)                                                                                     \
	(const struct sv[]){__VA_ARGS__},                                                          \
	    (int)(sizeof((const struct sv[]){__VA_ARGS__}) / sizeof(struct sv))

/* -------------------------------------------------------------- helpers */

char *
store_sql_tokens(const char *sql, const char *const (*tokens)[2], size_t n)
{
	struct buf b;
	buf_init(&b, 0);
	for (const char *p = sql; *p != '\0';) {
		size_t i;
		for (i = 0; i < n; i++) {
			size_t len = strlen(tokens[i][0]);
			if (strncmp(p, tokens[i][0], len) == 0) {
				buf_adds(&b, tokens[i][1]);
				p += len;
				break;
			}
		}
		if (i == n)
			buf_addc(&b, *p++);
	}
	char *out = buf_steal(&b);
	buf_free(&b);
	return out;
}

/* The driver's run, counted (store_statements). */
static struct store_cur *
drv_run(struct store *s, int q, const char *sql, const struct sv *p, int n, const char *what,
        char **cause)
{
	s->statements++;
	return DRV(s)->run(s, q, sql, p, n, what, cause);
}

/* Runs query q; a cursor before its first row, or NULL with *cause. */
static struct store_cur *
run(struct store *s, int q, const char *what, char **cause, const struct sv *p, int n)
{
	if (s->sql[q] == NULL)
		s->sql[q] = DRV(s)->rewrite(queries[q]);
	return drv_run(s, q, s->sql[q], p, n, what, cause);
}

/* Runs a statement that returns no rows (or ignores them); *changes may be NULL. */
static int
run_done(struct store *s, int q, const char *what, int64_t *changes, char **cause,
         const struct sv *p, int n)
{
	struct store_cur *c = run(s, q, what, cause, p, n);
	if (c == NULL)
		return -1;
	int rc;
	while ((rc = DRV(s)->step(c, cause)) == 1)
		;
	if (rc == 0 && changes != NULL)
		*changes = DRV(s)->changes(c);
	DRV(s)->end(c);
	return rc;
}

/* Runs an INSERT ... RETURNING id: *id the new row's (0: no row was inserted). */
static int
run_id(struct store *s, int q, const char *what, int64_t *id, char **cause, const struct sv *p,
       int n)
{
	struct store_cur *c = run(s, q, what, cause, p, n);
	if (c == NULL)
		return -1;
	int rc = DRV(s)->step(c, cause);
	*id = rc == 1 ? DRV(s)->integer(c, 0) : 0;
	while (rc == 1)
		rc = DRV(s)->step(c, cause);
	DRV(s)->end(c);
	return rc;
}

static int
col_null(struct store *s, struct store_cur *c, int i)
{
	return DRV(s)->text(c, i) == NULL;
}

static const char *
col_text(struct store *s, struct store_cur *c, int i)
{
	const char *t = DRV(s)->text(c, i);
	return t ? t : "";
}

static int64_t
col_int(struct store *s, struct store_cur *c, int i)
{
	return DRV(s)->integer(c, i);
}

/* Stored JSON text as cJSON: null when NULL, the text itself if it does not parse. */
static cJSON *
col_json(struct store *s, struct store_cur *c, int i)
{
	const char *t = DRV(s)->text(c, i);
	if (t == NULL)
		return cJSON_CreateNull();
	cJSON *j = cJSON_Parse(t);
	return j ? j : cJSON_CreateString(t);
}

/* A text column as a string, or null. */
static void
add_text_or_null(cJSON *o, const char *name, struct store *s, struct store_cur *c, int i)
{
	if (col_null(s, c, i))
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddStringToObject(o, name, col_text(s, c, i));
}

/*
 * Now as ISO-8601 UTC text, "YYYY-MM-DDTHH:MM:SS.mmmZ". The date part
 * follows FRONTLINE_TODAY when it is set (reproducible reports); the time
 * of day is always the clock's.
 */
static void
now_iso(char out[64])
{
	struct timespec ts;
	struct tm tm;
	char date[11];
	long days;
	char *cause = NULL;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (getenv("FRONTLINE_TODAY") != NULL && date_today(&days, &cause) == 0)
		date_format(days, date);
	else
		strftime(date, sizeof date, "%Y-%m-%d", &tm);
	free(cause);
	snprintf(out, 64, "%sT%02d:%02d:%02d.%03ldZ", date, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         ts.tv_nsec / 1000000);
}

/* ------------------------------------------------------- notifications */

/* The letters of a payload's what, in the order of the STORE_CHANGE_* bits. */
static const char change_letters[] = "ocrehpl";

/* The open transaction's entry for conv, made when there is none. */
static struct touched *
touched_of(struct store *s, int64_t conv)
{
	for (size_t i = 0; i < s->ntouched; i++)
		if (s->touched[i].conv == conv)
			return &s->touched[i];
	if (s->ntouched == s->ctouched) {
		s->ctouched = s->ctouched ? 2 * s->ctouched : 8;
		s->touched = xreallocarray(s->touched, s->ctouched, sizeof *s->touched);
	}
	s->touched[s->ntouched] = (struct touched){.conv = conv};
	return &s->touched[s->ntouched++];
}

/*
 * Remembers what the open transaction changed in conv (work: there is work
 * to claim; message, event: the ids it added, 0 for none).
 */
static void
touch(struct store *s, int64_t conv, unsigned what, int work, int64_t message, int64_t event)
{
	struct touched *t = touched_of(s, conv);
	t->what |= what;
	t->work |= work;
	if (message > t->message)
		t->message = message;
	if (event > 0 && (t->event_first == 0 || event < t->event_first))
		t->event_first = event;
	if (event > t->event_last)
		t->event_last = event;
}

/* The transaction has conv's row locked (an UPDATE, or a SELECT ... FOR UPDATE). */
static void
touch_locked(struct store *s, int64_t conv)
{
	if (DRV(s)->notify != NULL)
		touched_of(s, conv)->locked = 1;
}

/*
 * Before a message or an event takes its id: locks the conversation's row
 * (once a transaction), so that its messages and events commit in id order
 * and a reader going on from the newest ids it read never skips one
 * committed late. SQLite serialises its writers: nothing to do.
 */
static int
lock_for_order(struct store *s, int64_t conv, const char *what, char **cause)
{
	if (DRV(s)->notify == NULL)
		return 0;
	struct touched *t = touched_of(s, conv);
	if (t->locked)
		return 0;
	if (run_done(s, Q_CONV_LOCK, what, NULL, cause, P(SV_INT64(conv))) != 0)
		return -1;
	t->locked = 1;
	return 0;
}

/*
 * Queues the notifications of what the transaction changed; the database
 * delivers them when (and only if) it commits.
 */
static int
notify_touched(struct store *s, char **cause)
{
	for (size_t i = 0; DRV(s)->notify != NULL && i < s->ntouched; i++) {
		const struct touched *t = &s->touched[i];
		char payload[128], what[sizeof change_letters];
		size_t n = 0;
		if (t->what == 0)
			continue;
		for (size_t b = 0; b + 1 < sizeof change_letters; b++)
			if (t->what & (1u << b))
				what[n++] = change_letters[b];
		what[n] = '\0';
		snprintf(payload, sizeof payload, "%lld %s %lld %lld %lld", (long long)t->conv,
		         what, (long long)t->message, (long long)t->event_first,
		         (long long)t->event_last);
		if (DRV(s)->notify(s, STORE_CHANNEL_CONV, payload, cause) != 0)
			return -1;
		if (t->work && DRV(s)->notify(s, STORE_CHANNEL_WORK, payload, cause) != 0)
			return -1;
	}
	return 0;
}

/* Tells store_on_commit's function what the transaction that just committed changed. */
static void
tell_committed(struct store *s)
{
	for (size_t i = 0; s->on_commit != NULL && i < s->ntouched; i++) {
		const struct touched *t = &s->touched[i];
		if (t->what == 0)
			continue;
		const struct store_change ch = {.channel = STORE_CHANNEL_CONV,
		                                .conv = t->conv,
		                                .what = t->what,
		                                .message = t->message,
		                                .event_first = t->event_first,
		                                .event_last = t->event_last,
		                                .own = 1};
		s->on_commit(s->on_commit_arg, &ch);
	}
}

/* --------------------------------------------------------- transactions */

/* Commits the open transaction, its notifications first. */
static int
tx_commit(struct store *s, char **cause)
{
	if (notify_touched(s, cause) != 0) {
		DRV(s)->rollback(s);
		s->ntouched = 0;
		return -1;
	}
	if (DRV(s)->commit(s, cause) != 0) {
		s->ntouched = 0;
		return -1;
	}
	s->commits++;
	tell_committed(s);
	s->ntouched = 0;
	return 0;
}

/*
 * Multi-statement operations run in a transaction of their own unless the
 * caller has one open (store_begin), so that they are atomic either way.
 */
static int
tx_enter(struct store *s, int *own, char **cause)
{
	*own = 0;
	if (s->c.in_tx) {
		if (DRV(s)->tx_failed(s)) {
			*cause = xstrdup("the transaction was rolled back by an earlier error");
			return -1;
		}
		return 0;
	}
	s->ntouched = 0;
	if (DRV(s)->begin(s, cause) != 0)
		return -1;
	*own = 1;
	s->c.in_tx = 1;
	return 0;
}

static int
tx_leave(struct store *s, int own, int rc, char **cause)
{
	if (!own)
		return rc;
	s->c.in_tx = 0;
	if (rc >= 0 && tx_commit(s, cause) == 0)
		return rc;
	DRV(s)->rollback(s);
	s->ntouched = 0;
	return -1;
}

/* A single-statement write: checks that an explicit transaction is still alive. */
static int
tx_check(struct store *s, char **cause)
{
	if (s->c.in_tx && DRV(s)->tx_failed(s)) {
		*cause = xstrdup("the transaction was rolled back by an earlier error");
		return -1;
	}
	return 0;
}

int
store_begin(struct store *s, char **cause)
{
	if (s->c.in_tx) {
		*cause = xstrdup("a transaction is already open");
		return -1;
	}
	s->ntouched = 0;
	if (DRV(s)->begin(s, cause) != 0)
		return -1;
	s->c.in_tx = 1;
	return 0;
}

int
store_commit(struct store *s, char **cause)
{
	if (!s->c.in_tx) {
		*cause = xstrdup("commit: no transaction is open");
		return -1;
	}
	if (DRV(s)->tx_failed(s)) {
		DRV(s)->rollback(s);
		s->c.in_tx = 0;
		s->ntouched = 0;
		*cause = xstrdup("commit: the transaction was rolled back by an earlier error");
		return -1;
	}
	s->c.in_tx = 0;
	return tx_commit(s, cause);
}

void
store_rollback(struct store *s)
{
	if (s == NULL)
		return;
	s->c.in_tx = 0;
	s->ntouched = 0;
	DRV(s)->rollback(s);
}

/* -------------------------------------------------------- open, migrate */

/* Applies the missing migrations in one transaction: all of them or none. */
static int
migrate(struct store *s, int *from, char **cause)
{
	int v;
	if (DRV(s)->get_version(s, &v, cause) != 0)
		return -1;
	if (from != NULL)
		*from = v;
	if (v == SCHEMA_VERSION)
		return 0;
	if (v > SCHEMA_VERSION || v < 0)
		goto newer;
	if (DRV(s)->migrate_lock(s, cause) != 0)
		return -1;
	/* Read again under the lock: another process may have migrated. */
	if (DRV(s)->get_version(s, &v, cause) != 0)
		goto fail;
	if (from != NULL)
		*from = v;
	if (v > SCHEMA_VERSION || v < 0) {
		DRV(s)->rollback(s);
		goto newer;
	}
	for (; v < SCHEMA_VERSION; v++) {
		char what[64];
		snprintf(what, sizeof what, "migration to schema version %d", v + 1);
		char *sql = DRV(s)->rewrite(migrations[v]);
		int rc = DRV(s)->exec(s, sql, what, cause);
		free(sql);
		if (rc != 0 || DRV(s)->set_version(s, v + 1, cause) != 0)
			goto fail;
	}
	if (DRV(s)->commit(s, cause) != 0)
		goto fail;
	return 0;
fail:
	DRV(s)->rollback(s);
	return -1;
newer:
	*cause = xasprintf("the database has schema version %d, newer than this frontline "
	                   "understands (%d): use a newer frontline, or another database",
	                   v, SCHEMA_VERSION);
	return -1;
}

int
store_is_postgres(const char *target)
{
	return target != NULL && (strncmp(target, "postgresql://", 13) == 0 ||
	                          strncmp(target, "postgres://", 11) == 0);
}

static struct store *
open_target(const char *target, int migrating, char **cause)
{
	if (target == NULL || *target == '\0') {
		*cause = xstrdup("the database path is empty");
		return NULL;
	}
	struct store *s = xcalloc(1, sizeof *s);
	s->c.drv = store_is_postgres(target) ? &store_pg_driver : &store_sqlite_driver;
	if (DRV(s)->open(s, target, cause) != 0 || (migrating && migrate(s, NULL, cause) != 0)) {
		store_close(s);
		return NULL;
	}
	return s;
}

struct store *
store_open(const char *target, char **cause)
{
	return open_target(target, 1, cause);
}

struct store *
store_open_unmigrated(const char *target, char **cause)
{
	return open_target(target, 0, cause);
}

int
store_schema(struct store *s, int *have, int *want, char **cause)
{
	*want = SCHEMA_VERSION;
	return DRV(s)->get_version(s, have, cause);
}

int
store_migrate(struct store *s, int *from, int *to, char **cause)
{
	*to = SCHEMA_VERSION;
	return migrate(s, from, cause);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->c.db != NULL)
		DRV(s)->close(s);
	for (int i = 0; i < Q__N; i++)
		free(s->sql[i]);
	free(s->touched);
	free(s);
}

const char *
store_backend(const struct store *s)
{
	return s->c.drv->name;
}

int
store_changed(struct store *s, char **cause)
{
	if (DRV(s) != &store_sqlite_driver)
		return 1;
	/* SQLite counts the commits of other connections in data_version; ours are counted here. */
	struct store_cur *c = drv_run(s, -1, "PRAGMA data_version", NULL, 0, "poll", cause);
	if (c == NULL)
		return -1;
	int rc = DRV(s)->step(c, cause);
	int64_t v = rc == 1 ? DRV(s)->integer(c, 0) : 0;
	DRV(s)->end(c);
	if (rc != 1) {
		if (rc == 0)
			*cause = xstrdup("poll: no data_version");
		return -1;
	}
	int changed =
	    !s->data_version_seen || v != s->data_version || s->commits != s->commits_seen;
	s->data_version = v;
	s->commits_seen = s->commits;
	s->data_version_seen = 1;
	return changed;
}

char *
store_target_redacted(const char *target)
{
	if (target == NULL)
		return xstrdup("(none)");
	if (!store_is_postgres(target))
		return xstrdup(target);
	struct buf b;
	buf_init(&b, 0);
	const char *p = strstr(target, "://") + 3;
	size_t auth = strcspn(p, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < auth; i++)
		if (p[i] == '@')
			at = p + i;
	buf_add(&b, target, (size_t)(p - target));
	if (at != NULL) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (colon != NULL) {
			buf_add(&b, p, (size_t)(colon - p));
			buf_adds(&b, ":***");
		} else
			buf_add(&b, p, (size_t)(at - p));
		p = at;
	}
	/* The rest, with any password=... parameter of the query part masked. */
	const char *q = strchr(p, '?');
	if (q == NULL) {
		buf_adds(&b, p);
	} else {
		buf_add(&b, p, (size_t)(q - p));
		for (const char *kv = q; *kv != '\0';) {
			buf_addc(&b, *kv++); /* '?' or '&' */
			size_t len = strcspn(kv, "&#");
			if (strncmp(kv, "password=", 9) == 0 && len >= 9)
				buf_adds(&b, "password=***");
			else
				buf_add(&b, kv, len);
			kv += len;
			if (*kv == '#') {
				buf_adds(&b, kv);
				break;
			}
		}
	}
	char *out = buf_steal(&b);
	buf_free(&b);
	return out;
}

/* ------------------------------------------------------------- writes */

int
store_customer_put(struct store *s, const char *id, const char *name, const char *email,
                   enum tier tier, char **cause)
{
	char now[64];
	if (id == NULL || *id == '\0') {
		*cause = xstrdup("customer: the id is empty");
		return -1;
	}
	if (tx_check(s, cause) != 0)
		return -1;
	now_iso(now);
	/* A tier outside the enum keeps the stored one (or the default). */
	const char *t = (int)tier >= 0 && tier < TIER__N ? tier_names[tier] : NULL;
	return run_done(s, Q_CUSTOMER_PUT, "customer", NULL, cause,
	                P(SV_STR(id), SV_STR(name), SV_STR(email), SV_STR(t), SV_STR(now)));
}

static int
conversation_open(struct store *s, const char *customer_id, int64_t *conv, int *created,
                  char **cause)
{
	char now[64];
	now_iso(now);
	if (run_done(s, Q_CUSTOMER_ENSURE, "customer", NULL, cause,
	             P(SV_STR(customer_id), SV_STR(now))) != 0)
		return -1;
	/* Twice at most: a conversation opened by another connection meanwhile is found. */
	for (int tries = 0; tries < 2; tries++) {
		struct store_cur *c =
		    run(s, Q_CONV_FIND, "conversation", cause, P(SV_STR(customer_id)));
		if (c == NULL)
			return -1;
		int rc = DRV(s)->step(c, cause);
		if (rc == 1)
			*conv = col_int(s, c, 0);
		DRV(s)->end(c);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			*created = 0;
			return 0;
		}
		if (run_id(s, Q_CONV_NEW, "conversation", conv, cause,
		           P(SV_STR(customer_id), SV_STR(now))) != 0)
			return -1;
		if (*conv > 0) {
			*created = 1;
			touch_locked(s,
			             *conv); /* a new row: nobody else sees it before the commit */
			touch(s, *conv, STORE_CHANGE_OPENED, 0, 0, 0);
			return 0;
		}
	}
	*cause = xasprintf("conversation: cannot open one for customer %s", customer_id);
	return -1;
}

int
store_conversation_open(struct store *s, const char *customer_id, int64_t *conv, int *created,
                        char **cause)
{
	int own, dummy;
	if (customer_id == NULL || *customer_id == '\0') {
		*cause = xstrdup("conversation: the customer id is empty");
		return -1;
	}
	if (created == NULL)
		created = &dummy;
	if (tx_enter(s, &own, cause) != 0)
		return -1;
	int rc = conversation_open(s, customer_id, conv, created, cause);
	return tx_leave(s, own, rc, cause);
}

/* Why conv could not be changed: "no conversation N" or "conversation N is already STATE". */
static char *
not_open_cause(struct store *s, int64_t conv, const char *already)
{
	char *cause = NULL;
	struct store_cur *c = run(s, Q_CONV_STATE, "conversation", &cause, P(SV_INT64(conv)));
	if (c == NULL)
		return cause;
	int rc = DRV(s)->step(c, &cause);
	if (rc == 1)
		cause = already ? xasprintf("conversation %lld is %s %s", (long long)conv, already,
		                            col_text(s, c, 0))
		                : xasprintf("conversation %lld is not open", (long long)conv);
	else if (rc == 0)
		cause = xasprintf("no conversation %lld", (long long)conv);
	DRV(s)->end(c);
	return cause;
}

/* The ending names, and the state each closes a conversation with (resolved or abandoned). */
static const char *const endings[] = {"resolved-agent", "resolved-human", "abandoned",
                                      "unconfirmed", NULL};
static const char *const ending_states[] = {"resolved", "resolved", "abandoned", "abandoned"};

int
store_conversation_end(struct store *s, int64_t conv, const char *ending, const cJSON *evidence,
                       char **cause)
{
	char now[64];
	int own;
	int64_t n = 0;
	int e = ending != NULL ? names_find(endings, ending) : -1;
	if (e < 0) {
		*cause = xasprintf("conversation %lld: a conversation ends resolved-agent, "
		                   "resolved-human, abandoned or unconfirmed, not '%s'",
		                   (long long)conv, ending ? ending : "(null)");
		return -1;
	}
	if (evidence != NULL && !cJSON_IsObject(evidence)) {
		*cause = xasprintf("conversation %lld: the evidence is not a JSON object",
		                   (long long)conv);
		return -1;
	}
	if (tx_enter(s, &own, cause) != 0)
		return -1;
	now_iso(now);
	int rc = run_done(s, Q_CONV_END, "conversation", &n, cause,
	                  P(SV_INT64(conv), SV_STR(ending_states[e]), SV_STR(ending), SV_STR(now)));
	if (rc == 0 && n != 1) {
		*cause = not_open_cause(s, conv, "already");
		rc = -1;
	}
	if (rc == 0) {
		touch_locked(s, conv);
		/* The event says it first, then the evidence. */
		cJSON *payload = cJSON_CreateObject();
		cJSON_AddStringToObject(payload, "ending", ending);
		const cJSON *it;
		cJSON_ArrayForEach(it, evidence)
		{
			if (strcmp(it->string, "ending") != 0)
				cJSON_AddItemToObject(payload, it->string, cJSON_Duplicate(it, 1));
		}
		rc = store_event_add(s, conv, "ending", payload, cause);
		cJSON_Delete(payload);
	}
	if (rc == 0)
		touch(s, conv, STORE_CHANGE_HANDS, 0, 0, 0);
	return tx_leave(s, own, rc, cause);
}

int
store_conversation_lock(struct store *s, int64_t conv, char **cause)
{
	if (!s->c.in_tx) {
		*cause = xstrdup("lock: no transaction is open");
		return -1;
	}
	if (tx_check(s, cause) != 0)
		return -1;
	if (run_done(s, Q_CONV_LOCK, "conversation", NULL, cause, P(SV_INT64(conv))) != 0)
		return -1;
	touch_locked(s, conv);
	return 0;
}

int
store_message_add(struct store *s, int64_t conv, const char *role, const char *text, int64_t *id,
                  char **cause)
{
	char now[64];
	int64_t mid = 0;
	int own;
	if (tx_enter(s, &own, cause) != 0)
		return -1;
	now_iso(now);
	/* In id order: serve's event streams go on from Last-Event-ID, consoles from theirs. */
	int rc = lock_for_order(s, conv, "message", cause);
	if (rc == 0)
		rc = run_id(s, Q_MESSAGE_ADD, "message", &mid, cause,
		            P(SV_INT64(conv), SV_STR(role), SV_STR(text), SV_STR(now)));
	int customer = rc == 0 && role != NULL && strcmp(role, "customer") == 0;
	if (customer)
		rc = run_done(s, Q_CONV_CUSTOMER_SAID, "message", NULL, cause,
		              P(SV_INT64(conv), SV_INT64(mid)));
	if (rc == 0)
		touch(s, conv, customer ? STORE_CHANGE_CUSTOMER : STORE_CHANGE_REPLY, customer, mid,
		      0);
	if ((rc = tx_leave(s, own, rc, cause)) == 0 && id != NULL)
		*id = mid;
	return rc;
}

int
store_event_add(struct store *s, int64_t conv, const char *kind, const cJSON *payload, char **cause)
{
	char now[64];
	int own;
	if (kind == NULL || *kind == '\0') {
		*cause = xstrdup("event: the kind is empty");
		return -1;
	}
	if (tx_enter(s, &own, cause) != 0)
		return -1;
	char *json = payload ? cJSON_PrintUnformatted(payload) : NULL;
	int64_t eid = 0;
	now_iso(now);
	int rc = lock_for_order(s, conv, "event", cause);
	if (rc == 0)
		rc = run_id(s, Q_EVENT_ADD, "event", &eid, cause,
		            P(SV_INT64(conv), SV_STR(kind), SV_STR(json), SV_STR(now)));
	free(json);
	if (rc == 0)
		touch(s, conv, STORE_CHANGE_EVENT, 0, 0, eid);
	return tx_leave(s, own, rc, cause);
}

int
store_handoff_add(struct store *s, int64_t conv, const cJSON *packet, int64_t *id, char **cause)
{
	char now[64];
	int64_t hid = 0;
	int own;
	if (!cJSON_IsObject(packet)) {
		*cause = xstrdup("handoff: the packet is not a JSON object");
		return -1;
	}
	if (tx_enter(s, &own, cause) != 0)
		return -1;
	char *json = cJSON_PrintUnformatted(packet);
	now_iso(now);
	int rc = run_id(s, Q_HANDOFF_ADD, "handoff", &hid, cause,
	                P(SV_INT64(conv), SV_STR(json), SV_STR(now)));
	free(json);
	if (rc == 0)
		touch(s, conv, STORE_CHANGE_PACKET, 0, 0, 0);
	if ((rc = tx_leave(s, own, rc, cause)) == 0 && id != NULL)
		*id = hid;
	return rc;
}

/* -------------------------------------------------------------- reads */

/* Steps a cursor to its end, one object per row into *out (caller frees); ends it. */
static int
collect(struct store *s, struct store_cur *c, cJSON *(*row)(struct store *, struct store_cur *),
        cJSON **out, char **cause)
{
	*out = NULL;
	if (c == NULL)
		return -1;
	cJSON *a = cJSON_CreateArray();
	int rc;
	while ((rc = DRV(s)->step(c, cause)) == 1)
		cJSON_AddItemToArray(a, row(s, c));
	DRV(s)->end(c);
	if (rc != 0) {
		cJSON_Delete(a);
		return -1;
	}
	*out = a;
	return 0;
}

/* The first row of a cursor as an object, or *out NULL when there is none; ends it. */
static int
collect_one(struct store *s, struct store_cur *c, cJSON *(*row)(struct store *, struct store_cur *),
            cJSON **out, char **cause)
{
	*out = NULL;
	if (c == NULL)
		return -1;
	int rc = DRV(s)->step(c, cause);
	if (rc == 1)
		*out = row(s, c);
	DRV(s)->end(c);
	return rc < 0 ? -1 : 0;
}

static cJSON *
message_row(struct store *s, struct store_cur *c)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)col_int(s, c, 0));
	cJSON_AddStringToObject(o, "role", col_text(s, c, 1));
	cJSON_AddStringToObject(o, "text", col_text(s, c, 2));
	cJSON_AddStringToObject(o, "at", col_text(s, c, 3));
	return o;
}

static cJSON *
event_row(struct store *s, struct store_cur *c)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)col_int(s, c, 0));
	cJSON_AddStringToObject(o, "kind", col_text(s, c, 1));
	cJSON_AddItemToObject(o, "payload", col_json(s, c, 2));
	cJSON_AddStringToObject(o, "at", col_text(s, c, 3));
	return o;
}

int
store_messages(struct store *s, int64_t conv, cJSON **out, char **cause)
{
	return collect(s, run(s, Q_MESSAGES, "read", cause, P(SV_INT64(conv))), message_row, out,
	               cause);
}

int
store_messages_after(struct store *s, int64_t conv, int64_t after, cJSON **out, char **cause)
{
	return collect(s,
	               run(s, Q_MESSAGES_AFTER, "read", cause, P(SV_INT64(conv), SV_INT64(after))),
	               message_row, out, cause);
}

int
store_conversation_since(struct store *s, int64_t conv, int64_t msgs_after, int64_t events_after,
                         const char *bare, cJSON **msgs, cJSON **events, char **cause)
{
	*msgs = *events = NULL;
	struct store_cur *c = run(s, Q_SINCE, "read", cause,
	                          P(SV_INT64(conv), SV_INT64(msgs_after), SV_INT64(events_after),
	                            SV_STR(bare ? bare : "")));
	if (c == NULL)
		return -1;
	cJSON *m = cJSON_CreateArray(), *e = cJSON_CreateArray();
	int rc;
	/* The columns after the first are a message's or an event's. */
	while ((rc = DRV(s)->step(c, cause)) == 1) {
		cJSON *o = cJSON_CreateObject();
		int event = col_int(s, c, 0) != 0;
		cJSON_AddNumberToObject(o, "id", (double)col_int(s, c, 1));
		cJSON_AddStringToObject(o, event ? "kind" : "role", col_text(s, c, 2));
		if (event)
			cJSON_AddItemToObject(o, "payload", col_json(s, c, 3));
		else
			cJSON_AddStringToObject(o, "text", col_text(s, c, 3));
		cJSON_AddStringToObject(o, "at", col_text(s, c, 4));
		cJSON_AddItemToArray(event ? e : m, o);
	}
	DRV(s)->end(c);
	if (rc != 0) {
		cJSON_Delete(m);
		cJSON_Delete(e);
		return -1;
	}
	*msgs = m;
	*events = e;
	return 0;
}

int
store_events(struct store *s, int64_t conv, cJSON **out, char **cause)
{
	return collect(s, run(s, Q_EVENTS, "read", cause, P(SV_INT64(conv))), event_row, out,
	               cause);
}

/* A row of Q_HANDOFFS: the packet's reason only, not the whole packet. */
static cJSON *
handoff_row(struct store *s, struct store_cur *c)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)col_int(s, c, 0));
	cJSON_AddNumberToObject(o, "conversation", (double)col_int(s, c, 1));
	cJSON_AddStringToObject(o, "customer", col_text(s, c, 2));
	cJSON_AddStringToObject(o, "created", col_text(s, c, 3));
	cJSON *packet = cJSON_Parse(col_text(s, c, 4));
	const char *reason = cJSON_GetStringValue(cJSON_GetObjectItem(packet, "reason"));
	if (reason != NULL)
		cJSON_AddStringToObject(o, "reason", reason);
	cJSON_Delete(packet);
	return o;
}

int
store_handoff_list(struct store *s, cJSON **out, char **cause)
{
	return collect(s, run(s, Q_HANDOFFS, "read", cause, NULL, 0), handoff_row, out, cause);
}

static cJSON *
packet_row(struct store *s, struct store_cur *c)
{
	cJSON *p = cJSON_Parse(col_text(s, c, 0));
	return p ? p : cJSON_CreateNull();
}

int
store_handoff_get(struct store *s, int64_t id, cJSON **out, char **cause)
{
	cJSON *p;
	*out = NULL;
	if (collect_one(s, run(s, Q_HANDOFF_GET, "read", cause, P(SV_INT64(id))), packet_row, &p,
	                cause) != 0)
		return -1;
	if (p == NULL)
		return 0;
	if (!cJSON_IsObject(p)) {
		cJSON_Delete(p);
		*cause = xasprintf("handoff %lld: the stored packet is not a JSON object",
		                   (long long)id);
		return -1;
	}
	cJSON_DeleteItemFromObject(p, "id");
	cJSON_AddNumberToObject(p, "id", (double)id);
	*out = p;
	return 0;
}

int
store_conversation_handler(struct store *s, int64_t conv, const char *handler, const char *owner,
                           char **cause)
{
	static const char *const handlers[] = {"ai", "waiting", "human", NULL};
	int own;
	int64_t n = 0;
	if (handler == NULL || names_find(handlers, handler) < 0) {
		*cause =
		    xasprintf("conversation %lld: the handler is ai, waiting or human, not '%s'",
		              (long long)conv, handler ? handler : "(null)");
		return -1;
	}
	if (tx_enter(s, &own, cause) != 0)
		return -1;
	int rc = run_done(s, Q_CONV_HANDLER, "conversation", &n, cause,
	                  P(SV_INT64(conv), SV_STR(handler), SV_STR(owner)));
	if (rc == 0 && n != 1) {
		*cause = xasprintf("conversation %lld is not open", (long long)conv);
		rc = -1;
	}
	/* Back with the AI: its pending messages can be claimed. */
	if (rc == 0) {
		touch_locked(s, conv);
		touch(s, conv, STORE_CHANGE_HANDS, strcmp(handler, "ai") == 0, 0, 0);
	}
	return tx_leave(s, own, rc, cause);
}

/* A row of Q_CONV_LIST or Q_CONV_GET as an object. */
static cJSON *
conversation_row(struct store *s, struct store_cur *c)
{
	static const char *const names[] = {"customer", "name",      "tier",    "state",
	                                    "handler",  "owner",     "created", "closed",
	                                    "ending",   "claimed_by"};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)col_int(s, c, 0));
	for (int i = 0; i < (int)nitems(names); i++)
		add_text_or_null(o, names[i], s, c, i + 1);
	return o;
}

int
store_conversation_list(struct store *s, const char *closed_since, cJSON **out, char **cause)
{
	return collect(s, run(s, Q_CONV_LIST, "read", cause, P(SV_STR(closed_since))),
	               conversation_row, out, cause);
}

int
store_conversation_get(struct store *s, int64_t conv, cJSON **out, char **cause)
{
	return collect_one(s, run(s, Q_CONV_GET, "read", cause, P(SV_INT64(conv))),
	                   conversation_row, out, cause);
}

static cJSON *
id_row(struct store *s, struct store_cur *c)
{
	return cJSON_CreateNumber((double)col_int(s, c, 0));
}

int
store_conversation_idle(struct store *s, const char *before, int max, cJSON **out, char **cause)
{
	return collect(
	    s, run(s, Q_CONV_IDLE, "read", cause, P(SV_STR(before), SV_INT64(max > 0 ? max : 1))),
	    id_row, out, cause);
}

void
store_now(char out[64])
{
	now_iso(out);
}

/* ------------------------------------------------- takeover, work queue */

int
store_conversation_take(struct store *s, int64_t conv, const char *who, char **cause)
{
	int own;
	int64_t n = 0;
	if (who == NULL || *who == '\0') {
		*cause =
		    xasprintf("conversation %lld: a takeover needs who takes it", (long long)conv);
		return -1;
	}
	if (tx_enter(s, &own, cause) != 0)
		return -1;
	int rc =
	    run_done(s, Q_CONV_TAKE, "conversation", &n, cause, P(SV_INT64(conv), SV_STR(who)));
	if (rc == 0 && n == 1) {
		touch_locked(s, conv);
		touch(s, conv, STORE_CHANGE_HANDS, 0, 0, 0);
	} else if (rc == 0) {
		/* Say why: not open, or whose it is. */
		struct store_cur *c =
		    run(s, Q_CONV_OWNER, "conversation", cause, P(SV_INT64(conv)));
		rc = -1;
		if (c != NULL) {
			int r = DRV(s)->step(c, cause);
			if (r == 0)
				*cause = xasprintf("no conversation %lld", (long long)conv);
			else if (r == 1 && strcmp(col_text(s, c, 0), "open") != 0)
				*cause = xasprintf("conversation %lld is %s", (long long)conv,
				                   col_text(s, c, 0));
			else if (r == 1) {
				*cause = xasprintf("conversation %lld is taken by %s",
				                   (long long)conv, col_text(s, c, 2));
				rc = 1;
			}
			DRV(s)->end(c);
		}
	}
	return tx_leave(s, own, rc, cause);
}

int
store_claim(struct store *s, const char *worker, int lease_ms, int64_t conv,
            struct store_claim *out, char **cause)
{
	int own;
	if (worker == NULL || *worker == '\0' || lease_ms < 0) {
		*cause = xstrdup("claim: a worker id and a lease are needed");
		return -1;
	}
	if (tx_enter(s, &own, cause) != 0)
		return -1;
	struct store_cur *c = run(s, Q_CLAIM_PICK, "claim", cause, P(SV_INT64(conv)));
	int rc = c ? DRV(s)->step(c, cause) : -1;
	if (rc == 1) {
		out->conv = col_int(s, c, 0);
		out->answered = col_int(s, c, 1);
		out->upto = col_int(s, c, 2);
	}
	DRV(s)->end(c);
	if (rc == 1 && run_done(s, Q_CLAIM_SET, "claim", NULL, cause,
	                        P(SV_INT64(out->conv), SV_STR(worker), SV_INT64(lease_ms))) != 0)
		rc = -1;
	return tx_leave(s, own, rc, cause);
}

int
store_claim_renew(struct store *s, int64_t conv, const char *worker, int lease_ms, char **cause)
{
	int64_t n = 0;
	if (tx_check(s, cause) != 0)
		return -1;
	if (run_done(s, Q_CLAIM_RENEW, "claim", &n, cause,
	             P(SV_INT64(conv), SV_STR(worker), SV_INT64(lease_ms))) != 0)
		return -1;
	return n == 1 ? 0 : 1;
}

int
store_claim_finish(struct store *s, int64_t conv, const char *worker, int64_t upto,
                   const char **handler, char **cause)
{
	static const char *const handlers[] = {"ai", "waiting", "human", NULL};
	int own;
	if (tx_enter(s, &own, cause) != 0)
		return -1;
	struct store_cur *c = run(s, Q_CLAIM_ROW, "claim", cause, P(SV_INT64(conv)));
	int rc = c ? DRV(s)->step(c, cause) : -1;
	if (rc == 0) {
		*cause = xasprintf("no conversation %lld", (long long)conv);
		rc = -1;
	} else if (rc == 1) {
		touch_locked(s, conv);
		int i = names_find(handlers, col_text(s, c, 1));
		*handler = strcmp(col_text(s, c, 0), "open") != 0 ? "closed"
		           : i >= 0                               ? handlers[i]
		                                                  : "waiting";
		/* Lost: released, or taken by another worker after it expired. */
		rc = col_null(s, c, 2) || strcmp(col_text(s, c, 2), worker ? worker : "") != 0;
	}
	DRV(s)->end(c);
	if (rc == 0) {
		rc = run_done(s, Q_CLAIM_DONE, "claim", NULL, cause,
		              P(SV_INT64(conv), SV_INT64(upto)));
		if (rc == 0)
			touch(s, conv, STORE_CHANGE_CLAIM, 0, 0, 0);
	}
	return tx_leave(s, own, rc, cause);
}

int
store_claim_release(struct store *s, int64_t conv, const char *worker, char **cause)
{
	int own;
	int64_t n = 0;
	if (tx_enter(s, &own, cause) != 0)
		return -1;
	int rc =
	    run_done(s, Q_CLAIM_RELEASE, "claim", &n, cause, P(SV_INT64(conv), SV_STR(worker)));
	/* Another worker may take it now. */
	if (rc == 0 && n == 1)
		touch(s, conv, STORE_CHANGE_CLAIM, 1, 0, 0);
	return tx_leave(s, own, rc, cause);
}

/* --------------------------------------------------------- notifications */

int
store_listen(struct store *s, const char *channel, char **cause)
{
	if (channel == NULL || *channel == '\0' ||
	    strspn(channel, "abcdefghijklmnopqrstuvwxyz_0123456789") != strlen(channel)) {
		*cause = xasprintf("listen: '%s' is not a channel name", channel ? channel : "");
		return -1;
	}
	return DRV(s)->listen ? DRV(s)->listen(s, channel, cause) : 0;
}

int
store_notify_fd(struct store *s)
{
	return DRV(s)->notify_fd ? DRV(s)->notify_fd(s) : -1;
}

/* Where store_notifications hands what it parses. */
struct hearing {
	void (*fn)(void *arg, const struct store_change *);
	void *arg;
};

/*
 * A payload as notify_touched writes it. One that says only the id, or
 * that this store cannot read, may mean anything (STORE_CHANGE_ANY); one
 * without an id is conv 0.
 */
static void
change_parse(const char *payload, struct store_change *ch)
{
	const char *p = payload ? payload : "";
	char *end;
	long long v[3] = {0};
	ch->what = STORE_CHANGE_ANY;
	ch->conv = 0;
	ch->message = ch->event_first = ch->event_last = 0;
	long long conv = strtoll(p, &end, 10);
	if (end == p || conv <= 0 || (*end != ' ' && *end != '\0'))
		return;
	ch->conv = conv;
	if (*end != ' ')
		return;
	p = end + 1;
	size_t n = strcspn(p, " ");
	unsigned what = 0;
	for (size_t i = 0; i < n; i++) {
		const char *at = memchr(change_letters, p[i], sizeof change_letters - 1);
		if (at == NULL)
			return;
		what |= 1u << (at - change_letters);
	}
	p += n;
	for (int i = 0; i < 3; i++) {
		if (*p != ' ')
			return;
		v[i] = strtoll(p + 1, &end, 10);
		if (end == p + 1 || v[i] < 0)
			return;
		p = end;
	}
	if (*p != '\0')
		return;
	ch->what = what;
	ch->message = v[0];
	ch->event_first = v[1];
	ch->event_last = v[2];
}

static void
heard(void *arg, const char *channel, const char *payload, int own)
{
	struct hearing *h = arg;
	struct store_change ch = {.channel = channel, .own = own};
	change_parse(payload, &ch);
	if (h->fn != NULL)
		h->fn(h->arg, &ch);
}

int
store_notifications(struct store *s, void (*fn)(void *arg, const struct store_change *), void *arg,
                    char **cause)
{
	struct hearing h = {fn, arg};
	return DRV(s)->notifications ? DRV(s)->notifications(s, heard, &h, cause) : 0;
}

uint64_t
store_statements(const struct store *s)
{
	return s->statements;
}

void
store_on_commit(struct store *s, void (*fn)(void *arg, const struct store_change *), void *arg)
{
	s->on_commit = fn;
	s->on_commit_arg = arg;
}

/* ---------------------------------------------------------------- status */

int
store_status(struct store *s, cJSON **out, char **cause)
{
	int have, want;
	*out = NULL;
	if (store_schema(s, &have, &want, cause) != 0)
		return -1;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "backend", store_backend(s));
	cJSON *schema = cJSON_AddObjectToObject(o, "schema");
	cJSON_AddNumberToObject(schema, "have", have);
	cJSON_AddNumberToObject(schema, "want", want);
	if (have != want) {
		/* The counts need the current schema. */
		*out = o;
		return 0;
	}
	struct store_cur *c = run(s, Q_STATUS, "status", cause, NULL, 0);
	int rc = c ? DRV(s)->step(c, cause) : -1;
	if (rc == 1) {
		cJSON_AddNumberToObject(o, "open", (double)col_int(s, c, 0));
		cJSON_AddNumberToObject(o, "pending", (double)col_int(s, c, 1));
		cJSON_AddNumberToObject(o, "claimed", (double)col_int(s, c, 2));
	}
	DRV(s)->end(c);
	if (rc != 1) {
		cJSON_Delete(o);
		return -1;
	}
	cJSON *w = cJSON_AddObjectToObject(o, "workers");
	if ((c = run(s, Q_STATUS_WORKERS, "status", cause, NULL, 0)) == NULL) {
		cJSON_Delete(o);
		return -1;
	}
	while ((rc = DRV(s)->step(c, cause)) == 1)
		cJSON_AddNumberToObject(w, col_text(s, c, 0), (double)col_int(s, c, 1));
	DRV(s)->end(c);
	if (rc != 0) {
		cJSON_Delete(o);
		return -1;
	}
	*out = o;
	return 0;
}

/* ------------------------------------------------------- shadow replays */

/* JSON as text to bind; NULL for NULL. The caller frees. */
static char *
json_text(const cJSON *j)
{
	return j ? cJSON_PrintUnformatted(j) : NULL;
}

int
store_replay_begin(struct store *s, const char *source, const char *version, int64_t *run_id_out,
                   char **cause)
{
	char now[64];
	if (tx_check(s, cause) != 0)
		return -1;
	now_iso(now);
	return run_id(s, Q_RUN_NEW, "replay", run_id_out, cause,
	              P(SV_STR(source ? source : ""), SV_STR(version ? version : ""), SV_STR(now)));
}

int
store_replay_result(struct store *s, int64_t run_no, const char *ticket, const cJSON *result,
                    char **cause)
{
	if (!cJSON_IsObject(result)) {
		*cause = xstrdup("replay: the result is not a JSON object");
		return -1;
	}
	if (tx_check(s, cause) != 0)
		return -1;
	char *json = json_text(result);
	int rc = run_done(s, Q_RESULT_ADD, "replay result", NULL, cause,
	                  P(SV_INT64(run_no), SV_STR(ticket ? ticket : ""), SV_STR(json)));
	free(json);
	return rc;
}

int
store_replay_finish(struct store *s, int64_t run_no, int64_t tickets, const cJSON *report,
                    char **cause)
{
	char now[64];
	int64_t n = 0;
	if (tx_check(s, cause) != 0)
		return -1;
	now_iso(now);
	char *json = json_text(report);
	int rc = run_done(s, Q_RUN_FINISH, "replay", &n, cause,
	                  P(SV_INT64(run_no), SV_STR(now), SV_INT64(tickets), SV_STR(json)));
	free(json);
	if (rc == 0 && n != 1) {
		*cause = xasprintf("no replay run %lld", (long long)run_no);
		return -1;
	}
	return rc;
}

/* A row of Q_RUNS, or of Q_RUN_GET with its report (with_report). */
static cJSON *
run_row(struct store *s, struct store_cur *c, int with_report)
{
	static const char *const names[] = {"source", "version", "started", "finished"};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)col_int(s, c, 0));
	for (int i = 0; i < (int)nitems(names); i++)
		add_text_or_null(o, names[i], s, c, i + 1);
	cJSON_AddNumberToObject(o, "tickets", (double)col_int(s, c, 5));
	if (with_report)
		cJSON_AddItemToObject(o, "report", col_json(s, c, 6));
	return o;
}

static cJSON *
run_row_brief(struct store *s, struct store_cur *c)
{
	return run_row(s, c, 0);
}

static cJSON *
run_row_full(struct store *s, struct store_cur *c)
{
	return run_row(s, c, 1);
}

int
store_replay_runs(struct store *s, cJSON **out, char **cause)
{
	return collect(s, run(s, Q_RUNS, "read", cause, NULL, 0), run_row_brief, out, cause);
}

int
store_replay_run(struct store *s, int64_t run_no, cJSON **out, char **cause)
{
	return collect_one(s, run(s, Q_RUN_GET, "read", cause, P(SV_INT64(run_no))), run_row_full,
	                   out, cause);
}

int
store_replay_each(struct store *s, int64_t run_no, int (*fn)(const cJSON *result, void *arg),
                  void *arg, char **cause)
{
	/* Its own statement (q < 0): fn may read the store meanwhile. */
	if (s->sql[Q_RESULTS] == NULL)
		s->sql[Q_RESULTS] = DRV(s)->rewrite(queries[Q_RESULTS]);
	struct store_cur *c = drv_run(s, -1, s->sql[Q_RESULTS], P(SV_INT64(run_no)), "read", cause);
	if (c == NULL)
		return -1;
	int rc, stop = 0;
	while (!stop && (rc = DRV(s)->step(c, cause)) == 1) {
		cJSON *r = cJSON_Parse(col_text(s, c, 0));
		if (r != NULL)
			stop = fn(r, arg);
		cJSON_Delete(r);
	}
	DRV(s)->end(c);
	return stop || rc == 0 ? 0 : -1;
}

/* ------------------------------------------------------ trainer reviews */

int
store_review_add(struct store *s, int64_t handoff, const char *reviewer, const cJSON *correction,
                 int64_t *id, char **cause)
{
	char now[64];
	int64_t rid = 0;
	if (!cJSON_IsObject(correction)) {
		*cause = xstrdup("review: the correction is not a JSON object");
		return -1;
	}
	if (tx_check(s, cause) != 0)
		return -1;
	now_iso(now);
	char *json = json_text(correction);
	s->c.err = STORE_ERR_OTHER;
	int rc = run_id(s, Q_REVIEW_ADD, "review", &rid, cause,
	                P(SV_INT64(handoff), SV_STR(reviewer), SV_STR(json), SV_STR(now)));
	free(json);
	if (rc != 0 && s->c.err == STORE_ERR_FOREIGN_KEY) {
		free(*cause);
		*cause = xasprintf("no handoff packet %lld", (long long)handoff);
	}
	if (rc == 0 && id != NULL)
		*id = rid;
	return rc;
}

static cJSON *
review_row(struct store *s, struct store_cur *c)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)col_int(s, c, 0));
	cJSON_AddNumberToObject(o, "handoff", (double)col_int(s, c, 1));
	cJSON_AddNumberToObject(o, "conversation", (double)col_int(s, c, 2));
	add_text_or_null(o, "reviewer", s, c, 3);
	cJSON_AddStringToObject(o, "created", col_text(s, c, 4));
	cJSON_AddItemToObject(o, "correction", col_json(s, c, 5));
	return o;
}

int
store_reviews(struct store *s, cJSON **out, char **cause)
{
	return collect(s, run(s, Q_REVIEWS, "read", cause, NULL, 0), review_row, out, cause);
}

/* ------------------------------------------------- rollout and canary */

static int
rollout_kind_ok(const char *kind, char **cause)
{
	if (kind != NULL && (strcmp(kind, "rollout") == 0 || strcmp(kind, "canary") == 0))
		return 0;
	*cause = xasprintf("the log is 'rollout' or 'canary', not '%s'", kind ? kind : "(null)");
	return -1;
}

int
store_rollout_add(struct store *s, const char *kind, const char *action, const cJSON *state,
                  const char *actor, const char *reason, char **cause)
{
	char now[64];
	if (rollout_kind_ok(kind, cause) != 0)
		return -1;
	if (action == NULL || *action == '\0' || !cJSON_IsObject(state)) {
		*cause = xasprintf("%s: an entry needs an action and a state object", kind);
		return -1;
	}
	if (tx_check(s, cause) != 0)
		return -1;
	now_iso(now);
	char *json = json_text(state);
	int rc = run_done(s, Q_ROLLOUT_ADD, kind, NULL, cause,
	                  P(SV_STR(kind), SV_STR(action), SV_STR(json), SV_STR(actor),
	                    SV_STR(reason), SV_STR(now)));
	free(json);
	return rc;
}

static cJSON *
rollout_row(struct store *s, struct store_cur *c)
{
	static const char *const names[] = {"action", NULL, "actor", "reason", "at"};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)col_int(s, c, 0));
	for (int i = 0; i < (int)nitems(names); i++) {
		if (names[i] == NULL)
			cJSON_AddItemToObject(o, "state", col_json(s, c, i + 1));
		else
			add_text_or_null(o, names[i], s, c, i + 1);
	}
	return o;
}

int
store_rollout_log(struct store *s, const char *kind, cJSON **out, char **cause)
{
	*out = NULL;
	if (rollout_kind_ok(kind, cause) != 0)
		return -1;
	return collect(s, run(s, Q_ROLLOUT_LOG, "read", cause, P(SV_STR(kind))), rollout_row, out,
	               cause);
}

int
store_rollout_state(struct store *s, const char *kind, cJSON **out, char **cause)
{
	cJSON *log;
	*out = NULL;
	if (store_rollout_log(s, kind, &log, cause) != 0)
		return -1;
	cJSON *latest = cJSON_GetArrayItem(log, 0);
	if (latest != NULL)
		*out = cJSON_DetachItemFromObject(latest, "state");
	cJSON_Delete(log);
	return 0;
}

/* ------------------------------------------------------ export, import */

/*
 * Every table of schemas 5 and 6 (6 added indexes) with its columns ('i' integer, 't' text), in an
 * order where a row's references come before it. An export is one JSON
 * line per row: {"table":T,"row":{column: value...}} with the columns in
 * this order, so that the same rows always make the same bytes.
 */
struct dump_table {
	const char *name;
	int text_id; /* customers: ordered by their text id, no sequence */
	struct dump_col {
		const char *name;
		char type;
	} cols[16];
};

static const struct dump_table dump_tables[] = {
    {"customers", 1, {{"id", 't'}, {"name", 't'}, {"email", 't'}, {"tier", 't'}, {"created", 't'}}},
    {"conversations",
     0,
     {{"id", 'i'},
      {"customer_id", 't'},
      {"state", 't'},
      {"created", 't'},
      {"closed", 't'},
      {"handler", 't'},
      {"owner", 't'},
      {"last_customer", 'i'},
      {"answered", 'i'},
      {"lease_owner", 't'},
      {"lease_until", 'i'},
      {"ending", 't'}}},
    {"messages",
     0,
     {{"id", 'i'}, {"conversation_id", 'i'}, {"role", 't'}, {"text", 't'}, {"at", 't'}}},
    {"events",
     0,
     {{"id", 'i'}, {"conversation_id", 'i'}, {"kind", 't'}, {"payload", 't'}, {"at", 't'}}},
    {"handoffs", 0, {{"id", 'i'}, {"conversation_id", 'i'}, {"packet", 't'}, {"created", 't'}}},
    {"replay_runs",
     0,
     {{"id", 'i'},
      {"source", 't'},
      {"version", 't'},
      {"started", 't'},
      {"finished", 't'},
      {"tickets", 'i'},
      {"report", 't'}}},
    {"replay_results", 0, {{"id", 'i'}, {"run_id", 'i'}, {"ticket", 't'}, {"result", 't'}}},
    {"reviews",
     0,
     {{"id", 'i'}, {"handoff_id", 'i'}, {"reviewer", 't'}, {"correction", 't'}, {"created", 't'}}},
    {"rollout_log",
     0,
     {{"id", 'i'},
      {"kind", 't'},
      {"action", 't'},
      {"state", 't'},
      {"actor", 't'},
      {"reason", 't'},
      {"at", 't'}}},
};
/* The export format follows the schema: a new migration changes the table above. */
_Static_assert(nitems(migrations) == 6, "the export's tables are schema 5's and 6's");
/* The oldest export an import takes: its tables are this schema's. */
#define DUMP_SINCE 5

#define DUMP_FORMAT "frontline-export"
#define DUMP_PAGE   500

static int
dump_ncols(const struct dump_table *t)
{
	int n = 0;
	while (n < (int)nitems(t->cols) && t->cols[n].name != NULL)
		n++;
	return n;
}

/* "a, b, c" of the table's columns. */
static void
dump_col_list(struct buf *b, const struct dump_table *t)
{
	for (int i = 0; i < dump_ncols(t); i++)
		buf_printf(b, "%s%s", i ? ", " : "", t->cols[i].name);
}

static void
dump_line(struct buf *b, struct store *s, struct store_cur *c, const struct dump_table *t)
{
	buf_adds(b, "{\"table\":");
	buf_json_str(b, t->name);
	buf_adds(b, ",\"row\":{");
	for (int i = 0; i < dump_ncols(t); i++) {
		if (i > 0)
			buf_addc(b, ',');
		buf_json_str(b, t->cols[i].name);
		buf_addc(b, ':');
		if (col_null(s, c, i))
			buf_adds(b, "null");
		else if (t->cols[i].type == 'i')
			buf_printf(b, "%lld", (long long)col_int(s, c, i));
		else
			buf_json_str(b, col_text(s, c, i));
	}
	buf_adds(b, "}}\n");
}

/* Writes one table's rows, a page at a time (keyed on the id, so no page is read twice). */
static int
dump_table(struct store *s, const struct dump_table *t, FILE *f, int64_t *rows, char **cause)
{
	struct buf q, line;
	buf_init(&q, 0);
	buf_init(&line, 0);
	buf_adds(&q, "SELECT ");
	dump_col_list(&q, t);
	if (t->text_id)
		buf_printf(&q, " FROM %s ORDER BY id @BINARY@", t->name);
	else
		buf_printf(&q, " FROM %s WHERE id > ?1 ORDER BY id LIMIT %d", t->name, DUMP_PAGE);
	char *raw = buf_steal(&q), *sql = DRV(s)->rewrite(raw);
	free(raw);
	buf_free(&q);
	int64_t after = INT64_MIN, got;
	int rc = 0;
	do {
		struct sv key = SV_INT64(after);
		struct store_cur *c = drv_run(s, -1, sql, &key, t->text_id ? 0 : 1, t->name, cause);
		if (c == NULL) {
			rc = -1;
			break;
		}
		got = 0;
		while ((rc = DRV(s)->step(c, cause)) == 1) {
			buf_reset(&line);
			dump_line(&line, s, c, t);
			if (fwrite(line.data, 1, line.len, f) != line.len) {
				*cause = xasprintf("export: %s", strerror(errno));
				rc = -1;
				break;
			}
			after = col_int(s, c, 0);
			got++;
		}
		DRV(s)->end(c);
		*rows += got;
	} while (rc == 0 && !t->text_id && got == DUMP_PAGE);
	free(sql);
	buf_free(&line);
	return rc;
}

int
store_export(struct store *s, FILE *f, int64_t *rows, char **cause)
{
	int have, want;
	*rows = 0;
	if (store_schema(s, &have, &want, cause) != 0)
		return -1;
	if (have != want) {
		*cause = xasprintf("the store has schema version %d, not %d: run 'frontline db "
		                   "migrate' first",
		                   have, want);
		return -1;
	}
	/* One snapshot for every table. */
	if (DRV(s)->begin_read(s, cause) != 0)
		return -1;
	s->c.in_tx = 1;
	fprintf(f, "{\"format\":\"%s\",\"schema\":%d}\n", DUMP_FORMAT, SCHEMA_VERSION);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < nitems(dump_tables); i++)
		rc = dump_table(s, &dump_tables[i], f, rows, cause);
	s->c.in_tx = 0;
	DRV(s)->rollback(s);
	if (rc == 0 && fflush(f) != 0) {
		*cause = xasprintf("export: %s", strerror(errno));
		rc = -1;
	}
	return rc;
}

static const struct dump_table *
dump_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < nitems(dump_tables); i++)
		if (strcmp(dump_tables[i].name, name) == 0)
			return &dump_tables[i];
	return NULL;
}

/* 1 when a table has a row. */
static int
table_used(struct store *s, const char *table, char **cause)
{
	char *sql = xasprintf("SELECT 1 FROM %s LIMIT 1", table);
	struct store_cur *c = drv_run(s, -1, sql, NULL, 0, table, cause);
	free(sql);
	if (c == NULL)
		return -1;
	int rc = DRV(s)->step(c, cause);
	DRV(s)->end(c);
	return rc;
}

/* Checks an import line's row against its table; the parameters into p. NULL or why not. */
static char *
import_row(const struct dump_table *t, const cJSON *row, struct sv *p)
{
	if (!cJSON_IsObject(row))
		return xstrdup("\"row\" is not an object");
	const cJSON *it;
	cJSON_ArrayForEach(it, row)
	{
		int known = 0;
		for (int i = 0; i < dump_ncols(t); i++)
			known |= strcmp(t->cols[i].name, it->string) == 0;
		if (!known)
			return xasprintf("%s has no column '%s'", t->name, it->string);
	}
	for (int i = 0; i < dump_ncols(t); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, t->cols[i].name);
		if (v == NULL)
			return xasprintf("%s: the column '%s' is missing", t->name,
			                 t->cols[i].name);
		if (cJSON_IsNull(v))
			p[i] = (struct sv){.type = SV_NULL};
		else if (t->cols[i].type == 't' && cJSON_IsString(v))
			p[i] = SV_STR(v->valuestring);
		else if (t->cols[i].type == 'i' && cJSON_IsNumber(v) &&
		         v->valuedouble == (double)(int64_t)v->valuedouble &&
		         v->valuedouble < 9007199254740992.0 &&
		         v->valuedouble > -9007199254740992.0) {
			p[i] = SV_INT64((int64_t)v->valuedouble);
		} else
			return xasprintf("%s.%s: %s expected", t->name, t->cols[i].name,
			                 t->cols[i].type == 'i' ? "an integer"
			                                        : "a string or null");
	}
	return NULL;
}

/* The import's statement for a table, rewritten for the driver (caller frees). */
static char *
import_sql(struct store *s, const struct dump_table *t)
{
	struct buf b;
	buf_init(&b, 0);
	buf_printf(&b, "INSERT INTO %s (", t->name);
	dump_col_list(&b, t);
	buf_adds(&b, ") VALUES (");
	for (int i = 0; i < dump_ncols(t); i++)
		buf_printf(&b, "%s?%d", i ? ", " : "", i + 1);
	buf_addc(&b, ')');
	char *raw = buf_steal(&b), *sql = DRV(s)->rewrite(raw);
	free(raw);
	buf_free(&b);
	return sql;
}

int
store_import(struct store *s, FILE *f, const char *name, int64_t *rows, char **cause)
{
	int have, want;
	*rows = 0;
	if (store_schema(s, &have, &want, cause) != 0)
		return -1;
	if (have != want) {
		*cause = xasprintf("the store has schema version %d, not %d: run 'frontline db "
		                   "migrate' first",
		                   have, want);
		return -1;
	}
	for (size_t i = 0; i < nitems(dump_tables); i++) {
		int used = table_used(s, dump_tables[i].name, cause);
		if (used < 0)
			return -1;
		if (used) {
			*cause =
			    xasprintf("the store is not empty (%s has rows): import into a new "
			              "database",
			              dump_tables[i].name);
			return 2;
		}
	}
	char *sql[nitems(dump_tables)] = {0};
	struct jsonl rd;
	cJSON *j;
	int rc = 0, got, header = 1;
	if (store_begin(s, cause) != 0)
		return -1;
	/* The rules every JSON Lines reader keeps (jsonl.h): what is imported exports the same. */
	jsonl_init(&rd, f, name);
	while (rc == 0 && (got = jsonl_next(&rd, &j, cause)) != 0) {
		if (got < 0) {
			rc = got == -1 ? 1 : -1; /* a bad line, or a read error */
			break;
		}
		struct sv p[16];
		char *why = NULL;
		if (header) {
			header = 0;
			const cJSON *schema = cJSON_GetObjectItem(j, "schema");
			const char *format = cJSON_GetStringValue(cJSON_GetObjectItem(j, "format"));
			if (format == NULL || strcmp(format, DUMP_FORMAT) != 0 ||
			    !cJSON_IsNumber(schema))
				why = xstrdup("not a frontline export (the first line is "
				              "{\"format\":\"" DUMP_FORMAT "\",\"schema\":N})");
			else if (schema->valueint < DUMP_SINCE || schema->valueint > SCHEMA_VERSION)
				why = xasprintf("the export has schema version %d, this store %d",
				                schema->valueint, SCHEMA_VERSION);
		} else {
			const struct dump_table *t =
			    dump_find(cJSON_GetStringValue(cJSON_GetObjectItem(j, "table")));
			if (t == NULL)
				why = xstrdup("no known \"table\"");
			else if ((why = import_row(t, cJSON_GetObjectItem(j, "row"), p)) == NULL) {
				size_t ti = (size_t)(t - dump_tables);
				if (sql[ti] == NULL)
					sql[ti] = import_sql(s, t);
				struct store_cur *c =
				    drv_run(s, -1, sql[ti], p, dump_ncols(t), t->name, &why);
				int r = c ? DRV(s)->step(c, &why) : -1;
				DRV(s)->end(c);
				if (r >= 0)
					(*rows)++;
				else if (s->c.err == STORE_ERR_CONNECTION) {
					*cause = why;
					why = NULL;
					rc = -1;
				}
			}
		}
		cJSON_Delete(j);
		if (why != NULL) {
			*cause = xasprintf("%s:%ld: %s", name, rd.lineno, why);
			free(why);
			rc = 1;
		}
	}
	if (rc == 0 && header) {
		*cause = xasprintf("%s: empty, not a frontline export", name);
		rc = 1;
	}
	for (size_t i = 0; rc == 0 && i < nitems(dump_tables); i++)
		if (!dump_tables[i].text_id && DRV(s)->after_import != NULL &&
		    DRV(s)->after_import(s, dump_tables[i].name, cause) != 0)
			rc = -1;
	jsonl_free(&rd);
	for (size_t i = 0; i < nitems(dump_tables); i++)
		free(sql[i]);
	if (rc != 0) {
		store_rollback(s);
		*rows = 0;
		return rc;
	}
	return store_commit(s, cause);
}
