/* place.h: putting a file at a path atomically: a reflink, copy or hard link of a source, written beside the target and renamed into place. */
#ifndef AMA_PLACE_H
#define AMA_PLACE_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * A file is placed in three steps, so that the target path holds either
 * what it held before or the whole new file, never a part of it:
 *
 *   1. a temporary file is made in the target's folder, named
 *      AMA_PLACE_TMP_PREFIX and six random characters (".ama-tmp-k3Zq9x");
 *   2. the bytes go in: a reflink where the filesystem shares blocks
 *      (FICLONE: XFS with reflink=1, btrfs, bcachefs; no byte is copied),
 *      else copy_file_range(2) (copies in the kernel; on NFS 4.2 and some
 *      filesystems a server-side copy or a clone again), else read(2) and
 *      write(2); or, asked for, a hard link to the source itself;
 *   3. fsync if asked, then rename(2) over the target (or link(2), which
 *      refuses an existing target, with AMA_PLACE_NOCLOBBER), and fsync of
 *      the folder if asked.
 *
 * A process killed between 1 and 3 leaves a temporary file behind and the
 * target untouched; every name starting with AMA_PLACE_TMP_PREFIX is such
 * a leftover, which a caller may delete (lib/store_file.c's listings skip
 * them). The target's folder must exist: nothing here makes folders.
 *
 * Messages name the target as their subject (ama_error_setp), but for
 * those of the source ("cannot read", subject src_path when given).
 * Everything here is safe to call from several threads at once.
 */
#define AMA_PLACE_TMP_PREFIX ".ama-tmp-"

/*
 * How the bytes get there: asked for in ama_place_opts.how, and what was
 * done in ama_place_result.how (never AUTO there).
 */
enum ama_place_how {
	AMA_PLACE_AUTO = 0,	/* REFLINK where the filesystem allows,
				 * else COPY: what a checkout wants */
	AMA_PLACE_REFLINK,	/* FICLONE only; where the filesystem
				 * refuses (another filesystem, ext4, tmpfs)
				 * fail with AMA_ESETUP, as
				 * cp --reflink=always does */
	AMA_PLACE_COPY,		/* copy_file_range, falling back to
				 * READ_WRITE where the kernel refuses it */
	AMA_PLACE_READ_WRITE,	/* read and write through a buffer only */
	AMA_PLACE_HARDLINK,	/* a hard link to src_path (which is
				 * needed), made read-only: see below */
};

/* ama_place_opts.flags */
#define AMA_PLACE_FSYNC		0x1u	/* fsync the file before it is
					 * renamed, and the folder after */
#define AMA_PLACE_NOCLOBBER	0x2u	/* never replace an existing target:
					 * fail with AMA_EEXIST instead */

struct ama_place_opts {
	enum ama_place_how how;
	unsigned flags;		/* AMA_PLACE_* */
	/*
	 * The permission bits of the placed file: 0 means a new file's
	 * default (0666 less the umask, as open(2) makes it); otherwise
	 * exactly these bits. HARDLINK ignores it: see below.
	 */
	mode_t mode;
};

/* What ama_place_file did. */
struct ama_place_result {
	enum ama_place_how how;	/* REFLINK, COPY, READ_WRITE or HARDLINK */
	uint64_t size;		/* bytes in the placed file */
	/*
	 * The placed file's fstat(2), taken after the rename (which may set
	 * its ctime), so that an index entry recorded from it matches the
	 * file as it is on disk.
	 */
	struct stat st;
};

/*
 * Place a copy (or hard link) of a source file at target, as described
 * above. The source is src_fd if it is >= 0 (read with pread and offsets,
 * so the descriptor's own offset is left alone), else src_path, opened
 * here; HARDLINK needs src_path. o NULL means AUTO, no flags, default
 * mode; out may be NULL.
 *
 * HARDLINK: target becomes another name of src_path's file. As both names
 * are one inode, the permission bits are the source's, less every write
 * bit: the source itself becomes read-only (a content cache holds
 * immutable files, and a hard-linked work tree must not let an editor
 * write through to the cache). A target that is already a hard link of
 * the source is left as it is (success).
 *
 * Returns 0, or
 *   AMA_ENOTFOUND  src_path does not exist (subject src_path), or the
 *                  target's folder does not (subject target)
 *   AMA_ENOTREG    the source is not a regular file
 *   AMA_EEXIST     NOCLOBBER and the target exists
 *   AMA_ESETUP     REFLINK or HARDLINK refused by the filesystem (another
 *                  filesystem, or one that cannot): "cannot reflink: ..."
 *   AMA_EINVAL     HARDLINK without src_path
 *   AMA_EIO        any other failure of a system call
 * On failure the target is untouched and no temporary file is left.
 */
int ama_place_file(const char *target, int src_fd, const char *src_path,
		   const struct ama_place_opts *o,
		   struct ama_place_result *out);

/*
 * The steps on their own, for a caller that writes the bytes itself (a
 * download streamed and hashed into the temporary file, the file:// store
 * joining parts), with the same naming, sync and rename rules.
 */
struct ama_place_tmp {
	int fd;			/* the temporary file, open for writing */
	char *path;		/* its name, beside the target */
	char *target;
	mode_t mode;		/* as ama_place_opts.mode */
};

#define AMA_PLACE_TMP_INIT { -1, NULL, NULL, 0 }

/*
 * Make the temporary file for target (step 1), empty, open read-write.
 * mode as ama_place_opts.mode (applied on commit when not 0). Returns 0,
 * AMA_ENOTFOUND (the target's folder does not exist) or AMA_EIO, subject
 * target; on failure t is left empty (ama_place_tmp_abort is harmless).
 */
int ama_place_tmp_open(struct ama_place_tmp *t, const char *target,
		       mode_t mode);

/*
 * Step 3: set the mode, fsync with AMA_PLACE_FSYNC, rename over the target
 * (link with AMA_PLACE_NOCLOBBER), fsync the folder with AMA_PLACE_FSYNC;
 * st, if not NULL, gets the placed file's fstat after the rename. The
 * descriptor is closed and t released whatever happens; on failure the
 * temporary file is removed. Returns 0, AMA_EEXIST (NOCLOBBER and the
 * target exists) or AMA_EIO, subject the target.
 */
int ama_place_tmp_commit(struct ama_place_tmp *t, unsigned flags,
			 struct stat *st);

/* Give up: close and remove the temporary file, release t. Safe twice. */
void ama_place_tmp_abort(struct ama_place_tmp *t);

/*
 * Step 2 alone: copy all of in (from offset 0 to its end) into out,
 * which must be empty, as how asks (AUTO, REFLINK, COPY or READ_WRITE;
 * not HARDLINK). *done, if not NULL, gets what was done, *copied the
 * bytes. Offsets of neither descriptor move. Returns 0, AMA_ESETUP (a
 * reflink refused, with REFLINK), AMA_EINVAL (HARDLINK) or AMA_EIO (no
 * subject: the caller knows which file is which).
 */
int ama_place_copy_fd(int out, int in, enum ama_place_how how,
		      enum ama_place_how *done, uint64_t *copied);

/* "auto", "reflink", "copy", "read-write", "hardlink". */
const char *ama_place_how_name(enum ama_place_how how);

#endif
