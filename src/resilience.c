/* resilience.c -- retries, backoff and circuit breakers; no clocks, no sleeping. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resilience.h"

/* ================================================================ random */

uint64_t
rng_next(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n] without modulo bias worth mentioning (n < 2^53). */
static int64_t
rng_upto(uint64_t *state, int64_t n)
{
	if (n <= 0)
		return 0;
	/* The top 53 bits as a fraction in [0, 1). */
	double f = (double)(rng_next(state) >> 11) / 9007199254740992.0;
	int64_t v = (int64_t)(f * ((double)n + 1));
	return v > n ? n : v;
}

/* ================================================================ faults */

/* Codes in an error body that no retry will fix. */
static const char *const hopeless_codes[] = {
    "insufficient_quota",
    "billing_hard_limit_reached",
    "account_deactivated",
    NULL,
};

enum fault
fault_classify(int status, enum transport_error te, const char *error_code)
{
	switch (te) {
	case TRANSPORT_OK:
		break;
	case TRANSPORT_TLS:
		return FAULT_ENDPOINT;
	case TRANSPORT_CONNECT:
	case TRANSPORT_DNS:
	case TRANSPORT_TIMEOUT:
	case TRANSPORT_TRUNCATED:
	case TRANSPORT_OTHER:
		return FAULT_TRANSIENT;
	}
	if (status >= 200 && status <= 299)
		return FAULT_NONE;
	if (error_code != NULL)
		for (size_t i = 0; hopeless_codes[i] != NULL; i++)
			if (strcmp(error_code, hopeless_codes[i]) == 0)
				return FAULT_ENDPOINT;
	switch (status) {
	case 429:
		return FAULT_RATE_LIMIT;
	case 408: /* request timeout */
	case 409: /* OpenAI: a lock conflict, worth another go */
	case 425: /* too early */
	case 500:
	case 502:
	case 503:
	case 504:
	case 520: /* 52x: proxies in front of the server (Cloudflare and friends) */
	case 521:
	case 522:
	case 523:
	case 524:
	case 529: /* overloaded */
		return FAULT_TRANSIENT;
	case 401: /* the key */
	case 403:
	case 404: /* the URL or the model */
	case 405:
		return FAULT_ENDPOINT;
	}
	if (status >= 400 && status <= 499)
		return FAULT_REQUEST;
	/* 501, 505, other 5xx, and 1xx/3xx we did not ask for. */
	return FAULT_ENDPOINT;
}

int
fault_retryable(enum fault f)
{
	return f == FAULT_TRANSIENT || f == FAULT_RATE_LIMIT;
}

int
fault_counts(enum fault f)
{
	return f == FAULT_TRANSIENT || f == FAULT_RATE_LIMIT || f == FAULT_ENDPOINT;
}

const char *
fault_name(enum fault f)
{
	switch (f) {
	case FAULT_NONE:
		return "none";
	case FAULT_TRANSIENT:
		return "transient";
	case FAULT_RATE_LIMIT:
		return "rate-limit";
	case FAULT_ENDPOINT:
		return "endpoint";
	case FAULT_REQUEST:
		return "request";
	}
	return "unknown";
}

/* ================================================================ backoff */

int64_t
backoff_delay_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms, int64_t retry_after_ms,
                 uint64_t *rng)
{
	if (base_ms < 0)
		base_ms = 0;
	if (cap_ms < 0)
		cap_ms = 0;
	/* base * 2^attempt, saturating at cap without overflowing. */
	int64_t ceiling = base_ms;
	for (unsigned i = 0; i < attempt && ceiling < cap_ms; i++)
		ceiling = ceiling > cap_ms / 2 ? cap_ms : ceiling * 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	int64_t d = rng_upto(rng, ceiling);
	return retry_after_ms > d ? retry_after_ms : d;
}

int64_t
retry_delay_ms(const struct retry_policy *p, unsigned attempt, enum fault f, int64_t retry_after_ms,
               uint64_t *rng)
{
	if (!fault_retryable(f) || attempt + 1 >= p->max_attempts)
		return -1;
	if (retry_after_ms > 0 && p->max_retry_after_ms > 0 &&
	    retry_after_ms > p->max_retry_after_ms)
		return -1;
	return backoff_delay_ms(attempt, p->base_ms, p->cap_ms, retry_after_ms, rng);
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate, the only form senders may use). */
static int
http_date(const char *s, int64_t *unix_ms)
{
	static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	char wday[4], mon[4], zone[4];
	int day, year, h, m, sec, used = 0;
	if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", wday, &day, mon,
	           &year, &h, &m, &sec, zone, &used) != 8 ||
	    s[used] != '\0' || strcmp(zone, "GMT") != 0)
		return -1;
	int mi = -1;
	for (int i = 0; i < 12; i++)
		if (strcmp(months[i], mon) == 0)
			mi = i;
	if (mi < 0 || day < 1 || day > 31 || h > 23 || m > 59 || sec > 60 || year < 1970)
		return -1;
	struct tm tm = {.tm_year = year - 1900,
	                .tm_mon = mi,
	                .tm_mday = day,
	                .tm_hour = h,
	                .tm_min = m,
	                .tm_sec = sec};
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*unix_ms = (int64_t)t * 1000;
	return 0;
}

int
retry_after_parse(const char *value, int ms_form, int64_t now_unix_ms, int64_t *ms)
{
	if (value == NULL)
		return -1;
	while (isspace((unsigned char)*value))
		value++;
	size_t n = strlen(value);
	while (n > 0 && isspace((unsigned char)value[n - 1]))
		n--;
	if (n == 0 || n > 64)
		return -1;
	char v[65];
	memcpy(v, value, n);
	v[n] = '\0';

	if (isdigit((unsigned char)v[0])) {
		/* delta-seconds; retry-after-ms and some servers send a fraction */
		char *end;
		double d = strtod(v, &end);
		if (*end != '\0' || !(d >= 0) || d > 1e9)
			return -1;
		*ms = (int64_t)(ms_form ? d : d * 1000);
		return 0;
	}
	if (ms_form)
		return -1;
	int64_t at;
	if (http_date(v, &at) != 0)
		return -1;
	*ms = at > now_unix_ms ? at - now_unix_ms : 0;
	return 0;
}

/* ======================================================== circuit breaker */

void
breaker_init(struct breaker *b, unsigned threshold, int64_t cooldown_ms)
{
	memset(b, 0, sizeof *b);
	b->threshold = threshold ? threshold : 1;
	b->cooldown_ms = cooldown_ms > 0 ? cooldown_ms : 0;
	b->state = BREAKER_CLOSED;
}

static void
trip(struct breaker *b, int64_t now)
{
	b->state = BREAKER_OPEN;
	b->opened_at = now;
	b->probing = 0;
	b->failures = 0;
	b->opens++;
}

int
breaker_allow(struct breaker *b, int64_t now)
{
	switch (b->state) {
	case BREAKER_CLOSED:
		return 1;
	case BREAKER_OPEN:
		if (now - b->opened_at < b->cooldown_ms)
			return 0;
		b->state = BREAKER_HALF_OPEN;
		b->probing = 1;
		b->probe_at = now;
		return 1;
	case BREAKER_HALF_OPEN:
		/* One probe at a time; one lost without a word is replaced. */
		if (b->probing && now - b->probe_at < b->cooldown_ms)
			return 0;
		b->probing = 1;
		b->probe_at = now;
		return 1;
	}
	return 0;
}

void
breaker_record(struct breaker *b, int ok, int64_t now)
{
	switch (b->state) {
	case BREAKER_CLOSED:
		if (ok) {
			b->failures = 0;
		} else if (++b->failures >= b->threshold) {
			trip(b, now);
		}
		break;
	case BREAKER_HALF_OPEN:
		if (ok) {
			b->state = BREAKER_CLOSED;
			b->failures = 0;
			b->probing = 0;
		} else {
			trip(b, now);
		}
		break;
	case BREAKER_OPEN:
		/* A call from before it opened: the cooldown stands either way. */
		break;
	}
}

int64_t
breaker_wait_ms(const struct breaker *b, int64_t now)
{
	if (b->state != BREAKER_OPEN)
		return 0;
	int64_t left = b->opened_at + b->cooldown_ms - now;
	return left > 0 ? left : 0;
}

const char *
breaker_state_name(enum breaker_state s)
{
	switch (s) {
	case BREAKER_CLOSED:
		return "closed";
	case BREAKER_OPEN:
		return "open";
	case BREAKER_HALF_OPEN:
		return "half-open";
	}
	return "unknown";
}
