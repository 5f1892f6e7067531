/* settings.h -- the config file: tool backends, model endpoints, agents, prices. */
#ifndef FL_SETTINGS_H
#define FL_SETTINGS_H

#include <stddef.h>

#include "diag.h"
#include "openai-wire.h"

/*
 * The config file is YAML, $XDG_CONFIG_HOME/frontline/config.yaml unless
 * --config names another; frontline-config(5) documents it. Every key is
 * optional: without a file the defaults below hold (offline engine, the
 * shipped customer fixture). Secrets never live in it: keys and tokens are
 * named by the environment variable that holds them.
 */

enum agent_role {
	AGENT_TRIAGE,
	AGENT_RESOLUTION,
	AGENT_KNOWLEDGE, /* knowledge synthesis */
	AGENT_HANDOFF,
	AGENT_EMBEDDINGS,
	AGENT__N,
};
extern const char *const agent_role_names[];

enum backend_kind { BACKEND_OFFLINE, BACKEND_OPENAI, BACKEND__N };
extern const char *const backend_kind_names[];

enum tools_kind { TOOLS_FIXTURE, TOOLS_HTTP };
extern const char *const tools_kind_names[];

struct tools_settings {
	enum tools_kind kind;
	char *fixture; /* NULL: the data directory's data/fixtures/customers.json */
	char *account_url, *order_url, *credit_url, *resend_url; /* http URL templates */
	long timeout_ms;
	char *token_env; /* the bearer token's environment variable, or NULL */
};

/* An OpenAI-compatible endpoint and what it supports. */
struct endpoint_settings {
	char *name;
	char *base_url;    /* NULL: $OPENAI_BASE_URL, else https://api.openai.com/v1 */
	char *api_key_env; /* default OPENAI_API_KEY */
	struct model_caps
	    caps; /* structured output, tools, tool_choice, stream usage, max-tokens field */
	long connect_timeout_ms, first_byte_timeout_ms, total_timeout_ms;
	int max_retries;
	long backoff_base_ms, backoff_cap_ms;
	int breaker_failures;
	long breaker_cooldown_ms;
};

struct agent_settings {
	enum backend_kind backend;
	char *model;    /* NULL for embeddings: no hybrid retrieval */
	char *endpoint; /* an endpoint's name; default "openai" */
	char *prompt;   /* system prompt file; NULL: the data directory's data/prompts/ROLE.txt */
	int max_tool_rounds, max_tokens;
	double temperature;
	int stream; /* answers arrive as a stream (SSE); resolution by default */
};

struct price_settings {
	char *model;
	double input_per_mtok, output_per_mtok; /* USD per million tokens */
};

struct settings {
	char *path; /* the file read, or NULL when none was */
	/* The store: a SQLite path or a postgresql:// URI (no password: libpq
	 * reads PGPASSWORD or ~/.pgpass); NULL for the default path. */
	char *database;
	struct tools_settings tools;
	struct endpoint_settings *endpoints; /* "openai" is always there */
	size_t nendpoints;
	struct agent_settings agents[AGENT__N];
	struct price_settings *prices;
	size_t nprices;
};

/*
 * Loads path. When path does not exist and required is 0, returns the
 * defaults (path NULL). Errors (file:line:col) go to d and return NULL.
 * Relative file names in the file are taken relative to its directory.
 * The caller frees the result with settings_free().
 */
struct settings *settings_load(const char *path, int required, struct diag *d);
/* The defaults, as if no file existed. */
struct settings *settings_default(void);
void settings_free(struct settings *);
/* The endpoint named name, or NULL. */
const struct endpoint_settings *settings_endpoint(const struct settings *, const char *name);

#endif
