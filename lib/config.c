/* config.c: loading INI files with inih, layering them, and rewriting one atomically. */
#include "auto-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "lockfile.h"

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
	struct entry *e = find(c, section, key);
	size_t i, at = c->n;

	if (e && value) {
		free(e->value);
		e->value = ama_strdup(value);
		return;
	}
	if (e) {
		i = (size_t)(e - c->e);
		free(e->section);
		free(e->key);
		free(e->value);
		memmove(c->e + i, c->e + i + 1, (c->n - i - 1) * sizeof(*c->e));
		c->n--;
		return;
	}
	if (!value)
		return;
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

static int parse_into(struct ama_config *c, const char *path)
{
	int rc;

	if (access(path, F_OK) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return ama_error_setp_errno(AMA_EIO, path, "cannot read");
	}
	rc = ini_parse(path, handler, c);
	if (rc < 0)
		return ama_error_setp_errno(AMA_EIO, path, "cannot read");
	if (rc > 0)
		return ama_error_setp(AMA_ESETUP, path,
				      "line %d: not valid INI", rc);
	return 0;
}

char *ama_config_user_path(void)
{
	struct ama_buf b = AMA_BUF_INIT;
	const char *v = getenv("AMA_CONFIG");

	if (v && *v)
		return ama_strdup(v);
	v = getenv("XDG_CONFIG_HOME");
	if (v && *v == '/') {
		ama_buf_addf(&b, "%s/ama/config", v);
		return ama_buf_detach(&b);
	}
	v = getenv("HOME");
	ama_buf_addf(&b, "%s/.config/ama/config", v ? v : "");
	return ama_buf_detach(&b);
}

int ama_config_load(struct ama_config **out, const char *asset_file)
{
	struct ama_config *c = config_new();
	char *user = ama_config_user_path();
	int rc;

	rc = parse_into(c, user);
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

int ama_config_write(const struct ama_config *c, const char *path)
{
	struct ama_buf b = AMA_BUF_INIT;
	size_t i, j;
	int rc;

	for (i = 0; i < c->n; i++) {
		int seen = 0;

		for (j = 0; j < i && !seen; j++)
			seen = !strcmp(c->e[j].section, c->e[i].section);
		if (seen)
			continue;
		ama_buf_addf(&b, "[%s]\n", c->e[i].section);
		for (j = i; j < c->n; j++)
			if (!strcmp(c->e[j].section, c->e[i].section))
				ama_buf_addf(&b, "%s = %s\n", c->e[j].key,
					     c->e[j].value);
	}
	rc = ama_write_file_atomic(path, b.s ? b.s : "", b.len, 0644);
	ama_buf_release(&b);
	return rc;
}
