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
	struct progress *kb_progress; /* a command's, for the KB's index when it is rebuilt */
};

/*
 * What an option's value is: the parser checks it, --help names it and the
 * shell completes it (frontline completion bash).
 */
enum cmd_value {
	CMD_FLAG,   /* no value */
	CMD_TEXT,   /* any text */
	CMD_FILE,   /* a path, completed as file names */
	CMD_DIR,    /* a directory */
	CMD_INT,    /* a whole number from min to max */
	CMD_NUMBER, /* a number from min to max */
	CMD_CHOICE, /* one of choices */
};

/*
 * An option a command declares, a row of its table (which ends with {0}).
 * --help and -h are every command's and are not declared.
 */
struct cmd_option {
	const char *name; /* "json" for --json; a single letter is a short option alone (-k) */
	char key;         /* a short form besides the long one (-q for --quiet), or 0 */
	enum cmd_value value;
	const char *arg;            /* the value's name in the usage and help: "FILE" */
	const char *help;           /* one line of prose; --help wraps it */
	double min, max;            /* CMD_INT and CMD_NUMBER: the range, both ends in */
	const char *const *choices; /* CMD_CHOICE: NULL-terminated */
	/*
	 * A further check of the value, or NULL: 0, or -1 with *what set
	 * to what the value must be ("a rating from 1 to 5").
	 */
	int (*check)(const char *value, const char **what);
	int repeat;        /* may be given more than once, every value kept (cmd_args_all) */
	int group;         /* options with the same nonzero group exclude each other */
	const char *needs; /* the name of an option this one is only given with, or NULL */
};

#define CMD_MANY (-1) /* max_operands: no limit */

struct cmd_args;

struct cmd_entry {
	const char *name; /* "kb" */
	const char *verb; /* "search", or NULL for a one-word command */
	const char *summary;
	const struct cmd_option *options; /* NULL for none */
	const char *operands;             /* what follows the options in the usage: "[QUERY]" */
	int min_operands, max_operands;   /* max_operands CMD_MANY: no limit */
	enum cmd_value operand_value;     /* how the shell completes operands: CMD_FILE or none */
	const char *usage;                /* the usage after the name; NULL: made from the above */
	/* Runs with the options and operands parsed and checked; returns an exit code. */
	int (*exec)(struct ctx *, const struct cmd_args *);
	const char *help; /* what --help says after the options */
};

/* A command line parsed by its entry's options; cmd_dispatch makes and frees it. */
struct cmd_args {
	const struct cmd_entry *entry;
	int argc;                /* the operands, */
	char **argv;             /* in order, NULL-terminated */
	struct cmd_given *given; /* per option: how often given and the values */
};

/* "--json", or "-k" for a short option alone; in out, which it returns. */
const char *cmd_option_name(const struct cmd_option *, char out[64]);

/* How many times the option called name was given (0 when it was not). */
int cmd_args_has(const struct cmd_args *, const char *name);
/* The option's value (the last one given), or NULL. */
const char *cmd_args_get(const struct cmd_args *, const char *name);
/* A CMD_INT or CMD_NUMBER option's value, or dflt when it was not given. */
double cmd_args_number(const struct cmd_args *, const char *name, double dflt);
/* The index of a CMD_CHOICE option's value in its choices, or dflt when it was not given. */
int cmd_args_choice(const struct cmd_args *, const char *name, int dflt);
/* Every value of a repeat option, in order. */
const struct strv *cmd_args_all(const struct cmd_args *, const char *name);

/* The global options (frontline --policy FILE ...), before the command. */
extern const struct cmd_option cmd_global_options[];
/*
 * Parses the global options of argv (argv[0] the program), stopping at
 * the first word that is not one of them: a command, or an option of the
 * default command's. Returns -1 with *a filled (a->argv: the rest; free
 * with cmd_args_free), or an exit code after --help or an error.
 */
int cmd_parse_global(int argc, char **argv, struct cmd_args *a);
void cmd_args_free(struct cmd_args *);

/* The --progress=json option of commands that do long work. */
extern const char *const cmd_progress_choices[];
#define CMD_OPTION_PROGRESS                                                                        \
	{                                                                                          \
		.name = "progress", .value = CMD_CHOICE, .choices = cmd_progress_choices,          \
		.help = "progress as {\"done\",\"total\",\"bad\"} lines on standard error (a "     \
		        "terminal gets a bar without it)",                                         \
	}
/* --reason TEXT, for the logs of rollout and canary. */
#define CMD_OPTION_REASON                                                                          \
	{                                                                                          \
		.name = "reason", .value = CMD_TEXT, .arg = "TEXT", .check = cmd_check_text,       \
		.help = "why, for the log (with $USER)",                                           \
	}
/* Option tables commands share: --json ("the result as JSON"); --reason TEXT and --json. */
extern const struct cmd_option cmd_json_options[], cmd_reason_options[];
/* A check for text that must not be empty. */
int cmd_check_text(const char *value, const char **what);

struct progress;
/* Sets p->kind: JSON lines with --progress=json, else a bar when stderr is a terminal. */
void cmd_progress(const struct cmd_args *, struct progress *p);

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
extern const struct cmd_entry cmd_completion_bash_entry;

/*
 * Runs the command named by argv; a command line that starts with an
 * option is the default command's (console). Returns an exit code.
 */
int cmd_dispatch(struct ctx *, int argc, char **argv);
void cmd_usage(FILE *);
/* Prints a command's help: the usage, the summary, the options and the notes. */
void cmd_help(const struct cmd_entry *, FILE *);
/* The command table: *n entries. */
const struct cmd_entry *const *cmd_entries(size_t *n);

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

/* The arguments from argv[from] on, joined by spaces: a query or message. Caller frees. */
char *cmd_join_args(int argc, char **argv, int from);

/* Prints "frontline: message" to stderr. */
void fl_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
