/* index-bench: time the index and make large assets to time ama-verify on. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "error.h"
#include "index.h"
#include "lockfile.h"
#include "md5.h"
#include "stat.h"

/*
 *   index-bench save-load DIR [N [ROUNDS]]
 *	N synthetic entries "dir%04d/file%06d.bin" (1000 a folder) into
 *	DIR/index; prints the best of ROUNDS for build, save and load, and
 *	a breakdown of save into checksum, write and fsync.
 *   index-bench mkasset DIR N
 *	N empty files in DIR (1000 a folder), DIR/.ama/index listing them
 *	with their real stat records (for timing ama-verify and git status).
 */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "index-bench: %s: %s\n", what, ama_error_msg());
	exit(2);
}

static void name(char *buf, size_t i)
{
	snprintf(buf, 32, "dir%04u/file%06u.bin", (unsigned)(i / 1000) % 10000,
		 (unsigned)i % 1000000);
}

static void fill(struct ama_index *idx, size_t n)
{
	struct ama_index_entry e;
	char path[32];
	size_t i;

	memset(&e, 0, sizeof(e));
	for (i = 0; i < n; i++) {
		name(path, i);
		e.md5.d[0] = (unsigned char)i;
		e.md5.d[15] = (unsigned char)(i >> 8);
		e.st.size = 4096 + i % 977;
		e.st.mtime_ns = 1700000000000000000 + (int64_t)i * 1000003;
		e.st.ctime_ns = e.st.mtime_ns + 17;
		e.st.ino = 5000000 + i;
		e.st.dev = 2049;
		e.st.nlink = 1;
		e.st.mode = S_IFREG | 0644;
		e.state = AMA_STATE_COMMITTED;
		e.path = path;
		e.path_len = (uint32_t)strlen(path);
		ama_index_add(idx, &e);
	}
}

static double min_of(double a, double b)
{
	return a < b ? a : b;
}

/* The parts of a save, measured on the saved file's bytes. */
static void breakdown(const char *dir, const char *ipath, double *sum,
		      double *wr, double *sync)
{
	struct ama_buf tmp = AMA_BUF_INIT;
	unsigned char md[32];
	unsigned int mdlen;
	size_t len;
	char *data;
	double t0, t1, t2, t3;
	int fd;

	if (ama_read_file(&data, &len, ipath) < 0)
		die(ipath);
	t0 = now();
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	t1 = now();
	ama_buf_addf(&tmp, "%s/bench.tmp", dir);
	fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		exit(2);
	t2 = now();
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp.s, ipath) < 0 ||
	    ama_fsync_parent(ipath) < 0)
		exit(2);
	t3 = now();
	*sum = min_of(*sum, t1 - t0);
	*wr = min_of(*wr, t2 - t1);
	*sync = min_of(*sync, t3 - t2);
	free(data);
	ama_buf_release(&tmp);
}

static int save_load(const char *dir, size_t n, int rounds)
{
	struct ama_buf ip = AMA_BUF_INIT;
	double build = 1e9, save = 1e9, load = 1e9, lsum = 1e9;
	double sum = 1e9, wr = 1e9, sync = 1e9;
	struct stat st;
	int r;

	ama_buf_addf(&ip, "%s/index", dir);
	unlink(ip.s);
	for (r = 0; r < rounds; r++) {
		struct ama_index *idx;
		double t0, t1, t2, t3;

		if (ama_index_lock_and_load(&idx, ip.s) < 0)
			die(ip.s);
		/* start empty each round: the build is of N new entries */
		if (ama_index_count(idx)) {
			ama_index_free(idx);
			unlink(ip.s);
			if (ama_index_lock_and_load(&idx, ip.s) < 0)
				die(ip.s);
		}
		t0 = now();
		fill(idx, n);
		ama_index_count(idx);
		t1 = now();
		if (ama_index_write_and_commit(idx) < 0)
			die(ip.s);
		t2 = now();
		ama_index_free(idx);
		t3 = now();
		if (ama_index_load(&idx, ip.s) < 0)
			die(ip.s);
		load = min_of(load, now() - t3);
		ama_index_free(idx);
		build = min_of(build, t1 - t0);
		save = min_of(save, t2 - t1);
		breakdown(dir, ip.s, &sum, &wr, &sync);
	}
	{
		/* load's own checksum share */
		size_t len;
		char *data;
		unsigned char md[32];
		unsigned int mdlen;
		double t0;

		if (ama_read_file(&data, &len, ip.s) < 0)
			die(ip.s);
		t0 = now();
		EVP_Digest(data, len - 32, md, &mdlen, EVP_sha256(), NULL);
		lsum = now() - t0;
		free(data);
	}
	if (stat(ip.s, &st) < 0)
		return 2;
	printf("entries        %zu\n", n);
	printf("file size      %.1f MB (%.1f bytes an entry)\n",
	       (double)st.st_size / 1e6, (double)st.st_size / (double)n);
	printf("build          %.3f s  (add %zu entries, merge)\n", build, n);
	printf("save           %.3f s  (encode + checksum + write + fsync)\n",
	       save);
	printf("  checksum     %.3f s  (SHA-256 of the file)\n", sum);
	printf("  write        %.3f s  (write(2) of the file, no fsync)\n",
	       wr);
	printf("  fsync        %.3f s  (fsync, rename, fsync of the folder)\n",
	       sync);
	printf("  encode       %.3f s  (the rest)\n", save - sum - wr - sync);
	printf("load           %.3f s  (mmap + checksum + parse)\n", load);
	printf("  checksum     %.3f s\n", lsum);
	printf("save + load    %.3f s\n", save + load);
	ama_buf_release(&ip);
	return 0;
}

static int mkasset(const char *dir, size_t n)
{
	/* empty files: 10^6 of them cost inodes, not 4 GB of blocks */
	static const char content[] = "";
	struct ama_buf p = AMA_BUF_INIT;
	struct ama_index *idx;
	struct ama_index_entry e;
	struct ama_md5 md5;
	char path[32];
	size_t i;

	if (chdir(dir) < 0 || (mkdir(".ama", 0777) < 0 && errno != EEXIST)) {
		perror(dir);
		return 2;
	}
	ama_md5_buffer(&md5, content, sizeof(content) - 1);
	if (ama_index_lock_and_load(&idx, ".ama/index") < 0)
		die(".ama/index");
	for (i = 0; i < n; i++) {
		int fd;

		name(path, i);
		if (i % 1000 == 0) {
			path[7] = '\0';
			mkdir(path, 0777);
			path[7] = '/';
		}
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || close(fd) < 0) {
			perror(path);
			return 2;
		}
		memset(&e, 0, sizeof(e));
		if (ama_stat_path(&e.st, path) < 0)
			die(path);
		e.md5 = md5;
		e.state = AMA_STATE_PENDING;
		e.path = path;
		e.path_len = (uint32_t)strlen(path);
		ama_index_add(idx, &e);
	}
	/* the files are older than the index by the time it is written */
	sleep(1);
	if (ama_index_write_and_commit(idx) < 0)
		die(".ama/index");
	ama_index_free(idx);
	ama_buf_release(&p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "save-load"))
		return save_load(argv[2],
				 argc > 3 ? strtoul(argv[3], NULL, 10) : 1000000,
				 argc > 4 ? atoi(argv[4]) : 5);
	if (argc == 4 && !strcmp(argv[1], "mkasset"))
		return mkasset(argv[2], strtoul(argv[3], NULL, 10));
	fprintf(stderr, "usage: index-bench save-load DIR [N [ROUNDS]]\n"
		"       index-bench mkasset DIR N\n");
	return 2;
}
