/* store_file.c: the file:// store: objects are files under a folder, written atomically. */
#include "auto-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "buf.h"
#include "error.h"
#include "lockfile.h"
#include "md5.h"
#include "place.h"
#include "store.h"
#include "store_backend.h"

/*
 * Names starting with ".ama-" are the store's own: temporary files
 * (".ama-tmp-*", renamed to their final name once whole, fsynced and
 * checked) and unfinished multipart uploads (".ama-uploads/"). Keys may
 * not use them; listings skip them.
 */
#define RESERVED ".ama-"
#define IO_SIZE (1024 * 1024)

static int check_key(const char *key)
{
	const char *p = key;

	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return ama_error_set(AMA_EINVAL,
				"a file:// store key may not have an empty, "
				"'.' or '..' part");
		if (!strncmp(p, RESERVED, strlen(RESERVED)))
			return ama_error_set(AMA_EINVAL,
				"a file:// store key may not have a part "
				"starting with '" RESERVED "'");
		if (!e)
			break;
		p = e + 1;
		if (!*p)
			return ama_error_set(AMA_EINVAL,
				"a file:// store key may not end with '/'");
	}
	return 0;
}

static char *obj_path(const struct ama_store *s, const char *key)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addf(&b, "%s/%s", s->url.dir, key);
	return ama_buf_detach(&b);
}

/* The store's folder must exist: AMA_ESETUP if not. */
static int check_root(const struct ama_store *s)
{
	struct stat st;

	if (stat(s->url.dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (errno == ENOENT || errno == ENOTDIR || errno == 0)
		return ama_error_set(AMA_ESETUP, "no such folder: %s",
				     s->url.dir);
	return ama_error_set_errno(AMA_ESETUP, "cannot use folder %s",
				   s->url.dir);
}

static int not_found(const struct ama_store *s)
{
	int rc = check_root(s);

	return rc < 0 ? rc : ama_error_set(AMA_ENOTFOUND, "no such object");
}

/* mkdir -p the folders above path (below the store's folder). */
static int make_parents(const struct ama_store *s, const char *path)
{
	char *copy = ama_strdup(path);
	size_t root = strlen(s->url.dir);
	char *p;
	int rc = 0;

	for (p = copy + root + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
			rc = errno == ENOENT ? check_root(s) : 0;
			if (rc == 0)
				rc = ama_error_set_errno(AMA_EIO,
					"cannot make folder %s", copy);
			break;
		}
		*p = '/';
	}
	free(copy);
	return rc;
}

static int file_create_bucket(struct ama_store *s)
{
	char *copy = ama_strdup(s->url.dir);
	char *p;
	int rc = 0;

	for (p = copy + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
			rc = ama_error_set_errno(AMA_ESETUP,
				"cannot make folder %s", copy);
			break;
		}
		*p = c;
		if (!c)
			break;
	}
	free(copy);
	return rc;
}

static void fill_info(struct ama_store_info *out, const struct stat *st)
{
	memset(out, 0, sizeof(*out));
	out->size = (uint64_t)st->st_size;
	out->mtime = st->st_mtime;
}

static int file_head(struct ama_store *s, const char *key,
		     struct ama_store_info *out)
{
	char *path;
	struct stat st;
	int rc = check_key(key);

	if (rc < 0)
		return rc;
	path = obj_path(s, key);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = errno == ENOENT || errno == ENOTDIR ||
			!S_ISREG(st.st_mode) ? not_found(s) :
			ama_error_set_errno(AMA_EIO, "cannot stat %s", path);
	} else {
		fill_info(out, &st);
	}
	free(path);
	return rc;
}

static int open_object(struct ama_store *s, const char *key, int *fd,
		       struct stat *st)
{
	char *path;
	int rc = check_key(key);

	if (rc < 0)
		return rc;
	path = obj_path(s, key);
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0) {
		rc = errno == ENOENT || errno == ENOTDIR ? not_found(s) :
			ama_error_set_errno(AMA_EIO, "cannot open %s", path);
	} else if (fstat(*fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(*fd);
		*fd = -1;
		rc = not_found(s);
	}
	free(path);
	return rc;
}

static int file_get(struct ama_store *s, const char *key, uint64_t offset,
		    uint64_t length, ama_store_sink_fn sink, void *ctx,
		    struct ama_store_info *info)
{
	struct stat st;
	char *buf = NULL;
	uint64_t end;
	int fd, rc;

	rc = open_object(s, key, &fd, &st);
	if (rc < 0)
		return rc;
	fill_info(info, &st);
	if (offset > (uint64_t)st.st_size ||
	    (length != AMA_STORE_TO_END && offset + length > (uint64_t)st.st_size)) {
		rc = ama_error_set(AMA_EINVAL,
				   "range past the end of the object");
		goto out;
	}
	end = length == AMA_STORE_TO_END ? (uint64_t)st.st_size :
		offset + length;
	buf = ama_malloc(IO_SIZE);
	while (offset < end) {
		size_t want = end - offset > IO_SIZE ? IO_SIZE :
			(size_t)(end - offset);
		ssize_t n = pread(fd, buf, want, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? ama_error_set_errno(AMA_EIO,
							 "cannot read object") :
				ama_error_set(AMA_EIO,
					"object shrank while it was read");
			goto out;
		}
		rc = sink(ctx, buf, (size_t)n);
		if (rc < 0)
			goto out;
		offset += (uint64_t)n;
	}
out:
	free(buf);
	close(fd);
	return rc;
}

/*
 * The store's errors name no file of its own (the caller names the key):
 * take lib/place.c's reason without its subject.
 */
static int unsubject(int rc)
{
	char *msg = ama_strdup(ama_error_msg());

	ama_error_set(rc, "%s", msg);
	free(msg);
	return rc;
}

/*
 * A failure of lib/place.c: a missing folder is a missing store when its
 * root is gone; else the reason, without the file's name.
 */
static int place_error(const struct ama_store *s, int rc)
{
	int root;

	if (rc == AMA_ENOTFOUND) {
		root = check_root(s);
		if (root < 0)
			return root;
		rc = AMA_EIO;
	}
	return unsubject(rc);
}

/*
 * A temporary file beside path (lib/place.h, named ".ama-tmp-*", which
 * RESERVED keeps out of keys and listings), after the folders above it.
 */
static int make_temp(const struct ama_store *s, const char *path,
		     struct ama_place_tmp *t)
{
	int rc = make_parents(s, path);

	if (rc == 0)
		rc = ama_place_tmp_open(t, path, 0644);
	return rc < 0 ? place_error(s, rc) : 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return ama_error_set_errno(AMA_EIO,
						   "cannot write object");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Put the finished temporary file in place: fsync, then rename (or link,
 * which fails if the key exists, for a create-only put), fsync the folder.
 */
static int commit_temp(struct ama_place_tmp *t, unsigned flags)
{
	int rc = ama_place_tmp_commit(t, AMA_PLACE_FSYNC |
				      (flags & AMA_STORE_IF_NONE_MATCH ?
				       AMA_PLACE_NOCLOBBER : 0), NULL);

	if (rc == AMA_EEXIST)
		return ama_error_set(AMA_ECONFLICT,
				     "the object exists already");
	return rc < 0 ? unsubject(rc) : 0;
}

/* Copy n bytes (or to EOF when n is UINT64_MAX) from in at off into out, hashing them. */
static int copy_hashing(const struct ama_store *s, int out, int in,
			uint64_t off, uint64_t n, struct ama_hasher *h,
			uint64_t *copied)
{
	*copied = 0;
	while (n > 0) {
		if (s->cancelled)
			return ama_store_interrupted(s);
		size_t want = n > h->bufsize ? h->bufsize : (size_t)n;
		ssize_t r = pread(in, h->buf, want, (off_t)off);
		int rc;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ama_error_set_errno(AMA_EIO, "cannot read");
		if (r == 0)
			break;
		ama_hasher_update(h, h->buf, (size_t)r);
		rc = write_all(out, h->buf, (size_t)r);
		if (rc < 0)
			return rc;
		off += (uint64_t)r;
		*copied += (uint64_t)r;
		if (n != UINT64_MAX)
			n -= (uint64_t)r;
	}
	return 0;
}

static int file_put(struct ama_store *s, const struct ama_store_put *p,
		    struct ama_store_info *info)
{
	struct ama_place_tmp t = AMA_PLACE_TMP_INIT;
	struct ama_hasher h;
	struct ama_md5 got;
	char *path;
	uint64_t n = 0;
	int in = -1, rc = check_key(p->key);

	if (rc < 0)
		return rc;
	path = obj_path(s, p->key);
	ama_hasher_init(&h);
	rc = make_temp(s, path, &t);
	if (rc < 0)
		goto out;
	ama_hasher_start(&h);
	if (p->path) {
		in = open(p->path, O_RDONLY | O_CLOEXEC);
		if (in < 0) {
			rc = errno == ENOENT ?
				ama_error_setp(AMA_ENOTFOUND, p->path,
					       "no such file") :
				ama_error_setp_errno(AMA_EIO, p->path,
						     "cannot open");
			goto out;
		}
		rc = copy_hashing(s, t.fd, in, 0, p->size + 1, &h, &n);
		if (rc == 0 && n != p->size)
			rc = ama_error_setp(AMA_ECHANGED, p->path,
					    "changed while it was sent");
	} else {
		ama_hasher_update(&h, p->data, p->len);
		rc = write_all(t.fd, p->data, p->len);
		n = p->len;
	}
	if (rc < 0)
		goto out;
	ama_hasher_finish(&h, &got);
	if (!ama_md5_equal(&got, p->md5)) {
		rc = ama_error_set(AMA_EDIGEST,
				   "content does not match its MD5");
		goto out;
	}
	rc = commit_temp(&t, p->flags);
	if (rc == 0) {
		memset(info, 0, sizeof(*info));
		info->size = n;
	}
out:
	ama_place_tmp_abort(&t);	/* nothing left to do once committed */
	if (in >= 0)
		close(in);
	ama_hasher_release(&h);
	free(path);
	return rc;
}

static int file_copy(struct ama_store *dst, const char *dst_key,
		     struct ama_store *src, const char *src_key,
		     const char *if_match, uint64_t size,
		     struct ama_store_info *info)
{
	/* a reflink where the filesystem allows, else a copy in the kernel */
	static const struct ama_place_opts place = {
		AMA_PLACE_AUTO, AMA_PLACE_FSYNC, 0644
	};
	struct ama_place_tmp t = AMA_PLACE_TMP_INIT;
	struct ama_place_result r;
	struct ama_hasher h;
	struct stat st;
	char *path = NULL;
	int in = -1, rc;

	rc = check_key(dst_key);
	if (rc == 0)
		rc = open_object(src, src_key, &in, &st);
	if (rc < 0)
		return rc;
	path = obj_path(dst, dst_key);
	(void)size;	/* the open file says it */
	if (!if_match) {
		rc = make_parents(dst, path);
		if (rc == 0)
			rc = ama_place_file(path, in, NULL, &place, &r);
		if (rc < 0)
			rc = place_error(dst, rc);
		else
			info->size = r.size;
		goto out;
	}
	rc = make_temp(dst, path, &t);
	if (rc == 0) {
		/* no ETags kept here: the precondition costs a read */
		struct ama_md5 got;
		char hex[AMA_MD5_HEXLEN + 1];
		uint64_t n;

		ama_hasher_init(&h);
		ama_hasher_start(&h);
		rc = copy_hashing(dst, t.fd, in, 0, UINT64_MAX, &h, &n);
		ama_hasher_finish(&h, &got);
		ama_hasher_release(&h);
		ama_md5_to_hex(hex, &got);
		if (rc == 0 && strcmp(hex, if_match))
			rc = ama_error_set(AMA_ECONFLICT,
				"the source is not the object expected "
				"(ETag %s, not %s)", hex, if_match);
		if (rc == 0) {
			snprintf(info->etag, sizeof(info->etag), "%s", hex);
			info->etag_is_md5 = 1;
		}
		info->size = n;
	}
	if (rc == 0)
		rc = commit_temp(&t, 0);
out:
	ama_place_tmp_abort(&t);
	close(in);
	free(path);
	return rc;
}

static int file_del(struct ama_store *s, const char *key)
{
	char *path;
	int rc = check_key(key);

	if (rc < 0)
		return rc;
	rc = check_root(s);
	if (rc < 0)
		return rc;
	path = obj_path(s, key);
	if (unlink(path) < 0 && errno != ENOENT && errno != ENOTDIR)
		rc = ama_error_set_errno(AMA_EIO, "cannot remove object");
	else {
		/* drop folders the object leaves empty */
		char *slash;
		size_t root = strlen(s->url.dir);

		while ((slash = strrchr(path, '/')) && (size_t)(slash - path) > root) {
			*slash = '\0';
			if (rmdir(path) < 0)
				break;
		}
	}
	free(path);
	return rc;
}

/* --- listing --- */

struct walk {
	struct ama_store_entry *e;
	size_t n, alloc;
	const char *prefix;
	size_t root_len;
};

static int walk_dir(struct walk *w, struct ama_buf *path)
{
	DIR *d = opendir(path->s);
	struct dirent *de;
	size_t len = path->len;
	int rc = 0;

	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
			ama_error_set_errno(AMA_EIO, "cannot list %s", path->s);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		const char *key;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strncmp(de->d_name, RESERVED, strlen(RESERVED)))
			continue;
		ama_buf_truncate(path, len);
		ama_buf_addch(path, '/');
		ama_buf_addstr(path, de->d_name);
		key = path->s + w->root_len + 1;
		if (lstat(path->s, &st) < 0)
			continue;	/* removed meanwhile */
		if (S_ISDIR(st.st_mode)) {
			/* only folders that can hold keys with the prefix */
			size_t kl = strlen(key), pl = strlen(w->prefix);

			if (!strncmp(key, w->prefix, kl < pl ? kl : pl))
				rc = walk_dir(w, path);
			continue;
		}
		if (!S_ISREG(st.st_mode) ||
		    strncmp(key, w->prefix, strlen(w->prefix)))
			continue;
		if (w->n == w->alloc) {
			w->alloc = w->alloc ? 2 * w->alloc : 64;
			w->e = ama_realloc(w->e, w->alloc * sizeof(*w->e));
		}
		w->e[w->n].key = ama_strdup(key);
		fill_info(&w->e[w->n].info, &st);
		w->n++;
	}
	closedir(d);
	ama_buf_truncate(path, len);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct ama_store_entry *)a)->key,
		      ((const struct ama_store_entry *)b)->key);
}

static int file_list_page(struct ama_store *s, const char *prefix,
			  const char *after, int max_keys,
			  struct ama_store_page *out)
{
	struct walk w = { NULL, 0, 0, prefix, strlen(s->url.dir) };
	struct ama_buf path = AMA_BUF_INIT;
	size_t i, first = 0;
	int rc = check_root(s);

	if (rc < 0)
		return rc;
	ama_buf_addstr(&path, s->url.dir);
	rc = walk_dir(&w, &path);
	ama_buf_release(&path);
	if (rc == 0) {
		if (w.n)
			qsort(w.e, w.n, sizeof(*w.e), cmp_entry);
		while (after && first < w.n && strcmp(w.e[first].key, after) <= 0)
			first++;
		out->entries = ama_calloc(max_keys, sizeof(*out->entries));
		for (i = first; i < w.n && out->n < (size_t)max_keys; i++) {
			out->entries[out->n++] = w.e[i];
			w.e[i].key = NULL;
		}
		if (i < w.n)
			out->next = ama_strdup(out->entries[out->n - 1].key);
	}
	for (i = 0; i < w.n; i++)
		free(w.e[i].key);
	free(w.e);
	return rc;
}

/* --- multipart: parts are files in .ama-uploads/ID/, joined on completion --- */

static char *upload_dir(const struct ama_store *s, const char *id)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addf(&b, "%s/" RESERVED "uploads/%s", s->url.dir, id);
	return ama_buf_detach(&b);
}

static int file_mpu_start(struct ama_store_upload *u)
{
	unsigned char r[16];
	char hex[33], *dir;
	struct ama_buf b = AMA_BUF_INIT;
	int rc = check_key(u->key), i;

	if (rc == 0)
		rc = check_root(u->s);
	if (rc < 0)
		return rc;
	if (RAND_bytes(r, sizeof(r)) != 1)
		return ama_error_set(AMA_EIO, "no random bytes for an id");
	for (i = 0; i < 16; i++)
		sprintf(hex + 2 * i, "%02x", r[i]);
	ama_buf_addf(&b, "%s/" RESERVED "uploads", u->s->url.dir);
	if (mkdir(b.s, 0755) < 0 && errno != EEXIST)
		rc = ama_error_set_errno(AMA_EIO, "cannot make %s", b.s);
	ama_buf_release(&b);
	dir = upload_dir(u->s, hex);
	if (rc == 0 && mkdir(dir, 0755) < 0)
		rc = ama_error_set_errno(AMA_EIO, "cannot make %s", dir);
	free(dir);
	if (rc == 0)
		u->id = ama_strdup(hex);
	return rc;
}

static int file_mpu_part(struct ama_store_upload *u, int partno,
			 const char *path, uint64_t offset, uint64_t len)
{
	struct ama_buf part = AMA_BUF_INIT, tmp = AMA_BUF_INIT;
	struct ama_hasher h;
	struct ama_md5 md5;
	char hex[AMA_MD5_HEXLEN + 1], *dir = upload_dir(u->s, u->id);
	uint64_t n = 0;
	int in, out = -1, rc = 0;

	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		free(dir);
		return ama_error_setp_errno(errno == ENOENT ? AMA_ENOTFOUND :
					    AMA_EIO, path, "cannot open");
	}
	ama_buf_addf(&part, "%s/%05d", dir, partno);
	ama_buf_addf(&tmp, "%s/tmp-%05d", dir, partno);
	out = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		rc = errno == ENOENT ?
			ama_error_set(AMA_ENOTFOUND, "no such upload") :
			ama_error_set_errno(AMA_EIO, "cannot write part");
		goto out;
	}
	ama_hasher_init(&h);
	ama_hasher_start(&h);
	rc = copy_hashing(u->s, out, in, offset, len, &h, &n);
	ama_hasher_finish(&h, &md5);
	ama_hasher_release(&h);
	if (rc == 0 && n != len)
		rc = ama_error_setp(AMA_ECHANGED, path,
				    "shorter than the part asked for");
	if (rc == 0 && rename(tmp.s, part.s) < 0)
		rc = ama_error_set_errno(AMA_EIO, "cannot rename part");
	if (rc == 0) {
		ama_md5_to_hex(hex, &md5);
		ama_store_upload_add_part(u, partno, hex);
	}
out:
	if (out >= 0) {
		close(out);
		if (rc < 0)
			unlink(tmp.s);
	}
	close(in);
	ama_buf_release(&part);
	ama_buf_release(&tmp);
	free(dir);
	return rc;
}

static int remove_upload(struct ama_store_upload *u)
{
	char *dir = upload_dir(u->s, u->id);
	DIR *d = opendir(dir);
	struct dirent *de;
	struct ama_buf p = AMA_BUF_INIT;
	int rc = 0;

	if (!d) {
		free(dir);
		return errno == ENOENT ?
			ama_error_set(AMA_ENOTFOUND, "no such upload") :
			ama_error_set_errno(AMA_EIO, "cannot open upload");
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		ama_buf_reset(&p);
		ama_buf_addf(&p, "%s/%s", dir, de->d_name);
		unlink(p.s);
	}
	closedir(d);
	if (rmdir(dir) < 0)
		rc = ama_error_set_errno(AMA_EIO, "cannot remove upload");
	ama_buf_release(&p);
	free(dir);
	return rc;
}

static int file_mpu_complete(struct ama_store_upload *u,
			     struct ama_store_info *info)
{
	struct ama_place_tmp t = AMA_PLACE_TMP_INIT;
	struct ama_buf part = AMA_BUF_INIT;
	struct ama_hasher h;
	struct ama_md5 got;
	char *path = obj_path(u->s, u->key), *dir = upload_dir(u->s, u->id);
	uint64_t total = 0;
	size_t i;
	int rc;

	ama_hasher_init(&h);
	rc = make_temp(u->s, path, &t);
	if (rc < 0)
		goto out;
	ama_hasher_start(&h);
	for (i = 0; i < u->nparts && rc == 0; i++) {
		uint64_t n;
		int in;

		ama_buf_reset(&part);
		ama_buf_addf(&part, "%s/%05d", dir, u->partno[i]);
		in = open(part.s, O_RDONLY | O_CLOEXEC);
		if (in < 0) {
			rc = ama_error_set(AMA_ENOTFOUND,
					   "no such upload or part %d",
					   u->partno[i]);
			break;
		}
		rc = copy_hashing(u->s, t.fd, in, 0, UINT64_MAX, &h, &n);
		total += n;
		close(in);
	}
	ama_hasher_finish(&h, &got);
	if (rc == 0 && u->has_md5 && !ama_md5_equal(&got, &u->md5))
		rc = ama_error_set(AMA_EDIGEST,
				   "content does not match its MD5");
	if (rc == 0)
		rc = commit_temp(&t, 0);
	if (rc == 0) {
		memset(info, 0, sizeof(*info));
		info->size = total;
		info->multipart = 1;
		remove_upload(u);
	}
out:
	ama_place_tmp_abort(&t);
	ama_hasher_release(&h);
	ama_buf_release(&part);
	free(path);
	free(dir);
	return rc;
}

static int file_mpu_abort(struct ama_store_upload *u)
{
	return remove_upload(u);
}

static void file_close(struct ama_store *s)
{
	(void)s;
}

static const struct ama_store_ops file_ops = {
	.close = file_close,
	.create_bucket = file_create_bucket,
	.head = file_head,
	.get = file_get,
	.put = file_put,
	.copy = file_copy,
	.del = file_del,
	.list_page = file_list_page,
	.mpu_start = file_mpu_start,
	.mpu_part = file_mpu_part,
	.mpu_complete = file_mpu_complete,
	.mpu_abort = file_mpu_abort,
};

int ama_store_file_open(struct ama_store *s)
{
	s->ops = &file_ops;
	return 0;
}
