/* s3creds.h: where an S3 store's endpoint, region and keys come from, as aws CLI users expect. */
#ifndef AMA_S3CREDS_H
#define AMA_S3CREDS_H

#include "config.h"

/* A key pair. The secret is wiped when released; it is never printed. */
struct ama_s3_creds {
	char *key_id;
	char *secret;
	char *token;	/* session token, or NULL */
	char *source;	/* for messages: "profile NAME in FILE", "environment" */
};

struct ama_s3_settings {
	char *endpoint;		/* "http://127.0.0.1:9000", no trailing '/' */
	char *region;
	int virtual_host;	/* [s3] addressing = virtual */
	struct ama_s3_creds creds;
};

/*
 * Resolve the settings of a store used in role ("staging", "remote",
 * "server" or NULL). Precedence, first found wins:
 *   endpoint: [s3] endpoint (AMA_S3_ENDPOINT), AWS_ENDPOINT_URL_S3,
 *             AWS_ENDPOINT_URL, else https://s3.REGION.amazonaws.com
 *   region:   [s3] region (AMA_S3_REGION), AWS_REGION, AWS_DEFAULT_REGION,
 *             the profile's region in $AWS_CONFIG_FILE (~/.aws/config),
 *             else us-east-1
 *   keys:     the profile [s3] ROLE-profile names (AMA_S3_ROLE_PROFILE),
 *             AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
 *             the profile AWS_PROFILE names, the "default" profile;
 *             profiles are read from $AWS_SHARED_CREDENTIALS_FILE, else
 *             ~/.aws/credentials (INI, with inih).
 * Keys never come from the ama config itself. Returns 0, or AMA_ESETUP
 * (a named profile that is missing or incomplete, no keys at all, a bad
 * addressing value) or AMA_EIO (unreadable credentials file).
 */
int ama_s3_settings_load(struct ama_s3_settings *out,
			 const struct ama_config *cfg, const char *role);
void ama_s3_settings_release(struct ama_s3_settings *s);

/*
 * Read profile from the credentials file path into out. Returns 0,
 * AMA_ENOTFOUND if the file or the profile is not there, AMA_ESETUP if the
 * profile lacks a key or a secret, AMA_EIO if the file cannot be read.
 */
int ama_s3_profile_read(struct ama_s3_creds *out, const char *path,
			const char *profile);
void ama_s3_creds_release(struct ama_s3_creds *c);

/* The credentials file ($AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials); caller frees. */
char *ama_s3_credentials_path(void);

#endif
