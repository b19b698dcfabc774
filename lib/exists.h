/* exists.h: which contents a bucket holds, asked with as few requests as a listing or HEADs allow. */
#ifndef AMA_EXISTS_H
#define AMA_EXISTS_H

#include <stddef.h>
#include <stdint.h>

#include "md5.h"
#include "store.h"

/*
 * One question: is the object <prefix><md5 in hex> in the store, and what
 * does the store say of it? A question is answered (rc 0, found or not)
 * or failed (rc < 0, error says why).
 */
struct ama_exists_query {
	struct ama_md5 md5;	/* in */
	void *udata;		/* in: the caller's */
	int rc;			/* out: 0, or the AMA_E* code of the failure */
	int found;		/* out: the object is there, info says what */
	int listed;		/* out: info comes from a listing, which has
				 * no metadata (x-amz-meta-ama-md5) */
	struct ama_store_info info;
	char *error;		/* out: rc < 0: the reason (owned) */
};

/* Free what a lookup put in q (its error). */
void ama_exists_query_release(struct ama_exists_query *q);

enum ama_exists_mode {
	AMA_EXISTS_AUTO,	/* list or HEAD, whichever costs fewer requests */
	AMA_EXISTS_HEAD,	/* a HEAD for each question */
	AMA_EXISTS_LIST,	/* list the prefix to its end */
};

struct ama_exists_opts {
	enum ama_exists_mode mode;
	int page_size;		/* keys a listing page; 0: 1000 */
	/* out, added to by each lookup: requests asked of the store (not
	 * counted: the store's retries, and the one-byte GET with which the
	 * S3 store asks why a HEAD found nothing, until a first answer has
	 * shown that the bucket exists) */
	uint64_t lists;		/* listing pages */
	uint64_t heads;		/* HEADs */
};

/*
 * Answer the n questions q (sorted by MD5, no two alike) about the keys
 * <prefix><md5> of s. AUTO: one question, or a file:// store (where a
 * HEAD is a stat and a listing walks the folder), gets HEADs; otherwise
 * the prefix is listed page by page, each page answering every question
 * up to its last key, for as long as the pages left (estimated from how
 * far into the MD5 space the keys listed so far reach) are fewer than the
 * questions left; those left then get HEADs, concurrently (the store's
 * [transfer] jobs). The first page is the guess: it may answer none of
 * the questions when the prefix is crowded. After it, MD5s being spread
 * evenly, the estimate is close. A question whose HEAD fails (retries
 * exhausted, a refusal) fails alone; a listing page that fails so leaves
 * its questions to HEADs. Each question gets its answer or its failure;
 * its error is freed with ama_exists_query_release(). Returns 0, or the
 * exit-2 error (AMA_ESETUP, AMA_EAUTH: credentials, a missing bucket)
 * that stopped the lookup, with its reason set, or AMA_EIO if the store
 * was cancelled (ama_store_cancel); questions left are then failed "not
 * asked".
 */
int ama_exists_lookup(struct ama_store *s, const char *prefix,
		      struct ama_exists_query **q, size_t n,
		      struct ama_exists_opts *o);

/*
 * The planner's rule, for the unit tests: after `listed` keys of the
 * prefix, the last of them `at` (0 to 1) of the way through the MD5
 * space, is another page of page_size keys worth it with `remaining`
 * questions above that key? Yes when the pages still to come, at that
 * density, are fewer than the HEADs they would replace.
 */
int ama_exists_keep_listing(uint64_t listed, double at, size_t remaining,
			    int page_size);
/*
 * How far into the MD5 space the hex digits at the start of s are (0 to
 * 1); -1 if s does not start with a lowercase hex digit.
 */
double ama_exists_md5_fraction(const char *s);

/* Where a content is. */
enum ama_where {
	AMA_WHERE_UNKNOWN,	/* not answered: error says why */
	AMA_WHERE_REMOTE,	/* published */
	AMA_WHERE_STAGING,	/* staged, its checksum confirmed */
	AMA_WHERE_MISSING,	/* neither: to be uploaded */
};

/* "remote", "staging", "missing" (NULL for UNKNOWN). */
const char *ama_where_name(enum ama_where w);

struct ama_exists_content {
	struct ama_md5 md5;	/* in */
	uint64_t size;		/* in */
	/*
	 * in: a local file that holds the content (NULL: none), for an
	 * object staged in parts: its ETag must be the one these bytes make
	 */
	const char *path;
	enum ama_where where;	/* out */
	char *error;		/* out: UNKNOWN: the reason (owned) */
	struct ama_exists_query q;	/* the lookup's */
};

/*
 * Where are the n contents v (sorted by MD5, no two alike)? In remote
 * when ama_exists_published() says remote holds <top_hash>/contents/<md5>;
 * else in staging when staging holds <top_hash>/<md5> and
 * ama_exists_staged() says yes (for AMA_STAGED_PARTS, when the object's
 * ETag is the one v->path's bytes make in the parts the staging store
 * would send them in: ama_exists_parts_etag()); else missing, to be sent
 * (whatever is under the key is then overwritten). Each bucket is asked
 * with ama_exists_lookup(), AUTO; o counts the requests. A content whose
 * question failed is UNKNOWN with the reason. Returns 0, or the exit-2
 * error that stopped the lookups (its reason set).
 */
int ama_exists_where(struct ama_store *remote, struct ama_store *staging,
		     const char *top_hash, struct ama_exists_content *v,
		     size_t n, struct ama_exists_opts *o);
void ama_exists_content_release(struct ama_exists_content *c);

/*
 * The remote rule for an answered question about content md5 of size
 * bytes: does remote hold it? Only an object whose bytes are known to be
 * the content counts. A single-part object's ETag is the MD5 the store
 * computed of its bytes: it must be md5 (another ETag, or another size:
 * not the content, whoever put it there; the server overwrites it from
 * verified staging). An object of that size whose ETag cannot tell (made
 * in parts by the server's copy of a content above the copy limit, or on
 * a file:// store, which keeps no ETag) counts by its size: the server
 * reads and hashes it before a version references it, and refuses the
 * commit ("missing") if it is not the content.
 */
int ama_exists_published(const struct ama_exists_query *q,
			 enum ama_store_kind kind, uint64_t size);

/* Does an object in the staging bucket hold the content? */
enum ama_staged {
	AMA_STAGED_NO,		/* absent, another size, or an ETag that
				 * names other bytes */
	AMA_STAGED_YES,
	AMA_STAGED_PARTS,	/* sent in parts: only an ETag the local
				 * bytes make (ama_exists_parts_etag) is it */
};

/*
 * The staging rule for an answered question about content md5 of size
 * bytes. The size must match, and the bytes be vouched for by the store,
 * never by what the uploader wrote beside them (x-amz-meta-ama-md5: anyone
 * with the staging key can write any). A single-part object's ETag must
 * be the MD5 (the store computed it, and checked the Content-MD5 of the
 * PUT). An object sent in parts has the ETag S3 computed from the parts
 * it received, the MD5 of their MD5s and "-N": PARTS, the caller compares
 * it with the one its own file makes. On a file:// store, which keeps no
 * ETag and moves an object under its key only after checking its MD5,
 * the size decides; the server rehashes, and `ama upload` sends again
 * what it refuses.
 */
enum ama_staged ama_exists_staged(const struct ama_exists_query *q,
				  enum ama_store_kind kind,
				  uint64_t size);

/*
 * The ETag S3 gives an object of the size bytes of the file at path sent
 * in parts of part_size bytes (the last one shorter): the MD5 of the
 * parts' binary MD5s in hex, "-" and the number of parts, into out. whole
 * (may be NULL) gets the MD5 of the whole file. Reads the file once.
 * Returns 0, AMA_ECHANGED (the file does not have size bytes), or
 * AMA_EIO (it cannot be read; the path is the error's subject).
 */
int ama_exists_parts_etag(char out[80], const char *path, uint64_t size,
			  uint64_t part_size, struct ama_md5 *whole);

#endif
