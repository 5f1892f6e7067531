/* check_serve.c -- frontline serve's HTTP API on a real loop, loopback sockets and a SQLite store.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "loop.h"
#include "serve.h"
#include "store.h"
#include "testutil.h"

#define TOKEN "test-token-0123456789abcdef"
/* Turns of the loop a test waits for something, at most (10 ms each at most). */
#define TURNS 2000

struct fx {
	char *dir;
	struct store *st;
	struct loop *loop;
	struct serve *sv;
	struct strv tokens;
};

/* The tests' configuration: no rate limit to speak of, 32 KiB bodies. */
static struct serve_config
fx_config(void)
{
	struct serve_config cfg;
	serve_config_defaults(&cfg);
	cfg.listen = "127.0.0.1:0";
	cfg.rate = 10000;
	cfg.burst = 10000;
	cfg.poll_ms = 20;
	cfg.max_body = 32 * 1024;
	return cfg;
}

static struct fx *
fx_start(struct serve_config *cfg)
{
	struct fx *f = xcalloc(1, sizeof *f);
	char *cause = NULL;
	f->dir = tmpdir_new();
	char *db = xasprintf("%s/f.db", f->dir);
	f->st = store_open(db, &cause);
	ck_assert_msg(f->st != NULL, "%s", cause);
	free(db);
	f->loop = loop_new();
	strv_add(&f->tokens, TOKEN);
	strv_add(&f->tokens, "second-token-abcdefghijkl");
	cfg->tokens = &f->tokens;
	f->sv = serve_new(f->loop, f->st, cfg, &cause);
	ck_assert_msg(f->sv != NULL, "%s", cause);
	return f;
}

static struct fx *
fx_new_with(double rate, double burst, long heartbeat_ms)
{
	struct serve_config cfg = fx_config();
	cfg.rate = rate;
	cfg.burst = burst;
	cfg.heartbeat_ms = heartbeat_ms;
	return fx_start(&cfg);
}

static struct fx *
fx_new(void)
{
	return fx_new_with(10000, 10000, 15000);
}

static void
fx_free(struct fx *f)
{
	serve_free(f->sv);
	loop_free(f->loop);
	store_close(f->st);
	rm_rf(f->dir);
	free(f->dir);
	strv_free(&f->tokens);
	free(f);
}

/* ------------------------------------------------------------ a raw client */

static int
dial(struct fx *f)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(serve_port(f->sv))};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int rc = connect(fd, (struct sockaddr *)&sin, sizeof sin);
	ck_assert(rc == 0 || errno == EINPROGRESS);
	return fd;
}

/* Sends all of raw, turning the loop while the socket is full. */
static void
send_all(struct fx *f, int fd, const char *raw, size_t len)
{
	size_t off = 0;
	for (int i = 0; off < len && i < TURNS * 10; i++) {
		ssize_t n = send(fd, raw + off, len - off, MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN)
			break; /* the server answered early and closed */
		else
			loop_once(f->loop, 10);
	}
}

/* Reads what arrives into b until EOF, or until want (when not NULL) is in it. 0 at EOF. */
static int
read_until(struct fx *f, int fd, struct buf *b, const char *want)
{
	char chunk[16384];
	for (int i = 0; i < TURNS; i++) {
		ssize_t n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
		if (n > 0) {
			buf_add(b, chunk, (size_t)n);
			if (want && strstr(b->data, want))
				return 1;
			continue;
		}
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return 0;
		loop_once(f->loop, 10);
	}
	ck_abort_msg("nothing more arrived; have: %s", b->data ? b->data : "");
	return -1;
}

struct resp {
	int status;
	char *head; /* the status line and headers */
	char *body;
	struct buf raw;
};

static void
resp_free(struct resp *r)
{
	free(r->head);
	free(r->body);
	buf_free(&r->raw);
}

static struct resp
exchange(struct fx *f, const char *raw, size_t len)
{
	struct resp r = {0};
	buf_init(&r.raw, 0);
	int fd = dial(f);
	send_all(f, fd, raw, len);
	read_until(f, fd, &r.raw, NULL);
	close(fd);
	ck_assert_msg(r.raw.len > 12 && strncmp(r.raw.data, "HTTP/1.1 ", 9) == 0, "response: %s",
	              r.raw.data ? r.raw.data : "(nothing)");
	r.status = atoi(r.raw.data + 9);
	const char *sep = strstr(r.raw.data, "\r\n\r\n");
	ck_assert_ptr_nonnull(sep);
	r.head = xstrndup(r.raw.data, (size_t)(sep - r.raw.data) + 2);
	r.body = xstrdup(sep + 4);
	return r;
}

/* A request with Connection: close; token NULL sends none, ctype NULL none. */
static struct resp
req(struct fx *f, const char *method, const char *path, const char *token, const char *ctype,
    const char *body)
{
	struct buf b;
	buf_init(&b, 0);
	buf_printf(&b, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n", method, path);
	if (token)
		buf_printf(&b, "Authorization: Bearer %s\r\n", token);
	if (ctype)
		buf_printf(&b, "Content-Type: %s\r\n", ctype);
	if (body)
		buf_printf(&b, "Content-Length: %zu\r\n", strlen(body));
	buf_adds(&b, "\r\n");
	if (body)
		buf_adds(&b, body);
	struct resp r = exchange(f, b.data, b.len);
	buf_free(&b);
	return r;
}

static struct resp
post(struct fx *f, const char *path, const char *body)
{
	return req(f, "POST", path, TOKEN, "application/json", body);
}

static struct resp
get(struct fx *f, const char *path)
{
	return req(f, "GET", path, TOKEN, NULL, NULL);
}

/* The status is want and the body is {"error": ...} containing text. */
static void
expect_error(struct resp *r, int want, const char *text)
{
	ck_assert_msg(r->status == want, "status %d, not %d: %s", r->status, want, r->body);
	cJSON *o = cJSON_Parse(r->body);
	ck_assert_msg(o != NULL, "not JSON: %s", r->body);
	const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(o, "error"));
	ck_assert_msg(e != NULL && strstr(e, text) != NULL, "error '%s' does not say '%s'",
	              e ? e : "(none)", text);
	ck_assert(strcasestr(r->head, "Content-Type: application/json") != NULL);
	cJSON_Delete(o);
	resp_free(r);
}

/* A new conversation for customer id; returns its id. */
static int64_t
new_conv(struct fx *f, const char *id)
{
	char *body = xasprintf("{\"customer\":{\"id\":\"%s\",\"name\":\"Dana\"}}", id);
	struct resp r = post(f, "/v1/conversations", body);
	free(body);
	ck_assert_msg(r.status == 201, "%d %s", r.status, r.body);
	cJSON *o = cJSON_Parse(r.body);
	int64_t conv = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "id"));
	ck_assert_int_gt(conv, 0);
	cJSON_Delete(o);
	resp_free(&r);
	return conv;
}

/* ------------------------------------------------------------ parts */

START_TEST(test_rate_bucket)
{
	struct clients *r = clients_new(2, 3); /* 2 a second, bursts of 3 */
	ck_assert_int_eq(clients_take(r, "a", 1000), 0);
	ck_assert_int_eq(clients_take(r, "a", 1000), 0);
	ck_assert_int_eq(clients_take(r, "a", 1000), 0);
	ck_assert_int_eq(clients_take(r, "a", 1000), 500); /* the next token in 500 ms */
	ck_assert_int_eq(clients_take(r, "b", 1000), 0);   /* per client */
	ck_assert_int_eq(clients_take(r, "a", 1250), 250);
	ck_assert_int_eq(clients_take(r, "a", 1500), 0);
	ck_assert_int_eq(clients_count(r), 2);
	clients_sweep(r, 1400); /* neither is full yet: both stay */
	ck_assert_int_eq(clients_count(r), 2);
	clients_sweep(r, 10000); /* both full again: dropped */
	ck_assert_int_eq(clients_count(r), 0);
	for (int i = 0; i < 2000; i++) { /* the table grows */
		char k[32];
		snprintf(k, sizeof k, "10.0.%d.%d", i / 256, i % 256);
		ck_assert_int_eq(clients_take(r, k, 20000), 0);
	}
	ck_assert_int_eq(clients_count(r), 2000);
	clients_free(r);
}
END_TEST

START_TEST(test_ids_and_compare)
{
	int64_t v;
	ck_assert_int_eq(serve_parse_id("1", 1, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(serve_parse_id("9223372036854775807", 19, &v), 0);
	ck_assert(v == INT64_MAX);
	ck_assert_int_eq(serve_parse_id("9223372036854775808", 19, &v), -1);
	ck_assert_int_eq(serve_parse_id("0", 1, &v), -1);
	ck_assert_int_eq(serve_parse_id("012", 3, &v), -1);
	ck_assert_int_eq(serve_parse_id("12a", 3, &v), -1);
	ck_assert_int_eq(serve_parse_id("-1", 2, &v), -1);
	ck_assert_int_eq(serve_parse_id("", 0, &v), -1);
	ck_assert_int_eq(serve_ct_equal("abcdef", "abcdef", 6), 1);
	ck_assert_int_eq(serve_ct_equal("abcdef", "abcdeg", 6), 0);
	ck_assert_int_eq(serve_ct_equal("xbcdef", "abcdef", 6), 0);
}
END_TEST

START_TEST(test_start_refused)
{
	struct strv none = {0}, weak = {0};
	struct serve_config cfg;
	char *cause = NULL;
	struct loop *loop = loop_new();
	serve_config_defaults(&cfg);
	cfg.listen = "127.0.0.1:0";
	cfg.tokens = &none;
	ck_assert_ptr_null(serve_new(loop, NULL, &cfg, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "FRONTLINE_SERVE_TOKEN"));
	free(cause);
	strv_add(&weak, "short");
	cfg.tokens = &weak;
	ck_assert_ptr_null(serve_new(loop, NULL, &cfg, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "at least 16"));
	free(cause);
	strv_free(&weak);
	strv_add(&weak, TOKEN);
	cfg.listen = "127.0.0.1";
	ck_assert_ptr_null(serve_new(loop, NULL, &cfg, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "HOST:PORT"));
	free(cause);
	cfg.listen = "127.0.0.1:99999";
	ck_assert_ptr_null(serve_new(loop, NULL, &cfg, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "0 to 65535"));
	free(cause);
	strv_free(&weak);
	loop_free(loop);
}
END_TEST

/* ------------------------------------------------------------ auth, routes, limits */

START_TEST(test_auth)
{
	struct fx *f = fx_new();
	struct resp r = req(f, "GET", "/v1/conversations/1", NULL, NULL, NULL);
	ck_assert(strcasestr(r.head, "WWW-Authenticate: Bearer") != NULL);
	expect_error(&r, 401, "missing token");
	r = req(f, "GET", "/v1/conversations/1", "wrong-token-0123456789", NULL, NULL);
	ck_assert(strstr(r.head, "invalid_token") != NULL);
	expect_error(&r, 401, "invalid token");
	/* a prefix of the token, and the token with more after it */
	r = req(f, "GET", "/v1/conversations/1", "test-token-0123456789abcde", NULL, NULL);
	expect_error(&r, 401, "invalid token");
	r = req(f, "GET", "/v1/conversations/1", TOKEN "x", NULL, NULL);
	expect_error(&r, 401, "invalid token");
	static const char basic[] =
	    "GET /v1/conversations/1 HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n";
	r = exchange(f, basic, strlen(basic));
	expect_error(&r, 401, "Bearer TOKEN");
	/* unknown routes need the token too: nothing is learnt without it */
	r = req(f, "GET", "/admin", NULL, NULL, NULL);
	expect_error(&r, 401, "missing token");
	/* the second token works; so does the first with spaces after it */
	r = req(f, "GET", "/v1/conversations/1", "second-token-abcdefghijkl", NULL, NULL);
	expect_error(&r, 404, "no conversation 1");
	r = req(f, "GET", "/v1/conversations/1", TOKEN "  ", NULL, NULL);
	expect_error(&r, 404, "no conversation 1");
	/* the floor's stream wants it; with it, SQLite (no notifications) cannot have one */
	r = req(f, "GET", "/v1/floor/events", NULL, NULL, NULL);
	expect_error(&r, 401, "missing token");
	r = get(f, "/v1/floor/events");
	expect_error(&r, 503, "notifications");
	/* health needs none */
	r = req(f, "GET", "/v1/health", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"status\":\"ok\""));
	resp_free(&r);
	fx_free(f);
}
END_TEST

START_TEST(test_routes)
{
	struct fx *f = fx_new();
	struct resp r = get(f, "/v1/nothing");
	expect_error(&r, 404, "no such resource");
	r = get(f, "/v1/conversations/1/");
	expect_error(&r, 404, "no such resource");
	r = get(f, "/v2/conversations");
	expect_error(&r, 404, "no such resource");
	r = req(f, "DELETE", "/v1/conversations/1", TOKEN, NULL, NULL);
	ck_assert(strstr(r.head, "Allow: GET") != NULL);
	expect_error(&r, 405, "DELETE is not allowed");
	r = get(f, "/v1/conversations");
	ck_assert(strstr(r.head, "Allow: POST") != NULL);
	expect_error(&r, 405, "GET is not allowed");
	r = req(f, "PUT", "/v1/conversations/1/messages", TOKEN, "application/json", "{}");
	expect_error(&r, 405, "allowed: POST");
	r = req(f, "POST", "/v1/health", NULL, "application/json", "{}");
	expect_error(&r, 405, "POST is not allowed");
	r = get(f, "/v1/conversations/abc");
	expect_error(&r, 400, "positive integer, not 'abc'");
	r = get(f, "/v1/conversations/0");
	expect_error(&r, 400, "positive integer");
	r = get(f, "/v1/conversations/-3/events");
	expect_error(&r, 400, "positive integer");
	r = get(f, "/v1/conversations/99999999999999999999");
	expect_error(&r, 400, "positive integer");
	r = get(f, "/v1/conversations/42");
	expect_error(&r, 404, "no conversation 42");
	r = get(f, "/v1/conversations/42/events");
	expect_error(&r, 404, "no conversation 42");
	r = post(f, "/v1/conversations/42/messages", "{\"text\":\"hi\"}");
	expect_error(&r, 404, "no conversation 42");
	r = post(f, "/v1/conversations/42/rating", "{\"score\":5}");
	expect_error(&r, 404, "no conversation 42");
	fx_free(f);
}
END_TEST

START_TEST(test_content_type_and_size)
{
	struct fx *f = fx_new();
	int64_t c = new_conv(f, "C-1");
	char *path = xasprintf("/v1/conversations/%lld/messages", (long long)c);
	struct resp r = req(f, "POST", path, TOKEN, "text/plain", "{\"text\":\"hi\"}");
	expect_error(&r, 415, "application/json");
	r = req(f, "POST", path, TOKEN, NULL, "{\"text\":\"hi\"}");
	expect_error(&r, 415, "application/json");
	r = req(f, "POST", path, TOKEN, "application/json; charset=latin1", "{\"text\":\"hi\"}");
	expect_error(&r, 415, "UTF-8");
	r = req(f, "POST", path, TOKEN, "application/jsonx", "{\"text\":\"hi\"}");
	expect_error(&r, 415, "application/json");
	r = req(f, "POST", path, TOKEN, "Application/JSON; charset=\"UTF-8\"", "{\"text\":\"hi\"}");
	ck_assert_int_eq(r.status, 202);
	resp_free(&r);

	/* a declared length over the limit: refused before the body is read */
	char *head =
	    xasprintf("POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	              "Authorization: Bearer " TOKEN "\r\nContent-Type: application/json\r\n"
	              "Content-Length: 1000000000\r\n\r\n",
	              path);
	r = exchange(f, head, strlen(head));
	expect_error(&r, 413, "larger than 32768 bytes");
	free(head);

	/* a chunked body that grows past it */
	struct buf b;
	buf_init(&b, 0);
	buf_printf(
	    &b,
	    "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " TOKEN
	    "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
	    path);
	buf_printf(&b, "9\r\n{\"text\":\"\r\n");
	for (int i = 0; i < 40; i++) {
		buf_printf(&b, "400\r\n");
		for (int j = 0; j < 0x400; j++)
			buf_addc(&b, 'a');
		buf_adds(&b, "\r\n");
	}
	buf_adds(&b, "2\r\n\"}\r\n0\r\n\r\n");
	r = exchange(f, b.data, b.len);
	expect_error(&r, 413, "larger than 32768 bytes");
	buf_free(&b);

	/* nothing of those was stored */
	cJSON *msgs = NULL;
	char *cause = NULL;
	ck_assert_int_eq(store_messages(f->st, c, &msgs, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(msgs), 1);
	cJSON_Delete(msgs);
	free(path);
	fx_free(f);
}
END_TEST

START_TEST(test_malformed)
{
	struct fx *f = fx_new();
	int64_t c = new_conv(f, "C-1");
	char *path = xasprintf("/v1/conversations/%lld/messages", (long long)c);
	struct resp r = post(f, path, "");
	expect_error(&r, 400, "empty");
	r = post(f, path, "{\"text\":");
	expect_error(&r, 400, "malformed JSON at byte");
	r = post(f, path, "{\"text\":\"hi\"} {}");
	expect_error(&r, 400, "malformed JSON");
	r = post(f, path, "{'text':'hi'}");
	expect_error(&r, 400, "malformed JSON");
	r = post(f, path, "{\"text\":\"caf\xe9\"}");
	expect_error(&r, 400, "UTF-8");
	r = post(f, path, "{\"text\":\"a\\u0000b\"}");
	expect_error(&r, 400, "NUL");
	r = post(f, path, "[\"hi\"]");
	expect_error(&r, 422, "JSON object");
	r = post(f, path, "\"hi\"");
	expect_error(&r, 422, "JSON object");
	r = post(f, path, "{}");
	expect_error(&r, 422, "\"text\" is missing");
	r = post(f, path, "{\"text\":42}");
	expect_error(&r, 422, "\"text\" must be a string");
	r = post(f, path, "{\"text\":\"  \\n \"}");
	expect_error(&r, 422, "\"text\" is empty");
	r = post(f, path, "{\"text\":\"hi\",\"admin\":true}");
	expect_error(&r, 422, "unknown field \"admin\"");
	r = post(f, path, "{\"text\":\"hi\",\"text\":\"again\"}");
	expect_error(&r, 422, "twice");
	struct buf big;
	buf_init(&big, 0);
	buf_adds(&big, "{\"text\":\"");
	for (int i = 0; i < 16385; i++)
		buf_addc(&big, 'x');
	buf_adds(&big, "\"}");
	r = post(f, path, big.data);
	expect_error(&r, 422, "longer than 16384 bytes");
	buf_free(&big);

	/* conversations */
	r = post(f, "/v1/conversations", "{\"customer\":\"C-1\"}");
	expect_error(&r, 422, "\"customer\" must be an object");
	r = post(f, "/v1/conversations", "{\"customer\":{\"id\":\"has space\"}}");
	expect_error(&r, 422, "\"id\" must be");
	r = post(f, "/v1/conversations", "{\"customer\":{\"id\":\"C-2\",\"tier\":\"gold\"}}");
	expect_error(&r, 422, "\"tier\" must be");
	r = post(f, "/v1/conversations", "{\"customer\":{\"id\":\"C-2\",\"email\":\"nobody\"}}");
	expect_error(&r, 422, "\"email\"");
	r = post(f, "/v1/conversations", "{\"customer\":{\"id\":\"C-2\",\"name\":\"a\\u001bb\"}}");
	expect_error(&r, 422, "\"name\"");
	r = post(f, "/v1/conversations", "{\"customer\":{\"id\":\"C-2\",\"vip\":true}}");
	expect_error(&r, 422, "unknown field \"vip\" in \"customer\"");
	r = post(f, "/v1/conversations", "{\"customer\":{\"id\":7}}");
	expect_error(&r, 422, "\"id\" must be a string");

	/* ratings */
	char *rate = xasprintf("/v1/conversations/%lld/rating", (long long)c);
	r = post(f, rate, "{\"score\":6}");
	expect_error(&r, 422, "1 to 5");
	r = post(f, rate, "{\"score\":2.5}");
	expect_error(&r, 422, "1 to 5");
	r = post(f, rate, "{\"score\":\"5\"}");
	expect_error(&r, 422, "1 to 5");
	r = post(f, rate, "{\"comment\":\"nice\"}");
	expect_error(&r, 422, "\"score\" is missing");
	r = post(f, rate, "{\"score\":4,\"comment\":4}");
	expect_error(&r, 422, "\"comment\" must be a string");

	/* events */
	char *ev = xasprintf("/v1/conversations/%lld/events?after=x", (long long)c);
	r = get(f, ev);
	expect_error(&r, 400, "\"after\"");
	free(ev);

	/* none of it reached the store */
	cJSON *msgs = NULL, *events = NULL, *list = NULL;
	char *cause = NULL;
	ck_assert_int_eq(store_messages(f->st, c, &msgs, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(msgs), 0);
	ck_assert_int_eq(store_events(f->st, c, &events, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(events), 0);
	ck_assert_int_eq(store_conversation_list(f->st, NULL, &list, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(list), 1);
	cJSON_Delete(msgs);
	cJSON_Delete(events);
	cJSON_Delete(list);
	free(rate);
	free(path);
	fx_free(f);
}
END_TEST

START_TEST(test_rate_limit)
{
	struct fx *f = fx_new_with(0.5, 3, 15000); /* one every 2 s, bursts of 3 */
	for (int i = 0; i < 3; i++) {
		struct resp r = get(f, "/v1/conversations/9");
		ck_assert_int_eq(r.status, 404);
		resp_free(&r);
	}
	struct resp r = get(f, "/v1/conversations/9");
	ck_assert_msg(strstr(r.head, "Retry-After: 2") != NULL, "%s", r.head);
	expect_error(&r, 429, "too many requests");
	/* a wrong token counts as well: no guessing at full speed */
	r = req(f, "GET", "/v1/conversations/9", "guess-guess-guess-guess", NULL, NULL);
	expect_error(&r, 429, "too many requests");
	/* health is not limited */
	r = req(f, "GET", "/v1/health", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	fx_free(f);
}
END_TEST

/* ------------------------------------------------------------ hostile clients */

/* stderr goes to a file in the fixture's directory until stderr_restore. */
static int
stderr_capture(struct fx *f, char **path)
{
	*path = xasprintf("%s/stderr", f->dir);
	fflush(stderr);
	int saved = dup(2);
	int fd = open(*path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	return saved;
}

static void
stderr_restore(int saved)
{
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
}

/* Lines of the file holding text. */
static int
lines_with(const char *path, const char *text)
{
	char *all = slurp(path);
	int n = 0;
	for (char *line = strtok(all, "\n"); line != NULL; line = strtok(NULL, "\n"))
		n += strstr(line, text) != NULL;
	free(all);
	return n;
}

/* Has the server closed fd (EOF or reset)? What it sent is dropped. */
static int
closed_by_server(int fd)
{
	char chunk[4096];
	for (;;) {
		ssize_t n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
		if (n > 0)
			continue;
		return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
	}
}

/*
 * Clients that send a request line and then one header line every 50 ms,
 * never the blank line: each byte resets MHD's idle timeout.
 */
struct trickle {
	int fd[100];
	int n, open;
	int64_t next;
};

static void
trickle_start(struct fx *f, struct trickle *t, int n)
{
	static const char line[] = "GET /v1/health HTTP/1.1\r\nHost: x\r\n";
	ck_assert_int_le(n, (int)nitems(t->fd));
	t->n = t->open = n;
	t->next = 0;
	for (int i = 0; i < n; i++) {
		t->fd[i] = dial(f);
		send_all(f, t->fd[i], line, strlen(line));
	}
}

/* One turn of the loop, and a header line from every trickler still open when due. */
static void
trickle_turn(struct fx *f, struct trickle *t)
{
	loop_once(f->loop, 10);
	if (loop_now(f->loop) < t->next)
		return;
	t->next = loop_now(f->loop) + 50;
	for (int i = 0; i < t->n; i++) {
		if (t->fd[i] < 0)
			continue;
		if (closed_by_server(t->fd[i])) {
			close(t->fd[i]);
			t->fd[i] = -1;
			t->open--;
		} else
			send(t->fd[i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL);
	}
}

static void
trickle_end(struct trickle *t)
{
	for (int i = 0; i < t->n; i++)
		if (t->fd[i] >= 0)
			close(t->fd[i]);
}

START_TEST(test_trickle_does_not_block)
{
	/* every connection the server takes is a trickler's; health from one more */
	struct serve_config cfg = fx_config();
	cfg.max_connections = 100;
	cfg.max_per_address = 1000; /* the deadline alone, here */
	cfg.header_timeout_ms = 300;
	struct fx *f = fx_start(&cfg);
	char *log;
	int saved = stderr_capture(f, &log);
	struct trickle t;
	trickle_start(f, &t, 100);
	for (int i = 0; i < 5; i++)
		trickle_turn(f, &t);
	static const char health[] =
	    "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	int fd = dial(f);
	send_all(f, fd, health, strlen(health));
	/* MHD's idle timeout (60 s) never comes: the trickling goes on throughout */
	struct buf b;
	buf_init(&b, 0);
	int64_t end = loop_now(f->loop) + 3000;
	while (loop_now(f->loop) < end && strstr(b.data, "\"status\":\"ok\"") == NULL) {
		trickle_turn(f, &t);
		char chunk[4096];
		ssize_t n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
		if (n > 0)
			buf_add(&b, chunk, (size_t)n);
	}
	ck_assert_msg(strncmp(b.data, "HTTP/1.1 200", 12) == 0 &&
	                  strstr(b.data, "\"status\":\"ok\""),
	              "health was not answered while 100 clients trickled: '%s'", b.data);
	while (loop_now(f->loop) < end && t.open > 0)
		trickle_turn(f, &t);
	ck_assert_int_eq(t.open, 0); /* each was closed at its deadline */
	close(fd);
	buf_free(&b);
	trickle_end(&t);
	/* the first was said at once; the rest wait for the report interval */
	ck_assert_int_eq(lines_with(log, "127.0.0.1"), 1);
	ck_assert_int_eq(lines_with(log, "1 did not finish the headers within 0.3 s"), 1);
	free(log);
	fx_free(f); /* which writes the rest */
	stderr_restore(saved);
}
END_TEST

START_TEST(test_cut_offs_reported_per_interval)
{
	struct serve_config cfg = fx_config();
	cfg.header_timeout_ms = 200;
	cfg.report_ms = 600;
	struct fx *f = fx_start(&cfg);
	char *log;
	int saved = stderr_capture(f, &log);
	struct trickle t;
	trickle_start(f, &t, 30);
	int64_t end = loop_now(f->loop) + 3000;
	while (loop_now(f->loop) < end && t.open > 0)
		trickle_turn(f, &t);
	ck_assert_int_eq(t.open, 0);
	/* and three that sent nothing at all */
	int quiet[3];
	for (int i = 0; i < 3; i++)
		quiet[i] = dial(f);
	for (int i = 0; i < 3; i++)
		while (loop_now(f->loop) < end && !closed_by_server(quiet[i]))
			loop_once(f->loop, 10);
	fflush(stderr);
	ck_assert_int_eq(lines_with(log, "127.0.0.1"), 1); /* 33 cut off: one line so far */
	/* the interval over, the rest in one line */
	int64_t next = loop_now(f->loop) + 1000;
	while (loop_now(f->loop) < next)
		loop_once(f->loop, 10);
	fflush(stderr);
	char *text = slurp(log);
	ck_assert_msg(lines_with(log, "127.0.0.1") == 2 &&
	                  lines_with(log, "127.0.0.1: 32 connections cut off in 1 s: 3 sent no "
	                                  "request within 0.2 s, 29 did not finish the headers "
	                                  "within 0.2 s") == 1,
	              "%s", text);
	free(text);
	for (int i = 0; i < 3; i++)
		close(quiet[i]);
	trickle_end(&t);
	stderr_restore(saved);
	free(log);
	fx_free(f);
}
END_TEST

START_TEST(test_verbose_log_says_mhd_messages_once)
{
	char *dir = tmpdir_new();
	char *path = xasprintf("%s/access.log", dir);
	FILE *log = fopen(path, "w+");
	ck_assert_ptr_nonnull(log);
	struct serve_config cfg = fx_config();
	cfg.log = log;
	struct fx *f = fx_start(&cfg);
	/* five clients gone in the middle of their requests: MHD says so for each */
	for (int i = 0; i < 5; i++) {
		int fd = dial(f);
		static const char part[] = "GET /v1/health HTTP/1.1\r\nHost";
		send_all(f, fd, part, strlen(part));
		for (int j = 0; j < 5; j++)
			loop_once(f->loop, 10);
		close(fd);
		for (int j = 0; j < 5; j++)
			loop_once(f->loop, 10);
	}
	fflush(log);
	ck_assert_int_eq(lines_with(path, "with incomplete request"), 1);
	fx_free(f); /* and how often it came again, at the end */
	fclose(log);
	ck_assert_int_eq(lines_with(path, "with incomplete request. (4 more in"), 1);
	rm_rf(dir);
	free(dir);
	free(path);
}
END_TEST

START_TEST(test_per_address_limit)
{
	struct serve_config cfg = fx_config();
	cfg.max_per_address = 3;
	struct fx *f = fx_start(&cfg);
	char *log;
	int saved = stderr_capture(f, &log);
	static const char health[] = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
	int fd[4];
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 3; i++) { /* three kept alive, each answered */
		fd[i] = dial(f);
		send_all(f, fd[i], health, strlen(health));
		buf_reset(&b);
		ck_assert_int_eq(read_until(f, fd[i], &b, "\"updates\""), 1);
	}
	fd[3] = dial(f);
	send_all(f, fd[3], health, strlen(health));
	buf_reset(&b);
	ck_assert_int_eq(read_until(f, fd[3], &b, "\"updates\""), 0);
	ck_assert_msg(b.len == 0, "the fourth was answered: %s", b.data);
	close(fd[3]);
	/* one closes: there is room again */
	close(fd[0]);
	for (int i = 0; i < 20; i++)
		loop_once(f->loop, 10);
	struct resp r = req(f, "GET", "/v1/health", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	close(fd[1]);
	close(fd[2]);
	buf_free(&b);
	stderr_restore(saved);
	ck_assert_int_eq(lines_with(log, "127.0.0.1: 1 connection cut off: 1 refused (3 open from "
	                                 "the address)"),
	                 1);
	free(log);
	fx_free(f);
}
END_TEST

START_TEST(test_body_deadline)
{
	struct serve_config cfg = fx_config();
	cfg.body_timeout_ms = 300;
	struct fx *f = fx_start(&cfg);
	int fd = dial(f);
	static const char head[] =
	    "POST /v1/conversations HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: Bearer " TOKEN "\r\n"
	    "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{";
	send_all(f, fd, head, strlen(head));
	/* a byte every 50 ms: each resets MHD's idle timeout, not the body's deadline */
	int64_t end = loop_now(f->loop) + 3000, next = 0;
	int closed = 0;
	while (loop_now(f->loop) < end && !(closed = closed_by_server(fd))) {
		loop_once(f->loop, 10);
		if (loop_now(f->loop) >= next) {
			send(fd, " ", 1, MSG_NOSIGNAL);
			next = loop_now(f->loop) + 50;
		}
	}
	ck_assert_msg(closed, "a body trickled for 5 s was still being read");
	close(fd);
	cJSON *list = NULL;
	char *cause = NULL;
	ck_assert_int_eq(store_conversation_list(f->st, NULL, &list, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(list), 0);
	cJSON_Delete(list);
	fx_free(f);
}
END_TEST

/*
 * Sends a chunked body of total bytes after head, as long as the server
 * takes it; returns the bytes it took (the socket buffers included).
 */
static size_t
send_chunked(struct fx *f, int fd, const char *head, size_t total)
{
	static char chunk[6 + 0x8000 + 2];
	memcpy(chunk, "8000\r\n", 6);
	memset(chunk + 6, 'a', 0x8000);
	memcpy(chunk + 6 + 0x8000, "\r\n", 2);
	send_all(f, fd, head, strlen(head));
	size_t sent = 0, off = 0;
	for (int i = 0; sent < total && i < TURNS * 10; i++) {
		ssize_t n = send(fd, chunk + off, sizeof chunk - off, MSG_NOSIGNAL);
		if (n > 0) {
			sent += (size_t)n;
			off = (off + (size_t)n) % sizeof chunk;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			loop_once(f->loop, 10);
		else
			break;
	}
	return sent;
}

START_TEST(test_huge_chunked_body_cut_off)
{
	struct fx *f = fx_new();
	int64_t c = new_conv(f, "C-1");
	char *head =
	    xasprintf("POST /v1/conversations/%lld/messages HTTP/1.1\r\nHost: x\r\n"
	              "Authorization: Bearer " TOKEN "\r\n"
	              "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
	              (long long)c);
	size_t total = 64 * 1024 * 1024;
	int fd = dial(f);
	size_t sent = send_chunked(f, fd, head, total);
	/* what the kernel buffers on both sides, at most: nothing near 64 MiB */
	ck_assert_msg(sent < 24 * 1024 * 1024, "the server took %zu bytes of a 32 KiB limit", sent);
	struct buf b;
	buf_init(&b, 0);
	read_until(f, fd, &b, NULL);
	ck_assert_msg(strncmp(b.data, "HTTP/1.1 413", 12) == 0 &&
	                  strstr(b.data, "larger than 32768 bytes") != NULL,
	              "%s", b.data);
	close(fd);
	/* health takes no body and no token: a body there is cut off the same way */
	fd = dial(f);
	sent = send_chunked(
	    f, fd, "GET /v1/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
	    total);
	ck_assert_msg(sent < 24 * 1024 * 1024, "health took %zu bytes of body", sent);
	close(fd);
	cJSON *msgs = NULL;
	char *cause = NULL;
	ck_assert_int_eq(store_messages(f->st, c, &msgs, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(msgs), 0);
	cJSON_Delete(msgs);
	buf_free(&b);
	free(head);
	fx_free(f);
}
END_TEST

START_TEST(test_ids_strict)
{
	struct fx *f = fx_new();
	int64_t c = new_conv(f, "C-1");
	ck_assert_int_eq(c, 1);
	/* each of these once read as conversation 1 or could: the id is what was sent */
	static const char *const bad[] = {
	    "/v1/conversations/1%00abc",     "/v1/conversations/1%00", "/v1/conversations/%31",
	    "/v1/conversations/1%20",        "/v1/conversations/+1",   "/v1/conversations/01",
	    "/v1/conversations/1abc",        "/v1/conversations/1.0",  "/v1/conversations/1%2F",
	    "/v1/conversations/1%00/events",
	};
	for (size_t i = 0; i < nitems(bad); i++) {
		struct resp r = get(f, bad[i]);
		ck_assert_msg(r.status == 400, "%s: %d %s", bad[i], r.status, r.body);
		resp_free(&r);
	}
	struct resp r = get(f, "/v1/conversations/1%00abc");
	expect_error(&r, 400, "not '1%00abc'");
	/* a path that only matches once decoded is no path of ours */
	r = req(f, "GET", "/v1/%68ealth", NULL, NULL, NULL);
	expect_error(&r, 401, "missing token");
	r = get(f, "/v1/%68ealth");
	expect_error(&r, 404, "no such resource");
	/* the same for the stream's starting point */
	r = get(f, "/v1/conversations/1/events?after=1%00x");
	expect_error(&r, 400, "\"after\"");
	r = get(f, "/v1/conversations/1/events?after=-1");
	expect_error(&r, 400, "\"after\"");
	r = get(f, "/v1/conversations/1");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	fx_free(f);
}
END_TEST

/* ------------------------------------------------------------ the happy path */

START_TEST(test_conversation_flow)
{
	struct fx *f = fx_new();
	struct resp r = post(f, "/v1/conversations",
	                     "{\"customer\":{\"id\":\"C-42\",\"name\":\"Dana Reyes\",\"tier\":"
	                     "\"enterprise\",\"email\":\"dana@example.com\"}}");
	ck_assert_int_eq(r.status, 201);
	ck_assert(strstr(r.head, "Location: /v1/conversations/1") != NULL);
	cJSON *o = cJSON_Parse(r.body);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(o, "customer")), "C-42");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(o, "tier")), "enterprise");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(o, "handler")), "ai");
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "owner"));
	cJSON_Delete(o);
	resp_free(&r);
	/* the same customer again: the open conversation, 200 */
	r = post(f, "/v1/conversations", "{\"customer\":{\"id\":\"C-42\"}}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"id\":1,"));
	ck_assert_ptr_nonnull(strstr(r.body, "Dana Reyes")); /* kept */
	resp_free(&r);
	/* no customer: a guest */
	r = post(f, "/v1/conversations", "{}");
	ck_assert_int_eq(r.status, 201);
	ck_assert_ptr_nonnull(strstr(r.body, "\"customer\":\"web-"));
	resp_free(&r);

	r = post(f, "/v1/conversations/1/messages", "{\"text\":\"where is my order A12345?\"}");
	ck_assert_int_eq(r.status, 202);
	ck_assert_ptr_nonnull(strstr(r.body, "\"conversation\":1"));
	resp_free(&r);
	/* acknowledged means stored */
	cJSON *msgs = NULL;
	char *cause = NULL;
	ck_assert_int_eq(store_messages(f->st, 1, &msgs, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(msgs), 1);
	ck_assert_str_eq(
	    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "text")),
	    "where is my order A12345?");
	cJSON_Delete(msgs);
	ck_assert_int_eq(store_message_add(f->st, 1, "ai", "It ships tomorrow.", NULL, &cause), 0);

	r = get(f, "/v1/conversations/1");
	ck_assert_int_eq(r.status, 200);
	o = cJSON_Parse(r.body);
	cJSON *m = cJSON_GetObjectItem(o, "messages");
	ck_assert_int_eq(cJSON_GetArraySize(m), 2);
	ck_assert_str_eq(
	    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 1), "role")), "ai");
	cJSON_Delete(o);
	resp_free(&r);

	r = post(f, "/v1/conversations/1/rating", "{\"score\":4,\"comment\":\"quick\"}");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	cJSON *events = NULL;
	ck_assert_int_eq(store_events(f->st, 1, &events, &cause), 0);
	const cJSON *e = cJSON_GetArrayItem(events, cJSON_GetArraySize(events) - 1);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind")), "csat");
	ck_assert_int_eq((int)cJSON_GetNumberValue(
	                     cJSON_GetObjectItem(cJSON_GetObjectItem(e, "payload"), "score")),
	                 4);
	cJSON_Delete(events);

	/* closed: messages are refused with 409, ratings still taken */
	ck_assert_int_eq(store_conversation_end(f->st, 1, "resolved-agent", NULL, &cause), 0);
	r = post(f, "/v1/conversations/1/messages", "{\"text\":\"one more thing\"}");
	expect_error(&r, 409, "closed (resolved)");
	r = post(f, "/v1/conversations/1/rating", "{\"score\":5}");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	r = get(f, "/v1/conversations/1");
	ck_assert_ptr_nonnull(strstr(r.body, "\"state\":\"resolved\",\"handler\":null"));
	resp_free(&r);
	/* and the customer's next conversation is a new one */
	r = post(f, "/v1/conversations", "{\"customer\":{\"id\":\"C-42\"}}");
	ck_assert_int_eq(r.status, 201);
	ck_assert_ptr_nonnull(strstr(r.body, "\"id\":3,"));
	resp_free(&r);
	fx_free(f);
}
END_TEST

/* Opens an event stream; returns the socket with what arrived up to want in *b. */
static int
stream_open(struct fx *f, int64_t conv, const char *last_id, struct buf *b, const char *want)
{
	int fd = dial(f);
	char *head = xasprintf("GET /v1/conversations/%lld/events HTTP/1.1\r\nHost: x\r\n"
	                       "Authorization: Bearer " TOKEN "\r\nAccept: text/event-stream\r\n"
	                       "%s%s%s\r\n",
	                       (long long)conv, last_id ? "Last-Event-ID: " : "",
	                       last_id ? last_id : "", last_id ? "\r\n" : "");
	send_all(f, fd, head, strlen(head));
	free(head);
	ck_assert_int_eq(read_until(f, fd, b, want), 1);
	return fd;
}

START_TEST(test_events)
{
	struct fx *f = fx_new();
	char *cause = NULL;
	int64_t c = new_conv(f, "C-7");
	int64_t m1, m2, m3;
	ck_assert_int_eq(store_message_add(f->st, c, "customer", "hello", NULL, &cause), 0);
	ck_assert_int_eq(store_message_add(f->st, c, "ai", "Hi! How can I help?", &m1, &cause), 0);

	struct buf a;
	buf_init(&a, 0);
	int fa = stream_open(f, c, NULL, &a,
	                     "event: state\ndata: {\"state\":\"open\",\"handler\":"
	                     "\"ai\"}\n\n");
	ck_assert(strstr(a.data, "200 OK") != NULL);
	ck_assert(strcasestr(a.data, "Content-Type: text/event-stream") != NULL);
	ck_assert(strstr(a.data, "retry: 3000") != NULL);
	char *want =
	    xasprintf("id: %lld\nevent: message\ndata: {\"id\":%lld,\"role\":\"ai\",\"text\":"
	              "\"Hi! How can I help?\"",
	              (long long)m1, (long long)m1);
	ck_assert_msg(strstr(a.data, want) != NULL, "%s", a.data);
	free(want);
	ck_assert(strstr(a.data, "hello") == NULL); /* the customer's own words are not echoed */
	ck_assert_int_eq(serve_streams(f->sv), 1);

	/* a reply stored (by a worker: here, directly) arrives on the open stream */
	ck_assert_int_eq(store_message_add(f->st, c, "ai", "Line one\nline \"two\"", &m2, &cause),
	                 0);
	buf_reset(&a);
	ck_assert_int_eq(read_until(f, fa, &a, "line \\\"two\\\""), 1);
	char *id2 = xasprintf("id: %lld\n", (long long)m2);
	ck_assert(strstr(a.data, id2) != NULL);
	ck_assert_msg(strstr(a.data, "Line one\\u000aline") != NULL, "%s", a.data); /* one line */

	/* resuming after m1 gets m2 again, not m1 */
	struct buf b;
	buf_init(&b, 0);
	char *after = xasprintf("%lld", (long long)m1);
	int fb = stream_open(f, c, after, &b, id2);
	ck_assert(strstr(b.data, "How can I help") == NULL);
	ck_assert_int_eq(serve_streams(f->sv), 2);

	/* a handoff: the state changes on both */
	ck_assert_int_eq(store_conversation_handler(f->st, c, "human", "agent-1", &cause), 0);
	ck_assert_int_eq(store_message_add(f->st, c, "human", "Sam here.", &m3, &cause), 0);
	buf_reset(&a);
	buf_reset(&b);
	ck_assert_int_eq(read_until(f, fa, &a, "\"handler\":\"human\"}"), 1);
	ck_assert_int_eq(read_until(f, fb, &b, "\"handler\":\"human\"}"), 1);
	ck_assert(strstr(a.data, "\"role\":\"human\",\"text\":\"Sam here.\"") != NULL);
	ck_assert(strstr(a.data, "agent-1") == NULL); /* the owner's login is not shown */

	/* closed: the state, then the end of both streams */
	ck_assert_int_eq(store_conversation_end(f->st, c, "resolved-human", NULL, &cause), 0);
	buf_reset(&a);
	ck_assert_int_eq(read_until(f, fa, &a, "0\r\n\r\n"), 1); /* the last chunk */
	ck_assert_msg(strstr(a.data, "data: {\"state\":\"resolved\",\"handler\":null}") != NULL,
	              "%s", a.data);
	buf_reset(&b);
	ck_assert_int_eq(read_until(f, fb, &b, "0\r\n\r\n"), 1);
	close(fa);
	close(fb);
	for (int i = 0; i < TURNS && serve_streams(f->sv) > 0; i++)
		loop_once(f->loop, 10);
	ck_assert_int_eq(serve_streams(f->sv), 0);

	/* coming back after the last message of a closed conversation: 204, don't retry */
	char *last = xasprintf("%lld", (long long)m3);
	char *path = xasprintf("/v1/conversations/%lld/events", (long long)c);
	char *raw = xasprintf("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	                      "Authorization: Bearer " TOKEN "\r\nLast-Event-ID: %s\r\n\r\n",
	                      path, last);
	struct resp r = exchange(f, raw, strlen(raw));
	ck_assert_int_eq(r.status, 204);
	resp_free(&r);
	free(raw);
	raw = xasprintf("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	                "Authorization: Bearer " TOKEN "\r\nLast-Event-ID: nope\r\n\r\n",
	                path);
	r = exchange(f, raw, strlen(raw));
	expect_error(&r, 400, "Last-Event-ID");
	free(raw);
	free(path);
	free(last);
	free(after);
	free(id2);
	buf_free(&a);
	buf_free(&b);
	fx_free(f);
}
END_TEST

START_TEST(test_events_client_gone)
{
	struct fx *f = fx_new_with(10000, 10000, 50); /* heartbeats every 50 ms */
	int64_t c = new_conv(f, "C-8");
	struct buf a;
	buf_init(&a, 0);
	int fd = stream_open(f, c, NULL, &a, "event: state");
	buf_reset(&a);
	ck_assert_int_eq(read_until(f, fd, &a, ": keep-alive\n\n"), 1);
	ck_assert_int_eq(serve_streams(f->sv), 1);
	close(fd); /* gone while its stream is suspended: the next heartbeat finds out */
	for (int i = 0; i < TURNS && serve_streams(f->sv) > 0; i++)
		loop_once(f->loop, 10);
	ck_assert_int_eq(serve_streams(f->sv), 0);
	/* and the server goes on */
	struct resp r = get(f, "/v1/conversations/1");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	buf_free(&a);
	fx_free(f);
}
END_TEST

START_TEST(test_shutdown_ends_streams)
{
	struct fx *f = fx_new();
	int64_t c = new_conv(f, "C-9");
	struct buf a;
	buf_init(&a, 0);
	int fd = stream_open(f, c, NULL, &a, "event: state");
	serve_shutdown(f->sv);
	buf_reset(&a);
	ck_assert_int_eq(read_until(f, fd, &a, "0\r\n\r\n"), 1); /* the last chunk */
	close(fd);
	for (int i = 0; i < TURNS && serve_streams(f->sv) > 0; i++)
		loop_once(f->loop, 10);
	ck_assert_int_eq(serve_streams(f->sv), 0);
	buf_free(&a);
	fx_free(f);
}
END_TEST

START_TEST(test_free_with_open_streams)
{
	/* serve_free with a suspended stream must not leak or crash (MHD forbids stopping then) */
	struct fx *f = fx_new();
	int64_t c = new_conv(f, "C-10");
	struct buf a;
	buf_init(&a, 0);
	int fd = stream_open(f, c, NULL, &a, "event: state");
	ck_assert_int_eq(serve_streams(f->sv), 1);
	fx_free(f);
	close(fd);
	buf_free(&a);
}
END_TEST

static Suite *
serve_suite(void)
{
	Suite *s = suite_create("serve");
	TCase *tc = tcase_create("parts");
	tcase_add_test(tc, test_rate_bucket);
	tcase_add_test(tc, test_ids_and_compare);
	tcase_add_test(tc, test_start_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("bad input");
	tcase_add_test(tc, test_auth);
	tcase_add_test(tc, test_routes);
	tcase_add_test(tc, test_content_type_and_size);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_rate_limit);
	tcase_add_test(tc, test_ids_strict);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile clients");
	tcase_add_test(tc, test_trickle_does_not_block);
	tcase_add_test(tc, test_cut_offs_reported_per_interval);
	tcase_add_test(tc, test_per_address_limit);
	tcase_add_test(tc, test_verbose_log_says_mhd_messages_once);
	tcase_add_test(tc, test_body_deadline);
	tcase_add_test(tc, test_huge_chunked_body_cut_off);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_test(tc, test_conversation_flow);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_events_client_gone);
	tcase_add_test(tc, test_shutdown_ends_streams);
	tcase_add_test(tc, test_free_with_open_streams);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(serve_suite());
}
