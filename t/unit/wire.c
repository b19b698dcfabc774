/* t/unit/wire.c: the JSON of ama-server's API: what one end writes, the other reads. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "record.h"
#include "wire.h"

static char *wire(const char *s, size_t n)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_wire_quote_path(&b, s, n);
	return ama_buf_detach(&b);
}

/* Parse JSON text, failing the test if it is not JSON. */
static json_t *load(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);

	cr_assert_not_null(j, "not JSON: %s", err.text);
	return j;
}

/* Serialize and parse again: what goes over the wire. */
static json_t *roundtrip(json_t *j)
{
	char *s;
	json_t *back;

	cr_assert_not_null(j);
	s = json_dumps(j, JSON_COMPACT);
	cr_assert_not_null(s);
	json_decref(j);
	back = load(s);
	free(s);
	return back;
}

Test(utf8, valid_text_passes)
{
	cr_assert(ama_wire_utf8_valid("plain", 5));
	cr_assert(ama_wire_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
	cr_assert(ama_wire_utf8_valid("", 0));
}

Test(utf8, invalid_sequences_fail)
{
	cr_assert_not(ama_wire_utf8_valid("latin1-\xe9", 8));
	cr_assert_not(ama_wire_utf8_valid("\xc0\xaf", 2));	/* overlong '/' */
	cr_assert_not(ama_wire_utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	cr_assert_not(ama_wire_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	cr_assert_not(ama_wire_utf8_valid("\xe2\x82", 2));	/* cut short */
	cr_assert_not(ama_wire_utf8_valid("a\0b", 3));
}

Test(quote, utf8_path_is_its_record_form)
{
	char *a = wire("data/caf\xc3\xa9.csv", 14), *b = wire("a\tb", 3);

	cr_assert_str_eq(a, "data/caf\xc3\xa9.csv");
	cr_assert_str_eq(b, "\"a\\tb\"");
	free(a);
	free(b);
}

Test(quote, bytes_that_are_not_utf8_become_octal_escapes)
{
	char *a = wire("latin1-\xe9-caf\xc3\xa9\"", 15);

	cr_assert_str_eq(a, "\"latin1-\\351-caf\xc3\xa9\\\"\"");
	cr_assert(ama_wire_utf8_valid(a, strlen(a)));
	free(a);
}

Test(quote, every_byte_comes_back)
{
	char raw[255];
	struct ama_buf back = AMA_BUF_INIT;
	char *q;
	int i;

	for (i = 0; i < 255; i++)
		raw[i] = (char)(i + 1);
	q = wire(raw, sizeof(raw));
	cr_assert(ama_wire_utf8_valid(q, strlen(q)));
	cr_assert_eq(ama_unquote_path(&back, q, strlen(q)), 0);
	cr_assert_eq(back.len, sizeof(raw));
	cr_assert(!memcmp(back.s, raw, sizeof(raw)));
	free(q);
	ama_buf_release(&back);
}

static void add(struct ama_objlist *l, const char *md5, uint64_t size,
		const char *path, size_t len)
{
	struct ama_md5 m;

	cr_assert_eq(ama_md5_from_hex(&m, md5), 0);
	ama_objlist_add(l, &m, size, path, len);
}

static void hostile_list(struct ama_objlist *l)
{
	add(l, "d41d8cd98f00b204e9800998ecf8427e", 0, "-dash", 5);
	add(l, "b1946ac92492d2347c6235b4d2611184", 6, "a\tb", 3);
	add(l, "9dd4e461268c8034f5c8564e155c67a6", 1, "l\xe9", 2);
	add(l, "0cc175b9c0f1b6a831c399e269772661", 1, "n\nl", 3);
	add(l, "92eb5ffee6ae2fec3ad71c777531578f", 1, "q\"b\\", 4);
	cr_assert_eq(ama_objlist_sort(l), 0);
}

Test(objects, the_wire_form_parses_back_to_the_same_list)
{
	struct ama_objlist l = AMA_OBJLIST_INIT, back = AMA_OBJLIST_INIT;
	struct ama_buf text = AMA_BUF_INIT;

	hostile_list(&l);
	ama_wire_format_objects(&text, &l);
	cr_assert(ama_wire_utf8_valid(text.s, text.len));
	cr_assert_eq(ama_objlist_parse(&back, text.s, text.len, 1), 0);
	cr_assert(ama_objlist_equal(&l, &back));
	ama_buf_release(&text);
	ama_objlist_release(&l);
	ama_objlist_release(&back);
}

Test(commit, a_request_reads_back_through_json)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_wire_commit w;
	json_t *j;

	hostile_list(&l);
	memset(&rq, 0, sizeof(rq));
	rq.has_parent = 1;
	rq.parent.z = 7;
	rq.message = "first \xe2\x82\xac \"light\"\nsecond line";
	rq.objects = &l;
	j = roundtrip(ama_wire_commit_request(&rq));
	cr_assert_eq(ama_wire_parse_commit_request(&w, j), 0);
	cr_assert(w.has_parent);
	cr_assert_eq(ama_version_cmp(&w.parent, &rq.parent), 0);
	cr_assert_str_eq(w.message, rq.message);
	cr_assert(ama_objlist_equal(&w.objects, &l));
	ama_wire_commit_release(&w);
	json_decref(j);
	ama_objlist_release(&l);
}

Test(commit, no_parent_travels_as_null)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_wire_commit w;
	char *s;
	json_t *j;

	memset(&rq, 0, sizeof(rq));
	rq.objects = &l;
	j = ama_wire_commit_request(&rq);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_str_eq(s, "{\"message\":\"\",\"objects\":\"\",\"parent\":null}");
	cr_assert_eq(ama_wire_parse_commit_request(&w, j), 0);
	cr_assert_not(w.has_parent);
	cr_assert_eq(w.objects.n, 0);
	ama_wire_commit_release(&w);
	free(s);
	json_decref(j);
}

Test(commit, a_message_that_is_not_utf8_is_refused)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.message = "caf\xe9";
	rq.objects = &l;
	cr_assert_null(ama_wire_commit_request(&rq));
	cr_assert_eq(ama_error_code(), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "the message is not valid UTF-8");
}

Test(commit, bad_requests_are_named)
{
	struct ama_wire_commit w;
	static const char *const cases[][2] = {
		{ "{\"parent\":\"0.01.0\",\"objects\":\"\"}",
		  "'parent': bad version '0.01.0' (want X.Y.Z, Y and Z 0..98)" },
		{ "{\"parent\":null}", "'objects' is missing" },
		{ "{\"objects\":3}", "'objects' is not a string" },
		{ "{\"message\":1,\"objects\":\"\"}", "'message' is not a string" },
		{ "{\"objects\":\"d41d8cd98f00b204e9800998ecf8427e 0\\t../x\\n\"}",
		  NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = load(cases[i][0]);

		cr_assert_eq(ama_wire_parse_commit_request(&w, j), AMA_EINVAL,
			     "%s", cases[i][0]);
		if (cases[i][1])
			cr_assert_str_eq(ama_error_msg(), cases[i][1]);
		else
			cr_assert(!strncmp(ama_error_msg(), "'objects': line 1",
					   17), "%s", ama_error_msg());
		json_decref(j);
	}
}

Test(commit, a_result_reads_back)
{
	struct ama_commit_result r, back;
	json_t *j;

	memset(&r, 0, sizeof(r));
	memset(&back, 0, sizeof(back));
	r.version.y = 1;
	r.created = 1;
	memset(r.commit_id, 'a', AMA_COMMIT_ID_HEXLEN);
	j = roundtrip(ama_wire_commit_result(&r));
	cr_assert_eq(ama_wire_parse_commit_result(&back, j), 0);
	cr_assert_eq(ama_version_cmp(&back.version, &r.version), 0);
	cr_assert_eq(back.created, 1);
	cr_assert_eq(back.nothing, 0);
	cr_assert_str_eq(back.commit_id, r.commit_id);
	json_decref(j);
}

Test(commit, a_job_reads_back_and_a_bad_one_is_refused)
{
	char job[AMA_WIRE_JOBLEN + 1];
	json_t *j = roundtrip(ama_wire_job("0123456789abcdef0123456789abcdef"));

	cr_assert_eq(ama_wire_parse_job(job, j), 0);
	cr_assert_str_eq(job, "0123456789abcdef0123456789abcdef");
	json_decref(j);
	j = json_pack("{s:s}", "job", "0123456789ABCDEF0123456789abcdef");
	cr_assert_eq(ama_wire_parse_job(job, j), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(),
			 "'job' is not 32 lowercase hex digits");
	json_decref(j);
	j = json_pack("{s:s}", "job", "../../versions");
	cr_assert_eq(ama_wire_parse_job(job, j), AMA_EINVAL);
	json_decref(j);
	j = json_pack("{s:i}", "job", 7);
	cr_assert_eq(ama_wire_parse_job(job, j), AMA_EINVAL);
	json_decref(j);
}

static void a_class(struct ama_class_info *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->name, "imaging");
	strcpy(c->class_id, "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9");
	strcpy(c->top_hash, "0123456789abcdef0123456789abcdef");
	c->created = 1718000000;
}

Test(class, a_class_with_its_buckets_reads_back)
{
	struct ama_client_class k, back;
	json_t *j;

	memset(&k, 0, sizeof(k));
	a_class(&k.info);
	k.staging = "s3://staging/pre";
	k.remote = "s3://remote";
	k.s3_endpoint = "http://127.0.0.1:9000";
	k.s3_region = "eu-west-1";
	j = roundtrip(ama_wire_client_class(&k));
	cr_assert_eq(ama_wire_parse_client_class(&back, j), 0);
	cr_assert_str_eq(back.info.name, "imaging");
	cr_assert_str_eq(back.info.class_id, k.info.class_id);
	cr_assert_str_eq(back.info.top_hash, k.info.top_hash);
	cr_assert_eq(back.info.created, 1718000000);
	cr_assert_str_eq(back.staging, "s3://staging/pre");
	cr_assert_str_eq(back.remote, "s3://remote");
	cr_assert_str_eq(back.s3_endpoint, "http://127.0.0.1:9000");
	cr_assert_str_eq(back.s3_region, "eu-west-1");
	cr_assert_null(back.s3_addressing);
	free(back.staging);
	free(back.remote);
	free(back.s3_endpoint);
	free(back.s3_region);
	free(back.s3_addressing);
	json_decref(j);
}

Test(class, no_s3_travels_as_null)
{
	struct ama_client_class k;
	json_t *j;
	char *s;

	memset(&k, 0, sizeof(k));
	a_class(&k.info);
	k.staging = "file:///s";
	k.remote = "file:///r";
	j = ama_wire_client_class(&k);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_str_eq(s, "{\"class_id\":\"0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\","
			 "\"created\":1718000000,\"name\":\"imaging\","
			 "\"remote\":\"file:///r\",\"s3\":null,"
			 "\"staging\":\"file:///s\","
			 "\"top_hash\":\"0123456789abcdef0123456789abcdef\"}");
	free(s);
	json_decref(j);
}

Test(class, a_bad_top_hash_is_refused)
{
	struct ama_class_info c;
	json_t *j = load("{\"name\":\"x\",\"class_id\":"
			 "\"0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\","
			 "\"top_hash\":\"0123\",\"created\":1}");

	cr_assert_eq(ama_wire_parse_class(&c, j), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(),
			 "'top_hash' is not 32 lowercase hex digits");
	json_decref(j);
}

Test(asset, head_or_null)
{
	struct ama_asset_info a = { 3, 1, { 0, 0, 2 } }, back;
	json_t *j = roundtrip(ama_wire_asset(&a));

	cr_assert_eq(ama_wire_parse_asset(&back, j), 0);
	cr_assert_eq(back.seq, 3);
	cr_assert(back.has_head);
	cr_assert_eq(back.head.z, 2);
	json_decref(j);
	a.has_head = 0;
	j = roundtrip(ama_wire_asset(&a));
	cr_assert_eq(ama_wire_parse_asset(&back, j), 0);
	cr_assert_not(back.has_head);
	json_decref(j);
}

Test(version, reads_back_and_text_that_is_not_utf8_is_replaced)
{
	struct ama_meta_version v, back;
	json_t *j;

	memset(&v, 0, sizeof(v));
	v.version.z = 1;
	v.has_parent = 1;
	v.class = "imaging";
	v.seq = 3;
	v.author = "alice";
	v.time = 1718000000;
	v.message = "caf\xe9";
	memset(v.commit_id, 'c', AMA_COMMIT_ID_HEXLEN);
	memset(v.oid, 'd', AMA_META_OIDLEN);
	j = roundtrip(ama_wire_version(&v));
	cr_assert_eq(ama_wire_parse_version(&back, j), 0);
	cr_assert_eq(back.version.z, 1);
	cr_assert(back.has_parent);
	cr_assert_eq(back.parent.z, 0);
	cr_assert_str_eq(back.class, "imaging");
	cr_assert_eq(back.seq, 3);
	cr_assert_str_eq(back.author, "alice");
	cr_assert_eq(back.time, 1718000000);
	cr_assert_str_eq(back.message, "caf\xef\xbf\xbd");
	cr_assert_str_eq(back.commit_id, v.commit_id);
	cr_assert_str_eq(back.oid, v.oid);
	ama_meta_version_release(&back);
	json_decref(j);
}

Test(error, code_subject_and_problems_read_back)
{
	struct ama_buf problems = AMA_BUF_INIT, back = AMA_BUF_INIT;
	json_t *j;

	ama_buf_addstr(&problems, "missing\t\"a\\tb\"\nchecksum\tl\xe9\n");
	j = roundtrip(ama_wire_error(AMA_EREMOTE, "refused", "sub\xe9",
				     &problems));
	cr_assert_eq(ama_wire_parse_error(j, AMA_EIO, "fallback", &back),
		     AMA_EREMOTE);
	cr_assert_str_eq(ama_error_msg(), "refused");
	cr_assert_str_eq(ama_error_path(), "sub\xe9");
	cr_assert_str_eq(back.s, problems.s);
	ama_buf_release(&problems);
	ama_buf_release(&back);
	json_decref(j);
}

Test(error, without_a_known_code_the_status_decides)
{
	json_t *j = load("{\"error\":\"gone\",\"code\":\"martian\"}");

	cr_assert_eq(ama_wire_parse_error(j, AMA_ENOTFOUND, "x", NULL),
		     AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "gone");
	cr_assert_null(ama_error_path());
	json_decref(j);
}

Test(error, a_body_that_is_no_error_gives_the_fallback)
{
	json_t *j = load("[1,2]");

	cr_assert_eq(ama_wire_parse_error(j, AMA_ENET, "the server answered "
					  "502", NULL), AMA_ENET);
	cr_assert_str_eq(ama_error_msg(), "the server answered 502");
	json_decref(j);
	cr_assert_eq(ama_wire_parse_error(NULL, AMA_ENET, "none", NULL),
		     AMA_ENET);
	cr_assert_str_eq(ama_error_msg(), "none");
}

Test(error, code_names)
{
	cr_assert_str_eq(ama_wire_code_name(AMA_ENOTFOUND), "notfound");
	cr_assert_str_eq(ama_wire_code_name(AMA_EAUTH), "auth");
	cr_assert_null(ama_wire_code_name(0));
	cr_assert_null(ama_wire_code_name(-99));
}
