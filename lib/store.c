/* store.c: bucket URLs, opening a store, the calls every backend shares, the retry policy. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "buf.h"
#include "error.h"
#include "md5.h"
#include "store.h"
#include "store_backend.h"

void ama_store_url_release(struct ama_store_url *u)
{
	free(u->bucket);
	free(u->prefix);
	free(u->dir);
	memset(u, 0, sizeof(*u));
}

/* Are the '/'-separated parts of s (len n) all non-empty and not "." or ".."? */
static int clean_parts(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && s[j] != '/')
			j++;
		if (j == i || (j - i == 1 && s[i] == '.') ||
		    (j - i == 2 && s[i] == '.' && s[i + 1] == '.'))
			return 0;
		i = j + 1;
		if (j + 1 == n)		/* a trailing '/' */
			return 1;
	}
	return 1;
}

static int bucket_name_ok(const char *b, size_t n)
{
	size_t i;

	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') ||
		      (b[i] >= '0' && b[i] <= '9') || b[i] == '-' ||
		      b[i] == '.'))
			return 0;
	return b[0] != '.' && b[0] != '-' && b[n - 1] != '.' &&
		b[n - 1] != '-';
}

int ama_store_url_parse(struct ama_store_url *out, const char *url)
{
	memset(out, 0, sizeof(*out));
	if (!strncmp(url, "file://", 7)) {
		const char *d = url + 7;
		size_t n = strlen(d);

		if (*d != '/')
			return ama_error_set(AMA_ESETUP,
				"not a bucket URL: '%s': a file:// URL needs "
				"an absolute folder (file:///dir)", url);
		while (n > 1 && d[n - 1] == '/')
			n--;
		if (n <= 1 || !clean_parts(d + 1, n - 1))
			return ama_error_set(AMA_ESETUP,
				"not a bucket URL: '%s': the folder must be "
				"clean and not the root", url);
		out->kind = AMA_STORE_FILE;
		out->dir = ama_strndup(d, n);
		return 0;
	}
	if (!strncmp(url, "s3://", 5)) {
		const char *b = url + 5, *slash = strchr(b, '/');
		size_t bn = slash ? (size_t)(slash - b) : strlen(b);
		const char *p = slash ? slash + 1 : "";
		size_t pn = strlen(p);
		struct ama_buf prefix = AMA_BUF_INIT;

		if (!bucket_name_ok(b, bn))
			return ama_error_set(AMA_ESETUP,
				"not a bucket URL: '%s': bad bucket name", url);
		if (pn && !clean_parts(p, pn))
			return ama_error_set(AMA_ESETUP,
				"not a bucket URL: '%s': empty, '.' or '..' "
				"part in the prefix", url);
		ama_buf_add(&prefix, p, pn);
		if (pn && p[pn - 1] != '/')
			ama_buf_addch(&prefix, '/');
		out->kind = AMA_STORE_S3;
		out->bucket = ama_strndup(b, bn);
		out->prefix = ama_buf_detach(&prefix);
		if (!out->prefix)
			out->prefix = ama_strdup("");
		return 0;
	}
	return ama_error_set(AMA_ESETUP,
		"not a bucket URL: '%s' (file:///dir or s3://bucket/prefix)",
		url);
}

static int load_tuning(struct ama_store_tuning *t,
		       const struct ama_config *cfg)
{
	long jobs = 8, attempts = 6, delay = 100, max = 10000;
	int rc;

	t->multipart_threshold = 64ULL << 20;
	t->part_size = 16ULL << 20;
	t->copy_part_threshold = 5ULL << 30;
	rc = ama_config_get_int(cfg, "transfer", "jobs", &jobs);
	if (rc == 0)
		rc = ama_config_get_size(cfg, "transfer",
					 "multipart-threshold",
					 &t->multipart_threshold);
	if (rc == 0)
		rc = ama_config_get_size(cfg, "transfer", "part-size",
					 &t->part_size);
	if (rc == 0)
		rc = ama_config_get_size(cfg, "transfer",
					 "copy-part-threshold",
					 &t->copy_part_threshold);
	if (rc == 0)
		rc = ama_config_get_int(cfg, "transfer", "retries", &attempts);
	if (rc == 0)
		rc = ama_config_get_int(cfg, "transfer", "retry-delay", &delay);
	if (rc == 0)
		rc = ama_config_get_int(cfg, "transfer", "retry-max-delay",
					&max);
	if (rc < 0)
		return rc;
	if (jobs < 1 || jobs > 1024)
		return ama_error_set(AMA_ESETUP,
			"[transfer] jobs: %ld is not from 1 to 1024", jobs);
	if (attempts < 1 || attempts > 100)
		return ama_error_set(AMA_ESETUP,
			"[transfer] retries: %ld is not from 1 to 100",
			attempts);
	if (delay < 0 || max < 0 || delay > 600000 || max > 600000)
		return ama_error_set(AMA_ESETUP,
			"[transfer] retry-delay and retry-max-delay are "
			"milliseconds from 0 to 600000");
	if (t->part_size < 1)
		return ama_error_set(AMA_ESETUP,
				     "[transfer] part-size: must not be 0");
	t->jobs = (int)jobs;
	t->attempts = (int)attempts;
	t->retry_delay_ms = (unsigned)delay;
	t->retry_max_ms = (unsigned)max;
	return 0;
}

int ama_store_open(struct ama_store **out, const char *url,
		   const struct ama_config *cfg, const char *role)
{
	struct ama_store *s = ama_calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	rc = ama_store_url_parse(&s->url, url);
	if (rc == 0)
		rc = load_tuning(&s->tuning, cfg);
	if (rc < 0)
		goto fail;
	s->url_str = ama_strdup(url);
	if (s->url.kind == AMA_STORE_FILE)
		rc = ama_store_file_open(s);
	else
		rc = ama_store_s3_open(s, cfg, role);
	if (rc < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	ama_store_url_release(&s->url);
	free(s->url_str);
	free(s);
	return rc;
}

void ama_store_close(struct ama_store *s)
{
	if (!s)
		return;
	if (s->ops)
		s->ops->close(s);
	ama_store_url_release(&s->url);
	free(s->url_str);
	free(s);
}

enum ama_store_kind ama_store_kind(const struct ama_store *s)
{
	return s->url.kind;
}

const char *ama_store_url(const struct ama_store *s)
{
	return s->url_str;
}

void ama_store_key_url(struct ama_buf *out, const struct ama_store *s,
		       const char *key)
{
	if (s->url.kind == AMA_STORE_FILE)
		ama_buf_addf(out, "file://%s/%s", s->url.dir, key);
	else
		ama_buf_addf(out, "s3://%s/%s%s", s->url.bucket,
			     s->url.prefix, key);
}

void ama_store_cancel(struct ama_store *s)
{
	s->cancelled = 1;
}

static struct ama_store *volatile signal_stores[2];
static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
	if (signal_stores[0])
		ama_store_cancel(signal_stores[0]);
	if (signal_stores[1])
		ama_store_cancel(signal_stores[1]);
}

void ama_store_cancel_on_signals(struct ama_store *a, struct ama_store *b)
{
	static int installed;
	struct sigaction sa;

	signal_stores[0] = a;
	signal_stores[1] = b;
	if (installed++)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void ama_store_signal_exit(void)
{
	if (!caught)
		return;
	signal(caught, SIG_DFL);
	raise(caught);
}

volatile sig_atomic_t *ama_store_signal_flag(void)
{
	return &caught;
}

int ama_store_interrupted(const struct ama_store *s)
{
	return s->cancelled ? ama_error_set(AMA_EIO, "interrupted") : 0;
}

struct ama_store_tuning *ama_store_tuning(struct ama_store *s)
{
	return &s->tuning;
}

void ama_store_info_classify(struct ama_store_info *info)
{
	size_t n = strlen(info->etag), i;
	int md5 = n == 32;

	for (i = 0; md5 && i < n; i++)
		md5 = (info->etag[i] >= '0' && info->etag[i] <= '9') ||
			(info->etag[i] >= 'a' && info->etag[i] <= 'f');
	info->etag_is_md5 = md5;
	if (strchr(info->etag, '-'))
		info->multipart = 1;
}

unsigned ama_store_backoff_ms(const struct ama_store_tuning *t, int attempt)
{
	uint64_t cap = t->retry_delay_ms;
	uint32_t r;
	int i;

	for (i = 2; i < attempt && cap < t->retry_max_ms; i++)
		cap *= 2;
	if (cap > t->retry_max_ms)
		cap = t->retry_max_ms;
	if (cap == 0)
		return 0;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)rand();
	return (unsigned)(r % (cap + 1));
}

static int key_ok(const char *key)
{
	if (!key || !*key)
		return ama_error_set(AMA_EINVAL, "empty object key");
	if (strlen(key) > 1024)
		return ama_error_set(AMA_EINVAL,
				     "object key longer than 1024 bytes");
	return 0;
}

int ama_store_create_bucket(struct ama_store *s)
{
	return s->ops->create_bucket(s);
}

int ama_store_head(struct ama_store *s, const char *key,
		   struct ama_store_info *out)
{
	int rc = key_ok(key);

	memset(out, 0, sizeof(*out));
	if (rc == 0)
		rc = ama_store_interrupted(s);
	return rc < 0 ? rc : s->ops->head(s, key, out);
}

int ama_store_get(struct ama_store *s, const char *key, uint64_t offset,
		  uint64_t length, ama_store_sink_fn sink, void *ctx,
		  struct ama_store_info *info)
{
	struct ama_store_info tmp;
	int rc = key_ok(key);

	if (rc == 0)
		rc = ama_store_interrupted(s);
	if (rc < 0)
		return rc;
	memset(&tmp, 0, sizeof(tmp));
	rc = s->ops->get(s, key, offset, length, sink, ctx, &tmp);
	if (info)
		*info = tmp;
	return rc;
}

/*
 * Fill in what the caller left to us: the size and MD5 of a file or
 * buffer. For a file with a given MD5, only its size is checked here; the
 * store checks the bytes.
 */
static int resolve_put(struct ama_store_put *p, struct ama_md5 *md5)
{
	struct ama_hasher h;
	struct ama_stat st;
	struct stat sb;
	int rc;

	if (!p->path) {
		if (!p->md5) {
			ama_md5_buffer(md5, p->data, p->len);
			p->md5 = md5;
		}
		p->size = p->len;
		return 0;
	}
	if (!p->md5) {
		ama_hasher_init(&h);
		rc = ama_md5_file(&h, md5, &st, p->path);
		ama_hasher_release(&h);
		if (rc < 0)
			return rc;
		p->md5 = md5;
		if (p->size != AMA_STORE_ANY_SIZE && p->size != st.size)
			return ama_error_setp(AMA_ECHANGED, p->path,
				"changed: %llu bytes, not %llu",
				(unsigned long long)st.size,
				(unsigned long long)p->size);
		p->size = st.size;
		return 0;
	}
	if (stat(p->path, &sb) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ama_error_setp(AMA_ENOTFOUND, p->path,
					      "no such file");
		return ama_error_setp_errno(AMA_EIO, p->path, "cannot stat");
	}
	if (!S_ISREG(sb.st_mode))
		return ama_error_setp(AMA_ENOTREG, p->path,
				      "not a regular file");
	if (p->size != AMA_STORE_ANY_SIZE && p->size != (uint64_t)sb.st_size)
		return ama_error_setp(AMA_ECHANGED, p->path,
			"changed: %llu bytes, not %llu",
			(unsigned long long)sb.st_size,
			(unsigned long long)p->size);
	p->size = (uint64_t)sb.st_size;
	return 0;
}

int ama_store_put(struct ama_store *s, const struct ama_store_put *p,
		  struct ama_store_info *info)
{
	struct ama_store_put q = *p;
	struct ama_store_info tmp;
	struct ama_md5 md5;
	int rc = key_ok(p->key);

	if (rc == 0)
		rc = ama_store_interrupted(s);
	if (rc == 0)
		rc = resolve_put(&q, &md5);
	if (rc < 0)
		return rc;
	memset(&tmp, 0, sizeof(tmp));
	rc = s->ops->put(s, &q, &tmp);
	if (info)
		*info = tmp;
	return rc;
}

static int copy_common(struct ama_store *dst, const char *dst_key,
		       struct ama_store *src, const char *src_key,
		       const char *if_match, uint64_t size,
		       struct ama_store_info *out)
{
	struct ama_store_info tmp;
	int rc = key_ok(dst_key);

	if (rc == 0)
		rc = key_ok(src_key);
	if (rc == 0)
		rc = ama_store_interrupted(dst);
	if (rc < 0)
		return rc;
	if (dst->url.kind != src->url.kind)
		return ama_error_set(AMA_ESETUP,
			"cannot copy between a file:// and an s3:// store "
			"on the store's side");
	memset(&tmp, 0, sizeof(tmp));
	rc = dst->ops->copy(dst, dst_key, src, src_key, if_match, size, &tmp);
	if (out)
		*out = tmp;
	return rc;
}

int ama_store_copy(struct ama_store *dst, const char *dst_key,
		   struct ama_store *src, const char *src_key,
		   const char *if_match)
{
	return copy_common(dst, dst_key, src, src_key, if_match,
			   AMA_STORE_ANY_SIZE, NULL);
}

int ama_store_copy_seen(struct ama_store *dst, const char *dst_key,
			struct ama_store *src, const char *src_key,
			const struct ama_store_info *seen,
			struct ama_store_info *out)
{
	if (!seen->etag[0] || seen->size == AMA_STORE_ANY_SIZE)
		return ama_error_set(AMA_EINVAL,
				     "a copy of a seen object needs its ETag");
	return copy_common(dst, dst_key, src, src_key, seen->etag,
			   seen->size, out);
}

int ama_store_delete(struct ama_store *s, const char *key)
{
	int rc = key_ok(key);

	if (rc == 0)
		rc = ama_store_interrupted(s);
	return rc < 0 ? rc : s->ops->del(s, key);
}

int ama_store_delete_many(struct ama_store *s, const char *const *keys,
			  size_t n)
{
	size_t i, chunk;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = key_ok(keys[i]);
	for (i = 0; i < n && rc == 0; i += chunk) {
		chunk = n - i < 1000 ? n - i : 1000;
		rc = ama_store_interrupted(s);
		if (rc == 0 && s->ops->del_many) {
			rc = s->ops->del_many(s, keys + i, chunk);
		} else {
			size_t k;

			for (k = 0; k < chunk && rc == 0; k++)
				rc = s->ops->del(s, keys[i + k]);
		}
	}
	return rc;
}

void ama_store_page_release(struct ama_store_page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->entries[i].key);
	free(p->entries);
	free(p->next);
	memset(p, 0, sizeof(*p));
}

int ama_store_list_page(struct ama_store *s, const char *prefix,
			const char *after, int max_keys,
			struct ama_store_page *out)
{
	memset(out, 0, sizeof(*out));
	if (s->cancelled)
		return ama_store_interrupted(s);
	if (max_keys <= 0 || max_keys > 1000)
		max_keys = 1000;
	return s->ops->list_page(s, prefix ? prefix : "", after, max_keys,
				 out);
}

int ama_store_list(struct ama_store *s, const char *prefix, int page_size,
		   ama_store_list_fn fn, void *ctx)
{
	struct ama_store_page page;
	char *after = NULL;
	size_t i;
	int rc;

	do {
		rc = ama_store_list_page(s, prefix, after, page_size, &page);
		free(after);
		after = NULL;
		if (rc < 0)
			return rc;
		for (i = 0; i < page.n && rc >= 0; i++)
			rc = fn(ctx, &page.entries[i]);
		if (rc >= 0 && page.next) {
			after = page.next;
			page.next = NULL;
		}
		ama_store_page_release(&page);
	} while (rc >= 0 && after);
	free(after);
	return rc < 0 ? rc : 0;
}

void ama_store_upload_add_part(struct ama_store_upload *u, int partno,
			       const char *etag)
{
	size_t i = u->nparts;

	while (i > 0 && u->partno[i - 1] > partno)
		i--;
	if (i > 0 && u->partno[i - 1] == partno) {
		snprintf(u->etag[i - 1], sizeof(u->etag[0]), "%s", etag);
		return;
	}
	if (u->nparts == u->alloc) {
		u->alloc = u->alloc ? 2 * u->alloc : 16;
		u->partno = ama_realloc(u->partno,
					u->alloc * sizeof(*u->partno));
		u->etag = ama_realloc(u->etag, u->alloc * sizeof(*u->etag));
	}
	memmove(u->partno + i + 1, u->partno + i,
		(u->nparts - i) * sizeof(*u->partno));
	memmove(u->etag + i + 1, u->etag + i,
		(u->nparts - i) * sizeof(*u->etag));
	u->partno[i] = partno;
	snprintf(u->etag[i], sizeof(u->etag[0]), "%s", etag);
	u->nparts++;
}

static void upload_free(struct ama_store_upload *u)
{
	free(u->key);
	free(u->id);
	free(u->partno);
	free(u->etag);
	free(u);
}

int ama_store_mpu_start(struct ama_store_upload **out, struct ama_store *s,
			const char *key, const struct ama_md5 *md5)
{
	struct ama_store_upload *u;
	int rc = key_ok(key);

	*out = NULL;
	if (rc == 0)
		rc = ama_store_interrupted(s);
	if (rc < 0)
		return rc;
	u = ama_calloc(1, sizeof(*u));
	u->s = s;
	u->key = ama_strdup(key);
	if (md5) {
		u->md5 = *md5;
		u->has_md5 = 1;
	}
	rc = s->ops->mpu_start(u);
	if (rc < 0) {
		upload_free(u);
		return rc;
	}
	*out = u;
	return 0;
}

int ama_store_mpu_part(struct ama_store_upload *u, int partno,
		       const char *path, uint64_t offset, uint64_t len)
{
	if (partno < 1 || partno > 10000)
		return ama_error_set(AMA_EINVAL,
				     "part number %d is not from 1 to 10000",
				     partno);
	if (u->s->cancelled)
		return ama_store_interrupted(u->s);
	return u->s->ops->mpu_part(u, partno, path, offset, len);
}

int ama_store_mpu_complete(struct ama_store_upload *u,
			   struct ama_store_info *info)
{
	struct ama_store_info tmp;
	int rc;

	memset(&tmp, 0, sizeof(tmp));
	if (u->nparts == 0)
		rc = ama_error_set(AMA_EINVAL, "an upload with no parts");
	else if (u->s->cancelled)
		rc = ama_store_interrupted(u->s);
	else
		rc = u->s->ops->mpu_complete(u, &tmp);
	if (info)
		*info = tmp;
	upload_free(u);
	return rc;
}

int ama_store_mpu_abort(struct ama_store_upload *u)
{
	int rc = u->s->ops->mpu_abort(u);

	upload_free(u);
	return rc;
}

/* --- the batch --- */

struct ama_store_batch *ama_store_batch_new(struct ama_store *s,
					    ama_store_done_fn done,
					    ama_store_progress_fn progress,
					    void *ctx)
{
	struct ama_store_batch *b = ama_calloc(1, sizeof(*b));

	b->s = s;
	b->done = done;
	b->progress = progress;
	b->ctx = ctx;
	return b;
}

/* Report one finished item; the error text is read from this thread's last error. */
static void report(struct ama_store_batch *b, const char *key,
		   const char *path, void *udata, int rc,
		   const struct ama_store_info *info)
{
	struct ama_store_result r;

	memset(&r, 0, sizeof(r));
	r.key = key;
	r.path = path;
	r.udata = udata;
	r.rc = rc;
	r.error = rc < 0 ? ama_error_msg() : NULL;
	if (info)
		r.info = *info;
	if (rc < 0 && ama_error_exit_status(rc) == 2 && !b->failed)
		b->failed = rc;
	if (b->done)
		b->done(b->ctx, &r);
}

int ama_store_batch_put(struct ama_store_batch *b,
			const struct ama_store_put *p)
{
	struct ama_store_put q = *p;
	struct ama_store_info info;
	struct ama_md5 md5;
	int rc;

	if (!b->failed && b->s->cancelled)
		b->failed = ama_store_interrupted(b->s);
	if (b->failed)
		return b->failed;
	rc = key_ok(p->key);
	if (rc == 0)
		rc = resolve_put(&q, &md5);
	if (rc < 0) {
		report(b, p->key, p->path, p->udata, rc, NULL);
		return b->failed;
	}
	if (b->s->ops->batch_add)
		return b->s->ops->batch_add(b, &q, NULL, q.udata);
	memset(&info, 0, sizeof(info));
	rc = b->s->ops->put(b->s, &q, &info);
	if (rc == 0 && b->progress)
		b->progress(b->ctx, q.udata, q.size);
	report(b, q.key, q.path, q.udata, rc, &info);
	return b->failed;
}

int ama_store_batch_head(struct ama_store_batch *b, const char *key,
			 void *udata)
{
	struct ama_store_info info;
	int rc;

	if (!b->failed && b->s->cancelled)
		b->failed = ama_store_interrupted(b->s);
	if (b->failed)
		return b->failed;
	rc = key_ok(key);
	if (rc < 0) {
		report(b, key, NULL, udata, rc, NULL);
		return b->failed;
	}
	if (b->s->ops->batch_add)
		return b->s->ops->batch_add(b, NULL, key, udata);
	memset(&info, 0, sizeof(info));
	rc = b->s->ops->head(b->s, key, &info);
	report(b, key, NULL, udata, rc, &info);
	return b->failed;
}

int ama_store_batch_finish(struct ama_store_batch *b)
{
	int rc;

	if (b->s->ops->batch_run && !b->failed)
		b->s->ops->batch_run(b);
	if (!b->failed && b->s->cancelled)
		b->failed = ama_store_interrupted(b->s);
	if (b->s->ops->batch_free)
		b->s->ops->batch_free(b);
	rc = b->failed;
	free(b);
	return rc;
}

/* For backends: deliver a result (used by store_s3.c's engine). */
void ama_store_batch_report(struct ama_store_batch *b, const char *key,
			    const char *path, void *udata, int rc,
			    const struct ama_store_info *info)
{
	report(b, key, path, udata, rc, info);
}
