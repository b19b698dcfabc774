/* t/fuzz/manifest.c: fuzzing manifest and object list parsing and checks. */
#include "auto-config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "asset.h"
#include "error.h"
#include "manifest.h"

/* A broken invariant: name it and abort; libFuzzer keeps the input. */
#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

#define MAX_PATHS 64

/*
 * Is the path one a check may let through? Written out from the contract of
 * ama_objlist_check, apart from lib/manifest.c: no NUL, relative, no empty,
 * "." or ".." part, no part ".git" in any case, not under ".ama".
 */
static int path_is_storable(const char *p, size_t len)
{
	size_t i = 0;

	if (!len || memchr(p, '\0', len) || p[0] == '/')
		return 0;
	if (!ama_path_is_clean(p))
		return 0;
	while (i <= len) {
		const char *e = memchr(p + i, '/', len - i);
		size_t n = e ? (size_t)(e - (p + i)) : len - i;

		if (n == 0 || (n == 1 && p[i] == '.') ||
		    (n == 2 && p[i] == '.' && p[i + 1] == '.'))
			return 0;
		if (n == 4 && !strncasecmp(p + i, ".git", 4))
			return 0;
		if (i == 0 && n == 4 && !memcmp(p, ".ama", 4))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Every path storable, strictly increasing, none inside another. */
static void check_objects(const struct ama_objlist *l)
{
	size_t i, j;

	for (i = 0; i < l->n; i++) {
		const struct ama_object *o = &l->v[i];

		CHECK(o->path[o->path_len] == '\0');
		CHECK(path_is_storable(o->path, o->path_len));
		CHECK(o->size <= INT64_MAX);
		if (i) {
			const struct ama_object *p = &l->v[i - 1];
			size_t n = p->path_len < o->path_len ?
				p->path_len : o->path_len;
			int c = memcmp(p->path, o->path, n);

			CHECK(c < 0 || (c == 0 && p->path_len < o->path_len));
		}
	}
	if (l->n > MAX_PATHS)
		return;
	for (i = 0; i < l->n; i++)
		for (j = i + 1; j < l->n; j++) {
			const struct ama_object *a = &l->v[i], *b = &l->v[j];

			CHECK(!(b->path_len > a->path_len &&
				!memcmp(a->path, b->path, a->path_len) &&
				b->path[a->path_len] == '/'));
		}
}

static int str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static void check_same_manifest(const struct ama_manifest *a,
				const struct ama_manifest *b)
{
	CHECK(!ama_version_cmp(&a->version, &b->version));
	CHECK(a->has_parent == b->has_parent);
	if (a->has_parent)
		CHECK(!ama_version_cmp(&a->parent, &b->parent));
	CHECK(!a->class == !b->class && str_eq(a->class, b->class));
	CHECK(a->seq == b->seq);
	CHECK(a->author && b->author && !strcmp(a->author, b->author));
	CHECK(a->time == b->time);
	CHECK(str_eq(a->message, b->message));
	CHECK(ama_objlist_equal(&a->objects, &b->objects));
}

/* parse succeeded: the manifest checks, and format/parse is a fixed point. */
static void check_manifest(const char *text, size_t len)
{
	struct ama_manifest m, m2;
	struct ama_buf f1 = AMA_BUF_INIT, f2 = AMA_BUF_INIT;
	int rc = ama_manifest_parse(&m, text, len);

	CHECK(rc == 0 || rc == AMA_EINVAL);
	if (rc < 0) {
		CHECK(ama_error_code() == AMA_EINVAL);
		/* released on failure: nothing left to free */
		CHECK(!m.class && !m.author && !m.message && !m.objects.v &&
		      !m.objects.chunks);
		return;
	}
	CHECK(ama_manifest_check(&m) == 0);
	CHECK(m.author && m.time >= 0);
	check_objects(&m.objects);
	ama_manifest_format(&f1, &m);
	rc = ama_manifest_parse(&m2, f1.s, f1.len);
	if (rc < 0)
		fprintf(stderr, "reparse: %s\n", ama_error_msg());
	CHECK(rc == 0);
	check_same_manifest(&m, &m2);
	ama_manifest_format(&f2, &m2);
	CHECK(f1.len == f2.len && !memcmp(f1.s, f2.s, f1.len));
	ama_manifest_release(&m);
	ama_manifest_release(&m2);
	ama_buf_release(&f1);
	ama_buf_release(&f2);
}

/* The same for the objects part alone. */
static void check_objlist(const char *text, size_t len)
{
	struct ama_objlist l = AMA_OBJLIST_INIT, l2 = AMA_OBJLIST_INIT;
	struct ama_buf f1 = AMA_BUF_INIT, f2 = AMA_BUF_INIT;
	int rc = ama_objlist_parse(&l, text, len, 1);

	CHECK(rc == 0 || rc == AMA_EINVAL);
	if (rc < 0) {
		CHECK(l.n == 0 && !l.v && !l.chunks);
		return;
	}
	CHECK(ama_objlist_check(&l) == 0);
	check_objects(&l);
	ama_objlist_format(&f1, &l);
	rc = ama_objlist_parse(&l2, f1.s ? f1.s : "", f1.len, 1);
	if (rc < 0)
		fprintf(stderr, "reparse: %s\n", ama_error_msg());
	CHECK(rc == 0);
	CHECK(ama_objlist_equal(&l, &l2));
	ama_objlist_format(&f2, &l2);
	CHECK(f1.len == f2.len && (!f1.len || !memcmp(f1.s, f2.s, f1.len)));
	ama_objlist_release(&l);
	ama_objlist_release(&l2);
	ama_buf_release(&f1);
	ama_buf_release(&f2);
}

/*
 * A line "fields TAB path" through ama_objlist_add_record: on success the
 * object holds what the first two fields say.
 */
static void add_record_line(struct ama_objlist *l, const char *s, size_t n)
{
	const char *tab = memchr(s, '\t', n);
	char *fields = ama_strndup(s, (size_t)(tab - s)), *path = NULL;
	struct ama_record rec;
	struct ama_buf b = AMA_BUF_INIT;
	size_t before = l->n;
	int rc;

	memset(&rec, 0, sizeof(rec));
	if (ama_record_split_fields(&rec, fields) < 0)
		goto out;
	/* as a reader gives it: NUL-terminated, no NUL inside */
	path = ama_strndup(tab + 1, n - (size_t)(tab + 1 - s));
	rec.path = path;
	rec.path_len = strlen(path);
	rc = ama_objlist_add_record(l, &rec);
	CHECK(rc == 0 || rc == AMA_EINVAL);
	CHECK(l->n == before + (rc == 0));
	if (rc < 0)
		goto out;
	CHECK(rec.nfields >= 2);
	ama_object_format_fields(&b, &l->v[before].md5, l->v[before].size);
	CHECK(b.len == strlen(rec.field[0]) + 1 + strlen(rec.field[1]));
	CHECK(!memcmp(b.s, rec.field[0], strlen(rec.field[0])));
	CHECK(!strcmp(b.s + strlen(rec.field[0]) + 1, rec.field[1]));
	CHECK(l->v[before].path_len == rec.path_len);
	CHECK(!memcmp(l->v[before].path, rec.path, rec.path_len));
out:
	ama_buf_release(&b);
	free(path);
	free(fields);
}

/*
 * Each line of the text as a raw path (or, holding a TAB, as a record for
 * ama_objlist_add_record), put in a list without the parser's checks and
 * sorted: whatever ama_manifest_check lets through must be storable, and
 * ama_objlist_sort must agree with it.
 */
static void check_raw_paths(const char *text, size_t len)
{
	struct ama_manifest m;
	struct ama_md5 md5;
	size_t pos = 0;
	int rc;

	ama_manifest_init(&m);
	m.author = ama_strdup("fuzz");
	memset(&md5, 0, sizeof(md5));
	while (pos < len && m.objects.n < MAX_PATHS) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		if (memchr(text + pos, '\t', n))
			add_record_line(&m.objects, text + pos, n);
		else
			ama_objlist_add(&m.objects, &md5, n, text + pos, n);
		pos += n + 1;
	}
	rc = ama_objlist_sort(&m.objects);
	CHECK(rc == 0 || rc == AMA_EINVAL);
	CHECK(ama_manifest_check(&m) == rc);
	if (rc == 0)
		check_objects(&m.objects);
	ama_manifest_release(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;

	check_manifest(text, size);
	check_objlist(text, size);
	check_raw_paths(text, size);
	ama_error_clear();
	return 0;
}
