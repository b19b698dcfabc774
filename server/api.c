/* api.c: the routes of ama-server's JSON API, each a call of lib/publish.h. */
#include "auto-config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "error.h"
#include "wire.h"

#define MAX_PARTS 8

/* A request's path split at '/' after "/v1/". */
struct route {
	char *buf;
	const char *part[MAX_PARTS];
	int n;
};

static int split(struct route *r, const char *path)
{
	char *p, *slash;

	memset(r, 0, sizeof(*r));
	if (strncmp(path, "/v1/", 4))
		return -1;
	r->buf = ama_strdup(path + 4);
	for (p = r->buf; r->n < MAX_PARTS; p = slash + 1) {
		slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (!*p)
			return -1;	/* "//" or a trailing '/' */
		r->part[r->n++] = p;
		if (!slash)
			return 0;
	}
	return -1;
}

static int is(const struct route *r, int i, const char *word)
{
	return i < r->n && !strcmp(r->part[i], word);
}

/* The HTTP status of a library error. */
static int status_of(int code)
{
	switch (code) {
	case AMA_EINVAL:
		return 400;
	case AMA_ENOTFOUND:
		return 404;
	case AMA_ECONFLICT:
	case AMA_EEXIST:
		return 409;
	case AMA_ENET:
		return 503;
	default:
		return 500;
	}
}

/* Answer with this thread's last error, as the library set it. */
static void fail(struct srv_response *out, const struct srv_request *rq,
		 int code, const struct ama_buf *problems)
{
	int status = code == AMA_EREMOTE && problems && problems->len ? 422 :
		status_of(code);

	if (status >= 500)	/* for the administrator, beside the log line */
		fprintf(stderr, "ama-server: %s %s: %s%s%s\n", rq->method,
			rq->path, ama_error_path() ?
			ama_quote_for_message(ama_error_path()) : "",
			ama_error_path() ? ": " : "", ama_error_msg());
	srv_respond_error(out, status, code, ama_error_path(), problems, "%s",
			  ama_error_msg());
}

static void bad(struct srv_response *out, const char *fmt, const char *arg)
{
	srv_respond_error(out, 400, AMA_EINVAL, NULL, NULL, fmt, arg);
}

/* The request's body as JSON; NULL after answering 400. */
static json_t *body_json(const struct srv_request *rq,
			 struct srv_response *out)
{
	json_error_t err;
	json_t *j;

	j = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &err);
	if (!j)
		srv_respond_error(out, 400, AMA_EINVAL, NULL, NULL,
				  "the body is not JSON: %s (line %d, column "
				  "%d)", err.text, err.line, err.column);
	else if (!json_is_object(j)) {
		json_decref(j);
		j = NULL;
		srv_respond_error(out, 400, AMA_EINVAL, NULL, NULL,
				  "the body is not a JSON object");
	}
	return j;
}

/* A seq in a path: decimal, no leading zero, at least 1. */
static int parse_seq(uint64_t *out, const char *s)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '0' || strspn(s, "0123456789") != strlen(s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > INT64_MAX)
		return -1;
	*out = v;
	return 0;
}

static void class_answer(struct srv_api *a, struct srv_response *out,
			 const struct ama_class_info *info)
{
	struct ama_client_class k = a->where;

	k.info = *info;
	srv_respond_json(out, 200, ama_wire_client_class(&k));
}

static void get_class(struct srv_api *a, const struct srv_request *rq,
		      struct srv_response *out, const char *name, int create)
{
	struct ama_class_info info;
	int rc = ama_publish_class(a->pub, name, create, &info);

	if (rc < 0)
		fail(out, rq, rc, NULL);
	else
		class_answer(a, out, &info);
}

static void create_class(struct srv_api *a, const struct srv_request *rq,
			 struct srv_response *out)
{
	json_t *j = body_json(rq, out), *name;

	if (!j)
		return;
	name = json_object_get(j, "name");
	if (!json_is_string(name))
		bad(out, "'name' is %s", name ? "not a string" : "missing");
	else
		get_class(a, rq, out, json_string_value(name), 1);
	json_decref(j);
}

static int add_class(const struct ama_class_info *c, void *ctx)
{
	json_array_append_new(ctx, ama_wire_class(c));
	return 0;
}

static void list_classes(struct srv_api *a, const struct srv_request *rq,
			 struct srv_response *out)
{
	json_t *list = json_array();
	int rc = ama_publish_classes(a->pub, add_class, list);

	if (rc < 0) {
		json_decref(list);
		fail(out, rq, rc, NULL);
		return;
	}
	srv_respond_json(out, 200, json_pack("{s:o}", "classes", list));
}

static int add_asset(const struct ama_asset_info *x, void *ctx)
{
	json_array_append_new(ctx, ama_wire_asset(x));
	return 0;
}

static void assets(struct srv_api *a, const struct srv_request *rq,
		   struct srv_response *out, const char *class)
{
	struct ama_asset_info x;
	json_t *list;
	int rc;

	if (!strcmp(rq->method, "POST")) {
		json_t *j = rq->body_len ? body_json(rq, out) : json_object();
		const char *claim = NULL;
		int created;

		if (!j)
			return;
		if (json_unpack(j, "{s?s}", "claim", &claim) < 0) {
			json_decref(j);
			bad(out, "%s", "claim: not a string");
			return;
		}
		memset(&x, 0, sizeof(x));
		rc = ama_publish_asset_create(a->pub, class, claim, &x.seq,
					      &created);
		json_decref(j);
		if (rc < 0)
			fail(out, rq, rc, NULL);
		else
			srv_respond_json(out, created ? 201 : 200,
					 ama_wire_asset(&x));
		return;
	}
	list = json_array();
	rc = ama_publish_assets(a->pub, class, add_asset, list);
	if (rc < 0) {
		json_decref(list);
		fail(out, rq, rc, NULL);
		return;
	}
	srv_respond_json(out, 200, json_pack("{s:o}", "assets", list));
}

static void commit(struct srv_api *a, const struct srv_request *rq,
		   struct srv_response *out, const char *class, uint64_t seq)
{
	struct ama_commit_request c;
	struct ama_commit_result res;
	struct ama_wire_commit w;
	json_t *j = body_json(rq, out);
	int rc;

	if (rq->body_buf)	/* read: what it holds is in j now */
		ama_buf_release(rq->body_buf);
	if (!j)
		return;
	rc = ama_wire_parse_commit_request(&w, j);
	json_decref(j);
	if (rc < 0) {
		srv_respond_error(out, 400, AMA_EINVAL, ama_error_path(), NULL,
				  "%s", ama_error_msg());
		return;
	}
	memset(&c, 0, sizeof(c));
	memset(&res, 0, sizeof(res));
	c.class = class;
	c.seq = seq;
	c.has_parent = w.has_parent;
	c.parent = w.parent;
	c.author = rq->user;
	c.message = w.message;
	c.objects = &w.objects;
	rc = ama_publish_commit(a->pub, &c, &res);
	if (rc < 0)
		fail(out, rq, rc, &res.problems);
	else
		srv_respond_json(out, res.created ? 201 : 200,
				 ama_wire_commit_result(&res));
	ama_commit_result_release(&res);
	ama_wire_commit_release(&w);
}

/* ---- commits as jobs (server/jobs.h) ---- */

/* What a commit request keeps while it waits for its job. */
struct job_wait {
	struct srv_api *a;
	struct srv_job *job;
	void *token;		/* while armed */
	char *location;		/* of the 202 */
};

static void job_wait_free(void *state)
{
	struct job_wait *w = state;

	if (w->token)
		srv_job_unwait(w->a->jobs, w->job, w->token);
	srv_job_put(w->a->jobs, w->job);
	free(w->location);
	free(w);
}

static void job_arm(void *arg, void *token)
{
	struct job_wait *w = arg;

	w->token = token;
	srv_job_wait(w->a->jobs, w->job, token);
}

/*
 * Answer with the job's answer if it has ended; else wait for it (the
 * first call) or answer 202 with its URL under commits (the call after
 * the wait). Takes over the reference to job.
 */
static void job_answer(struct srv_api *a, const struct srv_request *rq,
		       struct srv_response *out, struct srv_job *job,
		       const char *commits)
{
	struct job_wait *w = *rq->state;
	struct ama_buf url = AMA_BUF_INIT;

	if (!w) {
		w = ama_calloc(1, sizeof(*w));
		w->a = a;
		w->job = job;
		*rq->state = w;
		*rq->state_free = job_wait_free;
	}
	if (w->token) {
		srv_job_unwait(a->jobs, w->job, w->token);
		w->token = NULL;
	}
	if (srv_job_answer(a->jobs, w->job, out))
		return;
	if (!rq->again && a->commit_wait_ms) {
		out->defer_ms = a->commit_wait_ms;
		out->arm = job_arm;
		out->arm_arg = w;
		return;
	}
	ama_buf_addf(&url, "%s/%s", commits, srv_job_id(w->job));
	free(w->location);
	w->location = ama_buf_detach(&url);
	srv_respond_json(out, 202, ama_wire_job(srv_job_id(w->job)));
	out->location = w->location;
	out->retry_after = 1;
}

/* POST .../commits: the commit becomes a job (or joins its twin). */
static void commit_job(struct srv_api *a, const struct srv_request *rq,
		       struct srv_response *out)
{
	struct srv_http *front = srv_request_front(rq);
	struct srv_job *job = NULL;
	struct ama_buf body;
	uint64_t share;

	if (!rq->again) {
		srv_take_body(rq, &body, &share);
		job = srv_jobs_submit(a->jobs, front, rq, &body, &share);
		/* a twin under way took nothing: this copy goes */
		ama_buf_release(&body);
		srv_budget_release(front, share);
	}
	job_answer(a, rq, out, job, rq->path);
}

/* GET .../commits/JOB: the answer of a commit that got 202. */
static void commit_poll(struct srv_api *a, const struct srv_request *rq,
			struct srv_response *out, const char *id)
{
	struct srv_job *job = NULL;
	struct ama_buf commits = AMA_BUF_INIT;

	if (!rq->again) {
		if (strlen(id) != AMA_WIRE_JOBLEN ||
		    strspn(id, "0123456789abcdef") != AMA_WIRE_JOBLEN) {
			bad(out, "'%s' is not a commit job", id);
			return;
		}
		job = srv_jobs_find(a->jobs, id, rq->user);
		if (!job) {
			srv_respond_error(out, 404, AMA_ENOTFOUND, NULL, NULL,
					  "no such commit job: %s (it ended "
					  "long ago, or the server started "
					  "again): send the commit again", id);
			return;
		}
	}
	ama_buf_add(&commits, rq->path, strlen(rq->path) - AMA_WIRE_JOBLEN - 1);
	job_answer(a, rq, out, job, ama_buf_str(&commits));
	ama_buf_release(&commits);
}

static int add_version(const struct ama_meta_version *v, void *ctx)
{
	json_array_append_new(ctx, ama_wire_version(v));
	return 0;
}

static void versions(struct srv_api *a, const struct srv_request *rq,
		     struct srv_response *out, const char *class, uint64_t seq)
{
	const char *max = srv_query(rq, "max");
	uint64_t n = 0;
	json_t *list;
	int rc;

	if (max && parse_seq(&n, max) < 0) {
		bad(out, "max=%s: want a whole number of at least 1", max);
		return;
	}
	list = json_array();
	rc = ama_publish_versions(a->pub, class, seq, (size_t)n, add_version,
				  list);
	if (rc < 0) {
		json_decref(list);
		fail(out, rq, rc, NULL);
		return;
	}
	srv_respond_json(out, 200, json_pack("{s:o}", "versions", list));
}

static void manifest(struct srv_api *a, const struct srv_request *rq,
		     struct srv_response *out, const char *class,
		     uint64_t seq, const char *vtext)
{
	struct ama_buf text = AMA_BUF_INIT;
	struct ama_version v;
	int rc;

	if (ama_version_parse(&v, vtext) < 0) {
		srv_respond_error(out, 400, AMA_EINVAL, NULL, NULL, "%s",
				  ama_error_msg());
		return;
	}
	rc = ama_publish_manifest(a->pub, class, seq, &v, &text);
	if (rc < 0) {
		ama_buf_release(&text);
		fail(out, rq, rc, NULL);
		return;
	}
	out->status = 200;
	out->content_type = "text/plain; charset=utf-8";
	out->len = text.len;
	out->body = text.s ? ama_buf_detach(&text) : ama_strdup("");
}

/* Is the method one of allow ("GET" or "GET, POST")? Else answer 405. */
static int method_ok(const struct srv_request *rq, struct srv_response *out,
		     const char *allow)
{
	const char *p = strstr(allow, rq->method);
	size_t n = strlen(rq->method);

	if (p && (p[n] == '\0' || p[n] == ',') &&
	    (p == allow || p[-1] == ' '))
		return 1;
	srv_respond_error(out, 405, AMA_EINVAL, NULL, NULL,
			  "%s is not allowed here: %s", rq->method, allow);
	out->allow = allow;
	return 0;
}

/* Is the path one of the routes? (The seq is checked later.) */
static int route_ok(const struct route *r)
{
	if (!is(r, 0, "classes"))
		return 0;
	switch (r->n) {
	case 1:
	case 2:
		return 1;
	case 3:
		return is(r, 2, "assets");
	case 5:
		return is(r, 2, "assets") &&
			(is(r, 4, "commits") || is(r, 4, "versions"));
	case 6:
		return is(r, 2, "assets") && is(r, 4, "commits");
	case 7:
		return is(r, 2, "assets") && is(r, 4, "versions") &&
			is(r, 6, "manifest");
	default:
		return 0;
	}
}

void srv_api_handle(void *ctx, const struct srv_request *rq,
		    struct srv_response *out)
{
	struct srv_api *a = ctx;
	struct route r;
	uint64_t seq = 0;

	if (split(&r, rq->path) < 0 || !route_ok(&r)) {
		srv_respond_error(out, 404, AMA_ENOTFOUND, NULL, NULL,
				  "no such endpoint: %s", rq->path);
		goto out;
	}
	if (r.n >= 2 && ama_manifest_check_class(r.part[1]) < 0) {
		srv_respond_error(out, 400, AMA_EINVAL, NULL, NULL, "%s",
				  ama_error_msg());
		goto out;
	}
	if (r.n >= 5 && parse_seq(&seq, r.part[3]) < 0) {
		bad(out, "'%s' is not an asset number", r.part[3]);
		goto out;
	}
	switch (r.n) {
	case 1:
		if (!method_ok(rq, out, "GET, POST"))
			break;
		if (!strcmp(rq->method, "GET"))
			list_classes(a, rq, out);
		else
			create_class(a, rq, out);
		break;
	case 2:
		if (method_ok(rq, out, "GET"))
			get_class(a, rq, out, r.part[1], 0);
		break;
	case 3:
		if (method_ok(rq, out, "GET, POST"))
			assets(a, rq, out, r.part[1]);
		break;
	case 5:
		if (is(&r, 4, "commits")) {
			if (method_ok(rq, out, "POST"))
				commit_job(a, rq, out);
		} else if (method_ok(rq, out, "GET")) {
			versions(a, rq, out, r.part[1], seq);
		}
		break;
	case 6:
		if (method_ok(rq, out, "GET"))
			commit_poll(a, rq, out, r.part[5]);
		break;
	default:
		if (method_ok(rq, out, "GET"))
			manifest(a, rq, out, r.part[1], seq, r.part[5]);
		break;
	}
out:
	free(r.buf);
}

void srv_api_run_commit(void *ctx, const struct srv_request *rq,
			struct srv_response *out)
{
	struct route r;
	uint64_t seq = 0;

	/* the request passed srv_api_handle's checks on its way here */
	if (split(&r, rq->path) < 0 || r.n != 5 ||
	    parse_seq(&seq, r.part[3]) < 0)
		srv_respond_error(out, 500, AMA_EIO, NULL, NULL,
				  "a commit job lost its path");
	else
		commit(ctx, rq, out, r.part[1], seq);
	free(r.buf);
}

uint64_t srv_api_limit(void *ctx, const char *method, const char *path)
{
	struct srv_api *a = ctx;
	size_t n = strlen(path);

	if (!strcmp(method, "POST") && n > 8 &&
	    !strcmp(path + n - 8, "/commits"))
		return a->commit_limit;
	return a->body_limit;
}
