/* prog.c: the shared body of every ama program (names, messages, options, loop). */
#include "auto-config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "lockfile.h"
#include "prog.h"

static const char *progname = "ama";

static void took_over(const char *lock_path);

void ama_setprogname(const char *name)
{
	progname = name;
	/* a lock left by a killed process is taken over, never silently */
	ama_lock_on_takeover(took_over);
}

const char *ama_progname(void)
{
	return progname;
}

static void vmsg(const char *path, const char *fmt, va_list ap)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addstr(&b, progname);
	ama_buf_addstr(&b, ": ");
	if (path) {
		ama_quote_path(&b, path, strlen(path));
		ama_buf_addstr(&b, ": ");
	}
	ama_buf_vaddf(&b, fmt, ap);
	ama_buf_addch(&b, '\n');
	/* one write, so that lines from concurrent programs do not mix */
	if (write(2, b.s, b.len) < 0) {
		/* nowhere left to report it */
	}
	ama_buf_release(&b);
}

void ama_msg_path(const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(path, fmt, ap);
	va_end(ap);
}

void ama_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(NULL, fmt, ap);
	va_end(ap);
}

void ama_msg_path_cb(void *ctx, const char *path, const char *msg)
{
	(void)ctx;
	ama_msg_path(path, "%s", msg);
}

static void took_over(const char *lock_path)
{
	ama_msg_path(lock_path, "took over the lock of an ama process that "
		     "was killed");
}

int ama_report(const char *fallback)
{
	const char *path = ama_error_path();

	ama_msg_path(path ? path : fallback, "%s", ama_error_msg());
	return ama_error_exit_status(ama_error_code());
}

int ama_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

int ama_usage_error(const struct ama_common *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(NULL, fmt, ap);
	va_end(ap);
	ama_msg("usage: %s", c->usage);
	return 2;
}

static int parse_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

int ama_parse_jobs(const char *s, int *out)
{
	int n;

	if (parse_int(s, &n) < 0 || n > AMA_JOBS_MAX)
		return -1;
	*out = n ? n : ama_online_cpus();
	return 0;
}

/* ama_usage_error() for the parser, which returns -1 on failure. */
#define usage_fail(...) (ama_usage_error(__VA_ARGS__), -1)

#define MAXOPTS 40

struct optset {
	struct option longs[MAXOPTS + 1];
	const struct ama_option *map[MAXOPTS];
	char shorts[3 * MAXOPTS + 3];
	int n, nlong;
};

static void add_opt(struct optset *s, const struct ama_option *o)
{
	int has_arg = o->kind != AMA_OPTK_FLAG;

	if (s->n == MAXOPTS)
		abort();
	if (o->longname) {
		struct option *l = &s->longs[s->nlong++];

		l->name = o->longname;
		l->has_arg = has_arg ? required_argument : no_argument;
		l->flag = NULL;
		l->val = 256 + s->n;
	}
	if (o->shortname) {
		size_t l = strlen(s->shorts);

		s->shorts[l++] = (char)o->shortname;
		if (has_arg)
			s->shorts[l++] = ':';
		s->shorts[l] = '\0';
	}
	s->map[s->n++] = o;
}

/*
 * Did the long option in bad (a "--name[=value]" argument) fail with
 * optopt, or did a short one after it? glibc leaves optind on a cluster
 * of short options ("-xz") until its end, so the argument before it can
 * be a long option that parsed well.
 */
static int long_at_fault(const struct optset *s, const char *bad, int optopt)
{
	size_t n = strcspn(bad + 2, "=");
	int i;

	if (bad[0] != '-' || bad[1] != '-')
		return 0;
	for (i = 0; i < s->nlong; i++)
		if (strlen(s->longs[i].name) == n &&
		    !strncmp(s->longs[i].name, bad + 2, n))
			return s->longs[i].val == optopt;
	return 0;
}

int ama_parse_options(int *argc, char ***argv, const struct ama_option *opts,
		      unsigned common, struct ama_common *c,
		      const char *usage)
{
	struct ama_option builtin[] = {
		AMA_OPT_FLAG('z', NULL, &c->z),
		AMA_OPT_FLAG(0, "stdin", &c->use_stdin),
		AMA_OPT_FLAG('q', "quiet", &c->quiet),
		AMA_OPT_JOBS('j', "jobs", &c->jobs),
	};
	int help = 0;
	struct ama_option helpopt = AMA_OPT_FLAG('h', "help", &help);
	struct optset s;
	int i, ch;

	memset(&s, 0, sizeof(s));
	memset(c, 0, sizeof(*c));
	c->usage = usage;
	/* '+': stop at the first operand; ':': report a missing value as ':' */
	strcpy(s.shorts, common & AMA_COMMON_IN_ORDER ? "+:" : ":");
	for (i = 0; i < 4; i++)
		if (common & (1u << i))
			add_opt(&s, &builtin[i]);
	for (i = 0; opts && opts[i].kind != AMA_OPTK_END; i++)
		add_opt(&s, &opts[i]);
	add_opt(&s, &helpopt);

	opterr = 0;
	optind = 1;
	for (;;) {
		const struct ama_option *o = NULL;
		int li = -1;

		ch = getopt_long(*argc, *argv, s.shorts, s.longs, &li);
		if (ch == -1)
			break;
		if (ch == '?' || ch == ':') {
			const char *bad = (*argv)[optind - 1];

			if (ch == ':')
				return usage_fail(c,
					"option '%s' needs a value", bad);
			if (optopt && !long_at_fault(&s, bad, optopt))
				return usage_fail(c,
					"unknown option '-%c'", optopt);
			if (optopt && strchr(bad, '='))
				return usage_fail(c, "option '%.*s' takes "
					"no value", (int)strcspn(bad, "="),
					bad);
			return usage_fail(c, "unknown option '%s'",
						   bad);
		}
		if (ch >= 256) {
			o = s.map[ch - 256];
		} else {
			for (i = 0; i < s.n; i++)
				if (s.map[i]->shortname == ch)
					o = s.map[i];
		}
		if (!o)
			abort();
		switch (o->kind) {
		case AMA_OPTK_FLAG:
			*(int *)o->value = 1;
			break;
		case AMA_OPTK_STRING:
			*(const char **)o->value = optarg;
			break;
		case AMA_OPTK_INT:
			if (parse_int(optarg, (int *)o->value) < 0)
				return usage_fail(c,
					"option '%s%s' wants a number, not '%s'",
					o->shortname ? "-" : "--",
					o->shortname ? (char[]){ (char)o->shortname, 0 } :
					o->longname, optarg);
			break;
		case AMA_OPTK_JOBS:
			if (ama_parse_jobs(optarg, (int *)o->value) < 0)
				return usage_fail(c,
					"option '%s%s' wants 0 (one job a "
					"core) to %d, not '%s'",
					o->shortname ? "-" : "--",
					o->shortname ? (char[]){ (char)o->shortname, 0 } :
					o->longname, AMA_JOBS_MAX, optarg);
			break;
		default:
			abort();
		}
	}
	if (help) {
		printf("usage: %s\n", usage);
		exit(fflush(stdout) ? 2 : 0);
	}
	/* without -j: one job a core, as -j 0 says */
	if ((common & AMA_COMMON_JOBS) && c->jobs == 0)
		c->jobs = ama_online_cpus();
	c->progress = !c->quiet && isatty(2);
	*argc -= optind;
	*argv += optind;
	ama_writer_init(&c->out, 1, c->z);
	return 0;
}

int ama_finish(struct ama_common *c, int status)
{
	if (ama_writer_close(&c->out) < 0) {
		ama_report(NULL);
		return 2;
	}
	return status;
}

static int run_one(struct ama_common *c, const struct ama_record *rec,
		   ama_record_fn fn, void *ctx, int *status)
{
	int rc;

	ama_error_clear();
	rc = fn(c, rec, ctx);
	if (rc >= 0)
		return 0;
	if (ama_report(rec->path) == 2) {
		*status = 2;
		return -1;
	}
	*status = 1;
	return 0;
}

static int run_stdin(struct ama_common *c, enum ama_input_kind kind,
		     ama_record_fn fn, void *ctx, int *status)
{
	struct ama_reader r;
	struct ama_record rec;
	int rc, stop = 0;

	ama_reader_init(&r, 0, c->z, kind);
	r.wait = c->wait_input;
	r.wait_arg = c->wait_input_arg;
	while (!stop && (rc = ama_reader_next(&r, &rec)) != 0) {
		if (rc == AMA_EIO) {
			ama_report(NULL);
			*status = 2;
			break;
		}
		if (rc < 0) {
			ama_msg("%s", ama_error_msg());
			*status = 1;
			continue;
		}
		stop = run_one(c, &rec, fn, ctx, status) < 0;
	}
	ama_reader_release(&r);
	return *status == 2 ? -1 : 0;
}

int ama_for_each_record(struct ama_common *c, int argc, char **argv,
			enum ama_input_kind kind, ama_record_fn fn, void *ctx)
{
	return ama_finish(c, ama_run_records(c, argc, argv, kind, fn, ctx));
}

int ama_run_records(struct ama_common *c, int argc, char **argv,
		    enum ama_input_kind kind, ama_record_fn fn, void *ctx)
{
	int status = 0, i;

	if (argc == 0 || c->use_stdin) {
		if (argc && c->use_stdin)
			return ama_usage_error(c,
				"--stdin takes no operands");
		run_stdin(c, kind, fn, ctx, &status);
		return status;
	}
	for (i = 0; i < argc && status != 2; i++) {
		struct ama_record rec;

		if (!strcmp(argv[i], "-")) {
			run_stdin(c, kind, fn, ctx, &status);
			continue;
		}
		if (kind == AMA_INPUT_RECORDS)
			return ama_usage_error(c,
				"records come on stdin, not as operands");
		if (!*argv[i]) {
			ama_msg("empty path");
			status = 1;
			continue;
		}
		ama_record_from_path(&rec, argv[i]);
		if (run_one(c, &rec, fn, ctx, &status) < 0)
			break;
	}
	return status;
}
