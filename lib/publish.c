/* publish.c: the trusted side: classes, assets, versions of verified content only. */
#include "auto-config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "buf.h"
#include "error.h"
#include "manifest.h"
#include "md5.h"
#include "meta.h"
#include "publish.h"
#include "record.h"
#include "store.h"
#include "version.h"

/*
 * A commit that needs at least LIST_MIN contents looked up in an s3://
 * remote lists <top_hash>/contents/ first, for as many pages as it
 * needs HEADs / HEADS_PER_PAGE; what the pages did not reach is asked
 * for with HEADs. On file:// a HEAD is a stat: always cheaper.
 */
#define LIST_MIN 100
#define HEADS_PER_PAGE 100
#define MAX_JSON (64u * 1024)
#define MAX_MANIFEST (1ULL << 32)
#define MAX_ROUNDS 8		/* times a commit may start over */
#define NLOCKS 256
#define RESTART 1		/* commit_once: start over */
#define CLAIMED 2		/* claim_manifest: the key was free */

/* ---- the publisher: its pool of handles, its tables ---- */

/* What one thread at a time works with. */
struct session {
	struct session *next;
	struct ama_store *remote;
	struct ama_store *staging;
	struct ama_meta *meta;		/* opened on first use */
};

struct known_class {
	struct known_class *next;
	struct ama_class_info info;
};

/* The lock that serializes the commits to one asset. */
struct asset_lock {
	struct asset_lock *next;
	char class[65];
	uint64_t seq;
	pthread_mutex_t mu;
};

struct ama_publish {
	char *remote_url, *staging_url, *repo_path;
	const struct ama_config *cfg;
	int jobs;
	pthread_mutex_t mu;		/* the three lists below */
	struct session *idle;
	struct known_class *classes;
	struct asset_lock *locks[NLOCKS];
	pthread_mutex_t claim;		/* creating classes and assets */
};

static void session_free(struct session *s)
{
	if (!s)
		return;
	ama_store_close(s->remote);
	ama_store_close(s->staging);
	if (s->meta)
		ama_meta_close(s->meta);
	free(s);
}

static int session_open(struct ama_publish *p, struct session **out)
{
	struct session *s = ama_calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	rc = ama_store_open(&s->remote, p->remote_url, p->cfg, "server");
	if (rc == 0)
		rc = ama_store_open(&s->staging, p->staging_url, p->cfg,
				    "server");
	if (rc < 0) {
		session_free(s);
		return rc;
	}
	ama_store_tuning(s->remote)->jobs = p->jobs;
	ama_store_tuning(s->staging)->jobs = p->jobs;
	*out = s;
	return 0;
}

static int session_get(struct ama_publish *p, struct session **out)
{
	struct session *s;

	pthread_mutex_lock(&p->mu);
	s = p->idle;
	if (s)
		p->idle = s->next;
	pthread_mutex_unlock(&p->mu);
	if (s) {
		s->next = NULL;
		*out = s;
		return 0;
	}
	return session_open(p, out);
}

static void session_put(struct ama_publish *p, struct session *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&p->mu);
	s->next = p->idle;
	p->idle = s;
	pthread_mutex_unlock(&p->mu);
}

static int session_meta(struct ama_publish *p, struct session *s)
{
	if (s->meta)
		return 0;
	return ama_meta_open(&s->meta, p->repo_path, 0);
}

int ama_publish_open(struct ama_publish **out,
		     const struct ama_publish_opts *o)
{
	struct ama_publish *p;
	struct session *s;
	int rc;

	*out = NULL;
	if (!o->remote_url || !*o->remote_url)
		return ama_error_set(AMA_ESETUP, "no remote bucket: set "
				     "[store] remote");
	if (!o->staging_url || !*o->staging_url)
		return ama_error_set(AMA_ESETUP, "no staging bucket: set "
				     "[store] staging");
	if (!o->repo_path || !*o->repo_path)
		return ama_error_set(AMA_ESETUP, "no metadata repository: "
				     "set [repository] path");
	p = ama_calloc(1, sizeof(*p));
	p->remote_url = ama_strdup(o->remote_url);
	p->staging_url = ama_strdup(o->staging_url);
	p->repo_path = ama_strdup(o->repo_path);
	p->cfg = o->cfg;
	p->jobs = o->jobs > 0 ? o->jobs : 8;
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->claim, NULL);
	rc = session_open(p, &s);
	if (rc == 0 && ama_store_kind(s->remote) == AMA_STORE_FILE)
		rc = ama_store_create_bucket(s->remote);
	if (rc == 0 && ama_store_kind(s->staging) == AMA_STORE_FILE)
		rc = ama_store_create_bucket(s->staging);
	if (rc == 0)
		rc = ama_meta_open(&s->meta, p->repo_path, AMA_META_CREATE);
	if (rc < 0) {
		session_free(s);
		ama_publish_close(p);
		return rc;
	}
	session_put(p, s);
	*out = p;
	return 0;
}

void ama_publish_close(struct ama_publish *p)
{
	size_t i;

	if (!p)
		return;
	while (p->idle) {
		struct session *s = p->idle;

		p->idle = s->next;
		session_free(s);
	}
	while (p->classes) {
		struct known_class *k = p->classes;

		p->classes = k->next;
		free(k);
	}
	for (i = 0; i < NLOCKS; i++)
		while (p->locks[i]) {
			struct asset_lock *l = p->locks[i];

			p->locks[i] = l->next;
			pthread_mutex_destroy(&l->mu);
			free(l);
		}
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->claim);
	free(p->remote_url);
	free(p->staging_url);
	free(p->repo_path);
	free(p);
}

/* The lock of CLASS/SEQ, made on first use and kept. */
static pthread_mutex_t *asset_lock(struct ama_publish *p, const char *class,
				   uint64_t seq)
{
	uint64_t h = 1469598103934665603ULL ^ seq;
	const char *c;
	struct asset_lock *l;

	for (c = class; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	pthread_mutex_lock(&p->mu);
	for (l = p->locks[h % NLOCKS]; l; l = l->next)
		if (l->seq == seq && !strcmp(l->class, class))
			break;
	if (!l) {
		l = ama_calloc(1, sizeof(*l));
		snprintf(l->class, sizeof(l->class), "%s", class);
		l->seq = seq;
		pthread_mutex_init(&l->mu, NULL);
		l->next = p->locks[h % NLOCKS];
		p->locks[h % NLOCKS] = l;
	}
	pthread_mutex_unlock(&p->mu);
	return &l->mu;
}

/* ---- small helpers ---- */

struct text_sink {
	struct ama_buf *out;
	uint64_t max;
};

static int text_sink(void *ctx, const void *data, size_t n)
{
	struct text_sink *t = ctx;

	if (t->out->len + n > t->max)
		return ama_error_set(AMA_ECORRUPT, "longer than %llu bytes",
				     (unsigned long long)t->max);
	ama_buf_add(t->out, data, n);
	return 0;
}

/* The whole object key into out (reset first), at most max bytes. */
static int get_text(struct ama_store *s, const char *key,
		    struct ama_buf *out, uint64_t max)
{
	struct text_sink t = { out, max };

	ama_buf_reset(out);
	ama_buf_add(out, "", 0);
	return ama_store_get(s, key, 0, AMA_STORE_TO_END, text_sink, &t,
			     NULL);
}

/* Put bytes under key; create-only with AMA_STORE_IF_NONE_MATCH. */
static int put_text(struct ama_store *s, const char *key,
		    const struct ama_buf *text, unsigned flags)
{
	struct ama_store_put put;

	memset(&put, 0, sizeof(put));
	put.key = key;
	put.data = ama_buf_str(text);
	put.len = text->len;
	put.size = AMA_STORE_ANY_SIZE;
	put.flags = flags | AMA_STORE_NO_MULTIPART;
	return ama_store_put(s, &put, NULL);
}

/* Set the error "<what>: <the store's reason>" about key's URL. */
static int store_fail(int rc, struct ama_store *s, const char *key)
{
	struct ama_buf url = AMA_BUF_INIT;
	char msg[1024];

	snprintf(msg, sizeof(msg), "%s", ama_error_msg());
	ama_store_key_url(&url, s, key);
	rc = ama_error_setp(rc, url.s, "%s", msg);
	ama_buf_release(&url);
	return rc;
}

static int is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

static int uuid_ok(const char *s)
{
	static const int dash[] = { 8, 13, 18, 23 };
	char hex[33];
	size_t i, j = 0, d = 0;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (d < 4 && (int)i == dash[d]) {
			if (s[i] != '-')
				return 0;
			d++;
			continue;
		}
		hex[j++] = s[i];
	}
	hex[j] = '\0';
	return is_hex(hex, 32);
}

/* ---- classes ---- */

static void class_key(struct ama_buf *out, const char *name)
{
	ama_buf_addf(out, "classes/%s.json", name);
}

static int class_parse(struct ama_class_info *out, const char *name,
		       const struct ama_buf *text, const char *where)
{
	json_error_t je;
	json_t *j = json_loadb(ama_buf_str(text), text->len,
			       JSON_REJECT_DUPLICATES, &je);
	const char *n = NULL, *id = NULL, *top = NULL;
	json_int_t created = -1;
	int rc = 0;

	if (!j)
		return ama_error_setp(AMA_ECORRUPT, where,
				      "not a class record: %s", je.text);
	if (json_unpack(j, "{s:s, s:s, s:s, s:I}", "name", &n, "class_id",
			&id, "top_hash", &top, "created", &created) < 0 ||
	    strcmp(n, name) || !uuid_ok(id) || strlen(top) != 32 ||
	    !is_hex(top, 32) || created < 0) {
		rc = ama_error_setp(AMA_ECORRUPT, where,
				    "not a class record of '%s'", name);
	} else {
		memset(out, 0, sizeof(*out));
		snprintf(out->name, sizeof(out->name), "%s", name);
		snprintf(out->class_id, sizeof(out->class_id), "%s", id);
		snprintf(out->top_hash, sizeof(out->top_hash), "%s", top);
		out->created = created;
	}
	json_decref(j);
	return rc;
}

static int class_read(struct session *s, const char *name,
		      struct ama_class_info *out)
{
	struct ama_buf key = AMA_BUF_INIT, text = AMA_BUF_INIT,
		where = AMA_BUF_INIT;
	int rc;

	class_key(&key, name);
	rc = get_text(s->remote, key.s, &text, MAX_JSON);
	if (rc < 0 && rc != AMA_ENOTFOUND)
		rc = store_fail(rc, s->remote, key.s);
	if (rc == 0) {
		ama_store_key_url(&where, s->remote, key.s);
		rc = class_parse(out, name, &text, where.s);
	}
	ama_buf_release(&key);
	ama_buf_release(&text);
	ama_buf_release(&where);
	return rc;
}

/* A new class record: a random (version 4) UUID, its MD5 the top hash. */
static int class_new(struct ama_class_info *out, const char *name)
{
	unsigned char r[16];
	struct ama_md5 md5;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return ama_error_set(AMA_EIO, "no random bytes for a class id");
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->class_id, sizeof(out->class_id),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
		 r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
		 r[14], r[15]);
	ama_md5_buffer(&md5, out->class_id, strlen(out->class_id));
	ama_md5_to_hex(out->top_hash, &md5);
	out->created = (int64_t)time(NULL);
	return 0;
}

/* json's compact text and a newline into out. */
static void json_text(struct ama_buf *out, json_t *j)
{
	char *t = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (!t)
		abort();
	ama_buf_addstr(out, t);
	ama_buf_addch(out, '\n');
	free(t);
	json_decref(j);
}

static int class_create(struct session *s, const char *name,
			struct ama_class_info *out)
{
	struct ama_buf key = AMA_BUF_INIT, text = AMA_BUF_INIT;
	int rc = class_new(out, name);

	if (rc < 0)
		return rc;
	class_key(&key, name);
	json_text(&text, json_pack("{s:s, s:s, s:s, s:I}", "name", name,
				   "class_id", out->class_id, "top_hash",
				   out->top_hash, "created",
				   (json_int_t)out->created));
	rc = put_text(s->remote, key.s, &text, AMA_STORE_IF_NONE_MATCH);
	if (rc == AMA_ECONFLICT)	/* made meanwhile: theirs counts */
		rc = class_read(s, name, out);
	else if (rc < 0)
		rc = store_fail(rc, s->remote, key.s);
	ama_buf_release(&key);
	ama_buf_release(&text);
	return rc;
}

static int class_cached(struct ama_publish *p, const char *name,
			struct ama_class_info *out)
{
	struct known_class *k;

	pthread_mutex_lock(&p->mu);
	for (k = p->classes; k; k = k->next)
		if (!strcmp(k->info.name, name)) {
			*out = k->info;
			break;
		}
	pthread_mutex_unlock(&p->mu);
	return k != NULL;
}

static void class_remember(struct ama_publish *p,
			   const struct ama_class_info *c)
{
	struct known_class *k;

	pthread_mutex_lock(&p->mu);
	for (k = p->classes; k; k = k->next)
		if (!strcmp(k->info.name, c->name))
			break;
	if (!k) {
		k = ama_calloc(1, sizeof(*k));
		k->info = *c;
		k->next = p->classes;
		p->classes = k;
	}
	pthread_mutex_unlock(&p->mu);
}

static int class_get(struct ama_publish *p, struct session *s,
		     const char *name, int create, struct ama_class_info *out)
{
	int rc = ama_manifest_check_class(name);

	if (rc < 0)
		return rc;
	if (class_cached(p, name, out))
		return 0;
	rc = class_read(s, name, out);
	if (rc == AMA_ENOTFOUND && create) {
		/* the store's create-only put decides between servers */
		pthread_mutex_lock(&p->claim);
		rc = class_read(s, name, out);
		if (rc == AMA_ENOTFOUND)
			rc = class_create(s, name, out);
		pthread_mutex_unlock(&p->claim);
	}
	if (rc == AMA_ENOTFOUND)
		return ama_error_set(AMA_ENOTFOUND, "no such class: %s", name);
	if (rc == 0)
		class_remember(p, out);
	return rc;
}

int ama_publish_class(struct ama_publish *p, const char *name, int create,
		      struct ama_class_info *out)
{
	struct session *s;
	int rc = ama_manifest_check_class(name);

	if (rc < 0)
		return rc;
	if (class_cached(p, name, out))
		return 0;
	rc = session_get(p, &s);
	if (rc < 0)
		return rc;
	rc = class_get(p, s, name, create, out);
	session_put(p, s);
	return rc;
}

struct names {
	char **v;
	size_t n, alloc;
};

static int collect_class(void *ctx, const struct ama_store_entry *e)
{
	struct names *nm = ctx;
	const char *name = e->key + strlen("classes/");
	size_t len = strlen(name);
	char *copy;

	if (len <= 5 || strcmp(name + len - 5, ".json"))
		return 0;
	copy = ama_strndup(name, len - 5);
	if (strchr(copy, '/') || ama_manifest_check_class(copy) < 0) {
		ama_error_clear();
		free(copy);
		return 0;
	}
	if (nm->n == nm->alloc) {
		nm->alloc = nm->alloc ? 2 * nm->alloc : 16;
		nm->v = ama_realloc(nm->v, nm->alloc * sizeof(*nm->v));
	}
	nm->v[nm->n++] = copy;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ama_publish_classes(struct ama_publish *p, ama_publish_class_fn fn,
			void *ctx)
{
	struct names nm = { NULL, 0, 0 };
	struct ama_class_info ci;
	struct session *s;
	size_t i;
	int rc = session_get(p, &s);

	if (rc < 0)
		return rc;
	rc = ama_store_list(s->remote, "classes/", 0, collect_class, &nm);
	if (rc < 0)
		rc = store_fail(rc, s->remote, "classes/");
	if (rc == 0 && nm.n)
		qsort(nm.v, nm.n, sizeof(*nm.v), cmp_str);
	for (i = 0; i < nm.n && rc == 0; i++) {
		rc = class_get(p, s, nm.v[i], 0, &ci);
		if (rc == 0)
			rc = fn(&ci, ctx);
	}
	for (i = 0; i < nm.n; i++)
		free(nm.v[i]);
	free(nm.v);
	session_put(p, s);
	return rc;
}

/* ---- assets ---- */

static void asset_key(struct ama_buf *out, const struct ama_class_info *c,
		      uint64_t seq, const char *leaf)
{
	ama_buf_addf(out, "%s/assets/%llu/%s", c->top_hash,
		     (unsigned long long)seq, leaf);
}

/* Is seq claimed? 1, 0, or an error. */
static int asset_claimed(struct session *s, const struct ama_class_info *c,
			 uint64_t seq)
{
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_store_info info;
	int rc;

	asset_key(&key, c, seq, "asset.json");
	rc = ama_store_head(s->remote, key.s, &info);
	if (rc == 0)
		rc = 1;
	else if (rc == AMA_ENOTFOUND)
		rc = 0;
	else
		rc = store_fail(rc, s->remote, key.s);
	ama_buf_release(&key);
	return rc;
}

/*
 * The number of claimed assets: seqs are claimed in order, 1..n, so the
 * first free one is found by doubling, then halving.
 */
static int assets_claimed(struct session *s, const struct ama_class_info *c,
			  uint64_t *n)
{
	uint64_t lo = 0, hi = 1, mid;
	int rc;

	for (;;) {
		rc = asset_claimed(s, c, hi);
		if (rc <= 0)
			break;
		lo = hi;
		if (hi > UINT64_MAX / 4)
			return ama_error_set(AMA_ECORRUPT,
					     "too many assets in class %s",
					     c->name);
		hi *= 2;
	}
	while (rc == 0 && hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		rc = asset_claimed(s, c, mid);
		if (rc == 1)
			lo = mid;
		else if (rc == 0)
			hi = mid;
		rc = rc < 0 ? rc : 0;
	}
	*n = lo;
	return rc < 0 ? rc : 0;
}

int ama_publish_asset_create(struct ama_publish *p, const char *class,
			     uint64_t *seq_out)
{
	struct ama_buf key = AMA_BUF_INIT, text = AMA_BUF_INIT;
	struct ama_class_info c;
	struct session *s;
	uint64_t n = 0;
	int rc, tries;

	*seq_out = 0;
	rc = session_get(p, &s);
	if (rc < 0)
		return rc;
	rc = class_get(p, s, class, 0, &c);
	if (rc < 0)
		goto out;
	pthread_mutex_lock(&p->claim);
	rc = assets_claimed(s, &c, &n);
	for (tries = 0; rc == 0; tries++) {
		n++;
		ama_buf_reset(&key);
		ama_buf_reset(&text);
		asset_key(&key, &c, n, "asset.json");
		json_text(&text, json_pack("{s:s, s:s, s:I, s:I}", "class",
					   c.name, "class_id", c.class_id,
					   "seq", (json_int_t)n, "created",
					   (json_int_t)time(NULL)));
		rc = put_text(s->remote, key.s, &text,
			      AMA_STORE_IF_NONE_MATCH);
		if (rc == AMA_ECONFLICT && tries < 1000) {
			rc = 0;		/* another server took it */
			continue;
		}
		if (rc < 0)
			rc = store_fail(rc, s->remote, key.s);
		break;
	}
	pthread_mutex_unlock(&p->claim);
	if (rc == 0)
		*seq_out = n;
out:
	ama_buf_release(&key);
	ama_buf_release(&text);
	session_put(p, s);
	return rc;
}

int ama_publish_assets(struct ama_publish *p, const char *class,
		       ama_publish_asset_fn fn, void *ctx)
{
	struct ama_class_info c;
	struct ama_meta_version v;
	struct ama_asset_info a;
	struct session *s;
	uint64_t n = 0, seq;
	int rc = session_get(p, &s);

	if (rc < 0)
		return rc;
	rc = class_get(p, s, class, 0, &c);
	if (rc == 0)
		rc = assets_claimed(s, &c, &n);
	if (rc == 0)
		rc = session_meta(p, s);
	for (seq = 1; seq <= n && rc == 0; seq++) {
		memset(&a, 0, sizeof(a));
		a.seq = seq;
		rc = ama_meta_head(s->meta, &v, c.name, seq);
		if (rc == 0) {
			a.has_head = 1;
			a.head = v.version;
			ama_meta_version_release(&v);
		}
		if (rc == AMA_ENOTFOUND)
			rc = 0;
		if (rc == 0)
			rc = fn(&a, ctx);
	}
	session_put(p, s);
	return rc;
}

/* Is CLASS/SEQ an asset (claimed in remote)? 0, or AMA_ENOTFOUND. */
static int asset_must_exist(struct session *s, const struct ama_class_info *c,
			    uint64_t seq)
{
	int rc = asset_claimed(s, c, seq);

	if (rc == 0)
		return ama_error_set(AMA_ENOTFOUND, "no such asset: %s/%llu",
				     c->name, (unsigned long long)seq);
	return rc < 0 ? rc : 0;
}

int ama_publish_versions(struct ama_publish *p, const char *class,
			 uint64_t seq, size_t max, ama_meta_version_fn fn,
			 void *ctx)
{
	struct ama_class_info c;
	struct session *s;
	int rc = session_get(p, &s);

	if (rc < 0)
		return rc;
	rc = class_get(p, s, class, 0, &c);
	if (rc == 0 && seq == 0)
		rc = ama_error_set(AMA_EINVAL, "no asset has seq 0");
	if (rc == 0)
		rc = session_meta(p, s);
	if (rc == 0) {
		rc = ama_meta_log(s->meta, class, seq, max, fn, ctx);
		if (rc == AMA_ENOTFOUND)
			rc = asset_must_exist(s, &c, seq);
	}
	session_put(p, s);
	return rc;
}

int ama_publish_manifest(struct ama_publish *p, const char *class,
			 uint64_t seq, const struct ama_version *version,
			 struct ama_buf *out)
{
	struct ama_meta_version v;
	struct ama_manifest m;
	struct session *s;
	char vs[AMA_VERSION_BUFSIZE];
	int rc = ama_manifest_check_class(class);

	if (rc < 0)
		return rc;
	if (seq == 0)
		return ama_error_set(AMA_EINVAL, "no asset has seq 0");
	rc = session_get(p, &s);
	if (rc < 0)
		return rc;
	rc = session_meta(p, s);
	if (rc == 0)
		rc = ama_meta_find_version(s->meta, &v, class, seq, version);
	if (rc == AMA_ENOTFOUND) {
		ama_version_format(vs, version);
		rc = ama_error_set(AMA_ENOTFOUND, "no such version: %s/%llu@%s",
				   class, (unsigned long long)seq, vs);
	}
	if (rc == 0) {
		rc = ama_meta_read_manifest(s->meta, &m, &v);
		if (rc == 0) {
			ama_manifest_format(out, &m);
			ama_manifest_release(&m);
		}
		ama_meta_version_release(&v);
	}
	session_put(p, s);
	return rc;
}

/* ---- commits: the contents to verify ---- */

/* A distinct content of the commit that the newest version does not hold. */
struct content {
	struct ama_md5 md5;
	uint64_t size;
	char hex[AMA_MD5_HEXLEN + 1];
	int in_remote;		/* remote has it, with this size */
	int in_staging;		/* staging has it: info */
	int verified;		/* info.etag names bytes with this MD5 */
	int copied;
	const char *problem;	/* "missing", "size", "checksum" or NULL */
	struct ama_store_info info;	/* the staged object */
};

struct commit {
	struct ama_publish *p;
	struct session *s;
	const struct ama_commit_request *rq;
	struct ama_class_info cls;
	int file;		/* the stores are file:// (no ETags) */
	struct content *c;	/* sorted by MD5, then size */
	size_t n;
	/* the worker threads: the next task, the first hard error */
	pthread_mutex_t mu;
	size_t next;
	int rc;
	char err[1024];
};

static int pair_cmp(const struct ama_md5 *m1, uint64_t s1,
		    const struct ama_md5 *m2, uint64_t s2)
{
	int c = memcmp(m1->d, m2->d, sizeof(m1->d));

	if (c)
		return c;
	return (s1 > s2) - (s1 < s2);
}

static int content_cmp(const void *a, const void *b)
{
	const struct content *x = a, *y = b;

	return pair_cmp(&x->md5, x->size, &y->md5, y->size);
}

/* A content as the lists below hold it: 24 bytes, not a struct content. */
struct pair {
	struct ama_md5 md5;
	uint64_t size;
};

static int pair_qcmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	return pair_cmp(&x->md5, x->size, &y->md5, y->size);
}

/* The distinct (MD5, size) of l, sorted, into a new array. */
static struct pair *distinct(const struct ama_objlist *l, size_t *n)
{
	struct pair *v = ama_malloc((l->n ? l->n : 1) * sizeof(*v));
	size_t i, k = 0;

	for (i = 0; i < l->n; i++) {
		v[i].md5 = l->v[i].md5;
		v[i].size = l->v[i].size;
	}
	if (l->n)
		qsort(v, l->n, sizeof(*v), pair_qcmp);
	for (i = 0; i < l->n; i++)
		if (k == 0 || pair_qcmp(&v[k - 1], &v[i]))
			v[k++] = v[i];
	*n = k;
	return v;
}

/* cm->c: the contents of the request that held are not in. */
static void new_contents(struct commit *cm, const struct ama_objlist *held)
{
	struct pair *want, *have = NULL;
	size_t nw, nh = 0, i, j = 0, k = 0;

	want = distinct(cm->rq->objects, &nw);
	if (held)
		have = distinct(held, &nh);
	for (i = 0; i < nw; i++) {	/* want minus have, in place */
		int c = 1;

		while (j < nh && (c = pair_qcmp(&have[j], &want[i])) < 0)
			j++;
		if (j < nh && c == 0)
			continue;
		want[k++] = want[i];
	}
	free(cm->c);
	cm->c = ama_calloc(k ? k : 1, sizeof(*cm->c));
	for (i = 0; i < k; i++) {
		cm->c[i].md5 = want[i].md5;
		cm->c[i].size = want[i].size;
		ama_md5_to_hex(cm->c[i].hex, &cm->c[i].md5);
	}
	free(want);
	free(have);
	cm->n = k;
}

static const struct content *content_of(const struct commit *cm,
					const struct ama_object *o)
{
	struct content key;

	memset(&key, 0, sizeof(key));
	key.md5 = o->md5;
	key.size = o->size;
	return bsearch(&key, cm->c, cm->n, sizeof(*cm->c), content_cmp);
}

static void remote_key(struct ama_buf *out, const struct commit *cm,
		       const struct content *c)
{
	ama_buf_reset(out);
	ama_buf_addf(out, "%s/contents/%s", cm->cls.top_hash, c->hex);
}

static void staged_key(struct ama_buf *out, const struct commit *cm,
		       const struct content *c)
{
	ama_buf_reset(out);
	ama_buf_addf(out, "%s/%s", cm->cls.top_hash, c->hex);
}

/* Remember the first hard error of any thread (this thread's last). */
static void fail(struct commit *cm, int rc)
{
	pthread_mutex_lock(&cm->mu);
	if (!cm->rc) {
		cm->rc = rc;
		snprintf(cm->err, sizeof(cm->err), "%s", ama_error_msg());
	}
	pthread_mutex_unlock(&cm->mu);
}

/* The hard error, set on this thread, or 0. */
static int failure(struct commit *cm)
{
	int rc;

	pthread_mutex_lock(&cm->mu);
	rc = cm->rc;
	pthread_mutex_unlock(&cm->mu);
	return rc ? ama_error_set(rc, "%s", cm->err) : 0;
}

/* ---- commits: lookups, many at once ---- */

struct heads {
	struct commit *cm;
	int remote;
};

static void head_done(void *ctx, const struct ama_store_result *r)
{
	struct heads *h = ctx;
	struct content *c = r->udata;
	char msg[1024];

	if (r->rc == 0 && h->remote) {
		c->in_remote = r->info.size == c->size;
	} else if (r->rc == 0) {
		c->in_staging = 1;
		c->info = r->info;
	} else if (r->rc != AMA_ENOTFOUND) {
		/* r->error may be this thread's error buffer itself */
		snprintf(msg, sizeof(msg), "%s", r->error);
		ama_error_set(r->rc, "%s", msg);
		fail(h->cm, r->rc);
	}
}

/* HEAD each of v in remote (contents/) or staging, on the batch. */
static int head_each(struct commit *cm, int remote, struct content **v,
		     size_t n)
{
	struct ama_store *st = remote ? cm->s->remote : cm->s->staging;
	struct heads h = { cm, remote };
	struct ama_store_batch *b;
	struct ama_buf key = AMA_BUF_INIT;
	size_t i;
	int rc = 0;

	if (n == 0)
		return 0;
	b = ama_store_batch_new(st, head_done, NULL, &h);
	for (i = 0; i < n && rc == 0; i++) {
		if (remote)
			remote_key(&key, cm, v[i]);
		else
			staged_key(&key, cm, v[i]);
		rc = ama_store_batch_head(b, key.s, v[i]);
	}
	rc = ama_store_batch_finish(b);
	ama_buf_release(&key);
	if (failure(cm))
		return cm->rc;
	return rc;
}

/*
 * Look the contents v (sorted) up in remote by listing its contents/
 * prefix, page after page, for at most budget pages. Sets *decided to
 * the number of v the pages reached (in order): those not listed are
 * not in remote.
 */
static int list_remote(struct commit *cm, struct content **v, size_t n,
		       size_t budget, size_t *decided)
{
	struct ama_buf prefix = AMA_BUF_INIT;
	struct ama_store_page page;
	char *after = NULL;
	size_t pages, i = 0, e;
	int rc = 0;

	*decided = 0;
	ama_buf_addf(&prefix, "%s/contents/", cm->cls.top_hash);
	for (pages = 0; pages < budget; pages++) {
		const char *last = NULL;

		rc = ama_store_list_page(cm->s->remote, prefix.s, after, 1000,
					 &page);
		free(after);
		after = NULL;
		if (rc < 0) {
			rc = store_fail(rc, cm->s->remote, prefix.s);
			break;
		}
		for (e = 0; e < page.n; e++) {
			const char *md5 = page.entries[e].key + prefix.len;
			int c = 1;

			last = md5;
			while (i < n && (c = strcmp(v[i]->hex, md5)) < 0)
				i++;
			if (i < n && c == 0) {
				v[i]->in_remote = page.entries[e].info.size ==
					v[i]->size;
				i++;
			}
		}
		if (!page.next) {
			i = n;
		} else {
			while (last && i < n && strcmp(v[i]->hex, last) <= 0)
				i++;
			after = page.next;
			page.next = NULL;
		}
		ama_store_page_release(&page);
		if (i == n || !after)
			break;
	}
	free(after);
	ama_buf_release(&prefix);
	*decided = i;
	return rc;
}

/* Which of the contents remote holds: listed, or one HEAD each. */
static int find_in_remote(struct commit *cm, struct content **v, size_t n)
{
	size_t decided = 0;
	int rc = 0;

	if (!cm->file && n >= LIST_MIN)
		rc = list_remote(cm, v, n, n / HEADS_PER_PAGE, &decided);
	if (rc == 0)
		rc = head_each(cm, 1, v + decided, n - decided);
	return rc;
}

/* ---- commits: work on many threads ---- */

typedef int (*task_fn)(struct commit *cm, struct session *s,
		       struct content *c);

struct tasks {
	struct commit *cm;
	task_fn fn;
	struct content **v;
	size_t n;
};

static void work(struct tasks *t, struct session *s)
{
	struct commit *cm = t->cm;

	for (;;) {
		size_t i;
		int stop, rc;

		pthread_mutex_lock(&cm->mu);
		i = cm->next++;
		stop = cm->rc != 0;
		pthread_mutex_unlock(&cm->mu);
		if (stop || i >= t->n)
			break;
		rc = t->fn(cm, s, t->v[i]);
		if (rc < 0)
			fail(cm, rc);
	}
}

static void *worker(void *arg)
{
	struct tasks *t = arg;
	struct session *s;
	int rc = session_get(t->cm->p, &s);

	if (rc < 0) {
		fail(t->cm, rc);
		return NULL;
	}
	work(t, s);
	session_put(t->cm->p, s);
	return NULL;
}

/* fn for each of v, on up to jobs threads (this one among them). */
static int run_tasks(struct commit *cm, task_fn fn, struct content **v,
		     size_t n)
{
	struct tasks t = { cm, fn, v, n };
	pthread_t *tid;
	size_t want = n < (size_t)cm->p->jobs ? n : (size_t)cm->p->jobs;
	size_t started = 0, i;

	cm->next = 0;
	tid = ama_calloc(want ? want : 1, sizeof(*tid));
	for (i = 1; i < want; i++)
		if (pthread_create(&tid[started], NULL, worker, &t) == 0)
			started++;
	work(&t, cm->s);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	free(tid);
	return failure(cm);
}

/* ---- commits: verifying and copying one content ---- */

struct hash_sink {
	struct ama_hasher h;
	uint64_t n;
};

static int hash_sink(void *ctx, const void *data, size_t n)
{
	struct hash_sink *hs = ctx;

	ama_hasher_update(&hs->h, data, n);
	hs->n += n;
	return 0;
}

/*
 * Read the staged object and hash it. The ETag it had while it was read
 * must be the one its HEAD showed (else it was replaced meanwhile: read
 * again); that ETag is then the verified one.
 */
static int hash_staged(struct commit *cm, struct session *s,
		       struct content *c)
{
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_store_info info;
	struct hash_sink hs;
	struct ama_md5 got;
	int rc = 0, attempt;

	staged_key(&key, cm, c);
	ama_hasher_init(&hs.h);
	for (attempt = 0; attempt < 3; attempt++) {
		hs.n = 0;
		ama_hasher_start(&hs.h);
		rc = ama_store_get(s->staging, key.s, 0, AMA_STORE_TO_END,
				   hash_sink, &hs, &info);
		ama_hasher_finish(&hs.h, &got);
		if (rc < 0 || !strcmp(info.etag, c->info.etag))
			break;
		c->info = info;
	}
	if (rc == AMA_ENOTFOUND) {
		c->in_staging = 0;	/* published meanwhile? */
		rc = 0;
	} else if (rc < 0) {
		rc = store_fail(rc, s->staging, key.s);
	} else if (attempt == 3) {
		c->problem = "checksum";	/* it keeps changing */
	} else if (hs.n != c->size) {
		c->problem = "size";
	} else if (!ama_md5_equal(&got, &c->md5)) {
		c->problem = "checksum";
	} else {
		c->info = info;
		c->verified = 1;
	}
	ama_hasher_release(&hs.h);
	ama_buf_release(&key);
	return rc;
}

/*
 * What the staged object's HEAD says of it: its size, and for a
 * single-part object on S3 its ETag, which the store computed from the
 * bytes. Returns 1 when only reading the bytes can tell (multipart, an
 * ETag that is no MD5, or file://, where the copy hashes).
 */
static int judge_staged(const struct commit *cm, struct content *c)
{
	if (c->info.size != c->size) {
		c->problem = "size";
		return 0;
	}
	if (cm->file || c->info.multipart || !c->info.etag_is_md5)
		return 1;
	if (strcmp(c->info.etag, c->hex))
		c->problem = "checksum";
	else
		c->verified = 1;
	return 0;
}

/* Did another commit publish c meanwhile (it left staging)? */
static int recheck_remote(struct commit *cm, struct session *s,
			  struct content *c)
{
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_store_info info;
	int rc;

	remote_key(&key, cm, c);
	rc = ama_store_head(s->remote, key.s, &info);
	if (rc == 0 && info.size == c->size)
		c->in_remote = 1;
	else if (rc == 0 || rc == AMA_ENOTFOUND)
		c->problem = "missing";
	if (rc == AMA_ENOTFOUND)
		rc = 0;
	else if (rc < 0)
		rc = store_fail(rc, s->remote, key.s);
	ama_buf_release(&key);
	return rc;
}

/*
 * Copy a verified staged content into remote: only the bytes verified
 * (If-Match of the verified ETag; on file://, hashed on the way). If the
 * staged object was replaced meanwhile, verify it again.
 */
static int copy_one(struct commit *cm, struct session *s, struct content *c)
{
	struct ama_buf rkey = AMA_BUF_INIT, skey = AMA_BUF_INIT;
	struct ama_store_info seen, got;
	int rc = 0, attempt;

	remote_key(&rkey, cm, c);
	staged_key(&skey, cm, c);
	for (attempt = 0; attempt < 3 && !c->problem && !c->in_remote;
	     attempt++) {
		if (!c->verified && !cm->file) {
			/* replaced since it was verified: once more */
			rc = ama_store_head(s->staging, skey.s, &c->info);
			if (rc == AMA_ENOTFOUND) {
				rc = recheck_remote(cm, s, c);
				break;
			}
			if (rc < 0) {
				rc = store_fail(rc, s->staging, skey.s);
				break;
			}
			if (judge_staged(cm, c))
				rc = hash_staged(cm, s, c);
			if (rc == 0 && !c->in_staging)
				rc = recheck_remote(cm, s, c);
			if (rc < 0 || c->problem || c->in_remote)
				break;
		}
		seen = c->info;
		if (cm->file) {
			snprintf(seen.etag, sizeof(seen.etag), "%s", c->hex);
			seen.size = c->size;
		}
		rc = ama_store_copy_seen(s->remote, rkey.s, s->staging,
					 skey.s, &seen, &got);
		if (rc == AMA_ENOTFOUND) {
			rc = recheck_remote(cm, s, c);
			break;
		}
		if (rc == AMA_ECONFLICT && cm->file) {
			rc = 0;	/* the bytes copied had another MD5 */
			c->problem = "checksum";
			break;
		}
		if (rc == AMA_ECONFLICT) {
			rc = 0;
			c->verified = 0;
			continue;
		}
		if (rc < 0) {
			rc = store_fail(rc, s->remote, rkey.s);
			break;
		}
		if (!cm->file && got.etag_is_md5 && !got.multipart &&
		    strcmp(got.etag, c->hex)) {
			/*
			 * S3 computed the copy's MD5, and it is not ours:
			 * the store ignored If-Match and the object was
			 * replaced. Take the copy back.
			 */
			rc = ama_store_delete(s->remote, rkey.s);
			if (rc < 0)
				rc = store_fail(rc, s->remote, rkey.s);
			c->verified = 0;
			continue;
		}
		c->copied = 1;
		break;
	}
	if (rc == 0 && !c->copied && !c->in_remote && !c->problem)
		c->problem = "checksum";	/* it keeps changing */
	ama_buf_release(&rkey);
	ama_buf_release(&skey);
	return rc;
}

/* ---- commits: steps 3 and 4 ---- */

/* Refuse the commit: a line for each object whose content failed. */
static int refuse(struct commit *cm, struct ama_commit_result *out)
{
	const struct ama_objlist *l = cm->rq->objects;
	size_t i, bad = 0;

	for (i = 0; i < l->n; i++) {
		const struct content *c = content_of(cm, &l->v[i]);

		if (!c || !c->problem)
			continue;
		ama_buf_addf(&out->problems, "%s\t", c->problem);
		ama_quote_path(&out->problems, l->v[i].path,
			       l->v[i].path_len);
		ama_buf_addch(&out->problems, '\n');
		bad++;
	}
	return ama_error_set(AMA_EREMOTE, "refused: %zu object%s not "
			     "verified", bad, bad == 1 ? "" : "s");
}

static int any_problem(const struct commit *cm)
{
	size_t i;

	for (i = 0; i < cm->n; i++)
		if (cm->c[i].problem)
			return 1;
	return 0;
}

static int verify_and_copy(struct commit *cm, struct ama_commit_result *out)
{
	struct content **v = ama_calloc(cm->n ? cm->n : 1, sizeof(*v));
	size_t i, k;
	int rc;

	for (i = 0; i < cm->n; i++)
		v[i] = &cm->c[i];
	rc = find_in_remote(cm, v, cm->n);
	/* the rest must be staged */
	for (i = k = 0; i < cm->n && rc == 0; i++)
		if (!cm->c[i].in_remote)
			v[k++] = &cm->c[i];
	if (rc == 0)
		rc = head_each(cm, 0, v, k);
	/* not staged: published by another commit meanwhile? */
	for (i = k = 0; i < cm->n && rc == 0; i++)
		if (!cm->c[i].in_remote && !cm->c[i].in_staging)
			v[k++] = &cm->c[i];
	if (rc == 0)
		rc = head_each(cm, 1, v, k);
	for (i = 0; i < k && rc == 0; i++)
		if (!v[i]->in_remote)
			v[i]->problem = "missing";
	/* what the HEADs tell; the rest is read and hashed */
	for (i = k = 0; i < cm->n && rc == 0; i++) {
		struct content *c = &cm->c[i];

		if (c->in_remote || !c->in_staging)
			continue;
		if (judge_staged(cm, c) && !cm->file)
			v[k++] = c;
	}
	if (rc == 0)
		rc = run_tasks(cm, hash_staged, v, k);
	for (i = 0; i < k && rc == 0; i++)
		if (!v[i]->in_staging && !v[i]->problem)
			rc = recheck_remote(cm, cm->s, v[i]);
	if (rc == 0 && any_problem(cm))
		rc = refuse(cm, out);
	/* every staged content verified (on file://: as it is copied) */
	for (i = k = 0; i < cm->n && rc == 0; i++)
		if (!cm->c[i].in_remote)
			v[k++] = &cm->c[i];
	if (rc == 0)
		rc = run_tasks(cm, copy_one, v, k);
	if (rc == 0 && any_problem(cm))
		rc = refuse(cm, out);
	free(v);
	return rc;
}

/* ---- commits: step 7 ---- */

/*
 * Delete the staged copies of every content in cm->c: they are all in
 * remote now. A failure leaves garbage in staging, not a wrong version:
 * it is not the commit's failure.
 */
static void delete_staged(struct commit *cm)
{
	char **keys = ama_calloc(cm->n ? cm->n : 1, sizeof(*keys));
	struct ama_buf key = AMA_BUF_INIT;
	size_t i;

	for (i = 0; i < cm->n; i++) {
		staged_key(&key, cm, &cm->c[i]);
		keys[i] = ama_strdup(key.s);
	}
	ama_store_delete_many(cm->s->staging, (const char *const *)keys,
			      cm->n);
	ama_error_clear();
	for (i = 0; i < cm->n; i++)
		free(keys[i]);
	free(keys);
	ama_buf_release(&key);
}

/* ---- commits: steps 1 and 2 ---- */

struct lookup {
	const struct ama_commit_request *rq;
	const char *id;			/* the request's commit id */
	int found;
	struct ama_version version;
	int has_parent;
	struct ama_version parent;
	char commit_id[AMA_COMMIT_ID_HEXLEN + 1];
};

static int lookup_fn(const struct ama_meta_version *v, void *ctx)
{
	struct lookup *l = ctx;
	char id[AMA_COMMIT_ID_HEXLEN + 1];

	if (l->rq->has_parent && !ama_version_cmp(&v->version,
						   &l->rq->parent))
		return 1;	/* made before the request: not its */
	if (strcmp(v->commit_id, l->id)) {
		/* the same objects on another parent? */
		ama_manifest_commit_id(id, v->has_parent ? &v->parent : NULL,
				       l->rq->objects);
		if (strcmp(v->commit_id, id))
			return 0;
	}
	l->found = 1;
	l->version = v->version;
	l->has_parent = v->has_parent;
	l->parent = v->parent;
	snprintf(l->commit_id, sizeof(l->commit_id), "%s", v->commit_id);
	return 2;
}

/*
 * The request was carried out before (as the version l found): delete
 * what that version added from staging again, as step 7 would have.
 */
static void finish_repeat(struct commit *cm, const struct lookup *l)
{
	struct ama_meta_version pv;
	struct ama_objlist before = AMA_OBJLIST_INIT;
	int rc = 0;

	if (l->has_parent) {
		rc = ama_meta_find_version(cm->s->meta, &pv, cm->rq->class,
					   cm->rq->seq, &l->parent);
		if (rc == 0) {
			rc = ama_meta_read_objects(cm->s->meta, &before, &pv);
			ama_meta_version_release(&pv);
		}
	}
	if (rc == 0) {
		new_contents(cm, l->has_parent ? &before : NULL);
		delete_staged(cm);
	}
	ama_error_clear();
	ama_objlist_release(&before);
}

/* ---- commits: step 5 ---- */

/*
 * Take the manifest key of m's version (into key) with a create-only put.
 * Returns CLAIMED (made now), 0 (there already, a crash being finished:
 * m's header is now that manifest's), RESTART (a version found there was
 * added to the repository first), or an error.
 */
static int claim_manifest(struct commit *cm, struct ama_manifest *m,
			  const struct ama_objlist *head_objects,
			  struct ama_buf *key)
{
	struct ama_buf text = AMA_BUF_INIT, where = AMA_BUF_INIT;
	struct ama_manifest old;
	char vs[AMA_VERSION_BUFSIZE];
	int rc, same_parent;

	ama_version_format(vs, &m->version);
	asset_key(key, &cm->cls, m->seq, "");
	ama_buf_addf(key, "%s.manifest", vs);
	ama_manifest_format(&text, m);
	rc = put_text(cm->s->remote, key->s, &text, AMA_STORE_IF_NONE_MATCH);
	if (rc != AMA_ECONFLICT) {
		if (rc < 0)
			rc = store_fail(rc, cm->s->remote, key->s);
		else
			rc = CLAIMED;
		goto out;
	}
	/* a version is there already */
	ama_store_key_url(&where, cm->s->remote, key->s);
	rc = get_text(cm->s->remote, key->s, &text, MAX_MANIFEST);
	if (rc < 0) {
		rc = store_fail(rc, cm->s->remote, key->s);
		goto out;
	}
	rc = ama_manifest_parse(&old, text.s, text.len);
	if (rc < 0) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", ama_error_msg());
		rc = ama_error_setp(AMA_ECORRUPT, where.s, "%s", msg);
		goto out;
	}
	same_parent = old.has_parent == m->has_parent &&
		(!m->has_parent || !ama_version_cmp(&old.parent, &m->parent));
	if (ama_version_cmp(&old.version, &m->version) || !same_parent ||
	    (old.class && strcmp(old.class, m->class)) ||
	    (old.seq && old.seq != m->seq)) {
		rc = ama_error_setp(AMA_ECONFLICT, where.s,
			"version %s of %s/%llu is there, and not on top of "
			"the newest version here", vs, m->class,
			(unsigned long long)m->seq);
	} else if (ama_objlist_equal(&old.objects, &m->objects)) {
		/* the same commit: keep what it says */
		free(m->author);
		free(m->message);
		m->author = old.author;
		m->message = old.message;
		m->time = old.time;
		old.author = old.message = NULL;
	} else {
		/* a version the repository lacks: add it first */
		if (!old.class)
			old.class = ama_strdup(m->class);
		old.seq = m->seq;
		rc = ama_meta_write(cm->s->meta, NULL, &old, head_objects);
		if (rc == 0 || rc == AMA_ECONFLICT)
			rc = RESTART;
		if (rc == AMA_EINVAL) {
			char msg[1024];

			snprintf(msg, sizeof(msg), "%s%s%s", ama_error_path() ?
				 ama_quote_for_message(ama_error_path()) : "",
				 ama_error_path() ? ": " : "",
				 ama_error_msg());
			rc = ama_error_setp(AMA_ECORRUPT, where.s, "a version "
					    "the repository cannot hold: %s",
					    msg);
		}
	}
	ama_manifest_release(&old);
out:
	ama_buf_release(&text);
	ama_buf_release(&where);
	return rc;
}

/*
 * Take back the manifest this attempt made, when the repository refuses
 * its version (a name git cannot store): left there, it would be a
 * version in remote that no repository can hold. The repository's error
 * stays the one reported.
 */
static void unclaim_manifest(struct commit *cm, const char *key)
{
	char msg[1024], path[4096] = "";
	int code = ama_error_code();

	snprintf(msg, sizeof(msg), "%s", ama_error_msg());
	if (ama_error_path())
		snprintf(path, sizeof(path), "%s", ama_error_path());
	ama_store_delete(cm->s->remote, key);
	if (path[0])
		ama_error_setp(code, path, "%s", msg);
	else
		ama_error_set(code, "%s", msg);
}

/* ---- commits: all the steps ---- */

static int commit_once(struct commit *cm, struct ama_commit_result *out)
{
	const struct ama_commit_request *rq = cm->rq;
	struct ama_meta_version head, made;
	struct ama_objlist held = AMA_OBJLIST_INIT;
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_manifest m;
	struct lookup l;
	char id[AMA_COMMIT_ID_HEXLEN + 1];
	int rc, has_head, made_now;

	memset(&head, 0, sizeof(head));
	memset(&made, 0, sizeof(made));
	ama_manifest_init(&m);
	rc = ama_meta_head(cm->s->meta, &head, rq->class, rq->seq);
	has_head = rc == 0;
	if (rc == AMA_ENOTFOUND)
		rc = asset_must_exist(cm->s, &cm->cls, rq->seq);
	if (rc < 0)
		goto out;

	/* 1. a request carried out already */
	ama_manifest_commit_id(id, rq->has_parent ? &rq->parent : NULL,
			       rq->objects);
	memset(&l, 0, sizeof(l));
	l.rq = rq;
	l.id = id;
	if (has_head) {
		rc = ama_meta_log(cm->s->meta, rq->class, rq->seq,
				  AMA_PUBLISH_LOOKBACK, lookup_fn, &l);
		if (rc < 0)
			goto out;
		rc = 0;
	}
	if (l.found) {
		out->version = l.version;
		snprintf(out->commit_id, sizeof(out->commit_id), "%s",
			 l.commit_id);
		finish_repeat(cm, &l);
		goto out;
	}

	/* 2. nothing new */
	if (has_head) {
		rc = ama_meta_read_objects(cm->s->meta, &held, &head);
		if (rc < 0)
			goto out;
		if (ama_objlist_equal(&held, rq->objects)) {
			out->version = head.version;
			out->nothing = 1;
			snprintf(out->commit_id, sizeof(out->commit_id), "%s",
				 head.commit_id);
			goto out;
		}
	}

	/* 3, 4. what the newest version lacks: verified, copied */
	new_contents(cm, has_head ? &held : NULL);
	rc = verify_and_copy(cm, out);
	if (rc < 0)
		goto out;

	/* 5. the manifest in remote */
	if (has_head) {
		rc = ama_version_next(&m.version, &head.version);
		if (rc < 0)
			goto out;
		m.has_parent = 1;
		m.parent = head.version;
	}
	m.class = ama_strdup(rq->class);
	m.seq = rq->seq;
	m.author = ama_strdup(rq->author);
	m.time = rq->time ? rq->time : (int64_t)time(NULL);
	m.message = ama_strdup(rq->message ? rq->message : "");
	m.objects = *rq->objects;	/* borrowed: not released below */
	rc = claim_manifest(cm, &m, has_head ? &held : NULL, &key);
	if (rc < 0 || rc == RESTART)
		goto out;
	made_now = rc == CLAIMED;

	/* 6. the repository, the ref last */
	rc = ama_meta_write(cm->s->meta, &made, &m, has_head ? &held : NULL);
	if (rc == AMA_ECONFLICT) {
		rc = RESTART;	/* another writer of this repository */
		goto out;
	}
	if (rc == AMA_EINVAL && made_now)
		unclaim_manifest(cm, key.s);	/* a name git refuses */
	if (rc < 0)
		goto out;
	out->version = made.version;
	out->created = 1;
	snprintf(out->commit_id, sizeof(out->commit_id), "%s",
		 made.commit_id);

	/* 7. staging drained of what is published */
	delete_staged(cm);
out:
	memset(&m.objects, 0, sizeof(m.objects));
	ama_manifest_release(&m);
	ama_objlist_release(&held);
	ama_meta_version_release(&head);
	ama_meta_version_release(&made);
	ama_buf_release(&key);
	return rc;
}

static int check_request(const struct ama_commit_request *rq)
{
	int rc = ama_manifest_check_class(rq->class ? rq->class : "");

	if (rc < 0)
		return rc;
	if (rq->seq == 0)
		return ama_error_set(AMA_EINVAL, "no asset has seq 0");
	if (!rq->author)
		return ama_error_set(AMA_EINVAL, "no author");
	rc = ama_manifest_check_author(rq->author);
	if (rc < 0)
		return rc;
	if (rq->has_parent && !ama_version_is_valid(&rq->parent))
		return ama_error_set(AMA_EINVAL, "bad parent version");
	if (rq->time < 0)
		return ama_error_set(AMA_EINVAL, "bad time: %lld",
				     (long long)rq->time);
	if (!rq->objects)
		return ama_error_set(AMA_EINVAL, "no object list");
	return ama_objlist_check(rq->objects);
}

void ama_commit_result_release(struct ama_commit_result *r)
{
	ama_buf_release(&r->problems);
}

int ama_publish_commit(struct ama_publish *p,
		       const struct ama_commit_request *rq,
		       struct ama_commit_result *out)
{
	struct commit cm;
	pthread_mutex_t *lock;
	int rc, round;

	memset(out, 0, sizeof(*out));
	rc = check_request(rq);
	if (rc < 0)
		return rc;
	memset(&cm, 0, sizeof(cm));
	cm.p = p;
	cm.rq = rq;
	pthread_mutex_init(&cm.mu, NULL);
	rc = session_get(p, &cm.s);
	if (rc < 0)
		goto out;
	cm.file = ama_store_kind(cm.s->remote) == AMA_STORE_FILE;
	rc = session_meta(p, cm.s);
	if (rc == 0)
		rc = class_get(p, cm.s, rq->class, 0, &cm.cls);
	if (rc < 0)
		goto out;
	lock = asset_lock(p, rq->class, rq->seq);
	pthread_mutex_lock(lock);
	for (round = 0;; round++) {
		ama_buf_reset(&out->problems);
		out->nothing = 0;
		rc = commit_once(&cm, out);
		if (rc != RESTART)
			break;
		if (round + 1 == MAX_ROUNDS) {
			rc = ama_error_set(AMA_ECONFLICT, "%s/%llu kept moving "
				"while this commit was made", rq->class,
				(unsigned long long)rq->seq);
			break;
		}
	}
	pthread_mutex_unlock(lock);
out:
	session_put(p, cm.s);
	free(cm.c);
	pthread_mutex_destroy(&cm.mu);
	return rc;
}
