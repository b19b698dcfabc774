/* t/unit/srv_limits.c: ama-server's numbers and the descriptors they need (server/limits.c). */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "error.h"
#include "limits.h"
#include "tmpdir.h"

TestSuite(limits, .init = make_dir, .fini = remove_dir);

/* Load the settings of a configuration file holding text. */
static int load(struct srv_limits *s, const char *text)
{
	char path[128];
	struct ama_config *cfg;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/server.conf", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(ama_config_load_file(&cfg, path), 0, "%s",
		     ama_error_msg());
	rc = srv_limits_load(s, cfg, "server.conf");
	ama_config_free(cfg);
	return rc;
}

static void limit_descriptors(rlim_t n)
{
	struct rlimit rl = { n, n };

	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

Test(limits, the_defaults_and_the_work_they_allow)
{
	struct srv_limits s;

	limit_descriptors(20000);
	cr_assert_eq(load(&s, "[listen]\nport = 0\n"), 0, "%s",
		     ama_error_msg());
	cr_assert_str_eq(s.address, "127.0.0.1");
	cr_assert_eq(s.threads, 8);
	cr_assert_eq(s.commits, 4);
	cr_assert_eq(s.jobs, 8);
	cr_assert_eq(s.open_packs, 16);
	cr_assert_eq(s.commit_wait_ms, 5000);
	cr_assert_eq(s.keep_idle, 10);
	cr_assert_eq(s.commit_limit, 256ULL << 20);
	cr_assert_eq(s.memory, 1ULL << 30);
	/* 16 + 2 x 8 + 16 + (8 + 4 x 8) x 2 x (8 + 2) */
	cr_assert_eq(s.work_fds, 848);
	cr_assert_eq(s.nofile, 20000);
	cr_assert_eq(s.connections, SRV_CONNECTIONS_MAX);
	cr_assert_eq(s.per_ip, 0, "loopback: every client has one address");
}

Test(limits, connections_get_what_the_work_leaves)
{
	struct srv_limits s;

	limit_descriptors(1000);
	cr_assert_eq(load(&s, "[listen]\naddress = 10.1.2.3\n"), 0);
	cr_assert_eq(s.connections, 1000 - 848);
	cr_assert_eq(s.per_ip, (1000 - 848) / 2);
	cr_assert_eq(load(&s, "[listen]\nconnections = 100\n"
			  "per-ip-connections = 7\n"), 0);
	cr_assert_eq(s.connections, 100);
	cr_assert_eq(s.per_ip, 7);
}

Test(limits, a_limit_too_small_for_the_work_is_refused)
{
	struct srv_limits s;

	limit_descriptors(256);
	cr_assert_eq(load(&s, "[listen]\nport = 0\n"), AMA_ESETUP);
	cr_assert_str_eq(ama_error_path(), "server.conf");
	cr_assert_str_eq(ama_error_msg(), "256 descriptors (ulimit -n) are "
		"too few: the work this configuration allows needs 848 and "
		"leaves 0 for connections, not 4; raise the limit, or lower "
		"[listen] threads, [limits] commits or [transfer] jobs");
	/* 16 + 2 x 2 + 4 + (2 + 1 x 1) x 2 x 3 = 42: 214 left */
	cr_assert_eq(load(&s, "[listen]\nthreads = 2\n[limits]\ncommits = 1\n"
			  "[transfer]\njobs = 1\n[repository]\n"
			  "open-packs = 4\n"), 0, "%s", ama_error_msg());
	cr_assert_eq(s.work_fds, 42);
	cr_assert_eq(s.connections, 214);
	cr_assert_eq(load(&s, "[listen]\nthreads = 2\nconnections = 215\n"
			  "[limits]\ncommits = 1\n[transfer]\njobs = 1\n"
			  "[repository]\nopen-packs = 4\n"), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "256 descriptors (ulimit -n) are "
		"too few: the work this configuration allows needs 42 and "
		"leaves 214 for connections, not 215; raise the limit, or "
		"lower [listen] threads, [limits] commits or [transfer] jobs");
}

Test(limits, the_largest_body_must_fit_the_memory_three_times)
{
	struct srv_limits s;

	limit_descriptors(20000);
	cr_assert_eq(load(&s, "[limits]\nmemory = 767MiB\n"), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "[limits] memory: 804257792 bytes "
		"cannot hold one body of the largest size (268435456 bytes, "
		"counted 3 times): raise it, or lower [limits] commit-body");
	cr_assert_eq(load(&s, "[limits]\nmemory = 768MiB\n"), 0);
}

Test(limits, numbers_out_of_range_are_named)
{
	struct srv_limits s;

	limit_descriptors(20000);
	cr_assert_eq(load(&s, "[listen]\nthreads = 0\n"), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "[listen] threads: 0 is not "
			 "between 1 and 256");
	cr_assert_eq(load(&s, "[limits]\ncommit-wait = -1\n"), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "[limits] commit-wait: -1 is not "
			 "between 0 and 3600");
	cr_assert_eq(load(&s, "[repository]\nopen-packs = 0\n"), AMA_ESETUP);
	cr_assert_eq(load(&s, "[transfer]\nkeep-idle = x\n"), AMA_ESETUP);
	cr_assert_eq(load(&s, "[listen]\nconnections = 0\n"), AMA_ESETUP);
}
