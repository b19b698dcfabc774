/* t/unit/meta.c: versions written to and read from a metadata repository, checked with git itself. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "meta.h"

/* ---- fixtures: a fresh folder per test, git run with no user config ---- */

static char tmp[64];
static char repo[128];

static void setup(void)
{
	strcpy(tmp, "/tmp/ama-meta-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(repo, sizeof(repo), "%s/meta.git", tmp);
	/* git must not read the caller's configuration */
	setenv("HOME", tmp, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("TZ", "UTC", 1);
	setenv("LC_ALL", "C", 1);
	setenv("GIT_AUTHOR_NAME", "t", 1);
	setenv("GIT_AUTHOR_EMAIL", "t@t", 1);
	setenv("GIT_COMMITTER_NAME", "t", 1);
	setenv("GIT_COMMITTER_EMAIL", "t@t", 1);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(meta, .init = setup, .fini = teardown);

/* Run a shell command; its output (stdout and stderr) into out. */
static int run(struct ama_buf *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int run(struct ama_buf *out, const char *fmt, ...)
{
	struct ama_buf cmd = AMA_BUF_INIT;
	char chunk[4096];
	va_list ap;
	FILE *p;
	size_t n;
	int st;

	va_start(ap, fmt);
	ama_buf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	ama_buf_addstr(&cmd, " 2>&1");
	p = popen(cmd.s, "r");
	cr_assert_not_null(p);
	ama_buf_reset(out);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		ama_buf_add(out, chunk, n);
	st = pclose(p);
	ama_buf_release(&cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The number of pack files, and of objects in all of them. */
static size_t packs(size_t *objects)
{
	char dir[256];
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	*objects = 0;
	snprintf(dir, sizeof(dir), "%s/objects/pack", repo);
	d = opendir(dir);
	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char path[600];
		unsigned char fanout[4];
		FILE *f;
		size_t len = strlen(e->d_name);

		if (len < 4 || strcmp(e->d_name + len - 4, ".idx"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		cr_assert_not_null(f);
		/* idx v2: magic, version, then 256 counts; the last is all */
		cr_assert_eq(fseek(f, 8 + 255 * 4, SEEK_SET), 0);
		cr_assert_eq(fread(fanout, 1, 4, f), 4);
		fclose(f);
		*objects += (size_t)fanout[0] << 24 | (size_t)fanout[1] << 16 |
			    (size_t)fanout[2] << 8 | fanout[3];
		n++;
	}
	closedir(d);
	return n;
}

/* Files in objects/ other than packs: loose objects ama must never make. */
static int loose_objects(void)
{
	struct ama_buf out = AMA_BUF_INIT;
	int n;

	cr_assert_eq(run(&out, "find '%s/objects' -type f ! -path '*/pack/*' "
			 "! -name packs | wc -l", repo), 0);
	n = atoi(out.s);
	ama_buf_release(&out);
	return n;
}

/* ---- manifests ---- */

static void md5_of(struct ama_md5 *m, unsigned n)
{
	memset(m, 0, sizeof(*m));
	m->d[0] = (unsigned char)(n >> 24);
	m->d[1] = (unsigned char)(n >> 16);
	m->d[2] = (unsigned char)(n >> 8);
	m->d[3] = (unsigned char)n;
}

static void add(struct ama_objlist *l, const char *path, unsigned n)
{
	struct ama_md5 m;

	md5_of(&m, n);
	ama_objlist_add(l, &m, 1000 + n, path, strlen(path));
}

static void manifest(struct ama_manifest *m, const char *class, uint64_t seq,
		     const char *version, const char *parent,
		     const char *message)
{
	ama_manifest_init(m);
	cr_assert_eq(ama_version_parse(&m->version, version), 0);
	if (parent) {
		cr_assert_eq(ama_version_parse(&m->parent, parent), 0);
		m->has_parent = 1;
	}
	m->class = ama_strdup(class);
	m->seq = seq;
	m->author = ama_strdup("alice");
	m->time = 1718000000 + (int64_t)m->version.z;
	m->message = ama_strdup(message);
}

/* Every awkward byte a path can hold, sorted. */
static void hostile(struct ama_objlist *l)
{
	add(l, "-leading dash", 1);
	add(l, "back\\slash", 2);
	add(l, "dir/q\"uote", 3);
	add(l, "dir/sub/tab\there", 4);
	add(l, "new\nline", 5);
	add(l, "non-utf8-\377\376", 6);
	add(l, "same-as-1", 1);
	add(l, "sp ace", 7);
}

static char *text(const struct ama_objlist *l)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_objlist_format(&b, l);
	return ama_buf_detach(&b);
}

static struct ama_meta *open_new(void)
{
	struct ama_meta *m;

	cr_assert_eq(ama_meta_open(&m, repo, AMA_META_CREATE), 0, "%s",
		     ama_error_msg());
	return m;
}

static void write_ok(struct ama_meta *meta, struct ama_meta_version *out,
		     const struct ama_manifest *m,
		     const struct ama_objlist *parent)
{
	cr_assert_eq(ama_meta_write(meta, out, m, parent), 0, "%s",
		     ama_error_msg());
}

/* ---- tests ---- */

Test(meta, opening_a_missing_repository_without_create_fails)
{
	struct ama_meta *m = (struct ama_meta *)1;

	cr_assert_eq(ama_meta_open(&m, repo, 0), AMA_ENOTFOUND);
	cr_assert_null(m);
	cr_assert_str_eq(ama_error_path(), repo);
	cr_assert_str_eq(ama_error_msg(), "no metadata repository here");
	m = open_new();
	ama_meta_close(m);
	cr_assert_eq(ama_meta_open(&m, repo, 0), 0);
	ama_meta_close(m);
}

Test(meta, a_written_version_reads_back_byte_for_byte)
{
	struct ama_meta *meta = open_new();
	struct ama_manifest m, back;
	struct ama_meta_version v, head;
	struct ama_objlist objs = AMA_OBJLIST_INIT;
	struct ama_buf a = AMA_BUF_INIT, b = AMA_BUF_INIT;
	char id[AMA_COMMIT_ID_HEXLEN + 1];
	char *want, *got;

	manifest(&m, "imaging", 3, "0.0.0", NULL, "first light");
	hostile(&m.objects);
	cr_assert_eq(ama_objlist_check(&m.objects), 0);
	write_ok(meta, &v, &m, NULL);
	cr_assert_eq(ama_meta_head(meta, &head, "imaging", 3), 0);
	cr_assert_str_eq(head.oid, v.oid);
	cr_assert_str_eq(head.class, "imaging");
	cr_assert_eq(head.seq, 3);
	cr_assert_str_eq(head.author, "alice");
	cr_assert_eq(head.time, 1718000000);
	cr_assert_str_eq(head.message, "first light");
	cr_assert_not(head.has_parent);
	ama_manifest_commit_id(id, NULL, &m.objects);
	cr_assert_str_eq(head.commit_id, id);

	cr_assert_eq(ama_meta_read_objects(meta, &objs, &head), 0, "%s",
		     ama_error_msg());
	want = text(&m.objects);
	got = text(&objs);
	cr_assert_str_eq(got, want);

	/* the whole manifest, header included, comes back as it was */
	cr_assert_eq(ama_meta_read_manifest(meta, &back, &head), 0);
	ama_manifest_format(&a, &m);
	ama_manifest_format(&b, &back);
	cr_assert_str_eq(b.s, a.s);

	free(want);
	free(got);
	ama_buf_release(&a);
	ama_buf_release(&b);
	ama_objlist_release(&objs);
	ama_manifest_release(&m);
	ama_manifest_release(&back);
	ama_meta_version_release(&v);
	ama_meta_version_release(&head);
	ama_meta_close(meta);
}

/* Write versions 0.0.0 .. 0.0.(n-1), each from its objects, keeping them. */
struct history {
	struct ama_objlist lists[8];
	struct ama_meta_version v[8];
	size_t n;
};

static void commit(struct ama_meta *meta, struct history *h,
		   const struct ama_objlist *objs, int give_parent,
		   const char *message)
{
	struct ama_manifest m;
	char ver[AMA_VERSION_BUFSIZE], par[AMA_VERSION_BUFSIZE];
	struct ama_version vv = { 0, 0, (uint32_t)h->n };
	size_t i;

	ama_version_format(ver, &vv);
	if (h->n) {
		vv.z--;
		ama_version_format(par, &vv);
	}
	manifest(&m, "runs", 1, ver, h->n ? par : NULL, message);
	for (i = 0; i < objs->n; i++)
		ama_objlist_add(&m.objects, &objs->v[i].md5, objs->v[i].size,
				objs->v[i].path, objs->v[i].path_len);
	write_ok(meta, &h->v[h->n], &m,
		 give_parent && h->n ? &h->lists[h->n - 1] : NULL);
	h->lists[h->n] = m.objects;
	memset(&m.objects, 0, sizeof(m.objects));
	ama_manifest_release(&m);
	h->n++;
}

static void history_release(struct history *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		ama_objlist_release(&h->lists[i]);
		ama_meta_version_release(&h->v[i]);
	}
}

static void assert_reads_back(struct ama_meta *meta, struct history *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		struct ama_objlist got = AMA_OBJLIST_INIT;

		cr_assert_eq(ama_meta_read_objects(meta, &got, &h->v[i]), 0,
			     "%s", ama_error_msg());
		cr_assert(ama_objlist_equal(&got, &h->lists[i]),
			  "version %zu", i);
		ama_objlist_release(&got);
	}
}

Test(meta, a_one_file_change_writes_only_its_path)
{
	struct ama_meta *meta = open_new();
	struct history h = { .n = 0 };
	struct ama_objlist l = AMA_OBJLIST_INIT;
	size_t objects, before;
	char name[64];
	unsigned i, j;

	/* 10 folders of 10 subfolders of 10 files */
	for (i = 0; i < 10; i++)
		for (j = 0; j < 100; j++) {
			snprintf(name, sizeof(name), "d%u/s%u/f%u", i, j / 10,
				 j % 10);
			add(&l, name, i * 100 + j);
		}
	commit(meta, &h, &l, 1, "import");
	cr_assert_eq(packs(&objects), 1);
	/* 1000 blobs, 100 + 10 + 1 trees, 1 commit */
	cr_assert_eq(objects, 1000 + 111 + 1);
	before = objects;

	l.v[555].size++;	/* d5/s5/f5 */
	commit(meta, &h, &l, 1, "one file");
	cr_assert_eq(packs(&objects), 2);
	/* the blob, d5/s5, d5, the root, the commit */
	cr_assert_eq(objects - before, 5);
	before = objects;

	/* the same change read from the repository instead of given */
	l.v[555].size++;
	commit(meta, &h, &l, 0, "one file again");
	cr_assert_eq(packs(&objects), 3);
	cr_assert_eq(objects - before, 5);
	before = objects;

	/* back to an earlier state: every tree and blob is there already */
	l.v[555].size -= 2;
	commit(meta, &h, &l, 1, "revert");
	cr_assert_eq(packs(&objects), 4);
	cr_assert_eq(objects - before, 1);
	cr_assert_eq(loose_objects(), 0);
	assert_reads_back(meta, &h);
	ama_objlist_release(&l);
	history_release(&h);
	ama_meta_close(meta);
}

Test(meta, files_become_folders_and_folders_files)
{
	struct ama_meta *meta = open_new();
	struct history h = { .n = 0 };
	struct ama_objlist l0 = AMA_OBJLIST_INIT, l1 = AMA_OBJLIST_INIT;
	struct ama_objlist l2 = AMA_OBJLIST_INIT, l3 = AMA_OBJLIST_INIT;
	struct ama_objlist empty = AMA_OBJLIST_INIT;

	add(&l0, "a", 1);
	add(&l0, "a.txt", 2);
	add(&l0, "b/c/d", 3);
	add(&l0, "b/e", 4);
	add(&l0, "z", 5);
	/* a becomes a folder, b/c a file, b/e goes, so b holds only c */
	add(&l1, "a.txt", 2);
	add(&l1, "a/x", 6);
	add(&l1, "b/c", 7);
	add(&l1, "z", 5);
	/* and back the other way, with the folder a emptied away */
	add(&l2, "a", 1);
	add(&l2, "a.txt", 2);
	add(&l2, "b/c/d", 3);
	add(&l2, "z", 5);
	/* everything in one deep folder */
	add(&l3, "p/q/r/s", 8);
	commit(meta, &h, &l0, 1, "0");
	commit(meta, &h, &l1, 1, "1");
	commit(meta, &h, &l2, 0, "2");
	commit(meta, &h, &l3, 1, "3");
	commit(meta, &h, &empty, 1, "4: nothing left");
	commit(meta, &h, &l0, 1, "5: all back");
	assert_reads_back(meta, &h);
	cr_assert_eq(loose_objects(), 0);
	ama_objlist_release(&l0);
	ama_objlist_release(&l1);
	ama_objlist_release(&l2);
	ama_objlist_release(&l3);
	history_release(&h);
	ama_meta_close(meta);
}

Test(meta, messages_come_back_exactly)
{
	static const char *const messages[] = {
		"",
		"subject only",
		"ends in a newline\n",
		"\n\nleading empty lines",
		"two\n\nparagraphs\n\nSigned-off-by: someone\nAma-Version: 9.9.9",
		"non-utf8 \377 and\ttab and \"quotes\" \\",
		"trailing empty lines\n\n\n",
	};
	struct ama_meta *meta = open_new();
	struct history h = { .n = 0 };
	struct ama_objlist l = AMA_OBJLIST_INIT;
	size_t i;

	add(&l, "f", 1);
	for (i = 0; i < sizeof(messages) / sizeof(*messages); i++) {
		struct ama_meta_version v;
		struct ama_version want = { 0, 0, (uint32_t)i };

		commit(meta, &h, &l, 1, messages[i]);
		cr_assert_eq(ama_meta_head(meta, &v, "runs", 1), 0);
		cr_assert_str_eq(v.message, messages[i]);
		cr_assert_eq(ama_version_cmp(&v.version, &want), 0);
		ama_meta_version_release(&v);
	}
	ama_objlist_release(&l);
	history_release(&h);
	ama_meta_close(meta);
}

struct seen {
	char versions[256];
	int stop_at;
	int calls;
};

static int log_one(const struct ama_meta_version *v, void *ctx)
{
	struct seen *s = ctx;
	char buf[AMA_VERSION_BUFSIZE];

	ama_version_format(buf, &v->version);
	strcat(s->versions, buf);
	strcat(s->versions, v->has_parent ? "<" : ".");
	s->calls++;
	return s->calls == s->stop_at ? 42 : 0;
}

Test(meta, log_find_and_commit_ids)
{
	struct ama_meta *meta = open_new();
	struct history h = { .n = 0 };
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct seen s = { "", 0, 0 };
	struct ama_meta_version v;
	struct ama_version want = { 0, 0, 2 }, missing = { 0, 1, 0 };
	int i;

	add(&l, "f", 1);
	for (i = 0; i < 4; i++) {
		l.v[0].size = 10 + (uint64_t)i;
		commit(meta, &h, &l, 1, "v");
	}
	cr_assert_eq(ama_meta_log(meta, "runs", 1, 0, log_one, &s), 0);
	cr_assert_str_eq(s.versions, "0.0.3<0.0.2<0.0.1<0.0.0.");
	memset(&s, 0, sizeof(s));
	cr_assert_eq(ama_meta_log(meta, "runs", 1, 2, log_one, &s), 0);
	cr_assert_str_eq(s.versions, "0.0.3<0.0.2<");
	memset(&s, 0, sizeof(s));
	s.stop_at = 3;
	cr_assert_eq(ama_meta_log(meta, "runs", 1, 0, log_one, &s), 42);
	cr_assert_str_eq(s.versions, "0.0.3<0.0.2<0.0.1<");
	cr_assert_eq(ama_meta_log(meta, "runs", 2, 0, log_one, &s),
		     AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "asset runs/2 has no version");

	cr_assert_eq(ama_meta_find_version(meta, &v, "runs", 1, &want), 0);
	cr_assert_str_eq(v.oid, h.v[2].oid);
	cr_assert_str_eq(v.message, "v");
	ama_meta_version_release(&v);
	cr_assert_eq(ama_meta_find_version(meta, &v, "runs", 1, &missing),
		     AMA_ENOTFOUND);
	cr_assert_str_eq(ama_error_msg(), "asset runs/1 has no version 0.1.0");

	/* the commit id of version 0.0.1 is found within 3 versions, not 2 */
	cr_assert_eq(ama_meta_find_commit_id(meta, &v, "runs", 1,
					     h.v[1].commit_id, 3), 0);
	cr_assert_str_eq(v.oid, h.v[1].oid);
	ama_meta_version_release(&v);
	cr_assert_eq(ama_meta_find_commit_id(meta, &v, "runs", 1,
					     h.v[1].commit_id, 2),
		     AMA_ENOTFOUND);
	cr_assert_eq(ama_meta_find_commit_id(meta, &v, "runs", 1,
					     h.v[1].commit_id, 0), 0);
	ama_meta_version_release(&v);
	ama_objlist_release(&l);
	history_release(&h);
	ama_meta_close(meta);
}

Test(meta, a_retried_commit_has_the_same_commit_id)
{
	struct ama_meta *meta = open_new();
	struct history h = { .n = 0 };
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_meta_version v;
	char id[AMA_COMMIT_ID_HEXLEN + 1];
	struct ama_version parent = { 0, 0, 0 };

	add(&l, "f", 1);
	commit(meta, &h, &l, 1, "base");
	l.v[0].size++;
	commit(meta, &h, &l, 1, "the change");
	/* a client retrying the same objects on the same parent */
	ama_manifest_commit_id(id, &parent, &l);
	cr_assert_str_eq(id, h.v[1].commit_id);
	cr_assert_eq(ama_meta_find_commit_id(meta, &v, "runs", 1, id, 10), 0);
	cr_assert_eq(ama_version_cmp(&v.version, &h.v[1].version), 0);
	ama_meta_version_release(&v);
	ama_objlist_release(&l);
	history_release(&h);
	ama_meta_close(meta);
}

Test(meta, writes_that_do_not_follow_the_head_conflict)
{
	struct ama_meta *meta = open_new();
	struct history h = { .n = 0 };
	struct ama_objlist l = AMA_OBJLIST_INIT, wrong = AMA_OBJLIST_INIT;
	struct ama_manifest m;
	size_t objects, n;

	add(&l, "f", 1);
	manifest(&m, "runs", 1, "0.0.1", "0.0.0", "too early");
	cr_assert_eq(ama_meta_write(meta, NULL, &m, NULL), AMA_ECONFLICT);
	cr_assert_str_eq(ama_error_msg(), "asset runs/1 has no version 0.0.0 "
			 "to be the parent of 0.0.1");
	ama_manifest_release(&m);
	commit(meta, &h, &l, 1, "0");
	commit(meta, &h, &l, 1, "1");
	n = packs(&objects);

	manifest(&m, "runs", 1, "0.0.0", NULL, "again");
	cr_assert_eq(ama_meta_write(meta, NULL, &m, NULL), AMA_ECONFLICT);
	cr_assert_str_eq(ama_error_msg(), "asset runs/1 already has versions");
	ama_manifest_release(&m);

	manifest(&m, "runs", 1, "0.0.1", "0.0.0", "stale parent");
	cr_assert_eq(ama_meta_write(meta, NULL, &m, NULL), AMA_ECONFLICT);
	cr_assert_str_eq(ama_error_msg(), "asset runs/1 is at version 0.0.1, "
			 "not at the parent of 0.0.1");
	ama_manifest_release(&m);

	/* parent objects that are not the parent's are refused */
	add(&wrong, "g", 1);
	manifest(&m, "runs", 1, "0.0.2", "0.0.1", "lying parent");
	cr_assert_eq(ama_meta_write(meta, NULL, &m, &wrong), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(), "the parent objects given are not "
			 "those of version 0.0.1");
	ama_manifest_release(&m);

	/* an invalid manifest or asset name is refused before anything */
	manifest(&m, "-runs", 1, "0.0.2", "0.0.1", "bad class");
	cr_assert_eq(ama_meta_write(meta, NULL, &m, NULL), AMA_EINVAL);
	ama_manifest_release(&m);
	manifest(&m, "runs", 0, "0.0.2", "0.0.1", "no seq");
	cr_assert_eq(ama_meta_write(meta, NULL, &m, NULL), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(),
			 "the manifest names no class and seq");
	ama_manifest_release(&m);

	cr_assert_eq(packs(&objects), n);
	assert_reads_back(meta, &h);
	ama_objlist_release(&l);
	ama_objlist_release(&wrong);
	history_release(&h);
	ama_meta_close(meta);
}

Test(meta, names_git_refuses_leave_nothing_behind)
{
	struct ama_meta *meta = open_new();
	struct ama_manifest m;
	struct ama_meta_version v;
	size_t objects;

	manifest(&m, "runs", 1, "0.0.0", NULL, "ntfs");
	add(&m.objects, "a", 1);
	add(&m.objects, "x/GIT~1/y", 2);
	cr_assert_eq(ama_meta_write(meta, NULL, &m, NULL), AMA_EINVAL);
	cr_assert_str_eq(ama_error_path(), "x/GIT~1/y");
	cr_assert_eq(packs(&objects), 0);
	cr_assert_eq(loose_objects(), 0);
	cr_assert_eq(ama_meta_head(meta, &v, "runs", 1), AMA_ENOTFOUND);
	/* the handle is still good, and the blob of "a" is not left over */
	ama_objlist_release(&m.objects);
	add(&m.objects, "b", 3);
	cr_assert_eq(ama_meta_write(meta, NULL, &m, NULL), 0);
	cr_assert_eq(packs(&objects), 1);
	cr_assert_eq(objects, 3);	/* blob, root, commit */
	ama_manifest_release(&m);
	ama_meta_close(meta);
}

static int collect(const char *class, uint64_t seq, void *ctx)
{
	struct ama_buf *b = ctx;

	ama_buf_addf(b, "%s/%llu ", class, (unsigned long long)seq);
	return 0;
}

static void first_version(struct ama_meta *meta, const char *class,
			  uint64_t seq)
{
	struct ama_manifest m;

	manifest(&m, class, seq, "0.0.0", NULL, "");
	add(&m.objects, "f", (unsigned)seq);
	write_ok(meta, NULL, &m, NULL);
	ama_manifest_release(&m);
}

Test(meta, assets_are_listed_by_class_then_seq)
{
	struct ama_meta *meta = open_new();
	struct ama_buf b = AMA_BUF_INIT, out = AMA_BUF_INIT;
	struct ama_meta_version v;

	first_version(meta, "zeta", 1);
	first_version(meta, "alpha", 10);
	first_version(meta, "alpha", 2);
	first_version(meta, "alpha.b", 1);
	/* refs ama would not make are not assets */
	cr_assert_eq(run(&out, "git --git-dir='%s' update-ref refs/ama/alpha/07 "
			 "refs/ama/alpha/2 && git --git-dir='%s' update-ref "
			 "refs/ama/x/y/1 refs/ama/alpha/2", repo, repo), 0,
		     "%s", out.s);
	cr_assert_eq(ama_meta_assets(meta, NULL, collect, &b), 0);
	cr_assert_str_eq(b.s, "alpha/2 alpha/10 alpha.b/1 zeta/1 ");
	ama_buf_reset(&b);
	cr_assert_eq(ama_meta_assets(meta, "alpha", collect, &b), 0);
	cr_assert_str_eq(b.s, "alpha/2 alpha/10 ");
	cr_assert_eq(ama_meta_assets(meta, "a..b", collect, &b), AMA_EINVAL);
	cr_assert_eq(ama_meta_head(meta, &v, "a b", 1), AMA_EINVAL);
	cr_assert_eq(ama_meta_head(meta, &v, "alpha", 0), AMA_EINVAL);
	ama_buf_release(&b);
	ama_buf_release(&out);
	ama_meta_close(meta);
}

Test(meta, git_fsck_is_clean_and_git_log_shows_the_versions)
{
	struct ama_meta *meta = open_new();
	struct history h = { .n = 0 };
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_buf out = AMA_BUF_INIT, want = AMA_BUF_INIT;

	hostile(&l);
	commit(meta, &h, &l, 1, "first light");
	l.v[4].size++;
	commit(meta, &h, &l, 1, "new\nline changed");
	/* the server's repository: HEAD names no branch, which git notes */
	cr_assert_eq(run(&out, "git --git-dir='%s' fsck --strict", repo), 0);
	cr_assert_str_eq(out.s,
			 "notice: HEAD points to an unborn branch (main)\n");
	cr_assert_eq(run(&out, "git --git-dir='%s' log --all "
			 "--format='%%an <%%ae> %%at%%n%%B--' --name-status",
			 repo), 0);
	ama_buf_addf(&want,
		"alice <alice@ama> 1718000001\n"
		"new\nline changed\n\n"
		"Ama-Version: 0.0.1\nAma-Parent: 0.0.0\nAma-Class: runs\n"
		"Ama-Asset: runs/1\nAma-Commit-Id: %s\n--\n\n"
		"M\t\"new\\nline\"\n"
		"alice <alice@ama> 1718000000\n"
		"first light\n\n"
		"Ama-Version: 0.0.0\nAma-Class: runs\n"
		"Ama-Asset: runs/1\nAma-Commit-Id: %s\n--\n\n"
		"A\t-leading dash\n"
		"A\t\"back\\\\slash\"\n"
		"A\t\"dir/q\\\"uote\"\n"
		"A\t\"dir/sub/tab\\there\"\n"
		"A\t\"new\\nline\"\n"
		"A\t\"non-utf8-\\377\\376\"\n"
		"A\tsame-as-1\n"
		"A\tsp ace\n",
		h.v[1].commit_id, h.v[0].commit_id);
	cr_assert_str_eq(out.s, want.s);
	/* a blob is "<md5> <size>\n" */
	cr_assert_eq(run(&out, "git --git-dir='%s' cat-file -p "
			 "refs/ama/runs/1:sp' 'ace", repo), 0);
	cr_assert_str_eq(out.s, "00000007000000000000000000000000 1007\n");

	/* a client's repository: HEAD at its version, and fsck says nothing */
	cr_assert_eq(ama_meta_set_head(meta, &h.v[0]), 0);
	cr_assert_eq(run(&out, "git --git-dir='%s' fsck --strict", repo), 0);
	cr_assert_str_eq(out.s, "");
	cr_assert_eq(run(&out, "git --git-dir='%s' log --format=%%s", repo),
		     0);
	cr_assert_str_eq(out.s, "first light\n");
	ama_buf_release(&out);
	ama_buf_release(&want);
	ama_objlist_release(&l);
	history_release(&h);
	ama_meta_close(meta);
}

Test(meta, commits_ama_did_not_write_are_corrupt)
{
	struct ama_meta *meta = open_new();
	struct ama_buf out = AMA_BUF_INIT;
	struct ama_meta_version v;
	struct ama_objlist l = AMA_OBJLIST_INIT;

	/* a commit without trailers */
	cr_assert_eq(run(&out, "cd '%s' && t=$(git mktree </dev/null) && "
			 "c=$(echo plain | git commit-tree $t) && "
			 "git update-ref refs/ama/x/1 $c", repo), 0, "%s", out.s);
	cr_assert_eq(ama_meta_head(meta, &v, "x", 1), AMA_ECORRUPT);
	cr_assert(strstr(ama_error_msg(), "is not an ama version: "
			 "Ama-Version, Ama-Asset or Ama-Commit-Id missing"));
	/* trailers, but a blob that is not "<md5> <size>\n" */
	cr_assert_eq(run(&out, "cd '%s' && b=$(printf 'junk\\n' | "
			 "git hash-object -w --stdin) && "
			 "t=$(printf '100644 blob %%s\\tf\\n' $b | git mktree) && "
			 "c=$(printf 'm\\n\\nAma-Version: 0.0.0\\n"
			 "Ama-Asset: y/1\\nAma-Commit-Id: %%064d\\n' 0 | "
			 "git commit-tree $t) && git update-ref refs/ama/y/1 $c",
			 repo), 0, "%s", out.s);
	cr_assert_eq(ama_meta_head(meta, &v, "y", 1), 0, "%s", ama_error_msg());
	cr_assert_eq(ama_meta_read_objects(meta, &l, &v), AMA_ECORRUPT);
	cr_assert_str_eq(ama_error_path(), "f");
	cr_assert_str_eq(ama_error_msg(), "blob is not \"<md5> <size>\\n\"");
	cr_assert_eq(l.n, 0);
	ama_meta_version_release(&v);
	/* a good blob, but the commit id does not match */
	cr_assert_eq(run(&out, "cd '%s' && b=$(printf '%%032d 5\\n' 0 | "
			 "git hash-object -w --stdin) && "
			 "t=$(printf '100644 blob %%s\\tf\\n' $b | git mktree) && "
			 "c=$(printf 'm\\n\\nAma-Version: 0.0.0\\n"
			 "Ama-Asset: z/1\\nAma-Commit-Id: %%064d\\n' 0 | "
			 "git commit-tree $t) && git update-ref refs/ama/z/1 $c",
			 repo), 0, "%s", out.s);
	cr_assert_eq(ama_meta_head(meta, &v, "z", 1), 0, "%s", ama_error_msg());
	cr_assert_eq(ama_meta_read_objects(meta, &l, &v), AMA_ECORRUPT);
	cr_assert(strstr(ama_error_msg(), "does not match its commit id"));
	cr_assert_eq(l.n, 0);
	ama_meta_version_release(&v);
	ama_buf_release(&out);
	ama_meta_close(meta);
}

/* ---- threads ---- */

struct racer {
	pthread_barrier_t *start;
	int id;
	int rc;
	char oid[AMA_META_OIDLEN + 1];
	char msg[128];
};

/* Each racer, with its own handle, writes its own 0.0.1 on 0.0.0. */
static void *race(void *arg)
{
	struct racer *r = arg;
	struct ama_meta *meta;
	struct ama_manifest m;
	struct ama_meta_version v;
	char msg[32];

	r->rc = ama_meta_open(&meta, repo, 0);
	if (r->rc < 0)
		return NULL;
	snprintf(msg, sizeof(msg), "racer %d", r->id);
	ama_manifest_init(&m);
	m.version.z = 1;
	m.has_parent = 1;
	m.class = ama_strdup("race");
	m.seq = 1;
	m.author = ama_strdup("r");
	m.message = ama_strdup(msg);
	add(&m.objects, "f", (unsigned)r->id + 100);
	pthread_barrier_wait(r->start);
	r->rc = ama_meta_write(meta, &v, &m, NULL);
	if (r->rc == 0)
		memcpy(r->oid, v.oid, sizeof(r->oid));
	else
		snprintf(r->msg, sizeof(r->msg), "%s", ama_error_msg());
	ama_meta_version_release(&v);
	ama_manifest_release(&m);
	ama_meta_close(meta);
	return NULL;
}

Test(meta, racing_writers_of_one_asset_have_one_winner)
{
	enum { RACERS = 4, ROUNDS = 8 };
	struct ama_meta *meta = open_new();
	struct ama_buf out = AMA_BUF_INIT;
	int round;

	for (round = 0; round < ROUNDS; round++) {
		pthread_barrier_t start;
		pthread_t t[RACERS];
		struct racer r[RACERS];
		struct ama_meta_version head;
		int i, winners = 0, winner = -1;

		cr_assert_eq(run(&out, "git --git-dir='%s' update-ref -d "
				 "refs/ama/race/1", repo), 0);
		first_version(meta, "race", 1);
		pthread_barrier_init(&start, NULL, RACERS);
		for (i = 0; i < RACERS; i++) {
			r[i] = (struct racer){ &start, i, 0, "", "" };
			cr_assert_eq(pthread_create(&t[i], NULL, race, &r[i]),
				     0);
		}
		for (i = 0; i < RACERS; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&start);
		for (i = 0; i < RACERS; i++) {
			cr_assert(r[i].rc == 0 || r[i].rc == AMA_ECONFLICT,
				  "racer %d: %d", i, r[i].rc);
			if (r[i].rc == 0) {
				winners++;
				winner = i;
				continue;
			}
			/* lost before writing, or at the compare-and-swap */
			if (strcmp(r[i].msg, "asset race/1 is at version "
				   "0.0.1, not at the parent of 0.0.1"))
				cr_assert_str_eq(r[i].msg, "asset race/1 moved "
					"while version 0.0.1 was written");
		}
		cr_assert_eq(winners, 1);
		/* the ref points at the winner's commit, and only it */
		cr_assert_eq(ama_meta_head(meta, &head, "race", 1), 0);
		cr_assert_str_eq(head.oid, r[winner].oid);
		ama_meta_version_release(&head);
	}
	cr_assert_eq(loose_objects(), 0);
	ama_buf_release(&out);
	ama_meta_close(meta);
}

struct builder {
	int id;
	int rc;
};

/* 10 versions of asset par/ID, each changing one file. */
static void *build_asset(void *arg)
{
	struct builder *b = arg;
	struct ama_meta *meta;
	int i;

	b->rc = ama_meta_open(&meta, repo, 0);
	if (b->rc < 0)
		return NULL;
	for (i = 0; i < 10 && b->rc == 0; i++) {
		struct ama_manifest m;
		struct ama_version prev = { 0, 0, (uint32_t)i - 1 };
		char name[16];
		int j;

		ama_manifest_init(&m);
		m.version.z = (uint32_t)i;
		m.has_parent = i > 0;
		m.parent = prev;
		m.class = ama_strdup("par");
		m.seq = (uint64_t)b->id;
		m.author = ama_strdup("p");
		for (j = 0; j < 20; j++) {
			snprintf(name, sizeof(name), "d/f%02d", j);
			add(&m.objects, name, (unsigned)(j == i ? 1000 + i : j));
		}
		b->rc = ama_meta_write(meta, NULL, &m, NULL);
		ama_manifest_release(&m);
	}
	ama_meta_close(meta);
	return NULL;
}

Test(meta, writers_of_different_assets_run_in_parallel)
{
	enum { THREADS = 4 };
	struct ama_meta *meta = open_new();
	struct builder b[THREADS];
	pthread_t t[THREADS];
	struct ama_buf out = AMA_BUF_INIT;
	int i;

	for (i = 0; i < THREADS; i++) {
		b[i] = (struct builder){ i + 1, 0 };
		cr_assert_eq(pthread_create(&t[i], NULL, build_asset, &b[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < THREADS; i++) {
		struct ama_meta_version v;
		struct ama_objlist l = AMA_OBJLIST_INIT;
		struct ama_version last = { 0, 0, 9 };

		cr_assert_eq(b[i].rc, 0, "thread %d", i);
		cr_assert_eq(ama_meta_head(meta, &v, "par", (uint64_t)i + 1), 0);
		cr_assert_eq(ama_version_cmp(&v.version, &last), 0);
		cr_assert_eq(ama_meta_read_objects(meta, &l, &v), 0);
		cr_assert_eq(l.n, 20);
		cr_assert_eq(l.v[9].size, 1000 + 1009);
		ama_objlist_release(&l);
		ama_meta_version_release(&v);
	}
	cr_assert_eq(run(&out, "git --git-dir='%s' fsck --strict", repo), 0);
	cr_assert_str_eq(out.s,
			 "notice: HEAD points to an unborn branch (main)\n");
	cr_assert_eq(run(&out, "git --git-dir='%s' rev-list --all | wc -l",
			 repo), 0);
	cr_assert_str_eq(out.s, "40\n");
	ama_buf_release(&out);
	ama_meta_close(meta);
}

/* The descriptors of this process open on a .pack file. */
static size_t open_pack_files(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	size_t n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char link[300], target[512];
		ssize_t len;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len < 5)
			continue;
		target[len] = '\0';
		if (!strcmp(target + len - 5, ".pack"))
			n++;
	}
	closedir(d);
	return n;
}

Test(meta, reading_many_versions_keeps_few_packs_open)
{
	struct ama_meta *meta = open_new();
	struct ama_meta_version prev, v;
	unsigned i;
	size_t without;

	/* 40 versions, each one file more: 40 packs */
	for (i = 0; i < 40; i++) {
		struct ama_manifest m;
		char ver[AMA_VERSION_BUFSIZE], par[AMA_VERSION_BUFSIZE];
		struct ama_version vv = { 0, 0, i }, pv = { 0, 0, i - 1 };
		unsigned k;

		ama_version_format(ver, &vv);
		if (i)
			ama_version_format(par, &pv);
		manifest(&m, "runs", 1, ver, i ? par : NULL, "v");
		for (k = 0; k <= i; k++) {
			char path[32];

			snprintf(path, sizeof(path), "d%02u/f", k);
			add(&m.objects, path, k);
		}
		write_ok(meta, &v, &m, NULL);
		ama_manifest_release(&m);
		if (i)
			ama_meta_version_release(&prev);
		prev = v;
	}
	ama_meta_version_release(&prev);
	ama_meta_close(meta);
	cr_assert_eq(packs(&(size_t){ 0 }), 40);

	/* no limit to speak of: every pack read stays open */
	ama_meta_set_open_packs(1000);
	meta = open_new();
	for (i = 0; i < 40; i++) {
		struct ama_version want = { 0, 0, i };
		struct ama_objlist l = AMA_OBJLIST_INIT;

		cr_assert_eq(ama_meta_find_version(meta, &v, "runs", 1, &want),
			     0);
		cr_assert_eq(ama_meta_read_objects(meta, &l, &v), 0);
		ama_objlist_release(&l);
		ama_meta_version_release(&v);
	}
	without = open_pack_files();
	ama_meta_close(meta);
	cr_assert_geq(without, 40, "%zu", without);

	/* limited: at most that many, however many versions are read */
	ama_meta_set_open_packs(4);
	meta = open_new();
	for (i = 0; i < 40; i++) {
		struct ama_version want = { 0, 0, 39 - i };
		struct ama_objlist l = AMA_OBJLIST_INIT;

		cr_assert_eq(ama_meta_find_version(meta, &v, "runs", 1, &want),
			     0);
		cr_assert_eq(ama_meta_read_objects(meta, &l, &v), 0, "%s",
			     ama_error_msg());
		cr_assert_eq(l.n, 40 - i);
		ama_objlist_release(&l);
		ama_meta_version_release(&v);
		cr_assert_leq(open_pack_files(), 4, "%zu after %u versions",
			      open_pack_files(), i + 1);
	}
	ama_meta_close(meta);
	ama_meta_set_open_packs(AMA_META_OPEN_PACKS);
}
