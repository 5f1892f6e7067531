/* util.c -- memory, strings, growable buffers, dates, hashing. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static void
oom(size_t n)
{
	fprintf(stderr, "frontline: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		oom(n * size);
	return p;
}

void *
xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);
	if (p == NULL)
		oom(n);
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(old, n * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		oom(0);
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

/* ---------------------------------------------------------------- buf */

void
buf_init(struct buf *b, size_t max)
{
	b->data = xmalloc(64);
	b->data[0] = '\0';
	b->len = 0;
	b->cap = 64;
	b->max = max;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->data[0] = '\0';
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->max != 0 && b->len + n > b->max)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	int r = buf_adds(b, s);
	free(s);
	return r;
}

size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return len;
}

int
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	while (n > 0) {
		size_t l = utf8_seq_len(p, n);
		if (l == 0)
			return 0;
		p += l;
		n -= l;
	}
	return 1;
}

/* Skips one atom: an escaped character, a bracket expression, or a byte. */
static void
regex_atom(const char **p)
{
	const char *s = *p;
	if (*s == '\\' && s[1] != '\0') {
		*p = s + 2;
		return;
	}
	if (*s != '[') {
		*p = s + 1;
		return;
	}
	s++;
	if (*s == '^')
		s++;
	if (*s == ']') /* a ']' first is one of the set */
		s++;
	while (*s != '\0' && *s != ']') {
		if (*s == '[' && (s[1] == ':' || s[1] == '.' || s[1] == '=')) {
			const char *end = strstr(s + 2, (char[]){s[1], ']', '\0'});
			s = end ? end + 2 : s + 1;
		} else
			s++;
	}
	*p = *s == ']' ? s + 1 : s;
}

/* The decimal number at *p (digits only), moving past it. */
static double
regex_count(const char **p)
{
	double v = 0;
	for (; isdigit((unsigned char)**p); (*p)++)
		v = v * 10 + (**p - '0');
	return v;
}

/* The size of the alternatives at *p, up to an unmatched ')' or the end. */
static double
regex_branch(const char **p)
{
	double total = 0, last = 0; /* last: the item a repetition applies to */
	while (**p != '\0' && **p != ')') {
		const char *s = *p;
		if (*s == '|') {
			total += last;
			last = 0;
			*p = s + 1;
		} else if (*s == '(') {
			total += last;
			*p = s + 1;
			last = regex_branch(p) + 1;
			if (**p == ')')
				(*p)++;
		} else if (*s == '*' || *s == '?') {
			last += 1;
			*p = s + 1;
		} else if (*s == '+') {
			last = last * 2 + 1;
			*p = s + 1;
		} else if (*s == '{' && (isdigit((unsigned char)s[1]) || s[1] == ',')) {
			const char *end = s + 1;
			double m = regex_count(&end), n = m;
			if (*end == ',') {
				end++;
				n = isdigit((unsigned char)*end) ? regex_count(&end)
				                                 : m + 1; /* {m,} */
			}
			if (*end == '}') {
				last = last * (n > m ? n : m) + 1;
				*p = end + 1;
			} else { /* not a repetition: a literal '{' */
				total += last;
				last = 1;
				*p = s + 1;
			}
		} else {
			total += last;
			last = 1;
			regex_atom(p);
		}
	}
	return total + last;
}

/*
 * The deepest nesting of repetitions in the alternatives at *p (up to an
 * unmatched ')' or the end): "a*" is 1, "(a*)+" and "a*+" are 2.
 */
static int
regex_nesting(const char **p)
{
	int deepest = 0, last = 0; /* last: the item a repetition applies to */
	while (**p != '\0' && **p != ')') {
		const char *s = *p;
		if (*s == '|') {
			last = 0;
			*p = s + 1;
		} else if (*s == '(') {
			*p = s + 1;
			last = regex_nesting(p);
			if (**p == ')')
				(*p)++;
		} else if (*s == '*' || *s == '?' || *s == '+' ||
		           (*s == '{' && (isdigit((unsigned char)s[1]) || s[1] == ','))) {
			last++;
			if (*s == '{') {
				const char *end = strchr(s, '}');
				*p = end ? end + 1 : s + 1;
			} else
				*p = s + 1;
		} else {
			last = 0;
			regex_atom(p);
		}
		if (last > deepest)
			deepest = last;
	}
	return deepest;
}

int
regex_repetition_depth(const char *re)
{
	int deepest = 0;
	while (*re != '\0') {
		int d = regex_nesting(&re);
		if (d > deepest)
			deepest = d;
		if (*re == ')')
			re++;
	}
	return deepest;
}

double
regex_size(const char *re)
{
	double size = 0;
	while (*re != '\0') {
		size += regex_branch(&re);
		if (*re == ')')
			re++;
	}
	return size;
}

int
buf_json_str(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	int rc = buf_addc(b, '"');
	while (n > 0 && rc == 0) {
		unsigned char c = *p;
		size_t l;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			rc = buf_add(b, e, 2);
			l = 1;
		} else if (c < 0x20 || c == 0x7f) {
			char e[8];
			snprintf(e, sizeof e, "\\u%04x", c);
			rc = buf_adds(b, e);
			l = 1;
		} else if ((l = utf8_seq_len(p, n)) == 0) {
			rc = buf_adds(b, "\xef\xbf\xbd"); /* U+FFFD */
			l = 1;
		} else
			rc = buf_add(b, p, l);
		p += l;
		n -= l;
	}
	return rc == 0 ? buf_addc(b, '"') : rc;
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data;
	buf_init(b, b->max);
	return p;
}

/* --------------------------------------------------------------- strv */

void
strv_take(struct strv *sv, char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xreallocarray(sv->v, sv->cap, sizeof *sv->v);
	}
	sv->v[sv->n++] = s;
}

void
strv_add(struct strv *sv, const char *s)
{
	strv_take(sv, xstrdup(s));
}

int
strv_contains(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

void
strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

/* ------------------------------------------------------------ strings */

int
str_casecontains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return 1;
	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

char *
str_trim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	size_t i = 0;
	while (isspace((unsigned char)s[i]))
		i++;
	if (i > 0)
		memmove(s, s + i, n - i + 1);
	return s;
}

char *
str_slug(const char *s)
{
	struct buf b;
	buf_init(&b, 0);
	int dash = 0;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c)) {
			if (dash && b.len > 0)
				buf_addc(&b, '-');
			buf_addc(&b, (char)tolower(c));
			dash = 0;
		} else
			dash = 1;
	}
	char *r = xstrdup(b.data);
	buf_free(&b);
	return r;
}

int
str_endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

char *
file_read(const char *path, size_t max, size_t *lenp, char **cause)
{
	if (max == 0)
		max = 64u << 20;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		int e = errno;
		*cause = xasprintf("%s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	struct buf b;
	buf_init(&b, max);
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			*cause = xasprintf("%s: %s", path, strerror(e));
			close(fd);
			buf_free(&b);
			errno = e;
			return NULL;
		}
		if (buf_add(&b, chunk, (size_t)n) != 0) {
			*cause = xasprintf("%s: file larger than %zu bytes", path, max);
			close(fd);
			buf_free(&b);
			errno = EFBIG;
			return NULL;
		}
	}
	close(fd);
	if (lenp != NULL)
		*lenp = b.len;
	return b.data;
}

int
file_write_atomic(const char *path, const void *data, size_t len, int mode, char **cause)
{
	char *tmp = xasprintf("%s.tmp-XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		*cause = xasprintf("%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	const char *p = data;
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	*cause = xasprintf("%s: %s", path, strerror(errno ? errno : EIO));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

/* -------------------------------------------------------------- dates */

/* Days from civil, after Howard Hinnant's algorithm. */
static long
days_from_civil(long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static void
civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long yy = (long)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

int
date_parse(const char *s, long *days)
{
	for (int i = 0; i < 10; i++) {
		if (i == 4 || i == 7) {
			if (s[i] != '-')
				return -1;
		} else if (!isdigit((unsigned char)s[i]))
			return -1;
	}
	if (s[10] != '\0')
		return -1;
	long y = strtol(s, NULL, 10);
	unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12 || d < 1)
		return -1;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 && leap))
		return -1;
	*days = days_from_civil(y, m, d);
	return 0;
}

void
date_format(long days, char out[11])
{
	long y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = 0;
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, m % 13u, d % 32u);
}

int
date_today(long *days, char **cause)
{
	const char *env = getenv("FRONTLINE_TODAY");
	if (env != NULL && *env != '\0') {
		if (date_parse(env, days) != 0) {
			*cause =
			    xasprintf("FRONTLINE_TODAY=%s: expected a date as YYYY-MM-DD", env);
			return -1;
		}
		return 0;
	}
	*days = (long)(time(NULL) / 86400);
	return 0;
}

/* ------------------------------------------------------------ hashing */

uint64_t
hash_fnv1a(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t S1 = ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25);
		uint32_t ch = (e & f) ^ (~e & g);
		uint32_t t1 = hh + S1 + ch + K256[i] + w[i];
		uint32_t S0 = ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22);
		uint32_t mj = (a & b) ^ (a & c) ^ (b & c);
		uint32_t t2 = S0 + mj;
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
}

void
sha256_hex(const void *data, size_t len, char out[65])
{
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	const unsigned char *p = data;
	size_t left = len;
	while (left >= 64) {
		sha256_block(h, p);
		p += 64;
		left -= 64;
	}
	unsigned char tail[128] = {0};
	memcpy(tail, p, left);
	tail[left] = 0x80;
	size_t tl = left + 1 + 8 <= 64 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		tail[tl - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha256_block(h, tail);
	if (tl == 128)
		sha256_block(h, tail + 64);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", h[i]);
}
