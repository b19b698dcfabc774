/* http.c: the HTTP front of ama-server on libmicrohttpd's thread pool: paths, auth, limits, the log. */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "error.h"
#include "http.h"
#include "loglimit.h"
#include "prog.h"
#include "target.h"
#include "wire.h"

#define FLOOD_PAUSE_NS 10000000L	/* a flood pauses its thread 10 ms */

/* A deferred request waiting for srv_http_wake() or its deadline. */
struct waiter {
	struct waiter *next;
	struct conn *rq;
	double deadline;
};

struct srv_http {
	struct MHD_Daemon *d;
	struct srv_http_opts o;
	unsigned port;
	MHD_socket listen_fd;	/* after quiesce: closed when stopped */
	int stopping;		/* atomic */
	unsigned busy;		/* atomic: requests under way */
	uint64_t spent;		/* atomic: the budget in use */
	struct srv_loglimit log;		/* libmicrohttpd's messages */
	/* deferred requests, and the thread that wakes them at their time */
	pthread_mutex_t wait_mu;
	pthread_cond_t wait_cond;
	struct waiter *waiting;
	pthread_t timer;
	int timer_started, timer_stop;
};

/* One request, from its first byte to its completion. */
struct conn {
	struct srv_http *h;
	struct MHD_Connection *c;
	struct timespec start;
	char method[16];
	char *path;		/* decoded; for a refused path, the raw one */
	char *raw;		/* the request target as sent, until checked */
	const char *raw_at;	/* where libmicrohttpd holds it */
	size_t raw_len;
	char user[SRV_USER_MAX + 1];
	uint64_t limit;
	struct ama_buf body;
	uint64_t share;		/* of the budget, for the body */
	int prepaid;		/* share holds the whole body */
	int too_big;		/* the body went past the limit */
	int over_budget;	/* ... or past the budget */
	int raw_nul;		/* a NUL byte came in the path, raw */
	int bad_path;		/* the path is answered 400 */
	int answered;		/* a response is queued */
	int deferred;		/* suspended, waiting for a wake */
	int logged;
	void *state;		/* the handler's, between calls */
	void (*state_free)(void *state);
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000L +
		(now.tv_nsec - t->tv_nsec) / 1000000L;
}

static void write_all(const char *s, size_t n)
{
	if (write(2, s, n) < 0) {
		/* nowhere to say it */
	}
}

/* "METHOD PATH STATUS USER MS": one write, so lines never mix. */
static void log_line(struct conn *rq, int status)
{
	struct ama_buf b = AMA_BUF_INIT;
	const unsigned char *p;

	if (rq->logged)
		return;
	rq->logged = 1;
	ama_buf_addf(&b, "%s ", rq->method);
	for (p = (const unsigned char *)rq->path; *p; p++) {
		if (*p > ' ' && *p < 0x7f && (*p != '%' || rq->bad_path))
			ama_buf_addch(&b, *p);
		else
			ama_buf_addf(&b, "%%%02X", *p);
	}
	ama_buf_addf(&b, " %03d %s %ld\n", status,
		     rq->user[0] ? rq->user : "-", ms_since(&rq->start));
	write_all(b.s, b.len);
	ama_buf_release(&b);
}

/* ---- the budget of bodies in flight ---- */

static int budget_take(struct srv_http *h, uint64_t n)
{
	uint64_t cur = __atomic_load_n(&h->spent, __ATOMIC_ACQUIRE);

	do {
		if (n > h->o.budget || cur > h->o.budget - n)
			return -1;
	} while (!__atomic_compare_exchange_n(&h->spent, &cur, cur + n, 0,
					      __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return 0;
}

void srv_budget_release(struct srv_http *h, uint64_t share)
{
	if (share)
		__atomic_sub_fetch(&h->spent, share, __ATOMIC_ACQ_REL);
}

uint64_t srv_http_budget_used(struct srv_http *h)
{
	return __atomic_load_n(&h->spent, __ATOMIC_ACQUIRE);
}

/* ---- answers ---- */

void srv_respond_json(struct srv_response *out, int status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	size_t n;

	json_decref(j);
	if (!s)
		abort();
	n = strlen(s);
	s = ama_realloc(s, n + 2);
	s[n] = '\n';
	s[n + 1] = '\0';
	free(out->body);
	out->status = status;
	out->content_type = "application/json";
	out->body = s;
	out->len = n + 1;
}

void srv_respond_error(struct srv_response *out, int status, int code,
		       const char *subject, const struct ama_buf *problems,
		       const char *fmt, ...)
{
	struct ama_buf msg = AMA_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	ama_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	srv_respond_json(out, status, ama_wire_error(code, ama_buf_str(&msg),
						     subject, problems));
	ama_buf_release(&msg);
}

const char *srv_query(const struct srv_request *rq, const char *name)
{
	struct conn *c = rq->conn;

	return MHD_lookup_connection_value(c->c, MHD_GET_ARGUMENT_KIND,
					   name);
}

void srv_take_body(const struct srv_request *rq, struct ama_buf *out,
		   uint64_t *share)
{
	struct conn *c = rq->conn;

	*out = c->body;
	*share = c->share;
	memset(&c->body, 0, sizeof(c->body));
	c->share = 0;
}

struct srv_http *srv_request_front(const struct srv_request *rq)
{
	return ((struct conn *)rq->conn)->h;
}

static enum MHD_Result send_response(struct srv_http *h,
				     struct MHD_Connection *c,
				     struct conn *rq,
				     struct srv_response *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(r->len, r->body,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp)
		abort();
	r->body = NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				r->content_type ? r->content_type :
				"application/json");
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->location)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
					r->location);
	if (r->retry_after) {
		char s[16];

		snprintf(s, sizeof(s), "%u", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, s);
	}
	if (r->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"ama\"");
	if (__atomic_load_n(&h->stopping, __ATOMIC_ACQUIRE))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
					"close");
	ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	rq->answered = 1;
	/* logged before it is sent: whoever got the answer finds the line */
	log_line(rq, r->status);
	return ret;
}

static enum MHD_Result send_error(struct srv_http *h, struct MHD_Connection *c,
				  struct conn *rq, int status, int code,
				  const char *msg)
{
	struct srv_response r = { 0 };

	srv_respond_error(&r, status, code, NULL, NULL, "%s", msg);
	if (status == 503)
		r.retry_after = 2;
	return send_response(h, c, rq, &r);
}

/* ---- the request path ---- */

/*
 * The request target, before libmicrohttpd decodes it: it becomes the
 * request's first state (so this is where a request starts).
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct conn *rq = ama_calloc(1, sizeof(*rq));

	rq->h = cls;
	rq->c = c;
	clock_gettime(CLOCK_MONOTONIC, &rq->start);
	rq->raw_at = uri;
	rq->raw_len = strlen(uri);
	rq->raw = ama_strndup(uri, rq->raw_len);
	__atomic_add_fetch(&rq->h->busy, 1, __ATOMIC_ACQ_REL);
	return rq;
}

/*
 * Is the target as the handler gets it the whole target as sent? A NUL
 * byte sent raw cuts the string libmicrohttpd hands on_uri() short, but
 * not the line: the HTTP version it found then starts elsewhere than
 * right after what on_uri() saw.
 */
static int target_whole(const struct conn *rq, const char *url,
			const char *version)
{
	if (url != rq->raw_at || !version || !*version)
		return 1;	/* nothing to compare: the check above holds */
	return version == rq->raw_at + rq->raw_len + 1;
}

/* ---- authentication ---- */

/* The user of the request's bearer token into rq->user; status 0 or 401/500. */
static int authenticate(struct srv_http *h, struct MHD_Connection *c,
			struct conn *rq)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			MHD_HTTP_HEADER_AUTHORIZATION);
	const char *tok;
	size_t len;
	int rc;

	if (!v || strncasecmp(v, "Bearer ", 7))
		return 401;
	tok = v + 7;
	while (*tok == ' ')
		tok++;
	len = strlen(tok);
	while (len && tok[len - 1] == ' ')
		len--;
	if (!len || len > 1024)
		return 401;
	rc = srv_tokens_check(h->o.tokens, tok, len, rq->user);
	if (rc < 0) {
		/* the admin's mistake, said to the admin: not to the client */
		ama_report(NULL);
		rq->user[0] = '\0';
		return 500;
	}
	if (rc == 0) {
		rq->user[0] = '\0';
		return 401;
	}
	return 0;
}

/* The framing headers of a request, counted. */
struct framing {
	unsigned lengths;	/* Content-Length */
	unsigned encodings;	/* Transfer-Encoding */
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind,
				     const char *key, const char *value)
{
	struct framing *f = cls;

	(void)kind;
	(void)value;
	if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH))
		f->lengths++;
	else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		f->encodings++;
	return MHD_YES;
}

/*
 * A body framed two ways (two Content-Lengths, or one and a
 * Transfer-Encoding) is the stuff of request smuggling: which one a
 * proxy in front believes is anyone's guess. NULL if the framing is
 * plain, else why not.
 */
static const char *framing_problem(struct MHD_Connection *c)
{
	struct framing f = { 0, 0 };

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
	if (f.lengths > 1)
		return "the request has more than one Content-Length";
	if (f.lengths && f.encodings)
		return "the request has both Content-Length and "
			"Transfer-Encoding";
	if (f.encodings > 1)
		return "the request has more than one Transfer-Encoding";
	return NULL;
}

/* Count n more body bytes against the budget: 0, or -1 when it is spent. */
static int budget_add(struct srv_http *h, struct conn *rq, uint64_t n)
{
	uint64_t w = n * h->o.body_weight;

	if (budget_take(h, w) < 0)
		return -1;
	rq->share += w;
	return 0;
}

/* The first call for a request: everything that is known before its body. */
static enum MHD_Result begin(struct srv_http *h, struct MHD_Connection *c,
			     struct conn *rq)
{
	struct ama_buf why = AMA_BUF_INIT;
	const char *cl;
	int st;

	if (rq->raw_nul || srv_target_check(&why, rq->raw, rq->raw_len) < 0) {
		enum MHD_Result ret;

		rq->bad_path = 1;
		free(rq->path);
		rq->path = ama_strdup(rq->raw);
		if (rq->raw_nul) {	/* as it came: the NUL, then the rest */
			ama_buf_addstr(&why, "the request path holds a NUL "
				       "byte");
			free(rq->path);
			rq->path = ama_malloc(rq->raw_len + 4);
			memcpy(rq->path, rq->raw, rq->raw_len);
			memcpy(rq->path + rq->raw_len, "%00", 4);
		}
		ret = send_error(h, c, rq, 400, AMA_EINVAL, ama_buf_str(&why));
		ama_buf_release(&why);
		return ret;
	}
	if (framing_problem(c))
		return send_error(h, c, rq, 400, AMA_EINVAL,
				  framing_problem(c));
	if (__atomic_load_n(&h->stopping, __ATOMIC_ACQUIRE))
		return send_error(h, c, rq, 503, AMA_ENET,
				  "the server is stopping");
	st = authenticate(h, c, rq);
	if (st == 401)
		return send_error(h, c, rq, 401, AMA_EAUTH,
				  "a valid bearer token is needed");
	if (st)
		return send_error(h, c, rq, 500, AMA_ESETUP,
				  "the server cannot read its users");
	rq->limit = h->o.limit(h->o.ctx, rq->method, rq->path);
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(cl, &end, 10);
		if (!errno && end != cl && !*end && n > rq->limit) {
			char msg[128];

			snprintf(msg, sizeof(msg), "the body is larger than "
				 "%llu bytes", (unsigned long long)rq->limit);
			return send_error(h, c, rq, 413, AMA_EINVAL, msg);
		}
		if (!errno && end != cl && !*end && n > 0) {
			if (budget_add(h, rq, n) < 0)
				return send_error(h, c, rq, 503, AMA_ENET,
					"the server is busy: too many large "
					"requests at once; try again later");
			/* the whole body, in one piece */
			rq->body.s = ama_malloc((size_t)n + 1);
			rq->body.s[0] = '\0';
			rq->body.cap = (size_t)n + 1;
			rq->prepaid = 1;
		}
	}
	return MHD_YES;
}

/*
 * Take a piece of the body, or drop it past the limit or the budget. A
 * body of a known length has its share already; a chunked one pays as it
 * comes.
 */
static void take(struct srv_http *h, struct conn *rq, const char *data,
		 size_t n)
{
	if (rq->answered || rq->too_big || rq->over_budget)
		return;
	if (rq->body.len + n > rq->limit) {
		rq->too_big = 1;
		return;
	}
	if (!rq->prepaid && budget_add(h, rq, n) < 0) {
		rq->over_budget = 1;
		return;
	}
	ama_buf_add(&rq->body, data, n);
}

static void wait_for_wake(struct srv_http *h, struct conn *rq,
			  const struct srv_response *r);

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct srv_http *h = cls;
	struct conn *rq = *con_cls;
	struct srv_request req;
	struct srv_response resp = { 0 };

	if (!rq) {	/* no on_uri(): libmicrohttpd skipped it */
		rq = on_uri(h, url, c);
		*con_cls = rq;
	}
	if (!rq->path) {
		snprintf(rq->method, sizeof(rq->method), "%s", method);
		rq->path = ama_strdup(url);
		rq->raw_nul = !target_whole(rq, url, version);
		return begin(h, c, rq);
	}
	if (*data_size) {
		take(h, rq, data, *data_size);
		*data_size = 0;	/* taken, or dropped */
		return MHD_YES;
	}
	if (rq->answered)
		return MHD_YES;
	if (rq->too_big) {
		char msg[128];

		snprintf(msg, sizeof(msg), "the body is larger than %llu bytes",
			 (unsigned long long)rq->limit);
		return send_error(h, c, rq, 413, AMA_EINVAL, msg);
	}
	if (rq->over_budget)
		return send_error(h, c, rq, 503, AMA_ENET,
				  "the server is busy: too many large "
				  "requests at once; try again later");
	memset(&req, 0, sizeof(req));
	req.method = rq->method;
	req.path = rq->path;
	req.user = rq->user;
	req.body = ama_buf_str(&rq->body);
	req.body_len = rq->body.len;
	req.conn = rq;
	req.state = &rq->state;
	req.state_free = &rq->state_free;
	req.again = rq->deferred;
	rq->deferred = 0;
	h->o.handle(h->o.ctx, &req, &resp);
	if (!resp.status && resp.defer_ms && resp.arm && !req.again) {
		wait_for_wake(h, rq, &resp);
		return MHD_YES;
	}
	if (!resp.status)
		srv_respond_error(&resp, 500, AMA_EIO, NULL, NULL,
				  "no answer");
	return send_response(h, c, rq, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct srv_http *h = cls;
	struct conn *rq = *con_cls;

	(void)c;
	(void)toe;
	if (!rq)
		return;
	if (!rq->path)	/* never reached the handler */
		rq->path = ama_strdup(rq->raw);
	log_line(rq, 0);	/* only when nothing was answered */
	if (rq->state && rq->state_free)
		rq->state_free(rq->state);
	srv_budget_release(h, rq->share);
	ama_buf_release(&rq->body);
	free(rq->path);
	free(rq->raw);
	free(rq);
	*con_cls = NULL;
	__atomic_sub_fetch(&h->busy, 1, __ATOMIC_ACQ_REL);
}

/* ---- deferred requests ---- */

static void wait_for_wake(struct srv_http *h, struct conn *rq,
			  const struct srv_response *r)
{
	struct waiter *w = ama_calloc(1, sizeof(*w));

	w->rq = rq;
	w->deadline = now_s() + r->defer_ms / 1000.0;
	rq->deferred = 1;
	/* suspended first: a wake may come as soon as it is armed */
	MHD_suspend_connection(rq->c);
	pthread_mutex_lock(&h->wait_mu);
	w->next = h->waiting;
	h->waiting = w;
	pthread_cond_signal(&h->wait_cond);
	pthread_mutex_unlock(&h->wait_mu);
	r->arm(r->arm_arg, rq);
}

/* Resume the waiter of token (NULL: every waiter whose time is up). */
static void resume(struct srv_http *h, void *token, double now)
{
	struct waiter **pp, *w;

	pthread_mutex_lock(&h->wait_mu);
	for (pp = &h->waiting; (w = *pp) != NULL;) {
		if (token ? (void *)w->rq == token : w->deadline <= now) {
			*pp = w->next;
			MHD_resume_connection(w->rq->c);
			free(w);
			if (token)
				break;
		} else {
			pp = &w->next;
		}
	}
	pthread_mutex_unlock(&h->wait_mu);
}

void srv_http_wake(struct srv_http *h, void *token)
{
	resume(h, token, 0);
}

static void *timer_main(void *arg)
{
	struct srv_http *h = arg;

	pthread_mutex_lock(&h->wait_mu);
	while (!h->timer_stop) {
		struct waiter *w;
		double next = -1, now = now_s();
		struct timespec ts;

		for (w = h->waiting; w; w = w->next)
			if (next < 0 || w->deadline < next)
				next = w->deadline;
		if (next >= 0 && next <= now) {
			pthread_mutex_unlock(&h->wait_mu);
			resume(h, NULL, now);
			pthread_mutex_lock(&h->wait_mu);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		if (next < 0) {
			ts.tv_sec += 3600;
		} else {
			double d = next - now;

			ts.tv_sec += (time_t)d;
			ts.tv_nsec += (long)((d - (double)(time_t)d) * 1e9);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
		}
		pthread_cond_timedwait(&h->wait_cond, &h->wait_mu, &ts);
	}
	pthread_mutex_unlock(&h->wait_mu);
	return NULL;
}

/* ---- libmicrohttpd's messages, each kind at most once a second ---- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct srv_http *h = cls;
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_vaddf(&b, fmt, ap);
	/*
	 * A flood: libmicrohttpd busy-waits for descriptors, each turn a
	 * message. Its thread may as well wait here.
	 */
	if (srv_loglimit_say(&h->log, fmt, ama_buf_str(&b), now_s()) >
	    SRV_LOG_FLOOD) {
		struct timespec ts = { 0, FLOOD_PAUSE_NS };

		nanosleep(&ts, NULL);
	}
	ama_buf_release(&b);
}

void srv_http_tick(struct srv_http *h)
{
	srv_loglimit_tick(&h->log, now_s());
}

/* ---- start and stop ---- */

int srv_http_start(struct srv_http **out, const struct srv_http_opts *o)
{
	struct srv_http *h = ama_calloc(1, sizeof(*h));
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
		MHD_USE_AUTO | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	const union MHD_DaemonInfo *info;

	*out = NULL;
	h->o = *o;
	if (!h->o.body_weight)
		h->o.body_weight = 1;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, o->address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)o->port);
	} else if (inet_pton(AF_INET6, o->address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)o->port);
		flags |= MHD_USE_IPv6;
	} else {
		free(h);
		return ama_error_set(AMA_ESETUP, "[listen] address: '%s' is "
				     "not a numeric IPv4 or IPv6 address",
				     o->address);
	}
	srv_loglimit_init(&h->log, 2, ama_progname());
	pthread_mutex_init(&h->wait_mu, NULL);
	pthread_cond_init(&h->wait_cond, NULL);
	if (pthread_create(&h->timer, NULL, timer_main, h) != 0) {
		srv_http_stop(h);
		return ama_error_set(AMA_ESETUP, "cannot start a thread");
	}
	h->timer_started = 1;
	json_object_seed(0);	/* before any thread makes an object */
	h->d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL,
		on_request, h,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)o->threads,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)o->idle_timeout,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)o->connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)o->per_ip,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		MHD_OPTION_END);
	if (!h->d) {
		srv_http_stop(h);
		return ama_error_set(AMA_ESETUP, "cannot listen on %s port %u",
				     o->address, o->port);
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : o->port;
	h->listen_fd = MHD_INVALID_SOCKET;
	*out = h;
	return 0;
}

unsigned srv_http_port(const struct srv_http *h)
{
	return h->port;
}

void srv_http_quiesce(struct srv_http *h)
{
	__atomic_store_n(&h->stopping, 1, __ATOMIC_RELEASE);
	h->listen_fd = MHD_quiesce_daemon(h->d);
	/*
	 * The threads may still poll it (MHD says: close it only after
	 * MHD_stop_daemon), but new connections are refused from now on.
	 */
	if (h->listen_fd != MHD_INVALID_SOCKET)
		shutdown(h->listen_fd, SHUT_RDWR);
}

unsigned srv_http_busy(struct srv_http *h)
{
	return __atomic_load_n(&h->busy, __ATOMIC_ACQUIRE);
}

void srv_http_stop(struct srv_http *h)
{
	if (!h)
		return;
	if (h->d) {
		/* libmicrohttpd must not stop with a request suspended */
		pthread_mutex_lock(&h->wait_mu);
		while (h->waiting) {
			struct waiter *w = h->waiting;

			h->waiting = w->next;
			MHD_resume_connection(w->rq->c);
			free(w);
		}
		pthread_mutex_unlock(&h->wait_mu);
		MHD_stop_daemon(h->d);
	}
	if (h->timer_started) {
		pthread_mutex_lock(&h->wait_mu);
		h->timer_stop = 1;
		pthread_cond_signal(&h->wait_cond);
		pthread_mutex_unlock(&h->wait_mu);
		pthread_join(h->timer, NULL);
	}
	if (h->listen_fd != MHD_INVALID_SOCKET && h->d)
		close(h->listen_fd);
	srv_loglimit_release(&h->log, now_s());
	pthread_mutex_destroy(&h->wait_mu);
	pthread_cond_destroy(&h->wait_cond);
	free(h);
}
