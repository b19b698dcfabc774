/* t/unit/client_bucket.c: the bucket-only reader behind ama_client_open_bucket: classes, assets, versions, manifests, and no writes. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "error.h"
#include "layout.h"
#include "readfix.h"

TestSuite(client_bucket, .init = fx_setup, .fini = fx_teardown,
	  .timeout = 30);

static struct fx_pub pub;
static struct ama_client *reader;
static struct ama_config *empty;

/*
 * runs/1 at 0.0.0, 0.0.1, 0.0.2; runs/2 claimed, no version; runs/3 at
 * 0.0.0; the class "other" with no asset. And a reader of the bucket.
 */
static void published(void)
{
	struct ama_client_class k;
	char *url = fx_remote_url();

	fx_pub_open(&pub, "runs");
	fx_file(&pub, "a", "alpha");
	fx_commit(&pub, "first");
	fx_file(&pub, "a", "alpha 2");
	fx_commit(&pub, "second\nwith a second line");
	fx_file(&pub, "a", "alpha 3");
	fx_file(&pub, "b", "beta");
	fx_commit(&pub, "");
	fx_pub_asset(&pub);
	fx_pub_asset(&pub);
	fx_file(&pub, "c", "gamma");
	fx_commit(&pub, "third asset");
	cr_assert_eq(ama_client_class(pub.c, "other", 1, &k), 0);
	ama_client_class_release(&k);
	cr_assert_eq(ama_config_load_file(&empty, "/nonexistent/ama"), 0);
	cr_assert_eq(ama_client_open_bucket(&reader, url, empty), 0, "%s",
		     ama_error_msg());
	free(url);
}

static void done(void)
{
	ama_client_close(reader);
	ama_config_free(empty);
	fx_pub_close(&pub);
}

Test(client_bucket, it_reads_only_and_not_in_this_process)
{
	struct ama_commit_request rq;
	struct ama_commit_result res;
	uint64_t seq;

	published();
	cr_assert_eq(ama_client_is_local(reader), 0);
	cr_assert_eq(ama_client_asset_create(reader, "runs", NULL, &seq),
		     AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "the bucket client only reads: set "
			 "[server] url to publish");
	memset(&rq, 0, sizeof(rq));
	rq.class = "runs";
	rq.seq = 1;
	cr_assert_eq(ama_client_commit(reader, &rq, &res), AMA_ESETUP);
	done();
}

Test(client_bucket, a_class_as_the_bucket_holds_it)
{
	struct ama_client_class k;
	char *url = fx_remote_url();

	published();
	cr_assert_eq(ama_client_class(reader, "runs", 0, &k), 0);
	cr_assert_str_eq(k.info.name, "runs");
	cr_assert_str_eq(k.info.class_id, pub.k.info.class_id);
	cr_assert_str_eq(k.info.top_hash, pub.k.info.top_hash);
	cr_assert_eq(k.info.created, pub.k.info.created);
	cr_assert_str_eq(k.remote, url);
	cr_assert_null(k.staging);
	cr_assert_null(k.s3_endpoint);
	ama_client_class_release(&k);
	/* asked again: the same (read once) */
	cr_assert_eq(ama_client_class(reader, "runs", 1, &k), 0);
	cr_assert_str_eq(k.info.top_hash, pub.k.info.top_hash);
	ama_client_class_release(&k);
	free(url);
	done();
}

Test(client_bucket, a_missing_class_is_not_found_and_cannot_be_made)
{
	struct ama_client_class k;

	published();
	cr_assert_eq(ama_client_class(reader, "nosuch", 0, &k),
		     AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "no such class: nosuch");
	cr_assert_eq(ama_client_class(reader, "nosuch", 1, &k), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "no such class: nosuch (a reader of "
			 "the bucket cannot make one)");
	cr_assert_null(k.remote);
	cr_assert_eq(ama_client_class(reader, "../x", 0, &k), AMA_EINVAL);
	done();
}

static int class_one(const struct ama_class_info *c, void *ctx)
{
	ama_buf_addf(ctx, "%s %.8s;", c->name, c->top_hash);
	return 0;
}

Test(client_bucket, every_class_by_name)
{
	struct ama_buf got = AMA_BUF_INIT, want = AMA_BUF_INIT;
	struct ama_client_class o;

	published();
	cr_assert_eq(ama_client_class(pub.c, "other", 0, &o), 0);
	cr_assert_eq(ama_client_classes(reader, class_one, &got), 0);
	ama_buf_addf(&want, "other %.8s;runs %.8s;", o.info.top_hash,
		     pub.k.info.top_hash);
	cr_assert_str_eq(got.s, want.s);
	ama_client_class_release(&o);
	ama_buf_release(&got);
	ama_buf_release(&want);
	done();
}

static int asset_one(const struct ama_asset_info *a, void *ctx)
{
	char vs[AMA_VERSION_BUFSIZE] = "-";

	if (a->has_head)
		ama_version_format(vs, &a->head);
	ama_buf_addf(ctx, "%llu %s;", (unsigned long long)a->seq, vs);
	return 0;
}

Test(client_bucket, the_assets_of_a_class_with_their_newest_version)
{
	struct ama_buf got = AMA_BUF_INIT;

	published();
	cr_assert_eq(ama_client_assets(reader, "runs", asset_one, &got), 0);
	cr_assert_str_eq(got.s, "1 0.0.2;2 -;3 0.0.0;");
	ama_buf_reset(&got);
	cr_assert_eq(ama_client_assets(reader, "other", asset_one, &got), 0);
	cr_assert_eq(got.len, 0);
	cr_assert_eq(ama_client_assets(reader, "nosuch", asset_one, &got),
		     AMA_ENOTFOUND);
	ama_buf_release(&got);
	done();
}

static int version_one(const struct ama_meta_version *v, void *ctx)
{
	char vs[AMA_VERSION_BUFSIZE], ps[AMA_VERSION_BUFSIZE] = "-";

	ama_version_format(vs, &v->version);
	if (v->has_parent)
		ama_version_format(ps, &v->parent);
	ama_buf_addf(ctx, "%s<%s %s/%llu %s %lld [%s] %.8s;", vs, ps, v->class,
		     (unsigned long long)v->seq, v->author, (long long)v->time,
		     v->message, v->commit_id);
	return 0;
}

static char *versions(struct ama_client *c, uint64_t seq, size_t max)
{
	struct ama_buf b = AMA_BUF_INIT;

	cr_assert_eq(ama_client_versions(c, "runs", seq, max, version_one,
					 &b), 0, "%s", ama_error_msg());
	ama_buf_add(&b, "", 0);
	return ama_buf_detach(&b);
}

Test(client_bucket, versions_newest_first_with_their_headers)
{
	char *got, *local;

	published();
	got = versions(reader, 1, 0);
	cr_assert_eq(strncmp(got, "0.0.2<0.0.1 runs/1 tester 1718000002 [] ",
			     40), 0, "%s", got);
	cr_assert(strstr(got, ";0.0.1<0.0.0 runs/1 tester 1718000001 "
			 "[second\nwith a second line] ") != NULL, "%s", got);
	cr_assert(strstr(got, ";0.0.0<- runs/1 tester 1718000000 [first] ")
		  != NULL, "%s", got);
	/* the same as the publisher's own repository says, commit ids too */
	local = versions(pub.c, 1, 0);
	cr_assert_str_eq(got, local);
	free(got);
	free(local);
	done();
}

Test(client_bucket, at_most_max_versions_and_a_stop_is_passed_on)
{
	char *got, *local;

	published();
	got = versions(reader, 1, 2);
	local = versions(pub.c, 1, 2);
	cr_assert_str_eq(got, local);
	cr_assert_eq(strncmp(got, "0.0.2<", 6), 0);
	cr_assert(strstr(got, ";0.0.1<") != NULL);
	cr_assert_null(strstr(got, "0.0.0<-"));
	free(got);
	free(local);
	got = versions(reader, 2, 0);
	cr_assert_str_eq(got, "");
	free(got);
	done();
}

static int stop_at_first(const struct ama_meta_version *v, void *ctx)
{
	(*(int *)ctx)++;
	return 42;
}

Test(client_bucket, a_walk_stopped_returns_what_stopped_it)
{
	int calls = 0;

	published();
	cr_assert_eq(ama_client_versions(reader, "runs", 1, 0, stop_at_first,
					 &calls), 42);
	cr_assert_eq(calls, 1);
	cr_assert_eq(ama_client_versions(reader, "runs", 9, 0, stop_at_first,
					 &calls), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "no such asset: runs/9");
	done();
}

Test(client_bucket, only_the_header_of_each_version_walked_to_is_read)
{
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_version v = fx_ver("0.0.0");
	char *path, *text, *got;
	size_t len;

	published();
	/* the oldest manifest's objects damaged: its header still reads */
	ama_layout_manifest(&key, pub.k.info.top_hash, 1, &v);
	path = fx_remote_file(key.s);
	cr_assert_eq(ama_read_file(&text, &len, path), 0);
	text = realloc(text, len + 32);
	strcpy(text + len, "not an object line\n");
	fx_write(path, text);
	got = versions(reader, 1, 0);
	cr_assert(strstr(got, ";0.0.0<- runs/1 tester 1718000000 [first] ")
		  != NULL, "%s", got);
	free(got);
	free(text);
	free(path);
	ama_buf_release(&key);
	done();
}

Test(client_bucket, a_manifest_is_the_bucket_text)
{
	struct ama_buf key = AMA_BUF_INIT, got = AMA_BUF_INIT,
		local = AMA_BUF_INIT;
	struct ama_version v = fx_ver("0.0.1");
	char *path, *text;

	published();
	ama_layout_manifest(&key, pub.k.info.top_hash, 1, &v);
	path = fx_remote_file(key.s);
	text = fx_read(path);
	cr_assert_eq(ama_client_manifest(reader, "runs", 1, &v, &got), 0);
	cr_assert_str_eq(got.s, text);
	cr_assert_eq(ama_client_manifest(pub.c, "runs", 1, &v, &local), 0);
	cr_assert_str_eq(got.s, local.s);
	v = fx_ver("0.0.9");
	cr_assert_eq(ama_client_manifest(reader, "runs", 1, &v, &got),
		     AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "no such version: runs/1@0.0.9");
	free(text);
	free(path);
	ama_buf_release(&key);
	ama_buf_release(&got);
	ama_buf_release(&local);
	done();
}

Test(client_bucket, a_reader_with_no_server_is_the_bucket)
{
	struct ama_client *c;
	struct ama_buf got = AMA_BUF_INIT;

	published();
	/* with no remote given: the embedded default */
	cr_assert_eq(ama_client_open_reader(&c, empty, NULL), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(ama_client_is_local(c), 0);
	cr_assert_eq(ama_client_assets(c, "runs", asset_one, &got), 0);
	cr_assert_str_eq(got.s, "1 0.0.2;2 -;3 0.0.0;");
	cr_assert_eq(ama_client_asset_create(c, "runs", NULL, NULL),
		     AMA_ESETUP);
	ama_client_close(c);
	ama_buf_release(&got);
	done();
}

Test(client_bucket, a_bucket_url_that_is_not_one_is_refused)
{
	struct ama_client *c = (struct ama_client *)1;
	struct ama_config *cfg;

	cr_assert_eq(ama_config_load_file(&cfg, "/nonexistent/ama"), 0);
	cr_assert_eq(ama_client_open_bucket(&c, "file://relative", cfg),
		     AMA_ESETUP);
	cr_assert_null(c);
	ama_config_free(cfg);
}
