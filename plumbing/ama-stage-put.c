/* ama-stage-put: upload the files of records to the staging bucket, checked against the index. */
#include "auto-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assetenv.h"
#include "buf.h"
#include "config.h"
#include "error.h"
#include "layout.h"
#include "index.h"
#include "manifest.h"
#include "prog.h"
#include "progress.h"
#include "settings.h"
#include "shellquote.h"
#include "stage.h"
#include "store.h"

static const char usage_str[] =
	"ama-stage-put [-z] [-q | --quiet] [-j <n>] [--staging=<url>] "
	"[--top-hash=<hash>]";

struct sp {
	struct ama_common c;
	const char *staging, *top_hash;
	int jobs;
	struct ama_asset_env env;	/* as found: for suggested commands */
	struct ama_asset root;		/* the same, seen from its root */
	struct ama_index *idx;
	struct ama_store *s;
	struct ama_stage *st;
	struct ama_objlist in;		/* the records, in input order */
	struct ama_progress progress;
	struct ama_buf path, word;
	int stdout_tty;			/* records share the progress line's screen */
	int status;
};

/* Before a line lands on the terminal: take the progress line away. */
static void clear_progress(struct sp *p, int to_stdout)
{
	if (!p->progress.enabled || !p->progress.drawn ||
	    (to_stdout && !p->stdout_tty))
		return;
	if (write(2, "\r\033[K", 4) < 0) {
		/* a progress line is not worth failing for */
	}
}

/* ama_report() under the progress line. */
static int report(struct sp *p, const char *path)
{
	clear_progress(p, 0);
	return ama_report(path);
}

/* "PATH: <why>; run ama <fix> FILE", FILE as seen from here. Returns 1. */
static int refuse(struct sp *p, const char *given, const char *rootrel,
		  enum ama_stage_verdict v)
{
	struct ama_buf shown = AMA_BUF_INIT;

	ama_asset_display(&shown, &p->env.a, rootrel);
	ama_buf_reset(&p->word);
	ama_quote_shell(&p->word, shown.s);
	clear_progress(p, 0);
	ama_msg_path(given, "%s; run ama %s %s", ama_stage_verdict_reason(v),
		     ama_stage_verdict_fix(v), p->word.s);
	ama_buf_release(&shown);
	p->status = 1;
	return 1;
}

static void staged_one(void *ctx, const struct ama_stage_result *r)
{
	struct sp *p = ctx;
	const struct ama_object *o = &p->in.v[(uintptr_t)r->udata];
	struct ama_buf f = AMA_BUF_INIT;

	ama_progress_add(&p->progress, 1, 0);
	if (r->rc == AMA_EDIGEST || r->rc == AMA_ECHANGED) {
		refuse(p, o->path, r->path, AMA_STAGE_MODIFIED);
	} else if (r->rc == AMA_ENOTFOUND || r->rc == AMA_ENOTREG) {
		refuse(p, o->path, r->path, AMA_STAGE_DELETED);
	} else if (r->rc < 0) {
		clear_progress(p, 0);
		ama_msg_path(o->path, "%s", r->error);
		p->status = 1;
	} else {
		clear_progress(p, 1);
		ama_buf_addstr(&f, "staged ");
		ama_object_format_fields(&f, &o->md5, o->size);
		ama_record_write(&p->c.out, f.s, o->path, o->path_len);
		ama_writer_flush(&p->c.out);
	}
	ama_buf_release(&f);
}

static void sent(void *ctx, uint64_t bytes)
{
	ama_progress_add(&((struct sp *)ctx)->progress, 0, bytes);
}

/*
 * Is the record's file the one the index holds? Then send it. Returns the
 * exit status it calls for: 0, 1 (refused, reported), 2 (stop).
 */
static int stage_one(struct sp *p, size_t i)
{
	const struct ama_object *o = &p->in.v[i];
	int v;

	ama_buf_reset(&p->path);
	if (ama_asset_path(&p->path, &p->root, o->path) < 0)
		return report(p, o->path);
	if (!p->path.len) {
		ama_error_setp(AMA_EINVAL, o->path,
			       "the asset root is not a file");
		return report(p, o->path);
	}
	v = ama_stage_check(p->idx, p->path.s, p->path.len, &o->md5, o->size);
	if (v < 0)
		return report(p, o->path);
	if (v != AMA_STAGE_SEND)
		return refuse(p, o->path, p->path.s, v);
	if (ama_stage_add(p->st, &o->md5, o->size, p->path.s,
			  (void *)(uintptr_t)i) < 0) {
		report(p, NULL);	/* nothing more can be sent */
		return 2;
	}
	return 0;
}

static int read_one(struct ama_common *c, const struct ama_record *rec,
		    void *ctx)
{
	(void)c;
	return ama_objlist_add_record(&((struct sp *)ctx)->in, rec);
}

static int cmp_md5(const void *a, const void *b)
{
	const struct ama_object *x = *(const struct ama_object *const *)a;
	const struct ama_object *y = *(const struct ama_object *const *)b;

	return memcmp(x->md5.d, y->md5.d, sizeof(x->md5.d));
}

/* The whole job for the progress line: every path, each content once. */
static void set_totals(struct sp *p)
{
	const struct ama_object **v;
	uint64_t bytes = 0;
	size_t i;

	if (!p->progress.enabled || !p->in.n)
		return;
	v = ama_malloc(p->in.n * sizeof(*v));
	for (i = 0; i < p->in.n; i++)
		v[i] = &p->in.v[i];
	qsort(v, p->in.n, sizeof(*v), cmp_md5);
	for (i = 0; i < p->in.n; i++)
		if (i == 0 || !ama_md5_equal(&v[i]->md5, &v[i - 1]->md5))
			bytes += v[i]->size;
	ama_progress_total(&p->progress, p->in.n, bytes);
	free(v);
}

/* Find the asset, its index, the staging bucket and the class's top hash. */
static int setup(struct sp *p)
{
	struct ama_buf b = AMA_BUF_INIT;
	const char *url = p->staging, *top = p->top_hash;
	int rc;

	rc = ama_asset_env_open(&p->env, AMA_ASSET_ENTER);
	if (rc < 0)
		goto out;
	p->root.root = p->env.a.root;
	p->root.prefix = (char *)"";
	if (!url)
		url = ama_settings_store_url(p->env.cfg, "staging");
	if (url && !top)
		top = ama_settings_top_hash(p->env.cfg);
	if (!url || !top) {
		rc = AMA_ESETUP;
		goto out;
	}
	rc = ama_store_open(&p->s, url, p->env.cfg, "staging");
	if (rc < 0)
		goto out;
	if (p->jobs > 0)
		ama_store_tuning(p->s)->jobs = p->jobs;
	ama_buf_reset(&b);
	ama_buf_addf(&b, "%s/.ama/index", p->env.a.root);
	rc = ama_index_load(&p->idx, b.s);
	if (rc < 0)
		goto out;
	ama_buf_reset(&b);
	ama_layout_staging_prefix(&b, top);
	p->st = ama_stage_new(p->s, b.s, staged_one, sent, p);
out:
	ama_buf_release(&b);
	return rc;
}

static int run(struct sp *p)
{
	size_t i;
	int status, rc = 0;

	status = ama_run_records(&p->c, 0, NULL, AMA_INPUT_RECORDS, read_one,
				 p);
	if (status == 2)
		return 2;
	p->status = status;
	ama_progress_init(&p->progress, "staging", p->c.progress);
	p->stdout_tty = isatty(1);
	set_totals(p);
	ama_store_cancel_on_signals(p->s, NULL);
	for (i = 0; i < p->in.n && rc < 2 && !p->c.out.err; i++) {
		int st = stage_one(p, i);

		if (st)		/* refused: answered, and not sent */
			ama_progress_add(&p->progress, 1, 0);
		if (st > rc)
			rc = st;
	}
	if (rc < 2 && ama_stage_finish(p->st) < 0)
		rc = report(p, NULL);
	ama_store_cancel_on_signals(NULL, NULL);
	if (rc < 2)
		ama_progress_done(&p->progress);
	return rc > p->status ? rc : p->status;
}

int main(int argc, char **argv)
{
	struct sp p;
	struct ama_option opts[] = {
		AMA_OPT_JOBS('j', "jobs", &p.jobs),
		AMA_OPT_STRING(0, "staging", &p.staging),
		AMA_OPT_STRING(0, "top-hash", &p.top_hash),
		AMA_OPT_END,
	};
	struct ama_md5 m;
	int status;

	memset(&p, 0, sizeof(p));
	p.jobs = -1;
	ama_setprogname("ama-stage-put");
	if (ama_parse_options(&argc, &argv, opts,
			      AMA_COMMON_Z | AMA_COMMON_QUIET, &p.c,
			      usage_str) < 0)
		return 2;
	if (p.top_hash && ama_md5_from_hex(&m, p.top_hash) < 0)
		return ama_usage_error(&p.c, "--top-hash wants 32 lowercase "
				       "hex digits");
	if (argc)
		return ama_usage_error(&p.c, "records come on stdin, not as "
				       "operands");
	if (setup(&p) < 0) {
		ama_report(NULL);	/* whatever its kind, we cannot start */
		status = 2;
	} else {
		status = run(&p);
	}
	status = ama_finish(&p.c, status);
	ama_stage_free(p.st);
	ama_store_close(p.s);
	ama_index_free(p.idx);
	ama_objlist_release(&p.in);
	ama_asset_env_close(&p.env);
	ama_buf_release(&p.path);
	ama_buf_release(&p.word);
	ama_store_signal_exit();
	return status;
}
