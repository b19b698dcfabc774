/* wire.c: the JSON bodies of ama-server's API, built and read for both ends. */
#include "auto-config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "md5.h"
#include "record.h"
#include "utf8.h"
#include "wire.h"

int ama_wire_utf8_valid(const char *s, size_t n)
{
	return ama_utf8_valid(s, n);
}

void ama_wire_quote_path(struct ama_buf *out, const char *path, size_t len)
{
	const unsigned char *p = (const unsigned char *)path;
	size_t i = 0;

	if (ama_wire_utf8_valid(path, len)) {
		ama_quote_path(out, path, len);
		return;
	}
	ama_buf_addch(out, '"');
	while (i < len) {
		unsigned char c = p[i];
		size_t l = ama_utf8_char(p + i, len - i);

		if (l > 1) {
			ama_buf_add(out, p + i, l);
			i += l;
			continue;
		}
		i++;
		if (l == 1 && c >= 0x20 && c != 0x7f && c != '"' && c != '\\')
			ama_buf_addch(out, c);
		else if (c == '"' || c == '\\')
			ama_buf_addf(out, "\\%c", c);
		else if (c >= 7 && c <= 13)
			ama_buf_addf(out, "\\%c", "abtnvfr"[c - 7]);
		else
			ama_buf_addf(out, "\\%03o", c);
	}
	ama_buf_addch(out, '"');
}

void ama_wire_format_objects(struct ama_buf *out, const struct ama_objlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		ama_object_format(out, &l->v[i]);
		ama_buf_addch(out, '\t');
		ama_wire_quote_path(out, l->v[i].path, l->v[i].path_len);
		ama_buf_addch(out, '\n');
	}
}

json_t *ama_wire_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct ama_buf b = AMA_BUF_INIT;
	size_t n = strlen(s), i = 0;
	json_t *j;

	if (ama_wire_utf8_valid(s, n))
		return json_string(s);
	while (i < n) {
		size_t l = ama_utf8_char(p + i, n - i);

		if (l) {
			ama_buf_add(&b, p + i, l);
			i += l;
		} else {
			ama_buf_addstr(&b, "\xef\xbf\xbd");
			i++;
		}
	}
	j = json_string(ama_buf_str(&b));
	ama_buf_release(&b);
	return j;
}

/* --- reading fields, with messages that name them --- */

static json_t *member(json_t *j, const char *key)
{
	return json_is_object(j) ? json_object_get(j, key) : NULL;
}

/* A string member (NULL for null when may_be_null); NULL after an error. */
static int get_string(json_t *j, const char *key, int may_be_null,
		      const char **out)
{
	json_t *v = member(j, key);

	*out = NULL;
	if (may_be_null && (!v || json_is_null(v)))
		return 0;
	if (!v)
		return ama_error_set(AMA_EINVAL, "'%s' is missing", key);
	if (!json_is_string(v))
		return ama_error_set(AMA_EINVAL, "'%s' is not a string", key);
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v))
		return ama_error_set(AMA_EINVAL, "'%s' holds a NUL", key);
	return 0;
}

static int get_int(json_t *j, const char *key, int64_t min, int64_t *out)
{
	json_t *v = member(j, key);

	if (!v)
		return ama_error_set(AMA_EINVAL, "'%s' is missing", key);
	if (!json_is_integer(v) || json_integer_value(v) < min)
		return ama_error_set(AMA_EINVAL,
				     "'%s' is not a whole number of at least %"
				     PRId64, key, min);
	*out = json_integer_value(v);
	return 0;
}

static int get_bool(json_t *j, const char *key, int *out)
{
	json_t *v = member(j, key);

	if (!v || !json_is_boolean(v))
		return ama_error_set(AMA_EINVAL, "'%s' is not true or false",
				     key);
	*out = json_is_true(v);
	return 0;
}

/* A version member; has is 0 for null when has may be given. */
static int get_version(json_t *j, const char *key, int *has,
		       struct ama_version *out)
{
	const char *s;

	if (get_string(j, key, has != NULL, &s) < 0)
		return AMA_EINVAL;
	if (has)
		*has = s != NULL;
	if (!s)
		return 0;
	if (ama_version_parse(out, s) < 0)
		return ama_error_wrap(AMA_EINVAL, "'%s'", key);
	return 0;
}

static int get_hex(json_t *j, const char *key, size_t len, char *out)
{
	const char *s;
	size_t i;

	if (get_string(j, key, 0, &s) < 0)
		return AMA_EINVAL;
	for (i = 0; s[i]; i++)
		if (!strchr("0123456789abcdef", s[i]))
			break;
	if (i != len || s[i])
		return ama_error_set(AMA_EINVAL,
				     "'%s' is not %zu lowercase hex digits",
				     key, len);
	memcpy(out, s, len + 1);
	return 0;
}

static json_t *version_json(const struct ama_version *v)
{
	char buf[AMA_VERSION_BUFSIZE];

	ama_version_format(buf, v);
	return json_string(buf);
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* --- classes and assets --- */

json_t *ama_wire_class(const struct ama_class_info *c)
{
	return json_pack("{s:s, s:s, s:s, s:I}", "name", c->name,
			 "class_id", c->class_id, "top_hash", c->top_hash,
			 "created", (json_int_t)c->created);
}

int ama_wire_parse_class(struct ama_class_info *out, json_t *j)
{
	struct ama_class_info c;
	const char *name, *id;
	int64_t created;

	memset(&c, 0, sizeof(c));
	if (get_string(j, "name", 0, &name) < 0 ||
	    get_string(j, "class_id", 0, &id) < 0 ||
	    get_hex(j, "top_hash", 32, c.top_hash) < 0 ||
	    get_int(j, "created", 0, &created) < 0)
		return AMA_EINVAL;
	if (ama_manifest_check_class(name) < 0)
		return ama_error_wrap(AMA_EINVAL, "'name'");
	if (strlen(id) != 36 || strspn(id, "0123456789abcdef-") != 36)
		return ama_error_set(AMA_EINVAL, "'class_id' is not a UUID");
	strcpy(c.name, name);
	strcpy(c.class_id, id);
	c.created = created;
	*out = c;
	return 0;
}

json_t *ama_wire_client_class(const struct ama_client_class *k)
{
	json_t *j = ama_wire_class(&k->info), *s3 = json_null();

	if (k->s3_endpoint || k->s3_region || k->s3_addressing) {
		json_decref(s3);
		s3 = json_pack("{s:o, s:o, s:o}",
			       "endpoint", string_or_null(k->s3_endpoint),
			       "region", string_or_null(k->s3_region),
			       "addressing", string_or_null(k->s3_addressing));
	}
	json_object_set_new(j, "staging", string_or_null(k->staging));
	json_object_set_new(j, "remote", string_or_null(k->remote));
	json_object_set_new(j, "s3", s3);
	return j;
}

static char *dup_or_null(const char *s)
{
	return s ? ama_strdup(s) : NULL;
}

int ama_wire_parse_client_class(struct ama_client_class *out, json_t *j)
{
	const char *staging, *remote, *ep = NULL, *region = NULL, *addr = NULL;
	json_t *s3 = member(j, "s3");

	memset(out, 0, sizeof(*out));
	if (ama_wire_parse_class(&out->info, j) < 0 ||
	    get_string(j, "staging", 1, &staging) < 0 ||
	    get_string(j, "remote", 1, &remote) < 0)
		return AMA_EINVAL;
	if (s3 && !json_is_null(s3)) {
		if (!json_is_object(s3))
			return ama_error_set(AMA_EINVAL,
					     "'s3' is not an object");
		if (get_string(s3, "endpoint", 1, &ep) < 0 ||
		    get_string(s3, "region", 1, &region) < 0 ||
		    get_string(s3, "addressing", 1, &addr) < 0)
			return ama_error_wrap(AMA_EINVAL, "'s3'");
	}
	out->staging = dup_or_null(staging);
	out->remote = dup_or_null(remote);
	out->s3_endpoint = dup_or_null(ep);
	out->s3_region = dup_or_null(region);
	out->s3_addressing = dup_or_null(addr);
	return 0;
}

json_t *ama_wire_asset(const struct ama_asset_info *a)
{
	return json_pack("{s:I, s:o}", "seq", (json_int_t)a->seq, "head",
			 a->has_head ? version_json(&a->head) : json_null());
}

int ama_wire_parse_asset(struct ama_asset_info *out, json_t *j)
{
	struct ama_asset_info a;
	int64_t seq;

	memset(&a, 0, sizeof(a));
	if (get_int(j, "seq", 1, &seq) < 0 ||
	    get_version(j, "head", &a.has_head, &a.head) < 0)
		return AMA_EINVAL;
	a.seq = (uint64_t)seq;
	*out = a;
	return 0;
}

/* --- versions --- */

json_t *ama_wire_version(const struct ama_meta_version *v)
{
	return json_pack("{s:o, s:o, s:o, s:I, s:o, s:I, s:o, s:s, s:s}",
			 "version", version_json(&v->version),
			 "parent", v->has_parent ? version_json(&v->parent) :
			 json_null(),
			 "class", ama_wire_text(v->class ? v->class : ""),
			 "seq", (json_int_t)v->seq,
			 "author", ama_wire_text(v->author ? v->author : ""),
			 "time", (json_int_t)v->time,
			 "message", ama_wire_text(v->message ? v->message : ""),
			 "commit_id", v->commit_id, "oid", v->oid);
}

int ama_wire_parse_version(struct ama_meta_version *out, json_t *j)
{
	struct ama_meta_version v;
	const char *class, *author, *message;
	int64_t seq, time;

	memset(&v, 0, sizeof(v));
	if (get_version(j, "version", NULL, &v.version) < 0 ||
	    get_version(j, "parent", &v.has_parent, &v.parent) < 0 ||
	    get_string(j, "class", 0, &class) < 0 ||
	    get_int(j, "seq", 1, &seq) < 0 ||
	    get_string(j, "author", 0, &author) < 0 ||
	    get_int(j, "time", 0, &time) < 0 ||
	    get_string(j, "message", 0, &message) < 0 ||
	    get_hex(j, "commit_id", AMA_COMMIT_ID_HEXLEN, v.commit_id) < 0 ||
	    get_hex(j, "oid", AMA_META_OIDLEN, v.oid) < 0)
		return AMA_EINVAL;
	v.seq = (uint64_t)seq;
	v.time = time;
	v.class = ama_strdup(class);
	v.author = ama_strdup(author);
	v.message = ama_strdup(message);
	*out = v;
	return 0;
}

/* --- commits --- */

json_t *ama_wire_commit_request(const struct ama_commit_request *rq)
{
	const char *msg = rq->message ? rq->message : "";
	struct ama_buf objects = AMA_BUF_INIT;
	json_t *j, *text;

	if (!ama_wire_utf8_valid(msg, strlen(msg))) {
		ama_error_set(AMA_EINVAL, "the message is not valid UTF-8");
		return NULL;
	}
	ama_wire_format_objects(&objects, rq->objects);
	text = json_stringn(ama_buf_str(&objects), objects.len);
	ama_buf_release(&objects);
	if (!text) {	/* the wire form is UTF-8 by construction */
		ama_error_set(AMA_EINVAL, "the objects are not valid UTF-8");
		return NULL;
	}
	j = json_pack("{s:o, s:s, s:o}", "parent",
		      rq->has_parent ? version_json(&rq->parent) : json_null(),
		      "message", msg, "objects", text);
	return j;
}

int ama_wire_parse_commit_request(struct ama_wire_commit *out, json_t *j)
{
	struct ama_wire_commit w;
	const char *message, *objects;
	json_t *v = member(j, "objects");

	memset(&w, 0, sizeof(w));
	if (!json_is_object(j))
		return ama_error_set(AMA_EINVAL, "not a JSON object");
	if (get_version(j, "parent", &w.has_parent, &w.parent) < 0 ||
	    get_string(j, "message", 1, &message) < 0)
		return AMA_EINVAL;
	if (!v || !json_is_string(v))
		return ama_error_set(AMA_EINVAL, "'objects' is %s",
				     v ? "not a string" : "missing");
	objects = json_string_value(v);
	if (ama_objlist_parse(&w.objects, objects, json_string_length(v),
			      1) < 0)
		return ama_error_wrap(AMA_EINVAL, "'objects'");
	w.message = ama_strdup(message ? message : "");
	*out = w;
	return 0;
}

void ama_wire_commit_release(struct ama_wire_commit *w)
{
	free(w->message);
	ama_objlist_release(&w->objects);
	memset(w, 0, sizeof(*w));
}

json_t *ama_wire_commit_result(const struct ama_commit_result *r)
{
	return json_pack("{s:o, s:b, s:b, s:s}", "version",
			 version_json(&r->version), "created", r->created,
			 "nothing", r->nothing, "commit_id", r->commit_id);
}

int ama_wire_parse_commit_result(struct ama_commit_result *out, json_t *j)
{
	struct ama_version v;
	char id[AMA_COMMIT_ID_HEXLEN + 1];
	int created = 0, nothing = 0;

	if (get_version(j, "version", NULL, &v) < 0 ||
	    get_bool(j, "created", &created) < 0 ||
	    get_bool(j, "nothing", &nothing) < 0 ||
	    get_hex(j, "commit_id", AMA_COMMIT_ID_HEXLEN, id) < 0)
		return AMA_EINVAL;
	out->version = v;
	out->created = created;
	out->nothing = nothing;
	memcpy(out->commit_id, id, sizeof(id));
	return 0;
}

json_t *ama_wire_job(const char *job)
{
	return json_pack("{s:s}", "job", job);
}

int ama_wire_parse_job(char *out, json_t *j)
{
	return get_hex(j, "job", AMA_WIRE_JOBLEN, out);
}

/* --- errors --- */

/* The problems lines ("<reason> TAB path", record form) as JSON. */
static json_t *problems_json(const struct ama_buf *problems)
{
	struct ama_buf path = AMA_BUF_INIT, wire = AMA_BUF_INIT;
	const char *s = ama_buf_str(problems), *end = s + problems->len;
	json_t *a = json_array();

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *line_end = nl ? nl : end;
		const char *tab = memchr(s, '\t', (size_t)(line_end - s));
		const char *p;
		size_t plen;

		if (!tab)
			tab = line_end;
		p = tab < line_end ? tab + 1 : line_end;
		plen = (size_t)(line_end - p);
		ama_buf_reset(&path);
		ama_buf_reset(&wire);
		if (plen && p[0] == '"' &&
		    ama_unquote_path(&path, p, plen) == 0)
			ama_wire_quote_path(&wire, path.s, path.len);
		else
			ama_wire_quote_path(&wire, p, plen);
		ama_buf_reset(&path);
		ama_buf_add(&path, s, (size_t)(tab - s));
		json_array_append_new(a, json_pack("{s:o, s:s}", "reason",
						   ama_wire_text(ama_buf_str(&path)),
						   "path", ama_buf_str(&wire)));
		s = nl ? nl + 1 : end;
	}
	ama_buf_release(&path);
	ama_buf_release(&wire);
	return a;
}

static const char *const code_names[] = {
	"ok", "io", "nomem", "inval", "notfound", "locked", "corrupt",
	"changed", "notreg", "setup", "net", "modified", "conflict", "exist",
	"remote", "digest", "auth",
};

#define NCODES (sizeof(code_names) / sizeof(code_names[0]))

const char *ama_wire_code_name(int code)
{
	if (code >= 0 || (size_t)-code >= NCODES)
		return NULL;
	return code_names[-code];
}

static int code_of_name(const char *name, int fallback)
{
	size_t i;

	for (i = 1; name && i < NCODES; i++)
		if (!strcmp(name, code_names[i]))
			return -(int)i;
	return fallback;
}

json_t *ama_wire_error(int code, const char *message, const char *subject,
		       const struct ama_buf *problems)
{
	json_t *j = json_object();
	const char *name = ama_wire_code_name(code);

	json_object_set_new(j, "error", ama_wire_text(message));
	if (name)
		json_object_set_new(j, "code", json_string(name));
	if (subject) {
		struct ama_buf b = AMA_BUF_INIT;

		ama_wire_quote_path(&b, subject, strlen(subject));
		json_object_set_new(j, "subject", json_string(ama_buf_str(&b)));
		ama_buf_release(&b);
	}
	if (problems && problems->len)
		json_object_set_new(j, "problems", problems_json(problems));
	return j;
}

/* A wire path back to bytes, into out (reset first). */
static int unwire(struct ama_buf *out, const char *s)
{
	size_t n = strlen(s);

	ama_buf_reset(out);
	if (n && s[0] == '"')
		return ama_unquote_path(out, s, n);
	ama_buf_add(out, s, n);
	return 0;
}

int ama_wire_parse_error(json_t *j, int code, const char *fallback,
			 struct ama_buf *problems)
{
	const char *msg, *subject, *reason, *path, *name;
	struct ama_buf raw = AMA_BUF_INIT;
	json_t *list = member(j, "problems"), *p;
	size_t i;

	if (get_string(j, "error", 0, &msg) < 0 ||
	    get_string(j, "code", 1, &name) < 0 ||
	    get_string(j, "subject", 1, &subject) < 0 ||
	    (subject && unwire(&raw, subject) < 0) ||
	    (list && !json_is_array(list)))
		return ama_error_set(code, "%s", fallback);
	json_array_foreach(list, i, p) {
		struct ama_buf path_raw = AMA_BUF_INIT;

		if (get_string(p, "reason", 0, &reason) < 0 ||
		    get_string(p, "path", 0, &path) < 0 ||
		    unwire(&path_raw, path) < 0) {
			ama_buf_release(&path_raw);
			ama_buf_release(&raw);
			return ama_error_set(code, "%s", fallback);
		}
		if (problems) {
			ama_buf_addstr(problems, reason);
			ama_buf_addch(problems, '\t');
			ama_quote_path(problems, path_raw.s ? path_raw.s : "",
				       path_raw.len);
			ama_buf_addch(problems, '\n');
		}
		ama_buf_release(&path_raw);
	}
	code = code_of_name(name, code);
	if (subject)
		ama_error_setp(code, ama_buf_str(&raw), "%s", msg);
	else
		ama_error_set(code, "%s", msg);
	ama_buf_release(&raw);
	return code;
}
