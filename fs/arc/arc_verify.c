/*
 * The ARC's invariants, checked by walking everything: the hash table (each
 * header in the bucket of its key, in a valid state, with data exactly
 * when cached), the lists (each holds exactly the evictable headers of its
 * state, stamps decreasing from head to tail), the size of every state
 * against the sum of its headers, and the bounds of the paper (see
 * arc_verify() in arc.h).
 *
 * Locking: takes evict_lock only; the caller guarantees that nothing else
 * runs on this ARC (tests call it between operations). O(headers).
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

	for (int s = ARC_STATE_MRU; s < ARC_NSTATES; s++) {
		uint64_t n = 0, bytes = 0;
		for (unsigned i = 0; i < a->nsub; i++) {
			uint64_t prev = UINT64_MAX;
			list_for_each(it, &a->st[s].subs[i].head)
			{
				struct arc_buf *b = list_entry(it, struct arc_buf, link);
				if (b->state != s)
					FAIL("%s list holds a %s header", state_names[s],
					     b->state < ARC_NSTATES ? state_names[b->state] : "?");
				if (b->stamp >= prev)
					FAIL("%s list out of recency order", state_names[s]);
				prev = b->stamp;
				n++;
				bytes += b->psize;
			}
		}
		if (n != listed[s] || bytes != evictable[s] || bytes != arc_list_evictable(a, s))
			FAIL(
			    "%s list: %llu headers, %llu bytes; expected %llu, %llu (counter %llu)",
			    state_names[s], (unsigned long long)n, (unsigned long long)bytes,
			    (unsigned long long)listed[s], (unsigned long long)evictable[s],
			    (unsigned long long)arc_list_evictable(a, s));
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
