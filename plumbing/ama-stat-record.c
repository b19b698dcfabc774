/* ama-stat-record: print the stat record of each path. */
#include "auto-config.h"

#include "error.h"
#include "prog.h"
#include "stat.h"

static const char usage_str[] =
	"ama-stat-record [-z] [--stdin] [<path>...]";

static int stat_one(struct ama_common *c, const struct ama_record *rec,
		    void *ctx)
{
	struct ama_stat st;
	char fields[AMA_STAT_FIELDS_MAX];
	int rc;

	(void)ctx;
	rc = ama_stat_path(&st, rec->path);
	if (rc < 0)
		return rc;
	if (!ama_stat_is_reg(&st))
		return ama_error_setp(AMA_ENOTREG, rec->path,
				      "not a regular file: %s",
				      ama_stat_type_name(st.mode));
	ama_stat_format(fields, &st);
	ama_record_write(&c->out, fields, rec->path, rec->path_len);
	return 0;
}

int main(int argc, char **argv)
{
	struct ama_common c;

	ama_setprogname("ama-stat-record");
	if (ama_parse_options(&argc, &argv, NULL,
			      AMA_COMMON_Z | AMA_COMMON_STDIN, &c,
			      usage_str) < 0)
		return 2;
	return ama_for_each_record(&c, argc, argv, AMA_INPUT_PATHS,
				   stat_one, NULL);
}
