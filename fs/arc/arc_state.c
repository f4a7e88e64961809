/*
 * The four lists (MRU, MFU and their ghosts) and the bookkeeping of states.
 *
 * Each list is sharded into nsub sublists, each with its own spinlock, so
 * buffers released by different threads are not queued on one lock; the
 * shard of a header is fixed by its key's hash. A header enters its shard
 * at the head with a stamp from the ARC-wide clock, taken under the shard
 * lock, so every shard is sorted by stamp and the state's least recently
 * used header is the tail with the smallest stamp.
 *
 * Holding a buffer (arc_hold) takes it off its list; the last release or
 * unshare (arc_unhold) puts it back at the head: only evictable headers are
 * ever on a list, and eviction never has to skip anything.
 *
 * Locking: every function here but arc_list_take_lru() is called with the
 * header's stripe lock held and takes at most a sublist spinlock under it;
 * none sleeps. arc_list_take_lru() is called with evict_lock and no stripe
 * lock held, and may yield.
 */
#include "arc_impl.h"
#include <errno.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/thread.h>
#include <string.h>

static inline unsigned arc_sub_of(struct arc *a, uint64_t h)
{
	return (unsigned)(h >> 48) & (a->nsub - 1);
}

int arc_states_init(struct arc *a)
{
	for (int s = ARC_STATE_MRU; s < ARC_NSTATES; s++) {
		struct arc_sublist *subs = kmalloc_aligned(a->nsub * sizeof(*subs), 64);
		if (!subs)
			return -ENOMEM;
		memset(subs, 0, a->nsub * sizeof(*subs));
		for (unsigned i = 0; i < a->nsub; i++) {
			spin_lock_init(&subs[i].lock, "arc_sublist");
			list_init(&subs[i].head);
		}
		a->st[s].subs = subs;
	}
	return 0;
}

void arc_states_fini(struct arc *a)
{
	for (int s = 0; s < ARC_NSTATES; s++) {
		kfree(a->st[s].subs);
		a->st[s].subs = NULL;
	}
}

void arc_list_insert(struct arc *a, struct arc_buf *b, uint64_t h)
{
	KASSERT(b->state > ARC_STATE_ANON && b->state < ARC_NSTATES);
	KASSERT(b->refs == 0 && b->shares == 0 && !(b->flags & ARC_BF_IO));
	struct arc_sublist *sl = &a->st[b->state].subs[arc_sub_of(a, h)];
	spin_lock(&sl->lock);
	b->stamp = __atomic_fetch_add(&a->clock, 1, __ATOMIC_RELAXED);
	list_add(&sl->head, &b->link);
	arc_st(&sl->evictable, sl->evictable + b->psize);
	spin_unlock(&sl->lock);
}

void arc_list_remove(struct arc *a, struct arc_buf *b, uint64_t h)
{
	struct arc_sublist *sl = &a->st[b->state].subs[arc_sub_of(a, h)];
	spin_lock(&sl->lock);
	list_del(&b->link);
	arc_st(&sl->evictable, sl->evictable - b->psize);
	spin_unlock(&sl->lock);
}

uint64_t arc_list_evictable(struct arc *a, int state)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < a->nsub; i++)
		sum += arc_ld(&a->st[state].subs[i].evictable);
	return sum;
}

void arc_charge(struct arc *a, struct arc_buf *b)
{
	struct arc_statelist *sl = &a->st[b->state];
	arc_add(&sl->size, b->psize);
	arc_add(&sl->lsize, b->lsize);
	arc_add(&sl->count, 1);
}

void arc_uncharge(struct arc *a, struct arc_buf *b)
{
	struct arc_statelist *sl = &a->st[b->state];
	arc_sub(&sl->size, b->psize);
	arc_sub(&sl->lsize, b->lsize);
	arc_sub(&sl->count, 1);
}

/* Move the accounting of an unlisted header to another state. */
void arc_change_state(struct arc *a, struct arc_buf *b, int to)
{
	arc_uncharge(a, b);
	b->state = (uint8_t)to;
	arc_charge(a, b);
}

void *arc_data_alloc(size_t size)
{
	/* Buffers of whole pages are page-aligned so they can be mapped. */
	if (size >= PAGE_SIZE && (size & PAGE_MASK) == 0)
		return kmalloc_aligned(size, PAGE_SIZE);
	return kmalloc(size);
}

/* Free the data of an evicted or destroyed header (not held, not shared). */
void arc_buf_free_data(struct arc *a, struct arc_buf *b)
{
	if (b->data && b->data != b->pdata) {
		kfree(b->data);
		arc_sub(&a->overhead_size, b->lsize);
	}
	kfree(b->pdata);
	b->data = NULL;
	b->pdata = NULL;
}

void arc_hold(struct arc *a, struct arc_buf *b, uint64_t h)
{
	if (b->refs == 0 && b->shares == 0)
		arc_list_remove(a, b, h);
	b->refs++;
}

/* Called when the last hold or mapping is gone: back on the list. */
static void arc_buf_idle(struct arc *a, struct arc_buf *b, uint64_t h)
{
	if ((b->flags & ARC_BF_COMPRESSED) && b->data) {
		kfree(b->data);
		b->data = NULL;
		arc_sub(&a->overhead_size, b->lsize);
	}
	arc_list_insert(a, b, h);
}

void arc_unhold(struct arc *a, struct arc_buf *b, uint64_t h)
{
	KASSERT_MSG(b->refs > 0, "arc: release of a buffer that is not held");
	if (--b->refs == 0 && b->shares == 0)
		arc_buf_idle(a, b, h);
}

/*
 * A hit on a cached, unlisted buffer: the paper's case I. A second access
 * moves a buffer from MRU to MFU; an MFU buffer stays (its recency is
 * renewed when it goes back on the list). count: a read, not a scanner
 * report, so it counts in mru_hits / mfu_hits.
 */
void arc_access(struct arc *a, struct arc_stripe *s, struct arc_buf *b, bool count)
{
	KASSERT(arc_state_cached(b->state));
	if (b->state == ARC_STATE_MRU) {
		arc_change_state(a, b, ARC_STATE_MFU);
		if (count)
			arc_inc_locked(&s->mru_hits);
	} else if (count) {
		arc_inc_locked(&s->mfu_hits);
	}
}

/*
 * Take the least recently used header of a state off its list and return it
 * with its stripe locked (in *sp, its hash in *hp), or NULL when the list is
 * empty or the stripes kept being busy. The shard is chosen by the smallest
 * tail stamp; the stripe is only trylocked because the usual order is stripe
 * before sublist.
 */
struct arc_buf *arc_list_take_lru(struct arc *a, int state, struct arc_stripe **sp, uint64_t *hp)
{
	struct arc_sublist *subs = a->st[state].subs;
	for (int tries = 0; tries < 1000; tries++) {
		unsigned best = 0;
		if (a->nsub > 1) {
			uint64_t best_stamp = UINT64_MAX;
			bool found = false;
			for (unsigned i = 0; i < a->nsub; i++) {
				spin_lock(&subs[i].lock);
				struct arc_buf *t = list_last(&subs[i].head, struct arc_buf, link);
				if (t && t->stamp < best_stamp) {
					best_stamp = t->stamp;
					best = i;
					found = true;
				}
				spin_unlock(&subs[i].lock);
			}
			if (!found)
				return NULL;
		}
		struct arc_sublist *sl = &subs[best];
		spin_lock(&sl->lock);
		struct arc_buf *b = list_last(&sl->head, struct arc_buf, link);
		if (!b) {
			spin_unlock(&sl->lock);
			if (a->nsub == 1)
				return NULL;
			continue;
		}
		uint64_t h = arc_key_hash(&b->key);
		struct arc_stripe *s = arc_stripe_of(a, h);
		if (!mutex_trylock(&s->lock)) {
			spin_unlock(&sl->lock);
			arc_add(&a->mutex_miss, 1);
			thread_yield();
			continue;
		}
		list_del(&b->link);
		arc_st(&sl->evictable, sl->evictable - b->psize);
		spin_unlock(&sl->lock);
		*sp = s;
		*hp = h;
		return b;
	}
	arc_add(&a->evict_skip, 1);
	return NULL;
}
