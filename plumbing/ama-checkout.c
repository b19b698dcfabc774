/* ama-checkout: place the content of each record from the cache at its path in the work tree. */
#include "auto-config.h"

#include <signal.h>
#include <string.h>

#include "assetenv.h"
#include "cache.h"
#include "checkout.h"
#include "error.h"
#include "index.h"
#include "manifest.h"
#include "prog.h"

static const char usage_str[] =
	"ama-checkout [-z] [--force] [--link=hard] [--state=<state>]";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

struct co {
	struct ama_checkout *co;
};

static int place_one(struct ama_common *c, const struct ama_record *rec,
		     void *ctx)
{
	struct co *x = ctx;
	struct ama_objlist one = AMA_OBJLIST_INIT;
	struct ama_buf f = AMA_BUF_INIT;
	int rc;

	if (stop)
		return ama_error_set(AMA_ESETUP, "interrupted");
	rc = ama_objlist_add_record(&one, rec);
	if (rc == 0)
		rc = ama_checkout_place(x->co, &one.v[0]);
	if (rc >= 0) {
		ama_buf_addstr(&f, rc == AMA_CHECKOUT_PLACED ? "placed " :
			       "kept ");
		ama_object_format(&f, &one.v[0]);
		ama_record_write(&c->out, f.s, rec->path, rec->path_len);
		rc = 0;
	} else if (rc == AMA_ENOTFOUND) {
		rc = ama_error_setp(AMA_ENOTFOUND, rec->path, "its content is "
				    "not in the cache (ama-fetch-content)");
	}
	ama_buf_release(&f);
	ama_objlist_release(&one);
	return rc;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	const char *link = NULL, *state = NULL;
	int force = 0;
	struct ama_option opts[] = {
		AMA_OPT_FLAG(0, "force", &force),
		AMA_OPT_STRING(0, "link", &link),
		AMA_OPT_STRING(0, "state", &state),
		AMA_OPT_END,
	};
	struct ama_checkout_opts o;
	struct ama_asset_env env;
	struct ama_cache *cache = NULL;
	struct ama_index *idx = NULL;
	struct sigaction sa;
	struct ama_buf ipath = AMA_BUF_INIT;
	struct co x = { NULL };
	enum ama_state st = AMA_STATE_COMMITTED;
	int status, rc;

	ama_setprogname("ama-checkout");
	if (ama_parse_options(&argc, &argv, opts, AMA_COMMON_Z, &c,
			      usage_str) < 0)
		return 2;
	if (argc)
		return ama_usage_error(&c, "records come on stdin, not as "
				       "operands");
	if (link && strcmp(link, "hard"))
		return ama_usage_error(&c, "--link takes only 'hard'");
	if (state && ama_state_parse(&st, state) < 0)
		return ama_usage_error(&c, "--state: %s", ama_error_msg());
	memset(&o, 0, sizeof(o));
	rc = ama_asset_env_open(&env, AMA_ASSET_ENTER);
	if (rc == 0)
		rc = ama_cache_open(&cache, NULL);
	if (rc == 0) {
		/* absolute: a message about it holds wherever one stands */
		ama_buf_addf(&ipath, "%s/.ama/index", env.a.root);
		rc = ama_index_lock_and_load(&idx, ipath.s);
	}
	if (rc == 0) {
		o.cache = cache;
		o.idx = idx;
		o.force = force;
		o.hard_link = link != NULL;
		o.state = st;
		rc = ama_checkout_begin(&x.co, &o);
	}
	if (rc < 0) {
		ama_report(NULL);
		status = 2;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	status = ama_run_records(&c, 0, NULL, AMA_INPUT_RECORDS, place_one,
				 &x);
	ama_checkout_end(x.co);
	/* what was placed is recorded, whatever failed beside it */
	if (ama_index_write_and_commit(idx) < 0) {
		ama_report(NULL);
		status = 2;
	}
out:
	status = ama_finish(&c, status);
	ama_buf_release(&ipath);
	ama_index_free(idx);
	ama_cache_close(cache);
	ama_asset_env_close(&env);
	if (stop) {
		signal(stop, SIG_DFL);
		raise(stop);
	}
	return status;
}
