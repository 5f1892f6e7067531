/* check_util.c -- buffers, strings, files, dates and hashes (src/util.c). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util.h"

/* ---------------------------------------------------------------- buf */

START_TEST(buf_max_refuses_and_leaves_buffer_unchanged)
{
	struct buf b;
	buf_init(&b, 8);
	ck_assert_int_eq(buf_adds(&b, "12345"), 0);
	ck_assert_int_eq(buf_adds(&b, "6789"), -1); /* 9 > 8 */
	ck_assert_uint_eq(b.len, 5);
	ck_assert_str_eq(b.data, "12345");
	ck_assert_int_eq(buf_printf(&b, "%s", "abcd"), -1);
	ck_assert_str_eq(b.data, "12345");
	/* Filling up to exactly the maximum is allowed, one byte more is not. */
	ck_assert_int_eq(buf_adds(&b, "678"), 0);
	ck_assert_uint_eq(b.len, 8);
	ck_assert_int_eq(buf_addc(&b, 'x'), -1);
	ck_assert_str_eq(b.data, "12345678");
	ck_assert_uint_eq(b.len, 8);
	buf_free(&b);
}
END_TEST

START_TEST(buf_unbounded_grows_and_steal_resets)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_printf(&b, "%03d,", i), 0);
	ck_assert_uint_eq(b.len, 4000);
	ck_assert_uint_eq(strlen(b.data), 4000);
	ck_assert(strncmp(b.data, "000,001,", 8) == 0);
	ck_assert_str_eq(b.data + 3996, "999,");
	char *s = buf_steal(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	ck_assert_uint_eq(strlen(s), 4000);
	free(s);
	/* Binary data keeps its length and stays NUL-terminated. */
	ck_assert_int_eq(buf_add(&b, "a\0b", 3), 0);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(b.data[3], '\0');
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	buf_free(&b);
}
END_TEST

/* ---------------------------------------------------------- strings */

START_TEST(str_slug_makes_kebab_case)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"Reset a Forgotten Password", "reset-a-forgotten-password"},
	    {"Disputes of $500 or less", "disputes-of-500-or-less"},
	    {"  --Hello,   World!--  ", "hello-world"},
	    {"Acme Cam Indoor and Cam Outdoor", "acme-cam-indoor-and-cam-outdoor"},
	    {"already-a-slug", "already-a-slug"},
	    {"Expedited shipping & costs", "expedited-shipping-costs"},
	    {"24/7 monitoring", "24-7-monitoring"},
	    {"", ""},
	    {"!!!", ""},
	};
	for (size_t i = 0; i < nitems(cases); i++) {
		char *s = str_slug(cases[i].in);
		ck_assert_msg(strcmp(s, cases[i].out) == 0,
		              "str_slug(\"%s\") = \"%s\", want \"%s\"", cases[i].in, s,
		              cases[i].out);
		free(s);
	}
}
END_TEST

START_TEST(utf8_valid_checks_every_sequence)
{
	ck_assert(utf8_valid("", 0));
	ck_assert(utf8_valid("plain", 5));
	ck_assert(utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
	ck_assert(!utf8_valid("caf\xc3", 4));  /* cut short */
	ck_assert(!utf8_valid("\xc0\xaf", 2)); /* overlong */
	ck_assert(!utf8_valid("a\xff"
	                      "b",
	                      3));                 /* never valid */
	ck_assert(!utf8_valid("\xe2\x28\xa1", 3)); /* a bad continuation */
	ck_assert(utf8_valid("\xc3\xa9\xc3", 2));  /* only n bytes are looked at */
}
END_TEST

START_TEST(str_helpers)
{
	char s[] = " \t padded text \n ";
	ck_assert_str_eq(str_trim(s), "padded text");
	char e[] = "   ";
	ck_assert_str_eq(str_trim(e), "");
	ck_assert(str_casecontains("Standard SHIPPING takes", "shipping"));
	ck_assert(!str_casecontains("Standard shipping", "shipped"));
	ck_assert(str_endswith("kb/returns/window.md", ".md"));
	ck_assert(!str_endswith("md", ".md"));

	struct strv sv = {0};
	for (int i = 0; i < 20; i++) {
		char w[8];
		snprintf(w, sizeof w, "w%d", i);
		strv_add(&sv, w);
	}
	ck_assert_uint_eq(sv.n, 20);
	ck_assert(strv_contains(&sv, "w19"));
	ck_assert(!strv_contains(&sv, "w20"));
	strv_free(&sv);
	ck_assert_uint_eq(sv.n, 0);
}
END_TEST

/* -------------------------------------------------------------- files */

START_TEST(file_read_refuses_a_file_bigger_than_max)
{
	char *dir = tmpdir_new();
	char text[101];
	memset(text, 'x', 100);
	text[100] = '\0';
	char *path = tmpfile_with(dir, "hundred.txt", text);
	char *cause = NULL;
	size_t len = 0;

	errno = 0;
	char *got = file_read(path, 99, &len, &cause);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, path) != NULL && strstr(cause, "99") != NULL, "cause: %s",
	              cause);
	free(cause);

	/* Exactly max bytes is fine. */
	got = file_read(path, 100, &len, &cause);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(len, 100);
	ck_assert_str_eq(got, text);
	free(got);

	/* A missing file: NULL, errno kept, the path in the cause. */
	char *missing = xasprintf("%s/missing.txt", dir);
	cause = NULL;
	got = file_read(missing, 0, &len, &cause);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(cause, missing));
	free(cause);

	free(missing);
	free(path);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(file_read_reads_binary_and_large_files)
{
	char *dir = tmpdir_new();
	char *path = xasprintf("%s/big.bin", dir);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	/* More than one 64 KiB read chunk, with NUL bytes in it. */
	for (int i = 0; i < 200000; i++)
		fputc(i % 251, f);
	fclose(f);
	size_t len = 0;
	char *cause = NULL;
	char *got = file_read(path, 0, &len, &cause);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(len, 200000);
	ck_assert_int_eq((unsigned char)got[199999], 199999 % 251);
	ck_assert_int_eq(got[len], '\0');
	free(got);
	free(path);
	rm_rf(dir);
	free(dir);
}
END_TEST

/* -------------------------------------------------------------- dates */

START_TEST(date_parse_is_strict)
{
	long d = 12345;
	static const char *const bad[] = {
	    "2026-02-29", /* not a leap year */
	    "1900-02-29", /* century, not a leap year */
	    "2026-1-01",  "2026-01-1", "26-01-01",   "2026-01-01x", "2026-01-01 ", " 2026-01-01",
	    "2026/01/01", "20260101",  "2026-13-01", "2026-00-10",  "2026-01-00",  "2026-04-31",
	    "2026-01-32", "",          "2026-01-",   "abcd-ef-gh",  "2026-0a-01",
	};
	for (size_t i = 0; i < nitems(bad); i++) {
		ck_assert_msg(date_parse(bad[i], &d) == -1, "'%s' was accepted", bad[i]);
		ck_assert_int_eq(d, 12345); /* untouched on error */
	}
	static const char *const good[] = {"2024-02-29", "2000-02-29", "2026-12-31",
	                                   "1970-01-01", "2026-04-30", "0001-01-01"};
	for (size_t i = 0; i < nitems(good); i++)
		ck_assert_msg(date_parse(good[i], &d) == 0, "'%s' was refused", good[i]);
}
END_TEST

START_TEST(date_parse_values)
{
	long d;
	ck_assert_int_eq(date_parse("1970-01-01", &d), 0);
	ck_assert_int_eq(d, 0);
	ck_assert_int_eq(date_parse("1970-01-02", &d), 0);
	ck_assert_int_eq(d, 1);
	ck_assert_int_eq(date_parse("2024-02-29", &d), 0);
	ck_assert_int_eq(d, 19782);
	ck_assert_int_eq(date_parse("2026-11-24", &d), 0);
	ck_assert_int_eq(d, 20781);
	long a, b;
	ck_assert_int_eq(date_parse("2024-02-28", &a), 0);
	ck_assert_int_eq(date_parse("2024-03-01", &b), 0);
	ck_assert_int_eq(b - a, 2);
	ck_assert_int_eq(date_parse("2026-02-28", &a), 0);
	ck_assert_int_eq(date_parse("2026-03-01", &b), 0);
	ck_assert_int_eq(b - a, 1);
}
END_TEST

START_TEST(date_format_round_trips)
{
	char out[11];
	date_format(0, out);
	ck_assert_str_eq(out, "1970-01-01");
	date_format(19782, out);
	ck_assert_str_eq(out, "2024-02-29");
	date_format(20781, out);
	ck_assert_str_eq(out, "2026-11-24");
	/* Every day from 1960 to 2100 formats and parses back to itself. */
	long from, to;
	ck_assert_int_eq(date_parse("1960-01-01", &from), 0);
	ck_assert_int_eq(date_parse("2100-12-31", &to), 0);
	for (long day = from; day <= to; day++) {
		long back = -1;
		date_format(day, out);
		ck_assert_msg(date_parse(out, &back) == 0 && back == day, "day %ld -> %s -> %ld",
		              day, out, back);
	}
}
END_TEST

START_TEST(date_today_honours_frontline_today)
{
	long d = 0;
	char *cause = NULL;
	setenv("FRONTLINE_TODAY", "2026-11-24", 1);
	ck_assert_int_eq(date_today(&d, &cause), 0);
	ck_assert_int_eq(d, 20781);
	ck_assert_ptr_null(cause);

	setenv("FRONTLINE_TODAY", "2026-02-29", 1);
	ck_assert_int_eq(date_today(&d, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "FRONTLINE_TODAY") && strstr(cause, "2026-02-29"), "cause: %s",
	              cause);
	free(cause);
	cause = NULL;

	setenv("FRONTLINE_TODAY", "tomorrow", 1);
	ck_assert_int_eq(date_today(&d, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;

	/* Unset: the system clock, some day after this code was written. */
	unsetenv("FRONTLINE_TODAY");
	ck_assert_int_eq(date_today(&d, &cause), 0);
	ck_assert_int_gt(d, 20000);
}
END_TEST

/* ------------------------------------------------------------ hashing */

static void
assert_sha(const void *data, size_t len, const char *want)
{
	char out[65];
	memset(out, '#', sizeof out);
	sha256_hex(data, len, out);
	ck_assert_int_eq(out[64], '\0');
	ck_assert_msg(strcmp(out, want) == 0, "sha256 of %zu bytes: %s, want %s", len, out, want);
}

START_TEST(sha256_known_vectors)
{
	assert_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	assert_sha(two, strlen(two),
	           "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(sha256_padding_boundaries)
{
	/* Lengths around the 55/56 and 64-byte padding edges. */
	static const struct {
		size_t n;
		const char *hex;
	} v[] = {
	    {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
	    {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
	    {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
	    {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
	    {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
	    {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
	    {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
	};
	char a[128];
	memset(a, 'a', sizeof a);
	for (size_t i = 0; i < nitems(v); i++)
		assert_sha(a, v[i].n, v[i].hex);
}
END_TEST

START_TEST(sha256_million_a)
{
	size_t n = 1000000;
	char *a = xmalloc(n);
	memset(a, 'a', n);
	assert_sha(a, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}
END_TEST

START_TEST(fnv1a_known_vectors)
{
	ck_assert_uint_eq(hash_fnv1a("", 0), UINT64_C(0xcbf29ce484222325));
	ck_assert_uint_eq(hash_fnv1a("a", 1), UINT64_C(0xaf63dc4c8601ec8c));
	ck_assert_uint_eq(hash_fnv1a("foobar", 6), UINT64_C(0x85944171f73967e8));
}
END_TEST

static Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("buf");
	tcase_add_test(tc, buf_max_refuses_and_leaves_buffer_unchanged);
	tcase_add_test(tc, buf_unbounded_grows_and_steal_resets);
	suite_add_tcase(s, tc);

	tc = tcase_create("strings");
	tcase_add_test(tc, str_slug_makes_kebab_case);
	tcase_add_test(tc, str_helpers);
	tcase_add_test(tc, utf8_valid_checks_every_sequence);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, file_read_refuses_a_file_bigger_than_max);
	tcase_add_test(tc, file_read_reads_binary_and_large_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("dates");
	tcase_add_test(tc, date_parse_is_strict);
	tcase_add_test(tc, date_parse_values);
	tcase_add_test(tc, date_format_round_trips);
	tcase_add_test(tc, date_today_honours_frontline_today);
	suite_add_tcase(s, tc);

	tc = tcase_create("hashing");
	tcase_add_test(tc, sha256_known_vectors);
	tcase_add_test(tc, sha256_padding_boundaries);
	tcase_add_test(tc, sha256_million_a);
	tcase_add_test(tc, fnv1a_known_vectors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(util_suite());
}
