/* config.c: loading INI files with inih, layering them, and rewriting one atomically. */
#include "auto-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "lockfile.h"
#include "xdg.h"

struct entry {
	char *section, *key, *value;
};

struct ama_config {
	struct entry *e;
	size_t n, alloc;
};

static struct ama_config *config_new(void)
{
	return ama_calloc(1, sizeof(struct ama_config));
}

void ama_config_free(struct ama_config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->e[i].section);
		free(c->e[i].key);
		free(c->e[i].value);
	}
	free(c->e);
	free(c);
}

static struct entry *find(const struct ama_config *c, const char *section,
			  const char *key)
{
	size_t i = c->n;

	while (i-- > 0)
		if (!strcmp(c->e[i].section, section) &&
		    !strcmp(c->e[i].key, key))
			return &c->e[i];
	return NULL;
}

static void append(struct ama_config *c, size_t at, const char *section,
		   const char *key, const char *value)
{
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 16;
		c->e = ama_realloc(c->e, c->alloc * sizeof(*c->e));
	}
	memmove(c->e + at + 1, c->e + at, (c->n - at) * sizeof(*c->e));
	c->e[at].section = ama_strdup(section);
	c->e[at].key = ama_strdup(key);
	c->e[at].value = ama_strdup(value);
	c->n++;
}

void ama_config_put(struct ama_config *c, const char *section,
		    const char *key, const char *value)
{
	struct entry *e;
	size_t i, at = c->n;

	if (!value) {
		/* every copy: an earlier one would come back otherwise */
		while ((e = find(c, section, key))) {
			i = (size_t)(e - c->e);
			free(e->section);
			free(e->key);
			free(e->value);
			memmove(c->e + i, c->e + i + 1,
				(c->n - i - 1) * sizeof(*c->e));
			c->n--;
		}
		return;
	}
	e = find(c, section, key);
	if (e) {
		free(e->value);
		e->value = ama_strdup(value);
		return;
	}
	for (i = 0; i < c->n; i++)
		if (!strcmp(c->e[i].section, section))
			at = i + 1;
	append(c, at, section, key, value);
}

static int handler(void *user, const char *section, const char *key,
		   const char *value)
{
	struct ama_config *c = user;

	if (!key)	/* a section with no keys (inih with INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	/* a later file overrides an earlier one: the last entry wins in find() */
	append(c, c->n, section, key, value ? value : "");
	return 1;
}

/*
 * inih reads a line into a buffer of INI_MAX_LINE bytes. The reader below
 * reads lines of any length itself and hands inih what fits; with
 * AMA_INI_LONG_VALUES a longer "key = value" line reaches inih as
 * "key = \001N", its value kept in vals[N] and put back before the
 * caller's handler sees it, and a longer comment as "#".
 */
struct ini_reader {
	FILE *f;
	unsigned flags;
	char *line;
	size_t cap;
	int lineno;
	int too_long;	/* the number of the first line that did not fit */
	int max;	/* the longest line that fits, without its newline */
	char **vals;
	size_t nvals;
	ama_ini_handler fn;
	void *user;
};

/*
 * An indented line is a key like any other: `git config -f` indents keys
 * with a TAB, and inih (built with multi-line values) would take such a
 * line for the continuation of the value above it.
 */
static char *unindent(char *str)
{
	size_t lead = strspn(str, " \t");

	if (lead)
		memmove(str, str + lead, strlen(str + lead) + 1);
	return str;
}

static char *read_line(char *str, int num, void *stream)
{
	struct ini_reader *r = stream;
	ssize_t got = r->too_long ? -1 : getline(&r->line, &r->cap, r->f);
	size_t n, klen;
	const char *s, *v, *end;

	if (got < 0)
		return NULL;
	r->lineno++;
	r->max = num - 1;
	n = (size_t)got;
	if (n && r->line[n - 1] == '\n')
		n--;
	if (n < (size_t)num) {
		memcpy(str, r->line, n);
		str[n] = '\0';
		return r->flags & AMA_INI_UNINDENT ? unindent(str) : str;
	}
	s = r->line + strspn(r->line, " \t");
	klen = strcspn(r->line, "=:");
	if (r->flags & AMA_INI_LONG_VALUES && (*s == '#' || *s == ';')) {
		snprintf(str, (size_t)num, "#");
		return str;
	}
	if (!(r->flags & AMA_INI_LONG_VALUES) || klen >= n ||
	    klen + 32 >= (size_t)num) {
		r->too_long = r->lineno;
		return NULL;
	}
	v = r->line + klen + 1;
	v += strspn(v, " \t");
	end = r->line + n;
	while (end > v && strchr(" \t\r", end[-1]))
		end--;
	r->vals = ama_realloc(r->vals, (r->nvals + 1) * sizeof(*r->vals));
	r->vals[r->nvals] = ama_strndup(v, (size_t)(end - v));
	snprintf(str, (size_t)num, "%.*s= \001%zu", (int)klen, r->line,
		 r->nvals++);
	return r->flags & AMA_INI_UNINDENT ? unindent(str) : str;
}

/* The caller's handler, with the long values put back. */
static int put_back(void *user, const char *section, const char *key,
		    const char *value)
{
	struct ini_reader *r = user;

	if (value && value[0] == '\001') {
		size_t i = strtoul(value + 1, NULL, 10);

		if (i < r->nvals)
			value = r->vals[i];
	}
	return r->fn(r->user, section, key, value);
}

static void wipe(char *s, size_t n, unsigned flags)
{
	if (s && flags & AMA_INI_SECRET)
		explicit_bzero(s, n);
	free(s);
}

int ama_ini_parse_file(const char *path, unsigned flags, int io_code,
		       ama_ini_handler fn, void *user)
{
	struct ini_reader r;
	struct stat st;
	size_t i;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	r.flags = flags;
	r.fn = fn;
	r.user = user;
	r.f = fopen(path, "re");
	if (!r.f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return AMA_ENOTFOUND;
		return ama_error_setp_errno(io_code, path, "cannot read");
	}
	if (fstat(fileno(r.f), &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		rc = ama_error_setp_errno(io_code, path, "cannot read");
		goto out;
	}
	rc = ini_parse_stream(read_line, &r, put_back, &r);
	if (ferror(r.f))
		rc = ama_error_setp_errno(io_code, path, "cannot read");
	else if (r.too_long)
		rc = ama_error_setp(AMA_ESETUP, path, "line %d: longer than "
				    "%d bytes%s", r.too_long, r.max,
				    flags & AMA_INI_LONG_VALUES ?
				    " and not a key = value line" : "");
	else if (rc > 0)
		rc = ama_error_setp(AMA_ESETUP, path,
				    "line %d: not valid INI", rc);
	else if (rc < 0)
		abort();	/* inih is out of memory */
out:
	fclose(r.f);
	wipe(r.line, r.cap, flags);
	for (i = 0; i < r.nvals; i++)
		wipe(r.vals[i], strlen(r.vals[i]), flags);
	free(r.vals);
	return rc;
}

static int parse_into(struct ama_config *c, const char *path)
{
	int rc = ama_ini_parse_file(path, AMA_INI_UNINDENT, AMA_ESETUP,
				    handler, c);

	return rc == AMA_ENOTFOUND ? 0 : rc;
}

char *ama_config_user_path(void)
{
	const char *v = getenv("AMA_CONFIG");
	char *path;

	if (v && *v)
		return ama_strdup(v);
	/* no home folder at all: no user file, rather than "/.config" */
	if (ama_xdg_path(&path, AMA_XDG_CONFIG, "config") < 0)
		ama_error_clear();
	return path;
}

int ama_config_load(struct ama_config **out, const char *asset_file)
{
	struct ama_config *c = config_new();
	char *user = ama_config_user_path();
	int rc;

	rc = user ? parse_into(c, user) : 0;
	if (rc == 0 && asset_file)
		rc = parse_into(c, asset_file);
	free(user);
	if (rc < 0) {
		ama_config_free(c);
		*out = NULL;
		return rc;
	}
	*out = c;
	return 0;
}

int ama_config_load_file(struct ama_config **out, const char *path)
{
	struct ama_config *c = config_new();
	int rc = parse_into(c, path);

	if (rc < 0) {
		ama_config_free(c);
		*out = NULL;
		return rc;
	}
	*out = c;
	return 0;
}

void ama_config_env_name(char *buf, const char *section, const char *key)
{
	size_t n = 0;
	const char *parts[2] = { section, key };
	int p;

	n += (size_t)snprintf(buf, 128, "AMA_");
	for (p = 0; p < 2; p++) {
		const char *s;

		for (s = parts[p]; *s && n < 126; s++)
			buf[n++] = *s == '-' || *s == '.' ? '_' :
				(char)toupper((unsigned char)*s);
		if (p == 0 && n < 126)
			buf[n++] = '_';
	}
	buf[n] = '\0';
}

const char *ama_config_get(const struct ama_config *c, const char *section,
			   const char *key)
{
	char env[128];
	const char *v;
	struct entry *e;

	ama_config_env_name(env, section, key);
	v = getenv(env);
	if (v)
		return v;
	e = c ? find(c, section, key) : NULL;
	return e ? e->value : NULL;
}

int ama_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K': mult = 1ULL << 10; end++; break;
	case 'm': case 'M': mult = 1ULL << 20; end++; break;
	case 'g': case 'G': mult = 1ULL << 30; end++; break;
	case 't': case 'T': mult = 1ULL << 40; end++; break;
	default: break;
	}
	if (mult > 1 && *end == 'i')
		end++;
	if (*end == 'B' || (mult == 1 && *end == 'b'))
		end++;
	if (*end || (v && mult > UINT64_MAX / v))
		return -1;
	*out = (uint64_t)v * mult;
	return 0;
}

int ama_config_get_size(const struct ama_config *c, const char *section,
			const char *key, uint64_t *out)
{
	const char *v = ama_config_get(c, section, key);

	if (!v)
		return 0;
	if (ama_parse_size(v, out) < 0)
		return ama_error_set(AMA_ESETUP, "[%s] %s: '%s' is not a size",
				     section, key, v);
	return 0;
}

int ama_config_get_int(const struct ama_config *c, const char *section,
		       const char *key, long *out)
{
	const char *v = ama_config_get(c, section, key);
	char *end;
	long n;

	if (!v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end)
		return ama_error_set(AMA_ESETUP,
				     "[%s] %s: '%s' is not a number",
				     section, key, v);
	*out = n;
	return 0;
}

/* Why text could not be read back as written, or NULL. */
static const char *unwritable(const char *text, int is_value)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n = strlen(text);

	if (!is_value && !n)
		return "it is empty";
	if (n && (isspace(p[0]) || isspace(p[n - 1])))
		return "it starts or ends with a space";
	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return "it holds a control byte";
		if (is_value && *p == ';' && p > (const unsigned char *)text &&
		    isspace(p[-1]))
			return "a ';' after a space starts a comment";
		if (!is_value && strchr("=:[]", *p))
			return "it holds '=', ':', '[' or ']'";
	}
	if (!is_value && strchr(";#", text[0]))
		return "it starts a comment";
	return NULL;
}

/* Can the entry be written so that it reads back the same? */
static int check_entry(const struct entry *e)
{
	const char *why;

	why = unwritable(e->section, 0);
	if (why)
		return ama_error_set(AMA_EINVAL,
				     "a section name cannot be written: %s",
				     why);
	why = unwritable(e->key, 0);
	if (why)
		return ama_error_set(AMA_EINVAL,
				     "[%s]: a key cannot be written: %s",
				     e->section, why);
	why = unwritable(e->value, 1);
	if (!why && strlen(e->key) + 3 + strlen(e->value) >= INI_MAX_LINE)
		why = "the line would be too long";
	if (!why && strlen(e->section) + 2 >= INI_MAX_LINE)
		why = "the section line would be too long";
	if (why)
		return ama_error_set(AMA_EINVAL,
				     "[%s] %s: the value cannot be written: %s",
				     e->section, e->key, why);
	return 0;
}

/* The file text of c's entries. Returns 0, or AMA_EINVAL (check_entry). */
static int format(const struct ama_config *c, struct ama_buf *b)
{
	size_t i, j;

	for (i = 0; i < c->n; i++)
		if (check_entry(&c->e[i]) < 0)
			return AMA_EINVAL;
	for (i = 0; i < c->n; i++) {
		int seen = 0;

		for (j = 0; j < i && !seen; j++)
			seen = !strcmp(c->e[j].section, c->e[i].section);
		if (seen)
			continue;
		ama_buf_addf(b, "[%s]\n", c->e[i].section);
		for (j = i; j < c->n; j++)
			if (!strcmp(c->e[j].section, c->e[i].section))
				ama_buf_addf(b, "%s = %s\n", c->e[j].key,
					     c->e[j].value);
	}
	return 0;
}

int ama_config_write(const struct ama_config *c, const char *path)
{
	struct ama_buf b = AMA_BUF_INIT;
	int rc = format(c, &b);

	if (rc == 0)
		rc = ama_write_file_atomic(path, b.s ? b.s : "", b.len,
					   0644);
	ama_buf_release(&b);
	return rc;
}

int ama_config_edit(const char *path,
		    int (*fn)(struct ama_config *c, void *ctx), void *ctx)
{
	struct ama_lock lk = AMA_LOCK_INIT;
	struct ama_config *c = NULL;
	struct ama_buf b = AMA_BUF_INIT;
	int rc = ama_lock_acquire(&lk, path, 0644);

	if (rc < 0)
		return rc;
	/* read under the lock: no writer can come between this and ours */
	rc = ama_config_load_file(&c, path);
	if (rc == 0)
		rc = fn(c, ctx);
	if (rc == 0)
		rc = format(c, &b);
	if (rc == 0)
		rc = ama_lock_write(&lk, b.s ? b.s : "", b.len);
	if (rc == 0)
		rc = ama_lock_commit(&lk);
	else
		ama_lock_rollback(&lk);
	ama_config_free(c);
	ama_buf_release(&b);
	return rc;
}
