/* ama-client-tool: drive lib/client.h from shell tests, locally or over HTTP (never installed). */
#include "auto-config.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asset.h"
#include "buf.h"
#include "client.h"
#include "config.h"
#include "error.h"
#include "prog.h"
#include "settings.h"

/*
 * The configuration is what an ama program in the working folder sees:
 * the user's file, the asset's .ama/config when inside an asset, AMA_*
 * variables. The same commands run in local mode and over HTTP, so a test
 * can run one script both ways and compare.
 */
static const char usage_str[] =
	"ama-client-tool <command> [<arg>...]\n"
	"commands:\n"
	"  class [--create] <name>        what the server says of a class\n"
	"  record [--create] <name>       ... recorded in .ama/config [class]\n"
	"  classes                        name and top hash of each class\n"
	"  asset-create <class> [<claim>] the new asset's number\n"
	"  assets <class>                 seq and newest version of each\n"
	"  versions [--max <n>] <class> <seq>   newest first\n"
	"  manifest <class> <seq> <version>\n"
	"  config <section>.<key> [<value>]   set (or unset) a key of .ama/config";

struct tool {
	struct ama_common c;
	int create, max;
	struct ama_config *cfg;
	struct ama_asset asset;
	int in_asset;
	struct ama_client *cl;
};

static int fail(void)
{
	return ama_report(NULL);
}

static void line(struct tool *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void line(struct tool *t, const char *fmt, ...)
{
	struct ama_buf b = AMA_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	ama_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	ama_buf_addch(&b, '\n');
	ama_writer_raw(&t->c.out, b.s, b.len);
	ama_buf_release(&b);
}

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

static int cmd_class(struct tool *t, const char *name)
{
	struct ama_client_class k;

	if (ama_client_class(t->cl, name, t->create, &k) < 0)
		return fail();
	line(t, "name %s", k.info.name);
	line(t, "class-id %s", k.info.class_id);
	line(t, "top-hash %s", k.info.top_hash);
	line(t, "staging %s", or_dash(k.staging));
	line(t, "remote %s", or_dash(k.remote));
	line(t, "s3-endpoint %s", or_dash(k.s3_endpoint));
	line(t, "s3-region %s", or_dash(k.s3_region));
	line(t, "s3-addressing %s", or_dash(k.s3_addressing));
	ama_client_class_release(&k);
	return 0;
}

static int cmd_record(struct tool *t, const char *name)
{
	struct ama_buf file = AMA_BUF_INIT;
	struct ama_config *acfg;
	struct ama_client_class k;
	int rc;

	if (!t->in_asset) {
		ama_msg("not inside an ama asset");
		return 2;
	}
	if (ama_client_class(t->cl, name, t->create, &k) < 0)
		return fail();
	ama_buf_addf(&file, "%s/.ama/config", t->asset.root);
	rc = ama_config_load_file(&acfg, file.s);
	if (rc == 0) {
		ama_client_class_record(acfg, &k);
		rc = ama_config_write(acfg, file.s);
		ama_config_free(acfg);
	}
	ama_buf_release(&file);
	ama_client_class_release(&k);
	return rc < 0 ? fail() : 0;
}

/* Edit .ama/config as ama writes it (git config's tabs would not do). */
static int cmd_config(struct tool *t, const char *name, const char *value)
{
	struct ama_buf file = AMA_BUF_INIT, section = AMA_BUF_INIT;
	struct ama_config *acfg;
	const char *dot = strrchr(name, '.');
	int rc;

	if (!t->in_asset) {
		ama_msg("not inside an ama asset");
		return 2;
	}
	if (!dot || dot == name || !dot[1])
		return ama_usage_error(&t->c, "config wants <section>.<key>");
	ama_buf_add(&section, name, (size_t)(dot - name));
	ama_buf_addf(&file, "%s/.ama/config", t->asset.root);
	rc = ama_config_load_file(&acfg, file.s);
	if (rc == 0) {
		ama_config_put(acfg, section.s, dot + 1, value);
		rc = ama_config_write(acfg, file.s);
		ama_config_free(acfg);
	}
	ama_buf_release(&file);
	ama_buf_release(&section);
	return rc < 0 ? fail() : 0;
}

static int print_class(const struct ama_class_info *c, void *ctx)
{
	line(ctx, "%s %s", c->name, c->top_hash);
	return 0;
}

static int print_asset(const struct ama_asset_info *a, void *ctx)
{
	char v[AMA_VERSION_BUFSIZE] = "-";

	if (a->has_head)
		ama_version_format(v, &a->head);
	line(ctx, "%" PRIu64 " %s", a->seq, v);
	return 0;
}

/* "version parent author class/seq commit-id TAB message" */
static int print_version(const struct ama_meta_version *v, void *ctx)
{
	struct tool *t = ctx;
	struct ama_buf f = AMA_BUF_INIT;
	char a[AMA_VERSION_BUFSIZE], p[AMA_VERSION_BUFSIZE] = "-";

	ama_version_format(a, &v->version);
	if (v->has_parent)
		ama_version_format(p, &v->parent);
	ama_buf_addf(&f, "%s %s %s %s/%" PRIu64 " %s", a, p, v->author,
		     v->class, v->seq, v->commit_id);
	ama_record_write(&t->c.out, f.s, v->message, strlen(v->message));
	ama_buf_release(&f);
	return 0;
}

static int parse_seq(uint64_t *seq, const char *s)
{
	char *end;

	errno = 0;
	*seq = strtoull(s, &end, 10);
	if (errno || !*s || *end) {
		ama_msg("'%s' is not a number", s);
		return -1;
	}
	return 0;
}

static int run(struct tool *t, int argc, char **argv)
{
	const char *cmd = argv[0];
	uint64_t seq;

	if (!strcmp(cmd, "config") && (argc == 2 || argc == 3))
		return cmd_config(t, argv[1], argc == 3 ? argv[2] : NULL);
	if (!strcmp(cmd, "class") && argc == 2)
		return cmd_class(t, argv[1]);
	if (!strcmp(cmd, "record") && argc == 2)
		return cmd_record(t, argv[1]);
	if (!strcmp(cmd, "classes") && argc == 1)
		return ama_client_classes(t->cl, print_class, t) < 0 ?
			fail() : 0;
	if (!strcmp(cmd, "asset-create") && (argc == 2 || argc == 3)) {
		if (ama_client_asset_create(t->cl, argv[1], argc == 3 ?
					    argv[2] : NULL, &seq) < 0)
			return fail();
		line(t, "%" PRIu64, seq);
		return 0;
	}
	if (!strcmp(cmd, "assets") && argc == 2)
		return ama_client_assets(t->cl, argv[1], print_asset, t) < 0 ?
			fail() : 0;
	if (!strcmp(cmd, "versions") && argc == 3) {
		if (parse_seq(&seq, argv[2]) < 0)
			return 2;
		return ama_client_versions(t->cl, argv[1], seq,
					   (size_t)t->max, print_version,
					   t) < 0 ? fail() : 0;
	}
	if (!strcmp(cmd, "manifest") && argc == 4) {
		struct ama_buf text = AMA_BUF_INIT;
		struct ama_version v;

		if (parse_seq(&seq, argv[2]) < 0)
			return 2;
		if (ama_version_parse(&v, argv[3]) < 0)
			return fail();
		if (ama_client_manifest(t->cl, argv[1], seq, &v, &text) < 0) {
			ama_buf_release(&text);
			return fail();
		}
		ama_writer_raw(&t->c.out, ama_buf_str(&text), text.len);
		ama_buf_release(&text);
		return 0;
	}
	return ama_usage_error(&t->c, "unknown command or arguments");
}

int main(int argc, char **argv)
{
	struct tool t;
	struct ama_option opts[] = {
		AMA_OPT_FLAG(0, "create", &t.create),
		AMA_OPT_INT(0, "max", &t.max),
		AMA_OPT_END,
	};
	struct ama_buf file = AMA_BUF_INIT;
	int status;

	memset(&t, 0, sizeof(t));
	ama_setprogname("ama-client-tool");
	/* getopt permutes: options may follow the command */
	if (ama_parse_options(&argc, &argv, opts, 0, &t.c, usage_str) < 0)
		return 2;
	if (argc < 1)
		return ama_usage_error(&t.c, "no command");
	t.in_asset = ama_asset_find(&t.asset) == 0;
	if (t.in_asset)
		ama_buf_addf(&file, "%s/.ama/config", t.asset.root);
	if (ama_config_load(&t.cfg, file.s) < 0) {
		status = fail();
		goto out;
	}
	ama_settings_apply_class(t.cfg);
	if (strcmp(argv[0], "config") && ama_client_open(&t.cl, t.cfg) < 0) {
		status = fail();
		goto out;
	}
	status = ama_finish(&t.c, run(&t, argc, argv));
out:
	ama_client_close(t.cl);
	ama_config_free(t.cfg);
	if (t.in_asset)
		ama_asset_release(&t.asset);
	ama_buf_release(&file);
	return status;
}
