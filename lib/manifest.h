/* manifest.h: object lists and the manifest text of a version, parsed as hostile input. */
#ifndef AMA_MANIFEST_H
#define AMA_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "md5.h"
#include "record.h"
#include "version.h"

/*
 * An object: a path inside the asset and the content it points to. Paths
 * are relative to the asset root and compared bytewise (memcmp order, a
 * shorter prefix first), as the index and git sort them.
 */
struct ama_object {
	struct ama_md5 md5;
	uint64_t size;		/* at most INT64_MAX */
	const char *path;	/* NUL-terminated, owned by the list */
	size_t path_len;
	unsigned kind;		/* AMA_OBJECT_FILE or AMA_OBJECT_LINK */
};

/*
 * What an object is. A symbolic link is recorded as a link, never
 * followed: its content is the link's target, bytes like any file's,
 * named by their MD5 and stored as contents are; its records and manifest
 * lines carry the word "link" after the size ("<md5> <size> link TAB
 * path"). A target is at most AMA_LINK_MAX bytes.
 */
#define AMA_OBJECT_FILE 0u
#define AMA_OBJECT_LINK 1u
#define AMA_LINK_MAX 4095u

/*
 * The fields "<md5> <size>" of an object, as records, manifests and the
 * blobs of the metadata repository hold them. format appends them to out;
 * parse reads exactly len bytes of s (32 lowercase hex, one space, a
 * decimal without leading zeros up to INT64_MAX) and returns 0 or
 * AMA_EINVAL with the reason.
 */
void ama_object_format_fields(struct ama_buf *out, const struct ama_md5 *md5,
			      uint64_t size);
/* The fields of o: "<md5> <size>", and " link" for a link. */
void ama_object_format(struct ama_buf *out, const struct ama_object *o);
int ama_object_parse_fields(struct ama_md5 *md5, uint64_t *size,
			    const char *s, size_t len);

struct ama_objlist_chunk;	/* path storage, private to manifest.c */

/*
 * A list of objects. It owns the paths of its objects; pointers into it
 * stay valid until the list is released (adding objects moves the array v
 * but never the paths). Zero-filled (AMA_OBJLIST_INIT) is an empty list.
 */
struct ama_objlist {
	struct ama_object *v;
	size_t n, alloc;
	struct ama_objlist_chunk *chunks;
};

#define AMA_OBJLIST_INIT { NULL, 0, 0, NULL }

void ama_objlist_release(struct ama_objlist *l);
/* Append a file object, copying path (len bytes, no NUL inside). No checks. */
void ama_objlist_add(struct ama_objlist *l, const struct ama_md5 *md5,
		     uint64_t size, const char *path, size_t len);
/* The same for an object of any kind. */
void ama_objlist_add_kind(struct ama_objlist *l, const struct ama_md5 *md5,
			  uint64_t size, unsigned kind, const char *path,
			  size_t len);
/* Append a copy of o (its kind, its path copied). */
void ama_objlist_add_object(struct ama_objlist *l, const struct ama_object *o);
/*
 * Append the object a record describes: its first two fields are <md5>
 * <size>, a third field "link" makes it a link (further fields, such as
 * ama-ls-files' state, are ignored), its path the path. Returns 0, or
 * AMA_EINVAL with the path as subject for a missing field, a bad MD5 (32
 * lowercase hex), a bad size, or a link longer than AMA_LINK_MAX.
 */
int ama_objlist_add_record(struct ama_objlist *l, const struct ama_record *rec);
/*
 * Sort by path and check the list (as ama_objlist_check). Returns 0 or
 * AMA_EINVAL; the list is sorted either way.
 */
int ama_objlist_sort(struct ama_objlist *l);
/*
 * Check a sorted list: every path clean (relative, no ".", "..", empty
 * part or trailing '/'; no part ".git" in any letter case, which git
 * cannot store; no part ".ama" anywhere, which ama manages: a nested one
 * would be an asset of its own), in strictly increasing order (no
 * duplicates), no path both a file (or link) and a folder of another
 * ("a" and "a/b": so no path goes through a link of the list), and no
 * link longer than AMA_LINK_MAX. Returns 0, or AMA_EINVAL with the
 * offending path as subject and the reason.
 */
int ama_objlist_check(const struct ama_objlist *l);
/*
 * The checks of ama_objlist_check on one path of len bytes (which must be
 * NUL-terminated at len): clean, relative, no NUL, no ".ama" part, no
 * ".git" part. Returns 0, or AMA_EINVAL with the path as subject.
 */
int ama_object_check_path(const char *path, size_t len);
/* The object at path (len bytes) in a sorted list, or NULL. */
const struct ama_object *ama_objlist_find(const struct ama_objlist *l,
					  const char *path, size_t len);
/*
 * Append the objects part of a manifest to out: one line per object,
 * "<md5> <size> TAB path" and '\n', the path C-quoted as lib/record.c
 * quotes it (ama_quote_path).
 */
void ama_objlist_format(struct ama_buf *out, const struct ama_objlist *l);
/*
 * Parse an objects part (the format above, each line ending in '\n',
 * nothing else) into out (which must be empty), checked as
 * ama_objlist_check does. first_line numbers the first line in messages.
 * Returns 0, or AMA_EINVAL with a reason naming the line ("line 12: ...");
 * out is then empty.
 */
int ama_objlist_parse(struct ama_objlist *out, const char *text, size_t len,
		      unsigned long first_line);
/* Does the list hold a link? (Its manifest is then of format 2.) */
int ama_objlist_has_links(const struct ama_objlist *l);
/* Do the two lists hold the same objects (path, MD5, size and kind)? */
int ama_objlist_equal(const struct ama_objlist *a, const struct ama_objlist *b);

/* What happened to a path between two sorted lists. */
enum ama_diff_kind {
	AMA_DIFF_ADDED,		/* only in the new list */
	AMA_DIFF_REMOVED,	/* only in the old list */
	AMA_DIFF_CHANGED,	/* in both, with another MD5, size or kind */
};

struct ama_diff_entry {
	enum ama_diff_kind kind;
	const struct ama_object *old;	/* NULL when added */
	const struct ama_object *new;	/* NULL when removed */
	const char *path;		/* the path of whichever is set */
	size_t path_len;
};

/* A walk over the differences of two sorted lists, in path order. */
struct ama_objlist_diff {
	const struct ama_objlist *old, *new;
	size_t i, j;
};

/* Start a walk; both lists must be sorted and stay unchanged meanwhile. */
void ama_objlist_diff_init(struct ama_objlist_diff *d,
			   const struct ama_objlist *old,
			   const struct ama_objlist *new);
/*
 * The next difference into out (pointing into the lists). Returns 1, or 0
 * when there is none left.
 */
int ama_objlist_diff_next(struct ama_objlist_diff *d,
			  struct ama_diff_entry *out);

/*
 * The commit id of a version: the SHA-256, in 64 lowercase hex digits, of
 * exactly these bytes:
 *
 *     "ama-commit-id 1\n"
 *     "parent X.Y.Z\n"       ("parent\n" when there is no parent)
 *     the objects part, as ama_objlist_format writes it
 *
 * The author, time, message and the new version's number are left out, so
 * the same objects committed on the same parent have the same id however
 * often the commit is retried.
 */
#define AMA_COMMIT_ID_HEXLEN 64
void ama_manifest_commit_id(char *out, const struct ama_version *parent,
			    const struct ama_objlist *objects);

/*
 * A manifest: the header and the objects of one version. Its text is
 * "key value" lines, then an empty line, then the objects part:
 *
 *     version 0.0.1
 *     parent 0.0.0
 *     class imaging
 *     seq 3
 *     commit-id <64 hex>
 *     author alice
 *     time 1718000000
 *     message first light
 *
 *     <md5> <size>\tpath
 *     <md5> <size> link\tpath
 *
 * A manifest that holds a link (or any later addition to the format)
 * says so first, with "format 2" as its first header line, so that an
 * ama that reads only format 1 refuses it (an unknown key) rather than
 * misreading it; a manifest without one is format 1, byte for byte what
 * earlier versions of ama wrote.
 * version, author and time are required; parent is absent (or has no
 * value) exactly for 0.0.0, and otherwise is the version before; class,
 * seq, commit-id and message are optional (a missing message is empty).
 * A key without a value is written without the space. time is seconds
 * since the epoch, UTC: the unit of git's commit time, so it goes into
 * the metadata repository and comes back unchanged, with no calendar or
 * time zone to parse. Text values (author, message) are C-quoted as paths
 * are when they hold a control byte, DEL, '"' or '\'. The author is a
 * user name: 1 to 255 bytes, no control bytes, no '<' or '>' and no
 * leading or trailing space, so git can store it as it is.
 */
struct ama_manifest {
	unsigned format;	/* parsed: 1 or 2 (2: "format 2" was there) */
	struct ama_version version;
	int has_parent;
	struct ama_version parent;
	char *class;		/* NULL when absent */
	uint64_t seq;		/* 0 when absent */
	char *author;
	int64_t time;		/* seconds since the epoch, >= 0 */
	char *message;		/* NULL or "" when empty; may hold newlines */
	struct ama_objlist objects;
};

/*
 * The strings are the manifest's: release frees class, author and message
 * (set them with ama_strdup) and the objects.
 */
void ama_manifest_init(struct ama_manifest *m);
void ama_manifest_release(struct ama_manifest *m);

/*
 * Check a manifest built in memory: version and parent consistent, class
 * valid (ama_manifest_check_class), author valid, time not negative, the
 * objects sorted and valid. Returns 0 or AMA_EINVAL.
 */
int ama_manifest_check(const struct ama_manifest *m);
/*
 * Is name a valid class name: 1 to 64 bytes of [A-Za-z0-9._-], starting
 * with a letter or digit, no "..", not ending in '.' or ".lock"? Such a
 * name is a valid part of a git ref and of a bucket key. Returns 0, or
 * AMA_EINVAL with the reason.
 */
int ama_manifest_check_class(const char *name);
/* Is name a valid author (see above)? Returns 0 or AMA_EINVAL. */
int ama_manifest_check_author(const char *name);

/*
 * Append the text of m to out, header keys in the order shown above,
 * commit-id always written (computed from parent and objects). m must
 * pass ama_manifest_check.
 */
void ama_manifest_format(struct ama_buf *out, const struct ama_manifest *m);
/*
 * Parse a manifest from len bytes of hostile text into out (initialized
 * by the call). Returns 0, or AMA_EINVAL with a reason naming the line:
 * a NUL byte, an unknown, repeated or missing key, a bad value, a missing
 * empty line, a bad object line, or a commit-id that does not match the
 * parent and objects. out is released on failure.
 */
int ama_manifest_parse(struct ama_manifest *out, const char *text,
		       size_t len);

/*
 * Parse only the header of a manifest (the first len bytes of its text,
 * which may stop anywhere after the empty line), checked as above, into
 * out (no objects) and its commit-id into commit_id (65 bytes), which
 * must be there. Returns 0, AMA_EINVAL, or 1 when the text ends before
 * the empty line (read more of it). out is released unless 0.
 */
int ama_manifest_parse_header(struct ama_manifest *out, char *commit_id,
			      const char *text, size_t len);

#endif
