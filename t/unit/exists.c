/* t/unit/exists.c: the list-or-HEAD planner, lookups on a file:// store, the remote and staging rules. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "exists.h"
#include "md5.h"
#include "store.h"
#include "store_backend.h"

Test(plan, md5_fraction_reads_the_leading_hex)
{
	cr_assert_float_eq(ama_exists_md5_fraction("8"), 0.5, 1e-12);
	cr_assert_float_eq(ama_exists_md5_fraction("40zz"), 0.25, 1e-12);
	cr_assert_float_eq(ama_exists_md5_fraction("ffffffffffffffffff"),
			   1.0, 1e-12);
	cr_assert_float_eq(ama_exists_md5_fraction("0"), 0.0, 1e-12);
	cr_assert_float_eq(ama_exists_md5_fraction("contents/"), 0.75, 1e-12);
	cr_assert_eq(ama_exists_md5_fraction("zz"), -1);
	cr_assert_eq(ama_exists_md5_fraction("A0"), -1);
	cr_assert_eq(ama_exists_md5_fraction(""), -1);
}

Test(plan, dense_questions_keep_listing)
{
	/* 1000 keys listed reach 10% of the space: ~9 pages left */
	cr_assert(ama_exists_keep_listing(1000, 0.1, 9000, 1000));
	cr_assert(ama_exists_keep_listing(1000, 0.1, 10, 1000));
	cr_assert_not(ama_exists_keep_listing(1000, 0.1, 9, 1000));
}

Test(plan, sparse_questions_switch_to_heads)
{
	/* 1000 keys reach 0.1%: a million keys, 999 pages for 100 questions */
	cr_assert_not(ama_exists_keep_listing(1000, 0.001, 100, 1000));
	cr_assert(ama_exists_keep_listing(1000, 0.001, 1000, 1000));
}

Test(plan, one_question_left_is_a_head)
{
	/* a next page costs one request: never better than one HEAD */
	cr_assert_not(ama_exists_keep_listing(1000, 0.999, 1, 1000));
	cr_assert(ama_exists_keep_listing(1000, 0.999, 2, 1000));
}

Test(plan, no_estimate_means_heads)
{
	cr_assert_not(ama_exists_keep_listing(1000, 0, 5000, 1000));
	cr_assert_not(ama_exists_keep_listing(1000, -1, 5000, 1000));
}

/* --- the staging rule --- */

static struct ama_exists_query found(const char *hex, uint64_t size,
				     const char *etag, int multipart,
				     const char *meta, int listed)
{
	struct ama_exists_query q;

	memset(&q, 0, sizeof(q));
	cr_assert_eq(ama_md5_from_hex(&q.md5, hex), 0);
	q.found = 1;
	q.listed = listed;
	q.info.size = size;
	snprintf(q.info.etag, sizeof(q.info.etag), "%s", etag);
	ama_store_info_classify(&q.info);
	q.info.multipart |= multipart;
	snprintf(q.info.meta_md5, sizeof(q.info.meta_md5), "%s", meta);
	return q;
}

#define M1 "0123456789abcdef0123456789abcdef"
#define M2 "fedcba9876543210fedcba9876543210"

Test(staged, single_part_etag_must_be_the_md5)
{
	struct ama_exists_query q = found(M1, 5, M1, 0, "", 1);

	cr_assert_eq(ama_exists_staged(&q, AMA_STORE_S3, 5), AMA_STAGED_YES);
	q = found(M1, 5, M2, 0, "", 0);
	cr_assert_eq(ama_exists_staged(&q, AMA_STORE_S3, 5), AMA_STAGED_NO);
}

Test(staged, the_size_must_match)
{
	struct ama_exists_query q = found(M1, 4, M1, 0, "", 0);

	cr_assert_eq(ama_exists_staged(&q, AMA_STORE_S3, 5), AMA_STAGED_NO);
	cr_assert_eq(ama_exists_staged(&q, AMA_STORE_FILE, 5), AMA_STAGED_NO);
}

Test(staged, absent_or_failed_is_no)
{
	struct ama_exists_query q = found(M1, 5, M1, 0, "", 0);

	q.found = 0;
	cr_assert_eq(ama_exists_staged(&q, AMA_STORE_S3, 5), AMA_STAGED_NO);
	q = found(M1, 5, M1, 0, "", 0);
	q.rc = AMA_ENET;
	cr_assert_eq(ama_exists_staged(&q, AMA_STORE_S3, 5), AMA_STAGED_NO);
}

Test(staged, an_object_in_parts_is_judged_by_its_parts)
{
	/* an AWS-style ETag, even one that would spell the MD5 */
	struct ama_exists_query q = found(M1, 5, M1 "-3", 0, "", 0);

	cr_assert_eq(ama_exists_staged(&q, AMA_STORE_S3, 5), AMA_STAGED_PARTS);
	/* listed or not: the listing has the ETag */
	q = found(M1, 5, M2 "-2", 0, "", 1);
	cr_assert_eq(ama_exists_staged(&q, AMA_STORE_S3, 5), AMA_STAGED_PARTS);
	/* multipart by the uploader's record, with a plain ETag */
	q = found(M1, 5, M1, 1, M1, 0);
	cr_assert_eq(ama_exists_staged(&q, AMA_STORE_S3, 5), AMA_STAGED_PARTS);
}

Test(staged, the_uploaders_record_is_never_trusted)
{
	/* anyone with the staging key can write x-amz-meta-ama-md5 */
	struct ama_exists_query q = found(M1, 5, M2 "-2", 0, M1, 0);

	cr_assert_neq(ama_exists_staged(&q, AMA_STORE_S3, 5), AMA_STAGED_YES);
	q = found(M1, 5, M2, 0, M1, 0);
	cr_assert_eq(ama_exists_staged(&q, AMA_STORE_S3, 5), AMA_STAGED_NO);
}

Test(published, a_single_part_object_counts_by_its_etag)
{
	struct ama_exists_query q = found(M1, 5, M1, 0, "", 1);

	cr_assert(ama_exists_published(&q, AMA_STORE_S3, 5));
	/* right size, other bytes: planted, never the content */
	q = found(M1, 5, M2, 0, M1, 0);
	cr_assert_not(ama_exists_published(&q, AMA_STORE_S3, 5));
	q = found(M1, 5, "", 0, "", 0);
	cr_assert_not(ama_exists_published(&q, AMA_STORE_S3, 5));
}

Test(published, another_size_is_not_the_content)
{
	struct ama_exists_query q = found(M1, 4, M1, 0, "", 0);

	cr_assert_not(ama_exists_published(&q, AMA_STORE_S3, 5));
	cr_assert_not(ama_exists_published(&q, AMA_STORE_FILE, 5));
	q.found = 0;
	q.info.size = 5;
	cr_assert_not(ama_exists_published(&q, AMA_STORE_S3, 5));
}

Test(published, an_etag_that_cannot_tell_leaves_it_to_the_server)
{
	struct ama_exists_query q = found(M1, 5, M2 "-2", 0, "", 1);

	cr_assert(ama_exists_published(&q, AMA_STORE_S3, 5));
	q = found(M1, 5, "", 0, "", 0);
	cr_assert(ama_exists_published(&q, AMA_STORE_FILE, 5));
}

/* The ETag S3 gives parts of size part of data: computed here apart. */
static void expected_etag(char *out, const unsigned char *data, size_t n,
			  size_t part)
{
	struct ama_buf d = AMA_BUF_INIT;
	struct ama_md5 m;
	char hex[AMA_MD5_HEXLEN + 1];
	size_t off, k = 0;

	for (off = 0; off < n; off += part, k++) {
		ama_md5_buffer(&m, data + off, n - off < part ? n - off : part);
		ama_buf_add(&d, m.d, sizeof(m.d));
	}
	ama_md5_buffer(&m, d.s, d.len);
	ama_md5_to_hex(hex, &m);
	sprintf(out, "%s-%zu", hex, k);
	ama_buf_release(&d);
}

Test(parts, the_etag_of_a_file_in_parts)
{
	char path[] = "/tmp/ama-unit-parts.XXXXXX", got[80], want[80];
	size_t n = 3 * 1024 * 1024 + 17, i;
	unsigned char *data = malloc(n);
	struct ama_md5 whole, m;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	for (i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 131 + i / 4099);
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
	/* parts larger than the read buffer, smaller, one part, exact */
	cr_assert_eq(ama_exists_parts_etag(got, path, n, 1024 * 1024, &whole),
		     0);
	expected_etag(want, data, n, 1024 * 1024);
	cr_assert_str_eq(got, want);
	cr_assert(strstr(got, "-4"));
	ama_md5_buffer(&m, data, n);
	cr_assert(ama_md5_equal(&whole, &m));
	cr_assert_eq(ama_exists_parts_etag(got, path, n, 4093, NULL), 0);
	expected_etag(want, data, n, 4093);
	cr_assert_str_eq(got, want);
	cr_assert_eq(ama_exists_parts_etag(got, path, n, n, NULL), 0);
	expected_etag(want, data, n, n);
	cr_assert_str_eq(got, want);
	cr_assert(strstr(got, "-1"));
	cr_assert_eq(ama_exists_parts_etag(got, path, n, (n - 17) / 3, NULL),
		     0);
	expected_etag(want, data, n, (n - 17) / 3);
	cr_assert_str_eq(got, want);
	/* the file is not of the size given: changed */
	cr_assert_eq(ama_exists_parts_etag(got, path, n + 1, 1024 * 1024,
					   NULL), AMA_ECHANGED);
	cr_assert_eq(ama_exists_parts_etag(got, path, n - 1, 1024 * 1024,
					   NULL), AMA_ECHANGED);
	unlink(path);
	cr_assert_eq(ama_exists_parts_etag(got, path, n, 1024 * 1024, NULL),
		     AMA_EIO);
	cr_assert_str_eq(ama_error_path(), path);
	free(data);
}

Test(staged, a_file_store_goes_by_the_size)
{
	struct ama_exists_query q = found(M1, 5, "", 0, "", 0);

	cr_assert_eq(ama_exists_staged(&q, AMA_STORE_FILE, 5),
		     AMA_STAGED_YES);
}

/* --- lookups on a file:// store --- */

static char storedir[64];
static struct ama_store *fstore;

static void fstore_setup(void)
{
	struct ama_buf url = AMA_BUF_INIT;

	snprintf(storedir, sizeof(storedir), "/tmp/ama-unit-exists.XXXXXX");
	cr_assert_not_null(mkdtemp(storedir));
	ama_buf_addf(&url, "file://%s", storedir);
	cr_assert_eq(ama_store_open(&fstore, url.s, NULL, NULL), 0);
	ama_buf_release(&url);
}

static void fstore_teardown(void)
{
	char cmd[128];

	ama_store_close(fstore);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", storedir);
	if (system(cmd) != 0)
		cr_log_warn("cannot remove %s", storedir);
}

TestSuite(lookup, .init = fstore_setup, .fini = fstore_teardown);

/* Store "c<i>" under top/<md5 of it> for each i in have; questions for 0..n-1. */
static void make(struct ama_exists_query *q, struct ama_exists_query **qp,
		 int n, const int *have, int nhave)
{
	int i;

	memset(q, 0, n * sizeof(*q));
	for (i = 0; i < n; i++) {
		char data[16];

		snprintf(data, sizeof(data), "c%d", i);
		ama_md5_buffer(&q[i].md5, data, strlen(data));
	}
	for (i = 0; i < nhave; i++) {
		struct ama_store_put p = { 0 };
		struct ama_buf key = AMA_BUF_INIT;
		char data[16], hex[AMA_MD5_HEXLEN + 1];

		snprintf(data, sizeof(data), "c%d", have[i]);
		ama_md5_to_hex(hex, &q[have[i]].md5);
		ama_buf_addf(&key, "top/%s", hex);
		p.key = key.s;
		p.data = data;
		p.len = strlen(data);
		cr_assert_eq(ama_store_put(fstore, &p, NULL), 0);
		ama_buf_release(&key);
	}
	/* sorted by MD5, as the lookup wants them */
	for (i = 0; i < n; i++)
		qp[i] = &q[i];
	for (i = 1; i < n; i++) {
		int j = i;

		while (j > 0 && memcmp(qp[j - 1]->md5.d, qp[j]->md5.d, 16) > 0) {
			struct ama_exists_query *t = qp[j];

			qp[j] = qp[j - 1];
			qp[j - 1] = t;
			j--;
		}
	}
}

static void check(struct ama_exists_query *q, int n, const int *have,
		  int nhave)
{
	int i, k;

	for (i = 0; i < n; i++) {
		int want = 0;

		for (k = 0; k < nhave; k++)
			want |= have[k] == i;
		cr_assert_eq(q[i].rc, 0, "question %d: %s", i,
			     q[i].error ? q[i].error : "");
		cr_assert_null(q[i].error, "question %d", i);
		cr_assert_eq(q[i].found, want, "question %d", i);
		if (want)
			cr_assert_eq(q[i].info.size,
				     (uint64_t)(i < 10 ? 2 : 3));
		ama_exists_query_release(&q[i]);
	}
}

Test(lookup, a_file_store_gets_one_stat_a_question)
{
	static const int have[] = { 1, 4, 7 };
	struct ama_exists_query q[9], *qp[9];
	struct ama_exists_opts o = { AMA_EXISTS_AUTO, 0, 0, 0 };

	make(q, qp, 9, have, 3);
	cr_assert_eq(ama_exists_lookup(fstore, "top/", qp, 9, &o), 0);
	check(q, 9, have, 3);
	cr_assert_eq(o.heads, 9);
	cr_assert_eq(o.lists, 0);
}

Test(lookup, a_listing_answers_in_pages)
{
	static const int have[] = { 0, 2, 3, 5, 8, 9, 11 };
	struct ama_exists_query q[12], *qp[12];
	struct ama_exists_opts o = { AMA_EXISTS_LIST, 3, 0, 0 };

	make(q, qp, 12, have, 7);
	cr_assert_eq(ama_exists_lookup(fstore, "top/", qp, 12, &o), 0);
	check(q, 12, have, 7);
	/* 7 keys, 3 a page */
	cr_assert_eq(o.lists, 3);
	cr_assert_eq(o.heads, 0);
	for (int i = 0; i < 12; i++)
		cr_assert(q[i].listed);
}

Test(lookup, keys_that_are_not_questions_are_skipped)
{
	static const int have[] = { 1, 2 };
	struct ama_exists_query q[4], *qp[4];
	struct ama_exists_opts o = { AMA_EXISTS_LIST, 0, 0, 0 };
	struct ama_store_put p = { 0 };

	p.key = "top/zzz";
	p.data = "x";
	p.len = 1;
	cr_assert_eq(ama_store_put(fstore, &p, NULL), 0);
	p.key = "top/0";
	cr_assert_eq(ama_store_put(fstore, &p, NULL), 0);
	p.key = "topless";
	cr_assert_eq(ama_store_put(fstore, &p, NULL), 0);
	make(q, qp, 4, have, 2);
	cr_assert_eq(ama_exists_lookup(fstore, "top/", qp, 4, &o), 0);
	check(q, 4, have, 2);
	cr_assert_eq(o.lists, 1);
}

Test(lookup, heads_when_asked)
{
	static const int have[] = { 0 };
	struct ama_exists_query q[3], *qp[3];
	struct ama_exists_opts o = { AMA_EXISTS_HEAD, 0, 0, 0 };

	make(q, qp, 3, have, 1);
	cr_assert_eq(ama_exists_lookup(fstore, "top/", qp, 3, &o), 0);
	check(q, 3, have, 1);
	cr_assert_eq(o.heads, 3);
	cr_assert_not(q[0].listed);
}

Test(lookup, nothing_to_ask_costs_nothing)
{
	struct ama_exists_opts o = { AMA_EXISTS_AUTO, 0, 0, 0 };

	cr_assert_eq(ama_exists_lookup(fstore, "top/", NULL, 0, &o), 0);
	cr_assert_eq(o.heads + o.lists, 0);
}

Test(lookup, a_missing_folder_is_a_setup_error)
{
	struct ama_exists_query q[2], *qp[2];
	struct ama_exists_opts o = { AMA_EXISTS_AUTO, 0, 0, 0 };
	struct ama_store *gone;

	make(q, qp, 2, NULL, 0);
	cr_assert_eq(ama_store_open(&gone, "file:///nonexistent/ama-store",
				    NULL, NULL), 0);
	cr_assert_eq(ama_exists_lookup(gone, "top/", qp, 2, &o), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(),
			 "no such folder: /nonexistent/ama-store");
	o.mode = AMA_EXISTS_LIST;
	cr_assert_eq(ama_exists_lookup(gone, "top/", qp, 2, &o), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(),
			 "no such folder: /nonexistent/ama-store");
	ama_exists_query_release(&q[0]);
	ama_exists_query_release(&q[1]);
	ama_store_close(gone);
}

/* --- remote, then staging --- */

static void put_at(const char *key, const char *data)
{
	struct ama_store_put p = { 0 };

	p.key = key;
	p.data = data;
	p.len = strlen(data);
	cr_assert_eq(ama_store_put(fstore, &p, NULL), 0);
}

static int cmp_content(const void *a, const void *b)
{
	return memcmp(((const struct ama_exists_content *)a)->md5.d,
		      ((const struct ama_exists_content *)b)->md5.d, 16);
}

Test(lookup, where_asks_remote_first_then_staging)
{
	/* one folder for both buckets: remote keys are under contents/ */
	struct ama_exists_content v[5];
	struct ama_exists_opts o = { AMA_EXISTS_AUTO, 0, 0, 0 };
	static const char *const data[] = { "pub", "stg", "new", "bad",
					     "odd" };
	char hex[5][AMA_MD5_HEXLEN + 1], key[128];
	int i;

	memset(v, 0, sizeof(v));
	for (i = 0; i < 5; i++) {
		ama_md5_buffer(&v[i].md5, data[i], 3);
		ama_md5_to_hex(hex[i], &v[i].md5);
		v[i].size = 3;
	}
	snprintf(key, sizeof(key), "t/contents/%s", hex[0]);
	put_at(key, "pub");
	snprintf(key, sizeof(key), "t/%s", hex[0]);
	put_at(key, "pub");		/* both: remote wins */
	snprintf(key, sizeof(key), "t/%s", hex[1]);
	put_at(key, "stg");
	snprintf(key, sizeof(key), "t/%s", hex[3]);
	put_at(key, "badbad");		/* staged with another size */
	snprintf(key, sizeof(key), "t/contents/%s", hex[4]);
	put_at(key, "oddodd");		/* published with another size:
					 * not it, to be sent */
	qsort(v, 5, sizeof(v[0]), cmp_content);
	cr_assert_eq(ama_exists_where(fstore, fstore, "t", v, 5, &o), 0);
	for (i = 0; i < 5; i++) {
		char h[AMA_MD5_HEXLEN + 1];

		ama_md5_to_hex(h, &v[i].md5);
		if (!strcmp(h, hex[0]))
			cr_assert_eq(v[i].where, AMA_WHERE_REMOTE);
		else if (!strcmp(h, hex[1]))
			cr_assert_eq(v[i].where, AMA_WHERE_STAGING);
		else
			cr_assert_eq(v[i].where, AMA_WHERE_MISSING, "%s", h);
		ama_exists_content_release(&v[i]);
	}
	/* five stats in remote, four in staging for those not there */
	cr_assert_eq(o.heads, 9);
	cr_assert_str_eq(ama_where_name(AMA_WHERE_MISSING), "missing");
}
