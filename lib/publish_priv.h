/* publish_priv.h: what lib/publish.c and lib/publish_commit.c share, and nobody else. */
#ifndef AMA_PUBLISH_PRIV_H
#define AMA_PUBLISH_PRIV_H

#include <pthread.h>
#include <stdint.h>

#include "buf.h"
#include "meta.h"
#include "publish.h"
#include "store.h"

/*
 * A commit that needs at least LIST_MIN contents looked up in an s3://
 * remote lists <top_hash>/contents/ first, for as many pages as it
 * needs HEADs / HEADS_PER_PAGE; what the pages did not reach is asked
 * for with HEADs. On file:// a HEAD is a stat: always cheaper.
 */
#define LIST_MIN 100
#define HEADS_PER_PAGE 100
#define MAX_MANIFEST AMA_BUCKET_MAX_MANIFEST
#define MAX_ROUNDS 8		/* times a commit may start over */
#define NLOCKS 256
#define RESTART 1		/* commit_once: start over */
#define CLAIMED 2		/* claim_manifest: the key was free */

/* ---- the publisher: its pool of handles, its tables ---- */

/* What one thread at a time works with. */
struct session {
	struct session *next;
	struct ama_store *remote;
	struct ama_store *staging;
	struct ama_meta *meta;		/* opened on first use */
	double idle_since;		/* in the pool since (monotonic s) */
};

struct known_class {
	struct known_class *next;
	struct ama_class_info info;
};

/* The lock that serializes the commits to one asset. */
struct asset_lock {
	struct asset_lock *next;
	char class[65];
	uint64_t seq;
	pthread_mutex_t mu;
};

struct ama_publish {
	char *remote_url, *staging_url, *repo_path;
	const struct ama_config *cfg;
	int jobs;
	pthread_mutex_t mu;		/* the three lists below */
	struct session *idle;
	struct known_class *classes;
	struct asset_lock *locks[NLOCKS];
	pthread_mutex_t claim;		/* creating classes and assets */
};

/*
 * A session from the publisher's pool (opened when none is idle), and its
 * return. A session is used by one thread at a time.
 */
int ama_pub_session_get(struct ama_publish *p, struct session **out);
void ama_pub_session_put(struct ama_publish *p, struct session *s);
/* Open the session's handle on the metadata repository, once. */
int ama_pub_session_meta(struct ama_publish *p, struct session *s);
/* The mutex that serializes the commits to CLASS/SEQ. */
pthread_mutex_t *ama_pub_asset_lock(struct ama_publish *p, const char *class,
				    uint64_t seq);

/* Put text under key; create-only with AMA_STORE_IF_NONE_MATCH. */
int ama_pub_put_text(struct ama_store *s, const char *key,
		     const struct ama_buf *text, unsigned flags);

/* The class called name, read (or with create, made); cached. */
int ama_pub_class_get(struct ama_publish *p, struct session *s,
		      const char *name, int create,
		      struct ama_class_info *out);
/* Append the key <top_hash>/assets/<seq>/<leaf> to out. */
void ama_pub_asset_key(struct ama_buf *out, const struct ama_class_info *c,
		       uint64_t seq, const char *leaf);
/* Is CLASS/SEQ an asset (claimed in remote)? 0, or AMA_ENOTFOUND. */
int ama_pub_asset_must_exist(struct session *s,
			     const struct ama_class_info *c, uint64_t seq);

#endif
