/* progress.h: a progress line on a terminal: files, bytes, rate, ETA. */
#ifndef AMA_PROGRESS_H
#define AMA_PROGRESS_H

#include <stdint.h>

/*
 * Drawn on stderr, redrawn at most ten times a second, only when enabled
 * (the program's stderr is a terminal and --quiet was not given). Not
 * thread-safe: one thread updates it.
 */
struct ama_progress {
	int enabled;
	const char *title;
	uint64_t files, bytes;
	uint64_t total_files, total_bytes;	/* 0: not known (yet) */
	double start, last;
	int drawn;
};

void ama_progress_init(struct ama_progress *p, const char *title,
		       int enabled);
/* What the whole job is, once known; the ETA appears then. */
void ama_progress_total(struct ama_progress *p, uint64_t files,
			uint64_t bytes);
void ama_progress_add(struct ama_progress *p, uint64_t files,
		      uint64_t bytes);
/* The counts so far, where the caller keeps them (neither goes back). */
void ama_progress_set(struct ama_progress *p, uint64_t files,
		      uint64_t bytes);
/* Draw the final line and end it. */
void ama_progress_done(struct ama_progress *p);
/* Seconds since an arbitrary start, monotonic. */
double ama_now(void);
/* "1.5 GiB" style, into buf of at least 16 bytes. */
void ama_human_bytes(char *buf, double bytes);

#endif
