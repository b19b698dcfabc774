/* error.h: the library's result codes and the per-thread last error. */
#ifndef AMA_ERROR_H
#define AMA_ERROR_H

/*
 * Every lib/ function that can fail returns 0 (or a count) on success and
 * one of these negative codes on failure, after recording one line of
 * reason with ama_error_set*(). Expected outcomes have their own codes so
 * that programs can turn them into exit status 1 rather than 2.
 */
enum ama_code {
	AMA_OK = 0,
	AMA_EIO = -1,		/* a system call failed */
	AMA_ENOMEM = -2,	/* out of memory */
	AMA_EINVAL = -3,	/* malformed input: a record, an argument */
	AMA_ENOTFOUND = -4,	/* no such file, entry or object */
	AMA_ELOCKED = -5,	/* another process holds the lock */
	AMA_ECORRUPT = -6,	/* a file ama wrote is damaged */
	AMA_ECHANGED = -7,	/* a file changed while it was read */
	AMA_ENOTREG = -8,	/* not a regular file */
	AMA_ESETUP = -9,	/* configuration, credentials, missing bucket */
	AMA_ENET = -10,		/* the network failed, retries exhausted */
	AMA_EMODIFIED = -11,	/* a file differs from its index entry */
	AMA_ECONFLICT = -12,	/* a compare-and-swap or precondition lost */
	AMA_EEXIST = -13,	/* already exists */
	AMA_EREMOTE = -14,	/* a store or server refused the request */
	AMA_EDIGEST = -15,	/* content does not match its MD5 */
	AMA_EAUTH = -16,	/* credentials refused (401/403) */
};

/*
 * Record a reason; returns code so that `return ama_error_set(...)` works.
 * The arguments of these and of ama_error_wrap() must not be the last
 * error's own strings (ama_error_msg(), ama_error_path()): they are
 * overwritten in place. ama_error_wrap() is the way to build on them.
 */
int ama_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same, with ": strerror(errno)" appended (errno read on entry). */
int ama_error_set_errno(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Record a reason about path (the subject programs print before it). */
int ama_error_setp(int code, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ama_error_setp_errno(int code, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Put context in front of the last error's reason ("line 3: " + reason),
 * keeping its subject, under a new code. Returns code.
 */
int ama_error_wrap(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The last error of this thread: its code, reason and subject (or NULL). */
int ama_error_code(void);
const char *ama_error_msg(void);
const char *ama_error_path(void);
void ama_error_clear(void);

/*
 * Exit status a program should use when a step fails with code: 2 for
 * setup errors (configuration, credentials, lock, corrupt index, memory),
 * 1 for the failure of one record.
 */
int ama_error_exit_status(int code);

#endif
