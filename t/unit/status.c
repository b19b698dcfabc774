/* t/unit/status.c: the status engine: its kinds, order, operands, the current version, refreshes. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "index.h"
#include "lockfile.h"
#include "manifest.h"
#include "md5.h"
#include "meta.h"
#include "status.h"
#include "version.h"
#include "tmpdir.h"

static void setup(void)
{
	make_dir();
	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(mkdir(".ama", 0777), 0);
}

TestSuite(status, .init = setup, .fini = remove_dir, .timeout = 60);

/* A file with content, its times long past (so that no entry is racy). */
static void put(const char *path, const char *content)
{
	struct timespec ts[2] = { { 1600000000, 0 }, { 1600000000, 0 } };
	char *slash, parent[256];
	FILE *f;

	snprintf(parent, sizeof(parent), "%s", path);
	for (slash = strchr(parent, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(parent, 0777);
		*slash = '/';
	}
	f = fopen(path, "wb");
	cr_assert(f, "%s", path);
	cr_assert_geq(fputs(content, f), 0);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/*
 * An index entry for path as it is now (or, for a file that is not there,
 * as it was), holding content, in state.
 */
static void add(struct ama_index *idx, const char *path, const char *content,
		enum ama_state state)
{
	struct ama_index_entry e;

	memset(&e, 0, sizeof(e));
	if (ama_stat_path(&e.st, path) < 0) {
		e.st.size = strlen(content);
		e.st.mtime_ns = e.st.ctime_ns = 1600000000000000000;
		e.st.mode = S_IFREG | 0644;
	}
	ama_md5_buffer(&e.md5, content, strlen(content));
	e.path = path;
	e.path_len = (uint32_t)strlen(path);
	e.state = state;
	ama_index_add(idx, &e);
}

static struct ama_index *locked(void)
{
	struct ama_index *idx;

	cr_assert_eq(ama_index_lock_and_load(&idx, ".ama/index"), 0);
	return idx;
}

/* Write the index and load it again, for reading. */
static struct ama_index *saved(struct ama_index *idx)
{
	struct ama_index *again;

	cr_assert_eq(ama_index_write_and_commit(idx), 0);
	ama_index_free(idx);
	cr_assert_eq(ama_index_load(&again, ".ama/index"), 0);
	return again;
}

/*
 * Publish the n paths (each holding "content of PATH") as version 0.0.0
 * of imaging/1 in .ama/meta, and point .ama/config at it.
 */
static struct ama_config *published(const char *const *paths, size_t n)
{
	struct ama_manifest m;
	struct ama_meta *meta;
	struct ama_meta_version v;
	struct ama_config *cfg;
	size_t i;

	ama_manifest_init(&m);
	m.class = ama_strdup("imaging");
	m.seq = 1;
	m.author = ama_strdup("tester");
	m.time = 1700000000;
	cr_assert_eq(ama_version_parse(&m.version, "0.0.0"), 0);
	for (i = 0; i < n; i++) {
		char content[256];
		struct ama_md5 md5;

		snprintf(content, sizeof(content), "content of %s", paths[i]);
		ama_md5_buffer(&md5, content, strlen(content));
		ama_objlist_add(&m.objects, &md5, strlen(content), paths[i],
				strlen(paths[i]));
	}
	cr_assert_eq(ama_objlist_sort(&m.objects), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(ama_meta_open(&meta, ".ama/meta", AMA_META_CREATE), 0);
	cr_assert_eq(ama_meta_write(meta, &v, &m, NULL), 0, "%s",
		     ama_error_msg());
	ama_meta_version_release(&v);
	ama_meta_close(meta);
	ama_manifest_release(&m);
	cr_assert_eq(ama_write_file_atomic(".ama/config",
		"[asset]\nclass = imaging\nseq = 1\nversion = 0.0.0\n", 47,
		0644), 0);
	cr_assert_eq(ama_config_load_file(&cfg, ".ama/config"), 0);
	return cfg;
}

/* What the callback saw: "kind path" lines, and errors with reasons. */
struct seen {
	struct ama_buf lines;
	int entries_ok;		/* entry items carried their entry */
	int stop_after;		/* > 0: return AMA_EIO after that many */
	int calls;
};

static int record(const struct ama_status_item *it, void *ctx)
{
	struct seen *s = ctx;
	int has_entry = it->kind == AMA_STATUS_ADDED ||
		it->kind == AMA_STATUS_MODIFIED ||
		it->kind == AMA_STATUS_DELETED;

	ama_buf_addf(&s->lines, "%s %.*s", ama_status_kind_name(it->kind),
		     (int)it->len, it->path);
	if (it->kind == AMA_STATUS_ERROR)
		ama_buf_addf(&s->lines, ": %s", it->reason);
	ama_buf_addch(&s->lines, '\n');
	if (has_entry && (!it->entry || !it->check ||
			  strcmp(it->entry->path, it->path)))
		s->entries_ok = 0;
	if (!has_entry && it->kind != AMA_STATUS_ERROR && it->entry)
		s->entries_ok = 0;
	s->calls++;
	return s->stop_after && s->calls >= s->stop_after ? AMA_EIO : 0;
}

/* Run the engine; the lines it reported. */
static char *run(struct ama_index *idx, const struct ama_config *cfg,
		 unsigned flags, const char *const *paths, size_t npaths,
		 int jobs, struct ama_status_summary *sum)
{
	struct ama_status_opts o;
	struct seen s = { AMA_BUF_INIT, 1, 0, 0 };

	memset(&o, 0, sizeof(o));
	o.paths = paths;
	o.npaths = npaths;
	o.jobs = jobs;
	o.flags = flags;
	o.cfg = cfg;
	o.fn = record;
	o.ctx = &s;
	cr_assert_eq(ama_status_run(sum, idx, &o), 0, "%s", ama_error_msg());
	cr_assert(s.entries_ok, "an item's entry is wrong:\n%s",
		  ama_buf_str(&s.lines));
	ama_buf_addstr(&s.lines, "");
	return ama_buf_detach(&s.lines);
}

static void assert_lines(char *got, const char *want)
{
	cr_assert_str_eq(got, want);
	free(got);
}

Test(status, kinds_are_named)
{
	cr_assert_str_eq(ama_status_kind_name(AMA_STATUS_ADDED), "added");
	cr_assert_str_eq(ama_status_kind_name(AMA_STATUS_REMOVED), "removed");
	cr_assert_str_eq(ama_status_kind_name(AMA_STATUS_MODIFIED),
			 "modified");
	cr_assert_str_eq(ama_status_kind_name(AMA_STATUS_DELETED), "deleted");
	cr_assert_str_eq(ama_status_kind_name(AMA_STATUS_UNTRACKED),
			 "untracked");
	cr_assert_str_eq(ama_status_kind_name(AMA_STATUS_ERROR), "error");
}

Test(status, a_published_unchanged_asset_has_nothing_to_say)
{
	struct ama_index *idx = locked();
	struct ama_status_summary sum;
	int k;

	put("a", "content of a");
	add(idx, "a", "content of a", AMA_STATE_COMMITTED);
	idx = saved(idx);
	assert_lines(run(idx, NULL, AMA_STATUS_ALL, NULL, 0, 2, &sum), "");
	for (k = 0; k < AMA_STATUS_NKINDS; k++)
		cr_assert_eq(sum.count[k], 0);
	cr_assert_eq(sum.refresh_rc, 0);
	ama_index_free(idx);
}

Test(status, entries_first_in_index_order_then_untracked)
{
	struct ama_index *idx = locked();
	struct ama_status_summary sum;

	put("a", "content of a");
	put("b", "content of b");
	put("c", "content of c");
	put("d/e", "content of d/e");
	add(idx, "a", "content of a", AMA_STATE_PENDING);
	add(idx, "b", "content of b", AMA_STATE_COMMITTED);
	add(idx, "c", "content of c", AMA_STATE_STAGED);
	add(idx, "d/e", "content of d/e", AMA_STATE_COMMITTED);
	add(idx, "gone", "", AMA_STATE_COMMITTED);
	idx = saved(idx);
	put("b", "CONTENT OF B, longer");
	unlink("d/e");
	put("d/new", "new");
	put("0new", "new");
	assert_lines(run(idx, NULL, AMA_STATUS_ALL, NULL, 0, 2, &sum),
		     "added a\n"
		     "modified b\n"
		     "added c\n"
		     "deleted d/e\n"
		     "deleted gone\n"
		     "untracked 0new\n"
		     "untracked d/new\n");
	cr_assert_eq(sum.count[AMA_STATUS_ADDED], 2);
	cr_assert_eq(sum.count[AMA_STATUS_MODIFIED], 1);
	cr_assert_eq(sum.count[AMA_STATUS_DELETED], 2);
	cr_assert_eq(sum.count[AMA_STATUS_UNTRACKED], 2);
	/* without the walk: the entries alone */
	assert_lines(run(idx, NULL, 0, NULL, 0, 1, &sum),
		     "added a\nmodified b\nadded c\ndeleted d/e\n"
		     "deleted gone\n");
	cr_assert_eq(sum.count[AMA_STATUS_UNTRACKED], 0);
	ama_index_free(idx);
}

Test(status, what_the_index_lost_from_the_version_is_removed)
{
	static const char *const v[] = { "a", "d/x", "d/y", "e", "z" };
	struct ama_index *idx = locked();
	struct ama_config *cfg;
	struct ama_status_summary sum;

	put("a", "content of a");
	put("d/x", "content of d/x");
	put("e", "content of e");
	add(idx, "a", "content of a", AMA_STATE_COMMITTED);
	add(idx, "d/x", "content of d/x", AMA_STATE_COMMITTED);
	add(idx, "z", "content of z", AMA_STATE_COMMITTED);
	idx = saved(idx);
	cfg = published(v, 5);
	/* d/y gone from disk and index; e still on disk; z deleted */
	assert_lines(run(idx, cfg, AMA_STATUS_ALL, NULL, 0, 2, &sum),
		     "deleted z\n"
		     "removed d/y\n"
		     "removed e\n"
		     "untracked e\n");
	cr_assert_eq(sum.count[AMA_STATUS_REMOVED], 2);
	/* not asked for: not looked at */
	assert_lines(run(idx, cfg, AMA_STATUS_FIND_UNTRACKED, NULL, 0, 2,
			 &sum), "deleted z\nuntracked e\n");
	/* no config: never uploaded, nothing removed */
	assert_lines(run(idx, NULL, AMA_STATUS_ALL, NULL, 0, 2, &sum),
		     "deleted z\nuntracked e\n");
	ama_config_free(cfg);
	ama_index_free(idx);
}

Test(status, operands_select_and_may_name_removed_files)
{
	static const char *const v[] = { "a", "d/x", "d/y", "d/z/w", "dd" };
	static const char *const some[] = { "d/z", "d/y", "a" };
	static const char *const overlap[] = { "d", "d/z" };
	static const char *const none[] = { "nosuch", "a" };
	struct ama_index *idx = locked();
	struct ama_config *cfg;
	struct ama_status_summary sum;

	put("a", "content of a");
	put("d/x", "content of d/x");
	add(idx, "a", "content of a", AMA_STATE_COMMITTED);
	add(idx, "d/x", "content of d/x", AMA_STATE_COMMITTED);
	idx = saved(idx);
	cfg = published(v, 5);
	/* d/y and d/z are neither on disk nor in the index: no error */
	assert_lines(run(idx, cfg, AMA_STATUS_ALL, some, 3, 2, &sum),
		     "removed d/y\nremoved d/z/w\n");
	/* overlapping operands: each removed file once, in order */
	assert_lines(run(idx, cfg, AMA_STATUS_ALL, overlap, 2, 1, &sum),
		     "removed d/y\nremoved d/z/w\n");
	/* an operand naming nothing: with and without the walk */
	assert_lines(run(idx, cfg, AMA_STATUS_ALL, none, 2, 1, &sum),
		     "error nosuch: no such file\n");
	cr_assert_eq(sum.count[AMA_STATUS_ERROR], 1);
	assert_lines(run(idx, cfg, AMA_STATUS_FIND_REMOVED, none, 2, 1,
			 &sum), "error nosuch: no such file\n");
	ama_config_free(cfg);
	ama_index_free(idx);
}

Test(status, a_meta_without_the_version_is_an_error_item)
{
	static const char *const v[] = { "a" };
	struct ama_index *idx = locked();
	struct ama_config *cfg;
	struct ama_status_summary sum;

	put("a", "content of a");
	add(idx, "a", "content of a", AMA_STATE_PENDING);
	idx = saved(idx);
	cfg = published(v, 1);
	ama_config_put(cfg, "asset", "version", "0.0.7");
	assert_lines(run(idx, cfg, AMA_STATUS_ALL, NULL, 0, 1, &sum),
		     "added a\nerror .ama/meta: does not hold version 0.0.7 "
		     "of imaging/1\n");
	ama_config_put(cfg, "asset", "version", "zero");
	assert_lines(run(idx, cfg, AMA_STATUS_ALL, NULL, 0, 1, &sum),
		     "added a\nerror .ama/meta: [asset] version: 'zero' is "
		     "not a version\n");
	/* no seq: the asset was never uploaded, nothing to compare */
	ama_config_put(cfg, "asset", "seq", NULL);
	assert_lines(run(idx, cfg, AMA_STATUS_ALL, NULL, 0, 1, &sum),
		     "added a\n");
	ama_config_free(cfg);
	ama_index_free(idx);
}

Test(status, the_callback_stops_the_run)
{
	struct ama_index *idx = locked();
	struct ama_status_opts o;
	struct seen s = { AMA_BUF_INIT, 1, 2, 0 };

	put("a", "content of a");
	put("b", "content of b");
	put("u", "untracked");
	add(idx, "a", "content of a", AMA_STATE_PENDING);
	add(idx, "b", "content of b", AMA_STATE_PENDING);
	idx = saved(idx);
	memset(&o, 0, sizeof(o));
	o.flags = AMA_STATUS_ALL;
	o.fn = record;
	o.ctx = &s;
	cr_assert_eq(ama_status_run(NULL, idx, &o), AMA_EIO);
	cr_assert_eq(s.calls, 2);
	ama_buf_release(&s.lines);
	ama_index_free(idx);
}

Test(status, a_touched_file_is_refreshed_only_when_asked)
{
	struct timespec later[2] = { { 1600000100, 0 }, { 1600000100, 0 } };
	struct ama_index *idx = locked();
	struct ama_status_summary sum;
	char *before = NULL, *after = NULL;
	size_t nb, na;

	put("a", "content of a");
	add(idx, "a", "content of a", AMA_STATE_COMMITTED);
	idx = saved(idx);
	cr_assert_eq(utimensat(AT_FDCWD, "a", later, 0), 0);
	cr_assert_eq(ama_read_file(&before, &nb, ".ama/index"), 0);
	assert_lines(run(idx, NULL, AMA_STATUS_FIND_UNTRACKED, NULL, 0, 1,
			 &sum), "");
	cr_assert_eq(sum.refreshed, 0);
	cr_assert_eq(ama_read_file(&after, &na, ".ama/index"), 0);
	cr_assert(nb == na && !memcmp(before, after, nb));
	free(after);
	ama_index_free(idx);
	cr_assert_eq(ama_index_load(&idx, ".ama/index"), 0);
	assert_lines(run(idx, NULL, AMA_STATUS_ALL, NULL, 0, 1, &sum), "");
	cr_assert_eq(sum.refreshed, 1);
	cr_assert_eq(sum.refresh_rc, 0);
	cr_assert_eq(ama_read_file(&after, &na, ".ama/index"), 0);
	cr_assert(nb != na || memcmp(before, after, nb));
	free(before);
	free(after);
	ama_index_free(idx);
}

Test(status, any_number_of_jobs_gives_the_same_answer)
{
	static const char *const v[] = { "f010", "f020", "f030" };
	struct ama_index *idx = locked();
	struct ama_config *cfg;
	struct ama_status_summary sum;
	char name[16], *one;
	int i, jobs[] = { 2, 3, 8 };

	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		put(name, name);
		if (i % 10)
			add(idx, name, name, i % 3 ? AMA_STATE_COMMITTED :
			    AMA_STATE_PENDING);
	}
	idx = saved(idx);
	cfg = published(v, 3);
	put("f007", "changed, and longer");
	unlink("f008");
	one = run(idx, cfg, AMA_STATUS_ALL, NULL, 0, 1, &sum);
	cr_assert_eq(sum.count[AMA_STATUS_REMOVED], 3);
	cr_assert_eq(sum.count[AMA_STATUS_UNTRACKED], 20);
	for (i = 0; i < 3; i++)
		assert_lines(run(idx, cfg, AMA_STATUS_ALL, NULL, 0, jobs[i],
				 &sum), one);
	free(one);
	ama_config_free(cfg);
	ama_index_free(idx);
}
