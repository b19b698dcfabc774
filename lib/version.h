/* version.h: version numbers X.Y.Z of an asset: parsing, printing, order, succession. */
#ifndef AMA_VERSION_H
#define AMA_VERSION_H

#include <stddef.h>
#include <stdint.h>

/*
 * An asset's versions are numbered 0.0.0, 0.0.1, ..., 0.0.98, 0.1.0, ...,
 * 0.98.98, 1.0.0, ...: Y and Z run from 0 to 98, X from 0 to
 * AMA_VERSION_XMAX. The text form is strict: decimal digits, no sign, no
 * leading zeros (except "0" itself), no spaces. A zeroed struct is 0.0.0,
 * the first version.
 */
struct ama_version {
	uint32_t x, y, z;
};

#define AMA_VERSION_YZMAX 98u
#define AMA_VERSION_XMAX 4294967295u
/* The longest text form, "4294967295.98.98", and its NUL. */
#define AMA_VERSION_BUFSIZE 17

/*
 * Parse s, which must hold a version and nothing else. Returns 0, or
 * AMA_EINVAL with a reason naming the text ("bad version '0.01.2'").
 */
int ama_version_parse(struct ama_version *out, const char *s);
/* The same for the first len bytes of s (no NUL needed). */
int ama_version_parse_n(struct ama_version *out, const char *s, size_t len);
/* Write the text form into out, which holds AMA_VERSION_BUFSIZE bytes. */
void ama_version_format(char *out, const struct ama_version *v);
/*
 * The version after v (0.0.98 -> 0.1.0, 0.98.98 -> 1.0.0). Returns 0, or
 * AMA_EINVAL when v is not valid or is the last version there can be.
 */
int ama_version_next(struct ama_version *out, const struct ama_version *v);
/* Is v within the ranges above? */
int ama_version_is_valid(const struct ama_version *v);
/* <0, 0 or >0 as a comes before, is, or comes after b. */
int ama_version_cmp(const struct ama_version *a, const struct ama_version *b);

#endif
