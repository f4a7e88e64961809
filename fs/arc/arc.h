/*
 * The ARC: an Adaptive Replacement Cache of variable-size blocks, after
 * Megiddo and Modha (FAST 2003) as OpenZFS adapted it. It is the block cache
 * of cowfs and knows nothing about the filesystem above it or the kernel
 * below it: it only uses the kernel-service interface (kmem, sync, time,
 * printk, reclaim), so the same code is unit-tested on the host, replayed
 * by tools/arcsim and linked into the kernel.
 *
 * Model. A block is named by a 256-bit key (for cowfs: its address, birth
 * transaction and pool id). A header per key lives in one of five states:
 *
 *   anon       being filled by a reader's fill callback (I/O in flight)
 *   MRU, MFU   cached: seen once recently / seen at least twice
 *   MRU-ghost, MFU-ghost   recently evicted from MRU / MFU: header only
 *
 * The cache keeps MRU + MFU (+ anon) within the target size c (c_min <= c <=
 * c_max); p is the part of c the MRU side should have. A hit in a ghost list
 * means that side was too small: MRU-ghost hits grow p, MFU-ghost hits
 * shrink it, by the ratio of the ghost lists' sizes. Eviction takes the
 * least recently used unreferenced buffer of MRU or MFU according to p and
 * leaves its header in the matching ghost list. Sizes are in bytes, so
 * with equal-size blocks the decisions are those of the paper's ARC(c).
 *
 * Readers. arc_read() returns a held buffer, filling it through the
 * caller's callback on a miss; concurrent readers of one missing block wait
 * for that one fill. The holder reads the data through arc_buf_data() and
 * drops the hold with arc_buf_release(). A held or shared buffer is never
 * evicted.
 *
 * Page cache. A page-aligned buffer (its size a multiple of PAGE_SIZE) can
 * be mapped into address spaces: arc_buf_share()/arc_buf_unshare() count
 * the mappings and pin the buffer while there are any; the access scanner
 * reports touches of mapped buffers with arc_buf_accessed(), which counts as
 * a hit; arc_buf_hashkey() gives the page cache the key of a buffer.
 *
 * Memory pressure. arc_lowmem() and arc_sized_adjust() shrink c and evict;
 * arc_register_reclaim() hands them to the kernel's reclaimer registry.
 * After a shrink, c grows back on misses once grow_retry_ns have passed.
 *
 * Compression. A fill may return lz4-compressed bytes (as they are on disk);
 * with cfg.compress the ARC also compresses plain fills. Compressed buffers
 * are cached compressed and decompressed into a copy while held.
 *
 * Locking, for callers: every entry point may sleep (it takes mutexes) and
 * must not be called with a spinlock held; none calls back into the caller
 * except arc_read() (the fill callback, called with no ARC lock held). The
 * internal lock order is in arc_impl.h.
 */
#ifndef KARST_ARC_H
#define KARST_ARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arc;
struct arc_buf;

struct arc_key {
	uint64_t w[4];
};

enum arc_state {
	ARC_STATE_NONE = -1, /* not known to the ARC */
	ARC_STATE_ANON = 0,  /* being filled */
	ARC_STATE_MRU,
	ARC_STATE_MFU,
	ARC_STATE_MRU_GHOST,
	ARC_STATE_MFU_GHOST,
	ARC_NSTATES,
};

struct arc_config {
	const char *name;	/* for messages and the reclaimer */
	uint64_t c_max;		/* bytes; required */
	uint64_t c_min;		/* bytes; 0 = c_max / 8 */
	uint64_t c_init;	/* initial c; 0 = c_max */
	unsigned hash_log2;	/* log2 of hash buckets; 0 = from c_max */
	unsigned nsublists;	/* ignored (every hash stripe has its own list shard of
				 * each state); still must be 0 or a power of two <= 256 */
	unsigned shrink_shift;	/* arc_lowmem() takes c >> shrink_shift; 0 = 5 */
	uint64_t grow_retry_ns; /* no growth this long after a shrink; 0 = 5 s */
	bool compress;		/* lz4-compress plain fills when it saves >= 1/8 */
};

/*
 * The fill callback of arc_read(): put the block named by key into dst
 * (lsize bytes of room). Return 0 when dst holds the lsize plain bytes, n > 0
 * when it holds n < lsize bytes of lz4 block data that decompress to lsize
 * bytes, or a negative errno, which arc_read() returns to every reader
 * waiting for this block. Called with no ARC lock held; may sleep.
 */
typedef int (*arc_fill_fn)(void *arg, const struct arc_key *key, void *dst, size_t lsize);

/* arc_read() flags */
#define ARC_READ_PREFETCH 0x1 /* count as a prefetch, not a demand read */
/* Fill a missing block, nothing else: a block that is cached or being
 * filled returns -EEXIST at once, without a hold and without waiting (a
 * fill that claims further blocks from inside itself must never wait for
 * another's fill). */
#define ARC_READ_NOWAIT 0x2

/* Create and destroy an ARC. arc_destroy() requires that no buffer is held
 * or shared and unregisters the reclaimer if it was registered. */
int arc_create(const struct arc_config *cfg, struct arc **out);
void arc_destroy(struct arc *a);

/*
 * Find the block named by key (lsize bytes) and hold it, filling it through
 * fill(arg, ...) on a miss. On success *out is held until arc_buf_release().
 * Errors: -EINVAL (lsize is 0 or differs from the cached block's), -ENOMEM,
 * -EIO (a compressed block does not decompress), -EEXIST (ARC_READ_NOWAIT
 * and the block is there or on its way), or the fill's error.
 * May sleep.
 */
int arc_read(struct arc *a, const struct arc_key *key, size_t lsize, unsigned flags,
	     arc_fill_fn fill, void *arg, struct arc_buf **out);
void arc_buf_release(struct arc *a, struct arc_buf *b);

/* The plain bytes of a held (or shared) buffer, and their number. */
void *arc_buf_data(const struct arc_buf *b);
size_t arc_buf_size(const struct arc_buf *b);

/*
 * Page-cache hooks. arc_buf_share() adds a mapping to a held buffer
 * (-EINVAL when its data is not page-aligned or its size not a multiple of
 * PAGE_SIZE); the buffer stays cached and its data stays put until every
 * mapping is gone with arc_buf_unshare(), even without holds.
 * arc_buf_accessed() reports that a mapped block was touched (a hit for
 * MRU-to-MFU promotion); it returns false when the key is not cached.
 */
int arc_buf_share(struct arc *a, struct arc_buf *b);
void arc_buf_unshare(struct arc *a, struct arc_buf *b);
/* n mappings at once (one lock round instead of n): cowfs takes the shares
 * of a block's pages together and hands them out page by page. */
int arc_buf_share_n(struct arc *a, struct arc_buf *b, unsigned n);
void arc_buf_unshare_n(struct arc *a, struct arc_buf *b, unsigned n);
bool arc_buf_accessed(struct arc *a, const struct arc_key *key);
void arc_buf_hashkey(const struct arc_buf *b, struct arc_key *key);

/*
 * Memory pressure (OSv's shrinker interface). arc_lowmem() shrinks c by
 * c >> shrink_shift (not below c_min) and evicts down to it.
 * arc_sized_adjust() shrinks c by `bytes` (not below c_min), evicts, and
 * returns the bytes of memory it freed (data and headers). Both stop growth
 * for grow_retry_ns. May sleep; never allocate.
 */
void arc_lowmem(struct arc *a);
size_t arc_sized_adjust(struct arc *a, size_t bytes);
/*
 * Sizing from RAM: the c_max a machine of `ram` bytes gives its ARC, a
 * quarter of RAM (at least 1 MiB, never more than half). A 64 MiB guest
 * gets 16 MiB, leaving the page cache, the dirty data of open transaction
 * groups and the kernel room to live.
 */
uint64_t arc_c_max_for_ram(uint64_t ram);

/*
 * Dirty-data throttle (after OpenZFS's arc_tempreserve_space()). A writer
 * that is about to dirty `reserve` more bytes while `dirty` bytes are
 * already dirty in the open transaction group asks first: 0 when it may go
 * on, -EAGAIN when that would pass arc_dirty_limit() (the writer must let
 * the dirty data reach the disk, e.g. commit the transaction group, and
 * ask again). -EAGAIN counts memory_throttle_count. Dirty data is memory
 * the ARC cannot evict, so the limit follows c: half of it, at least c_min
 * (c shrinks under memory pressure, and the limit with it). Takes no lock
 * for long; never allocates.
 */
int arc_tempreserve(struct arc *a, uint64_t dirty, uint64_t reserve);
uint64_t arc_dirty_limit(struct arc *a);

/* Join / leave the kernel's reclaimer registry (<karst/reclaim.h>). */
void arc_register_reclaim(struct arc *a);
void arc_unregister_reclaim(struct arc *a);

/* The state of a key (ARC_STATE_NONE when unknown); for tests and tools. */
enum arc_state arc_key_state(struct arc *a, const struct arc_key *key);

/* Statistics, named as in OpenZFS's arcstats. Counters are cumulative. */
struct arc_stats {
	uint64_t hits, misses, iohits;
	uint64_t demand_data_hits, demand_data_misses;
	uint64_t prefetch_data_hits, prefetch_data_misses;
	uint64_t mru_hits, mru_ghost_hits, mfu_hits, mfu_ghost_hits;
	uint64_t access_hits;	/* arc_buf_accessed() on a cached block */
	uint64_t deleted;	/* headers freed */
	uint64_t evictions;	/* buffers whose data was evicted */
	uint64_t evicted_bytes; /* their bytes */
	uint64_t mutex_miss, evict_skip, evict_not_enough;
	uint64_t hash_elements, hash_elements_max, hash_collisions;
	uint64_t hash_chains, hash_chain_max;
	uint64_t size; /* bytes of MRU + MFU + anon data: what c bounds */
	uint64_t c, p, c_min, c_max;
	uint64_t compressed_size;   /* bytes held for cached blocks */
	uint64_t uncompressed_size; /* their plain size */
	uint64_t overhead_size;	    /* decompressed copies of held compressed blocks */
	uint64_t hdr_size;	    /* bytes of headers, ghosts included */
	uint64_t hdr_bytes;	    /* sizeof one header */
	uint64_t anon_size, mru_size, mfu_size, mru_ghost_size, mfu_ghost_size;
	uint64_t mru_evictable_data, mfu_evictable_data;
	uint64_t memory_throttle_count; /* misses that found nothing to evict,
					 * and writers throttled by arc_tempreserve() */
	uint64_t memory_direct_count;	/* arc_sized_adjust() calls */
	uint64_t memory_indirect_count; /* arc_lowmem() calls */
	uint64_t arc_no_grow;
};

void arc_stats_get(struct arc *a, struct arc_stats *st);
/*
 * Format the statistics as Linux's /proc/spl/kstat/zfs/arcstats does (a
 * kstat header line, "name type data", one "name 4 value" line per
 * counter) into buf. Returns the length of the whole table, like
 * snprintf: when that is >= size the output was truncated (but is still
 * NUL-terminated when size > 0).
 */
int arc_stats_format(struct arc *a, char *buf, size_t size);

/*
 * Check the ARC's invariants: every size equals the sum of its buffers,
 * every list holds exactly the unheld buffers of its state in recency
 * order, 0 <= p <= c, and ghost lists are trimmed (|MRU| + |MRU-ghost| <= c
 * unless MRU-ghost is empty, total <= 2c unless both ghosts are empty).
 * strict adds the bounds that hold when nothing has ever been pinned past
 * eviction: |MRU| + |MFU| + anon <= c, |MRU| + |MRU-ghost| <= c, total <= 2c.
 * Only for a quiescent ARC (no concurrent calls). Returns 0, or -EINVAL
 * with a message in why.
 */
int arc_verify(struct arc *a, bool strict, char *why, size_t whylen);

/* Bytes of one header (reported in arcstats as hdr_bytes). */
size_t arc_hdr_bytes(void);

#endif
