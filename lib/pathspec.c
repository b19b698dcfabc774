/* pathspec.c: which paths of an asset a command is about, as git's pathspecs say it. */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ignore.h"
#include "pathspec.h"

static int has_magic(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

/*
 * A glob, root-relative: its leading folders without magic ("../data/"
 * of "../data/[ab].csv") are resolved as a path is, so that a glob climbs
 * out of the working folder as a path does; the rest is kept as typed.
 */
static int glob_path(struct ama_buf *out, const struct ama_asset *a,
		     const char *glob)
{
	const char *magic = strpbrk(glob, "*?[\\"), *p;
	struct ama_buf lead = AMA_BUF_INIT;
	char why[256];
	int rc = 0;

	for (p = magic; p > glob && p[-1] != '/'; p--)
		;
	ama_buf_add(&lead, glob, (size_t)(p - glob));
	if (a) {
		rc = ama_asset_path(out, a, lead.s);
		if (rc < 0) {
			snprintf(why, sizeof(why), "%s", ama_error_msg());
			rc = ama_error_setp(rc, glob, "%s", why);
		}
	} else if (ama_path_normalize(out, lead.s) < 0) {
		rc = ama_error_setp(AMA_EINVAL, glob, "leads outside the "
				    "asset");
	}
	if (rc == 0 && out->len)
		ama_buf_addch(out, '/');
	ama_buf_addstr(out, p);
	ama_buf_release(&lead);
	return rc;
}

int ama_pathspec_parse(struct ama_pathspec *out, const struct ama_asset *a,
		       char *const *paths, size_t n)
{
	struct ama_buf b = AMA_BUF_INIT;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!n)
		return 0;
	out->v = ama_calloc(n, sizeof(*out->v));
	out->glob = ama_calloc(n, sizeof(*out->glob));
	for (i = 0; i < n && rc == 0; i++) {
		ama_buf_reset(&b);
		if (has_magic(paths[i])) {
			rc = glob_path(&b, a, paths[i]);
			out->glob[i] = 1;
		} else if (a) {
			rc = ama_asset_path(&b, a, paths[i]);
		} else if (ama_path_normalize(&b, paths[i]) < 0) {
			rc = ama_error_setp(AMA_EINVAL, paths[i], "leads outside"
					    " the asset");
		}
		if (rc == 0 && (!strcmp(b.s ? b.s : "", ".ama") ||
				!strncmp(b.s ? b.s : "", ".ama/", 5)))
			rc = ama_error_setp(AMA_EINVAL, paths[i], "inside "
					    ".ama, which ama manages");
		out->v[i] = ama_buf_detach(&b);
		out->n = i + 1;
	}
	ama_buf_release(&b);
	if (rc < 0)
		ama_pathspec_release(out);
	return rc;
}

void ama_pathspec_release(struct ama_pathspec *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		free(ps->v[i]);
	free(ps->v);
	free(ps->glob);
	memset(ps, 0, sizeof(*ps));
}

int ama_pathspec_match(const struct ama_pathspec *ps, const char *path,
		       size_t len)
{
	size_t i;

	if (!ps || !ps->n)
		return 1;
	for (i = 0; i < ps->n; i++) {
		const char *s = ps->v[i];
		size_t n = strlen(s);

		if (ps->glob[i]) {
			if (ama_wildmatch(s, path))
				return 1;
			continue;
		}
		/* "" is the root: everything */
		if (!n || (len == n && !memcmp(path, s, n)) ||
		    (len > n && path[n] == '/' && !memcmp(path, s, n)))
			return 1;
	}
	return 0;
}
