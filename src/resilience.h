/*
 * resilience.h -- retries, backoff and circuit breakers for model
 * endpoints. Pure: the caller passes the time (milliseconds on a
 * monotonic clock) and owns the random state, so behaviour is
 * reproducible in tests and nothing here sleeps or reads a clock.
 */
#ifndef FL_RESILIENCE_H
#define FL_RESILIENCE_H

#include <stdint.h>

/* ================================================================ random */

/*
 * xorshift64*: the next pseudo-random number from *state, which the
 * caller owns and seeds (0 is replaced by a fixed non-zero seed).
 */
uint64_t rng_next(uint64_t *state);

/* ================================================================ faults */

/* How a transfer failed below HTTP (the async layer maps curl's codes). */
enum transport_error {
	TRANSPORT_OK,
	TRANSPORT_CONNECT,   /* refused, unreachable, reset before a response */
	TRANSPORT_DNS,       /* the host name did not resolve */
	TRANSPORT_TIMEOUT,   /* connect or transfer timeout */
	TRANSPORT_TRUNCATED, /* the connection closed mid-response, or a stream without [DONE] */
	TRANSPORT_TLS,       /* certificate or handshake failure */
	TRANSPORT_OTHER,
};

/* What a failure means for the caller. */
enum fault {
	FAULT_NONE,       /* success */
	FAULT_TRANSIENT,  /* retry after a backoff; counts against the endpoint */
	FAULT_RATE_LIMIT, /* retry, honouring Retry-After; counts against the endpoint */
	FAULT_ENDPOINT,   /* do not retry: the endpoint is unusable as configured (401,
	                     403, 404, TLS, exhausted quota); counts against it */
	FAULT_REQUEST,    /* do not retry: this request is wrong (400, 413, 422); the
	                     endpoint is fine and the breaker does not count it */
};

/*
 * Classifies an outcome: a transport error wins over the status (a 200
 * whose stream was cut off is TRANSPORT_TRUNCATED). error_code is the
 * error body's code or type when there is one (wire_error_text's
 * *code), else NULL: 429 "insufficient_quota" is not worth retrying.
 *   retried:     408 409 425 429 500 502 503 504 and the 52x of
 *                proxies, connection failures, DNS, timeouts, truncation
 *   not retried: other 4xx (400 401 403 404 413 422 ...), 501, 505,
 *                TLS failures
 */
enum fault fault_classify(int http_status, enum transport_error, const char *error_code);
int fault_retryable(enum fault);
/* Whether the fault says something about the endpoint's health (the breaker counts it). */
int fault_counts(enum fault);
/* "none", "transient", "rate-limit", "endpoint", "request". */
const char *fault_name(enum fault);

/* ================================================================ backoff */

/*
 * Exponential backoff with full jitter: a uniform draw from
 * [0, min(cap_ms, base_ms * 2^attempt)], attempt counting from 0.
 * retry_after_ms (from the server; <= 0 for none) is a floor: the
 * delay is never shorter than what the server asked for, even above
 * cap_ms. Deterministic given *rng.
 */
int64_t backoff_delay_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms, int64_t retry_after_ms,
                         uint64_t *rng);

struct retry_policy {
	unsigned max_attempts; /* tries in all, the first included */
	int64_t base_ms;
	int64_t cap_ms;
	int64_t max_retry_after_ms; /* a server asking for a longer wait gets none: give up */
};

/*
 * After try number attempt (0 for the first) failed with fault: the
 * delay before the next try, or -1 when not to retry (fault not
 * retryable, attempts used up, or a Retry-After beyond the policy).
 */
int64_t retry_delay_ms(const struct retry_policy *, unsigned attempt, enum fault,
                       int64_t retry_after_ms, uint64_t *rng);

/*
 * A Retry-After header value (delta-seconds, or an HTTP-date compared
 * with now_unix_ms on the wall clock) as milliseconds from now, at
 * least 0. Also takes OpenAI's retry-after-ms form when ms_form is set.
 * Returns 0, or -1 when the value is malformed.
 */
int retry_after_parse(const char *value, int ms_form, int64_t now_unix_ms, int64_t *ms);

/* ======================================================== circuit breaker */

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

/*
 * Per endpoint: closed until threshold consecutive failures, then open
 * (calls refused) for cooldown_ms, then half-open: one probe goes
 * through; its success closes the breaker, its failure opens it again.
 * A probe that never reports back is given up after another cooldown,
 * and a new probe goes through. Plain data: embed it, no freeing.
 */
struct breaker {
	unsigned threshold;
	int64_t cooldown_ms;

	enum breaker_state state;
	unsigned failures; /* consecutive, while closed */
	int64_t opened_at;
	int probing; /* half-open and a probe is out */
	int64_t probe_at;
	unsigned opens; /* times it opened, for display */
};

/* threshold 0 is taken as 1. */
void breaker_init(struct breaker *, unsigned threshold, int64_t cooldown_ms);
/*
 * Whether a call may go out now. May move open to half-open (and then
 * lets exactly this call through as the probe).
 */
int breaker_allow(struct breaker *, int64_t now);
/* The outcome of a call that breaker_allow let through. */
void breaker_record(struct breaker *, int ok, int64_t now);
/* Milliseconds until an open breaker lets a probe through; 0 when it would now. */
int64_t breaker_wait_ms(const struct breaker *, int64_t now);
/* "closed", "open", "half-open". */
const char *breaker_state_name(enum breaker_state);

#endif
