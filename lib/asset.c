/* asset.c: locating the asset root and converting paths between folders. */
#include "auto-config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asset.h"
#include "error.h"

static int has_dotama(const char *dir)
{
	struct ama_buf b = AMA_BUF_INIT;
	struct stat st;
	int ok;

	ama_buf_addf(&b, "%s%s.ama", dir, strcmp(dir, "/") ? "/" : "");
	ok = stat(b.s, &st) == 0 && S_ISDIR(st.st_mode);
	ama_buf_release(&b);
	return ok;
}

int ama_asset_find_from(struct ama_asset *out, const char *start)
{
	char *dir = realpath(start, NULL);
	size_t len;

	memset(out, 0, sizeof(*out));
	if (!dir)
		return ama_error_setp_errno(AMA_ESETUP, start,
					    "cannot resolve");
	len = strlen(dir);
	for (;;) {
		char save = dir[len];

		dir[len] = '\0';
		if (has_dotama(len ? dir : "/")) {
			struct ama_buf p = AMA_BUF_INIT;

			out->root = ama_strdup(len ? dir : "/");
			dir[len] = save;
			if (dir[len] == '/')
				ama_buf_addstr(&p, dir + len + 1);
			if (p.len)
				ama_buf_addch(&p, '/');
			out->prefix = ama_buf_detach(&p);
			free(dir);
			return 0;
		}
		dir[len] = save;
		if (len == 0)
			break;
		while (len > 0 && dir[len - 1] != '/')
			len--;
		if (len > 0)
			len--;	/* drop the slash; "/x" ends at len 0 */
	}
	free(dir);
	return ama_error_set(AMA_ESETUP,
		"not inside an ama asset (no .ama in this folder or any parent); "
		"run 'ama init CLASS' first");
}

int ama_asset_find(struct ama_asset *out)
{
	return ama_asset_find_from(out, ".");
}

void ama_asset_release(struct ama_asset *a)
{
	free(a->root);
	free(a->prefix);
	a->root = a->prefix = NULL;
}

int ama_path_normalize(struct ama_buf *out, const char *path)
{
	size_t base = out->len;
	const char *p = path;

	if (*path == '/')
		return -1;
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* skip */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (out->len == base)
				return -1;
			while (out->len > base && out->s[out->len - 1] != '/')
				out->len--;
			if (out->len > base)
				out->len--;
			out->s[out->len] = '\0';
		} else {
			if (out->len > base)
				ama_buf_addch(out, '/');
			ama_buf_add(out, p, n);
		}
		p = *e ? e + 1 : e;
	}
	return 0;
}

static int is_dotama(const char *rel)
{
	return !strncmp(rel, ".ama", 4) && (rel[4] == '\0' || rel[4] == '/');
}

/* The part of abs (normalized, absolute) below root, or NULL. */
static const char *below(const char *abs, const char *root)
{
	size_t rl = strlen(root);

	if (!strcmp(root, "/"))
		return abs + 1;
	if (strncmp(abs, root, rl) || (abs[rl] != '/' && abs[rl] != '\0'))
		return NULL;
	return abs[rl] ? abs + rl + 1 : abs + rl;
}

/*
 * abs (normalized, absolute) with the links in its folders resolved, as
 * the root is (the last component is left alone: a link there is what
 * the user named). Folders that do not exist are kept as written.
 */
static void resolve_folders(struct ama_buf *out, const char *abs)
{
	struct ama_buf dir = AMA_BUF_INIT;
	const char *rest, *slash = strrchr(abs, '/');
	char *real = NULL;

	ama_buf_add(&dir, abs, (size_t)(slash - abs));
	rest = slash;
	while (dir.len && !(real = realpath(dir.s, NULL))) {
		slash = strrchr(dir.s, '/');
		rest = abs + (slash - dir.s);
		ama_buf_truncate(&dir, (size_t)(slash - dir.s));
	}
	ama_buf_addstr(out, real ? (strcmp(real, "/") ? real : "") : "");
	ama_buf_addstr(out, rest);
	free(real);
	ama_buf_release(&dir);
}

int ama_asset_path(struct ama_buf *out, const struct ama_asset *a,
		   const char *path)
{
	struct ama_buf abs = AMA_BUF_INIT, norm = AMA_BUF_INIT;
	struct ama_buf real = AMA_BUF_INIT;
	const char *rel = NULL;
	int rc = 0;

	/*
	 * The path made absolute and normalized the way the root was, then
	 * taken below the root: /srv//data/x, /srv/data/../data/x and
	 * ../data/x from the root all name data/x of the asset /srv/data.
	 */
	if (path[0] != '/') {
		ama_buf_addstr(&abs, a->root);
		ama_buf_addch(&abs, '/');
		ama_buf_addstr(&abs, a->prefix);
	}
	ama_buf_addstr(&abs, path);
	ama_buf_addch(&norm, '/');
	if (ama_path_normalize(&norm, abs.s + 1) == 0) {
		rel = below(norm.s, a->root);
		if (!rel && path[0] == '/') {
			/* through a link to the asset or one of its folders */
			resolve_folders(&real, norm.s);
			rel = below(real.s, a->root);
		}
	}
	if (!rel) {
		rc = ama_error_setp(AMA_EINVAL, path, "outside the asset");
	} else if (is_dotama(rel)) {
		rc = ama_error_setp(AMA_EINVAL, path,
				    "inside .ama, which ama manages");
	} else {
		ama_buf_addstr(out, rel);
	}
	ama_buf_release(&abs);
	ama_buf_release(&norm);
	ama_buf_release(&real);
	return rc;
}

void ama_asset_display(struct ama_buf *out, const struct ama_asset *a,
		       const char *rootrel)
{
	const char *pre = a->prefix;
	size_t common = 0, i;

	/* the longest shared run of whole folders */
	for (i = 0; pre[i] && pre[i] == rootrel[i]; i++)
		if (pre[i] == '/')
			common = i + 1;
	for (i = common; pre[i]; i++)
		if (pre[i] == '/')
			ama_buf_addstr(out, "../");
	ama_buf_addstr(out, rootrel + common);
}

int ama_path_is_clean(const char *path)
{
	const char *p = path;

	if (!*p || *p == '/')
		return 0;
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!*e)
			break;
		p = e + 1;
		if (!*p)
			return 0;	/* trailing slash */
	}
	return 1;
}
