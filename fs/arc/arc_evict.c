/*
 * The adaptive part: the paper's case analysis on a miss, REPLACE, the
 * invariants kept after every change, and shrinking under memory pressure.
 *
 * Notation as in Megiddo & Modha: T1 = MRU, T2 = MFU, B1 = MRU-ghost,
 * B2 = MFU-ghost, L1 = T1 + B1, L2 = T2 + B2, all in bytes; s is the size
 * of the block being read. With every block of size 1 these are exactly the
 * paper's ARC(c) steps:
 *
 *   case II  (x in B1): p += max(1, |B2|/|B1|) (at most c); REPLACE(x, p)
 *   case III (x in B2): p -= max(1, |B1|/|B2|) (at least 0); REPLACE(x, p)
 *            then x is fetched into T2
 *   case IV  (x nowhere):
 *     A. |L1| = c: if |T1| < c drop B1's LRU and REPLACE, else drop T1's
 *        LRU from the cache (no ghost)
 *     B. |L1| < c <= |L1| + |L2|: if the total is 2c drop B2's LRU; REPLACE
 *            then x is fetched into T1
 *   REPLACE: if |T1| > 0 and (|T1| > p or (x in B2 and |T1| = p)) move T1's
 *            LRU to B1, else move T2's LRU to B2.
 *
 * In bytes "|L1| = c" becomes "L1 + s > c", a drop or a move becomes a loop
 * until the condition is met, and REPLACE loops until T1 + T2 (+ anon) + s
 * <= c. The ratio |B2|/|B1| is real in the paper: p is kept in fixed point
 * with 16 bits below the byte (2^-28 of a 4 KiB block), so the ratio is
 * not rounded to whole blocks as OpenZFS does, nor capped at 10.
 * Held and mapped buffers are not on the lists; when the side REPLACE picks
 * has nothing evictable the other side gives, and when neither has, the
 * miss goes over c and memory_throttle_count counts it.
 *
 * c grows by s on a miss when the cache is full and c < c_max, unless a
 * shrink happened less than grow_retry_ns ago.
 *
 * Writers: arc_tempreserve() holds dirty data under arc_dirty_limit()
 * (half of c); a writer over it is throttled (memory_throttle_count) and
 * must wait for its data to reach the disk before dirtying more.
 *
 * Locking: everything here runs under evict_lock with no stripe lock held;
 * eviction locks the victim's stripe (arc_list_take_lru() returns it
 * locked) and frees under the stripe lock. May sleep (mutexes); never
 * allocates.
 */
#include "arc_impl.h"
#include <errno.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <karst/time.h>

static inline uint64_t sz(struct arc *a, int state)
{
	return arc_ld(&a->st[state].size);
}

static inline uint64_t cached_bytes(struct arc *a)
{
	return sz(a, ARC_STATE_MRU) + sz(a, ARC_STATE_MFU) + sz(a, ARC_STATE_ANON);
}

static inline uint64_t total_bytes(struct arc *a)
{
	return sz(a, ARC_STATE_MRU) + sz(a, ARC_STATE_MFU) + sz(a, ARC_STATE_MRU_GHOST) +
	       sz(a, ARC_STATE_MFU_GHOST);
}

/*
 * Evict the LRU buffer of MRU or MFU: its data is freed and its header goes
 * to the matching ghost list (to_ghost) or is deleted. Returns the bytes of
 * data freed, 0 when the state has nothing evictable.
 */
static uint64_t evict_one(struct arc *a, int state, bool to_ghost)
{
	struct arc_stripe *s;
	uint64_t h;
	struct arc_buf *b = arc_list_take_lru(a, state, &s, &h);
	if (!b)
		return 0;
	KASSERT(b->refs == 0 && b->shares == 0 && !(b->flags & ARC_BF_IO));
	uint64_t bytes = b->psize;
	arc_buf_free_data(a, b);
	arc_add(&a->evictions, 1);
	arc_add(&a->evicted_bytes, bytes);
	if (to_ghost) {
		arc_change_state(
		    a, b, state == ARC_STATE_MRU ? ARC_STATE_MRU_GHOST : ARC_STATE_MFU_GHOST);
		arc_list_insert(a, b, h);
		mutex_unlock(&s->lock);
		arc_add(&a->reclaimed, bytes);
	} else {
		arc_uncharge(a, b);
		arc_hash_remove(a, h, b);
		mutex_unlock(&s->lock);
		kfree(b);
		arc_add(&a->deleted, 1);
		arc_add(&a->reclaimed, bytes + sizeof(*b));
	}
	return bytes;
}

/* Delete the LRU header of a ghost list. False when it is empty. */
static bool drop_ghost(struct arc *a, int state)
{
	struct arc_stripe *s;
	uint64_t h;
	struct arc_buf *b = arc_list_take_lru(a, state, &s, &h);
	if (!b)
		return false;
	KASSERT(b->refs == 0 && !b->pdata);
	arc_uncharge(a, b);
	arc_hash_remove(a, h, b);
	mutex_unlock(&s->lock);
	kfree(b);
	arc_add(&a->deleted, 1);
	arc_add(&a->reclaimed, sizeof(*b));
	return true;
}

/* REPLACE(x, p), looped until s more bytes fit under c. False when it ran
 * out of evictable buffers first. */
static bool arc_replace(struct arc *a, uint64_t s, bool in_b2)
{
	while (cached_bytes(a) + s > a->c) {
		uint64_t t1 = sz(a, ARC_STATE_MRU) << ARC_P_FRAC, p = a->pfx;
		bool from_t1 = t1 > 0 && (t1 > p || (in_b2 && t1 == p));
		int first = from_t1 ? ARC_STATE_MRU : ARC_STATE_MFU;
		int second = from_t1 ? ARC_STATE_MFU : ARC_STATE_MRU;
		if (evict_one(a, first, true) || evict_one(a, second, true))
			continue;
		return false;
	}
	return true;
}

/*
 * floor(x * y / d) for a quotient that fits in 64 bits. The product is
 * 128-bit; the division is done by hand (shift and subtract) because the
 * freestanding kernel has no __udivti3. Only ghost hits and shrinks use it.
 */
static uint64_t muldiv64(uint64_t x, uint64_t y, uint64_t d)
{
	unsigned __int128 n = (unsigned __int128)x * y, r = 0;
	uint64_t q = 0;
	KASSERT(d != 0);
	for (int i = 127; i >= 0; i--) {
		r = (r << 1) | (uint64_t)((n >> i) & 1);
		if (r >= d) {
			r -= d;
			if (i < 64)
				q |= 1ULL << i;
		}
	}
	return q;
}

/* s * num / den in p's fixed point; num / den <= 2c / s, so it fits. */
static inline uint64_t p_ratio(uint64_t s, uint64_t num, uint64_t den)
{
	return muldiv64(s << ARC_P_FRAC, num, den);
}

static void arc_maybe_grow(struct arc *a, uint64_t s)
{
	if (a->c >= a->c_max)
		return;
	if (a->no_grow) {
		if (time_ns() - a->shrink_time < a->grow_retry_ns)
			return;
		a->no_grow = false;
	}
	if (cached_bytes(a) + s > a->c)
		arc_st(&a->c, MIN(a->c + s, a->c_max));
}

void arc_evict_for_miss(struct arc *a, uint64_t s, int ghost)
{
	KASSERT(mutex_owned(&a->evict_lock));
	arc_maybe_grow(a, s);
	uint64_t c = a->c;
	bool room = true;

	if (ghost == ARC_STATE_MRU_GHOST) { /* case II */
		uint64_t b1 = sz(a, ARC_STATE_MRU_GHOST), b2 = sz(a, ARC_STATE_MFU_GHOST);
		uint64_t delta = (b1 >= b2 || b1 == 0) ? s << ARC_P_FRAC : p_ratio(s, b2, b1);
		arc_st(&a->pfx, MIN(c << ARC_P_FRAC, a->pfx + delta));
		room = arc_replace(a, s, false);
	} else if (ghost == ARC_STATE_MFU_GHOST) { /* case III */
		uint64_t b1 = sz(a, ARC_STATE_MRU_GHOST), b2 = sz(a, ARC_STATE_MFU_GHOST);
		uint64_t delta = (b2 >= b1 || b2 == 0) ? s << ARC_P_FRAC : p_ratio(s, b1, b2);
		arc_st(&a->pfx, a->pfx > delta ? a->pfx - delta : 0);
		room = arc_replace(a, s, true);
	} else if (sz(a, ARC_STATE_MRU) + sz(a, ARC_STATE_MRU_GHOST) + s > c) { /* case IV.A */
		for (;;) {
			uint64_t t1 = sz(a, ARC_STATE_MRU), b1 = sz(a, ARC_STATE_MRU_GHOST);
			if (t1 + b1 + s <= c)
				break;
			/* |T1| = c: T1's LRU leaves the cache without a ghost */
			if (t1 + s > c && evict_one(a, ARC_STATE_MRU, false))
				continue;
			/* |T1| < c: B1's LRU goes */
			if (drop_ghost(a, ARC_STATE_MRU_GHOST))
				continue;
			if (evict_one(a, ARC_STATE_MRU, false))
				continue;
			break;
		}
		room = arc_replace(a, s, false);
	} else if (total_bytes(a) + s > c) { /* case IV.B */
		while (total_bytes(a) + s > 2 * c && drop_ghost(a, ARC_STATE_MFU_GHOST))
			;
		room = arc_replace(a, s, false);
	}
	if (!room)
		arc_add(&a->memory_throttle_count, 1);
}

void arc_adjust(struct arc *a)
{
	KASSERT(mutex_owned(&a->evict_lock));
	arc_replace(a, 0, false);
	while (sz(a, ARC_STATE_MRU_GHOST) > 0 &&
	       sz(a, ARC_STATE_MRU) + sz(a, ARC_STATE_MRU_GHOST) > a->c &&
	       drop_ghost(a, ARC_STATE_MRU_GHOST))
		;
	while (total_bytes(a) > 2 * a->c) {
		if (!drop_ghost(a, ARC_STATE_MFU_GHOST) && !drop_ghost(a, ARC_STATE_MRU_GHOST))
			break;
	}
}

/* Lower c (not below c_min), p with it, and stop growth for a while. */
static void arc_shrink_to(struct arc *a, uint64_t new_c)
{
	new_c = MAX(new_c, a->c_min);
	if (new_c < a->c) {
		arc_st(&a->pfx, muldiv64(a->pfx, new_c, a->c));
		arc_st(&a->c, new_c);
	}
	a->no_grow = true;
	a->shrink_time = time_ns();
}

void arc_lowmem(struct arc *a)
{
	mutex_lock(&a->evict_lock);
	arc_add(&a->memory_indirect_count, 1);
	arc_shrink_to(a, a->c - (a->c >> a->shrink_shift));
	arc_adjust(a);
	mutex_unlock(&a->evict_lock);
}

size_t arc_sized_adjust(struct arc *a, size_t bytes)
{
	mutex_lock(&a->evict_lock);
	arc_add(&a->memory_direct_count, 1);
	uint64_t before = arc_ld(&a->reclaimed);
	uint64_t cached = cached_bytes(a);
	arc_shrink_to(a, MIN(a->c, cached > bytes ? cached - bytes : 0));
	arc_adjust(a);
	/* c_min may stop the data from giving enough: ghosts are memory too. */
	while (arc_ld(&a->reclaimed) - before < bytes) {
		if (!drop_ghost(a, ARC_STATE_MRU_GHOST) && !drop_ghost(a, ARC_STATE_MFU_GHOST))
			break;
	}
	size_t freed = (size_t)(arc_ld(&a->reclaimed) - before);
	if (freed < bytes)
		arc_add(&a->evict_not_enough, 1);
	mutex_unlock(&a->evict_lock);
	return freed;
}

uint64_t arc_dirty_limit(struct arc *a)
{
	uint64_t c = arc_ld(&a->c);
	return MAX(c / 2, a->c_min);
}

int arc_tempreserve(struct arc *a, uint64_t dirty, uint64_t reserve)
{
	/* Some dirty data must be allowed, or a writer could never start. */
	if (dirty == 0 || dirty + reserve <= arc_dirty_limit(a))
		return 0;
	arc_add(&a->memory_throttle_count, 1);
	return -EAGAIN;
}

static size_t arc_reclaim_cb(void *arg, size_t bytes)
{
	return arc_sized_adjust(arg, bytes);
}

static void arc_lowmem_cb(void *arg)
{
	arc_lowmem(arg);
}

void arc_register_reclaim(struct arc *a)
{
	if (a->reclaim_registered)
		return;
	a->reclaimer.name = a->name;
	a->reclaimer.reclaim = arc_reclaim_cb;
	a->reclaimer.lowmem = arc_lowmem_cb;
	a->reclaimer.arg = a;
	reclaim_register(&a->reclaimer);
	a->reclaim_registered = true;
}

void arc_unregister_reclaim(struct arc *a)
{
	if (!a->reclaim_registered)
		return;
	reclaim_unregister(&a->reclaimer);
	a->reclaim_registered = false;
}
