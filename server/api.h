/* api.h: ama-server's JSON API under /v1/, on the publishing library. */
#ifndef AMA_SERVER_API_H
#define AMA_SERVER_API_H

#include <stdint.h>

#include "client.h"
#include "http.h"
#include "jobs.h"
#include "publish.h"

/*
 * The routes (Documentation/ama-server.8 has an example of each):
 *   GET  /v1/classes
 *   POST /v1/classes                                  {"name": NAME}
 *   GET  /v1/classes/NAME
 *   GET  /v1/classes/NAME/assets
 *   POST /v1/classes/NAME/assets
 *   POST /v1/classes/NAME/assets/SEQ/commits          (lib/wire.h)
 *   GET  /v1/classes/NAME/assets/SEQ/commits/JOB      (a 202's job)
 *   GET  /v1/classes/NAME/assets/SEQ/versions[?max=N]
 *   GET  /v1/classes/NAME/assets/SEQ/versions/V/manifest
 * Errors are {"error": ...} with the status of their code: 400 bad
 * request, 404 no such class, asset or version, 405 another method, 409
 * conflict, 413 too large, 422 commit refused (with "problems"), 500 the
 * server failed, 503 the store's network failed.
 *
 * A commit runs as a job (server/jobs.h): its request waits for it at most
 * commit_wait_ms, then gets 202 {"job": JOB} with Location and
 * Retry-After, and GET .../commits/JOB answers as the commit would have,
 * or 202 again after waiting as long.
 */
struct srv_api {
	struct ama_publish *pub;
	struct ama_client_class where;	/* staging, remote, s3: no info */
	uint64_t body_limit;		/* every request but commits */
	uint64_t commit_limit;
	struct srv_jobs *jobs;
	unsigned commit_wait_ms;
};

/* srv_handler_fn and srv_limit_fn for http.h, ctx a struct srv_api. */
void srv_api_handle(void *ctx, const struct srv_request *rq,
		    struct srv_response *out);
uint64_t srv_api_limit(void *ctx, const char *method, const char *path);
/* srv_job_fn for jobs.h: a commit request, run to its end. */
void srv_api_run_commit(void *ctx, const struct srv_request *rq,
			struct srv_response *out);

#endif
