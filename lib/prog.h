/* prog.h: what every ama program shares: its name, messages, options, the record loop. */
#ifndef AMA_PROG_H
#define AMA_PROG_H

#include "record.h"

/*
 * This is the one part of lib/ that prints: diagnostics to stderr as
 * "ama-NAME: PATH: reason", records to stdout. It exits only for --help.
 */

void ama_setprogname(const char *name);
const char *ama_progname(void);

/* Print "prog: PATH: message" (PATH quoted as on stdout). */
void ama_msg_path(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print "prog: message". */
void ama_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: PATH: msg": a report callback for lib/ (ctx unused). */
void ama_msg_path_cb(void *ctx, const char *path, const char *msg);
/*
 * Print the last library error as "prog: PATH: reason", PATH being the
 * error's subject or else fallback (which may be NULL). Returns the exit
 * status it calls for: 1, or 2 for setup errors.
 */
int ama_report(const char *fallback);

struct ama_common {
	int z;			/* -z: NUL-terminated records */
	int use_stdin;		/* --stdin */
	int quiet;		/* -q, --quiet */
	int jobs;		/* -j N (1 to AMA_JOBS_MAX); defaults to, and
				   -j 0 means, the online CPUs */
	int progress;		/* stderr is a terminal and not quiet */
	const char *usage;
	struct ama_writer out;	/* stdout, set up by ama_parse_options */
	/*
	 * Optional, set after ama_parse_options by a program whose records
	 * finish on other threads: the record loop hands it to its stdin
	 * reader as ama_reader's wait (called before a read that could
	 * block).
	 */
	int (*wait_input)(void *arg, int fd);
	void *wait_input_arg;
};

/* Which of the common options a program takes. */
#define AMA_COMMON_Z		0x1u
#define AMA_COMMON_STDIN	0x2u
#define AMA_COMMON_QUIET	0x4u
#define AMA_COMMON_JOBS		0x8u
/* Not an option: stop at the first operand (the rest belongs to a command). */
#define AMA_COMMON_IN_ORDER	0x10u

enum ama_opt_kind {
	AMA_OPTK_END = 0,
	AMA_OPTK_FLAG,		/* int, set to 1 */
	AMA_OPTK_STRING,	/* const char *, the argument */
	AMA_OPTK_INT,		/* int >= 0, the argument */
	AMA_OPTK_JOBS,		/* int, as ama_parse_jobs() reads it */
};

struct ama_option {
	enum ama_opt_kind kind;
	int shortname;		/* 0 for none */
	const char *longname;	/* NULL for none */
	void *value;
};

#define AMA_OPT_FLAG(s, l, v)	{ AMA_OPTK_FLAG, (s), (l), (v) }
#define AMA_OPT_STRING(s, l, v)	{ AMA_OPTK_STRING, (s), (l), (v) }
#define AMA_OPT_INT(s, l, v)	{ AMA_OPTK_INT, (s), (l), (v) }
#define AMA_OPT_JOBS(s, l, v)	{ AMA_OPTK_JOBS, (s), (l), (v) }
#define AMA_OPT_END		{ AMA_OPTK_END, 0, NULL, NULL }

/*
 * A number of jobs, as every -j of ama reads it: 1 to AMA_JOBS_MAX, or 0
 * for one a core (ama_online_cpus()). Returns 0 with *out set, or -1 for
 * anything else (*out unchanged). A program whose default is not the
 * cores (transfers: [transfer] jobs) gives its -j as AMA_OPT_JOBS with a
 * value that marks "not given" (-1) and keeps its own default then.
 */
#define AMA_JOBS_MAX 1024
int ama_parse_jobs(const char *s, int *out);

/*
 * Parse the options of opts (may be NULL) and the chosen common ones,
 * leaving the operands in argc and argv. "-h"/"--help" print the usage and
 * exit 0. Returns 0, or -1 after printing the reason and the usage line
 * (the caller exits 2).
 */
int ama_parse_options(int *argc, char ***argv, const struct ama_option *opts,
		      unsigned common, struct ama_common *c,
		      const char *usage);

/* Print the usage line as a usage error; returns 2 for `return`. */
int ama_usage_error(const struct ama_common *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Handle one record. Returns 0, or an AMA_E* code after setting the error
 * (the loop prints it and goes on, or stops for setup errors).
 */
typedef int (*ama_record_fn)(struct ama_common *c,
			     const struct ama_record *rec, void *ctx);

/*
 * The loop every plumbing program shares: the operands are the input
 * (each a path; "-" reads stdin), or stdin when there are none or with
 * --stdin. Each record goes to fn; a failure is printed and the loop goes
 * on, except for a failure with exit status 2, which stops it. The output
 * is flushed and checked at the end. Returns the exit status: 0, 1 if some
 * records failed, 2 if a setup error or the output failed.
 */
int ama_for_each_record(struct ama_common *c, int argc, char **argv,
			enum ama_input_kind kind, ama_record_fn fn, void *ctx);

/*
 * ama_for_each_record() without the final ama_finish(): returns the status
 * (0, 1 or 2) and leaves stdout open, for a program that still has records
 * to write when the input ends (results of a thread pool). It ends with
 * `return ama_finish(c, status)`.
 */
int ama_run_records(struct ama_common *c, int argc, char **argv,
		    enum ama_input_kind kind, ama_record_fn fn, void *ctx);

/* Flush and check stdout; returns status, or 2 if the output failed. */
int ama_finish(struct ama_common *c, int status);

/* The number of online CPUs (at least 1). */
int ama_online_cpus(void);

#endif
