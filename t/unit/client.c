/* t/unit/client.c: lib/client.h over HTTP against a scripted server, and in-process. */
#include "auto-config.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "config.h"
#include "error.h"
#include "lockfile.h"

/*
 * The fake server answers each connection's one request with the next
 * scripted answer and closes it; it keeps what it was sent.
 */
#define MAXREQ 8

struct answer {
	int status;
	const char *body;
};

struct fake {
	int fd;
	unsigned port;
	pthread_t thread;
	const struct answer *script;
	int n;			/* scripted answers */
	int got;		/* requests served */
	char *request[MAXREQ];	/* head and body as received */
};

static struct fake srv;
static char dir[] = "/tmp/ama-client-test-XXXXXX";
static char token_file[64];

static size_t content_length(const char *head)
{
	const char *p = strcasestr(head, "\r\nContent-Length:");

	return p ? strtoul(p + 17, NULL, 10) : 0;
}

static void *serve(void *arg)
{
	struct fake *f = arg;

	while (f->got < f->n) {
		struct ama_buf in = AMA_BUF_INIT, out = AMA_BUF_INIT;
		const struct answer *a = &f->script[f->got];
		int c = accept(f->fd, NULL, NULL);
		char *end = NULL;
		size_t want = 0;

		if (c < 0)
			break;
		for (;;) {
			char buf[4096];
			ssize_t n;

			if (end && in.len >= (size_t)(end - in.s) + 4 + want)
				break;
			n = read(c, buf, sizeof(buf));
			if (n <= 0)
				break;
			ama_buf_add(&in, buf, (size_t)n);
			if (!end && (end = strstr(in.s, "\r\n\r\n"))) {
				want = content_length(in.s);
				if (strcasestr(in.s, "\r\nExpect: 100-continue"))
					if (write(c, "HTTP/1.1 100 Continue\r\n\r\n",
						  25) < 0)
						break;
			}
		}
		ama_buf_addf(&out, "HTTP/1.1 %d X\r\nContent-Type: "
			     "application/json\r\nContent-Length: %zu\r\n"
			     "Connection: close\r\n\r\n%s", a->status,
			     strlen(a->body), a->body);
		if (write(c, out.s, out.len) < 0)
			cr_log_warn("fake server: write failed");
		close(c);
		f->request[f->got++] = ama_buf_detach(&in);
		ama_buf_release(&out);
	}
	return NULL;
}

static void fake_start(const struct answer *script, int n)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(&srv, 0, sizeof(srv));
	srv.script = script;
	srv.n = n;
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(srv.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(srv.fd, 16), 0);
	getsockname(srv.fd, (struct sockaddr *)&a, &len);
	srv.port = ntohs(a.sin_port);
	pthread_create(&srv.thread, NULL, serve, &srv);
}

/* Wait for the script to end (every answer given); teardown frees it. */
static void fake_stop(void)
{
	shutdown(srv.fd, SHUT_RDWR);
	pthread_join(srv.thread, NULL);
	close(srv.fd);
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(token_file, sizeof(token_file), "%s/token", dir);
	cr_assert_eq(ama_write_file_atomic(token_file, "ama_secret\n", 11,
					   0600), 0);
}

static void teardown(void)
{
	char cmd[128];
	int i;

	for (i = 0; i < srv.got; i++)
		free(srv.request[i]);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		cr_log_warn("cannot remove %s", dir);
}

/* A config for the fake server: [server] url, token-file, retries 3. */
static struct ama_config *http_config(unsigned port)
{
	struct ama_config *cfg;
	char url[64];

	cr_assert_eq(ama_config_load_file(&cfg, "/nonexistent/ama"), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
	ama_config_put(cfg, "server", "url", url);
	ama_config_put(cfg, "server", "token-file", token_file);
	ama_config_put(cfg, "server", "retries", "3");
	return cfg;
}

static struct ama_client *http_client(unsigned port)
{
	struct ama_config *cfg = http_config(port);
	struct ama_client *c;

	cr_assert_eq(ama_client_open(&c, cfg), 0, "%s", ama_error_msg());
	ama_config_free(cfg);
	cr_assert_not(ama_client_is_local(c));
	return c;
}

static const char class_json[] =
	"{\"name\":\"imaging\",\"class_id\":"
	"\"0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\",\"top_hash\":"
	"\"0123456789abcdef0123456789abcdef\",\"created\":1718000000,"
	"\"staging\":\"s3://s/pre\",\"remote\":\"s3://r\",\"s3\":"
	"{\"endpoint\":\"http://127.0.0.1:9000\",\"region\":null,"
	"\"addressing\":\"path\"}}";

TestSuite(http, .init = setup, .fini = teardown, .timeout = 30);

Test(http, a_url_that_is_neither_local_nor_http_is_refused)
{
	struct ama_config *cfg = http_config(1);
	struct ama_client *c;

	ama_config_put(cfg, "server", "url", "ftp://x");
	cr_assert_eq(ama_client_open(&c, cfg), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "[server] url: 'ftp://x' is "
			 "neither 'local' nor an http:// or https:// URL");
	ama_config_free(cfg);
}

Test(http, a_token_file_others_may_read_is_refused)
{
	struct ama_config *cfg = http_config(1);
	struct ama_client *c;

	cr_assert_eq(chmod(token_file, 0640), 0);
	cr_assert_eq(ama_client_open(&c, cfg), AMA_ESETUP);
	cr_assert_str_eq(ama_error_path(), token_file);
	cr_assert_str_eq(ama_error_msg(), "the token file may be read by "
			 "group or others: make it private with chmod 600");
	ama_config_free(cfg);
}

Test(http, a_missing_token_file_says_what_to_do)
{
	struct ama_config *cfg = http_config(1);
	struct ama_client *c;

	unlink(token_file);
	cr_assert_eq(ama_client_open(&c, cfg), AMA_ESETUP);
	cr_assert_str_eq(ama_error_path(), token_file);
	cr_assert(strstr(ama_error_msg(), "ama-server token add USER"));
	ama_config_free(cfg);
}

Test(http, the_class_comes_with_its_buckets_and_the_token_is_sent)
{
	static const struct answer script[] = { { 200, class_json } };
	struct ama_client_class k;
	struct ama_client *c;

	fake_start(script, 1);
	c = http_client(srv.port);
	cr_assert_eq(ama_client_class(c, "imaging", 1, &k), 0, "%s",
		     ama_error_msg());
	fake_stop();
	cr_assert(!strncmp(srv.request[0], "POST /v1/classes HTTP/1.1\r\n",
			   27));
	cr_assert(strstr(srv.request[0],
			 "\r\nAuthorization: Bearer ama_secret\r\n"));
	cr_assert(strstr(srv.request[0], "\r\n\r\n{\"name\":\"imaging\"}"));
	cr_assert_str_eq(k.info.top_hash, "0123456789abcdef0123456789abcdef");
	cr_assert_str_eq(k.staging, "s3://s/pre");
	cr_assert_str_eq(k.remote, "s3://r");
	cr_assert_str_eq(k.s3_endpoint, "http://127.0.0.1:9000");
	cr_assert_null(k.s3_region);
	cr_assert_str_eq(k.s3_addressing, "path");
	ama_client_class_release(&k);
	ama_client_close(c);
}

Test(http, a_refused_token_is_an_auth_error_without_the_token)
{
	static const struct answer script[] = {
		{ 401, "{\"error\":\"a valid bearer token is needed\"}" },
	};
	struct ama_client_class k;
	struct ama_client *c;
	char want[256];

	fake_start(script, 1);
	c = http_client(srv.port);
	cr_assert_eq(ama_client_class(c, "imaging", 0, &k), AMA_EAUTH);
	fake_stop();
	snprintf(want, sizeof(want), "the server refused the token "
		 "(http://127.0.0.1:%u, token from %s)", srv.port, token_file);
	cr_assert_str_eq(ama_error_msg(), want);
	cr_assert_eq(srv.got, 1);
	cr_assert(!strncmp(srv.request[0],
			   "GET /v1/classes/imaging HTTP/1.1\r\n", 34));
	ama_client_close(c);
}

Test(http, reads_are_retried_after_5xx)
{
	static const struct answer script[] = {
		{ 503, "{\"error\":\"busy\"}" },
		{ 500, "{\"error\":\"busy\"}" },
		{ 200, "{\"classes\":[]}" },
	};
	struct ama_client *c;

	fake_start(script, 3);
	c = http_client(srv.port);
	cr_assert_eq(ama_client_classes(c, NULL, NULL), 0, "%s",
		     ama_error_msg());
	fake_stop();
	cr_assert_eq(srv.got, 3);
	ama_client_close(c);
}

Test(http, retries_end_with_the_server_s_error)
{
	static const struct answer script[] = {
		{ 503, "{\"error\":\"no\"}" },
		{ 503, "{\"error\":\"no\"}" },
		{ 503, "{\"error\":\"the store is down\",\"code\":\"net\"}" },
	};
	struct ama_client *c;

	fake_start(script, 3);
	c = http_client(srv.port);
	cr_assert_eq(ama_client_classes(c, NULL, NULL), AMA_ENET);
	fake_stop();
	cr_assert_str_eq(ama_error_msg(), "the store is down");
	cr_assert_eq(srv.got, 3);
	ama_client_close(c);
}

Test(http, an_asset_is_not_created_twice_by_a_retry)
{
	static const struct answer script[] = {
		{ 500, "{\"error\":\"the repository failed\",\"code\":\"io\"}" },
	};
	struct ama_client *c;
	uint64_t seq = 0;

	fake_start(script, 1);
	c = http_client(srv.port);
	cr_assert_eq(ama_client_asset_create(c, "imaging", NULL, &seq), AMA_EIO);
	fake_stop();
	cr_assert_str_eq(ama_error_msg(), "the repository failed");
	cr_assert_eq(srv.got, 1);
	ama_client_close(c);
}

Test(http, no_server_is_a_setup_error_naming_the_url)
{
	struct ama_config *cfg;
	struct ama_client *c;
	struct ama_client_class k;
	char want[128];
	unsigned port;

	fake_start(NULL, 0);	/* a free port: taken, then let go */
	port = srv.port;
	fake_stop();
	cfg = http_config(port);
	ama_config_put(cfg, "server", "retries", "2");
	cr_assert_eq(ama_client_open(&c, cfg), 0);
	cr_assert_eq(ama_client_class(c, "imaging", 1, &k), AMA_ESETUP);
	snprintf(want, sizeof(want), "cannot connect to http://127.0.0.1:%u: "
		 "Connection refused", port);
	cr_assert_str_eq(ama_error_msg(), want);
	ama_client_close(c);
	ama_config_free(cfg);
}

Test(http, a_commit_sends_its_objects_and_reads_its_version)
{
	static const struct answer script[] = {
		{ 201, "{\"version\":\"0.0.3\",\"created\":true,\"nothing\":false,"
		  "\"commit_id\":\"" "0123456789abcdef0123456789abcdef"
		  "0123456789abcdef0123456789abcdef" "\"}" },
	};
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result r;
	struct ama_client *c;
	struct ama_md5 m;

	ama_md5_from_hex(&m, "d41d8cd98f00b204e9800998ecf8427e");
	ama_objlist_add(&l, &m, 0, "l\351\tt", 4);
	memset(&rq, 0, sizeof(rq));
	rq.class = "imaging";
	rq.seq = 7;
	rq.has_parent = 1;
	rq.parent.z = 2;
	rq.message = "m";
	rq.objects = &l;
	fake_start(script, 1);
	c = http_client(srv.port);
	cr_assert_eq(ama_client_commit(c, &rq, &r), 0, "%s", ama_error_msg());
	fake_stop();
	cr_assert(!strncmp(srv.request[0], "POST /v1/classes/imaging/assets/7/"
			   "commits HTTP/1.1\r\n", 45));
	cr_assert(strstr(srv.request[0], "\r\n\r\n{\"parent\":\"0.0.2\","
			 "\"message\":\"m\",\"objects\":\"d41d8cd98f00b204e98"
			 "00998ecf8427e 0\\t\\\"l\\\\351\\\\tt\\\"\\n\"}"),
		  "%s", srv.request[0]);
	cr_assert_eq(r.version.z, 3);
	cr_assert(r.created);
	cr_assert_not(r.nothing);
	cr_assert_eq(r.problems.len, 0);
	ama_commit_result_release(&r);
	ama_objlist_release(&l);
	ama_client_close(c);
}

Test(http, a_refused_commit_brings_back_its_problems)
{
	static const struct answer script[] = {
		{ 422, "{\"error\":\"refused\",\"code\":\"remote\",\"problems\":"
		  "[{\"reason\":\"missing\",\"path\":\"a\"},{\"reason\":"
		  "\"checksum\",\"path\":\"\\\"l\\\\351\\\\tt\\\"\"}]}" },
	};
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result r;
	struct ama_client *c;

	memset(&rq, 0, sizeof(rq));
	rq.class = "imaging";
	rq.seq = 1;
	rq.objects = &l;
	fake_start(script, 1);
	c = http_client(srv.port);
	cr_assert_eq(ama_client_commit(c, &rq, &r), AMA_EREMOTE);
	fake_stop();
	cr_assert_str_eq(ama_error_msg(), "refused");
	cr_assert_str_eq(r.problems.s, "missing\ta\nchecksum\t\"l\351\\tt\"\n");
	cr_assert_eq(srv.got, 1);
	ama_commit_result_release(&r);
	ama_client_close(c);
}

static int count_versions(const struct ama_meta_version *v, void *ctx)
{
	int *n = ctx;

	cr_assert_str_eq(v->author, "alice");
	return ++*n == 1 ? 0 : 42;
}

Test(http, versions_come_newest_first_and_the_callback_may_stop)
{
	static const char v[] =
		"{\"version\":\"0.0.%d\",\"parent\":null,\"class\":\"imaging\","
		"\"seq\":1,\"author\":\"alice\",\"time\":1,\"message\":\"\","
		"\"commit_id\":\"0123456789abcdef0123456789abcdef0123456789abcd"
		"ef0123456789abcdef\",\"oid\":\"0123456789012345678901234567890"
		"123456789\"}";
	static char body[2048];
	static struct answer script[] = { { 200, body } };
	struct ama_client *c;
	char a[512], b[512];
	int n = 0;

	snprintf(a, sizeof(a), v, 2);
	snprintf(b, sizeof(b), v, 1);
	snprintf(body, sizeof(body), "{\"versions\":[%s,%s]}", a, b);
	fake_start(script, 1);
	c = http_client(srv.port);
	cr_assert_eq(ama_client_versions(c, "imaging", 1, 5, count_versions,
					 &n), 42);
	fake_stop();
	cr_assert_eq(n, 2);
	cr_assert(!strncmp(srv.request[0], "GET /v1/classes/imaging/assets/1/"
			   "versions?max=5 HTTP/1.1\r\n", 48));
	ama_client_close(c);
}

Test(http, a_manifest_is_text_and_a_missing_one_keeps_its_subject)
{
	static const struct answer script[] = {
		{ 200, "version 0.0.0\n" },
		{ 404, "{\"error\":\"no such version\",\"code\":\"notfound\","
		  "\"subject\":\"imaging/1\"}" },
	};
	struct ama_buf text = AMA_BUF_INIT;
	struct ama_version v = { 0, 0, 0 };
	struct ama_client *c;

	fake_start(script, 2);
	c = http_client(srv.port);
	cr_assert_eq(ama_client_manifest(c, "imaging", 1, &v, &text), 0);
	cr_assert_str_eq(text.s, "version 0.0.0\n");
	v.z = 9;
	cr_assert_eq(ama_client_manifest(c, "imaging", 1, &v, &text),
		     AMA_ENOTFOUND);
	fake_stop();
	cr_assert_str_eq(ama_error_msg(), "no such version");
	cr_assert_str_eq(ama_error_path(), "imaging/1");
	cr_assert(strstr(srv.request[1], "/versions/0.0.9/manifest "));
	ama_buf_release(&text);
	ama_client_close(c);
}

Test(http, an_answer_that_is_not_json_is_a_remote_error)
{
	static const struct answer script[] = { { 200, "<html>" } };
	struct ama_client *c;
	uint64_t seq;

	fake_start(script, 1);
	c = http_client(srv.port);
	cr_assert_eq(ama_client_asset_create(c, "imaging", NULL, &seq), AMA_EREMOTE);
	fake_stop();
	cr_assert(!strncmp(ama_error_msg(), "bad answer from http://", 23),
		  "%s", ama_error_msg());
	ama_client_close(c);
}

Test(http, a_bad_class_name_is_refused_before_sending)
{
	struct ama_client *c = http_client(1);
	uint64_t seq;

	cr_assert_eq(ama_client_asset_create(c, "a/b", NULL, &seq), AMA_EINVAL);
	ama_client_close(c);
}

Test(record, the_class_goes_under_class_and_unset_keys_go)
{
	struct ama_client_class k;
	struct ama_config *cfg;

	cr_assert_eq(ama_config_load_file(&cfg, "/nonexistent/ama"), 0);
	ama_config_put(cfg, "class", "s3-region", "old");
	memset(&k, 0, sizeof(k));
	strcpy(k.info.top_hash, "0123456789abcdef0123456789abcdef");
	k.staging = "file:///s";
	k.remote = "file:///r";
	ama_client_class_record(cfg, &k);
	cr_assert_str_eq(ama_config_get(cfg, "class", "top-hash"),
			 "0123456789abcdef0123456789abcdef");
	cr_assert_str_eq(ama_config_get(cfg, "class", "staging"), "file:///s");
	cr_assert_str_eq(ama_config_get(cfg, "class", "remote"), "file:///r");
	cr_assert_null(ama_config_get(cfg, "class", "s3-region"));
	cr_assert_null(ama_config_get(cfg, "class", "s3-endpoint"));
	ama_config_free(cfg);
}

TestSuite(local, .init = setup, .fini = teardown, .timeout = 60);

Test(local, the_embedded_default_makes_its_folders_and_publishes)
{
	struct ama_config *cfg;
	struct ama_client *c;
	struct ama_client_class k;
	struct ama_buf data = AMA_BUF_INIT, p = AMA_BUF_INIT;
	struct stat st;
	uint64_t seq = 0;

	ama_buf_addf(&data, "%s/data", dir);
	setenv("XDG_DATA_HOME", data.s, 1);
	cr_assert_eq(ama_config_load_file(&cfg, "/nonexistent/ama"), 0);
	cr_assert_eq(ama_client_open(&c, cfg), 0, "%s", ama_error_msg());
	cr_assert(ama_client_is_local(c));
	ama_buf_addf(&p, "%s/ama/staging", data.s);
	cr_assert_eq(stat(p.s, &st), 0);
	cr_assert_eq(ama_client_class(c, "imaging", 1, &k), 0, "%s",
		     ama_error_msg());
	ama_buf_reset(&p);
	ama_buf_addf(&p, "file://%s/ama/staging", data.s);
	cr_assert_str_eq(k.staging, p.s);
	cr_assert_null(k.s3_endpoint);
	cr_assert_eq(ama_client_asset_create(c, "imaging", NULL, &seq), 0);
	cr_assert_eq(seq, 1);
	ama_buf_reset(&p);
	ama_buf_addf(&p, "%s/ama/meta.git", data.s);
	cr_assert_eq(stat(p.s, &st), 0);
	ama_client_class_release(&k);
	ama_client_close(c);
	ama_config_free(cfg);
	ama_buf_release(&data);
	ama_buf_release(&p);
}
