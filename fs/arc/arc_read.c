/*
 * Reading through the ARC, and the holds and mappings that pin buffers.
 *
 * arc_read() looks the key up under its stripe lock:
 *
 *   cached        a hit: hold the buffer (off its list), promote MRU to MFU,
 *                 decompress a copy if it is held compressed. Only the
 *                 stripe lock: the list shards are the stripe's own, and
 *                 the release that puts the buffer back stamps it from its
 *                 thread's clock slot (arc_stamp()). A hit in MFU writes
 *                 nothing another stripe's hit writes (see arc_impl.h).
 *   being filled  hold the header and sleep on the stripe's condvar until
 *                 the filler is done (an "iohit"); one fill serves all.
 *   ghost / none  a miss: under evict_lock the header is claimed for the
 *                 fill (a new anon header, or the ghost marked ARC_BF_IO so
 *                 later readers wait for it), the case analysis makes room
 *                 (arc_evict.c), and the reservation moves to anon. Then,
 *                 with no lock held, the fill callback runs; on completion
 *                 the header joins MRU (a new block) or MFU (a ghost hit)
 *                 and the waiters are woken.
 *
 * With ARC_READ_NOWAIT only the miss goes on: a cached block or one being
 * filled is -EEXIST, so a fill may claim further blocks from inside itself
 * (cowfs's prefetch runs) without ever waiting for another fill.
 *
 * A failed fill takes the header out of the table, marks it ARC_BF_ERROR
 * with the errno and wakes the waiters, who return the same error; the
 * last one to let go of the header frees it.
 *
 * Locking: see arc_impl.h. Every entry point may sleep.
 */
#include "arc_impl.h"
#include <errno.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <string.h>

static void count_hit(struct arc_stripe *s, unsigned flags)
{
	arc_inc_locked(&s->hits);
	arc_inc_locked((flags & ARC_READ_PREFETCH) ? &s->prefetch_hits : &s->demand_hits);
}

/* Hit on a cached header; stripe lock held. */
static int arc_hit(struct arc *a, struct arc_stripe *s, struct arc_buf *b, uint64_t h, size_t lsize,
		   unsigned flags)
{
	if (b->lsize != lsize)
		return -EINVAL;
	arc_hold(a, b, h);
	int err = arc_ensure_data(a, b);
	if (err) {
		arc_unhold(a, b, h);
		return err;
	}
	arc_access(a, s, b, true);
	count_hit(s, flags);
	return 0;
}

/* Wait for the fill of b; called and returns with the stripe lock held. On
 * success b is held by the caller. */
static int arc_wait_fill(struct arc *a, struct arc_stripe *s, struct arc_buf *b, uint64_t h,
			 size_t lsize, bool *free_it)
{
	b->refs++;
	while (b->flags & ARC_BF_IO)
		cv_wait(&s->cv, &s->lock);
	if (b->flags & ARC_BF_ERROR) {
		int err = -(int)b->psize;
		*free_it = --b->refs == 0;
		return err;
	}
	int err = b->lsize != lsize ? -EINVAL : arc_ensure_data(a, b);
	if (err) {
		arc_unhold(a, b, h);
		return err;
	}
	arc_inc_locked(&s->iohits);
	return 0;
}

/*
 * Run the fill into a fresh buffer and decide how the block is kept.
 * Returns 0 with the kept bytes, their size, the plain view and the compressed flag set, or a
 * negative errno.
 */
static int arc_do_fill(struct arc *a, const struct arc_key *key, size_t lsize, arc_fill_fn fill,
		       void *arg, void **pdata, uint32_t *psize, void **data, bool *comp)
{
	void *buf = arc_data_alloc(lsize);
	if (!buf)
		return -ENOMEM;
	int r = fill(arg, key, buf, lsize);
	if (r < 0) {
		kfree(buf);
		return r;
	}
	*comp = false;
	if (r > 0) {
		/* The fill gave lz4 bytes as stored: keep them, decompress a copy. */
		void *z = (size_t)r < lsize ? kmalloc((size_t)r) : NULL;
		void *plain = z ? arc_data_alloc(lsize) : NULL;
		int err = (size_t)r >= lsize ? -EIO : !plain ? -ENOMEM : 0;
		if (!err) {
			memcpy(z, buf, (size_t)r);
			err = arc_lz4_decompress(z, (size_t)r, plain, lsize);
		}
		kfree(buf);
		if (err) {
			kfree(z);
			kfree(plain);
			return err;
		}
		*pdata = z;
		*psize = (uint32_t)r;
		*data = plain;
		*comp = true;
		return 0;
	}
	*pdata = *data = buf;
	*psize = (uint32_t)lsize;
	if (a->compress && lsize >= 64) {
		/* Keep it compressed when that saves at least an eighth. */
		size_t cap = lsize - lsize / 8;
		void *scratch = kmalloc(cap);
		int n = scratch ? arc_lz4_compress(buf, lsize, scratch, cap) : 0;
		void *z = n > 0 ? kmalloc((size_t)n) : NULL;
		if (z) {
			memcpy(z, scratch, (size_t)n);
			*pdata = z;
			*psize = (uint32_t)n;
			*comp = true; /* buf stays as the holder's plain copy */
		}
		kfree(scratch);
	}
	return 0;
}

static int arc_miss(struct arc *a, const struct arc_key *key, uint64_t h, struct arc_stripe *s,
		    size_t lsize, unsigned flags, arc_fill_fn fill, void *arg, struct arc_buf **out)
{
	/* Allocated before any lock is taken, so that an allocator that one
	 * day reclaims synchronously cannot come back into this ARC while we
	 * hold its locks. */
	struct arc_buf *nb = kzalloc(sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	mutex_lock(&a->evict_lock);
	mutex_lock(&s->lock);
	struct arc_buf *b = arc_hash_find(a, h, key);
	if (b && ((b->flags & ARC_BF_IO) || arc_state_cached(b->state))) {
		/* Somebody else got there between our two looks. */
		mutex_unlock(&s->lock);
		mutex_unlock(&a->evict_lock);
		kfree(nb);
		return -EAGAIN;
	}
	int ghost = ARC_STATE_NONE;
	if (b) {
		/* A ghost: stays charged to its list (the case analysis needs
		 * its size) but leaves the list so nothing else takes it. */
		ghost = b->state;
		arc_list_remove(a, b, h);
		kfree(nb);
	} else {
		b = nb;
		b->key = *key;
		list_init(&b->link);
		b->state = ARC_STATE_ANON;
		b->lsize = (uint32_t)lsize;
		arc_hash_insert(a, h, b);
		arc_charge(a, b);
	}
	b->flags = ARC_BF_IO;
	b->refs = 1;
	b->target = ghost == ARC_STATE_NONE ? ARC_STATE_MRU : ARC_STATE_MFU;
	mutex_unlock(&s->lock);

	arc_add(&a->misses, 1);
	arc_add((flags & ARC_READ_PREFETCH) ? &a->prefetch_misses : &a->demand_misses, 1);
	if (ghost == ARC_STATE_MRU_GHOST)
		arc_add(&a->mru_ghost_hits, 1);
	else if (ghost == ARC_STATE_MFU_GHOST)
		arc_add(&a->mfu_ghost_hits, 1);
	arc_evict_for_miss(a, lsize, ghost);

	/* Reserve the block's bytes in anon while it is filled. */
	mutex_lock(&s->lock);
	arc_uncharge(a, b);
	b->state = ARC_STATE_ANON;
	b->lsize = (uint32_t)lsize;
	b->psize = (uint32_t)lsize;
	arc_charge(a, b);
	mutex_unlock(&s->lock);
	mutex_unlock(&a->evict_lock);

	void *pdata = NULL, *data = NULL;
	uint32_t psize = 0;
	bool comp = false;
	int err = arc_do_fill(a, key, lsize, fill, arg, &pdata, &psize, &data, &comp);

	mutex_lock(&a->evict_lock);
	mutex_lock(&s->lock);
	arc_uncharge(a, b);
	if (err) {
		arc_hash_remove(a, h, b);
		b->flags = ARC_BF_ERROR;
		b->psize = (uint32_t)-err;
		bool last = --b->refs == 0;
		cv_broadcast(&s->cv);
		mutex_unlock(&s->lock);
		mutex_unlock(&a->evict_lock);
		arc_add(&a->deleted, 1);
		if (last)
			kfree(b);
		return err;
	}
	b->pdata = pdata;
	b->data = data;
	b->psize = psize;
	b->flags = comp ? ARC_BF_COMPRESSED : 0;
	b->state = b->target;
	arc_charge(a, b);
	if (data != pdata)
		arc_add(&a->overhead_size, lsize);
	cv_broadcast(&s->cv);
	mutex_unlock(&s->lock);
	/* Concurrent fills may have overfilled a side; put the bounds back. */
	arc_adjust(a);
	mutex_unlock(&a->evict_lock);
	*out = b;
	return 0;
}

int arc_read(struct arc *a, const struct arc_key *key, size_t lsize, unsigned flags,
	     arc_fill_fn fill, void *arg, struct arc_buf **out)
{
	if (lsize == 0 || lsize > UINT32_MAX || !fill)
		return -EINVAL;
	uint64_t h = arc_key_hash(key);
	struct arc_stripe *s = arc_stripe_of(a, h);
	for (;;) {
		mutex_lock(&s->lock);
		struct arc_buf *b = arc_hash_find(a, h, key);
		if ((flags & ARC_READ_NOWAIT) && b &&
		    ((b->flags & ARC_BF_IO) || arc_state_cached(b->state))) {
			mutex_unlock(&s->lock);
			return -EEXIST;
		}
		if (b && (b->flags & ARC_BF_IO)) {
			bool free_it = false;
			int err = arc_wait_fill(a, s, b, h, lsize, &free_it);
			mutex_unlock(&s->lock);
			if (free_it)
				kfree(b);
			if (!err)
				*out = b;
			return err;
		}
		if (b && arc_state_cached(b->state)) {
			int err = arc_hit(a, s, b, h, lsize, flags);
			mutex_unlock(&s->lock);
			if (!err)
				*out = b;
			return err;
		}
		mutex_unlock(&s->lock);
		int err = arc_miss(a, key, h, s, lsize, flags, fill, arg, out);
		if (err != -EAGAIN)
			return err;
	}
}

void arc_buf_release(struct arc *a, struct arc_buf *b)
{
	uint64_t h = arc_key_hash(&b->key);
	struct arc_stripe *s = arc_stripe_of(a, h);
	mutex_lock(&s->lock);
	arc_unhold(a, b, h);
	mutex_unlock(&s->lock);
}

void *arc_buf_data(const struct arc_buf *b)
{
	return b->data;
}

size_t arc_buf_size(const struct arc_buf *b)
{
	return b->lsize;
}

void arc_buf_hashkey(const struct arc_buf *b, struct arc_key *key)
{
	*key = b->key;
}

int arc_buf_share_n(struct arc *a, struct arc_buf *b, unsigned n)
{
	uint64_t h = arc_key_hash(&b->key);
	struct arc_stripe *s = arc_stripe_of(a, h);
	int err = 0;
	mutex_lock(&s->lock);
	KASSERT_MSG(b->refs > 0 || b->shares > 0, "arc: sharing a buffer that is not held");
	if (((uintptr_t)b->data & PAGE_MASK) || (b->lsize & PAGE_MASK))
		err = -EINVAL;
	else
		b->shares += n;
	mutex_unlock(&s->lock);
	return err;
}

int arc_buf_share(struct arc *a, struct arc_buf *b)
{
	return arc_buf_share_n(a, b, 1);
}

void arc_buf_unshare(struct arc *a, struct arc_buf *b)
{
	arc_buf_unshare_n(a, b, 1);
}

void arc_buf_unshare_n(struct arc *a, struct arc_buf *b, unsigned n)
{
	if (!n)
		return;
	uint64_t h = arc_key_hash(&b->key);
	struct arc_stripe *s = arc_stripe_of(a, h);
	mutex_lock(&s->lock);
	KASSERT_MSG(b->shares >= n, "arc: unshare of a buffer that is not shared");
	b->shares -= n;
	if (b->shares == 0 && b->refs == 0) {
		/* arc_unhold's idle path, without a hold to drop */
		b->refs = 1;
		arc_unhold(a, b, h);
	}
	mutex_unlock(&s->lock);
}

bool arc_buf_accessed(struct arc *a, const struct arc_key *key)
{
	uint64_t h = arc_key_hash(key);
	struct arc_stripe *s = arc_stripe_of(a, h);
	mutex_lock(&s->lock);
	struct arc_buf *b = arc_hash_find(a, h, key);
	bool found = b && !(b->flags & ARC_BF_IO) && arc_state_cached(b->state);
	if (found) {
		bool listed = b->refs == 0 && b->shares == 0;
		if (listed)
			arc_list_remove(a, b, h);
		arc_access(a, s, b, false);
		if (listed)
			arc_list_insert(a, b, h);
		arc_inc_locked(&s->access_hits);
	}
	mutex_unlock(&s->lock);
	return found;
}

enum arc_state arc_key_state(struct arc *a, const struct arc_key *key)
{
	uint64_t h = arc_key_hash(key);
	struct arc_stripe *s = arc_stripe_of(a, h);
	mutex_lock(&s->lock);
	struct arc_buf *b = arc_hash_find(a, h, key);
	enum arc_state st = !b			     ? ARC_STATE_NONE
			    : (b->flags & ARC_BF_IO) ? ARC_STATE_ANON
						     : (enum arc_state)b->state;
	mutex_unlock(&s->lock);
	return st;
}
