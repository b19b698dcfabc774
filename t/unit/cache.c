/* t/unit/cache.c: the shared download cache: fills verified before they enter it, resumed, raced, used and pruned. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "error.h"
#include "readfix.h"

TestSuite(cache, .init = fx_setup, .fini = fx_teardown, .timeout = 30);

static struct ama_cache *open_cache(void)
{
	struct ama_cache *c;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/c", fx_dir);
	cr_assert_eq(ama_cache_open(&c, dir), 0, "%s", ama_error_msg());
	return c;
}

static char *path_of(struct ama_cache *c, const char *bytes)
{
	struct ama_buf b = AMA_BUF_INIT;
	struct ama_md5 m = fx_md5(bytes);

	ama_cache_path(c, &b, &m);
	return ama_buf_detach(&b);
}

/* Fill the cache with bytes, in one write; the commit's result. */
static int fill(struct ama_cache *c, const char *bytes)
{
	struct ama_cache_fill *f;
	struct ama_md5 m = fx_md5(bytes);
	uint64_t have = 99;
	int rc = ama_cache_fill_begin(c, &m, strlen(bytes), &f, &have);

	if (rc < 0)
		return rc;
	cr_assert_eq(have, 0);
	cr_assert_eq(ama_cache_fill_write(f, bytes, strlen(bytes)), 0);
	return ama_cache_fill_commit(f);
}

/* The names in the cache's partial/ folder, joined by ' '. */
static char *partials(struct ama_cache *c)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ls '%s/partial' | tr '\\n' ' '",
		 ama_cache_dir(c));
	return fx_sh(cmd);
}

static void no_partials(struct ama_cache *c)
{
	char *p = partials(c);

	cr_assert_str_eq(p, "");
	free(p);
}

/* How many contents the cache holds. */
static uint64_t contents(struct ama_cache *c)
{
	struct ama_cache_usage u;

	cr_assert_eq(ama_cache_usage(c, &u), 0);
	return u.contents;
}

/* ---- where ---- */

Test(cache, open_makes_its_folders_and_says_where_contents_go)
{
	struct ama_cache *c;
	struct ama_md5 m = fx_md5("");
	struct ama_buf b = AMA_BUF_INIT;
	char dir[128], want[256];

	snprintf(dir, sizeof(dir), "%s/deep/er/cache//", fx_dir);
	cr_assert_eq(ama_cache_open(&c, dir), 0);
	snprintf(dir, sizeof(dir), "%s/deep/er/cache", fx_dir);
	cr_assert_str_eq(ama_cache_dir(c), dir);
	snprintf(want, sizeof(want), "%s/contents", dir);
	cr_assert(fx_exists(want));
	snprintf(want, sizeof(want), "%s/partial", dir);
	cr_assert(fx_exists(want));
	ama_cache_path(c, &b, &m);
	snprintf(want, sizeof(want), "%s/contents/d4/"
		 "d41d8cd98f00b204e9800998ecf8427e", dir);
	cr_assert_str_eq(b.s, want);
	ama_buf_release(&b);
	ama_cache_close(c);
}

Test(cache, the_default_folder_is_ama_cache_dir_else_xdg)
{
	struct ama_cache *c;
	char want[128];

	cr_assert_eq(ama_cache_open(&c, NULL), 0);
	snprintf(want, sizeof(want), "%s/cache/ama", fx_dir);
	cr_assert_str_eq(ama_cache_dir(c), want);
	ama_cache_close(c);
	snprintf(want, sizeof(want), "%s/mine", fx_dir);
	setenv("AMA_CACHE_DIR", want, 1);
	cr_assert_eq(ama_cache_open(&c, NULL), 0);
	cr_assert_str_eq(ama_cache_dir(c), want);
	ama_cache_close(c);
	/* a relative one is not taken */
	setenv("AMA_CACHE_DIR", "relative", 1);
	cr_assert_eq(ama_cache_open(&c, NULL), 0);
	snprintf(want, sizeof(want), "%s/cache/ama", fx_dir);
	cr_assert_str_eq(ama_cache_dir(c), want);
	ama_cache_close(c);
}

Test(cache, a_relative_folder_is_refused)
{
	struct ama_cache *c = (struct ama_cache *)1;

	cr_assert_eq(ama_cache_open(&c, "rel/cache"), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "the cache folder must be an "
			 "absolute path");
	cr_assert_null(c);
}

Test(cache, a_folder_that_cannot_be_made_is_a_setup_error)
{
	struct ama_cache *c;
	char dir[128];

	fx_write("file", "x");
	snprintf(dir, sizeof(dir), "%s/file/cache", fx_dir);
	cr_assert_eq(ama_cache_open(&c, dir), AMA_ESETUP);
	cr_assert_null(c);
}

/* ---- filling ---- */

Test(cache, a_fill_enters_the_content_read_only)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("hello world");
	char *p = path_of(c, "hello world"), buf[32];
	struct stat st;
	int fd;
	ssize_t n;

	cr_assert_eq(ama_cache_has(c, &m, 11), 0);
	cr_assert_eq(ama_cache_open_content(c, &m, 11), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "not in the cache");
	cr_assert_eq(fill(c, "hello world"), 0, "%s", ama_error_msg());
	cr_assert_eq(ama_cache_has(c, &m, 11), 1);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0444);
	fd = ama_cache_open_content(c, &m, 11);
	cr_assert_geq(fd, 0);
	n = read(fd, buf, sizeof(buf));
	cr_assert_eq(n, 11);
	cr_assert_eq(memcmp(buf, "hello world", 11), 0);
	close(fd);
	no_partials(c);
	free(p);
	ama_cache_close(c);
}

Test(cache, a_content_of_another_size_does_not_count)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("hello");

	cr_assert_eq(fill(c, "hello"), 0);
	cr_assert_eq(ama_cache_has(c, &m, 4), 0);
	cr_assert_eq(ama_cache_open_content(c, &m, 6), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "not in the cache with 6 bytes");
	ama_cache_close(c);
}

Test(cache, an_empty_content_is_filled)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("");
	struct ama_cache_fill *f;
	uint64_t have;

	cr_assert_eq(ama_cache_fill_begin(c, &m, 0, &f, &have), 0);
	cr_assert_eq(ama_cache_fill_commit(f), 0);
	cr_assert_eq(ama_cache_has(c, &m, 0), 1);
	ama_cache_close(c);
}

Test(cache, a_content_cached_already_needs_no_fill)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("hello");
	struct ama_cache_fill *f = (struct ama_cache_fill *)1;
	uint64_t have = 3;

	cr_assert_eq(fill(c, "hello"), 0);
	cr_assert_eq(ama_cache_fill_begin(c, &m, 5, &f, &have), AMA_EEXIST);
	cr_assert_null(f);
	cr_assert_eq(have, 0);
	no_partials(c);
	ama_cache_close(c);
}

Test(cache, bytes_of_another_md5_never_enter)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("hello");
	struct ama_cache_fill *f;
	char want[33], got[33], why[128];
	uint64_t have;

	cr_assert_eq(ama_cache_fill_begin(c, &m, 5, &f, &have), 0);
	cr_assert_eq(ama_cache_fill_write(f, "jello", 5), 0);
	cr_assert_eq(ama_cache_fill_commit(f), AMA_EDIGEST);
	snprintf(why, sizeof(why), "has MD5 %s, not %s", fx_hex(got, "jello"),
		 fx_hex(want, "hello"));
	cr_assert_str_eq(ama_error_msg(), why);
	cr_assert_eq(ama_cache_has(c, &m, 5), 0);
	cr_assert_eq(contents(c), 0);
	/* and nothing is left to resume from */
	no_partials(c);
	cr_assert_eq(ama_cache_fill_begin(c, &m, 5, &f, &have), 0);
	cr_assert_eq(have, 0);
	ama_cache_fill_abort(f, 1);
	ama_cache_close(c);
}

Test(cache, bytes_short_of_the_size_never_enter)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("hello");
	struct ama_cache_fill *f;
	uint64_t have;

	cr_assert_eq(ama_cache_fill_begin(c, &m, 5, &f, &have), 0);
	cr_assert_eq(ama_cache_fill_write(f, "hel", 3), 0);
	cr_assert_eq(ama_cache_fill_commit(f), AMA_EDIGEST);
	cr_assert_str_eq(ama_error_msg(), "is 3 bytes, not 5");
	cr_assert_eq(contents(c), 0);
	no_partials(c);
	ama_cache_close(c);
}

Test(cache, bytes_past_the_size_are_refused_as_they_come)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("hello");
	struct ama_cache_fill *f;
	uint64_t have;

	cr_assert_eq(ama_cache_fill_begin(c, &m, 5, &f, &have), 0);
	cr_assert_eq(ama_cache_fill_write(f, "hell", 4), 0);
	cr_assert_eq(ama_cache_fill_write(f, "o!", 2), AMA_EDIGEST);
	cr_assert_str_eq(ama_error_msg(), "longer than its 5 bytes");
	ama_cache_fill_abort(f, 1);
	cr_assert_eq(contents(c), 0);
	no_partials(c);
	ama_cache_close(c);
}

Test(cache, an_aborted_fill_is_resumed_from_its_bytes)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("hello world");
	struct ama_cache_fill *f;
	uint64_t have;
	char *p;

	cr_assert_eq(ama_cache_fill_begin(c, &m, 11, &f, &have), 0);
	cr_assert_eq(ama_cache_fill_write(f, "hello", 5), 0);
	ama_cache_fill_abort(f, 0);
	p = partials(c);
	cr_assert_str_eq(p, "5eb63bbbe01eeed093cb22bb8f5acdc3-11 ");
	free(p);
	cr_assert_eq(ama_cache_fill_begin(c, &m, 11, &f, &have), 0);
	cr_assert_eq(have, 5);
	cr_assert_eq(ama_cache_fill_write(f, " world", 6), 0);
	cr_assert_eq(ama_cache_fill_commit(f), 0, "%s", ama_error_msg());
	cr_assert_eq(ama_cache_has(c, &m, 11), 1);
	no_partials(c);
	ama_cache_close(c);
}

Test(cache, a_discarded_fill_starts_over)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("hello world");
	struct ama_cache_fill *f;
	uint64_t have;

	cr_assert_eq(ama_cache_fill_begin(c, &m, 11, &f, &have), 0);
	cr_assert_eq(ama_cache_fill_write(f, "hello", 5), 0);
	ama_cache_fill_abort(f, 1);
	no_partials(c);
	cr_assert_eq(ama_cache_fill_begin(c, &m, 11, &f, &have), 0);
	cr_assert_eq(have, 0);
	ama_cache_fill_abort(f, 1);
	ama_cache_close(c);
}

Test(cache, wrong_bytes_left_by_an_earlier_fill_are_caught_at_the_end)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("hello world");
	struct ama_cache_fill *f;
	struct ama_buf p = AMA_BUF_INIT;
	uint64_t have;

	/* the first bytes on disk are not the content's */
	ama_buf_addf(&p, "%s/partial/5eb63bbbe01eeed093cb22bb8f5acdc3-11",
		     ama_cache_dir(c));
	fx_write(p.s, "HELLO");
	cr_assert_eq(ama_cache_fill_begin(c, &m, 11, &f, &have), 0);
	cr_assert_eq(have, 5);
	cr_assert_eq(ama_cache_fill_write(f, " world", 6), 0);
	cr_assert_eq(ama_cache_fill_commit(f), AMA_EDIGEST);
	cr_assert_eq(contents(c), 0);
	no_partials(c);
	/* longer than the content: not its bytes, started over */
	fx_write(p.s, "hello world and more");
	cr_assert_eq(ama_cache_fill_begin(c, &m, 11, &f, &have), 0);
	cr_assert_eq(have, 0);
	cr_assert_eq(ama_cache_fill_write(f, "hello world", 11), 0);
	cr_assert_eq(ama_cache_fill_commit(f), 0);
	cr_assert_eq(ama_cache_has(c, &m, 11), 1);
	ama_buf_release(&p);
	ama_cache_close(c);
}

Test(cache, a_filler_may_write_through_its_descriptor)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("hello");
	struct ama_cache_fill *f;
	uint64_t have;
	int fd;

	cr_assert_eq(ama_cache_fill_begin(c, &m, 5, &f, &have), 0);
	fd = ama_cache_fill_fd(f);
	cr_assert_eq(write(fd, "hel", 3), 3);
	ama_cache_fill_abort(f, 0);
	/* what it wrote is what a resume finds */
	cr_assert_eq(ama_cache_fill_begin(c, &m, 5, &f, &have), 0);
	cr_assert_eq(have, 3);
	cr_assert_eq(ama_cache_fill_write(f, "lo", 2), 0);
	cr_assert_eq(ama_cache_fill_commit(f), 0);
	ama_cache_close(c);
}

/* ---- two fillers of one content ---- */

Test(cache, two_processes_filling_one_content_both_succeed_and_never_mix)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("hello world");
	struct ama_cache_fill *f;
	int go[2], ready[2], status;
	uint64_t have;
	pid_t pid;
	char byte, *p, *text;

	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* the first filler: half, then wait, then the rest */
		int rc = ama_cache_fill_begin(c, &m, 11, &f, &have);

		if (rc == 0)
			rc = ama_cache_fill_write(f, "hello", 5);
		if (write(ready[1], "r", 1) != 1 ||
		    read(go[0], &byte, 1) != 1)
			_exit(3);
		if (rc == 0)
			rc = ama_cache_fill_write(f, " world", 6);
		if (rc == 0)
			rc = ama_cache_fill_commit(f);
		_exit(rc == 0 ? 0 : 1);
	}
	cr_assert_eq(read(ready[0], &byte, 1), 1);
	/* the second: a private file of its own, from the start */
	cr_assert_eq(ama_cache_fill_begin(c, &m, 11, &f, &have), 0);
	cr_assert_eq(have, 0);
	p = partials(c);
	cr_assert(strstr(p, "5eb63bbbe01eeed093cb22bb8f5acdc3-11 ") != NULL,
		  "%s", p);
	cr_assert(strstr(p, "5eb63bbbe01eeed093cb22bb8f5acdc3-11.") != NULL,
		  "%s", p);
	free(p);
	cr_assert_eq(ama_cache_fill_write(f, "hello world", 11), 0);
	cr_assert_eq(ama_cache_fill_commit(f), 0, "%s", ama_error_msg());
	cr_assert_eq(write(go[1], "g", 1), 1);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(contents(c), 1);
	p = path_of(c, "hello world");
	text = fx_read(p);
	cr_assert_str_eq(text, "hello world");
	free(text);
	free(p);
	no_partials(c);
	ama_cache_close(c);
}

Test(cache, a_second_filler_that_gives_up_leaves_the_first_its_bytes)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("hello world");
	struct ama_cache_fill *first, *second;
	uint64_t have;
	char *p;

	cr_assert_eq(ama_cache_fill_begin(c, &m, 11, &first, &have), 0);
	cr_assert_eq(ama_cache_fill_write(first, "hello", 5), 0);
	cr_assert_eq(ama_cache_fill_begin(c, &m, 11, &second, &have), 0);
	cr_assert_eq(have, 0);
	cr_assert_eq(ama_cache_fill_write(second, "hel", 3), 0);
	/* kept or not, a private file is never resumed: it goes */
	ama_cache_fill_abort(second, 0);
	ama_cache_fill_abort(first, 0);
	p = partials(c);
	cr_assert_str_eq(p, "5eb63bbbe01eeed093cb22bb8f5acdc3-11 ");
	free(p);
	ama_cache_close(c);
}

struct racer {
	struct ama_cache *c;
	const char *bytes;
	pthread_barrier_t *start;
	int rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct ama_md5 m = fx_md5(r->bytes);
	size_t len = strlen(r->bytes), i;
	struct ama_cache_fill *f;
	uint64_t have;

	pthread_barrier_wait(r->start);
	r->rc = ama_cache_fill_begin(r->c, &m, len, &f, &have);
	if (r->rc < 0)
		return NULL;
	for (i = have; i < len && r->rc == 0; i++)
		r->rc = ama_cache_fill_write(f, r->bytes + i, 1);
	if (r->rc == 0)
		r->rc = ama_cache_fill_commit(f);
	else
		ama_cache_fill_abort(f, 1);
	return NULL;
}

Test(cache, threads_filling_one_content_leave_it_whole_once)
{
	struct ama_cache *c = open_cache();
	struct racer r[8];
	pthread_t t[8];
	pthread_barrier_t start;
	const char *bytes = "the same bytes, filled by eight threads at once";
	char *p, *text;
	int round, i;

	for (round = 0; round < 20; round++) {
		pthread_barrier_init(&start, NULL, 8);
		for (i = 0; i < 8; i++) {
			r[i].c = c;
			r[i].bytes = bytes;
			r[i].start = &start;
			cr_assert_eq(pthread_create(&t[i], NULL, race, &r[i]),
				     0);
		}
		for (i = 0; i < 8; i++) {
			pthread_join(t[i], NULL);
			cr_assert(r[i].rc == 0 || r[i].rc == AMA_EEXIST,
				  "round %d thread %d: %d", round, i, r[i].rc);
		}
		pthread_barrier_destroy(&start);
		cr_assert_eq(contents(c), 1);
		p = path_of(c, bytes);
		text = fx_read(p);
		cr_assert_str_eq(text, bytes);
		free(text);
		cr_assert_eq(chmod(p, 0644), 0);
		cr_assert_eq(unlink(p), 0);
		free(p);
		no_partials(c);
	}
	ama_cache_close(c);
}

/* ---- usage and pruning ---- */

/* Fill bytes and set its last use (access time) to t. */
static void used_at(struct ama_cache *c, const char *bytes, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { 0, UTIME_OMIT } };
	char *p = path_of(c, bytes);

	if (!fx_exists(p))
		cr_assert_eq(fill(c, bytes), 0);
	cr_assert_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
	free(p);
}

Test(cache, usage_counts_contents_and_partials_apart)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 m = fx_md5("twelve bytes");
	struct ama_cache_fill *f;
	struct ama_cache_usage u;
	uint64_t have;

	cr_assert_eq(ama_cache_usage(c, &u), 0);
	cr_assert(u.contents == 0 && u.bytes == 0 && u.partials == 0 &&
		  u.partial_bytes == 0);
	cr_assert_eq(fill(c, "one"), 0);
	cr_assert_eq(fill(c, "three"), 0);
	cr_assert_eq(ama_cache_fill_begin(c, &m, 12, &f, &have), 0);
	cr_assert_eq(ama_cache_fill_write(f, "twelve", 6), 0);
	ama_cache_fill_abort(f, 0);
	/* what is not a content is not counted as one */
	fx_write("c/contents/ab/not-an-md5", "xxxxxxxx");
	fx_write("c/contents/abc/0123456789abcdef0123456789abcdef", "xx");
	cr_assert_eq(ama_cache_usage(c, &u), 0);
	cr_assert_eq(u.contents, 2);
	cr_assert_eq(u.bytes, 8);
	cr_assert_eq(u.partials, 1);
	cr_assert_eq(u.partial_bytes, 6);
	ama_cache_close(c);
}

static void told(void *ctx, const struct ama_md5 *md5, uint64_t size)
{
	char hex[33];

	ama_md5_to_hex(hex, md5);
	ama_buf_addf(ctx, "%.6s %llu;", hex, (unsigned long long)size);
}

Test(cache, prune_removes_the_least_recently_used_first)
{
	struct ama_cache *c = open_cache();
	struct ama_buf b = AMA_BUF_INIT, want = AMA_BUF_INIT;
	struct ama_md5 m = fx_md5("bb");
	char h1[33], h2[33];
	int fd;

	used_at(c, "aaaa", 1000);		/* 4 bytes */
	used_at(c, "bb", 2000);			/* 2 */
	used_at(c, "cccccc", 3000);		/* 6 */
	used_at(c, "d", 4000);			/* 1 */
	/* reading bb makes it the most recently used */
	fd = ama_cache_open_content(c, &m, 2);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(ama_cache_prune(c, 3, told, &b), 2);
	ama_buf_addf(&want, "%.6s 4;%.6s 6;", fx_hex(h1, "aaaa"),
		     fx_hex(h2, "cccccc"));
	cr_assert_str_eq(b.s, want.s);
	cr_assert_eq(contents(c), 2);
	cr_assert_eq(ama_cache_has(c, &m, 2), 1);
	/* under the limit: nothing */
	cr_assert_eq(ama_cache_prune(c, 3, NULL, NULL), 0);
	cr_assert_eq(ama_cache_prune(c, 0, NULL, NULL), 2);
	cr_assert_eq(contents(c), 0);
	ama_buf_release(&b);
	ama_buf_release(&want);
	ama_cache_close(c);
}

/* Set the last write of the partial file named name to t. */
static void written_at(struct ama_cache *c, const char *name, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	char p[256];

	snprintf(p, sizeof(p), "%s/partial/%s", ama_cache_dir(c), name);
	cr_assert_eq(utimensat(AT_FDCWD, p, ts, 0), 0, "%s", p);
}

Test(cache, prune_never_removes_a_partial_file_a_live_filler_holds)
{
	struct ama_cache *c = open_cache();
	struct ama_md5 held = fx_md5("held bytes"), left = fx_md5("left");
	struct ama_md5 fresh = fx_md5("fresh");
	struct ama_cache_fill *f, *g;
	struct ama_cache_usage u;
	char name[64], hex[33];
	uint64_t have;
	time_t old = time(NULL) - 2 * 24 * 3600;

	/* a filler at work, whose file was last written two days ago */
	cr_assert_eq(ama_cache_fill_begin(c, &held, 10, &f, &have), 0);
	cr_assert_eq(ama_cache_fill_write(f, "held", 4), 0);
	snprintf(name, sizeof(name), "%s-10", fx_hex(hex, "held bytes"));
	written_at(c, name, old);
	/* a fill that was killed two days ago: nobody holds it */
	cr_assert_eq(ama_cache_fill_begin(c, &left, 4, &g, &have), 0);
	cr_assert_eq(ama_cache_fill_write(g, "le", 2), 0);
	ama_cache_fill_abort(g, 0);
	snprintf(name, sizeof(name), "%s-4", fx_hex(hex, "left"));
	written_at(c, name, old);
	/* one killed a moment ago: its rerun may come */
	cr_assert_eq(ama_cache_fill_begin(c, &fresh, 5, &g, &have), 0);
	cr_assert_eq(ama_cache_fill_write(g, "fr", 2), 0);
	ama_cache_fill_abort(g, 0);
	cr_assert_eq(ama_cache_prune(c, 0, NULL, NULL), 0);
	cr_assert_eq(ama_cache_usage(c, &u), 0);
	cr_assert_eq(u.partials, 2);
	cr_assert_eq(u.partial_bytes, 6);
	snprintf(name, sizeof(name), "c/partial/%s-4", fx_hex(hex, "left"));
	cr_assert_eq(fx_exists(name), 0);
	/* the filler goes on and finishes */
	cr_assert_eq(ama_cache_fill_write(f, " bytes", 6), 0);
	cr_assert_eq(ama_cache_fill_commit(f), 0, "%s", ama_error_msg());
	cr_assert_eq(ama_cache_has(c, &held, 10), 1);
	ama_cache_close(c);
}
