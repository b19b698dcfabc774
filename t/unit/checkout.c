/* t/unit/checkout.c: contents placed from the cache into a work tree and files removed, by git's rules, never through a link. */
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
#include "checkout.h"
#include "error.h"
#include "index.h"
#include "readfix.h"

static struct ama_cache *cache;
static struct ama_index *idx;
static struct ama_checkout *co;
static struct ama_checkout_opts opts;

/* A cache, and the work tree "w" (entered) with a locked index. */
static void setup(void)
{
	char dir[128];

	fx_setup();
	snprintf(dir, sizeof(dir), "%s/cache", fx_dir);
	cr_assert_eq(ama_cache_open(&cache, dir), 0);
	cr_assert_eq(mkdir("w", 0755), 0);
	cr_assert_eq(mkdir("w/.ama", 0755), 0);
	cr_assert_eq(mkdir("outside", 0755), 0);
	cr_assert_eq(chdir("w"), 0);
	cr_assert_eq(ama_index_lock_and_load(&idx, ".ama/index"), 0);
	memset(&opts, 0, sizeof(opts));
	opts.cache = cache;
	opts.idx = idx;
	opts.state = AMA_STATE_COMMITTED;
	co = NULL;
}

static void teardown(void)
{
	ama_checkout_end(co);
	ama_index_free(idx);
	ama_cache_close(cache);
	fx_teardown();
}

TestSuite(checkout, .init = setup, .fini = teardown);

static void begin(void)
{
	ama_checkout_end(co);
	cr_assert_eq(ama_checkout_begin(&co, &opts), 0);
}

static void cache_bytes(const char *bytes)
{
	struct ama_md5 m = fx_md5(bytes);
	struct ama_cache_fill *f;
	uint64_t have;
	int rc = ama_cache_fill_begin(cache, &m, strlen(bytes), &f, &have);

	if (rc == AMA_EEXIST)
		return;
	cr_assert_eq(rc, 0);
	cr_assert_eq(ama_cache_fill_write(f, bytes, strlen(bytes)), 0);
	cr_assert_eq(ama_cache_fill_commit(f), 0);
}

/* An object at path with bytes (a link's target), cached unless told. */
static struct ama_object object(const char *path, const char *bytes,
				unsigned kind)
{
	struct ama_object o;

	o.md5 = fx_md5(bytes);
	o.size = strlen(bytes);
	o.path = path;
	o.path_len = strlen(path);
	o.kind = kind;
	return o;
}

static int place(const char *path, const char *bytes)
{
	struct ama_object o = object(path, bytes, AMA_OBJECT_FILE);

	cache_bytes(bytes);
	return ama_checkout_place(co, &o);
}

static int place_link(const char *path, const char *target)
{
	struct ama_object o = object(path, target, AMA_OBJECT_LINK);

	cache_bytes(target);
	return ama_checkout_place(co, &o);
}

static int removes(const char *path)
{
	return ama_checkout_remove(co, path, strlen(path));
}

static void holds(const char *path, const char *bytes)
{
	char *text = fx_read(path);

	cr_assert_not_null(text, "%s is missing", path);
	cr_assert_str_eq(text, bytes, "%s", path);
	free(text);
}

/* The index entry of path must record the file as it is now. */
static void recorded(const char *path, const char *bytes)
{
	struct ama_index_entry *e = ama_index_find(idx, path, strlen(path));
	struct ama_md5 m = fx_md5(bytes);
	struct ama_stat now;

	cr_assert_not_null(e, "%s has no entry", path);
	cr_assert(ama_md5_equal(&e->md5, &m), "%s", path);
	cr_assert_eq(ama_stat_path(&now, path), 0);
	cr_assert(ama_stat_equal(&e->st, &now), "%s: stale stat record",
		  path);
	cr_assert_eq(e->state, opts.state);
}

static void refused(int rc, int code, const char *subject, const char *why)
{
	cr_assert_eq(rc, code, "rc %d: %s", rc, ama_error_msg());
	cr_assert_str_eq(ama_error_path(), subject);
	cr_assert_str_eq(ama_error_msg(), why);
}

/* Names left in the work tree but .ama, sorted, joined by ' '. */
static char *tree(void)
{
	return fx_sh("find . -path ./.ama -prune -o ! -name . -print | "
		     "sed 's|^\\./||' | LC_ALL=C sort | tr '\\n' ' '");
}

static void tree_is(const char *want)
{
	char *t = tree();

	cr_assert_str_eq(t, want);
	free(t);
}

/* Make the file's stat record differ without changing its size. */
static void touch_old(const char *path)
{
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

	cr_assert_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* ---- placing ---- */

Test(checkout, a_new_file_is_placed_with_its_folders_and_recorded)
{
	begin();
	cr_assert_eq(place("a", "alpha"), AMA_CHECKOUT_PLACED, "%s",
		     ama_error_msg());
	cr_assert_eq(place("d/e/f", "deep"), AMA_CHECKOUT_PLACED);
	holds("a", "alpha");
	holds("d/e/f", "deep");
	recorded("a", "alpha");
	recorded("d/e/f", "deep");
	tree_is("a d d/e d/e/f ");
	cr_assert_eq(ama_index_count(idx), 2);
}

Test(checkout, entries_take_the_state_asked_for)
{
	opts.state = AMA_STATE_PENDING;
	begin();
	cr_assert_eq(place("a", "alpha"), AMA_CHECKOUT_PLACED);
	recorded("a", "alpha");
}

Test(checkout, a_file_holding_the_content_already_is_kept)
{
	begin();
	cr_assert_eq(place("a", "alpha"), AMA_CHECKOUT_PLACED);
	cr_assert_eq(place("a", "alpha"), AMA_CHECKOUT_KEPT);
	/* also when its stat record changed: it is hashed */
	touch_old("a");
	cr_assert_eq(place("a", "alpha"), AMA_CHECKOUT_KEPT);
	recorded("a", "alpha");
}

Test(checkout, an_untracked_file_holding_the_content_is_kept_and_recorded)
{
	begin();
	fx_write("a", "alpha");
	cr_assert_eq(place("a", "alpha"), AMA_CHECKOUT_KEPT);
	recorded("a", "alpha");
}

Test(checkout, a_tracked_unchanged_file_is_replaced)
{
	begin();
	cr_assert_eq(place("a", "alpha"), AMA_CHECKOUT_PLACED);
	cr_assert_eq(place("a", "alpha, the second"), AMA_CHECKOUT_PLACED);
	holds("a", "alpha, the second");
	recorded("a", "alpha, the second");
	tree_is("a ");
}

Test(checkout, an_untracked_file_in_the_way_is_refused)
{
	begin();
	fx_write("u", "mine");
	refused(place("u", "theirs"), AMA_EEXIST, "u", "not tracked by ama; "
		"move it away, or --force overwrites it");
	holds("u", "mine");
	cr_assert_null(ama_index_find(idx, "u", 1));
}

Test(checkout, a_modified_file_is_refused)
{
	begin();
	cr_assert_eq(place("a", "alpha"), AMA_CHECKOUT_PLACED);
	fx_write("a", "my change");
	refused(place("a", "theirs"), AMA_EMODIFIED, "a", "modified since it "
		"was added; 'ama add' keeps it, --force discards it");
	holds("a", "my change");
	/* a change of the same size, found by hashing */
	fx_write("a", "ALPHA");
	touch_old("a");
	refused(place("a", "theirs"), AMA_EMODIFIED, "a", "modified since it "
		"was added; 'ama add' keeps it, --force discards it");
	holds("a", "ALPHA");
}

Test(checkout, force_overwrites_untracked_and_modified_files)
{
	begin();
	cr_assert_eq(place("a", "alpha"), AMA_CHECKOUT_PLACED);
	fx_write("a", "my change");
	fx_write("u", "mine");
	opts.force = 1;
	begin();
	cr_assert_eq(place("a", "theirs"), AMA_CHECKOUT_PLACED);
	cr_assert_eq(place("u", "theirs too"), AMA_CHECKOUT_PLACED);
	holds("a", "theirs");
	holds("u", "theirs too");
	recorded("u", "theirs too");
}

Test(checkout, a_folder_in_the_way_is_refused_force_or_not)
{
	begin();
	fx_write("a/inside", "x");
	refused(place("a", "alpha"), AMA_EEXIST, "a", "a folder is in the "
		"way");
	opts.force = 1;
	begin();
	refused(place("a", "alpha"), AMA_EEXIST, "a", "a folder is in the "
		"way");
	holds("a/inside", "x");
}

Test(checkout, a_link_in_place_of_a_folder_is_never_written_through)
{
	char target[128];

	snprintf(target, sizeof(target), "%s/outside", fx_dir);
	cr_assert_eq(symlink(target, "d"), 0);
	begin();
	refused(place("d/x", "evil"), AMA_EEXIST, "d", "is not a folder (a "
		"file or a symbolic link is there)");
	refused(place("d/e/x", "evil"), AMA_EEXIST, "d", "is not a folder (a "
		"file or a symbolic link is there)");
	tree_is("d ");
	cr_assert_eq(fx_exists("../outside/x"), 0);
	cr_assert_eq(fx_exists("../outside/e"), 0);
	/* force removes the link, not what it points at */
	opts.force = 1;
	begin();
	cr_assert_eq(place("d/x", "evil"), AMA_CHECKOUT_PLACED, "%s",
		     ama_error_msg());
	tree_is("d d/x ");
	cr_assert_eq(fx_exists("../outside/x"), 0);
	cr_assert_eq(fx_exists("../outside"), 1);
}

Test(checkout, a_file_in_place_of_a_folder_is_refused_and_forced_away)
{
	begin();
	cr_assert_eq(place("d", "a file"), AMA_CHECKOUT_PLACED);
	refused(place("d/x", "below"), AMA_EEXIST, "d", "is not a folder (a "
		"file or a symbolic link is there)");
	holds("d", "a file");
	opts.force = 1;
	begin();
	cr_assert_eq(place("d/x", "below"), AMA_CHECKOUT_PLACED);
	holds("d/x", "below");
	cr_assert_null(ama_index_find(idx, "d", 1));
	recorded("d/x", "below");
}

Test(checkout, a_content_not_cached_makes_nothing)
{
	struct ama_object o = object("new/deep/x", "never cached",
				     AMA_OBJECT_FILE);

	begin();
	refused(ama_checkout_place(co, &o), AMA_ENOTFOUND, "new/deep/x",
		"not in the cache");
	tree_is("");
	cr_assert_eq(ama_index_count(idx), 0);
}

Test(checkout, a_path_that_is_not_clean_is_refused)
{
	static const char *const bad[] = {
		"../x", "/abs", "a//b", "./a", "a/../b", ".ama/index",
		"x/.ama/config", "a/", "",
	};
	size_t i;

	begin();
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct ama_object o = object(bad[i], "alpha", AMA_OBJECT_FILE);

		cache_bytes("alpha");
		cr_assert_eq(ama_checkout_place(co, &o), AMA_EINVAL, "%s",
			     bad[i]);
	}
	tree_is("");
	cr_assert_eq(fx_exists("../x"), 0);
}

/* ---- links ---- */

Test(checkout, a_link_object_is_made_a_link_to_its_target)
{
	char buf[64];
	ssize_t n;
	struct ama_index_entry *e;

	begin();
	cr_assert_eq(place_link("l", "a"), AMA_CHECKOUT_PLACED, "%s",
		     ama_error_msg());
	cr_assert_eq(place_link("sub/up", "../a"), AMA_CHECKOUT_PLACED);
	n = readlink("l", buf, sizeof(buf));
	cr_assert_eq(n, 1);
	cr_assert_eq(buf[0], 'a');
	n = readlink("sub/up", buf, sizeof(buf));
	cr_assert_eq(n, 4);
	cr_assert_eq(memcmp(buf, "../a", 4), 0);
	e = ama_index_find(idx, "l", 1);
	cr_assert_not_null(e);
	cr_assert(S_ISLNK(e->st.mode));
	/* kept when run again */
	cr_assert_eq(place_link("l", "a"), AMA_CHECKOUT_KEPT);
}

Test(checkout, links_out_of_the_tree_are_made_unless_refused)
{
	char buf[64];
	ssize_t n;

	begin();
	cr_assert_eq(place_link("abs", "/etc/passwd"), AMA_CHECKOUT_PLACED);
	cr_assert_eq(place_link("sub/out", "../../outside"),
		     AMA_CHECKOUT_PLACED);
	n = readlink("abs", buf, sizeof(buf));
	cr_assert_eq(n, 11);
	opts.no_external_links = 1;
	begin();
	refused(place_link("abs2", "/etc/passwd"), AMA_EINVAL, "abs2",
		"a link out of the work tree (to /etc/passwd): not made "
		"(--no-external-links)");
	refused(place_link("sub/out2", "../../outside"), AMA_EINVAL,
		"sub/out2", "a link out of the work tree (to ../../outside): "
		"not made (--no-external-links)");
	refused(place_link("x", "sub/../../y"), AMA_EINVAL, "x", "a link out "
		"of the work tree (to sub/../../y): not made "
		"(--no-external-links)");
	cr_assert_eq(place_link("sub/in", "../a"), AMA_CHECKOUT_PLACED);
	cr_assert_eq(place_link("in2", "./sub/./x"), AMA_CHECKOUT_PLACED);
	tree_is("abs in2 sub sub/in sub/out ");
}

Test(checkout, a_link_target_with_a_nul_is_refused)
{
	struct ama_cache_fill *f;
	struct ama_object o;
	uint64_t have;

	/* a cached content of 3 bytes, "a", NUL, "b" */
	ama_md5_buffer(&o.md5, "a\0b", 3);
	o.size = 3;
	o.path = "l";
	o.path_len = 1;
	o.kind = AMA_OBJECT_LINK;
	cr_assert_eq(ama_cache_fill_begin(cache, &o.md5, 3, &f, &have), 0);
	cr_assert_eq(ama_cache_fill_write(f, "a\0b", 3), 0);
	cr_assert_eq(ama_cache_fill_commit(f), 0);
	begin();
	refused(ama_checkout_place(co, &o), AMA_EINVAL, "l", "a link target "
		"cannot be empty or hold a NUL byte");
	tree_is("");
}

/* ---- hard links ---- */

Test(checkout, hard_links_share_the_cached_file_read_only)
{
	struct ama_buf p = AMA_BUF_INIT;
	struct ama_md5 m = fx_md5("alpha");
	struct stat a, c;

	opts.hard_link = 1;
	begin();
	cr_assert_eq(place("a", "alpha"), AMA_CHECKOUT_PLACED, "%s",
		     ama_error_msg());
	cr_assert_eq(place("d/b", "alpha"), AMA_CHECKOUT_PLACED);
	ama_cache_path(cache, &p, &m);
	cr_assert_eq(stat("a", &a), 0);
	cr_assert_eq(stat(p.s, &c), 0);
	cr_assert_eq(a.st_ino, c.st_ino);
	cr_assert_eq(a.st_nlink, 3);
	cr_assert_eq(a.st_mode & 07777, 0444);
	recorded("d/b", "alpha");
	/* replacing one leaves the cache's bytes alone */
	opts.hard_link = 0;
	begin();
	cr_assert_eq(place("a", "alpha 2"), AMA_CHECKOUT_PLACED, "%s",
		     ama_error_msg());
	holds(p.s, "alpha");
	holds("a", "alpha 2");
	ama_buf_release(&p);
}

/* ---- removing ---- */

Test(checkout, a_tracked_file_is_removed_with_its_empty_folders)
{
	begin();
	cr_assert_eq(place("d/e/f", "deep"), AMA_CHECKOUT_PLACED);
	cr_assert_eq(place("d/g", "kept"), AMA_CHECKOUT_PLACED);
	cr_assert_eq(removes("d/e/f"), AMA_CHECKOUT_REMOVED);
	tree_is("d d/g ");
	cr_assert_null(ama_index_find(idx, "d/e/f", 5));
	cr_assert_eq(removes("d/g"), AMA_CHECKOUT_REMOVED);
	tree_is("");
	cr_assert_eq(ama_index_count(idx), 0);
}

Test(checkout, a_modified_or_untracked_file_is_not_removed_unless_forced)
{
	begin();
	cr_assert_eq(place("a", "alpha"), AMA_CHECKOUT_PLACED);
	fx_write("a", "my change");
	fx_write("u", "mine");
	refused(removes("a"), AMA_EMODIFIED, "a", "modified since it was "
		"added; 'ama add' keeps it, --force discards it");
	refused(removes("u"), AMA_EEXIST, "u", "not tracked by ama; move it "
		"away, or --force removes it");
	tree_is("a u ");
	cr_assert_not_null(ama_index_find(idx, "a", 1));
	opts.force = 1;
	begin();
	cr_assert_eq(removes("a"), AMA_CHECKOUT_REMOVED);
	cr_assert_eq(removes("u"), AMA_CHECKOUT_REMOVED);
	tree_is("");
	cr_assert_eq(ama_index_count(idx), 0);
}

Test(checkout, a_file_already_gone_is_gone_and_its_entry_goes)
{
	begin();
	cr_assert_eq(place("d/a", "alpha"), AMA_CHECKOUT_PLACED);
	cr_assert_eq(unlink("d/a"), 0);
	cr_assert_eq(removes("d/a"), AMA_CHECKOUT_GONE);
	cr_assert_eq(ama_index_count(idx), 0);
	cr_assert_eq(removes("never/was"), AMA_CHECKOUT_GONE);
}

Test(checkout, a_folder_where_the_file_was_is_left_alone)
{
	begin();
	cr_assert_eq(place("a", "alpha"), AMA_CHECKOUT_PLACED);
	cr_assert_eq(unlink("a"), 0);
	fx_write("a/mine", "x");
	cr_assert_eq(removes("a"), AMA_CHECKOUT_GONE);
	tree_is("a a/mine ");
	cr_assert_eq(ama_index_count(idx), 0);
}

Test(checkout, nothing_is_removed_through_a_link_in_place_of_a_folder)
{
	char target[128];

	fx_write("../outside/x", "theirs");
	snprintf(target, sizeof(target), "%s/outside", fx_dir);
	cr_assert_eq(symlink(target, "d"), 0);
	opts.force = 1;
	begin();
	cr_assert_eq(removes("d/x"), AMA_CHECKOUT_GONE);
	holds("../outside/x", "theirs");
	tree_is("d ");
}

Test(checkout, a_link_is_removed_not_what_it_points_at)
{
	begin();
	cr_assert_eq(place("a", "alpha"), AMA_CHECKOUT_PLACED);
	cr_assert_eq(place_link("l", "a"), AMA_CHECKOUT_PLACED);
	cr_assert_eq(removes("l"), AMA_CHECKOUT_REMOVED, "%s",
		     ama_error_msg());
	tree_is("a ");
	holds("a", "alpha");
}

Test(checkout, a_tracked_link_or_file_gives_way_to_the_other_kind)
{
	char buf[64];
	ssize_t n;

	begin();
	cr_assert_eq(place_link("l", "a"), AMA_CHECKOUT_PLACED);
	cr_assert_eq(place_link("l", "b"), AMA_CHECKOUT_PLACED, "%s",
		     ama_error_msg());
	n = readlink("l", buf, sizeof(buf));
	cr_assert(n == 1 && buf[0] == 'b');
	/* a link becomes a file, and the file a link again */
	cr_assert_eq(place("l", "now a file"), AMA_CHECKOUT_PLACED, "%s",
		     ama_error_msg());
	holds("l", "now a file");
	recorded("l", "now a file");
	cr_assert_eq(place_link("l", "a"), AMA_CHECKOUT_PLACED, "%s",
		     ama_error_msg());
	n = readlink("l", buf, sizeof(buf));
	cr_assert(n == 1 && buf[0] == 'a');
	/* an untracked link of the same target bytes is no file of them */
	cr_assert_eq(symlink("alpha", "m"), 0);
	refused(place("m", "alpha"), AMA_EEXIST, "m", "not tracked by ama; "
		"move it away, or --force overwrites it");
}
