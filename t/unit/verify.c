/* t/unit/verify.c: change detection: verdicts, racy entries, threads, refreshes. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "index.h"
#include "lockfile.h"
#include "md5.h"
#include "verify.h"

/* Each test runs in its own process, in a fresh folder holding .ama/. */
static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/ama-verify-XXXXXX");
	cr_assert(mkdtemp(dir));
	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(mkdir(".ama", 0777), 0);
}

static void teardown(void)
{
	char cmd[128];

	cr_assert_eq(chdir("/"), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(verify, .init = setup, .fini = teardown);

static void put(const char *path, const char *content)
{
	FILE *f = fopen(path, "wb");

	cr_assert(f, "%s", path);
	cr_assert_eq(fputs(content, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

/* Set a file's mtime (and so its ctime to now). */
static void set_mtime(const char *path, time_t sec)
{
	struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };

	cr_assert_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* An entry for path as it is now, with content's MD5 (or a wrong one). */
static void add(struct ama_index *idx, const char *path,
		const char *content, uint8_t flags)
{
	struct ama_index_entry e;

	memset(&e, 0, sizeof(e));
	cr_assert_eq(ama_stat_path(&e.st, path), 0);
	ama_md5_buffer(&e.md5, content, strlen(content));
	e.path = path;
	e.path_len = (uint32_t)strlen(path);
	e.state = AMA_STATE_STAGED;
	e.flags = flags;
	ama_index_add(idx, &e);
}

/* Write the index and load it again: its mtime is now the index's. */
static struct ama_index *saved(struct ama_index *idx)
{
	struct ama_index *again;

	cr_assert_eq(ama_index_write_and_commit(idx), 0);
	ama_index_free(idx);
	cr_assert_eq(ama_index_load(&again, ".ama/index"), 0);
	return again;
}

static struct ama_index *locked(void)
{
	struct ama_index *idx;

	cr_assert_eq(ama_index_lock_and_load(&idx, ".ama/index"), 0);
	return idx;
}

static struct ama_verify_result check(struct ama_index *idx,
				      const char *path)
{
	struct ama_verify_result r;
	struct ama_index_entry *e = ama_index_find(idx, path, strlen(path));

	cr_assert_not_null(e, "%s", path);
	ama_verify_entry(idx, e, &r);
	return r;
}

Test(verify, stat_matches_compares_size_times_and_inode)
{
	struct ama_stat a = { 10, 20, 30, 40, 50, 1, S_IFREG | 0644 }, b;

	b = a;
	cr_assert(ama_verify_stat_matches(&a, &b));
	b.nlink = 2;
	b.mode = S_IFREG | 0600;
	b.dev = 51;
	cr_assert(ama_verify_stat_matches(&a, &b));
	b = a;
	b.size++;
	cr_assert(!ama_verify_stat_matches(&a, &b));
	b = a;
	b.mtime_ns++;
	cr_assert(!ama_verify_stat_matches(&a, &b));
	b = a;
	b.ctime_ns++;
	cr_assert(!ama_verify_stat_matches(&a, &b));
	b = a;
	b.ino++;
	cr_assert(!ama_verify_stat_matches(&a, &b));
}

Test(verify, an_unchanged_file_is_ok_without_being_read)
{
	struct ama_index *idx = locked();
	struct ama_verify_result r;

	put("a", "hello");
	set_mtime("a", 1600000000);
	/* a wrong MD5: only a rehash could notice it */
	add(idx, "a", "not hello", 0);
	idx = saved(idx);
	r = check(idx, "a");
	cr_assert_eq(r.verdict, AMA_VERDICT_OK);
	cr_assert_eq(r.rehashed, 0);
	ama_index_free(idx);
}

Test(verify, a_racy_flag_forces_a_rehash)
{
	struct ama_index *idx = locked();
	struct ama_verify_result r;

	put("a", "hello");
	put("b", "world");
	set_mtime("a", 1600000000);
	set_mtime("b", 1600000000);
	add(idx, "a", "not hello", AMA_ENTRY_RACY);
	add(idx, "b", "world", AMA_ENTRY_RACY);
	idx = saved(idx);
	r = check(idx, "a");
	cr_assert_eq(r.verdict, AMA_VERDICT_MODIFIED);
	cr_assert_eq(r.rehashed, 1);
	r = check(idx, "b");
	cr_assert_eq(r.verdict, AMA_VERDICT_OK);
	cr_assert_eq(r.rehashed, 1);
	cr_assert_eq(r.racy, 0);
	ama_index_free(idx);
}

Test(verify, a_file_not_older_than_the_index_is_rehashed)
{
	struct ama_index *idx = locked();
	struct ama_index_entry *e;
	struct ama_verify_result r;

	put("a", "hello");
	add(idx, "a", "not hello", 0);
	idx = saved(idx);
	e = ama_index_find(idx, "a", 1);
	/* as if the file had been changed in the tick the index was written */
	e->st.mtime_ns = ama_index_mtime_ns(idx);
	r = check(idx, "a");
	cr_assert_eq(r.rehashed, 1);
	cr_assert_eq(r.verdict, AMA_VERDICT_MODIFIED);
	ama_index_free(idx);
}

Test(verify, gone_or_neither_file_nor_link_is_deleted_a_file_now_a_link_modified)
{
	struct ama_index *idx = locked();
	struct ama_verify_result r;

	put("gone", "x");
	put("dir", "x");
	put("link", "x");
	put("fifo", "x");
	put("under", "x");
	add(idx, "gone", "x", 0);
	add(idx, "dir", "x", 0);
	add(idx, "link", "x", 0);
	add(idx, "fifo", "x", 0);
	add(idx, "under", "x", 0);
	cr_assert_eq(unlink("gone"), 0);
	cr_assert_eq(unlink("dir"), 0);
	cr_assert_eq(mkdir("dir", 0777), 0);
	cr_assert_eq(unlink("link"), 0);
	cr_assert_eq(symlink("under", "link"), 0);
	cr_assert_eq(unlink("fifo"), 0);
	cr_assert_eq(mkfifo("fifo", 0666), 0);
	r = check(idx, "gone");
	cr_assert_eq(r.verdict, AMA_VERDICT_DELETED);
	r = check(idx, "dir");
	cr_assert_eq(r.verdict, AMA_VERDICT_DELETED);
	r = check(idx, "link");
	cr_assert_eq(r.verdict, AMA_VERDICT_MODIFIED);
	r = check(idx, "fifo");
	cr_assert_eq(r.verdict, AMA_VERDICT_DELETED);
	cr_assert_str_eq(ama_verdict_name(r.verdict), "deleted");
	ama_index_free(idx);
}

Test(verify, a_path_whose_folder_became_a_file_is_deleted)
{
	struct ama_index *idx = locked();
	struct ama_verify_result r;

	cr_assert_eq(mkdir("d", 0777), 0);
	put("d/x", "x");
	add(idx, "d/x", "x", 0);
	cr_assert_eq(unlink("d/x"), 0);
	cr_assert_eq(rmdir("d"), 0);
	put("d", "now a file");
	r = check(idx, "d/x");
	cr_assert_eq(r.verdict, AMA_VERDICT_DELETED);
	ama_index_free(idx);
}

Test(verify, another_size_is_modified_without_reading)
{
	struct ama_index *idx = locked();
	struct ama_verify_result r;

	put("a", "hello");
	add(idx, "a", "hello", 0);
	put("a", "hello, longer");
	r = check(idx, "a");
	cr_assert_eq(r.verdict, AMA_VERDICT_MODIFIED);
	cr_assert_eq(r.rehashed, 0);
	cr_assert_eq(r.st.size, 13);
	ama_index_free(idx);
}

Test(verify, same_size_new_content_and_old_mtime_is_caught_by_ctime)
{
	struct ama_index *idx = locked();
	struct ama_verify_result r;

	put("a", "hello");
	set_mtime("a", 1600000000);
	add(idx, "a", "hello", 0);
	idx = saved(idx);
	usleep(20000);
	put("a", "HELLO");
	set_mtime("a", 1600000000);	/* mtime as it was */
	r = check(idx, "a");
	cr_assert_eq(r.rehashed, 1);
	cr_assert_eq(r.verdict, AMA_VERDICT_MODIFIED);
	ama_index_free(idx);
}

Test(verify, an_unreadable_file_is_an_error_not_a_verdict)
{
	struct ama_index *idx = locked();
	struct ama_verify_result r;

	if (geteuid() == 0) {
		ama_index_free(idx);
		teardown();	/* a skipped test does not run .fini */
		cr_skip_test("root reads anything; the shell test covers it "
			     "as another user");
	}
	put("a", "hello");
	add(idx, "a", "hello", AMA_ENTRY_RACY);
	cr_assert_eq(chmod("a", 0), 0);
	r = check(idx, "a");
	cr_assert_eq(r.verdict, AMA_VERDICT_ERROR);
	cr_assert_eq(r.rc, AMA_EIO);
	cr_assert_str_eq(r.msg, "cannot open: Permission denied");
	ama_verify_result_release(&r);
	ama_index_free(idx);
}

/* --- runs --- */

struct seen {
	size_t n;
	size_t stop_at;		/* stop when n reaches it (0: never) */
	char verdicts[2048];
	size_t seq[2048];
	const char *paths[2048];
};

static int record(const struct ama_verify_result *r, void *ctx)
{
	struct seen *s = ctx;

	cr_assert_lt(s->n, 2048);
	s->verdicts[s->n] = ama_verdict_name(r->verdict)[0];
	s->seq[s->n] = r->seq;
	s->paths[s->n] = r->entry->path;
	s->n++;
	if (s->stop_at && s->n == s->stop_at)
		return AMA_ECONFLICT;
	return 0;
}

/* 1000 files in 10 folders; every 7th changed, every 11th gone. */
static struct ama_index *many(char *want)
{
	struct ama_index *idx = locked();
	char path[32];
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "d%d", i);
		cr_assert_eq(mkdir(path, 0777), 0);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "d%d/f%03d", i / 100, i);
		put(path, path);
		set_mtime(path, 1600000000);
		add(idx, path, path, i % 5 == 0 ? AMA_ENTRY_RACY : 0);
	}
	idx = saved(idx);
	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "d%d/f%03d", i / 100, i);
		want[i] = 'o';
		if (i % 11 == 0) {
			cr_assert_eq(unlink(path), 0);
			want[i] = 'd';
		} else if (i % 7 == 0) {
			char other[32];

			strcpy(other, path);
			other[0] = 'D';	/* same size, other bytes */
			put(path, other);
			want[i] = 'm';
		}
	}
	return idx;
}

static void run_many(int jobs)
{
	static char want[1000];
	struct ama_index *idx = many(want);
	struct seen *s = calloc(1, sizeof(*s));
	struct ama_verify_opts o;
	size_t i;

	memset(&o, 0, sizeof(o));
	o.jobs = jobs;
	o.fn = record;
	o.ctx = s;
	cr_assert_eq(ama_verify_run(idx, &o), 0);
	cr_assert_eq(s->n, 1000);
	for (i = 0; i < 1000; i++) {
		char path[32];

		snprintf(path, sizeof(path), "d%zu/f%03zu", i / 100, i);
		cr_assert_eq(s->seq[i], i);
		cr_assert_str_eq(s->paths[i], path);
		cr_assert_eq(s->verdicts[i], want[i], "%s: %c, not %c",
			     path, s->verdicts[i], want[i]);
	}
	ama_index_free(idx);
	free(s);
}

Test(verify, one_thread_gives_every_verdict_in_order)
{
	run_many(1);
}

Test(verify, many_threads_give_the_same_verdicts_in_order)
{
	run_many(4);
}

Test(verify, a_list_of_positions_is_checked_in_its_order)
{
	static char want[1000];
	struct ama_index *idx = many(want);
	struct seen *s = calloc(1, sizeof(*s));
	size_t pos[] = { 999, 7, 11, 500, 0 };
	struct ama_verify_opts o;

	memset(&o, 0, sizeof(o));
	o.jobs = 3;
	o.pos = pos;
	o.npos = 5;
	o.fn = record;
	o.ctx = s;
	cr_assert_eq(ama_verify_run(idx, &o), 0);
	cr_assert_eq(s->n, 5);
	cr_assert_str_eq(s->paths[0], "d9/f999");
	cr_assert_str_eq(s->paths[1], "d0/f007");
	cr_assert_eq(s->verdicts[1], 'm');
	cr_assert_eq(s->verdicts[2], 'd');
	cr_assert_eq(s->verdicts[3], 'o');
	cr_assert_eq(s->seq[4], 4);
	ama_index_free(idx);
	free(s);
}

Test(verify, a_callback_error_stops_the_run)
{
	static char want[1000];
	struct ama_index *idx = many(want);
	struct seen *s = calloc(1, sizeof(*s));
	struct ama_verify_opts o;

	memset(&o, 0, sizeof(o));
	o.jobs = 2;
	o.fn = record;
	o.ctx = s;
	s->stop_at = 300;
	cr_assert_eq(ama_verify_run(idx, &o), AMA_ECONFLICT);
	cr_assert_eq(s->n, 300);
	ama_index_free(idx);
	free(s);
}

static int expect_error(const struct ama_verify_result *r, void *ctx)
{
	int *errors = ctx;

	if (r->verdict == AMA_VERDICT_ERROR) {
		/* the callback sees the error as the thread's last error */
		cr_assert_eq(ama_error_code(), r->rc);
		cr_assert_str_eq(ama_error_msg(), r->msg);
		(*errors)++;
	} else {
		cr_assert_eq(ama_error_code(), 0);
	}
	return 0;
}

Test(verify, errors_reach_the_callback_as_the_last_error)
{
	struct ama_index *idx = locked();
	struct ama_index_entry e;
	struct ama_verify_opts o;
	char longname[301];
	int errors = 0;

	put("a", "x");
	add(idx, "a", "x", 0);
	/* a name too long for lstat: an error even for root */
	memset(longname, 'n', 300);
	longname[300] = '\0';
	memset(&e, 0, sizeof(e));
	e.path = longname;
	e.path_len = 300;
	ama_index_add(idx, &e);
	memset(&o, 0, sizeof(o));
	o.jobs = 2;
	o.fn = expect_error;
	o.ctx = &errors;
	cr_assert_eq(ama_verify_run(idx, &o), 0);
	cr_assert_eq(errors, 1);
	ama_index_free(idx);
}

Test(verify, an_error_result_names_the_reason_and_the_path)
{
	struct ama_index *idx = locked();
	struct ama_index_entry e;
	struct ama_verify_result r;
	char longname[301];

	memset(longname, 'n', 300);
	longname[300] = '\0';
	memset(&e, 0, sizeof(e));
	e.path = longname;
	e.path_len = 300;
	ama_index_add(idx, &e);
	r = check(idx, longname);
	cr_assert_eq(r.verdict, AMA_VERDICT_ERROR);
	cr_assert_eq(r.rc, AMA_EIO);
	cr_assert_str_eq(r.msg, "cannot stat: File name too long");
	cr_assert_str_eq(r.subject, longname);
	ama_verify_result_release(&r);
	ama_index_free(idx);
}

Test(verify, entries_of_a_folder_that_became_a_file_are_deleted)
{
	struct ama_index *idx;
	struct seen *s;
	struct ama_verify_opts o;
	int i;

	idx = locked();
	cr_assert_eq(mkdir("d", 0777), 0);
	put("d/x", "x");
	put("d/y", "y");
	put("d/z", "z");
	add(idx, "d/x", "x", 0);
	add(idx, "d/y", "y", 0);
	add(idx, "d/z", "z", 0);
	idx = saved(idx);
	cr_assert_eq(system("rm -r d && echo file >d"), 0);
	s = calloc(1, sizeof(*s));
	for (i = 1; i <= 2; i++) {
		memset(s, 0, sizeof(*s));
		memset(&o, 0, sizeof(o));
		o.jobs = i;
		o.fn = record;
		o.ctx = s;
		cr_assert_eq(ama_verify_run(idx, &o), 0);
		cr_assert_eq(s->n, 3);
		cr_assert(!memcmp(s->verdicts, "ddd", 3));
	}
	free(s);
	ama_index_free(idx);
}

Test(verify, deep_folders_and_folders_of_one_file_check_alike)
{
	struct ama_index *idx = locked();
	struct seen *s = calloc(1, sizeof(*s));
	struct ama_verify_opts o;

	cr_assert_eq(system("mkdir -p a/b/c/d e && echo 1 >a/b/c/d/f && "
			    "echo 2 >a/b/c/d/g && echo 3 >a/b/c/h && "
			    "echo 4 >e/i && echo 5 >j"), 0);
	add(idx, "a/b/c/d/f", "1\n", 0);
	add(idx, "a/b/c/d/g", "2\n", 0);
	add(idx, "a/b/c/h", "3\n", 0);
	add(idx, "e/i", "4\n", 0);
	add(idx, "j", "5\n", 0);
	idx = saved(idx);
	cr_assert_eq(system("echo 22 >a/b/c/d/g && rm e/i"), 0);
	memset(&o, 0, sizeof(o));
	o.fn = record;
	o.ctx = s;
	cr_assert_eq(ama_verify_run(idx, &o), 0);
	cr_assert_eq(s->n, 5);
	cr_assert(!memcmp(s->verdicts, "omodo", 5));
	free(s);
	ama_index_free(idx);
}

/* --- refreshes --- */

Test(verify, a_touched_file_is_ok_and_refreshed_in_memory_and_on_disk)
{
	struct ama_index *idx = locked();
	struct ama_refresh_list l = AMA_REFRESH_LIST_INIT;
	struct ama_verify_opts o;
	struct ama_index_entry *e;
	struct ama_stat now;
	struct seen *s = calloc(1, sizeof(*s));

	put("a", "hello");
	put("b", "world");
	set_mtime("a", 1600000000);
	set_mtime("b", 1600000000);
	add(idx, "a", "hello", 0);
	add(idx, "b", "world", 0);
	idx = saved(idx);
	set_mtime("a", 1600000100);	/* touched: new mtime and ctime */
	cr_assert_eq(ama_stat_path(&now, "a"), 0);
	memset(&o, 0, sizeof(o));
	o.jobs = 2;
	o.fn = record;
	o.ctx = s;
	o.refresh = &l;
	cr_assert_eq(ama_verify_run(idx, &o), 0);
	cr_assert_eq(s->verdicts[0], 'o');
	cr_assert_eq(s->verdicts[1], 'o');
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.v[0].path, "a");
	cr_assert(ama_stat_equal(&l.v[0].new_st, &now));
	cr_assert_eq(l.v[0].new_flags, 0);
	e = ama_index_find(idx, "a", 1);
	cr_assert(ama_stat_equal(&e->st, &now));
	cr_assert_eq(ama_verify_refresh(".ama/index", &l), 1);
	ama_refresh_list_release(&l);
	ama_index_free(idx);
	cr_assert_eq(ama_index_load(&idx, ".ama/index"), 0);
	e = ama_index_find(idx, "a", 1);
	cr_assert(ama_stat_equal(&e->st, &now));
	cr_assert_eq(e->state, AMA_STATE_STAGED);
	cr_assert_eq(e->flags, 0);
	ama_index_free(idx);
	free(s);
}

/* stat_only: what would be read is MODIFIED, not read, nothing refreshed */
Test(verify, stat_only_reads_no_file)
{
	struct ama_index *idx = locked();
	struct ama_refresh_list l = AMA_REFRESH_LIST_INIT;
	struct ama_verify_opts o;
	struct ama_index_entry *e;
	struct ama_stat before;
	struct seen *s = calloc(1, sizeof(*s));

	put("a", "hello");
	put("b", "world");
	put("c", "same");
	set_mtime("a", 1600000000);
	set_mtime("b", 1600000000);
	set_mtime("c", 1600000000);
	add(idx, "a", "hello", 0);
	add(idx, "b", "world", 0);
	add(idx, "c", "same", 0);
	idx = saved(idx);
	set_mtime("a", 1600000100);	/* touched */
	put("b", "WORLD");		/* same size, new content */
	set_mtime("b", 1600000000);	/* and the old mtime: ctime tells */
	e = ama_index_find(idx, "a", 1);
	before = e->st;
	memset(&o, 0, sizeof(o));
	o.jobs = 2;
	o.fn = record;
	o.ctx = s;
	o.refresh = &l;
	o.stat_only = 1;
	cr_assert_eq(ama_verify_run(idx, &o), 0);
	cr_assert_eq(s->n, 3);
	/* a rehash would say "ok" of a: 'm' shows it was not read */
	cr_assert_eq(s->verdicts[0], 'm', "a touch, not read");
	cr_assert_eq(s->verdicts[1], 'm');
	cr_assert_eq(s->verdicts[2], 'o');
	cr_assert_eq(l.n, 0);
	cr_assert(ama_stat_equal(&ama_index_find(idx, "a", 1)->st, &before));
	ama_index_free(idx);
	free(s);
}

Test(verify, a_racy_entry_confirmed_loses_its_flag)
{
	struct ama_index *idx = locked();
	struct ama_refresh_list l = AMA_REFRESH_LIST_INIT;
	struct ama_verify_opts o;

	put("a", "hello");
	set_mtime("a", 1600000000);
	add(idx, "a", "hello", AMA_ENTRY_RACY);
	idx = saved(idx);
	memset(&o, 0, sizeof(o));
	o.refresh = &l;
	cr_assert_eq(ama_verify_run(idx, &o), 0);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.v[0].old_flags, AMA_ENTRY_RACY);
	cr_assert_eq(l.v[0].new_flags, 0);
	cr_assert_eq(ama_verify_refresh(".ama/index", &l), 1);
	ama_refresh_list_release(&l);
	ama_index_free(idx);
	cr_assert_eq(ama_index_load(&idx, ".ama/index"), 0);
	cr_assert_eq(ama_index_find(idx, "a", 1)->flags, 0);
	/* and now it is trusted: no rehash, nothing to refresh */
	memset(&o, 0, sizeof(o));
	o.refresh = &l;
	cr_assert_eq(ama_verify_run(idx, &o), 0);
	cr_assert_eq(l.n, 0);
	ama_index_free(idx);
}

Test(verify, a_file_racy_at_hash_time_stays_flagged)
{
	struct ama_index *idx = locked();
	struct ama_refresh_list l = AMA_REFRESH_LIST_INIT;
	struct ama_verify_opts o;
	struct ama_verify_result r;

	put("a", "hello");
	add(idx, "a", "hello", 0);
	idx = saved(idx);
	/* a timestamp from the future is never older than the hashing */
	set_mtime("a", time(NULL) + 3600);
	r = check(idx, "a");
	cr_assert_eq(r.verdict, AMA_VERDICT_OK);
	cr_assert_eq(r.racy, 1);
	memset(&o, 0, sizeof(o));
	o.refresh = &l;
	cr_assert_eq(ama_verify_run(idx, &o), 0);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.v[0].new_flags, AMA_ENTRY_RACY);
	cr_assert_eq(ama_index_find(idx, "a", 1)->flags, AMA_ENTRY_RACY);
	ama_refresh_list_release(&l);
	ama_index_free(idx);
}

Test(verify, a_refresh_skips_entries_changed_meanwhile)
{
	struct ama_index *idx = locked(), *other;
	struct ama_refresh_list l = AMA_REFRESH_LIST_INIT;
	struct ama_verify_opts o;
	struct ama_index_entry *e;

	put("a", "hello");
	put("b", "world");
	set_mtime("a", 1600000000);
	set_mtime("b", 1600000000);
	add(idx, "a", "hello", 0);
	add(idx, "b", "world", 0);
	idx = saved(idx);
	set_mtime("a", 1600000100);
	set_mtime("b", 1600000100);
	memset(&o, 0, sizeof(o));
	o.refresh = &l;
	cr_assert_eq(ama_verify_run(idx, &o), 0);
	cr_assert_eq(l.n, 2);
	/* meanwhile a writer re-added b with another MD5 */
	cr_assert_eq(ama_index_lock_and_load(&other, ".ama/index"), 0);
	e = ama_index_find(other, "b", 1);
	e->md5.d[0] ^= 1;
	cr_assert_eq(ama_index_write_and_commit(other), 0);
	ama_index_free(other);
	cr_assert_eq(ama_verify_refresh(".ama/index", &l), 1);
	cr_assert_eq(ama_index_load(&other, ".ama/index"), 0);
	cr_assert_eq(ama_index_find(other, "a", 1)->st.mtime_ns,
		     1600000100000000000);
	cr_assert_eq(ama_index_find(other, "b", 1)->st.mtime_ns,
		     1600000000000000000);
	ama_index_free(other);
	ama_refresh_list_release(&l);
	ama_index_free(idx);
}

Test(verify, a_refresh_gives_way_to_a_writer)
{
	struct ama_index *idx = locked(), *writer;
	struct ama_refresh_list l = AMA_REFRESH_LIST_INIT;
	struct ama_verify_opts o;
	char *before, *after;
	size_t lb, la;

	put("a", "hello");
	set_mtime("a", 1600000000);
	add(idx, "a", "hello", 0);
	idx = saved(idx);
	set_mtime("a", 1600000100);
	memset(&o, 0, sizeof(o));
	o.refresh = &l;
	cr_assert_eq(ama_verify_run(idx, &o), 0);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(ama_read_file(&before, &lb, ".ama/index"), 0);
	cr_assert_eq(ama_index_lock_and_load(&writer, ".ama/index"), 0);
	cr_assert_eq(ama_verify_refresh(".ama/index", &l), AMA_ELOCKED);
	ama_index_free(writer);
	cr_assert_eq(ama_read_file(&after, &la, ".ama/index"), 0);
	cr_assert_eq(la, lb);
	cr_assert(!memcmp(before, after, la));
	free(before);
	free(after);
	ama_refresh_list_release(&l);
	ama_index_free(idx);
}

Test(verify, an_empty_refresh_writes_nothing)
{
	struct ama_refresh_list l = AMA_REFRESH_LIST_INIT;

	cr_assert_eq(ama_verify_refresh(".ama/index", &l), 0);
	cr_assert_neq(access(".ama/index", F_OK), 0);
}
