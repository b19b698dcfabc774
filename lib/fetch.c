/* fetch.c: downloading contents from the remote bucket into the cache, many at once, verified as they stream. */
#include "auto-config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "fetch.h"
#include "layout.h"
#include "store.h"

struct done {
	size_t i;
	int rc, fetched;
	char *why;
};

struct run {
	struct ama_fetch_item *items;
	size_t n;
	struct ama_fetch_opts *o;
	atomic_size_t next;		/* the next item a worker takes */
	atomic_uint_fast64_t bytes, requests;
	atomic_int fatal;		/* an exit-2 error: everyone stops */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct done *q;			/* finished, not yet reported */
	size_t qn;
	size_t reported;
	int workers_left;
	int fatal_rc;
	char *fatal_why;
	struct ama_store **stores;	/* each worker's, for cancelling */
};

struct sink {
	struct ama_cache_fill *f;
	volatile sig_atomic_t *stop;
	atomic_uint_fast64_t *bytes;
};

static int sink(void *ctx, const void *data, size_t n)
{
	struct sink *s = ctx;

	if (s->stop && *s->stop)
		return ama_error_set(AMA_EIO, "interrupted");
	if (s->bytes)
		atomic_fetch_add(s->bytes, n);
	return ama_cache_fill_write(s->f, data, n);
}

int ama_fetch_content(struct ama_store *st, struct ama_cache *cache,
		      const char *top_hash, const struct ama_md5 *md5,
		      uint64_t size, volatile sig_atomic_t *stop,
		      atomic_uint_fast64_t *bytes, int *fetched)
{
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_store_info info;
	struct sink s = { NULL, stop, bytes };
	uint64_t have;
	int rc = ama_cache_fill_begin(cache, md5, size, &s.f, &have);

	*fetched = 0;
	if (rc == AMA_EEXIST)
		return 0;
	if (rc < 0)
		return rc;
	ama_layout_content(&key, top_hash, md5);
	if (have < size) {
		rc = ama_store_get(st, key.s, have, AMA_STORE_TO_END, sink, &s,
				   &info);
		if (rc == AMA_EINVAL)	/* a range past the end: shorter */
			rc = ama_error_set(AMA_EDIGEST, "the remote object is "
					   "shorter than %llu bytes",
					   (unsigned long long)size);
	}
	if (rc == 0) {
		rc = ama_cache_fill_commit(s.f);
		s.f = NULL;
		*fetched = 1;
	} else {
		/* wrong bytes go; bytes cut short stay for a resume */
		ama_cache_fill_abort(s.f, rc == AMA_EDIGEST);
	}
	ama_buf_release(&key);
	return rc;
}

/* Make one content present; 0 and *fetched, or an error (set). */
static int fetch_one(struct run *r, struct ama_store *st,
		     const struct ama_fetch_item *it, int *fetched)
{
	if (!ama_cache_has(r->o->cache, &it->md5, it->size))
		atomic_fetch_add(&r->requests, 1);
	return ama_fetch_content(st, r->o->cache, r->o->top_hash, &it->md5,
				 it->size, r->o->stop, &r->bytes, fetched);
}

static int is_fatal(int rc)
{
	return rc == AMA_ESETUP || rc == AMA_EAUTH;
}

struct slot {
	struct run *r;
	int me;
};

static void *worker(void *arg)
{
	struct slot *sl = arg;
	struct run *r = sl->r;
	struct ama_store *st = NULL;
	int me = sl->me, rc;

	rc = ama_store_open(&st, r->o->remote_url, r->o->cfg, "remote");
	pthread_mutex_lock(&r->mu);
	r->stores[me] = st;
	pthread_mutex_unlock(&r->mu);
	if (rc < 0) {
		pthread_mutex_lock(&r->mu);
		if (!r->fatal_rc) {
			r->fatal_rc = rc;
			r->fatal_why = ama_strdup(ama_error_msg());
		}
		atomic_store(&r->fatal, 1);
		pthread_mutex_unlock(&r->mu);
	}
	while (rc == 0 && !atomic_load(&r->fatal) &&
	       !(r->o->stop && *r->o->stop)) {
		size_t i = atomic_fetch_add(&r->next, 1);
		struct done d;
		int fetched;

		if (i >= r->n)
			break;
		rc = fetch_one(r, st, &r->items[i], &fetched);
		if (r->o->stop && *r->o->stop && rc < 0)
			break;	/* interrupted: not an answer */
		if (is_fatal(rc)) {
			pthread_mutex_lock(&r->mu);
			if (!r->fatal_rc) {
				r->fatal_rc = rc;
				r->fatal_why = ama_strdup(ama_error_msg());
			}
			atomic_store(&r->fatal, 1);
			pthread_cond_signal(&r->cv);
			pthread_mutex_unlock(&r->mu);
			break;
		}
		d.i = i;
		d.rc = rc;
		d.fetched = fetched;
		d.why = rc < 0 ? ama_strdup(ama_error_msg()) : NULL;
		rc = 0;
		pthread_mutex_lock(&r->mu);
		r->q[r->qn++] = d;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	pthread_mutex_lock(&r->mu);
	r->workers_left--;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Deliver what finished; called with r->mu held, which it drops meanwhile. */
static void deliver(struct run *r)
{
	while (r->qn) {
		struct done d = r->q[--r->qn];
		struct ama_fetch_result res;

		pthread_mutex_unlock(&r->mu);
		res.item = &r->items[d.i];
		res.rc = d.rc;
		res.fetched = d.fetched;
		res.why = d.why;
		r->o->done(r->o->ctx, &res);
		free(d.why);
		pthread_mutex_lock(&r->mu);
		r->reported++;
	}
}

int ama_fetch_run(struct ama_fetch_item *items, size_t n,
		  struct ama_fetch_opts *o)
{
	struct run r;
	pthread_t *tid;
	struct slot *slots;
	int jobs = o->jobs > 0 ? o->jobs : 8, i, started = 0, rc = 0,
		cancelled = 0;

	if (!n)
		return 0;
	if ((size_t)jobs > n)
		jobs = (int)n;
	memset(&r, 0, sizeof(r));
	r.items = items;
	r.n = n;
	r.o = o;
	atomic_init(&r.next, 0);
	atomic_init(&r.bytes, 0);
	atomic_init(&r.requests, 0);
	atomic_init(&r.fatal, 0);
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	r.q = ama_calloc(n, sizeof(*r.q));
	r.stores = ama_calloc((size_t)jobs, sizeof(*r.stores));
	tid = ama_calloc((size_t)jobs, sizeof(*tid));
	slots = ama_calloc((size_t)jobs, sizeof(*slots));
	pthread_mutex_lock(&r.mu);
	for (i = 0; i < jobs; i++) {
		slots[i].r = &r;
		slots[i].me = i;
		if (pthread_create(&tid[i], NULL, worker, &slots[i]) != 0)
			break;
		started++;
		r.workers_left++;
	}
	while (r.workers_left > 0 || r.qn) {
		struct timespec ts;

		deliver(&r);
		if (o->stop && *o->stop && !cancelled) {
			/* cut the transfers under way at once */
			for (i = 0; i < started; i++)
				if (r.stores[i])
					ama_store_cancel(r.stores[i]);
			cancelled = 1;
		}
		if (!r.workers_left)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r.cv, &r.mu, &ts);
		if (o->progress) {
			pthread_mutex_unlock(&r.mu);
			o->progress(o->ctx, atomic_load(&r.bytes));
			pthread_mutex_lock(&r.mu);
		}
	}
	deliver(&r);
	pthread_mutex_unlock(&r.mu);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < started; i++)
		ama_store_close(r.stores[i]);
	if (r.fatal_rc) {
		rc = ama_error_set(r.fatal_rc, "%s", r.fatal_why);
	} else if (started == 0) {
		rc = ama_error_set(AMA_EIO, "cannot start a thread");
	} else if (o->stop && *o->stop) {
		rc = ama_error_set(AMA_EIO, "interrupted");
	}
	o->requests += atomic_load(&r.requests);
	o->bytes += atomic_load(&r.bytes);
	if (o->progress)
		o->progress(o->ctx, atomic_load(&r.bytes));
	free(r.fatal_why);
	free(r.q);
	free(r.stores);
	free(tid);
	free(slots);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cv);
	return rc;
}
