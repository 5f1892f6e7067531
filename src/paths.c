/* paths.c -- XDG base directories and the data directory. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "util.h"

int
paths_mkdir(const char *path, int mode)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = mkdir(p, (mode_t)mode) != 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return rc;
}

static char *
xdg_dir(const char *env, const char *fallback, int create)
{
	const char *base = getenv(env);
	char *dir;
	if (base != NULL && base[0] == '/')
		dir = xasprintf("%s/frontline", base);
	else {
		const char *home = getenv("HOME");
		if (home == NULL || *home == '\0')
			return NULL;
		dir = xasprintf("%s/%s/frontline", home, fallback);
	}
	if (create && paths_mkdir(dir, 0700) != 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

char *
paths_state_dir(void)
{
	return xdg_dir("XDG_STATE_HOME", ".local/state", 1);
}

char *
paths_cache_dir(void)
{
	return xdg_dir("XDG_CACHE_HOME", ".cache", 1);
}

char *
paths_config_dir(void)
{
	return xdg_dir("XDG_CONFIG_HOME", ".config", 0);
}

char *
paths_data_home(void)
{
	return xdg_dir("XDG_DATA_HOME", ".local/share", 1);
}

char *
paths_trained_model(void)
{
	char *dir = xdg_dir("XDG_DATA_HOME", ".local/share", 0);
	if (dir == NULL)
		return NULL;
	char *path = xasprintf("%s/triage.model", dir);
	free(dir);
	return path;
}

char *
paths_triage_model(const char *datadir, const char *option, const char **source)
{
	const char *env = getenv("FRONTLINE_MODEL"), *from;
	char *path;
	struct stat st;
	if (option != NULL && *option != '\0') {
		from = "--model";
		path = xstrdup(option);
	} else if (env != NULL && *env != '\0') {
		from = "FRONTLINE_MODEL";
		path = xstrdup(env);
	} else if ((path = paths_trained_model()) != NULL && stat(path, &st) == 0) {
		from = "trained";
	} else {
		free(path);
		from = "installed";
		path = xasprintf("%s/triage.model", datadir);
	}
	if (source != NULL)
		*source = from;
	return path;
}

char *
paths_console_socket(int create)
{
	/*
	 * No fallback when XDG_RUNTIME_DIR is set but unusable: the console
	 * and its customers must arrive at the same path, and only the
	 * console creates the directory.
	 */
	const char *run = getenv("XDG_RUNTIME_DIR");
	char *dir;
	if (run != NULL && run[0] == '/') {
		dir = xasprintf("%s/frontline", run);
		if (create && paths_mkdir(dir, 0700) != 0) {
			free(dir);
			return NULL;
		}
	} else if ((dir = xdg_dir("XDG_STATE_HOME", ".local/state", create)) == NULL)
		return NULL;
	char *path = xasprintf("%s/console.sock", dir);
	free(dir);
	return path;
}

char *
paths_data_dir(void)
{
	const char *env = getenv("FRONTLINE_DATADIR");
	struct stat a, b;
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if (stat("policies/support-agent-policy.yaml", &a) == 0 && stat("kb", &b) == 0 &&
	    S_ISDIR(b.st_mode))
		return xstrdup(".");
	return xstrdup(FL_DATADIR);
}
