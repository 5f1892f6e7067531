/* cmd.h -- sub-commands: the table entry each cmd-*.c file exports. */
#ifndef FL_CMD_H
#define FL_CMD_H

#include <stdio.h>

#include "agents.h"
#include "kb.h"
#include "policy.h"
#include "settings.h"
#include "tool-backend.h"
#include "triage.h"

/* What the global options and the environment decided for this run. */
struct store;

struct ctx {
	const char *policy_path;
	const char *kb_dir;
	const char *db_path;
	const char *config_path;
	const char *backend;
	char *datadir;
	long today;

	struct policy_watch policy; /* loaded on first use */
	int policy_loaded;
	struct settings *settings; /* the config file, loaded on first use */
	struct loop *loop;         /* the event loop and model client, made on first use */
	struct models *models;
};

struct cmd_entry {
	const char *name; /* "kb" */
	const char *verb; /* "search", or NULL for a one-word command */
	const char *args; /* usage after the name */
	const char *summary;
	/* Runs with argv[0] = the command's own name; returns an exit code. */
	int (*exec)(struct ctx *, int argc, char **argv);
	const char *help; /* the options, one per line */
};

extern const struct cmd_entry cmd_kb_search_entry;
extern const struct cmd_entry cmd_kb_audit_entry;
extern const struct cmd_entry cmd_policy_check_entry;
extern const struct cmd_entry cmd_demo_entry;
extern const struct cmd_entry cmd_triage_entry;
extern const struct cmd_entry cmd_triage_train_entry;
extern const struct cmd_entry cmd_triage_eval_entry;
extern const struct cmd_entry cmd_chat_entry;
extern const struct cmd_entry cmd_customer_entry;
extern const struct cmd_entry cmd_console_entry;
extern const struct cmd_entry cmd_handoff_list_entry;
extern const struct cmd_entry cmd_handoff_show_entry;
extern const struct cmd_entry cmd_replay_entry;
extern const struct cmd_entry cmd_drift_entry;
extern const struct cmd_entry cmd_rollout_status_entry;
extern const struct cmd_entry cmd_rollout_advance_entry;
extern const struct cmd_entry cmd_rollout_rollback_entry;
extern const struct cmd_entry cmd_canary_start_entry;
extern const struct cmd_entry cmd_canary_status_entry;
extern const struct cmd_entry cmd_canary_promote_entry;
extern const struct cmd_entry cmd_canary_rollback_entry;
extern const struct cmd_entry cmd_metrics_entry;
extern const struct cmd_entry cmd_handoff_review_entry;
extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_worker_entry;
extern const struct cmd_entry cmd_db_migrate_entry;
extern const struct cmd_entry cmd_db_status_entry;
extern const struct cmd_entry cmd_db_export_entry;
extern const struct cmd_entry cmd_db_import_entry;

/* Runs the command named by argv; returns an exit code. */
int cmd_dispatch(struct ctx *, int argc, char **argv);
void cmd_usage(FILE *);
/* Prints a command's help. */
void cmd_help(const struct cmd_entry *, FILE *);
/* Handles -h/--help for commands without other options; -1 to go on. */
int cmd_no_options(const struct cmd_entry *, int argc, char **argv);

/*
 * The policy in force, loaded on first use. On error prints every
 * problem to stderr and returns NULL: exit with EX_CONFIG.
 */
struct policy *ctx_policy(struct ctx *);
/*
 * After a file from the data directory failed to load: when no data
 * directory was found at all, says on stderr where frontline looked and
 * the ways out (paths_data_missing).
 */
void ctx_data_hint(void);
/* Reloads the policy when its file changed; reports to stderr. */
void ctx_policy_poll(struct ctx *);
/*
 * Reloads the policy when its file changed and points the agents (and
 * their triage engine) at it. Returns 1 when they changed.
 */
int ctx_agents_policy(struct ctx *, struct agents *);
/* Freshness settings for today under the policy. */
void ctx_freshness(struct ctx *, const struct policy *, struct kb_freshness *);
/* Opens the KB, printing problems in its files as warnings. NULL: exit code in *ex. */
struct kb *ctx_kb(struct ctx *, int *ex);
/*
 * The policy, the open KB (the caller closes it) and today's freshness
 * settings, for commands that retrieve. Returns EX_OK or an exit code.
 */
int ctx_retrieval(struct ctx *, struct policy **, struct kb **, struct kb_freshness *);

/*
 * The offline triage engine for the policy: the model (paths_triage_model:
 * model, else $FRONTLINE_MODEL, else the trained one, else the installed
 * one), the lexicons
 * and rules under the data directory and the KB's catalogue. NULL: the
 * problem was printed and *ex holds the exit code.
 */
struct triage *ctx_triage(struct ctx *, const struct policy *, const char *model, int *ex);

struct classifier;
/*
 * The intent model in use (paths_triage_model: option, else
 * $FRONTLINE_MODEL, else the trained one, else the installed one),
 * loaded; the caller frees it. *path (caller frees) and *source (may be
 * NULL) say which. NULL: the problem was printed and *ex holds 66 for a
 * missing file, 65 for a bad one.
 */
struct classifier *ctx_intent_model(struct ctx *, const char *option, char **path,
                                    const char **source, int *ex);

/*
 * The config file: --config (which must exist), else
 * $XDG_CONFIG_HOME/frontline/config.yaml (defaults when absent). Loaded on
 * first use and owned by ctx. NULL: the problems were printed and *ex
 * holds the exit code.
 */
const struct settings *ctx_settings(struct ctx *, int *ex);

/*
 * The tool backend the config file names (the shipped customer fixture by
 * default); fixture, when not NULL, overrides it with that fixture file.
 * Fills *tb (free with tool_backend_free). Returns EX_OK or an exit code,
 * having printed why.
 */
int ctx_tool_backend(struct ctx *, const char *fixture, struct tool_backend *tb);

/*
 * Which backend each agent runs on (the config file, overridden for every
 * agent by --backend) into ag->backend; when any agent is on a model, the
 * event loop and the model client too (ag->models; owned by ctx). Returns
 * EX_OK or an exit code, having printed why.
 */
int ctx_models(struct ctx *, struct agents *ag);

/*
 * The store: --db, else the config file's database, else
 * $XDG_STATE_HOME/frontline/frontline.db. NULL without HOME, or when the
 * config file is broken (its errors printed). Caller frees.
 */
char *ctx_db_path(struct ctx *);
/* The store at --db or the default; NULL with a message printed and *ex set. */
struct store *ctx_store(struct ctx *, int *ex);
/*
 * Everything a conversation runs on: the policy, the KB, the triage
 * engine, the tool backend (fixture: instead of the config's; may be
 * NULL) and the model client. Returns EX_OK, or an exit code with the
 * problem printed; either way ctx_agents_free releases what was made
 * (ag and tb start zeroed).
 */
int ctx_agents(struct ctx *, const char *fixture, struct agents *, struct tool_backend *);
void ctx_agents_free(struct agents *, struct tool_backend *);

/* Who runs the command, for logs: $USER, else "unknown". */
const char *cmd_actor(void);

/*
 * The rollout and canary in force (src/rollout.h), from the store's
 * logs, for conversations on current (whose policy has the ladder): a
 * running canary's candidate policy is loaded with its own triage
 * engine. Returns EX_OK, or an exit code with the problem printed;
 * ctx_rollout_free releases it either way.
 */
struct rollout_live;
int ctx_rollout(struct ctx *, struct store *, const struct agents *current, struct rollout_live *);
void ctx_rollout_free(struct rollout_live *);

/* Parses a --tier value; on error prints why and returns -1. */
int cmd_parse_tier(const char *arg, enum tier *out);

/* The arguments from argv[from] on, joined by spaces: a query or message. Caller frees. */
char *cmd_join_args(int argc, char **argv, int from);

/* Prints "frontline: message" to stderr. */
void fl_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
