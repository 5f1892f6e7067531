/* paths.h -- where frontline keeps its files (XDG base directories). */
#ifndef FL_PATHS_H
#define FL_PATHS_H

/*
 * Each returns a newly allocated directory path (caller frees), creating
 * it when missing, or NULL when it cannot be had (no HOME, read-only).
 */
char *paths_state_dir(void);  /* $XDG_STATE_HOME/frontline: database, history */
char *paths_cache_dir(void);  /* $XDG_CACHE_HOME/frontline: the KB index */
char *paths_config_dir(void); /* $XDG_CONFIG_HOME/frontline: not created */
char *paths_data_home(void);  /* $XDG_DATA_HOME/frontline: a trained triage model */

/*
 * The triage model in use: option (--model) when not NULL or empty, else
 * $FRONTLINE_MODEL, else the trained model $XDG_DATA_HOME/frontline/
 * triage.model when it exists, else the installed datadir/triage.model, or
 * when that is missing and the executable is an uninstalled build, the
 * model the build trained. *source, when not NULL, says which ("--model",
 * "FRONTLINE_MODEL", "trained", "installed", "built"; static). Caller frees.
 */
char *paths_triage_model(const char *datadir, const char *option, const char **source);
/* Where a trained model goes by default: $XDG_DATA_HOME/frontline/triage.model (not created). */
char *paths_trained_model(void);

/*
 * Where the console listens for customers (frontline-protocol(7)):
 * $XDG_RUNTIME_DIR/frontline/console.sock when XDG_RUNTIME_DIR holds an
 * absolute path, else $XDG_STATE_HOME/frontline/console.sock. With create,
 * the directory is made (mode 0700) when missing. Returns a newly allocated
 * path (caller frees), or NULL when there is no such directory (no HOME, or
 * it cannot be created).
 */
char *paths_console_socket(int create);

/*
 * The data directory holding policies/, kb/, data/ and triage.model, the
 * first of: $FRONTLINE_DATADIR; the current directory when it holds
 * policies/support-agent-policy.yaml and kb/ (a source tree); for an
 * uninstalled build, the source tree it was built from; the data installed
 * next to the executable (bindir/../share/frontline when the prefix moved
 * after the build); the configured pkgdatadir. Each but $FRONTLINE_DATADIR
 * counts only when it holds the policy and kb/; with none, the configured
 * pkgdatadir. Caller frees.
 */
char *paths_data_dir(void);
/*
 * NULL when paths_data_dir finds a data directory, else a message naming
 * where it looked and the ways out (--policy, --kb, FRONTLINE_DATADIR,
 * make install). Caller frees.
 */
char *paths_data_missing(void);

/* mkdir -p; returns 0 or -1 with errno. */
int paths_mkdir(const char *path, int mode);

#endif
