/* serve.c -- frontline serve: the HTTP+JSON API for chat front ends, on the event loop. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "chars.h"
#include "customer-proto.h"
#include "desk.h"
#include "serve.h"
#include "types.h"
#include "ui-text.h"
#include "version.h"

/*
 * A request goes through, in order: the route's path (health needs
 * nothing more), the client's token bucket (429), the bearer token
 * (401), the route's method and id (404, 405, 400), then for a body its
 * content type (415) and declared length (413) before any of it is read,
 * its size as it arrives (413), its JSON (400) and its fields (422); only
 * then the store (404, 409), and the answer once the transaction commits.
 *
 * An event stream is a subscriber: a buffer of formatted events and a
 * cursor (the newest message id it has seen). MHD pulls the buffer through
 * a content reader; with nothing to send the reader suspends the
 * connection, and a refresh that adds events resumes it. Suspended
 * connections do not notice a client that went away, so every stream gets
 * a comment line every heartbeat_ms: the write fails and MHD closes it.
 */

#define SERVE_TOKEN_MIN    16            /* bytes of a bearer token, at least */
#define STREAM_MAX         (1024 * 1024) /* bytes queued for a stream that does not read */
#define SWEEP_MS           60000         /* how often idle clients are dropped, at least */
#define RETRY_MS           3000          /* the reconnect delay streams advise */
#define FLOOR_FRAME_MS     30 /* the floor's changes are read and sent this often, at most */
#define CLIENT_ADDR_MAX    64
#define HTTP_UNPROCESSABLE 422 /* MHD renamed its constant; the number stays */

/* ------------------------------------------------------------ client addresses */

/*
 * Why a connection was cut off or refused: counted per client address and
 * reported in one line per address per log interval, however many there
 * were (a thousand trickling connections are one line, not a thousand).
 */
enum cut {
	CUT_IDLE,    /* a new connection that sent no request within the header deadline */
	CUT_HEADERS, /* a request line, then no complete headers within it */
	CUT_BODY,    /* headers, then no complete body within the body deadline */
	CUT_GONE,    /* the client closed it before its answer */
	CUT_LIMIT,   /* refused: the address had max_per_address open already */
	CUT__N
};

/* What serve knows of one client address: its token bucket, connections, cut-offs. */
struct client {
	char addr[CLIENT_ADDR_MAX];
	double tokens;
	int64_t last;
	unsigned conns;       /* open connections */
	unsigned cut[CUT__N]; /* since the last report */
	int64_t reported;     /* when its last report line was written; 0: never */
	struct client *next;
};

struct clients {
	double rate, burst;
	long report_ms; /* at most one report line per address this often */
	struct client **slot;
	size_t nslot, n;
};

struct clients *
clients_new(double rate, double burst)
{
	struct clients *r = xcalloc(1, sizeof *r);
	r->rate = rate;
	r->burst = burst < 1 ? 1 : burst;
	r->nslot = 256;
	r->slot = xcalloc(r->nslot, sizeof *r->slot);
	return r;
}

void
clients_free(struct clients *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nslot; i++)
		for (struct client *b = r->slot[i], *next; b != NULL; b = next) {
			next = b->next;
			free(b);
		}
	free(r->slot);
	free(r);
}

size_t
clients_count(const struct clients *r)
{
	return r->n;
}

static size_t
client_slot(const char *addr, size_t nslot)
{
	return (size_t)(hash_fnv1a(addr, strlen(addr)) & (nslot - 1));
}

static void
clients_grow(struct clients *r)
{
	size_t n = r->nslot * 2;
	struct client **slot = xcalloc(n, sizeof *slot);
	for (size_t i = 0; i < r->nslot; i++)
		for (struct client *b = r->slot[i], *next; b != NULL; b = next) {
			next = b->next;
			size_t k = client_slot(b->addr, n);
			b->next = slot[k];
			slot[k] = b;
		}
	free(r->slot);
	r->slot = slot;
	r->nslot = n;
}

/* The address's entry, made with a full bucket when new (it stays put until swept). */
static struct client *
client_get(struct clients *r, const char *addr, int64_t now)
{
	size_t k = client_slot(addr, r->nslot);
	struct client *b = r->slot[k];
	while (b != NULL && strcmp(b->addr, addr) != 0)
		b = b->next;
	if (b == NULL) {
		b = xcalloc(1, sizeof *b);
		snprintf(b->addr, sizeof b->addr, "%s", addr);
		b->tokens = r->burst;
		b->last = now;
		b->next = r->slot[k];
		r->slot[k] = b;
		if (++r->n > r->nslot * 2)
			clients_grow(r);
	}
	return b;
}

/* Tops the bucket up for the time since it was last seen. */
static void
refill(const struct clients *r, struct client *b, int64_t now)
{
	if (now > b->last) {
		b->tokens += (double)(now - b->last) * r->rate / 1000.0;
		if (b->tokens > r->burst)
			b->tokens = r->burst;
	}
	b->last = now;
}

long
clients_take(struct clients *r, const char *addr, int64_t now)
{
	struct client *b = client_get(r, addr, now);
	refill(r, b, now);
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 0;
	}
	if (r->rate <= 0)
		return 3600 * 1000L;
	return (long)ceil((1 - b->tokens) * 1000.0 / r->rate);
}

static int
cuts_pending(const struct client *b)
{
	for (int i = 0; i < CUT__N; i++)
		if (b->cut[i] > 0)
			return 1;
	return 0;
}

void
clients_sweep(struct clients *r, int64_t now)
{
	for (size_t i = 0; i < r->nslot; i++) {
		struct client **pp = &r->slot[i];
		while (*pp != NULL) {
			struct client *b = *pp;
			refill(r, b, now);
			/* full, idle and quiet: the same as a new one */
			if (b->tokens >= r->burst && b->conns == 0 && !cuts_pending(b) &&
			    (b->reported == 0 || now - b->reported >= r->report_ms)) {
				*pp = b->next;
				free(b);
				r->n--;
			} else
				pp = &b->next;
		}
	}
}

/* ------------------------------------------------------------ small parts */

int
serve_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return d == 0;
}

int
serve_parse_id(const char *s, size_t n, int64_t *out)
{
	if (n == 0 || n > 19 || s[0] == '0')
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > INT64_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

void
serve_config_defaults(struct serve_config *c)
{
	*c = (struct serve_config){
	    .listen = "127.0.0.1:8080",
	    .max_body = 64 * 1024,
	    .rate = 20,
	    .burst = 40,
	    .heartbeat_ms = 15000,
	    .poll_ms = 250,
	    .max_connections = 1000,
	    .max_per_address = 250,
	    .connection_timeout = 60,
	    .header_timeout_ms = 10000,
	    .body_timeout_ms = 30000,
	    .report_ms = 60000,
	};
}

/* ------------------------------------------------------------ the server */

struct sub;

/*
 * libmicrohttpd's own messages (the verbose log) are mostly about one
 * connection each; a text is written once per report interval, then how
 * often it came again.
 */
#define MHD_NOTES 8
struct mhd_note {
	char *text;
	unsigned again; /* times since it was written */
	int64_t at;     /* when it was written */
};

struct serve {
	struct loop *loop;
	struct store *st;
	struct serve_config cfg;
	struct MHD_Daemon *d;
	int port;
	int epoll_fd;
	uint64_t mhd_timer;
	int kicked;
	char *start_error; /* what MHD said while starting */

	char (*tokens)[65]; /* SHA-256 of each accepted token */
	size_t ntokens;
	struct clients *clients;
	uint64_t tick_timer;
	struct mhd_note notes[MHD_NOTES];

	/* event streams, by conversation */
	struct sub **slot;
	size_t nslot, nsubs;
	uint64_t heartbeat_timer, poll_timer;
	int notify_fd; /* the store's notifications, -1: polling */
	int relisten;  /* they were lost: LISTEN again on the poll timer */

	/*
	 * The floor (GET /v1/floor/events): its streams are subs of
	 * conversation 0; each change is read once, for all of them, after
	 * what was sent of that conversation (by conversation id, open
	 * addressing; forgotten when the last floor stream ends).
	 */
	size_t nfloor;
	struct floor_conv *fconv;
	size_t nfconv, capfconv;
	/*
	 * A frame's changes are read and written once, into flog, which every
	 * floor stream sends from its own offset (flog_base: the offset of
	 * flog's first byte); what they have all sent is dropped.
	 */
	int64_t *fdirty; /* conversations notified since the last frame */
	size_t nfdirty, capfdirty;
	struct buf flog;
	uint64_t flog_base, frame_timer;
	int shutting;
};

/* The conversation id the floor's streams are filed under. */
#define FLOOR 0

/* What the floor's streams were sent of a conversation, and what to read for them. */
struct floor_conv {
	int64_t conv; /* 0: a free slot */
	int64_t msg, event;
	unsigned want; /* STORE_CHANGE_*: read in this drain */
};

struct sub {
	struct serve *sv;
	struct MHD_Connection *conn;
	int64_t conv;
	int64_t cursor; /* the newest message id read */
	char *state;    /* the last state sent: "open/ai", "resolved", ... */
	unsigned want;  /* what to read: STORE_CHANGE_REPLY (messages), _HANDS (the state) */
	struct buf out;
	size_t off;
	uint64_t pos; /* the floor's: the offset in flog it sends from next */
	int suspended;
	int ending; /* end the stream once out is sent (the floor's: flog no more) */
	struct sub *next;
};

/*
 * One connection (MHD's socket context), for its deadline: a request's line
 * and headers must arrive within header_timeout_ms of the connection
 * opening or of its previous answer, its body within body_timeout_ms
 * after that. MHD's own timeout is an idle timeout that every byte resets,
 * which a client trickling a byte at a time never meets; these are totals.
 */
enum phase {
	PHASE_WAIT,   /* for a request's line and headers */
	PHASE_BODY,   /* for its body */
	PHASE_ANSWER, /* no deadline: the answer is being made or sent (streams included) */
};

struct conn {
	struct serve *sv;
	struct MHD_Connection *mc;
	struct client *client; /* stays while conns > 0 */
	enum phase phase;
	uint64_t timer;
	int requested; /* a request line arrived since the last answer */
	int served;    /* answers sent on it */
	int cut;       /* closed by its deadline (already counted) */
};

/* One request, from its request line to its answer (MHD's con_cls). */
struct req {
	const struct api_route *route;
	int64_t id;
	struct buf body;
	size_t received; /* body bytes, kept or not */
	int begun;       /* its headers were handled */
	int status;
	int64_t t0;
	char method[16];
	char *path; /* as sent: still percent-encoded, without the query */
	char client[CLIENT_ADDR_MAX];
};

typedef enum MHD_Result (*route_fn)(struct serve *, struct req *, struct MHD_Connection *);

struct api_route {
	const char *method;
	const char *path; /* "{id}" stands for a conversation id */
	int open;         /* no token, no rate limit */
	int body;         /* takes a JSON body */
	route_fn fn;
};

static void kick(struct serve *);

/* ------------------------------------------------------------ cut-offs, reported */

/* Says why n connections were cut off, after a comma when not the first. */
static void
cut_say(const struct serve *sv, struct buf *b, enum cut why, unsigned n)
{
	if (b->len > 0)
		buf_adds(b, ", ");
	switch (why) {
	case CUT_IDLE:
		buf_printf(b, "%u sent no request within %g s", n,
		           (double)sv->cfg.header_timeout_ms / 1000);
		break;
	case CUT_HEADERS:
		buf_printf(b, "%u did not finish the headers within %g s", n,
		           (double)sv->cfg.header_timeout_ms / 1000);
		break;
	case CUT_BODY:
		buf_printf(b, "%u did not finish the body within %g s", n,
		           (double)sv->cfg.body_timeout_ms / 1000);
		break;
	case CUT_GONE:
		buf_printf(b, "%u closed before the answer", n);
		break;
	case CUT_LIMIT:
		buf_printf(b, "%u refused (%u open from the address)", n, sv->cfg.max_per_address);
		break;
	case CUT__N:
		break;
	}
}

/* One line on stderr for what the address had cut off since its last one. */
static void
report(struct serve *sv, struct client *c, int64_t now)
{
	struct buf b;
	unsigned n = 0;
	buf_init(&b, 0);
	for (int i = 0; i < CUT__N; i++) {
		if (c->cut[i] == 0)
			continue;
		cut_say(sv, &b, (enum cut)i, c->cut[i]);
		n += c->cut[i];
		c->cut[i] = 0;
	}
	if (c->reported != 0 && now - c->reported < 2 * sv->cfg.report_ms)
		fprintf(stderr, "frontline serve: %s: %u connection%s cut off in %lld s: %s\n",
		        c->addr, n, n == 1 ? "" : "s",
		        (long long)((now - c->reported + 999) / 1000), b.data);
	else
		fprintf(stderr, "frontline serve: %s: %u connection%s cut off: %s\n", c->addr, n,
		        n == 1 ? "" : "s", b.data);
	fflush(stderr);
	c->reported = now;
	buf_free(&b);
}

/*
 * Counts a cut-off connection of the address: written at once when the
 * address had no line in the last report interval, else at the next tick
 * after it.
 */
static void
cut_count(struct serve *sv, struct client *c, enum cut why)
{
	int64_t now = loop_now(sv->loop);
	c->cut[why]++;
	if (c->reported == 0 || now - c->reported >= sv->cfg.report_ms)
		report(sv, c, now);
}

/* Writes the reports an interval old (all: every one left), MHD's notes included. */
static void
reports_due(struct serve *sv, int64_t now, int all)
{
	for (size_t i = 0; i < sv->clients->nslot; i++)
		for (struct client *c = sv->clients->slot[i]; c != NULL; c = c->next)
			if (cuts_pending(c) && (all || now - c->reported >= sv->cfg.report_ms))
				report(sv, c, now);
	for (size_t i = 0; i < MHD_NOTES; i++) {
		struct mhd_note *n = &sv->notes[i];
		if (n->text == NULL || (!all && now - n->at < sv->cfg.report_ms))
			continue;
		if (n->again > 0) /* notes are kept for the verbose log only */
			fprintf(sv->cfg.log, "frontline serve: %s (%u more in %lld s)\n", n->text,
			        n->again, (long long)((now - n->at + 999) / 1000));
		free(n->text);
		n->text = NULL;
		n->again = 0;
	}
}

/* ------------------------------------------------------------ connections */

/* The connection's state, made when MHD announced it. */
static struct conn *
conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static void
on_deadline(struct loop *loop, void *arg)
{
	struct conn *c = arg;
	c->timer = 0;
	if (c->phase == PHASE_BODY)
		cut_count(c->sv, c->client, CUT_BODY);
	else if (c->requested)
		cut_count(c->sv, c->client, CUT_HEADERS);
	else if (c->served == 0)
		cut_count(c->sv, c->client, CUT_IDLE);
	/* else a keep-alive connection left idle: closed without a word */
	c->cut = 1;
	/*
	 * MHD has no call to close a connection from outside its callbacks;
	 * shut down, the socket reads as ended on MHD's next run, which closes
	 * it. The descriptor stays MHD's (no close here: no reuse race).
	 */
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		shutdown(ci->connect_fd, SHUT_RDWR);
	kick(c->sv);
}

/* The connection enters phase: its deadline starts anew, or ends for PHASE_ANSWER. */
static void
conn_phase(struct conn *c, enum phase phase)
{
	if (c == NULL)
		return;
	loop_timer_del(c->sv->loop, c->timer);
	c->timer = 0;
	c->phase = phase;
	if (phase == PHASE_WAIT)
		c->timer =
		    loop_timer_add(c->sv->loop, c->sv->cfg.header_timeout_ms, on_deadline, c);
	else if (phase == PHASE_BODY)
		c->timer = loop_timer_add(c->sv->loop, c->sv->cfg.body_timeout_ms, on_deadline, c);
}

/* ------------------------------------------------------------ answers */

/* Queues body (a JSON text, copied) with status; extra headers as name, value pairs. */
static enum MHD_Result
answer(struct req *rq, struct MHD_Connection *conn, int status, const char *json,
       const char *const *headers)
{
	size_t n = json ? strlen(json) : 0;
	/* MHD takes the copy (MUST_FREE): its buffer argument is not const. */
	char *copy = xstrdup(json ? json : "");
	struct MHD_Response *r = MHD_create_response_from_buffer(n, copy, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(copy);
		return MHD_NO;
	}
	if (n > 0)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i += 2)
		MHD_add_response_header(r, headers[i], headers[i + 1]);
	if (rq != NULL)
		rq->status = status;
	conn_phase(conn_of(conn), PHASE_ANSWER);
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
answer_json(struct req *rq, struct MHD_Connection *conn, int status, cJSON *o,
            const char *const *headers)
{
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	enum MHD_Result rc = answer(rq, conn, status, text, headers);
	free(text);
	return rc;
}

/* {"error": message}: message is ours (or the store's), never the request's headers. */
static enum MHD_Result fail(struct req *, struct MHD_Connection *, int status,
                            const char *const *headers, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum MHD_Result
fail(struct req *rq, struct MHD_Connection *conn, int status, const char *const *headers,
     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "{\"error\":");
	buf_json_str(&b, msg);
	buf_adds(&b, "}");
	enum MHD_Result rc = answer(rq, conn, status, b.data, headers);
	buf_free(&b);
	free(msg);
	return rc;
}

/* A store failure: logged with its cause, answered 503 without it. */
static enum MHD_Result
store_failed(struct serve *sv, struct req *rq, struct MHD_Connection *conn, const char *what,
             char *cause)
{
	fprintf(stderr, "frontline serve: %s: %s\n", what, cause ? cause : "failed");
	free(cause);
	static const char *const retry[] = {MHD_HTTP_HEADER_RETRY_AFTER, "1", NULL};
	return fail(rq, conn, MHD_HTTP_SERVICE_UNAVAILABLE, retry,
	            "the store is unavailable; try again");
}

/* ------------------------------------------------------------ JSON bodies */

/*
 * The body as a JSON object, or NULL with the error queued in *rc:
 * empty, not UTF-8, a NUL escape, not JSON (400), not an object (422).
 */
static cJSON *
body_object(struct req *rq, struct MHD_Connection *conn, enum MHD_Result *rc)
{
	const char *s = rq->body.data ? rq->body.data : "";
	size_t n = rq->body.len;
	if (n == 0) {
		*rc = fail(rq, conn, MHD_HTTP_BAD_REQUEST, NULL,
		           "the body is empty: a JSON object is expected");
		return NULL;
	}
	if (!utf8_valid(s, n) || memchr(s, '\0', n) != NULL) {
		*rc =
		    fail(rq, conn, MHD_HTTP_BAD_REQUEST, NULL, "the body is not valid UTF-8 text");
		return NULL;
	}
	if (str_casecontains(s, "\\u0000")) {
		*rc = fail(rq, conn, MHD_HTTP_BAD_REQUEST, NULL,
		           "the body holds a NUL character (\\u0000)");
		return NULL;
	}
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts(s, n, &end, 0);
	if (o != NULL) {
		while (end < s + n && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
			end++;
		if (end != s + n) {
			cJSON_Delete(o);
			o = NULL;
		}
	}
	if (o == NULL) {
		const char *at = cJSON_GetErrorPtr();
		long off =
		    at && at >= s && at <= s + n ? (long)(at - s) : (end ? (long)(end - s) : 0);
		*rc = fail(rq, conn, MHD_HTTP_BAD_REQUEST, NULL, "malformed JSON at byte %ld", off);
		return NULL;
	}
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		*rc = fail(rq, conn, HTTP_UNPROCESSABLE, NULL, "the body must be a JSON object");
		return NULL;
	}
	return o;
}

/*
 * Every member of o is one of names (NULL-terminated), once. Returns 0, or
 * -1 with *cause naming the first that is not.
 */
static int
fields_known(const cJSON *o, const char *what, const char *const *names, char **cause)
{
	unsigned seen = 0;
	const cJSON *v;
	cJSON_ArrayForEach(v, o)
	{
		int i = v->string ? names_find(names, v->string) : -1;
		if (i < 0) {
			struct buf b;
			buf_init(&b, 0);
			buf_json_str(&b, v->string ? v->string : "");
			*cause = xasprintf("unknown field %s in %s", b.data, what);
			buf_free(&b);
			return -1;
		}
		if (seen & (1u << i)) {
			*cause = xasprintf("\"%s\" appears twice in %s", names[i], what);
			return -1;
		}
		seen |= 1u << i;
	}
	return 0;
}

/*
 * An optional string member: NULL when absent or null. Returns 0, or -1
 * with *cause (not a string, longer than max bytes).
 */
static int
opt_string(const cJSON *o, const char *key, size_t max, const char **out, char **cause)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		*cause = xasprintf("\"%s\" must be a string", key);
		return -1;
	}
	if (strlen(v->valuestring) > max) {
		*cause = xasprintf("\"%s\" is longer than %zu bytes", key, max);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

static int
blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* An e-mail address as far as it can be checked: local@domain, no spaces or controls. */
static int
email_valid(const char *s)
{
	const char *at = strchr(s, '@');
	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

/* ------------------------------------------------------------ conversations */

/* The conversation row as the API shows it (no owner: the agent's login). Takes row. */
static cJSON *
conv_view(cJSON *row)
{
	static const char *const keep[] = {"id",    "customer", "name",    "tier",
	                                   "state", "handler",  "created", "closed"};
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < nitems(keep); i++) {
		cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(row, keep[i]);
		cJSON_AddItemToObject(o, keep[i], v ? v : cJSON_CreateNull());
	}
	const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(o, "state"));
	if (state == NULL || strcmp(state, "open") != 0)
		cJSON_ReplaceItemInObjectCaseSensitive(o, "handler", cJSON_CreateNull());
	cJSON_Delete(row);
	return o;
}

/* A guest id for a customer who gave none: "web-" and 16 hex digits. */
static char *
guest_id(void)
{
	unsigned char r[8];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		uint64_t x = hash_fnv1a(&r, sizeof r) ^ (uint64_t)getpid() ^ (uint64_t)time(NULL);
		memcpy(r, &x, sizeof r);
	}
	return xasprintf("web-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
	                 r[6], r[7]);
}

static enum MHD_Result
conv_create(struct serve *sv, struct req *rq, struct MHD_Connection *conn)
{
	static const char *const top[] = {"customer", NULL};
	static const char *const fields[] = {"id", "name", "tier", "email", NULL};
	enum MHD_Result rc;
	char *cause = NULL;
	cJSON *o = body_object(rq, conn, &rc);
	if (o == NULL)
		return rc;
	const cJSON *cu = cJSON_GetObjectItemCaseSensitive(o, "customer");
	const char *id = NULL, *name = NULL, *tier_s = NULL, *email = NULL;
	enum tier tier = TIER__N;
	if (fields_known(o, "the body", top, &cause) != 0)
		goto invalid;
	if (cu != NULL && !cJSON_IsNull(cu)) {
		if (!cJSON_IsObject(cu)) {
			cause = xstrdup("\"customer\" must be an object");
			goto invalid;
		}
		if (fields_known(cu, "\"customer\"", fields, &cause) != 0 ||
		    opt_string(cu, "id", CP_MAX_ID, &id, &cause) != 0 ||
		    opt_string(cu, "name", CP_MAX_NAME, &name, &cause) != 0 ||
		    opt_string(cu, "tier", 32, &tier_s, &cause) != 0 ||
		    opt_string(cu, "email", 254, &email, &cause) != 0)
			goto invalid;
		if (id != NULL && !cp_id_valid(id)) {
			cause = xasprintf("\"id\" must be 1 to %d letters, digits or ._:@+-",
			                  CP_MAX_ID);
			goto invalid;
		}
		if (name != NULL && !cp_name_valid(name)) {
			cause = xasprintf("\"name\" must be at most %d bytes without control "
			                  "characters",
			                  CP_MAX_NAME);
			goto invalid;
		}
		if (tier_s != NULL) {
			int t = names_find(tier_names, tier_s);
			if (t < 0) {
				cause = xstrdup("\"tier\" must be self-serve, standard, premium or "
				                "enterprise");
				goto invalid;
			}
			tier = (enum tier)t;
		}
		if (email != NULL && !email_valid(email)) {
			cause =
			    xstrdup("\"email\" must be an address: local@domain, without spaces");
			goto invalid;
		}
	}

	char *guest = id == NULL ? guest_id() : NULL;
	int64_t conv = 0;
	int created = 0;
	cJSON *row = NULL;
	if (store_begin(sv->st, &cause) != 0 ||
	    store_customer_put(sv->st, id ? id : guest, name && *name ? name : NULL, email, tier,
	                       &cause) != 0 ||
	    store_conversation_open(sv->st, id ? id : guest, &conv, &created, &cause) != 0 ||
	    store_conversation_get(sv->st, conv, &row, &cause) != 0 ||
	    store_commit(sv->st, &cause) != 0) {
		store_rollback(sv->st);
		cJSON_Delete(row);
		cJSON_Delete(o);
		free(guest);
		return store_failed(sv, rq, conn, "a new conversation", cause);
	}
	free(guest);
	cJSON_Delete(o);
	if (row == NULL) /* cannot be: it was read in the transaction that made it */
		return fail(rq, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
		            "the conversation vanished");
	char *loc = xasprintf("/v1/conversations/%lld", (long long)conv);
	const char *const hdr[] = {MHD_HTTP_HEADER_LOCATION, loc, NULL};
	rc = answer_json(rq, conn, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, conv_view(row), hdr);
	free(loc);
	return rc;
invalid:
	cJSON_Delete(o);
	rc = fail(rq, conn, HTTP_UNPROCESSABLE, NULL, "%s", cause);
	free(cause);
	return rc;
}

/* The conversation's row, or an answer queued: 404 when there is none, 503 on a store error. */
static cJSON *
conv_row(struct serve *sv, struct req *rq, struct MHD_Connection *conn, enum MHD_Result *rc)
{
	cJSON *row = NULL;
	char *cause = NULL;
	if (store_conversation_get(sv->st, rq->id, &row, &cause) != 0) {
		*rc = store_failed(sv, rq, conn, "reading a conversation", cause);
		return NULL;
	}
	if (row == NULL)
		*rc = fail(rq, conn, MHD_HTTP_NOT_FOUND, NULL, "no conversation %lld",
		           (long long)rq->id);
	return row;
}

static enum MHD_Result
conv_get(struct serve *sv, struct req *rq, struct MHD_Connection *conn)
{
	enum MHD_Result rc;
	cJSON *row = conv_row(sv, rq, conn, &rc), *msgs = NULL;
	char *cause = NULL;
	if (row == NULL)
		return rc;
	if (store_messages(sv->st, rq->id, &msgs, &cause) != 0) {
		cJSON_Delete(row);
		return store_failed(sv, rq, conn, "reading a transcript", cause);
	}
	cJSON *o = conv_view(row);
	cJSON_AddItemToObject(o, "messages", msgs);
	return answer_json(rq, conn, MHD_HTTP_OK, o, NULL);
}

static enum MHD_Result
message_post(struct serve *sv, struct req *rq, struct MHD_Connection *conn)
{
	static const char *const fields[] = {"text", NULL};
	enum MHD_Result rc;
	char *cause = NULL;
	cJSON *o = body_object(rq, conn, &rc);
	if (o == NULL)
		return rc;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "text");
	if (fields_known(o, "the body", fields, &cause) != 0) {
		/* cause says why */
	} else if (t == NULL)
		cause = xstrdup("\"text\" is missing");
	else if (!cJSON_IsString(t))
		cause = xstrdup("\"text\" must be a string");
	else if (strlen(t->valuestring) > CP_MAX_TEXT)
		cause = xasprintf("\"text\" is longer than %d bytes", CP_MAX_TEXT);
	else if (blank(t->valuestring))
		cause = xstrdup("\"text\" is empty");
	if (cause != NULL) {
		cJSON_Delete(o);
		rc = fail(rq, conn, HTTP_UNPROCESSABLE, NULL, "%s", cause);
		free(cause);
		return rc;
	}

	/* Checked and stored in one transaction: a conversation closed meanwhile refuses it. */
	cJSON *row = NULL;
	int64_t id = 0;
	if (store_begin(sv->st, &cause) != 0 ||
	    store_conversation_get(sv->st, rq->id, &row, &cause) != 0) {
		store_rollback(sv->st);
		cJSON_Delete(o);
		return store_failed(sv, rq, conn, "storing a message", cause);
	}
	const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(row, "state"));
	if (row == NULL || state == NULL || strcmp(state, "open") != 0) {
		store_rollback(sv->st);
		cJSON_Delete(o);
		if (row == NULL)
			return fail(rq, conn, MHD_HTTP_NOT_FOUND, NULL, "no conversation %lld",
			            (long long)rq->id);
		rc = fail(rq, conn, MHD_HTTP_CONFLICT, NULL,
		          "conversation %lld is closed (%s): start a new one", (long long)rq->id,
		          state ? state : "?");
		cJSON_Delete(row);
		return rc;
	}
	cJSON_Delete(row);
	if (store_message_add(sv->st, rq->id, "customer", t->valuestring, &id, &cause) != 0 ||
	    store_commit(sv->st, &cause) != 0) {
		store_rollback(sv->st);
		cJSON_Delete(o);
		return store_failed(sv, rq, conn, "storing a message", cause);
	}
	cJSON_Delete(o);
	cJSON *a = cJSON_CreateObject();
	cJSON_AddNumberToObject(a, "id", (double)id);
	cJSON_AddNumberToObject(a, "conversation", (double)rq->id);
	return answer_json(rq, conn, MHD_HTTP_ACCEPTED, a, NULL);
}

static enum MHD_Result
rating_post(struct serve *sv, struct req *rq, struct MHD_Connection *conn)
{
	static const char *const fields[] = {"score", "comment", NULL};
	enum MHD_Result rc;
	char *cause = NULL;
	const char *comment = NULL;
	cJSON *o = body_object(rq, conn, &rc);
	if (o == NULL)
		return rc;
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "score");
	if (fields_known(o, "the body", fields, &cause) != 0) {
		/* cause says why */
	} else if (s == NULL)
		cause = xstrdup("\"score\" is missing");
	else if (!cJSON_IsNumber(s) || s->valuedouble != floor(s->valuedouble) ||
	         s->valuedouble < 1 || s->valuedouble > 5)
		cause = xstrdup("\"score\" must be an integer from 1 to 5");
	else
		opt_string(o, "comment", CP_MAX_COMMENT, &comment, &cause);
	if (cause != NULL) {
		cJSON_Delete(o);
		rc = fail(rq, conn, HTTP_UNPROCESSABLE, NULL, "%s", cause);
		free(cause);
		return rc;
	}
	int score = (int)s->valuedouble;
	cJSON *row = conv_row(sv, rq, conn, &rc);
	if (row == NULL) {
		cJSON_Delete(o);
		return rc;
	}
	cJSON_Delete(row);
	cJSON *ev = desk_csat_json(score, comment && !blank(comment) ? comment : NULL);
	int bad = store_event_add(sv->st, rq->id, "csat", ev, &cause);
	cJSON_Delete(ev);
	cJSON_Delete(o);
	if (bad)
		return store_failed(sv, rq, conn, "storing a rating", cause);
	cJSON *a = cJSON_CreateObject();
	cJSON_AddNumberToObject(a, "conversation", (double)rq->id);
	cJSON_AddNumberToObject(a, "score", score);
	return answer_json(rq, conn, MHD_HTTP_OK, a, NULL);
}

static enum MHD_Result
health(struct serve *sv, struct req *rq, struct MHD_Connection *conn)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", "ok");
	cJSON_AddStringToObject(o, "version", PACKAGE_VERSION);
	cJSON_AddStringToObject(o, "store", store_backend(sv->st));
	cJSON_AddNumberToObject(o, "streams", (double)sv->nsubs);
	cJSON_AddStringToObject(o, "updates", sv->notify_fd >= 0 ? "notify" : "poll");
	return answer_json(rq, conn, MHD_HTTP_OK, o, NULL);
}

/* ------------------------------------------------------------ event streams */

static size_t
sub_slot(const struct serve *sv, int64_t conv)
{
	return (size_t)(hash_fnv1a(&conv, sizeof conv) & (sv->nslot - 1));
}

static void
subs_grow(struct serve *sv)
{
	size_t n = sv->nslot * 2;
	struct sub **slot = xcalloc(n, sizeof *slot);
	for (size_t i = 0; i < sv->nslot; i++)
		for (struct sub *s = sv->slot[i], *next; s != NULL; s = next) {
			next = s->next;
			size_t k = (size_t)(hash_fnv1a(&s->conv, sizeof s->conv) & (n - 1));
			s->next = slot[k];
			slot[k] = s;
		}
	free(sv->slot);
	sv->slot = slot;
	sv->nslot = n;
}

static void
sub_link(struct serve *sv, struct sub *s)
{
	size_t k = sub_slot(sv, s->conv);
	s->next = sv->slot[k];
	sv->slot[k] = s;
	sv->nfloor += s->conv == FLOOR;
	if (++sv->nsubs > sv->nslot * 2)
		subs_grow(sv);
}

static void
sub_unlink(struct serve *sv, struct sub *s)
{
	for (struct sub **pp = &sv->slot[sub_slot(sv, s->conv)]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			sv->nsubs--;
			return;
		}
}

/* Calls fn for every stream (fn may not unlink any). */
static void
subs_each(struct serve *sv, void (*fn)(struct sub *))
{
	for (size_t i = 0; i < sv->nslot; i++)
		for (struct sub *s = sv->slot[i]; s != NULL; s = s->next)
			fn(s);
}

/* Has the stream something to send, or its end: resumes it. */
static void
sub_wake(struct sub *s)
{
	if (!s->suspended)
		return;
	s->suspended = 0;
	MHD_resume_connection(s->conn);
	kick(s->sv);
}

/* Appends to the stream; one that lets too much pile up is ended (the client resumes). */
static void
sub_add(struct sub *s, const char *text)
{
	if (s->ending)
		return;
	if (buf_adds(&s->out, text) != 0)
		s->ending = 1;
}

/* "open/ai", "open/waiting", "open/human", or the closed state. */
static char *
state_of(const cJSON *row)
{
	const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(row, "state"));
	const char *handler = cJSON_GetStringValue(cJSON_GetObjectItem(row, "handler"));
	if (state == NULL)
		return xstrdup("unknown");
	if (strcmp(state, "open") == 0)
		return xasprintf("open/%s", handler ? handler : "ai");
	return xstrdup(state);
}

/* What a stream reads when it does not know what changed. */
#define SUB_ALL (STORE_CHANGE_REPLY | STORE_CHANGE_HANDS)

/*
 * Reads what is new for the stream, as its want says: replies (ai and
 * human messages) after its cursor as "message" events, then the
 * conversation's state when it changed; a closed conversation ends the
 * stream. Returns 0, or -1 with *cause (the stream stays and is read
 * again next time).
 */
static int
sub_refresh(struct sub *s, char **cause)
{
	struct serve *sv = s->sv;
	cJSON *msgs = NULL, *row = NULL;
	if (s->ending || s->conv == FLOOR)
		return 0;
	if ((s->want & STORE_CHANGE_REPLY) &&
	    store_messages_after(sv->st, s->conv, s->cursor, &msgs, cause) != 0)
		return -1;
	if ((s->want & STORE_CHANGE_HANDS) &&
	    store_conversation_get(sv->st, s->conv, &row, cause) != 0) {
		cJSON_Delete(msgs);
		return -1;
	}
	int state_read = (s->want & STORE_CHANGE_HANDS) != 0;
	s->want = 0;
	size_t before = s->out.len;
	struct buf b;
	buf_init(&b, 0);
	const cJSON *m;
	cJSON_ArrayForEach(m, msgs)
	{
		int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "id"));
		const char *role = cJSON_GetStringValue(cJSON_GetObjectItem(m, "role"));
		const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(m, "text"));
		const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(m, "at"));
		if (id <= s->cursor)
			continue;
		s->cursor = id;
		if (role == NULL || text == NULL || strcmp(role, "customer") == 0)
			continue;
		buf_reset(&b);
		buf_printf(&b,
		           "id: %lld\nevent: message\ndata: {\"id\":%lld,\"role\":", (long long)id,
		           (long long)id);
		buf_json_str(&b, role);
		buf_adds(&b, ",\"text\":");
		buf_json_str(&b, text);
		buf_adds(&b, ",\"at\":");
		buf_json_str(&b, at ? at : "");
		buf_adds(&b, "}\n\n");
		sub_add(s, b.data);
	}
	char *state = !state_read ? NULL : row ? state_of(row) : xstrdup("gone");
	if (state != NULL && (s->state == NULL || strcmp(state, s->state) != 0)) {
		const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(row, "state"));
		const char *h = cJSON_GetStringValue(cJSON_GetObjectItem(row, "handler"));
		int open = st != NULL && strcmp(st, "open") == 0;
		buf_reset(&b);
		buf_adds(&b, "event: state\ndata: {\"state\":");
		buf_json_str(&b, st ? st : "gone");
		buf_adds(&b, ",\"handler\":");
		if (open)
			buf_json_str(&b, h ? h : "ai");
		else
			buf_adds(&b, "null");
		buf_adds(&b, "}\n\n");
		sub_add(s, b.data);
		free(s->state);
		s->state = state;
		if (!open)
			s->ending = 1;
	} else
		free(state);
	buf_free(&b);
	cJSON_Delete(msgs);
	cJSON_Delete(row);
	if (s->out.len != before || s->ending)
		sub_wake(s);
	return 0;
}

static void
sub_refresh_logged(struct sub *s)
{
	char *cause = NULL;
	if (s->want == 0)
		return;
	if (sub_refresh(s, &cause) != 0) {
		fprintf(stderr, "frontline serve: conversation %lld: %s\n", (long long)s->conv,
		        cause ? cause : "cannot be read");
		free(cause);
	}
}

/*
 * MHD pulls the stream: what is queued for it, then (a floor stream) the
 * floor's log after what it sent, else the end, else nothing until woken.
 */
static ssize_t
sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct sub *s = cls;
	struct serve *sv = s->sv;
	if (s->off < s->out.len) {
		size_t n = s->out.len - s->off;
		if (n > max)
			n = max;
		memcpy(out, s->out.data + s->off, n);
		s->off += n;
		if (s->off == s->out.len) {
			buf_reset(&s->out);
			s->off = 0;
		}
		return (ssize_t)n;
	}
	if (s->conv == FLOOR && !s->ending && s->pos < sv->flog_base + sv->flog.len) {
		size_t n = (size_t)(sv->flog_base + sv->flog.len - s->pos);
		if (n > max)
			n = max;
		memcpy(out, sv->flog.data + (s->pos - sv->flog_base), n);
		s->pos += n;
		return (ssize_t)n;
	}
	if (s->ending || sv->shutting)
		return MHD_CONTENT_READER_END_OF_STREAM;
	s->suspended = 1;
	MHD_suspend_connection(s->conn);
	return 0;
}

/* The stream's response is gone (the connection ended). */
/* A stream of conversation conv (or FLOOR) on conn, its reconnection delay already in it. */
static struct sub *
sub_new(struct serve *sv, struct MHD_Connection *conn, int64_t conv)
{
	struct sub *s = xcalloc(1, sizeof *s);
	s->sv = sv;
	s->conn = conn;
	s->conv = conv;
	buf_init(&s->out, STREAM_MAX);
	char retry[32];
	snprintf(retry, sizeof retry, "retry: %d\n\n", RETRY_MS);
	buf_adds(&s->out, retry);
	return s;
}

/* A stream's memory, once nothing links to it. */
static void
sub_free(struct sub *s)
{
	buf_free(&s->out);
	free(s->state);
	free(s);
}

static void
sse_free(void *cls)
{
	struct sub *s = cls;
	sub_unlink(s->sv, s);
	if (s->conv == FLOOR && --s->sv->nfloor == 0) {
		/* Nobody to send to: the next floor stream starts from what its console reads. */
		free(s->sv->fconv);
		s->sv->fconv = NULL;
		s->sv->nfconv = s->sv->capfconv = 0;
		s->sv->nfdirty = 0;
		s->sv->flog_base += s->sv->flog.len;
		buf_reset(&s->sv->flog);
	}
	sub_free(s);
}

/* Reads everything that may be new: after a poll, or a time without notifications. */
static void
sub_refresh_all(struct sub *s)
{
	s->want = SUB_ALL;
	sub_refresh_logged(s);
}

#define KEEP_ALIVE ": keep-alive\n\n"

static void floor_append(struct serve *, const char *);

static void
heartbeat_one(struct sub *s)
{
	if (s->conv == FLOOR)
		return; /* on_heartbeat's, once for all */
	sub_add(s, KEEP_ALIVE);
	sub_wake(s);
}

static void
on_heartbeat(struct loop *loop, void *arg)
{
	struct serve *sv = arg;
	sv->heartbeat_timer = loop_timer_add(loop, sv->cfg.heartbeat_ms, on_heartbeat, sv);
	subs_each(sv, heartbeat_one);
	if (sv->nfloor > 0)
		floor_append(sv, KEEP_ALIVE);
}

static void listen_store(struct serve *);
static void drain(struct serve *);

/* Without notifications: every stream is read again. */
static void
on_poll(struct loop *loop, void *arg)
{
	struct serve *sv = arg;
	sv->poll_timer = loop_timer_add(loop, sv->cfg.poll_ms, on_poll, sv);
	if (sv->relisten)
		listen_store(sv);
	/* Read only when something was committed elsewhere since the last look. */
	char *cause = NULL;
	if (sv->notify_fd < 0 && sv->nsubs > 0 && store_changed(sv->st, &cause) != 0)
		subs_each(sv, sub_refresh_all);
	free(cause);
}

/* Answers with the stream s (taken: freed when the connection is done with it, or now). */
static enum MHD_Result
sub_respond(struct serve *sv, struct req *rq, struct MHD_Connection *conn, struct sub *s)
{
	struct MHD_Response *r =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, s, sse_free);
	if (r == NULL) {
		sub_free(s);
		return MHD_NO;
	}
	sub_link(sv, s);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	rq->status = MHD_HTTP_OK;
	enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r); /* sse_free runs when the connection is done with it */
	return rc;
}

static enum MHD_Result
events(struct serve *sv, struct req *rq, struct MHD_Connection *conn)
{
	enum MHD_Result rc;
	int64_t after = 0;
	const char *from = NULL;
	size_t len = 0;
	/* with its length: a decoded %00 must not end the value early */
	int header =
	    MHD_lookup_connection_value_n(conn, MHD_HEADER_KIND, "Last-Event-ID",
	                                  strlen("Last-Event-ID"), &from, &len) == MHD_YES &&
	    len > 0;
	if (!header && MHD_lookup_connection_value_n(conn, MHD_GET_ARGUMENT_KIND, "after",
	                                             strlen("after"), &from, &len) != MHD_YES)
		from = NULL;
	if (from != NULL && !(len == 1 && from[0] == '0') && serve_parse_id(from, len, &after) != 0)
		return fail(rq, conn, MHD_HTTP_BAD_REQUEST, NULL,
		            "%s must be a message id (a non-negative integer)",
		            header ? "Last-Event-ID" : "\"after\"");
	if (sv->shutting)
		return fail(rq, conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "the server is stopping");
	cJSON *row = conv_row(sv, rq, conn, &rc);
	if (row == NULL)
		return rc;
	cJSON_Delete(row);

	struct sub *s = sub_new(sv, conn, rq->id);
	s->cursor = after;
	s->want = SUB_ALL;
	char *cause = NULL;
	if (sub_refresh(s, &cause) != 0) {
		sub_free(s);
		return store_failed(sv, rq, conn, "reading a conversation", cause);
	}
	/* A closed conversation with nothing new: 204 tells EventSource not to come back. */
	if (s->ending && after > 0 && strstr(s->out.data, "event: message") == NULL) {
		sub_free(s);
		return answer(rq, conn, MHD_HTTP_NO_CONTENT, NULL, NULL);
	}
	return sub_respond(sv, rq, conn, s);
}

/* ------------------------------------------------------------ the floor's stream */

/* The floor's cursor of a conversation, made (from nothing sent) when new. */
static struct floor_conv *
floor_conv_of(struct serve *sv, int64_t conv)
{
	if (2 * (sv->nfconv + 1) > sv->capfconv) {
		size_t cap = sv->capfconv ? 2 * sv->capfconv : 1024;
		struct floor_conv *t = xcalloc(cap, sizeof *t);
		for (size_t i = 0; i < sv->capfconv; i++)
			if (sv->fconv[i].conv != 0) {
				size_t k =
				    hash_fnv1a(&sv->fconv[i].conv, sizeof(int64_t)) & (cap - 1);
				while (t[k].conv != 0)
					k = (k + 1) & (cap - 1);
				t[k] = sv->fconv[i];
			}
		free(sv->fconv);
		sv->fconv = t;
		sv->capfconv = cap;
	}
	size_t k = hash_fnv1a(&conv, sizeof conv) & (sv->capfconv - 1);
	while (sv->fconv[k].conv != 0 && sv->fconv[k].conv != conv)
		k = (k + 1) & (sv->capfconv - 1);
	if (sv->fconv[k].conv == 0) {
		/* Nothing sent yet: everything it has, and its row (a console may not have it). */
		sv->fconv[k] = (struct floor_conv){.conv = conv,
		                                   .want = STORE_CHANGE_HANDS | STORE_CHANGE_REPLY |
		                                           STORE_CHANGE_EVENT};
		sv->nfconv++;
	}
	return &sv->fconv[k];
}

/*
 * What a notification tells the floor: the kinds newer than what was
 * sent of the conversation, to read once for every floor stream.
 * Returns whether there is something to read.
 */
static int
floor_notified(struct serve *sv, const struct store_change *ch)
{
	if (sv->nfloor == 0)
		return 0;
	struct floor_conv *f = floor_conv_of(sv, ch->conv);
	unsigned want = ch->what & STORE_CHANGE_HANDS;
	if ((ch->what & (STORE_CHANGE_CUSTOMER | STORE_CHANGE_REPLY)) &&
	    (ch->message == 0 || ch->message > f->msg))
		want |= STORE_CHANGE_REPLY;
	if ((ch->what & STORE_CHANGE_EVENT) && (ch->event_last == 0 || ch->event_last > f->event))
		want |= STORE_CHANGE_EVENT;
	f->want |= want;
	return f->want != 0;
}

static void on_floor_frame(struct loop *, void *);

/* The floor's next frame is due (it reads what was notified, and sends what flog has). */
static void
floor_frame_soon(struct serve *sv)
{
	if (sv->frame_timer == 0)
		sv->frame_timer = loop_timer_add(sv->loop, FLOOR_FRAME_MS, on_floor_frame, sv);
}

/* Text (whole events) for every floor stream, sent at the next frame. */
static void
floor_append(struct serve *sv, const char *text)
{
	buf_adds(&sv->flog, text);
	floor_frame_soon(sv);
}

/*
 * Ends a floor stream now, without what it has not sent of flog: its
 * console reads what it missed from the store when it comes back.
 */
static void
floor_end(struct sub *s)
{
	s->ending = 1;
	sub_wake(s);
}

/* Ends every floor stream (what they were sent is no longer all there is). */
static void
floor_end_all(struct serve *sv)
{
	for (struct sub *s = sv->slot[sub_slot(sv, FLOOR)]; s != NULL; s = s->next)
		if (s->conv == FLOOR)
			floor_end(s);
}

/*
 * Sends the frame: wakes the floor streams with something in flog to
 * send, ends those that have fallen STREAM_MAX behind (a console that does
 * not read must not hold the others' memory), and drops what every
 * stream has sent.
 */
static void
floor_flush(struct serve *sv)
{
	uint64_t end = sv->flog_base + sv->flog.len, low = end;
	for (struct sub *s = sv->slot[sub_slot(sv, FLOOR)]; s != NULL; s = s->next) {
		if (s->conv != FLOOR || s->ending)
			continue;
		if (end - s->pos > STREAM_MAX) {
			floor_end(s);
			continue;
		}
		if (s->pos < low)
			low = s->pos;
		if (s->pos < end)
			sub_wake(s);
	}
	size_t sent = (size_t)(low - sv->flog_base);
	memmove(sv->flog.data, sv->flog.data + sent, sv->flog.len - sent);
	sv->flog.len -= sent;
	sv->flog.data[sv->flog.len] = '\0';
	sv->flog_base = low;
}

/*
 * Puts rows (taken; NULL: none read) into the change as name, with the id
 * they follow (name_after), and moves *sent on to the last of them.
 */
static void
floor_rows(cJSON *o, const char *name, cJSON *rows, int64_t *sent)
{
	char after[32];
	if (rows == NULL)
		return;
	snprintf(after, sizeof after, "%s_after", name);
	cJSON_AddNumberToObject(o, after, (double)*sent);
	const cJSON *last = cJSON_GetArrayItem(rows, cJSON_GetArraySize(rows) - 1);
	if (last != NULL)
		*sent = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(last, "id"));
	cJSON_AddItemToObject(o, name, rows);
}

/*
 * Reads what the floor was not sent of a conversation, once, and sends it
 * to every floor stream as one "change" event: its row when who has it
 * (or its state) moved, the messages and the events after what was sent
 * (the panels' payloads left out, as a console reads them), and the ids
 * they follow -- a console that has less reads the store instead.
 */
static void
floor_refresh(struct serve *sv, int64_t conv)
{
	struct floor_conv *f = floor_conv_of(sv, conv);
	unsigned want = f->want;
	cJSON *msgs = NULL, *events = NULL, *row = NULL;
	char *cause = NULL;
	if (want == 0)
		return;
	int64_t after_msg = want & STORE_CHANGE_REPLY ? f->msg : INT64_MAX;
	int64_t after_event = want & STORE_CHANGE_EVENT ? f->event : INT64_MAX;
	if (((after_msg != INT64_MAX || after_event != INT64_MAX) &&
	     store_conversation_since(sv->st, conv, after_msg, after_event, DESK_PANEL_KINDS, &msgs,
	                              &events, &cause) != 0) ||
	    ((want & STORE_CHANGE_HANDS) &&
	     store_conversation_get(sv->st, conv, &row, &cause) != 0)) {
		/* What the floor was sent is no longer all it has: its consoles catch up. */
		fprintf(stderr, "frontline serve: conversation %lld: %s; floor streams ended\n",
		        (long long)conv, cause ? cause : "cannot be read");
		free(cause);
		cJSON_Delete(msgs);
		cJSON_Delete(events);
		floor_end_all(sv);
		return;
	}
	f->want = 0;
	if (row == NULL && cJSON_GetArraySize(msgs) == 0 && cJSON_GetArraySize(events) == 0) {
		/* Already sent (a late notification of what a frame read): nothing to say. */
		cJSON_Delete(msgs);
		cJSON_Delete(events);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "conversation", (double)conv);
	if (row != NULL)
		cJSON_AddItemToObject(o, "row", row);
	floor_rows(o, "messages", msgs, &f->msg);
	floor_rows(o, "events", events, &f->event);
	char *json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *text = xasprintf("event: change\ndata: %s\n\n", json);
	floor_append(sv, text);
	free(text);
	cJSON_free(json);
}

/*
 * A frame: each conversation notified since the last is read once (a
 * burst to it is one change), and every floor stream is sent, in one
 * write, all the frame's changes -- one wakeup of its console per frame,
 * not per change.
 */
static void
on_floor_frame(struct loop *loop, void *arg)
{
	struct serve *sv = arg;
	sv->frame_timer = 0;
	for (size_t k = 0; k < sv->nfdirty && sv->nfloor > 0; k++)
		floor_refresh(sv, sv->fdirty[k]);
	sv->nfdirty = 0;
	floor_flush(sv);
	/* Reading ran queries, which may have brought more notifications. */
	drain(sv);
}

/*
 * GET /v1/floor/events: every change to every conversation, as data, for
 * consoles that hold no connection of their own to watch (frontline
 * console --floor). Nothing is replayed: a console reads what it has
 * missed from the store when it (re)connects, after this stream began.
 */
static enum MHD_Result
floor_events(struct serve *sv, struct req *rq, struct MHD_Connection *conn)
{
	if (sv->shutting)
		return fail(rq, conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "the server is stopping");
	if (sv->notify_fd < 0)
		return fail(rq, conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
		            "the floor's stream needs the store's notifications (PostgreSQL, "
		            "listening)");
	struct sub *s = sub_new(sv, conn, FLOOR);
	s->pos = sv->flog_base + sv->flog.len;
	return sub_respond(sv, rq, conn, s);
}

/* ------------------------------------------------------------ routing */

static const struct api_route routes[] = {
    {"GET", "/v1/health", 1, 0, health},
    {"POST", "/v1/conversations", 0, 1, conv_create},
    {"GET", "/v1/conversations/{id}", 0, 0, conv_get},
    {"POST", "/v1/conversations/{id}/messages", 0, 1, message_post},
    {"GET", "/v1/conversations/{id}/events", 0, 0, events},
    {"POST", "/v1/conversations/{id}/rating", 0, 1, rating_post},
    {"GET", "/v1/floor/events", 0, 0, floor_events},
};

/*
 * Does url match the pattern? *id gets the {id} segment (idlen 0 when the
 * pattern has none).
 */
static int
path_match(const char *pattern, const char *url, const char **id, size_t *idlen)
{
	*id = NULL;
	*idlen = 0;
	while (*pattern != '\0') {
		if (strncmp(pattern, "{id}", 4) == 0) {
			size_t n = strcspn(url, "/");
			if (n == 0)
				return 0;
			*id = url;
			*idlen = n;
			url += n;
			pattern += 4;
			continue;
		}
		if (*pattern++ != *url++)
			return 0;
	}
	return *url == '\0';
}

/* The media type is application/json, with at most a UTF-8 charset. */
static int
json_type(const char *ct)
{
	if (ct == NULL)
		return 0;
	size_t n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	if (n != strlen("application/json") || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	for (const char *p = strchr(ct, ';'); p != NULL; p = strchr(p + 1, ';')) {
		const char *v = p + 1 + strspn(p + 1, " \t");
		if (strncasecmp(v, "charset=", 8) == 0) {
			v += 8;
			if (*v == '"')
				v++;
			if (strncasecmp(v, "utf-8", 5) != 0 ||
			    (v[5] != '\0' && strchr("\"; \t", v[5]) == NULL))
				return 0;
		}
	}
	return 1;
}

/* The bearer token matches one of ours (every one compared, in constant time). */
static int
token_ok(const struct serve *sv, const char *token)
{
	char h[65];
	int ok = 0;
	sha256_hex(token, strlen(token), h);
	for (size_t i = 0; i < sv->ntokens; i++)
		ok |= serve_ct_equal(h, sv->tokens[i], 64);
	return ok;
}

/* The address as digits ("unknown" when it cannot be written). */
static void
sockaddr_name(const struct sockaddr *sa, socklen_t len, char out[CLIENT_ADDR_MAX])
{
	if (sa == NULL || getnameinfo(sa, len, out, CLIENT_ADDR_MAX, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(out, CLIENT_ADDR_MAX, "unknown");
}

static void
client_addr(struct MHD_Connection *conn, char out[CLIENT_ADDR_MAX])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	sockaddr_name(sa,
	              sa && sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                              : sizeof(struct sockaddr_in),
	              out);
}

/* The first call for a request: everything that needs only its headers. */
static enum MHD_Result
request_begin(struct serve *sv, struct req *rq, struct MHD_Connection *conn, const char *method)
{
	const char *url = rq->path;
	const char *id = NULL;
	size_t idlen = 0;
	const struct api_route *path = NULL;
	struct buf allow;

	for (size_t i = 0; i < nitems(routes); i++)
		if (routes[i].open && path_match(routes[i].path, url, &id, &idlen)) {
			if (strcmp(method, routes[i].method) != 0) {
				const char *const hdr[] = {MHD_HTTP_HEADER_ALLOW, routes[i].method,
				                           NULL};
				return fail(rq, conn, MHD_HTTP_METHOD_NOT_ALLOWED, hdr,
				            "%s is not allowed on %s", method, routes[i].path);
			}
			rq->route = &routes[i];
			return MHD_YES; /* answered once the request is complete: keep-alive */
		}

	long wait = clients_take(sv->clients, rq->client, loop_now(sv->loop));
	if (wait > 0) {
		char secs[32];
		snprintf(secs, sizeof secs, "%ld", (wait + 999) / 1000);
		const char *const hdr[] = {MHD_HTTP_HEADER_RETRY_AFTER, secs, NULL};
		return fail(rq, conn, MHD_HTTP_TOO_MANY_REQUESTS, hdr,
		            "too many requests: at most %g a second (bursts of %g); retry in %s s",
		            sv->cfg.rate, sv->cfg.burst, secs);
	}

	static const char *const challenge[] = {MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	                                        "Bearer realm=\"frontline\"", NULL};
	static const char *const invalid[] = {MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	                                      "Bearer realm=\"frontline\", error=\"invalid_token\"",
	                                      NULL};
	const char *auth =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth == NULL)
		return fail(rq, conn, MHD_HTTP_UNAUTHORIZED, challenge,
		            "missing token: send Authorization: Bearer TOKEN");
	if (strncasecmp(auth, "Bearer ", 7) != 0)
		return fail(rq, conn, MHD_HTTP_UNAUTHORIZED, challenge,
		            "the Authorization header must be Bearer TOKEN");
	const char *tok = auth + 7 + strspn(auth + 7, " ");
	size_t toklen = strlen(tok);
	while (toklen > 0 && (tok[toklen - 1] == ' ' || tok[toklen - 1] == '\t'))
		toklen--;
	char *t = xstrndup(tok, toklen);
	int ok = token_ok(sv, t);
	explicit_bzero(t, toklen);
	free(t);
	if (!ok)
		return fail(rq, conn, MHD_HTTP_UNAUTHORIZED, invalid, "invalid token");

	buf_init(&allow, 0);
	for (size_t i = 0; i < nitems(routes); i++) {
		const char *rid;
		size_t rlen;
		if (routes[i].open || !path_match(routes[i].path, url, &rid, &rlen))
			continue;
		path = &routes[i];
		if (strcmp(method, routes[i].method) == 0) {
			rq->route = &routes[i];
			id = rid;
			idlen = rlen;
			break;
		}
		if (allow.len > 0)
			buf_adds(&allow, ", ");
		buf_adds(&allow, routes[i].method);
	}
	if (rq->route == NULL) {
		enum MHD_Result rc;
		if (path == NULL)
			rc = fail(rq, conn, MHD_HTTP_NOT_FOUND, NULL, "no such resource: %.200s",
			          url);
		else {
			const char *const hdr[] = {MHD_HTTP_HEADER_ALLOW, allow.data, NULL};
			rc = fail(rq, conn, MHD_HTTP_METHOD_NOT_ALLOWED, hdr,
			          "%s is not allowed on %s (allowed: %s)", method, path->path,
			          allow.data);
		}
		buf_free(&allow);
		return rc;
	}
	buf_free(&allow);
	if (id != NULL && serve_parse_id(id, idlen, &rq->id) != 0)
		return fail(rq, conn, MHD_HTTP_BAD_REQUEST, NULL,
		            "a conversation id is a positive integer, not '%.*s'",
		            idlen > 40 ? 40 : (int)idlen, id);

	if (!rq->route->body)
		return MHD_YES;
	const char *ct =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!json_type(ct))
		return fail(rq, conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, NULL,
		            "the body must be application/json (UTF-8)");
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && strtoull(cl, NULL, 10) > sv->cfg.max_body)
		return fail(rq, conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
		            "the body is larger than %zu bytes", sv->cfg.max_body);
	buf_init(&rq->body, sv->cfg.max_body);
	return MHD_YES; /* the body follows */
}

/*
 * A chunked body grew past max_body. MHD takes no answer while a body is
 * coming in, and reading the rest only to refuse it is what a client
 * sending gigabytes wants: the 413 is written on the socket as it is, and
 * MHD_NO makes MHD close the connection without reading further.
 */
static enum MHD_Result
too_large(struct serve *sv, struct req *rq, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct buf body, b;
	buf_init(&body, 0);
	buf_init(&b, 0);
	char *msg = xasprintf("the body is larger than %zu bytes", sv->cfg.max_body);
	buf_adds(&body, "{\"error\":");
	buf_json_str(&body, msg);
	buf_adds(&body, "}");
	buf_printf(&b,
	           "HTTP/1.1 413 Content Too Large\r\nConnection: close\r\n"
	           "Content-Type: application/json\r\nCache-Control: no-store\r\n"
	           "Content-Length: %zu\r\n\r\n%s",
	           body.len, body.data);
	/* nothing was sent on it yet: the socket's buffer takes this whole */
	if (ci != NULL) {
		if (send(ci->connect_fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* the client is gone: MHD closes it all the same */
		}
		shutdown(ci->connect_fd, SHUT_WR);
	}
	rq->status = MHD_HTTP_CONTENT_TOO_LARGE;
	conn_phase(conn_of(conn), PHASE_ANSWER);
	free(msg);
	buf_free(&body);
	buf_free(&b);
	return MHD_NO;
}

/* A request line arrived: the request's state, with its path as sent (MHD decodes its copy). */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct serve *sv = cls;
	struct req *rq = xcalloc(1, sizeof *rq);
	rq->t0 = loop_now(sv->loop);
	rq->path = xstrndup(uri, strcspn(uri, "?"));
	snprintf(rq->method, sizeof rq->method, "-"); /* until the headers: MHD may answer first */
	client_addr(conn, rq->client);
	struct conn *c = conn_of(conn);
	if (c != NULL)
		c->requested = 1;
	return rq;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct serve *sv = cls;
	struct req *rq = *con_cls;
	if (rq == NULL) /* cannot be: on_uri made it */
		return MHD_NO;
	if (!rq->begun) {
		rq->begun = 1;
		snprintf(rq->method, sizeof rq->method, "%s", method);
		conn_phase(conn_of(conn), PHASE_BODY);
		return request_begin(sv, rq, conn, method);
	}
	if (*upload_data_size > 0) {
		/* a body on a route that takes none is read (to the same limit) and dropped */
		rq->received += *upload_data_size;
		if (rq->received > sv->cfg.max_body)
			return too_large(sv, rq, conn);
		if (rq->route->body)
			buf_add(&rq->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	conn_phase(conn_of(conn), PHASE_ANSWER);
	return rq->route->fn(sv, rq, conn);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct serve *sv = cls;
	struct req *rq = *con_cls;
	struct conn *c = conn_of(conn);
	if (rq == NULL)
		return;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS);
	unsigned status = ci && ci->http_status ? ci->http_status : (unsigned)rq->status;
	if (status == 0) {
		/* never answered: counted for the address's report, not a line each */
		if (c != NULL && !c->cut && toe != MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
			cut_count(sv, c->client, CUT_GONE);
	} else if (sv->cfg.log != NULL) {
		char *safe = text_sanitize(rq->path, strnlen(rq->path, 256));
		fprintf(sv->cfg.log, "%s %s %s %u %lld ms%s\n", rq->client, rq->method, safe,
		        status, (long long)(loop_now(sv->loop) - rq->t0),
		        toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (cut short)");
		fflush(sv->cfg.log);
		free(safe);
	}
	free(rq->path);
	buf_free(&rq->body);
	free(rq);
	*con_cls = NULL;
	if (c != NULL) { /* the next request on it, if it stays open */
		c->requested = 0;
		c->served++;
		conn_phase(c, PHASE_WAIT);
	}
}

/* The client address's entry for a new connection: refused when it has max_per_address open. */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct serve *sv = cls;
	char name[CLIENT_ADDR_MAX];
	sockaddr_name(addr, len, name);
	struct client *c = client_get(sv->clients, name, loop_now(sv->loop));
	if (c->conns < sv->cfg.max_per_address)
		return MHD_YES;
	cut_count(sv, c, CUT_LIMIT);
	return MHD_NO;
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode what)
{
	struct serve *sv = cls;
	struct conn *c = *socket_context;
	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		char name[CLIENT_ADDR_MAX];
		client_addr(conn, name);
		c = xcalloc(1, sizeof *c);
		c->sv = sv;
		c->mc = conn;
		c->client = client_get(sv->clients, name, loop_now(sv->loop));
		c->client->conns++;
		*socket_context = c;
		conn_phase(c, PHASE_WAIT);
	} else if (c != NULL) {
		loop_timer_del(sv->loop, c->timer);
		c->client->conns--;
		/*
		 * At the connection limit MHD stops watching the listening socket,
		 * and watches it again only at the start of its next run: without
		 * one, clients waiting to be accepted would wait for an unrelated
		 * event.
		 */
		kick(sv);
		free(c);
		*socket_context = NULL;
	}
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct serve *sv = cls;
	char *msg = xvasprintf(fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (sv->d == NULL) { /* starting: the cause serve_new returns */
		free(sv->start_error);
		sv->start_error = msg;
		return;
	}
	/*
	 * Only the verbose log has them (a client that went away is normal for
	 * streams), and each text once per report interval: most are about one
	 * connection, and there can be thousands.
	 */
	if (sv->cfg.log == NULL) {
		free(msg);
		return;
	}
	struct mhd_note *slot = NULL, *oldest = NULL; /* or a free one */
	for (size_t i = 0; i < MHD_NOTES && slot == NULL; i++) {
		struct mhd_note *t = &sv->notes[i];
		if (t->text != NULL && strcmp(t->text, msg) == 0)
			slot = t;
		else if (oldest == NULL ||
		         (oldest->text != NULL && (t->text == NULL || t->at < oldest->at)))
			oldest = t;
	}
	if (slot != NULL) {
		slot->again++;
		free(msg);
		return;
	}
	if (oldest->text != NULL) { /* all taken: the oldest goes, said */
		if (oldest->again > 0)
			fprintf(sv->cfg.log, "frontline serve: %s (%u more)\n", oldest->text,
			        oldest->again);
		free(oldest->text);
	}
	*oldest = (struct mhd_note){.text = msg, .at = loop_now(sv->loop)};
	fprintf(sv->cfg.log, "frontline serve: %s\n", msg);
	fflush(sv->cfg.log);
}

/* ------------------------------------------------------------ MHD on the loop */

static void pump(struct serve *);

static void
on_mhd_timer(struct loop *loop, void *arg)
{
	struct serve *sv = arg;
	sv->mhd_timer = 0;
	pump(sv);
}

static void
on_mhd_io(struct loop *loop, int fd, int ready, void *arg)
{
	pump(arg);
}

/* MHD runs now: what is ready is handled, and the next run is set for when it asks. */
static void
pump(struct serve *sv)
{
	MHD_UNSIGNED_LONG_LONG ms;
	sv->kicked = 0;
	MHD_run(sv->d);
	drain(sv);
	loop_timer_del(sv->loop, sv->mhd_timer);
	sv->mhd_timer = 0;
	if (sv->kicked) /* a stream was resumed while it ran */
		sv->mhd_timer = loop_timer_add(sv->loop, 0, on_mhd_timer, sv);
	else if (MHD_get_timeout(sv->d, &ms) == MHD_YES)
		sv->mhd_timer =
		    loop_timer_add(sv->loop, ms > 60000 ? 60000 : (long)ms, on_mhd_timer, sv);
	sv->kicked = 0;
}

/* A resumed connection is handled on the next turn (external mode needs an MHD_run). */
static void
kick(struct serve *sv)
{
	if (sv->kicked)
		return;
	sv->kicked = 1;
	loop_timer_del(sv->loop, sv->mhd_timer);
	sv->mhd_timer = loop_timer_add(sv->loop, 0, on_mhd_timer, sv);
}

static long
tick_ms(const struct serve *sv)
{
	long ms = sv->cfg.report_ms / 4;
	return ms < 10 ? 10 : ms > SWEEP_MS ? SWEEP_MS : ms;
}

/* Reports what is due, and forgets clients with nothing left to know. */
static void
on_tick(struct loop *loop, void *arg)
{
	struct serve *sv = arg;
	int64_t now = loop_now(loop);
	sv->tick_timer = loop_timer_add(loop, tick_ms(sv), on_tick, sv);
	reports_due(sv, now, 0);
	clients_sweep(sv->clients, now);
}

/* ------------------------------------------------------------ notifications */

/* The streams of conversations notified in one drain, to read once each. */
struct notified {
	struct serve *sv;
	int64_t *convs;
	size_t n, cap;
};

static void
id_add(int64_t **v, size_t *n, size_t *cap, int64_t id)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == id)
			return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xreallocarray(*v, *cap, sizeof **v);
	}
	(*v)[(*n)++] = id;
}

/*
 * A change the streams may show: a reply newer than a stream's cursor, or
 * a change of state. Customers' own messages and the events are not
 * theirs to show: nothing is read for them.
 */
static void
on_notification(void *arg, const struct store_change *ch)
{
	struct notified *nd = arg;
	struct serve *sv = nd->sv;
	int hit = 0;
	if (strcmp(ch->channel, STORE_CHANNEL_CONV) != 0 || ch->conv <= 0)
		return;
	if (floor_notified(sv, ch)) {
		id_add(&sv->fdirty, &sv->nfdirty, &sv->capfdirty, ch->conv);
		floor_frame_soon(sv);
	}
	for (struct sub *s = sv->slot[sub_slot(sv, ch->conv)]; s != NULL; s = s->next) {
		if (s->conv != ch->conv)
			continue;
		unsigned want = ch->what & STORE_CHANGE_HANDS;
		if ((ch->what & STORE_CHANGE_REPLY) &&
		    (ch->message == 0 || ch->message > s->cursor))
			want |= STORE_CHANGE_REPLY;
		s->want |= want;
		hit |= want != 0;
	}
	if (hit)
		id_add(&nd->convs, &nd->n, &nd->cap, ch->conv);
}

/*
 * Hands what the store was notified of to the streams: every notification
 * that has arrived first, then each stream they name reads once (a burst
 * to one conversation is one read). The store keeps notifications that
 * arrive while its connection runs our own queries (the fd need not turn
 * readable for them), so this also runs after MHD_run, whose requests
 * used the store.
 */
static void
drain(struct serve *sv)
{
	char *cause = NULL;
	struct notified nd = {sv, NULL, 0, 0};
	int n = 1;
	for (int i = 0; i < 16 && n > 0 && sv->notify_fd >= 0; i++) {
		n = store_notifications(sv->st, on_notification, &nd, &cause);
		for (size_t k = 0; k < nd.n; k++)
			for (struct sub *s = sv->slot[sub_slot(sv, nd.convs[k])]; s != NULL;
			     s = s->next)
				if (s->conv == nd.convs[k])
					sub_refresh_logged(s);
		nd.n = 0;
	}
	free(nd.convs);
	if (n >= 0)
		return;
	/* Lost: every stream is read on the poll timer until listening works again. */
	fprintf(stderr, "frontline serve: store notifications lost (%s); polling until back\n",
	        cause ? cause : "connection lost");
	free(cause);
	loop_watch(sv->loop, sv->notify_fd, 0, NULL, NULL);
	sv->notify_fd = -1;
	sv->relisten = 1;
	/* The floor's consoles read what they missed when they come back. */
	floor_end_all(sv);
}

static void
on_notify_io(struct loop *loop, int fd, int ready, void *arg)
{
	drain(arg);
}

/* LISTENs for conversation changes where the store has notifications. */
static void
listen_store(struct serve *sv)
{
	char *cause = NULL;
	if (store_listen(sv->st, STORE_CHANNEL_CONV, &cause) != 0) {
		fprintf(stderr,
		        "frontline serve: cannot listen to the store (polling meanwhile): %s\n",
		        cause ? cause : "?");
		free(cause);
		sv->relisten = strcmp(store_backend(sv->st), "sqlite") != 0;
		return;
	}
	sv->relisten = 0;
	sv->notify_fd = store_notify_fd(sv->st);
	if (sv->notify_fd >= 0) {
		loop_watch(sv->loop, sv->notify_fd, LOOP_READ, on_notify_io, sv);
		/* What changed while we were not listening. */
		subs_each(sv, sub_refresh_all);
	}
}

/* ------------------------------------------------------------ starting and stopping */

/* Parses HOST:PORT or [V6]:PORT into an address. Returns 0, or -1 with *cause. */
static int
parse_listen(const char *spec, struct sockaddr_storage *ss, int *v6, char **cause)
{
	const char *colon = strrchr(spec, ':');
	char *host;
	if (colon == NULL) {
		*cause = xasprintf("'%s' is not HOST:PORT", spec);
		return -1;
	}
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (close == NULL || close + 1 != colon) {
			*cause = xasprintf("'%s' is not [ADDRESS]:PORT", spec);
			return -1;
		}
		host = xstrndup(spec + 1, (size_t)(close - spec - 1));
	} else
		host = xstrndup(spec, (size_t)(colon - spec));
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535) {
		*cause = xasprintf("'%s': the port must be 0 to 65535", spec);
		free(host);
		return -1;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
	int rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai);
	if (rc != 0) {
		*cause = xasprintf("'%s': %s", host, gai_strerror(rc));
		free(host);
		return -1;
	}
	memset(ss, 0, sizeof *ss);
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	free(host);
	return 0;
}

struct serve *
serve_new(struct loop *loop, struct store *st, const struct serve_config *cfg, char **cause)
{
	struct sockaddr_storage ss;
	int v6 = 0;
	if (cfg->tokens == NULL || cfg->tokens->n == 0) {
		*cause = xstrdup("no bearer token: set FRONTLINE_SERVE_TOKEN or use --token-file");
		return NULL;
	}
	for (size_t i = 0; i < cfg->tokens->n; i++)
		if (strlen(cfg->tokens->v[i]) < SERVE_TOKEN_MIN) {
			*cause = xasprintf("a bearer token must be at least %d characters",
			                   SERVE_TOKEN_MIN);
			return NULL;
		}
	if (parse_listen(cfg->listen, &ss, &v6, cause) != 0)
		return NULL;

	struct serve *sv = xcalloc(1, sizeof *sv);
	sv->loop = loop;
	sv->st = st;
	sv->cfg = *cfg;
	sv->cfg.tokens = NULL;
	sv->notify_fd = -1;
	sv->ntokens = cfg->tokens->n;
	sv->tokens = xcalloc(sv->ntokens, sizeof *sv->tokens);
	for (size_t i = 0; i < sv->ntokens; i++)
		sha256_hex(cfg->tokens->v[i], strlen(cfg->tokens->v[i]), sv->tokens[i]);
	sv->clients = clients_new(cfg->rate, cfg->burst);
	sv->clients->report_ms = cfg->report_ms;
	sv->nslot = 256;
	sv->slot = xcalloc(sv->nslot, sizeof *sv->slot);
	buf_init(&sv->flog, 0);

	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	/*
	 * The per-address limit is on_accept's rather than MHD's
	 * PER_IP_CONNECTION_LIMIT, which logs a line for every connection it
	 * refuses; the logger comes first so that MHD's own option checks use it.
	 */
	sv->d = MHD_start_daemon(
	    flags, 0, on_accept, sv, on_request, sv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, sv,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_URI_LOG_CALLBACK, on_uri, sv,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, sv, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, sv, MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
	if (sv->d == NULL) {
		*cause = xasprintf("cannot listen on %s: %s", cfg->listen,
		                   sv->start_error ? sv->start_error : strerror(errno));
		serve_free(sv);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(sv->d, MHD_DAEMON_INFO_EPOLL_FD);
	const union MHD_DaemonInfo *pi = MHD_get_daemon_info(sv->d, MHD_DAEMON_INFO_BIND_PORT);
	if (di == NULL || pi == NULL) {
		*cause = xstrdup("libmicrohttpd has no epoll here");
		serve_free(sv);
		return NULL;
	}
	sv->epoll_fd = di->epoll_fd;
	sv->port = pi->port;
	loop_watch(loop, sv->epoll_fd, LOOP_READ, on_mhd_io, sv);
	sv->heartbeat_timer = loop_timer_add(loop, cfg->heartbeat_ms, on_heartbeat, sv);
	sv->poll_timer = loop_timer_add(loop, cfg->poll_ms, on_poll, sv);
	sv->tick_timer = loop_timer_add(loop, tick_ms(sv), on_tick, sv);
	listen_store(sv);
	pump(sv);
	return sv;
}

int
serve_add_connection(struct serve *sv, int fd)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (MHD_add_connection(sv->d, fd, (const struct sockaddr *)&sin, sizeof sin) != MHD_YES)
		return -1;
	kick(sv);
	return 0;
}

int
serve_port(const struct serve *sv)
{
	return sv->port;
}

size_t
serve_streams(const struct serve *sv)
{
	return sv->nsubs;
}

static void
end_one(struct sub *s)
{
	s->ending = 1;
	sub_wake(s);
}

void
serve_shutdown(struct serve *sv)
{
	if (sv->shutting)
		return;
	sv->shutting = 1;
	MHD_socket ls = MHD_quiesce_daemon(sv->d);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	subs_each(sv, end_one);
}

void
serve_free(struct serve *sv)
{
	if (sv == NULL)
		return;
	if (sv->d != NULL) {
		/* MHD must not be stopped with suspended connections. */
		sv->shutting = 1;
		subs_each(sv, end_one);
		MHD_run(sv->d);
		loop_watch(sv->loop, sv->epoll_fd, 0, NULL, NULL);
		MHD_stop_daemon(sv->d);
	}
	if (sv->notify_fd >= 0)
		loop_watch(sv->loop, sv->notify_fd, 0, NULL, NULL);
	loop_timer_del(sv->loop, sv->mhd_timer);
	loop_timer_del(sv->loop, sv->heartbeat_timer);
	loop_timer_del(sv->loop, sv->poll_timer);
	loop_timer_del(sv->loop, sv->tick_timer);
	loop_timer_del(sv->loop, sv->frame_timer);
	if (sv->clients != NULL)
		reports_due(sv, loop_now(sv->loop), 1);
	for (size_t i = 0; i < sv->nslot; i++) /* none are left once MHD stopped */
		for (struct sub *s = sv->slot[i], *next; s != NULL; s = next) {
			next = s->next;
			sub_free(s);
		}
	free(sv->slot);
	free(sv->fconv);
	free(sv->fdirty);
	buf_free(&sv->flog);
	clients_free(sv->clients);
	explicit_bzero(sv->tokens, sv->ntokens * sizeof *sv->tokens);
	free(sv->tokens);
	free(sv->start_error);
	free(sv);
}
