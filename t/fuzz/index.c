/* t/fuzz/index.c: fuzzing ama_index_load() with any bytes: the format's rules and a round trip. */
#include "auto-config.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "asset.h"
#include "buf.h"
#include "error.h"
#include "index.h"
#include "lockfile.h"

#define HEADER_SIZE 24
#define TRAILER_SIZE 32
#define CORRUPT_PREFIX "index is corrupt: "
#define BAD_SUM CORRUPT_PREFIX "checksum mismatch (truncated or damaged)"

static char dir[4096];
static char ipath[4096 + 16];

#define CHECK(c) do { if (!(c)) fail(__LINE__, #c); } while (0)

static void fail(int line, const char *what)
{
	fprintf(stderr, "t/fuzz/index.c:%d: check failed: %s\n"
		"  (last error: %s)\n", line, what, ama_error_msg());
	abort();
}

/*
 * The build links with --wrap=mmap,--wrap=munmap. While copy_maps is set
 * (around the index calls), a mapping of a file is a heap copy of exactly
 * the bytes asked for, so that ASan reports any read past the file's end:
 * a real mapping is padded with zeros to the end of its page, and a read
 * there would go unseen.
 */
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off);
int __real_munmap(void *addr, size_t len);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off);
int __wrap_munmap(void *addr, size_t len);

static int copy_maps;
static void *copied;
static size_t copied_len;

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	unsigned char *b;
	size_t got = 0;

	if (!copy_maps || fd < 0)
		return __real_mmap(addr, len, prot, flags, fd, off);
	CHECK(!copied && len > 0);
	b = malloc(len);
	CHECK(b);
	while (got < len) {
		ssize_t n = pread(fd, b + got, len - got, off + (off_t)got);

		if (n <= 0) {
			free(b);
			errno = n < 0 ? errno : EIO;
			return MAP_FAILED;
		}
		got += (size_t)n;
	}
	copied = b;
	copied_len = len;
	return b;
}

int __wrap_munmap(void *addr, size_t len)
{
	if (addr && addr == copied) {
		CHECK(len == copied_len);
		free(addr);
		copied = NULL;
		return 0;
	}
	return __real_munmap(addr, len);
}

static void cleanup(void)
{
	char lock[sizeof(ipath) + 8];

	snprintf(lock, sizeof(lock), "%s.lock", ipath);
	unlink(lock);
	unlink(ipath);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	/* tmpfs where there is one: the round trip fsyncs */
	if (!tmp || !*tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/ama-fuzz-index-XXXXXX", tmp);
	if (!mkdtemp(dir)) {
		perror(dir);
		abort();
	}
	snprintf(ipath, sizeof(ipath), "%s/index", dir);
	atexit(cleanup);
	return 0;
}

static void spit(const void *d, size_t len)
{
	int fd = open(ipath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	CHECK(len == 0 || write(fd, d, len) == (ssize_t)len);
	CHECK(close(fd) == 0);
}

static int load(struct ama_index **out)
{
	int rc;

	copy_maps = 1;
	rc = ama_index_load(out, ipath);
	copy_maps = 0;
	CHECK(!copied);
	if (rc < 0) {
		CHECK(rc == AMA_ECORRUPT);
		CHECK(*out == NULL);
		CHECK(!strncmp(ama_error_msg(), CORRUPT_PREFIX,
			       strlen(CORRUPT_PREFIX)));
		CHECK(!strcmp(ama_error_path(), ipath));
	}
	return rc;
}

static int path_cmp(const struct ama_index_entry *a,
		    const struct ama_index_entry *b)
{
	size_t n = a->path_len < b->path_len ? a->path_len : b->path_len;
	int c = memcmp(a->path, b->path, n);

	if (c)
		return c;
	return a->path_len < b->path_len ? -1 : a->path_len > b->path_len;
}

/* What an accepted index must be, checked against the file's header. */
static void check_accepted(struct ama_index *idx, const unsigned char *d)
{
	struct ama_index_entry *e;
	uint32_t count;
	uint64_t pathbytes, total = 0;
	size_t n, i;

	memcpy(&count, d + 8, 4);
	memcpy(&pathbytes, d + 16, 8);
	e = ama_index_entries(idx, &n);
	CHECK(n == le32toh(count));
	CHECK(ama_index_count(idx) == n);
	for (i = 0; i < n; i++) {
		const char *p = e[i].path;
		uint32_t len = e[i].path_len;

		CHECK(len > 0 && p[len] == '\0' && strlen(p) == len);
		CHECK(ama_path_is_clean(p));
		CHECK(strcmp(p, ".ama") && strncmp(p, ".ama/", 5));
		CHECK(e[i].state < AMA_STATE_COUNT);
		CHECK(!(e[i].flags & ~AMA_ENTRY_FILE_FLAGS));
		CHECK(i == 0 || path_cmp(&e[i - 1], &e[i]) < 0);
		CHECK(ama_index_find(idx, p, len) == &e[i]);
		CHECK(ama_index_lower_bound(idx, p, len) == i);
		total += len;
	}
	CHECK(total == le64toh(pathbytes));
}

static void check_same(const struct ama_index_entry *a,
		       const struct ama_index_entry *b)
{
	CHECK(a->path_len == b->path_len);
	CHECK(!memcmp(a->path, b->path, a->path_len));
	CHECK(!memcmp(a->md5.d, b->md5.d, sizeof(a->md5.d)));
	CHECK(a->st.size == b->st.size);
	CHECK(a->st.mtime_ns == b->st.mtime_ns);
	CHECK(a->st.ctime_ns == b->st.ctime_ns);
	CHECK(a->st.ino == b->st.ino);
	CHECK(a->st.dev == b->st.dev);
	CHECK(a->st.nlink == b->st.nlink);
	CHECK(a->st.mode == b->st.mode);
	CHECK(a->state == b->state);
	CHECK(a->flags == b->flags);
}

/* Rewrite the file at ipath through the writer; its bytes into *out. */
static void rewrite(char **out, size_t *len)
{
	struct ama_index *w;

	copy_maps = 1;
	CHECK(ama_index_lock_and_load(&w, ipath) == 0);
	copy_maps = 0;
	CHECK(ama_index_write_and_commit(w) == 0);
	ama_index_free(w);
	CHECK(ama_read_file(out, len, ipath) == 0);
}

/*
 * Written and loaded again, an accepted index gives the same entries, and
 * a second write of what was written changes no byte.
 */
static void check_round_trip(struct ama_index *idx)
{
	struct ama_index *r;
	struct ama_index_entry *a, *b;
	char *first, *second;
	size_t n, m, i, l1, l2;

	rewrite(&first, &l1);
	CHECK(load(&r) == 0);
	a = ama_index_entries(idx, &n);
	b = ama_index_entries(r, &m);
	CHECK(n == m);
	for (i = 0; i < n; i++)
		check_same(&a[i], &b[i]);
	ama_index_free(r);
	rewrite(&second, &l2);
	CHECK(l1 == l2 && !memcmp(first, second, l1));
	free(first);
	free(second);
}

/* The accepted bytes d, damaged without a new checksum, are refused. */
static void check_damage_refused(unsigned char *d, size_t size)
{
	struct ama_index *idx = NULL;
	size_t at = HEADER_SIZE + (d[size - 1] % (size - HEADER_SIZE));

	d[size - 1] ^= 0x01;		/* the checksum */
	spit(d, size);
	CHECK(load(&idx) == AMA_ECORRUPT);
	CHECK(!strcmp(ama_error_msg(), BAD_SUM));
	d[size - 1] ^= 0x01;
	d[at] ^= 0x40;			/* in the entries or the checksum */
	spit(d, size);
	CHECK(load(&idx) == AMA_ECORRUPT);
	CHECK(!strcmp(ama_error_msg(), BAD_SUM));
	d[at] ^= 0x40;
	spit(d, size - 1);		/* truncated */
	CHECK(load(&idx) == AMA_ECORRUPT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ama_index *idx = NULL;
	unsigned char *d = malloc(size ? size : 1);
	int rc;

	CHECK(d);
	memcpy(d, data, size);
	/* a right checksum, so that the checks after it are reached */
	if (size >= HEADER_SIZE + TRAILER_SIZE) {
		unsigned int sumlen = TRAILER_SIZE;

		CHECK(EVP_Digest(d, size - TRAILER_SIZE,
				 d + size - TRAILER_SIZE, &sumlen,
				 EVP_sha256(), NULL));
	}
	spit(d, size);
	rc = load(&idx);
	if (rc == 0) {
		CHECK(size >= HEADER_SIZE + TRAILER_SIZE);
		CHECK(!memcmp(d, "AMAI", 4));
		check_accepted(idx, d);
		check_round_trip(idx);
		check_damage_refused(d, size);
		ama_index_free(idx);
	}
	free(d);
	return 0;
}
