/* ama-info: what the asset is: class, number, version, files, and where it lives. */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assetenv.h"
#include "cache.h"
#include "error.h"
#include "index.h"
#include "meta.h"
#include "progress.h"
#include "prog.h"
#include "settings.h"

static const char usage_str[] = "ama info";

static void line(struct ama_buf *b, const char *key, const char *value)
{
	ama_buf_addf(b, "%-9s %s\n", key, value ? value : "-");
}

/* The version: number, author, time, subject, as .ama/meta has it. */
static void version_line(struct ama_buf *b, const struct ama_asset_env *e)
{
	struct ama_meta_version v;
	struct ama_meta *m = NULL;
	char vs[AMA_VERSION_BUFSIZE], when[40];
	struct tm tm;
	time_t t;

	if (!e->has_version) {
		line(b, "version:", "none yet (ama upload)");
		return;
	}
	ama_version_format(vs, &e->version);
	memset(&v, 0, sizeof(v));
	if (ama_meta_open(&m, ".ama/meta", 0) == 0 &&
	    ama_meta_find_version(m, &v, e->class, e->seq, &e->version) == 0) {
		t = (time_t)v.time;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		ama_buf_addf(b, "%-9s %s by %s, %s\n", "version:", vs,
			     v.author, when);
	} else {
		line(b, "version:", vs);
	}
	ama_error_clear();
	ama_meta_version_release(&v);
	if (m)
		ama_meta_close(m);
}

static int files_line(struct ama_buf *b)
{
	struct ama_index *idx = NULL;
	struct ama_index_entry *en;
	uint64_t bytes = 0;
	size_t n, i, skipped = 0, pending = 0;
	char h[32];
	int rc = ama_index_load(&idx, ".ama/index");

	if (rc < 0)
		return rc;
	en = ama_index_entries(idx, &n);
	for (i = 0; i < n; i++) {
		bytes += en[i].st.size;
		skipped += (en[i].flags & AMA_ENTRY_SKIP) != 0;
		pending += en[i].state != AMA_STATE_COMMITTED;
	}
	ama_human_bytes(h, (double)bytes);
	ama_buf_addf(b, "%-9s %zu (%s)", "files:", n, h);
	if (skipped)
		ama_buf_addf(b, ", %zu not checked out", skipped);
	if (pending)
		ama_buf_addf(b, ", %zu not uploaded", pending);
	ama_buf_addch(b, '\n');
	ama_index_free(idx);
	return 0;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_asset_env e;
	struct ama_buf b = AMA_BUF_INIT;
	struct ama_cache *cache = NULL;
	char *remote, *staging, num[32];
	int rc;

	ama_setprogname("ama-info");
	if (ama_parse_options(&argc, &argv, NULL, 0, &c, usage_str) < 0)
		return 2;
	if (argc)
		return ama_usage_error(&c, "takes no operands");
	rc = ama_asset_env_open(&e, AMA_ASSET_ENTER | AMA_ASSET_NEED_CLASS);
	if (rc == 0) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)e.seq);
		ama_buf_addf(&b, "%-9s %s/%s\n", "asset:", e.class,
			     e.seq ? num : "(no number yet)");
		version_line(&b, &e);
		rc = files_line(&b);
	}
	if (rc == 0) {
		remote = ama_settings_client_store_url(e.cfg, "remote");
		staging = ama_settings_client_store_url(e.cfg, "staging");
		ama_error_clear();
		line(&b, "server:", ama_config_get(e.cfg, "server", "url") ?
		     ama_config_get(e.cfg, "server", "url") : "local");
		line(&b, "remote:", remote);
		line(&b, "staging:", staging);
		if (ama_cache_open(&cache, NULL) == 0)
			line(&b, "cache:", ama_cache_dir(cache));
		ama_cache_close(cache);
		free(remote);
		free(staging);
		ama_writer_raw(&c.out, b.s, b.len);
	}
	if (rc < 0)
		rc = ama_report(NULL);
	ama_buf_release(&b);
	ama_asset_env_close(&e);
	return ama_finish(&c, rc);
}
