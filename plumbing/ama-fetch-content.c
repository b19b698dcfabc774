/* ama-fetch-content: make sure the content of each record is in the local cache, downloading what is missing. */
#include "auto-config.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "assetenv.h"
#include "cache.h"
#include "error.h"
#include "fetch.h"
#include "manifest.h"
#include "prog.h"
#include "progress.h"
#include "remote.h"

static const char usage_str[] =
	"ama-fetch-content [-z] [-q | --quiet] [-j <n>] [--missing] "
	"[--class=<class>]";

struct fc {
	struct ama_common c;
	const char *class;
	int jobs, missing, failed;
	struct ama_objlist in;		/* the records, in input order */
	struct ama_fetch_item *items;	/* one per content */
	size_t n;
	size_t *first;			/* each content's records: */
	size_t *order;			/* in.v[order[first[k]...]] */
	size_t *item_of;		/* in.v[i]'s content: items[item_of[i]] */
	struct ama_progress prog;
	uint64_t done_bytes;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static int read_one(struct ama_common *c, const struct ama_record *rec,
		    void *ctx)
{
	(void)c;
	return ama_objlist_add_record(&((struct fc *)ctx)->in, rec);
}

static int by_md5(const void *a, const void *b, void *arg)
{
	const struct ama_object *v = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int d = memcmp(v[i].md5.d, v[j].md5.d, sizeof(v[i].md5.d));

	return d ? d : (i > j) - (i < j);
}

/* One item per MD5; a record whose size differs from the first's fails. */
static void gather(struct fc *f)
{
	size_t i;

	f->order = ama_malloc((f->in.n + 1) * sizeof(*f->order));
	f->item_of = ama_malloc((f->in.n + 1) * sizeof(*f->item_of));
	f->first = ama_malloc((f->in.n + 1) * sizeof(*f->first));
	f->items = ama_calloc(f->in.n + 1, sizeof(*f->items));
	for (i = 0; i < f->in.n; i++)
		f->order[i] = i;
	qsort_r(f->order, f->in.n, sizeof(*f->order), by_md5, f->in.v);
	for (i = 0; i < f->in.n; i++) {
		const struct ama_object *o = &f->in.v[f->order[i]];
		struct ama_fetch_item *last = f->n ? &f->items[f->n - 1] : NULL;

		if (last && ama_md5_equal(&last->md5, &o->md5)) {
			f->item_of[f->order[i]] = f->n - 1;
			if (o->size != last->size) {
				ama_msg_path(o->path, "another record has this"
					     " MD5 with %" PRIu64 " bytes",
					     last->size);
				f->failed = 1;
			}
			continue;
		}
		f->item_of[f->order[i]] = f->n;
		f->first[f->n] = i;
		f->items[f->n].md5 = o->md5;
		f->items[f->n].size = o->size;
		f->items[f->n].udata = (void *)(uintptr_t)f->n;
		f->n++;
	}
	f->first[f->n] = f->in.n;
}

/* Each record of content k (with its size) as "PREFIX<md5> <size>". */
static void each_record(struct fc *f, size_t k, const char *prefix,
			const char *why)
{
	struct ama_buf b = AMA_BUF_INIT;
	size_t i;

	for (i = f->first[k]; i < f->first[k + 1]; i++) {
		const struct ama_object *o = &f->in.v[f->order[i]];

		if (o->size != f->items[k].size)
			continue;
		if (why) {
			ama_msg_path(o->path, "%s", why);
			continue;
		}
		ama_buf_reset(&b);
		ama_buf_addstr(&b, prefix);
		ama_object_format(&b, o);
		ama_record_write(&f->c.out, b.s, o->path, o->path_len);
	}
	ama_buf_release(&b);
}

static void done(void *ctx, const struct ama_fetch_result *r)
{
	struct fc *f = ctx;
	size_t k = (size_t)(uintptr_t)r->item->udata;

	if (r->rc < 0) {
		f->failed = 1;
		each_record(f, k, NULL, r->why);
	} else {
		each_record(f, k, "cached ", NULL);
	}
	f->done_bytes += r->item->size;
	ama_progress_add(&f->prog, 1, 0);
	/* a content's records stream as soon as it is cached */
	ama_writer_flush(&f->c.out);
}

static void progress(void *ctx, uint64_t bytes)
{
	struct fc *f = ctx;

	ama_progress_set(&f->prog, f->prog.files, bytes);
}

/* The records whose content the cache lacks, in input order. */
static int list_missing(struct fc *f, struct ama_cache *cache)
{
	struct ama_buf b = AMA_BUF_INIT;
	unsigned char *have = ama_calloc(f->n + 1, 1);
	size_t i, k;

	for (k = 0; k < f->n; k++)
		have[k] = (unsigned char)ama_cache_has(cache, &f->items[k].md5,
						       f->items[k].size);
	for (i = 0; i < f->in.n; i++) {
		const struct ama_object *o = &f->in.v[i];

		k = f->item_of[i];
		if (o->size != f->items[k].size || have[k])
			continue;
		ama_buf_reset(&b);
		ama_object_format_fields(&b, &o->md5, o->size);
		ama_record_write(&f->c.out, b.s, o->path, o->path_len);
	}
	free(have);
	ama_buf_release(&b);
	return 0;
}

static int fetch(struct fc *f, struct ama_cache *cache)
{
	struct ama_asset_env env;
	struct ama_fetch_opts o;
	struct ama_remote r;
	struct sigaction sa;
	uint64_t bytes = 0;
	size_t k;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = ama_asset_env_open(&env, AMA_ASSET_OPTIONAL);
	if (rc == 0 && !f->class && !env.class)
		rc = ama_error_set(AMA_ESETUP, "outside an asset: --class "
				   "CLASS names whose contents these are");
	if (rc == 0)
		rc = ama_remote_open(&r, env.cfg, f->class ? f->class :
				     env.class);
	if (rc < 0)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (k = 0; k < f->n; k++)
		bytes += f->items[k].size;
	ama_progress_init(&f->prog, "fetching", f->c.progress);
	ama_progress_total(&f->prog, f->n, bytes);
	memset(&o, 0, sizeof(o));
	o.remote_url = r.url;
	o.cfg = env.cfg;
	o.top_hash = r.cls.top_hash;
	o.cache = cache;
	o.jobs = f->jobs > 0 ? f->jobs : 0;
	if (!o.jobs) {
		long j = 0;

		if (ama_config_get_int(env.cfg, "transfer", "jobs", &j) == 0 &&
		    j > 0 && j <= 1024)
			o.jobs = (int)j;
	}
	o.done = done;
	o.progress = progress;
	o.ctx = f;
	o.stop = &stop;
	rc = ama_fetch_run(f->items, f->n, &o);
	ama_progress_done(&f->prog);
out:
	ama_remote_close(&r);
	ama_asset_env_close(&env);
	return rc;
}

int main(int argc, char **argv)
{
	struct fc f;
	struct ama_option opts[] = {
		AMA_OPT_JOBS('j', "jobs", &f.jobs),
		AMA_OPT_FLAG(0, "missing", &f.missing),
		AMA_OPT_STRING(0, "class", &f.class),
		AMA_OPT_END,
	};
	struct ama_cache *cache = NULL;
	int status;

	memset(&f, 0, sizeof(f));
	f.jobs = -1;
	ama_setprogname("ama-fetch-content");
	if (ama_parse_options(&argc, &argv, opts,
			      AMA_COMMON_Z | AMA_COMMON_QUIET, &f.c,
			      usage_str) < 0)
		return 2;
	if (argc)
		return ama_usage_error(&f.c, "records come on stdin, not as "
				       "operands");
	if (f.class && ama_manifest_check_class(f.class) < 0)
		return ama_usage_error(&f.c, "--class: %s", ama_error_msg());
	status = ama_run_records(&f.c, 0, NULL, AMA_INPUT_RECORDS, read_one,
				 &f);
	if (status < 2) {
		int rc = ama_cache_open(&cache, NULL);

		gather(&f);
		if (rc == 0)
			rc = f.missing ? list_missing(&f, cache) :
				fetch(&f, cache);
		if (rc < 0)
			status = 2, ama_report(NULL);
		else if (f.failed)
			status = 1;
	}
	status = ama_finish(&f.c, status);
	ama_cache_close(cache);
	ama_objlist_release(&f.in);
	free(f.items);
	free(f.first);
	free(f.order);
	free(f.item_of);
	if (stop) {
		signal(stop, SIG_DFL);
		raise(stop);
	}
	return status;
}
