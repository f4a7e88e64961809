/*
 * Statistics: a snapshot in struct arc_stats, and the arcstats table in the
 * layout of Linux's /proc/spl/kstat/zfs/arcstats, so what ZFS users read
 * there (and tools like arc_summary parse) reads the same here:
 *
 *   13 1 0x01 <rows> <rows * 40> <crtime> <snaptime>
 *   name                            type data
 *   hits                            4    1234
 *
 * Hit-path counters live in the hash stripes (written under the stripe lock,
 * no shared cache line) and are summed here; the rest are ARC-wide atomics.
 * Counters are read with relaxed loads, so a snapshot taken while the ARC
 * is busy is consistent per counter, not across counters.
 *
 * Locking: takes evict_lock (for c, p and no_grow) and walks the hash
 * chains under each stripe lock for the chain statistics. May sleep.
 */
#include "arc_impl.h"
#include <karst/printk.h>
#include <karst/time.h>
#include <string.h>

void arc_stats_get(struct arc *a, struct arc_stats *st)
{
	*st = (struct arc_stats){0};
	for (uint64_t i = 0; i <= a->stripe_mask; i++) {
		struct arc_stripe *s = &a->stripes[i];
		st->hits += arc_ld(&s->hits);
		st->iohits += arc_ld(&s->iohits);
		st->demand_data_hits += arc_ld(&s->demand_hits);
		st->prefetch_data_hits += arc_ld(&s->prefetch_hits);
		st->mru_hits += arc_ld(&s->mru_hits);
		st->mfu_hits += arc_ld(&s->mfu_hits);
		st->access_hits += arc_ld(&s->access_hits);
	}
	for (uint64_t i = 0; i <= a->stripe_mask; i++) {
		struct arc_stripe *s = &a->stripes[i];
		mutex_lock(&s->lock);
		for (uint64_t bk = i; bk <= a->bucket_mask; bk += a->stripe_mask + 1) {
			uint64_t len = 0;
			for (struct arc_buf *b = a->buckets[bk]; b; b = b->hnext)
				len++;
			if (len > 1)
				st->hash_chains++;
			st->hash_chain_max = MAX(st->hash_chain_max, len);
		}
		mutex_unlock(&s->lock);
	}
	st->misses = arc_ld(&a->misses);
	st->demand_data_misses = arc_ld(&a->demand_misses);
	st->prefetch_data_misses = arc_ld(&a->prefetch_misses);
	st->mru_ghost_hits = arc_ld(&a->mru_ghost_hits);
	st->mfu_ghost_hits = arc_ld(&a->mfu_ghost_hits);
	st->deleted = arc_ld(&a->deleted);
	st->evictions = arc_ld(&a->evictions);
	st->evicted_bytes = arc_ld(&a->evicted_bytes);
	st->mutex_miss = arc_ld(&a->mutex_miss);
	st->evict_skip = arc_ld(&a->evict_skip);
	st->evict_not_enough = arc_ld(&a->evict_not_enough);
	st->hash_elements = arc_ld(&a->hash_elements);
	st->hash_elements_max = arc_ld(&a->hash_elements_max);
	st->hash_collisions = arc_ld(&a->hash_collisions);
	st->anon_size = arc_ld(&a->st[ARC_STATE_ANON].size);
	st->mru_size = arc_ld(&a->st[ARC_STATE_MRU].size);
	st->mfu_size = arc_ld(&a->st[ARC_STATE_MFU].size);
	st->mru_ghost_size = arc_ld(&a->st[ARC_STATE_MRU_GHOST].size);
	st->mfu_ghost_size = arc_ld(&a->st[ARC_STATE_MFU_GHOST].size);
	st->mru_evictable_data = arc_list_evictable(a, ARC_STATE_MRU);
	st->mfu_evictable_data = arc_list_evictable(a, ARC_STATE_MFU);
	st->size = st->anon_size + st->mru_size + st->mfu_size;
	st->compressed_size = st->mru_size + st->mfu_size;
	st->uncompressed_size =
	    arc_ld(&a->st[ARC_STATE_MRU].lsize) + arc_ld(&a->st[ARC_STATE_MFU].lsize);
	st->overhead_size = arc_ld(&a->overhead_size);
	st->hdr_bytes = sizeof(struct arc_buf);
	st->hdr_size = st->hash_elements * st->hdr_bytes;
	st->memory_throttle_count = arc_ld(&a->memory_throttle_count);
	st->memory_direct_count = arc_ld(&a->memory_direct_count);
	st->memory_indirect_count = arc_ld(&a->memory_indirect_count);
	mutex_lock(&a->evict_lock);
	st->c = a->c;
	st->p = a->pfx >> ARC_P_FRAC;
	st->c_min = a->c_min;
	st->c_max = a->c_max;
	st->arc_no_grow = a->no_grow;
	mutex_unlock(&a->evict_lock);
}

#define KSTAT_DATA_UINT64 4

int arc_stats_format(struct arc *a, char *buf, size_t size)
{
	struct arc_stats st;
	arc_stats_get(a, &st);
	const struct {
		const char *name;
		uint64_t v;
	} rows[] = {
	    {"hits", st.hits},
	    {"iohits", st.iohits},
	    {"misses", st.misses},
	    {"demand_data_hits", st.demand_data_hits},
	    {"demand_data_misses", st.demand_data_misses},
	    {"prefetch_data_hits", st.prefetch_data_hits},
	    {"prefetch_data_misses", st.prefetch_data_misses},
	    {"mru_hits", st.mru_hits},
	    {"mru_ghost_hits", st.mru_ghost_hits},
	    {"mfu_hits", st.mfu_hits},
	    {"mfu_ghost_hits", st.mfu_ghost_hits},
	    {"access_hits", st.access_hits},
	    {"deleted", st.deleted},
	    {"evictions", st.evictions},
	    {"evicted_bytes", st.evicted_bytes},
	    {"mutex_miss", st.mutex_miss},
	    {"evict_skip", st.evict_skip},
	    {"evict_not_enough", st.evict_not_enough},
	    {"hash_elements", st.hash_elements},
	    {"hash_elements_max", st.hash_elements_max},
	    {"hash_collisions", st.hash_collisions},
	    {"hash_chains", st.hash_chains},
	    {"hash_chain_max", st.hash_chain_max},
	    {"p", st.p},
	    {"c", st.c},
	    {"c_min", st.c_min},
	    {"c_max", st.c_max},
	    {"size", st.size},
	    {"compressed_size", st.compressed_size},
	    {"uncompressed_size", st.uncompressed_size},
	    {"overhead_size", st.overhead_size},
	    {"hdr_size", st.hdr_size},
	    {"hdr_bytes", st.hdr_bytes},
	    {"data_size", st.compressed_size},
	    {"anon_size", st.anon_size},
	    {"mru_size", st.mru_size},
	    {"mru_evictable_data", st.mru_evictable_data},
	    {"mru_ghost_size", st.mru_ghost_size},
	    {"mfu_size", st.mfu_size},
	    {"mfu_evictable_data", st.mfu_evictable_data},
	    {"mfu_ghost_size", st.mfu_ghost_size},
	    {"memory_throttle_count", st.memory_throttle_count},
	    {"memory_direct_count", st.memory_direct_count},
	    {"memory_indirect_count", st.memory_indirect_count},
	    {"arc_no_grow", st.arc_no_grow},
	};
	/* Each line goes through a local buffer, so the total length is known
	 * even when buf is too small (or NULL with size 0). */
	char line[128];
	size_t len = 0;
	for (int i = -2; i < (int)ARRAY_SIZE(rows); i++) {
		int n;
		if (i == -2) /* ks_kid ks_type(named) ks_flags(virtual) ks_ndata ks_data_size
			      * ks_crtime ks_snaptime; a kstat_named_t is 40 bytes in the SPL */
			n = ksnprintf(line, sizeof(line), "%d %d 0x%02x %d %d %llu %llu\n", 13, 1,
				      0x01, (int)ARRAY_SIZE(rows), (int)(ARRAY_SIZE(rows) * 40),
				      0ULL, (unsigned long long)time_ns());
		else if (i == -1)
			n = ksnprintf(line, sizeof(line), "%-31s %-4s %s\n", "name", "type",
				      "data");
		else
			n = ksnprintf(line, sizeof(line), "%-31s %-4u %llu\n", rows[i].name,
				      KSTAT_DATA_UINT64, (unsigned long long)rows[i].v);
		if (n <= 0)
			continue;
		n = MIN(n, (int)sizeof(line) - 1);
		if (len < size)
			memcpy(buf + len, line, MIN((size_t)n, size - len));
		len += (size_t)n;
	}
	if (size)
		buf[MIN(len, size - 1)] = 0;
	return (int)len;
}
