/*
 * The ARC's invariants, checked by walking everything: the hash table (each
 * header in the bucket of its key, in a valid state, with data exactly
 * when cached), the lists (each holds exactly the evictable headers of its
 * state, every shard those of its stripe with stamps decreasing from head
 * to tail), the eviction heaps (every shard with headers is queued or
 * pending, each queued stripe once, heap-ordered, its key - or a pending
 * stripe's - a lower bound of its shard's stamps), the size of every state
 * against the sum of its headers, and the bounds of the paper (see
 * arc_verify() in arc.h).
 *
 * Locking: takes evict_lock only; the caller guarantees that nothing else
 * runs on this ARC (tests call it between operations). O(headers +
 * stripes).
 */
#include "arc_impl.h"
#include <errno.h>
#include <karst/printk.h>

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		if (why && whylen)                                                                 \
			ksnprintf(why, whylen, __VA_ARGS__);                                       \
		err = -EINVAL;                                                                     \
		goto out;                                                                          \
	} while (0)

static const char *const state_names[ARC_NSTATES] = {"anon", "mru", "mfu", "mru_ghost",
						     "mfu_ghost"};

int arc_verify(struct arc *a, bool strict, char *why, size_t whylen)
{
	int err = 0;
	uint64_t size[ARC_NSTATES] = {0}, lsize[ARC_NSTATES] = {0}, count[ARC_NSTATES] = {0};
	uint64_t evictable[ARC_NSTATES] = {0}, listed[ARC_NSTATES] = {0}, elements = 0;
	mutex_lock(&a->evict_lock);

	for (uint64_t i = 0; i <= a->bucket_mask; i++) {
		for (struct arc_buf *b = a->buckets[i]; b; b = b->hnext) {
			elements++;
			if ((arc_key_hash(&b->key) & a->bucket_mask) != i)
				FAIL("header in the wrong bucket");
			if (b->state >= ARC_NSTATES)
				FAIL("bad state %u", b->state);
			int s = b->state;
			size[s] += b->psize;
			lsize[s] += b->lsize;
			count[s]++;
			bool io = b->flags & ARC_BF_IO;
			if (b->flags & ARC_BF_ERROR)
				FAIL("failed header still in the table");
			if (s == ARC_STATE_ANON && !io)
				FAIL("anon header without a fill in flight");
			if (arc_state_cached(s) && !io && !b->pdata)
				FAIL("cached header without data");
			if (arc_state_ghost(s) && (b->pdata || b->data || b->shares))
				FAIL("ghost header with data or mappings");
			if (!io && b->refs == 0 && b->shares == 0 && s != ARC_STATE_ANON)
				evictable[s] += b->psize, listed[s]++;
			if ((b->refs || b->shares || io) && list_linked(&b->link))
				FAIL("held header on a list");
			if (b->data && b->data != b->pdata && !(b->flags & ARC_BF_COMPRESSED))
				FAIL("separate data copy of an uncompressed header");
			if (b->data && (b->flags & ARC_BF_COMPRESSED) && !b->refs && !b->shares)
				FAIL("decompressed copy kept without holders");
		}
	}
	if (elements != arc_ld(&a->hash_elements))
		FAIL("hash_elements %llu but %llu headers",
		     (unsigned long long)arc_ld(&a->hash_elements), (unsigned long long)elements);

	/* The shards, in one pass over the stripes. */
	uint64_t n[ARC_NSTATES] = {0}, bytes[ARC_NSTATES] = {0}, queued[ARC_NSTATES] = {0};
	for (uint64_t i = 0; i <= a->stripe_mask; i++) {
		for (int s = ARC_STATE_MRU; s < ARC_NSTATES; s++) {
			struct arc_sublist *sl = &a->stripes[i].lists[arc_list_idx(s)];
			uint64_t prev = UINT64_MAX, shard_bytes = 0;
			list_for_each(it, &sl->head)
			{
				struct arc_buf *b = list_entry(it, struct arc_buf, link);
				if (b->state != s)
					FAIL("%s list holds a %s header", state_names[s],
					     b->state < ARC_NSTATES ? state_names[b->state] : "?");
				if ((arc_key_hash(&b->key) & a->stripe_mask) != i)
					FAIL("%s header on the shard of another stripe",
					     state_names[s]);
				if (b->stamp >= prev)
					FAIL("%s list out of recency order", state_names[s]);
				if (b->stamp > sl->last)
					FAIL("%s header stamped after its shard's last stamp",
					     state_names[s]);
				prev = b->stamp;
				n[s]++;
				shard_bytes += b->psize;
			}
			if (shard_bytes != arc_ld(&sl->evictable))
				FAIL("%s shard %llu: %llu bytes listed, counter %llu",
				     state_names[s], (unsigned long long)i,
				     (unsigned long long)shard_bytes,
				     (unsigned long long)arc_ld(&sl->evictable));
			bytes[s] += shard_bytes;
			bool pending = arc_ld(&a->st[s].pending[i / 64]) & (1ULL << (i % 64));
			uint8_t q = a->stripes[i].queued[arc_list_idx(s)];
			if (q > ARC_SHARD_PENDING)
				FAIL("%s shard %llu: bad queued %u", state_names[s],
				     (unsigned long long)i, q);
			if (pending != (q == ARC_SHARD_PENDING))
				FAIL("%s shard %llu: pending bit %d but queued %u", state_names[s],
				     (unsigned long long)i, pending, q);
			struct arc_buf *t = list_last(&sl->head, struct arc_buf, link);
			if (q == ARC_SHARD_PENDING && t && a->st[s].pending_key[i] > t->stamp)
				FAIL("%s shard %llu: pending key above its LRU stamp",
				     state_names[s], (unsigned long long)i);
			if (q == ARC_SHARD_QUEUED)
				queued[s]++;
			else if (!list_empty(&sl->head) && !pending)
				FAIL("%s shard %llu has headers but is neither queued nor pending",
				     state_names[s], (unsigned long long)i);
		}
	}
	for (int s = ARC_STATE_MRU; s < ARC_NSTATES; s++) {
		struct arc_statelist *st = &a->st[s];
		unsigned l = arc_list_idx(s);
		/* Per-shard counters were checked, so their sum is right too. */
		if (n[s] != listed[s] || bytes[s] != evictable[s])
			FAIL("%s list: %llu headers, %llu bytes; expected %llu, %llu",
			     state_names[s], (unsigned long long)n[s], (unsigned long long)bytes[s],
			     (unsigned long long)listed[s], (unsigned long long)evictable[s]);
		/* The heap: exactly the queued stripes, each once, in heap order,
		 * each key a lower bound of its shard's stamps. */
		if (st->nheap != queued[s])
			FAIL("%s heap has %u stripes but %llu are queued", state_names[s],
			     st->nheap, (unsigned long long)queued[s]);
		uint64_t seen[ARC_NSTRIPES_MAX / 64] = {0};
		for (uint32_t j = 0; j < st->nheap; j++) {
			struct arc_heapent *e = &st->heap[j];
			if (e->stripe > a->stripe_mask ||
			    a->stripes[e->stripe].queued[l] != ARC_SHARD_QUEUED)
				FAIL("%s heap entry %u: stripe %u not queued", state_names[s], j,
				     e->stripe);
			if (j > 0 && st->heap[(j - 1) / 2].key > e->key)
				FAIL("%s heap out of order at %u", state_names[s], j);
			struct arc_sublist *sl = &a->stripes[e->stripe].lists[l];
			struct arc_buf *t = list_last(&sl->head, struct arc_buf, link);
			if (t && e->key > t->stamp)
				FAIL("%s heap key of stripe %u above its shard's LRU stamp",
				     state_names[s], e->stripe);
			if (seen[e->stripe / 64] & (1ULL << (e->stripe % 64)))
				FAIL("%s heap holds stripe %u twice", state_names[s], e->stripe);
			seen[e->stripe / 64] |= 1ULL << (e->stripe % 64);
		}
	}
	for (int s = 0; s < ARC_NSTATES; s++) {
		if (size[s] != arc_ld(&a->st[s].size) || lsize[s] != arc_ld(&a->st[s].lsize) ||
		    count[s] != arc_ld(&a->st[s].count))
			FAIL("%s size %llu/%llu/%llu but headers sum to %llu/%llu/%llu",
			     state_names[s], (unsigned long long)arc_ld(&a->st[s].size),
			     (unsigned long long)arc_ld(&a->st[s].lsize),
			     (unsigned long long)arc_ld(&a->st[s].count),
			     (unsigned long long)size[s], (unsigned long long)lsize[s],
			     (unsigned long long)count[s]);
	}

	uint64_t c = a->c, p = a->pfx >> ARC_P_FRAC;
	uint64_t t1 = size[ARC_STATE_MRU], t2 = size[ARC_STATE_MFU], anon = size[ARC_STATE_ANON];
	uint64_t b1 = size[ARC_STATE_MRU_GHOST], b2 = size[ARC_STATE_MFU_GHOST];
	uint64_t total = t1 + t2 + b1 + b2;
	if (c < a->c_min || c > a->c_max)
		FAIL("c %llu outside [%llu, %llu]", (unsigned long long)c,
		     (unsigned long long)a->c_min, (unsigned long long)a->c_max);
	if (a->pfx > c << ARC_P_FRAC)
		FAIL("p %llu > c %llu", (unsigned long long)p, (unsigned long long)c);
	if (b1 && t1 + b1 > c)
		FAIL("|MRU| + |MRU-ghost| = %llu > c = %llu with a non-empty MRU-ghost",
		     (unsigned long long)(t1 + b1), (unsigned long long)c);
	if ((b1 || b2) && total > 2 * c)
		FAIL("total %llu > 2c = %llu with non-empty ghosts", (unsigned long long)total,
		     (unsigned long long)(2 * c));
	if (strict) {
		if (t1 + t2 + anon > c)
			FAIL("|MRU| + |MFU| + anon = %llu > c = %llu",
			     (unsigned long long)(t1 + t2 + anon), (unsigned long long)c);
		if (t1 + b1 > c)
			FAIL("|MRU| + |MRU-ghost| = %llu > c = %llu", (unsigned long long)(t1 + b1),
			     (unsigned long long)c);
		if (total > 2 * c)
			FAIL("total %llu > 2c = %llu", (unsigned long long)total,
			     (unsigned long long)(2 * c));
	}
out:
	mutex_unlock(&a->evict_lock);
	return err;
}
