/* settings.c -- the config file: schema, defaults, loading. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "settings.h"
#include "types.h"
#include "ydoc.h"

const char *const agent_role_names[] = {"triage",  "resolution", "knowledge",
                                        "handoff", "embeddings", NULL};
const char *const backend_kind_names[] = {"offline", "openai", NULL};
const char *const tools_kind_names[] = {"fixture", "http", NULL};

/* Default models: a small fast model for triage, handoff and synthesis, a frontier model to
 * resolve. */
static const char *const default_models[AGENT__N] = {"gpt-4o-mini", "gpt-4o", "gpt-4o-mini",
                                                     "gpt-4o-mini", NULL};

/* ------------------------------------------------------------- schema */

static const struct ykey k_http[] = {
    {.name = "account_url", .type = Y_STR},
    {.name = "order_url", .type = Y_STR},
    {.name = "credit_url", .type = Y_STR},
    {.name = "resend_url", .type = Y_STR},
    {.name = "timeout_ms", .type = Y_INT, .min = 100, .max = 600000},
    {.name = "token_env", .type = Y_STR},
    {0},
};
static const struct ykey k_tools[] = {
    {.name = "backend", .type = Y_ENUM, .values = tools_kind_names},
    {.name = "fixture", .type = Y_STR},
    {.name = "http", .type = Y_MAP, .sub = k_http},
    {0},
};
static const struct ykey k_timeouts[] = {
    {.name = "connect_ms", .type = Y_INT, .min = 100, .max = 600000},
    {.name = "first_byte_ms", .type = Y_INT, .min = 0, .max = 600000},
    {.name = "total_ms", .type = Y_INT, .min = 100, .max = 3600000},
    {0},
};
static const struct ykey k_backoff[] = {
    {.name = "base_ms", .type = Y_INT, .min = 1, .max = 600000},
    {.name = "cap_ms", .type = Y_INT, .min = 1, .max = 3600000},
    {0},
};
static const struct ykey k_breaker[] = {
    {.name = "failures", .type = Y_INT, .min = 1, .max = 10000},
    {.name = "cooldown_ms", .type = Y_INT, .min = 0, .max = 3600000},
    {0},
};
static const struct ykey k_endpoint[] = {
    {.name = "base_url", .type = Y_STR},
    {.name = "api_key_env", .type = Y_STR},
    {.name = "preset", .type = Y_STR},
    {.name = "structured_output", .type = Y_ENUM, .values = wire_output_names},
    {.name = "tools", .type = Y_BOOL},
    {.name = "tool_choice", .type = Y_BOOL},
    {.name = "stream_usage", .type = Y_BOOL},
    {.name = "max_tokens_field", .type = Y_ENUM, .values = wire_max_tokens_names},
    {.name = "timeouts", .type = Y_MAP, .sub = k_timeouts},
    {.name = "retries", .type = Y_INT, .min = 0, .max = 10},
    {.name = "backoff", .type = Y_MAP, .sub = k_backoff},
    {.name = "breaker", .type = Y_MAP, .sub = k_breaker},
    {0},
};
static const struct ykey k_endpoint_map = {.type = Y_MAP, .sub = k_endpoint};
static const struct ykey k_agent[] = {
    {.name = "backend", .type = Y_ENUM, .values = backend_kind_names},
    {.name = "model", .type = Y_STR},
    {.name = "endpoint", .type = Y_STR},
    {.name = "prompt", .type = Y_STR},
    {.name = "max_tool_rounds", .type = Y_INT, .min = 0, .max = 16},
    {.name = "max_tokens", .type = Y_INT, .min = 1, .max = 1000000},
    {.name = "temperature", .type = Y_NUM, .min = 0, .max = 2},
    {.name = "stream", .type = Y_BOOL},
    {0},
};
static const struct ykey k_agents[] = {
    {.name = "triage", .type = Y_MAP, .sub = k_agent},
    {.name = "resolution", .type = Y_MAP, .sub = k_agent},
    {.name = "knowledge", .type = Y_MAP, .sub = k_agent},
    {.name = "handoff", .type = Y_MAP, .sub = k_agent},
    {.name = "embeddings", .type = Y_MAP, .sub = k_agent},
    {0},
};
static const struct ykey k_price[] = {
    {.name = "input_per_mtok", .type = Y_NUM, .min = 0, .max = 1e6, .required = 1},
    {.name = "output_per_mtok", .type = Y_NUM, .min = 0, .max = 1e6, .required = 1},
    {0},
};
static const struct ykey k_price_map = {.type = Y_MAP, .sub = k_price};
static const struct ykey k_top[] = {
    {.name = "database", .type = Y_STR},
    {.name = "tools", .type = Y_MAP, .sub = k_tools},
    {.name = "endpoints", .type = Y_DICT, .sub = &k_endpoint_map},
    {.name = "agents", .type = Y_MAP, .sub = k_agents},
    {.name = "prices", .type = Y_DICT, .sub = &k_price_map},
    {0},
};
static const struct ykey k_root = {.type = Y_MAP, .sub = k_top};

/* ----------------------------------------------------------- defaults */

static void
endpoint_defaults(struct endpoint_settings *e, const char *name)
{
	memset(e, 0, sizeof *e);
	e->name = xstrdup(name);
	e->api_key_env = xstrdup("OPENAI_API_KEY");
	e->caps = (struct model_caps){.output = WIRE_OUTPUT_JSON_SCHEMA,
	                              .tools = 1,
	                              .tool_choice = 1,
	                              .temperature = 1,
	                              .stream_usage = 1,
	                              .max_tokens_field = WIRE_MAX_TOKENS};
	e->connect_timeout_ms = 3000;
	e->first_byte_timeout_ms = 20000;
	e->total_timeout_ms = 60000;
	e->max_retries = 2;
	e->backoff_base_ms = 250;
	e->backoff_cap_ms = 4000;
	e->breaker_failures = 5;
	e->breaker_cooldown_ms = 30000;
}

struct settings *
settings_default(void)
{
	struct settings *s = xcalloc(1, sizeof *s);
	s->tools.kind = TOOLS_FIXTURE;
	s->tools.timeout_ms = 5000;
	s->endpoints = xcalloc(1, sizeof *s->endpoints);
	s->nendpoints = 1;
	endpoint_defaults(&s->endpoints[0], "openai");
	for (int i = 0; i < AGENT__N; i++) {
		struct agent_settings *a = &s->agents[i];
		a->backend = BACKEND_OFFLINE;
		a->model = default_models[i] ? xstrdup(default_models[i]) : NULL;
		a->endpoint = xstrdup("openai");
		a->max_tool_rounds = 4;
		a->max_tokens = i == AGENT_RESOLUTION ? 700 : 500;
		a->temperature = i == AGENT_RESOLUTION ? 0.3 : 0;
		a->stream = i == AGENT_RESOLUTION;
	}
	return s;
}

/* ------------------------------------------------------------ loading */

/* A file name from the config, relative to the config file's directory. */
static char *
path_from(const char *cfg, const char *name)
{
	if (name[0] == '/' || strchr(cfg, '/') == NULL)
		return xstrdup(name);
	return xasprintf("%.*s/%s", (int)(strrchr(cfg, '/') - cfg), cfg, name);
}

static void
replace(char **slot, const char *value)
{
	if (value == NULL)
		return;
	free(*slot);
	*slot = xstrdup(value);
}

static void
check_url(struct ydoc *y, yaml_node_t *map, const char *key, struct diag *d)
{
	yaml_node_t *n = ydoc_get(y, map, key);
	if (n == NULL)
		return;
	const char *u = ydoc_str(n);
	if (strncasecmp(u, "http://", 7) != 0 && strncasecmp(u, "https://", 8) != 0)
		diag_error(d, y->file, ydoc_line(y, n), ydoc_col(n),
		           "%s must start with http:// or https://", key);
}

static void
load_tools(struct settings *s, struct ydoc *y, yaml_node_t *t, struct diag *d)
{
	struct tools_settings *ts = &s->tools;
	const char *kind = ydoc_str_or_null(y, t, "backend");
	if (kind != NULL && strcmp(kind, "http") == 0)
		ts->kind = TOOLS_HTTP;
	const char *fix = ydoc_str_or_null(y, t, "fixture");
	if (fix != NULL)
		ts->fixture = path_from(y->file, fix);
	yaml_node_t *h = ydoc_get(y, t, "http");
	static const char *const urls[] = {"account_url", "order_url", "credit_url", "resend_url"};
	char **slots[] = {&ts->account_url, &ts->order_url, &ts->credit_url, &ts->resend_url};
	for (size_t i = 0; i < 4; i++) {
		check_url(y, h, urls[i], d);
		replace(slots[i], ydoc_str_or_null(y, h, urls[i]));
	}
	ts->timeout_ms = ydoc_int_or(y, h, "timeout_ms", ts->timeout_ms);
	replace(&ts->token_env, ydoc_str_or_null(y, h, "token_env"));
	if (ts->kind == TOOLS_HTTP && (ts->account_url == NULL || ts->order_url == NULL))
		diag_error(d, y->file, ydoc_line(y, t), ydoc_col(t),
		           "tools: the http backend needs http.account_url and http.order_url");
}

static void
load_endpoint(struct endpoint_settings *e, struct ydoc *y, yaml_node_t *m, struct diag *d)
{
	check_url(y, m, "base_url", d);
	replace(&e->base_url, ydoc_str_or_null(y, m, "base_url"));
	replace(&e->api_key_env, ydoc_str_or_null(y, m, "api_key_env"));
	struct model_caps *c = &e->caps;
	/* A preset is the starting point; the flags below override it one by one. */
	yaml_node_t *pn = ydoc_get(y, m, "preset");
	if (pn != NULL) {
		const struct model_caps *pc = wire_preset_find(ydoc_str(pn));
		if (pc != NULL)
			*c = *pc;
		else {
			struct buf names;
			buf_init(&names, 0);
			for (const struct wire_preset *w = wire_presets; w->name != NULL; w++)
				buf_printf(&names, "%s%s", w == wire_presets ? "" : ", ", w->name);
			diag_error(d, y->file, ydoc_line(y, pn), ydoc_col(pn),
			           "preset: no preset named '%s' (there are %s)", ydoc_str(pn),
			           names.data);
			buf_free(&names);
		}
	}
	const char *out = ydoc_str_or_null(y, m, "structured_output");
	if (out != NULL)
		c->output = (enum wire_output)names_find(wire_output_names, out);
	c->tools = ydoc_bool_or(y, m, "tools", c->tools);
	c->tool_choice = ydoc_bool_or(y, m, "tool_choice", c->tool_choice && c->tools);
	c->stream_usage = ydoc_bool_or(y, m, "stream_usage", c->stream_usage);
	const char *mt = ydoc_str_or_null(y, m, "max_tokens_field");
	if (mt != NULL)
		c->max_tokens_field =
		    (enum wire_max_tokens_field)names_find(wire_max_tokens_names, mt);
	yaml_node_t *t = ydoc_get(y, m, "timeouts");
	e->connect_timeout_ms = ydoc_int_or(y, t, "connect_ms", e->connect_timeout_ms);
	e->first_byte_timeout_ms = ydoc_int_or(y, t, "first_byte_ms", e->first_byte_timeout_ms);
	e->total_timeout_ms = ydoc_int_or(y, t, "total_ms", e->total_timeout_ms);
	e->max_retries = (int)ydoc_int_or(y, m, "retries", e->max_retries);
	yaml_node_t *b = ydoc_get(y, m, "backoff");
	e->backoff_base_ms = ydoc_int_or(y, b, "base_ms", e->backoff_base_ms);
	e->backoff_cap_ms = ydoc_int_or(y, b, "cap_ms", e->backoff_cap_ms);
	yaml_node_t *br = ydoc_get(y, m, "breaker");
	e->breaker_failures = (int)ydoc_int_or(y, br, "failures", e->breaker_failures);
	e->breaker_cooldown_ms = ydoc_int_or(y, br, "cooldown_ms", e->breaker_cooldown_ms);
}

static struct endpoint_settings *
endpoint_slot(struct settings *s, const char *name)
{
	for (size_t i = 0; i < s->nendpoints; i++)
		if (strcmp(s->endpoints[i].name, name) == 0)
			return &s->endpoints[i];
	s->endpoints = xreallocarray(s->endpoints, s->nendpoints + 1, sizeof *s->endpoints);
	endpoint_defaults(&s->endpoints[s->nendpoints], name);
	return &s->endpoints[s->nendpoints++];
}

static void
load_agents(struct settings *s, struct ydoc *y, yaml_node_t *agents, struct diag *d)
{
	for (int i = 0; i < AGENT__N; i++) {
		yaml_node_t *m = ydoc_get(y, agents, agent_role_names[i]);
		if (m == NULL)
			continue;
		struct agent_settings *a = &s->agents[i];
		const char *be = ydoc_str_or_null(y, m, "backend");
		if (be != NULL)
			a->backend = strcmp(be, "openai") == 0 ? BACKEND_OPENAI : BACKEND_OFFLINE;
		replace(&a->model, ydoc_str_or_null(y, m, "model"));
		yaml_node_t *ep = ydoc_get(y, m, "endpoint");
		if (ep != NULL) {
			if (settings_endpoint(s, ydoc_str(ep)) == NULL)
				diag_error(
				    d, y->file, ydoc_line(y, ep), ydoc_col(ep),
				    "agents.%s.endpoint: no endpoint named '%s' under endpoints",
				    agent_role_names[i], ydoc_str(ep));
			replace(&a->endpoint, ydoc_str(ep));
		}
		const char *prompt = ydoc_str_or_null(y, m, "prompt");
		if (prompt != NULL) {
			free(a->prompt);
			a->prompt = path_from(y->file, prompt);
		}
		a->max_tool_rounds = (int)ydoc_int_or(y, m, "max_tool_rounds", a->max_tool_rounds);
		a->max_tokens = (int)ydoc_int_or(y, m, "max_tokens", a->max_tokens);
		a->temperature = ydoc_num_or(y, m, "temperature", a->temperature);
		a->stream = ydoc_bool_or(y, m, "stream", a->stream);
		if (i == AGENT_EMBEDDINGS && a->backend == BACKEND_OPENAI && a->model == NULL)
			diag_error(d, y->file, ydoc_line(y, m), ydoc_col(m),
			           "agents.embeddings: the openai backend needs a model");
	}
}

static struct settings *
settings_load_text(const char *path, const char *text, size_t len, struct diag *d)
{
	struct ydoc y;
	int errors0 = d->errors;
	struct settings *s = settings_default();
	s->path = xstrdup(path);
	if (ydoc_load(&y, path, text, len, 0, d) != 0) {
		settings_free(s);
		return NULL;
	}
	yaml_node_t *root = ydoc_root(&y);
	if (root == NULL) { /* an empty file: the defaults */
		ydoc_free(&y);
		return s;
	}
	ydoc_check(&y, root, &k_root, "", d);
	if (d->errors == errors0) {
		/* A SQLite path is taken relative to the config file; a URI as it is. */
		yaml_node_t *dbn = ydoc_get(&y, root, "database");
		const char *db = dbn ? ydoc_str(dbn) : NULL;
		if (db != NULL && *db == '\0')
			diag_error(d, y.file, ydoc_line(&y, dbn), ydoc_col(dbn),
			           "database is empty");
		else if (db != NULL)
			s->database =
			    strstr(db, "://") != NULL ? xstrdup(db) : path_from(y.file, db);
		load_tools(s, &y, ydoc_get(&y, root, "tools"), d);
		yaml_node_t *eps = ydoc_get(&y, root, "endpoints");
		YDOC_FOR_PAIRS(&y, eps, pr)
		{
			const char *name = ydoc_str(yaml_document_get_node(&y.doc, pr->key));
			load_endpoint(endpoint_slot(s, name), &y,
			              yaml_document_get_node(&y.doc, pr->value), d);
		}
		load_agents(s, &y, ydoc_get(&y, root, "agents"), d);
		yaml_node_t *prices = ydoc_get(&y, root, "prices");
		YDOC_FOR_PAIRS(&y, prices, pr)
		{
			yaml_node_t *v = yaml_document_get_node(&y.doc, pr->value);
			s->prices = xreallocarray(s->prices, s->nprices + 1, sizeof *s->prices);
			struct price_settings *p = &s->prices[s->nprices++];
			p->model = xstrdup(ydoc_str(yaml_document_get_node(&y.doc, pr->key)));
			p->input_per_mtok = ydoc_num_or(&y, v, "input_per_mtok", 0);
			p->output_per_mtok = ydoc_num_or(&y, v, "output_per_mtok", 0);
		}
	}
	ydoc_free(&y);
	if (d->errors > errors0) {
		settings_free(s);
		return NULL;
	}
	return s;
}

struct settings *
settings_load(const char *path, int required, struct diag *d)
{
	struct stat sb;
	if (!required && stat(path, &sb) != 0 && errno == ENOENT)
		return settings_default();
	size_t len;
	char *text = ydoc_read(path, 1u << 20, &len, d);
	if (text == NULL)
		return NULL;
	struct settings *s = settings_load_text(path, text, len, d);
	free(text);
	return s;
}

const struct endpoint_settings *
settings_endpoint(const struct settings *s, const char *name)
{
	for (size_t i = 0; i < s->nendpoints; i++)
		if (strcmp(s->endpoints[i].name, name) == 0)
			return &s->endpoints[i];
	return NULL;
}

void
settings_free(struct settings *s)
{
	if (s == NULL)
		return;
	free(s->path);
	free(s->database);
	struct tools_settings *t = &s->tools;
	free(t->fixture);
	free(t->account_url);
	free(t->order_url);
	free(t->credit_url);
	free(t->resend_url);
	free(t->token_env);
	for (size_t i = 0; i < s->nendpoints; i++) {
		struct endpoint_settings *e = &s->endpoints[i];
		free(e->name);
		free(e->base_url);
		free(e->api_key_env);
	}
	free(s->endpoints);
	for (int i = 0; i < AGENT__N; i++) {
		free(s->agents[i].model);
		free(s->agents[i].endpoint);
		free(s->agents[i].prompt);
	}
	for (size_t i = 0; i < s->nprices; i++)
		free(s->prices[i].model);
	free(s->prices);
	free(s);
}
