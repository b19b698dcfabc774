/* ref.h: how a user names an asset and a version: CLASS/SEQ[@VERSION]. */
#ifndef AMA_REF_H
#define AMA_REF_H

#include <stdint.h>

#include "version.h"

/*
 * "imaging/3", "imaging/3@0.0.2": a class name (ama_manifest_check_class),
 * '/', an asset number (1, 2, ...: no sign, no leading zero), and
 * optionally '@' and a version X.Y.Z. "imaging/lung-ct@0.0.1" names the
 * asset by an alias (1 to 64 bytes of letters, digits, '.', '_', '-', not
 * all digits), which the bucket resolves to a number.
 */
struct ama_ref {
	char class[65];
	uint64_t seq;		/* 0 when named by alias */
	char alias[65];		/* "" when named by number */
	int has_version;
	struct ama_version version;
};

/* Parse s. Returns 0, or AMA_EINVAL with the reason (s not named). */
int ama_ref_parse(struct ama_ref *out, const char *s);
/* Is name a valid alias? 0, or AMA_EINVAL with the reason. */
int ama_ref_check_alias(const char *name);

#endif
