/* ama-update-index: add, refresh, mark or remove index entries from records on stdin. */
#include "auto-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asset.h"
#include "buf.h"
#include "error.h"
#include "index.h"
#include "md5.h"
#include "prog.h"
#include "stat.h"

static const char usage_str[] =
	"ama-update-index [-z] [-q] [--state=<state> | --remove]";

/*
 * A record that carries the hash-time stat record is trusted as it is,
 * except when its file changed within this margin before the program
 * started: the hasher ran at about the same time, in the same pipeline,
 * and a change in the tick after its hashing would be invisible. Such
 * entries are stored flagged racy and rehashed at the next check.
 */
#define RACY_MARGIN_NS 1000000000LL

struct upd {
	struct ama_asset root;	/* the asset, seen from its root */
	struct ama_index *idx;
	int remove;
	int state;		/* --state, or -1 */
	int quiet;
	int quiet_failed;
	int64_t racy_from;
	struct ama_buf path;
	size_t changed;
};

/* The record's path, root-relative and clean, into u->path. */
static int record_path(struct upd *u, const struct ama_record *rec)
{
	ama_buf_reset(&u->path);
	if (ama_asset_path(&u->path, &u->root, rec->path) < 0)
		return AMA_EINVAL;
	if (!u->path.len)
		return ama_error_setp(AMA_EINVAL, rec->path,
				      "the asset root is not a file");
	return 0;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int add_one(struct upd *u, const struct ama_record *rec)
{
	struct ama_index_entry e, *old;
	struct ama_stat given;
	const char *path = u->path.s;
	/* "link" after the size: the record is of a symbolic link */
	int link = rec->nfields > 2 && !strcmp(rec->field[2], "link");
	char *stat_fields[5];
	int rc, nstat = rec->nfields - link, i;

	if (nstat != 2 && nstat != 6)
		return ama_error_set(AMA_EINVAL, "malformed record: want "
			"<md5> <size> [link] [<mtime_ns> <ctime_ns> <ino> "
			"<nlink>]");
	memset(&e, 0, sizeof(e));
	if (ama_md5_from_hex(&e.md5, rec->field[0]) < 0)
		return AMA_EINVAL;
	/* the stat record's fields: the size, then those after "link" */
	stat_fields[0] = rec->field[1];
	for (i = 1; i < 5 && nstat == 6; i++)
		stat_fields[i] = rec->field[1 + link + i];
	if (nstat == 6)
		rc = ama_stat_parse(&given, stat_fields);
	else
		rc = parse_size(rec->field[1], &given.size) < 0 ?
			ama_error_set(AMA_EINVAL, "malformed size") : 0;
	if (rc < 0)
		return rc;
	rc = ama_stat_path(&e.st, path);
	if (rc < 0)
		return rc;
	if (link ? !S_ISLNK(e.st.mode) : !ama_stat_is_reg(&e.st))
		return ama_error_setp(AMA_ENOTREG, path, "not a %s: %s",
				      link ? "symbolic link" : "regular file",
				      ama_stat_type_name(e.st.mode));
	if (e.st.size != given.size ||
	    (nstat == 6 &&
	     (e.st.mtime_ns != given.mtime_ns ||
	      e.st.ctime_ns != given.ctime_ns || e.st.ino != given.ino ||
	      e.st.nlink != given.nlink)))
		return ama_error_setp(AMA_ECHANGED, path,
				      "changed since hashed");
	/* without the hash-time record, the next check must rehash */
	if (nstat == 2 || ama_racy_since(&e.st, u->racy_from))
		e.flags = AMA_ENTRY_RACY;
	old = ama_index_find(u->idx, path, u->path.len);
	e.state = old && ama_md5_equal(&old->md5, &e.md5) &&
		S_ISLNK(old->st.mode) == S_ISLNK(e.st.mode) ?
		old->state : AMA_STATE_PENDING;
	if (old && ama_md5_equal(&old->md5, &e.md5) &&
	    ama_stat_equal(&old->st, &e.st) && old->flags == e.flags)
		return 0;
	e.path = path;
	e.path_len = (uint32_t)u->path.len;
	ama_index_add(u->idx, &e);
	u->changed++;
	return 0;
}

/* Find "<md5> <size>" among the fields, wherever the producer put it. */
static int find_content(const struct ama_record *rec, struct ama_md5 *md5,
			uint64_t *size)
{
	int i;

	for (i = 0; i + 1 < rec->nfields; i++)
		if (ama_md5_from_hex(md5, rec->field[i]) == 0 &&
		    parse_size(rec->field[i + 1], size) == 0)
			return 0;
	return ama_error_set(AMA_EINVAL,
			     "malformed record: no <md5> <size> in it");
}

static int mark_one(struct upd *u, const struct ama_record *rec)
{
	struct ama_index_entry *e;
	struct ama_md5 md5;
	uint64_t size;
	int rc = find_content(rec, &md5, &size);

	if (rc < 0)
		return rc;
	e = ama_index_find(u->idx, u->path.s, u->path.len);
	if (!e)
		return ama_error_setp(AMA_ENOTFOUND, rec->path,
				      "not in the index");
	if (!ama_md5_equal(&e->md5, &md5))
		return ama_error_setp(AMA_ECONFLICT, rec->path,
				      "index has another MD5 for it");
	if (e->st.size != size)
		return ama_error_setp(AMA_ECONFLICT, rec->path,
				      "index has another size for it");
	if (e->state != u->state) {
		e->state = (uint8_t)u->state;
		u->changed++;
	}
	return 0;
}

static int update_one(struct ama_common *c, const struct ama_record *rec,
		      void *ctx)
{
	struct upd *u = ctx;
	int rc = record_path(u, rec);

	(void)c;
	if (rc == 0) {
		if (u->remove) {
			rc = ama_index_remove(u->idx, u->path.s, u->path.len);
			if (rc == 0)
				u->changed++;
		} else if (u->state >= 0) {
			rc = mark_one(u, rec);
		} else {
			rc = add_one(u, rec);
		}
	}
	if (rc < 0 && u->quiet && ama_error_exit_status(rc) == 1) {
		u->quiet_failed = 1;
		return 0;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct ama_common c;
	const char *state_name = NULL;
	struct upd u;
	struct ama_asset asset = { NULL, NULL };
	struct ama_buf ipath = AMA_BUF_INIT;
	struct ama_option opts[] = {
		AMA_OPT_STRING(0, "state", &state_name),
		AMA_OPT_FLAG(0, "remove", &u.remove),
		AMA_OPT_END,
	};
	int status;

	memset(&u, 0, sizeof(u));
	u.state = -1;
	ama_setprogname("ama-update-index");
	if (ama_parse_options(&argc, &argv, opts,
			      AMA_COMMON_Z | AMA_COMMON_QUIET, &c,
			      usage_str) < 0)
		return 2;
	u.quiet = c.quiet;
	if (state_name && u.remove)
		return ama_usage_error(&c, "--state and --remove exclude "
				       "each other");
	if (state_name) {
		enum ama_state s;

		if (ama_state_parse(&s, state_name) < 0)
			return ama_usage_error(&c, "%s", ama_error_msg());
		u.state = (int)s;
	}
	if (argc)
		return ama_usage_error(&c, "records come on stdin, not as "
				       "operands");
	if (ama_asset_find(&asset) < 0) {
		ama_report(NULL);
		return 2;
	}
	if (chdir(asset.root) < 0) {
		ama_error_setp_errno(AMA_ESETUP, asset.root, "cannot enter");
		status = ama_report(NULL);
		goto out;
	}
	u.root.root = asset.root;
	u.root.prefix = (char *)"";
	u.racy_from = ama_clock_coarse_ns() - RACY_MARGIN_NS;
	ama_buf_addf(&ipath, "%s/.ama/index", asset.root);
	/* the lock before anything is read: one writer for the whole run */
	if (ama_index_lock_and_load(&u.idx, ipath.s) < 0) {
		status = ama_report(NULL);
		goto out;
	}
	status = ama_for_each_record(&c, 0, NULL, AMA_INPUT_RECORDS,
				     update_one, &u);
	if (status == 0 && u.quiet_failed)
		status = 1;
	if (status == 2 || !u.changed) {
		ama_index_rollback(u.idx);
	} else if (ama_index_write_and_commit(u.idx) < 0) {
		ama_report(NULL);
		status = 2;
	}
out:
	ama_index_free(u.idx);
	ama_buf_release(&u.path);
	ama_buf_release(&ipath);
	ama_asset_release(&asset);
	return status;
}
