/*
 * cowfs: a copy-on-write disk filesystem, after ZFS, small enough to read.
 * This is the interface of its portable core, used by the VFS glue
 * (cowfs_vnops.c), mkcowfs, the cowfs inspector and the host tests alike.
 *
 * Model. A pool lives on one block device (struct cowfs_dev: a GEOM
 * consumer in the kernel, a file or memory on the host). Every block is
 * named by a block pointer carrying its address(es), sizes, compression,
 * XXH3-128 checksum and birth transaction group; nothing a committed group
 * references is ever overwritten. Changes collect in memory (dirty blocks
 * of objects, the space map) and cowfs_sync() commits them as the next
 * transaction group: every new block, a flush, the uberblock in both
 * labels, a flush. A group is on disk whole or not at all. FORMAT.md
 * documents the bytes; cowfs_format.h encodes them.
 *
 * Objects (files, directories, symlinks) are named by their object number,
 * which is also the inode number; the root directory is COWFS_ROOT_OBJ.
 *
 * Reads go through an ARC (fs/arc) keyed by (address, birth txg, pool
 * guid) and verify the checksum of every block read from the device; a
 * damaged metadata block is read from its ditto copy and rewritten; damaged
 * file data is EIO, logged with its address.
 *
 * Errors are negative errno values. Locking: one mutex per pool, taken by
 * every function here; all may sleep (device I/O, the ARC). A pool whose
 * commit failed (I/O error) stays at its last committed group on disk and
 * refuses further changes with -EIO until it is opened again.
 */
#ifndef KARST_COWFS_H
#define KARST_COWFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cowfs_format.h"

struct arc;
struct cowfs_pool;

/* ---- block devices ---- */

/* Synchronous device access; offsets and lengths are multiples of 512.
 * 0 or a negative errno. */
struct cowfs_dev_ops {
	int (*read)(void *ctx, uint64_t off, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t off, const void *buf, size_t len);
	int (*flush)(void *ctx);
};

struct cowfs_dev {
	const struct cowfs_dev_ops *ops;
	void *ctx;
	uint64_t size; /* bytes */
};

/* A device in memory (portable; tests), with fault injection. */
struct cowfs_memdev_faults {
	uint64_t fail_writes_after; /* non-zero: writes after this many fail (-EIO) */
	bool fail_flush;
};
int cowfs_memdev_create(uint64_t size, struct cowfs_dev **out);
void cowfs_memdev_destroy(struct cowfs_dev *dev);
uint8_t *cowfs_memdev_bytes(struct cowfs_dev *dev);
struct cowfs_memdev_faults *cowfs_memdev_faults(struct cowfs_dev *dev);
uint64_t cowfs_memdev_writes(struct cowfs_dev *dev);

/* ---- making and opening pools ---- */

struct cowfs_mkfs_opts {
	uint32_t recordsize; /* 0: COWFS_DEFAULT_RECORDSIZE */
	uint8_t comp;	     /* COWFS_COMP_OFF or COWFS_COMP_LZ4 */
	uint64_t guid;	     /* 0: made from the time and the device size */
	uint64_t time;	     /* creation time stamp (ns); every stamp mkfs writes */
	const char *name;    /* pool name; NULL: "cowfs" */
};
/* Write an empty pool (labels, root directory, txg 1) on dev. */
int cowfs_mkfs(struct cowfs_dev *dev, const struct cowfs_mkfs_opts *o, char *why, size_t whylen);

struct cowfs_open_opts {
	bool rdonly;
	struct arc *arc;	 /* NULL: a private ARC of 16 MiB */
	uint64_t dirty_max;	 /* commit when this much is dirty; 0: 32 MiB */
	uint64_t fixed_time;	 /* non-zero: every time stamp written is this (mkcowfs) */
	uint64_t (*clock)(void); /* time stamps (ns); NULL: time_ns() */
	/* Records read ahead of a sequential reader by worker threads
	 * (cowfs_prefetch.c); 0: no prefetch, no threads. The device's read
	 * must then be safe to call from several threads at once. */
	unsigned prefetch;
};
/* What mounts use: 32 records, 4 MiB at the default record size, queued
 * 16 at a time: two runs of 8 (1 MiB), one for each worker
 * (cowfs_prefetch.c). */
#define COWFS_PF_DEFAULT 32
/* Open the pool on dev: labels, newest verifying uberblock, space map.
 * -EINVAL/-EIO/-ENOENT with a one-line reason in why. */
int cowfs_open(struct cowfs_dev *dev, const struct cowfs_open_opts *o, struct cowfs_pool **out,
	       char *why, size_t whylen);
/* Commit (unless read-only or failed) and free everything. Returns the
 * commit's result; the pool is gone either way. */
int cowfs_close(struct cowfs_pool *p);
/* Commit the open transaction group (nothing to do: 0). */
int cowfs_sync(struct cowfs_pool *p);

/* ---- objects ---- */

struct cowfs_attr {
	uint64_t obj;
	uint8_t type; /* enum cowfs_otype */
	uint32_t mode;
	uint32_t nlink;
	uint64_t size;
	uint64_t blocks; /* 512-byte sectors of data and indirect blocks (one copy) */
	uint32_t blksz;
	uint64_t atime, mtime, ctime;
	uint64_t parent, gen;
};

/* Hold an object (while a vnode names it): an unlinked held object lives
 * until its last release. */
int cowfs_obj_hold(struct cowfs_pool *p, uint64_t obj);
void cowfs_obj_release(struct cowfs_pool *p, uint64_t obj);

int cowfs_getattr(struct cowfs_pool *p, uint64_t obj, struct cowfs_attr *a);
#define COWFS_SET_MODE	0x1 /* permission bits */
#define COWFS_SET_SIZE	0x2
#define COWFS_SET_MTIME 0x4
#define COWFS_SET_ATIME 0x8
struct cowfs_setattr {
	uint32_t mask;
	uint32_t mode;
	uint64_t size, mtime, atime;
};
int cowfs_setattr(struct cowfs_pool *p, uint64_t obj, const struct cowfs_setattr *sa);

/* Read up to len bytes at off (short at the end of file): bytes read. */
int64_t cowfs_read(struct cowfs_pool *p, uint64_t obj, uint64_t off, void *buf, size_t len);
/* Write len bytes at off: bytes written (all), or -ENOSPC / -EFBIG / -EIO. */
int64_t cowfs_write(struct cowfs_pool *p, uint64_t obj, uint64_t off, const void *buf, size_t len);
int cowfs_readlink(struct cowfs_pool *p, uint64_t obj, char *buf, size_t size);

/* ---- names ---- */

/* "." is the directory, ".." its parent. */
int cowfs_lookup(struct cowfs_pool *p, uint64_t dir, const char *name, uint64_t *obj);
/* mode: S_IFREG or S_IFDIR with permission bits. -EEXIST, -ENOTDIR... */
int cowfs_create(struct cowfs_pool *p, uint64_t dir, const char *name, uint32_t mode,
		 uint64_t *obj);
int cowfs_symlink(struct cowfs_pool *p, uint64_t dir, const char *name, const char *target,
		  uint64_t *obj);
int cowfs_link(struct cowfs_pool *p, uint64_t dir, const char *name, uint64_t obj);
/* Remove a non-directory name. */
int cowfs_unlink(struct cowfs_pool *p, uint64_t dir, const char *name);
int cowfs_rmdir(struct cowfs_pool *p, uint64_t dir, const char *name);
/* POSIX rename: replaces a target of a compatible type (an empty
 * directory for a directory). The caller checks that fdir's entry is not
 * an ancestor of tdir (the VFS does). */
int cowfs_rename(struct cowfs_pool *p, uint64_t fdir, const char *fname, uint64_t tdir,
		 const char *tname);

/* Calls fill for each entry with a key above *cookie, "." and ".." first
 * (cookies 1 and 2); stops early when fill returns false. */
typedef bool (*cowfs_filldir_t)(void *ctx, const char *name, size_t namelen, uint64_t obj,
				uint8_t type, uint64_t next_cookie);
int cowfs_readdir(struct cowfs_pool *p, uint64_t dir, uint64_t *cookie, cowfs_filldir_t fill,
		  void *ctx);

/* ---- the pool ---- */

struct cowfs_pool_info {
	char name[32];
	uint64_t guid;
	uint64_t txg;	      /* last committed */
	uint64_t size;	      /* bytes of the provider */
	uint64_t data_bytes;  /* bytes of the data area */
	uint64_t alloc_bytes; /* allocated (committed map) */
	uint64_t free_bytes;  /* what writes may still use */
	uint64_t dirty_bytes; /* waiting for the next commit */
	uint64_t nobjects;
	uint32_t recordsize;
	uint8_t comp;
	bool rdonly;
	int failed; /* the error that stopped the pool, or 0 */
	/* counters since open */
	uint64_t commits, blocks_written, bytes_written, blocks_read;
	uint64_t cksum_errors, repaired, io_errors;
	/* frees of blocks outside the data area or not allocated: damaged
	 * metadata (with a good checksum) named them; they are left as is */
	uint64_t space_errors;
	uint64_t mcache_hits, mcache_misses; /* decoded indirect blocks */
	/* sequential prefetch: blocks queued, dropped (queue full), read by
	 * the workers, in how many runs (cowfs_bio_prefetch_run) and device
	 * requests, and runs that failed (left to the demand read) */
	uint64_t prefetch_queued, prefetch_dropped, prefetch_reads, prefetch_runs, prefetch_ios;
	uint64_t prefetch_failed;
};
void cowfs_pool_info(struct cowfs_pool *p, struct cowfs_pool_info *pi);

/* ---- checking ---- */

/*
 * Verify the last committed group: every block pointer reachable from the
 * uberblock (both copies of metadata read from the device and checksummed),
 * every structure decoded, directories and link counts consistent, every
 * reachable sector allocated once in the space map and nothing else
 * allocated. report (may be NULL) gets one line per problem. Returns the
 * number of problems found (0: clean) or a negative errno when the check
 * could not run. Only on a pool without uncommitted changes (sync first).
 */
struct cowfs_check_stats {
	uint64_t blocks, bytes, objects, dirs, files, symlinks;
};
int cowfs_check(struct cowfs_pool *p, void (*report)(void *arg, const char *line), void *arg,
		struct cowfs_check_stats *st);

/*
 * Scrub (cowfs_scrub.c): read and verify every copy of every block of the
 * last committed group; rewrite bad copies from good ones (unless the pool
 * is read-only); name the files with blocks that have no good copy.
 * Unlike cowfs_check it runs on a pool in use, taking the pool's mutex
 * once per object. rate: bytes per second (0: as fast as it goes); stop
 * (may be NULL) ends it early with -EINTR. st is updated as it goes.
 */
#define COWFS_SCRUB_NAMES 8
struct cowfs_scrub_stats {
	bool running;
	int err;			 /* when done: 0, -EINTR (stopped), -ENOMEM */
	uint64_t txg;			 /* the group scrubbed */
	uint64_t objects, objects_total; /* objects walked so far, of */
	uint64_t blocks, bytes;		 /* blocks checked, bytes read (every copy) */
	uint64_t errors;		 /* copies that did not verify */
	uint64_t repaired;		 /* copies rewritten from a good one */
	uint64_t unrecoverable;		 /* blocks with no good copy */
	uint64_t elapsed_ns;
	unsigned nbad; /* files with unrecoverable blocks (at most COWFS_SCRUB_NAMES) */
	char bad_names[COWFS_SCRUB_NAMES][128];
};
int cowfs_scrub(struct cowfs_pool *p, uint64_t rate, const _Atomic bool *stop,
		struct cowfs_scrub_stats *st);
/* The same in a background thread: start, read progress, stop (waits for
 * the thread and frees the job; call it before closing the pool). */
struct cowfs_scrub_job;
int cowfs_scrub_start(struct cowfs_pool *p, uint64_t rate, struct cowfs_scrub_job **out);
const struct cowfs_scrub_stats *cowfs_scrub_progress(const struct cowfs_scrub_job *j);
void cowfs_scrub_stop(struct cowfs_scrub_job *j);
/* One line (no newline) of st: state, counts, damaged files. */
size_t cowfs_scrub_format(const struct cowfs_scrub_stats *st, char *buf, size_t size);

/* The block pointer of a data block (level 0) of an object, for tools. */
int cowfs_obj_bp(struct cowfs_pool *p, uint64_t obj, uint64_t blkid, struct cowfs_bp *bp);
/* The uberblocks of the labels, for tools: calls fn for each valid one. */
int cowfs_list_uberblocks(struct cowfs_dev *dev,
			  void (*fn)(void *arg, int label, unsigned slot,
				     const struct cowfs_ub *ub),
			  void *arg);

#endif
