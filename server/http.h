/* http.h: ama-server's HTTP front (libmicrohttpd): bodies, limits, bearer tokens, the request log. */
#ifndef AMA_SERVER_HTTP_H
#define AMA_SERVER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "tokens.h"

/*
 * The front knows nothing of the API: it authenticates each request (a
 * missing or unknown bearer token gets 401 before the body is read, and
 * the handler never sees it), enforces the body limit the handler names
 * for the request (413, before the body is read when it says its length),
 * hands the whole request to the handler, sends its response, and writes
 * one line per request to stderr:
 *
 *     METHOD PATH STATUS USER MS
 *
 * PATH percent-encoded outside printable ASCII (and '%' and space), USER
 * "-" before authentication, MS the milliseconds from the request's start
 * to its response; a request whose connection dropped before any response
 * is logged with status 000. The token is never logged.
 */

struct srv_request {
	const char *method;
	const char *path;	/* the URL's path, percent-decoded */
	const char *user;	/* the token's user */
	const char *body;	/* NUL-terminated; "" when none */
	size_t body_len;
	void *conn;		/* for srv_query() */
};

/* A query argument of the request, or NULL. */
const char *srv_query(const struct srv_request *rq, const char *name);

struct srv_response {
	int status;
	const char *content_type;	/* default application/json */
	char *body;		/* malloc()ed; the front frees it */
	size_t len;
	const char *allow;	/* for a 405: the methods allowed */
};

/* Respond with j (a reference the call takes over). */
void srv_respond_json(struct srv_response *out, int status, json_t *j);
/* Respond {"error": message, "code": ..., "subject": ...} (lib/wire.h). */
void srv_respond_error(struct srv_response *out, int status, int code,
		       const char *subject, const struct ama_buf *problems,
		       const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

typedef void (*srv_handler_fn)(void *ctx, const struct srv_request *rq,
			       struct srv_response *out);
/* The largest body the request method + path may have. */
typedef uint64_t (*srv_limit_fn)(void *ctx, const char *method,
				 const char *path);

struct srv_http_opts {
	const char *address;	/* numeric IPv4 or IPv6 */
	unsigned port;		/* 0: any free port */
	unsigned threads;	/* the thread pool */
	unsigned idle_timeout;	/* seconds before an idle connection closes */
	struct srv_tokens *tokens;
	srv_handler_fn handle;
	srv_limit_fn limit;
	void *ctx;
};

struct srv_http;

/* Start serving. Returns 0, or AMA_ESETUP (bad address, cannot bind). */
int srv_http_start(struct srv_http **out, const struct srv_http_opts *o);
/* The port it listens on. */
unsigned srv_http_port(const struct srv_http *h);
/*
 * Stop accepting connections; requests that come on open connections get
 * 503 from now on. Requests under way go on.
 */
void srv_http_quiesce(struct srv_http *h);
/* The number of requests under way. */
unsigned srv_http_busy(struct srv_http *h);
/* Close every connection and stop the threads. */
void srv_http_stop(struct srv_http *h);

#endif
