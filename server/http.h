/* http.h: ama-server's HTTP front (libmicrohttpd): paths, bodies, limits, bearer tokens, the log. */
#ifndef AMA_SERVER_HTTP_H
#define AMA_SERVER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "tokens.h"

/*
 * The front knows nothing of the API: it refuses a request path with a
 * byte that has no place in a path segment (400, see below), authenticates
 * each request (a missing or unknown bearer token gets 401 before the body
 * is read, and the handler never sees it), enforces the body limit the
 * handler names for the request (413, before the body is read when it
 * says its length) and the memory budget of all bodies in flight (503
 * with Retry-After when it is spent), hands the whole request to the
 * handler, sends its response, and writes one line per request to stderr:
 *
 *     METHOD PATH STATUS USER MS
 *
 * PATH percent-encoded outside printable ASCII (and '%' and space), USER
 * "-" before authentication, MS the milliseconds from the request's start
 * to its response; a request whose connection dropped before any response
 * is logged with status 000. The token is never logged.
 *
 * A request path (before '?') must be '/' and path segments, each byte an
 * RFC 3986 pchar: a letter, a digit, one of "-._~!$&'()*+,;=:@", or a %XX
 * escape of one of those. Anything else (a NUL, %00, %2F, '%' itself,
 * control bytes, spaces, bytes above 0x7e) is answered 400 and never
 * reaches the handler: a path means one thing or nothing. The query may
 * also hold '/' and '?', and escapes of any byte but NUL and the control
 * bytes. A body framed two ways (two Content-Lengths, or one and a
 * Transfer-Encoding) is a 400 as well.
 *
 * libmicrohttpd's own messages go to stderr too, each kind at most once a
 * second; the lines held back are counted and said in one line
 * ("ama-server: the line above came N more times in S s").
 */

struct srv_request {
	const char *method;
	const char *path;	/* the URL's path, percent-decoded */
	const char *user;	/* the token's user */
	const char *body;	/* NUL-terminated; "" when none */
	size_t body_len;
	/*
	 * The buffer body is in, when the handler may release it as soon as
	 * it is read (a job's: see jobs.h); else NULL.
	 */
	struct ama_buf *body_buf;
	void *conn;		/* for srv_query() and srv_take_body() */
	/*
	 * What the handler keeps between its calls for one request (see
	 * srv_response.defer_ms); NULL at the first call. The front calls
	 * state_free on it when the request ends.
	 */
	void **state;
	void (**state_free)(void *state);
	int again;		/* a call after a deferral */
};

/* A query argument of the request, or NULL. */
const char *srv_query(const struct srv_request *rq, const char *name);

/*
 * Take the request's body and its share of the memory budget: *out gets
 * the buffer (the caller releases it), and the share stays spent until the
 * caller gives it back with srv_budget_release(h, *share). After this the
 * request's body is "".
 */
struct srv_http;
void srv_take_body(const struct srv_request *rq, struct ama_buf *out,
		   uint64_t *share);
void srv_budget_release(struct srv_http *h, uint64_t share);
/* The front of the request (for srv_budget_release and srv_http_wake). */
struct srv_http *srv_request_front(const struct srv_request *rq);

struct srv_response {
	int status;
	const char *content_type;	/* default application/json */
	char *body;		/* malloc()ed; the front frees it */
	size_t len;
	const char *allow;	/* for a 405: the methods allowed */
	const char *location;	/* a Location header, or NULL */
	unsigned retry_after;	/* seconds, for a 202 or 503; 0: none */
	/*
	 * Instead of a status, the handler may defer: it sets defer_ms and
	 * arm. The front suspends the connection (no thread waits), then
	 * calls arm(arg, token); whoever the handler waits for calls
	 * srv_http_wake(front, token) once, when it has the answer (at
	 * once if it has it already). The handler is called again, with
	 * again set, after the wake or after defer_ms, whichever comes
	 * first, and must answer then.
	 */
	unsigned defer_ms;
	void (*arm)(void *arg, void *token);
	void *arm_arg;
};

/* Respond with j (a reference the call takes over). */
void srv_respond_json(struct srv_response *out, int status, json_t *j);
/* Respond {"error": message, "code": ..., "subject": ...} (lib/wire.h). */
void srv_respond_error(struct srv_response *out, int status, int code,
		       const char *subject, const struct ama_buf *problems,
		       const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/*
 * Wake the deferred request token names (see srv_response.defer_ms).
 * Harmless when it was woken already or its time ran out: a token is
 * only used while the request waits. Thread-safe.
 */
void srv_http_wake(struct srv_http *h, void *token);

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
	unsigned connections;	/* open connections at most */
	unsigned per_ip;	/* ... from one address (0: no limit) */
	/*
	 * The bytes all bodies in flight may take together, each counted
	 * body_weight times its length (what parsing it costs too).
	 */
	uint64_t budget;
	unsigned body_weight;
	struct srv_tokens *tokens;
	srv_handler_fn handle;
	srv_limit_fn limit;
	void *ctx;
};

/* Start serving. Returns 0, or AMA_ESETUP (bad address, cannot bind). */
int srv_http_start(struct srv_http **out, const struct srv_http_opts *o);
/* The port it listens on. */
unsigned srv_http_port(const struct srv_http *h);
/*
 * Stop accepting connections; requests that come on open connections get
 * 503 from now on. Requests under way go on.
 */
void srv_http_quiesce(struct srv_http *h);
/* The number of requests under way (deferred ones among them). */
unsigned srv_http_busy(struct srv_http *h);
/* The bytes of the memory budget spent now. */
uint64_t srv_http_budget_used(struct srv_http *h);
/*
 * Housekeeping, about once a second: say what the log held back. Called
 * by the main thread.
 */
void srv_http_tick(struct srv_http *h);
/* Close every connection and stop the threads. */
void srv_http_stop(struct srv_http *h);

#endif
