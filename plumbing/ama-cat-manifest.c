/* ama-cat-manifest: print the object records of a published version, read from the remote bucket. */
#include "auto-config.h"

#include <string.h>

#include "assetenv.h"
#include "bucket.h"
#include "error.h"
#include "prog.h"
#include "ref.h"
#include "remote.h"

static const char usage_str[] =
	"ama-cat-manifest [-z] [--header] <class>/<seq>[@<version>]";

/* The header lines (up to the empty line), each a record of its own. */
static void print_header(struct ama_common *c, const struct ama_buf *text)
{
	const char *p = text->s, *end = text->s + text->len;

	while (p < end && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		ama_writer_raw(&c->out, p, (size_t)(nl - p));
		ama_writer_raw(&c->out, "\0", 1);
		p = nl + 1;
	}
	ama_writer_raw(&c->out, "\0", 1);
}

static void print_objects(struct ama_common *c, const struct ama_objlist *l)
{
	struct ama_buf f = AMA_BUF_INIT;
	size_t i;

	for (i = 0; i < l->n; i++) {
		ama_buf_reset(&f);
		ama_object_format(&f, &l->v[i]);
		ama_record_write(&c->out, f.s, l->v[i].path,
				 l->v[i].path_len);
	}
	ama_buf_release(&f);
}

int main(int argc, char **argv)
{
	struct ama_common c;
	int header = 0;
	struct ama_option opts[] = {
		AMA_OPT_FLAG(0, "header", &header),
		AMA_OPT_END,
	};
	struct ama_asset_env env;
	struct ama_remote r;
	struct ama_manifest m;
	struct ama_buf text = AMA_BUF_INIT;
	struct ama_version v;
	struct ama_ref ref;
	uint64_t seq;
	int rc;

	ama_setprogname("ama-cat-manifest");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_Z, &c,
			      usage_str) < 0)
		return 2;
	if (argc != 1)
		return ama_usage_error(&c, "wants one CLASS/SEQ[@VERSION]");
	if (ama_ref_parse(&ref, argv[0]) < 0) {
		ama_msg("%s: %s", argv[0], ama_error_msg());
		return 2;
	}
	memset(&r, 0, sizeof(r));
	ama_manifest_init(&m);
	rc = ama_asset_env_open(&env, AMA_ASSET_OPTIONAL);
	if (rc == 0)
		rc = ama_remote_open(&r, env.cfg, ref.class);
	if (rc == 0)
		rc = ama_remote_resolve(&r, &ref, &seq, &v);
	if (rc == 0)
		rc = ama_bucket_manifest_text(r.store, &r.cls, seq, &v, &text,
					      &m);
	if (rc < 0) {
		rc = ama_report(NULL);
	} else {
		if (header && !c.z)
			ama_writer_raw(&c.out, text.s, text.len);
		else if (header)
			print_header(&c, &text);
		if (!header || c.z)
			print_objects(&c, &m.objects);
	}
	ama_manifest_release(&m);
	ama_buf_release(&text);
	ama_remote_close(&r);
	ama_asset_env_close(&env);
	return ama_finish(&c, rc);
}
