/* clone.c: making a new asset folder that holds a published version: what `ama clone` does. */
#include "auto-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assetenv.h"
#include "clone.h"
#include "error.h"
#include "readenv.h"

/* The [class] keys the server's answer left in cfg, for the new asset. */
static const char *const class_keys[] = {
	"remote", "staging", "s3-endpoint", "s3-region", "s3-addressing",
};
#define NCLASS_KEYS (sizeof(class_keys) / sizeof(*class_keys))

static int remove_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Is the process of this decimal pid gone? */
static int dead(const char *pid)
{
	char *end;
	long n = strtol(pid, &end, 10);

	return *pid && !*end && n > 0 && kill((pid_t)n, 0) < 0 &&
		errno == ESRCH;
}

/* Is dir missing, empty, or an asset folder (checked by the caller)? */
static int check_dir(const char *dir, int *resume, int *missing)
{
	struct ama_buf b = AMA_BUF_INIT;
	struct ama_asset a;
	struct stat st;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	*resume = 0;
	*missing = 0;
	if (lstat(dir, &st) < 0) {
		if (errno != ENOENT)
			return ama_error_setp_errno(AMA_ESETUP, dir,
						    "cannot stat");
		*missing = 1;
		/* assets do not nest: the new folder's parent */
		ama_buf_addstr(&b, dir);
		while (b.len > 1 && b.s[b.len - 1] == '/')
			ama_buf_truncate(&b, b.len - 1);
		if (strrchr(b.s, '/'))
			ama_buf_truncate(&b, (size_t)(strrchr(b.s, '/') - b.s) +
					 (strrchr(b.s, '/') == b.s));
		else
			ama_buf_reset(&b), ama_buf_addstr(&b, ".");
		if (ama_asset_find_from(&a, b.s) == 0) {
			rc = ama_error_setp(AMA_ESETUP, a.root, "inside this "
					    "ama asset; assets do not nest");
			ama_asset_release(&a);
		} else {
			ama_error_clear();
		}
		ama_buf_release(&b);
		return rc;
	}
	if (!S_ISDIR(st.st_mode))
		return ama_error_setp(AMA_ESETUP, dir, "exists and is not a "
				      "folder");
	ama_buf_addf(&b, "%s/.ama", dir);
	*resume = lstat(b.s, &st) == 0;
	ama_buf_release(&b);
	if (*resume)
		return 0;
	if (ama_asset_find_from(&a, dir) == 0) {
		rc = ama_error_setp(AMA_ESETUP, a.root, "inside this ama asset;"
				    " assets do not nest");
		ama_asset_release(&a);
		return rc;
	}
	ama_error_clear();
	d = opendir(dir);
	if (!d)
		return ama_error_setp_errno(AMA_ESETUP, dir, "cannot read");
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/*
		 * The private folder .ama is made in (lib/assetenv.h), left
		 * by a clone killed before it renamed it: the clone's own,
		 * and no reason to refuse the rerun.
		 */
		if (!strncmp(de->d_name, ".ama.init-", 10) &&
		    dead(de->d_name + 10)) {
			ama_buf_reset(&b);
			ama_buf_addf(&b, "%s/%s", dir, de->d_name);
			nftw(b.s, remove_one, 16, FTW_DEPTH | FTW_PHYS);
			continue;
		}
		rc = ama_error_setp(AMA_ESETUP, dir, "exists and is not empty");
	}
	closedir(d);
	ama_buf_release(&b);
	return rc;
}

/* Make dir/.ama, or check that the one there is a clone of this asset. */
static int prepare(const char *dir, int resume, const char *class,
		   uint64_t seq, const struct ama_version *to,
		   const struct ama_config *cfg, const char *top_hash)
{
	const char *kv[3 + NCLASS_KEYS][3];
	char num[32], vs[AMA_VERSION_BUFSIZE];
	struct ama_asset_env e;
	size_t n = 0, i;
	int rc;

	snprintf(num, sizeof(num), "%llu", (unsigned long long)seq);
	if (resume) {
		if (chdir(dir) < 0)
			return ama_error_setp_errno(AMA_ESETUP, dir,
						    "cannot enter");
		rc = ama_asset_env_open(&e, 0);
		if (rc == 0 && (!e.class || strcmp(e.class, class) ||
				e.seq != seq))
			rc = ama_error_setp(AMA_ESETUP, dir, "is an asset, not "
					    "a clone of %s/%s", class, num);
		/* a finished clone, or the folder it was uploaded from, at
		 * another version: that is ama switch's work, not clone's */
		if (rc == 0 && e.has_version &&
		    ama_version_cmp(&e.version, to)) {
			ama_version_format(vs, &e.version);
			rc = ama_error_setp(AMA_ESETUP, dir, "holds %s/%s at "
					    "%s already; ama switch there "
					    "changes its version", class, num,
					    vs);
		}
		ama_asset_env_close(&e);
		return rc;
	}
	kv[n][0] = "asset", kv[n][1] = "class", kv[n++][2] = class;
	kv[n][0] = "asset", kv[n][1] = "seq", kv[n++][2] = num;
	kv[n][0] = "class", kv[n][1] = "top-hash", kv[n++][2] = top_hash;
	for (i = 0; i < NCLASS_KEYS; i++) {
		const char *v = ama_config_get(cfg, "class", class_keys[i]);

		if (v && *v) {
			kv[n][0] = "class";
			kv[n][1] = class_keys[i];
			kv[n++][2] = v;
		}
	}
	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return ama_error_setp_errno(AMA_ESETUP, dir, "cannot create");
	rc = ama_asset_make(dir, kv, n);
	if (rc == 0 && chdir(dir) < 0)
		rc = ama_error_setp_errno(AMA_ESETUP, dir, "cannot enter");
	return rc;
}

/* Bring the versions in and the work tree to the version; record it. */
static int fill(const struct ama_clone_opts *o, struct ama_clone_result *out)
{
	struct ama_pathspec ps;
	struct ama_worktree_opts wo;
	struct ama_asset_env e;
	struct ama_readenv r;
	int rc;

	memset(&ps, 0, sizeof(ps));
	rc = ama_readenv_open_asset(&r, &e);
	if (rc == 0)
		rc = ama_pathspec_parse(&ps, NULL, o->pathspecs,
					o->npathspecs);
	if (rc == 0)
		rc = ama_readenv_fetch(&r, out->seq);
	if (rc >= 0) {
		memset(&wo, 0, sizeof(wo));
		wo.jobs = o->jobs;
		wo.hard_link = o->hard_link;
		wo.no_external_links = o->no_external_links;
		wo.progress = o->progress;
		wo.only = o->npathspecs ? &ps : NULL;
		wo.stop = o->stop;
		wo.report = o->report;
		wo.ctx = o->ctx;
		rc = ama_readenv_switch(&r, &e, &out->version, &wo,
					&out->stats);
	}
	ama_readenv_close(&r);
	ama_pathspec_release(&ps);
	ama_asset_env_close(&e);
	return rc;
}


/*
 * A new clone that failed before it placed a file (a refused manifest, a
 * store that cannot be read) leaves nothing behind, as git clone does:
 * its .ama goes, and the folder when the clone made it. home is the
 * working folder dir is relative to.
 */
static void undo(int home, const char *dir, int made)
{
	struct ama_buf b = AMA_BUF_INIT;

	if (home < 0 || fchdir(home) < 0)
		return;
	ama_buf_addf(&b, "%s/.ama", dir);
	nftw(b.s, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	if (made)
		rmdir(dir);
	ama_buf_release(&b);
}

int ama_clone(const struct ama_clone_opts *o, struct ama_clone_result *out)
{
	struct ama_config *cfg = NULL;
	struct ama_remote r;
	struct ama_buf dir = AMA_BUF_INIT;
	int rc, resume = 0, missing = 0, home = -1;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	/* the user's own settings, not those of an asset we stand in */
	rc = ama_config_load(&cfg, NULL);
	if (rc == 0)
		rc = ama_remote_open(&r, cfg, o->ref.class);
	if (rc == 0)
		rc = ama_remote_resolve(&r, &o->ref, &out->seq, &out->version);
	if (rc < 0)
		goto out;
	if (o->dir)
		ama_buf_addstr(&dir, o->dir);
	else if (o->ref.seq)
		ama_buf_addf(&dir, "%s-%llu", o->ref.class,
			     (unsigned long long)out->seq);
	else
		ama_buf_addf(&dir, "%s-%s", o->ref.class, o->ref.alias);
	out->dir = ama_strdup(dir.s);
	rc = check_dir(dir.s, &resume, &missing);
	if (rc == 0 && !resume)
		home = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rc == 0)
		rc = prepare(dir.s, resume, o->ref.class, out->seq,
			     &out->version, cfg, r.cls.top_hash);
	if (rc == 0)
		rc = fill(o, out);
	if (rc < 0 && !resume && !out->stats.placed && !out->stats.kept)
		undo(home, dir.s, missing);
	if (home >= 0)
		close(home);
out:
	ama_remote_close(&r);
	ama_config_free(cfg);
	ama_buf_release(&dir);
	return rc;
}
