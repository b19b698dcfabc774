/* ama-upload: the upload flow: check, stage what the store lacks, publish a version. */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asset.h"
#include "buf.h"
#include "client.h"
#include "config.h"
#include "error.h"
#include "exec.h"
#include "index.h"
#include "meta.h"
#include "prog.h"
#include "settings.h"
#include "verify.h"

static const char usage_str[] =
	"ama upload [-m <message>] [-q | --quiet] [-j <n>]";

struct upload {
	struct ama_common *c;
	const char *message;
	struct ama_config *cfg;		/* merged, with [class] applied */
	const char *class;
	size_t deleted, modified, failed;
};

/* Set keys in .ama/config (the file alone), atomically. */
static int record(const char *const kv[][3], size_t n,
		  const struct ama_client_class *k)
{
	struct ama_config *file = NULL;
	size_t i;
	int rc = ama_config_load_file(&file, ".ama/config");

	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++)
		ama_config_put(file, kv[i][0], kv[i][1], kv[i][2]);
	if (k)
		ama_client_class_record(file, k);
	rc = ama_config_write(file, ".ama/config");
	ama_config_free(file);
	return rc;
}

static int checked(const struct ama_verify_result *r, void *ctx)
{
	struct upload *u = ctx;
	struct ama_buf fix = AMA_BUF_INIT;

	switch (r->verdict) {
	case AMA_VERDICT_DELETED:
		ama_buf_addstr(&fix, "ama remove ");
		ama_quote_path(&fix, r->entry->path, r->entry->path_len);
		ama_msg_path(r->entry->path, "deleted; run: %s", fix.s);
		u->deleted++;
		break;
	case AMA_VERDICT_MODIFIED:
		ama_buf_addstr(&fix, "ama add ");
		ama_quote_path(&fix, r->entry->path, r->entry->path_len);
		ama_msg_path(r->entry->path, "modified since added; run: %s",
			     fix.s);
		u->modified++;
		break;
	case AMA_VERDICT_ERROR:
		ama_msg_path(r->entry->path, "%s", r->msg);
		u->failed++;
		break;
	default:
		break;
	}
	ama_buf_release(&fix);
	return 0;
}

/*
 * Every added file must be as it was added: a deleted one stops the
 * upload (ama remove FILE), a modified one too (ama add FILE). Returns the
 * number of entries, or a negative code; *stop is set when one failed.
 */
static int check_files(struct upload *u, int *stop)
{
	struct ama_refresh_list refresh = AMA_REFRESH_LIST_INIT;
	struct ama_verify_opts o;
	struct ama_index *idx = NULL;
	int rc = ama_index_load(&idx, ".ama/index");

	if (rc < 0)
		return rc;
	memset(&o, 0, sizeof(o));
	o.jobs = u->c->jobs;
	o.fn = checked;
	o.ctx = u;
	o.refresh = &refresh;
	rc = ama_verify_run(idx, &o);
	if (rc == 0 && refresh.n)
		ama_verify_refresh(".ama/index", &refresh);
	if (rc == 0)
		rc = (int)ama_index_count(idx);
	*stop = u->deleted || u->modified || u->failed;
	ama_refresh_list_release(&refresh);
	ama_index_free(idx);
	return rc;
}

/* Run a pipeline of plumbing; a failing stage has printed its reason. */
static int run(struct ama_stage *st, size_t n, struct ama_buf *in,
	       struct ama_buf *out)
{
	struct ama_pipeline pl;
	int rc;

	memset(&pl, 0, sizeof(pl));
	pl.stages = st;
	pl.n = n;
	if (in) {
		pl.in.how = AMA_REDIR_BUF;
		pl.in.buf = in;
	}
	if (out) {
		pl.out.how = AMA_REDIR_BUF;
		pl.out.buf = out;
	}
	rc = ama_pipeline_run(&pl);
	if (rc < 0)
		ama_report(NULL);
	return rc < 0 ? 2 : rc;
}

/* Send what neither bucket holds; mark the entries staged. */
static int stage(struct upload *u, struct ama_buf *objects)
{
	char jobs[32];
	const char *ls[] = { "ama-ls-files", "-z", NULL };
	const char *exists[] = { "ama-exists", "-z", "--missing", NULL };
	const char *put[] = { "ama-stage-put", "-z", "-j", jobs,
			      u->c->quiet ? "-q" : NULL, NULL };
	const char *mark[] = { "ama-update-index", "-z", "-q",
			       "--state=staged", NULL };
	struct ama_stage one[1] = { { ls, 0, 0 } };
	struct ama_stage chain[3] = { { exists, 0, 0 }, { put, 0, 0 },
				      { mark, 0, 0 } };
	int rc;

	snprintf(jobs, sizeof(jobs), "%d", u->c->jobs);
	/* one listing feeds staging, the commit and the final marking */
	rc = run(one, 1, NULL, objects);
	if (rc)
		return rc;
	return run(chain, 3, objects, NULL);
}

/* Publish the listed objects; version gets what ama-commit printed. */
static int commit(struct upload *u, struct ama_buf *objects,
		  struct ama_buf *version)
{
	const char *argv[] = { "ama-commit", "-z", "-m",
			       u->message ? u->message : "", NULL };
	const char *mark[] = { "ama-update-index", "-z", "-q",
			       "--state=committed", NULL };
	struct ama_stage one[1] = { { argv, 0, 0 } };
	struct ama_stage two[1] = { { mark, 0, 0 } };
	int rc = run(one, 1, objects, version);

	while (version->len && version->s[version->len - 1] == '\n')
		ama_buf_truncate(version, version->len - 1);
	if (rc == 0)
		rc = run(two, 1, objects, NULL);
	return rc;
}

struct pending {
	struct ama_version *v;
	size_t n, alloc;
	int has_local;
	struct ama_version local;	/* the newest version .ama/meta holds */
};

static int collect(const struct ama_meta_version *v, void *ctx)
{
	struct pending *p = ctx;

	if (p->has_local && ama_version_cmp(&v->version, &p->local) <= 0)
		return 1;	/* the rest is known */
	if (p->n == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 8;
		p->v = ama_realloc(p->v, p->alloc * sizeof(*p->v));
	}
	p->v[p->n++] = v->version;
	return 0;
}

/*
 * Bring .ama/meta up to date: every version the server has that the
 * asset's own repository lacks, oldest first, so `git --git-dir=.ama/meta
 * log` shows the history. A failure here is reported, not fatal: the
 * version is published whatever happens to this copy.
 */
static void sync_meta(struct ama_client *cl, const char *class, uint64_t seq)
{
	struct pending p = { NULL, 0, 0, 0, { 0, 0, 0 } };
	struct ama_meta_version head;
	struct ama_meta *meta = NULL;
	struct ama_buf text = AMA_BUF_INIT;
	int rc = ama_meta_open(&meta, ".ama/meta", AMA_META_CREATE);

	memset(&head, 0, sizeof(head));
	if (rc == 0) {
		rc = ama_meta_head(meta, &head, class, seq);
		p.has_local = rc == 0;
		p.local = head.version;
		rc = rc == AMA_ENOTFOUND ? 0 : rc;
	}
	if (rc == 0)
		rc = ama_client_versions(cl, class, seq, 0, collect, &p);
	while (rc >= 0 && p.n) {
		struct ama_manifest m;

		ama_buf_reset(&text);
		rc = ama_client_manifest(cl, class, seq, &p.v[--p.n], &text);
		if (rc == 0)
			rc = ama_manifest_parse(&m, text.s, text.len);
		if (rc == 0) {
			rc = ama_meta_write(meta, NULL, &m, NULL);
			ama_manifest_release(&m);
		}
	}
	if (rc < 0)
		ama_msg_path(".ama/meta", "not updated: %s", ama_error_msg());
	ama_meta_version_release(&head);
	ama_meta_close(meta);
	ama_buf_release(&text);
	free(p.v);
}

/* Class and asset number, asked of the server once and kept in .ama/config. */
static int ensure_asset(struct upload *u, struct ama_client *cl,
			uint64_t *seq)
{
	struct ama_client_class k;
	const char *s = ama_config_get(u->cfg, "asset", "seq");
	char buf[32];
	int rc;

	memset(&k, 0, sizeof(k));
	rc = ama_client_class(cl, u->class, 1, &k);
	if (rc == 0)
		rc = record(NULL, 0, &k);
	ama_client_class_release(&k);
	if (rc < 0)
		return rc;
	if (s) {
		char *end;

		*seq = strtoull(s, &end, 10);
		if (*end || !*seq)
			return ama_error_set(AMA_ESETUP,
				"[asset] seq: '%s' is not an asset number", s);
		return 0;
	}
	rc = ama_client_asset_create(cl, u->class, seq);
	if (rc < 0)
		return rc;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)*seq);
	{
		const char *kv[][3] = { { "asset", "seq", buf } };

		return record(kv, 1, NULL);
	}
}

int main(int argc, char **argv)
{
	struct ama_common c;
	struct upload u;
	struct ama_option opts[] = {
		AMA_OPT_STRING('m', "message", &u.message),
		AMA_OPT_END
	};
	struct ama_asset asset;
	struct ama_client *cl = NULL;
	struct ama_buf objects = AMA_BUF_INIT, version = AMA_BUF_INIT;
	const char *before;
	char *was = NULL;
	uint64_t seq = 0;
	int rc, stop = 0;

	memset(&u, 0, sizeof(u));
	ama_setprogname("ama-upload");
	if (ama_parse_options(&argc, &argv, opts,
			      AMA_COMMON_QUIET | AMA_COMMON_JOBS, &c,
			      usage_str) < 0)
		return 2;
	if (argc)
		return ama_usage_error(&c, "ama upload takes no paths: it "
				       "publishes every added file");
	u.c = &c;
	rc = ama_asset_find(&asset);
	if (rc == 0 && chdir(asset.root) < 0)
		rc = ama_error_setp_errno(AMA_ESETUP, asset.root,
					  "cannot enter");
	if (rc == 0)
		rc = ama_exec_setup_path();
	if (rc == 0)
		rc = ama_config_load(&u.cfg, ".ama/config");
	if (rc < 0)
		goto setup_error;
	ama_settings_apply_class(u.cfg);
	u.class = ama_config_get(u.cfg, "asset", "class");
	if (!u.class) {
		rc = ama_error_setp(AMA_ESETUP, ".ama/config",
				    "no [asset] class: run 'ama init CLASS'");
		goto setup_error;
	}
	rc = check_files(&u, &stop);
	if (rc < 0)
		goto setup_error;
	if (stop) {
		ama_msg("nothing sent: %zu deleted, %zu modified%s; fix them "
			"first", u.deleted, u.modified,
			u.failed ? ", some unreadable" : "");
		rc = 1;
		goto out;
	}
	if (rc == 0) {
		ama_msg("nothing to upload: no file is added (ama add PATH)");
		rc = 1;
		goto out;
	}
	before = ama_config_get(u.cfg, "asset", "version");
	was = before ? ama_strdup(before) : NULL;
	rc = ama_client_open(&cl, u.cfg);
	if (rc == 0)
		rc = ensure_asset(&u, cl, &seq);
	if (rc < 0)
		goto setup_error;
	rc = stage(&u, &objects);
	if (rc == 0)
		rc = commit(&u, &objects, &version);
	if (rc)
		goto out;
	{
		const char *kv[][3] = { { "asset", "version", version.s } };

		rc = record(kv, 1, NULL);
	}
	if (rc < 0)
		goto setup_error;
	sync_meta(cl, u.class, seq);
	if (!c.quiet) {
		if (was && !strcmp(was, version.s))
			printf("nothing to publish: %s/%llu is at version %s\n",
			       u.class, (unsigned long long)seq, version.s);
		else
			printf("published %s/%llu version %s\n", u.class,
			       (unsigned long long)seq, version.s);
	}
	rc = 0;
	goto out;
setup_error:
	rc = ama_report(NULL);
	rc = rc == 1 ? 1 : 2;
out:
	ama_client_close(cl);
	ama_config_free(u.cfg);
	ama_buf_release(&objects);
	ama_buf_release(&version);
	free(was);
	return ama_finish(&c, fflush(stdout) && rc < 2 ? 2 : rc);
}
