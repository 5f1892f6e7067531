/* check_listener.c -- the customer protocol and the console's listener, on a real loop and sockets.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "customer-proto.h"
#include "listener.h"
#include "loop.h"
#include "testutil.h"

/* Turns of the loop a test waits for something, at most (20 ms each at most). */
#define TURNS 1000

/* ------------------------------------------------------------ the console */

struct fx {
	struct loop *loop;
	struct listener *l;
	char *dir, *path;
	int hellos, gones, rates;
	struct customer_hello last_hello; /* strings copied into the fields below */
	char hello_id[80], hello_name[160];
	struct strv said; /* "ID: TEXT" */
	struct strv gone; /* ids */
	struct client *last;
	int reject;
};

static int
fx_hello(void *arg, struct client *c, const struct customer_hello *h, char **cause)
{
	struct fx *f = arg;
	ck_assert_ptr_nonnull(h->customer_id);
	f->last_hello = *h;
	snprintf(f->hello_id, sizeof f->hello_id, "%s", h->customer_id);
	snprintf(f->hello_name, sizeof f->hello_name, "%s", h->name ? h->name : "(none)");
	if (f->reject) {
		*cause = xstrdup("not today");
		return -1;
	}
	f->hellos++;
	f->last = c;
	cJSON *w = cp_new_welcome(f->hellos, h->customer_id);
	client_send(c, w);
	cJSON_Delete(w);
	return 0;
}

static void
fx_say(void *arg, struct client *c, const char *text)
{
	struct fx *f = arg;
	ck_assert_ptr_nonnull(client_customer(c));
	char *s = xasprintf("%s: %s", client_customer(c), text);
	strv_take(&f->said, s);
	if (strcmp(text, "kick") == 0) {
		client_close(c, "kicked");
		client_close(c, "twice"); /* ignored */
		return;
	}
	char *echo = xasprintf("echo: %s", text);
	cJSON *m = cp_new_message(CP_ROLE_AI, NULL, echo, "2026-11-24T10:00:00Z");
	client_send(c, m);
	cJSON_Delete(m);
	free(echo);
}

static void
fx_gone(void *arg, struct client *c)
{
	struct fx *f = arg;
	f->gones++;
	strv_add(&f->gone, client_customer(c));
	if (f->last == c)
		f->last = NULL;
	client_close(c, "from inside gone"); /* ignored */
}

static void
fx_rate(void *arg, struct client *c, int score, const char *comment)
{
	struct fx *f = arg;
	f->rates++;
	strv_take(&f->said, xasprintf("%s rated %d: %s", client_customer(c), score,
	                              comment ? comment : "(none)"));
}

static const struct listener_hooks fx_hooks = {
    .hello = fx_hello,
    .say = fx_say,
    .gone = fx_gone,
    .rate = fx_rate,
};

/* A listener on DIR/console.sock (unix) and/or an ephemeral TCP port (tcp). */
static void
fx_open(struct fx *f, int unix_sock, int tcp)
{
	memset(f, 0, sizeof *f);
	f->loop = loop_new();
	f->dir = tmpdir_new();
	f->path = xasprintf("%s/console.sock", f->dir);
	struct listener_hooks h = fx_hooks;
	h.arg = f;
	char *cause = NULL;
	f->l = listener_open(f->loop, unix_sock ? f->path : NULL, tcp ? -1 : 0, &h, &cause);
	ck_assert_msg(f->l != NULL, "listener_open: %s", cause);
}

static void
fx_close(struct fx *f)
{
	listener_close(f->l);
	loop_free(f->loop);
	rm_rf(f->dir);
	free(f->dir);
	free(f->path);
	strv_free(&f->said);
	strv_free(&f->gone);
}

/* Runs turns until *flag reaches want. */
static void
fx_until(struct fx *f, const int *flag, int want)
{
	for (int i = 0; i < TURNS && *flag < want; i++)
		loop_once(f->loop, 20);
	ck_assert_int_eq(*flag, want);
}

/* ------------------------------------------------------------ a customer */

struct tc {
	int fd;
	struct buf in;
};

static void
tc_init(struct tc *t, int fd)
{
	ck_assert_int_ge(fd, 0);
	t->fd = fd;
	buf_init(&t->in, 0);
}

static void
tc_unix(struct tc *t, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	tc_init(t, fd);
}

static void
tc_tcp(struct tc *t, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	tc_init(t, fd);
}

static void
tc_free(struct tc *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	buf_free(&t->in);
}

/* Sends all of data, turning the loop while the socket is full; -1 when the peer closed. */
static int
tc_send_n(struct fx *f, struct tc *t, const char *data, size_t len)
{
	for (int i = 0; len > 0 && i < 100 * TURNS;) {
		ssize_t n = send(t->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		loop_once(f->loop, 20);
		i++;
	}
	ck_assert_uint_eq(len, 0);
	return 0;
}

static void
tc_send(struct fx *f, struct tc *t, const char *line)
{
	ck_assert_int_eq(tc_send_n(f, t, line, strlen(line)), 0);
	ck_assert_int_eq(tc_send_n(f, t, "\n", 1), 0);
}

/*
 * The next line the console sends (caller frees), turning the loop until it
 * comes; NULL at the end of the connection.
 */
static char *
tc_line(struct fx *f, struct tc *t)
{
	for (int i = 0; i < TURNS; i++) {
		char *nl = memchr(t->in.data, '\n', t->in.len);
		if (nl != NULL) {
			char *line = xstrndup(t->in.data, (size_t)(nl - t->in.data));
			size_t rest = t->in.len - (size_t)(nl + 1 - t->in.data);
			memmove(t->in.data, nl + 1, rest);
			t->in.len = rest;
			t->in.data[rest] = '\0';
			return line;
		}
		char chunk[4096];
		ssize_t n = recv(t->fd, chunk, sizeof chunk, MSG_DONTWAIT);
		if (n > 0) {
			buf_add(&t->in, chunk, (size_t)n);
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return NULL; /* end, or reset */
		loop_once(f->loop, 20);
	}
	ck_abort_msg("no line from the console");
	return NULL;
}

/* The next line must be an object of this type; returns it (caller deletes). */
static cJSON *
tc_expect(struct fx *f, struct tc *t, const char *type)
{
	char *line = tc_line(f, t);
	ck_assert_msg(line != NULL, "the connection ended; wanted a %s", type);
	cJSON *o = cJSON_Parse(line);
	ck_assert_msg(o != NULL, "not JSON: %s", line);
	const char *got = cJSON_GetStringValue(cJSON_GetObjectItem(o, "type"));
	ck_assert_msg(got != NULL && strcmp(got, type) == 0, "wanted a %s, got %s", type, line);
	free(line);
	return o;
}

/* The next line is an error whose message contains want. */
static void
tc_expect_error(struct fx *f, struct tc *t, const char *want)
{
	cJSON *o = tc_expect(f, t, "error");
	const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(o, "message"));
	ck_assert_msg(m != NULL && strstr(m, want) != NULL, "error \"%s\", wanted \"%s\"",
	              m ? m : "(none)", want);
	cJSON_Delete(o);
}

static void
tc_expect_eof(struct fx *f, struct tc *t)
{
	char *line = tc_line(f, t);
	ck_assert_msg(line == NULL, "wanted the end, got %s", line);
}

/* says text and checks the echo. */
static void
tc_say_echo(struct fx *f, struct tc *t, const char *text)
{
	char *say = xasprintf("{\"type\":\"say\",\"text\":\"%s\"}", text);
	tc_send(f, t, say);
	cJSON *o = tc_expect(f, t, "message");
	char *want = xasprintf("echo: %s", text);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(o, "text")), want);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(o, "role")), "ai");
	cJSON_Delete(o);
	free(want);
	free(say);
}

/* hello as id; checks the welcome. */
static void
tc_hello(struct fx *f, struct tc *t, const char *id)
{
	char *hello = xasprintf("{\"type\":\"hello\",\"customer\":\"%s\"}", id);
	tc_send(f, t, hello);
	cJSON *o = tc_expect(f, t, "welcome");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(o, "customer")), id);
	cJSON_Delete(o);
	free(hello);
}

/* ------------------------------------------------------------ protocol */

START_TEST(proto_encode_is_terminal_safe)
{
	struct buf b;
	buf_init(&b, 0);
	cJSON *m = cp_new_message(CP_ROLE_HUMAN, "Sam",
	                          "a\x1b[31mb\x07 c\xc2\x9b d\x7f e\xff f\xe2\x80\xa8g\n\"q\"\\ "
	                          "\xc3\xa9 \xe2\x80\xaer\xe2\x81\xa6s",
	                          "2026-11-24T10:00:00Z");
	ck_assert_int_eq(cp_encode(&b, m), 0);
	ck_assert_str_eq(
	    b.data, "{\"type\":\"message\",\"role\":\"human\",\"name\":\"Sam\",\"text\":"
	            "\"a\\u001b[31mb\\u0007 c\\u009b d\\u007f e\\ufffd f\\u2028g\\n"
	            "\\\"q\\\"\\\\ \xc3\xa9 \\u202er\\u2066s\",\"at\":\"2026-11-24T10:00:00Z\"}\n");
	/* It decodes back, the escapes resolved. */
	struct cp_msg d;
	char *cause = NULL;
	ck_assert_int_eq(cp_decode(b.data, b.len - 1, CP_TO_CUSTOMER, &d, &cause), 0);
	ck_assert_int_eq(d.type, CP_MESSAGE);
	ck_assert_int_eq(d.role, CP_ROLE_HUMAN);
	ck_assert_str_eq(d.name, "Sam");
	ck_assert_ptr_nonnull(strstr(d.text, "\x1b[31m"));
	cp_msg_free(&d);
	cJSON_Delete(m);

	/* Numbers: integers as integers; a full buffer leaves it as it was. */
	buf_reset(&b);
	m = cp_new_welcome(12, "C-1001");
	ck_assert_int_eq(cp_encode(&b, m), 0);
	ck_assert_str_eq(b.data,
	                 "{\"type\":\"welcome\",\"conversation\":12,\"customer\":\"C-1001\"}\n");
	struct buf small;
	buf_init(&small, 20);
	buf_adds(&small, "kept");
	ck_assert_int_eq(cp_encode(&small, m), -1);
	ck_assert_str_eq(small.data, "kept");
	ck_assert_uint_eq(small.len, 4);
	buf_free(&small);
	cJSON_Delete(m);

	/* A message without "at" gets the time now, in UTC. */
	m = cp_new_message(CP_ROLE_AI, NULL, "hi", NULL);
	const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(m, "at"));
	ck_assert_uint_eq(strlen(at), 20);
	ck_assert_int_eq(at[10], 'T');
	ck_assert_int_eq(at[19], 'Z');
	cJSON_Delete(m);
	buf_free(&b);
}
END_TEST

/* Decodes line toward dir: 0 with *m, or -1 and the cause must contain want. */
static void
decode_fails(enum cp_dir dir, const char *line, const char *want)
{
	struct cp_msg m;
	char *cause = NULL;
	ck_assert_msg(cp_decode(line, strlen(line), dir, &m, &cause) == -1, "accepted: %s", line);
	ck_assert_msg(strstr(cause, want) != NULL, "%s: cause \"%s\", wanted \"%s\"", line, cause,
	              want);
	free(cause);
}

START_TEST(proto_decode_validates)
{
	struct cp_msg m;
	char *cause = NULL;
	const char *hello = "{\"type\":\"hello\",\"customer\":\"C-1001\",\"name\":\"Dana Reyes\","
	                    "\"tier\":\"premium\",\"future\":[1,{\"x\":2}]}";
	ck_assert_int_eq(cp_decode(hello, strlen(hello), CP_TO_CONSOLE, &m, &cause), 0);
	ck_assert_int_eq(m.type, CP_HELLO);
	ck_assert_str_eq(m.customer, "C-1001");
	ck_assert_str_eq(m.name, "Dana Reyes");
	ck_assert_int_eq(m.tier, TIER_PREMIUM);
	ck_assert_int_eq(m.tier_given, 1);
	cp_msg_free(&m);

	/* The other direction's types, and unknown ones, are ignored. */
	const char *say = "{\"type\":\"say\",\"text\":\"hi\"}";
	ck_assert_int_eq(cp_decode(say, strlen(say), CP_TO_CUSTOMER, &m, &cause), 0);
	ck_assert_int_eq(m.type, CP_UNKNOWN);
	cp_msg_free(&m);
	const char *later = "{\"type\":\"hologram\",\"text\":7}";
	ck_assert_int_eq(cp_decode(later, strlen(later), CP_TO_CONSOLE, &m, &cause), 0);
	ck_assert_int_eq(m.type, CP_UNKNOWN);
	cp_msg_free(&m);
	/* A hello with nothing but its type: a guest of the standard tier. */
	const char *bare = "{\"type\":\"hello\"}";
	ck_assert_int_eq(cp_decode(bare, strlen(bare), CP_TO_CONSOLE, &m, &cause), 0);
	ck_assert_ptr_null(m.customer);
	ck_assert_ptr_null(m.name);
	ck_assert_int_eq(m.tier, TIER_STANDARD);
	ck_assert_int_eq(m.tier_given, 0);
	cp_msg_free(&m);

	decode_fails(CP_TO_CONSOLE, "{\"type\":\"say\"", "invalid JSON");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"bye\"} {}", "after the object");
	decode_fails(CP_TO_CONSOLE, "[1,2]", "JSON object");
	decode_fails(CP_TO_CONSOLE, "{\"text\":\"hi\"}", "\"type\" is missing");
	decode_fails(CP_TO_CONSOLE, "{\"type\":7}", "\"type\" must be a string");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"hello\",\"tier\":\"gold\"}",
	             "hello: unknown tier \"gold\" (self-serve, standard, premium or enterprise)");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"hello\",\"tier\":3}", "\"tier\" must be a string");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"hello\",\"customer\":\"a b\"}", "\"customer\"");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"hello\",\"customer\":\"\"}", "\"customer\"");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"hello\",\"name\":\"a\\u001b[2Jb\"}", "\"name\"");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"hello\",\"name\":\"\xff\"}", "UTF-8");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"say\"}", "say: \"text\" is missing");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"say\",\"text\":\" \\n\\t\"}", "empty");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"say\",\"text\":[\"hi\"]}", "must be a string");
	decode_fails(CP_TO_CUSTOMER, "{\"type\":\"message\",\"role\":\"bot\",\"text\":\"x\"}",
	             "unknown role \"bot\" (ai or human)");
	decode_fails(CP_TO_CUSTOMER, "{\"type\":\"state\",\"state\":\"gone\"}",
	             "unknown state \"gone\" (ai, waiting, human or resolved)");
	decode_fails(CP_TO_CUSTOMER, "{\"type\":\"welcome\",\"conversation\":1.5}", "integer");
	decode_fails(CP_TO_CUSTOMER, "{\"type\":\"welcome\",\"conversation\":-1}", "integer");
	decode_fails(CP_TO_CUSTOMER, "{\"type\":\"typing\"}", "\"who\" is missing");
	decode_fails(CP_TO_CUSTOMER, "{\"type\":\"error\"}", "\"message\" is missing");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"rate\"}", "rate: \"score\" must be");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"rate\",\"score\":6}", "1 to 5");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"rate\",\"score\":0}", "1 to 5");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"rate\",\"score\":3.5}", "integer");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"rate\",\"score\":\"4\"}", "integer");
	decode_fails(CP_TO_CONSOLE, "{\"type\":\"rate\",\"score\":4,\"comment\":4}",
	             "must be a string");
	const char *rate = "{\"type\":\"rate\",\"score\":5,\"comment\":\"great\"}";
	ck_assert_int_eq(cp_decode(rate, strlen(rate), CP_TO_CONSOLE, &m, &cause), 0);
	ck_assert_int_eq(m.type, CP_RATE);
	ck_assert_int_eq(m.score, 5);
	ck_assert_str_eq(m.text, "great");
	cp_msg_free(&m);
	rate = "{\"type\":\"rate\",\"score\":1,\"comment\":\"  \"}";
	ck_assert_int_eq(cp_decode(rate, strlen(rate), CP_TO_CONSOLE, &m, &cause), 0);
	ck_assert_ptr_null(m.text); /* blank is none */
	cp_msg_free(&m);
	ck_assert_int_eq(cp_decode(rate, strlen(rate), CP_TO_CUSTOMER, &m, &cause), 0);
	ck_assert_int_eq(m.type, CP_UNKNOWN); /* customers do not get ratings */
	cp_msg_free(&m);
	cJSON *built = cp_new_rate(3, NULL);
	char *bs = cJSON_PrintUnformatted(built);
	ck_assert_str_eq(bs, "{\"type\":\"rate\",\"score\":3}");
	free(bs);
	cJSON_Delete(built);
	/* As a person types it. */
	int score;
	const char *comment;
	ck_assert_int_eq(cp_rating_parse(" 4  quick, thanks", &score, &comment), 0);
	ck_assert_int_eq(score, 4);
	ck_assert_str_eq(comment, "quick, thanks");
	ck_assert_int_eq(cp_rating_parse("5", &score, &comment), 0);
	ck_assert_ptr_null(comment);
	ck_assert_int_eq(cp_rating_parse("45", &score, &comment), -1);
	ck_assert_int_eq(cp_rating_parse("0", &score, &comment), -1);
	ck_assert_int_eq(cp_rating_parse("6 ok", &score, &comment), -1);
	ck_assert_int_eq(cp_rating_parse("", &score, &comment), -1);
	ck_assert_int_eq(cp_rating_parse("good", &score, &comment), -1);

	/* A say's text: CP_MAX_TEXT bytes, not one more. */
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "{\"type\":\"say\",\"text\":\"");
	for (int i = 0; i < CP_MAX_TEXT; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "\"}");
	ck_assert_int_eq(cp_decode(b.data, b.len, CP_TO_CONSOLE, &m, &cause), 0);
	ck_assert_uint_eq(strlen(m.text), CP_MAX_TEXT);
	cp_msg_free(&m);
	b.len -= 2;
	buf_adds(&b, "x\"}");
	decode_fails(CP_TO_CONSOLE, b.data, "too long");
	buf_free(&b);
}
END_TEST

struct lines {
	struct strv v;
	int stop_at;
};

static int
collect(void *arg, const char *line, size_t len)
{
	struct lines *l = arg;
	ck_assert_uint_eq(strlen(line), len);
	strv_add(&l->v, line);
	return (int)l->v.n == l->stop_at;
}

START_TEST(proto_lines)
{
	struct buf part;
	struct lines got = {0};
	buf_init(&part, 0);
	/* Split anywhere, "\r\n" or "\n", empty lines kept. */
	const char *in = "one\r\ntwo\n\nthr";
	for (size_t i = 0; in[i] != '\0'; i++)
		ck_assert_int_eq(cp_lines_feed(&part, in + i, 1, collect, &got), 0);
	ck_assert_int_eq(cp_lines_feed(&part, "ee\n", 3, collect, &got), 0);
	ck_assert_uint_eq(got.v.n, 4);
	ck_assert_str_eq(got.v.v[0], "one");
	ck_assert_str_eq(got.v.v[1], "two");
	ck_assert_str_eq(got.v.v[2], "");
	ck_assert_str_eq(got.v.v[3], "three");
	strv_free(&got.v);

	/* Stopping drops the rest. */
	got.stop_at = 1;
	ck_assert_int_eq(cp_lines_feed(&part, "a\nb\nc\n", 6, collect, &got), 1);
	ck_assert_uint_eq(got.v.n, 1);
	strv_free(&got.v);
	got.stop_at = 0;

	/* CP_MAX_LINE bytes is a line, with "\r\n" too; one more is not. */
	char *big = xmalloc(CP_MAX_LINE + 3);
	memset(big, 'x', CP_MAX_LINE);
	memcpy(big + CP_MAX_LINE, "\r\n", 3);
	ck_assert_int_eq(cp_lines_feed(&part, big, CP_MAX_LINE + 2, collect, &got), 0);
	ck_assert_int_eq(cp_lines_feed(&part, big, CP_MAX_LINE, collect, &got), 0);
	ck_assert_int_eq(cp_lines_feed(&part, "\n", 1, collect, &got), 0);
	ck_assert_uint_eq(got.v.n, 2);
	ck_assert_uint_eq(strlen(got.v.v[0]), CP_MAX_LINE);
	ck_assert_uint_eq(strlen(got.v.v[1]), CP_MAX_LINE);
	ck_assert_int_eq(cp_lines_feed(&part, big, CP_MAX_LINE, collect, &got), 0);
	ck_assert_int_eq(cp_lines_feed(&part, "y", 1, collect, &got), -1);
	ck_assert_uint_eq(part.len, 0);
	big[CP_MAX_LINE] = 'x';
	ck_assert_int_eq(cp_lines_feed(&part, big, CP_MAX_LINE + 2, collect, &got), -1);
	ck_assert_uint_eq(got.v.n, 2);
	free(big);
	strv_free(&got.v);
	buf_free(&part);
}
END_TEST

/* ------------------------------------------------------------ listener */

START_TEST(round_trip_unix)
{
	struct fx f;
	struct tc t;
	fx_open(&f, 1, 0);
	ck_assert_str_eq(listener_path(f.l), f.path);
	ck_assert_int_eq(listener_tcp_port(f.l), 0);
	struct stat st;
	ck_assert_int_eq(stat(f.path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0600);

	tc_unix(&t, f.path);
	tc_send(&f, &t,
	        "{\"type\":\"hello\",\"customer\":\"C-1001\",\"name\":\"Dana Reyes\",\"tier\":"
	        "\"premium\"}");
	cJSON *w = tc_expect(&f, &t, "welcome");
	ck_assert_int_eq(cJSON_GetObjectItem(w, "conversation")->valueint, 1);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(w, "customer")), "C-1001");
	cJSON_Delete(w);
	ck_assert_str_eq(f.hello_id, "C-1001");
	ck_assert_str_eq(f.hello_name, "Dana Reyes");
	ck_assert_int_eq(f.last_hello.tier, TIER_PREMIUM);
	ck_assert_int_eq(f.last_hello.tier_given, 1);
	ck_assert_int_eq(f.last_hello.guest, 0);
	ck_assert_uint_eq(listener_clients(f.l), 1);
	ck_assert_str_eq(client_customer(f.last), "C-1001");

	tc_say_echo(&f, &t, "where is my order?");
	ck_assert_uint_eq(f.said.n, 1);
	ck_assert_str_eq(f.said.v[0], "C-1001: where is my order?");
	/* Unicode arrives as sent, escaped or not. */
	tc_send(&f, &t,
	        "{\"type\":\"say\",\"text\":\"caf\\u00e9 \xe2\x82\xac"
	        "5\"}");
	cJSON *m = tc_expect(&f, &t, "message");
	cJSON_Delete(m);
	ck_assert_str_eq(f.said.v[1], "C-1001: caf\xc3\xa9 \xe2\x82\xac"
	                              "5");

	/* The rating as the chat ends, with and without a comment. */
	tc_send(&f, &t, "{\"type\":\"rate\",\"score\":4,\"comment\":\"quick\"}");
	tc_send(&f, &t, "{\"type\":\"rate\",\"score\":2}");
	fx_until(&f, &f.rates, 2);
	ck_assert_str_eq(f.said.v[2], "C-1001 rated 4: quick");
	ck_assert_str_eq(f.said.v[3], "C-1001 rated 2: (none)");

	tc_send(&f, &t, "{\"type\":\"bye\"}");
	tc_expect_eof(&f, &t);
	fx_until(&f, &f.gones, 1);
	ck_assert_str_eq(f.gone.v[0], "C-1001");
	ck_assert_uint_eq(listener_clients(f.l), 0);
	tc_free(&t);
	fx_close(&f);
}
END_TEST

START_TEST(round_trip_tcp_guest)
{
	struct fx f;
	struct tc t;
	fx_open(&f, 0, 1);
	ck_assert_ptr_null(listener_path(f.l));
	ck_assert_int_gt(listener_tcp_port(f.l), 0);
	tc_tcp(&t, listener_tcp_port(f.l));
	tc_send(&f, &t, "{\"type\":\"hello\",\"name\":\"Dana\"}");
	cJSON *w = tc_expect(&f, &t, "welcome");
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(w, "customer"));
	ck_assert_msg(strncmp(id, "guest-", 6) == 0, "guest id %s", id);
	ck_assert_str_eq(id, f.hello_id);
	ck_assert_int_eq(f.last_hello.guest, 1);
	ck_assert_int_eq(f.last_hello.tier_given, 0);
	ck_assert_int_eq(f.last_hello.tier, TIER_STANDARD);
	cJSON_Delete(w);
	tc_say_echo(&f, &t, "hello over tcp");
	/* Closing our end is leaving. */
	tc_free(&t);
	fx_until(&f, &f.gones, 1);
	fx_close(&f);
}
END_TEST

START_TEST(two_clients_at_once)
{
	struct fx f;
	struct tc a, b;
	fx_open(&f, 1, 0);
	tc_unix(&a, f.path);
	tc_unix(&b, f.path);
	tc_hello(&f, &a, "C-A");
	tc_hello(&f, &b, "C-B");
	ck_assert_uint_eq(listener_clients(f.l), 2);
	/* Both send before either reads. */
	tc_send(&f, &a, "{\"type\":\"say\",\"text\":\"from a\"}");
	tc_send(&f, &b, "{\"type\":\"say\",\"text\":\"from b\"}");
	cJSON *mb = tc_expect(&f, &b, "message");
	cJSON *ma = tc_expect(&f, &a, "message");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ma, "text")), "echo: from a");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(mb, "text")), "echo: from b");
	cJSON_Delete(ma);
	cJSON_Delete(mb);
	tc_free(&a);
	fx_until(&f, &f.gones, 1);
	ck_assert_str_eq(f.gone.v[0], "C-A");
	tc_say_echo(&f, &b, "still here");
	ck_assert_uint_eq(listener_clients(f.l), 1);
	tc_free(&b);
	fx_until(&f, &f.gones, 2);
	fx_close(&f);
}
END_TEST

START_TEST(bad_input_gets_errors_and_the_connection_stays)
{
	struct fx f;
	struct tc t;
	fx_open(&f, 1, 0);
	tc_unix(&t, f.path);
	tc_send(&f, &t, "not json");
	tc_expect_error(&f, &t, "invalid JSON");
	tc_send(&f, &t, "{\"type\":\"say\",\"text\":\"too early\"}");
	tc_expect_error(&f, &t, "hello first");
	tc_send(&f, &t, "[\"hello\"]");
	tc_expect_error(&f, &t, "JSON object");
	tc_send(&f, &t, "{\"type\":\"hello\",\"tier\":\"gold\"}");
	tc_expect_error(&f, &t, "unknown tier \"gold\"");
	tc_send(&f, &t, "{\"type\":\"hello\",\"customer\":\"x y\"}");
	tc_expect_error(&f, &t, "\"customer\" must be");
	ck_assert_int_eq(f.hellos, 0);
	/* Blank lines and unknown types: nothing comes back, the next answer is the hello's. */
	tc_send(&f, &t, "");
	tc_send(&f, &t, "   ");
	tc_send(&f, &t, "{\"type\":\"hologram\",\"beam\":true}");
	tc_send(&f, &t, "{\"type\":\"welcome\",\"conversation\":3}");
	tc_send(&f, &t, "{\"type\":\"hello\",\"customer\":\"C-7\",\"colour\":\"blue\"}");
	cJSON *w = tc_expect(&f, &t, "welcome");
	cJSON_Delete(w);
	tc_send(&f, &t, "{\"type\":\"hello\",\"customer\":\"C-8\"}");
	tc_expect_error(&f, &t, "already introduced as C-7");
	tc_send(&f, &t, "{\"type\":\"say\",\"text\":\"\"}");
	tc_expect_error(&f, &t, "empty");
	tc_send(&f, &t, "{\"type\":\"say\",\"text\":\"\xff\xfe\"}");
	tc_expect_error(&f, &t, "UTF-8");
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "{\"type\":\"say\",\"text\":\"");
	for (int i = 0; i <= CP_MAX_TEXT; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "\"}");
	tc_send(&f, &t, b.data);
	tc_expect_error(&f, &t, "too long");
	buf_free(&b);
	tc_say_echo(&f, &t, "still here");
	ck_assert_uint_eq(f.said.n, 1);
	ck_assert_int_eq(f.gones, 0);
	tc_free(&t);
	fx_until(&f, &f.gones, 1);
	fx_close(&f);
}
END_TEST

START_TEST(over_long_line_closes)
{
	struct fx f;
	struct tc t;
	fx_open(&f, 1, 1);
	tc_tcp(&t, listener_tcp_port(f.l));
	tc_hello(&f, &t, "C-1");
	/* A line of CP_MAX_LINE bytes is fine (here, of a type from the future). */
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "{\"type\":\"later\",\"pad\":\"");
	while (b.len < CP_MAX_LINE - 2)
		buf_addc(&b, 'p');
	buf_adds(&b, "\"}");
	ck_assert_uint_eq(b.len, CP_MAX_LINE);
	tc_send(&f, &t, b.data);
	tc_say_echo(&f, &t, "after a long line");
	/* One byte more, and more behind it: an error, then the end. */
	buf_reset(&b);
	while (b.len < CP_MAX_LINE + 30000)
		buf_addc(&b, 'z');
	tc_send_n(&f, &t, b.data, b.len); /* may fail once the console has had enough */
	tc_expect_error(&f, &t, "line longer than 65536 bytes");
	tc_expect_eof(&f, &t);
	fx_until(&f, &f.gones, 1);
	buf_free(&b);
	tc_free(&t);
	fx_close(&f);
}
END_TEST

START_TEST(a_client_that_does_not_read_is_dropped)
{
	struct fx f;
	struct tc slow, other;
	fx_open(&f, 1, 0);
	tc_unix(&slow, f.path);
	tc_hello(&f, &slow, "C-slow");
	struct client *c = f.last;
	ck_assert_ptr_nonnull(c);
	/* 32 KiB messages until the queue is full: the loop goes on, the client goes. */
	char *text = xmalloc(32768);
	memset(text, 'm', 32767);
	text[32767] = '\0';
	cJSON *m = cp_new_message(CP_ROLE_AI, NULL, text, NULL);
	int sent = 0;
	for (int i = 0; i < 10000 && f.gones == 0; i++) {
		if (f.last != NULL) {
			client_send(f.last, m);
			sent++;
		}
		loop_once(f.loop, 0);
	}
	ck_assert_int_eq(f.gones, 1);
	ck_assert_str_eq(f.gone.v[0], "C-slow");
	/* More than the queue holds went out before it was dropped. */
	ck_assert_int_gt(sent, LISTENER_MAX_QUEUE / 32768);
	cJSON_Delete(m);
	free(text);
	ck_assert_uint_eq(listener_clients(f.l), 0);
	/* The console serves others as before. */
	tc_unix(&other, f.path);
	tc_hello(&f, &other, "C-next");
	tc_say_echo(&f, &other, "hi");
	tc_free(&other);
	tc_free(&slow);
	fx_close(&f);
}
END_TEST

START_TEST(stale_socket_is_replaced)
{
	char *dir = tmpdir_new();
	char *path = xasprintf("%s/console.sock", dir);
	/* What a console killed with SIGKILL leaves: a socket file nobody listens on. */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);

	struct fx f = {0};
	f.loop = loop_new();
	struct listener_hooks h = fx_hooks;
	h.arg = &f;
	char *cause = NULL;
	f.l = listener_open(f.loop, path, 0, &h, &cause);
	ck_assert_msg(f.l != NULL, "listener_open: %s", cause);
	struct tc t;
	tc_unix(&t, path);
	tc_hello(&f, &t, "C-1");
	tc_say_echo(&f, &t, "on the new socket");
	tc_free(&t);
	listener_close(f.l);
	ck_assert_int_eq(f.gones, 1);
	/* The socket file goes with the listener. */
	ck_assert_int_eq(stat(path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	loop_free(f.loop);
	strv_free(&f.said);
	strv_free(&f.gone);
	rm_rf(dir);
	free(dir);
	free(path);
}
END_TEST

START_TEST(live_socket_is_refused)
{
	struct fx f;
	fx_open(&f, 1, 0);
	struct listener_hooks h = fx_hooks;
	h.arg = &f;
	char *cause = NULL;
	struct listener *second = listener_open(f.loop, f.path, 0, &h, &cause);
	ck_assert_ptr_null(second);
	char *want = xasprintf("another console is listening on %s", f.path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	cause = NULL;
	/* The first goes on, on its socket. */
	struct tc t;
	tc_unix(&t, f.path);
	tc_hello(&f, &t, "C-1");
	tc_say_echo(&f, &t, "still the first");
	tc_free(&t);

	/* A file that is not a socket is never removed. */
	char *file = tmpfile_with(f.dir, "notes.txt", "keep me\n");
	ck_assert_ptr_null(listener_open(f.loop, file, 0, &h, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "is not a socket"));
	free(cause);
	cause = NULL;
	char *kept = slurp(file);
	ck_assert_str_eq(kept, "keep me\n");
	free(kept);
	free(file);

	/* Nothing to listen on; a directory that does not exist; a TCP port in use. */
	ck_assert_ptr_null(listener_open(f.loop, NULL, 0, &h, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "nothing to listen on"));
	free(cause);
	char *nodir = xasprintf("%s/no/such/dir/console.sock", f.dir);
	ck_assert_ptr_null(listener_open(f.loop, nodir, 0, &h, &cause));
	ck_assert_ptr_nonnull(strstr(cause, nodir));
	free(cause);
	free(nodir);
	struct listener *tcp = listener_open(f.loop, NULL, -1, &h, &cause);
	ck_assert_ptr_nonnull(tcp);
	char *other = xasprintf("%s/other.sock", f.dir);
	ck_assert_ptr_null(listener_open(f.loop, other, listener_tcp_port(tcp), &h, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "cannot listen on 127.0.0.1:"));
	free(cause);
	/* Failing on TCP did not leave the Unix socket behind. */
	struct stat st;
	ck_assert_int_eq(stat(other, &st), -1);
	free(other);
	listener_close(tcp);
	fx_close(&f);
}
END_TEST

START_TEST(close_calls_gone_and_removes_the_socket)
{
	struct fx f;
	struct tc a, b, quiet;
	fx_open(&f, 1, 0);
	tc_unix(&a, f.path);
	tc_unix(&b, f.path);
	tc_unix(&quiet, f.path); /* never says hello */
	tc_hello(&f, &a, "C-A");
	tc_hello(&f, &b, "C-B");
	for (int i = 0; i < 10; i++)
		loop_once(f.loop, 0);
	ck_assert_uint_eq(listener_clients(f.l), 3);
	listener_close(f.l);
	f.l = NULL;
	/* gone for the two who said hello, not for the one who did not. */
	ck_assert_int_eq(f.gones, 2);
	ck_assert(strv_contains(&f.gone, "C-A"));
	ck_assert(strv_contains(&f.gone, "C-B"));
	struct stat st;
	ck_assert_int_eq(stat(f.path, &st), -1);
	char c;
	ck_assert_int_le(recv(a.fd, &c, 1, 0), 0);
	ck_assert_int_le(recv(quiet.fd, &c, 1, 0), 0);
	tc_free(&a);
	tc_free(&b);
	tc_free(&quiet);
	fx_close(&f);
}
END_TEST

START_TEST(hooks_close_and_refuse)
{
	struct fx f;
	struct tc t, r;
	fx_open(&f, 1, 0);
	/* The console closes a client from its say hook: the reason, then the end. */
	tc_unix(&t, f.path);
	tc_hello(&f, &t, "C-kick");
	tc_send(&f, &t, "{\"type\":\"say\",\"text\":\"kick\"}");
	tc_send(&f, &t, "{\"type\":\"say\",\"text\":\"not read\"}");
	tc_expect_error(&f, &t, "kicked");
	tc_expect_eof(&f, &t);
	ck_assert_int_eq(f.gones, 1);
	ck_assert_uint_eq(f.said.n, 1); /* nothing after the kick reached the hook */
	tc_free(&t);

	/* A refused hello: the cause, then the end, and no gone. */
	f.reject = 1;
	tc_unix(&r, f.path);
	tc_send(&f, &r, "{\"type\":\"hello\",\"customer\":\"C-no\"}");
	tc_expect_error(&f, &r, "not today");
	tc_expect_eof(&f, &r);
	tc_free(&r);
	for (int i = 0; i < 10; i++)
		loop_once(f.loop, 0);
	ck_assert_int_eq(f.gones, 1);
	ck_assert_uint_eq(listener_clients(f.l), 0);
	fx_close(&f);
}
END_TEST

static Suite *
listener_suite(void)
{
	Suite *s = suite_create("listener");
	TCase *tc = tcase_create("protocol");
	tcase_add_test(tc, proto_encode_is_terminal_safe);
	tcase_add_test(tc, proto_decode_validates);
	tcase_add_test(tc, proto_lines);
	suite_add_tcase(s, tc);
	tc = tcase_create("listener");
	tcase_add_test(tc, round_trip_unix);
	tcase_add_test(tc, round_trip_tcp_guest);
	tcase_add_test(tc, two_clients_at_once);
	tcase_add_test(tc, bad_input_gets_errors_and_the_connection_stays);
	tcase_add_test(tc, over_long_line_closes);
	tcase_add_test(tc, a_client_that_does_not_read_is_dropped);
	tcase_add_test(tc, stale_socket_is_replaced);
	tcase_add_test(tc, live_socket_is_refused);
	tcase_add_test(tc, close_calls_gone_and_removes_the_socket);
	tcase_add_test(tc, hooks_close_and_refuse);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(listener_suite());
}
