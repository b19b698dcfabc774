/* t/unit/changes.c: what differs between two versions, or a version and the work tree, in each format. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "changes.h"
#include "error.h"
#include "index.h"
#include "meta.h"
#include "metasync.h"
#include "pathspec.h"
#include "readfix.h"
#include "record.h"
#include "worktree.h"

TestSuite(changes, .init = fx_setup, .fini = fx_teardown, .timeout = 60);

static struct fx_pub pub;
static struct ama_meta *meta;
static struct ama_meta_version v0, v1;

/*
 * runs/1: 0.0.0 holds a, d/b and s/x; 0.0.1 changes a, drops d/b, adds
 * n and "we<TAB>ird". The asset folder "w" (entered) has them in
 * .ama/meta.
 */
static void published(void)
{
	struct ama_version ver;

	fx_pub_open(&pub, "runs");
	fx_file(&pub, "a", "alpha");
	fx_file(&pub, "d/b", "beta");
	fx_file(&pub, "s/x", "ess x");
	fx_commit(&pub, "first");
	fx_file(&pub, "a", "alpha, the second");
	fx_file(&pub, "n", "new");
	fx_file(&pub, "s/x", "ess x");
	fx_file(&pub, "we\tird", "tabbed");
	fx_commit(&pub, "second");
	cr_assert_eq(mkdir("w", 0755), 0);
	cr_assert_eq(mkdir("w/.ama", 0755), 0);
	cr_assert_eq(chdir("w"), 0);
	cr_assert_eq(ama_meta_open(&meta, ".ama/meta", AMA_META_CREATE), 0);
	cr_assert_eq(ama_metasync_pull(meta, pub.c, "runs", 1, NULL), 2);
	ver = fx_ver("0.0.0");
	cr_assert_eq(ama_meta_find_version(meta, &v0, "runs", 1, &ver), 0);
	ver = fx_ver("0.0.1");
	cr_assert_eq(ama_meta_find_version(meta, &v1, "runs", 1, &ver), 0);
}

static void done(void)
{
	ama_meta_version_release(&v0);
	ama_meta_version_release(&v1);
	ama_meta_close(meta);
	fx_pub_close(&pub);
}

static void nothing(void *ctx, const char *path, const char *msg)
{
	cr_assert_fail("%s: %s", path, msg);
}

/* The work tree at version v, as a clone leaves it. */
static void checked_out(const struct ama_meta_version *v)
{
	struct ama_worktree_opts o;
	struct ama_worktree_stats st;
	struct ama_cache *cache;
	char dir[128], *url = fx_remote_url();

	snprintf(dir, sizeof(dir), "%s/cache", fx_dir);
	cr_assert_eq(ama_cache_open(&cache, dir), 0);
	memset(&o, 0, sizeof(o));
	o.meta = meta;
	o.cache = cache;
	o.cfg = pub.cfg;
	o.remote_url = url;
	o.top_hash = pub.k.info.top_hash;
	o.report = nothing;
	cr_assert_eq(ama_worktree_update(&o, NULL, v, &st), 0, "%s",
		     ama_error_msg());
	ama_cache_close(cache);
	free(url);
}

/* c in format f, with -z or not, as the bytes written. */
static char *written(const struct ama_changes *c, enum ama_changes_format f,
		     int z, size_t *len)
{
	struct ama_writer w;
	char *text = NULL;
	int fd = open("out", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert_geq(fd, 0);
	ama_writer_init(&w, fd, z);
	ama_changes_write(&w, c, f);
	cr_assert_eq(ama_writer_close(&w), 0);
	close(fd);
	cr_assert_eq(ama_read_file(&text, len, "out"), 0);
	return text;
}

static void writes(const struct ama_changes *c, enum ama_changes_format f,
		   const char *want)
{
	size_t len;
	char *text = written(c, f, 0, &len);

	cr_assert_str_eq(text, want);
	free(text);
}

/* ---- between versions ---- */

Test(changes, between_two_versions_in_path_order)
{
	struct ama_changes c;
	struct ama_md5 m;

	published();
	cr_assert_eq(ama_changes_versions(&c, meta, &v0, &v1, NULL), 0);
	cr_assert_eq(c.n, 4);
	cr_assert_str_eq(c.v[0].path, "a");
	cr_assert_eq(c.v[0].kind, AMA_DIFF_CHANGED);
	m = fx_md5("alpha");
	cr_assert(ama_md5_equal(&c.v[0].old_md5, &m));
	m = fx_md5("alpha, the second");
	cr_assert(ama_md5_equal(&c.v[0].new_md5, &m));
	cr_assert_eq(c.v[0].old_size, 5);
	cr_assert_eq(c.v[0].new_size, 17);
	cr_assert_eq(c.v[0].new_known, 1);
	cr_assert_str_eq(c.v[1].path, "d/b");
	cr_assert_eq(c.v[1].kind, AMA_DIFF_REMOVED);
	cr_assert_eq(c.v[1].old_size, 4);
	cr_assert_str_eq(c.v[2].path, "n");
	cr_assert_eq(c.v[2].kind, AMA_DIFF_ADDED);
	cr_assert_eq(c.v[2].new_size, 3);
	cr_assert_str_eq(c.v[3].path, "we\tird");
	cr_assert_eq(c.v[3].len, 6);
	ama_changes_release(&c);
	cr_assert_eq(c.n, 0);
	done();
}

Test(changes, the_formats)
{
	struct ama_changes c;
	size_t len;
	char *text;

	published();
	cr_assert_eq(ama_changes_versions(&c, meta, &v0, &v1, NULL), 0);
	writes(&c, AMA_CHANGES_NAME_STATUS, "M\ta\nD\td/b\nA\tn\n"
	       "A\t\"we\\tird\"\n");
	writes(&c, AMA_CHANGES_HUMAN, "modified: a (5 B -> 17 B)\n"
	       "deleted:  d/b (4 B)\nadded:    n (3 B)\n"
	       "added:    \"we\\tird\" (6 B)\n");
	writes(&c, AMA_CHANGES_STAT, "2 added (9 B), 1 modified (17 B), "
	       "1 deleted (4 B)\n");
	text = written(&c, AMA_CHANGES_NAME_STATUS, 1, &len);
	cr_assert_eq(len, 23);
	cr_assert_eq(memcmp(text, "M\ta\0D\td/b\0A\tn\0A\twe\tird\0", 23), 0);
	free(text);
	ama_changes_release(&c);
	done();
}

Test(changes, nothing_differs_nothing_is_said_but_the_counts)
{
	struct ama_changes c;

	published();
	cr_assert_eq(ama_changes_versions(&c, meta, &v1, &v1, NULL), 0);
	cr_assert_eq(c.n, 0);
	writes(&c, AMA_CHANGES_NAME_STATUS, "");
	writes(&c, AMA_CHANGES_HUMAN, "");
	writes(&c, AMA_CHANGES_STAT, "0 added (0 B), 0 modified (0 B), "
	       "0 deleted (0 B)\n");
	ama_changes_release(&c);
	done();
}

Test(changes, from_or_to_no_version_at_all)
{
	struct ama_changes c;

	published();
	cr_assert_eq(ama_changes_versions(&c, meta, NULL, &v0, NULL), 0);
	writes(&c, AMA_CHANGES_NAME_STATUS, "A\ta\nA\td/b\nA\ts/x\n");
	ama_changes_release(&c);
	cr_assert_eq(ama_changes_versions(&c, meta, &v0, NULL, NULL), 0);
	writes(&c, AMA_CHANGES_NAME_STATUS, "D\ta\nD\td/b\nD\ts/x\n");
	ama_changes_release(&c);
	done();
}

Test(changes, only_the_paths_a_pathspec_matches)
{
	struct ama_changes c;
	struct ama_pathspec ps;
	char *const v[] = { "d", "*ir*" };

	published();
	cr_assert_eq(ama_pathspec_parse(&ps, NULL, v, 2), 0);
	cr_assert_eq(ama_changes_versions(&c, meta, &v0, &v1, &ps), 0);
	writes(&c, AMA_CHANGES_NAME_STATUS, "D\td/b\nA\t\"we\\tird\"\n");
	ama_changes_release(&c);
	ama_pathspec_release(&ps);
	done();
}

/* ---- a version and the work tree ---- */

static struct ama_changes of_worktree(const struct ama_meta_version *v,
				      const struct ama_pathspec *ps)
{
	struct ama_changes c;
	struct ama_index *idx;

	cr_assert_eq(ama_index_load(&idx, ".ama/index"), 0);
	cr_assert_eq(ama_changes_worktree(&c, meta, v, idx, ps), 0, "%s",
		     ama_error_msg());
	ama_index_free(idx);
	return c;
}

Test(changes, a_clean_work_tree_differs_in_nothing)
{
	struct ama_changes c;

	published();
	checked_out(&v1);
	c = of_worktree(&v1, NULL);
	cr_assert_eq(c.n, 0);
	ama_changes_release(&c);
	/* and from its version's parent, what the version changed */
	c = of_worktree(&v0, NULL);
	writes(&c, AMA_CHANGES_NAME_STATUS, "M\ta\nD\td/b\nA\tn\n"
	       "A\t\"we\\tird\"\n");
	ama_changes_release(&c);
	done();
}

Test(changes, the_work_tree_as_status_sees_it)
{
	struct ama_index *idx;
	struct ama_index_entry *e;
	struct ama_changes c;
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct ama_md5 m = fx_md5("ESS X");

	published();
	checked_out(&v0);
	/* a size change: not hashed, its size known */
	fx_write("a", "alpha, longer now");
	/* the same size, another stat record: hashed */
	fx_write("s/x", "ESS X");
	cr_assert_eq(utimensat(AT_FDCWD, "s/x", old, 0), 0);
	cr_assert_eq(unlink("d/b"), 0);
	/* an entry added and not uploaded */
	fx_write("p", "pending");
	cr_assert_eq(ama_index_lock_and_load(&idx, ".ama/index"), 0);
	e = ama_index_find(idx, "a", 1);
	{
		struct ama_index_entry n = *e;

		n.path = "p";
		n.path_len = 1;
		n.md5 = fx_md5("pending");
		cr_assert_eq(ama_stat_path(&n.st, "p"), 0);
		n.state = AMA_STATE_PENDING;
		ama_index_add(idx, &n);
	}
	cr_assert_eq(ama_index_write_and_commit(idx), 0);
	ama_index_free(idx);
	c = of_worktree(&v0, NULL);
	cr_assert_eq(c.n, 4);
	cr_assert_str_eq(c.v[0].path, "a");
	cr_assert_eq(c.v[0].kind, AMA_DIFF_CHANGED);
	cr_assert_eq(c.v[0].new_known, 0);
	cr_assert_eq(c.v[0].old_size, 5);
	cr_assert_eq(c.v[0].new_size, 17);
	cr_assert_str_eq(c.v[1].path, "d/b");
	cr_assert_eq(c.v[1].kind, AMA_DIFF_REMOVED);
	cr_assert_str_eq(c.v[2].path, "p");
	cr_assert_eq(c.v[2].kind, AMA_DIFF_ADDED);
	cr_assert_str_eq(c.v[3].path, "s/x");
	cr_assert_eq(c.v[3].kind, AMA_DIFF_CHANGED);
	cr_assert_eq(c.v[3].new_known, 1);
	cr_assert(ama_md5_equal(&c.v[3].new_md5, &m));
	writes(&c, AMA_CHANGES_STAT, "1 added (7 B), 2 modified (22 B), "
	       "1 deleted (4 B)\n");
	ama_changes_release(&c);
	done();
}

Test(changes, files_left_out_by_choice_are_unchanged)
{
	struct ama_index *idx;
	struct ama_index_entry *e;
	struct ama_changes c;

	published();
	checked_out(&v0);
	cr_assert_eq(ama_index_lock_and_load(&idx, ".ama/index"), 0);
	e = ama_index_find(idx, "d/b", 3);
	e->flags |= AMA_ENTRY_SKIP;
	cr_assert_eq(ama_index_write_and_commit(idx), 0);
	ama_index_free(idx);
	cr_assert_eq(unlink("d/b"), 0);
	c = of_worktree(&v0, NULL);
	cr_assert_eq(c.n, 0);
	ama_changes_release(&c);
	done();
}

Test(changes, the_work_tree_through_a_pathspec)
{
	struct ama_changes c;
	struct ama_pathspec ps;
	char *const v[] = { "s" };

	published();
	checked_out(&v0);
	fx_write("a", "alpha, longer now");
	fx_write("s/x", "ess x, longer");
	cr_assert_eq(ama_pathspec_parse(&ps, NULL, v, 1), 0);
	c = of_worktree(&v0, &ps);
	writes(&c, AMA_CHANGES_HUMAN, "modified: s/x (5 B -> 13 B)\n");
	ama_changes_release(&c);
	ama_pathspec_release(&ps);
	done();
}
