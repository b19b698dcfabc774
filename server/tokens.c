/* tokens.c: the users file of ama-server: SHA-256 of each token, edited atomically, read on change. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "buf.h"
#include "error.h"
#include "lockfile.h"
#include "manifest.h"
#include "tokens.h"

struct entry {
	char user[SRV_USER_MAX + 1];
	unsigned char hash[32];
};

struct table {
	struct entry *e;
	size_t n;
};

static void table_release(struct table *t)
{
	if (t->e)
		explicit_bzero(t->e, t->n * sizeof(*t->e));
	free(t->e);
	t->e = NULL;
	t->n = 0;
}

int srv_tokens_check_user(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > SRV_USER_MAX)
		return ama_error_set(AMA_EINVAL,
				     "a user name has 1 to %d bytes",
				     SRV_USER_MAX);
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789._@-") != n)
		return ama_error_set(AMA_EINVAL, "a user name holds only "
				     "letters, digits, '.', '_', '@' and '-'");
	if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789", name[0]))
		return ama_error_set(AMA_EINVAL, "a user name starts with a "
				     "letter or a digit");
	return ama_manifest_check_author(name);
}

static void sha256(unsigned char *out, const void *data, size_t len)
{
	if (!EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL))
		abort();
}

static int unhex(unsigned char *out, const char *s, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < 2 * n; i++) {
		const char *d = s[i] ? strchr(digits, s[i]) : NULL;

		if (!d)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)((d - digits) << 4);
		else
			out[i / 2] |= (unsigned char)(d - digits);
	}
	return 0;
}

static void tohex(char *out, const unsigned char *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* Parse the file's text into t. */
static int parse(struct table *t, const char *path, const char *text,
		 size_t len)
{
	size_t pos = 0, alloc = 0;
	unsigned long lineno = 0;

	while (pos < len) {
		const char *line = text + pos, *nl, *sp;
		size_t n, ulen;
		struct entry *e;

		lineno++;
		nl = memchr(line, '\n', len - pos);
		n = nl ? (size_t)(nl - line) : len - pos;	/* the last line */
		pos += n + 1;
		sp = memchr(line, ' ', n);
		if (!sp || (size_t)(line + n - sp - 1) != 64)
			goto bad;
		ulen = (size_t)(sp - line);
		if (ulen == 0 || ulen > SRV_USER_MAX)
			goto bad;
		if (t->n == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			t->e = ama_realloc(t->e, alloc * sizeof(*t->e));
		}
		e = &t->e[t->n];
		memcpy(e->user, line, ulen);
		e->user[ulen] = '\0';
		if (srv_tokens_check_user(e->user) < 0 ||
		    unhex(e->hash, sp + 1, 32) < 0)
			goto bad;
		t->n++;
	}
	return 0;
bad:
	table_release(t);
	return ama_error_setp(AMA_ECORRUPT, path,
			      "line %lu: not \"USER SHA256HEX\"", lineno);
}

/* Refuse a file others may read or write. */
static int check_mode(const char *path, const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return ama_error_setp(AMA_ESETUP, path, "not a regular file");
	if (st->st_mode & (S_IRWXG | S_IRWXO))
		return ama_error_setp(AMA_ESETUP, path,
				      "the tokens file may be used by group "
				      "or others: make it private with "
				      "chmod 600");
	return 0;
}

/* Read the file into t; st gets what it was when read. */
static int load(struct table *t, const char *path, struct stat *st)
{
	struct ama_buf b = AMA_BUF_INIT;
	int fd, rc = 0;

	memset(t, 0, sizeof(*t));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return ama_error_setp(AMA_ENOTFOUND, path,
					      "no tokens file");
		return ama_error_setp_errno(AMA_EIO, path, "cannot open");
	}
	if (fstat(fd, st) < 0) {
		rc = ama_error_setp_errno(AMA_EIO, path, "cannot stat");
		goto out;
	}
	rc = check_mode(path, st);
	while (rc == 0) {
		ssize_t n;

		ama_buf_grow(&b, 4096);
		n = read(fd, b.s + b.len, b.cap - b.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = ama_error_setp_errno(AMA_EIO, path, "cannot read");
		if (n <= 0)
			break;
		b.len += (size_t)n;
	}
	if (rc == 0)
		rc = parse(t, path, b.s ? b.s : "", b.len);
out:
	close(fd);
	if (b.s)
		explicit_bzero(b.s, b.cap);
	ama_buf_release(&b);
	return rc;
}

static struct entry *find(struct table *t, const char *user)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].user, user))
			return &t->e[i];
	return NULL;
}

/*
 * Edit the file under its lock: take the lock, read the file (missing:
 * empty), let edit() change the table, write it. Returns edit's error or
 * the file's.
 */
static int edit_file(const char *path,
		     int (*edit)(struct table *t, void *ctx), void *ctx)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	struct table t = { NULL, 0 };
	struct ama_buf out = AMA_BUF_INIT;
	struct stat st;
	size_t i;
	int rc;

	rc = ama_lock_acquire(&lk, path, 0600);
	if (rc < 0)
		return rc;
	rc = load(&t, path, &st);
	if (rc == AMA_ENOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = edit(&t, ctx);
	for (i = 0; rc == 0 && i < t.n; i++) {
		char hex[65];

		tohex(hex, t.e[i].hash, 32);
		ama_buf_addf(&out, "%s %s\n", t.e[i].user, hex);
	}
	if (rc == 0)
		rc = ama_lock_write(&lk, ama_buf_str(&out), out.len);
	if (rc == 0)
		rc = ama_lock_commit(&lk);
	else
		ama_lock_rollback(&lk);
	table_release(&t);
	ama_buf_release(&out);
	return rc;
}

struct add_ctx {
	const char *user;
	char *token;
};

static int add_edit(struct table *t, void *ctx)
{
	struct add_ctx *a = ctx;
	unsigned char r[32];
	struct entry *e;

	if (find(t, a->user))
		return ama_error_set(AMA_EEXIST, "%s has a token already; "
				     "revoke it first", a->user);
	if (RAND_bytes(r, sizeof(r)) != 1)
		return ama_error_set(AMA_EIO, "no random bytes from OpenSSL");
	memcpy(a->token, "ama_", 4);
	tohex(a->token + 4, r, sizeof(r));
	explicit_bzero(r, sizeof(r));
	t->e = ama_realloc(t->e, (t->n + 1) * sizeof(*t->e));
	e = &t->e[t->n++];
	snprintf(e->user, sizeof(e->user), "%s", a->user);
	sha256(e->hash, a->token, SRV_TOKEN_LEN);
	return 0;
}

int srv_tokens_add(const char *path, const char *user, char *token)
{
	struct add_ctx a = { user, token };
	int rc = srv_tokens_check_user(user);

	if (rc < 0)
		return rc;
	rc = edit_file(path, add_edit, &a);
	if (rc < 0)
		explicit_bzero(token, SRV_TOKEN_LEN + 1);
	return rc;
}

static int revoke_edit(struct table *t, void *ctx)
{
	const char *user = ctx;
	struct entry *e = find(t, user);

	if (!e)
		return ama_error_set(AMA_ENOTFOUND, "%s has no token", user);
	memmove(e, e + 1, (size_t)(t->e + t->n - e - 1) * sizeof(*e));
	t->n--;
	return 0;
}

int srv_tokens_revoke(const char *path, const char *user)
{
	int rc = srv_tokens_check_user(user);

	if (rc < 0)
		return rc;
	return edit_file(path, revoke_edit, (void *)user);
}

int srv_tokens_list(const char *path, struct ama_buf *out)
{
	struct table t;
	struct stat st;
	size_t i;
	int rc = load(&t, path, &st);

	if (rc == AMA_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	for (i = 0; i < t.n; i++)
		ama_buf_addf(out, "%s\n", t.e[i].user);
	table_release(&t);
	return 0;
}

/* --- the table the server holds --- */

struct srv_tokens {
	char *path;
	pthread_rwlock_t lock;
	struct table t;
	struct stat seen;	/* the file as last read */
	int seen_ok;		/* seen is valid */
	int err;		/* the last read failed with this code */
	char errmsg[512];
	char errpath[512];
};

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
		a->st_size == b->st_size &&
		a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
		a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
		a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
		a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Read the file again into t (write lock held). */
static void reload(struct srv_tokens *t)
{
	struct table n;
	struct stat st;
	int rc = load(&n, t->path, &st);

	table_release(&t->t);
	t->seen_ok = 0;
	t->err = rc;
	if (rc < 0) {
		snprintf(t->errmsg, sizeof(t->errmsg), "%s", ama_error_msg());
		snprintf(t->errpath, sizeof(t->errpath), "%s",
			 ama_error_path() ? ama_error_path() : t->path);
		/* a file read in the middle of its change is looked at again */
		if (stat(t->path, &t->seen) == 0)
			t->seen_ok = 1;
		return;
	}
	t->t = n;
	t->seen = st;
	t->seen_ok = 1;
}

int srv_tokens_open(struct srv_tokens **out, const char *path)
{
	struct srv_tokens *t = ama_calloc(1, sizeof(*t));

	t->path = ama_strdup(path);
	pthread_rwlock_init(&t->lock, NULL);
	reload(t);
	if (t->err < 0) {
		int rc = t->err;

		srv_tokens_close(t);
		*out = NULL;
		return rc;
	}
	*out = t;
	return 0;
}

void srv_tokens_close(struct srv_tokens *t)
{
	if (!t)
		return;
	table_release(&t->t);
	pthread_rwlock_destroy(&t->lock);
	free(t->path);
	free(t);
}

/* Has the file changed since it was read? */
static int changed(struct srv_tokens *t)
{
	struct stat st;

	if (stat(t->path, &st) < 0)
		return t->seen_ok || t->err != AMA_ENOTFOUND;
	return !t->seen_ok || !same_file(&st, &t->seen);
}

int srv_tokens_check(struct srv_tokens *t, const char *token, size_t len,
		     char *user)
{
	unsigned char h[32];
	size_t i, found = SIZE_MAX;
	int rc;

	pthread_rwlock_rdlock(&t->lock);
	if (changed(t)) {
		pthread_rwlock_unlock(&t->lock);
		pthread_rwlock_wrlock(&t->lock);
		if (changed(t))
			reload(t);
	}
	if (t->err < 0) {
		rc = ama_error_setp(t->err, t->errpath, "%s", t->errmsg);
		pthread_rwlock_unlock(&t->lock);
		return rc;
	}
	sha256(h, token, len);
	/* every entry, whatever matched: the time does not tell which */
	for (i = 0; i < t->t.n; i++)
		if (CRYPTO_memcmp(h, t->t.e[i].hash, sizeof(h)) == 0)
			found = i;
	if (found != SIZE_MAX)
		memcpy(user, t->t.e[found].user, SRV_USER_MAX + 1);
	pthread_rwlock_unlock(&t->lock);
	return found != SIZE_MAX;
}
