/* statx-bench: statx on an io_uring against lstat, for the stat walk. */
#include "auto-config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

/*
 *   statx-bench LIST MODE THREADS [N]
 *	stat the first N paths (default all) of LIST, a NUL-separated file
 *	list, on THREADS threads (each a contiguous share), as MODE:
 *	  lstat    lstat(2) of each path
 *	  fstatat  fstatat(2) on the open folder (lib/verify.c's way)
 *	  uring    IORING_OP_STATX, 64 a batch, one ring a thread
 *	and print wall time and CPU time (user + system, io-wq threads
 *	included: they belong to the process), per file.
 */

enum { BATCH = 64 };

static char **paths;
static size_t npaths;
static int nthreads, mode;
static long failures;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void check(int rc, unsigned long long size)
{
	(void)size;
	if (rc < 0)
		__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
}

static void run_lstat(size_t lo, size_t hi)
{
	struct stat sb;
	size_t i;

	for (i = lo; i < hi; i++)
		check(lstat(paths[i], &sb), (unsigned long long)sb.st_size);
}

static void run_fstatat(size_t lo, size_t hi)
{
	char folder[4096] = "";
	int dfd = -1;
	size_t i;

	for (i = lo; i < hi; i++) {
		const char *slash = strrchr(paths[i], '/');
		size_t len = slash ? (size_t)(slash - paths[i]) : 0;
		struct stat sb;

		if (!slash) {
			check(lstat(paths[i], &sb), 0);
			continue;
		}
		if (dfd < 0 || strlen(folder) != len ||
		    memcmp(folder, paths[i], len)) {
			if (dfd >= 0)
				close(dfd);
			memcpy(folder, paths[i], len);
			folder[len] = '\0';
			dfd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		}
		check(fstatat(dfd, slash + 1, &sb, AT_SYMLINK_NOFOLLOW),
		      (unsigned long long)sb.st_size);
	}
	if (dfd >= 0)
		close(dfd);
}

static void run_uring(size_t lo, size_t hi)
{
#ifdef HAVE_LIBURING
	struct io_uring ring;
	struct statx *sx = calloc(BATCH, sizeof(*sx));
	size_t i0, j, n;

	if (io_uring_queue_init(BATCH, &ring, 0) < 0) {
		fprintf(stderr, "statx-bench: no io_uring here\n");
		exit(2);
	}
	for (i0 = lo; i0 < hi; i0 += n) {
		struct io_uring_cqe *cqe;

		n = hi - i0 < BATCH ? hi - i0 : BATCH;
		for (j = 0; j < n; j++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_statx(sqe, AT_FDCWD, paths[i0 + j],
					    AT_SYMLINK_NOFOLLOW,
					    STATX_BASIC_STATS, &sx[j]);
			sqe->user_data = j;
		}
		io_uring_submit_and_wait(&ring, (unsigned)n);
		for (j = 0; j < n; j++) {
			io_uring_wait_cqe(&ring, &cqe);
			check(cqe->res, sx[cqe->user_data].stx_size);
			io_uring_cqe_seen(&ring, cqe);
		}
	}
	io_uring_queue_exit(&ring);
	free(sx);
#else
	(void)lo;
	(void)hi;
	fprintf(stderr, "statx-bench: built without liburing\n");
	exit(2);
#endif
}

static void *thread(void *arg)
{
	size_t t = (size_t)arg;
	size_t lo = npaths * t / (size_t)nthreads;
	size_t hi = npaths * (t + 1) / (size_t)nthreads;

	if (mode == 0)
		run_lstat(lo, hi);
	else if (mode == 1)
		run_fstatat(lo, hi);
	else
		run_uring(lo, hi);
	return NULL;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "lstat", "fstatat", "uring" };
	pthread_t tid[64];
	struct rusage ru;
	size_t cap = 0, len = 0, p, max = (size_t)-1;
	char *buf = NULL;
	double t0, wall, cpu;
	FILE *f;
	int i;

	if (argc < 4) {
		fprintf(stderr, "usage: statx-bench LIST lstat|fstatat|uring "
			"THREADS [N]\n");
		return 2;
	}
	for (mode = 0; mode < 3 && strcmp(argv[2], names[mode]); mode++)
		;
	nthreads = atoi(argv[3]);
	if (mode == 3 || nthreads < 1 || nthreads > 64)
		return fprintf(stderr, "statx-bench: bad mode or threads\n"), 2;
	if (argc > 4)
		max = strtoul(argv[4], NULL, 10);
	f = fopen(argv[1], "r");
	if (!f)
		return perror(argv[1]), 2;
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 1 << 20;
			buf = realloc(buf, cap + 1);
		}
		p = fread(buf + len, 1, cap - len, f);
		if (!p)
			break;
		len += p;
	}
	fclose(f);
	buf[len] = '\0';
	paths = malloc((len / 2 + 1) * sizeof(*paths));
	for (p = 0; p < len && npaths < max; p += strlen(buf + p) + 1)
		paths[npaths++] = buf + p;
	t0 = now();
	for (i = 0; i < nthreads; i++)
		pthread_create(&tid[i], NULL, thread, (void *)(size_t)i);
	for (i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	wall = now() - t0;
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("%-8s %d thread(s), %zu files: wall %.1f ms (%.2f us a file), "
	       "CPU %.1f ms (%.2f us a file), %ld failed\n", names[mode],
	       nthreads, npaths, wall * 1e3, wall * 1e6 / (double)npaths,
	       cpu * 1e3, cpu * 1e6 / (double)npaths, failures);
	free(paths);
	free(buf);
	return failures ? 1 : 0;
}
