/* jobs.h: ama-server's commits as jobs on worker threads, answered at once or polled. */
#ifndef AMA_SERVER_JOBS_H
#define AMA_SERVER_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "http.h"
#include "wire.h"

/*
 * A commit can take the server minutes (10^6 objects to verify), longer
 * than a client waits for a byte. So a commit request becomes a job: a
 * worker thread runs it while the request waits for it for a short while
 * (the connection suspended, no thread held); if it is not done by then
 * the request is answered 202 with the job's URL, which the client asks
 * (GET) until the job's answer comes, each GET waiting the same short
 * while. A job is named by the SHA-256 of its user, path and body: the
 * same request sent again while the job runs joins it instead of starting
 * another. A finished job's answer is kept for SRV_JOB_KEEP seconds (and
 * at most SRV_JOBS_KEPT of them), then forgotten: a client that asks later
 * gets 404 and sends its commit again, which is idempotent (its commit
 * id). Thread-safe.
 */
#define SRV_JOB_IDLEN AMA_WIRE_JOBLEN	/* hex digits of a job's name */
#define SRV_JOB_KEEP 600
#define SRV_JOBS_KEPT 1024

struct srv_jobs;
struct srv_job;

/*
 * What a job does: run req (its method, path, user and body as they came)
 * and answer in out, as a handler would (no deferral). Runs on a worker
 * thread.
 */
typedef void (*srv_job_fn)(void *ctx, const struct srv_request *req,
			   struct srv_response *out);

/*
 * Start workers threads running jobs with run. Returns 0 or AMA_ESETUP
 * (no thread could start).
 */
int srv_jobs_start(struct srv_jobs **out, unsigned workers, srv_job_fn run,
		   void *ctx);
/*
 * Wait for every job queued or running to end, then stop the threads and
 * free everything. With jobs still running (see srv_jobs_busy), only when
 * wait is set; else they are left to the process's exit.
 */
void srv_jobs_stop(struct srv_jobs *j, int wait);
/* The jobs queued or running. */
unsigned srv_jobs_busy(struct srv_jobs *j);

/*
 * The job for this request: the one running or queued under the same
 * name, or a new one, queued, that takes the body and its share of the
 * front's budget (both are left to the caller when the job exists
 * already). Returns a reference for srv_job_put.
 */
struct srv_job *srv_jobs_submit(struct srv_jobs *j, struct srv_http *front,
				const struct srv_request *rq,
				struct ama_buf *body, uint64_t *share);
/* The job called id (SRV_JOB_IDLEN hex digits) of user, or NULL. */
struct srv_job *srv_jobs_find(struct srv_jobs *j, const char *id,
			      const char *user);
void srv_job_put(struct srv_jobs *j, struct srv_job *job);
/* Its name, SRV_JOB_IDLEN hex digits. */
const char *srv_job_id(const struct srv_job *job);

/*
 * Has the job ended? Then its answer (a copy) is in out and it returns 1;
 * else 0.
 */
int srv_job_answer(struct srv_jobs *j, struct srv_job *job,
		   struct srv_response *out);
/*
 * Call srv_http_wake(front, token) when the job ends (at once if it has);
 * srv_job_unwait forgets the token (call it before the request it names
 * ends).
 */
void srv_job_wait(struct srv_jobs *j, struct srv_job *job, void *token);
void srv_job_unwait(struct srv_jobs *j, struct srv_job *job, void *token);

#endif
