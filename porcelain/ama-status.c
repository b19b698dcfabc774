/* ama-status: added, modified, deleted and untracked files, from the stat record alone. */
#include "auto-config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asset.h"
#include "buf.h"
#include "config.h"
#include "error.h"
#include "index.h"
#include "prog.h"
#include "shellquote.h"
#include "verify.h"
#include "walk.h"

static const char usage_str[] =
	"ama status [--porcelain] [-z] [-j <n>] [<path>...]";

enum section { ADDED, MODIFIED, DELETED, UNTRACKED, NSECTIONS };

static const char *const section_name[NSECTIONS] = {
	"added", "modified", "deleted", "untracked",
};

/* What fixes a line of each section (then the file, but for added). */
static const char *const section_fix[NSECTIONS] = {
	"ama upload", "ama add", "ama remove", "ama add",
};

struct status {
	struct ama_common *c;
	struct ama_asset asset;
	struct ama_index *idx;
	int porcelain;
	/* root-relative paths of each section, NUL-separated, in order */
	struct ama_buf lines[NSECTIONS];
	size_t count[NSECTIONS];
	int status;
};

static void note(struct status *s, enum section sec, const char *path,
		 size_t len)
{
	ama_buf_add(&s->lines[sec], path, len + 1);
	s->count[sec]++;
}

static int checked(const struct ama_verify_result *r, void *ctx)
{
	struct status *s = ctx;
	const struct ama_index_entry *e = r->entry;

	switch (r->verdict) {
	case AMA_VERDICT_OK:
		if (e->state != AMA_STATE_COMMITTED)
			note(s, ADDED, e->path, e->path_len);
		break;
	case AMA_VERDICT_MODIFIED:
		note(s, MODIFIED, e->path, e->path_len);
		break;
	case AMA_VERDICT_DELETED:
		note(s, DELETED, e->path, e->path_len);
		break;
	default:
		ama_msg_path(e->path, "%s", r->msg);
		s->status = 1;
		break;
	}
	return 0;
}

static void print_porcelain(struct status *s)
{
	int sec;

	for (sec = 0; sec < NSECTIONS; sec++) {
		const char *p = s->lines[sec].s;
		size_t i;

		for (i = 0; i < s->count[sec]; i++) {
			size_t len = strlen(p);

			ama_record_write(&s->c->out, section_name[sec], p, len);
			p += len + 1;
		}
	}
}

static void print_long(struct status *s, const struct ama_config *cfg)
{
	struct ama_buf line = AMA_BUF_INIT, shown = AMA_BUF_INIT;
	const char *class = ama_config_get(cfg, "asset", "class");
	const char *seq = ama_config_get(cfg, "asset", "seq");
	const char *version = ama_config_get(cfg, "asset", "version");
	size_t width = 0, total = 0;
	int sec;

	if (seq && version)
		ama_buf_addf(&line, "asset %s/%s at version %s\n",
			     class ? class : "?", seq, version);
	else
		ama_buf_addf(&line, "asset of class %s, not uploaded yet\n",
			     class ? class : "?");
	/* one column for the paths, at most 48 wide */
	for (sec = 0; sec < NSECTIONS; sec++) {
		const char *p = s->lines[sec].s;
		size_t i;

		total += s->count[sec];
		for (i = 0; i < s->count[sec]; i++, p += strlen(p) + 1) {
			struct ama_buf q = AMA_BUF_INIT;

			ama_buf_reset(&shown);
			ama_asset_display(&shown, &s->asset, p);
			ama_quote_path(&q, shown.s, shown.len);
			if (ama_text_columns(q.s, q.len) > width)
				width = ama_text_columns(q.s, q.len);
			ama_buf_release(&q);
		}
	}
	if (width > 48)
		width = 48;
	for (sec = 0; sec < NSECTIONS; sec++) {
		const char *p = s->lines[sec].s;
		size_t i;

		if (!s->count[sec])
			continue;
		ama_buf_addf(&line, "%s:\n", section_name[sec]);
		for (i = 0; i < s->count[sec]; i++, p += strlen(p) + 1) {
			struct ama_buf word = AMA_BUF_INIT;
			size_t start, n;

			ama_buf_reset(&shown);
			ama_asset_display(&shown, &s->asset, p);
			ama_buf_addch(&line, '\t');
			start = line.len;
			ama_quote_path(&line, shown.s, shown.len);
			for (n = ama_text_columns(line.s + start, line.len - start);
			     n < width; n++)
				ama_buf_addch(&line, ' ');
			ama_buf_addstr(&line, "   ");
			ama_quote_shell(&word, shown.s);
			ama_buf_addstr(&line, section_fix[sec]);
			if (sec != ADDED)
				ama_buf_addf(&line, " %s", word.s);
			ama_buf_addch(&line, '\n');
			ama_buf_release(&word);
		}
	}
	if (!total && ama_index_count(s->idx))
		ama_buf_addstr(&line, "nothing to do: every added file is "
			       "unchanged and uploaded\n");
	else if (!total)
		ama_buf_addstr(&line, "nothing added yet (ama add PATH)\n");
	ama_writer_raw(&s->c->out, line.s, line.len);
	ama_buf_release(&line);
	ama_buf_release(&shown);
}

/*
 * Which entries to check: all, or those at or below the operands;
 * matched[j] gets the number operand j selects.
 */
static size_t *select_entries(struct status *s, char **paths, int n,
			      size_t *npos, size_t *matched)
{
	size_t count = ama_index_count(s->idx), i, k = 0;
	size_t *pos = ama_malloc((count ? count : 1) * sizeof(*pos));
	unsigned char *sel;
	int j;

	if (!n) {
		for (i = 0; i < count; i++)
			pos[i] = i;
		*npos = count;
		return pos;
	}
	sel = ama_calloc(count ? count : 1, 1);
	for (j = 0; j < n; j++)
		matched[j] = ama_index_select(s->idx, paths[j],
					      strlen(paths[j]), sel);
	for (i = 0; i < count; i++)
		if (sel[i])
			pos[k++] = i;
	free(sel);
	*npos = k;
	return pos;
}

/*
 * The untracked files, looked for on a thread of their own while the
 * entries are checked: the walk (a readdir of every folder) and the
 * checks (an lstat of every entry) each take about half of the time on
 * a large asset, and they share nothing but the index's paths, which
 * the checks do not change.
 */
struct untracked {
	struct status *s;
	const char *const *paths;
	size_t npaths;
	const char **tracked;
	size_t ntracked;
	/* what could not be read: path NUL reason NUL, printed after the
	 * checks' messages, so that the order of stderr does not depend on
	 * the threads */
	struct ama_buf errors;
	int rc;
	char *fail_msg, *fail_path;	/* rc < 0: the walk's error */
};

static int walked(const struct ama_walk_entry *e, void *ctx)
{
	struct untracked *u = ctx;

	if (e->event == AMA_WALK_FILE) {
		note(u->s, UNTRACKED, e->path, e->len);
	} else if (e->event == AMA_WALK_ERROR) {
		ama_buf_add(&u->errors, e->path, e->len + 1);
		ama_buf_addstr(&u->errors, e->reason);
		ama_buf_addch(&u->errors, '\0');
	}
	return 0;
}

static void *walk_thread(void *arg)
{
	struct untracked *u = arg;

	u->rc = ama_walk_untracked(u->paths, u->npaths, 0, u->tracked,
				   u->ntracked, walked, u);
	if (u->rc < 0) {	/* the error is this thread's: keep it */
		u->fail_msg = ama_strdup(ama_error_msg());
		if (ama_error_path())
			u->fail_path = ama_strdup(ama_error_path());
	}
	return NULL;
}

/*
 * The operands to walk for untracked files: those that are on disk. One
 * that is not but names entries is a deleted file or folder, which the
 * checks report; one that names nothing at all stays, for the walk to
 * say "no such file".
 */
static size_t walk_operands(char **paths, int n, const size_t *matched,
			    const char **out)
{
	struct stat st;
	size_t k = 0;
	int j;

	for (j = 0; j < n; j++)
		if (!matched[j] || lstat(*paths[j] ? paths[j] : ".", &st) == 0)
			out[k++] = paths[j];
	return k;
}

static int run(struct status *s, char **paths, int npaths)
{
	struct ama_refresh_list refresh = AMA_REFRESH_LIST_INIT;
	struct ama_verify_opts o;
	struct ama_index_entry *e;
	struct untracked u;
	const char *root = "";
	const char **walk_paths, *p;
	size_t n, i, npos, *matched;
	size_t *pos;
	pthread_t tid;
	int rc, threaded;

	matched = ama_calloc((size_t)npaths + 1, sizeof(*matched));
	pos = select_entries(s, paths, npaths, &npos, matched);
	walk_paths = ama_calloc((size_t)npaths + 1, sizeof(*walk_paths));
	memset(&u, 0, sizeof(u));
	u.s = s;
	if (npaths) {
		u.paths = walk_paths;
		u.npaths = walk_operands(paths, npaths, matched, walk_paths);
	} else {
		u.paths = &root;
		u.npaths = 1;
	}
	e = ama_index_entries(s->idx, &n);
	u.tracked = ama_malloc((n ? n : 1) * sizeof(*u.tracked));
	for (i = 0; i < n; i++)
		u.tracked[i] = e[i].path;
	u.ntracked = n;
	threaded = pthread_create(&tid, NULL, walk_thread, &u) == 0;

	memset(&o, 0, sizeof(o));
	o.jobs = s->c->jobs;
	o.pos = pos;
	o.npos = npos;
	o.fn = checked;
	o.ctx = s;
	o.refresh = &refresh;
	rc = ama_verify_run(s->idx, &o);

	if (threaded)
		pthread_join(tid, NULL);
	else
		walk_thread(&u);
	for (p = u.errors.s; p && p < u.errors.s + u.errors.len;) {
		const char *reason = p + strlen(p) + 1;

		ama_msg_path(p, "%s", reason);
		p = reason + strlen(reason) + 1;
		s->status = 1;
	}
	if (u.rc < 0 && rc >= 0)
		rc = u.fail_path ?
			ama_error_setp(u.rc, u.fail_path, "%s", u.fail_msg) :
			ama_error_set(u.rc, "%s", u.fail_msg);
	/* the refresh is an optimisation: a busy or read-only index skips it */
	if (rc >= 0 && refresh.n &&
	    ama_verify_refresh(ama_index_path(s->idx), &refresh) < 0 &&
	    ama_error_code() != AMA_ELOCKED)
		ama_report(NULL);
	ama_refresh_list_release(&refresh);
	ama_buf_release(&u.errors);
	free(u.fail_msg);
	free(u.fail_path);
	free(u.tracked);
	free(walk_paths);
	free(matched);
	free(pos);
	return rc < 0 ? rc : 0;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	struct status s;
	struct ama_config *cfg = NULL;
	struct ama_option opts[] = {
		AMA_OPT_FLAG(0, "porcelain", &s.porcelain),
		AMA_OPT_END
	};
	struct ama_buf file = AMA_BUF_INIT;
	char **paths;
	int rc, i;

	memset(&s, 0, sizeof(s));
	ama_setprogname("ama-status");
	if (ama_parse_options(&argc, &argv, opts,
			      AMA_COMMON_Z | AMA_COMMON_JOBS, &c,
			      usage_str) < 0)
		return 2;
	s.c = &c;
	if (c.z && !s.porcelain)
		return ama_usage_error(&c, "-z goes with --porcelain");
	/* an unset "$var" must not mean "everything" */
	for (i = 0; i < argc; i++)
		if (!*argv[i])
			return ama_usage_error(&c,
				"empty path (use '.' for this folder)");
	if (ama_asset_find(&s.asset) < 0) {
		ama_report(NULL);
		return 2;
	}
	paths = ama_calloc((size_t)argc + 1, sizeof(*paths));
	rc = 0;
	for (i = 0; i < argc && rc == 0; i++) {
		struct ama_buf b = AMA_BUF_INIT;

		rc = ama_asset_path(&b, &s.asset, argv[i]);
		paths[i] = ama_buf_detach(&b);
	}
	if (rc == 0 && chdir(s.asset.root) < 0)
		rc = ama_error_setp_errno(AMA_ESETUP, s.asset.root,
					  "cannot enter");
	/* absolute, so that messages name them from anywhere */
	ama_buf_addf(&file, "%s/.ama/config", s.asset.root);
	if (rc == 0)
		rc = ama_config_load(&cfg, file.s);
	ama_buf_reset(&file);
	ama_buf_addf(&file, "%s/.ama/index", s.asset.root);
	if (rc == 0)
		rc = ama_index_load(&s.idx, file.s);
	if (rc == 0)
		rc = run(&s, paths, argc);
	if (rc < 0) {
		ama_report(NULL);
		rc = 2;
	} else {
		if (s.porcelain)
			print_porcelain(&s);
		else
			print_long(&s, cfg);
		rc = ama_finish(&c, s.status);
	}
	for (i = 0; i < argc; i++)
		free(paths[i]);
	free(paths);
	for (i = 0; i < NSECTIONS; i++)
		ama_buf_release(&s.lines[i]);
	ama_index_free(s.idx);
	ama_config_free(cfg);
	ama_buf_release(&file);
	ama_asset_release(&s.asset);
	return rc;
}
