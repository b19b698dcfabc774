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
#include "lockfile.h"
#include "meta.h"
#include "metasync.h"
#include "prog.h"
#include "settings.h"
#include "shellquote.h"
#include "verify.h"
#include "wire.h"

static const char usage_str[] =
	"ama upload [-m <message>] [-q | --quiet] [-j <n>]";

struct upload {
	struct ama_common *c;
	const char *message;
	int jobs;			/* -j, or 0: [transfer] jobs */
	struct ama_asset asset;		/* as found: paths are shown from here */
	struct ama_config *cfg;		/* merged, with [class] applied */
	const char *class;
	struct ama_index *idx;		/* as checked */
	size_t deleted, modified, failed;
};

struct keys {
	const char *const (*kv)[3];
	size_t n;
	const struct ama_client_class *k;
};

static int put_keys(struct ama_config *file, void *ctx)
{
	const struct keys *w = ctx;
	size_t i;

	for (i = 0; i < w->n; i++)
		ama_config_put(file, w->kv[i][0], w->kv[i][1], w->kv[i][2]);
	if (w->k)
		ama_client_class_record(file, w->k);
	return 0;
}

/* Set keys in .ama/config (the file alone): locked, read, written. */
static int record(const char *const kv[][3], size_t n,
		  const struct ama_client_class *k)
{
	struct keys w = { kv, n, k };

	return ama_config_edit(".ama/config", put_keys, &w);
}

/* "PATH: why; run: ama FIX FILE", FILE as the user typed it from here. */
static void refuse(struct upload *u, const char *rootrel, const char *why,
		   const char *fix)
{
	struct ama_buf shown = AMA_BUF_INIT, word = AMA_BUF_INIT;

	ama_asset_display(&shown, &u->asset, rootrel);
	if (fix) {
		ama_quote_shell(&word, shown.s);
		ama_msg_path(shown.s, "%s; run: ama %s %s", why, fix, word.s);
	} else {
		ama_msg_path(shown.s, "%s", why);
	}
	ama_buf_release(&shown);
	ama_buf_release(&word);
}

static int checked(const struct ama_verify_result *r, void *ctx)
{
	struct upload *u = ctx;

	switch (r->verdict) {
	case AMA_VERDICT_DELETED:
		refuse(u, r->entry->path, "deleted", "remove");
		u->deleted++;
		break;
	case AMA_VERDICT_MODIFIED:
		refuse(u, r->entry->path, "modified since added", "add");
		u->modified++;
		break;
	case AMA_VERDICT_ERROR:
		refuse(u, r->entry->path, r->msg, NULL);
		u->failed++;
		break;
	default:
		break;
	}
	return 0;
}

/*
 * Every added file must be as it was added: a deleted one stops the
 * upload (ama remove FILE), a modified one too (ama add FILE). The index
 * stays loaded in u->idx. Returns the number of entries, or a negative
 * code; *stop is set when some file is not as added.
 */
static int check_files(struct upload *u, int *stop)
{
	struct ama_refresh_list refresh = AMA_REFRESH_LIST_INIT;
	struct ama_verify_opts o;
	int rc = ama_index_load(&u->idx, ".ama/index");

	if (rc < 0)
		return rc;
	memset(&o, 0, sizeof(o));
	o.jobs = u->jobs > 0 ? u->jobs : ama_online_cpus();
	o.fn = checked;
	o.ctx = u;
	o.refresh = &refresh;
	rc = ama_verify_run(u->idx, &o);
	/* a refresh only spares the next check a rehash: no failure here */
	if (rc == 0 && refresh.n)
		ama_verify_refresh(".ama/index", &refresh);
	if (rc == 0)
		rc = (int)ama_index_count(u->idx);
	*stop = u->deleted || u->modified || u->failed;
	ama_refresh_list_release(&refresh);
	return rc;
}

/*
 * Is the asset, as checked, the version .ama/config says it is at, every
 * entry published? Then there is nothing to send and nothing to ask:
 * .ama/meta holds that version's objects. Any doubt (no version, an entry
 * not committed) says no (0), and the flow runs. Every entry committed
 * but the version not in .ama/meta (a run killed before it brought
 * .ama/meta up to date, or one that could not) is 2: sync, then ask again.
 */
#define NOT_IN_META 2
static int unchanged(struct upload *u, uint64_t seq, const char *version)
{
	struct ama_objlist mine = AMA_OBJLIST_INIT, theirs = AMA_OBJLIST_INIT;
	struct ama_meta_version v;
	struct ama_meta *meta = NULL;
	struct ama_version want;
	struct ama_index_entry *e;
	size_t n, i;
	int same = 0;

	memset(&v, 0, sizeof(v));
	if (!version || ama_version_parse(&want, version) < 0)
		return 0;
	e = ama_index_entries(u->idx, &n);
	for (i = 0; i < n; i++)
		if (e[i].state != AMA_STATE_COMMITTED)
			return 0;
	for (i = 0; i < n; i++) {
		struct ama_object o;

		ama_index_entry_object(&e[i], &o);
		ama_objlist_add_object(&mine, &o);
	}
	if (ama_meta_open(&meta, ".ama/meta", 0) < 0 ||
	    ama_meta_find_version(meta, &v, u->class, seq, &want) < 0)
		same = NOT_IN_META;
	else if (ama_meta_read_objects(meta, &theirs, &v) == 0)
		same = ama_objlist_equal(&mine, &theirs);
	ama_meta_version_release(&v);
	ama_meta_close(meta);
	ama_objlist_release(&mine);
	ama_objlist_release(&theirs);
	return same;
}

/*
 * Run a pipeline of plumbing; a failing stage has printed its reason.
 * Returns 0 or the failed stage's exit status (2 if none could start).
 */
static int run(struct ama_command *st, size_t n, struct ama_buf *in,
	       struct ama_buf *out)
{
	struct ama_pipeline pl;
	int rc;

	memset(&pl, 0, sizeof(pl));
	pl.cmds = st;
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

/*
 * Mark the entries of records as in state. ama-update-index -q passes
 * over an entry added again or removed since it was listed (its exit
 * status 1): that entry keeps the state its new content has.
 */
static int mark(struct ama_buf *records, const char *state)
{
	const char *argv[] = { "ama-update-index", "-z", "-q", state, NULL };
	struct ama_command one[1] = { { argv, 0, 0 } };
	int rc = run(one, 1, records, NULL);

	return rc == 1 ? 0 : rc;
}

/*
 * Mark the records staging, send them (overwriting whatever staging holds
 * under their keys) and mark what the store confirmed staged.
 */
static int send_records(struct upload *u, struct ama_buf *records)
{
	char jobs[32];
	const char *put[6] = { "ama-stage-put", "-z" };
	struct ama_command send[1] = { { put, 0, 0 } };
	struct ama_buf staged = AMA_BUF_INIT;
	size_t k = 2;
	int rc;

	/* ama-stage-put draws its progress unless quiet */
	if (u->c->quiet)
		put[k++] = "-q";
	/* without -j, [transfer] jobs says how many transfers run at once */
	if (u->jobs) {
		snprintf(jobs, sizeof(jobs), "%d", u->jobs);
		put[k++] = "-j";
		put[k++] = jobs;
	}
	put[k] = NULL;
	rc = mark(records, "--state=staging");
	if (rc == 0) {
		rc = run(send, 1, records, &staged);
		/* what was confirmed is staged, whatever failed beside it */
		if (staged.len) {
			int st = mark(&staged, "--state=staged");

			rc = rc ? rc : st;
		}
	}
	ama_buf_release(&staged);
	return rc;
}

/*
 * The seed's flow past the check: list the entries into objects, drop
 * what remote or staging holds, send the rest. The index is not locked
 * while the content travels (ama-update-index holds the lock for its
 * whole run), so an upload killed then leaves no stale lock to stop the
 * next one.
 */
static int stage(struct upload *u, struct ama_buf *objects)
{
	const char *ls[] = { "ama-ls-files", "-z", NULL };
	const char *exists[] = { "ama-exists", "-z", "--missing", NULL };
	struct ama_command one[1] = { { ls, 0, 0 } };
	struct ama_command check[1] = { { exists, 0, 0 } };
	struct ama_buf missing = AMA_BUF_INIT;
	int rc;

	/* one listing feeds the lookup, the commit and the final marking */
	rc = run(one, 1, NULL, objects);
	if (rc == 0)
		rc = run(check, 1, objects, &missing);
	if (rc == 0 && missing.len)
		rc = send_records(u, &missing);
	ama_buf_release(&missing);
	return rc;
}

/*
 * Publish the listed objects; version gets what ama-commit printed. The
 * entries become committed. What the server refused to publish (staged
 * bytes that are not the content: replaced by someone with the staging
 * key, or the lookup trusted what the server does not) is sent again,
 * overwriting it, and the commit asked once more; a second refusal is
 * the answer.
 */
static int commit(struct upload *u, struct ama_buf *objects,
		  struct ama_buf *version)
{
	const char *argv[] = { "ama-commit", "-z", "--print-refused", "-m",
			       u->message ? u->message : "", NULL };
	struct ama_command one[1] = { { argv, 0, 0 } };
	int rc = run(one, 1, objects, version);

	if (rc == 1 && version->len) {
		size_t i, n = 0;

		for (i = 0; i < version->len; i++)
			n += version->s[i] == '\0';
		ama_msg("sending the %zu refused object%s again", n,
			n == 1 ? "" : "s");
		rc = send_records(u, version);
		ama_buf_reset(version);
		if (rc == 0)
			rc = run(one, 1, objects, version);
		if (rc == 1)
			ama_buf_reset(version);	/* refused again: the records */
	}
	while (version->len && version->s[version->len - 1] == '\n')
		ama_buf_truncate(version, version->len - 1);
	if (rc == 0 && !version->len) {
		ama_msg("ama-commit printed no version");
		rc = 2;
	}
	if (rc == 0)
		rc = mark(objects, "--state=committed");
	return rc;
}

/* .ama/meta brought up to version (its HEAD there): 0 or an AMA_E* code. */
static int pull_meta(struct ama_client *cl, const char *class, uint64_t seq,
		     const char *version)
{
	struct ama_meta *meta = NULL;
	struct ama_version v;
	int rc = ama_version_parse(&v, version);

	/* the asset is held (hold_asset): what libgit2 left is stale */
	if (rc == 0)
		rc = ama_metasync_clear_locks(".ama/meta");
	if (rc >= 0)
		rc = ama_meta_open(&meta, ".ama/meta", AMA_META_CREATE);
	if (rc == 0)
		rc = ama_metasync_pull(meta, cl, class, seq, &v);
	ama_meta_close(meta);
	return rc < 0 ? rc : 0;
}

/*
 * Bring .ama/meta up to date, its HEAD at the new version, so that `git
 * --git-dir=.ama/meta log` shows the history. The version is published
 * whatever happens to this copy, but the upload did not do its whole job
 * if it failed: that is said, and the exit status is not 0 (1, or 2 for
 * a setup error). The next `ama upload` finds the version missing from
 * .ama/meta and brings it up to date before anything else. Returns that
 * status.
 */
static int sync_meta(struct ama_client *cl, const char *class, uint64_t seq,
		     const char *version)
{
	int rc = pull_meta(cl, class, seq, version);

	if (rc == 0)
		return 0;
	ama_msg_path(".ama/meta", "not updated: %s; version %s is published: "
		     "run 'ama upload' again to bring .ama/meta up to date",
		     ama_error_msg(), version);
	rc = ama_error_exit_status(rc);
	return rc ? rc : 1;
}

/*
 * One upload of an asset at a time, the commands it runs included: the
 * lock on .ama is inherited by them (ama-stage-put, ama-commit, ...), so
 * it is free only when every one of them has ended. A rerun right after
 * a kill -9 waits for the killed run's commands (they get SIGTERM when it
 * dies, lib/exec.h), and never lists staging while one of them is still
 * sending. A second upload of the asset waits a while, then is refused.
 */
static int hold_asset(int *held)
{
	int rc = ama_lock_folder(held, ".ama", 1, 10000);

	if (rc == AMA_ELOCKED)
		rc = ama_error_setp(AMA_ELOCKED, ".ama", "another ama upload "
				    "of this asset is running (or what it "
				    "started is still ending); try again "
				    "when it has finished");
	return rc;
}

/* [asset] seq into *seq: 0, 1 when it is not set yet, or AMA_ESETUP. */
static int asset_seq(const struct upload *u, uint64_t *seq)
{
	const char *s = ama_config_get(u->cfg, "asset", "seq");
	char *end;

	if (!s || !*s)
		return 1;
	*seq = strtoull(s, &end, 10);
	if (*end || !*seq || *s < '1' || *s > '9')
		return ama_error_setp(AMA_ESETUP, ".ama/config",
				      "[asset] seq: '%s' is not an asset "
				      "number", s);
	return 0;
}

/*
 * [asset] claim: the asset's request for a number, made once and written
 * to .ama/config before it is first sent, so that an upload that died
 * before it recorded the answer asks again with it and gets the same
 * number, not a second one.
 */
static int asset_claim(struct upload *u, char *claim)
{
	const char *s = ama_config_get(u->cfg, "asset", "claim");
	const char *kv[][3] = { { "asset", "claim", claim } };
	int rc;

	if (s && *s) {
		if (!ama_publish_claim_ok(s))
			return ama_error_setp(AMA_ESETUP, ".ama/config",
					      "[asset] claim: '%s' is not %d "
					      "lower-case hex digits", s,
					      AMA_CLAIM_LEN);
		memcpy(claim, s, AMA_CLAIM_LEN + 1);
		return 0;
	}
	rc = ama_publish_claim_new(claim);
	return rc < 0 ? rc : record(kv, 1, NULL);
}

/*
 * The class (created by the server on first use) and the asset's number
 * (given by the server the first time), kept in .ama/config with what the
 * server says of where the class's content lives.
 */
static int ensure_asset(struct upload *u, struct ama_client *cl,
			uint64_t *seq)
{
	struct ama_client_class k;
	char buf[32], claim[AMA_CLAIM_LEN + 1];
	int rc;

	memset(&k, 0, sizeof(k));
	rc = ama_client_class(cl, u->class, 1, &k);
	if (rc == 0)
		rc = record(NULL, 0, &k);
	ama_client_class_release(&k);
	if (rc == 0)
		rc = asset_seq(u, seq);
	if (rc != 1)
		return rc;
	rc = asset_claim(u, claim);
	if (rc == 0)
		rc = ama_client_asset_create(cl, u->class, claim, seq);
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
		AMA_OPT_JOBS('j', "jobs", &u.jobs),
		AMA_OPT_END
	};
	struct ama_client *cl = NULL;
	struct ama_buf objects = AMA_BUF_INIT, version = AMA_BUF_INIT;
	const char *before;
	char *was = NULL;
	uint64_t seq = 0;
	int rc, stop = 0, synced = 0, held = -1, same;

	memset(&u, 0, sizeof(u));
	u.jobs = -1;
	ama_setprogname("ama-upload");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_QUIET, &c,
			      usage_str) < 0)
		return 2;
	if (argc)
		return ama_usage_error(&c, "ama upload takes no paths: it "
				       "publishes every added file");
	if (u.jobs < 0)
		u.jobs = 0;	/* not given */
	/* found now, not after the files were sent */
	if (u.message && !ama_wire_utf8_valid(u.message, strlen(u.message)))
		return ama_usage_error(&c, "the message is not valid UTF-8");
	u.c = &c;
	/* before chdir: a relative $AMA_EXEC_PATH is the user's */
	rc = ama_exec_setup_path();
	if (rc == 0)
		rc = ama_asset_find(&u.asset);
	if (rc == 0 && chdir(u.asset.root) < 0)
		rc = ama_error_setp_errno(AMA_ESETUP, u.asset.root,
					  "cannot enter");
	if (rc == 0)
		rc = hold_asset(&held);
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
		if (u.failed)
			ama_msg("nothing sent: %zu deleted, %zu modified, %zu "
				"unreadable; fix them first", u.deleted,
				u.modified, u.failed);
		else
			ama_msg("nothing sent: %zu deleted, %zu modified; fix "
				"them first", u.deleted, u.modified);
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
	rc = asset_seq(&u, &seq);
	if (rc < 0)
		goto setup_error;
	same = rc == 0 ? unchanged(&u, seq, was) : 0;
	if (same == NOT_IN_META) {
		/* finish the sync a killed run left, then look again */
		rc = ama_client_open(&cl, u.cfg);
		if (rc < 0)
			goto setup_error;
		same = pull_meta(cl, u.class, seq, was) < 0 ? 0 :
			unchanged(&u, seq, was);
	}
	if (same == 1) {
		ama_buf_addstr(&version, was);
		goto done;
	}
	rc = cl ? 0 : ama_client_open(&cl, u.cfg);
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
	synced = sync_meta(cl, u.class, seq, version.s);
done:
	if (!c.quiet) {
		if (was && !strcmp(was, version.s))
			printf("nothing to publish: %s/%llu is at version %s\n",
			       u.class, (unsigned long long)seq, version.s);
		else
			printf("published %s/%llu version %s\n", u.class,
			       (unsigned long long)seq, version.s);
	}
	rc = synced;
	goto out;
setup_error:
	/* the asset, its configuration, the server, the stores: setup */
	ama_report(NULL);
	rc = 2;
out:
	if (held >= 0)
		close(held);
	ama_client_close(cl);
	ama_index_free(u.idx);
	ama_config_free(u.cfg);
	ama_asset_release(&u.asset);
	ama_buf_release(&objects);
	ama_buf_release(&version);
	free(was);
	return ama_finish(&c, fflush(stdout) && rc < 2 ? 2 : rc);
}
