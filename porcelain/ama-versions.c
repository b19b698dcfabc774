/* ama-versions: the versions of this asset, newest first: author, time, message. */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "asset.h"
#include "buf.h"
#include "client.h"
#include "config.h"
#include "error.h"
#include "prog.h"
#include "settings.h"

static const char usage_str[] = "ama versions [-n <count>]";

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

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_asset asset = { NULL, NULL };
	struct ama_config *cfg = NULL;
	struct ama_client *cl = NULL;
	struct show s;
	int max = -1, given_n, rc;
	struct ama_option opts[] = {
		AMA_OPT_INT('n', NULL, &max),
		AMA_OPT_END
	};
	const char *class, *seqs;
	char *end;
	uint64_t seq;

	ama_setprogname("ama-versions");
	if (ama_parse_options(&argc, &argv, opts, 0, &c, usage_str) < 0)
		return 2;
	given_n = max >= 0;
	if (argc)
		return ama_usage_error(&c, "no operands");
	if (given_n && max < 1)
		return ama_usage_error(&c, "-n wants a count of 1 or more");
	rc = ama_asset_find(&asset);
	if (rc == 0 && chdir(asset.root) < 0)
		rc = ama_error_setp_errno(AMA_ESETUP, asset.root,
					  "cannot enter");
	if (rc == 0)
		rc = ama_config_load(&cfg, ".ama/config");
	if (rc < 0)
		goto fail;
	ama_settings_apply_class(cfg);
	class = ama_config_get(cfg, "asset", "class");
	seqs = ama_config_get(cfg, "asset", "seq");
	if (!class || !seqs) {
		ama_msg("no versions yet: the asset was never uploaded "
			"(ama upload)");
		rc = 1;
		goto out;
	}
	seq = strtoull(seqs, &end, 10);
	if (*end || *seqs < '1' || *seqs > '9') {
		rc = ama_error_setp(AMA_ESETUP, ".ama/config", "[asset] seq: "
				    "'%s' is not an asset number", seqs);
		goto fail;
	}
	memset(&s, 0, sizeof(s));
	s.c = &c;
	s.current = ama_config_get(cfg, "asset", "version");
	rc = ama_client_open(&cl, cfg);
	if (rc == 0)
		rc = ama_client_versions(cl, class, seq,
					 given_n ? (size_t)max : 0, one, &s);
	if (rc == 0 && !s.n) {
		ama_msg("no versions yet: %s/%s has none", class, seqs);
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
	ama_client_close(cl);
	ama_config_free(cfg);
	ama_asset_release(&asset);
	return ama_finish(&c, rc);
}
