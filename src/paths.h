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

/*
 * The data directory holding policies/ and kb/: $FRONTLINE_DATADIR, or
 * the current directory when it holds a source tree's policies/ and
 * kb/, or the installed one. Caller frees.
 */
char *paths_data_dir(void);

/* mkdir -p; returns 0 or -1 with errno. */
int paths_mkdir(const char *path, int mode);

#endif
