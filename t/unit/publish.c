/* t/unit/publish.c: classes, assets and verified versions on file:// stores in a temporary folder. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "md5.h"
#include "meta.h"
#include "publish.h"
#include "store.h"

/* ---- fixtures: two buckets and a repository in a fresh folder ---- */

static char tmp[64];
static char remote_url[128], staging_url[128], repo[128];
static struct ama_publish *pub;
static struct ama_store *remote, *staging;

static struct ama_publish *open_publisher(int jobs)
{
	struct ama_publish_opts o = { remote_url, staging_url, NULL, repo,
				      jobs };
	struct ama_publish *p;

	cr_assert_eq(ama_publish_open(&p, &o), 0, "%s", ama_error_msg());
	return p;
}

static void setup(void)
{
	strcpy(tmp, "/tmp/ama-publish-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(remote_url, sizeof(remote_url), "file://%s/remote", tmp);
	snprintf(staging_url, sizeof(staging_url), "file://%s/staging", tmp);
	snprintf(repo, sizeof(repo), "%s/meta.git", tmp);
	setenv("HOME", tmp, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("TZ", "UTC", 1);
	pub = open_publisher(4);
	cr_assert_eq(ama_store_open(&remote, remote_url, NULL, NULL), 0);
	cr_assert_eq(ama_store_open(&staging, staging_url, NULL, NULL), 0);
}

static void teardown(void)
{
	char cmd[128];

	ama_store_close(remote);
	ama_store_close(staging);
	ama_publish_close(pub);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(publish, .init = setup, .fini = teardown);

/* ---- helpers ---- */

static void md5_hex(char *out, const char *bytes)
{
	struct ama_md5 m;

	ama_md5_buffer(&m, bytes, strlen(bytes));
	ama_md5_to_hex(out, &m);
}

/* Append the object path -> bytes to l (no checks; sort afterwards). */
static void add(struct ama_objlist *l, const char *path, const char *bytes)
{
	struct ama_md5 m;

	ama_md5_buffer(&m, bytes, strlen(bytes));
	ama_objlist_add(l, &m, strlen(bytes), path, strlen(path));
}

static void put_key(struct ama_store *s, const char *key, const char *bytes)
{
	struct ama_store_put p;

	memset(&p, 0, sizeof(p));
	p.key = key;
	p.data = bytes;
	p.len = strlen(bytes);
	p.size = AMA_STORE_ANY_SIZE;
	cr_assert_eq(ama_store_put(s, &p, NULL), 0, "%s", ama_error_msg());
}

/* Upload bytes to staging as a client does: <top_hash>/<md5>. */
static void stage(const struct ama_class_info *c, const char *bytes)
{
	char hex[33], key[80];

	md5_hex(hex, bytes);
	snprintf(key, sizeof(key), "%s/%s", c->top_hash, hex);
	put_key(staging, key, bytes);
}

static int exists(struct ama_store *s, const char *top, const char *mid,
		  const char *bytes)
{
	struct ama_store_info info;
	char hex[33], key[128];
	int rc;

	md5_hex(hex, bytes);
	snprintf(key, sizeof(key), "%s/%s%s", top, mid, hex);
	rc = ama_store_head(s, key, &info);
	cr_assert(rc == 0 || rc == AMA_ENOTFOUND, "%s", ama_error_msg());
	return rc == 0;
}

static int staged(const struct ama_class_info *c, const char *bytes)
{
	return exists(staging, c->top_hash, "", bytes);
}

static int published(const struct ama_class_info *c, const char *bytes)
{
	return exists(remote, c->top_hash, "contents/", bytes);
}

static char *get_all(struct ama_store *s, const char *key);

static size_t files_under(const char *dir)
{
	char cmd[300];
	FILE *f;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "find '%s' -type f 2>/dev/null | wc -l",
		 dir);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%zu", &n), 1);
	pclose(f);
	return n;
}

/* Files in the folder sub of the test's folder. */
static size_t count(const char *sub)
{
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/%s", tmp, sub);
	return files_under(dir);
}

static void request(struct ama_commit_request *rq, const char *class,
		    uint64_t seq, const char *parent,
		    const struct ama_objlist *l)
{
	memset(rq, 0, sizeof(*rq));
	rq->class = class;
	rq->seq = seq;
	if (parent) {
		rq->has_parent = 1;
		cr_assert_eq(ama_version_parse(&rq->parent, parent), 0);
	}
	rq->author = "alice";
	rq->message = "a message";
	rq->objects = l;
	rq->time = 1718000000;
}

static void vstr(char *out, const struct ama_version *v)
{
	ama_version_format(out, v);
}

/* Commit, which must work; returns the version's text in out. */
static void commit_ok(const struct ama_commit_request *rq,
		      struct ama_commit_result *res, char *version)
{
	int rc = ama_publish_commit(pub, rq, res);

	cr_assert_eq(rc, 0, "%d %s\n%s", rc, ama_error_msg(),
		     ama_buf_str(&res->problems));
	vstr(version, &res->version);
}

static struct ama_class_info new_class(const char *name)
{
	struct ama_class_info c;

	cr_assert_eq(ama_publish_class(pub, name, 1, &c), 0, "%s",
		     ama_error_msg());
	return c;
}

static uint64_t new_asset(const char *class)
{
	uint64_t seq;

	cr_assert_eq(ama_publish_asset_create(pub, class, NULL, &seq, NULL), 0, "%s",
		     ama_error_msg());
	return seq;
}

struct vlist {
	char text[4096];
	size_t n;
};

/* "version<parent author time message>" lines of a log, newest first. */
static int log_line(const struct ama_meta_version *v, void *ctx)
{
	struct vlist *vl = ctx;
	char a[AMA_VERSION_BUFSIZE], b[AMA_VERSION_BUFSIZE] = "-";
	size_t len = strlen(vl->text);

	vstr(a, &v->version);
	if (v->has_parent)
		vstr(b, &v->parent);
	snprintf(vl->text + len, sizeof(vl->text) - len, "%s<%s %s %lld %s>\n",
		 a, b, v->author, (long long)v->time, v->message);
	vl->n++;
	return 0;
}

static struct vlist versions(const char *class, uint64_t seq)
{
	struct vlist vl;

	memset(&vl, 0, sizeof(vl));
	cr_assert_eq(ama_publish_versions(pub, class, seq, 0, log_line, &vl),
		     0, "%s", ama_error_msg());
	return vl;
}

static int sink(void *ctx, const void *data, size_t n)
{
	ama_buf_add(ctx, data, n);
	return 0;
}

static char *get_all(struct ama_store *s, const char *key)
{
	struct ama_buf b = AMA_BUF_INIT;
	int rc = ama_store_get(s, key, 0, AMA_STORE_TO_END, sink, &b, NULL);

	if (rc == AMA_ENOTFOUND)
		return NULL;
	cr_assert_eq(rc, 0, "%s", ama_error_msg());
	ama_buf_add(&b, "", 0);
	return ama_buf_detach(&b);
}

static char *manifest_key(const struct ama_class_info *c, uint64_t seq,
			  const char *version)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addf(&b, "%s/assets/%llu/%s.manifest", c->top_hash,
		     (unsigned long long)seq, version);
	return ama_buf_detach(&b);
}

/* ---- classes ---- */

Test(publish, a_class_is_made_once_and_read_back)
{
	struct ama_class_info c, again, fresh;
	struct ama_publish *other;
	struct ama_md5 m;
	char top[33], *json, want[256];

	c = new_class("imaging");
	cr_assert_str_eq(c.name, "imaging");
	cr_assert_eq(strlen(c.class_id), 36);
	cr_assert_eq(c.class_id[14], '4');	/* a version 4 UUID */
	ama_md5_buffer(&m, c.class_id, strlen(c.class_id));
	ama_md5_to_hex(top, &m);
	cr_assert_str_eq(c.top_hash, top);
	cr_assert_gt(c.created, 1700000000);

	json = get_all(remote, "classes/imaging.json");
	snprintf(want, sizeof(want), "{\"name\":\"imaging\",\"class_id\":"
		 "\"%s\",\"top_hash\":\"%s\",\"created\":%lld}\n",
		 c.class_id, c.top_hash, (long long)c.created);
	cr_assert_str_eq(json, want);
	free(json);

	cr_assert_eq(ama_publish_class(pub, "imaging", 1, &again), 0);
	cr_assert_str_eq(again.class_id, c.class_id);
	/* another publisher reads it from the bucket */
	other = open_publisher(1);
	cr_assert_eq(ama_publish_class(other, "imaging", 0, &fresh), 0);
	cr_assert_str_eq(fresh.class_id, c.class_id);
	cr_assert_str_eq(fresh.top_hash, c.top_hash);
	cr_assert_eq(fresh.created, c.created);
	ama_publish_close(other);
}

Test(publish, a_missing_class_is_not_found_without_create)
{
	struct ama_class_info c;

	cr_assert_eq(ama_publish_class(pub, "nothere", 0, &c), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "no such class: nothere");
	cr_assert_eq(ama_publish_class(pub, "bad/name", 1, &c), AMA_EINVAL);
	cr_assert_eq(ama_publish_class(pub, "..", 1, &c), AMA_EINVAL);
	cr_assert_eq(count("remote"), 0);
}

Test(publish, a_corrupt_class_record_is_named)
{
	struct ama_class_info c;
	char want[256];

	put_key(remote, "classes/broken.json", "{\"name\":\"other\"}\n");
	cr_assert_eq(ama_publish_class(pub, "broken", 1, &c), AMA_ECORRUPT);
	snprintf(want, sizeof(want), "%s/remote/classes/broken.json",
		 tmp);
	cr_assert_str_eq(ama_error_path() + strlen("file://"), want);
	cr_assert_str_eq(ama_error_msg(), "not a class record of 'broken'");
}

struct race {
	pthread_barrier_t *go;
	struct ama_class_info c;
	int rc;
};

static void *create_racer(void *arg)
{
	struct race *r = arg;
	struct ama_publish *p = open_publisher(1);

	pthread_barrier_wait(r->go);
	r->rc = ama_publish_class(p, "raced", 1, &r->c);
	ama_publish_close(p);
	return NULL;
}

Test(publish, publishers_racing_to_make_a_class_agree_on_one_id)
{
	pthread_barrier_t go;
	pthread_t t[8];
	struct race r[8];
	struct ama_class_info c;
	int i;

	pthread_barrier_init(&go, NULL, 8);
	for (i = 0; i < 8; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].go = &go;
		cr_assert_eq(pthread_create(&t[i], NULL, create_racer, &r[i]),
			     0);
	}
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	cr_assert_eq(ama_publish_class(pub, "raced", 0, &c), 0);
	for (i = 0; i < 8; i++) {
		cr_assert_eq(r[i].rc, 0);
		cr_assert_str_eq(r[i].c.class_id, c.class_id);
		cr_assert_str_eq(r[i].c.top_hash, c.top_hash);
	}
}

struct names {
	char text[512];
};

static int class_line(const struct ama_class_info *c, void *ctx)
{
	struct names *n = ctx;
	size_t len = strlen(n->text);

	snprintf(n->text + len, sizeof(n->text) - len, "%s\n", c->name);
	return !strcmp(c->name, "stop") ? 7 : 0;
}

Test(publish, classes_are_listed_by_name)
{
	struct names n;

	memset(&n, 0, sizeof(n));
	cr_assert_eq(ama_publish_classes(pub, class_line, &n), 0);
	cr_assert_str_eq(n.text, "");
	new_class("b");
	new_class("a");
	new_class("a-b");
	new_class("stop");
	new_class("z");
	put_key(remote, "classes/not a class.json", "{}");
	cr_assert_eq(ama_publish_classes(pub, class_line, &n), 7);
	cr_assert_str_eq(n.text, "a\na-b\nb\nstop\n");
}

/* ---- assets ---- */

static int asset_line(const struct ama_asset_info *a, void *ctx)
{
	struct names *n = ctx;
	size_t len = strlen(n->text);
	char v[AMA_VERSION_BUFSIZE] = "-";

	if (a->has_head)
		vstr(v, &a->head);
	snprintf(n->text + len, sizeof(n->text) - len, "%llu %s\n",
		 (unsigned long long)a->seq, v);
	return 0;
}

Test(publish, assets_are_numbered_from_one)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_publish *other;
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	struct names n;
	char v[AMA_VERSION_BUFSIZE], *json, want[256];
	uint64_t seq;
	int i;

	for (i = 1; i <= 5; i++)
		cr_assert_eq(new_asset("imaging"), (uint64_t)i);
	/* a fresh publisher finds the next number in the bucket */
	other = open_publisher(1);
	cr_assert_eq(ama_publish_asset_create(other, "imaging", NULL, &seq, NULL), 0);
	cr_assert_eq(seq, 6);
	ama_publish_close(other);
	{
		char key[128];

		snprintf(key, sizeof(key), "%s/assets/6/asset.json",
			 c.top_hash);
		json = get_all(remote, key);
		cr_assert_not_null(json);
		snprintf(want, sizeof(want), "{\"class\":\"imaging\","
			 "\"class_id\":\"%s\",\"seq\":6,\"created\":",
			 c.class_id);
		cr_assert_eq(strncmp(json, want, strlen(want)), 0, "%s", json);
		free(json);
	}
	/* 3 gets a version */
	add(&l, "a", "alpha");
	stage(&c, "alpha");
	request(&rq, "imaging", 3, NULL, &l);
	commit_ok(&rq, &res, v);
	ama_commit_result_release(&res);
	memset(&n, 0, sizeof(n));
	cr_assert_eq(ama_publish_assets(pub, "imaging", asset_line, &n), 0);
	cr_assert_str_eq(n.text, "1 -\n2 -\n3 0.0.0\n4 -\n5 -\n6 -\n");
	cr_assert_eq(ama_publish_asset_create(pub, "nothere", NULL, &seq, NULL),
		     AMA_ENOTFOUND);
	cr_assert_eq(ama_publish_assets(pub, "nothere", asset_line, &n),
		     AMA_ENOTFOUND);
	ama_objlist_release(&l);
}

Test(publish, a_claim_makes_asset_creation_idempotent)
{
	static const char a[] = "0123456789abcdef0123456789abcdef";
	static const char b[] = "fedcba9876543210fedcba9876543210";
	struct ama_class_info c = new_class("imaging");
	struct ama_publish *other;
	struct names n;
	char key[160], *json;
	uint64_t seq;
	int created;

	cr_assert_eq(ama_publish_asset_create(pub, "imaging", a, &seq,
					      &created), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(seq, 1);
	cr_assert_eq(created, 1);
	/* the answer was lost: the same claim again, the same asset */
	cr_assert_eq(ama_publish_asset_create(pub, "imaging", a, &seq,
					      &created), 0);
	cr_assert_eq(seq, 1);
	cr_assert_eq(created, 0);
	cr_assert_eq(ama_publish_asset_create(pub, "imaging", b, &seq,
					      &created), 0);
	cr_assert_eq(seq, 2);
	cr_assert_eq(created, 1);
	cr_assert_eq(new_asset("imaging"), 3);
	/* another server (a fresh publisher) knows the claim from the bucket */
	other = open_publisher(1);
	cr_assert_eq(ama_publish_asset_create(other, "imaging", b, &seq,
					      &created), 0);
	cr_assert_eq(seq, 2);
	cr_assert_eq(created, 0);
	ama_publish_close(other);
	snprintf(key, sizeof(key), "%s/assets/by-claim/%s", c.top_hash, a);
	json = get_all(remote, key);
	cr_assert_str_eq(json, "{\"seq\":1}\n");
	free(json);
	snprintf(key, sizeof(key), "%s/assets/2/asset.json", c.top_hash);
	json = get_all(remote, key);
	cr_assert_not_null(strstr(json, "\"claim\":\"fedcba9876543210fedcba9876543210\""), "%s", json);
	free(json);
	memset(&n, 0, sizeof(n));
	cr_assert_eq(ama_publish_assets(pub, "imaging", asset_line, &n), 0);
	cr_assert_str_eq(n.text, "1 -\n2 -\n3 -\n");
}

Test(publish, a_claim_whose_record_was_never_written_finds_its_asset)
{
	static const char a[] = "00112233445566778899aabbccddeeff";
	struct ama_class_info c = new_class("imaging");
	char key[160], *json;
	uint64_t seq;
	int created;

	new_asset("imaging");
	cr_assert_eq(ama_publish_asset_create(pub, "imaging", a, &seq,
					      &created), 0);
	cr_assert_eq(seq, 2);
	/* a server that died after the claim of seq 2, before its record */
	snprintf(key, sizeof(key), "%s/assets/by-claim/%s", c.top_hash, a);
	cr_assert_eq(ama_store_delete(remote, key), 0, "%s", ama_error_msg());
	cr_assert_eq(ama_publish_asset_create(pub, "imaging", a, &seq,
					      &created), 0);
	cr_assert_eq(seq, 2);
	cr_assert_eq(created, 0);
	json = get_all(remote, key);
	cr_assert_str_eq(json, "{\"seq\":2}\n", "the record is written again");
	free(json);
}

Test(publish, a_malformed_claim_is_refused)
{
	uint64_t seq = 7;

	new_class("imaging");
	cr_assert_eq(ama_publish_asset_create(pub, "imaging", "ABC", &seq,
					      NULL), AMA_EINVAL);
	cr_assert_eq(ama_publish_asset_create(pub, "imaging",
		"0123456789ABCDEF0123456789abcdef", &seq, NULL), AMA_EINVAL);
	cr_assert_eq(ama_publish_asset_create(pub, "imaging",
		"0123456789abcdef0123456789abcdef0", &seq, NULL), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "claim '0123456789abcdef0123456789abcdef0' is not 32 lower-case hex digits");
	cr_assert_eq(seq, 0);
	cr_assert_eq(new_asset("imaging"), 1, "nothing was claimed");
}

Test(publish, an_asset_without_versions_has_an_empty_log)
{
	struct vlist vl;

	new_class("imaging");
	new_asset("imaging");
	vl = versions("imaging", 1);
	cr_assert_eq(vl.n, 0);
	cr_assert_eq(ama_publish_versions(pub, "imaging", 2, 0, log_line,
					  &vl), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "no such asset: imaging/2");
}

/* ---- commits ---- */

Test(publish, staged_content_becomes_the_first_version)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	struct ama_buf text = AMA_BUF_INIT;
	struct ama_version v0 = { 0, 0, 0 };
	char v[AMA_VERSION_BUFSIZE], id[AMA_COMMIT_ID_HEXLEN + 1], *inremote,
		*key_m;
	struct vlist vl;
	uint64_t seq = new_asset("imaging");

	add(&l, "b/two", "second file");
	add(&l, "a", "first file");
	add(&l, "c", "first file");	/* the same content twice */
	cr_assert_eq(ama_objlist_sort(&l), 0);
	stage(&c, "first file");
	stage(&c, "second file");
	request(&rq, "imaging", seq, NULL, &l);
	commit_ok(&rq, &res, v);
	cr_assert_str_eq(v, "0.0.0");
	cr_assert_eq(res.created, 1);
	cr_assert_eq(res.nothing, 0);
	ama_manifest_commit_id(id, NULL, &l);
	cr_assert_str_eq(res.commit_id, id);
	cr_assert_str_eq(ama_buf_str(&res.problems), "");
	ama_commit_result_release(&res);

	/* content in remote, staging drained */
	cr_assert(published(&c, "first file"));
	cr_assert(published(&c, "second file"));
	cr_assert_not(staged(&c, "first file"));
	cr_assert_not(staged(&c, "second file"));
	cr_assert_eq(count("staging"), 0);
	cr_assert_eq(count("remote"), 5);	/* class, asset, 2, manifest */

	/* the manifest in remote is the version's, byte for byte */
	cr_assert_eq(ama_publish_manifest(pub, "imaging", seq, &v0, &text), 0);
	key_m = manifest_key(&c, seq, "0.0.0");
	inremote = get_all(remote, key_m);
	free(key_m);
	cr_assert_not_null(inremote);
	cr_assert_str_eq(inremote, text.s);
	{
		char want[1024], h1[33], h2[33];

		md5_hex(h1, "first file");
		md5_hex(h2, "second file");
		snprintf(want, sizeof(want),
			 "version 0.0.0\nparent\nclass imaging\nseq %llu\n"
			 "commit-id %s\nauthor alice\ntime 1718000000\n"
			 "message a message\n\n%s 10\ta\n%s 11\tb/two\n"
			 "%s 10\tc\n", (unsigned long long)seq, id, h1, h2,
			 h1);
		cr_assert_str_eq(inremote, want);
	}
	free(inremote);
	vl = versions("imaging", seq);
	cr_assert_str_eq(vl.text, "0.0.0<- alice 1718000000 a message>\n");
	ama_buf_release(&text);
	ama_objlist_release(&l);
}

Test(publish, a_repeated_request_returns_the_version_it_made)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l1 = AMA_OBJLIST_INIT, l2 = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	char v[AMA_VERSION_BUFSIZE], id[AMA_COMMIT_ID_HEXLEN + 1];
	uint64_t seq = new_asset("imaging");

	add(&l1, "a", "one");
	stage(&c, "one");
	request(&rq, "imaging", seq, NULL, &l1);
	commit_ok(&rq, &res, v);
	ama_commit_result_release(&res);
	add(&l2, "a", "one");
	add(&l2, "b", "two");
	stage(&c, "two");
	request(&rq, "imaging", seq, "0.0.0", &l2);
	commit_ok(&rq, &res, v);
	cr_assert_str_eq(v, "0.0.1");
	cr_assert_eq(res.created, 1);
	strcpy(id, res.commit_id);
	ama_commit_result_release(&res);

	/* the same request again, even with another time and message */
	rq.time = 1718009999;
	rq.message = "retried";
	commit_ok(&rq, &res, v);
	cr_assert_str_eq(v, "0.0.1");
	cr_assert_eq(res.created, 0);
	cr_assert_eq(res.nothing, 0);
	cr_assert_str_eq(res.commit_id, id);
	ama_commit_result_release(&res);
	cr_assert_eq(versions("imaging", seq).n, 2);

	/* the first request again: 0.0.0 */
	request(&rq, "imaging", seq, NULL, &l1);
	commit_ok(&rq, &res, v);
	cr_assert_str_eq(v, "0.0.0");
	cr_assert_eq(res.created, 0);
	ama_commit_result_release(&res);
	cr_assert_eq(versions("imaging", seq).n, 2);
	ama_objlist_release(&l1);
	ama_objlist_release(&l2);
}

Test(publish, a_manifest_equal_to_the_newest_makes_nothing)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	char v[AMA_VERSION_BUFSIZE];
	uint64_t seq = new_asset("imaging");

	add(&l, "a", "one");
	stage(&c, "one");
	request(&rq, "imaging", seq, NULL, &l);
	commit_ok(&rq, &res, v);
	ama_commit_result_release(&res);
	request(&rq, "imaging", seq, "0.0.0", &l);
	commit_ok(&rq, &res, v);
	cr_assert_str_eq(v, "0.0.0");
	cr_assert_eq(res.nothing, 1);
	cr_assert_eq(res.created, 0);
	ama_commit_result_release(&res);
	cr_assert_eq(versions("imaging", seq).n, 1);
	ama_objlist_release(&l);
}

Test(publish, a_revert_to_older_objects_is_a_new_version)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l1 = AMA_OBJLIST_INIT, l2 = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	char v[AMA_VERSION_BUFSIZE];
	uint64_t seq = new_asset("imaging");

	add(&l1, "a", "one");
	add(&l2, "a", "two");
	stage(&c, "one");
	stage(&c, "two");
	request(&rq, "imaging", seq, NULL, &l1);
	commit_ok(&rq, &res, v);
	ama_commit_result_release(&res);
	request(&rq, "imaging", seq, "0.0.0", &l2);
	commit_ok(&rq, &res, v);
	ama_commit_result_release(&res);
	/* back to l1, on top of 0.0.1: not the old 0.0.0 */
	request(&rq, "imaging", seq, "0.0.1", &l1);
	commit_ok(&rq, &res, v);
	cr_assert_str_eq(v, "0.0.2");
	cr_assert_eq(res.created, 1);
	ama_commit_result_release(&res);
	ama_objlist_release(&l1);
	ama_objlist_release(&l2);
}

/* A refused commit: its problems, and nothing published or deleted. */
static void refused(const struct ama_commit_request *rq, const char *want)
{
	struct ama_commit_result res;
	int rc = ama_publish_commit(pub, rq, &res);

	cr_assert_eq(rc, AMA_EREMOTE, "%d %s", rc, ama_error_msg());
	cr_assert_str_eq(ama_buf_str(&res.problems), want);
	ama_commit_result_release(&res);
}

Test(publish, missing_content_is_refused_and_named)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	uint64_t seq = new_asset("imaging");

	add(&l, "here", "staged bytes");
	add(&l, "gone", "never uploaded");
	add(&l, "gone too", "never uploaded");
	add(&l, "tab\there", "not uploaded either");
	add(&l, "-dash \"q\" back\\slash\nnew\377", "nor this");
	cr_assert_eq(ama_objlist_sort(&l), 0);
	stage(&c, "staged bytes");
	request(&rq, "imaging", seq, NULL, &l);
	refused(&rq, "missing\t\"-dash \\\"q\\\" back\\\\slash\\nnew\377\"\n"
		"missing\tgone\nmissing\tgone too\n"
		"missing\t\"tab\\there\"\n");
	cr_assert_str_eq(ama_error_msg(), "refused: 4 objects not verified");
	/* no version, the staged object kept for the next try */
	cr_assert_eq(versions("imaging", seq).n, 0);
	cr_assert(staged(&c, "staged bytes"));
	cr_assert_eq(count("remote"), 2);	/* the class, the asset */
	cr_assert_eq(count("staging"), 1);
	ama_objlist_release(&l);
}

/* Stage other bytes under the name of want. */
static void stage_as(const struct ama_class_info *c, const char *want,
		     const char *bytes)
{
	char hex[33], key[80];

	md5_hex(hex, want);
	snprintf(key, sizeof(key), "%s/%s", c->top_hash, hex);
	put_key(staging, key, bytes);
}

Test(publish, a_tampered_staged_object_is_refused_and_named)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	uint64_t seq = new_asset("imaging");

	add(&l, "fine", "good bytes");
	add(&l, "evil", "the real bytes");
	cr_assert_eq(ama_objlist_sort(&l), 0);
	stage(&c, "good bytes");
	stage_as(&c, "the real bytes", "THE REAL BYTES");	/* same size */
	request(&rq, "imaging", seq, NULL, &l);
	refused(&rq, "checksum\tevil\n");
	cr_assert_str_eq(ama_error_msg(), "refused: 1 object not verified");
	cr_assert_eq(versions("imaging", seq).n, 0);
	cr_assert_not(published(&c, "the real bytes"));
	cr_assert(staged(&c, "good bytes"));
	cr_assert(staged(&c, "the real bytes"));
	ama_objlist_release(&l);
}

Test(publish, a_staged_object_of_another_size_is_refused)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	uint64_t seq = new_asset("imaging");

	add(&l, "short", "twelve bytes");
	stage_as(&c, "twelve bytes", "eleven byte");
	request(&rq, "imaging", seq, NULL, &l);
	refused(&rq, "size\tshort\n");
	cr_assert_not(published(&c, "twelve bytes"));
	ama_objlist_release(&l);
}

Test(publish, content_already_in_remote_needs_no_staging)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l1 = AMA_OBJLIST_INIT, l2 = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	char v[AMA_VERSION_BUFSIZE], hex[33], key[128];
	uint64_t a = new_asset("imaging"), b = new_asset("imaging");

	/* asset a publishes "shared"; asset b uses it without staging */
	add(&l1, "x", "shared");
	stage(&c, "shared");
	request(&rq, "imaging", a, NULL, &l1);
	commit_ok(&rq, &res, v);
	ama_commit_result_release(&res);
	/* and content another server put in remote */
	md5_hex(hex, "put there");
	snprintf(key, sizeof(key), "%s/contents/%s", c.top_hash, hex);
	put_key(remote, key, "put there");
	add(&l2, "y", "shared");
	add(&l2, "z", "put there");
	request(&rq, "imaging", b, NULL, &l2);
	commit_ok(&rq, &res, v);
	cr_assert_str_eq(v, "0.0.0");
	cr_assert_eq(res.created, 1);
	ama_commit_result_release(&res);
	/* in remote with another size does not count */
	put_key(remote, key, "put there, longer");
	request(&rq, "imaging", b + 1, NULL, &l2);
	cr_assert_eq(new_asset("imaging"), b + 1);
	refused(&rq, "missing\tz\n");
	ama_objlist_release(&l1);
	ama_objlist_release(&l2);
}

/* Put bytes in remote under the key of the content want, as a planter would. */
static void plant_as(const struct ama_class_info *c, const char *want,
		     const char *bytes)
{
	char hex[33], key[128];

	md5_hex(hex, want);
	snprintf(key, sizeof(key), "%s/contents/%s", c->top_hash, hex);
	put_key(remote, key, bytes);
}

Test(publish, bytes_of_the_right_size_planted_in_remote_are_not_the_content)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	char v[AMA_VERSION_BUFSIZE], hex[33], key[128], *got;
	uint64_t seq = new_asset("imaging");

	/* a file:// remote keeps no ETag: what is there is read and hashed */
	add(&l, "p", "the real bytes");
	plant_as(&c, "the real bytes", "THE REAL BYTES");
	request(&rq, "imaging", seq, NULL, &l);
	refused(&rq, "missing\tp\n");
	cr_assert_eq(versions("imaging", seq).n, 0);
	/* staged, the verified copy replaces what was planted */
	stage(&c, "the real bytes");
	commit_ok(&rq, &res, v);
	cr_assert_str_eq(v, "0.0.0");
	ama_commit_result_release(&res);
	md5_hex(hex, "the real bytes");
	snprintf(key, sizeof(key), "%s/contents/%s", c.top_hash, hex);
	got = get_all(remote, key);
	cr_assert_str_eq(got, "the real bytes");
	free(got);
	cr_assert_not(staged(&c, "the real bytes"));
	ama_objlist_release(&l);
}

Test(publish, bad_requests_are_refused_before_anything)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;

	new_class("imaging");
	new_asset("imaging");
	add(&l, "b", "x");
	add(&l, "a", "y");	/* not sorted */
	request(&rq, "imaging", 1, NULL, &l);
	cr_assert_eq(ama_publish_commit(pub, &rq, &res), AMA_EINVAL);
	ama_commit_result_release(&res);
	cr_assert_eq(ama_objlist_sort(&l), 0);
	rq.author = "bad<author>";
	cr_assert_eq(ama_publish_commit(pub, &rq, &res), AMA_EINVAL);
	ama_commit_result_release(&res);
	rq.author = "alice";
	rq.seq = 2;
	cr_assert_eq(ama_publish_commit(pub, &rq, &res), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "no such asset: imaging/2");
	ama_commit_result_release(&res);
	rq.class = "other";
	cr_assert_eq(ama_publish_commit(pub, &rq, &res), AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "no such class: other");
	ama_commit_result_release(&res);
	ama_objlist_release(&l);
}

Test(publish, an_empty_object_list_is_refused)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;

	new_class("imaging");
	new_asset("imaging");
	request(&rq, "imaging", 1, NULL, &l);
	cr_assert_eq(ama_publish_commit(pub, &rq, &res), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "an empty object list: a version "
			 "holds at least one object");
	ama_commit_result_release(&res);
	cr_assert_eq(versions("imaging", 1).n, 0);
	cr_assert_eq(count("meta.git/objects/pack"), 0);
}

Test(publish, idle_handles_are_closed_by_trim)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	char v[AMA_VERSION_BUFSIZE];

	new_asset("imaging");
	stage(&c, "alpha");
	add(&l, "a", "alpha");
	request(&rq, "imaging", 1, NULL, &l);
	commit_ok(&rq, &res, v);
	ama_commit_result_release(&res);
	/* the commit's worker threads each left a set of handles */
	cr_assert_eq(ama_publish_trim(pub, 3600), 0);
	cr_assert_geq(ama_publish_trim(pub, 0), 1);
	cr_assert_eq(ama_publish_trim(pub, 0), 0);
	/* and the publisher opens new ones when it needs them */
	cr_assert_eq(versions("imaging", 1).n, 1);
	cr_assert_eq(ama_publish_trim(pub, 0), 1);
	ama_objlist_release(&l);
}

/* ---- concurrency ---- */

struct committer {
	pthread_barrier_t *go;
	const char *class;
	uint64_t seq;
	struct ama_objlist l;
	int rounds;
	int rc;
	char version[AMA_VERSION_BUFSIZE];
};

static void *commit_thread(void *arg)
{
	struct committer *t = arg;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	int i;

	pthread_barrier_wait(t->go);
	for (i = 0; i < t->rounds; i++) {
		/* every round changes one file of the thread's own */
		struct ama_objlist l = AMA_OBJLIST_INIT;
		size_t k;

		for (k = 0; k < t->l.n; k++)
			ama_objlist_add(&l, &t->l.v[k].md5, t->l.v[k].size,
					t->l.v[k].path, t->l.v[k].path_len);
		if (t->rounds > 1) {
			char bytes[64], path[32];

			snprintf(bytes, sizeof(bytes), "%s round %d",
				 t->l.v[0].path, i);
			snprintf(path, sizeof(path), "%s-r", t->l.v[0].path);
			add(&l, path, bytes);
		}
		request(&rq, t->class, t->seq, "0.0.0", &l);
		t->rc = ama_publish_commit(pub, &rq, &res);
		vstr(t->version, &res.version);
		ama_commit_result_release(&res);
		ama_objlist_release(&l);
		if (t->rc < 0)
			break;
	}
	return NULL;
}

static int parents_line(const struct ama_meta_version *v, void *ctx)
{
	struct names *n = ctx;
	size_t len = strlen(n->text);
	char a[AMA_VERSION_BUFSIZE], b[AMA_VERSION_BUFSIZE] = "-";

	vstr(a, &v->version);
	if (v->has_parent)
		vstr(b, &v->parent);
	snprintf(n->text + len, sizeof(n->text) - len, "%s<%s ", a, b);
	return 0;
}

Test(publish, eight_commits_to_one_asset_make_eight_versions_in_a_line)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l0 = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	struct committer t[8];
	pthread_barrier_t go;
	pthread_t tid[8];
	struct names n;
	char v[AMA_VERSION_BUFSIZE], seen[9] = "";
	uint64_t seq = new_asset("imaging");
	int i;

	add(&l0, "base", "base");
	stage(&c, "base");
	request(&rq, "imaging", seq, NULL, &l0);
	commit_ok(&rq, &res, v);
	ama_commit_result_release(&res);
	pthread_barrier_init(&go, NULL, 8);
	for (i = 0; i < 8; i++) {
		char path[16], bytes[32];

		memset(&t[i], 0, sizeof(t[i]));
		t[i].go = &go;
		t[i].class = "imaging";
		t[i].seq = seq;
		t[i].rounds = 1;
		snprintf(path, sizeof(path), "t%d", i);
		snprintf(bytes, sizeof(bytes), "thread %d", i);
		add(&t[i].l, "base", "base");
		add(&t[i].l, path, bytes);
		stage(&c, bytes);
		cr_assert_eq(pthread_create(&tid[i], NULL, commit_thread,
					    &t[i]), 0);
	}
	for (i = 0; i < 8; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&go);
	for (i = 0; i < 8; i++) {
		cr_assert_eq(t[i].rc, 0, "thread %d: %d", i, t[i].rc);
		cr_assert_eq(strncmp(t[i].version, "0.0.", 4), 0);
		seen[t[i].version[4] - '1'] = '+';
		ama_objlist_release(&t[i].l);
	}
	cr_assert_str_eq(seen, "++++++++");
	memset(&n, 0, sizeof(n));
	cr_assert_eq(ama_publish_versions(pub, "imaging", seq, 0,
					  parents_line, &n), 0);
	cr_assert_str_eq(n.text, "0.0.8<0.0.7 0.0.7<0.0.6 0.0.6<0.0.5 "
			 "0.0.5<0.0.4 0.0.4<0.0.3 0.0.3<0.0.2 0.0.2<0.0.1 "
			 "0.0.1<0.0.0 0.0.0<- ");
	/* every thread's file is in the version it was given */
	for (i = 0; i < 8; i++) {
		struct ama_version ver;
		struct ama_buf text = AMA_BUF_INIT;
		char line[64], hex[33], bytes[32];

		cr_assert_eq(ama_version_parse(&ver, t[i].version), 0);
		cr_assert_eq(ama_publish_manifest(pub, "imaging", seq, &ver,
						  &text), 0);
		snprintf(bytes, sizeof(bytes), "thread %d", i);
		md5_hex(hex, bytes);
		snprintf(line, sizeof(line), "\n%s 8\tt%d\n", hex, i);
		cr_assert_not_null(strstr(text.s, line), "%s", text.s);
		ama_buf_release(&text);
		cr_assert_not(staged(&c, bytes));
	}
	ama_objlist_release(&l0);
}

Test(publish, commits_to_two_assets_run_side_by_side)
{
	struct ama_class_info c = new_class("imaging");
	struct committer t[2];
	pthread_barrier_t go;
	pthread_t tid[2];
	int i, r;

	pthread_barrier_init(&go, NULL, 2);
	for (i = 0; i < 2; i++) {
		char path[32], bytes[32];
		struct ama_commit_request rq;
		struct ama_commit_result res;
		char v[AMA_VERSION_BUFSIZE];

		memset(&t[i], 0, sizeof(t[i]));
		t[i].go = &go;
		t[i].class = "imaging";
		t[i].seq = new_asset("imaging");
		t[i].rounds = 5;
		snprintf(path, sizeof(path), "asset%d", i);
		snprintf(bytes, sizeof(bytes), "asset %d", i);
		add(&t[i].l, path, bytes);
		stage(&c, bytes);
		request(&rq, "imaging", t[i].seq, NULL, &t[i].l);
		commit_ok(&rq, &res, v);
		ama_commit_result_release(&res);
		for (r = 0; r < 5; r++) {
			char rb[64];

			snprintf(rb, sizeof(rb), "%s round %d", path, r);
			stage(&c, rb);
		}
	}
	for (i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&tid[i], NULL, commit_thread,
					    &t[i]), 0);
	for (i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&go);
	for (i = 0; i < 2; i++) {
		struct names n;

		cr_assert_eq(t[i].rc, 0, "asset %d: %s", i, ama_error_msg());
		cr_assert_str_eq(t[i].version, "0.0.5");
		memset(&n, 0, sizeof(n));
		cr_assert_eq(ama_publish_versions(pub, "imaging", t[i].seq, 0,
						  parents_line, &n), 0);
		cr_assert_str_eq(n.text, "0.0.5<0.0.4 0.0.4<0.0.3 "
				 "0.0.3<0.0.2 0.0.2<0.0.1 0.0.1<0.0.0 "
				 "0.0.0<- ");
		ama_objlist_release(&t[i].l);
	}
	cr_assert_eq(count("staging"), 0);
}

/* ---- crashes: the state a crash leaves, then the retry ---- */

Test(publish, a_manifest_left_by_a_crash_is_finished_once)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	struct ama_manifest m;
	struct ama_buf text = AMA_BUF_INIT, back = AMA_BUF_INIT;
	struct ama_version v0 = { 0, 0, 0 };
	char v[AMA_VERSION_BUFSIZE], hex[33], key[128], *key_m;
	struct vlist vl;
	uint64_t seq = new_asset("imaging");

	/*
	 * The crashed attempt copied the content and took the manifest
	 * key (steps 4, 5), with its own time and message; the content is
	 * still staged and the repository knows nothing.
	 */
	add(&l, "a", "content");
	stage(&c, "content");
	md5_hex(hex, "content");
	snprintf(key, sizeof(key), "%s/contents/%s", c.top_hash, hex);
	put_key(remote, key, "content");
	ama_manifest_init(&m);
	m.class = ama_strdup("imaging");
	m.seq = seq;
	m.author = ama_strdup("alice");
	m.time = 1700000000;
	m.message = ama_strdup("the first attempt");
	m.objects = l;
	ama_manifest_format(&text, &m);
	memset(&m.objects, 0, sizeof(m.objects));
	ama_manifest_release(&m);
	key_m = manifest_key(&c, seq, "0.0.0");
	put_key(remote, key_m, text.s);

	request(&rq, "imaging", seq, NULL, &l);
	commit_ok(&rq, &res, v);
	cr_assert_str_eq(v, "0.0.0");
	cr_assert_eq(res.created, 1);
	ama_commit_result_release(&res);
	/* one version, as the manifest in remote says, staging drained */
	vl = versions("imaging", seq);
	cr_assert_str_eq(vl.text,
			 "0.0.0<- alice 1700000000 the first attempt>\n");
	cr_assert_eq(ama_publish_manifest(pub, "imaging", seq, &v0, &back), 0);
	cr_assert_str_eq(back.s, text.s);
	cr_assert_not(staged(&c, "content"));
	free(key_m);
	ama_buf_release(&text);
	ama_buf_release(&back);
	ama_objlist_release(&l);
}

Test(publish, a_version_in_remote_the_repository_lacks_is_added_first)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist theirs = AMA_OBJLIST_INIT, ours = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	struct ama_manifest m;
	struct ama_buf text = AMA_BUF_INIT;
	char v[AMA_VERSION_BUFSIZE], hex[33], key[128], *key_m;
	struct vlist vl;
	uint64_t seq = new_asset("imaging");

	/* another server published 0.0.0 in the shared bucket */
	add(&theirs, "t", "theirs");
	md5_hex(hex, "theirs");
	snprintf(key, sizeof(key), "%s/contents/%s", c.top_hash, hex);
	put_key(remote, key, "theirs");
	ama_manifest_init(&m);
	m.class = ama_strdup("imaging");
	m.seq = seq;
	m.author = ama_strdup("bob");
	m.time = 1700000000;
	m.message = ama_strdup("elsewhere");
	m.objects = theirs;
	ama_manifest_format(&text, &m);
	memset(&m.objects, 0, sizeof(m.objects));
	ama_manifest_release(&m);
	key_m = manifest_key(&c, seq, "0.0.0");
	put_key(remote, key_m, text.s);

	add(&ours, "o", "ours");
	stage(&c, "ours");
	request(&rq, "imaging", seq, NULL, &ours);
	commit_ok(&rq, &res, v);
	cr_assert_str_eq(v, "0.0.1");
	cr_assert_eq(res.created, 1);
	ama_commit_result_release(&res);
	vl = versions("imaging", seq);
	cr_assert_str_eq(vl.text,
			 "0.0.1<0.0.0 alice 1718000000 a message>\n"
			 "0.0.0<- bob 1700000000 elsewhere>\n");
	free(key_m);
	ama_buf_release(&text);
	ama_objlist_release(&theirs);
	ama_objlist_release(&ours);
}

Test(publish, staged_objects_left_after_the_ref_moved_go_on_retry)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	char v[AMA_VERSION_BUFSIZE];
	uint64_t seq = new_asset("imaging");

	add(&l, "a", "one");
	add(&l, "b", "two");
	stage(&c, "one");
	stage(&c, "two");
	request(&rq, "imaging", seq, NULL, &l);
	commit_ok(&rq, &res, v);
	ama_commit_result_release(&res);
	/* a crash before step 7 would have left them */
	stage(&c, "one");
	stage(&c, "two");
	commit_ok(&rq, &res, v);
	cr_assert_str_eq(v, "0.0.0");
	cr_assert_eq(res.created, 0);
	ama_commit_result_release(&res);
	cr_assert_not(staged(&c, "one"));
	cr_assert_not(staged(&c, "two"));
	cr_assert_eq(versions("imaging", seq).n, 1);
	ama_objlist_release(&l);
}

Test(publish, a_manifest_of_another_lineage_is_a_conflict)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	char *key_m;
	uint64_t seq = new_asset("imaging");

	/* garbage where 0.0.0 goes: not a manifest */
	key_m = manifest_key(&c, seq, "0.0.0");
	put_key(remote, key_m, "not a manifest\n");
	add(&l, "a", "one");
	stage(&c, "one");
	request(&rq, "imaging", seq, NULL, &l);
	cr_assert_eq(ama_publish_commit(pub, &rq, &res), AMA_ECORRUPT);
	ama_commit_result_release(&res);
	cr_assert_eq(versions("imaging", seq).n, 0);
	cr_assert(staged(&c, "one"));
	free(key_m);
	ama_objlist_release(&l);
}

Test(publish, a_name_git_refuses_leaves_no_manifest_behind)
{
	struct ama_class_info c = new_class("imaging");
	struct ama_objlist bad = AMA_OBJLIST_INIT, good = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	struct ama_manifest m;
	struct ama_buf text = AMA_BUF_INIT;
	char v[AMA_VERSION_BUFSIZE], *key_m;
	uint64_t seq = new_asset("imaging");

	add(&bad, "a", "one");
	add(&bad, "x/GIT~1/y", "one");
	stage(&c, "one");
	request(&rq, "imaging", seq, NULL, &bad);
	cr_assert_eq(ama_publish_commit(pub, &rq, &res), AMA_EINVAL);
	cr_assert_str_eq(ama_error_path(), "x/GIT~1/y");
	ama_commit_result_release(&res);
	key_m = manifest_key(&c, seq, "0.0.0");
	cr_assert_null(get_all(remote, key_m));
	cr_assert_eq(versions("imaging", seq).n, 0);

	/* the asset goes on */
	add(&good, "a", "one");
	request(&rq, "imaging", seq, NULL, &good);
	commit_ok(&rq, &res, v);
	cr_assert_str_eq(v, "0.0.0");
	ama_commit_result_release(&res);

	/* such a version in remote (a crash before it was taken back) */
	ama_manifest_init(&m);
	cr_assert_eq(ama_version_parse(&m.version, "0.0.1"), 0);
	m.has_parent = 1;
	m.class = ama_strdup("imaging");
	m.seq = seq;
	m.author = ama_strdup("alice");
	m.time = 1718000000;
	m.message = ama_strdup("");
	m.objects = bad;
	ama_manifest_format(&text, &m);
	memset(&m.objects, 0, sizeof(m.objects));
	ama_manifest_release(&m);
	free(key_m);
	key_m = manifest_key(&c, seq, "0.0.1");
	put_key(remote, key_m, text.s);
	add(&good, "b", "one");
	request(&rq, "imaging", seq, "0.0.0", &good);
	cr_assert_eq(ama_publish_commit(pub, &rq, &res), AMA_ECORRUPT);
	{
		char want[256];

		snprintf(want, sizeof(want), "file://%s/remote/%s", tmp, key_m);
		cr_assert_str_eq(ama_error_path(), want);
		const char *w = "a version the repository cannot hold: "
			"x/GIT~1/y: git cannot store this name: ";

		cr_assert_eq(strncmp(ama_error_msg(), w, strlen(w)), 0, "%s",
			     ama_error_msg());
	}
	cr_assert_eq(versions("imaging", seq).n, 1);
	ama_commit_result_release(&res);
	free(key_m);
	ama_buf_release(&text);
	ama_objlist_release(&bad);
	ama_objlist_release(&good);
}
