/* index.c: the binary index: loaded with one mmap and checked, sorted in memory, written atomically. */
#include "auto-config.h"

#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "asset.h"
#include "buf.h"
#include "error.h"
#include "index.h"
#include "lockfile.h"
#include "record.h"

#define MAGIC "AMAI"
#define FORMAT_VERSION 1u
#define HEADER_SIZE 24
#define FIXED_SIZE 66	/* an entry's fields before its path */
#define MIN_ENTRY (FIXED_SIZE + 3)	/* two varints and one path byte */
#define TRAILER_SIZE 32	/* SHA-256 */
#define MAX_PATH_LEN 65536u
#define WRITE_CHUNK (256 * 1024)
#define ARENA_BLOCK (1024 * 1024)

/* In memory only, never written: the entry was removed. */
#define ENTRY_REMOVED 0x80u

static const char *const state_names[AMA_STATE_COUNT] = {
	"pending", "staging", "staged", "committed",
};

/* Paths live in blocks that never move, so entries can point into them. */
struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
};

struct ama_index {
	char *path;
	struct ama_lock lock;
	int64_t mtime_ns;
	/*
	 * e[0, nsorted) is sorted, without duplicates; e[nsorted, n) holds
	 * additions not merged yet, found through tail_hash. A path is in
	 * one part at most. Removed entries are flagged until the merge.
	 */
	struct ama_index_entry *e;
	size_t n, alloc, nsorted, nremoved;
	uint64_t *tail_hash;	/* see hash_insert() */
	size_t hash_cap;	/* a power of two, or 0 */
	struct arena_block *arena;
};

const char *ama_state_name(enum ama_state s)
{
	assert((unsigned)s < AMA_STATE_COUNT);
	return state_names[s];
}

int ama_state_parse(enum ama_state *out, const char *name)
{
	int i;

	for (i = 0; i < AMA_STATE_COUNT; i++) {
		if (!strcmp(name, state_names[i])) {
			*out = (enum ama_state)i;
			return 0;
		}
	}
	return ama_error_set(AMA_EINVAL, "unknown state '%s' (want pending, "
			     "staging, staged or committed)", name);
}

/* --- little-endian fields and varints --- */

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static void put32(unsigned char *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(unsigned char *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

/* Decode a varint of at most 32 bits; returns bytes used or 0 if bad. */
static size_t get_varint(const unsigned char *p, const unsigned char *end,
			 uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 5 && p + i < end; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (v > UINT32_MAX)
				return 0;
			*out = (uint32_t)v;
			return i + 1;
		}
	}
	return 0;
}

static size_t put_varint(unsigned char *p, uint32_t v)
{
	size_t i = 0;

	while (v >= 0x80) {
		p[i++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[i++] = (unsigned char)v;
	return i;
}

/* --- the path arena --- */

static char *arena_alloc(struct ama_index *idx, size_t n, size_t block)
{
	struct arena_block *b = idx->arena;

	if (!b || b->cap - b->used < n) {
		size_t cap = n > block ? n : block;

		b = ama_malloc(sizeof(*b) + cap);
		b->used = 0;
		b->cap = cap;
		b->next = idx->arena;
		idx->arena = b;
	}
	b->used += n;
	return b->data + b->used - n;
}

static void arena_free(struct ama_index *idx)
{
	while (idx->arena) {
		struct arena_block *next = idx->arena->next;

		free(idx->arena);
		idx->arena = next;
	}
}

/* --- ordering --- */

static int path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int entry_cmp(const void *x, const void *y)
{
	const struct ama_index_entry *a = x, *b = y;

	return path_cmp(a->path, a->path_len, b->path, b->path_len);
}

/* First position in e[0, n) whose path is not less than path. */
static size_t lower_bound(const struct ama_index_entry *e, size_t n,
			  const char *path, size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (path_cmp(e[mid].path, e[mid].path_len, path, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The sorted part's entry for path (removed or not), or NULL. */
static struct ama_index_entry *find_sorted(struct ama_index *idx,
					   const char *path, size_t len)
{
	size_t i = lower_bound(idx->e, idx->nsorted, path, len);

	if (i < idx->nsorted && idx->e[i].path_len == len &&
	    !memcmp(idx->e[i].path, path, len))
		return &idx->e[i];
	return NULL;
}

/* --- the hashed tail of additions --- */

/*
 * A slot holds the tail position + 1 in its low half (0: empty) and the
 * top of the path's hash in its high half, so that a probe rarely touches
 * an entry that is not the one looked for.
 */
static uint64_t hash_path(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a, then fmix64 */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static void hash_insert(struct ama_index *idx, size_t pos)
{
	const struct ama_index_entry *e = &idx->e[pos];
	uint64_t h = hash_path(e->path, e->path_len);
	size_t mask = idx->hash_cap - 1, i = (size_t)h & mask;

	while (idx->tail_hash[i])
		i = (i + 1) & mask;
	idx->tail_hash[i] = (h & 0xffffffff00000000ull) |
		(uint64_t)(pos - idx->nsorted + 1);
}

static void hash_grow(struct ama_index *idx)
{
	size_t ntail = idx->n - idx->nsorted, pos;

	if ((ntail + 1) * 2 <= idx->hash_cap)
		return;
	free(idx->tail_hash);
	idx->hash_cap = idx->hash_cap ? idx->hash_cap * 2 : 1024;
	idx->tail_hash = ama_calloc(idx->hash_cap, sizeof(uint64_t));
	for (pos = idx->nsorted; pos < idx->n; pos++)
		hash_insert(idx, pos);
}

static struct ama_index_entry *find_tail(struct ama_index *idx,
					 const char *path, size_t len)
{
	uint64_t h, slot;
	size_t mask, i;

	if (idx->n == idx->nsorted)
		return NULL;
	h = hash_path(path, len);
	mask = idx->hash_cap - 1;
	for (i = (size_t)h & mask; (slot = idx->tail_hash[i]) != 0;
	     i = (i + 1) & mask) {
		struct ama_index_entry *e;

		if ((slot ^ h) >> 32)
			continue;
		e = &idx->e[idx->nsorted + (uint32_t)slot - 1];
		if (e->path_len == len && !memcmp(e->path, path, len))
			return e;
	}
	return NULL;
}

/* Sort the tail and merge it into the sorted part, dropping removals. */
static void merge(struct ama_index *idx)
{
	size_t ntail = idx->n - idx->nsorted, i, j, k, t;
	struct ama_index_entry *tail = idx->e + idx->nsorted, *out;

	if (!ntail && !idx->nremoved)
		return;
	/* additions usually come in order (a walk is sorted): check first */
	for (t = 1; t < ntail; t++)
		if (entry_cmp(&tail[t - 1], &tail[t]) > 0)
			break;
	if (t < ntail)
		qsort(tail, ntail, sizeof(*tail), entry_cmp);
	out = ama_malloc((idx->n ? idx->n : 1) * sizeof(*out));
	i = 0;
	j = idx->nsorted;
	k = 0;
	while (i < idx->nsorted || j < idx->n) {
		struct ama_index_entry *e;

		if (j == idx->n ||
		    (i < idx->nsorted && entry_cmp(&idx->e[i], &idx->e[j]) < 0))
			e = &idx->e[i++];
		else
			e = &idx->e[j++];
		if (!(e->flags & ENTRY_REMOVED))
			out[k++] = *e;
	}
	free(idx->e);
	idx->e = out;
	idx->alloc = idx->n ? idx->n : 1;
	idx->n = idx->nsorted = k;
	idx->nremoved = 0;
	free(idx->tail_hash);
	idx->tail_hash = NULL;
	idx->hash_cap = 0;
}

/* --- loading --- */

static int corrupt(const struct ama_index *idx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int corrupt(const struct ama_index *idx, const char *fmt, ...)
{
	struct ama_buf b = AMA_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	ama_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	ama_error_setp(AMA_ECORRUPT, idx->path, "index is corrupt: %s", b.s);
	ama_buf_release(&b);
	return AMA_ECORRUPT;
}

static int path_is_sane(const char *p, size_t len)
{
	if (memchr(p, '\0', len))
		return 0;
	if (!strncmp(p, ".ama", 4) && (len == 4 || p[4] == '/'))
		return 0;
	return ama_path_is_clean(p);
}

/* Parse the entries of a file whose header and checksum were checked. */
static int parse_entries(struct ama_index *idx, const unsigned char *p,
			 const unsigned char *end, uint32_t count,
			 uint64_t pathbytes)
{
	const char *prev = "";
	size_t prev_len = 0, k;
	uint64_t total = 0;
	size_t first_block = (size_t)(end - p) * 8 + 4096;

	if (pathbytes + count < first_block)
		first_block = (size_t)(pathbytes + count);
	idx->e = ama_malloc((count ? count : 1) * sizeof(*idx->e));
	idx->alloc = count ? count : 1;
	for (k = 0; p < end; k++) {
		struct ama_index_entry *e = &idx->e[k];
		uint32_t shared, suffix;
		size_t n1, n2, len;
		char *path;

		if (k == count)
			return corrupt(idx, "the header says %u entries but "
				       "there are more", count);
		if (end - p < MIN_ENTRY)
			return corrupt(idx, "entry %zu is truncated", k + 1);
		memcpy(e->md5.d, p, 16);
		e->st.size = get64(p + 16);
		e->st.mtime_ns = (int64_t)get64(p + 24);
		e->st.ctime_ns = (int64_t)get64(p + 32);
		e->st.ino = get64(p + 40);
		e->st.dev = get64(p + 48);
		e->st.nlink = get32(p + 56);
		e->st.mode = get32(p + 60);
		e->state = p[64];
		e->flags = p[65];
		if (e->state >= AMA_STATE_COUNT)
			return corrupt(idx, "entry %zu has an unknown state %u",
				       k + 1, e->state);
		if (e->flags & ~AMA_ENTRY_FILE_FLAGS)
			return corrupt(idx, "entry %zu has unknown flags 0x%02x",
				       k + 1, e->flags);
		p += FIXED_SIZE;
		n1 = get_varint(p, end, &shared);
		n2 = n1 ? get_varint(p + n1, end, &suffix) : 0;
		if (!n2 || shared > prev_len || suffix > MAX_PATH_LEN ||
		    (size_t)(end - p) - n1 - n2 < suffix ||
		    shared + suffix > MAX_PATH_LEN || shared + suffix == 0)
			return corrupt(idx, "entry %zu has a bad path length",
				       k + 1);
		p += n1 + n2;
		len = (size_t)shared + suffix;
		path = arena_alloc(idx, len + 1,
				   idx->arena ? ARENA_BLOCK : first_block);
		memcpy(path, prev, shared);
		memcpy(path + shared, p, suffix);
		path[len] = '\0';
		p += suffix;
		e->path = path;
		e->path_len = (uint32_t)len;
		if (!path_is_sane(path, len))
			return corrupt(idx, "entry %zu has a bad path: %s",
				       k + 1, ama_quote_for_message(path));
		if (k && path_cmp(prev + shared, prev_len - shared,
				  path + shared, suffix) >= 0)
			return corrupt(idx, "entry %zu is out of order "
				       "(or a duplicate): %s", k + 1,
				       ama_quote_for_message(path));
		total += len;
		prev = path;
		prev_len = len;
		idx->n = k + 1;
	}
	if (k != count)
		return corrupt(idx, "the header says %u entries but there "
			       "are %zu", count, k);
	if (total != pathbytes)
		return corrupt(idx, "the header's path byte count is wrong");
	idx->nsorted = idx->n;
	return 0;
}

static int check_and_parse(struct ama_index *idx, const unsigned char *d,
			   size_t size)
{
	unsigned char sum[32];
	unsigned int sumlen = sizeof(sum);
	uint32_t version, count;

	if (size < HEADER_SIZE + TRAILER_SIZE)
		return corrupt(idx, "too short (%zu bytes)", size);
	if (memcmp(d, MAGIC, 4))
		return corrupt(idx, "bad signature (not an ama index)");
	version = get32(d + 4);
	if (version != FORMAT_VERSION)
		return corrupt(idx, "unsupported version %u", version);
	if (!EVP_Digest(d, size - TRAILER_SIZE, sum, &sumlen, EVP_sha256(),
			NULL))
		abort();
	if (memcmp(sum, d + size - TRAILER_SIZE, TRAILER_SIZE))
		return corrupt(idx, "checksum mismatch (truncated or damaged)");
	if (get32(d + 12))
		return corrupt(idx, "unknown header flags 0x%x", get32(d + 12));
	count = get32(d + 8);
	if (count > (size - HEADER_SIZE - TRAILER_SIZE) / MIN_ENTRY)
		return corrupt(idx, "the header says %u entries, more than "
			       "the file can hold", count);
	return parse_entries(idx, d + HEADER_SIZE, d + size - TRAILER_SIZE,
			     count, get64(d + 16));
}

static struct ama_index *index_new(const char *path)
{
	struct ama_index *idx = ama_calloc(1, sizeof(*idx));
	struct ama_lock init = AMA_LOCK_INIT;

	idx->path = ama_strdup(path);
	idx->lock = init;
	idx->mtime_ns = INT64_MAX;
	idx->alloc = 16;
	idx->e = ama_malloc(idx->alloc * sizeof(*idx->e));
	return idx;
}

static int load_into(struct ama_index *idx)
{
	struct stat st;
	void *map;
	int fd, rc;

	fd = open(idx->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return ama_error_setp_errno(AMA_EIO, idx->path,
					    "cannot open index");
	}
	if (fstat(fd, &st) < 0) {
		rc = ama_error_setp_errno(AMA_EIO, idx->path,
					  "cannot stat index");
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return corrupt(idx, "not a regular file");
	}
	idx->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
		st.st_mtim.tv_nsec;
	if (st.st_size < HEADER_SIZE + TRAILER_SIZE) {
		close(fd);
		return corrupt(idx, "too short (%lld bytes)",
			       (long long)st.st_size);
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ,
		   MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return ama_error_setp_errno(AMA_EIO, idx->path,
					    "cannot map index");
	free(idx->e);
	idx->e = NULL;
	idx->n = idx->nsorted = 0;
	rc = check_and_parse(idx, map, (size_t)st.st_size);
	munmap(map, (size_t)st.st_size);
	return rc;
}

int ama_index_load(struct ama_index **out, const char *path)
{
	struct ama_index *idx = index_new(path);
	int rc = load_into(idx);

	if (rc < 0) {
		ama_index_free(idx);
		*out = NULL;
		return rc;
	}
	*out = idx;
	return 0;
}

int ama_index_lock_and_load(struct ama_index **out, const char *path)
{
	struct ama_index *idx = index_new(path);
	int rc;

	*out = NULL;
	/* the lock first: what is loaded cannot change before the write */
	rc = ama_lock_acquire(&idx->lock, path, 0666);
	if (rc == 0)
		rc = load_into(idx);
	if (rc < 0) {
		ama_index_free(idx);
		return rc;
	}
	*out = idx;
	return 0;
}

void ama_index_rollback(struct ama_index *idx)
{
	ama_lock_rollback(&idx->lock);
}

void ama_index_free(struct ama_index *idx)
{
	if (!idx)
		return;
	ama_lock_rollback(&idx->lock);
	free(idx->e);
	free(idx->tail_hash);
	arena_free(idx);
	free(idx->path);
	free(idx);
}

/* --- writing --- */

struct out {
	struct ama_index *idx;
	EVP_MD_CTX *sha;
	unsigned char *buf;
	size_t len;
};

static int out_flush(struct out *o)
{
	int rc;

	if (!EVP_DigestUpdate(o->sha, o->buf, o->len))
		abort();
	rc = ama_lock_write(&o->idx->lock, o->buf, o->len);
	o->len = 0;
	return rc;
}

static size_t common_prefix(const char *a, size_t alen, const char *b,
			    size_t blen)
{
	size_t n = alen < blen ? alen : blen, i = 0;

	while (i < n && a[i] == b[i])
		i++;
	return i;
}

static unsigned char *put_entry(unsigned char *p,
				const struct ama_index_entry *e,
				const struct ama_index_entry *prev)
{
	size_t shared = prev ? common_prefix(prev->path, prev->path_len,
					     e->path, e->path_len) : 0;

	memcpy(p, e->md5.d, 16);
	put64(p + 16, e->st.size);
	put64(p + 24, (uint64_t)e->st.mtime_ns);
	put64(p + 32, (uint64_t)e->st.ctime_ns);
	put64(p + 40, e->st.ino);
	put64(p + 48, e->st.dev);
	put32(p + 56, e->st.nlink);
	put32(p + 60, e->st.mode);
	p[64] = e->state;
	p[65] = e->flags & AMA_ENTRY_FILE_FLAGS;
	p += FIXED_SIZE;
	p += put_varint(p, (uint32_t)shared);
	p += put_varint(p, (uint32_t)(e->path_len - shared));
	memcpy(p, e->path + shared, e->path_len - shared);
	return p + e->path_len - shared;
}

static int write_all(struct ama_index *idx)
{
	struct out o = { idx, EVP_MD_CTX_new(), NULL, 0 };
	unsigned char sum[32];
	unsigned int sumlen = sizeof(sum);
	uint64_t pathbytes = 0;
	size_t i, cap;
	int rc = 0;

	if (!o.sha || !EVP_DigestInit_ex(o.sha, EVP_sha256(), NULL))
		abort();
	for (i = 0; i < idx->n; i++) {
		if (idx->e[i].path_len > MAX_PATH_LEN) {
			EVP_MD_CTX_free(o.sha);
			return ama_error_setp(AMA_EINVAL, idx->e[i].path,
					      "path too long for the index");
		}
		pathbytes += idx->e[i].path_len;
	}
	cap = WRITE_CHUNK + FIXED_SIZE + 10 + MAX_PATH_LEN;
	o.buf = ama_malloc(cap);
	memcpy(o.buf, MAGIC, 4);
	put32(o.buf + 4, FORMAT_VERSION);
	put32(o.buf + 8, (uint32_t)idx->n);
	put32(o.buf + 12, 0);
	put64(o.buf + 16, pathbytes);
	o.len = HEADER_SIZE;
	for (i = 0; i < idx->n && rc == 0; i++) {
		o.len = (size_t)(put_entry(o.buf + o.len, &idx->e[i],
					   i ? &idx->e[i - 1] : NULL) - o.buf);
		if (o.len >= WRITE_CHUNK)
			rc = out_flush(&o);
	}
	if (rc == 0 && o.len)
		rc = out_flush(&o);
	if (rc == 0) {
		if (!EVP_DigestFinal_ex(o.sha, sum, &sumlen))
			abort();
		rc = ama_lock_write(&idx->lock, sum, sizeof(sum));
	}
	EVP_MD_CTX_free(o.sha);
	free(o.buf);
	return rc;
}

int ama_index_write_and_commit(struct ama_index *idx)
{
	struct stat st;
	int rc;

	assert(idx->lock.fd >= 0);
	merge(idx);
	if (idx->n > UINT32_MAX)
		rc = ama_error_setp(AMA_EINVAL, idx->path,
				    "too many entries for an index");
	else
		rc = write_all(idx);
	if (rc < 0) {
		ama_lock_rollback(&idx->lock);
		return rc;
	}
	if (fstat(idx->lock.fd, &st) == 0)
		idx->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
			st.st_mtim.tv_nsec;
	return ama_lock_commit(&idx->lock);
}

/* --- access and changes --- */

const char *ama_index_path(const struct ama_index *idx)
{
	return idx->path;
}

int64_t ama_index_mtime_ns(const struct ama_index *idx)
{
	return idx->mtime_ns;
}

int ama_index_is_locked(const struct ama_index *idx)
{
	return idx->lock.fd >= 0;
}

struct ama_index_entry *ama_index_entries(struct ama_index *idx, size_t *n)
{
	merge(idx);
	*n = idx->n;
	return idx->e;
}

size_t ama_index_count(struct ama_index *idx)
{
	merge(idx);
	return idx->n;
}

struct ama_index_entry *ama_index_find(struct ama_index *idx,
				       const char *path, size_t len)
{
	struct ama_index_entry *e = find_tail(idx, path, len);

	if (!e)
		e = find_sorted(idx, path, len);
	return e && !(e->flags & ENTRY_REMOVED) ? e : NULL;
}

static void copy_fields(struct ama_index_entry *to,
			const struct ama_index_entry *from)
{
	to->md5 = from->md5;
	to->st = from->st;
	to->state = from->state;
	to->flags = from->flags & AMA_ENTRY_FILE_FLAGS;
}

struct ama_index_entry *ama_index_add(struct ama_index *idx,
				      const struct ama_index_entry *e)
{
	const struct ama_index_entry *last =
		idx->nsorted ? &idx->e[idx->nsorted - 1] : NULL;
	/* a walk adds in order: past the last entry, no search is needed */
	int after_last = !last || path_cmp(last->path, last->path_len,
					   e->path, e->path_len) < 0;
	struct ama_index_entry *old = NULL, *ne;
	char *path;

	assert(e->state < AMA_STATE_COUNT && e->path_len > 0);
	if (!after_last)
		old = find_sorted(idx, e->path, e->path_len);
	if (old && (old->flags & ENTRY_REMOVED))
		idx->nremoved--;
	if (!old)
		old = find_tail(idx, e->path, e->path_len);
	if (old) {
		copy_fields(old, e);
		return old;
	}
	if (idx->n == idx->alloc) {
		idx->alloc = idx->alloc + idx->alloc / 2 + 16;
		idx->e = ama_realloc(idx->e, idx->alloc * sizeof(*idx->e));
	}
	path = arena_alloc(idx, e->path_len + 1, ARENA_BLOCK);
	memcpy(path, e->path, e->path_len);
	path[e->path_len] = '\0';
	ne = &idx->e[idx->n++];
	copy_fields(ne, e);
	ne->path = path;
	ne->path_len = e->path_len;
	if (after_last && idx->nsorted == idx->n - 1) {
		idx->nsorted++;		/* the sorted part grows in place */
	} else {
		hash_grow(idx);
		hash_insert(idx, idx->n - 1);
	}
	return ne;
}

int ama_index_remove(struct ama_index *idx, const char *path, size_t len)
{
	struct ama_index_entry *e = ama_index_find(idx, path, len);

	if (!e)
		return ama_error_setp(AMA_ENOTFOUND, path, "not in the index");
	e->flags |= ENTRY_REMOVED;
	if (e < idx->e + idx->nsorted)
		idx->nremoved++;
	return 0;
}

size_t ama_index_lower_bound(struct ama_index *idx, const char *path,
			     size_t len)
{
	merge(idx);
	return lower_bound(idx->e, idx->n, path, len);
}

size_t ama_index_select(struct ama_index *idx, const char *rootrel,
			size_t len, unsigned char *sel)
{
	struct ama_buf dir = AMA_BUF_INIT;
	size_t i, matched = 0;

	merge(idx);
	if (len == 0) {
		memset(sel, 1, idx->n);
		return idx->n;
	}
	i = lower_bound(idx->e, idx->n, rootrel, len);
	if (i < idx->n && idx->e[i].path_len == len &&
	    !memcmp(idx->e[i].path, rootrel, len)) {
		sel[i] = 1;
		matched++;
	}
	/* "d/..." comes after "d" and after names such as "d.txt" */
	ama_buf_add(&dir, rootrel, len);
	ama_buf_addch(&dir, '/');
	for (i = lower_bound(idx->e, idx->n, dir.s, dir.len);
	     i < idx->n && idx->e[i].path_len > dir.len &&
	     !memcmp(idx->e[i].path, dir.s, dir.len); i++) {
		sel[i] = 1;
		matched++;
	}
	ama_buf_release(&dir);
	return matched;
}

int ama_index_select_path(struct ama_index *idx, const struct ama_asset *a,
			  const char *path, unsigned char *sel)
{
	struct ama_buf rel = AMA_BUF_INIT;
	int rc = ama_asset_path(&rel, a, path);

	if (rc == 0 && !ama_index_select(idx, ama_buf_str(&rel), rel.len, sel))
		rc = ama_error_setp(AMA_ENOTFOUND, path, "not in the index");
	ama_buf_release(&rel);
	return rc;
}

void ama_index_entry_object(const struct ama_index_entry *e,
			    struct ama_object *out)
{
	out->md5 = e->md5;
	out->size = e->st.size;
	out->path = e->path;
	out->path_len = e->path_len;
	out->kind = S_ISLNK(e->st.mode) ? AMA_OBJECT_LINK : AMA_OBJECT_FILE;
}

/* --- racy entries --- */

int ama_index_entry_is_racy(const struct ama_index *idx,
			    const struct ama_index_entry *e)
{
	return (e->flags & AMA_ENTRY_RACY) || e->st.mtime_ns >= idx->mtime_ns;
}

int64_t ama_clock_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int ama_racy_since(const struct ama_stat *st, int64_t start_ns)
{
	return st->mtime_ns >= start_ns;
}
