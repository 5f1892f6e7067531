/* paths.c -- XDG base directories and the data directory. */
#include "config.h"

#include <errno.h>
#include <limits.h>
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

/* Whether dir holds a data directory's policy and knowledge base. */
static int
is_data_dir(const char *dir)
{
	struct stat st;
	char *policy = xasprintf("%s/policies/support-agent-policy.yaml", dir);
	char *kb = xasprintf("%s/kb", dir);
	int yes = stat(policy, &st) == 0 && S_ISREG(st.st_mode) && stat(kb, &st) == 0 &&
	          S_ISDIR(st.st_mode);
	free(policy);
	free(kb);
	return yes;
}

static int
same_dir(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* The directory of the running executable (Linux), or NULL. Caller frees. */
static char *
exe_dir(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path);
	if (n <= 0 || (size_t)n >= sizeof path)
		return NULL;
	path[n] = '\0';
	char *slash = strrchr(path, '/');
	if (slash == NULL)
		return NULL;
	slash[slash == path] = '\0';
	return xstrdup(path);
}

/* Whether the running executable is an uninstalled build, in FL_BUILDDIR. */
static int
in_build_tree(void)
{
	char *dir = exe_dir();
	int yes = dir != NULL && same_dir(dir, FL_BUILDDIR);
	free(dir);
	return yes;
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
		if (stat(path, &st) != 0 && in_build_tree()) {
			/* A source tree holds no model: the build trained it. */
			free(path);
			from = "built";
			path = xstrdup(FL_BUILDDIR "/triage.model");
		}
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

/*
 * The configured DATADIR as seen from the configured BINDIR
 * ("../share/frontline"), applied to the executable's directory: a prefix
 * moved after the build (make install prefix=DIR or DESTDIR=DIR, a copied
 * tree) still finds its own data, as git's RUNTIME_PREFIX does. The ".."
 * are taken lexically, which is right for /proc/self/exe's resolved path.
 * Caller frees.
 */
static char *
exe_relative_datadir(const char *exedir)
{
	const char *from = FL_BINDIR, *to = FL_DATADIR;
	for (;;) { /* skip the leading components both share */
		from += strspn(from, "/");
		to += strspn(to, "/");
		size_t nf = strcspn(from, "/"), nt = strcspn(to, "/");
		if (nf == 0 || nf != nt || memcmp(from, to, nf) != 0)
			break;
		from += nf;
		to += nt;
	}
	char *dir = xstrdup(exedir);
	for (; *from != '\0'; from += strspn(from, "/")) {
		from += strcspn(from, "/");
		char *slash = strrchr(dir, '/');
		if (slash != NULL)
			slash[slash == dir] = '\0';
	}
	char *path = xasprintf("%s%s%s", dir, str_endswith(dir, "/") || *to == '\0' ? "" : "/", to);
	free(dir);
	return path;
}

/*
 * The lookup paths_data_dir documents; the candidates tried go to tried
 * when not NULL. Returns the directory found (caller frees), or NULL.
 */
static char *
data_dir_search(struct strv *tried)
{
	const char *env = getenv("FRONTLINE_DATADIR");
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	char *exedir = exe_dir(), *found = NULL, *cands[3];
	size_t n = 0;
	cands[n++] = xstrdup(".");
	if (exedir != NULL && same_dir(exedir, FL_BUILDDIR)) {
		char *src = realpath(FL_SRCDIR, NULL); /* abs_top_srcdir may be BUILDDIR/.. */
		cands[n++] = src != NULL ? src : xstrdup(FL_SRCDIR);
	} else if (exedir != NULL)
		cands[n++] = exe_relative_datadir(exedir);
	if (n == 1 || (strcmp(cands[1], FL_DATADIR) != 0 && !same_dir(cands[1], FL_DATADIR)))
		cands[n++] = xstrdup(FL_DATADIR);
	for (size_t i = 0; i < n; i++) {
		if (found == NULL && is_data_dir(cands[i]))
			found = cands[i];
		else if (found == NULL && tried != NULL)
			strv_take(tried, cands[i]);
		else
			free(cands[i]);
	}
	free(exedir);
	return found;
}

char *
paths_data_dir(void)
{
	char *dir = data_dir_search(NULL);
	return dir != NULL ? dir : xstrdup(FL_DATADIR);
}

char *
paths_data_missing(void)
{
	struct strv tried = {0};
	char *dir = data_dir_search(&tried);
	if (dir != NULL) {
		free(dir);
		strv_free(&tried);
		return NULL;
	}
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "no data directory: none of ");
	for (size_t i = 0; i < tried.n; i++)
		buf_printf(&b, "%s%s",
		           i == 0            ? ""
		           : i + 1 < tried.n ? ", "
		                             : " and ",
		           strcmp(tried.v[i], ".") == 0 ? "the current directory" : tried.v[i]);
	buf_adds(&b, " holds policies/support-agent-policy.yaml and kb/; give --policy FILE "
	             "and --kb DIR, set FRONTLINE_DATADIR to a directory that holds them, or "
	             "install the data with 'make install'");
	strv_free(&tried);
	char *msg = buf_steal(&b);
	buf_free(&b); /* buf_steal leaves an empty buffer behind */
	return msg;
}
