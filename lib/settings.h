/* settings.h: an asset's effective settings: what the user configured, else what the server said. */
#ifndef AMA_SETTINGS_H
#define AMA_SETTINGS_H

#include "config.h"

/*
 * The server hands the client its class (top_hash) and where the class's
 * content lives (the staging and remote bucket URLs, the S3 endpoint,
 * region and addressing). ama keeps that in the asset's .ama/config under
 * [class]; the user's own [store] and [s3] keys, in any layer (user file,
 * .ama/config, AMA_* variables), override it:
 *
 *   [store] staging     else  [class] staging
 *   [store] remote      else  [class] remote
 *   [s3] endpoint       else  [class] s3-endpoint
 *   [s3] region         else  [class] s3-region
 *   [s3] addressing     else  [class] s3-addressing
 */

/*
 * Fill the unset keys on the left from [class], in cfg's memory only, so
 * that ama_store_open() and ama_config_get() see the effective values.
 */
void ama_settings_apply_class(struct ama_config *cfg);

/*
 * The effective URL of the staging or remote bucket (which is "staging"
 * or "remote"), after ama_settings_apply_class(). Returns it, or NULL with
 * AMA_ESETUP set: "no staging bucket: set [store] staging, or run ama
 * upload once to ask the server".
 */
const char *ama_settings_store_url(const struct ama_config *cfg,
				   const char *which);

/*
 * The top hash of the asset's class ([class] top-hash, or AMA_CLASS_TOP_HASH):
 * 32 lowercase hex digits. Returns it, or NULL with AMA_ESETUP set.
 */
const char *ama_settings_top_hash(const struct ama_config *cfg);

/*
 * The embedded default's bucket (which: "remote" or "staging"), a file://
 * folder under the user's data folder: file://$XDG_DATA_HOME/ama/WHICH.
 * Returns a string the caller frees, or NULL with AMA_ESETUP (no HOME).
 */
char *ama_settings_default_store_url(const char *which);

/*
 * The remote or staging bucket a client uses: [store] WHICH (after
 * ama_settings_apply_class), else, when no server is configured or it is
 * "local", the embedded default. NULL (AMA_ESETUP set) when a server is
 * configured and nothing says where its class lives yet. Caller frees.
 */
char *ama_settings_client_store_url(const struct ama_config *cfg,
				    const char *which);

#endif
