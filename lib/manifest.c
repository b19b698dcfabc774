/* manifest.c: object lists, the manifest text, and the checks hostile manifests must pass. */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "asset.h"
#include "error.h"
#include "manifest.h"

#define CHUNK_SIZE (64 * 1024)
#define AUTHOR_MAX 255
#define CLASS_MAX 64
#define FORMAT_FLUSH (64 * 1024)

/* Paths live in chunks that never move, so objects can point into them. */
struct ama_objlist_chunk {
	struct ama_objlist_chunk *next;
	size_t used, size;
	char data[];
};

static char *store_path(struct ama_objlist *l, const char *path, size_t len)
{
	struct ama_objlist_chunk *c = l->chunks;
	char *p;

	if (!c || c->size - c->used < len + 1) {
		size_t size = len + 1 > CHUNK_SIZE ? len + 1 : CHUNK_SIZE;

		c = ama_malloc(sizeof(*c) + size);
		c->used = 0;
		c->size = size;
		c->next = l->chunks;
		l->chunks = c;
	}
	p = c->data + c->used;
	memcpy(p, path, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

void ama_objlist_release(struct ama_objlist *l)
{
	struct ama_objlist_chunk *c = l->chunks, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void ama_objlist_add(struct ama_objlist *l, const struct ama_md5 *md5,
		     uint64_t size, const char *path, size_t len)
{
	ama_objlist_add_kind(l, md5, size, AMA_OBJECT_FILE, path, len);
}

void ama_objlist_add_object(struct ama_objlist *l, const struct ama_object *o)
{
	ama_objlist_add_kind(l, &o->md5, o->size, o->kind, o->path,
			     o->path_len);
}

void ama_objlist_add_kind(struct ama_objlist *l, const struct ama_md5 *md5,
			  uint64_t size, unsigned kind, const char *path,
			  size_t len)
{
	struct ama_object *o;

	if (l->n == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 64;
		l->v = ama_realloc(l->v, l->alloc * sizeof(*l->v));
	}
	o = &l->v[l->n++];
	o->md5 = *md5;
	o->size = size;
	o->path = store_path(l, path, len);
	o->path_len = len;
	o->kind = kind;
}

/* A decimal without sign or leading zeros, at most INT64_MAX. */
static int parse_u63(uint64_t *out, const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i;

	if (!len || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (uint64_t)(INT64_MAX - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int ama_objlist_add_record(struct ama_objlist *l, const struct ama_record *rec)
{
	struct ama_md5 md5;
	uint64_t size;
	unsigned kind;

	if (rec->nfields < 2)
		return ama_error_setp(AMA_EINVAL, rec->path,
				      "malformed record: want <md5> <size>");
	if (ama_md5_from_hex(&md5, rec->field[0]) < 0)
		return ama_error_setp(AMA_EINVAL, rec->path,
			"malformed record: bad MD5 (want 32 lowercase hex)");
	if (parse_u63(&size, rec->field[1], strlen(rec->field[1])) < 0)
		return ama_error_setp(AMA_EINVAL, rec->path,
				      "malformed record: bad size");
	kind = rec->nfields > 2 && !strcmp(rec->field[2], "link") ?
		AMA_OBJECT_LINK : AMA_OBJECT_FILE;
	if (kind == AMA_OBJECT_LINK && size > AMA_LINK_MAX)
		return ama_error_setp(AMA_EINVAL, rec->path, "malformed record:"
				      " a link of more than %u bytes",
				      AMA_LINK_MAX);
	ama_objlist_add_kind(l, &md5, size, kind, rec->path, rec->path_len);
	return 0;
}

static int path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

static int object_cmp(const void *a, const void *b)
{
	const struct ama_object *x = a, *y = b;

	return path_cmp(x->path, x->path_len, y->path, y->path_len);
}

/* Why a path is not clean, for the message. */
static const char *unclean_reason(const char *p, size_t len)
{
	const char *s = p, *end = p + len;

	if (!len)
		return "empty path";
	if (*p == '/')
		return "absolute path";
	if (p[len - 1] == '/')
		return "trailing '/'";
	while (s <= end) {
		const char *e = memchr(s, '/', (size_t)(end - s));
		size_t n;

		if (!e)
			e = end;
		n = (size_t)(e - s);
		if (!n)
			return "empty part ('//')";
		if ((n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return "'.' or '..' part";
		s = e + 1;
	}
	return "not a clean relative path";
}

/*
 * Names git or ama reserve; NULL when the path may be stored. A ".ama"
 * part anywhere is refused, not only at the root: placed by a clone,
 * "x/.ama/config" would make x a nested asset whose config (server URL,
 * token file, stores) came from whoever wrote the manifest.
 */
static const char *reserved_reason(const char *p, size_t len)
{
	const char *s = p, *end = p + len;

	while (s < end) {
		const char *e = memchr(s, '/', (size_t)(end - s));

		if (!e)
			e = end;
		if (e - s == 4 && !memcmp(s, ".ama", 4))
			return "inside .ama, which ama manages";
		if (e - s == 4 && !strncasecmp(s, ".git", 4))
			return "a '.git' part, which git cannot store";
		s = e + 1;
	}
	return NULL;
}

/*
 * The checks of ama_objlist_check, one object at a time in list order.
 * stack holds the indices of earlier paths that later ones could still
 * sit inside: each is a prefix of the next, followed by a byte below '/'.
 */
struct checker {
	size_t *stack;
	size_t sp, cap;
};

int ama_object_check_path(const char *path, size_t len)
{
	const char *why;

	if (memchr(path, '\0', len) || strlen(path) != len)
		return ama_error_setp(AMA_EINVAL, path, "NUL byte in a path");
	if (!ama_path_is_clean(path))
		return ama_error_setp(AMA_EINVAL, path, "%s",
				      unclean_reason(path, len));
	why = reserved_reason(path, len);
	if (why)
		return ama_error_setp(AMA_EINVAL, path, "%s", why);
	return 0;
}

static int check_next(struct checker *ck, const struct ama_objlist *l,
		      size_t idx)
{
	const struct ama_object *o = &l->v[idx];
	int rc = ama_object_check_path(o->path, o->path_len);

	if (rc < 0)
		return rc;
	if (o->kind == AMA_OBJECT_LINK && o->size > AMA_LINK_MAX)
		return ama_error_setp(AMA_EINVAL, o->path, "a link of more "
				      "than %u bytes", AMA_LINK_MAX);
	if (idx > 0) {
		int c = object_cmp(&l->v[idx - 1], o);

		if (c == 0)
			return ama_error_setp(AMA_EINVAL, o->path,
					      "duplicate path");
		if (c > 0)
			return ama_error_setp(AMA_EINVAL, o->path,
				"out of order (paths are sorted bytewise)");
	}
	while (ck->sp) {
		const struct ama_object *f = &l->v[ck->stack[ck->sp - 1]];

		if (o->path_len > f->path_len &&
		    !memcmp(o->path, f->path, f->path_len)) {
			unsigned char next =
				(unsigned char)o->path[f->path_len];

			if (next == '/')
				return ama_error_setp(AMA_EINVAL, o->path,
					"inside %s, which is a %s",
					ama_quote_for_message(f->path),
					f->kind == AMA_OBJECT_LINK ?
					"symbolic link" : "file");
			if (next < '/')
				break;
		}
		ck->sp--;
	}
	if (ck->sp == ck->cap) {
		ck->cap = ck->cap ? 2 * ck->cap : 16;
		ck->stack = ama_realloc(ck->stack,
					ck->cap * sizeof(*ck->stack));
	}
	ck->stack[ck->sp++] = idx;
	return 0;
}

int ama_objlist_check(const struct ama_objlist *l)
{
	struct checker ck = { NULL, 0, 0 };
	size_t i;
	int rc = 0;

	for (i = 0; i < l->n && rc == 0; i++)
		rc = check_next(&ck, l, i);
	free(ck.stack);
	return rc;
}

int ama_objlist_sort(struct ama_objlist *l)
{
	size_t i;

	for (i = 1; i < l->n; i++)
		if (object_cmp(&l->v[i - 1], &l->v[i]) > 0)
			break;
	if (i < l->n)
		qsort(l->v, l->n, sizeof(*l->v), object_cmp);
	return ama_objlist_check(l);
}

const struct ama_object *ama_objlist_find(const struct ama_objlist *l,
					  const char *path, size_t len)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ama_object *o = &l->v[mid];
		int c = path_cmp(o->path, o->path_len, path, len);

		if (c == 0)
			return o;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void add_u64(struct ama_buf *b, uint64_t v)
{
	char tmp[21];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	ama_buf_add(b, tmp + i, sizeof(tmp) - i);
}

void ama_object_format_fields(struct ama_buf *out, const struct ama_md5 *md5,
			      uint64_t size)
{
	char tmp[AMA_MD5_HEXLEN + 1 + 21];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + size % 10);
		size /= 10;
	} while (size);
	tmp[--i] = ' ';
	/* the hex and its NUL end just where the size begins */
	i -= AMA_MD5_HEXLEN;
	ama_md5_to_hex(tmp + i, md5);
	tmp[i + AMA_MD5_HEXLEN] = ' ';
	ama_buf_add(out, tmp + i, sizeof(tmp) - i);
}

void ama_object_format(struct ama_buf *out, const struct ama_object *o)
{
	ama_object_format_fields(out, &o->md5, o->size);
	if (o->kind == AMA_OBJECT_LINK)
		ama_buf_addstr(out, " link");
}

int ama_object_parse_fields(struct ama_md5 *md5, uint64_t *size,
			    const char *s, size_t len)
{
	char hex[AMA_MD5_HEXLEN + 1];

	if (len <= AMA_MD5_HEXLEN || s[AMA_MD5_HEXLEN] != ' ')
		return ama_error_set(AMA_EINVAL,
			"bad MD5 (want 32 lowercase hex, then one space)");
	memcpy(hex, s, AMA_MD5_HEXLEN);
	hex[AMA_MD5_HEXLEN] = '\0';
	if (ama_md5_from_hex(md5, hex) < 0)
		return ama_error_set(AMA_EINVAL,
				     "bad MD5 (want 32 lowercase hex)");
	if (parse_u63(size, s + AMA_MD5_HEXLEN + 1,
		      len - AMA_MD5_HEXLEN - 1) < 0)
		return ama_error_set(AMA_EINVAL,
			"bad size (want a decimal without leading zeros)");
	return 0;
}

/*
 * One object line. This runs for every object of every manifest and commit
 * id, so the common case (a path that needs no quoting) is written with
 * one growth check instead of one per byte.
 */
static void format_object(struct ama_buf *b, const struct ama_object *o)
{
	char *p;

	ama_object_format(b, o);
	if (ama_quote_needed(o->path, o->path_len)) {
		ama_buf_addch(b, '\t');
		ama_quote_path(b, o->path, o->path_len);
		ama_buf_addch(b, '\n');
		return;
	}
	ama_buf_grow(b, o->path_len + 2);
	p = b->s + b->len;
	*p++ = '\t';
	memcpy(p, o->path, o->path_len);
	p[o->path_len] = '\n';
	b->len += o->path_len + 2;
	b->s[b->len] = '\0';
}

void ama_objlist_format(struct ama_buf *out, const struct ama_objlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		format_object(out, &l->v[i]);
}

/* Parse one object line (without its '\n') and append it to l. */
static int parse_object_line(struct ama_objlist *l, struct ama_buf *path,
			     const char *s, size_t len)
{
	const char *tab = memchr(s, '\t', len), *p;
	struct ama_md5 md5;
	uint64_t size;
	size_t plen, flen;
	unsigned kind = AMA_OBJECT_FILE;

	if (!tab)
		return ama_error_set(AMA_EINVAL,
			"not an object line (want <md5> <size> TAB path)");
	flen = (size_t)(tab - s);
	if (flen > 5 && !memcmp(tab - 5, " link", 5)) {
		kind = AMA_OBJECT_LINK;
		flen -= 5;
	}
	if (ama_object_parse_fields(&md5, &size, s, flen) < 0)
		return AMA_EINVAL;
	if (kind == AMA_OBJECT_LINK && size > AMA_LINK_MAX)
		return ama_error_set(AMA_EINVAL, "a link of more than %u bytes",
				     AMA_LINK_MAX);
	p = tab + 1;
	plen = len - (size_t)(p - s);
	ama_buf_reset(path);
	if (plen && p[0] == '"') {
		if (ama_unquote_path(path, p, plen) < 0)
			return AMA_EINVAL;
	} else {
		if (ama_quote_needed(p, plen))
			return ama_error_set(AMA_EINVAL,
				"path with a control byte, '\"' or '\\' "
				"must be quoted");
		ama_buf_add(path, p, plen);
	}
	if (!path->len)
		return ama_error_set(AMA_EINVAL, "empty path");
	ama_objlist_add_kind(l, &md5, size, kind, path->s, path->len);
	return 0;
}

int ama_objlist_parse(struct ama_objlist *out, const char *text, size_t len,
		      unsigned long first_line)
{
	struct checker ck = { NULL, 0, 0 };
	struct ama_buf path = AMA_BUF_INIT;
	unsigned long lineno = first_line;
	size_t pos = 0;
	int rc = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);

		if (!nl) {
			rc = ama_error_set(AMA_EINVAL,
					   "no newline at the end");
			break;
		}
		rc = parse_object_line(out, &path, text + pos,
				       (size_t)(nl - (text + pos)));
		if (rc == 0)
			rc = check_next(&ck, out, out->n - 1);
		if (rc < 0)
			break;
		pos = (size_t)(nl - text) + 1;
		lineno++;
	}
	if (rc < 0) {
		/* the path a check named goes into the message: the caller
		 * names the manifest as the subject */
		if (ama_error_path()) {
			char named[512];

			snprintf(named, sizeof(named), "%s",
				 ama_quote_for_message(ama_error_path()));
			ama_error_wrap(AMA_EINVAL, "%s", named);
		}
		ama_error_wrap(AMA_EINVAL, "line %lu", lineno);
		ama_objlist_release(out);
	}
	free(ck.stack);
	ama_buf_release(&path);
	return rc;
}

int ama_objlist_has_links(const struct ama_objlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].kind == AMA_OBJECT_LINK)
			return 1;
	return 0;
}

int ama_objlist_equal(const struct ama_objlist *a, const struct ama_objlist *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		const struct ama_object *x = &a->v[i], *y = &b->v[i];

		if (x->size != y->size || !ama_md5_equal(&x->md5, &y->md5) ||
		    x->kind != y->kind || x->path_len != y->path_len ||
		    memcmp(x->path, y->path, x->path_len))
			return 0;
	}
	return 1;
}

void ama_objlist_diff_init(struct ama_objlist_diff *d,
			   const struct ama_objlist *old,
			   const struct ama_objlist *new)
{
	d->old = old;
	d->new = new;
	d->i = d->j = 0;
}

int ama_objlist_diff_next(struct ama_objlist_diff *d,
			  struct ama_diff_entry *out)
{
	for (;;) {
		const struct ama_object *a = d->i < d->old->n ?
			&d->old->v[d->i] : NULL;
		const struct ama_object *b = d->j < d->new->n ?
			&d->new->v[d->j] : NULL;
		int c;

		if (!a && !b)
			return 0;
		c = !a ? 1 : !b ? -1 : object_cmp(a, b);
		if (c == 0) {
			d->i++;
			d->j++;
			if (a->size == b->size && a->kind == b->kind &&
			    ama_md5_equal(&a->md5, &b->md5))
				continue;
			out->kind = AMA_DIFF_CHANGED;
		} else if (c < 0) {
			d->i++;
			out->kind = AMA_DIFF_REMOVED;
			b = NULL;
		} else {
			d->j++;
			out->kind = AMA_DIFF_ADDED;
			a = NULL;
		}
		out->old = a;
		out->new = b;
		out->path = b ? b->path : a->path;
		out->path_len = b ? b->path_len : a->path_len;
		return 1;
	}
}

static void sha256_hex(char *out, const unsigned char *d)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[AMA_COMMIT_ID_HEXLEN] = '\0';
}

void ama_manifest_commit_id(char *out, const struct ama_version *parent,
			    const struct ama_objlist *objects)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	struct ama_buf b = AMA_BUF_INIT;
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	size_t i;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		abort();
	ama_buf_addstr(&b, "ama-commit-id 1\nparent");
	if (parent) {
		char v[AMA_VERSION_BUFSIZE];

		ama_version_format(v, parent);
		ama_buf_addch(&b, ' ');
		ama_buf_addstr(&b, v);
	}
	ama_buf_addch(&b, '\n');
	for (i = 0; i < objects->n; i++) {
		format_object(&b, &objects->v[i]);
		if (b.len >= FORMAT_FLUSH) {
			EVP_DigestUpdate(ctx, b.s, b.len);
			ama_buf_reset(&b);
		}
	}
	EVP_DigestUpdate(ctx, b.s ? b.s : "", b.len);
	if (!EVP_DigestFinal_ex(ctx, d, &dlen) || dlen != 32)
		abort();
	sha256_hex(out, d);
	EVP_MD_CTX_free(ctx);
	ama_buf_release(&b);
}

void ama_manifest_init(struct ama_manifest *m)
{
	memset(m, 0, sizeof(*m));
}

void ama_manifest_release(struct ama_manifest *m)
{
	free(m->class);
	free(m->author);
	free(m->message);
	ama_objlist_release(&m->objects);
	memset(m, 0, sizeof(*m));
}

int ama_manifest_check_class(const char *name)
{
	size_t len = strlen(name), i;

	if (!len || len > CLASS_MAX)
		return ama_error_set(AMA_EINVAL,
				     "bad class name: want 1 to %d bytes",
				     CLASS_MAX);
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return ama_error_set(AMA_EINVAL,
				"bad class name: only letters, digits, '.', "
				"'_' and '-' are allowed");
	}
	if (name[0] == '.' || name[0] == '_' || name[0] == '-')
		return ama_error_set(AMA_EINVAL,
			"bad class name: must start with a letter or digit");
	if (strstr(name, "..") || name[len - 1] == '.' ||
	    (len >= 5 && !strcmp(name + len - 5, ".lock")))
		return ama_error_set(AMA_EINVAL,
			"bad class name: no '..', "
			"and no '.' or '.lock' at the end");
	return 0;
}

int ama_manifest_check_author(const char *name)
{
	size_t len = strlen(name), i;

	if (!len || len > AUTHOR_MAX)
		return ama_error_set(AMA_EINVAL,
				     "bad author: want 1 to %d bytes",
				     AUTHOR_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || c == '<' || c == '>')
			return ama_error_set(AMA_EINVAL,
				"bad author: no control bytes, '<' or '>'");
	}
	if (name[0] == ' ' || name[len - 1] == ' ')
		return ama_error_set(AMA_EINVAL,
				     "bad author: leading or trailing space");
	return 0;
}

/* The header checks, without the objects; line numbers come from parse. */
static int check_header(const struct ama_manifest *m)
{
	struct ama_version want;

	if (!ama_version_is_valid(&m->version))
		return ama_error_set(AMA_EINVAL, "bad version");
	if (m->has_parent) {
		if (!ama_version_is_valid(&m->parent) ||
		    ama_version_next(&want, &m->parent) < 0 ||
		    ama_version_cmp(&want, &m->version))
			return ama_error_set(AMA_EINVAL,
				"version must be the one after its parent");
	} else if (m->version.x || m->version.y || m->version.z) {
		return ama_error_set(AMA_EINVAL,
			"only version 0.0.0 may have no parent");
	}
	if (m->class && ama_manifest_check_class(m->class) < 0)
		return AMA_EINVAL;
	if (!m->author)
		return ama_error_set(AMA_EINVAL, "no author");
	if (ama_manifest_check_author(m->author) < 0)
		return AMA_EINVAL;
	if (m->time < 0)
		return ama_error_set(AMA_EINVAL, "negative time");
	return 0;
}

int ama_manifest_check(const struct ama_manifest *m)
{
	if (check_header(m) < 0)
		return ama_error_wrap(AMA_EINVAL, "bad manifest");
	return ama_objlist_check(&m->objects);
}

static void add_value(struct ama_buf *b, const char *key, const char *value)
{
	ama_buf_addstr(b, key);
	if (value && *value) {
		ama_buf_addch(b, ' ');
		ama_quote_path(b, value, strlen(value));
	}
	ama_buf_addch(b, '\n');
}

void ama_manifest_format(struct ama_buf *out, const struct ama_manifest *m)
{
	char v[AMA_VERSION_BUFSIZE], id[AMA_COMMIT_ID_HEXLEN + 1];

	if (ama_objlist_has_links(&m->objects))
		ama_buf_addstr(out, "format 2\n");
	ama_version_format(v, &m->version);
	ama_buf_addf(out, "version %s\n", v);
	if (m->has_parent) {
		ama_version_format(v, &m->parent);
		ama_buf_addf(out, "parent %s\n", v);
	} else {
		ama_buf_addstr(out, "parent\n");
	}
	if (m->class)
		ama_buf_addf(out, "class %s\n", m->class);
	if (m->seq) {
		ama_buf_addstr(out, "seq ");
		add_u64(out, m->seq);
		ama_buf_addch(out, '\n');
	}
	ama_manifest_commit_id(id, m->has_parent ? &m->parent : NULL,
			       &m->objects);
	ama_buf_addf(out, "commit-id %s\n", id);
	add_value(out, "author", m->author);
	ama_buf_addstr(out, "time ");
	add_u64(out, (uint64_t)m->time);
	ama_buf_addch(out, '\n');
	add_value(out, "message", m->message);
	ama_buf_addch(out, '\n');
	ama_objlist_format(out, &m->objects);
}

enum key {
	K_VERSION, K_PARENT, K_CLASS, K_SEQ, K_COMMIT_ID, K_AUTHOR, K_TIME,
	K_MESSAGE, K_FORMAT, K_COUNT
};

static const char *const key_names[K_COUNT] = {
	"version", "parent", "class", "seq", "commit-id", "author", "time",
	"message", "format",
};

/* The newest manifest format this ama reads and writes. */
#define FORMAT_MAX 2

/* A text value: C-quoted if it starts with '"', else taken as it is. */
static int text_value(char **out, const char *s, size_t len)
{
	struct ama_buf b = AMA_BUF_INIT;

	if (len && s[0] == '"') {
		if (ama_unquote_path(&b, s, len) < 0) {
			ama_buf_release(&b);
			return AMA_EINVAL;
		}
	} else if (ama_quote_needed(s, len)) {
		return ama_error_set(AMA_EINVAL,
			"a value with a control byte, '\"' or '\\' "
			"must be quoted");
	} else {
		ama_buf_add(&b, s, len);
	}
	free(*out);
	*out = ama_buf_detach(&b);
	return 0;
}

static int is_lower_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int parse_value(struct ama_manifest *m, char *commit_id, enum key k,
		       const char *v, size_t len)
{
	uint64_t n;

	switch (k) {
	case K_VERSION:
		return ama_version_parse_n(&m->version, v, len);
	case K_PARENT:
		m->has_parent = len > 0;
		return len ? ama_version_parse_n(&m->parent, v, len) : 0;
	case K_CLASS:
		if (text_value(&m->class, v, len) < 0)
			return AMA_EINVAL;
		return ama_manifest_check_class(m->class);
	case K_SEQ:
		if (parse_u63(&n, v, len) < 0 || n == 0)
			return ama_error_set(AMA_EINVAL,
				"bad seq (want a positive decimal)");
		m->seq = n;
		return 0;
	case K_COMMIT_ID:
		if (len != AMA_COMMIT_ID_HEXLEN || !is_lower_hex(v, len))
			return ama_error_set(AMA_EINVAL,
				"bad commit-id (want 64 lowercase hex)");
		memcpy(commit_id, v, len);
		commit_id[len] = '\0';
		return 0;
	case K_AUTHOR:
		if (text_value(&m->author, v, len) < 0)
			return AMA_EINVAL;
		return ama_manifest_check_author(m->author);
	case K_TIME:
		if (parse_u63(&n, v, len) < 0)
			return ama_error_set(AMA_EINVAL,
				"bad time (want seconds since the epoch)");
		m->time = (int64_t)n;
		return 0;
	case K_MESSAGE:
		return text_value(&m->message, v, len);
	case K_FORMAT:
		if (parse_u63(&n, v, len) < 0 || n < 1)
			return ama_error_set(AMA_EINVAL, "bad format");
		if (n > FORMAT_MAX)
			return ama_error_set(AMA_EINVAL, "format %llu is newer "
					     "than this ama reads (%d): "
					     "upgrade ama",
					     (unsigned long long)n, FORMAT_MAX);
		m->format = (unsigned)n;
		return 0;
	default:
		return ama_error_set(AMA_EINVAL, "unknown key");
	}
}

/* Parse one header line; seen[] holds the line of each key found. */
static int parse_header_line(struct ama_manifest *m, char *commit_id,
			     unsigned long *seen, unsigned long lineno,
			     const char *s, size_t len)
{
	const char *sp = memchr(s, ' ', len);
	size_t klen = sp ? (size_t)(sp - s) : len;
	int k;

	for (k = 0; k < K_COUNT; k++)
		if (strlen(key_names[k]) == klen &&
		    !memcmp(key_names[k], s, klen))
			break;
	if (k == K_COUNT) {
		struct ama_buf b = AMA_BUF_INIT;

		ama_quote_path(&b, s, klen > 40 ? 40 : klen);
		ama_error_set(AMA_EINVAL, "unknown header key %s",
			      ama_buf_str(&b));
		ama_buf_release(&b);
		return AMA_EINVAL;
	}
	if (seen[k])
		return ama_error_set(AMA_EINVAL,
				     "'%s' repeated (first on line %lu)",
				     key_names[k], seen[k]);
	seen[k] = lineno;
	if (sp && sp + 1 == s + len)
		return ama_error_set(AMA_EINVAL,
				     "'%s' has a space but no value",
				     key_names[k]);
	if (!sp)
		return parse_value(m, commit_id, (enum key)k, "", 0);
	if (parse_value(m, commit_id, (enum key)k, sp + 1,
			len - klen - 1) < 0)
		return ama_error_wrap(AMA_EINVAL, "%s", key_names[k]);
	return 0;
}

/* The line (1-based) holding byte offset off of text. */
static unsigned long line_of(const char *text, size_t off)
{
	unsigned long n = 1;
	const char *p = text, *end = text + off;

	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n;
}

/*
 * The header of text into out (initialized by the caller); commit_id gets
 * the commit-id's value or "". *body gets the offset of the objects part.
 * Returns 0, AMA_EINVAL (the reason names the line), or 1 when text ends
 * before the empty line (nothing set then but what was read).
 */
static int parse_header(struct ama_manifest *out, char *commit_id,
			unsigned long *seen, const char *text, size_t len,
			size_t *body, unsigned long *body_line)
{
	static const enum key required[] = { K_VERSION, K_AUTHOR, K_TIME };
	const char *nul = memchr(text, '\0', len);
	unsigned long lineno = 1;
	size_t pos = 0, i;
	int rc;

	if (nul)
		return ama_error_set(AMA_EINVAL, "line %lu: NUL byte",
				     line_of(text, (size_t)(nul - text)));
	for (;;) {
		const char *nl = pos < len ?
			memchr(text + pos, '\n', len - pos) : NULL;

		if (!nl)
			return 1;
		if (nl == text + pos)
			break;
		rc = parse_header_line(out, commit_id, seen, lineno,
				       text + pos, (size_t)(nl - (text + pos)));
		if (rc < 0)
			return ama_error_wrap(AMA_EINVAL, "line %lu", lineno);
		pos = (size_t)(nl - text) + 1;
		lineno++;
	}
	for (i = 0; i < sizeof(required) / sizeof(*required); i++)
		if (!seen[required[i]])
			return ama_error_set(AMA_EINVAL,
				"line %lu: the header has no '%s'", lineno,
				key_names[required[i]]);
	if (check_header(out) < 0) {
		unsigned long at = seen[out->has_parent ? K_PARENT : K_VERSION];

		return ama_error_wrap(AMA_EINVAL, "line %lu", at);
	}
	*body = pos + 1;
	*body_line = lineno + 1;
	return 0;
}

int ama_manifest_parse_header(struct ama_manifest *out, char *commit_id,
			      const char *text, size_t len)
{
	unsigned long seen[K_COUNT] = { 0 }, line;
	size_t body;
	int rc;

	ama_manifest_init(out);
	commit_id[0] = '\0';
	rc = parse_header(out, commit_id, seen, text, len, &body, &line);
	if (rc == 0 && !seen[K_COMMIT_ID])
		rc = ama_error_set(AMA_EINVAL, "the header has no commit-id");
	if (rc != 0)
		ama_manifest_release(out);
	return rc;
}

int ama_manifest_parse(struct ama_manifest *out, const char *text,
		       size_t len)
{
	char commit_id[AMA_COMMIT_ID_HEXLEN + 1] = "";
	char want[AMA_COMMIT_ID_HEXLEN + 1];
	unsigned long seen[K_COUNT] = { 0 }, lineno;
	size_t pos;
	int rc;

	ama_manifest_init(out);
	rc = parse_header(out, commit_id, seen, text, len, &pos, &lineno);
	if (rc == 1)
		rc = ama_error_set(AMA_EINVAL,
			"line %lu: no empty line after the header",
			line_of(text, len));
	if (rc < 0)
		goto fail;
	rc = ama_objlist_parse(&out->objects, text + pos, len - pos,
			       lineno);
	if (rc < 0)
		goto fail;
	if (!out->format)
		out->format = 1;
	if (out->format < 2 && ama_objlist_has_links(&out->objects)) {
		rc = ama_error_set(AMA_EINVAL, "line %lu: a symbolic link in a "
				   "manifest without 'format 2'", lineno);
		goto fail;
	}
	if (seen[K_COMMIT_ID]) {
		ama_manifest_commit_id(want,
				       out->has_parent ? &out->parent : NULL,
				       &out->objects);
		if (strcmp(want, commit_id)) {
			rc = ama_error_set(AMA_EINVAL,
				"line %lu: commit-id does not match the parent "
				"and the objects", seen[K_COMMIT_ID]);
			goto fail;
		}
	}
	return 0;
fail:
	ama_manifest_release(out);
	return rc;
}
