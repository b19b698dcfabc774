/* wire.h: the JSON that ama-server and its clients exchange, written and read in one place. */
#ifndef AMA_WIRE_H
#define AMA_WIRE_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "client.h"
#include "manifest.h"
#include "meta.h"
#include "publish.h"

/*
 * Both ends of the HTTP API (server/api.c and lib/client_http.c) build and
 * read their bodies here, so that what one writes the other reads. The
 * builders return a new reference (the caller json_decref()s it); the
 * readers take a parsed value, return 0 or AMA_EINVAL with a reason naming
 * the field ("'version': bad version '1'"), and fill out only on success.
 *
 * JSON strings are UTF-8, paths are bytes. A path travels in its wire
 * form: the record form (lib/record.h: C-quoted when it holds a control
 * byte, DEL, '"' or '\'), and also quoted when it is not valid UTF-8, each
 * byte that is not part of a valid UTF-8 character then written as a
 * three-digit octal escape ("\351"). ama_unquote_path() reads it back.
 */

/* Is s (n bytes) valid UTF-8 without a NUL, as a JSON string must be? */
int ama_wire_utf8_valid(const char *s, size_t n);
/* Append the wire form of path (len bytes) to out. */
void ama_wire_quote_path(struct ama_buf *out, const char *path, size_t len);
/*
 * Append the objects part as it travels: "<md5> <size> TAB path\n" for
 * each object, the path in its wire form. ama_objlist_parse() reads it.
 */
void ama_wire_format_objects(struct ama_buf *out, const struct ama_objlist *l);

/* Text for a JSON string: s itself, or with each byte that is not valid UTF-8 as U+FFFD. */
json_t *ama_wire_text(const char *s);

/* {"name","class_id","top_hash","created"} */
json_t *ama_wire_class(const struct ama_class_info *c);
int ama_wire_parse_class(struct ama_class_info *out, json_t *j);

/*
 * A class with where its content lives: the fields above and "staging",
 * "remote", "s3": {"endpoint", "region", "addressing"} (each null when
 * unset; "s3" null when no bucket is on S3).
 */
json_t *ama_wire_client_class(const struct ama_client_class *k);
/* out is zeroed first; release it with ama_client_class_release(). */
int ama_wire_parse_client_class(struct ama_client_class *out, json_t *j);

/* {"seq": 3, "head": "0.0.2" or null} */
json_t *ama_wire_asset(const struct ama_asset_info *a);
int ama_wire_parse_asset(struct ama_asset_info *out, json_t *j);

/*
 * {"version","parent" (or null),"class","seq","author","time","message",
 * "commit_id","oid"}; the reader's strings are released with
 * ama_meta_version_release().
 */
json_t *ama_wire_version(const struct ama_meta_version *v);
int ama_wire_parse_version(struct ama_meta_version *out, json_t *j);

/*
 * A commit request: {"parent": "0.0.1" or null, "message": "...",
 * "objects": the objects part in wire form}. The class, seq and author
 * are not in it (the URL and the token say them). The builder returns NULL
 * with AMA_EINVAL set when the message is not valid UTF-8.
 */
json_t *ama_wire_commit_request(const struct ama_commit_request *rq);

struct ama_wire_commit {
	int has_parent;
	struct ama_version parent;
	char *message;			/* "" when absent */
	struct ama_objlist objects;	/* parsed and checked */
};
int ama_wire_parse_commit_request(struct ama_wire_commit *out, json_t *j);
void ama_wire_commit_release(struct ama_wire_commit *w);

/* {"version","created","nothing","commit_id"} (created and nothing: booleans) */
json_t *ama_wire_commit_result(const struct ama_commit_result *r);
/* Fills version, created, nothing and commit_id of out (problems untouched). */
int ama_wire_parse_commit_result(struct ama_commit_result *out, json_t *j);

/*
 * A commit still at work on the server (its 202): {"job": JOB}, JOB
 * AMA_WIRE_JOBLEN lowercase hex digits. Its answer comes from GET
 * .../commits/JOB (see ama-server(8)).
 */
#define AMA_WIRE_JOBLEN 32
json_t *ama_wire_job(const char *job);
/* out: AMA_WIRE_JOBLEN + 1 bytes. Returns 0 or AMA_EINVAL. */
int ama_wire_parse_job(char *out, json_t *j);

/*
 * An error: {"error": message, "code": the AMA_E* code's name ("notfound"
 * for AMA_ENOTFOUND), "subject": wire path or absent, "problems":
 * [{"reason","path"}] or absent}. problems (may be NULL or empty) holds
 * "<reason> TAB path" lines as ama_commit_result's do.
 */
json_t *ama_wire_error(int code, const char *message, const char *subject,
		       const struct ama_buf *problems);
/*
 * Read an error body: set this thread's error to its code (code when it
 * names none ama knows) with its message and subject (ama_error_setp()
 * when there is one), append its problems to problems (may be NULL) as
 * "<reason> TAB path\n" lines, and return the code. A body that is not
 * such an error sets code with the message fallback instead.
 */
int ama_wire_parse_error(json_t *j, int code, const char *fallback,
			 struct ama_buf *problems);

/* The name of an AMA_E* code on the wire ("io", "notfound", ...), or NULL. */
const char *ama_wire_code_name(int code);

#endif
