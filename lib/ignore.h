/* ignore.h: .amaignore patterns (gitignore syntax) and the glob matcher behind them. */
#ifndef AMA_IGNORE_H
#define AMA_IGNORE_H

#include <stddef.h>

/*
 * Match text against a glob, byte by byte (no locale, no case folding,
 * any byte but NUL allowed in either), as git's wildmatch does with
 * WM_PATHNAME:
 *   '*'     any run of bytes without '/';
 *   '?'     one byte but '/';
 *   '[...]' one byte of a class, never '/': ranges by byte value ("a-z"),
 *           '!' or '^' first negates, ']' first is a member, '\' quotes,
 *           "[:alpha:]" and the other POSIX classes (ASCII only);
 *   '\'     the next byte literally;
 *   '**'    as a whole component matches across folders: "**" "/x" at
 *           the start (x in any folder), "x/" "**" at the end (everything
 *           inside x), "a/" "**" "/b" (zero or more folders between); other
 *           runs of '*' are one '*'.
 * A malformed pattern (an unclosed class, a trailing '\', an unknown
 * "[:class:]") never matches. Returns 1 on a match, 0 otherwise.
 */
int ama_wildmatch(const char *pattern, const char *text);

/*
 * A stack of patterns from .amaignore files. The patterns of the file in
 * folder F apply to the paths below F; a pattern read later wins over one
 * read earlier, so push a parent's file before its children's (as the walk
 * does) and a deeper file overrides a shallower one, as in git.
 */
struct ama_ignore;

struct ama_ignore *ama_ignore_new(void);
void ama_ignore_free(struct ama_ignore *ig);

/*
 * Push the patterns in text (len bytes: the contents of an .amaignore
 * file; need not be NUL-terminated) read from the folder base: "" for the
 * asset root, else a root-relative folder with a trailing '/' ("a/b/").
 * The syntax is gitignore(5)'s: blank lines and lines starting with '#'
 * are skipped; trailing spaces are dropped unless quoted with '\'; a
 * leading '!' negates (a leading "\!" or "\#" is literal); a trailing '/'
 * matches folders only; a '/' at the start or in the middle anchors the
 * pattern to base, otherwise it matches a name at any depth below base.
 * CRLF line ends and a UTF-8 byte order mark are accepted. Returns the
 * number of patterns pushed; there are no errors (a malformed pattern is
 * kept and never matches).
 */
size_t ama_ignore_add(struct ama_ignore *ig, const char *base,
		      const char *text, size_t len);
/*
 * Read the file path (symbolic links are not followed) and push its
 * patterns for base. A missing file, a symbolic link or anything but a
 * regular file pushes nothing and returns 0. Returns the number of
 * patterns, or AMA_EIO (subject path) if the file cannot be read.
 */
int ama_ignore_add_file(struct ama_ignore *ig, const char *base,
			const char *path);

/* A point of the stack to pop back to, as a walk leaves a folder. */
struct ama_ignore_mark {
	size_t npatterns, nbytes;
};

struct ama_ignore_mark ama_ignore_mark(const struct ama_ignore *ig);
void ama_ignore_pop(struct ama_ignore *ig, struct ama_ignore_mark mark);

enum ama_ignore_verdict {
	AMA_IGNORE_NONE = 0,	/* no pattern matches */
	AMA_IGNORE_EXCLUDED,	/* the last matching pattern excludes it */
	AMA_IGNORE_INCLUDED,	/* the last matching pattern is a '!' one */
};

/*
 * The verdict of the patterns on the stack for one root-relative path (len
 * bytes, NUL-terminated), a folder if is_dir. Only the path itself is
 * matched, not its folders: a walk asks about each folder before entering
 * it and never enters an excluded one, which is how a file below an
 * excluded folder stays excluded whatever a '!' pattern says.
 */
enum ama_ignore_verdict ama_ignore_match(const struct ama_ignore *ig,
					 const char *path, size_t len,
					 int is_dir);
/*
 * Is path excluded, by its own verdict or by one of its folders' (git's
 * rule: nothing below an excluded folder can be included again)? The
 * patterns of every folder on the way must be on the stack. Returns 1 or 0.
 */
int ama_ignore_excluded(const struct ama_ignore *ig, const char *path,
			int is_dir);

#endif
