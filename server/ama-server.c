/* ama-server: the trusted side: publishing behind HTTP (JSON, bearer tokens), and its token commands. */
#include "auto-config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api.h"
#include "buf.h"
#include "config.h"
#include "error.h"
#include "http.h"
#include "lockfile.h"
#include "prog.h"
#include "meta.h"
#include "publish.h"
#include "limits.h"
#include "tokens.h"

static const char usage_str[] =
	"ama-server [--config <file>] [--port-file <file>]\n"
	"       ama-server [--config <file>] token add <user>\n"
	"       ama-server [--config <file>] token list\n"
	"       ama-server [--config <file>] token revoke <user>";

struct server {
	struct ama_common c;
	const char *config_path;
	const char *port_file;
	struct ama_config *cfg;
	struct srv_tokens *tokens;
	struct srv_limits set;
	struct srv_api api;
	struct srv_http *http;
};

/* Report the last error and return the exit status for it: 1 or 2. */
static int report(int code_for_1)
{
	int code = ama_error_code();

	ama_report(NULL);
	return code == code_for_1 ? 1 : 2;
}

static int load_config(struct server *s)
{
	const char *path = s->config_path;
	struct stat st;

	if (!path || !*path)
		path = getenv("AMA_SERVER_CONFIG");
	if (!path || !*path)
		return ama_error_set(AMA_ESETUP, "no configuration: give "
				     "--config FILE or set AMA_SERVER_CONFIG");
	if (stat(path, &st) < 0)
		return ama_error_setp_errno(AMA_ESETUP, path,
					    "cannot read the configuration");
	s->config_path = path;
	return ama_config_load_file(&s->cfg, path);
}

/* A key the server cannot do without. */
static const char *need(struct server *s, const char *section,
			const char *key)
{
	const char *v = ama_config_get(s->cfg, section, key);

	if (!v || !*v) {
		ama_error_setp(AMA_ESETUP, s->config_path, "[%s] %s is not set",
			       section, key);
		return NULL;
	}
	return v;
}

static int token_cmd(struct server *s, int argc, char **argv)
{
	const char *path = need(s, "auth", "tokens");
	struct ama_buf out = AMA_BUF_INIT;
	char token[SRV_TOKEN_LEN + 1];
	int rc;

	if (!path)
		return report(0);
	if (argc == 2 && !strcmp(argv[1], "list")) {
		if (srv_tokens_list(path, &out) < 0)
			return report(0);
		ama_writer_raw(&s->c.out, ama_buf_str(&out), out.len);
		ama_buf_release(&out);
		return ama_finish(&s->c, 0);
	}
	if (argc == 3 && !strcmp(argv[1], "add")) {
		rc = srv_tokens_add(path, argv[2], token);
		if (rc == AMA_EINVAL)
			return ama_usage_error(&s->c, "%s: %s", argv[2],
					       ama_error_msg());
		if (rc < 0)
			return report(AMA_EEXIST);
		ama_writer_raw(&s->c.out, token, SRV_TOKEN_LEN);
		ama_writer_raw(&s->c.out, "\n", 1);
		explicit_bzero(token, sizeof(token));
		rc = ama_finish(&s->c, 0);
		ama_msg("the token of %s is shown once: keep it in the user's "
			"~/.config/ama/token, mode 0600", argv[2]);
		return rc;
	}
	if (argc == 3 && !strcmp(argv[1], "revoke")) {
		rc = srv_tokens_revoke(path, argv[2]);
		if (rc == AMA_EINVAL)
			return ama_usage_error(&s->c, "%s: %s", argv[2],
					       ama_error_msg());
		if (rc < 0)
			return report(AMA_ENOTFOUND);
		return ama_finish(&s->c, 0);
	}
	return ama_usage_error(&s->c, "token wants add <user>, list or "
			       "revoke <user>");
}

static char *dup_or_null(const char *v)
{
	return v && *v ? ama_strdup(v) : NULL;
}

/* The publisher and what the API says of where content lives. */
static int open_publisher(struct server *s)
{
	struct ama_publish_opts o;
	const char *remote = need(s, "store", "remote");
	const char *staging = remote ? need(s, "store", "staging") : NULL;
	const char *repo = staging ? need(s, "repository", "path") : NULL;
	int rc;

	if (!repo)
		return AMA_ESETUP;
	/* file:// folders are made by the publisher when missing */
	ama_meta_set_open_packs(s->set.open_packs);
	memset(&o, 0, sizeof(o));
	o.remote_url = remote;
	o.staging_url = staging;
	o.cfg = s->cfg;
	o.repo_path = repo;
	o.jobs = s->set.jobs;
	rc = ama_publish_open(&s->api.pub, &o);
	if (rc < 0)
		return rc;
	s->api.where.remote = ama_strdup(remote);
	s->api.where.staging = ama_strdup(staging);
	if (!strncmp(remote, "s3://", 5) || !strncmp(staging, "s3://", 5)) {
		s->api.where.s3_endpoint =
			dup_or_null(ama_config_get(s->cfg, "s3", "endpoint"));
		s->api.where.s3_region =
			dup_or_null(ama_config_get(s->cfg, "s3", "region"));
		s->api.where.s3_addressing =
			dup_or_null(ama_config_get(s->cfg, "s3", "addressing"));
	}
	return 0;
}

static int start(struct server *s)
{
	struct srv_http_opts o;
	const char *tokens = need(s, "auth", "tokens");
	int rc;

	if (!tokens)
		return AMA_ESETUP;
	rc = srv_limits_load(&s->set, s->cfg, s->config_path);
	if (rc < 0)
		return rc;
	s->api.body_limit = s->set.body_limit;
	s->api.commit_limit = s->set.commit_limit;
	s->api.commit_wait_ms = s->set.commit_wait_ms;
	rc = srv_tokens_open(&s->tokens, tokens);
	if (rc == AMA_ENOTFOUND)
		return ama_error_setp(AMA_ESETUP, tokens, "no tokens file: add "
				      "a user first with 'ama-server token "
				      "add USER'");
	if (rc == 0)
		rc = open_publisher(s);
	if (rc == 0)
		rc = srv_jobs_start(&s->api.jobs, s->set.commits,
				    srv_api_run_commit, &s->api);
	if (rc < 0)
		return rc;
	memset(&o, 0, sizeof(o));
	o.address = s->set.address;
	o.port = s->set.port;
	o.threads = s->set.threads;
	o.idle_timeout = s->set.idle_timeout;
	o.connections = s->set.connections;
	o.per_ip = s->set.per_ip;
	o.budget = s->set.memory;
	o.body_weight = SRV_BODY_WEIGHT;
	o.tokens = s->tokens;
	o.handle = srv_api_handle;
	o.limit = srv_api_limit;
	o.ctx = &s->api;
	rc = srv_http_start(&s->http, &o);
	if (rc < 0)
		return rc;
	if (s->port_file) {
		char line[16];
		int n = snprintf(line, sizeof(line), "%u\n",
				 srv_http_port(s->http));

		rc = ama_write_file_atomic(s->port_file, line, (size_t)n,
					   0644);
		if (rc < 0)
			return rc;
	}
	ama_msg(strchr(o.address, ':') ? "listening on http://[%s]:%u" :
		"listening on http://%s:%u", o.address,
		srv_http_port(s->http));
	return 0;
}

/* Requests under way, and commits running (their clients may poll later). */
static unsigned under_way(struct server *s)
{
	return srv_http_busy(s->http) + srv_jobs_busy(s->api.jobs);
}

/* Once a second: the log's held lines, store handles left idle. */
static void tick(struct server *s)
{
	srv_http_tick(s->http);
	ama_publish_trim(s->api.pub, s->set.keep_idle);
}

/*
 * Wait for SIGTERM or SIGINT, then stop: no new connections, the
 * requests and commits under way finish, exit 0. A second signal stops at
 * once.
 */
static int serve(struct server *s, const sigset_t *sigs)
{
	struct timespec second = { 1, 0 }, tick_ = { 0, 50 * 1000000L };
	siginfo_t si;
	int sig;

	while ((sig = sigtimedwait(sigs, &si, &second)) < 0)
		tick(s);
	ama_msg("%s: stopping; %u requests under way",
		sig == SIGTERM ? "SIGTERM" : "SIGINT",
		srv_http_busy(s->http));
	srv_http_quiesce(s->http);
	while (under_way(s) > 0) {
		if (sigtimedwait(sigs, &si, &tick_) > 0) {
			ama_msg("stopped with %u requests under way",
				under_way(s));
			return 1;
		}
	}
	return 0;
}

static void release(struct server *s)
{
	/*
	 * A commit still running (a second signal) keeps the front, the
	 * jobs and the publisher it uses: the process's exit ends them all.
	 */
	if (!s->api.jobs || srv_jobs_busy(s->api.jobs) == 0) {
		srv_http_stop(s->http);
		srv_jobs_stop(s->api.jobs, 1);
		if (s->api.pub)
			ama_publish_close(s->api.pub);
	}
	ama_client_class_release(&s->api.where);
	srv_tokens_close(s->tokens);
	ama_config_free(s->cfg);
}

int main(int argc, char **argv)
{
	struct server s;
	struct ama_option opts[] = {
		AMA_OPT_STRING(0, "config", &s.config_path),
		AMA_OPT_STRING(0, "port-file", &s.port_file),
		AMA_OPT_END,
	};
	sigset_t sigs;
	int status;

	/* before any thread starts: every thread inherits the mask */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&s, 0, sizeof(s));
	ama_setprogname("ama-server");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_IN_ORDER, &s.c,
			      usage_str) < 0)
		return 2;
	if (argc > 0 && strcmp(argv[0], "token"))
		return ama_usage_error(&s.c, "unknown command '%s'", argv[0]);
	if (argc > 0 && s.port_file)
		return ama_usage_error(&s.c, "--port-file is for serving");
	if (load_config(&s) < 0) {
		ama_report(NULL);
		return 2;
	}
	if (argc > 0) {
		status = token_cmd(&s, argc, argv);
		ama_config_free(s.cfg);
		return status;
	}
	if (start(&s) < 0) {
		ama_report(NULL);
		release(&s);
		return 2;
	}
	status = serve(&s, &sigs);
	release(&s);
	return ama_finish(&s.c, status);
}
