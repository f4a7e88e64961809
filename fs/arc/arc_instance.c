/*
 * Creating and destroying an ARC. The kernel makes one for cowfs; tests and
 * arcsim make as many as they like, each with its own table, lists and
 * statistics.
 *
 * Locking: arc_create() and arc_destroy() must not race with any other call
 * on the same ARC. Both may sleep.
 */
#include "arc_impl.h"
#include <errno.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <string.h>

size_t arc_hdr_bytes(void)
{
	return sizeof(struct arc_buf);
}

uint64_t arc_c_max_for_ram(uint64_t ram)
{
	uint64_t c = ram / 4;
	c = MAX(c, (uint64_t)1 << 20);
	c = MIN(c, ram / 2);
	return MIN(MAX(c, (uint64_t)1), ARC_C_LIMIT);
}

int arc_create(const struct arc_config *cfg, struct arc **out)
{
	if (!cfg || cfg->c_max == 0 || cfg->c_max > ARC_C_LIMIT)
		return -EINVAL;
	/* nsublists is ignored (lists are sharded per hash stripe) but still
	 * checked, so the same configurations are accepted and rejected. */
	unsigned nsub = cfg->nsublists ? cfg->nsublists : 16;
	if ((nsub & (nsub - 1)) || nsub > 256)
		return -EINVAL;
	uint64_t c_min = cfg->c_min ? cfg->c_min : cfg->c_max / 8;
	uint64_t c = cfg->c_init ? cfg->c_init : cfg->c_max;
	if (c_min > cfg->c_max || c < c_min || c > cfg->c_max)
		return -EINVAL;
	if (cfg->shrink_shift >= 64)
		return -EINVAL;

	struct arc *a = kzalloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	const char *name = cfg->name ? cfg->name : "arc";
	size_t n = strlen(name);
	n = MIN(n, sizeof(a->name) - 1);
	memcpy(a->name, name, n);
	a->name[n] = 0;
	mutex_init(&a->evict_lock, "arc_evict");
	a->c_max = cfg->c_max;
	a->c_min = c_min;
	a->c = c;
	a->pfx = 0; /* as in the paper (OpenZFS starts at c / 2) */
	a->shrink_shift = cfg->shrink_shift ? cfg->shrink_shift : 5;
	a->grow_retry_ns = cfg->grow_retry_ns ? cfg->grow_retry_ns : 5000000000ULL;
	a->compress = cfg->compress;

	int err = arc_hash_init(a, cfg->hash_log2);
	if (!err)
		err = arc_states_init(a);
	if (err) {
		arc_states_fini(a);
		arc_hash_fini(a);
		mutex_destroy(&a->evict_lock);
		kfree(a);
		return err;
	}
	*out = a;
	return 0;
}

void arc_destroy(struct arc *a)
{
	if (!a)
		return;
	arc_unregister_reclaim(a);
	for (uint64_t i = 0; i <= a->bucket_mask; i++) {
		struct arc_buf *b = a->buckets[i];
		while (b) {
			struct arc_buf *next = b->hnext;
			VERIFY_MSG(b->refs == 0 && b->shares == 0 && !(b->flags & ARC_BF_IO),
				   "arc_destroy: a buffer is still held, shared or being filled");
			arc_buf_free_data(a, b);
			kfree(b);
			b = next;
		}
	}
	arc_states_fini(a);
	arc_hash_fini(a);
	mutex_destroy(&a->evict_lock);
	kfree(a);
}
