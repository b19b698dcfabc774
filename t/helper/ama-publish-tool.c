/* ama-publish-tool: lib/publish.h for shell tests and benchmarks (never installed). */
#include "auto-config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "error.h"
#include "manifest.h"
#include "prog.h"
#include "publish.h"

/*
 * The stores are opened with the role "server" ([s3] server-profile, else
 * the usual AWS keys); credentials come only from the environment and the
 * AWS files. Output of the commands:
 *   class, classes   "<class_id> <top_hash> <created> TAB name"
 *   asset-create     the new seq ("N (claimed before)" for a repeated claim)
 *   assets           "<seq> <version|->"
 *   commit           reads "<md5> <size> TAB path" records; prints
 *                    "<version> <created|existed|nothing> <commit-id>",
 *                    or the problems (and exits 1)
 *   versions         "<version> <parent|-> <time> <commit-id> <author>
 *                    TAB message"
 *   manifest         the manifest's text
 */
static const char usage_str[] =
	"ama-publish-tool [-z] [-j <n>] --remote <url> --staging <url> "
	"--repo <path>\n"
	"                 <command> [<arg>...]\n"
	"commands:\n"
	"  class [--no-create] <name>\n"
	"  classes\n"
	"  asset-create <class> [<claim>]\n"
	"  assets <class>\n"
	"  commit [--parent <v>] [--author <a>] [--message <m>] "
	"[--time <t>]\n"
	"         <class> <seq>\n"
	"  versions [--max <n>] <class> <seq>\n"
	"  manifest <class> <seq> <version>";

struct tool {
	struct ama_common c;
	const char *remote, *staging, *repo, *parent, *author, *message,
		*time;
	int no_create, max, jobs;
	struct ama_config *cfg;
	struct ama_publish *p;
};

static int fail(const char *subject)
{
	return ama_report(subject);
}

static int parse_seq(struct tool *t, const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end || !*s || *s == '-' || *out == 0)
		return ama_usage_error(&t->c, "bad seq '%s'", s);
	return 0;
}

static int class_line(const struct ama_class_info *ci, void *ctx)
{
	struct tool *t = ctx;
	char f[128];

	snprintf(f, sizeof(f), "%s %s %" PRId64, ci->class_id, ci->top_hash,
		 ci->created);
	ama_record_write(&t->c.out, f, ci->name, strlen(ci->name));
	return 0;
}

static int cmd_class(struct tool *t, int argc, char **argv)
{
	struct ama_class_info ci;

	if (argc != 1)
		return ama_usage_error(&t->c, "class takes <name>");
	if (ama_publish_class(t->p, argv[0], !t->no_create, &ci) < 0)
		return fail(NULL);
	return class_line(&ci, t);
}

static int cmd_classes(struct tool *t, int argc)
{
	if (argc)
		return ama_usage_error(&t->c, "classes takes no argument");
	return ama_publish_classes(t->p, class_line, t) < 0 ? fail(NULL) : 0;
}

static int cmd_asset_create(struct tool *t, int argc, char **argv)
{
	char line[32];
	uint64_t seq;

	int created;

	if (argc != 1 && argc != 2)
		return ama_usage_error(&t->c, "asset-create takes <class> "
				       "[<claim>]");
	if (ama_publish_asset_create(t->p, argv[0], argc == 2 ? argv[1] :
				     NULL, &seq, &created) < 0)
		return fail(NULL);
	snprintf(line, sizeof(line), "%" PRIu64 "%s\n", seq,
		 created ? "" : " (claimed before)");
	ama_writer_raw(&t->c.out, line, strlen(line));
	return 0;
}

static int asset_line(const struct ama_asset_info *a, void *ctx)
{
	struct tool *t = ctx;
	char line[64], v[AMA_VERSION_BUFSIZE] = "-";

	if (a->has_head)
		ama_version_format(v, &a->head);
	snprintf(line, sizeof(line), "%" PRIu64 " %s\n", a->seq, v);
	ama_writer_raw(&t->c.out, line, strlen(line));
	return 0;
}

static int cmd_assets(struct tool *t, int argc, char **argv)
{
	if (argc != 1)
		return ama_usage_error(&t->c, "assets takes <class>");
	return ama_publish_assets(t->p, argv[0], asset_line, t) < 0 ?
		fail(NULL) : 0;
}

/* The records on stdin into l, sorted and checked. */
static int read_objects(struct tool *t, struct ama_objlist *l)
{
	struct ama_reader r;
	struct ama_record rec;
	int rc, status = 0;

	ama_reader_init(&r, 0, t->c.z, AMA_INPUT_RECORDS);
	while ((rc = ama_reader_next(&r, &rec)) != 0) {
		if (rc == AMA_EIO) {
			status = fail(NULL);
			break;
		}
		if (rc > 0)
			rc = ama_objlist_add_record(l, &rec);
		if (rc < 0) {
			int st = fail(NULL);

			if (st > status)
				status = st;
		}
	}
	ama_reader_release(&r);
	if (status == 0 && ama_objlist_sort(l) < 0)
		status = fail(NULL);
	return status;
}

static int cmd_commit(struct tool *t, int argc, char **argv)
{
	struct ama_objlist l = AMA_OBJLIST_INIT;
	struct ama_commit_request rq;
	struct ama_commit_result res;
	char line[160], v[AMA_VERSION_BUFSIZE];
	int rc;

	if (argc != 2)
		return ama_usage_error(&t->c, "commit takes <class> <seq>");
	memset(&rq, 0, sizeof(rq));
	rq.class = argv[0];
	if (parse_seq(t, argv[1], &rq.seq))
		return 2;
	if (t->parent) {
		if (ama_version_parse(&rq.parent, t->parent) < 0)
			return ama_usage_error(&t->c, "%s", ama_error_msg());
		rq.has_parent = 1;
	}
	if (t->time) {
		char *end;

		rq.time = strtoll(t->time, &end, 10);
		if (*end || !*t->time || rq.time <= 0)
			return ama_usage_error(&t->c, "bad time '%s'",
					       t->time);
	}
	rq.author = t->author ? t->author : "tester";
	rq.message = t->message ? t->message : "";
	rq.objects = &l;
	rc = read_objects(t, &l);
	if (rc) {
		ama_objlist_release(&l);
		return rc;
	}
	rc = ama_publish_commit(t->p, &rq, &res);
	if (rc == AMA_EREMOTE) {
		ama_writer_raw(&t->c.out, res.problems.s ? res.problems.s : "",
			       res.problems.len);
		rc = fail(NULL);
	} else if (rc < 0) {
		rc = fail(NULL);
	} else {
		ama_version_format(v, &res.version);
		snprintf(line, sizeof(line), "%s %s %s\n", v,
			 res.nothing ? "nothing" :
			 res.created ? "created" : "existed", res.commit_id);
		ama_writer_raw(&t->c.out, line, strlen(line));
	}
	ama_commit_result_release(&res);
	ama_objlist_release(&l);
	return rc;
}

static int version_line(const struct ama_meta_version *mv, void *ctx)
{
	struct tool *t = ctx;
	struct ama_buf f = AMA_BUF_INIT;
	char v[AMA_VERSION_BUFSIZE], pv[AMA_VERSION_BUFSIZE] = "-";

	ama_version_format(v, &mv->version);
	if (mv->has_parent)
		ama_version_format(pv, &mv->parent);
	ama_buf_addf(&f, "%s %s %" PRId64 " %s %s", v, pv, mv->time,
		     mv->commit_id, mv->author);
	ama_record_write(&t->c.out, f.s, mv->message, strlen(mv->message));
	ama_buf_release(&f);
	return 0;
}

static int cmd_versions(struct tool *t, int argc, char **argv)
{
	uint64_t seq;

	if (argc != 2)
		return ama_usage_error(&t->c, "versions takes <class> <seq>");
	if (parse_seq(t, argv[1], &seq))
		return 2;
	return ama_publish_versions(t->p, argv[0], seq, (size_t)t->max,
				    version_line, t) < 0 ? fail(NULL) : 0;
}

static int cmd_manifest(struct tool *t, int argc, char **argv)
{
	struct ama_buf text = AMA_BUF_INIT;
	struct ama_version v;
	uint64_t seq;
	int rc = 0;

	if (argc != 3)
		return ama_usage_error(&t->c, "manifest takes <class> <seq> "
				       "<version>");
	if (parse_seq(t, argv[1], &seq))
		return 2;
	if (ama_version_parse(&v, argv[2]) < 0)
		return ama_usage_error(&t->c, "%s", ama_error_msg());
	if (ama_publish_manifest(t->p, argv[0], seq, &v, &text) < 0)
		rc = fail(NULL);
	else
		ama_writer_raw(&t->c.out, ama_buf_str(&text), text.len);
	ama_buf_release(&text);
	return rc;
}

int main(int argc, char **argv)
{
	struct tool t;
	const struct ama_option opts[] = {
		AMA_OPT_STRING(0, "remote", &t.remote),
		AMA_OPT_STRING(0, "staging", &t.staging),
		AMA_OPT_STRING(0, "repo", &t.repo),
		AMA_OPT_FLAG(0, "no-create", &t.no_create),
		AMA_OPT_STRING(0, "parent", &t.parent),
		AMA_OPT_STRING(0, "author", &t.author),
		AMA_OPT_STRING(0, "message", &t.message),
		AMA_OPT_STRING(0, "time", &t.time),
		AMA_OPT_INT(0, "max", &t.max),
		AMA_OPT_INT('j', "jobs", &t.jobs),
		AMA_OPT_END
	};
	struct ama_publish_opts po;
	const char *cmd;
	int rc;

	memset(&t, 0, sizeof(t));
	ama_setprogname("ama-publish-tool");
	if (ama_parse_options(&argc, &argv, opts,
			      AMA_COMMON_Z, &t.c,
			      usage_str) < 0)
		return 2;
	if (argc < 1)
		return ama_usage_error(&t.c, "need a <command>");
	if (!t.remote || !t.staging || !t.repo)
		return ama_usage_error(&t.c, "need --remote, --staging and "
				       "--repo");
	if (ama_config_load(&t.cfg, NULL) < 0) {
		fail(NULL);
		return ama_finish(&t.c, 2);
	}
	memset(&po, 0, sizeof(po));
	po.remote_url = t.remote;
	po.staging_url = t.staging;
	po.repo_path = t.repo;
	po.cfg = t.cfg;
	po.jobs = t.jobs;
	if (ama_publish_open(&t.p, &po) < 0) {
		fail(NULL);
		ama_config_free(t.cfg);
		return ama_finish(&t.c, 2);
	}
	cmd = argv[0];
	argc--;
	argv++;
	if (!strcmp(cmd, "class"))
		rc = cmd_class(&t, argc, argv);
	else if (!strcmp(cmd, "classes"))
		rc = cmd_classes(&t, argc);
	else if (!strcmp(cmd, "asset-create"))
		rc = cmd_asset_create(&t, argc, argv);
	else if (!strcmp(cmd, "assets"))
		rc = cmd_assets(&t, argc, argv);
	else if (!strcmp(cmd, "commit"))
		rc = cmd_commit(&t, argc, argv);
	else if (!strcmp(cmd, "versions"))
		rc = cmd_versions(&t, argc, argv);
	else if (!strcmp(cmd, "manifest"))
		rc = cmd_manifest(&t, argc, argv);
	else
		rc = ama_usage_error(&t.c, "unknown command '%s'", cmd);
	ama_publish_close(t.p);
	ama_config_free(t.cfg);
	return ama_finish(&t.c, rc);
}
