/* t/unit/store.c: bucket URLs, S3 request encoding, backoff, credential precedence. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "s3creds.h"
#include "store.h"
#include "store_backend.h"

Test(url, file_url_gives_the_folder)
{
	struct ama_store_url u;

	cr_assert_eq(ama_store_url_parse(&u, "file:///srv/ama/staging//"), 0);
	cr_assert_eq(u.kind, AMA_STORE_FILE);
	cr_assert_str_eq(u.dir, "/srv/ama/staging");
	cr_assert_null(u.bucket);
	ama_store_url_release(&u);
}

Test(url, s3_url_gives_bucket_and_prefix_ending_in_slash)
{
	struct ama_store_url u;

	cr_assert_eq(ama_store_url_parse(&u, "s3://my-bucket.1"), 0);
	cr_assert_eq(u.kind, AMA_STORE_S3);
	cr_assert_str_eq(u.bucket, "my-bucket.1");
	cr_assert_str_eq(u.prefix, "");
	ama_store_url_release(&u);
	cr_assert_eq(ama_store_url_parse(&u, "s3://bkt/a/b"), 0);
	cr_assert_str_eq(u.prefix, "a/b/");
	ama_store_url_release(&u);
	cr_assert_eq(ama_store_url_parse(&u, "s3://bkt/a/b/"), 0);
	cr_assert_str_eq(u.prefix, "a/b/");
	ama_store_url_release(&u);
}

Test(url, bad_urls_are_setup_errors)
{
	static const char *const bad[] = {
		"file://relative/dir", "file:///", "file:///a/../b",
		"s3://", "s3://ab", "s3://Upper", "s3://under_score",
		"s3://-dash", "s3://bkt/a//b", "s3://bkt/./a", "s3://bkt/..",
		"http://bkt/x", "bkt/x", "",
	};
	struct ama_store_url u;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(ama_store_url_parse(&u, bad[i]), AMA_ESETUP,
			     "%s", bad[i]);
	ama_store_url_parse(&u, "s3://ab");
	cr_assert_str_eq(ama_error_msg(),
			 "not a bucket URL: 's3://ab': bad bucket name");
}

static char *encoded(const char *s, int keep_slash)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_s3_encode(&b, s, strlen(s), keep_slash);
	return ama_buf_detach(&b);
}

Test(sigv4, keys_are_rfc3986_encoded_with_upper_case_hex)
{
	char *e = encoded("a b!'()*~-._/\xc3\xa9+%&=\t\n\"\\", 1);

	cr_assert_str_eq(e, "a%20b%21%27%28%29%2A~-._/%C3%A9%2B%25%26%3D"
			 "%09%0A%22%5C");
	free(e);
}

Test(sigv4, slash_is_encoded_outside_a_path)
{
	char *e = encoded("a/b", 0);

	cr_assert_str_eq(e, "a%2Fb");
	free(e);
}

Test(sigv4, non_utf8_bytes_are_encoded)
{
	char *e = encoded("x\xe9\xff", 1);

	cr_assert_str_eq(e, "x%E9%FF");
	free(e);
}

static char *query(const struct ama_s3_query *q)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_s3_query_write(&b, q);
	return b.s ? ama_buf_detach(&b) : ama_strdup("");
}

Test(sigv4, query_parameters_are_sorted_by_name)
{
	struct ama_s3_query q = { .n = 0 };
	char *s;

	ama_s3_query_add(&q, "prefix", "a/b c");
	ama_s3_query_add(&q, "list-type", "2");
	ama_s3_query_add(&q, "max-keys", "10");
	ama_s3_query_add(&q, "continuation-token", "1u/x+y=");
	ama_s3_query_add(&q, "encoding-type", "url");
	s = query(&q);
	cr_assert_str_eq(s, "?continuation-token=1u%2Fx%2By%3D"
			 "&encoding-type=url&list-type=2&max-keys=10"
			 "&prefix=a%2Fb%20c");
	free(s);
}

Test(sigv4, a_valueless_parameter_is_written_with_equals)
{
	struct ama_s3_query q = { .n = 0 };
	char *s;

	ama_s3_query_add(&q, "uploads", NULL);
	s = query(&q);
	cr_assert_str_eq(s, "?uploads=");
	free(s);
}

Test(sigv4, upload_part_query)
{
	struct ama_s3_query q = { .n = 0 };
	char *s;

	ama_s3_query_add(&q, "uploadId", "abc");
	ama_s3_query_add(&q, "partNumber", "7");
	s = query(&q);
	cr_assert_str_eq(s, "?partNumber=7&uploadId=abc");
	free(s);
}

Test(sigv4, an_empty_query_writes_nothing)
{
	struct ama_s3_query q = { .n = 0 };
	char *s = query(&q);

	cr_assert_str_eq(s, "");
	free(s);
}

Test(retry, backoff_is_full_jitter_doubling_to_a_cap)
{
	struct ama_store_tuning t = { 0 };
	unsigned max2 = 0, max4 = 0, max20 = 0;
	int i;

	t.retry_delay_ms = 100;
	t.retry_max_ms = 1000;
	for (i = 0; i < 2000; i++) {
		unsigned a = ama_store_backoff_ms(&t, 2);
		unsigned b = ama_store_backoff_ms(&t, 4);
		unsigned c = ama_store_backoff_ms(&t, 20);

		cr_assert_leq(a, 100);
		cr_assert_leq(b, 400);
		cr_assert_leq(c, 1000);
		max2 = a > max2 ? a : max2;
		max4 = b > max4 ? b : max4;
		max20 = c > max20 ? c : max20;
	}
	/* 2000 draws reach near each cap: the delays do grow */
	cr_assert_geq(max2, 90);
	cr_assert_geq(max4, 360);
	cr_assert_geq(max20, 900);
}

Test(retry, no_delay_when_asked_for_none)
{
	struct ama_store_tuning t = { 0 };

	cr_assert_eq(ama_store_backoff_ms(&t, 5), 0);
}

/* --- credentials, each test in its own process (Criterion forks) --- */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void creds_setup(void)
{
	char path[256];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ama-unit-store.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/.aws", tmpdir);
	mkdir(path, 0700);
	write_file(".aws/credentials",
		   "[default]\naws_access_key_id = DEFKEY\n"
		   "aws_secret_access_key = defsecret\n"
		   "[p1]\naws_access_key_id=P1KEY\naws_secret_access_key=p1secret\n"
		   "aws_session_token = p1token\n"
		   "[broken]\naws_access_key_id = BROKEN\n");
	write_file(".aws/config", "[default]\nregion = eu-west-3\n"
		   "[profile p1]\nregion = ap-south-1\n");
	setenv("HOME", tmpdir, 1);
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AMA_S3_STAGING_PROFILE");
	unsetenv("AMA_S3_ENDPOINT");
	unsetenv("AMA_S3_REGION");
	unsetenv("AMA_S3_ADDRESSING");
	unsetenv("AMA_CONFIG");
}

static void creds_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		cr_log_warn("cannot remove %s", tmpdir);
}

static struct ama_s3_settings load(const char *role, int want)
{
	struct ama_s3_settings s;
	int rc = ama_s3_settings_load(&s, NULL, role);

	cr_assert_eq(rc, want, "rc %d: %s", rc, ama_error_msg());
	return s;
}

TestSuite(creds, .init = creds_setup, .fini = creds_teardown);

Test(creds, default_profile_when_nothing_else)
{
	struct ama_s3_settings s = load("staging", 0);

	cr_assert_str_eq(s.creds.key_id, "DEFKEY");
	cr_assert_str_eq(s.creds.secret, "defsecret");
	cr_assert_null(s.creds.token);
	cr_assert_str_eq(s.region, "eu-west-3");
	cr_assert_str_eq(s.endpoint, "https://s3.eu-west-3.amazonaws.com");
	ama_s3_settings_release(&s);
}

Test(creds, environment_keys_beat_the_default_profile_and_aws_profile)
{
	struct ama_s3_settings s;

	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SESSION_TOKEN", "envtoken", 1);
	setenv("AWS_PROFILE", "p1", 1);
	s = load("staging", 0);
	cr_assert_str_eq(s.creds.key_id, "ENVKEY");
	cr_assert_str_eq(s.creds.token, "envtoken");
	cr_assert_str_eq(s.creds.source, "environment");
	ama_s3_settings_release(&s);
}

Test(creds, aws_profile_names_the_profile)
{
	struct ama_s3_settings s;

	setenv("AWS_PROFILE", "p1", 1);
	s = load("remote", 0);
	cr_assert_str_eq(s.creds.key_id, "P1KEY");
	cr_assert_str_eq(s.creds.token, "p1token");
	cr_assert_str_eq(s.region, "ap-south-1");
	ama_s3_settings_release(&s);
}

Test(creds, the_role_profile_of_the_config_beats_everything)
{
	struct ama_s3_settings s;

	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_PROFILE", "default", 1);
	setenv("AMA_S3_STAGING_PROFILE", "p1", 1);
	s = load("staging", 0);
	cr_assert_str_eq(s.creds.key_id, "P1KEY");
	ama_s3_settings_release(&s);
	/* another role does not use it */
	s = load("remote", 0);
	cr_assert_str_eq(s.creds.key_id, "ENVKEY");
	ama_s3_settings_release(&s);
}

Test(creds, a_missing_named_profile_is_a_setup_error)
{
	setenv("AMA_S3_STAGING_PROFILE", "nosuch", 1);
	load("staging", AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(),
		"[s3] staging-profile (or AMA_S3_STAGING_PROFILE) names "
		"profile 'nosuch': no profile 'nosuch'");
	unsetenv("AMA_S3_STAGING_PROFILE");
	setenv("AWS_PROFILE", "nosuch", 1);
	load("staging", AMA_ESETUP);
}

Test(creds, a_profile_without_a_secret_is_a_setup_error)
{
	setenv("AWS_PROFILE", "broken", 1);
	load("staging", AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(),
		"profile 'broken' lacks aws_access_key_id or "
		"aws_secret_access_key");
}

Test(creds, the_shared_credentials_file_variable_moves_the_file)
{
	struct ama_s3_settings s;

	write_file("other", "[default]\naws_access_key_id = OTHER\n"
		   "aws_secret_access_key = o\n");
	{
		char p[256];

		snprintf(p, sizeof(p), "%s/other", tmpdir);
		setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
	}
	s = load("staging", 0);
	cr_assert_str_eq(s.creds.key_id, "OTHER");
	ama_s3_settings_release(&s);
}

Test(creds, no_credentials_at_all_is_a_setup_error)
{
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	load("staging", AMA_ESETUP);
	cr_assert(strstr(ama_error_msg(), "no S3 credentials") ==
		  ama_error_msg());
}

Test(creds, region_precedence)
{
	struct ama_s3_settings s;

	setenv("AWS_DEFAULT_REGION", "r3", 1);
	s = load(NULL, 0);
	cr_assert_str_eq(s.region, "r3");
	ama_s3_settings_release(&s);
	setenv("AWS_REGION", "r2", 1);
	s = load(NULL, 0);
	cr_assert_str_eq(s.region, "r2");
	ama_s3_settings_release(&s);
	setenv("AMA_S3_REGION", "r1", 1);
	s = load(NULL, 0);
	cr_assert_str_eq(s.region, "r1");
	cr_assert_str_eq(s.endpoint, "https://s3.r1.amazonaws.com");
	ama_s3_settings_release(&s);
	setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
	unsetenv("AMA_S3_REGION");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	s = load(NULL, 0);
	cr_assert_str_eq(s.region, "us-east-1");
	ama_s3_settings_release(&s);
}

Test(creds, endpoint_precedence)
{
	struct ama_s3_settings s;

	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:3/", 1);
	s = load(NULL, 0);
	cr_assert_str_eq(s.endpoint, "http://127.0.0.1:3");
	ama_s3_settings_release(&s);
	setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2", 1);
	s = load(NULL, 0);
	cr_assert_str_eq(s.endpoint, "http://127.0.0.1:2");
	ama_s3_settings_release(&s);
	setenv("AMA_S3_ENDPOINT", "https://minio.example:9000//", 1);
	s = load(NULL, 0);
	cr_assert_str_eq(s.endpoint, "https://minio.example:9000");
	ama_s3_settings_release(&s);
	setenv("AMA_S3_ENDPOINT", "minio:9000", 1);
	load(NULL, AMA_ESETUP);
}

Test(creds, addressing_must_be_path_or_virtual)
{
	struct ama_s3_settings s;

	setenv("AMA_S3_ADDRESSING", "virtual", 1);
	s = load(NULL, 0);
	cr_assert(s.virtual_host);
	ama_s3_settings_release(&s);
	setenv("AMA_S3_ADDRESSING", "dns", 1);
	load(NULL, AMA_ESETUP);
}

Test(creds, profile_read_reports_a_missing_file)
{
	struct ama_s3_creds c;

	cr_assert_eq(ama_s3_profile_read(&c, "/nonexistent/f", "default"),
		     AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_path(), "/nonexistent/f");
}

/* --- the interface itself, on a file:// store in a temporary folder --- */

static char storedir[64];
static struct ama_store *fstore;

static void fstore_setup(void)
{
	struct ama_buf url = AMA_BUF_INIT;

	snprintf(storedir, sizeof(storedir), "/tmp/ama-unit-fstore.XXXXXX");
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

TestSuite(filestore, .init = fstore_setup, .fini = fstore_teardown);

static int put_mem(const char *key, const char *data, unsigned flags)
{
	struct ama_store_put p = { 0 };

	p.key = key;
	p.data = data;
	p.len = strlen(data);
	p.flags = flags;
	return ama_store_put(fstore, &p, NULL);
}

struct collect {
	struct ama_buf keys;
	int calls;
};

static int collect_key(void *ctx, const struct ama_store_entry *e)
{
	struct collect *c = ctx;

	ama_buf_addf(&c->keys, "%s=%llu ", e->key,
		     (unsigned long long)e->info.size);
	c->calls++;
	return 0;
}

Test(filestore, a_put_from_memory_lists_in_key_order_across_pages)
{
	struct collect c = { AMA_BUF_INIT, 0 };

	cr_assert_eq(put_mem("b/2", "two", 0), 0);
	cr_assert_eq(put_mem("a", "1", 0), 0);
	cr_assert_eq(put_mem("b/10", "ten!", 0), 0);
	cr_assert_eq(put_mem("c", "", 0), 0);
	cr_assert_eq(ama_store_list(fstore, "", 2, collect_key, &c), 0);
	cr_assert_str_eq(ama_buf_str(&c.keys), "a=1 b/10=4 b/2=3 c=0 ");
	ama_buf_reset(&c.keys);
	cr_assert_eq(ama_store_list(fstore, "b/", 1, collect_key, &c), 0);
	cr_assert_str_eq(ama_buf_str(&c.keys), "b/10=4 b/2=3 ");
	ama_buf_release(&c.keys);
}

static int stop_at_second(void *ctx, const struct ama_store_entry *e)
{
	int *n = ctx;

	(void)e;
	return ++*n == 2 ? ama_error_set(AMA_EINVAL, "enough") : 0;
}

Test(filestore, a_list_callback_can_stop_the_walk)
{
	int n = 0;

	put_mem("x1", "a", 0);
	put_mem("x2", "b", 0);
	put_mem("x3", "c", 0);
	cr_assert_eq(ama_store_list(fstore, "x", 1, stop_at_second, &n),
		     AMA_EINVAL);
	cr_assert_eq(n, 2);
}

static int sink_buf(void *ctx, const void *data, size_t n)
{
	ama_buf_add(ctx, data, n);
	return 0;
}

static int sink_fails(void *ctx, const void *data, size_t n)
{
	(void)ctx;
	(void)data;
	(void)n;
	return ama_error_set(AMA_EIO, "disk full");
}

Test(filestore, get_streams_ranges_and_passes_a_sink_error_on)
{
	struct ama_buf b = AMA_BUF_INIT;
	struct ama_store_info info;

	cr_assert_eq(put_mem("k", "0123456789", 0), 0);
	cr_assert_eq(ama_store_get(fstore, "k", 3, 4, sink_buf, &b, &info), 0);
	cr_assert_str_eq(ama_buf_str(&b), "3456");
	cr_assert_eq(info.size, 10);
	ama_buf_reset(&b);
	cr_assert_eq(ama_store_get(fstore, "k", 7, AMA_STORE_TO_END, sink_buf,
				   &b, NULL), 0);
	cr_assert_str_eq(ama_buf_str(&b), "789");
	cr_assert_eq(ama_store_get(fstore, "k", 0, AMA_STORE_TO_END,
				   sink_fails, NULL, NULL), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(), "disk full");
	cr_assert_eq(ama_store_get(fstore, "k", 8, 3, sink_buf, &b, NULL),
		     AMA_EINVAL);
	ama_buf_release(&b);
}

Test(filestore, create_only_and_wrong_md5)
{
	struct ama_store_put p = { 0 };
	struct ama_md5 wrong;

	cr_assert_eq(put_mem("m", "first", AMA_STORE_IF_NONE_MATCH), 0);
	cr_assert_eq(put_mem("m", "second", AMA_STORE_IF_NONE_MATCH),
		     AMA_ECONFLICT);
	ama_md5_buffer(&wrong, "other", 5);
	p.key = "w";
	p.data = "bytes";
	p.len = 5;
	p.md5 = &wrong;
	cr_assert_eq(ama_store_put(fstore, &p, NULL), AMA_EDIGEST);
	cr_assert_str_eq(ama_error_msg(), "content does not match its MD5");
	cr_assert_eq(ama_store_head(fstore, "w", &(struct ama_store_info){ 0 }),
		     AMA_ENOTFOUND);
}

static void count_done(void *ctx, const struct ama_store_result *r)
{
	int *ok = ctx;

	if (r->rc == 0)
		(*ok)++;
}

Test(filestore, after_cancel_every_call_is_interrupted)
{
	struct ama_store_batch *b;
	struct ama_store_put p = { 0 };
	int ok = 0;

	b = ama_store_batch_new(fstore, count_done, NULL, &ok);
	p.key = "b1";
	p.data = "x";
	p.len = 1;
	cr_assert_eq(ama_store_batch_put(b, &p), 0);
	cr_assert_eq(ok, 1);
	ama_store_cancel(fstore);
	p.key = "b2";
	cr_assert_eq(ama_store_batch_put(b, &p), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(), "interrupted");
	cr_assert_eq(ama_store_batch_finish(b), AMA_EIO);
	cr_assert_eq(ok, 1);
	cr_assert_eq(put_mem("b3", "y", 0), AMA_EIO);
}

/* a signal cancels the named stores' work; the program then dies of it */
Test(signals, sigterm_cancels_then_the_exit_is_the_signal, .signal = SIGTERM)
{
	struct ama_store *a, *b;

	cr_assert_eq(ama_store_open(&a, "file:///tmp/ama-unit-store-a", NULL,
				    NULL), 0, "%s", ama_error_msg());
	cr_assert_eq(ama_store_open(&b, "file:///tmp/ama-unit-store-b", NULL,
				    NULL), 0, "%s", ama_error_msg());
	ama_store_signal_exit();	/* nothing came: returns */
	ama_store_cancel_on_signals(a, b);
	cr_assert_eq(ama_store_interrupted(a), 0);
	cr_assert_eq(raise(SIGTERM), 0);	/* handled: we go on */
	cr_assert_eq(ama_store_interrupted(a), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(), "interrupted");
	cr_assert_eq(ama_store_interrupted(b), AMA_EIO);
	ama_store_cancel_on_signals(NULL, NULL);
	ama_store_close(a);
	ama_store_close(b);
	ama_store_signal_exit();
	cr_assert_fail("still alive after ama_store_signal_exit");
}
