/* error.c: per-thread last error for the library, which never prints. */
#include "auto-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

struct last_error {
	int code;
	int has_path;
	char path[4096];
	char msg[1024];
};

static _Thread_local struct last_error last;

static int vset(int code, const char *path, int err, const char *fmt,
		va_list ap)
{
	size_t n;

	last.code = code;
	last.has_path = path != NULL;
	if (path)
		snprintf(last.path, sizeof(last.path), "%s", path);
	vsnprintf(last.msg, sizeof(last.msg), fmt, ap);
	if (err) {
		n = strlen(last.msg);
		snprintf(last.msg + n, sizeof(last.msg) - n, ": %s",
			 strerror(err));
	}
	return code;
}

int ama_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(code, NULL, 0, fmt, ap);
	va_end(ap);
	return code;
}

int ama_error_set_errno(int code, const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vset(code, NULL, err, fmt, ap);
	va_end(ap);
	return code;
}

int ama_error_setp(int code, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(code, path, 0, fmt, ap);
	va_end(ap);
	return code;
}

int ama_error_setp_errno(int code, const char *path, const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vset(code, path, err, fmt, ap);
	va_end(ap);
	return code;
}

int ama_error_wrap(int code, const char *fmt, ...)
{
	char old[sizeof(last.msg)];
	size_t n;
	va_list ap;

	memcpy(old, last.msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(last.msg, sizeof(last.msg), fmt, ap);
	va_end(ap);
	n = strlen(last.msg);
	snprintf(last.msg + n, sizeof(last.msg) - n, ": %s", old);
	last.code = code;
	return code;
}

int ama_error_code(void)
{
	return last.code;
}

const char *ama_error_msg(void)
{
	return last.code ? last.msg : "no error";
}

const char *ama_error_path(void)
{
	return last.code && last.has_path ? last.path : NULL;
}

void ama_error_clear(void)
{
	last.code = 0;
	last.has_path = 0;
	last.msg[0] = '\0';
}

int ama_error_exit_status(int code)
{
	switch (code) {
	case AMA_OK:
		return 0;
	case AMA_ENOMEM:
	case AMA_ELOCKED:
	case AMA_ECORRUPT:
	case AMA_ESETUP:
	case AMA_EAUTH:
		return 2;
	default:
		return 1;
	}
}
