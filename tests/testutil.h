/* testutil.h -- shared helpers for the Check suites. */
#ifndef FL_TESTUTIL_H
#define FL_TESTUTIL_H

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "util.h"

/* Path of a file under the source tree (works in VPATH builds); caller frees. */
static inline char *
srcpath(const char *rel)
{
	const char *top = getenv("top_srcdir");
	return xasprintf("%s/%s", top ? top : ".", rel);
}

/* Writes text to the file name in dir (which must exist); caller frees the path. */
static inline char *
tmpfile_with(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static inline char *
tmpdir_new(void)
{
	char *t = xstrdup("/tmp/frontline-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t));
	return t;
}

static inline void
rm_rf(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cmd);
}

/* A whole file's text; the test fails when it cannot be read. Caller frees. */
static inline char *
slurp(const char *path)
{
	char *cause = NULL;
	char *text = file_read(path, 0, NULL, &cause);
	ck_assert_msg(text != NULL, "%s", cause ? cause : path);
	return text;
}

/* Replaces the file's content with text (same inode). */
static inline void
spew(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * Sets a file's modification time to sec seconds since the epoch, so that
 * change detection by stat() does not depend on the clock's resolution.
 */
static inline void
set_mtime(const char *path, long sec)
{
	struct timespec ts[2] = {{.tv_sec = sec, .tv_nsec = 0}, {.tv_sec = sec, .tv_nsec = 0}};
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* text with the first occurrence of from replaced by to; from must occur. Caller frees. */
static inline char *
replace1(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	ck_assert_msg(at != NULL, "'%s' not found in the text", from);
	return xasprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

/* The first diagnostic containing every one of up to three strings, or NULL. */
static inline const char *
diag_find(const struct diag *d, const char *a, const char *b, const char *c)
{
	for (size_t i = 0; i < d->msgs.n; i++) {
		const char *m = d->msgs.v[i];
		if (strstr(m, a) && (b == NULL || strstr(m, b)) && (c == NULL || strstr(m, c)))
			return m;
	}
	return NULL;
}

/* Fails the test unless a diagnostic contains both a and b; shows them all when not. */
#define assert_diag(d, a, b)                                                                       \
	do {                                                                                       \
		if (diag_find((d), (a), (b), NULL) == NULL) {                                      \
			char *all_ = diag_join(d);                                                 \
			ck_abort_msg("no diagnostic with '%s' and '%s' in:\n%s", (a), (b), all_);  \
			free(all_);                                                                \
		}                                                                                  \
	} while (0)

/* Runs a suite, returning the process exit status. */
static inline int
run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
