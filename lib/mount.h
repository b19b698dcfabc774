/* mount.h: a published version as a read-only filesystem (FUSE), its contents fetched into the cache on first read. */
#ifndef AMA_MOUNT_H
#define AMA_MOUNT_H

#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "manifest.h"

/*
 * The tree is the manifest's: folders, files and links with their sizes,
 * every time the version's. Nothing is fetched to list it. A file's
 * content is fetched whole into the shared cache (lib/fetch.h: verified
 * as it streams; it enters the cache only when its MD5 holds) when the
 * file is first opened, and the other files of its folder are fetched
 * behind it, jobs at a time, for a reader going through a folder; reads
 * are then served from the cached file, at the speed of the page cache.
 * A content whose remote bytes do not match its MD5 is never cached: the
 * open fails with EIO and report() names the file. With max_cache, the
 * cache is pruned (least recently used first) as the mount fills it, so a
 * version larger than the disk can be read file by file; an open file
 * stays readable (its descriptor holds it).
 */
struct ama_mount_opts {
	const struct ama_manifest *m;	/* the version (objects sorted) */
	const char *remote_url;
	const struct ama_config *cfg;	/* [s3], remote-profile, [transfer] */
	const char *top_hash;
	struct ama_cache *cache;
	int jobs;			/* downloads at once (0: 8) */
	uint64_t max_cache;		/* 0: no limit */
	const char *fsname;		/* shown by mount(8): "ama:CLASS/SEQ@V" */
	void (*report)(void *ctx, const char *path, const char *msg);
	void *ctx;
};

/*
 * Mount at dir and serve until the filesystem is unmounted (umount,
 * fusermount3 -u) or the process gets SIGINT, SIGTERM or SIGHUP.
 * Returns 0, or AMA_ESETUP (dir cannot be mounted on: not a folder, no
 * /dev/fuse, no permission; the reason is libfuse's, on stderr) or a
 * store setup error.
 */
int ama_mount_run(const char *dir, const struct ama_mount_opts *o);

#endif
