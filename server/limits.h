/* limits.h: ama-server's numbers from its configuration, and the descriptors they need. */
#ifndef AMA_SERVER_LIMITS_H
#define AMA_SERVER_LIMITS_H

#include <stdint.h>

#include "config.h"

/*
 * The server's resources are bounded by its configuration, never by its
 * history. Descriptors: the process's limit (RLIMIT_NOFILE; the soft limit
 * is raised to the hard one) is shared between
 *   - the work: SRV_FD_BASE, two per thread of the pool, [repository]
 *     open-packs, and for each set of store handles that can be in use
 *     at once (a thread of the pool each, and [transfer] jobs for each
 *     commit running: [limits] commits) two stores of [transfer] jobs
 *     connections and two more descriptors each (SRV_FD_STORE);
 *   - the connections of clients: [listen] connections, by default what
 *     the work leaves (at most SRV_CONNECTIONS_MAX).
 * A configuration whose work leaves fewer than SRV_CONNECTIONS_MIN
 * connections, or fewer than [listen] connections asks for, is refused:
 * the server would run out of descriptors, and stop accepting, under load.
 */
#define SRV_FD_BASE 16
#define SRV_CONNECTIONS_MIN 4
#define SRV_CONNECTIONS_MAX 4096

/*
 * Memory: the bodies of requests in flight, each counted SRV_BODY_WEIGHT
 * times its length (parsing a commit's body costs about that much more),
 * share [limits] memory; a request that would go past it gets 503 with
 * Retry-After. The largest commit body times the weight must fit.
 */
#define SRV_BODY_WEIGHT 3

struct srv_limits {
	const char *address;
	unsigned port;
	unsigned threads;
	unsigned idle_timeout;		/* seconds */
	unsigned connections;
	unsigned per_ip;		/* 0: no limit */
	uint64_t body_limit;
	uint64_t commit_limit;
	uint64_t memory;
	unsigned commits;		/* commit jobs at once */
	unsigned commit_wait_ms;
	unsigned open_packs;
	int jobs;			/* [transfer] jobs */
	unsigned keep_idle;		/* seconds store handles stay idle */
	unsigned long nofile;		/* the descriptor limit */
	unsigned long work_fds;		/* what the work may take of it */
};

/*
 * Read the numbers of cfg (from the file path, for messages), raise the
 * soft descriptor limit, and check that they fit. Returns 0, or
 * AMA_ESETUP with a message that names the key and the numbers.
 */
int srv_limits_load(struct srv_limits *out, const struct ama_config *cfg,
		      const char *path);

#endif
