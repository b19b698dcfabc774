/* ama-log: the versions of the asset, newest first, and what each changed. */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assetenv.h"
#include "changes.h"
#include "error.h"
#include "meta.h"
#include "prog.h"

static const char usage_str[] =
	"ama log [-n <count>] [--name-status] [-z] [<pathspec>...]";

struct versions {
	struct ama_meta_version *v;
	size_t n, alloc;
};

static int gather(const struct ama_meta_version *v, void *ctx)
{
	struct versions *vs = ctx;
	struct ama_meta_version *c;

	if (vs->n == vs->alloc) {
		vs->alloc = vs->alloc ? 2 * vs->alloc : 16;
		vs->v = ama_realloc(vs->v, vs->alloc * sizeof(*vs->v));
	}
	c = &vs->v[vs->n++];
	*c = *v;
	c->class = ama_strdup(v->class);
	c->author = ama_strdup(v->author);
	c->message = ama_strdup(v->message);
	return 0;
}

/* "version 0.0.2", author and time, the message indented. */
static void header(struct ama_writer *w, const struct ama_meta_version *v)
{
	struct ama_buf b = AMA_BUF_INIT;
	char vs[AMA_VERSION_BUFSIZE], when[40];
	time_t t = (time_t)v->time;
	const char *m = v->message;
	struct tm tm;

	ama_version_format(vs, &v->version);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	ama_buf_addf(&b, "version %s\nAuthor: %s\nDate:   %s\n", vs,
		     v->author, when);
	while (m && *m) {
		size_t n = strcspn(m, "\n"), i;

		ama_buf_addstr(&b, "    ");
		for (i = 0; i < n; i++)
			ama_buf_addch(&b, (unsigned char)m[i] < 0x20 ||
				      m[i] == 0x7f ? '?' : m[i]);
		ama_buf_addch(&b, '\n');
		m += n + (m[n] == '\n');
	}
	ama_buf_addch(&b, '\n');
	ama_writer_raw(w, b.s, b.len);
	ama_buf_release(&b);
}

int main(int argc, char **argv)
{
	struct ama_common c;
	int max = -1, name_status = 0, rc;
	struct ama_option opts[] = {
		AMA_OPT_INT('n', NULL, &max),
		AMA_OPT_FLAG(0, "name-status", &name_status),
		AMA_OPT_END,
	};
	struct versions vs = { NULL, 0, 0 };
	struct ama_pathspec ps;
	struct ama_asset_env e;
	struct ama_meta *m = NULL;
	size_t i, shown = 0;

	ama_setprogname("ama-log");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_Z, &c,
			      usage_str) < 0)
		return 2;
	if (max == 0)
		return ama_usage_error(&c, "-n wants a count of 1 or more");
	memset(&ps, 0, sizeof(ps));
	rc = ama_asset_env_open(&e, AMA_ASSET_ENTER | AMA_ASSET_NEED_CLASS);
	if (rc == 0)
		rc = ama_pathspec_parse(&ps, &e.a, argv, (size_t)argc);
	if (rc == 0 && !e.seq)
		rc = ama_error_set(AMA_ENOTFOUND, "no versions yet: the asset "
				   "was never uploaded (ama upload)");
	if (rc == 0)
		rc = ama_meta_open(&m, ".ama/meta", 0);
	if (rc == 0)
		rc = ama_meta_log(m, e.class, e.seq, 0, gather, &vs);
	/* newest first; each against the one before it in the list */
	for (i = 0; rc == 0 && i < vs.n && (max < 0 || shown < (size_t)max);
	     i++) {
		struct ama_changes ch = { NULL, 0, 0 };
		const struct ama_meta_version *parent =
			i + 1 < vs.n ? &vs.v[i + 1] : NULL;

		if (name_status || ps.n)
			rc = ama_changes_versions(&ch, m, parent, &vs.v[i],
						  &ps);
		if (rc == 0 && (!ps.n || ch.n)) {
			header(&c.out, &vs.v[i]);
			if (name_status) {
				ama_changes_write(&c.out, &ch,
						  AMA_CHANGES_NAME_STATUS);
				ama_writer_raw(&c.out, "\n", 1);
			}
			shown++;
		}
		ama_changes_release(&ch);
	}
	rc = rc < 0 ? ama_report(NULL) : 0;
	for (i = 0; i < vs.n; i++)
		ama_meta_version_release(&vs.v[i]);
	free(vs.v);
	if (m)
		ama_meta_close(m);
	ama_pathspec_release(&ps);
	ama_asset_env_close(&e);
	return ama_finish(&c, rc);
}
