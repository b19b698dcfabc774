/* bucket.c: a read-only view of the published (remote) bucket: classes, assets, versions, manifests. */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bucket.h"
#include "error.h"
#include "layout.h"

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

int ama_bucket_get_text(struct ama_store *s, const char *key,
			struct ama_buf *out, uint64_t max)
{
	struct text_sink t = { out, max };

	ama_buf_reset(out);
	ama_buf_add(out, "", 0);
	return ama_store_get(s, key, 0, AMA_STORE_TO_END, text_sink, &t,
			     NULL);
}

int ama_bucket_fail(int rc, struct ama_store *s, const char *key)
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

int ama_bucket_class_parse(struct ama_class_info *out, const char *name,
			   const char *text, size_t len, const char *where)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
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

int ama_bucket_class(struct ama_store *remote, const char *name,
		     struct ama_class_info *out)
{
	struct ama_buf key = AMA_BUF_INIT, text = AMA_BUF_INIT,
		where = AMA_BUF_INIT;
	int rc = ama_manifest_check_class(name);

	if (rc < 0)
		return rc;
	ama_layout_class(&key, name);
	rc = ama_bucket_get_text(remote, key.s, &text, AMA_BUCKET_MAX_JSON);
	if (rc == AMA_ENOTFOUND) {
		rc = ama_error_set(AMA_ENOTFOUND, "no such class: %s", name);
	} else if (rc < 0) {
		rc = ama_bucket_fail(rc, remote, key.s);
	} else {
		ama_store_key_url(&where, remote, key.s);
		rc = ama_bucket_class_parse(out, name, text.s, text.len,
					    where.s);
	}
	ama_buf_release(&key);
	ama_buf_release(&text);
	ama_buf_release(&where);
	return rc;
}

struct names {
	char **v;
	size_t n, alloc;
};

static int collect_class(void *ctx, const struct ama_store_entry *e)
{
	struct names *nm = ctx;
	char name[65];

	if (!ama_layout_parse_class_key(name, e->key))
		return 0;
	if (nm->n == nm->alloc) {
		nm->alloc = nm->alloc ? 2 * nm->alloc : 16;
		nm->v = ama_realloc(nm->v, nm->alloc * sizeof(*nm->v));
	}
	nm->v[nm->n++] = ama_strdup(name);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ama_bucket_class_names(struct ama_store *remote, char ***out, size_t *n)
{
	struct names nm = { NULL, 0, 0 };
	size_t i;
	int rc = ama_store_list(remote, AMA_LAYOUT_CLASSES, 0, collect_class,
				&nm);

	*out = NULL;
	*n = 0;
	if (rc < 0) {
		for (i = 0; i < nm.n; i++)
			free(nm.v[i]);
		free(nm.v);
		return ama_bucket_fail(rc, remote, AMA_LAYOUT_CLASSES);
	}
	if (nm.n)
		qsort(nm.v, nm.n, sizeof(*nm.v), cmp_str);
	*out = nm.v;
	*n = nm.n;
	return 0;
}

int ama_bucket_asset_claimed(struct ama_store *remote,
			     const struct ama_class_info *c, uint64_t seq)
{
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_store_info info;
	int rc;

	ama_layout_asset_record(&key, c->top_hash, seq);
	rc = ama_store_head(remote, key.s, &info);
	if (rc == 0)
		rc = 1;
	else if (rc == AMA_ENOTFOUND)
		rc = 0;
	else
		rc = ama_bucket_fail(rc, remote, key.s);
	ama_buf_release(&key);
	return rc;
}

int ama_bucket_asset_count(struct ama_store *remote,
			   const struct ama_class_info *c, uint64_t *n)
{
	uint64_t lo = 0, hi = 1, mid;
	int rc;

	*n = 0;
	for (;;) {
		rc = ama_bucket_asset_claimed(remote, c, hi);
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
		rc = ama_bucket_asset_claimed(remote, c, mid);
		if (rc == 1)
			lo = mid;
		else if (rc == 0)
			hi = mid;
		rc = rc < 0 ? rc : 0;
	}
	if (rc < 0)
		return rc;
	*n = lo;
	return 0;
}

int ama_bucket_alias(struct ama_store *remote, const struct ama_class_info *c,
		     const char *name, uint64_t *seq)
{
	struct ama_buf key = AMA_BUF_INIT, text = AMA_BUF_INIT;
	json_t *j = NULL;
	json_int_t n = 0;
	const char *said = NULL;
	int rc;

	*seq = 0;
	ama_layout_alias(&key, c->top_hash, name);
	rc = ama_bucket_get_text(remote, key.s, &text, AMA_BUCKET_MAX_JSON);
	if (rc == AMA_ENOTFOUND) {
		rc = ama_error_set(AMA_ENOTFOUND, "no such alias: %s/%s",
				   c->name, name);
	} else if (rc < 0) {
		rc = ama_bucket_fail(rc, remote, key.s);
	} else {
		j = json_loadb(text.s, text.len, JSON_REJECT_DUPLICATES, NULL);
		if (!j || json_unpack(j, "{s:s, s:I}", "alias", &said, "seq",
				      &n) < 0 || strcmp(said, name) || n < 1)
			rc = ama_bucket_fail(ama_error_set(AMA_ECORRUPT,
					     "not an alias record of '%s'",
					     name), remote, key.s);
		else
			*seq = (uint64_t)n;
	}
	json_decref(j);
	ama_buf_release(&key);
	ama_buf_release(&text);
	return rc;
}

struct versions {
	size_t skip;			/* the prefix's length */
	struct ama_version *v;
	size_t n, alloc;
	int claimed;			/* asset.json was listed */
};

static int collect_version(void *ctx, const struct ama_store_entry *e)
{
	struct versions *vs = ctx;
	const char *leaf = e->key + vs->skip;
	struct ama_version v;

	if (!strcmp(leaf, "asset.json"))
		vs->claimed = 1;
	if (!ama_layout_parse_manifest_leaf(&v, leaf))
		return 0;
	if (vs->n == vs->alloc) {
		vs->alloc = vs->alloc ? 2 * vs->alloc : 16;
		vs->v = ama_realloc(vs->v, vs->alloc * sizeof(*vs->v));
	}
	vs->v[vs->n++] = v;
	return 0;
}

static int cmp_version(const void *a, const void *b)
{
	return ama_version_cmp(a, b);
}

int ama_bucket_versions(struct ama_store *remote,
			const struct ama_class_info *c, uint64_t seq,
			struct ama_version **out, size_t *n)
{
	struct ama_buf prefix = AMA_BUF_INIT;
	struct versions vs;
	int rc;

	*out = NULL;
	*n = 0;
	memset(&vs, 0, sizeof(vs));
	if (seq == 0)
		return ama_error_set(AMA_EINVAL, "no asset has seq 0");
	ama_layout_asset_prefix(&prefix, c->top_hash, seq);
	vs.skip = prefix.len;
	rc = ama_store_list(remote, prefix.s, 0, collect_version, &vs);
	if (rc < 0)
		rc = ama_bucket_fail(rc, remote, prefix.s);
	else if (!vs.claimed && !vs.n)
		rc = ama_error_set(AMA_ENOTFOUND, "no such asset: %s/%llu",
				   c->name, (unsigned long long)seq);
	ama_buf_release(&prefix);
	if (rc < 0) {
		free(vs.v);
		return rc;
	}
	if (vs.n)
		qsort(vs.v, vs.n, sizeof(*vs.v), cmp_version);
	*out = vs.v;
	*n = vs.n;
	return 0;
}

/* The manifest must be the version its key names. */
static int check_is(const struct ama_manifest *m,
		    const struct ama_class_info *c, uint64_t seq,
		    const struct ama_version *v)
{
	char want[AMA_VERSION_BUFSIZE], got[AMA_VERSION_BUFSIZE];

	if (ama_version_cmp(&m->version, v)) {
		ama_version_format(want, v);
		ama_version_format(got, &m->version);
		return ama_error_set(AMA_ECORRUPT, "holds version %s, not %s",
				     got, want);
	}
	if (m->class && strcmp(m->class, c->name))
		return ama_error_set(AMA_ECORRUPT, "is a manifest of class "
				     "'%s', not '%s'", m->class, c->name);
	if (m->seq && m->seq != seq)
		return ama_error_set(AMA_ECORRUPT, "is a manifest of asset %llu,"
				     " not %llu", (unsigned long long)m->seq,
				     (unsigned long long)seq);
	return 0;
}

/* Stops a GET once the header's empty line has come (or 1 MiB). */
struct head_sink {
	struct ama_buf *out;
};

#define HEADER_MAX (1u << 20)

static int head_sink(void *ctx, const void *data, size_t n)
{
	struct head_sink *h = ctx;
	size_t from = h->out->len > 0 ? h->out->len - 1 : 0;

	ama_buf_add(h->out, data, n);
	if (memmem(h->out->s + from, h->out->len - from, "\n\n", 2) ||
	    (h->out->len >= 1 && h->out->s[0] == '\n'))
		return AMA_EEXIST;	/* enough: the rest is objects */
	if (h->out->len > HEADER_MAX)
		return ama_error_set(AMA_ECORRUPT, "no end of the header in "
				     "its first %u bytes", HEADER_MAX);
	return 0;
}

int ama_bucket_manifest_header(struct ama_store *remote,
			       const struct ama_class_info *c, uint64_t seq,
			       const struct ama_version *v,
			       struct ama_manifest *out, char *commit_id)
{
	struct ama_buf key = AMA_BUF_INIT, text = AMA_BUF_INIT;
	struct head_sink h = { &text };
	char vs[AMA_VERSION_BUFSIZE];
	int rc;

	ama_manifest_init(out);
	commit_id[0] = '\0';
	ama_layout_manifest(&key, c->top_hash, seq, v);
	ama_buf_add(&text, "", 0);
	rc = ama_store_get(remote, key.s, 0, AMA_STORE_TO_END, head_sink, &h,
			   NULL);
	if (rc == AMA_EEXIST)
		rc = 0;
	if (rc == AMA_ENOTFOUND) {
		ama_version_format(vs, v);
		rc = ama_error_set(AMA_ENOTFOUND, "no such version: "
				   "%s/%llu@%s", c->name,
				   (unsigned long long)seq, vs);
		goto out;
	}
	if (rc == 0) {
		rc = ama_manifest_parse_header(out, commit_id, text.s,
					       text.len);
		if (rc == 1)
			rc = ama_error_set(AMA_EINVAL, "no empty line after "
					   "the header");
		if (rc == 0) {
			rc = check_is(out, c, seq, v);
			if (rc < 0)
				ama_manifest_release(out);
		}
		if (rc < 0)
			rc = AMA_ECORRUPT;
	}
	if (rc < 0)
		rc = ama_bucket_fail(rc, remote, key.s);
out:
	ama_buf_release(&key);
	ama_buf_release(&text);
	return rc;
}

int ama_bucket_manifest_text(struct ama_store *remote,
			     const struct ama_class_info *c, uint64_t seq,
			     const struct ama_version *v, struct ama_buf *text,
			     struct ama_manifest *m)
{
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_manifest mine;
	char vs[AMA_VERSION_BUFSIZE];
	int rc;

	if (seq == 0)
		return ama_error_set(AMA_EINVAL, "no asset has seq 0");
	if (!m)
		m = &mine;
	ama_manifest_init(m);
	ama_layout_manifest(&key, c->top_hash, seq, v);
	rc = ama_bucket_get_text(remote, key.s, text,
				 AMA_BUCKET_MAX_MANIFEST);
	if (rc == AMA_ENOTFOUND) {
		ama_version_format(vs, v);
		rc = ama_error_set(AMA_ENOTFOUND, "no such version: "
				   "%s/%llu@%s", c->name,
				   (unsigned long long)seq, vs);
		goto out;
	}
	if (rc == 0) {
		rc = ama_manifest_parse(m, text->s, text->len);
		if (rc == 0) {
			rc = check_is(m, c, seq, v);
			if (rc < 0)
				ama_manifest_release(m);
		}
		/* a manifest that cannot be read is a damaged bucket */
		if (rc < 0)
			rc = AMA_ECORRUPT;
	}
	if (rc < 0)
		rc = ama_bucket_fail(rc, remote, key.s);
out:
	if (rc == 0 && m == &mine)
		ama_manifest_release(m);
	ama_buf_release(&key);
	return rc;
}

int ama_bucket_manifest(struct ama_store *remote,
			const struct ama_class_info *c, uint64_t seq,
			const struct ama_version *v, struct ama_manifest *out)
{
	struct ama_buf text = AMA_BUF_INIT;
	int rc = ama_bucket_manifest_text(remote, c, seq, v, &text, out);

	ama_buf_release(&text);
	return rc;
}
