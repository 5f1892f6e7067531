/* drift.c -- what a suite prompt did, and how it differs from the baseline. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "textsim.h"
#include "util.h"

static const cJSON *
get(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static cJSON *
dup_or_null(const cJSON *v)
{
	return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

cJSON *
drift_summary(const cJSON *r)
{
	cJSON *o = cJSON_CreateObject();
	static const char *const keys[] = {"id",        "category",          "route",
	                                   "escalated", "escalation_reason", "escalation_turn"};
	for (size_t i = 0; i < nitems(keys); i++) {
		const char *from = strcmp(keys[i], "escalated") == 0 ? "agent_escalated" : keys[i];
		cJSON_AddItemToObject(o, keys[i], dup_or_null(get(r, from)));
	}
	cJSON *viol = cJSON_AddArrayToObject(o, "violations");
	cJSON *replies = cJSON_AddArrayToObject(o, "replies");
	const cJSON *e, *v;
	cJSON_ArrayForEach(e, get(r, "replies"))
	{
		cJSON_AddItemToArray(replies, dup_or_null(get(e, "text")));
		cJSON_ArrayForEach(v, get(get(e, "validation"), "violations"))
		{
			cJSON_AddItemToArray(viol, cJSON_Duplicate(v, 1));
		}
	}
	return o;
}

cJSON *
drift_baseline(const char *version, cJSON *agent, cJSON *prompts)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "version", version);
	cJSON_AddItemToObject(o, "agent", agent ? agent : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "prompts", prompts);
	return o;
}

int
drift_baseline_check(const cJSON *b, char **cause)
{
	if (!cJSON_IsObject(b)) {
		*cause = xstrdup("not a JSON object");
		return -1;
	}
	if (!cJSON_IsString(get(b, "version"))) {
		*cause = xstrdup("no \"version\" string");
		return -1;
	}
	const cJSON *p = get(b, "prompts"), *e;
	if (!cJSON_IsArray(p)) {
		*cause = xstrdup("no \"prompts\" array");
		return -1;
	}
	int i = 0;
	cJSON_ArrayForEach(e, p)
	{
		if (!cJSON_IsObject(e) || !cJSON_IsString(get(e, "id")) ||
		    !cJSON_IsArray(get(e, "replies")) || !cJSON_IsArray(get(e, "violations"))) {
			*cause = xasprintf("prompts[%d] is not a prompt summary (id, replies, "
			                   "violations, ...)",
			                   i);
			return -1;
		}
		i++;
	}
	return 0;
}

static void
regression(cJSON *out, const char *id, const char *field, const cJSON *was, const cJSON *now,
           const char *detail)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "field", field);
	cJSON_AddItemToObject(o, "baseline", dup_or_null(was));
	cJSON_AddItemToObject(o, "current", dup_or_null(now));
	cJSON_AddStringToObject(o, "detail", detail);
	cJSON_AddItemToArray(out, o);
}

/* A value as short text for a detail line; caller frees. */
static char *
show(const cJSON *v)
{
	if (v == NULL || cJSON_IsNull(v))
		return xstrdup("none");
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	return cJSON_PrintUnformatted(v);
}

/* Strings in a that are not in b, joined by ", "; NULL when none. Caller frees. */
static char *
missing_from(const cJSON *a, const cJSON *b)
{
	struct buf out;
	buf_init(&out, 0);
	const cJSON *x, *y;
	cJSON_ArrayForEach(x, a)
	{
		int found = 0;
		cJSON_ArrayForEach(y, b)
		{
			if (cJSON_Compare(x, y, 1)) {
				found = 1;
				break;
			}
		}
		if (!found) {
			char *s = show(x);
			buf_printf(&out, "%s%s", out.len ? ", " : "", s);
			free(s);
		}
	}
	if (out.len == 0) {
		buf_free(&out);
		return NULL;
	}
	char *str = buf_steal(&out);
	buf_free(&out); /* buf_steal leaves a fresh buffer behind */
	return str;
}

static void
compare_one(cJSON *out, const cJSON *was, const cJSON *now, double min_similarity)
{
	const char *id = get(now, "id")->valuestring;
	static const char *const fields[] = {"category", "route", "escalated", "escalation_reason",
	                                     "escalation_turn"};
	for (size_t i = 0; i < nitems(fields); i++) {
		const cJSON *a = get(was, fields[i]), *b = get(now, fields[i]);
		int a_null = a == NULL || cJSON_IsNull(a), b_null = b == NULL || cJSON_IsNull(b);
		if ((a_null && b_null) || (!a_null && !b_null && cJSON_Compare(a, b, 1)))
			continue;
		char *sa = show(a), *sb = show(b);
		char *d = xasprintf("%s was %s, now %s", fields[i], sa, sb);
		regression(out, id, fields[i], a, b, d);
		free(d);
		free(sa);
		free(sb);
	}

	const cJSON *va = get(was, "violations"), *vb = get(now, "violations");
	char *added = missing_from(vb, va), *gone = missing_from(va, vb);
	if (added || gone) {
		char *d = xasprintf("violations%s%s%s%s", added ? " new: " : "", added ? added : "",
		                    gone ? (added ? "; gone: " : " gone: ") : "", gone ? gone : "");
		regression(out, id, "violations", va, vb, d);
		free(d);
	}
	free(added);
	free(gone);

	const cJSON *ra = get(was, "replies"), *rb = get(now, "replies");
	int n = cJSON_GetArraySize(ra) > cJSON_GetArraySize(rb) ? cJSON_GetArraySize(ra)
	                                                        : cJSON_GetArraySize(rb);
	for (int k = 0; k < n; k++) {
		const char *a = cJSON_GetStringValue(cJSON_GetArrayItem(ra, k));
		const char *b = cJSON_GetStringValue(cJSON_GetArrayItem(rb, k));
		char *d = NULL;
		if (a == NULL && b == NULL)
			continue;
		if (a == NULL || b == NULL)
			d = xasprintf("turn %d: %s", k + 1,
			              a == NULL ? "a reply where there was none"
			                        : "no reply any more");
		else {
			double s = textsim_rouge_l(b, a);
			if (s < min_similarity)
				d = xasprintf("turn %d: reply changed (ROUGE-L %.2f < %.2f)", k + 1,
				              s, min_similarity);
		}
		if (d != NULL) {
			cJSON *x = a ? cJSON_CreateString(a) : cJSON_CreateNull();
			cJSON *y = b ? cJSON_CreateString(b) : cJSON_CreateNull();
			regression(out, id, "reply", x, y, d);
			cJSON_Delete(x);
			cJSON_Delete(y);
			free(d);
		}
	}
}

cJSON *
drift_compare(const cJSON *baseline, const cJSON *current, double min_similarity)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *now, *was;
	cJSON_ArrayForEach(now, current)
	{
		const char *id = cJSON_GetStringValue(get(now, "id"));
		if (id == NULL)
			continue;
		const cJSON *match = NULL;
		cJSON_ArrayForEach(was, get(baseline, "prompts"))
		{
			const char *bid = cJSON_GetStringValue(get(was, "id"));
			if (bid != NULL && strcmp(bid, id) == 0) {
				match = was;
				break;
			}
		}
		if (match == NULL) {
			regression(out, id, "missing", NULL, NULL,
			           "no baseline for this prompt (frontline drift --update)");
			continue;
		}
		compare_one(out, match, now, min_similarity);
	}
	return out;
}
