/* s3xml.c: S3's XML answers flattened by expat into (path, text) leaves, then read. */
#include "auto-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "buf.h"
#include "error.h"
#include "s3xml.h"
#include "store_backend.h"
#include "utf8.h"

/*
 * The answers are small and flat: every value is the text of a leaf
 * element. The parser calls leaf() with the element's path below the root
 * ("Contents/Key") and its decoded text, and group_end() when an element
 * that had children ends ("Contents").
 */
struct flat {
	XML_Parser p;
	char root[64];
	struct ama_buf path;	/* below the root, '/'-joined */
	size_t stack[16];
	int depth;
	int had_child[16];
	struct ama_buf text;
	void (*leaf)(struct flat *f, const char *path, const char *text,
		     size_t len);
	void (*group_end)(struct flat *f, const char *path);
	void *ctx;
};

static void start(void *user, const XML_Char *name, const XML_Char **attrs)
{
	struct flat *f = user;
	const char *local = strrchr(name, ' ');	/* namespace separator */

	(void)attrs;
	local = local ? local + 1 : name;
	if (f->depth == 0)
		snprintf(f->root, sizeof(f->root), "%s", local);
	if (f->depth > 0)
		f->had_child[f->depth - 1] = 1;
	if (f->depth >= 16) {
		XML_StopParser(f->p, XML_FALSE);
		return;
	}
	f->stack[f->depth] = f->path.len;
	f->had_child[f->depth] = 0;
	if (f->depth > 0) {
		if (f->depth > 1)
			ama_buf_addch(&f->path, '/');
		ama_buf_addstr(&f->path, local);
	}
	f->depth++;
	ama_buf_reset(&f->text);
}

static void end(void *user, const XML_Char *name)
{
	struct flat *f = user;

	(void)name;
	f->depth--;
	if (f->depth > 0) {
		if (!f->had_child[f->depth] && f->leaf)
			f->leaf(f, ama_buf_str(&f->path),
				ama_buf_str(&f->text), f->text.len);
		else if (f->had_child[f->depth] && f->group_end)
			f->group_end(f, ama_buf_str(&f->path));
	}
	ama_buf_truncate(&f->path, f->stack[f->depth]);
	ama_buf_reset(&f->text);
}

static void chars(void *user, const XML_Char *s, int len)
{
	struct flat *f = user;

	ama_buf_add(&f->text, s, (size_t)len);
}

static int flat_parse(struct flat *f, const char *xml, size_t len)
{
	int rc = 0;

	f->p = XML_ParserCreateNS(NULL, ' ');
	if (!f->p)
		abort();
	XML_SetUserData(f->p, f);
	XML_SetElementHandler(f->p, start, end);
	XML_SetCharacterDataHandler(f->p, chars);
	if (XML_Parse(f->p, xml, (int)len, XML_TRUE) != XML_STATUS_OK)
		rc = ama_error_set(AMA_ECORRUPT,
				   "the store's answer is not valid XML: %s",
				   XML_ErrorString(XML_GetErrorCode(f->p)));
	XML_ParserFree(f->p);
	ama_buf_release(&f->path);
	ama_buf_release(&f->text);
	return rc;
}

static void copy_field(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void error_leaf(struct flat *f, const char *path, const char *text,
		       size_t len)
{
	struct ama_s3_error *e = f->ctx;

	if (!strcmp(path, "Code"))
		copy_field(e->code, sizeof(e->code), text, len);
	else if (!strcmp(path, "Message"))
		copy_field(e->message, sizeof(e->message), text, len);
	else if (!strcmp(path, "BucketName"))
		copy_field(e->bucket, sizeof(e->bucket), text, len);
	else if (!strcmp(path, "Key"))
		copy_field(e->key, sizeof(e->key), text, len);
}

int ama_s3xml_error(struct ama_s3_error *err, const char *xml, size_t len)
{
	struct flat f = { 0 };
	int rc;

	memset(err, 0, sizeof(*err));
	f.leaf = error_leaf;
	f.ctx = err;
	rc = flat_parse(&f, xml, len);
	if (rc < 0)
		return rc;
	if (strcmp(f.root, "Error") || !err->code[0])
		return ama_error_set(AMA_ECORRUPT,
				     "the store's answer is not an S3 error");
	return 0;
}

/* A body whose root is <Error>: fill err and say AMA_EREMOTE. */
static int root_error(struct flat *f, const char *xml, size_t len,
		      struct ama_s3_error *err)
{
	struct ama_s3_error tmp;

	if (strcmp(f->root, "Error"))
		return 0;
	if (ama_s3xml_error(&tmp, xml, len) < 0)
		return AMA_ECORRUPT;
	if (err)
		*err = tmp;
	return ama_error_set(AMA_EREMOTE, "%s: %s", tmp.code, tmp.message);
}

void ama_s3_etag_unquote(char *out, const char *etag, size_t n)
{
	while (n > 0 && isspace((unsigned char)etag[n - 1]))
		n--;
	while (n > 0 && isspace((unsigned char)*etag)) {
		etag++;
		n--;
	}
	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
		etag++;
		n -= 2;
	}
	copy_field(out, 80, etag, n);
}

/* ListBucketResult */
struct list_state {
	struct ama_store_page *page;
	size_t alloc;
	const char *strip;
	int url_encoded, truncated;
	struct ama_buf key, token;
	struct ama_store_info info;
	int have_key, bad;
};

static int unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Undo encoding-type=url (application/x-www-form-urlencoded style). */
static int url_decode(struct ama_buf *out, const char *s, size_t n)
{
	size_t i;

	ama_buf_reset(out);
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = unhex((unsigned char)s[i + 1]);
			lo = unhex((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			ama_buf_addch(out, hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+') {
			ama_buf_addch(out, ' ');
		} else {
			ama_buf_addch(out, s[i]);
		}
	}
	return 0;
}

static void list_leaf(struct flat *f, const char *path, const char *text,
		      size_t len)
{
	struct list_state *st = f->ctx;

	if (!strcmp(path, "Contents/Key")) {
		ama_buf_reset(&st->key);
		ama_buf_add(&st->key, text, len);
		st->have_key = 1;
	} else if (!strcmp(path, "Contents/Size")) {
		char *end;

		/* digits only: strtoull() takes " 5" and "+5" and wraps "-1" */
		errno = 0;
		st->info.size = strtoull(text, &end, 10);
		if (!isdigit((unsigned char)text[0]) || errno || *end)
			st->bad = 1;
	} else if (!strcmp(path, "Contents/ETag")) {
		ama_s3_etag_unquote(st->info.etag, text, len);
	} else if (!strcmp(path, "IsTruncated")) {
		st->truncated = !strcmp(text, "true");
	} else if (!strcmp(path, "NextContinuationToken")) {
		ama_buf_reset(&st->token);
		ama_buf_add(&st->token, text, len);
	} else if (!strcmp(path, "EncodingType")) {
		st->url_encoded = !strcmp(text, "url");
	}
}

/*
 * A Contents ends: keep its key as it came (XML text holds no NUL) and its
 * info. Keys are decoded, checked and stripped once the whole answer is
 * read, since EncodingType may come after them (MinIO sends it last).
 */
static void list_group_end(struct flat *f, const char *path)
{
	struct list_state *st = f->ctx;
	struct ama_store_page *pg = st->page;

	if (strcmp(path, "Contents"))
		return;
	if (!st->have_key) {
		st->bad = 1;
		return;
	}
	if (pg->n == st->alloc) {
		st->alloc = st->alloc ? 2 * st->alloc : 64;
		pg->entries = ama_realloc(pg->entries,
					  st->alloc * sizeof(*pg->entries));
	}
	ama_store_info_classify(&st->info);
	pg->entries[pg->n].key = ama_strndup(ama_buf_str(&st->key),
					     st->key.len);
	pg->entries[pg->n].info = st->info;
	pg->n++;
	memset(&st->info, 0, sizeof(st->info));
	st->have_key = 0;
}

/* Decode and check the keys kept; drop those not under strip, strip it. */
static void list_finish(struct list_state *st)
{
	struct ama_store_page *pg = st->page;
	struct ama_buf dec = AMA_BUF_INIT;
	size_t plen = strlen(st->strip), i, k = 0;

	for (i = 0; i < pg->n; i++) {
		char *raw = pg->entries[i].key;
		const char *key = raw;
		size_t klen = strlen(raw);

		if (!st->bad && st->url_encoded) {
			if (url_decode(&dec, raw, klen) < 0)
				st->bad = 1;
			key = ama_buf_str(&dec);
			klen = dec.len;
		}
		if (!st->bad && !ama_utf8_valid(key, klen))
			st->bad = 1;
		if (!st->bad && klen >= plen && !memcmp(key, st->strip, plen)) {
			pg->entries[k].key = ama_strndup(key + plen,
							 klen - plen);
			pg->entries[k].info = pg->entries[i].info;
			k++;
		}
		free(raw);
	}
	pg->n = k;
	ama_buf_release(&dec);
}

int ama_s3xml_list(struct ama_store_page *out, const char *strip_prefix,
		   const char *xml, size_t len, struct ama_s3_error *err)
{
	struct list_state st;
	struct flat f = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.page = out;
	st.strip = strip_prefix ? strip_prefix : "";
	f.leaf = list_leaf;
	f.group_end = list_group_end;
	f.ctx = &st;
	rc = flat_parse(&f, xml, len);
	list_finish(&st);
	if (rc == 0)
		rc = root_error(&f, xml, len, err);
	if (rc == 0 && strcmp(f.root, "ListBucketResult"))
		rc = ama_error_set(AMA_ECORRUPT,
			"the store's answer is not a ListBucketResult");
	if (rc == 0 && st.bad)
		rc = ama_error_set(AMA_ECORRUPT,
			"the store's listing has a malformed entry");
	if (rc == 0 && st.truncated) {
		if (!st.token.len)
			rc = ama_error_set(AMA_ECORRUPT,
				"the store's listing is truncated but has no "
				"continuation token");
		else
			out->next = ama_buf_detach(&st.token);
	}
	ama_buf_release(&st.key);
	ama_buf_release(&st.token);
	if (rc < 0)
		ama_store_page_release(out);
	return rc;
}

struct one_leaf {
	const char *want;
	struct ama_buf value;
	int found;
};

static void one_leaf(struct flat *f, const char *path, const char *text,
		     size_t len)
{
	struct one_leaf *o = f->ctx;

	if (!strcmp(path, o->want)) {
		ama_buf_reset(&o->value);
		ama_buf_add(&o->value, text, len);
		o->found = 1;
	}
}

static int parse_one(struct one_leaf *o, const char *const *roots,
		     const char *xml, size_t len, struct ama_s3_error *err)
{
	struct flat f = { 0 };
	int rc, i, ok = 0;

	f.leaf = one_leaf;
	f.ctx = o;
	rc = flat_parse(&f, xml, len);
	if (rc == 0)
		rc = root_error(&f, xml, len, err);
	if (rc < 0)
		return rc;
	for (i = 0; roots[i]; i++)
		ok |= !strcmp(f.root, roots[i]);
	if (!ok || !o->found || !o->value.len)
		return ama_error_set(AMA_ECORRUPT,
			"the store's answer has no %s in a %s", o->want,
			roots[0]);
	return 0;
}

int ama_s3xml_upload_id(char **out, const char *xml, size_t len,
			struct ama_s3_error *err)
{
	static const char *const roots[] = {
		"InitiateMultipartUploadResult", NULL
	};
	struct one_leaf o = { "UploadId", AMA_BUF_INIT, 0 };
	int rc = parse_one(&o, roots, xml, len, err);

	*out = rc < 0 ? NULL : ama_buf_detach(&o.value);
	ama_buf_release(&o.value);
	return rc;
}

int ama_s3xml_etag(char *etag, const char *xml, size_t len,
		   struct ama_s3_error *err)
{
	static const char *const roots[] = {
		"CompleteMultipartUploadResult", "CopyObjectResult",
		"CopyPartResult", NULL
	};
	struct one_leaf o = { "ETag", AMA_BUF_INIT, 0 };
	int rc = parse_one(&o, roots, xml, len, err);

	etag[0] = '\0';
	if (rc == 0)
		ama_s3_etag_unquote(etag, o.value.s, o.value.len);
	ama_buf_release(&o.value);
	return rc;
}

/* DeleteResult */
struct delete_state {
	size_t n;
	struct ama_s3_error cur, first;
};

static void delete_leaf(struct flat *f, const char *path, const char *text,
			size_t len)
{
	struct delete_state *d = f->ctx;

	if (!strcmp(path, "Error/Code"))
		copy_field(d->cur.code, sizeof(d->cur.code), text, len);
	else if (!strcmp(path, "Error/Message"))
		copy_field(d->cur.message, sizeof(d->cur.message), text, len);
	else if (!strcmp(path, "Error/Key"))
		copy_field(d->cur.key, sizeof(d->cur.key), text, len);
}

static void delete_group_end(struct flat *f, const char *path)
{
	struct delete_state *d = f->ctx;

	if (strcmp(path, "Error"))
		return;
	if (d->n++ == 0)
		d->first = d->cur;
	memset(&d->cur, 0, sizeof(d->cur));
}

int ama_s3xml_delete_result(size_t *nerrors, struct ama_s3_error *first,
			    const char *xml, size_t len,
			    struct ama_s3_error *err)
{
	struct delete_state d;
	struct flat f = { 0 };
	int rc;

	memset(&d, 0, sizeof(d));
	*nerrors = 0;
	f.leaf = delete_leaf;
	f.group_end = delete_group_end;
	f.ctx = &d;
	rc = flat_parse(&f, xml, len);
	if (rc == 0)
		rc = root_error(&f, xml, len, err);
	if (rc < 0)
		return rc;
	if (strcmp(f.root, "DeleteResult"))
		return ama_error_set(AMA_ECORRUPT, "the store's answer is "
				     "not a DeleteResult");
	*nerrors = d.n;
	if (first)
		*first = d.first;
	return 0;
}
