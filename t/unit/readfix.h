/* t/unit/readfix.h: a test's own folder holding published versions on the embedded default's file:// store, for the read side's tests. */
#ifndef AMA_UNIT_READFIX_H
#define AMA_UNIT_READFIX_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "client.h"
#include "config.h"
#include "error.h"
#include "lockfile.h"
#include "manifest.h"
#include "md5.h"
#include "version.h"

/*
 * Each test runs in a process of its own: fx_setup (a suite's .init)
 * makes a fresh folder, enters it, and points HOME and the XDG folders
 * into it, so that the embedded default (file://DIR/data/ama/remote and
 * staging, DIR/data/ama/meta.git) and the cache (DIR/cache/ama) are the
 * test's own; no AMA_* variable of the caller's is left to change what a
 * configuration says. fx_teardown removes it all.
 */
#define FX_UNUSED __attribute__((unused))

static char fx_dir[64];

static FX_UNUSED void fx_setup(void)
{
	extern char **environ;
	char names[64][128];
	size_t n = 0, i, len;
	char **e;
	char path[128];

	strcpy(fx_dir, "/tmp/ama-unit-XXXXXX");
	cr_assert_not_null(mkdtemp(fx_dir));
	for (e = environ; *e && n < 64; e++) {
		len = strcspn(*e, "=");
		if (!strncmp(*e, "AMA_", 4) && len < sizeof(names[0])) {
			memcpy(names[n], *e, len);
			names[n++][len] = '\0';
		}
	}
	for (i = 0; i < n; i++)
		unsetenv(names[i]);
	setenv("HOME", fx_dir, 1);
	snprintf(path, sizeof(path), "%s/config", fx_dir);
	setenv("XDG_CONFIG_HOME", path, 1);
	snprintf(path, sizeof(path), "%s/data", fx_dir);
	setenv("XDG_DATA_HOME", path, 1);
	snprintf(path, sizeof(path), "%s/cache", fx_dir);
	setenv("XDG_CACHE_HOME", path, 1);
	setenv("USER", "tester", 1);
	setenv("TZ", "UTC", 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	cr_assert_eq(chdir(fx_dir), 0);
}

static FX_UNUSED void fx_teardown(void)
{
	char cmd[256];

	cr_assert_eq(chdir("/"), 0);
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", fx_dir,
		 fx_dir);
	cr_assert_eq(system(cmd), 0);
}

/* ---- small things ---- */

static FX_UNUSED struct ama_md5 fx_md5(const char *bytes)
{
	struct ama_md5 m;

	ama_md5_buffer(&m, bytes, strlen(bytes));
	return m;
}

/* The MD5 of bytes in hex, into out (33 bytes). */
static FX_UNUSED char *fx_hex(char *out, const char *bytes)
{
	struct ama_md5 m = fx_md5(bytes);

	ama_md5_to_hex(out, &m);
	return out;
}

static FX_UNUSED struct ama_version fx_ver(const char *s)
{
	struct ama_version v;

	cr_assert_eq(ama_version_parse(&v, s), 0, "%s", s);
	return v;
}

/* The folders of path (relative to the working folder or absolute). */
static FX_UNUSED void fx_mkdirs(const char *path)
{
	char *p = ama_strdup(path), *s;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		cr_assert(mkdir(p, 0755) == 0 || errno == EEXIST, "%s", p);
		*s = '/';
	}
	free(p);
}

/* Write bytes to path, its folders made as needed (not atomically). */
static FX_UNUSED void fx_write(const char *path, const char *bytes)
{
	FILE *f;

	fx_mkdirs(path);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(bytes, 1, strlen(bytes), f), strlen(bytes));
	cr_assert_eq(fclose(f), 0);
}

/* The bytes of the file at path (caller frees), or NULL when missing. */
static FX_UNUSED char *fx_read(const char *path)
{
	char *text = NULL;
	size_t len;

	if (ama_read_file(&text, &len, path) < 0) {
		ama_error_clear();
		return NULL;
	}
	return text;
}

/* Does path name something (not followed when a link)? */
static FX_UNUSED int fx_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The output of a shell command, its last newline dropped (caller frees). */
static FX_UNUSED char *fx_sh(const char *cmd)
{
	struct ama_buf b = AMA_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = popen(cmd, "r");

	cr_assert_not_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ama_buf_add(&b, chunk, n);
	pclose(f);
	ama_buf_add(&b, "", 0);
	if (b.len && b.s[b.len - 1] == '\n')
		ama_buf_truncate(&b, b.len - 1);
	return ama_buf_detach(&b);
}

/* The embedded default's remote bucket: its URL, and the folder. */
static FX_UNUSED char *fx_remote_url(void)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addf(&b, "file://%s/data/ama/remote", fx_dir);
	return ama_buf_detach(&b);
}

/* The file in the remote bucket's folder holding key (caller frees). */
static FX_UNUSED char *fx_remote_file(const char *key)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addf(&b, "%s/data/ama/remote/%s", fx_dir, key);
	return ama_buf_detach(&b);
}

/* ---- a publisher: the embedded default, in this process ---- */

struct fx_pub {
	struct ama_config *cfg;
	struct ama_client *c;
	struct ama_client_class k;
	char class[65];
	uint64_t seq;			/* the asset versions go to */
	int has_head;
	struct ama_version head;
	struct ama_objlist l;		/* the next version's objects */
	int64_t time;			/* of the next version */
};

/*
 * Open a publisher on the embedded default with no configuration at all,
 * make class and its first asset (seq 1).
 */
static FX_UNUSED void fx_pub_open(struct fx_pub *p, const char *class)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->class, sizeof(p->class), "%s", class);
	cr_assert_eq(ama_config_load_file(&p->cfg, "/nonexistent/ama"), 0);
	cr_assert_eq(ama_client_open(&p->c, p->cfg), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(ama_client_class(p->c, class, 1, &p->k), 0, "%s",
		     ama_error_msg());
	cr_assert_eq(ama_client_asset_create(p->c, class, NULL, &p->seq), 0,
		     "%s", ama_error_msg());
	p->time = 1718000000;
}

static FX_UNUSED void fx_pub_close(struct fx_pub *p)
{
	ama_objlist_release(&p->l);
	ama_client_class_release(&p->k);
	ama_client_close(p->c);
	ama_config_free(p->cfg);
	memset(p, 0, sizeof(*p));
}

/* Make a new asset of the class; versions go to it from now on. */
static FX_UNUSED uint64_t fx_pub_asset(struct fx_pub *p)
{
	cr_assert_eq(ama_client_asset_create(p->c, p->class, NULL, &p->seq),
		     0, "%s", ama_error_msg());
	p->has_head = 0;
	return p->seq;
}

/* Upload bytes to staging where ama-stage-put puts them. */
static FX_UNUSED void fx_stage(struct fx_pub *p, const char *bytes)
{
	struct ama_buf key = AMA_BUF_INIT;
	char hex[33];

	ama_buf_addf(&key, "%s/%s/", p->k.staging + strlen("file://"),
		     p->k.info.top_hash);
	fx_mkdirs(key.s);
	ama_buf_addstr(&key, fx_hex(hex, bytes));
	cr_assert_eq(ama_write_file_atomic(key.s, bytes, strlen(bytes), 0644),
		     0);
	ama_buf_release(&key);
}

/* The next version holds a file at path with these bytes. */
static FX_UNUSED void fx_file(struct fx_pub *p, const char *path,
			      const char *bytes)
{
	struct ama_md5 m = fx_md5(bytes);

	fx_stage(p, bytes);
	ama_objlist_add(&p->l, &m, strlen(bytes), path, strlen(path));
}

/* The next version holds a symbolic link at path to target. */
static FX_UNUSED void fx_link(struct fx_pub *p, const char *path,
			      const char *target)
{
	struct ama_md5 m = fx_md5(target);

	fx_stage(p, target);
	ama_objlist_add_kind(&p->l, &m, strlen(target), AMA_OBJECT_LINK, path,
			     strlen(path));
}

/* Publish the objects given since the last commit; its version in out. */
static FX_UNUSED struct ama_version fx_commit(struct fx_pub *p,
					      const char *message)
{
	struct ama_commit_request rq;
	struct ama_commit_result res;

	cr_assert_eq(ama_objlist_sort(&p->l), 0, "%s", ama_error_msg());
	memset(&rq, 0, sizeof(rq));
	rq.class = p->class;
	rq.seq = p->seq;
	rq.has_parent = p->has_head;
	rq.parent = p->head;
	rq.message = message;
	rq.objects = &p->l;
	rq.time = p->time++;
	cr_assert_eq(ama_client_commit(p->c, &rq, &res), 0, "%s",
		     ama_error_msg());
	p->head = res.version;
	p->has_head = 1;
	ama_commit_result_release(&res);
	ama_objlist_release(&p->l);
	memset(&p->l, 0, sizeof(p->l));
	return p->head;
}

#endif
