/* t/unit/hashpool.c: parallel hashing with results in input order. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "hashpool.h"
#include "md5.h"
#include "tmpdir.h"
#include "uring.h"


TestSuite(hashpool, .init = make_dir, .fini = remove_dir, .timeout = 60);

#define MAXRES 512

/* what the callbacks saw */
struct seen {
	pthread_t submitter;
	int n;
	char *path[MAXRES];
	void *user[MAXRES];
	int rc[MAXRES];
	char hex[MAXRES][AMA_MD5_HEXLEN + 1];
	char msg[MAXRES][128];
	char subject[MAXRES][256];
	int racy[MAXRES];
	unsigned long long size[MAXRES];
	atomic_int delivered;
	atomic_int idles;
	int delivered_at_idle;	/* deliveries before the last idle call */
	int stop_after;		/* > 0: done returns AMA_EIO at that count */
	/* for the blocking work function */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int released;
	atomic_int worked;
};

static void seen_init(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	s->submitter = pthread_self();
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
}

static void seen_release(struct seen *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		free(s->path[i]);
}

static int on_done(const struct ama_hash_result *r, void *arg)
{
	struct seen *s = arg;
	int i = s->n++;

	cr_assert(i < MAXRES);
	cr_assert(pthread_equal(pthread_self(), s->submitter),
		  "a result was delivered on a worker thread");
	cr_assert_eq(strlen(r->path), r->path_len);
	s->path[i] = strdup(r->path);
	s->user[i] = r->user;
	s->rc[i] = r->rc;
	s->racy[i] = r->racy;
	s->size[i] = r->st.size;
	if (r->rc == 0)
		ama_md5_to_hex(s->hex[i], &r->md5);
	else {
		snprintf(s->msg[i], sizeof(s->msg[i]), "%s", r->error_msg);
		snprintf(s->subject[i], sizeof(s->subject[i]), "%s",
			 r->error_path ? r->error_path : "(none)");
	}
	atomic_fetch_add(&s->delivered, 1);
	if (s->stop_after && s->n == s->stop_after)
		return AMA_EIO;
	return 0;
}

static int on_idle(void *arg)
{
	struct seen *s = arg;

	cr_assert(pthread_equal(pthread_self(), s->submitter));
	pthread_mutex_lock(&s->mu);
	s->delivered_at_idle = s->n;
	atomic_fetch_add(&s->idles, 1);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static struct ama_hashpool *pool_new(struct seen *s, int jobs, int window,
				     ama_hash_work_fn work)
{
	struct ama_hashpool_opts o = {
		.jobs = jobs, .window = window, .done = on_done,
		.idle = on_idle, .work = work, .arg = s,
	};
	struct ama_hashpool *p = NULL;

	cr_assert_eq(ama_hashpool_new(&p, &o), 0);
	cr_assert_not_null(p);
	return p;
}

/* dir/name, in a static buffer */
static const char *at(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* write size bytes of a pattern that depends on seed; its MD5 in hex */
static void make_file(const char *path, size_t size, int seed, char *hex)
{
	unsigned char *b = malloc(size ? size : 1);
	struct ama_md5 m;
	size_t i;
	int fd;

	for (i = 0; i < size; i++)
		b[i] = (unsigned char)(i * 7 + (size_t)seed * 13);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, b, size), (ssize_t)size);
	close(fd);
	ama_md5_buffer(&m, b, size);
	ama_md5_to_hex(hex, &m);
	free(b);
}

static void submit(struct ama_hashpool *p, const char *path, void *user)
{
	cr_assert_eq(ama_hashpool_submit(p, path, strlen(path), user), 0);
}

Test(hashpool, results_come_in_input_order_with_their_digests)
{
	static char want[200][AMA_MD5_HEXLEN + 1];
	struct seen s;
	struct ama_hashpool *p;
	char name[64], path[256];
	int i;

	seen_init(&s);
	/* big files first and in between: they finish last */
	for (i = 0; i < 200; i++) {
		size_t size = i % 50 == 0 ? (size_t)(6 << 20) + (size_t)i :
			(size_t)(i * 37 % 5000);

		snprintf(name, sizeof(name), "f%03d", i);
		make_file(at(name), size, i, want[i]);
	}
	p = pool_new(&s, 4, 16, NULL);
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		snprintf(path, sizeof(path), "%s", at(name));
		submit(p, path, (void *)(size_t)(i + 1));
	}
	cr_assert_eq(ama_hashpool_finish(p), 0);
	cr_assert_eq(s.n, 200);
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		cr_assert_str_eq(s.path[i], at(name));
		cr_assert_eq(s.user[i], (void *)(size_t)(i + 1));
		cr_assert_eq(s.rc[i], 0);
		cr_assert_str_eq(s.hex[i], want[i], "digest of %s", name);
		cr_assert_eq(s.size[i], i % 50 == 0 ? (6u << 20) + (unsigned)i :
			     (unsigned)(i * 37 % 5000));
	}
	ama_hashpool_free(p);
	seen_release(&s);
}

Test(hashpool, submit_blocks_at_the_window_and_delivers_meanwhile)
{
	struct seen s;
	struct ama_hashpool *p;
	char hex[AMA_MD5_HEXLEN + 1], path[256];
	int i;

	seen_init(&s);
	snprintf(path, sizeof(path), "%s", at("small"));
	make_file(path, 100, 1, hex);
	p = pool_new(&s, 2, 4, NULL);
	for (i = 0; i < 300; i++) {
		submit(p, path, NULL);
		/* never more than the window outstanding */
		cr_assert_geq(s.n, i + 1 - 4, "after %d submissions, %d "
			      "results were delivered", i + 1, s.n);
	}
	cr_assert_eq(ama_hashpool_finish(p), 0);
	cr_assert_eq(s.n, 300);
	cr_assert_str_eq(s.hex[299], hex);
	ama_hashpool_free(p);
	seen_release(&s);
}

/* a work function that holds "slow" until the test releases it */
static int held_work(struct ama_hasher *h, struct ama_md5 *out,
		     struct ama_stat *st, const char *path, void *arg)
{
	struct seen *s = arg;

	(void)h;
	if (!strcmp(path, "slow")) {
		pthread_mutex_lock(&s->mu);
		while (!s->released)
			pthread_cond_wait(&s->cv, &s->mu);
		pthread_mutex_unlock(&s->mu);
	} else {
		atomic_fetch_add(&s->worked, 1);
	}
	ama_md5_buffer(out, path, strlen(path));
	memset(st, 0, sizeof(*st));
	st->size = strlen(path);
	return 0;
}

static void release(struct seen *s)
{
	pthread_mutex_lock(&s->mu);
	s->released = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* wait up to 10 s for *counter to reach n */
static int wait_count(atomic_int *counter, int n)
{
	int i;

	for (i = 0; i < 10000 && atomic_load(counter) < n; i++) {
		struct timespec ms = { 0, 1000000 };

		nanosleep(&ms, NULL);
	}
	return atomic_load(counter) >= n;
}

Test(hashpool, a_slow_head_holds_delivery_but_not_hashing)
{
	struct seen s;
	struct ama_hashpool *p;
	char name[32];
	int i;

	seen_init(&s);
	p = pool_new(&s, 2, 64, held_work);
	submit(p, "slow", NULL);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "small%d", i);
		submit(p, name, NULL);
	}
	/* the second worker hashes all the small ones behind "slow" */
	cr_assert(wait_count(&s.worked, 40), "only %d of 40 were hashed",
		  atomic_load(&s.worked));
	cr_assert_eq(s.n, 0, "delivered before the head");
	release(&s);
	cr_assert_eq(ama_hashpool_finish(p), 0);
	cr_assert_eq(s.n, 41);
	cr_assert_str_eq(s.path[0], "slow");
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "small%d", i);
		cr_assert_str_eq(s.path[i + 1], name);
	}
	ama_hashpool_free(p);
	seen_release(&s);
}

static atomic_int ticks;
static struct seen *ticked;

/* counts ticks on the submitting thread; the third lets "slow" finish */
static void on_tick(void *arg)
{
	cr_assert_eq(arg, ticked);
	cr_assert(pthread_equal(pthread_self(), ticked->submitter));
	if (atomic_fetch_add(&ticks, 1) + 1 == 3)
		release(ticked);
}

Test(hashpool, tick_runs_on_the_submitter_while_it_waits)
{
	struct seen s;
	struct ama_hashpool_opts o;
	struct ama_hashpool *p = NULL;

	seen_init(&s);
	ticked = &s;
	memset(&o, 0, sizeof(o));
	o.jobs = 2;
	o.done = on_done;
	o.work = held_work;
	o.tick = on_tick;
	o.arg = &s;
	cr_assert_eq(ama_hashpool_new(&p, &o), 0);
	submit(p, "slow", NULL);
	submit(p, "fast", NULL);
	/* only the third tick releases "slow": finish returns after it */
	cr_assert_eq(ama_hashpool_finish(p), 0);
	cr_assert_eq(atomic_load(&ticks), 3);
	cr_assert_eq(s.n, 2);
	ama_hashpool_free(p);
	seen_release(&s);
}

Test(hashpool, read_bytes_counts_what_the_workers_read)
{
	struct seen s;
	struct ama_hashpool *p;
	char hex[AMA_MD5_HEXLEN + 1];

	seen_init(&s);
	make_file(at("three"), 3 * 1024 * 1024 + 1, 1, hex);
	make_file(at("ten"), 10, 2, hex);
	p = pool_new(&s, 2, 0, NULL);
	cr_assert_eq(ama_hashpool_read_bytes(p), 0);
	submit(p, at("three"), NULL);
	submit(p, at("ten"), NULL);
	cr_assert_eq(ama_hashpool_finish(p), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(ama_hashpool_read_bytes(p), 3 * 1024 * 1024 + 11);
	ama_hashpool_free(p);
	seen_release(&s);
}

/* a work function that finishes only once idle has been called */
static int after_idle_work(struct ama_hasher *h, struct ama_md5 *out,
			   struct ama_stat *st, const char *path, void *arg)
{
	struct seen *s = arg;
	struct timespec until;

	(void)h;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&s->mu);
	while (!atomic_load(&s->idles) &&
	       pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
		;
	pthread_mutex_unlock(&s->mu);
	ama_md5_buffer(out, path, strlen(path));
	memset(st, 0, sizeof(*st));
	return 0;
}

Test(hashpool, idle_is_called_before_the_submitter_waits)
{
	struct seen s;
	struct ama_hashpool *p;

	seen_init(&s);
	p = pool_new(&s, 1, 8, after_idle_work);
	submit(p, "a", NULL);
	cr_assert_eq(ama_hashpool_finish(p), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_geq(atomic_load(&s.idles), 1);
	cr_assert_eq(s.delivered_at_idle, 0);
	ama_hashpool_free(p);
	seen_release(&s);
}

struct input_writer {
	struct seen *s;
	int fd;
	int in_time;
};

/* write to the pipe once the first result was delivered (or after 10 s) */
static void *write_after_delivery(void *arg)
{
	struct input_writer *w = arg;

	w->in_time = wait_count(&w->s->delivered, 1);
	if (write(w->fd, "x", 1) != 1)
		abort();
	return NULL;
}

Test(hashpool, results_are_delivered_while_waiting_for_input)
{
	struct seen s;
	struct ama_hashpool *p;
	struct input_writer w;
	pthread_t t;
	int fd[2];

	seen_init(&s);
	cr_assert_eq(pipe(fd), 0);
	p = pool_new(&s, 2, 8, NULL);
	make_file(at("x"), 10, 0, s.hex[MAXRES - 1]);
	submit(p, at("x"), NULL);
	w.s = &s;
	w.fd = fd[1];
	w.in_time = 0;
	cr_assert_eq(pthread_create(&t, NULL, write_after_delivery, &w), 0);
	/* returns once the pipe is readable, which needs the delivery */
	cr_assert_eq(ama_hashpool_wait_input(p, fd[0]), 0);
	pthread_join(t, NULL);
	cr_assert(w.in_time, "nothing was delivered while waiting for input");
	cr_assert_eq(s.n, 1);
	cr_assert_eq(ama_hashpool_finish(p), 0);
	ama_hashpool_free(p);
	close(fd[0]);
	close(fd[1]);
	seen_release(&s);
}

Test(hashpool, wait_input_returns_at_once_when_input_is_there)
{
	struct seen s;
	struct ama_hashpool *p;
	int fd[2];

	seen_init(&s);
	cr_assert_eq(pipe(fd), 0);
	cr_assert_eq(write(fd[1], "x", 1), 1);
	p = pool_new(&s, 1, 8, held_work);
	submit(p, "slow", NULL);
	cr_assert_eq(ama_hashpool_wait_input(p, fd[0]), 0);
	cr_assert_eq(s.n, 0);
	release(&s);
	cr_assert_eq(ama_hashpool_finish(p), 0);
	cr_assert_eq(s.n, 1);
	ama_hashpool_free(p);
	close(fd[0]);
	close(fd[1]);
	seen_release(&s);
}

Test(hashpool, failures_carry_the_worker_error)
{
	struct seen s;
	struct ama_hashpool *p;
	char hex[AMA_MD5_HEXLEN + 1], missing[256], folder[256], ok[256];

	seen_init(&s);
	snprintf(missing, sizeof(missing), "%s", at("missing"));
	snprintf(folder, sizeof(folder), "%s", at("folder"));
	snprintf(ok, sizeof(ok), "%s", at("ok"));
	cr_assert_eq(mkdir(folder, 0755), 0);
	make_file(ok, 3, 5, hex);
	p = pool_new(&s, 3, 0, NULL);
	submit(p, missing, NULL);
	submit(p, folder, NULL);
	submit(p, ok, NULL);
	cr_assert_eq(ama_hashpool_finish(p), 0);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.rc[0], AMA_ENOTFOUND);
	cr_assert_str_eq(s.msg[0], "no such file");
	cr_assert_str_eq(s.subject[0], missing);
	cr_assert_eq(s.rc[1], AMA_ENOTREG);
	cr_assert_str_eq(s.msg[1], "not a regular file: directory");
	cr_assert_str_eq(s.subject[1], folder);
	cr_assert_eq(s.rc[2], 0);
	cr_assert_str_eq(s.hex[2], hex);
	/* the submitting thread's own last error is untouched */
	cr_assert_eq(ama_error_code(), 0);
	ama_hashpool_free(p);
	seen_release(&s);
}

static void set_mtime(const char *path, time_t sec)
{
	struct timespec t[2] = { { sec, 0 }, { sec, 0 } };

	cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0);
}

Test(hashpool, a_file_from_the_future_is_racy_an_old_one_is_not)
{
	struct seen s;
	struct ama_hashpool *p;
	char hex[AMA_MD5_HEXLEN + 1], old[256], future[256];

	seen_init(&s);
	snprintf(old, sizeof(old), "%s", at("old"));
	snprintf(future, sizeof(future), "%s", at("future"));
	make_file(old, 10, 1, hex);
	make_file(future, 10, 2, hex);
	set_mtime(old, 946684800);		/* 2000-01-01 */
	set_mtime(future, time(NULL) + 3600);
	p = pool_new(&s, 2, 0, NULL);
	submit(p, old, NULL);
	submit(p, future, NULL);
	cr_assert_eq(ama_hashpool_finish(p), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.racy[0], 0);
	cr_assert_eq(s.racy[1], 1);
	ama_hashpool_free(p);
	seen_release(&s);
}

Test(hashpool, a_failing_callback_stops_the_pool)
{
	struct seen s;
	struct ama_hashpool *p;
	char name[32];
	int i, rc = 0;

	seen_init(&s);
	s.stop_after = 3;
	p = pool_new(&s, 2, 4, held_work);
	release(&s);
	for (i = 0; i < 50 && rc == 0; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		rc = ama_hashpool_submit(p, name, strlen(name), NULL);
	}
	cr_assert_eq(rc, AMA_EIO);
	cr_assert_eq(ama_hashpool_submit(p, "more", 4, NULL), AMA_EIO);
	cr_assert_eq(ama_hashpool_finish(p), AMA_EIO);
	cr_assert_eq(s.n, 3);
	cr_assert_str_eq(s.path[2], "n2");
	ama_hashpool_free(p);
	seen_release(&s);
}

Test(hashpool, free_without_finish_drops_queued_paths)
{
	struct seen s;
	struct ama_hashpool *p;
	char name[32];
	int i;

	seen_init(&s);
	p = pool_new(&s, 2, 64, held_work);
	submit(p, "slow", NULL);
	for (i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		submit(p, name, NULL);
	}
	release(&s);
	ama_hashpool_free(p);
	cr_assert_eq(s.n, 0);
	seen_release(&s);
}

Test(hashpool, the_pool_takes_more_after_finish)
{
	struct seen s;
	struct ama_hashpool *p;

	seen_init(&s);
	p = pool_new(&s, 2, 0, held_work);
	release(&s);
	submit(p, "one", NULL);
	cr_assert_eq(ama_hashpool_finish(p), 0);
	submit(p, "two", NULL);
	submit(p, "three", NULL);
	cr_assert_eq(ama_hashpool_finish(p), 0);
	cr_assert_eq(s.n, 3);
	cr_assert_str_eq(s.path[2], "three");
	cr_assert_eq(s.size[2], 5);
	ama_hashpool_free(p);
	seen_release(&s);
}

/* hash the n files named f000.. through a fresh pool; *batched: how many
 * went through ring batches */
static void hash_named(struct seen *s, int n, uint64_t *batched)
{
	struct ama_hashpool *p;
	char name[32];
	int i;

	seen_init(s);
	p = pool_new(s, 2, 0, NULL);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		submit(p, at(name), NULL);
	}
	cr_assert_eq(ama_hashpool_finish(p), 0);
	cr_assert_eq(s->n, n);
	*batched = ama_hashpool_batched(p);
	ama_hashpool_free(p);
}

/*
 * The small files go through the workers' rings in batches; the large
 * ones and the failures one by one. With AMA_NO_IO_URING set nothing is
 * batched, and every result, digest, size and message, is the same.
 */
Test(hashpool, small_files_go_in_batches_with_the_results_of_one_by_one)
{
	static struct seen ring, plain;
	static char want[300][AMA_MD5_HEXLEN + 1];
	struct ama_uring *probe = NULL;
	uint64_t batched_ring, batched_plain;
	int i, small = 0, have_ring;
	char name[32];

	unsetenv("AMA_NO_IO_URING");
	have_ring = ama_uring_new(&probe) == 0;
	ama_uring_free(probe);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		if (i % 97 == 5) {
			cr_assert_eq(mkdir(at(name), 0755), 0);
		} else if (i % 89 == 7) {
			/* missing */
		} else if (i % 50 == 0) {
			make_file(at(name), (size_t)(1 << 20) + (size_t)i, i,
				  want[i]);
		} else {
			make_file(at(name), (size_t)(i * 211 % 9000), i,
				  want[i]);
			small++;
		}
	}
	hash_named(&ring, 300, &batched_ring);
	if (have_ring)
		cr_assert_eq(batched_ring, (uint64_t)small);
	else
		cr_assert_eq(batched_ring, 0);
	setenv("AMA_NO_IO_URING", "1", 1);
	hash_named(&plain, 300, &batched_plain);
	unsetenv("AMA_NO_IO_URING");
	cr_assert_eq(batched_plain, 0);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		cr_assert_str_eq(ring.path[i], at(name));
		cr_assert_str_eq(plain.path[i], at(name));
		cr_assert_eq(ring.rc[i], plain.rc[i], "%s", name);
		cr_assert_eq(ring.size[i], plain.size[i], "%s", name);
		cr_assert_str_eq(ring.msg[i], plain.msg[i], "%s", name);
		cr_assert_str_eq(ring.subject[i], plain.subject[i]);
		if (ring.rc[i] == 0) {
			cr_assert_str_eq(ring.hex[i], want[i], "%s", name);
			cr_assert_str_eq(plain.hex[i], want[i], "%s", name);
		}
	}
	cr_assert_eq(ring.rc[5], AMA_ENOTREG);
	cr_assert_str_eq(ring.msg[5], "not a regular file: directory");
	cr_assert_eq(ring.rc[7], AMA_ENOTFOUND);
	cr_assert_str_eq(ring.msg[7], "no such file");
	seen_release(&ring);
	seen_release(&plain);
}
