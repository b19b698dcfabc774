/* http.c: the HTTP front of ama-server on libmicrohttpd's thread pool: auth, limits, the log. */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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
#include "wire.h"

struct srv_http {
	struct MHD_Daemon *d;
	struct srv_http_opts o;
	unsigned port;
	MHD_socket listen_fd;	/* after quiesce: closed when stopped */
	int stopping;		/* atomic */
	unsigned busy;		/* atomic: requests under way */
};

/* One request, from its first byte to its completion. */
struct conn {
	struct timespec start;
	char method[16];
	char *path;
	char user[SRV_USER_MAX + 1];
	uint64_t limit;
	struct ama_buf body;
	int too_big;		/* the body went past the limit */
	int answered;		/* a response is queued */
	int logged;
};

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000L +
		(now.tv_nsec - t->tv_nsec) / 1000000L;
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
		if (*p > ' ' && *p < 0x7f && *p != '%')
			ama_buf_addch(&b, *p);
		else
			ama_buf_addf(&b, "%%%02X", *p);
	}
	ama_buf_addf(&b, " %03d %s %ld\n", status,
		     rq->user[0] ? rq->user : "-", ms_since(&rq->start));
	if (write(2, b.s, b.len) < 0) {
		/* nowhere to say it */
	}
	ama_buf_release(&b);
}

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
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
					   name);
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
	return send_response(h, c, rq, &r);
}

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
		fprintf(stderr, "ama-server: %s%s%s\n",
			ama_error_path() ? ama_error_path() : "",
			ama_error_path() ? ": " : "", ama_error_msg());
		rq->user[0] = '\0';
		return 500;
	}
	if (rc == 0) {
		rq->user[0] = '\0';
		return 401;
	}
	return 0;
}

/* The first call for a request: everything that is known before its body. */
static enum MHD_Result begin(struct srv_http *h, struct MHD_Connection *c,
			     struct conn *rq)
{
	const char *cl;
	int st;

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
	}
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct srv_http *h = cls;
	struct conn *rq = *con_cls;
	struct srv_request req;
	struct srv_response resp = { 0 };

	(void)version;
	if (!rq) {
		rq = ama_calloc(1, sizeof(*rq));
		clock_gettime(CLOCK_MONOTONIC, &rq->start);
		snprintf(rq->method, sizeof(rq->method), "%s", method);
		rq->path = ama_strdup(url);
		*con_cls = rq;
		__atomic_add_fetch(&h->busy, 1, __ATOMIC_ACQ_REL);
		return begin(h, c, rq);
	}
	if (*data_size) {
		if (!rq->answered && !rq->too_big) {
			if (rq->body.len + *data_size > rq->limit)
				rq->too_big = 1;
			else
				ama_buf_add(&rq->body, data, *data_size);
		}
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
	req.method = rq->method;
	req.path = rq->path;
	req.user = rq->user;
	req.body = ama_buf_str(&rq->body);
	req.body_len = rq->body.len;
	req.conn = c;
	h->o.handle(h->o.ctx, &req, &resp);
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
	log_line(rq, 0);	/* only when nothing was answered */
	ama_buf_release(&rq->body);
	free(rq->path);
	free(rq);
	*con_cls = NULL;
	__atomic_sub_fetch(&h->busy, 1, __ATOMIC_ACQ_REL);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct ama_buf b = AMA_BUF_INIT;

	(void)cls;
	ama_buf_addstr(&b, "ama-server: ");
	ama_buf_vaddf(&b, fmt, ap);
	if (b.len && b.s[b.len - 1] != '\n')
		ama_buf_addch(&b, '\n');
	if (write(2, b.s, b.len) < 0) {
		/* nowhere to say it */
	}
	ama_buf_release(&b);
}

int srv_http_start(struct srv_http **out, const struct srv_http_opts *o)
{
	struct srv_http *h = ama_calloc(1, sizeof(*h));
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
		MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;

	*out = NULL;
	h->o = *o;
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
	json_object_seed(0);	/* before any thread makes an object */
	h->d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL,
		on_request, h,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)o->threads,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)o->idle_timeout,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		MHD_OPTION_END);
	if (!h->d) {
		free(h);
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
	MHD_stop_daemon(h->d);
	if (h->listen_fd != MHD_INVALID_SOCKET)
		close(h->listen_fd);
	free(h);
}
