/* tokens.h: ama-server's users and their bearer tokens, kept only as SHA-256 hashes. */
#ifndef AMA_SERVER_TOKENS_H
#define AMA_SERVER_TOKENS_H

#include <stddef.h>

/*
 * The tokens file holds one line per user, "USER SHA256HEX", the hash
 * being of the whole token. Its mode must be 0600 (nobody but the owner
 * may read or write it); it is always replaced atomically under
 * PATH.lock (lib/lockfile.h). A token is "ama_" and 64 hex digits from
 * RAND_bytes: 256 bits. A user name is 1 to 64 bytes of [A-Za-z0-9._@-],
 * starting with a letter or digit: it is the author of the versions the
 * user commits, and goes into the request log as it is.
 */

#define SRV_TOKEN_LEN 68
#define SRV_USER_MAX 64

/* Is name a valid user name? Returns 0, or AMA_EINVAL with the reason. */
int srv_tokens_check_user(const char *name);

/*
 * Make a token for user, store its hash in the tokens file at path
 * (created with mode 0600 if missing) and put the token in token (at
 * least SRV_TOKEN_LEN + 1 bytes). Returns 0, AMA_EINVAL (bad user name),
 * AMA_EEXIST (the user has a token: revoke it first), AMA_ELOCKED,
 * AMA_ECORRUPT (a bad line in the file), AMA_ESETUP (a file others may
 * read) or AMA_EIO.
 */
int srv_tokens_add(const char *path, const char *user, char *token);
/* Remove user's token. Returns 0, AMA_ENOTFOUND, or the errors above. */
int srv_tokens_revoke(const char *path, const char *user);
/*
 * The users of the file, one per line ("alice\n"), in file order,
 * appended to out. Returns 0 or the errors above (a missing file: none).
 */
struct ama_buf;
int srv_tokens_list(const char *path, struct ama_buf *out);

/*
 * The file as the server holds it, read again whenever it changes on disk
 * (so that a revoked token stops working at once). Thread-safe.
 */
struct srv_tokens;

/* Load path. Returns 0, AMA_ENOTFOUND (no such file), or the errors above. */
int srv_tokens_open(struct srv_tokens **out, const char *path);
void srv_tokens_close(struct srv_tokens *t);
/*
 * Whose token is token (len bytes)? Compares the hash with every user's
 * in constant time. Returns 1 and the user in user (SRV_USER_MAX + 1
 * bytes), 0 for no one, or an error if the changed file could not be read
 * again (no token is valid then, until it can).
 */
int srv_tokens_check(struct srv_tokens *t, const char *token, size_t len,
		     char *user);

#endif
