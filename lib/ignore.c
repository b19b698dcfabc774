/* ignore.c: gitignore-style patterns for .amaignore files, with a wildmatch of our own. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "ignore.h"

typedef unsigned char uchar;

/*
 * What a step of the matcher says. Besides "no", two answers stop the
 * callers up the recursion from trying further positions for their '*':
 * the text ran out (no later start can match either), or a single '*' met
 * a '/' (only an enclosing '**' may move on). They keep the matcher linear
 * in practice, as in git's wildmatch.
 */
enum {
	WM_MATCH = 0,
	WM_NOMATCH = 1,
	WM_ABORT_ALL = -1,
	WM_ABORT_TO_STARSTAR = -2,
};

static int is_alpha(uchar c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(uchar c)
{
	return c >= '0' && c <= '9';
}

/* Is c in the POSIX class of that name (n bytes, ASCII)? -1: no such class. */
static int in_posix_class(const uchar *name, size_t n, uchar c)
{
#define CLASS(s) (n == sizeof(s) - 1 && !memcmp(name, s, n))
	if (CLASS("alnum"))
		return is_alpha(c) || is_digit(c);
	if (CLASS("alpha"))
		return is_alpha(c);
	if (CLASS("blank"))
		return c == ' ' || c == '\t';
	if (CLASS("cntrl"))
		return c < 0x20 || c == 0x7f;
	if (CLASS("digit"))
		return is_digit(c);
	if (CLASS("graph"))
		return c > 0x20 && c < 0x7f;
	if (CLASS("lower"))
		return c >= 'a' && c <= 'z';
	if (CLASS("print"))
		return c >= 0x20 && c < 0x7f;
	if (CLASS("punct"))
		return c > 0x20 && c < 0x7f && !is_alpha(c) && !is_digit(c);
	if (CLASS("space"))
		return c == ' ' || (c >= '\t' && c <= '\r');
	if (CLASS("upper"))
		return c >= 'A' && c <= 'Z';
	if (CLASS("xdigit"))
		return is_digit(c) || (c >= 'a' && c <= 'f') ||
			(c >= 'A' && c <= 'F');
#undef CLASS
	return -1;
}

/*
 * Match the byte t against the class whose '[' *pp points at, leaving *pp
 * on its closing ']'. Returns 1 (member), 0, or -1 for a malformed class.
 */
static int match_class(const uchar **pp, uchar t)
{
	const uchar *p = *pp + 1;
	uchar c, prev = 0;
	int negated = 0, member = 0;

	if (*p == '!' || *p == '^') {
		negated = 1;
		p++;
	}
	/* the first byte is a member even if it is ']' */
	for (c = *p;; prev = c, c = *++p) {
		if (c == ']' && p != *pp + 1 + negated)
			break;
		if (!c)
			return -1;
		if (c == '\\') {
			c = *++p;
			if (!c)
				return -1;
			member |= t == c;
		} else if (c == '-' && prev && p[1] && p[1] != ']') {
			c = *++p;
			if (c == '\\') {
				c = *++p;
				if (!c)
					return -1;
			}
			member |= t >= prev && t <= c;
			c = 0;	/* a range is no start for the next one */
		} else if (c == '[' && p[1] == ':') {
			const uchar *name = p + 2, *e = name;
			int in;

			while (*e && *e != ']')
				e++;
			if (!*e)
				return -1;
			if (e - name < 1 || e[-1] != ':') {
				/* no ":]": the '[' is a plain member */
				member |= t == '[';
				continue;
			}
			in = in_posix_class(name, (size_t)(e - name - 1), t);
			if (in < 0)
				return -1;
			member |= in;
			p = e;
			c = 0;
		} else {
			member |= t == c;
		}
	}
	*pp = p;
	return member != negated && t != '/';
}

static int is_glob_byte(uchar c)
{
	return c == '*' || c == '?' || c == '[' || c == '\\';
}

static int dowild(const uchar *p, const uchar *text);

/*
 * A run of '*' at p (start: where this step's pattern began). A run that is
 * a whole component ("**" between slashes or the ends) may cross '/'.
 */
static int match_star(const uchar *start, const uchar *p, const uchar *text)
{
	int cross = 0, m;
	uchar t;

	if (p[1] == '*') {
		int at_component = p == start || p[-1] == '/';

		while (*++p == '*')
			;
		if (at_component &&
		    (!*p || *p == '/' || (p[0] == '\\' && p[1] == '/'))) {
			/* "a/" "**" "/b" matches "a/b" too: zero folders */
			if (*p == '/' && dowild(p + 1, text) == WM_MATCH)
				return WM_MATCH;
			cross = 1;
		}
	} else {
		p++;
	}
	if (!*p) {
		/* a trailing "**" takes everything, a trailing '*' one name */
		if (!cross && strchr((const char *)text, '/'))
			return WM_NOMATCH;
		return WM_MATCH;
	}
	if (!cross && *p == '/') {
		/* '*' then '/': the '*' is the rest of this component */
		const uchar *slash = (const uchar *)strchr((const char *)text,
							   '/');

		return slash ? dowild(p, slash) : WM_NOMATCH;
	}
	for (t = *text; t; t = *++text) {
		if (!is_glob_byte(*p)) {
			/* skip ahead to where the literal after the '*' is */
			while ((t = *text) && (cross || t != '/') && t != *p)
				text++;
			if (t != *p)
				return WM_NOMATCH;
		}
		m = dowild(p, text);
		if (m != WM_NOMATCH) {
			if (!cross || m != WM_ABORT_TO_STARSTAR)
				return m;
		} else if (!cross && t == '/') {
			return WM_ABORT_TO_STARSTAR;
		}
	}
	return WM_ABORT_ALL;
}

static int dowild(const uchar *p, const uchar *text)
{
	const uchar *start = p;
	int r;

	for (; *p; p++, text++) {
		uchar t = *text;

		if (!t && *p != '*')
			return WM_ABORT_ALL;
		switch (*p) {
		case '*':
			return match_star(start, p, text);
		case '?':
			if (t == '/')
				return WM_NOMATCH;
			break;
		case '[':
			r = match_class(&p, t);
			if (r < 0)
				return WM_ABORT_ALL;
			if (!r)
				return WM_NOMATCH;
			break;
		case '\\':
			/* a trailing '\' is compared with NUL: never equal */
			if (t != p[1])
				return WM_NOMATCH;
			p++;
			break;
		default:
			if (t != *p)
				return WM_NOMATCH;
			break;
		}
	}
	return *text ? WM_NOMATCH : WM_MATCH;
}

int ama_wildmatch(const char *pattern, const char *text)
{
	return dowild((const uchar *)pattern, (const uchar *)text) ==
		WM_MATCH;
}

/* --- the pattern stack --- */

#define PAT_NEGATE	0x01u	/* '!': a match includes */
#define PAT_DIRONLY	0x02u	/* trailing '/': folders only */
#define PAT_BASENAME	0x04u	/* no '/': the last component, any depth */
#define PAT_LITERAL	0x08u	/* no glob byte: compare bytes */
#define PAT_ENDSWITH	0x10u	/* '*' then a literal: compare the tail */

struct pattern {
	size_t base, baselen;	/* offset of the folder in bytes, its length */
	size_t pat, patlen;	/* offset of the NUL-terminated pattern */
	size_t prefix;		/* literal leading folders: compared first */
	unsigned flags;
};

struct ama_ignore {
	struct pattern *p;
	size_t n, alloc;
	struct ama_buf bytes;	/* bases and patterns, NUL-terminated */
};

struct ama_ignore *ama_ignore_new(void)
{
	return ama_calloc(1, sizeof(struct ama_ignore));
}

void ama_ignore_free(struct ama_ignore *ig)
{
	if (!ig)
		return;
	free(ig->p);
	ama_buf_release(&ig->bytes);
	free(ig);
}

struct ama_ignore_mark ama_ignore_mark(const struct ama_ignore *ig)
{
	struct ama_ignore_mark m = { ig->n, ig->bytes.len };

	return m;
}

void ama_ignore_pop(struct ama_ignore *ig, struct ama_ignore_mark mark)
{
	if (mark.npatterns > ig->n || mark.nbytes > ig->bytes.len)
		abort();
	ig->n = mark.npatterns;
	ama_buf_truncate(&ig->bytes, mark.nbytes);
}

/* The length of a line without its trailing unquoted spaces (gitignore). */
static size_t trim_trailing_spaces(const char *s, size_t n)
{
	size_t i, first_space = SIZE_MAX;

	for (i = 0; i < n; i++) {
		if (s[i] == ' ') {
			if (first_space == SIZE_MAX)
				first_space = i;
			continue;
		}
		if (s[i] == '\\' && ++i == n)
			return n;	/* a trailing '\' keeps everything */
		first_space = SIZE_MAX;
	}
	return first_space == SIZE_MAX ? n : first_space;
}

static void push_pattern(struct ama_ignore *ig, size_t base, size_t baselen,
			 const char *s, size_t n)
{
	struct pattern *pt;
	unsigned flags = 0;
	size_t i, lit;

	if (n && s[0] == '!') {
		flags |= PAT_NEGATE;
		s++;
		n--;
	}
	if (n && s[n - 1] == '/') {
		flags |= PAT_DIRONLY;
		n--;
	}
	if (!memchr(s, '/', n)) {
		flags |= PAT_BASENAME;
	} else if (s[0] == '/') {
		s++;
		n--;
	}
	if (!n)
		return;
	for (lit = 0; lit < n && !is_glob_byte((uchar)s[lit]); lit++)
		;
	if (lit == n)
		flags |= PAT_LITERAL;
	else if (s[0] == '*' && (flags & PAT_BASENAME)) {
		for (i = 1; i < n && !is_glob_byte((uchar)s[i]); i++)
			;
		if (i == n)
			flags |= PAT_ENDSWITH;
	}
	if (ig->n == ig->alloc) {
		ig->alloc = ig->alloc ? 2 * ig->alloc : 16;
		ig->p = ama_realloc(ig->p, ig->alloc * sizeof(*ig->p));
	}
	pt = &ig->p[ig->n++];
	pt->base = base;
	pt->baselen = baselen;
	pt->pat = ig->bytes.len;
	pt->patlen = n;
	pt->flags = flags;
	/*
	 * The literal part is skipped only up to a '/', so that what is
	 * left starts a component and a "**" in it keeps its meaning.
	 */
	pt->prefix = 0;
	if (!(flags & (PAT_BASENAME | PAT_LITERAL)))
		for (i = 0; i < lit; i++)
			if (s[i] == '/')
				pt->prefix = i + 1;
	ama_buf_add(&ig->bytes, s, n);
	ama_buf_addch(&ig->bytes, '\0');
}

size_t ama_ignore_add(struct ama_ignore *ig, const char *base,
		      const char *text, size_t len)
{
	size_t baselen = strlen(base), before = ig->n, off;
	const char *p = text, *end = text + len;

	if (baselen && base[baselen - 1] != '/')
		abort();	/* the caller's bug: a base is "" or "dir/" */
	off = ig->bytes.len;
	ama_buf_add(&ig->bytes, base, baselen);
	ama_buf_addch(&ig->bytes, '\0');
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		size_t n = (size_t)(eol - p);

		if (n && p[n - 1] == '\r')
			n--;
		/* a NUL cannot be in a path: such a line could never match */
		if (n && p[0] != '#' && !memchr(p, '\0', n))
			push_pattern(ig, off, baselen, p,
				     trim_trailing_spaces(p, n));
		p = nl ? nl + 1 : end;
	}
	if (ig->n == before)
		ama_buf_truncate(&ig->bytes, off);	/* no pattern, no base */
	return ig->n - before;
}

int ama_ignore_add_file(struct ama_ignore *ig, const char *base,
			const char *path)
{
	struct ama_buf b = AMA_BUF_INIT;
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	int rc;

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return 0;
		return ama_error_setp_errno(AMA_EIO, path, "cannot read");
	}
	if (fstat(fd, &st) < 0) {
		rc = ama_error_setp_errno(AMA_EIO, path, "cannot read");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = 0;
		goto out;
	}
	for (;;) {
		ssize_t n;

		ama_buf_grow(&b, 4096);
		n = read(fd, b.s + b.len, b.cap - b.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ama_error_setp_errno(AMA_EIO, path,
						  "cannot read");
			goto out;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
	}
	rc = (int)ama_ignore_add(ig, base, b.s ? b.s : "", b.len);
out:
	close(fd);
	ama_buf_release(&b);
	return rc;
}

static int pattern_matches(const struct ama_ignore *ig,
			   const struct pattern *pt, const char *rel,
			   size_t rellen, const char *name, size_t namelen)
{
	const char *pat = ig->bytes.s + pt->pat;

	if (pt->flags & PAT_BASENAME) {
		if (pt->flags & PAT_LITERAL)
			return namelen == pt->patlen &&
				!memcmp(name, pat, namelen);
		if (pt->flags & PAT_ENDSWITH)
			return namelen >= pt->patlen - 1 &&
				!memcmp(name + namelen - (pt->patlen - 1),
					pat + 1, pt->patlen - 1);
		return ama_wildmatch(pat, name);
	}
	if (pt->flags & PAT_LITERAL)
		return rellen == pt->patlen && !memcmp(rel, pat, rellen);
	if (pt->prefix && (rellen < pt->prefix ||
			   memcmp(rel, pat, pt->prefix)))
		return 0;
	return ama_wildmatch(pat + pt->prefix, rel + pt->prefix);
}

enum ama_ignore_verdict ama_ignore_match(const struct ama_ignore *ig,
					 const char *path, size_t len,
					 int is_dir)
{
	const char *slash = memrchr(path, '/', len);
	const char *name = slash ? slash + 1 : path;
	size_t namelen = len - (size_t)(name - path), i;

	for (i = ig->n; i-- > 0;) {
		const struct pattern *pt = &ig->p[i];

		if ((pt->flags & PAT_DIRONLY) && !is_dir)
			continue;
		if (pt->baselen &&
		    (len <= pt->baselen ||
		     memcmp(path, ig->bytes.s + pt->base, pt->baselen)))
			continue;
		if (pattern_matches(ig, pt, path + pt->baselen,
				    len - pt->baselen, name, namelen))
			return pt->flags & PAT_NEGATE ? AMA_IGNORE_INCLUDED :
				AMA_IGNORE_EXCLUDED;
	}
	return AMA_IGNORE_NONE;
}

int ama_ignore_excluded(const struct ama_ignore *ig, const char *path,
			int is_dir)
{
	struct ama_buf folder = AMA_BUF_INIT;
	const char *p = path;
	int excluded = 0;

	while (!excluded && (p = strchr(p, '/'))) {
		ama_buf_reset(&folder);
		ama_buf_add(&folder, path, (size_t)(p - path));
		excluded = ama_ignore_match(ig, folder.s, folder.len, 1) ==
			AMA_IGNORE_EXCLUDED;
		p++;
	}
	ama_buf_release(&folder);
	return excluded || ama_ignore_match(ig, path, strlen(path), is_dir) ==
		AMA_IGNORE_EXCLUDED;
}
