/* diag.c -- collected diagnostics. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>

#include "diag.h"
#include "safe-text.h"

static void
diag_add(struct diag *d, const char *kind, const char *file, int line, int col, const char *fmt,
         va_list ap)
{
	char *msg = xvasprintf(fmt, ap);
	char *full;
	if (line > 0 && col > 0)
		full = xasprintf("%s:%d:%d: %s%s", file, line, col, kind, msg);
	else if (line > 0)
		full = xasprintf("%s:%d: %s%s", file, line, kind, msg);
	else
		full = xasprintf("%s: %s%s", file, kind, msg);
	free(msg);
	/* Messages quote what the file holds: one inert line, wherever it is shown. */
	strv_take(&d->msgs, text_sanitize_line(full));
	free(full);
}

void
diag_error(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_add(d, "", file, line, col, fmt, ap);
	va_end(ap);
	d->errors++;
}

void
diag_warn(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_add(d, "warning: ", file, line, col, fmt, ap);
	va_end(ap);
	d->warnings++;
}

char *
diag_join(const struct diag *d)
{
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < d->msgs.n; i++) {
		if (i > 0)
			buf_addc(&b, '\n');
		buf_adds(&b, d->msgs.v[i]);
	}
	char *r = xstrdup(b.data);
	buf_free(&b);
	return r;
}

void
diag_free(struct diag *d)
{
	strv_free(&d->msgs);
	d->errors = d->warnings = 0;
}
