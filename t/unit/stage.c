/* t/unit/stage.c: one upload per content, shared outcomes, another path after a bad one. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "index.h"
#include "md5.h"
#include "stage.h"
#include "stat.h"
#include "store.h"

static char dir[64];
static struct ama_store *fstore;

static void setup(void)
{
	struct ama_buf url = AMA_BUF_INIT;

	snprintf(dir, sizeof(dir), "/tmp/ama-unit-stage.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(mkdir("store", 0755), 0);
	ama_buf_addf(&url, "file://%s/store", dir);
	cr_assert_eq(ama_store_open(&fstore, url.s, NULL, "staging"), 0);
	ama_buf_release(&url);
}

static void teardown(void)
{
	char cmd[128];

	ama_store_close(fstore);
	cr_assert_eq(chdir("/"), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		cr_log_warn("cannot remove %s", dir);
}

TestSuite(stage, .init = setup, .fini = teardown);

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* What the callbacks saw: "path=rc " in order, and the bytes sent. */
struct seen {
	struct ama_buf log;
	uint64_t bytes;
	int calls;
};

static void done(void *ctx, const struct ama_stage_result *r)
{
	struct seen *s = ctx;

	cr_assert_eq((uintptr_t)r->udata, (uintptr_t)s->calls + 100,
		     "%s", r->path);
	ama_buf_addf(&s->log, "%s=%d ", r->path, r->rc);
	if (r->rc < 0)
		cr_assert_not_null(r->error);
	s->calls++;
}

static void progress(void *ctx, uint64_t bytes)
{
	((struct seen *)ctx)->bytes += bytes;
}

static struct ama_md5 md5_of(const char *text)
{
	struct ama_md5 m;

	ama_md5_buffer(&m, text, strlen(text));
	return m;
}

static void read_object(struct ama_buf *out, const char *text)
{
	char hex[AMA_MD5_HEXLEN + 1], path[128], buf[64];
	struct ama_md5 m = md5_of(text);
	FILE *f;
	size_t n;

	ama_md5_to_hex(hex, &m);
	snprintf(path, sizeof(path), "store/top/%s", hex);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ama_buf_add(out, buf, n);
}

Test(stage, paths_sharing_a_content_share_one_upload)
{
	struct seen s = { AMA_BUF_INIT, 0, 0 };
	struct ama_stage *st;
	struct ama_md5 m = md5_of("hello"), w = md5_of("world!");
	struct ama_buf obj = AMA_BUF_INIT;

	write_file("a", "hello");
	write_file("b", "hello");
	write_file("c", "world!");
	st = ama_stage_new(fstore, "top/", done, progress, &s);
	cr_assert_eq(ama_stage_add(st, &m, 5, "a", (void *)100), 0);
	cr_assert_eq(ama_stage_add(st, &m, 5, "b", (void *)101), 0);
	cr_assert_eq(ama_stage_add(st, &w, 6, "c", (void *)102), 0);
	cr_assert_eq(ama_stage_finish(st), 0);
	cr_assert_eq(ama_stage_uploads(st), 2);
	ama_stage_free(st);
	cr_assert_str_eq(s.log.s, "a=0 b=0 c=0 ");
	cr_assert_eq(s.bytes, 11);
	read_object(&obj, "hello");
	read_object(&obj, "world!");
	cr_assert_str_eq(obj.s, "helloworld!");
	ama_buf_release(&obj);
	ama_buf_release(&s.log);
}

Test(stage, a_modified_path_fails_alone_and_the_next_is_sent)
{
	struct seen s = { AMA_BUF_INIT, 0, 0 };
	struct ama_stage *st;
	struct ama_md5 m = md5_of("hello");
	struct ama_buf obj = AMA_BUF_INIT;

	write_file("bad", "jello");	/* same size, other bytes */
	write_file("short", "hell");	/* another size */
	write_file("good", "hello");
	st = ama_stage_new(fstore, "top/", done, NULL, &s);
	cr_assert_eq(ama_stage_add(st, &m, 5, "bad", (void *)100), 0);
	cr_assert_eq(ama_stage_add(st, &m, 5, "short", (void *)101), 0);
	cr_assert_eq(ama_stage_add(st, &m, 5, "gone", (void *)102), 0);
	cr_assert_eq(ama_stage_add(st, &m, 5, "good", (void *)103), 0);
	cr_assert_eq(ama_stage_finish(st), 0);
	cr_assert_eq(ama_stage_uploads(st), 4);
	ama_stage_free(st);
	/* file:// puts run at once, so each failure is seen as it is added */
	ama_buf_reset(&obj);
	ama_buf_addf(&obj, "bad=%d short=%d gone=%d good=0 ", AMA_EDIGEST,
		     AMA_ECHANGED, AMA_ENOTFOUND);
	cr_assert_str_eq(s.log.s, obj.s);
	ama_buf_reset(&obj);
	read_object(&obj, "hello");
	cr_assert_str_eq(obj.s, "hello");
	ama_buf_release(&obj);
	ama_buf_release(&s.log);
}

Test(stage, after_success_a_path_is_answered_at_once)
{
	struct seen s = { AMA_BUF_INIT, 0, 0 };
	struct ama_stage *st;
	struct ama_md5 m = md5_of("hello");

	write_file("a", "hello");
	st = ama_stage_new(fstore, "top/", done, NULL, &s);
	cr_assert_eq(ama_stage_add(st, &m, 5, "a", (void *)100), 0);
	cr_assert_eq(s.calls, 1);
	/* not even read: the content is there */
	cr_assert_eq(ama_stage_add(st, &m, 5, "nonexistent", (void *)101),
		     0);
	cr_assert_eq(s.calls, 2);
	cr_assert_eq(ama_stage_finish(st), 0);
	cr_assert_eq(ama_stage_uploads(st), 1);
	ama_stage_free(st);
	cr_assert_str_eq(s.log.s, "a=0 nonexistent=0 ");
	ama_buf_release(&s.log);
}

Test(stage, the_same_md5_with_another_size_is_refused)
{
	struct seen s = { AMA_BUF_INIT, 0, 0 };
	struct ama_stage *st;
	struct ama_md5 m = md5_of("hello");
	char want[64];

	write_file("a", "hello");
	st = ama_stage_new(fstore, "top/", done, NULL, &s);
	cr_assert_eq(ama_stage_add(st, &m, 5, "a", (void *)100), 0);
	cr_assert_eq(ama_stage_add(st, &m, 6, "b", (void *)101), 0);
	cr_assert_eq(ama_stage_finish(st), 0);
	ama_stage_free(st);
	snprintf(want, sizeof(want), "a=0 b=%d ", AMA_EINVAL);
	cr_assert_str_eq(s.log.s, want);
	ama_buf_release(&s.log);
}

Test(stage, a_missing_store_stops_everything)
{
	struct seen s = { AMA_BUF_INIT, 0, 0 };
	struct ama_store *gone;
	struct ama_stage *st;
	struct ama_md5 m = md5_of("hello");

	write_file("a", "hello");
	cr_assert_eq(ama_store_open(&gone, "file:///nonexistent/ama-stage",
				    NULL, NULL), 0);
	st = ama_stage_new(gone, "top/", done, NULL, &s);
	cr_assert_eq(ama_stage_add(st, &m, 5, "a", (void *)100), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(),
			 "no such folder: /nonexistent/ama-stage");
	cr_assert_eq(ama_stage_add(st, &m, 5, "a", (void *)100), AMA_ESETUP);
	cr_assert_eq(ama_stage_finish(st), AMA_ESETUP);
	ama_stage_free(st);
	ama_store_close(gone);
	cr_assert_eq(s.calls, 0);
	ama_buf_release(&s.log);
}

/* --- the check before sending --- */

static struct ama_index *index_of(const char *path, const char *text)
{
	struct ama_index *idx;
	struct ama_index_entry e;

	cr_assert_eq(ama_index_load(&idx, "no-index"), 0);
	memset(&e, 0, sizeof(e));
	e.md5 = md5_of(text);
	cr_assert_eq(ama_stat_path(&e.st, path), 0);
	e.path = path;
	e.path_len = (uint32_t)strlen(path);
	ama_index_add(idx, &e);
	return idx;
}

Test(stage, a_file_as_added_is_sent)
{
	struct ama_index *idx;
	struct ama_md5 m = md5_of("hello");

	write_file("a", "hello");
	idx = index_of("a", "hello");
	cr_assert_eq(ama_stage_check(idx, "a", 1, &m, 5), AMA_STAGE_SEND);
	cr_assert_null(ama_stage_verdict_fix(AMA_STAGE_SEND));
	ama_index_free(idx);
}

Test(stage, the_index_must_hold_the_path_with_that_content)
{
	struct ama_index *idx;
	struct ama_md5 m = md5_of("hello"), w = md5_of("world");

	write_file("a", "hello");
	write_file("b", "hello");
	idx = index_of("a", "hello");
	cr_assert_eq(ama_stage_check(idx, "b", 1, &m, 5),
		     AMA_STAGE_NOT_IN_INDEX);
	cr_assert_eq(ama_stage_check(idx, "a", 1, &w, 5), AMA_STAGE_OTHER_MD5);
	cr_assert_eq(ama_stage_check(idx, "a", 1, &m, 6),
		     AMA_STAGE_OTHER_SIZE);
	cr_assert_str_eq(ama_stage_verdict_reason(AMA_STAGE_OTHER_MD5),
			 "index has another MD5 for it");
	cr_assert_str_eq(ama_stage_verdict_fix(AMA_STAGE_NOT_IN_INDEX), "add");
	ama_index_free(idx);
}

Test(stage, a_changed_stat_record_is_modified)
{
	struct ama_index *idx;
	struct ama_md5 m = md5_of("hello");

	write_file("a", "hello");
	idx = index_of("a", "hello");
	/* another size (times alone may fall in the clock's same tick) */
	write_file("a", "hello!");
	cr_assert_eq(ama_stage_check(idx, "a", 1, &m, 5), AMA_STAGE_MODIFIED);
	cr_assert_str_eq(ama_stage_verdict_reason(AMA_STAGE_MODIFIED),
			 "modified since added");
	ama_index_free(idx);
}

Test(stage, gone_or_not_a_file_is_deleted)
{
	struct ama_index *idx;
	struct ama_md5 m = md5_of("hello");

	write_file("a", "hello");
	idx = index_of("a", "hello");
	cr_assert_eq(unlink("a"), 0);
	cr_assert_eq(ama_stage_check(idx, "a", 1, &m, 5), AMA_STAGE_DELETED);
	cr_assert_eq(mkdir("a", 0755), 0);
	cr_assert_eq(ama_stage_check(idx, "a", 1, &m, 5), AMA_STAGE_DELETED);
	cr_assert_str_eq(ama_stage_verdict_fix(AMA_STAGE_DELETED), "remove");
	ama_index_free(idx);
}
