/*
 * openai-wire-fuzzer.c -- what an OpenAI-compatible server sends back: a
 * chat response, a streamed (SSE) response fed in pieces, an error body,
 * an embeddings response, JSON in a model's text, and text cleaned for a
 * terminal. The first byte picks which; for streams the second says where
 * the pieces are cut, for errors the status, for embeddings how many
 * vectors were asked for.
 */
#include "config.h"

#include "fuzz.h"
#include "openai-wire.h"

static void
on_delta(void *arg, const char *text, size_t len)
{
	size_t *total = arg;
	if (len == 0 || text == NULL)
		abort(); /* promised: len > 0 */
	*total += len;
}

static void
reply_check(const struct wire_reply *r)
{
	for (size_t i = 0; i < r->ncalls; i++)
		if (r->calls[i].id == NULL || r->calls[i].name == NULL)
			abort();
}

static void
response(const char *body, size_t n)
{
	struct wire_reply r = {0};
	char *cause = NULL;
	if (wire_parse_response(body, n, &r, &cause) == 0)
		reply_check(&r);
	else if (cause == NULL)
		abort();
	wire_reply_free(&r);
	free(cause);
}

static void
stream(const char *body, size_t n, unsigned cut)
{
	size_t total = 0;
	struct wire_stream *s = wire_stream_new(on_delta, &total, 64 * 1024);
	char *cause = NULL;
	size_t step = cut % 64 + 1;
	for (size_t off = 0; off < n; off += step) {
		size_t len = n - off < step ? n - off : step;
		if (wire_stream_feed(s, body + off, len, &cause) != 0)
			break;
	}
	free(cause);
	cause = NULL;
	struct wire_reply r = {0};
	if (wire_stream_finish(s, &r, &cause) == 0)
		reply_check(&r);
	wire_reply_free(&r);
	free(cause);
	wire_stream_free(s);
}

static void
error_body(const char *body, size_t n, int status)
{
	char *code = NULL;
	char *text = wire_error_text(status, body, n, &code);
	if (text == NULL)
		abort();
	fuzz_assert_inert(text, strlen(text), 0);
	if (code != NULL)
		fuzz_assert_inert(code, strlen(code), 0);
	free(text);
	free(code);
}

static void
embeddings(const char *body, size_t n, size_t want)
{
	struct wire_embeddings e = {0};
	char *cause = NULL;
	if (wire_parse_embeddings(body, n, want, &e, &cause) == 0) {
		/* one vector per input, of one nonzero dimension */
		if (e.n != want || (want > 0 && (e.dim == 0 || e.dim > WIRE_EMBED_MAX_DIM)))
			abort();
	} else if (cause == NULL)
		abort();
	wire_embeddings_free(&e);
	free(cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned what = data[0] % 6, arg = data[1];
	size_t n = size - 2;
	char *body = fuzz_text(data + 2, n);
	switch (what) {
	case 0:
		response(body, n);
		break;
	case 1:
		stream(body, n, arg);
		break;
	case 2:
		error_body(body, n, arg % 2 ? 400 + (int)arg : 0);
		break;
	case 3:
		embeddings(body, n, arg % 8);
		break;
	case 4: {
		char *cause = NULL;
		cJSON *o = wire_extract_json(body, &cause);
		if ((o == NULL) == (cause == NULL) || (o != NULL && !cJSON_IsObject(o)))
			abort();
		cJSON_Delete(o);
		free(cause);
		break;
	}
	case 5: {
		size_t max = arg % 4 == 0 ? 0 : arg;
		char *clean = wire_clean_text(body, n, max);
		fuzz_assert_inert(clean, strlen(clean), 0);
		free(clean);
		break;
	}
	}
	free(body);
	return 0;
}
