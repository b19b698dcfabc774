/* limits.c: ama-server's numbers from its configuration, and the descriptors they need. */
#include "auto-config.h"

#include <string.h>
#include <sys/resource.h>

#include "error.h"
#include "limits.h"

static int number(const struct ama_config *cfg, const char *path,
		  const char *section, const char *key, long min, long max,
		  long *v)
{
	int rc = ama_config_get_int(cfg, section, key, v);

	if (rc == 0 && (*v < min || *v > max))
		rc = ama_error_setp(AMA_ESETUP, path, "[%s] %s: %ld is not "
				    "between %ld and %ld", section, key, *v,
				    min, max);
	return rc;
}

static int loopback(const char *address)
{
	return !strncmp(address, "127.", 4) || !strcmp(address, "::1") ||
		!strcmp(address, "localhost");
}

/* Raise the soft descriptor limit to the hard one; the limit in effect. */
static unsigned long descriptors(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur != rl.rlim_max) {
		struct rlimit want = rl;

		want.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
			rl.rlim_max > (1UL << 20) ? (1UL << 20) : rl.rlim_max;
		if (want.rlim_cur > rl.rlim_cur &&
		    setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1UL << 20))
		return 1UL << 20;
	return (unsigned long)rl.rlim_cur;
}

static int load_numbers(struct srv_limits *o, const struct ama_config *cfg,
			const char *path)
{
	long port = 8417, threads = 8, idle = 120, conns = -1, per_ip = -1;
	long commits = 4, wait = 5, packs = 16, jobs = 8, keep = 10;
	const char *addr = ama_config_get(cfg, "listen", "address");
	int rc;

	o->body_limit = 1 << 20;
	o->commit_limit = 256ULL << 20;
	o->memory = 1ULL << 30;
	rc = number(cfg, path, "listen", "port", 0, 65535, &port);
	if (rc == 0)
		rc = number(cfg, path, "listen", "threads", 1, 256, &threads);
	if (rc == 0)
		rc = number(cfg, path, "listen", "idle-timeout", 1, 86400,
			    &idle);
	if (rc == 0 && ama_config_get(cfg, "listen", "connections"))
		rc = number(cfg, path, "listen", "connections", 1,
			    1L << 20, &conns);
	if (rc == 0 && ama_config_get(cfg, "listen", "per-ip-connections"))
		rc = number(cfg, path, "listen", "per-ip-connections", 0,
			    1L << 20, &per_ip);
	if (rc == 0)
		rc = number(cfg, path, "limits", "commits", 1, 256, &commits);
	if (rc == 0)
		rc = number(cfg, path, "limits", "commit-wait", 0, 3600,
			    &wait);
	if (rc == 0)
		rc = number(cfg, path, "repository", "open-packs", 1, 65536,
			    &packs);
	if (rc == 0)
		rc = number(cfg, path, "transfer", "jobs", 1, 1023, &jobs);
	if (rc == 0)
		rc = number(cfg, path, "transfer", "keep-idle", 0, 3600, &keep);
	if (rc == 0)
		rc = ama_config_get_size(cfg, "limits", "body",
					 &o->body_limit);
	if (rc == 0)
		rc = ama_config_get_size(cfg, "limits", "commit-body",
					 &o->commit_limit);
	if (rc == 0)
		rc = ama_config_get_size(cfg, "limits", "memory", &o->memory);
	if (rc < 0)
		return rc;
	o->address = addr && *addr ? addr : "127.0.0.1";
	o->port = (unsigned)port;
	o->threads = (unsigned)threads;
	o->idle_timeout = (unsigned)idle;
	o->connections = conns < 0 ? 0 : (unsigned)conns; /* 0: what is left */
	o->per_ip = per_ip < 0 ? (unsigned)-1 : (unsigned)per_ip;
	o->commits = (unsigned)commits;
	o->commit_wait_ms = (unsigned)wait * 1000;
	o->open_packs = (unsigned)packs;
	o->jobs = (int)jobs;
	o->keep_idle = (unsigned)keep;
	return 0;
}

int srv_limits_load(struct srv_limits *o, const struct ama_config *cfg,
		      const char *path)
{
	unsigned long sessions, left;
	uint64_t biggest;
	int rc;

	memset(o, 0, sizeof(*o));
	rc = load_numbers(o, cfg, path);
	if (rc < 0)
		return rc;
	biggest = o->commit_limit > o->body_limit ? o->commit_limit :
		o->body_limit;
	if (biggest > o->memory / SRV_BODY_WEIGHT)
		return ama_error_setp(AMA_ESETUP, path, "[limits] memory: "
				      "%llu bytes cannot hold one body of "
				      "the largest size (%llu bytes, counted "
				      "%d times): raise it, or lower [limits] "
				      "commit-body",
				      (unsigned long long)o->memory,
				      (unsigned long long)biggest,
				      SRV_BODY_WEIGHT);
	o->nofile = descriptors();
	sessions = o->threads + (unsigned long)o->commits * o->jobs;
	o->work_fds = SRV_FD_BASE + 2UL * o->threads + o->open_packs +
		sessions * 2UL * ((unsigned long)o->jobs + 2);
	left = o->nofile > o->work_fds ? o->nofile - o->work_fds : 0;
	if (!o->connections)
		o->connections = left > SRV_CONNECTIONS_MAX ?
			SRV_CONNECTIONS_MAX : (unsigned)left;
	if (left < SRV_CONNECTIONS_MIN || o->connections > left)
		return ama_error_setp(AMA_ESETUP, path, "%lu descriptors "
				      "(ulimit -n) are too few: the work "
				      "this configuration allows needs %lu "
				      "and leaves %lu for connections, not "
				      "%u; raise the limit, or lower [listen] "
				      "threads, [limits] commits or "
				      "[transfer] jobs", o->nofile,
				      o->work_fds, left,
				      o->connections > SRV_CONNECTIONS_MIN ?
				      o->connections : SRV_CONNECTIONS_MIN);
	/* on loopback every client has the same address */
	if (o->per_ip == (unsigned)-1)
		o->per_ip = loopback(o->address) ? 0 : o->connections > 1 ?
			o->connections / 2 : 1;
	if (o->threads > o->connections)
		o->threads = o->connections;
	return 0;
}
