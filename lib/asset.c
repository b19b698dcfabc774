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

int ama_asset_path(struct ama_buf *out, const struct ama_asset *a,
		   const char *path)
{
	struct ama_buf joined = AMA_BUF_INIT;
	size_t base = out->len;
	int rc = 0;

	if (path[0] == '/') {
		size_t rl = strlen(a->root);

		if (!strcmp(a->root, "/"))
			ama_buf_addstr(&joined, path + 1);
		else if (!strncmp(path, a->root, rl) &&
			 (path[rl] == '/' || path[rl] == '\0'))
			ama_buf_addstr(&joined, path + rl);
		else
			goto outside;
	} else {
		ama_buf_addstr(&joined, a->prefix);
		ama_buf_addstr(&joined, path);
	}
	while (joined.len && joined.s[0] == '/') {
		memmove(joined.s, joined.s + 1, joined.len);
		joined.len--;
	}
	if (ama_path_normalize(out, ama_buf_str(&joined)) < 0)
		goto outside;
	if (is_dotama(out->s ? out->s + base : "")) {
		rc = ama_error_setp(AMA_EINVAL, path,
				    "inside .ama, which ama manages");
		goto done;
	}
	goto done;
outside:
	ama_buf_truncate(out, base);
	rc = ama_error_setp(AMA_EINVAL, path, "outside the asset");
done:
	ama_buf_release(&joined);
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
