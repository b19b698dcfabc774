/* ama-versions: the versions of this asset, newest first: author, time, message. */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "assetenv.h"
#include "buf.h"
#include "error.h"
#include "meta.h"
#include "prog.h"
#include "readenv.h"

static const char usage_str[] = "ama versions [-n <count>] [--fetch]";

struct show {
	struct ama_common *c;
	const char *current;
	size_t n;
};

/* The message's first line, each control byte shown as '?'. */
static void add_subject(struct ama_buf *line, const char *msg)
{
	size_t first = strcspn(msg, "\n"), i;

	for (i = 0; i < first; i++) {
		unsigned char ch = (unsigned char)msg[i];

		ama_buf_addch(line, ch < 0x20 || ch == 0x7f ? '?' : (char)ch);
	}
	if (msg[first])
		ama_buf_addstr(line, " ...");
}

static int one(const struct ama_meta_version *v, void *ctx)
{
	struct show *s = ctx;
	struct ama_buf line = AMA_BUF_INIT;
	char ver[AMA_VERSION_BUFSIZE], when[32];
	time_t t = (time_t)v->time;
	struct tm tm;

	ama_version_format(ver, &v->version);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	ama_buf_addf(&line, "%c %-8s %s  %s",
		     s->current && !strcmp(s->current, ver) ? '*' : ' ',
		     ver, when, v->author);
	if (v->message && *v->message) {
		ama_buf_addstr(&line, "  ");
		add_subject(&line, v->message);
	}
	ama_buf_addch(&line, '\n');
	ama_writer_raw(&s->c->out, line.s, line.len);
	ama_buf_release(&line);
	s->n++;
	return 0;
}

/*
 * .ama/meta answers, offline; it is brought up to date first when asked
 * (--fetch), or when it lacks the version .ama/config says the asset is
 * at (an upload or switch whose sync did not finish).
 */
static int sync_needed(struct ama_asset_env *e, int *need)
{
	struct ama_meta_version v;
	struct ama_meta *meta = NULL;
	int rc = ama_meta_open(&meta, ".ama/meta", 0);

	memset(&v, 0, sizeof(v));
	if (rc == AMA_ENOTFOUND) {
		ama_error_clear();
		*need = 1;
		return 0;
	}
	if (rc == 0)
		rc = e->has_version ?
			ama_meta_find_version(meta, &v, e->class, e->seq,
					      &e->version) :
			ama_meta_head(meta, &v, e->class, e->seq);
	if (rc == AMA_ENOTFOUND) {
		ama_error_clear();
		*need = 1;
		rc = 0;
	}
	ama_meta_version_release(&v);
	ama_meta_close(meta);
	return rc;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_asset_env e;
	struct ama_readenv r;
	struct ama_meta *meta = NULL;
	struct show s;
	int max = -1, given_n, rc, fetch = 0;
	struct ama_option opts[] = {
		AMA_OPT_INT('n', NULL, &max),
		AMA_OPT_FLAG(0, "fetch", &fetch),
		AMA_OPT_END
	};
	char vs[AMA_VERSION_BUFSIZE];

	ama_setprogname("ama-versions");
	if (ama_parse_options(&argc, &argv, opts, 0, &c, usage_str) < 0)
		return 2;
	given_n = max >= 0;
	if (argc)
		return ama_usage_error(&c, "no operands");
	if (given_n && max < 1)
		return ama_usage_error(&c, "-n wants a count of 1 or more");
	memset(&r, 0, sizeof(r));
	rc = ama_asset_env_open(&e, AMA_ASSET_ENTER | AMA_ASSET_NEED_CLASS);
	if (rc < 0)
		goto fail;
	if (!e.seq) {
		ama_msg("no versions yet: the asset was never uploaded "
			"(ama upload)");
		rc = 1;
		goto out;
	}
	if (!fetch)
		rc = sync_needed(&e, &fetch);
	if (rc == 0 && fetch) {
		rc = ama_readenv_open(&r, e.cfg, e.class);
		if (rc == 0)
			rc = ama_readenv_fetch(&r, e.seq);
		ama_readenv_close(&r);
	}
	if (rc >= 0)
		rc = ama_meta_open(&meta, ".ama/meta", 0);
	memset(&s, 0, sizeof(s));
	s.c = &c;
	if (e.has_version) {
		ama_version_format(vs, &e.version);
		s.current = vs;
	}
	if (rc == 0)
		rc = ama_meta_log(meta, e.class, e.seq,
				  given_n ? (size_t)max : 0, one, &s);
	if (rc == AMA_ENOTFOUND || (rc == 0 && !s.n)) {
		ama_msg("no versions yet: %s/%llu has none", e.class,
			(unsigned long long)e.seq);
		rc = 1;
		goto out;
	}
	if (rc < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	/* no such asset or class there: a "no"; the rest is setup */
	ama_report(NULL);
	rc = rc == AMA_ENOTFOUND ? 1 : 2;
out:
	if (meta)
		ama_meta_close(meta);
	ama_asset_env_close(&e);
	return ama_finish(&c, rc);
}
