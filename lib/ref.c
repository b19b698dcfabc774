/* ref.c: how a user names an asset and a version: CLASS/SEQ[@VERSION]. */
#include "auto-config.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "manifest.h"
#include "ref.h"

int ama_ref_check_alias(const char *name)
{
	size_t i, n = strlen(name);
	int digits = 1;

	if (n < 1 || n > 64)
		return ama_error_set(AMA_EINVAL, "an alias has 1 to 64 bytes");
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (c >= '0' && c <= '9')
			continue;
		digits = 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '.' || c == '_' || c == '-'))
			return ama_error_set(AMA_EINVAL, "an alias holds only "
					     "letters, digits, '.', '_' and "
					     "'-'");
	}
	if (digits)
		return ama_error_set(AMA_EINVAL, "an alias is not all digits "
				     "(that is an asset number)");
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return ama_error_set(AMA_EINVAL, "'%s' is not an alias", name);
	return 0;
}

static int parse_seq(uint64_t *out, const char *s, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || s[0] == '0' || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int ama_ref_parse(struct ama_ref *out, const char *s)
{
	const char *slash = strchr(s, '/'), *at, *name;
	size_t cn, nn;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!slash)
		return ama_error_set(AMA_EINVAL, "not CLASS/SEQ[@VERSION]");
	cn = (size_t)(slash - s);
	if (cn >= sizeof(out->class))
		return ama_error_set(AMA_EINVAL, "the class name is longer "
				     "than 64 bytes");
	memcpy(out->class, s, cn);
	out->class[cn] = '\0';
	rc = ama_manifest_check_class(out->class);
	if (rc < 0)
		return rc;
	name = slash + 1;
	at = strchr(name, '@');
	nn = at ? (size_t)(at - name) : strlen(name);
	if (at) {
		rc = ama_version_parse(&out->version, at + 1);
		if (rc < 0)
			return rc;
		out->has_version = 1;
	}
	if (nn && name[0] >= '0' && name[0] <= '9' &&
	    strspn(name, "0123456789") == nn) {
		if (parse_seq(&out->seq, name, nn) < 0)
			return ama_error_set(AMA_EINVAL, "'%.*s' is not an asset"
					     " number (1, 2, ...)", (int)nn,
					     name);
		return 0;
	}
	if (nn >= sizeof(out->alias))
		return ama_error_set(AMA_EINVAL, "an alias has 1 to 64 bytes");
	memcpy(out->alias, name, nn);
	out->alias[nn] = '\0';
	return ama_ref_check_alias(out->alias);
}
