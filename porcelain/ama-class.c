/* ama-class: the classes the store holds. */
#include "auto-config.h"

#include <string.h>

#include "assetenv.h"
#include "client.h"
#include "error.h"
#include "prog.h"

static const char usage_str[] = "ama class list";

static int one(const struct ama_class_info *ci, void *ctx)
{
	struct ama_writer *w = ctx;

	ama_writer_raw(w, ci->name, strlen(ci->name));
	ama_writer_raw(w, "\n", 1);
	return 0;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_asset_env e;
	struct ama_client *cl = NULL;
	int rc;

	ama_setprogname("ama-class");
	if (ama_parse_options(&argc, &argv, NULL, 0, &c, usage_str) < 0)
		return 2;
	if (argc != 1 || strcmp(argv[0], "list"))
		return ama_usage_error(&c, "the one subcommand is 'list'");
	rc = ama_asset_env_open(&e, AMA_ASSET_OPTIONAL);
	if (rc == 0)
		rc = ama_client_open_reader(&cl, e.cfg, NULL);
	if (rc == 0)
		rc = ama_client_classes(cl, one, &c.out);
	if (rc < 0)
		rc = ama_report(NULL);
	ama_client_close(cl);
	ama_asset_env_close(&e);
	return ama_finish(&c, rc);
}
