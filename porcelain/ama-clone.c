/* ama-clone: a new folder holding a published version of an asset, or part of it. */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clone.h"
#include "error.h"
#include "prog.h"
#include "record.h"
#include "store.h"

static const char usage_str[] =
	"ama clone [-q | --quiet] [-j <n>] [--link=hard] "
	"[--no-external-links] <class>/<seq>[@<version>] [<dir>] "
	"[-- <pathspec>...]";

int main(int argc, char **argv)
{
	struct ama_common c;
	struct ama_clone_opts o;
	struct ama_clone_result res;
	const char *link = NULL;
	struct ama_option opts[] = {
		AMA_OPT_JOBS('j', "jobs", &o.jobs),
		AMA_OPT_STRING(0, "link", &link),
		AMA_OPT_FLAG(0, "no-external-links", &o.no_external_links),
		AMA_OPT_END,
	};
	char vs[AMA_VERSION_BUFSIZE];
	int i, rc;

	memset(&o, 0, sizeof(o));
	o.jobs = -1;
	ama_setprogname("ama-clone");
	/* what follows "--" are pathspecs, whatever they look like */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			o.pathspecs = argv + i + 1;
			o.npathspecs = (size_t)(argc - i - 1);
			argc = i;
			break;
		}
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_QUIET, &c,
			      usage_str) < 0)
		return 2;
	if (o.jobs < 0)
		o.jobs = 0;	/* [transfer] jobs */
	if (argc < 1 || argc > 2)
		return ama_usage_error(&c, "wants CLASS/SEQ[@VERSION] and at "
				       "most a folder");
	if (link && strcmp(link, "hard"))
		return ama_usage_error(&c, "--link takes only 'hard'");
	if (ama_ref_parse(&o.ref, argv[0]) < 0) {
		ama_msg("%s: %s", argv[0], ama_error_msg());
		return 2;
	}
	o.dir = argc == 2 ? argv[1] : NULL;
	o.hard_link = link != NULL;
	o.progress = c.progress;
	o.report = ama_msg_path_cb;
	ama_store_cancel_on_signals(NULL, NULL);
	o.stop = ama_store_signal_flag();
	rc = ama_clone(&o, &res);
	if (rc < 0) {
		rc = ama_report(NULL);
	} else if (rc == 1 && res.stats.refused) {
		ama_msg("nothing changed: %zu paths to settle first",
			res.stats.refused);
	} else if (!c.quiet) {
		struct ama_buf line = AMA_BUF_INIT;

		ama_version_format(vs, &res.version);
		ama_buf_addf(&line, "cloned %s/%llu@%s into ", o.ref.class,
			     (unsigned long long)res.seq, vs);
		/* the folder's name may hold a newline: quoted as paths are */
		ama_quote_path(&line, res.dir, strlen(res.dir));
		ama_buf_addf(&line, ": %zu files placed, %zu kept, %zu not "
			     "checked out%s\n", res.stats.placed,
			     res.stats.kept,
			     res.stats.skipped + res.stats.failed,
			     rc ? " (ama download retries the rest)" : "");
		ama_writer_raw(&c.out, line.s, line.len);
		ama_buf_release(&line);
	}
	free(res.dir);
	rc = ama_finish(&c, rc);
	ama_store_signal_exit();
	return rc;
}
