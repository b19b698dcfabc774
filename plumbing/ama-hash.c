/* ama-hash: print the MD5 and size of each path, hashing files in parallel. */
#include "auto-config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "hashpool.h"
#include "prog.h"
#include "stat.h"

static const char usage_str[] =
	"ama-hash [-z] [--stdin] [-j <n>] [--stat] [<path>...]";

struct hash_opts {
	struct ama_common c;
	int stat;			/* --stat */
	int status;			/* 1 once a path failed */
	struct ama_hashpool *pool;
};

/* Once stdout has failed, ama_finish() says so; the rest is not hashed. */
static int output_failed(struct hash_opts *o)
{
	return o->c.out.err != 0;
}

static int print_result(const struct ama_hash_result *res, void *arg)
{
	struct hash_opts *o = arg;
	char hex[AMA_MD5_HEXLEN + 1], stat[AMA_STAT_FIELDS_MAX];
	struct ama_buf f = AMA_BUF_INIT;

	if (res->rc < 0) {
		ama_msg_path(res->error_path ? res->error_path : res->path,
			     "%s", res->error_msg);
		if (ama_error_exit_status(res->rc) > o->status)
			o->status = ama_error_exit_status(res->rc);
		return 0;
	}
	/*
	 * "<md5> <size>", "link" after the size for a symbolic link, then
	 * with --stat the rest of the stat record (it starts with the size)
	 */
	ama_md5_to_hex(hex, &res->md5);
	ama_buf_addf(&f, "%s %" PRIu64, hex, res->st.size);
	if (S_ISLNK(res->st.mode))
		ama_buf_addstr(&f, " link");
	if (o->stat) {
		ama_stat_format(stat, &res->st);
		ama_buf_addstr(&f, strchr(stat, ' '));
	}
	ama_record_write(&o->c.out, f.s, res->path, res->path_len);
	ama_buf_release(&f);
	return output_failed(o) ? AMA_EIO : 0;
}

static int flush_output(void *arg)
{
	struct hash_opts *o = arg;

	ama_writer_flush(&o->c.out);
	return output_failed(o) ? AMA_EIO : 0;
}

static int wait_input(void *arg, int fd)
{
	struct hash_opts *o = arg;
	int rc = ama_hashpool_wait_input(o->pool, fd);

	return output_failed(o) ? 0 : rc;
}

static int hash_one(struct ama_common *c, const struct ama_record *rec,
		    void *ctx)
{
	struct hash_opts *o = ctx;
	int rc = ama_hashpool_submit(o->pool, rec->path, rec->path_len, NULL);

	return output_failed(o) ? 0 : rc;
}

int main(int argc, char **argv)
{
	struct hash_opts o = { 0 };
	struct ama_option opts[] = {
		AMA_OPT_FLAG(0, "stat", &o.stat),
		AMA_OPT_END,
	};
	struct ama_hashpool_opts po = { 0 };
	int status;

	ama_setprogname("ama-hash");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_Z |
			      AMA_COMMON_STDIN | AMA_COMMON_JOBS, &o.c,
			      usage_str) < 0)
		return 2;
	po.jobs = o.c.jobs;
	po.done = print_result;
	po.idle = flush_output;
	po.arg = &o;
	if (ama_hashpool_new(&o.pool, &po) < 0)
		return ama_report(NULL), 2;
	o.c.wait_input = wait_input;
	o.c.wait_input_arg = &o;
	status = ama_run_records(&o.c, argc, argv, AMA_INPUT_PATHS,
				 hash_one, &o);
	/* only a failed stdout stops the pool, and ama_finish reports it */
	ama_hashpool_finish(o.pool);
	ama_hashpool_free(o.pool);
	if (o.status > status)
		status = o.status;
	return ama_finish(&o.c, status);
}
