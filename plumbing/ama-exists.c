/* ama-exists: tell for each record whether its content is in remote, in staging, or missing. */
#include "auto-config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assetenv.h"
#include "buf.h"
#include "config.h"
#include "error.h"
#include "exists.h"
#include "manifest.h"
#include "prog.h"
#include "settings.h"
#include "store.h"

static const char usage_str[] =
	"ama-exists [-z] [-j <n>] [--missing] [--stats] [--remote=<url>] "
	"[--staging=<url>] [--top-hash=<hash>]";

struct ex {
	struct ama_common c;
	const char *remote_url, *staging_url, *top_hash;
	int jobs, missing, stats;
	struct ama_config *cfg;
	char *root;			/* the asset's folder */
	struct ama_store *remote, *staging;
	struct ama_objlist in;		/* the records, in input order */
	struct ama_buf fields;		/* their fields, NUL after each */
	size_t *field_at;		/* where each record's fields start */
	size_t field_alloc;
	size_t *content_of;		/* each record's content */
	struct ama_exists_content *v;	/* sorted by MD5 */
	size_t n;
	struct ama_exists_opts opts;
};

static int read_one(struct ama_common *c, const struct ama_record *rec,
		    void *ctx)
{
	struct ex *x = ctx;
	int rc = ama_objlist_add_record(&x->in, rec), i;

	(void)c;
	if (rc < 0)
		return rc;
	if (x->in.n > x->field_alloc) {
		x->field_alloc = x->field_alloc ? 2 * x->field_alloc : 1024;
		x->field_at = ama_realloc(x->field_at, x->field_alloc *
					  sizeof(*x->field_at));
	}
	/* split in place at its spaces: joined again as it came */
	x->field_at[x->in.n - 1] = x->fields.len;
	for (i = 0; i < rec->nfields; i++) {
		if (i)
			ama_buf_addch(&x->fields, ' ');
		ama_buf_addstr(&x->fields, rec->field[i]);
	}
	ama_buf_addch(&x->fields, '\0');
	return 0;
}

static int cmp_record(const void *a, const void *b, void *arg)
{
	const struct ama_object *v = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = memcmp(v[i].md5.d, v[j].md5.d, sizeof(v[i].md5.d));

	return c ? c : (i > j) - (i < j);
}

/* A path of the input (relative to the asset root) as one to open. */
static const char *join_root(const struct ex *x, const char *path)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addf(&b, "%s/%s", x->root, path);
	return ama_buf_detach(&b);
}

/* One content per MD5 (the first record's size), sorted by MD5. */
static void gather(struct ex *x)
{
	size_t *order = ama_malloc((x->in.n + 1) * sizeof(*order)), i;

	for (i = 0; i < x->in.n; i++)
		order[i] = i;
	qsort_r(order, x->in.n, sizeof(*order), cmp_record, x->in.v);
	x->v = ama_calloc(x->in.n + 1, sizeof(*x->v));
	x->content_of = ama_malloc((x->in.n + 1) * sizeof(*x->content_of));
	for (i = 0; i < x->in.n; i++) {
		const struct ama_object *o = &x->in.v[order[i]];

		if (!x->n || !ama_md5_equal(&x->v[x->n - 1].md5, &o->md5)) {
			x->v[x->n].md5 = o->md5;
			x->v[x->n].size = o->size;
			/* its bytes, should staging hold it in parts */
			x->v[x->n].path = join_root(x, o->path);
			x->n++;
		}
		x->content_of[order[i]] = x->n - 1;
	}
	free(order);
}

static void print(struct ex *x)
{
	struct ama_buf f = AMA_BUF_INIT;
	size_t i;

	for (i = 0; i < x->in.n; i++) {
		const struct ama_object *o = &x->in.v[i];
		const struct ama_exists_content *c = &x->v[x->content_of[i]];

		if (c->size != o->size) {
			ama_msg_path(o->path, "another record has this MD5 "
				     "with %" PRIu64 " bytes", c->size);
			continue;
		}
		if (c->where == AMA_WHERE_UNKNOWN) {
			ama_msg_path(o->path, "%s", c->error);
			continue;
		}
		if (x->missing && c->where != AMA_WHERE_MISSING)
			continue;
		ama_buf_reset(&f);
		if (x->missing) {
			ama_buf_addstr(&f, x->fields.s + x->field_at[i]);
		} else {
			ama_buf_addf(&f, "%s ", ama_where_name(c->where));
			ama_object_format_fields(&f, &o->md5, o->size);
		}
		ama_record_write(&x->c.out, f.s, o->path, o->path_len);
	}
	ama_buf_release(&f);
}

/* Exit status of the answers: 1 if a record got none. */
static int answered(const struct ex *x)
{
	size_t i;

	for (i = 0; i < x->in.n; i++) {
		const struct ama_exists_content *c = &x->v[x->content_of[i]];

		if (c->where == AMA_WHERE_UNKNOWN ||
		    c->size != x->in.v[i].size)
			return 1;
	}
	return 0;
}

static int open_store(struct ex *x, struct ama_store **s, const char *url,
		      const char *which)
{
	if (!url)
		url = ama_settings_store_url(x->cfg, which);
	if (!url || ama_store_open(s, url, x->cfg, which) < 0)
		return AMA_ESETUP;
	if (x->jobs > 0)
		ama_store_tuning(*s)->jobs = x->jobs;
	return 0;
}

static int setup(struct ex *x)
{
	struct ama_asset_env e;
	int rc = ama_asset_env_open(&e, 0);

	if (rc == 0) {
		/* the configuration outlives the asset's other parts */
		x->cfg = e.cfg;
		e.cfg = NULL;
		if (!x->top_hash)
			x->top_hash = ama_settings_top_hash(x->cfg);
		if (!x->top_hash)
			rc = AMA_ESETUP;
	}
	if (rc == 0)
		rc = open_store(x, &x->remote, x->remote_url, "remote");
	if (rc == 0)
		rc = open_store(x, &x->staging, x->staging_url, "staging");
	x->root = e.a.root;
	e.a.root = NULL;
	ama_asset_env_close(&e);
	return rc;
}

static int run(struct ex *x)
{
	int rc;

	gather(x);
	/* SIGINT and SIGTERM cancel the stores' work, then kill us as asked */
	ama_store_cancel_on_signals(x->remote, x->staging);
	rc = ama_exists_where(x->remote, x->staging, x->top_hash, x->v, x->n,
			      &x->opts);
	if (x->stats)
		ama_msg("%zu records, %zu contents, %" PRIu64 " requests (%"
			PRIu64 " list, %" PRIu64 " head)", x->in.n, x->n,
			x->opts.lists + x->opts.heads, x->opts.lists,
			x->opts.heads);
	if (rc < 0) {
		ama_report(NULL);
		return 2;
	}
	print(x);
	return answered(x);
}

int main(int argc, char **argv)
{
	struct ex x;
	struct ama_option opts[] = {
		AMA_OPT_JOBS('j', "jobs", &x.jobs),
		AMA_OPT_FLAG(0, "missing", &x.missing),
		AMA_OPT_FLAG(0, "stats", &x.stats),
		AMA_OPT_STRING(0, "remote", &x.remote_url),
		AMA_OPT_STRING(0, "staging", &x.staging_url),
		AMA_OPT_STRING(0, "top-hash", &x.top_hash),
		AMA_OPT_END,
	};
	struct ama_md5 m;
	size_t i;
	int status;

	memset(&x, 0, sizeof(x));
	x.jobs = -1;
	ama_setprogname("ama-exists");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_Z, &x.c,
			      usage_str) < 0)
		return 2;
	if (x.top_hash && ama_md5_from_hex(&m, x.top_hash) < 0)
		return ama_usage_error(&x.c, "--top-hash wants 32 lowercase "
				       "hex digits");
	if (argc)
		return ama_usage_error(&x.c, "records come on stdin, not as "
				       "operands");
	if (setup(&x) < 0) {
		ama_report(NULL);
		status = 2;
	} else {
		status = ama_run_records(&x.c, 0, NULL, AMA_INPUT_RECORDS,
					 read_one, &x);
		if (status < 2) {
			int st = run(&x);

			status = st > status ? st : status;
		}
	}
	status = ama_finish(&x.c, status);
	for (i = 0; i < x.n; i++) {
		ama_exists_content_release(&x.v[i]);
		free((char *)x.v[i].path);
	}
	free(x.root);
	free(x.v);
	free(x.field_at);
	free(x.content_of);
	ama_buf_release(&x.fields);
	ama_objlist_release(&x.in);
	ama_store_cancel_on_signals(NULL, NULL);
	ama_store_close(x.remote);
	ama_store_close(x.staging);
	ama_config_free(x.cfg);
	ama_store_signal_exit();
	return status;
}
