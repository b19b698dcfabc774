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
};

static int one(const struct ama_meta_version *v, void *ctx)
{
	struct show *s = ctx;
	struct ama_buf line = AMA_BUF_INIT;
	char ver[AMA_VERSION_BUFSIZE], when[32];
	time_t t = (time_t)v->time;
	struct tm tm;
	const char *msg = v->message && *v->message ? v->message : "";
	size_t first = strcspn(msg, "\n");

	ama_version_format(ver, &v->version);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	ama_buf_addf(&line, "%c %-8s %s  %s  ",
		     s->current && !strcmp(s->current, ver) ? '*' : ' ',
		     ver, when, v->author);
	ama_buf_add(&line, msg, first);
	if (msg[first])
		ama_buf_addstr(&line, " ...");
	ama_buf_addch(&line, '\n');
	ama_writer_raw(&s->c->out, line.s, line.len);
	ama_buf_release(&line);
	return 0;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_asset asset;
	struct ama_config *cfg = NULL;
	struct ama_client *cl = NULL;
	struct show s;
	int max = 0, rc;
	struct ama_option opts[] = {
		AMA_OPT_INT('n', NULL, &max),
		AMA_OPT_END
	};
	const char *class, *seqs;
	uint64_t seq;

	ama_setprogname("ama-versions");
	if (ama_parse_options(&argc, &argv, opts, 0, &c, usage_str) < 0)
		return 2;
	if (argc)
		return ama_usage_error(&c, "no operands");
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
	seq = strtoull(seqs, NULL, 10);
	s.c = &c;
	s.current = ama_config_get(cfg, "asset", "version");
	rc = ama_client_open(&cl, cfg);
	if (rc == 0)
		rc = ama_client_versions(cl, class, seq, (size_t)max, one, &s);
	if (rc == AMA_ENOTFOUND) {
		ama_msg("no versions yet: %s/%s has none", class, seqs);
		rc = 1;
		goto out;
	}
	if (rc < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	ama_report(NULL);
	rc = 2;
out:
	ama_client_close(cl);
	ama_config_free(cfg);
	return ama_finish(&c, rc);
}
