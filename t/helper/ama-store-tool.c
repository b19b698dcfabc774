/* ama-store-tool: drive lib/store.h from shell tests (built for make check, never installed). */
#include "auto-config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "md5.h"
#include "prog.h"
#include "store.h"

/*
 * Credentials come only from the environment and the AWS files, as for
 * every ama program: there is no option for a key or a secret.
 */
static const char usage_str[] =
	"ama-store-tool [-z] [-j <n>] [--role <role>] <url> <command> [<arg>...]\n"
	"commands:\n"
	"  mb                              create the bucket (or folder)\n"
	"  put [--md5 <hex>] [--if-none-match] [--single] <key> <file>\n"
	"  put-multipart [--md5 <hex>] <key> <file>   parts of [transfer] part-size, one by one\n"
	"  get [--range <off>:<len>] <key>   the bytes to stdout\n"
	"  head <key>...\n"
	"  list [--max-keys <n>] [--pages] [<prefix>]\n"
	"  delete <key>...\n"
	"  copy [--if-match <etag>] <src-url> <src-key> <dst-key>\n"
	"  batch-put [--prefix <p>] [--progress]   records \"<md5|-> <size|-> TAB path\" on stdin\n"
	"  batch-head                      keys on stdin";

struct tool {
	struct ama_common c;
	const char *role, *md5hex, *range, *if_match, *prefix;
	int if_none_match, single, max_keys, pages, jobs, progress;
	uint64_t sent;		/* --progress: bytes the batch reported */
	struct ama_config *cfg;
	struct ama_store *s;
	int status;
};

static int fail(struct tool *t, const char *subject)
{
	int st = ama_report(ama_error_exit_status(ama_error_code()) == 2 ?
			    NULL : subject);

	if (st > t->status)
		t->status = st;
	return st;
}

static void info_fields(char *buf, size_t n, const struct ama_store_info *i)
{
	snprintf(buf, n, "%" PRIu64 " %s %s %s %s", i->size,
		 i->etag[0] ? i->etag : "-", i->etag_is_md5 ? "md5" : "other",
		 i->multipart ? "multipart" : "single",
		 i->meta_md5[0] ? i->meta_md5 : "-");
}

static void print_info(struct tool *t, const char *key,
		       const struct ama_store_info *i)
{
	char f[256];

	info_fields(f, sizeof(f), i);
	ama_record_write(&t->c.out, f, key, strlen(key));
}

static int get_md5(struct tool *t, struct ama_md5 *m)
{
	if (!t->md5hex)
		return 0;
	if (ama_md5_from_hex(m, t->md5hex) < 0) {
		ama_usage_error(&t->c, "--md5 wants 32 lowercase hex digits");
		return -1;
	}
	return 1;
}

static int cmd_put(struct tool *t, int argc, char **argv)
{
	struct ama_store_put p = { 0 };
	struct ama_store_info info;
	struct ama_md5 m;
	int has = get_md5(t, &m);

	if (argc != 2)
		return ama_usage_error(&t->c, "put takes <key> <file>");
	if (has < 0)
		return 2;
	p.key = argv[0];
	p.path = argv[1];
	p.md5 = has ? &m : NULL;
	p.size = AMA_STORE_ANY_SIZE;
	p.flags = (t->if_none_match ? AMA_STORE_IF_NONE_MATCH : 0) |
		(t->single ? AMA_STORE_NO_MULTIPART : 0);
	if (ama_store_put(t->s, &p, &info) < 0)
		return fail(t, argv[0]);
	print_info(t, argv[0], &info);
	return 0;
}

static int cmd_put_multipart(struct tool *t, int argc, char **argv)
{
	struct ama_store_upload *u;
	struct ama_store_info info;
	struct ama_md5 m;
	struct stat st;
	uint64_t part = ama_store_tuning(t->s)->part_size, off;
	int has = get_md5(t, &m), n = 1, rc;

	if (argc != 2)
		return ama_usage_error(&t->c,
				       "put-multipart takes <key> <file>");
	if (has < 0)
		return 2;
	if (stat(argv[1], &st) < 0) {
		ama_msg_path(argv[1], "cannot stat: %s", strerror(errno));
		return 1;
	}
	if (!has) {	/* the claim recorded with the upload */
		struct ama_hasher h;
		struct ama_stat sr;

		ama_hasher_init(&h);
		rc = ama_md5_file(&h, &m, &sr, argv[1]);
		ama_hasher_release(&h);
		if (rc < 0)
			return fail(t, argv[1]);
	}
	if (ama_store_mpu_start(&u, t->s, argv[0], &m) < 0)
		return fail(t, argv[0]);
	for (off = 0; off < (uint64_t)st.st_size || off == 0; off += part) {
		uint64_t len = (uint64_t)st.st_size - off < part ?
			(uint64_t)st.st_size - off : part;

		rc = ama_store_mpu_part(u, n++, argv[1], off, len);
		if (rc < 0) {
			fail(t, argv[0]);
			ama_store_mpu_abort(u);
			return t->status;
		}
		if (len == 0)
			break;
	}
	if (ama_store_mpu_complete(u, &info) < 0)
		return fail(t, argv[0]);
	print_info(t, argv[0], &info);
	return 0;
}

static int write_out(void *ctx, const void *data, size_t n)
{
	const char *p = data;

	(void)ctx;
	while (n > 0) {
		ssize_t w = write(1, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return ama_error_set_errno(AMA_EIO,
						   "cannot write output");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int cmd_get(struct tool *t, int argc, char **argv)
{
	uint64_t off = 0, len = AMA_STORE_TO_END;

	if (argc != 1)
		return ama_usage_error(&t->c, "get takes <key>");
	if (t->range) {
		char *end;

		off = strtoull(t->range, &end, 10);
		if (*end != ':')
			return ama_usage_error(&t->c,
					       "--range wants <off>:<len>");
		len = strtoull(end + 1, &end, 10);
		if (*end)
			return ama_usage_error(&t->c,
					       "--range wants <off>:<len>");
	}
	if (ama_store_get(t->s, argv[0], off, len, write_out, NULL,
			  NULL) < 0)
		return fail(t, argv[0]);
	return 0;
}

static int cmd_head(struct tool *t, int argc, char **argv)
{
	struct ama_store_info info;
	int i;

	if (argc < 1)
		return ama_usage_error(&t->c, "head takes <key>...");
	for (i = 0; i < argc; i++) {
		if (ama_store_head(t->s, argv[i], &info) < 0) {
			if (fail(t, argv[i]) == 2)
				break;
			continue;
		}
		print_info(t, argv[i], &info);
	}
	return t->status;
}

static int cmd_list(struct tool *t, int argc, char **argv)
{
	struct ama_store_page page;
	char *after = NULL;
	int n = 0;
	size_t i;

	if (argc > 1)
		return ama_usage_error(&t->c, "list takes one <prefix>");
	do {
		if (ama_store_list_page(t->s, argc ? argv[0] : "", after,
					t->max_keys, &page) < 0) {
			free(after);
			return fail(t, argc ? argv[0] : NULL);
		}
		free(after);
		after = page.next;
		page.next = NULL;
		if (t->pages) {
			char f[64];

			snprintf(f, sizeof(f), "page %d %zu%c", ++n, page.n,
				 t->c.z ? '\0' : '\n');
			ama_writer_raw(&t->c.out, f, strlen(f) + t->c.z);
		}
		for (i = 0; i < page.n; i++)
			print_info(t, page.entries[i].key,
				   &page.entries[i].info);
		ama_store_page_release(&page);
	} while (after);
	return 0;
}

static int cmd_delete(struct tool *t, int argc, char **argv)
{
	int i;

	if (argc < 1)
		return ama_usage_error(&t->c, "delete takes <key>...");
	for (i = 0; i < argc; i++)
		if (ama_store_delete(t->s, argv[i]) < 0 &&
		    fail(t, argv[i]) == 2)
			break;
	return t->status;
}

static int cmd_copy(struct tool *t, int argc, char **argv)
{
	struct ama_store *src;
	int rc;

	if (argc != 3)
		return ama_usage_error(&t->c,
			"copy takes <src-url> <src-key> <dst-key>");
	if (ama_store_open(&src, argv[0], t->cfg, t->role) < 0)
		return fail(t, NULL);
	rc = ama_store_copy(t->s, argv[2], src, argv[1], t->if_match);
	ama_store_close(src);
	if (rc < 0)
		return fail(t, argv[2]);
	ama_record_write(&t->c.out, "copied", argv[2], strlen(argv[2]));
	return 0;
}

/* A batch item: what to print when it finishes. */
struct item {
	char md5[AMA_MD5_HEXLEN + 1];
	char *path;
};

static void batch_done(void *ctx, const struct ama_store_result *r)
{
	struct tool *t = ctx;
	struct item *it = r->udata;
	char f[256];

	if (r->rc == AMA_ENOTFOUND && !it) {
		ama_record_write(&t->c.out, "missing", r->key, strlen(r->key));
	} else if (r->rc < 0) {
		char msg[1024];

		/* r->error may be this thread's error buffer itself */
		snprintf(msg, sizeof(msg), "%s", r->error);
		ama_error_set(r->rc, "%s", msg);
		fail(t, r->path ? r->path : r->key);
	} else if (it) {
		snprintf(f, sizeof(f), "stored %s %" PRIu64 " %s", it->md5,
			 r->info.size, r->info.etag[0] ? r->info.etag : "-");
		ama_record_write(&t->c.out, f, it->path, strlen(it->path));
	} else {
		print_info(t, r->key, &r->info);
	}
	/* as each finishes: a reader downstream sees it at once */
	ama_writer_flush(&t->c.out);
	if (it) {
		free(it->path);
		free(it);
	}
}

/* Queue one "<md5|-> <size|-> TAB path" record. */
static int batch_put_one(struct tool *t, struct ama_store_batch *b,
			 const struct ama_record *rec)
{
	struct ama_store_put p = { 0 };
	struct ama_md5 m;
	struct ama_buf key = AMA_BUF_INIT;
	struct item *it;
	char *end;
	int rc;

	if (rec->nfields != 2)
		return ama_error_setp(AMA_EINVAL, rec->path,
				      "want \"<md5|-> <size|-> TAB path\"");
	it = ama_calloc(1, sizeof(*it));
	it->path = ama_strndup(rec->path, rec->path_len);
	p.size = AMA_STORE_ANY_SIZE;
	if (strcmp(rec->field[1], "-")) {
		p.size = strtoull(rec->field[1], &end, 10);
		if (*end || !*rec->field[1])
			goto bad;
	}
	if (strcmp(rec->field[0], "-")) {
		if (ama_md5_from_hex(&m, rec->field[0]) < 0)
			goto bad;
		snprintf(it->md5, sizeof(it->md5), "%s", rec->field[0]);
	} else {
		struct ama_hasher h;
		struct ama_stat st;

		ama_hasher_init(&h);
		rc = ama_md5_file(&h, &m, &st, it->path);
		ama_hasher_release(&h);
		if (rc < 0) {
			free(it->path);
			free(it);
			return rc;
		}
		ama_md5_to_hex(it->md5, &m);
	}
	ama_buf_addf(&key, "%s%s", t->prefix ? t->prefix : "", it->md5);
	p.key = key.s;
	p.path = it->path;
	p.md5 = &m;
	p.udata = it;
	rc = ama_store_batch_put(b, &p);
	ama_buf_release(&key);
	return rc < 0 ? 1 : 0;	/* 1: the batch stopped (reported) */
bad:
	free(it->path);
	free(it);
	return ama_error_setp(AMA_EINVAL, rec->path,
			      "want \"<md5|-> <size|-> TAB path\"");
}

static void batch_progress(void *ctx, void *udata, uint64_t bytes)
{
	struct tool *t = ctx;

	(void)udata;
	t->sent += bytes;
}

static int cmd_batch(struct tool *t, int argc, int put)
{
	struct ama_store_batch *b;
	struct ama_reader r;
	struct ama_record rec;
	int rc;

	if (argc)
		return ama_usage_error(&t->c, "batch commands read stdin");
	b = ama_store_batch_new(t->s, batch_done,
				t->progress ? batch_progress : NULL, t);
	ama_reader_init(&r, 0, t->c.z,
			put ? AMA_INPUT_RECORDS : AMA_INPUT_PATHS);
	while ((rc = ama_reader_next(&r, &rec)) != 0) {
		if (rc == AMA_EIO) {
			fail(t, NULL);
			break;
		}
		if (rc < 0) {
			ama_msg("%s", ama_error_msg());
			t->status = t->status > 1 ? t->status : 1;
			continue;
		}
		ama_error_clear();
		if (put)
			rc = batch_put_one(t, b, &rec);
		else
			rc = ama_store_batch_head(b, rec.path, NULL) < 0;
		if (rc == 1)
			break;
		if (rc < 0 && fail(t, rec.path) == 2)
			break;
	}
	ama_reader_release(&r);
	ama_store_batch_finish(b);
	if (t->progress)
		ama_msg("progress: %" PRIu64 " bytes sent", t->sent);
	return t->status;
}


int main(int argc, char **argv)
{
	struct tool t;
	const struct ama_option opts[] = {
		AMA_OPT_INT('j', "jobs", &t.jobs),
		AMA_OPT_STRING(0, "role", &t.role),
		AMA_OPT_STRING(0, "md5", &t.md5hex),
		AMA_OPT_FLAG(0, "if-none-match", &t.if_none_match),
		AMA_OPT_FLAG(0, "single", &t.single),
		AMA_OPT_STRING(0, "range", &t.range),
		AMA_OPT_INT(0, "max-keys", &t.max_keys),
		AMA_OPT_FLAG(0, "pages", &t.pages),
		AMA_OPT_FLAG(0, "progress", &t.progress),
		AMA_OPT_STRING(0, "if-match", &t.if_match),
		AMA_OPT_STRING(0, "prefix", &t.prefix),
		AMA_OPT_END
	};
	const char *cmd;
	int rc;

	memset(&t, 0, sizeof(t));
	ama_setprogname("ama-store-tool");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_Z, &t.c,
			      usage_str) < 0)
		return 2;
	if (argc < 2)
		return ama_usage_error(&t.c, "need <url> and <command>");
	if (!t.role)
		t.role = "staging";
	if (ama_config_load(&t.cfg, NULL) < 0 ||
	    ama_store_open(&t.s, argv[0], t.cfg, t.role) < 0) {
		fail(&t, NULL);
		ama_config_free(t.cfg);
		return ama_finish(&t.c, 2);
	}
	if (t.jobs > 0)
		ama_store_tuning(t.s)->jobs = t.jobs;
	/* SIGINT and SIGTERM stop the store's work cleanly, then kill us */
	ama_store_cancel_on_signals(t.s, NULL);
	cmd = argv[1];
	argc -= 2;
	argv += 2;
	if (!strcmp(cmd, "mb"))
		rc = ama_store_create_bucket(t.s) < 0 ? fail(&t, NULL) : 0;
	else if (!strcmp(cmd, "put"))
		rc = cmd_put(&t, argc, argv);
	else if (!strcmp(cmd, "put-multipart"))
		rc = cmd_put_multipart(&t, argc, argv);
	else if (!strcmp(cmd, "get"))
		rc = cmd_get(&t, argc, argv);
	else if (!strcmp(cmd, "head"))
		rc = cmd_head(&t, argc, argv);
	else if (!strcmp(cmd, "list"))
		rc = cmd_list(&t, argc, argv);
	else if (!strcmp(cmd, "delete"))
		rc = cmd_delete(&t, argc, argv);
	else if (!strcmp(cmd, "copy"))
		rc = cmd_copy(&t, argc, argv);
	else if (!strcmp(cmd, "batch-put"))
		rc = cmd_batch(&t, argc, 1);
	else if (!strcmp(cmd, "batch-head"))
		rc = cmd_batch(&t, argc, 0);
	else
		rc = ama_usage_error(&t.c, "unknown command '%s'", cmd);
	ama_store_cancel_on_signals(NULL, NULL);
	ama_store_close(t.s);
	ama_config_free(t.cfg);
	if (rc < t.status)
		rc = t.status;
	rc = ama_finish(&t.c, rc);
	ama_store_signal_exit();
	return rc;
}
