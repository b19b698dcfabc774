/* t/fuzz/s3xml.c: fuzzing the S3 XML readers, each listing checked against its keys. */
#include "auto-config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "buf.h"
#include "error.h"
#include "s3xml.h"
#include "store.h"

#define CHECK(c) do { if (!(c)) fail(__LINE__, #c); } while (0)

static void fail(int line, const char *what)
{
	fprintf(stderr, "t/fuzz/s3xml.c:%d: check failed: %s\n"
		"  (last error: %s)\n", line, what, ama_error_msg());
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every string of an ama_s3_error ends inside its array. */
static void check_error_fields(const struct ama_s3_error *e)
{
	CHECK(memchr(e->code, '\0', sizeof(e->code)));
	CHECK(memchr(e->message, '\0', sizeof(e->message)));
	CHECK(memchr(e->bucket, '\0', sizeof(e->bucket)));
	CHECK(memchr(e->key, '\0', sizeof(e->key)));
}

/* A failed call said why, with an error code of its own. */
static void check_failed(int rc)
{
	CHECK(rc == AMA_ECORRUPT || rc == AMA_EREMOTE);
	CHECK(ama_error_code() == rc);
	CHECK(ama_error_msg()[0] != '\0');
}

/*
 * The oracle: a second reading of a ListBucketResult, by expat directly.
 * The last Key leaf of each Contents that has children, the last
 * EncodingType, IsTruncated and NextContinuationToken leaves of the root
 * and each Contents' last Size leaf. Only used when ama_s3xml_list()
 * accepted the text, so the text is well formed and not deep.
 */
#define MAXDEPTH 64

struct oracle {
	XML_Parser p;
	int depth;
	char name[MAXDEPTH][32];	/* local names, cut short */
	int had_child[MAXDEPTH];
	struct ama_buf text;
	struct ama_buf cur_key, cur_size;
	int have_key, have_size;
	struct ama_buf *keys, *sizes;	/* sizes[i].len 0: none given */
	size_t nkeys, alloc;
	struct ama_buf encoding, truncated, token;
	int too_deep;
};

static void o_start(void *user, const XML_Char *name, const XML_Char **attrs)
{
	struct oracle *o = user;
	const char *local = strrchr(name, ' ');

	(void)attrs;
	local = local ? local + 1 : name;
	if (o->depth > 0 && o->depth <= MAXDEPTH)
		o->had_child[o->depth - 1] = 1;
	if (o->depth < MAXDEPTH) {
		snprintf(o->name[o->depth], sizeof(o->name[0]), "%s", local);
		o->had_child[o->depth] = 0;
	} else {
		o->too_deep = 1;
	}
	if (o->depth == 1 && !strcmp(local, "Contents")) {
		o->have_key = o->have_size = 0;
		ama_buf_reset(&o->cur_key);
		ama_buf_reset(&o->cur_size);
	}
	o->depth++;
	ama_buf_reset(&o->text);
}

static void o_set(struct ama_buf *to, const struct ama_buf *from)
{
	ama_buf_reset(to);
	ama_buf_add(to, from->s ? from->s : "", from->len);
}

static void o_end(void *user, const XML_Char *name)
{
	struct oracle *o = user;
	int d;

	(void)name;
	d = --o->depth;
	if (d >= MAXDEPTH || d == 0)
		goto out;
	if (d == 1 && !o->had_child[d]) {
		if (!strcmp(o->name[d], "EncodingType"))
			o_set(&o->encoding, &o->text);
		else if (!strcmp(o->name[d], "IsTruncated"))
			o_set(&o->truncated, &o->text);
		else if (!strcmp(o->name[d], "NextContinuationToken"))
			o_set(&o->token, &o->text);
	} else if (d == 2 && !o->had_child[d] &&
		   !strcmp(o->name[1], "Contents")) {
		if (!strcmp(o->name[d], "Key")) {
			o_set(&o->cur_key, &o->text);
			o->have_key = 1;
		} else if (!strcmp(o->name[d], "Size")) {
			o_set(&o->cur_size, &o->text);
			o->have_size = 1;
		}
	} else if (d == 1 && o->had_child[d] &&
		   !strcmp(o->name[d], "Contents") && o->have_key) {
		if (o->nkeys == o->alloc) {
			o->alloc = o->alloc ? 2 * o->alloc : 16;
			o->keys = ama_realloc(o->keys,
					      o->alloc * sizeof(*o->keys));
			o->sizes = ama_realloc(o->sizes,
					       o->alloc * sizeof(*o->sizes));
		}
		memset(&o->keys[o->nkeys], 0, sizeof(o->keys[0]));
		memset(&o->sizes[o->nkeys], 0, sizeof(o->sizes[0]));
		o_set(&o->keys[o->nkeys], &o->cur_key);
		if (o->have_size)
			o_set(&o->sizes[o->nkeys], &o->cur_size);
		o->nkeys++;
	}
out:
	ama_buf_reset(&o->text);
}

static void o_chars(void *user, const XML_Char *s, int len)
{
	struct oracle *o = user;

	ama_buf_add(&o->text, s, (size_t)len);
}

static void oracle_release(struct oracle *o)
{
	size_t i;

	for (i = 0; i < o->nkeys; i++) {
		ama_buf_release(&o->keys[i]);
		ama_buf_release(&o->sizes[i]);
	}
	free(o->keys);
	free(o->sizes);
	ama_buf_release(&o->text);
	ama_buf_release(&o->cur_key);
	ama_buf_release(&o->cur_size);
	ama_buf_release(&o->encoding);
	ama_buf_release(&o->truncated);
	ama_buf_release(&o->token);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* encoding-type=url undone: %XX and '+'; -1 for a bad escape. */
static int unescape(struct ama_buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			ama_buf_addch(out, hi * 16 + lo);
			i += 2;
		} else {
			ama_buf_addch(out, s[i] == '+' ? ' ' : s[i]);
		}
	}
	return 0;
}

/* UTF-8 as RFC 3629 has it: no overlong forms, surrogates or > U+10FFFF. */
static int utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], min, cp, k, more;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			more = 1, min = 0x80, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			more = 2, min = 0x800, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			more = 3, min = 0x10000, cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i <= more)
			return 0;
		for (k = 1; k <= more; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += more + 1;
	}
	return 1;
}

/* A listing that was accepted holds exactly the oracle's keys. */
static void check_listing(const struct ama_store_page *pg, const char *strip,
			  const char *xml, size_t len)
{
	struct oracle o;
	size_t plen = strlen(strip), i, k = 0;
	int url;

	memset(&o, 0, sizeof(o));
	o.p = XML_ParserCreateNS(NULL, ' ');
	CHECK(o.p);
	XML_SetUserData(o.p, &o);
	XML_SetElementHandler(o.p, o_start, o_end);
	XML_SetCharacterDataHandler(o.p, o_chars);
	CHECK(XML_Parse(o.p, xml, (int)len, XML_TRUE) == XML_STATUS_OK);
	XML_ParserFree(o.p);
	CHECK(!o.too_deep);
	url = o.encoding.len == 3 && !memcmp(o.encoding.s, "url", 3);
	for (i = 0; i < o.nkeys; i++) {
		struct ama_buf dec = AMA_BUF_INIT;
		const char *key = o.keys[i].s ? o.keys[i].s : "";
		size_t klen = o.keys[i].len;

		if (url) {
			CHECK(unescape(&dec, key, klen) == 0);
			key = dec.s ? dec.s : "";
			klen = dec.len;
		}
		/* a key no C string can hold, or not UTF-8: refused */
		CHECK(!memchr(key, '\0', klen));
		CHECK(utf8_ok((const unsigned char *)key, klen));
		if (klen >= plen && !memcmp(key, strip, plen)) {
			const struct ama_store_entry *e = &pg->entries[k];

			CHECK(k < pg->n);
			CHECK(strlen(e->key) == klen - plen);
			CHECK(!memcmp(e->key, key + plen, klen - plen));
			if (o.sizes[i].len) {
				const char *s = o.sizes[i].s;
				uint64_t v = 0;
				size_t j;

				for (j = 0; j < o.sizes[i].len; j++) {
					CHECK(s[j] >= '0' && s[j] <= '9');
					CHECK(v <= (UINT64_MAX - 9) / 10);
					v = v * 10 + (uint64_t)(s[j] - '0');
				}
				CHECK(e->info.size == v);
			}
			CHECK(memchr(e->info.etag, '\0', sizeof(e->info.etag)));
			k++;
		}
		ama_buf_release(&dec);
	}
	CHECK(k == pg->n);
	if (o.truncated.len == 4 && !memcmp(o.truncated.s, "true", 4)) {
		CHECK(pg->next && o.token.len > 0);
		CHECK(strlen(pg->next) == o.token.len);
		CHECK(!memcmp(pg->next, o.token.s, o.token.len));
	} else {
		CHECK(!pg->next);
	}
	oracle_release(&o);
}

static void fuzz_list(const char *strip, const char *xml, size_t len)
{
	struct ama_store_page pg;
	struct ama_s3_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = ama_s3xml_list(&pg, strip, xml, len, &err);
	if (rc == 0) {
		check_listing(&pg, strip, xml, len);
	} else {
		check_failed(rc);
		CHECK(pg.n == 0 && !pg.entries && !pg.next);
		if (rc == AMA_EREMOTE)
			CHECK(err.code[0]);
	}
	check_error_fields(&err);
	ama_store_page_release(&pg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *xml = (const char *)data;
	struct ama_s3_error err, first;
	char etag[80], *id = (char *)1;
	size_t nerr = 99;
	int rc;

	rc = ama_s3xml_error(&err, xml, size);
	check_error_fields(&err);
	if (rc == 0)
		CHECK(err.code[0]);
	else
		CHECK(rc == AMA_ECORRUPT && ama_error_code() == rc);

	fuzz_list("", xml, size);
	fuzz_list("pre/", xml, size);

	memset(&err, 0, sizeof(err));
	rc = ama_s3xml_upload_id(&id, xml, size, &err);
	if (rc == 0) {
		CHECK(id && id[0]);
	} else {
		check_failed(rc);
		CHECK(!id);
	}
	check_error_fields(&err);
	free(id);

	memset(etag, 'x', sizeof(etag));
	rc = ama_s3xml_etag(etag, xml, size, NULL);
	CHECK(memchr(etag, '\0', sizeof(etag)));
	if (rc < 0) {
		check_failed(rc);
		CHECK(etag[0] == '\0');
	}

	memset(&first, 0, sizeof(first));
	rc = ama_s3xml_delete_result(&nerr, &first, xml, size, &err);
	check_error_fields(&first);
	check_error_fields(&err);
	if (rc < 0) {
		check_failed(rc);
		CHECK(nerr == 0);
	} else if (nerr == 0) {
		CHECK(!first.code[0] && !first.key[0]);
	}
	return 0;
}
