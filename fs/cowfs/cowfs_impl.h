/*
 * cowfs internals shared by the core's files. Everything here runs with
 * the pool's mutex held (pool->lock) unless said otherwise.
 *
 * In memory, a pool keeps:
 *  - the last committed root block (rb) and txg; the open txg is txg + 1;
 *  - a table of objects in use (held by vnodes or dirty), each with its
 *    decoded dnode and its dirty blocks ("dbufs"), by level;
 *  - the meta object (the dnode array), whose dirty blocks receive the
 *    dnodes of dirty objects at commit;
 *  - the space map as two bitmaps: map (what the next commit writes) and
 *    busy (what the allocator must not hand out: map plus blocks freed
 *    since the last commit, which the last committed group still uses).
 * Clean data is never kept here: it lives in the ARC.
 */
#ifndef KARST_COWFS_IMPL_H
#define KARST_COWFS_IMPL_H

#include <karst/compiler.h>
#include <karst/kmem.h>
#include <karst/list.h>
#include <karst/printk.h>
#include <karst/sync.h>

#include "cowfs.h"

struct arc;

/* A dirty block of an object: its whole logical contents. */
struct cowfs_dbuf {
	uint64_t obj;
	uint64_t blkid;
	uint8_t level;
	uint32_t size;
	uint8_t *data;
	struct list_node hlink; /* pool->dhash */
	struct list_node dlink; /* obj->dirty[level] */
};

struct cowfs_obj {
	uint64_t num;
	struct cowfs_dnode dn;
	bool dn_dirty; /* dnode must be written at the next commit */
	bool orphan;   /* unlinked while held: freed on the last release */
	int holds;
	uint64_t ndirty;	     /* dirty dbufs */
	struct list_node hlink;	     /* pool->ohash */
	struct list_node dirty_link; /* pool->dirty_objs */
	struct list_node dirty[COWFS_MAX_LEVELS];
	/* sequential prefetch stream (cowfs_prefetch.c) */
	uint64_t pf_next; /* the block a sequential reader wants next */
	uint64_t pf_end;  /* blocks below this are queued already */
	uint32_t pf_ahead;
};

/* A held block: data either in a dbuf or in an ARC buffer (or zeros). */
struct cowfs_blk {
	const uint8_t *data;
	uint32_t size;
	struct arc_buf *ab; /* to release, or NULL */
	bool hole;
};

/* Pending device writes are gathered into runs of adjacent blocks. */
#define COWFS_WGATHER (1u << 20)

struct cowfs_pool {
	struct mutex lock;
	struct cowfs_dev *dev;
	struct arc *arc;
	bool own_arc;
	bool rdonly;
	int failed;
	struct cowfs_label label;
	uint64_t guid;
	uint64_t load_id; /* ARC keys of this open (see cowfs_bio.c) */
	uint64_t txg;	  /* last committed */
	uint64_t syncing; /* txg being committed, 0 outside cowfs_sync */
	struct cowfs_rootblk rb;
	struct cowfs_bp rootbp; /* of rb, from the uberblock */
	struct cowfs_obj meta;
	uint64_t dirty_max;
	uint64_t fixed_time;
	uint64_t (*clock)(void);

	/* objects and dirty blocks */
	struct list_node *ohash;
	size_t ohash_n;
	struct list_node *dhash;
	size_t dhash_n;
	struct list_node dirty_objs;
	uint64_t nobjects, next_obj;

	/* space (in sectors) */
	uint64_t nsectors;
	uint64_t data_start, data_end, data_mid; /* data area [start, end) */
	uint8_t *map, *busy;
	size_t mapbytes;
	uint64_t map_count, busy_count;
	uint32_t nchunks;
	struct cowfs_bp *chunk_bp;
	uint8_t *chunk_dirty;
	struct cowfs_bp smidx;
	uint64_t rotor[2];
	uint64_t reserved; /* bytes the open txg may still need at commit */
	uint64_t dirty_bytes;

	/* write gathering */
	uint8_t *wg_buf; /* COWFS_WGATHER; made on first use */
	uint64_t wg_off;
	size_t wg_len;
	uint8_t *scratch; /* COWFS_MAX_RECORDSIZE for compression; made on first use */

	struct cowfs_mcache *mcache; /* decoded indirect blocks (cowfs_mcache.c) */
	struct cowfs_pf *pf;	     /* sequential prefetch, or NULL (cowfs_prefetch.c) */

	struct cowfs_pool_info st; /* counters */
};

static inline uint64_t cowfs_now(struct cowfs_pool *p)
{
	return p->fixed_time ? p->fixed_time : p->clock();
}

/* cowfs_space.c */
int cowfs_space_init(struct cowfs_pool *p, uint64_t psize);
void cowfs_space_fini(struct cowfs_pool *p);
void cowfs_space_mark(struct cowfs_pool *p, uint64_t addr, uint64_t bytes, bool set);
/* Allocate bytes (a sector multiple); copy 1 of a ditto pair comes from the
 * other half of the data area. 0 or -ENOSPC. */
int cowfs_space_alloc(struct cowfs_pool *p, uint64_t bytes, int copy, uint64_t *addr);
/* Free a block pointer's copies (deferred unless born in the syncing txg). */
void cowfs_space_free_bp(struct cowfs_pool *p, const struct cowfs_bp *bp);
/* Free bytes writers may still use (beyond the reserve metadata keeps). */
int cowfs_space_reserve(struct cowfs_pool *p, uint64_t bytes, bool meta_op);
uint64_t cowfs_space_avail(struct cowfs_pool *p, bool meta_op);
int cowfs_space_load(struct cowfs_pool *p, const char **why);
int cowfs_space_sync(struct cowfs_pool *p, const struct cowfs_bp *oldroot, uint64_t rootdva[2]);
void cowfs_space_committed(struct cowfs_pool *p);
bool cowfs_space_test(struct cowfs_pool *p, uint64_t sector);

/* cowfs_mcache.c: decoded indirect blocks, pool lock held */
#define COWFS_MCACHE_N 16
int cowfs_mcache_init(struct cowfs_pool *p);
void cowfs_mcache_fini(struct cowfs_pool *p);
/* The pointer in slot of the indirect block ind points to (not a hole):
 * 0, or -EIO (unreadable or bad block), -ENOMEM. */
int cowfs_mcache_bp(struct cowfs_pool *p, const struct cowfs_bp *ind, size_t slot,
		    struct cowfs_bp *bp);

/* cowfs_bio.c */
int cowfs_bio_read(struct cowfs_pool *p, const struct cowfs_bp *bp, struct cowfs_blk *blk);
void cowfs_blk_release(struct cowfs_pool *p, struct cowfs_blk *blk);
/* Read bp into the ARC ahead of its reader (cowfs_prefetch.c's workers,
 * no cowfs lock held): copy 0 only, verified, and quiet: a failure is only
 * returned (the ARC forgets the fill; the demand read redoes it). */
int cowfs_bio_prefetch(struct cowfs_pool *p, const struct cowfs_bp *bp);
/* Up to this many blocks are prefetched as one run (cowfs_bio_prefetch_run) */
#define COWFS_RUN_MAX 8
/* Whether b follows a on the device so that both can be read as one run:
 * both uncompressed, b's copy 0 right after a's. */
bool cowfs_bio_run_next(const struct cowfs_bp *a, const struct cowfs_bp *b);
/* cowfs_bio_prefetch of n blocks (1..COWFS_RUN_MAX), each following the one
 * before (cowfs_bio_run_next), read with as few device requests as their
 * ARC buffers allow (one when they are adjacent in memory; *ios counts
 * them). Blocks already cached or being read are skipped. 0, or the first
 * error of a block. */
int cowfs_bio_prefetch_run(struct cowfs_pool *p, const struct cowfs_bp *bp, unsigned n,
			   unsigned *ios);
/* Read and verify both copies raw (check); 0, or -EIO with which failed. */
int cowfs_bio_read_raw(struct cowfs_pool *p, const struct cowfs_bp *bp, int copy, void *buf);
/* Write a block: compress (when comp), checksum, allocate copies, queue
 * the writes. inplace: rewrite at old's addresses (born in this txg, same
 * psize). A data block of zeros becomes a hole when comp is on. */
int cowfs_bio_write(struct cowfs_pool *p, const void *data, uint32_t lsize, uint8_t type,
		    uint8_t level, bool comp, int copies, const struct cowfs_bp *inplace,
		    struct cowfs_bp *bp);
int cowfs_bio_flush_writes(struct cowfs_pool *p);
int cowfs_dev_write(struct cowfs_pool *p, uint64_t off, const void *buf, size_t len);

/* cowfs_obj.c */
int cowfs_obj_get(struct cowfs_pool *p, uint64_t num, struct cowfs_obj **out);
void cowfs_obj_put(struct cowfs_pool *p, struct cowfs_obj *o);
void cowfs_obj_dirty(struct cowfs_pool *p, struct cowfs_obj *o);
int cowfs_obj_alloc(struct cowfs_pool *p, uint8_t type, uint32_t mode, struct cowfs_obj **out);
int cowfs_obj_free(struct cowfs_pool *p, struct cowfs_obj *o);
int cowfs_blk_hold(struct cowfs_pool *p, struct cowfs_obj *o, uint8_t level, uint64_t blkid,
		   struct cowfs_blk *blk);
int cowfs_blk_bp(struct cowfs_pool *p, struct cowfs_obj *o, uint8_t level, uint64_t blkid,
		 struct cowfs_bp *bp);
/* Whether the block has a dirty copy in the open group. */
bool cowfs_blk_dirty(struct cowfs_pool *p, struct cowfs_obj *o, uint8_t level, uint64_t blkid);
int cowfs_dbuf_dirty(struct cowfs_pool *p, struct cowfs_obj *o, uint8_t level, uint64_t blkid,
		     struct cowfs_dbuf **out);
int64_t cowfs_obj_read(struct cowfs_pool *p, struct cowfs_obj *o, uint64_t off, void *buf,
		       size_t len);
int64_t cowfs_obj_write(struct cowfs_pool *p, struct cowfs_obj *o, uint64_t off, const void *buf,
			size_t len);
int cowfs_obj_truncate(struct cowfs_pool *p, struct cowfs_obj *o, uint64_t size);
/* Grow the tree so that blkid fits. */
int cowfs_obj_grow_levels(struct cowfs_pool *p, struct cowfs_obj *o, uint64_t blkid);
int cowfs_obj_sync(struct cowfs_pool *p, struct cowfs_obj *o, bool comp);
void cowfs_obj_drop_dirty(struct cowfs_pool *p, struct cowfs_obj *o);
int cowfs_objs_init(struct cowfs_pool *p);
void cowfs_objs_fini(struct cowfs_pool *p);
void cowfs_objs_clean(struct cowfs_pool *p);
uint64_t cowfs_obj_dirty_cost(struct cowfs_pool *p, struct cowfs_obj *o, uint8_t level);
uint64_t cowfs_obj_blocks(struct cowfs_pool *p, struct cowfs_obj *o);

/* cowfs_prefetch.c */
/* Prefetch up to max records ahead of sequential readers (0: never). */
int cowfs_prefetch_init(struct cowfs_pool *p, unsigned max);
/* Drop what is queued and join the workers; pool lock NOT held. */
void cowfs_prefetch_stop(struct cowfs_pool *p);
/* A demand read of level-0 block blkid of o: queue what comes next when
 * it continues a sequential stream. */
void cowfs_prefetch_note(struct cowfs_pool *p, struct cowfs_obj *o, uint64_t blkid);
void cowfs_prefetch_stats(struct cowfs_pool *p, struct cowfs_pool_info *pi);

/* cowfs_dir.c */
int cowfs_dir_init(struct cowfs_pool *p, struct cowfs_obj *d);
int cowfs_dir_find(struct cowfs_pool *p, struct cowfs_obj *d, const char *name, size_t len,
		   struct cowfs_dirent *de);
int cowfs_dir_add(struct cowfs_pool *p, struct cowfs_obj *d, const char *name, size_t len,
		  uint64_t obj, uint8_t type);
int cowfs_dir_remove(struct cowfs_pool *p, struct cowfs_obj *d, const char *name, size_t len);
int cowfs_dir_iter(struct cowfs_pool *p, struct cowfs_obj *d, uint64_t *cookie,
		   cowfs_filldir_t fill, void *ctx);

/* cowfs_sync.c */
int cowfs_sync_locked(struct cowfs_pool *p);
int cowfs_maybe_sync(struct cowfs_pool *p);

/* cowfs_pool.c */
uint64_t cowfs_label_offset(uint64_t devsize, int which);

#endif
