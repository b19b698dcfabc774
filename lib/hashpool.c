/* hashpool.c: worker threads hashing files, results delivered in input order. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "hashpool.h"
#include "uring.h"

/*
 * The window is a ring of slots indexed by ever-growing counters:
 *
 *	head <= done_upto <= next <= tail,  tail - head <= window
 *
 * [head, done_upto) are hashed and wait for delivery, [done_upto, next)
 * are being hashed or hashed out of order, [next, tail) are queued. Only
 * the submitting thread moves head and tail and touches the slots outside
 * [done_upto, tail); workers move next and done_upto under the mutex and
 * own a slot between taking it and marking it done. One lock round per
 * file on each side, and the submitter is woken for batches of results,
 * not for each one.
 */

struct slot {
	char *path;
	size_t len, cap;
	void *user;
	int done;
	int rc, racy;
	struct ama_md5 md5;
	struct ama_stat st;
	struct ama_buf msg;
	struct ama_buf subject;
	int has_subject;
};

enum { WAIT_NONE, WAIT_COND, WAIT_POLL };

struct ama_hashpool {
	struct ama_hashpool_opts o;
	struct slot *slots;
	uint64_t window;
	uint64_t head, done_upto, next, tail;
	uint64_t batch;		/* results worth waking the submitter for */

	pthread_mutex_t mu;
	pthread_cond_t work_cv;		/* workers wait for queued paths */
	pthread_cond_t ready_cv;	/* the submitter waits for results */
	int idle_workers;
	int waiting;			/* WAIT_*: how the submitter sleeps */
	uint64_t want;			/* wake it when done_upto >= want */
	uint64_t wait_head;		/* its head when it began to wait */
	int shutdown;
	int stopped;			/* 0 or the code that stopped it */
	int wake[2];			/* a pipe for WAIT_POLL */

	pthread_t *threads;
	int jobs;			/* threads asked for */
	size_t batch_max;		/* paths a worker takes at most */
	int nthreads;			/* threads started */
	_Atomic uint64_t read_bytes;	/* what the workers have read */
	_Atomic uint64_t batched;	/* files hashed in ring batches */
};

static struct slot *slot_at(struct ama_hashpool *p, uint64_t i)
{
	return &p->slots[i % p->window];
}

static int64_t coarse_now_ns(void)
{
	struct timespec ts;

#ifdef CLOCK_REALTIME_COARSE
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
#else
	clock_gettime(CLOCK_REALTIME, &ts);
#endif
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int default_work(struct ama_hasher *h, struct ama_md5 *out,
			struct ama_stat *st, const char *path, void *arg)
{
	(void)arg;
	return ama_md5_file(h, out, st, path);
}

static void hash_slot(struct ama_hashpool *p, struct ama_hasher *h,
		      struct slot *s)
{
	ama_hash_work_fn work = p->o.work ? p->o.work : default_work;
	int64_t start;
	const char *subject;

	ama_error_clear();
	start = coarse_now_ns();
	s->rc = work(h, &s->md5, &s->st, s->path, p->o.arg);
	if (s->rc >= 0) {
		s->rc = 0;
		s->racy = s->st.mtime_ns >= start;
		return;
	}
	s->racy = 0;
	ama_buf_reset(&s->msg);
	ama_buf_addstr(&s->msg, ama_error_msg());
	subject = ama_error_path();
	s->has_subject = subject != NULL;
	ama_buf_reset(&s->subject);
	if (subject)
		ama_buf_addstr(&s->subject, subject);
}

/*
 * With the mutex held: wake the submitter if what it waits for is there,
 * or if some result is ready and the workers ran out of queued paths.
 */
static void maybe_wake(struct ama_hashpool *p)
{
	int starving = p->next == p->tail && p->done_upto > p->wait_head;

	if (p->waiting == WAIT_NONE ||
	    (p->done_upto < p->want && !starving))
		return;
	if (p->waiting == WAIT_COND) {
		pthread_cond_signal(&p->ready_cv);
	} else if (write(p->wake[1], "", 1) < 0) {
		/* the pipe is full: the submitter is awake already */
	}
	p->waiting = WAIT_NONE;
}

/*
 * Hash the slots [first, first + k) taken together, through the worker's
 * ring: the small files of the batch cost a few system calls for all of
 * them instead of seven each. done[i] says which were; the others go
 * through hash_slot() one by one.
 */
static void hash_batch(struct ama_hashpool *p, struct ama_hasher *h,
		       struct ama_uring *ring, uint64_t first, size_t k,
		       unsigned char *done)
{
	const char *paths[AMA_URING_BATCH];
	struct ama_md5 md5[AMA_URING_BATCH];
	struct ama_stat st[AMA_URING_BATCH];
	int64_t start = coarse_now_ns();
	size_t i;

	for (i = 0; i < k; i++)
		paths[i] = slot_at(p, first + i)->path;
	atomic_fetch_add_explicit(&p->batched,
				  ama_md5_batch(h, ring, k, paths, md5, st,
						done),
				  memory_order_relaxed);
	for (i = 0; i < k; i++) {
		struct slot *s = slot_at(p, first + i);

		if (!done[i])
			continue;
		s->rc = 0;
		s->md5 = md5[i];
		s->st = st[i];
		s->racy = st[i].mtime_ns >= start;
	}
}

/* With the mutex held: the slots in [first, first + k) marked are hashed. */
static void mark_done(struct ama_hashpool *p, uint64_t first, size_t k,
		      const unsigned char *which)
{
	size_t i;

	for (i = 0; i < k; i++)
		if (!which || which[i])
			slot_at(p, first + i)->done = 1;
	while (p->done_upto < p->next && slot_at(p, p->done_upto)->done)
		p->done_upto++;
	maybe_wake(p);
}

/*
 * With the mutex held: how many queued paths to take at once. One without
 * a ring; with one, a fair share of what is queued, so that no worker
 * idles while another holds a batch.
 */
static size_t batch_size(struct ama_hashpool *p, int ring)
{
	uint64_t queued = p->tail - p->next;
	uint64_t share = (queued + (uint64_t)p->jobs - 1) /
		(uint64_t)p->jobs;

	if (!ring || share < 1)
		return 1;
	return share > p->batch_max ? p->batch_max : (size_t)share;
}

static void *worker(void *arg)
{
	struct ama_hashpool *p = arg;
	struct ama_hasher h;
	struct ama_uring *ring = NULL;
	unsigned char done[AMA_URING_BATCH];

	ama_hasher_init(&h);
	h.read_bytes = &p->read_bytes;
	/* the ring serves the default work only; without one, the files go
	 * one by one, as they always did */
	if (!p->o.work && ama_uring_new(&ring) < 0)
		ring = NULL;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		uint64_t first;
		size_t k, i;
		int drop;

		while (!p->shutdown && p->next == p->tail) {
			p->idle_workers++;
			pthread_cond_wait(&p->work_cv, &p->mu);
			p->idle_workers--;
		}
		if (p->shutdown)
			break;
		k = batch_size(p, ring != NULL);
		first = p->next;
		p->next += k;
		drop = p->stopped;
		pthread_mutex_unlock(&p->mu);
		memset(done, 0, sizeof(done));
		if (drop) {
			for (i = 0; i < k; i++)
				slot_at(p, first + i)->rc = drop;
			pthread_mutex_lock(&p->mu);
			mark_done(p, first, k, NULL);
			continue;
		}
		if (ring)
			hash_batch(p, &h, ring, first, k, done);
		pthread_mutex_lock(&p->mu);
		if (ring)
			mark_done(p, first, k, done);
		for (i = 0; i < k; i++) {
			if (done[i])
				continue;
			pthread_mutex_unlock(&p->mu);
			hash_slot(p, &h, slot_at(p, first + i));
			pthread_mutex_lock(&p->mu);
			done[i] = 1;
			mark_done(p, first + i, 1, NULL);
		}
	}
	pthread_mutex_unlock(&p->mu);
	ama_uring_free(ring);
	ama_hasher_release(&h);
	return NULL;
}

static int stop(struct ama_hashpool *p, int code)
{
	pthread_mutex_lock(&p->mu);
	p->stopped = code;
	pthread_mutex_unlock(&p->mu);
	return code;
}

/* Deliver the results in [head, upto). */
static int deliver(struct ama_hashpool *p, uint64_t upto)
{
	while (p->head < upto) {
		struct slot *s = slot_at(p, p->head++);
		struct ama_hash_result r;
		int rc;

		memset(&r, 0, sizeof(r));
		r.path = s->path;
		r.path_len = s->len;
		r.user = s->user;
		r.rc = s->rc;
		if (s->rc < 0) {
			r.error_msg = ama_buf_str(&s->msg);
			r.error_path = s->has_subject ?
				ama_buf_str(&s->subject) : NULL;
		} else {
			r.md5 = s->md5;
			r.st = s->st;
			r.racy = s->racy;
		}
		rc = p->o.done(&r, p->o.arg);
		if (rc < 0)
			return stop(p, rc);
	}
	return 0;
}

static uint64_t done_upto(struct ama_hashpool *p)
{
	uint64_t n;

	pthread_mutex_lock(&p->mu);
	n = p->done_upto;
	pthread_mutex_unlock(&p->mu);
	return n;
}

static int idle(struct ama_hashpool *p)
{
	int rc = p->o.idle ? p->o.idle(p->o.arg) : 0;

	return rc < 0 ? stop(p, rc) : 0;
}

/*
 * With the mutex held: arrange to be woken when `want` more results are
 * ready (fewer if the workers run out of queued paths). Returns 0, or 1 if
 * there is no need to sleep.
 */
static int prepare_wait(struct ama_hashpool *p, int how, uint64_t want)
{
	int starving = p->next == p->tail && p->done_upto > p->head;

	if (p->done_upto >= p->head + want || starving)
		return 1;
	p->want = p->head + want;
	p->wait_head = p->head;
	p->waiting = how;
	return 0;
}

/*
 * With the mutex held, sleep until woken; with a tick, at most a tenth of
 * a second, then tick (without the mutex) and return.
 */
static void sleep_for_results(struct ama_hashpool *p)
{
	struct timespec t;

	if (!p->o.tick) {
		pthread_cond_wait(&p->ready_cv, &p->mu);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += 100000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	if (pthread_cond_timedwait(&p->ready_cv, &p->mu, &t) == ETIMEDOUT &&
	    p->waiting == WAIT_COND) {
		pthread_mutex_unlock(&p->mu);
		p->o.tick(p->o.arg);
		pthread_mutex_lock(&p->mu);
	}
}

uint64_t ama_hashpool_read_bytes(struct ama_hashpool *p)
{
	return atomic_load_explicit(&p->read_bytes, memory_order_relaxed);
}

uint64_t ama_hashpool_batched(struct ama_hashpool *p)
{
	return atomic_load_explicit(&p->batched, memory_order_relaxed);
}

/* Deliver what is ready; if nothing is, wait for about `want` results. */
static int wait_results(struct ama_hashpool *p, uint64_t want)
{
	uint64_t upto = done_upto(p);
	int rc;

	if (upto > p->head)
		return deliver(p, upto);
	rc = idle(p);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&p->mu);
	if (!prepare_wait(p, WAIT_COND, want))
		while (p->waiting == WAIT_COND)
			sleep_for_results(p);
	upto = p->done_upto;
	pthread_mutex_unlock(&p->mu);
	return deliver(p, upto);
}

int ama_hashpool_submit(struct ama_hashpool *p, const char *path,
			size_t len, void *user)
{
	struct slot *s;
	uint64_t upto;
	int rc;

	if (p->stopped)
		return p->stopped;
	while (p->tail - p->head == p->window) {
		rc = wait_results(p, p->batch);
		if (rc < 0)
			return rc;
	}
	/* the slot is the submitter's until tail moves past it */
	s = slot_at(p, p->tail);
	if (s->cap < len + 1) {
		s->cap = len + 1 < 64 ? 64 : len + 1;
		free(s->path);
		s->path = ama_malloc(s->cap);
	}
	memcpy(s->path, path, len);
	s->path[len] = '\0';
	s->len = len;
	s->user = user;
	s->done = 0;
	pthread_mutex_lock(&p->mu);
	p->tail++;
	if (p->idle_workers)
		pthread_cond_signal(&p->work_cv);
	upto = p->done_upto;
	pthread_mutex_unlock(&p->mu);
	if (upto - p->head >= p->batch)
		return deliver(p, upto);
	return 0;
}

static int fd_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0;
}

static void drain_wake(struct ama_hashpool *p)
{
	char buf[64];

	while (read(p->wake[0], buf, sizeof(buf)) > 0)
		;
}

int ama_hashpool_wait_input(struct ama_hashpool *p, int fd)
{
	struct pollfd pfd[2];
	int rc, sleep;

	for (;;) {
		if (p->stopped)
			return p->stopped;
		rc = deliver(p, done_upto(p));
		if (rc < 0)
			return rc;
		if (fd_readable(fd))
			return 0;
		/* the caller or we are about to block: flush first */
		rc = idle(p);
		if (rc < 0)
			return rc;
		if (p->head == p->tail)
			return 0;
		pthread_mutex_lock(&p->mu);
		sleep = !prepare_wait(p, WAIT_POLL, p->tail - p->head);
		pthread_mutex_unlock(&p->mu);
		if (!sleep)
			continue;
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = p->wake[0];
		pfd[1].events = POLLIN;
		rc = poll(pfd, 2, -1);
		pthread_mutex_lock(&p->mu);
		p->waiting = WAIT_NONE;
		pthread_mutex_unlock(&p->mu);
		drain_wake(p);
		if (rc < 0 && errno != EINTR)
			return ama_error_set_errno(AMA_EIO, "cannot poll input");
	}
}

int ama_hashpool_finish(struct ama_hashpool *p)
{
	while (!p->stopped && p->head < p->tail) {
		uint64_t left = p->tail - p->head;
		int rc = wait_results(p, left < p->batch ? left : p->batch);

		if (rc < 0)
			return rc;
	}
	return p->stopped;
}

static void free_slots(struct ama_hashpool *p)
{
	uint64_t i;

	for (i = 0; i < p->window; i++) {
		free(p->slots[i].path);
		ama_buf_release(&p->slots[i].msg);
		ama_buf_release(&p->slots[i].subject);
	}
	free(p->slots);
}

/*
 * A batch holds a descriptor for each of its files: all the workers'
 * batches together keep to half the descriptors the process may open, so
 * that many workers never make a file fail with EMFILE.
 */
static size_t batch_max(int jobs)
{
	struct rlimit rl;
	size_t n = AMA_URING_BATCH;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 2 / (rlim_t)jobs < n)
		n = (size_t)(rl.rlim_cur / 2 / (rlim_t)jobs);
	return n < 1 ? 1 : n;
}

int ama_hashpool_new(struct ama_hashpool **out,
		     const struct ama_hashpool_opts *opts)
{
	struct ama_hashpool *p = ama_calloc(1, sizeof(*p));
	int jobs = opts->jobs < 1 ? 1 : opts->jobs, i, err = 0;

	p->o = *opts;
	p->jobs = jobs;
	p->batch_max = batch_max(jobs);
	p->window = opts->window > 0 ? (uint64_t)opts->window :
		(uint64_t)AMA_HASHPOOL_WINDOW_PER_JOB * (uint64_t)jobs;
	p->batch = p->window / 2 < 64 ? p->window / 2 : 64;
	if (p->batch < 1)
		p->batch = 1;
	p->slots = ama_calloc(p->window, sizeof(*p->slots));
	if (pipe(p->wake) < 0) {
		free_slots(p);
		free(p);
		return ama_error_set_errno(AMA_EIO, "cannot make a pipe");
	}
	for (i = 0; i < 2; i++) {
		fcntl(p->wake[i], F_SETFD, FD_CLOEXEC);
		fcntl(p->wake[i], F_SETFL, O_NONBLOCK);
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	{
		pthread_condattr_t ca;

		/* timed waits (opts->tick) count on the monotonic clock */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&p->ready_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	p->threads = ama_calloc((size_t)jobs, sizeof(*p->threads));
	for (i = 0; i < jobs; i++) {
		err = pthread_create(&p->threads[i], NULL, worker, p);
		if (err)
			break;
		p->nthreads++;
	}
	if (!p->nthreads) {
		ama_hashpool_free(p);
		errno = err;
		return ama_error_set_errno(AMA_EIO, "cannot start a thread");
	}
	*out = p;
	return 0;
}

void ama_hashpool_free(struct ama_hashpool *p)
{
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->shutdown = 1;	/* workers leave queued paths alone */
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->ready_cv);
	close(p->wake[0]);
	close(p->wake[1]);
	free_slots(p);
	free(p);
}
