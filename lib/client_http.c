/* client_http.c: the publishing calls over HTTP to ama-server (libcurl, jansson), with retries. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "client_backend.h"
#include "curlerr.h"
#include "error.h"
#include "wire.h"

#define TOKEN_MAX 1024
#define CONNECT_TIMEOUT 10L	/* seconds to make a connection */
#define TIMEOUT 60L		/* [server] timeout: seconds without a byte */
#define BUSY_MAX 600.0		/* seconds a busy server is waited for */
#define RETRY_AFTER_MAX 30L	/* the longest Retry-After honoured */
#define REPOSTS 3		/* commits sent again when their job is lost */

struct ama_client_http {
	char *base;		/* "http://host:port", no trailing '/' */
	char *token_file;	/* for messages; the token itself is in auth */
	struct curl_slist *auth;	/* "Authorization: Bearer ..." */
	struct curl_slist *json_headers;	/* auth + Content-Type */
	CURL *curl;		/* one handle: its connection is kept alive */
	long timeout;		/* seconds a request waits for a byte */
	int attempts;
	long retry_after;	/* of the last answer, in seconds (0: none) */
	char errbuf[CURL_ERROR_SIZE];
};

/* Which failures a request may be tried again after. */
enum retry {
	RETRY_ANY,	/* idempotent: connection failures and 5xx */
	RETRY_CONNECT,	/* only when nothing was sent */
};

struct reply {
	long status;
	struct ama_buf body;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A request's progress: when a byte last went either way. */
struct progress {
	curl_off_t down, up;
	double last;
	long timeout;
	int quiet;		/* set when it gave up */
};

/*
 * libcurl calls this about once a second, and whenever bytes move: stop
 * the transfer when none moved for the timeout. (libcurl's low-speed
 * limit averages over a few seconds, so it gives up seconds late.)
 */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct progress *p = ctx;
	double now = now_s();

	(void)dltotal;
	(void)ultotal;
	if (dlnow != p->down || ulnow != p->up) {
		p->down = dlnow;
		p->up = ulnow;
		p->last = now;
		return 0;
	}
	if (now - p->last >= (double)p->timeout) {
		p->quiet = 1;
		return 1;
	}
	return 0;
}

static void pause_s(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		abort();
}

char *ama_client_expand_home(const char *path)
{
	struct ama_buf b = AMA_BUF_INIT;
	const char *home = getenv("HOME");

	if (path[0] == '~' && path[1] == '/') {
		ama_buf_addstr(&b, home ? home : "");
		ama_buf_addstr(&b, path + 1);
	} else {
		ama_buf_addstr(&b, path);
	}
	return ama_buf_detach(&b);
}

/* Read the bearer token from path, refusing a file others may read. */
static int read_token(struct ama_buf *out, const char *path)
{
	char buf[TOKEN_MAX + 2];
	struct stat st;
	ssize_t n;
	size_t len, i;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return ama_error_setp(AMA_ESETUP, path,
				"no token file: ask the server's "
				"administrator for a token (ama-server token "
				"add USER) and put it there, mode 0600");
		return ama_error_setp_errno(AMA_ESETUP, path,
					    "cannot open the token file");
	}
	if (fstat(fd, &st) < 0) {
		rc = ama_error_setp_errno(AMA_ESETUP, path, "cannot stat");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = ama_error_setp(AMA_ESETUP, path,
				    "the token file is not a regular file");
		goto out;
	}
	if (st.st_mode & (S_IRGRP | S_IROTH)) {
		rc = ama_error_setp(AMA_ESETUP, path,
				    "the token file may be read by group or "
				    "others: make it private with chmod 600");
		goto out;
	}
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		rc = ama_error_setp_errno(AMA_ESETUP, path, "cannot read");
		goto out;
	}
	len = (size_t)n;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
		       buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	for (i = 0; i < len; i++)
		if (buf[i] <= ' ' || buf[i] >= 0x7f)
			break;
	if (!len || i < len || len > TOKEN_MAX) {
		rc = ama_error_setp(AMA_ESETUP, path,
				    "not a token: want one line of printable "
				    "characters");
		goto out;
	}
	ama_buf_add(out, buf, len);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

static void wipe_list(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

void ama_client_http_close(struct ama_client_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	wipe_list(h->auth);
	wipe_list(h->json_headers);
	free(h->base);
	free(h->token_file);
	free(h);
}

int ama_client_http_open(struct ama_client_http **out, const char *url,
			 const struct ama_config *cfg)
{
	struct ama_client_http *h = ama_calloc(1, sizeof(*h));
	struct ama_buf token = AMA_BUF_INIT, line = AMA_BUF_INIT;
	const char *tf = ama_config_get(cfg, "server", "token-file");
	long timeout = TIMEOUT, attempts = 4;
	size_t n = strlen(url);
	int rc;

	*out = NULL;
	while (n && url[n - 1] == '/')
		n--;
	h->base = ama_strndup(url, n);
	h->token_file = ama_client_expand_home(tf && *tf ? tf :
					       "~/.config/ama/token");
	rc = ama_config_get_int(cfg, "server", "timeout", &timeout);
	if (rc == 0)
		rc = ama_config_get_int(cfg, "server", "retries", &attempts);
	if (rc == 0 && (timeout < 1 || timeout > 86400))
		rc = ama_error_set(AMA_ESETUP, "[server] timeout: %ld is not "
				   "between 1 and 86400 seconds", timeout);
	if (rc == 0 && (attempts < 1 || attempts > 100))
		rc = ama_error_set(AMA_ESETUP, "[server] retries: %ld is not "
				   "between 1 and 100", attempts);
	if (rc == 0)
		rc = read_token(&token, h->token_file);
	if (rc < 0)
		goto fail;
	h->timeout = timeout;
	h->attempts = (int)attempts;
	ama_buf_addstr(&line, "Authorization: Bearer ");
	ama_buf_add(&line, token.s, token.len);
	h->auth = curl_slist_append(NULL, line.s);
	h->auth = curl_slist_append(h->auth, "Accept: application/json");
	h->json_headers = curl_slist_append(NULL, line.s);
	h->json_headers = curl_slist_append(h->json_headers,
					    "Accept: application/json");
	h->json_headers = curl_slist_append(h->json_headers,
					    "Content-Type: application/json");
	explicit_bzero(line.s, line.len);
	explicit_bzero(token.s, token.len);
	ama_buf_release(&line);
	ama_buf_release(&token);
	if (!h->auth || !h->json_headers)
		abort();
	pthread_once(&curl_once, curl_init);
	h->curl = curl_easy_init();
	if (!h->curl)
		abort();
	*out = h;
	return 0;
fail:
	ama_buf_release(&token);
	ama_client_http_close(h);
	return rc;
}

static size_t on_write(char *p, size_t size, size_t n, void *ctx)
{
	ama_buf_add(ctx, p, size * n);
	return size * n;
}

static void backoff(int attempt)
{
	long ms = 100L << (attempt - 1 < 5 ? attempt - 1 : 5);

	pause_s((ms > 2000 ? 2000 : ms) / 1000.0);
}

/*
 * Send one request: path under the base URL, body JSON (NULL: none) with
 * method. Returns 0 with the answer in out (any status), or the error
 * that stopped it after the tries retry allows. A server that sends
 * nothing for h->timeout seconds is not asked again: it is stopped or
 * stuck, and waiting once is enough. A 503 with Retry-After (the server
 * is busy or stopping, and did nothing) is sent again after that time,
 * for up to BUSY_MAX seconds in all, whatever retry says.
 */
static int perform(struct ama_client_http *h, const char *method,
		   const char *path, const char *body, enum retry retry,
		   struct reply *out)
{
	struct ama_buf url = AMA_BUF_INIT;
	CURL *e = h->curl;
	double busy = 0;
	int attempt, rc;

	ama_buf_addf(&url, "%s%s", h->base, path);
	for (attempt = 1;; attempt++) {
		CURLcode cc;
		long os_errno = 0;
		curl_off_t ra = 0;
		struct progress pg = { 0, 0, now_s(), h->timeout, 0 };

		ama_buf_reset(&out->body);
		out->status = 0;
		h->retry_after = 0;
		h->errbuf[0] = '\0';
		curl_easy_setopt(e, CURLOPT_URL, url.s);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &out->body);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
		/* no total limit: a request fails when the server goes quiet */
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(e, CURLOPT_XFERINFODATA, &pg);
		curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
		/* the token goes to this server only, never after a redirect */
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
		if (body) {
			curl_easy_setopt(e, CURLOPT_HTTPHEADER,
					 h->json_headers);
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)strlen(body));
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		} else {
			curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->auth);
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
			curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		}
		cc = curl_easy_perform(e);
		if (cc == CURLE_OK) {
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE,
					  &out->status);
			curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra);
			h->retry_after = ra > RETRY_AFTER_MAX ?
				RETRY_AFTER_MAX : (long)ra;
			if (out->status == 503 && h->retry_after > 0 &&
			    busy + (double)h->retry_after <= BUSY_MAX) {
				busy += (double)h->retry_after;
				pause_s((double)h->retry_after);
				attempt--;	/* not a failure: a wait */
				continue;
			}
			if (retry == RETRY_ANY && attempt < h->attempts &&
			    (out->status == 500 || out->status == 502 ||
			     out->status == 503 || out->status == 504)) {
				backoff(attempt);
				continue;
			}
			rc = 0;
			break;
		}
		curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
		if (ama_curl_is_setup_error(cc)) {
			rc = ama_curl_setup_error(cc, h->base, h->errbuf);
			goto out;
		}
		if (pg.quiet) {
			rc = ama_error_set(AMA_ENET, "no answer from %s for "
					   "%ld s ([server] timeout)", h->base,
					   h->timeout);
			break;
		}
		if ((retry == RETRY_ANY || cc == CURLE_COULDNT_CONNECT) &&
		    cc != CURLE_OPERATION_TIMEDOUT && attempt < h->attempts) {
			backoff(attempt);
			continue;
		}
		if (cc == CURLE_OPERATION_TIMEDOUT)
			rc = ama_error_set(AMA_ESETUP, "cannot connect to %s "
					   "in %ld s", h->base,
					   CONNECT_TIMEOUT);
		else if (cc == CURLE_COULDNT_CONNECT)
			rc = ama_error_set(AMA_ESETUP,
					   "cannot connect to %s: %s", h->base,
					   os_errno ? strerror((int)os_errno) :
					   curl_easy_strerror(cc));
		else
			rc = ama_error_set(AMA_ENET,
					   "no answer from %s: %s (%d tries)",
					   h->base, h->errbuf[0] ? h->errbuf :
					   curl_easy_strerror(cc), attempt);
		break;
	}
out:
	ama_buf_release(&url);
	return rc;
}

/*
 * Turn an answer into a result: 0 and the parsed JSON in *json (NULL:
 * not wanted) for a 2xx, else the error the server sent, its problems
 * appended to problems (may be NULL).
 */
static int answer(struct ama_client_http *h, struct reply *r, json_t **json,
		  struct ama_buf *problems)
{
	json_error_t err;
	json_t *j;
	char fallback[128];
	int code;

	if (json)
		*json = NULL;
	if (r->status == 401)
		return ama_error_set(AMA_EAUTH,
				     "the server refused the token (%s, "
				     "token from %s)", h->base, h->token_file);
	j = json_loadb(ama_buf_str(&r->body), r->body.len,
		       JSON_REJECT_DUPLICATES, &err);
	if (r->status >= 200 && r->status < 300) {
		if (!j)
			return ama_error_set(AMA_EREMOTE,
					     "bad answer from %s: not JSON: "
					     "%s", h->base, err.text);
		if (json)
			*json = j;
		else
			json_decref(j);
		return 0;
	}
	switch (r->status) {
	case 400: case 413: code = AMA_EINVAL; break;
	case 403: code = AMA_EAUTH; break;
	case 404: code = AMA_ENOTFOUND; break;
	case 409: code = AMA_ECONFLICT; break;
	case 500: case 502: case 503: case 504: code = AMA_ENET; break;
	default: code = AMA_EREMOTE; break;
	}
	snprintf(fallback, sizeof(fallback), "%s answered %ld", h->base,
		 r->status);
	code = ama_wire_parse_error(j, code, fallback, problems);
	json_decref(j);
	return code;
}

/*
 * GET (body NULL) or POST path and parse the JSON answer into *json; its
 * status into *status when that is not NULL.
 */
static int call_status(struct ama_client_http *h, const char *method,
		       const char *path, json_t *body, enum retry retry,
		       json_t **json, struct ama_buf *problems, long *status)
{
	struct reply r = { 0, AMA_BUF_INIT };
	char *text = NULL;
	int rc;

	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text)
			abort();
	}
	rc = perform(h, method, path, text, retry, &r);
	if (rc == 0)
		rc = answer(h, &r, json, problems);
	if (status)
		*status = r.status;
	free(text);
	ama_buf_release(&r.body);
	return rc;
}

static int call(struct ama_client_http *h, const char *method,
		const char *path, json_t *body, enum retry retry,
		json_t **json, struct ama_buf *problems)
{
	return call_status(h, method, path, body, retry, json, problems,
			   NULL);
}

static int bad_answer(struct ama_client_http *h)
{
	return ama_error_wrap(AMA_EREMOTE, "bad answer from %s", h->base);
}

int ama_client_http_class(struct ama_client_http *h, const char *name,
			  int create, struct ama_client_class *out)
{
	struct ama_buf path = AMA_BUF_INIT;
	json_t *body = NULL, *j;
	int rc;

	if (create) {
		ama_buf_addstr(&path, "/v1/classes");
		body = json_pack("{s:s}", "name", name);
	} else {
		ama_buf_addf(&path, "/v1/classes/%s", name);
	}
	rc = call(h, create ? "POST" : "GET", path.s, body, RETRY_ANY, &j,
		  NULL);
	json_decref(body);
	ama_buf_release(&path);
	if (rc < 0)
		return rc;
	rc = ama_wire_parse_client_class(out, j);
	json_decref(j);
	if (rc < 0) {
		ama_client_class_release(out);
		return bad_answer(h);
	}
	return 0;
}

/* The array under key of the JSON answer to GET path. */
static int get_list(struct ama_client_http *h, const char *path,
		    const char *key, json_t **answer_out, json_t **list)
{
	json_t *j;
	int rc = call(h, "GET", path, NULL, RETRY_ANY, &j, NULL);

	if (rc < 0)
		return rc;
	*list = json_object_get(j, key);
	if (!json_is_array(*list)) {
		json_decref(j);
		return ama_error_set(AMA_EREMOTE,
				     "bad answer from %s: '%s' is not a list",
				     h->base, key);
	}
	*answer_out = j;
	return 0;
}

int ama_client_http_classes(struct ama_client_http *h,
			    ama_publish_class_fn fn, void *ctx)
{
	json_t *j, *list, *v;
	size_t i;
	int rc = get_list(h, "/v1/classes", "classes", &j, &list);

	if (rc < 0)
		return rc;
	json_array_foreach(list, i, v) {
		struct ama_class_info c;

		if (ama_wire_parse_class(&c, v) < 0) {
			rc = bad_answer(h);
			break;
		}
		rc = fn(&c, ctx);
		if (rc)
			break;
	}
	json_decref(j);
	return rc;
}

int ama_client_http_asset_create(struct ama_client_http *h,
				 const char *class, const char *claim,
				 uint64_t *seq)
{
	struct ama_buf path = AMA_BUF_INIT;
	struct ama_asset_info a;
	json_t *body = json_object(), *j;
	int rc;

	ama_buf_addf(&path, "/v1/classes/%s/assets", class);
	if (claim)
		json_object_set_new(body, "claim", json_string(claim));
	/* without a claim each POST takes a number: sent again only unsent */
	rc = call(h, "POST", path.s, body, claim ? RETRY_ANY : RETRY_CONNECT,
		  &j, NULL);
	json_decref(body);
	ama_buf_release(&path);
	if (rc < 0)
		return rc;
	rc = ama_wire_parse_asset(&a, j);
	json_decref(j);
	if (rc < 0)
		return bad_answer(h);
	*seq = a.seq;
	return 0;
}

int ama_client_http_assets(struct ama_client_http *h, const char *class,
			   ama_publish_asset_fn fn, void *ctx)
{
	struct ama_buf path = AMA_BUF_INIT;
	json_t *j, *list, *v;
	size_t i;
	int rc;

	ama_buf_addf(&path, "/v1/classes/%s/assets", class);
	rc = get_list(h, path.s, "assets", &j, &list);
	ama_buf_release(&path);
	if (rc < 0)
		return rc;
	json_array_foreach(list, i, v) {
		struct ama_asset_info a;

		if (ama_wire_parse_asset(&a, v) < 0) {
			rc = bad_answer(h);
			break;
		}
		rc = fn(&a, ctx);
		if (rc)
			break;
	}
	json_decref(j);
	return rc;
}

/*
 * The answer of a commit that got 202 {"job": ID} (in *j, released here):
 * ask path/ID until it comes, after each 202 waiting the Retry-After it
 * gives. AMA_ENOTFOUND with *lost set when the server forgot the job.
 */
static int commit_poll(struct ama_client_http *h, const char *path,
		       json_t **j, struct ama_buf *problems, int *lost)
{
	struct ama_buf poll = AMA_BUF_INIT;
	char id[AMA_WIRE_JOBLEN + 1];
	long status = 202;
	int rc = 0;

	*lost = 0;
	if (ama_wire_parse_job(id, *j) < 0) {
		json_decref(*j);
		*j = NULL;
		return ama_error_set(AMA_EREMOTE, "bad answer from %s: 202 "
				     "without a job", h->base);
	}
	ama_buf_addf(&poll, "%s/%s", path, id);
	while (rc == 0 && status == 202) {
		json_decref(*j);
		*j = NULL;
		/* the server waited before its 202: its pause is short */
		pause_s(h->retry_after > 0 ? (double)h->retry_after : 1.0);
		rc = call_status(h, "GET", poll.s, NULL, RETRY_ANY, j,
				 problems, &status);
	}
	if (rc == AMA_ENOTFOUND && status == 404)
		*lost = 1;
	ama_buf_release(&poll);
	return rc;
}

int ama_client_http_commit(struct ama_client_http *h,
			   const struct ama_commit_request *rq,
			   struct ama_commit_result *out)
{
	struct ama_buf path = AMA_BUF_INIT;
	json_t *body, *j = NULL;
	long status = 0;
	int rc, lost = 0, sent;

	body = ama_wire_commit_request(rq);
	if (!body)
		return AMA_EINVAL;
	ama_buf_addf(&path, "/v1/classes/%s/assets/%" PRIu64 "/commits",
		     rq->class, rq->seq);
	/*
	 * A commit is idempotent (its commit id): retrying it is safe, and
	 * so is sending it again when the server forgot its job.
	 */
	for (sent = 0; sent <= REPOSTS; sent++) {
		lost = 0;
		ama_buf_reset(&out->problems);
		rc = call_status(h, "POST", path.s, body, RETRY_ANY, &j,
				 &out->problems, &status);
		if (rc == 0 && status == 202)
			rc = commit_poll(h, path.s, &j, &out->problems,
					 &lost);
		if (!lost)
			break;
	}
	json_decref(body);
	ama_buf_release(&path);
	if (rc < 0)
		return rc;
	rc = ama_wire_parse_commit_result(out, j);
	json_decref(j);
	return rc < 0 ? bad_answer(h) : 0;
}

int ama_client_http_versions(struct ama_client_http *h, const char *class,
			     uint64_t seq, size_t max,
			     ama_meta_version_fn fn, void *ctx)
{
	struct ama_buf path = AMA_BUF_INIT;
	json_t *j, *list, *v;
	size_t i;
	int rc;

	ama_buf_addf(&path, "/v1/classes/%s/assets/%" PRIu64 "/versions",
		     class, seq);
	if (max)
		ama_buf_addf(&path, "?max=%zu", max);
	rc = get_list(h, path.s, "versions", &j, &list);
	ama_buf_release(&path);
	if (rc < 0)
		return rc;
	json_array_foreach(list, i, v) {
		struct ama_meta_version mv;

		if (ama_wire_parse_version(&mv, v) < 0) {
			rc = bad_answer(h);
			break;
		}
		rc = fn(&mv, ctx);
		ama_meta_version_release(&mv);
		if (rc)
			break;
	}
	json_decref(j);
	return rc;
}

int ama_client_http_manifest(struct ama_client_http *h, const char *class,
			     uint64_t seq, const struct ama_version *version,
			     struct ama_buf *out)
{
	struct ama_buf path = AMA_BUF_INIT;
	struct reply r = { 0, AMA_BUF_INIT };
	char v[AMA_VERSION_BUFSIZE];
	int rc;

	ama_version_format(v, version);
	ama_buf_addf(&path, "/v1/classes/%s/assets/%" PRIu64
		     "/versions/%s/manifest", class, seq, v);
	rc = perform(h, "GET", path.s, NULL, RETRY_ANY, &r);
	if (rc == 0 && r.status == 200)
		ama_buf_add(out, ama_buf_str(&r.body), r.body.len);
	else if (rc == 0)
		rc = answer(h, &r, NULL, NULL);
	ama_buf_release(&path);
	ama_buf_release(&r.body);
	return rc;
}

/* ---- the table lib/client.c calls through ---- */

static void http_close(void *b)
{
	ama_client_http_close(b);
}

static int http_class(void *b, const char *name, int create,
		      struct ama_client_class *out)
{
	return ama_client_http_class(b, name, create, out);
}

static int http_classes(void *b, ama_publish_class_fn fn, void *ctx)
{
	return ama_client_http_classes(b, fn, ctx);
}

static int http_asset_create(void *b, const char *class, const char *claim,
			     uint64_t *seq)
{
	return ama_client_http_asset_create(b, class, claim, seq);
}

static int http_assets(void *b, const char *class, ama_publish_asset_fn fn,
		       void *ctx)
{
	return ama_client_http_assets(b, class, fn, ctx);
}

static int http_commit(void *b, const struct ama_commit_request *rq,
		       struct ama_commit_result *out)
{
	return ama_client_http_commit(b, rq, out);
}

static int http_versions(void *b, const char *class, uint64_t seq,
			 size_t max, ama_meta_version_fn fn, void *ctx)
{
	return ama_client_http_versions(b, class, seq, max, fn, ctx);
}

static int http_manifest(void *b, const char *class, uint64_t seq,
			 const struct ama_version *version, struct ama_buf *out)
{
	return ama_client_http_manifest(b, class, seq, version, out);
}

const struct ama_client_ops ama_client_http_ops = {
	.name = "http",
	.local = 0,
	.close = http_close,
	.klass = http_class,
	.classes = http_classes,
	.asset_create = http_asset_create,
	.assets = http_assets,
	.commit = http_commit,
	.versions = http_versions,
	.manifest = http_manifest,
};
