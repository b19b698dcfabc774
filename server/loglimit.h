/* loglimit.h: a log that says each kind of line at most once a second, and counts the rest. */
#ifndef AMA_SERVER_LOGLIMIT_H
#define AMA_SERVER_LOGLIMIT_H

#include <pthread.h>

/*
 * A library that repeats itself (libmicrohttpd busy-waiting for a
 * descriptor writes a line each turn, ~500,000 a second) must not fill the
 * disk. Lines are of a kind (any pointer: libmicrohttpd's format string);
 * a line of a kind said less than a second ago is held back and counted,
 * and the next one said says how many were held:
 *
 *     PREFIX: N more times in S s: LINE
 *
 * so each kind writes at most one line a second. Up to SRV_LOG_KINDS kinds
 * are told apart at once (a new kind takes the slot of the stalest, whose
 * count is said first). Thread-safe.
 */
#define SRV_LOG_KINDS 16
#define SRV_LOG_FLOOD 100	/* held in a second: the caller may slow down */

struct srv_log_kind {
	const void *key;
	double last;		/* when one was last written */
	unsigned held;		/* held back since */
	char *text;		/* the last one held back */
};

struct srv_loglimit {
	pthread_mutex_t mu;
	int fd;
	const char *prefix;
	struct srv_log_kind kinds[SRV_LOG_KINDS];
};

/* Lines go to fd, each as "PREFIX: LINE"; prefix is not copied. */
void srv_loglimit_init(struct srv_loglimit *l, int fd, const char *prefix);
/* Say what is held, and free everything. */
void srv_loglimit_release(struct srv_loglimit *l, double now);
/*
 * Say line (one line, with or without its '\n') of kind key at time now
 * (seconds, monotonic), or hold it. Returns how many of its kind are held
 * now: 0 when it was written.
 */
unsigned srv_loglimit_say(struct srv_loglimit *l, const void *key,
			  const char *line, double now);
/* Say the counts of the kinds quiet for a second or more; call it often. */
void srv_loglimit_tick(struct srv_loglimit *l, double now);

#endif
