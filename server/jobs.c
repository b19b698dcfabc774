/* jobs.c: ama-server's commits as jobs on worker threads, answered at once or polled. */
#include "auto-config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "error.h"
#include "jobs.h"

enum job_state { QUEUED, RUNNING, DONE };

struct srv_job {
	struct srv_job *next;		/* every job, newest first */
	struct srv_job *qnext;		/* the queue */
	unsigned refs;
	char id[SRV_JOB_IDLEN + 1];
	char user[SRV_USER_MAX + 1];
	char method[16];
	char *path;
	struct ama_buf body;
	uint64_t share;
	struct srv_http *front;
	enum job_state state;
	double done_at;
	/* the answer */
	int status;
	const char *content_type;
	char *answer;
	size_t len;
	/* the requests waiting for it */
	void **waiters;
	size_t nwait, await;
};

struct srv_jobs {
	pthread_mutex_t mu;
	pthread_cond_t work;		/* something queued, or stop */
	pthread_cond_t idle;		/* a job ended */
	struct srv_job *all;
	struct srv_job *head, *tail;	/* the queue */
	unsigned busy;			/* queued or running */
	unsigned kept;			/* ended, still in all */
	int stop;
	pthread_t *threads;
	unsigned nthreads;
	srv_job_fn run;
	void *ctx;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void job_free(struct srv_job *job)
{
	if (job->share)
		srv_budget_release(job->front, job->share);
	ama_buf_release(&job->body);
	free(job->path);
	free(job->answer);
	free(job->waiters);
	free(job);
}

/* Drop a reference; the caller holds j->mu. */
static void unref(struct srv_job *job)
{
	if (--job->refs == 0)
		job_free(job);
}

/* Forget ended jobs past their time, or past SRV_JOBS_KEPT; holds j->mu. */
static void expire(struct srv_jobs *j)
{
	double now = now_s();
	struct srv_job **pp, *job;
	unsigned seen = 0;

	for (pp = &j->all; (job = *pp) != NULL;) {
		if (job->state == DONE &&
		    (now - job->done_at > SRV_JOB_KEEP ||
		     ++seen > SRV_JOBS_KEPT)) {
			*pp = job->next;
			j->kept--;
			unref(job);
		} else {
			pp = &job->next;
		}
	}
}

static void *worker(void *arg)
{
	struct srv_jobs *j = arg;

	pthread_mutex_lock(&j->mu);
	for (;;) {
		struct srv_job *job;
		struct srv_request rq;
		struct srv_response out;
		size_t i;

		while (!j->stop && !j->head)
			pthread_cond_wait(&j->work, &j->mu);
		if (!j->head)
			break;
		job = j->head;
		j->head = job->qnext;
		if (!j->head)
			j->tail = NULL;
		job->state = RUNNING;
		job->refs++;
		pthread_mutex_unlock(&j->mu);

		memset(&rq, 0, sizeof(rq));
		memset(&out, 0, sizeof(out));
		rq.method = job->method;
		rq.path = job->path;
		rq.user = job->user;
		rq.body = ama_buf_str(&job->body);
		rq.body_len = job->body.len;
		rq.body_buf = &job->body;	/* read once, then let go */
		j->run(j->ctx, &rq, &out);
		if (!out.status)
			srv_respond_error(&out, 500, AMA_EIO, NULL, NULL,
					  "no answer");

		pthread_mutex_lock(&j->mu);
		ama_buf_release(&job->body);
		srv_budget_release(job->front, job->share);
		job->share = 0;
		job->status = out.status;
		job->content_type = out.content_type;
		job->answer = out.body;
		job->len = out.len;
		job->state = DONE;
		job->done_at = now_s();
		for (i = 0; i < job->nwait; i++)
			srv_http_wake(job->front, job->waiters[i]);
		job->nwait = 0;
		j->busy--;
		j->kept++;
		pthread_cond_broadcast(&j->idle);
		unref(job);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

int srv_jobs_start(struct srv_jobs **out, unsigned workers, srv_job_fn run,
		   void *ctx)
{
	struct srv_jobs *j = ama_calloc(1, sizeof(*j));
	unsigned i;

	*out = NULL;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->work, NULL);
	pthread_cond_init(&j->idle, NULL);
	j->run = run;
	j->ctx = ctx;
	j->threads = ama_calloc(workers ? workers : 1, sizeof(*j->threads));
	for (i = 0; i < workers; i++)
		if (pthread_create(&j->threads[j->nthreads], NULL, worker,
				   j) == 0)
			j->nthreads++;
	if (!j->nthreads) {
		srv_jobs_stop(j, 1);
		return ama_error_set(AMA_ESETUP, "cannot start a thread");
	}
	*out = j;
	return 0;
}

unsigned srv_jobs_busy(struct srv_jobs *j)
{
	unsigned n;

	pthread_mutex_lock(&j->mu);
	n = j->busy;
	pthread_mutex_unlock(&j->mu);
	return n;
}

void srv_jobs_stop(struct srv_jobs *j, int wait)
{
	unsigned i;

	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	while (wait && j->busy)
		pthread_cond_wait(&j->idle, &j->mu);
	j->stop = 1;
	pthread_cond_broadcast(&j->work);
	if (j->busy) {
		/* a worker is inside a commit: the process's exit ends it */
		pthread_mutex_unlock(&j->mu);
		return;
	}
	pthread_mutex_unlock(&j->mu);
	for (i = 0; i < j->nthreads; i++)
		pthread_join(j->threads[i], NULL);
	while (j->all) {
		struct srv_job *job = j->all;

		j->all = job->next;
		unref(job);
	}
	free(j->threads);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->work);
	pthread_cond_destroy(&j->idle);
	free(j);
}

/* The job's name: the SHA-256 of user, path and body, shortened. */
static void job_name(char *out, const struct srv_request *rq)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(c, rq->user, strlen(rq->user) + 1) ||
	    !EVP_DigestUpdate(c, rq->path, strlen(rq->path) + 1) ||
	    !EVP_DigestUpdate(c, rq->body, rq->body_len) ||
	    !EVP_DigestFinal_ex(c, md, &n) || n * 2 < SRV_JOB_IDLEN)
		abort();
	EVP_MD_CTX_free(c);
	for (i = 0; i < SRV_JOB_IDLEN / 2; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[SRV_JOB_IDLEN] = '\0';
}

struct srv_job *srv_jobs_submit(struct srv_jobs *j, struct srv_http *front,
				const struct srv_request *rq,
				struct ama_buf *body, uint64_t *share)
{
	struct srv_job *job;
	char id[SRV_JOB_IDLEN + 1];

	job_name(id, rq);
	pthread_mutex_lock(&j->mu);
	expire(j);
	/* only a job under way is joined: a new request after it is new */
	for (job = j->all; job; job = job->next)
		if (job->state != DONE && !strcmp(job->id, id))
			break;
	if (!job) {
		job = ama_calloc(1, sizeof(*job));
		memcpy(job->id, id, sizeof(id));
		snprintf(job->user, sizeof(job->user), "%s", rq->user);
		snprintf(job->method, sizeof(job->method), "%s", rq->method);
		job->path = ama_strdup(rq->path);
		job->body = *body;
		memset(body, 0, sizeof(*body));
		job->share = *share;
		*share = 0;
		job->front = front;
		job->refs = 1;		/* the list's */
		job->next = j->all;
		j->all = job;
		if (j->tail)
			j->tail->qnext = job;
		else
			j->head = job;
		j->tail = job;
		j->busy++;
		pthread_cond_signal(&j->work);
	}
	job->refs++;
	pthread_mutex_unlock(&j->mu);
	return job;
}

struct srv_job *srv_jobs_find(struct srv_jobs *j, const char *id,
			      const char *user)
{
	struct srv_job *job;

	pthread_mutex_lock(&j->mu);
	expire(j);
	for (job = j->all; job; job = job->next)
		if (!strcmp(job->id, id) && !strcmp(job->user, user))
			break;
	if (job)
		job->refs++;
	pthread_mutex_unlock(&j->mu);
	return job;
}

void srv_job_put(struct srv_jobs *j, struct srv_job *job)
{
	if (!job)
		return;
	pthread_mutex_lock(&j->mu);
	unref(job);
	pthread_mutex_unlock(&j->mu);
}

const char *srv_job_id(const struct srv_job *job)
{
	return job->id;
}

int srv_job_answer(struct srv_jobs *j, struct srv_job *job,
		   struct srv_response *out)
{
	int done;

	pthread_mutex_lock(&j->mu);
	done = job->state == DONE;
	if (done) {
		free(out->body);
		out->status = job->status;
		out->content_type = job->content_type;
		out->body = ama_malloc(job->len + 1);
		memcpy(out->body, job->answer ? job->answer : "", job->len);
		out->body[job->len] = '\0';
		out->len = job->len;
	}
	pthread_mutex_unlock(&j->mu);
	return done;
}

void srv_job_wait(struct srv_jobs *j, struct srv_job *job, void *token)
{
	pthread_mutex_lock(&j->mu);
	if (job->state == DONE) {
		srv_http_wake(job->front, token);
	} else {
		if (job->nwait == job->await) {
			job->await = job->await ? 2 * job->await : 4;
			job->waiters = ama_realloc(job->waiters, job->await *
						   sizeof(*job->waiters));
		}
		job->waiters[job->nwait++] = token;
	}
	pthread_mutex_unlock(&j->mu);
}

void srv_job_unwait(struct srv_jobs *j, struct srv_job *job, void *token)
{
	size_t i;

	pthread_mutex_lock(&j->mu);
	for (i = 0; i < job->nwait; i++)
		if (job->waiters[i] == token) {
			job->waiters[i] = job->waiters[--job->nwait];
			break;
		}
	pthread_mutex_unlock(&j->mu);
}
