/* meta-bench: time and size of the versions lib/meta writes, first imports and one-file changes. */
#include "auto-config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "meta.h"
#include "prog.h"

/*
 *   meta-bench [--keep] [<dir>]
 *
 * In a new folder under dir (default $TMPDIR or /tmp), for N = 10,000 and
 * 100,000 objects laid out as d%02u/s%02u/f%03u.bin (100 files a folder,
 * 100 folders a top folder, as notes/libgit2-metadata.md advises):
 *   - write version 0.0.0 into a new repository;
 *   - then, for N = 100,000, versions that change one file each: with the
 *     parent's objects given (as the server has them), and read back from
 *     the repository instead;
 *   - read the newest version's objects back and check them.
 * For each step: wall time, new pack bytes (pack + idx), new objects.
 */
static const char usage_str[] = "meta-bench [--keep] [<dir>]";

struct step {
	double seconds;
	unsigned long long bytes;
	unsigned long long objects;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes in objects/pack and objects in its indexes (idx v2 fan-out). */
static void pack_usage(const char *repo, unsigned long long *bytes,
		       unsigned long long *objects)
{
	struct ama_buf dir = AMA_BUF_INIT, path = AMA_BUF_INIT;
	struct dirent *e;
	DIR *d;

	*bytes = *objects = 0;
	ama_buf_addf(&dir, "%s/objects/pack", repo);
	d = opendir(dir.s);
	while (d && (e = readdir(d))) {
		struct stat st;
		size_t len = strlen(e->d_name);
		unsigned char fan[4];
		FILE *f;

		ama_buf_reset(&path);
		ama_buf_addf(&path, "%s/%s", dir.s, e->d_name);
		if (stat(path.s, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		*bytes += (unsigned long long)st.st_size;
		if (len < 4 || strcmp(e->d_name + len - 4, ".idx"))
			continue;
		f = fopen(path.s, "rb");
		if (f && fseek(f, 8 + 255 * 4, SEEK_SET) == 0 &&
		    fread(fan, 1, 4, f) == 4)
			*objects += (unsigned long long)fan[0] << 24 |
				    (unsigned long long)fan[1] << 16 |
				    (unsigned long long)fan[2] << 8 | fan[3];
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	ama_buf_release(&dir);
	ama_buf_release(&path);
}

static void objects_of(struct ama_objlist *l, unsigned n)
{
	struct ama_buf name = AMA_BUF_INIT;
	unsigned i;

	for (i = 0; i < n; i++) {
		struct ama_md5 md5;

		memset(&md5, 0, sizeof(md5));
		memcpy(md5.d, &i, sizeof(i));
		md5.d[15] = 0xa5;
		ama_buf_reset(&name);
		ama_buf_addf(&name, "d%02u/s%02u/f%03u.bin", i / 10000,
			     i / 100 % 100, i % 100);
		ama_objlist_add(l, &md5, 4096 + i, name.s, name.len);
	}
	ama_buf_release(&name);
}

static void manifest_of(struct ama_manifest *m, unsigned z,
			const struct ama_objlist *objs)
{
	size_t i;

	ama_manifest_init(m);
	m->version.z = z;
	m->has_parent = z > 0;
	m->parent.z = z ? z - 1 : 0;
	m->class = ama_strdup("bench");
	m->seq = 1;
	m->author = ama_strdup("bench");
	m->time = 1718000000 + z;
	m->message = ama_strdup("bench");
	for (i = 0; i < objs->n; i++)
		ama_objlist_add(&m->objects, &objs->v[i].md5, objs->v[i].size,
				objs->v[i].path, objs->v[i].path_len);
}

/* Write version 0.0.z of objs, measuring it. */
static int timed_write(struct ama_meta *meta, const char *repo, unsigned z,
		       const struct ama_objlist *objs,
		       const struct ama_objlist *parent, struct step *s)
{
	struct ama_manifest m;
	unsigned long long b0, o0;
	double t0;
	int rc;

	manifest_of(&m, z, objs);
	pack_usage(repo, &b0, &o0);
	t0 = now();
	rc = ama_meta_write(meta, NULL, &m, parent);
	s->seconds = now() - t0;
	pack_usage(repo, &s->bytes, &s->objects);
	s->bytes -= b0;
	s->objects -= o0;
	ama_manifest_release(&m);
	return rc;
}

static void print_step(const char *what, const struct step *s)
{
	printf("%-44s %10.3f ms %12llu B %8llu objects\n", what,
	       s->seconds * 1e3, s->bytes, s->objects);
}

static int bench_import(const char *base, unsigned n)
{
	struct ama_buf repo = AMA_BUF_INIT, what = AMA_BUF_INIT;
	struct ama_objlist objs = AMA_OBJLIST_INIT;
	struct ama_meta *meta = NULL;
	struct step s;
	int rc;

	ama_buf_addf(&repo, "%s/import-%u.git", base, n);
	objects_of(&objs, n);
	rc = ama_meta_open(&meta, repo.s, AMA_META_CREATE);
	if (rc == 0)
		rc = timed_write(meta, repo.s, 0, &objs, NULL, &s);
	if (rc == 0) {
		ama_buf_addf(&what, "first version, %u objects", n);
		print_step(what.s, &s);
	}
	ama_meta_close(meta);
	ama_objlist_release(&objs);
	ama_buf_release(&repo);
	ama_buf_release(&what);
	return rc;
}

/*
 * The part of a one-file version that grows with the asset: checking the
 * new list, the commit ids of parent and new list, their diff; all in
 * memory, done here on their own to show what is left for git.
 */
static void print_list_work(const struct ama_objlist *objs)
{
	char id[AMA_COMMIT_ID_HEXLEN + 1];
	struct ama_objlist_diff d;
	struct ama_diff_entry e;
	struct step s = { 0, 0, 0 };
	double t0 = now();

	if (ama_objlist_check(objs) < 0)
		return;
	ama_manifest_commit_id(id, NULL, objs);
	ama_manifest_commit_id(id, NULL, objs);
	ama_objlist_diff_init(&d, objs, objs);
	while (ama_objlist_diff_next(&d, &e) == 1)
		;
	s.seconds = now() - t0;
	print_step("  of which list check, 2 commit ids, diff", &s);
}

/* One-file versions on top of a 100,000-object first version. */
static int bench_change(const char *base, unsigned n)
{
	struct ama_buf repo = AMA_BUF_INIT;
	struct ama_objlist objs = AMA_OBJLIST_INIT, prev = AMA_OBJLIST_INIT;
	struct ama_objlist back = AMA_OBJLIST_INIT;
	struct ama_meta *meta = NULL;
	struct ama_meta_version head;
	struct step s, sum = { 0, 0, 0 };
	unsigned z, rounds = 10;
	size_t i;
	double t0;
	int rc;

	memset(&head, 0, sizeof(head));
	ama_buf_addf(&repo, "%s/change-%u.git", base, n);
	objects_of(&objs, n);
	rc = ama_meta_open(&meta, repo.s, AMA_META_CREATE);
	if (rc == 0)
		rc = timed_write(meta, repo.s, 0, &objs, NULL, &s);
	for (z = 1; z <= rounds && rc == 0; z++) {
		/* the parent's list, as the server holds it */
		for (i = 0; i < objs.n; i++)
			ama_objlist_add(&prev, &objs.v[i].md5, objs.v[i].size,
					objs.v[i].path, objs.v[i].path_len);
		objs.v[(z * 7919u) % n].size++;
		rc = timed_write(meta, repo.s, z, &objs, &prev, &s);
		ama_objlist_release(&prev);
		if (rc == 0 && z == 1)
			print_step("one-file change, parent objects given", &s);
		sum.seconds += s.seconds;
		sum.bytes += s.bytes;
		sum.objects += s.objects;
	}
	if (rc == 0) {
		sum.seconds /= rounds;
		sum.bytes /= rounds;
		sum.objects /= rounds;
		print_step("  mean of 10 such versions", &sum);
		objs.v[12345 % n].size++;
		rc = timed_write(meta, repo.s, z, &objs, NULL, &s);
	}
	if (rc == 0) {
		print_list_work(&objs);
		print_step("one-file change, parent read from the repo", &s);
		rc = ama_meta_head(meta, &head, "bench", 1);
	}
	if (rc == 0) {
		t0 = now();
		rc = ama_meta_read_objects(meta, &back, &head);
		s.seconds = now() - t0;
		s.bytes = s.objects = 0;
	}
	if (rc == 0) {
		print_step("read a version's objects back (checked)", &s);
		if (!ama_objlist_equal(&back, &objs))
			rc = ama_error_set(AMA_ECORRUPT,
					   "read back a different list");
	}
	ama_meta_version_release(&head);
	ama_meta_close(meta);
	ama_objlist_release(&objs);
	ama_objlist_release(&back);
	ama_buf_release(&repo);
	return rc;
}

int main(int argc, char **argv)
{
	int keep = 0;
	const struct ama_option opts[] = {
		AMA_OPT_FLAG(0, "keep", &keep),
		AMA_OPT_END,
	};
	struct ama_common c;
	struct ama_buf base = AMA_BUF_INIT, cmd = AMA_BUF_INIT;
	const char *tmp = getenv("TMPDIR");
	struct rusage ru;
	int rc;

	ama_setprogname("meta-bench");
	if (ama_parse_options(&argc, &argv, opts, 0, &c, usage_str) < 0)
		return 2;
	if (argc > 1)
		return ama_usage_error(&c, "too many operands");
	ama_buf_addf(&base, "%s/meta-bench-XXXXXX",
		     argc ? argv[0] : tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base.s)) {
		ama_error_setp_errno(AMA_ESETUP, base.s, "cannot create");
		return ama_report(NULL);
	}
	printf("# %s\n", base.s);
	rc = bench_import(base.s, 10000);
	if (rc == 0)
		rc = bench_import(base.s, 100000);
	if (rc == 0)
		rc = bench_change(base.s, 100000);
	getrusage(RUSAGE_SELF, &ru);
	printf("# peak RSS %ld MB\n", ru.ru_maxrss / 1024);
	if (rc < 0)
		rc = ama_report(NULL);
	if (!keep) {
		ama_buf_addf(&cmd, "rm -rf '%s'", base.s);
		if (system(cmd.s) != 0)
			ama_msg_path(base.s, "cannot remove");
	}
	ama_buf_release(&base);
	ama_buf_release(&cmd);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ama_msg("cannot write output");
		return 2;
	}
	return rc;
}
