/*
 * The key table: a power-of-two array of bucket heads, each a singly linked
 * chain of headers through hnext. Buckets are grouped into stripes (bucket
 * index modulo the number of stripes), and one stripe mutex guards the
 * chains of its buckets and the headers on them, so lookups of different
 * keys rarely meet on a lock and the table itself never needs a global one.
 *
 * The 256-bit key is hashed to 64 bits with XXH3_64bits (Debian's
 * libxxhash, header-only, scalar code: no vector registers in the
 * kernel); bucket, stripe and list shard use different bits of the
 * result.
 *
 * Locking: every function but init/fini needs the stripe lock of the hash;
 * none sleeps.
 */
#include "arc_impl.h"
#include <errno.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <string.h>

/* xxhash's C11 static assertions would pull in <assert.h>; the kernel
 * may not use vector registers, and 32 bytes never reach the vector loop. */
#define XXH_STATIC_ASSERT(c) _Static_assert((c), #c)
#define XXH_VECTOR	     0 /* XXH_SCALAR */
#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t arc_key_hash(const struct arc_key *k)
{
	/* The words in native byte order: the table is never stored. */
	return XXH3_64bits(k->w, sizeof(k->w));
}

static inline bool key_eq(const struct arc_key *x, const struct arc_key *y)
{
	return x->w[0] == y->w[0] && x->w[1] == y->w[1] && x->w[2] == y->w[2] && x->w[3] == y->w[3];
}

struct arc_buf *arc_hash_find(struct arc *a, uint64_t h, const struct arc_key *k)
{
	for (struct arc_buf *b = a->buckets[h & a->bucket_mask]; b; b = b->hnext)
		if (key_eq(&b->key, k))
			return b;
	return NULL;
}

void arc_hash_insert(struct arc *a, uint64_t h, struct arc_buf *b)
{
	struct arc_buf **head = &a->buckets[h & a->bucket_mask];
	if (*head)
		arc_add(&a->hash_collisions, 1);
	b->hnext = *head;
	*head = b;
	uint64_t n = __atomic_add_fetch(&a->hash_elements, 1, __ATOMIC_RELAXED);
	uint64_t max = arc_ld(&a->hash_elements_max);
	while (n > max && !__atomic_compare_exchange_n(&a->hash_elements_max, &max, n, true,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void arc_hash_remove(struct arc *a, uint64_t h, struct arc_buf *b)
{
	struct arc_buf **pp = &a->buckets[h & a->bucket_mask];
	while (*pp != b) {
		KASSERT_MSG(*pp, "arc: header not in its hash chain");
		pp = &(*pp)->hnext;
	}
	*pp = b->hnext;
	b->hnext = NULL;
	arc_sub(&a->hash_elements, 1);
}

int arc_hash_init(struct arc *a, unsigned log2)
{
	if (log2 == 0) {
		/* About one bucket per 4 KiB of c_max (ghosts double the headers,
		 * larger blocks halve them), at least 1024. */
		uint64_t want = a->c_max / 4096;
		log2 = 10;
		while (log2 < 30 && (1ULL << log2) < want)
			log2++;
	}
	if (log2 > 30)
		return -EINVAL;
	uint64_t nb = 1ULL << log2;
	a->buckets = kcalloc(nb, sizeof(*a->buckets));
	if (!a->buckets)
		return -ENOMEM;
	a->bucket_mask = nb - 1;
	uint64_t ns = MIN(nb, (uint64_t)ARC_NSTRIPES_MAX);
	/* kmalloc aligns to 16; the stripe array wants cache-line alignment. */
	a->stripes = kmalloc_aligned(ns * sizeof(*a->stripes), 64);
	if (!a->stripes) {
		kfree(a->buckets);
		a->buckets = NULL;
		return -ENOMEM;
	}
	memset(a->stripes, 0, ns * sizeof(*a->stripes));
	a->stripe_mask = ns - 1;
	for (uint64_t i = 0; i < ns; i++) {
		mutex_init(&a->stripes[i].lock, "arc_stripe");
		cv_init(&a->stripes[i].cv);
	}
	return 0;
}

void arc_hash_fini(struct arc *a)
{
	if (a->stripes) {
		for (uint64_t i = 0; i <= a->stripe_mask; i++) {
			mutex_destroy(&a->stripes[i].lock);
			cv_destroy(&a->stripes[i].cv);
		}
		kfree(a->stripes);
	}
	kfree(a->buckets);
	a->stripes = NULL;
	a->buckets = NULL;
}
