/* check_resilience.c -- retry classes, backoff, Retry-After, breakers (src/resilience.c). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resilience.h"
#include "testutil.h"
#include "util.h"

/* ================================================================ random */

START_TEST(rng_is_deterministic_and_never_stuck)
{
	uint64_t a = 42, b = 42;
	for (int i = 0; i < 100; i++)
		ck_assert_uint_eq(rng_next(&a), rng_next(&b));
	/* A zero seed would make xorshift return zeros forever. */
	uint64_t z = 0;
	uint64_t x1 = rng_next(&z), x2 = rng_next(&z);
	ck_assert_uint_ne(z, 0);
	ck_assert_uint_ne(x1, x2);
	/* Different seeds, different streams. */
	uint64_t c = 43;
	a = 42;
	ck_assert_uint_ne(rng_next(&a), rng_next(&c));
}
END_TEST

/* ================================================================ faults */

START_TEST(classify_statuses)
{
	static const struct {
		int status;
		enum fault want;
	} cases[] = {
	    {200, FAULT_NONE},       {201, FAULT_NONE},      {204, FAULT_NONE},
	    {408, FAULT_TRANSIENT},  {409, FAULT_TRANSIENT}, {425, FAULT_TRANSIENT},
	    {429, FAULT_RATE_LIMIT}, {500, FAULT_TRANSIENT}, {502, FAULT_TRANSIENT},
	    {503, FAULT_TRANSIENT},  {504, FAULT_TRANSIENT}, {520, FAULT_TRANSIENT},
	    {524, FAULT_TRANSIENT},  {529, FAULT_TRANSIENT}, {400, FAULT_REQUEST},
	    {413, FAULT_REQUEST},    {415, FAULT_REQUEST},   {422, FAULT_REQUEST},
	    {401, FAULT_ENDPOINT},   {403, FAULT_ENDPOINT},  {404, FAULT_ENDPOINT},
	    {405, FAULT_ENDPOINT},   {501, FAULT_ENDPOINT},  {505, FAULT_ENDPOINT},
	    {301, FAULT_ENDPOINT},   {100, FAULT_ENDPOINT},
	};
	for (size_t i = 0; i < nitems(cases); i++) {
		enum fault f = fault_classify(cases[i].status, TRANSPORT_OK, NULL);
		ck_assert_msg(f == cases[i].want, "%d: %s, want %s", cases[i].status, fault_name(f),
		              fault_name(cases[i].want));
	}
	/* Retryable exactly for the transient and rate-limit classes. */
	for (size_t i = 0; i < nitems(cases); i++) {
		int s = cases[i].status;
		int want = s == 408 || s == 409 || s == 425 || s == 429 || s == 500 || s == 502 ||
		           s == 503 || s == 504 || (s >= 520 && s <= 529);
		ck_assert_msg(fault_retryable(fault_classify(s, TRANSPORT_OK, NULL)) == want, "%d",
		              s);
	}
	/* A code in the body can say the 429 is not going away. */
	ck_assert_int_eq(fault_classify(429, TRANSPORT_OK, "insufficient_quota"), FAULT_ENDPOINT);
	ck_assert_int_eq(fault_classify(429, TRANSPORT_OK, "rate_limit_exceeded"),
	                 FAULT_RATE_LIMIT);
	ck_assert_int_eq(fault_classify(200, TRANSPORT_OK, "insufficient_quota"), FAULT_NONE);
}
END_TEST

START_TEST(classify_transport_failures)
{
	static const struct {
		enum transport_error te;
		enum fault want;
	} cases[] = {
	    {TRANSPORT_CONNECT, FAULT_TRANSIENT}, {TRANSPORT_DNS, FAULT_TRANSIENT},
	    {TRANSPORT_TIMEOUT, FAULT_TRANSIENT}, {TRANSPORT_TRUNCATED, FAULT_TRANSIENT},
	    {TRANSPORT_OTHER, FAULT_TRANSIENT},   {TRANSPORT_TLS, FAULT_ENDPOINT},
	};
	for (size_t i = 0; i < nitems(cases); i++) {
		/* Status 0 (no response) or 200 (a stream cut off): the transport decides. */
		ck_assert_int_eq(fault_classify(0, cases[i].te, NULL), cases[i].want);
		ck_assert_int_eq(fault_classify(200, cases[i].te, NULL), cases[i].want);
	}
	ck_assert_int_eq(fault_classify(0, TRANSPORT_OK, NULL), FAULT_ENDPOINT);
}
END_TEST

START_TEST(fault_properties)
{
	ck_assert_int_eq(fault_retryable(FAULT_NONE), 0);
	ck_assert_int_eq(fault_retryable(FAULT_TRANSIENT), 1);
	ck_assert_int_eq(fault_retryable(FAULT_RATE_LIMIT), 1);
	ck_assert_int_eq(fault_retryable(FAULT_ENDPOINT), 0);
	ck_assert_int_eq(fault_retryable(FAULT_REQUEST), 0);
	/* A bad request says nothing about the endpoint's health. */
	ck_assert_int_eq(fault_counts(FAULT_NONE), 0);
	ck_assert_int_eq(fault_counts(FAULT_TRANSIENT), 1);
	ck_assert_int_eq(fault_counts(FAULT_RATE_LIMIT), 1);
	ck_assert_int_eq(fault_counts(FAULT_ENDPOINT), 1);
	ck_assert_int_eq(fault_counts(FAULT_REQUEST), 0);
	ck_assert_str_eq(fault_name(FAULT_RATE_LIMIT), "rate-limit");
	ck_assert_str_eq(fault_name(FAULT_REQUEST), "request");
}
END_TEST

/* ================================================================ backoff */

START_TEST(backoff_stays_in_bounds_and_spreads)
{
	uint64_t rng = 7;
	const int64_t base = 250, cap = 8000;
	for (unsigned attempt = 0; attempt < 40; attempt++) {
		int64_t ceiling = base;
		for (unsigned i = 0; i < attempt && ceiling < cap; i++)
			ceiling *= 2;
		if (ceiling > cap)
			ceiling = cap;
		int64_t lo = INT64_MAX, hi = -1;
		for (int i = 0; i < 2000; i++) {
			int64_t d = backoff_delay_ms(attempt, base, cap, 0, &rng);
			ck_assert_msg(d >= 0 && d <= ceiling, "attempt %u: %lld not in [0, %lld]",
			              attempt, (long long)d, (long long)ceiling);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
		/* Full jitter: the draws cover the range, not just its top. */
		ck_assert_msg(lo <= ceiling / 10, "attempt %u: lowest %lld", attempt,
		              (long long)lo);
		ck_assert_msg(hi >= ceiling - ceiling / 10, "attempt %u: highest %lld", attempt,
		              (long long)hi);
	}
	/* Huge attempt numbers and caps do not overflow. */
	for (int i = 0; i < 100; i++) {
		int64_t d = backoff_delay_ms(1000, 1000, INT64_MAX / 2, 0, &rng);
		ck_assert(d >= 0 && d <= INT64_MAX / 2);
	}
	ck_assert_int_eq(backoff_delay_ms(5, 0, 1000, 0, &rng), 0);
	ck_assert_int_eq(backoff_delay_ms(5, 100, 0, 0, &rng), 0);
}
END_TEST

START_TEST(backoff_is_deterministic)
{
	uint64_t a = 99, b = 99;
	for (unsigned i = 0; i < 50; i++)
		ck_assert_int_eq(backoff_delay_ms(i % 8, 100, 5000, 0, &a),
		                 backoff_delay_ms(i % 8, 100, 5000, 0, &b));
	/* The caller's state moves on: the next draw is a different one. */
	uint64_t c = 99;
	int64_t first = backoff_delay_ms(10, 100, 1000000, 0, &c);
	int same = 1;
	for (int i = 0; i < 5; i++)
		same &= backoff_delay_ms(10, 100, 1000000, 0, &c) == first;
	ck_assert_int_eq(same, 0);
}
END_TEST

START_TEST(backoff_honours_retry_after)
{
	uint64_t rng = 3;
	for (int i = 0; i < 500; i++) {
		/* A floor: never sooner than asked... */
		int64_t d = backoff_delay_ms(0, 100, 1000, 700, &rng);
		ck_assert(d >= 700 && d <= 1000);
		/* ...even beyond the cap... */
		ck_assert_int_eq(backoff_delay_ms(3, 100, 1000, 30000, &rng), 30000);
		/* ...and a jittered delay above the floor is kept. */
		d = backoff_delay_ms(6, 100, 6400, 10, &rng);
		ck_assert(d >= 10 && d <= 6400);
	}
}
END_TEST

START_TEST(retry_delay_policy)
{
	const struct retry_policy p = {
	    .max_attempts = 3, .base_ms = 100, .cap_ms = 1000, .max_retry_after_ms = 60000};
	uint64_t rng = 1;
	/* Tries 0 and 1 may be followed by another; try 2 was the last. */
	ck_assert_int_ge(retry_delay_ms(&p, 0, FAULT_TRANSIENT, 0, &rng), 0);
	ck_assert_int_ge(retry_delay_ms(&p, 1, FAULT_RATE_LIMIT, 0, &rng), 0);
	ck_assert_int_eq(retry_delay_ms(&p, 2, FAULT_TRANSIENT, 0, &rng), -1);
	/* Not retryable. */
	ck_assert_int_eq(retry_delay_ms(&p, 0, FAULT_REQUEST, 0, &rng), -1);
	ck_assert_int_eq(retry_delay_ms(&p, 0, FAULT_ENDPOINT, 0, &rng), -1);
	ck_assert_int_eq(retry_delay_ms(&p, 0, FAULT_NONE, 0, &rng), -1);
	/* Retry-After: honoured up to the policy's patience. */
	ck_assert_int_eq(retry_delay_ms(&p, 0, FAULT_RATE_LIMIT, 20000, &rng), 20000);
	ck_assert_int_eq(retry_delay_ms(&p, 0, FAULT_RATE_LIMIT, 60001, &rng), -1);
	const struct retry_policy patient = {.max_attempts = 2, .base_ms = 10, .cap_ms = 10};
	ck_assert_int_eq(retry_delay_ms(&patient, 0, FAULT_RATE_LIMIT, 3600000, &rng), 3600000);
	const struct retry_policy once = {.max_attempts = 1, .base_ms = 10, .cap_ms = 10};
	ck_assert_int_eq(retry_delay_ms(&once, 0, FAULT_TRANSIENT, 0, &rng), -1);
}
END_TEST

START_TEST(retry_after_values)
{
	int64_t ms = -1;
	/* 2026-10-02 14:03:00 UTC */
	const int64_t now = 1790949780000LL;
	ck_assert_int_eq(retry_after_parse("120", 0, now, &ms), 0);
	ck_assert_int_eq(ms, 120000);
	ck_assert_int_eq(retry_after_parse(" 0 ", 0, now, &ms), 0);
	ck_assert_int_eq(ms, 0);
	ck_assert_int_eq(retry_after_parse("1.5", 0, now, &ms), 0);
	ck_assert_int_eq(ms, 1500);
	ck_assert_int_eq(retry_after_parse("250", 1, now, &ms), 0);
	ck_assert_int_eq(ms, 250);
	ck_assert_int_eq(retry_after_parse("Fri, 02 Oct 2026 14:03:30 GMT", 0, now, &ms), 0);
	ck_assert_int_eq(ms, 30000);
	ck_assert_int_eq(retry_after_parse("Fri, 02 Oct 2026 14:00:00 GMT", 0, now, &ms), 0);
	ck_assert_int_eq(ms, 0); /* in the past: now */
	ck_assert_int_eq(retry_after_parse("Sat, 03 Oct 2026 00:00:00 GMT", 0, now, &ms), 0);
	ck_assert_int_eq(ms, (10 * 3600 - 3 * 60) * 1000LL);
	static const char *const bad[] = {
	    "",
	    "   ",
	    "-5",
	    "soon",
	    "12abc",
	    "1e999",
	    "Fri, 02 Oct 2026 14:03:30 PST",
	    "Fri, 02 Foo 2026 14:03:30 GMT",
	    "Fri, 02 Oct 2026 25:03:30 GMT",
	    "Fri, 02 Oct 2026 14:03:30 GMT trailing",
	};
	for (size_t i = 0; i < nitems(bad); i++) {
		ms = -7;
		ck_assert_msg(retry_after_parse(bad[i], 0, now, &ms) == -1, "accepted \"%s\"",
		              bad[i]);
		ck_assert_int_eq(ms, -7);
	}
	ck_assert_int_eq(retry_after_parse(NULL, 0, now, &ms), -1);
	/* retry-after-ms has no date form. */
	ck_assert_int_eq(retry_after_parse("Fri, 02 Oct 2026 14:03:30 GMT", 1, now, &ms), -1);
}
END_TEST

/* ======================================================== circuit breaker */

START_TEST(breaker_opens_after_consecutive_failures)
{
	struct breaker b;
	breaker_init(&b, 3, 10000);
	ck_assert_str_eq(breaker_state_name(b.state), "closed");
	int64_t t = 1000;
	/* Two failures, a success: the count starts again. */
	for (int i = 0; i < 2; i++) {
		ck_assert(breaker_allow(&b, t));
		breaker_record(&b, 0, t++);
	}
	ck_assert(breaker_allow(&b, t));
	breaker_record(&b, 1, t++);
	ck_assert_int_eq(b.state, BREAKER_CLOSED);
	for (int i = 0; i < 2; i++) {
		ck_assert(breaker_allow(&b, t));
		breaker_record(&b, 0, t++);
		ck_assert_int_eq(b.state, BREAKER_CLOSED);
	}
	ck_assert(breaker_allow(&b, t));
	breaker_record(&b, 0, t);
	ck_assert_int_eq(b.state, BREAKER_OPEN);
	ck_assert_str_eq(breaker_state_name(b.state), "open");
	ck_assert_uint_eq(b.opens, 1);
	const int64_t opened = t;

	/* Open: nothing goes through until the cooldown is over. */
	ck_assert(!breaker_allow(&b, opened));
	ck_assert(!breaker_allow(&b, opened + 9999));
	ck_assert_int_eq(breaker_wait_ms(&b, opened + 4000), 6000);
	ck_assert_int_eq(b.state, BREAKER_OPEN);
	/* A call from before the trip reporting late changes nothing. */
	breaker_record(&b, 1, opened + 5000);
	ck_assert_int_eq(b.state, BREAKER_OPEN);
	ck_assert(!breaker_allow(&b, opened + 9999));

	/* Half-open: one probe, and only one. */
	ck_assert(breaker_allow(&b, opened + 10000));
	ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
	ck_assert_str_eq(breaker_state_name(b.state), "half-open");
	ck_assert_int_eq(breaker_wait_ms(&b, opened + 10000), 0);
	ck_assert(!breaker_allow(&b, opened + 10001));
	ck_assert(!breaker_allow(&b, opened + 15000));
	/* The probe succeeds: closed, counting from zero. */
	breaker_record(&b, 1, opened + 15000);
	ck_assert_int_eq(b.state, BREAKER_CLOSED);
	ck_assert(breaker_allow(&b, opened + 15001));
	breaker_record(&b, 0, opened + 15001);
	breaker_record(&b, 0, opened + 15002);
	ck_assert_int_eq(b.state, BREAKER_CLOSED);
	breaker_record(&b, 0, opened + 15003);
	ck_assert_int_eq(b.state, BREAKER_OPEN);
	ck_assert_uint_eq(b.opens, 2);
}
END_TEST

START_TEST(breaker_failed_probe_reopens)
{
	struct breaker b;
	breaker_init(&b, 1, 5000);
	ck_assert(breaker_allow(&b, 0));
	breaker_record(&b, 0, 0);
	ck_assert_int_eq(b.state, BREAKER_OPEN);
	ck_assert(breaker_allow(&b, 5000));
	ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
	/* The probe fails: open again, with a fresh cooldown from now. */
	breaker_record(&b, 0, 7000);
	ck_assert_int_eq(b.state, BREAKER_OPEN);
	ck_assert(!breaker_allow(&b, 11999));
	ck_assert_int_eq(breaker_wait_ms(&b, 11000), 1000);
	ck_assert(breaker_allow(&b, 12000));
	ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
	breaker_record(&b, 1, 12001);
	ck_assert_int_eq(b.state, BREAKER_CLOSED);
}
END_TEST

START_TEST(breaker_lost_probe_is_replaced)
{
	struct breaker b;
	breaker_init(&b, 2, 1000);
	breaker_record(&b, 0, 0);
	breaker_record(&b, 0, 0);
	ck_assert(breaker_allow(&b, 1000)); /* the probe, which never reports */
	ck_assert(!breaker_allow(&b, 1999));
	ck_assert(breaker_allow(&b, 2000)); /* a new probe after another cooldown */
	ck_assert(!breaker_allow(&b, 2001));
	ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
	breaker_record(&b, 1, 2500);
	ck_assert_int_eq(b.state, BREAKER_CLOSED);
	ck_assert_int_eq(breaker_wait_ms(&b, 2500), 0);
}
END_TEST

START_TEST(breaker_zero_threshold_and_cooldown)
{
	struct breaker b;
	breaker_init(&b, 0, 0);
	ck_assert_uint_eq(b.threshold, 1);
	breaker_record(&b, 0, 50);
	ck_assert_int_eq(b.state, BREAKER_OPEN);
	/* No cooldown: the next call is the probe. */
	ck_assert(breaker_allow(&b, 50));
	ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
}
END_TEST

static Suite *
resilience_suite(void)
{
	Suite *s = suite_create("resilience");
	TCase *tc = tcase_create("faults");
	tcase_add_test(tc, rng_is_deterministic_and_never_stuck);
	tcase_add_test(tc, classify_statuses);
	tcase_add_test(tc, classify_transport_failures);
	tcase_add_test(tc, fault_properties);
	suite_add_tcase(s, tc);
	tc = tcase_create("backoff");
	tcase_add_test(tc, backoff_stays_in_bounds_and_spreads);
	tcase_add_test(tc, backoff_is_deterministic);
	tcase_add_test(tc, backoff_honours_retry_after);
	tcase_add_test(tc, retry_delay_policy);
	tcase_add_test(tc, retry_after_values);
	suite_add_tcase(s, tc);
	tc = tcase_create("breaker");
	tcase_add_test(tc, breaker_opens_after_consecutive_failures);
	tcase_add_test(tc, breaker_failed_probe_reopens);
	tcase_add_test(tc, breaker_lost_probe_is_replaced);
	tcase_add_test(tc, breaker_zero_threshold_and_cooldown);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(resilience_suite());
}
