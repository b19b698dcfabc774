/* xdg.c: the user's XDG base folders (config, data, cache) and the home folder they default to. */
#include "auto-config.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "xdg.h"

static const struct {
	const char *var;	/* the environment variable */
	const char *rel;	/* its default below the home folder */
} bases[] = {
	[AMA_XDG_CONFIG] = { "XDG_CONFIG_HOME", ".config" },
	[AMA_XDG_DATA] = { "XDG_DATA_HOME", ".local/share" },
	[AMA_XDG_CACHE] = { "XDG_CACHE_HOME", ".cache" },
};

/* A copy of dir without trailing slashes (but "/" stays "/"). */
static char *trimmed(const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return ama_strndup(dir, n);
}

/* The real user's home in the password database, or NULL. */
static char *passwd_home(void)
{
	struct passwd pw, *res = NULL;
	long max = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = max > 0 ? (size_t)max : 4096;
	char *buf = NULL, *home = NULL;
	int err;

	for (;;) {
		buf = ama_realloc(buf, size);
		err = getpwuid_r(getuid(), &pw, buf, size, &res);
		if (err != ERANGE || size >= (1u << 20))
			break;
		size *= 2;
	}
	if (err == 0 && res && res->pw_dir && res->pw_dir[0] == '/')
		home = trimmed(res->pw_dir);
	free(buf);
	return home;
}

int ama_xdg_home(char **out)
{
	const char *v = getenv("HOME");

	*out = v && v[0] == '/' ? trimmed(v) : passwd_home();
	if (*out)
		return 0;
	return ama_error_set(AMA_ESETUP, "no home folder: HOME is not an "
			     "absolute path and the user has none in the "
			     "password database");
}

int ama_xdg_dir(char **out, enum ama_xdg_kind kind)
{
	const char *v = getenv(bases[kind].var);
	struct ama_buf b = AMA_BUF_INIT;
	char *home;
	int rc;

	if (v && v[0] == '/') {
		*out = trimmed(v);
		return 0;
	}
	rc = ama_xdg_home(&home);
	if (rc < 0) {
		*out = NULL;
		return rc;
	}
	ama_buf_addstr(&b, home);
	if (b.len > 1)
		ama_buf_addch(&b, '/');
	ama_buf_addstr(&b, bases[kind].rel);
	free(home);
	*out = ama_buf_detach(&b);
	return 0;
}

int ama_xdg_path(char **out, enum ama_xdg_kind kind, const char *name)
{
	struct ama_buf b = AMA_BUF_INIT;
	char *base;
	int rc = ama_xdg_dir(&base, kind);

	if (rc < 0) {
		*out = NULL;
		return rc;
	}
	ama_buf_addstr(&b, base);
	if (b.len > 1)
		ama_buf_addch(&b, '/');
	ama_buf_addstr(&b, "ama");
	if (name && *name)
		ama_buf_addf(&b, "/%s", name);
	free(base);
	*out = ama_buf_detach(&b);
	return 0;
}
