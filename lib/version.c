/* version.c: the X.Y.Z numbering of versions, kept strict so a number has one spelling. */
#include "auto-config.h"

#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "record.h"
#include "version.h"

/* A decimal of at most max, no leading zero; returns its end or NULL. */
static const char *parse_num(uint32_t *out, const char *p, const char *end,
			     uint32_t max)
{
	const char *start = p;
	uint64_t v = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return NULL;
		p++;
	}
	if (p == start || (*start == '0' && p - start > 1))
		return NULL;
	*out = (uint32_t)v;
	return p;
}

int ama_version_parse_n(struct ama_version *out, const char *s, size_t len)
{
	const char *end = s + len, *p = s;
	struct ama_buf shown = AMA_BUF_INIT;
	struct ama_version v;

	p = parse_num(&v.x, p, end, AMA_VERSION_XMAX);
	if (!p || p == end || *p++ != '.')
		goto bad;
	p = parse_num(&v.y, p, end, AMA_VERSION_YZMAX);
	if (!p || p == end || *p++ != '.')
		goto bad;
	p = parse_num(&v.z, p, end, AMA_VERSION_YZMAX);
	if (!p || p != end)
		goto bad;
	*out = v;
	return 0;
bad:
	/* the text may be hostile: quote it, and keep the message short */
	len = len > 40 ? 40 : len;
	if (ama_quote_needed(s, len)) {
		ama_quote_path(&shown, s, len);
	} else {
		ama_buf_addch(&shown, '\'');
		ama_buf_add(&shown, s, len);
		ama_buf_addch(&shown, '\'');
	}
	ama_error_set(AMA_EINVAL, "bad version %s (want X.Y.Z, Y and Z 0..98)",
		      ama_buf_str(&shown));
	ama_buf_release(&shown);
	return AMA_EINVAL;
}

int ama_version_parse(struct ama_version *out, const char *s)
{
	size_t len = 0;

	while (s[len])
		len++;
	return ama_version_parse_n(out, s, len);
}

void ama_version_format(char *out, const struct ama_version *v)
{
	snprintf(out, AMA_VERSION_BUFSIZE, "%u.%u.%u", (unsigned)v->x,
		 (unsigned)v->y, (unsigned)v->z);
}

int ama_version_is_valid(const struct ama_version *v)
{
	return v->y <= AMA_VERSION_YZMAX && v->z <= AMA_VERSION_YZMAX;
}

int ama_version_next(struct ama_version *out, const struct ama_version *v)
{
	struct ama_version n = *v;

	if (!ama_version_is_valid(v))
		return ama_error_set(AMA_EINVAL, "not a valid version");
	if (n.z < AMA_VERSION_YZMAX) {
		n.z++;
	} else if (n.y < AMA_VERSION_YZMAX) {
		n.y++;
		n.z = 0;
	} else if (n.x < AMA_VERSION_XMAX) {
		n.x++;
		n.y = n.z = 0;
	} else {
		return ama_error_set(AMA_EINVAL, "no version after %u.%u.%u",
				     (unsigned)v->x, (unsigned)v->y,
				     (unsigned)v->z);
	}
	*out = n;
	return 0;
}

static int cmp_u32(uint32_t a, uint32_t b)
{
	return (a > b) - (a < b);
}

int ama_version_cmp(const struct ama_version *a, const struct ama_version *b)
{
	if (a->x != b->x)
		return cmp_u32(a->x, b->x);
	if (a->y != b->y)
		return cmp_u32(a->y, b->y);
	return cmp_u32(a->z, b->z);
}
