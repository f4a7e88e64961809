/*
 * cowfs files in the page cache (cowfs_pc.c): cowfs is a page-cache owner
 * (pagecache/pagecache.h) that lends ARC buffers, so a cached or mapped
 * page of a cowfs file is, whenever it can be, the very bytes the ARC
 * holds: no copy.
 *
 * Each open regular file (a vnode, or a host test) has one struct
 * cowfs_pcfile, made with cowfs_pc_open() and destroyed with
 * cowfs_pc_close(). read(), write() and mmap() go through its pc_object.
 *
 * read() makes no pages (read_hold, ZFS's way): where the cache has no
 * page it copies straight from the block's ARC buffer, held (not pinned by
 * a share) for the copy, or zeros for a hole; a block written in the open
 * group has no ARC buffer and gets a page filled by copy. Pages are made
 * by faults of mappings and by writes, and read() copies from those where
 * they exist (a mapping's dirty page is newer than the pool).
 *
 * Which pages are lent. A read fault (or a read() of a block of the open
 * group) of page i of a file asks the owner to lend: the page is lent
 * when it lies wholly below the end of the file, in a level-0 block that
 * is committed (no dirty block of the open group covers it), stored
 * uncompressed (comp off) and whose ARC buffer is page-aligned
 * (arc_buf_share accepts it). The page then points into the ARC buffer,
 * which arc_buf_share() pins (the ARC cannot evict it) until the page
 * leaves the cache (eviction, truncate, close):
 * unlend is arc_buf_unshare(). The scanner's reports of a mapped lent
 * page go to arc_buf_accessed() (an ARC hit). Every other page is filled
 * by a copy (cowfs_read): the page holding the end of the file (zeros past
 * it), holes, compressed blocks, blocks written in the open group, and
 * every page about to be written (ARC blocks are immutable).
 *
 * Writes. write() is written through: into the open transaction group
 * first (ENOSPC is write()'s answer, as without a cache), then into the
 * cached pages, left clean. Writes through shared mappings leave pages of
 * the cache's own dirty; writeback puts a dirty page into the open
 * transaction group (cowfs_write). cowfs_pc_fsync() writes back every
 * dirty page and commits; cowfs_pcset_flush() writes back every file of a
 * mount (the commit thread runs it before each commit, so the usual 5 s
 * bound on lost work holds for cached writes too). A writeback that fails
 * (ENOSPC, EIO) leaves the page dirty and is reported by fsync/msync; a
 * page still dirty when its file is closed (the vnode is reclaimed) is
 * written one last time and a failure is logged with the object number,
 * never dropped silently.
 *
 * Size. The cache's object size is the file's size while the file is
 * open; getattr reports cowfs_pc_size(). cowfs_pc_truncate() truncates the cache first (unmaps
 * and drops pages past the end) and then the pool.
 *
 * Breaking a lend: a write (write() or a write fault through a shared
 * mapping) to a lent page makes the page cache unmap it from every space
 * and replace it by a copy of its own (pagecache/README.md); the ARC
 * buffer is never written, and is unshared when the lent page goes.
 *
 * Races, as handled: truncate against a fault: the page cache refuses to
 * map a page truncate removed (pager map), and a read-only lent tail page
 * is dropped rather than zeroed; two address spaces mapping a lent page
 * being written: the break unmaps them one space lock at a time, never
 * nested, and the writer retries; ENOSPC writing back a mapped dirty page:
 * the page stays dirty and msync/fsync return the error.
 *
 * Locking: v_lock -> vm_space.lock -> pcset.lock -> pc_object lock ->
 * cowfs pool lock -> ARC stripe locks. The owner ops take the pool lock.
 */
#ifndef KARST_COWFS_PC_H
#define KARST_COWFS_PC_H

#include <karst/list.h>
#include <karst/sync.h>
#include <pagecache.h>
#include <stdint.h>

struct arc_buf;
struct cowfs_pool;
struct uio;

/* The open files of one mount (for flushing before a commit). */
struct cowfs_pcset {
	struct mutex lock;
	struct list_node files;
};

struct cowfs_pcfile {
	struct pc_object pc;
	struct cowfs_pool *pool;
	uint64_t obj;
	struct cowfs_pcset *set; /* or NULL */
	struct list_node link;	 /* set->files */
	/* The lend cursor (pc object's lock): the ARC buffer of the block the
	 * last page was lent from, held, so the next pages of that block are
	 * lent without walking the tree again. Valid while gen is what it
	 * was when it was taken: every write, truncate and writeback bumps
	 * gen. It pins at most one block per open file. cur_reserve: shares
	 * of cur_ab taken for its later pages and not lent yet (given back
	 * when the cursor moves or the file is closed). */
	_Atomic uint64_t gen;
	struct arc_buf *cur_ab;
	unsigned cur_reserve;
	uint64_t cur_gen, cur_blkid, cur_size;
	uint32_t cur_bs;
};

/* cowfs's counters (cumulative, except lent_now). */
struct cowfs_pc_stats {
	uint64_t lends;	      /* pages lent from ARC buffers */
	uint64_t unlends;     /* lent pages given back */
	uint64_t lent_now;    /* lent pages in the cache now */
	uint64_t fills;	      /* pages filled by copy */
	uint64_t fill_tail;   /* of those: the page holding the end of file */
	uint64_t fill_nolend; /* hole, compressed, dirty or unaligned block */
	uint64_t fill_write;  /* about to be written */
	uint64_t writebacks, writeback_errors;
	uint64_t accessed; /* scanner reports passed to the ARC */
	uint64_t spans;	   /* read() copies straight from a held ARC buffer or hole */
};
void cowfs_pc_stats_get(struct cowfs_pc_stats *st);

extern struct pc_owner cowfs_pc_owner;
/* Register the owner with the page cache (idempotent). 0 or -errno. */
int cowfs_pc_register(void);

void cowfs_pcset_init(struct cowfs_pcset *set);
/* Write back the dirty pages of every file of the set: the first error. */
int cowfs_pcset_flush(struct cowfs_pcset *set);

/* The cache object of regular file obj (set may be NULL). */
int cowfs_pc_open(struct cowfs_pool *p, uint64_t obj, struct cowfs_pcset *set,
		  struct cowfs_pcfile **out);
/* Write back what is dirty (failures logged) and drop every page; no
 * mapping may remain. Returns the writeback's error, or 0. */
int cowfs_pc_close(struct cowfs_pcfile *f);

int cowfs_pc_read(struct cowfs_pcfile *f, struct uio *uio);
/* append: write at the end of the file (uio_offset is set to it). */
int cowfs_pc_write(struct cowfs_pcfile *f, struct uio *uio, bool append);
int cowfs_pc_truncate(struct cowfs_pcfile *f, uint64_t size);
/* Write back every dirty page, then commit the pool. First error. */
int cowfs_pc_fsync(struct cowfs_pcfile *f);
uint64_t cowfs_pc_size(struct cowfs_pcfile *f);

#endif
