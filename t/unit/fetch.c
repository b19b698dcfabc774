/* t/unit/fetch.c: contents downloaded from a file:// remote into the cache, verified as they stream, resumed, stopped. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "error.h"
#include "fetch.h"
#include "layout.h"
#include "readfix.h"
#include "store.h"

TestSuite(fetch, .init = fx_setup, .fini = fx_teardown, .timeout = 30);

static struct fx_pub pub;
static struct ama_store *remote;
static struct ama_cache *cache;
static char *url;

/* "alpha", "beta" and "gamma" published; the store and a cache. */
static void published(void)
{
	char dir[128];

	fx_pub_open(&pub, "runs");
	fx_file(&pub, "a", "alpha");
	fx_file(&pub, "b", "beta");
	fx_file(&pub, "g", "gamma");
	fx_commit(&pub, "first");
	url = fx_remote_url();
	cr_assert_eq(ama_store_open(&remote, url, NULL, "remote"), 0);
	snprintf(dir, sizeof(dir), "%s/c", fx_dir);
	cr_assert_eq(ama_cache_open(&cache, dir), 0);
}

static void done(void)
{
	ama_cache_close(cache);
	ama_store_close(remote);
	free(url);
	fx_pub_close(&pub);
}

/* The remote's copy of the content bytes, replaced by other bytes. */
static void tamper(const char *bytes, const char *with)
{
	struct ama_buf key = AMA_BUF_INIT;
	struct ama_md5 m = fx_md5(bytes);
	char *path;

	ama_layout_content(&key, pub.k.info.top_hash, &m);
	path = fx_remote_file(key.s);
	cr_assert(fx_exists(path), "%s", path);
	fx_write(path, with);
	free(path);
	ama_buf_release(&key);
}

static int fetch(const char *bytes, uint64_t size, int *fetched,
		 atomic_uint_fast64_t *count)
{
	struct ama_md5 m = fx_md5(bytes);

	return ama_fetch_content(remote, cache, pub.k.info.top_hash, &m, size,
				 NULL, count, fetched);
}

static char *partials(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ls '%s/partial' | tr '\\n' ' '",
		 ama_cache_dir(cache));
	return fx_sh(cmd);
}

static void no_partials(void)
{
	char *p = partials();

	cr_assert_str_eq(p, "");
	free(p);
}

static int cached(const char *bytes)
{
	struct ama_md5 m = fx_md5(bytes);

	return ama_cache_has(cache, &m, strlen(bytes));
}

/* ---- one content ---- */

Test(fetch, a_content_is_fetched_into_the_cache)
{
	atomic_uint_fast64_t count = 0;
	int fetched = -1;

	published();
	cr_assert_eq(fetch("alpha", 5, &fetched, &count), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(fetched, 1);
	cr_assert_eq(count, 5);
	cr_assert(cached("alpha"));
	no_partials();
	done();
}

Test(fetch, a_content_cached_already_is_not_fetched_again)
{
	atomic_uint_fast64_t count = 0;
	int fetched = -1;

	published();
	cr_assert_eq(fetch("alpha", 5, &fetched, NULL), 0);
	/* the remote's bytes are not read: changing them changes nothing */
	tamper("alpha", "ALPHA");
	cr_assert_eq(fetch("alpha", 5, &fetched, &count), 0);
	cr_assert_eq(fetched, 0);
	cr_assert_eq(count, 0);
	done();
}

Test(fetch, corrupt_remote_bytes_are_refused_and_nothing_is_cached)
{
	char why[128], h1[33], h2[33];
	int fetched = -1;

	published();
	tamper("alpha", "ALPHA");
	cr_assert_eq(fetch("alpha", 5, &fetched, NULL), AMA_EDIGEST);
	snprintf(why, sizeof(why), "has MD5 %s, not %s", fx_hex(h1, "ALPHA"),
		 fx_hex(h2, "alpha"));
	cr_assert_str_eq(ama_error_msg(), why);
	cr_assert_eq(cached("alpha"), 0);
	no_partials();
	done();
}

Test(fetch, a_remote_object_of_another_size_is_refused)
{
	int fetched;

	published();
	tamper("alpha", "alphabet");
	cr_assert_eq(fetch("alpha", 5, &fetched, NULL), AMA_EDIGEST);
	cr_assert_str_eq(ama_error_msg(), "longer than its 5 bytes");
	cr_assert_eq(cached("alpha"), 0);
	no_partials();
	tamper("beta", "bet");
	cr_assert_eq(fetch("beta", 4, &fetched, NULL), AMA_EDIGEST);
	cr_assert_str_eq(ama_error_msg(), "is 3 bytes, not 4");
	cr_assert_eq(cached("beta"), 0);
	no_partials();
	done();
}

Test(fetch, a_content_missing_from_remote_is_not_found)
{
	int fetched = -1;

	published();
	cr_assert_eq(fetch("never published", 15, &fetched, NULL),
		     AMA_ENOTFOUND);
	cr_assert_eq(fetched, 0);
	cr_assert_eq(cached("never published"), 0);
	done();
}

Test(fetch, a_fill_cut_short_is_resumed_from_its_bytes)
{
	struct ama_md5 m = fx_md5("gamma");
	struct ama_cache_fill *f;
	atomic_uint_fast64_t count = 0;
	uint64_t have;
	int fetched;

	published();
	cr_assert_eq(ama_cache_fill_begin(cache, &m, 5, &f, &have), 0);
	cr_assert_eq(ama_cache_fill_write(f, "gam", 3), 0);
	ama_cache_fill_abort(f, 0);
	cr_assert_eq(fetch("gamma", 5, &fetched, &count), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(fetched, 1);
	cr_assert_eq(count, 2, "%llu bytes came", (unsigned long long)count);
	cr_assert(cached("gamma"));
	no_partials();
	done();
}

Test(fetch, a_fill_with_every_byte_needs_no_request)
{
	struct ama_md5 m = fx_md5("gamma");
	struct ama_cache_fill *f;
	atomic_uint_fast64_t count = 0;
	uint64_t have;
	int fetched;

	published();
	cr_assert_eq(ama_cache_fill_begin(cache, &m, 5, &f, &have), 0);
	cr_assert_eq(ama_cache_fill_write(f, "gamma", 5), 0);
	ama_cache_fill_abort(f, 0);
	tamper("gamma", "GAMMA");	/* not read */
	cr_assert_eq(fetch("gamma", 5, &fetched, &count), 0);
	cr_assert_eq(fetched, 1);
	cr_assert_eq(count, 0);
	cr_assert(cached("gamma"));
	done();
}

Test(fetch, a_resume_past_the_remote_end_is_a_digest_error)
{
	struct ama_md5 m = fx_md5("gamma");
	struct ama_cache_fill *f;
	uint64_t have;
	int fetched;

	published();
	cr_assert_eq(ama_cache_fill_begin(cache, &m, 5, &f, &have), 0);
	cr_assert_eq(ama_cache_fill_write(f, "gamm", 4), 0);
	ama_cache_fill_abort(f, 0);
	tamper("gamma", "gam");
	cr_assert_eq(fetch("gamma", 5, &fetched, NULL), AMA_EDIGEST);
	cr_assert_eq(cached("gamma"), 0);
	no_partials();
	done();
}

Test(fetch, a_stop_cuts_the_transfer_and_keeps_nothing_wrong)
{
	struct ama_md5 m = fx_md5("alpha");
	volatile sig_atomic_t stop = 1;
	int fetched = -1;

	published();
	cr_assert_eq(ama_fetch_content(remote, cache, pub.k.info.top_hash, &m,
				       5, &stop, NULL, &fetched), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(), "interrupted");
	cr_assert_eq(fetched, 0);
	cr_assert_eq(cached("alpha"), 0);
	/* the next fetch finishes the job */
	cr_assert_eq(fetch("alpha", 5, &fetched, NULL), 0);
	cr_assert_eq(fetched, 1);
	done();
}

/* ---- many at once ---- */

struct outcome {
	struct ama_buf log;		/* "bytes rc fetched why" lines */
	int calls;
	volatile sig_atomic_t *stop_after_first;
	uint64_t last_progress;
};

static void told(void *ctx, const struct ama_fetch_result *r)
{
	struct outcome *o = ctx;

	o->calls++;
	/* (fetched says something only of a content that is there) */
	ama_buf_addf(&o->log, "%s %d %d %s\n", (const char *)r->item->udata,
		     r->rc, r->rc == 0 ? r->fetched : 0,
		     r->why ? r->why : "-");
	if (o->stop_after_first)
		*o->stop_after_first = 1;
}

static void progress(void *ctx, uint64_t bytes)
{
	struct outcome *o = ctx;

	cr_assert_geq(bytes, o->last_progress);
	o->last_progress = bytes;
}

static struct ama_fetch_item item(const char *bytes)
{
	struct ama_fetch_item it;

	it.md5 = fx_md5(bytes);
	it.size = strlen(bytes);
	it.udata = (void *)bytes;
	return it;
}

/* The lines of the log, sorted. */
static char *sorted(struct outcome *o)
{
	char cmd[64], *text;

	fx_write("log", o->log.s ? o->log.s : "");
	snprintf(cmd, sizeof(cmd), "sort log");
	text = fx_sh(cmd);
	return text;
}

static void opts(struct ama_fetch_opts *fo, struct outcome *o, int jobs)
{
	memset(fo, 0, sizeof(*fo));
	memset(o, 0, sizeof(*o));
	fo->remote_url = url;
	fo->top_hash = pub.k.info.top_hash;
	fo->cache = cache;
	fo->jobs = jobs;
	fo->done = told;
	fo->progress = progress;
	fo->ctx = o;
}

Test(fetch, a_run_answers_each_item_once)
{
	struct ama_fetch_item items[4];
	struct ama_fetch_opts fo;
	struct outcome o;
	char *log, why[128], h1[33], h2[33], want[512];

	published();
	cr_assert_eq(fetch("gamma", 5, &o.calls, NULL), 0);
	tamper("beta", "BETA");
	items[0] = item("alpha");
	items[1] = item("beta");
	items[2] = item("gamma");
	items[3] = item("delta");		/* never published */
	opts(&fo, &o, 3);
	cr_assert_eq(ama_fetch_run(items, 4, &fo), 0, "%s", ama_error_msg());
	cr_assert_eq(o.calls, 4);
	log = sorted(&o);
	snprintf(why, sizeof(why), "has MD5 %s, not %s", fx_hex(h1, "BETA"),
		 fx_hex(h2, "beta"));
	snprintf(want, sizeof(want), "alpha 0 1 -\nbeta %d 0 %s\ndelta %d 0 ",
		 AMA_EDIGEST, why, AMA_ENOTFOUND);
	cr_assert_eq(strncmp(log, want, strlen(want)), 0, "%s", log);
	cr_assert(strstr(log, "\ngamma 0 0 -") != NULL, "%s", log);
	/* requests made for the three not cached; bytes that came */
	cr_assert_eq(fo.requests, 3);
	cr_assert_eq(fo.bytes, 5 + 4);
	cr_assert_eq(o.last_progress, 9);
	cr_assert(cached("alpha") && !cached("beta") && cached("gamma"));
	free(log);
	ama_buf_release(&o.log);
	done();
}

Test(fetch, a_run_of_nothing_does_nothing)
{
	struct ama_fetch_opts fo;
	struct outcome o;

	published();
	opts(&fo, &o, 0);
	cr_assert_eq(ama_fetch_run(NULL, 0, &fo), 0);
	cr_assert_eq(o.calls, 0);
	done();
}

Test(fetch, a_stop_before_the_run_answers_nothing)
{
	struct ama_fetch_item items[2];
	struct ama_fetch_opts fo;
	struct outcome o;
	volatile sig_atomic_t stop = 1;

	published();
	items[0] = item("alpha");
	items[1] = item("beta");
	opts(&fo, &o, 2);
	fo.stop = &stop;
	cr_assert_eq(ama_fetch_run(items, 2, &fo), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(), "interrupted");
	cr_assert_eq(o.calls, 0);
	cr_assert_eq(cached("alpha") + cached("beta"), 0);
	done();
}

/*
 * A remote object of size bytes at the key of content md5 (which its
 * bytes are not: this one is only ever cut short), made in no time.
 */
static void sparse(const struct ama_md5 *md5, uint64_t size)
{
	struct ama_buf key = AMA_BUF_INIT;
	char *path;
	FILE *f;

	ama_layout_content(&key, pub.k.info.top_hash, md5);
	path = fx_remote_file(key.s);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(ftruncate(fileno(f), (off_t)size), 0);
	fclose(f);
	free(path);
	ama_buf_release(&key);
}

Test(fetch, a_stop_during_the_run_cuts_it_and_starts_nothing_more)
{
	struct ama_fetch_item items[3];
	struct ama_fetch_opts fo;
	struct outcome o;
	volatile sig_atomic_t stop = 0;
	char *p, name[64], hex[33];
	struct stat st;

	published();
	items[0] = item("alpha");
	/* two of 1 GiB: the stop comes long before the first is read */
	items[1] = item("big one");
	items[1].size = 1ull << 30;
	items[2] = item("big two");
	items[2].size = 1ull << 30;
	sparse(&items[1].md5, items[1].size);
	sparse(&items[2].md5, items[2].size);
	opts(&fo, &o, 1);
	fo.stop = &stop;
	o.stop_after_first = &stop;
	cr_assert_eq(ama_fetch_run(items, 3, &fo), AMA_EIO);
	cr_assert_str_eq(ama_error_msg(), "interrupted");
	cr_assert_eq(o.calls, 1);
	cr_assert_str_eq(o.log.s, "alpha 0 1 -\n");
	cr_assert(cached("alpha"));
	/*
	 * The first big one never began (the stop came first) or was cut
	 * short and kept for a resume; the last never began.
	 */
	ama_md5_to_hex(hex, &items[1].md5);
	snprintf(name, sizeof(name), "%s-1073741824 ", hex);
	p = partials();
	cr_assert(!strcmp(p, "") || !strcmp(p, name), "%s", p);
	if (*p) {
		snprintf(name, sizeof(name), "c/partial/%s-1073741824", hex);
		cr_assert_eq(stat(name, &st), 0);
		cr_assert_lt((uint64_t)st.st_size, 1ull << 30);
	}
	free(p);
	ama_buf_release(&o.log);
	done();
}

Test(fetch, a_remote_that_cannot_be_opened_stops_the_run)
{
	struct ama_fetch_item items[2];
	struct ama_fetch_opts fo;
	struct outcome o;

	published();
	items[0] = item("alpha");
	items[1] = item("beta");
	opts(&fo, &o, 2);
	fo.remote_url = "file://relative/remote";
	cr_assert_eq(ama_fetch_run(items, 2, &fo), AMA_ESETUP);
	cr_assert_eq(o.calls, 0);
	done();
}

Test(fetch, many_contents_with_few_workers)
{
	struct ama_fetch_item items[40];
	struct ama_fetch_opts fo;
	struct outcome o;
	char bytes[40][16];
	const char *p;
	size_t i;

	published();
	for (i = 0; i < 40; i++) {
		snprintf(bytes[i], sizeof(bytes[i]), "content %zu", i);
		fx_file(&pub, bytes[i], bytes[i]);
	}
	fx_commit(&pub, "many");
	for (i = 0; i < 40; i++)
		items[i] = item(bytes[i]);
	opts(&fo, &o, 3);
	cr_assert_eq(ama_fetch_run(items, 40, &fo), 0);
	cr_assert_eq(o.calls, 40);
	cr_assert_eq(fo.requests, 40);
	for (i = 0; i < 40; i++)
		cr_assert(cached(bytes[i]), "%s", bytes[i]);
	/* every one fetched now, none failed */
	for (i = 0, p = o.log.s; (p = strstr(p, " 0 1 -\n")); p++)
		i++;
	cr_assert_eq(i, 40, "%s", o.log.s);
	ama_buf_release(&o.log);
	done();
}
