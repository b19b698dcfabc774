/* ama-mount: a published version as a read-only filesystem, fetched as it is read. */
#include "auto-config.h"

#include <stdio.h>
#include <string.h>

#include "assetenv.h"
#include "bucket.h"
#include "cache.h"
#include "error.h"
#include "mount.h"
#include "prog.h"
#include "ref.h"
#include "remote.h"

static const char usage_str[] =
	"ama mount [-j <n>] [--max-cache <size>] <class>/<seq>[@<version>] "
	"<dir>";

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_mount_opts o;
	const char *max = NULL;
	int jobs = -1;
	struct ama_option opts[] = {
		AMA_OPT_JOBS('j', "jobs", &jobs),
		AMA_OPT_STRING(0, "max-cache", &max),
		AMA_OPT_END,
	};
	struct ama_asset_env e;
	struct ama_manifest m;
	struct ama_remote r;
	struct ama_cache *cache = NULL;
	struct ama_buf fsname = AMA_BUF_INIT;
	struct ama_version v;
	struct ama_ref ref;
	char vs[AMA_VERSION_BUFSIZE];
	uint64_t seq;
	int rc;

	ama_setprogname("ama-mount");
	if (ama_parse_options(&argc, &argv, opts, 0, &c, usage_str) < 0)
		return 2;
	if (argc != 2)
		return ama_usage_error(&c, "wants CLASS/SEQ[@VERSION] and a "
				       "folder");
	memset(&o, 0, sizeof(o));
	if (max && ama_parse_size(max, &o.max_cache) < 0)
		return ama_usage_error(&c, "--max-cache: '%s' is not a size",
				       max);
	if (ama_ref_parse(&ref, argv[0]) < 0) {
		ama_msg("%s: %s", argv[0], ama_error_msg());
		return 2;
	}
	memset(&r, 0, sizeof(r));
	ama_manifest_init(&m);
	rc = ama_asset_env_open(&e, AMA_ASSET_OPTIONAL);
	if (rc == 0)
		rc = ama_remote_open(&r, e.cfg, ref.class);
	if (rc == 0)
		rc = ama_remote_resolve(&r, &ref, &seq, &v);
	if (rc == 0)
		rc = ama_bucket_manifest(r.store, &r.cls, seq, &v, &m);
	if (rc == 0)
		rc = ama_cache_open(&cache, NULL);
	if (rc == 0) {
		ama_version_format(vs, &v);
		ama_buf_addf(&fsname, "ama:%s/%llu@%s", ref.class,
			     (unsigned long long)seq, vs);
		o.m = &m;
		o.remote_url = r.url;
		o.cfg = e.cfg;
		o.top_hash = r.cls.top_hash;
		o.cache = cache;
		o.jobs = jobs > 0 ? jobs : 0;
		o.fsname = fsname.s;
		o.report = ama_msg_path_cb;
		rc = ama_mount_run(argv[1], &o);
	}
	if (rc < 0)
		rc = ama_report(NULL);
	ama_buf_release(&fsname);
	ama_cache_close(cache);
	ama_manifest_release(&m);
	ama_remote_close(&r);
	ama_asset_env_close(&e);
	return ama_finish(&c, rc);
}
