/* metasync.c: the versions the publishing side has and a client's repository lacks, added in order. */
#include "auto-config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "error.h"
#include "lockfile.h"
#include "manifest.h"
#include "metasync.h"

/* The versions to fetch, newest first, as the client lists them. */
struct wanted {
	struct ama_version *v;
	size_t n, alloc;
	const struct ama_meta_version *local;	/* meta's newest, or NULL */
	int reached;		/* the list came down to it */
	int other;		/* ... and found another history */
};

static int collect(const struct ama_meta_version *v, void *ctx)
{
	struct wanted *w = ctx;

	if (w->local) {
		int c = ama_version_cmp(&v->version, &w->local->version);

		/* the same number must be the same version, or meta is
		 * another history (a version the server never made) */
		if (c < 0 || (c == 0 && strcmp(v->commit_id,
					       w->local->commit_id)))
			w->other = 1;
		if (c <= 0) {
			w->reached = 1;
			return 1;	/* the rest is there */
		}
	}
	if (w->n == w->alloc) {
		w->alloc = w->alloc ? 2 * w->alloc : 8;
		w->v = ama_realloc(w->v, w->alloc * sizeof(*w->v));
	}
	w->v[w->n++] = v->version;
	return 0;
}

/* Fetch, check and write one version. */
static int pull_one(struct ama_meta *meta, struct ama_client *c,
		    const char *class, uint64_t seq,
		    const struct ama_version *v, struct ama_buf *text)
{
	struct ama_manifest m;
	char want[AMA_VERSION_BUFSIZE];
	int rc;

	ama_buf_reset(text);
	rc = ama_client_manifest(c, class, seq, v, text);
	if (rc < 0)
		return rc;
	rc = ama_manifest_parse(&m, text->s, text->len);
	if (rc < 0)
		return rc;
	ama_version_format(want, v);
	if (ama_version_cmp(&m.version, v) ||
	    (m.class && strcmp(m.class, class)) || (m.seq && m.seq != seq)) {
		rc = ama_error_set(AMA_ECORRUPT, "the manifest of %s/%llu@%s "
				   "is another version's", class,
				   (unsigned long long)seq, want);
		goto out;
	}
	if (!m.class)
		m.class = ama_strdup(class);
	m.seq = seq;
	rc = ama_meta_write(meta, NULL, &m, NULL);
out:
	ama_manifest_release(&m);
	return rc;
}

int ama_metasync_pull(struct ama_meta *meta, struct ama_client *c,
		      const char *class, uint64_t seq,
		      const struct ama_version *head)
{
	struct wanted w;
	struct ama_meta_version local, at;
	struct ama_buf text = AMA_BUF_INIT;
	int rc, written = 0;

	memset(&w, 0, sizeof(w));
	memset(&local, 0, sizeof(local));
	memset(&at, 0, sizeof(at));
	rc = ama_meta_head(meta, &local, class, seq);
	if (rc == 0)
		w.local = &local;
	if (rc == AMA_ENOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = ama_client_versions(c, class, seq, 0, collect, &w);
	/* collect's 1 only stops the walk */
	if (rc > 0)
		rc = 0;
	if (rc == 0 && w.local && (w.other || !w.reached)) {
		char have[AMA_VERSION_BUFSIZE];

		ama_version_format(have, &local.version);
		rc = ama_error_set(AMA_ECONFLICT, "version %s of %s/%llu here "
				   "is not the one the server has", have,
				   class, (unsigned long long)seq);
	}
	while (rc == 0 && w.n) {
		rc = pull_one(meta, c, class, seq, &w.v[--w.n], &text);
		if (rc == 0)
			written++;
	}
	if (rc == 0 && head)
		rc = ama_meta_find_version(meta, &at, class, seq, head);
	if (rc == 0 && head)
		rc = ama_meta_set_head(meta, &at);
	ama_meta_version_release(&local);
	ama_meta_version_release(&at);
	ama_buf_release(&text);
	free(w.v);
	return rc < 0 ? rc : written;
}

static int is_lock_name(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcmp(name + n - 5, ".lock");
}

/* The *.lock files in folder path (and, with deep, below it). */
static int clear_in(struct ama_buf *path, int deep)
{
	DIR *d = opendir(path->s);
	struct dirent *de;
	size_t len = path->len;
	int n = 0, rc = 0;

	/* no repository there: nothing to clear, opening it will say why */
	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
			ama_error_setp_errno(AMA_EIO, path->s, "cannot list");
	while (rc >= 0 && (de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ama_buf_addch(path, '/');
		ama_buf_addstr(path, de->d_name);
		if (lstat(path->s, &st) < 0)
			rc = 0;	/* gone meanwhile */
		else if (S_ISDIR(st.st_mode) && deep)
			rc = clear_in(path, 1);
		else if (S_ISREG(st.st_mode) && is_lock_name(de->d_name))
			rc = ama_lock_remove_stale(path->s);
		else
			rc = 0;
		if (rc > 0)
			n += rc;
		ama_buf_truncate(path, len);
	}
	closedir(d);
	return rc < 0 ? rc : n;
}

int ama_metasync_clear_locks(const char *meta_path)
{
	struct ama_buf path = AMA_BUF_INIT;
	int top, refs;

	ama_buf_addstr(&path, meta_path);
	top = clear_in(&path, 0);
	ama_buf_addstr(&path, "/refs");
	refs = top < 0 ? 0 : clear_in(&path, 1);
	ama_buf_release(&path);
	if (top < 0)
		return top;
	return refs < 0 ? refs : top + refs;
}
