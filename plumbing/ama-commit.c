/* ama-commit: ask the publishing side to make the asset's object list its next version. */
#include "auto-config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "assetenv.h"
#include "buf.h"
#include "client.h"
#include "config.h"
#include "error.h"
#include "manifest.h"
#include "prog.h"
#include "settings.h"
#include "wire.h"

static const char usage_str[] =
	"ama-commit [-z] [-m <message>] [--parent=<version> | --no-parent] "
	"[--print-refused]";

struct opts {
	struct ama_common c;
	const char *message, *parent;
	int no_parent;
	int print_refused;	/* a refusal prints the objects refused */
};

static int add_record(struct ama_common *c, const struct ama_record *rec,
		      void *ctx)
{
	(void)c;
	return ama_objlist_add_record(ctx, rec);
}

/* The asset, its class and its number (which it must have by now). */
static int load_asset(struct ama_asset_env *as)
{
	int rc = ama_asset_env_open(as, AMA_ASSET_NEED_CLASS);

	if (rc == 0 && !as->seq)
		rc = ama_error_set(AMA_ESETUP, "the asset has no number yet: "
				   "run ama upload");
	return rc;
}

/*
 * "ama-commit: PATH: why" for each "<reason> TAB path" line; with refused
 * (may be NULL), each path's object as a record on it, as it came in.
 */
static void print_problems(const struct ama_buf *problems,
			   const struct ama_objlist *objects,
			   struct ama_writer *refused)
{
	struct ama_buf f = AMA_BUF_INIT;
	const char *s = ama_buf_str(problems), *end = s + problems->len;
	struct ama_buf path = AMA_BUF_INIT;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		const char *tab = memchr(s, '\t', (size_t)(le - s));
		const struct ama_object *o;
		size_t rlen;
		const char *why;

		if (!tab)
			tab = le;
		rlen = (size_t)(tab - s);
		ama_buf_reset(&path);
		if (tab < le) {
			const char *p = tab + 1;
			size_t plen = (size_t)(le - p);

			if (!plen || *p != '"' ||
			    ama_unquote_path(&path, p, plen) < 0) {
				ama_buf_reset(&path);
				ama_buf_add(&path, p, plen);
			}
		}
		if (rlen == 7 && !memcmp(s, "missing", 7))
			why = "missing from staging and remote";
		else if (rlen == 4 && !memcmp(s, "size", 4))
			why = "staged with another size than recorded";
		else if (rlen == 8 && !memcmp(s, "checksum", 8))
			why = "staged bytes do not match the recorded MD5";
		else
			why = NULL;
		if (why)
			ama_msg_path(ama_buf_str(&path), "%s", why);
		else
			ama_msg_path(ama_buf_str(&path), "%.*s", (int)rlen, s);
		o = refused ? ama_objlist_find(objects, ama_buf_str(&path),
					       path.len) : NULL;
		if (o) {
			ama_buf_reset(&f);
			ama_object_format_fields(&f, &o->md5, o->size);
			ama_record_write(refused, f.s, o->path, o->path_len);
		}
		s = nl ? nl + 1 : end;
	}
	ama_buf_release(&path);
	ama_buf_release(&f);
}

static int commit(struct opts *o, struct ama_asset_env *as,
		  const struct ama_objlist *objects)
{
	struct ama_commit_request rq;
	struct ama_commit_result res;
	struct ama_client *cl;
	char v[AMA_VERSION_BUFSIZE];
	int rc, status;

	memset(&rq, 0, sizeof(rq));
	rq.class = as->class;
	rq.seq = as->seq;
	rq.has_parent = as->has_version;
	rq.parent = as->version;
	rq.message = o->message ? o->message : "";
	rq.objects = objects;
	if (o->no_parent)
		rq.has_parent = 0;
	if (o->parent) {
		rq.has_parent = 1;
		ama_version_parse(&rq.parent, o->parent);
	}
	rc = ama_client_open(&cl, as->cfg);
	if (rc < 0) {
		ama_report(NULL);
		return 2;
	}
	rc = ama_client_commit(cl, &rq, &res);
	ama_client_close(cl);
	if (rc < 0) {
		/* refused or bad objects: the answer is no; the rest is setup */
		status = rc == AMA_EREMOTE || rc == AMA_EINVAL ? 1 : 2;
		print_problems(&res.problems, objects,
			       o->print_refused ? &o->c.out : NULL);
		ama_report(NULL);
		ama_commit_result_release(&res);
		return status;
	}
	ama_version_format(v, &res.version);
	ama_writer_raw(&o->c.out, v, strlen(v));
	ama_writer_raw(&o->c.out, "\n", 1);
	if (res.nothing)
		ama_msg("nothing to commit: %s has these objects", v);
	ama_commit_result_release(&res);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct ama_option opts[] = {
		AMA_OPT_STRING('m', "message", &o.message),
		AMA_OPT_STRING(0, "parent", &o.parent),
		AMA_OPT_FLAG(0, "no-parent", &o.no_parent),
		AMA_OPT_FLAG(0, "print-refused", &o.print_refused),
		AMA_OPT_END,
	};
	struct ama_asset_env as;
	struct ama_objlist objects = AMA_OBJLIST_INIT;
	struct ama_version pv;
	int status;

	memset(&o, 0, sizeof(o));
	memset(&as, 0, sizeof(as));
	ama_setprogname("ama-commit");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_Z, &o.c,
			      usage_str) < 0)
		return 2;
	if (argc)
		return ama_usage_error(&o.c, "records come on stdin, not as "
				       "operands");
	if (o.parent && o.no_parent)
		return ama_usage_error(&o.c, "--parent and --no-parent "
				       "exclude each other");
	if (o.parent && ama_version_parse(&pv, o.parent) < 0)
		return ama_usage_error(&o.c, "--parent: %s", ama_error_msg());
	if (o.message && !ama_wire_utf8_valid(o.message, strlen(o.message)))
		return ama_usage_error(&o.c, "the message is not valid UTF-8");
	if (load_asset(&as) < 0) {
		ama_report(NULL);
		status = 2;
		goto out;
	}
	status = ama_run_records(&o.c, 0, argv, AMA_INPUT_RECORDS,
				 add_record, &objects);
	if (status == 0 && ama_objlist_sort(&objects) < 0) {
		ama_report(NULL);
		status = 1;
	}
	if (status)
		ama_msg("nothing committed: the object list has errors");
	else
		status = commit(&o, &as, &objects);
	status = ama_finish(&o.c, status);
out:
	ama_objlist_release(&objects);
	ama_asset_env_close(&as);
	return status;
}
