/*
 * Private structures of the ARC, shared by the fs/arc files only.
 *
 * Locks, in the order they are taken:
 *
 *   arc->evict_lock   mutex: the adaptive state (c, p, no_grow), every
 *                     decision that moves buffers between states on a miss,
 *                     an eviction or a shrink, and the eviction heaps (see
 *                     below). Hits never take it.
 *   stripe->lock      mutex, one per group of hash buckets: the chains of
 *                     those buckets, every field of their headers (state,
 *                     refs, shares, flags, data, stamp, link) and the
 *                     stripe's own list shard of each state. Waiters for a
 *                     fill sleep on stripe->cv.
 *
 * There is no lock below the stripe's: a hit takes its stripe lock and
 * nothing else, so hits on buffers of different stripes share no lock. A
 * hit in MFU writes only its header (and list neighbours), its stripe and
 * its thread's clock slot; besides, a hit in MRU moves the state sizes
 * (atomics) and the first insertion into an idle shard sets a pending bit
 * (see below). Eviction takes evict_lock, then a stripe lock (blocking:
 * that is the usual order).
 *
 * Lists. Every state but anon has one list shard per stripe, holding the
 * evictable headers of that state whose key hashes to the stripe: cached
 * or ghost, not held (refs == 0), not mapped (shares == 0) and no fill in
 * flight. Holding a buffer takes it off its shard; dropping the last hold
 * puts it back at the head with a fresh stamp, so each shard is ordered by
 * the time of last use, as the paper's LRU lists are, and is changed only
 * under the stripe lock the hit holds anyway.
 *
 * Eviction heaps. To find the least recently used header of a state over
 * all its shards, each state keeps a binary min-heap of stripes, keyed by a
 * lower bound of the stamps on the stripe's shard (under evict_lock). The
 * hit path never touches it: a key only goes stale upwards (heads are
 * stamped later than anything already on the shard, and removals only
 * raise the minimum), so eviction takes the root stripe, reads its real
 * tail stamp under the stripe lock and, when that is above the root's
 * children, re-keys the root and looks again; when it is not above them,
 * the tail is the state's LRU header exactly. A shard found empty leaves
 * the heap; the next insertion into it marks it pending and sets the
 * stripe's bit in the state's pending bitmap (one atomic OR, only then),
 * and eviction queues pending stripes before it decides, keyed by the
 * stamp of that insertion (the shard was empty, so it is the shard's
 * oldest): see ARC_SHARD_*.
 *
 * Stamps. A stamp is taken from the calling thread's clock slot and raised
 * above the shard's newest stamp, so every shard is strictly ordered and
 * the heap keys stay lower bounds whatever the clocks say. A thread always
 * uses the same slot, so one thread's stamps strictly increase and in
 * single-threaded use the order of stamps is the order of requests: the
 * decisions are exactly the paper's. Between threads the slots are kept
 * within ARC_CLOCK_WINDOW stamps of each other (arc_stamp()), so the order
 * across threads is that of the requests up to that window.
 *
 * State sizes are atomics: hits change MRU and MFU without the evict lock;
 * decisions read a consistent enough view under it.
 */
#ifndef KARST_ARC_IMPL_H
#define KARST_ARC_IMPL_H

#include "arc.h"
#include <karst/compiler.h>
#include <karst/list.h>
#include <karst/reclaim.h>
#include <karst/sync.h>

#define ARC_P_FRAC	 16
#define ARC_C_LIMIT	 (1ULL << 47) /* c_max bound, so c << ARC_P_FRAC fits */
#define ARC_NSTRIPES_MAX 1024	      /* hash stripes (and list shards) at most */

/* header flags */
#define ARC_BF_IO	  0x01 /* a fill is in flight; readers wait on the stripe cv */
#define ARC_BF_ERROR	  0x02 /* the fill failed; psize holds the errno */
#define ARC_BF_COMPRESSED 0x04 /* pdata holds lz4 bytes */

/*
 * The header: one per key the ARC knows, cached or ghost. It is also the
 * handle holders get from arc_read(). Kept small: ghosts are headers only,
 * and there may be twice as many headers as cached buffers.
 */
struct arc_buf {
	struct arc_key key;    /* 32 */
	struct arc_buf *hnext; /* hash chain */
	struct list_node link; /* state list, when evictable */
	void *pdata;	       /* the cached bytes (lz4 when ARC_BF_COMPRESSED) */
	void *data;	       /* plain view: pdata, or a decompressed copy while held */
	uint64_t stamp;	       /* recency, set when put on a list */
	uint32_t lsize;	       /* plain size */
	uint32_t psize;	       /* bytes charged to the state: held size, or lsize while filling */
	uint32_t refs;	       /* holds from arc_read() */
	uint32_t shares;       /* mappings from arc_buf_share() */
	uint8_t state;	       /* enum arc_state */
	uint8_t target;	       /* anon: the state it joins when filled */
	uint8_t flags;	       /* ARC_BF_* */
};

/* The states that have lists, and the index of their shard in a stripe. */
#define ARC_NLISTS 4
static inline unsigned arc_list_idx(int state)
{
	return (unsigned)state - ARC_STATE_MRU;
}

/* One stripe's shard of one state's list (32 bytes: MRU's and MFU's share
 * a cache line). */
struct arc_sublist {
	struct list_node head; /* most recent first, stamps strictly decreasing */
	uint64_t evictable;    /* sum of psize on this shard; under the stripe lock, read relaxed */
	uint64_t last;	       /* the newest stamp ever given on this shard */
};

/*
 * arc_stripe.queued[]: where the stripe stands with each state's heap.
 *   IDLE -> PENDING   an insertion into the shard (stripe lock; the shard is
 *                     empty until then), which also records its stamp in
 *                     pending_key and sets the stripe's bit in the state's
 *                     pending bitmap
 *   PENDING -> QUEUED eviction pushes the stripe on the heap (evict_lock)
 *   QUEUED -> IDLE    eviction finds the shard empty and pops it (evict_lock
 *                     and the stripe lock)
 * Only the first insertion after a pop writes the shared bitmap; every
 * other one just reads its own shard's flag.
 */
#define ARC_SHARD_IDLE	  0
#define ARC_SHARD_QUEUED  1
#define ARC_SHARD_PENDING 2

/* Laid out so that a hit touches three cache lines of its stripe (on the
 * host, where a mutex fills one): the lock, the counters, the MRU and MFU
 * shards. */
struct arc_stripe {
	struct mutex lock;
	/* Hit-path counters, written under lock, read with relaxed loads. */
	uint64_t hits, iohits, demand_hits, prefetch_hits, mru_hits, mfu_hits, access_hits;
	uint8_t queued[ARC_NLISTS]; /* ARC_SHARD_* of each shard, atomic */
	struct arc_sublist lists[ARC_NLISTS] __aligned(64);
	struct condvar cv;
} __aligned(64);

/* An entry of a state's eviction heap: a stripe and a lower bound of the
 * stamps on its shard. */
struct arc_heapent {
	uint64_t key;
	uint32_t stripe;
};

struct arc_statelist {
	/* Eviction heap (NULL for anon), under evict_lock. */
	struct arc_heapent *heap;
	uint32_t nheap;
	/* Stripes whose shard got a header while not queued; atomic bits. */
	uint64_t *pending;
	/* Per stripe: the stamp of that header, the shard's oldest (it went
	 * into an empty shard), for the heap key; read once its bit is seen. */
	uint64_t *pending_key;
	uint64_t size;	/* sum of psize, atomic */
	uint64_t lsize; /* sum of lsize, atomic */
	uint64_t count; /* headers, atomic */
};

/* A thread's recency clock (see arc_stamp()). */
#define ARC_CLOCK_SLOTS 64
struct arc_clock {
	uint64_t now;
} __aligned(64);

struct arc {
	char name[32];
	struct mutex evict_lock;
	/* Adaptive state: written under evict_lock, read anywhere (atomic).
	 * p is kept in fixed point (bytes << ARC_P_FRAC): the paper's delta
	 * |B2|/|B1| is a real ratio, and rounding it to whole blocks changes
	 * decisions (on cloudPhysicsIO at 10000 blocks it costs a point of hit
	 * ratio). */
	uint64_t c, pfx, c_min, c_max;
	bool no_grow;
	uint64_t shrink_time;
	uint64_t grow_retry_ns;
	unsigned shrink_shift;
	bool compress;

	struct arc_buf **buckets;
	uint64_t bucket_mask;
	struct arc_stripe *stripes;
	uint64_t stripe_mask;

	struct arc_statelist st[ARC_NSTATES];

	/* Recency clocks, one cache line each, so that hits of different
	 * threads write no common line; global is the newest value any slot
	 * has published, read by every stamp and written now and then. */
	struct arc_clock *clocks;
	uint64_t clock_global __aligned(64);
	uint64_t clock_pad[7];

	/* Miss-path and eviction counters, atomic. */
	uint64_t misses __aligned(64), demand_misses, prefetch_misses, mru_ghost_hits,
	    mfu_ghost_hits;
	/* mutex_miss: eviction found the victim's stripe locked and waited;
	 * evict_skip stays 0 (only evictable headers are listed, and eviction
	 * waits for a busy stripe instead of skipping it). */
	uint64_t deleted, evictions, evicted_bytes, mutex_miss, evict_skip, evict_not_enough;
	uint64_t hash_elements, hash_elements_max, hash_collisions;
	uint64_t overhead_size, memory_throttle_count, memory_direct_count;
	uint64_t memory_indirect_count;
	uint64_t reclaimed; /* bytes of memory eviction has freed (data + headers) */

	struct reclaimer reclaimer;
	bool reclaim_registered;
};

/* Relaxed atomics on plain 64-bit fields (shared by every file here). */
static inline uint64_t arc_ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline void arc_st(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}
static inline void arc_add(uint64_t *p, uint64_t v)
{
	__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
static inline void arc_sub(uint64_t *p, uint64_t v)
{
	__atomic_fetch_sub(p, v, __ATOMIC_RELAXED);
}
/* A counter only ever written under one lock: no locked instruction. */
static inline void arc_inc_locked(uint64_t *p)
{
	arc_st(p, arc_ld(p) + 1);
}

static inline bool arc_state_cached(int s)
{
	return s == ARC_STATE_MRU || s == ARC_STATE_MFU;
}
static inline bool arc_state_ghost(int s)
{
	return s == ARC_STATE_MRU_GHOST || s == ARC_STATE_MFU_GHOST;
}

/* arc_hash.c: the key table. Callers hold the stripe lock of the hash. */
uint64_t arc_key_hash(const struct arc_key *k);
static inline struct arc_stripe *arc_stripe_of(struct arc *a, uint64_t h)
{
	return &a->stripes[h & a->stripe_mask];
}
struct arc_buf *arc_hash_find(struct arc *a, uint64_t h, const struct arc_key *k);
void arc_hash_insert(struct arc *a, uint64_t h, struct arc_buf *b);
void arc_hash_remove(struct arc *a, uint64_t h, struct arc_buf *b);
int arc_hash_init(struct arc *a, unsigned log2);
void arc_hash_fini(struct arc *a);

/* arc_state.c: a recency stamp for the calling thread; any context. */
uint64_t arc_stamp(struct arc *a);
/* arc_state.c: lists, accounting, transitions. Callers hold b's stripe lock. */
int arc_states_init(struct arc *a);
void arc_states_fini(struct arc *a);
void arc_list_insert(struct arc *a, struct arc_buf *b, uint64_t h);
void arc_list_remove(struct arc *a, struct arc_buf *b, uint64_t h);
void arc_charge(struct arc *a, struct arc_buf *b);
void arc_uncharge(struct arc *a, struct arc_buf *b);
void arc_change_state(struct arc *a, struct arc_buf *b, int to);
void arc_hold(struct arc *a, struct arc_buf *b, uint64_t h);
void arc_unhold(struct arc *a, struct arc_buf *b, uint64_t h);
void arc_access(struct arc *a, struct arc_stripe *s, struct arc_buf *b, bool count);
void arc_buf_free_data(struct arc *a, struct arc_buf *b);
void *arc_data_alloc(size_t size);
/* Called with evict_lock held and no stripe lock; may sleep. */
struct arc_buf *arc_list_take_lru(struct arc *a, int state, struct arc_stripe **sp, uint64_t *hp);
uint64_t arc_list_evictable(struct arc *a, int state);

/* arc_evict.c: decisions. Callers hold evict_lock and no stripe lock. */
void arc_evict_for_miss(struct arc *a, uint64_t size, int ghost);
void arc_adjust(struct arc *a);

/* arc_compress.c */
int arc_lz4_compress(const void *src, size_t lsize, void *dst, size_t cap);
int arc_lz4_decompress(const void *src, size_t psize, void *dst, size_t lsize);
int arc_ensure_data(struct arc *a, struct arc_buf *b);

#endif
