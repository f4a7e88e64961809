/*
 * Decoded-metadata cache: the block pointers of recently used indirect
 * blocks, decoded, so that finding a data block's pointer (every page a
 * read lends or fills) does not hold each indirect block in the ARC and
 * decode its pointer again. Random 4 KiB reads walked the tree twice per
 * page, at some 40 us a walk under TCG.
 *
 * How it works: COWFS_MCACHE_N entries per pool, each the 256 decoded
 * pointers of one indirect block, keyed by that block's own pointer
 * (first address, birth txg and checksum). Blocks are never changed in
 * place under the same pointer (a rewrite in the syncing txg keeps address
 * and birth but changes the checksum), so an entry never goes stale; the
 * cache is per pool, that is per open, as the ARC's keys are. Replacement
 * is least recently used. An indirect block with any pointer that does not
 * decode is not cached (the caller decodes its one slot and reports it).
 *
 * Contract: the pool's lock held (or the pool not yet shared, as in
 * cowfs_open); no sleeping beyond the ARC read of a miss.
 */
#include "cowfs_impl.h"
#include <errno.h>
#include <karst/kmem.h>
#include <string.h>

struct cowfs_mcache_ent {
	struct cowfs_bp key;  /* dva[0], birth, cksum compared */
	uint64_t used;	      /* LRU clock; 0: empty */
	struct cowfs_bp *bps; /* COWFS_IND_NBP decoded */
};

struct cowfs_mcache {
	uint64_t clock;
	struct cowfs_mcache_ent e[COWFS_MCACHE_N];
};

int cowfs_mcache_init(struct cowfs_pool *p)
{
	p->mcache = kzalloc(sizeof(*p->mcache));
	return p->mcache ? 0 : -ENOMEM;
}

void cowfs_mcache_fini(struct cowfs_pool *p)
{
	if (!p->mcache)
		return;
	for (int i = 0; i < COWFS_MCACHE_N; i++)
		kfree(p->mcache->e[i].bps);
	kfree(p->mcache);
	p->mcache = NULL;
}

static bool same_block(const struct cowfs_bp *a, const struct cowfs_bp *b)
{
	return a->dva[0] == b->dva[0] && a->birth == b->birth &&
	       cowfs_cksum_equal(&a->cksum, &b->cksum);
}

int cowfs_mcache_bp(struct cowfs_pool *p, const struct cowfs_bp *ind, size_t slot,
		    struct cowfs_bp *bp)
{
	struct cowfs_mcache *mc = p->mcache;
	KASSERT(slot < COWFS_IND_NBP && ind->lsize == COWFS_IND_SIZE);
	struct cowfs_mcache_ent *victim = &mc->e[0];
	for (int i = 0; i < COWFS_MCACHE_N; i++) {
		struct cowfs_mcache_ent *e = &mc->e[i];
		if (e->used && same_block(&e->key, ind)) {
			e->used = ++mc->clock;
			p->st.mcache_hits++;
			*bp = e->bps[slot];
			return 0;
		}
		if (e->used < victim->used)
			victim = e;
	}
	p->st.mcache_misses++;
	struct cowfs_blk b;
	int err = cowfs_bio_read(p, ind, &b);
	if (err)
		return err;
	if (b.size != COWFS_IND_SIZE) {
		cowfs_blk_release(p, &b);
		return -EIO;
	}
	if (!victim->bps)
		victim->bps = kmalloc(COWFS_IND_NBP * sizeof(struct cowfs_bp));
	err = victim->bps ? 0 : -ENOMEM;
	const char *why;
	for (size_t i = 0; i < COWFS_IND_NBP && !err; i++)
		if (cowfs_bp_decode(b.data + i * COWFS_BP_SIZE, &victim->bps[i], &why))
			err = -EINVAL;
	if (err) {
		/* Not cached: the caller's own decode names what is wrong. */
		victim->used = 0;
		err = cowfs_bp_decode(b.data + slot * COWFS_BP_SIZE, bp, &why) ? -EINVAL : 0;
		if (err)
			printk("cowfs: bad block pointer in block at %llu: %s\n",
			       (unsigned long long)ind->dva[0], why);
		cowfs_blk_release(p, &b);
		return err ? -EIO : 0;
	}
	cowfs_blk_release(p, &b);
	victim->key = *ind;
	victim->used = ++mc->clock;
	*bp = victim->bps[slot];
	return 0;
}
