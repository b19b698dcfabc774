/* ama-list: the assets of a class, each with its newest version and when it was made. */
#include "auto-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "assetenv.h"
#include "client.h"
#include "error.h"
#include "prog.h"
#include "remote.h"

static const char usage_str[] = "ama list [<class>]";

struct show {
	struct ama_common *c;
	struct ama_client *cl;
	const char *class;
	size_t n;
};

static int newest(const struct ama_meta_version *v, void *ctx)
{
	struct ama_buf *b = ctx;
	char vs[AMA_VERSION_BUFSIZE], when[40];
	time_t t = (time_t)v->time;
	struct tm tm;

	ama_version_format(vs, &v->version);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	ama_buf_addf(b, "  %-8s %s  %s", vs, when, v->author);
	return 1;
}

static int one(const struct ama_asset_info *a, void *ctx)
{
	struct show *s = ctx;
	struct ama_buf b = AMA_BUF_INIT;
	int rc = 0;

	ama_buf_addf(&b, "%s/%llu", s->class, (unsigned long long)a->seq);
	if (a->has_head)
		rc = ama_client_versions(s->cl, s->class, a->seq, 1, newest,
					 &b);
	else
		ama_buf_addstr(&b, "  (no version yet)");
	ama_buf_addch(&b, '\n');
	if (rc >= 0)
		ama_writer_raw(&s->c->out, b.s, b.len);
	ama_buf_release(&b);
	s->n++;
	return rc < 0 ? rc : 0;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_asset_env e;
	struct ama_remote r;
	struct show s;
	int rc;

	ama_setprogname("ama-list");
	if (ama_parse_options(&argc, &argv, NULL, 0, &c, usage_str) < 0)
		return 2;
	if (argc > 1)
		return ama_usage_error(&c, "at most one class");
	if (argc && ama_manifest_check_class(argv[0]) < 0)
		return ama_usage_error(&c, "%s", ama_error_msg());
	memset(&s, 0, sizeof(s));
	memset(&r, 0, sizeof(r));
	s.c = &c;
	rc = ama_asset_env_open(&e, AMA_ASSET_OPTIONAL);
	s.class = argc ? argv[0] : e.class;
	if (rc == 0 && !s.class)
		rc = ama_error_set(AMA_ESETUP, "outside an asset, name the "
				   "class: ama list CLASS");
	if (rc == 0)
		rc = ama_manifest_check_class(s.class);
	if (rc == 0)
		rc = ama_remote_open(&r, e.cfg, s.class);
	if (rc == 0)
		rc = ama_client_open_reader(&s.cl, e.cfg, r.url);
	if (rc == 0)
		rc = ama_client_assets(s.cl, s.class, one, &s);
	if (rc == 0 && !s.n) {
		ama_msg("class %s has no assets yet", s.class);
		rc = 1;
	} else if (rc < 0) {
		rc = ama_report(NULL);
	}
	ama_client_close(s.cl);
	ama_remote_close(&r);
	ama_asset_env_close(&e);
	return ama_finish(&c, rc);
}
