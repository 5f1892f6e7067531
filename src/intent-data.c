/* intent-data.c -- labelled examples for the intent model: TSV, tickets, review exports. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intent-data.h"
#include "jsonl.h"
#include "replay.h"

const char *const intent_labels[] = {"billing", "technical", "account",      "shipping",
                                     "returns", "general",   "out_of_scope", NULL};
const char *const intent_format_names[] = {"empty", "TSV", "tickets", "review export"};

void
intent_data_add(struct intent_data *d, int label, const char *text)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 1024;
		d->v = xreallocarray(d->v, d->cap, sizeof *d->v);
	}
	d->v[d->n].label = label;
	d->v[d->n].text = xstrdup(text);
	d->n++;
}

void
intent_data_free(struct intent_data *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].text);
	free(d->v);
	memset(d, 0, sizeof *d);
}

/* "a, b or c" of the labels; caller frees. */
static char *
labels_list(void)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < INTENT__N; i++)
		buf_printf(&b, "%s%s",
		           i == 0               ? ""
		           : i == INTENT__N - 1 ? " or "
		                                : ", ",
		           intent_labels[i]);
	char *s = buf_steal(&b);
	buf_free(&b);
	return s;
}

/* One LABEL<TAB>TEXT line; returns 0 or -1 with *cause. */
static int
tsv_line(struct intent_data *d, char *line, size_t len, char **cause)
{
	if (memchr(line, '\0', len) != NULL) {
		*cause = xstrdup("a NUL byte in the line");
		return -1;
	}
	if (!utf8_valid(line, len)) {
		*cause = xstrdup("not valid UTF-8");
		return -1;
	}
	char *tab = memchr(line, '\t', len);
	if (tab == NULL) {
		*cause = xstrdup("expected CATEGORY<TAB>TEXT");
		return -1;
	}
	*tab = '\0';
	char *label = str_trim(line), *text = str_trim(tab + 1);
	int k = names_find(intent_labels, label);
	if (k < 0) {
		char *l = labels_list();
		*cause = xasprintf("unknown category '%.40s' (one of %s)", label, l);
		free(l);
		return -1;
	}
	if (*text == '\0') {
		*cause = xstrdup("no text after the category");
		return -1;
	}
	intent_data_add(d, k, text);
	return 0;
}

static const char *
str_of(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/*
 * The examples of one ticket. In a reviewed handoff the AI's category came
 * from the triage of the turn that handed off: the last customer message
 * before a human answered.
 */
static void
ticket_examples(struct intent_data *d, const struct ticket *t, int all_messages)
{
	const char *cat = str_of(t->labels, "intent_category");
	if (cat == NULL) {
		d->unlabelled++;
		return;
	}
	int label = names_find(intent_labels, cat); /* ticket_parse checked it */
	int reviewed = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(t->json, "review"));
	const char *pick = NULL;
	const cJSON *m;
	cJSON_ArrayForEach(m, t->messages)
	{
		const char *role = str_of(m, "role");
		if (strcmp(role, "human") == 0) {
			if (reviewed && !all_messages)
				break;
			continue;
		}
		if (all_messages)
			intent_data_add(d, label, str_of(m, "text"));
		else if (pick == NULL || reviewed)
			pick = str_of(m, "text");
	}
	if (pick != NULL)
		intent_data_add(d, label, pick);
}

int
intent_data_read(struct intent_data *d, const char *path, int all_messages,
                 enum intent_format *format, struct diag *dg, char **cause)
{
	int from_stdin = strcmp(path, "-") == 0;
	const char *name = from_stdin ? "stdin" : path;
	FILE *in = from_stdin ? stdin : fopen(path, "r");
	if (in == NULL) {
		int e = errno;
		*cause = xasprintf("%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	/* Lines as every JSON Lines file is read (jsonl.h): the same limit for TSV too. */
	enum intent_format f = INTENT_EMPTY;
	struct jsonl rd;
	jsonl_init(&rd, in, name);
	const char *line;
	char *why = NULL, *err = NULL;
	size_t len;
	int got;
	while ((got = jsonl_read(&rd, &line, &len, &why)) != 0 && got != -2) {
		int rc = got == 1 ? 0 : -1; /* -1: too long, why says so with FILE:LINE */
		int first = f == INTENT_EMPTY;
		size_t i = strspn(line, " \t");
		if (rc == 0 && first)
			f = line[i] == '{' ? INTENT_TICKETS : INTENT_TSV;
		if (rc == 0 && f == INTENT_TSV) {
			char *copy = xstrndup(line, len);
			rc = tsv_line(d, copy, len, &err);
			free(copy);
		} else if (rc == 0) {
			struct ticket t;
			if (ticket_line(&rd, line, len, &t, &why) == 1) {
				if (first && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(
				                 t.json, "review")))
					f = INTENT_REVIEWS;
				ticket_examples(d, &t, all_messages);
				ticket_free(&t);
			} else
				rc = -1;
		}
		if (rc != 0) {
			/* The reader's causes start with "NAME:LINE: ", tsv_line's not. */
			const char *msg = err != NULL ? err : why;
			char *at = xasprintf("%s:%ld: ", name, rd.lineno);
			if (err == NULL && strncmp(msg, at, strlen(at)) == 0)
				msg += strlen(at);
			diag_error(dg, name, (int)rd.lineno, 0, "%s", msg);
			free(at);
			free(err);
			free(why);
			err = why = NULL;
			d->bad++;
		}
	}
	jsonl_free(&rd);
	if (!from_stdin)
		fclose(in);
	if (got == -2) {
		*cause = why;
		return -1;
	}
	if (format != NULL)
		*format = f;
	return 0;
}
