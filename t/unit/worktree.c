/* t/unit/worktree.c: a work tree brought to a version: from nothing, switched, refused, rerun, downloaded, discarded. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "error.h"
#include "index.h"
#include "layout.h"
#include "meta.h"
#include "metasync.h"
#include "pathspec.h"
#include "readfix.h"
#include "stat.h"
#include "worktree.h"

TestSuite(worktree, .init = fx_setup, .fini = fx_teardown, .timeout = 60);

static struct fx_pub pub;
static struct ama_meta *meta;
static struct ama_cache *cache;
static struct ama_meta_version v0, v1;
static struct ama_worktree_opts o;
static struct ama_worktree_stats st;
static struct ama_buf told = AMA_BUF_INIT;
static char *url;

static void report(void *ctx, const char *path, const char *msg)
{
	ama_buf_addf(&told, "%s: %s\n", path, msg);
}

/*
 * runs/1: 0.0.0 holds a, d/b and s/x; 0.0.1 changes a, drops d/b, adds
 * n. The asset folder "w" (entered) has them in .ama/meta.
 */
static void published(void)
{
	char dir[128];
	struct ama_version ver;

	fx_pub_open(&pub, "runs");
	fx_file(&pub, "a", "alpha");
	fx_file(&pub, "d/b", "beta");
	fx_file(&pub, "s/x", "ess x");
	fx_commit(&pub, "first");
	fx_file(&pub, "a", "alpha, the second");
	fx_file(&pub, "n", "new");
	fx_file(&pub, "s/x", "ess x");
	fx_commit(&pub, "second");
	snprintf(dir, sizeof(dir), "%s/cache", fx_dir);
	cr_assert_eq(ama_cache_open(&cache, dir), 0);
	cr_assert_eq(mkdir("w", 0755), 0);
	cr_assert_eq(mkdir("w/.ama", 0755), 0);
	cr_assert_eq(chdir("w"), 0);
	cr_assert_eq(ama_meta_open(&meta, ".ama/meta", AMA_META_CREATE), 0);
	cr_assert_eq(ama_metasync_pull(meta, pub.c, "runs", 1, NULL), 2, "%s",
		     ama_error_msg());
	ver = fx_ver("0.0.0");
	cr_assert_eq(ama_meta_find_version(meta, &v0, "runs", 1, &ver), 0);
	ver = fx_ver("0.0.1");
	cr_assert_eq(ama_meta_find_version(meta, &v1, "runs", 1, &ver), 0);
	url = fx_remote_url();
	memset(&o, 0, sizeof(o));
	o.meta = meta;
	o.cache = cache;
	o.cfg = pub.cfg;
	o.remote_url = url;
	o.top_hash = pub.k.info.top_hash;
	o.jobs = 2;
	o.report = report;
	ama_buf_reset(&told);
}

static void done(void)
{
	ama_meta_version_release(&v0);
	ama_meta_version_release(&v1);
	ama_meta_close(meta);
	ama_cache_close(cache);
	fx_pub_close(&pub);
	free(url);
	ama_buf_release(&told);
}

static int update(const struct ama_meta_version *from,
		  const struct ama_meta_version *to)
{
	ama_buf_reset(&told);
	return ama_worktree_update(&o, from, to, &st);
}

static void stats_are(size_t placed, size_t kept, size_t removed,
		      size_t skipped, size_t fetched)
{
	cr_assert_eq(st.placed, placed, "placed %zu", st.placed);
	cr_assert_eq(st.kept, kept, "kept %zu", st.kept);
	cr_assert_eq(st.removed, removed, "removed %zu", st.removed);
	cr_assert_eq(st.skipped, skipped, "skipped %zu", st.skipped);
	cr_assert_eq(st.fetched, fetched, "fetched %zu", st.fetched);
}

static void told_is(const char *want)
{
	cr_assert_str_eq(told.s ? told.s : "", want);
}

/* Every file of the work tree but .ama: "path=bytes;" in path order. */
static char *tree(void)
{
	return fx_sh("find . -path ./.ama -prune -o -type f -print | "
		     "sed 's|^\\./||' | LC_ALL=C sort | while read -r f; do "
		     "printf '%s=%s;' \"$f\" \"$(cat \"$f\")\"; done");
}

static void tree_is(const char *want)
{
	char *t = tree();

	cr_assert_str_eq(t, want);
	free(t);
}

/* The index: "path state[ skip];" for each entry. */
static char *entries(void)
{
	struct ama_index *idx;
	struct ama_index_entry *e;
	struct ama_buf b = AMA_BUF_INIT;
	size_t n, i;

	cr_assert_eq(ama_index_load(&idx, ".ama/index"), 0);
	e = ama_index_entries(idx, &n);
	for (i = 0; i < n; i++)
		ama_buf_addf(&b, "%s %s%s;", e[i].path,
			     ama_state_name(e[i].state),
			     e[i].flags & AMA_ENTRY_SKIP ? " skip" : "");
	ama_buf_add(&b, "", 0);
	ama_index_free(idx);
	return ama_buf_detach(&b);
}

static void entries_are(const char *want)
{
	char *got = entries();

	cr_assert_str_eq(got, want);
	free(got);
}

#define V0_TREE "a=alpha;d/b=beta;s/x=ess x;"
#define V0_INDEX "a committed;d/b committed;s/x committed;"
#define V1_TREE "a=alpha, the second;n=new;s/x=ess x;"
#define V1_INDEX "a committed;n committed;s/x committed;"

/* Add path (its file as it is) to the index in state s. */
static void add_entry(const char *path, const char *bytes, enum ama_state s)
{
	struct ama_index *idx;
	struct ama_index_entry e;

	memset(&e, 0, sizeof(e));
	e.md5 = fx_md5(bytes);
	cr_assert_eq(ama_stat_path(&e.st, path), 0);
	e.path = path;
	e.path_len = (uint32_t)strlen(path);
	e.state = (uint8_t)s;
	cr_assert_eq(ama_index_lock_and_load(&idx, ".ama/index"), 0);
	ama_index_add(idx, &e);
	cr_assert_eq(ama_index_write_and_commit(idx), 0);
	ama_index_free(idx);
}

/* ---- from nothing, and between versions ---- */

Test(worktree, from_nothing_every_file_is_fetched_and_placed)
{
	published();
	cr_assert_eq(update(NULL, &v0), 0, "%s", ama_error_msg());
	stats_are(3, 0, 0, 0, 3);
	cr_assert_eq(st.fetched_bytes, 5 + 4 + 5);
	told_is("");
	tree_is(V0_TREE);
	entries_are(V0_INDEX);
	done();
}

Test(worktree, a_switch_does_only_what_differs)
{
	published();
	cr_assert_eq(update(NULL, &v0), 0);
	cr_assert_eq(update(&v0, &v1), 0, "%s", ama_error_msg());
	stats_are(2, 0, 1, 0, 2);
	tree_is(V1_TREE);
	entries_are(V1_INDEX);
	/* the folder d went with its last file */
	cr_assert_eq(fx_exists("d"), 0);
	/* and back, from the cache alone */
	cr_assert_eq(update(&v1, &v0), 0, "%s", ama_error_msg());
	stats_are(2, 0, 1, 0, 0);
	tree_is(V0_TREE);
	entries_are(V0_INDEX);
	done();
}

Test(worktree, a_file_that_becomes_a_folder_and_back)
{
	struct ama_meta_version v2, v3;
	struct ama_version ver;

	published();
	fx_file(&pub, "a/inner", "now a folder");
	fx_commit(&pub, "third");
	fx_file(&pub, "a", "a file again");
	fx_commit(&pub, "fourth");
	cr_assert_eq(ama_metasync_pull(meta, pub.c, "runs", 1, NULL), 2);
	ver = fx_ver("0.0.2");
	cr_assert_eq(ama_meta_find_version(meta, &v2, "runs", 1, &ver), 0);
	ver = fx_ver("0.0.3");
	cr_assert_eq(ama_meta_find_version(meta, &v3, "runs", 1, &ver), 0);
	cr_assert_eq(update(NULL, &v1), 0);
	cr_assert_eq(update(&v1, &v2), 0, "%s\n%s", ama_error_msg(), told.s);
	tree_is("a/inner=now a folder;");
	entries_are("a/inner committed;");
	cr_assert_eq(update(&v2, &v3), 0, "%s\n%s", ama_error_msg(), told.s);
	tree_is("a=a file again;");
	entries_are("a committed;");
	ama_meta_version_release(&v2);
	ama_meta_version_release(&v3);
	done();
}

/* ---- refusals before a switch ---- */

Test(worktree, a_modified_file_stops_the_switch_and_nothing_changes)
{
	published();
	cr_assert_eq(update(NULL, &v0), 0);
	fx_write("a", "my own change");
	cr_assert_eq(update(&v0, &v1), 1);
	cr_assert_eq(st.refused, 1);
	told_is("a: modified since it was added; 'ama add' and 'ama upload' "
		"keep it, --force discards it\n");
	tree_is("a=my own change;d/b=beta;s/x=ess x;");
	entries_are(V0_INDEX);
	cr_assert_eq(st.fetched, 0);
	done();
}

Test(worktree, every_refusal_is_told_with_its_fix)
{
	published();
	cr_assert_eq(update(NULL, &v0), 0);
	/* s/x is the same in both: deleted, it stops the switch */
	cr_assert_eq(unlink("s/x"), 0);
	/* added and not uploaded */
	fx_write("p", "pending");
	add_entry("p", "pending", AMA_STATE_PENDING);
	/* a file 0.0.1 adds, not tracked and not its content */
	fx_write("n", "mine");
	cr_assert_eq(update(&v0, &v1), 1);
	cr_assert_eq(st.refused, 3);
	told_is("p: added and not uploaded; run 'ama upload' first, or "
		"--force drops it from the index\n"
		"s/x: deleted; 'ama download' restores it, 'ama remove' drops "
		"it\n"
		"n: not tracked by ama and in the way; move it away, or --force"
		" overwrites it\n");
	tree_is("a=alpha;d/b=beta;n=mine;p=pending;");
	done();
}

Test(worktree, force_discards_what_would_stop_the_switch)
{
	published();
	cr_assert_eq(update(NULL, &v0), 0);
	fx_write("a", "my own change");
	cr_assert_eq(unlink("s/x"), 0);
	fx_write("p", "pending");
	add_entry("p", "pending", AMA_STATE_PENDING);
	fx_write("n", "mine");
	o.force = 1;
	cr_assert_eq(update(&v0, &v1), 0, "%s\n%s", ama_error_msg(), told.s);
	told_is("");
	/* p stays on disk, out of the index; s/x is back */
	tree_is("a=alpha, the second;n=new;p=pending;s/x=ess x;");
	entries_are(V1_INDEX);
	done();
}

/* ---- interrupted, and run again ---- */

Test(worktree, a_rerun_finds_the_work_done_and_fetches_nothing)
{
	published();
	cr_assert_eq(update(NULL, &v0), 0);
	cr_assert_eq(update(&v0, &v1), 0);
	cr_assert_eq(update(&v1, &v0), 0);
	/* as a switch killed after its files and before its index left it */
	fx_write("a", "alpha, the second");
	fx_write("n", "new");
	cr_assert_eq(unlink("d/b"), 0);
	cr_assert_eq(rmdir("d"), 0);
	cr_assert_eq(update(&v0, &v1), 0, "%s\n%s", ama_error_msg(), told.s);
	stats_are(0, 2, 0, 0, 0);
	told_is("");
	tree_is(V1_TREE);
	entries_are(V1_INDEX);
	done();
}

Test(worktree, a_stopped_run_changes_nothing_and_the_next_finishes)
{
	volatile sig_atomic_t stop = 1;

	published();
	cr_assert_eq(update(NULL, &v0), 0);
	o.stop = &stop;
	cr_assert_eq(update(&v0, &v1), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(), "interrupted");
	tree_is(V0_TREE);
	entries_are(V0_INDEX);
	stop = 0;
	cr_assert_eq(update(&v0, &v1), 0, "%s", ama_error_msg());
	tree_is(V1_TREE);
	entries_are(V1_INDEX);
	done();
}

Test(worktree, a_content_that_cannot_be_fetched_fails_its_path_alone)
{
	struct ama_buf key = AMA_BUF_INIT, want = AMA_BUF_INIT;
	struct ama_md5 m = fx_md5("beta");
	char *path, h1[33], h2[33];

	published();
	ama_layout_content(&key, pub.k.info.top_hash, &m);
	path = fx_remote_file(key.s);
	fx_write(path, "BETA");
	cr_assert_eq(update(NULL, &v0), 1);
	cr_assert_eq(st.failed, 1);
	stats_are(2, 0, 0, 0, 2);
	ama_buf_addf(&want, "d/b: has MD5 %s, not %s\n", fx_hex(h1, "BETA"),
		     fx_hex(h2, "beta"));
	told_is(want.s);
	tree_is("a=alpha;s/x=ess x;");
	/* the path keeps an entry, to be downloaded when it can be */
	entries_are("a committed;d/b committed skip;s/x committed;");
	fx_write(path, "beta");
	cr_assert_eq(ama_worktree_download(&o, NULL, &st), 0, "%s",
		     ama_error_msg());
	tree_is(V0_TREE);
	entries_are(V0_INDEX);
	free(path);
	ama_buf_release(&key);
	ama_buf_release(&want);
	done();
}

/* ---- partial clones and download ---- */

Test(worktree, only_the_paths_asked_for_are_placed_the_rest_skipped)
{
	struct ama_pathspec ps;
	char *const v[] = { "s" };

	published();
	cr_assert_eq(ama_pathspec_parse(&ps, NULL, v, 1), 0);
	o.only = &ps;
	cr_assert_eq(update(NULL, &v0), 0, "%s", ama_error_msg());
	stats_are(1, 0, 0, 2, 1);
	tree_is("s/x=ess x;");
	entries_are("a committed skip;d/b committed skip;s/x committed;");
	/*
	 * A switch keeps them out, at their new contents (a path new in
	 * the version was not left out: it comes)
	 */
	o.only = NULL;
	cr_assert_eq(update(&v0, &v1), 0, "%s\n%s", ama_error_msg(), told.s);
	stats_are(1, 0, 0, 1, 1);
	tree_is("n=new;s/x=ess x;");
	entries_are("a committed skip;n committed;s/x committed;");
	/* and download brings them */
	cr_assert_eq(ama_worktree_download(&o, NULL, &st), 0, "%s",
		     ama_error_msg());
	stats_are(1, 0, 0, 0, 1);
	tree_is(V1_TREE);
	entries_are(V1_INDEX);
	ama_pathspec_release(&ps);
	done();
}

Test(worktree, download_takes_a_pathspec_and_files_deleted_by_hand)
{
	struct ama_pathspec ps;
	char *const v[] = { "d" };

	published();
	cr_assert_eq(update(NULL, &v0), 0);
	cr_assert_eq(unlink("a"), 0);
	cr_assert_eq(unlink("d/b"), 0);
	cr_assert_eq(ama_pathspec_parse(&ps, NULL, v, 1), 0);
	cr_assert_eq(ama_worktree_download(&o, &ps, &st), 0);
	stats_are(1, 0, 0, 0, 0);
	tree_is("d/b=beta;s/x=ess x;");
	cr_assert_eq(ama_worktree_download(&o, NULL, &st), 0);
	stats_are(1, 0, 0, 0, 0);
	tree_is(V0_TREE);
	/* nothing to do: nothing done */
	cr_assert_eq(ama_worktree_download(&o, NULL, &st), 0);
	stats_are(0, 0, 0, 0, 0);
	ama_pathspec_release(&ps);
	done();
}

/* ---- discard ---- */

static int discard(const struct ama_pathspec *ps)
{
	ama_buf_reset(&told);
	return ama_worktree_discard(&o, &v0, ps, &st);
}

Test(worktree, discard_brings_the_version_back_and_drops_what_was_added)
{
	struct ama_index *idx;

	published();
	cr_assert_eq(update(NULL, &v0), 0);
	fx_write("a", "my own change");
	cr_assert_eq(unlink("d/b"), 0);
	fx_write("p", "pending");
	add_entry("p", "pending", AMA_STATE_PENDING);
	fx_write("s/x", "added again");
	add_entry("s/x", "added again", AMA_STATE_STAGED);
	/* removed from the index and not uploaded */
	cr_assert_eq(ama_index_lock_and_load(&idx, ".ama/index"), 0);
	cr_assert_eq(ama_index_remove(idx, "a", 1), 0);
	cr_assert_eq(ama_index_write_and_commit(idx), 0);
	ama_index_free(idx);
	cr_assert_eq(discard(NULL), 0, "%s\n%s", ama_error_msg(), told.s);
	told_is("a: restored\nd/b: restored\ns/x: restored\n"
		"p: no longer added (the file stays)\n");
	tree_is("a=alpha;d/b=beta;p=pending;s/x=ess x;");
	entries_are(V0_INDEX);
	done();
}

Test(worktree, discard_of_some_paths_leaves_the_others)
{
	struct ama_pathspec ps;
	char *const v[] = { "a", "p" };

	published();
	cr_assert_eq(update(NULL, &v0), 0);
	fx_write("a", "my own change");
	fx_write("d/b", "mine too");
	fx_write("p", "pending");
	add_entry("p", "pending", AMA_STATE_PENDING);
	cr_assert_eq(ama_pathspec_parse(&ps, NULL, v, 2), 0);
	cr_assert_eq(discard(&ps), 0, "%s\n%s", ama_error_msg(), told.s);
	told_is("a: restored\np: no longer added (the file stays)\n");
	tree_is("a=alpha;d/b=mine too;p=pending;s/x=ess x;");
	entries_are(V0_INDEX);
	/* nothing changed: nothing told */
	cr_assert_eq(discard(&ps), 0);
	told_is("");
	ama_pathspec_release(&ps);
	done();
}

Test(worktree, a_link_in_place_of_a_folder_is_never_written_through)
{
	struct ama_meta_version v2;
	struct ama_version ver;
	char target[128];

	published();
	fx_file(&pub, "a", "alpha, the second");
	fx_file(&pub, "n", "new");
	fx_file(&pub, "s/x", "ess x");
	fx_file(&pub, "z/y", "zed");
	fx_commit(&pub, "third");
	cr_assert_eq(ama_metasync_pull(meta, pub.c, "runs", 1, NULL), 1);
	ver = fx_ver("0.0.2");
	cr_assert_eq(ama_meta_find_version(meta, &v2, "runs", 1, &ver), 0);
	cr_assert_eq(update(NULL, &v1), 0);
	fx_mkdirs("../outside/");
	snprintf(target, sizeof(target), "%s/outside", fx_dir);
	cr_assert_eq(symlink(target, "z"), 0);
	cr_assert_eq(update(&v1, &v2), 1);
	cr_assert_eq(st.failed, 1);
	told_is("z/y: z: is not a folder (a file or a symbolic link is "
		"there)\n");
	cr_assert_eq(fx_exists("../outside/y"), 0);
	entries_are("a committed;n committed;s/x committed;z/y committed "
		    "skip;");
	ama_meta_version_release(&v2);
	done();
}
