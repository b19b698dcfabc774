/* publish.c: the trusted side: the publisher, classes, assets, and reading versions back. */
#include "auto-config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "bucket.h"
#include "buf.h"
#include "error.h"
#include "layout.h"
#include "manifest.h"
#include "md5.h"
#include "meta.h"
#include "publish.h"
#include "record.h"
#include "store.h"
#include "version.h"

#include "publish_priv.h"

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

int ama_pub_session_get(struct ama_publish *p, struct session **out)
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

static double monotonic(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void ama_pub_session_put(struct ama_publish *p, struct session *s)
{
	if (!s)
		return;
	s->idle_since = monotonic();
	pthread_mutex_lock(&p->mu);
	s->next = p->idle;
	p->idle = s;
	pthread_mutex_unlock(&p->mu);
}

unsigned ama_publish_trim(struct ama_publish *p, double idle)
{
	struct session **pp, *s, *stale = NULL;
	double now = monotonic();
	unsigned n = 0;

	pthread_mutex_lock(&p->mu);
	for (pp = &p->idle; (s = *pp) != NULL;) {
		if (now - s->idle_since >= idle) {
			*pp = s->next;
			s->next = stale;
			stale = s;
		} else {
			pp = &s->next;
		}
	}
	pthread_mutex_unlock(&p->mu);
	while (stale) {	/* closed outside the lock: closing takes time */
		s = stale;
		stale = s->next;
		session_free(s);
		n++;
	}
	return n;
}

int ama_pub_session_meta(struct ama_publish *p, struct session *s)
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
	ama_pub_session_put(p, s);
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
pthread_mutex_t *ama_pub_asset_lock(struct ama_publish *p, const char *class,
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

/* Put bytes under key; create-only with AMA_STORE_IF_NONE_MATCH. */
int ama_pub_put_text(struct ama_store *s, const char *key,
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

/* ---- classes ---- */

/* classes/<name>.json: 0, AMA_ENOTFOUND (no message), or an error. */
static int class_read(struct session *s, const char *name,
		      struct ama_class_info *out)
{
	int rc = ama_bucket_class(s->remote, name, out);

	if (rc == AMA_ENOTFOUND)
		ama_error_clear();
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
	ama_layout_class(&key, name);
	json_text(&text, json_pack("{s:s, s:s, s:s, s:I}", "name", name,
				   "class_id", out->class_id, "top_hash",
				   out->top_hash, "created",
				   (json_int_t)out->created));
	rc = ama_pub_put_text(s->remote, key.s, &text, AMA_STORE_IF_NONE_MATCH);
	if (rc == AMA_ECONFLICT)	/* made meanwhile: theirs counts */
		rc = class_read(s, name, out);
	else if (rc < 0)
		rc = ama_bucket_fail(rc, s->remote, key.s);
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

int ama_pub_class_get(struct ama_publish *p, struct session *s,
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
	rc = ama_pub_session_get(p, &s);
	if (rc < 0)
		return rc;
	rc = ama_pub_class_get(p, s, name, create, out);
	ama_pub_session_put(p, s);
	return rc;
}

int ama_publish_classes(struct ama_publish *p, ama_publish_class_fn fn,
			void *ctx)
{
	struct ama_class_info ci;
	struct session *s;
	char **names = NULL;
	size_t i, n = 0;
	int rc = ama_pub_session_get(p, &s);

	if (rc < 0)
		return rc;
	rc = ama_bucket_class_names(s->remote, &names, &n);
	for (i = 0; i < n && rc == 0; i++) {
		rc = ama_pub_class_get(p, s, names[i], 0, &ci);
		if (rc == 0)
			rc = fn(&ci, ctx);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	ama_pub_session_put(p, s);
	return rc;
}

/* ---- assets ---- */

void ama_pub_asset_key(struct ama_buf *out, const struct ama_class_info *c,
		      uint64_t seq, const char *leaf)
{
	ama_layout_asset_prefix(out, c->top_hash, seq);
	ama_buf_addstr(out, leaf);
}

/* Is seq claimed? 1, 0, or an error. */
static int asset_claimed(struct session *s, const struct ama_class_info *c,
			 uint64_t seq)
{
	return ama_bucket_asset_claimed(s->remote, c, seq);
}

int ama_publish_claim_ok(const char *claim)
{
	size_t i;

	for (i = 0; claim[i]; i++)
		if (!((claim[i] >= '0' && claim[i] <= '9') ||
		      (claim[i] >= 'a' && claim[i] <= 'f')))
			return 0;
	return i == AMA_CLAIM_LEN;
}

int ama_publish_claim_new(char *out)
{
	struct ama_md5 r;	/* 16 random bytes, in the same hex form */

	if (RAND_bytes(r.d, sizeof(r.d)) != 1)
		return ama_error_set(AMA_EIO, "no random bytes for a claim");
	ama_md5_to_hex(out, &r);
	return 0;
}

/* <top_hash>/assets/by-claim/<claim>: the seq a claim was given. */
static void claim_key(struct ama_buf *out, const struct ama_class_info *c,
		      const char *claim)
{
	ama_layout_claim(out, c->top_hash, claim);
}

/*
 * The seq recorded in an object holding {"seq":N,...}: 0 and *seq, 1 when
 * key is absent (or, with want_claim, names another claim), or an error.
 */
static int read_seq(struct session *s, const char *key,
		    const char *want_claim, uint64_t *seq)
{
	struct ama_buf text = AMA_BUF_INIT;
	json_int_t n = 0;
	const char *claim = NULL;
	json_t *j = NULL;
	int rc = ama_bucket_get_text(s->remote, key, &text, AMA_BUCKET_MAX_JSON);

	if (rc == AMA_ENOTFOUND) {
		rc = 1;
	} else if (rc < 0) {
		rc = ama_bucket_fail(rc, s->remote, key);
	} else {
		j = json_loadb(ama_buf_str(&text), text.len, 0, NULL);
		if (!j || json_unpack(j, "{s:I, s?s}", "seq", &n, "claim",
				      &claim) < 0 || n < 1)
			rc = ama_error_setp(AMA_ECORRUPT, key,
					    "not a claimed asset");
		else if (want_claim && (!claim || strcmp(claim, want_claim)))
			rc = 1;
		else
			*seq = (uint64_t)n;
	}
	json_decref(j);
	ama_buf_release(&text);
	return rc;
}

/*
 * What a claim was given: 0 and *seq, 1 when nothing yet, or an error.
 * A server that died after it claimed the newest seq for this claim and
 * before it wrote by-claim left only the asset.json: that is checked too,
 * and by-claim written now.
 */
static int claim_find(struct session *s, const struct ama_class_info *c,
		      const char *claim, uint64_t newest, uint64_t *seq)
{
	struct ama_buf key = AMA_BUF_INIT, text = AMA_BUF_INIT;
	int rc;

	claim_key(&key, c, claim);
	rc = read_seq(s, key.s, NULL, seq);
	if (rc == 1 && newest) {
		ama_buf_reset(&key);
		ama_pub_asset_key(&key, c, newest, "asset.json");
		rc = read_seq(s, key.s, claim, seq);
		if (rc == 0) {
			ama_buf_reset(&key);
			claim_key(&key, c, claim);
			json_text(&text, json_pack("{s:I}", "seq",
						   (json_int_t)*seq));
			rc = ama_pub_put_text(s->remote, key.s, &text,
					      AMA_STORE_IF_NONE_MATCH);
			if (rc == AMA_ECONFLICT)
				rc = read_seq(s, key.s, NULL, seq);
			else if (rc < 0)
				rc = ama_bucket_fail(rc, s->remote, key.s);
		}
	}
	ama_buf_release(&key);
	ama_buf_release(&text);
	return rc;
}

int ama_publish_asset_create(struct ama_publish *p, const char *class,
			     const char *claim, uint64_t *seq_out,
			     int *created)
{
	struct ama_buf key = AMA_BUF_INIT, text = AMA_BUF_INIT;
	struct ama_class_info c;
	struct session *s;
	uint64_t n = 0, had;
	int rc, tries;

	*seq_out = 0;
	if (created)
		*created = 0;
	if (claim && !ama_publish_claim_ok(claim))
		return ama_error_set(AMA_EINVAL, "claim '%s' is not %d "
				     "lower-case hex digits", claim,
				     AMA_CLAIM_LEN);
	rc = ama_pub_session_get(p, &s);
	if (rc < 0)
		return rc;
	rc = ama_pub_class_get(p, s, class, 0, &c);
	if (rc < 0)
		goto out;
	pthread_mutex_lock(&p->claim);
	rc = ama_bucket_asset_count(s->remote, &c, &n);
	if (rc == 0 && claim) {
		rc = claim_find(s, &c, claim, n, &had);
		if (rc == 0) {
			/* a repeat: the number this claim was given */
			pthread_mutex_unlock(&p->claim);
			*seq_out = had;
			goto out;
		}
		rc = rc == 1 ? 0 : rc;
	}
	for (tries = 0; rc == 0; tries++) {
		json_t *j;

		n++;
		ama_buf_reset(&key);
		ama_buf_reset(&text);
		ama_pub_asset_key(&key, &c, n, "asset.json");
		j = json_pack("{s:s, s:s, s:I, s:I}", "class", c.name,
			      "class_id", c.class_id, "seq", (json_int_t)n,
			      "created", (json_int_t)time(NULL));
		if (claim)
			json_object_set_new(j, "claim", json_string(claim));
		json_text(&text, j);
		rc = ama_pub_put_text(s->remote, key.s, &text,
			      AMA_STORE_IF_NONE_MATCH);
		if (rc == AMA_ECONFLICT && tries < 1000) {
			rc = 0;		/* another server took it */
			continue;
		}
		if (rc < 0)
			rc = ama_bucket_fail(rc, s->remote, key.s);
		break;
	}
	if (rc == 0 && claim) {
		/*
		 * The claim's record. Lost to a request with the same claim
		 * on another server: that one's number is the answer, and
		 * the seq taken here stays an empty asset.
		 */
		ama_buf_reset(&key);
		ama_buf_reset(&text);
		claim_key(&key, &c, claim);
		json_text(&text, json_pack("{s:I}", "seq", (json_int_t)n));
		rc = ama_pub_put_text(s->remote, key.s, &text,
				      AMA_STORE_IF_NONE_MATCH);
		if (rc == AMA_ECONFLICT) {
			rc = read_seq(s, key.s, NULL, &had);
			if (rc == 0) {
				pthread_mutex_unlock(&p->claim);
				*seq_out = had;
				goto out;
			}
			if (rc == 1)
				rc = ama_error_setp(AMA_ECORRUPT, key.s,
						    "vanished after a conflict");
		} else if (rc < 0) {
			rc = ama_bucket_fail(rc, s->remote, key.s);
		}
	}
	pthread_mutex_unlock(&p->claim);
	if (rc == 0) {
		*seq_out = n;
		if (created)
			*created = 1;
	}
out:
	ama_buf_release(&key);
	ama_buf_release(&text);
	ama_pub_session_put(p, s);
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
	int rc = ama_pub_session_get(p, &s);

	if (rc < 0)
		return rc;
	rc = ama_pub_class_get(p, s, class, 0, &c);
	if (rc == 0)
		rc = ama_bucket_asset_count(s->remote, &c, &n);
	if (rc == 0)
		rc = ama_pub_session_meta(p, s);
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
	ama_pub_session_put(p, s);
	return rc;
}

/* Is CLASS/SEQ an asset (claimed in remote)? 0, or AMA_ENOTFOUND. */
int ama_pub_asset_must_exist(struct session *s, const struct ama_class_info *c,
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
	int rc = ama_pub_session_get(p, &s);

	if (rc < 0)
		return rc;
	rc = ama_pub_class_get(p, s, class, 0, &c);
	if (rc == 0 && seq == 0)
		rc = ama_error_set(AMA_EINVAL, "no asset has seq 0");
	if (rc == 0)
		rc = ama_pub_session_meta(p, s);
	if (rc == 0) {
		rc = ama_meta_log(s->meta, class, seq, max, fn, ctx);
		if (rc == AMA_ENOTFOUND)
			rc = ama_pub_asset_must_exist(s, &c, seq);
	}
	ama_pub_session_put(p, s);
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
	rc = ama_pub_session_get(p, &s);
	if (rc < 0)
		return rc;
	rc = ama_pub_session_meta(p, s);
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
	ama_pub_session_put(p, s);
	return rc;
}
