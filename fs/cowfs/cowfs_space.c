/*
 * Space: the allocator, deferred frees, and the space map on disk.
 *
 * The map has one bit per 512-byte sector of the provider. In memory there
 * are two copies: `map` is what the next commit writes (set on allocation,
 * cleared on free), `busy` is what the allocator avoids: map plus every
 * block freed since the last commit, because the last committed group may
 * still reference it. busy becomes map again when a commit completes
 * (cowfs_space_committed). A block born in the group being committed and
 * freed in it is reused at once (it was never part of a committed tree).
 *
 * Ditto copies: copy 0 of a block comes from the lower half of the data
 * area and copy 1 from the upper half (each falls back to the other half
 * when its own is full), so the two copies of metadata are far apart.
 *
 * Writing the map is circular (writing a chunk allocates, which changes
 * chunks), so cowfs_space_sync() first gives every dirty chunk a fresh
 * pair of addresses, repeating until no chunk changes, and only then
 * writes the chunks, in place at those fresh addresses, from the final map.
 *
 * ENOSPC: writers reserve what the next commit will need (cowfs_obj.c adds
 * the cost of every block it dirties); the last slop of the data area is
 * kept for metadata-only operations (unlink, rmdir, truncate) and the
 * commit itself, so a full pool still commits and still frees.
 */
#include "cowfs_impl.h"
#include <errno.h>
#include <string.h>

static bool bit_get(const uint8_t *m, uint64_t s)
{
	return m[s >> 3] & (1u << (s & 7));
}

static void bit_put(uint8_t *m, uint64_t s, bool v)
{
	if (v)
		m[s >> 3] |= (uint8_t)(1u << (s & 7));
	else
		m[s >> 3] &= (uint8_t) ~(1u << (s & 7));
}

/* Set bits [lo, hi): the whole bytes at once. */
static void bits_set_range(uint8_t *m, uint64_t lo, uint64_t hi)
{
	for (; lo < hi && (lo & 7); lo++)
		bit_put(m, lo, true);
	for (; hi > lo && (hi & 7); hi--)
		bit_put(m, hi - 1, true);
	if (hi > lo)
		memset(m + (lo >> 3), 0xff, (size_t)((hi - lo) >> 3));
}

/* Set bits in [lo, hi), counted a word at a time (mount counts every
 * sector of the map: bit by bit that was milliseconds under TCG). */
static uint64_t bits_count(const uint8_t *m, uint64_t lo, uint64_t hi)
{
	uint64_t n = 0;
	for (; lo < hi && (lo & 63); lo++)
		n += bit_get(m, lo);
	for (; lo + 64 <= hi; lo += 64) {
		uint64_t w;
		memcpy(&w, m + (lo >> 3), sizeof(w));
		n += (uint64_t)__builtin_popcountll(w);
	}
	for (; lo < hi; lo++)
		n += bit_get(m, lo);
	return n;
}

bool cowfs_space_test(struct cowfs_pool *p, uint64_t sector)
{
	return sector < p->nsectors && bit_get(p->map, sector);
}

int cowfs_space_init(struct cowfs_pool *p, uint64_t psize)
{
	p->nsectors = psize >> COWFS_SECTOR_SHIFT;
	uint64_t lbl = COWFS_LABEL_SIZE >> COWFS_SECTOR_SHIFT;
	p->data_start = lbl;
	p->data_end = p->nsectors - lbl;
	p->data_mid = p->data_start + (p->data_end - p->data_start) / 2;
	p->nchunks = (uint32_t)DIV_ROUND_UP(p->nsectors, COWFS_SM_CHUNK_SECTORS);
	p->mapbytes = (size_t)p->nchunks * COWFS_SM_CHUNK;
	p->map = kzalloc(p->mapbytes);
	p->busy = kzalloc(p->mapbytes);
	p->chunk_bp = kcalloc(p->nchunks, sizeof(*p->chunk_bp));
	p->chunk_dirty = kzalloc(p->nchunks);
	if (!p->map || !p->busy || !p->chunk_bp || !p->chunk_dirty)
		return -ENOMEM;
	/* Labels and the tail past the provider are always allocated. */
	bits_set_range(p->map, 0, p->data_start);
	bits_set_range(p->map, p->data_end, (uint64_t)p->mapbytes * 8);
	memcpy(p->busy, p->map, p->mapbytes);
	p->map_count = p->busy_count = 0;
	p->rotor[0] = p->data_start;
	p->rotor[1] = p->data_mid;
	return 0;
}

void cowfs_space_fini(struct cowfs_pool *p)
{
	kfree(p->map);
	kfree(p->busy);
	kfree(p->chunk_bp);
	kfree(p->chunk_dirty);
	p->map = p->busy = NULL;
	p->chunk_bp = NULL;
	p->chunk_dirty = NULL;
}

/* Set or clear the map bits of [addr, addr + bytes); setting also sets
 * busy; clearing clears busy only for immediate frees. */
static void mark(struct cowfs_pool *p, uint64_t addr, uint64_t bytes, bool set, bool immediate)
{
	uint64_t s0 = addr >> COWFS_SECTOR_SHIFT, n = bytes >> COWFS_SECTOR_SHIFT;
	KASSERT(s0 >= p->data_start && s0 + n <= p->data_end);
	for (uint64_t s = s0; s < s0 + n; s++) {
		bool was = bit_get(p->map, s);
		KASSERT_MSG(was != set, "cowfs: sector %llu already %s", (unsigned long long)s,
			    set ? "allocated" : "free");
		if (was != set) {
			bit_put(p->map, s, set);
			p->map_count += set ? 1 : (uint64_t)-1;
			p->chunk_dirty[s / COWFS_SM_CHUNK_SECTORS] = 1;
		}
		if (set || immediate) {
			bool b = bit_get(p->busy, s);
			if (b != set) {
				bit_put(p->busy, s, set);
				p->busy_count += set ? 1 : (uint64_t)-1;
			}
		}
	}
}

void cowfs_space_mark(struct cowfs_pool *p, uint64_t addr, uint64_t bytes, bool set)
{
	mark(p, addr, bytes, set, true);
}

/* First run of n free sectors in [lo, hi), searching from `from`. */
static uint64_t find_run(struct cowfs_pool *p, uint64_t lo, uint64_t hi, uint64_t from, uint64_t n)
{
	if (from < lo || from >= hi)
		from = lo;
	for (int pass = 0; pass < 2; pass++) {
		uint64_t s = pass ? lo : from, end = pass ? MIN(from + n, hi) : hi;
		while (s + n <= end) {
			if ((s & 7) == 0 && p->busy[s >> 3] == 0xff) {
				s += 8;
				continue;
			}
			if (bit_get(p->busy, s)) {
				s++;
				continue;
			}
			uint64_t e = s;
			while (e < s + n && !bit_get(p->busy, e))
				e++;
			if (e == s + n)
				return s;
			s = e + 1;
		}
	}
	return UINT64_MAX;
}

int cowfs_space_alloc(struct cowfs_pool *p, uint64_t bytes, int copy, uint64_t *addr)
{
	uint64_t n = bytes >> COWFS_SECTOR_SHIFT;
	uint64_t lo[2] = {p->data_start, p->data_mid}, hi[2] = {p->data_mid, p->data_end};
	for (int i = 0; i < 2; i++) {
		int h = (copy + i) & 1;
		uint64_t s = find_run(p, lo[h], hi[h], p->rotor[h], n);
		if (s != UINT64_MAX) {
			p->rotor[h] = s + n;
			mark(p, s << COWFS_SECTOR_SHIFT, bytes, true, true);
			*addr = s << COWFS_SECTOR_SHIFT;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Whether [addr, addr + bytes) lies in the data area and is allocated:
 * what a free of a block named by metadata must find. */
static bool allocated(struct cowfs_pool *p, uint64_t addr, uint64_t bytes)
{
	uint64_t s0 = addr >> COWFS_SECTOR_SHIFT, n = bytes >> COWFS_SECTOR_SHIFT;
	if ((addr | bytes) & (COWFS_SECTOR - 1) || s0 < p->data_start || s0 > p->data_end ||
	    n > p->data_end - s0)
		return false;
	for (uint64_t s = s0; s < s0 + n; s++)
		if (!bit_get(p->map, s))
			return false;
	return true;
}

/* A block pointer read from disk can name space it does not own only if
 * the metadata holding it is damaged behind a good checksum (a bug, or an
 * image made to do it): such a free is refused, counted and logged, and
 * the space stays as it is (leaked rather than handed out twice). */
void cowfs_space_free_bp(struct cowfs_pool *p, const struct cowfs_bp *bp)
{
	if (cowfs_bp_is_hole(bp))
		return;
	bool immediate = p->syncing && bp->birth == p->syncing;
	for (int c = 0; c < 2; c++) {
		if (!bp->dva[c])
			continue;
		if (!allocated(p, bp->dva[c], bp->psize)) {
			if (p->st.space_errors++ < 8)
				printk("cowfs: %s: free of a block not allocated (%llu, %u bytes, "
				       "txg %llu): damaged metadata, left as is\n",
				       p->label.name, (unsigned long long)bp->dva[c], bp->psize,
				       (unsigned long long)bp->birth);
			continue;
		}
		mark(p, bp->dva[c], bp->psize, false, immediate);
	}
}

static uint64_t slop(struct cowfs_pool *p)
{
	uint64_t data = (p->data_end - p->data_start) << COWFS_SECTOR_SHIFT;
	return MAX(data / 32, 64u << 10);
}

/* What every commit may need beyond the dirty blocks: root block, space
 * map index and every chunk, twice. */
static uint64_t commit_overhead(struct cowfs_pool *p)
{
	return 2 * (COWFS_ROOTBLK_SIZE + ALIGN_UP_SECTOR(p->nchunks * COWFS_BP_SIZE) +
		    (uint64_t)p->nchunks * COWFS_SM_CHUNK);
}

uint64_t cowfs_space_avail(struct cowfs_pool *p, bool meta_op)
{
	uint64_t data = p->data_end - p->data_start;
	uint64_t used = p->busy_count;
	uint64_t free_b = (data > used ? data - used : 0) << COWFS_SECTOR_SHIFT;
	uint64_t keep = p->reserved + commit_overhead(p) + (meta_op ? 0 : slop(p));
	return free_b > keep ? free_b - keep : 0;
}

int cowfs_space_reserve(struct cowfs_pool *p, uint64_t bytes, bool meta_op)
{
	if (bytes > cowfs_space_avail(p, meta_op))
		return -ENOSPC;
	p->reserved += bytes;
	return 0;
}

/* Chunks whose first copies lie end to end are read in one device request
 * (each request costs some 150 us under TCG, and a commit writes its dirty
 * chunks next to each other); each chunk is still checked against its
 * checksum. A chunk that is compressed, not adjacent, or whose run does not
 * read or verify is read alone through the ARC path (copy 1, repair). */
#define SM_RUN_CHUNKS 64u

static bool chunk_plain(const struct cowfs_bp *bp)
{
	return bp->comp == COWFS_COMP_OFF && bp->psize == COWFS_SM_CHUNK;
}

static int load_chunks(struct cowfs_pool *p, const char **why)
{
	/* No longer than the space map: one chunk for a pool of 16 MiB. */
	uint32_t runmax = MIN(p->nchunks, SM_RUN_CHUNKS);
	uint8_t *run = kmalloc((size_t)runmax * COWFS_SM_CHUNK);
	int err = 0;
	for (uint32_t c = 0; c < p->nchunks && !err;) {
		const struct cowfs_bp *first = &p->chunk_bp[c];
		uint32_t n = 1;
		while (run && chunk_plain(first) && c + n < p->nchunks && n < runmax &&
		       chunk_plain(&p->chunk_bp[c + n]) &&
		       p->chunk_bp[c + n].dva[0] == first->dva[0] + (uint64_t)n * COWFS_SM_CHUNK)
			n++;
		uint64_t len = (uint64_t)n * COWFS_SM_CHUNK;
		bool got = run && chunk_plain(first) && first->dva[0] &&
			   first->dva[0] + len <= p->dev->size &&
			   p->dev->ops->read(p->dev->ctx, first->dva[0], run, len) == 0;
		for (uint32_t k = 0; k < n && !err; k++) {
			const struct cowfs_bp *bp = &p->chunk_bp[c + k];
			uint8_t *dst = p->map + (size_t)(c + k) * COWFS_SM_CHUNK;
			const uint8_t *src = run + (size_t)k * COWFS_SM_CHUNK;
			if (got && cowfs_cksum_verify(src, COWFS_SM_CHUNK, &bp->cksum)) {
				memcpy(dst, src, COWFS_SM_CHUNK);
				p->st.blocks_read++;
				continue;
			}
			struct cowfs_blk cb;
			err = cowfs_bio_read(p, bp, &cb);
			if (err) {
				*why = "cannot read a space map chunk";
				break;
			}
			memcpy(dst, cb.data, COWFS_SM_CHUNK);
			cowfs_blk_release(p, &cb);
		}
		c += n;
	}
	kfree(run);
	return err;
}

/* Read the space map of the committed root block into map and busy. */
int cowfs_space_load(struct cowfs_pool *p, const char **why)
{
	if (p->rb.sm_nchunks != p->nchunks) {
		*why = "space map does not cover the provider";
		return -EINVAL;
	}
	struct cowfs_blk idx;
	int err = cowfs_bio_read(p, &p->rb.sm_index, &idx);
	if (err) {
		*why = "cannot read the space map index";
		return err;
	}
	p->smidx = p->rb.sm_index;
	for (uint32_t c = 0; c < p->nchunks && !err; c++) {
		err = cowfs_bp_decode(idx.data + (size_t)c * COWFS_BP_SIZE, &p->chunk_bp[c], why);
		if (!err &&
		    (cowfs_bp_is_hole(&p->chunk_bp[c]) || p->chunk_bp[c].type != COWFS_BT_SMAP ||
		     p->chunk_bp[c].lsize != COWFS_SM_CHUNK)) {
			*why = "space map chunk pointer is wrong";
			err = -EINVAL;
		}
	}
	if (!err)
		err = load_chunks(p, why);
	cowfs_blk_release(p, &idx);
	if (err)
		return err;
	uint64_t nbits = (uint64_t)p->mapbytes * 8;
	if (bits_count(p->map, 0, p->data_start) != p->data_start ||
	    bits_count(p->map, p->data_end, nbits) != nbits - p->data_end) {
		*why = "space map frees a label sector";
		return -EINVAL;
	}
	uint64_t count = bits_count(p->map, p->data_start, p->data_end);
	if (count != p->rb.alloc_sectors) {
		*why = "space map count disagrees with the root block";
		return -EINVAL;
	}
	p->map_count = p->busy_count = count;
	memcpy(p->busy, p->map, p->mapbytes);
	return 0;
}

/*
 * The space-map part of a commit: allocate the root block's addresses
 * (rootdva; the old root is freed), the index and every dirty
 * chunk, to a fixed point; then write chunks and index.
 */
int cowfs_space_sync(struct cowfs_pool *p, const struct cowfs_bp *oldroot, uint64_t rootdva[2])
{
	int err;
	cowfs_space_free_bp(p, oldroot);
	for (int c = 0; c < 2; c++) {
		err = cowfs_space_alloc(p, COWFS_ROOTBLK_SIZE, c, &rootdva[c]);
		if (err)
			return err;
	}
	uint32_t idxsize = (uint32_t)ALIGN_UP_SECTOR(p->nchunks * COWFS_BP_SIZE);
	struct cowfs_bp oldidx = p->smidx;
	cowfs_space_free_bp(p, &oldidx);
	uint64_t idxdva[2];
	for (int c = 0; c < 2; c++) {
		err = cowfs_space_alloc(p, idxsize, c, &idxdva[c]);
		if (err)
			return err;
	}
	/* Fresh addresses for every dirty chunk, until nothing changes. */
	bool changed = true;
	while (changed) {
		changed = false;
		for (uint32_t c = 0; c < p->nchunks; c++) {
			struct cowfs_bp *bp = &p->chunk_bp[c];
			if (!p->chunk_dirty[c] || bp->birth == p->syncing)
				continue;
			struct cowfs_bp old = *bp;
			cowfs_space_free_bp(p, &old);
			for (int k = 0; k < 2; k++) {
				err = cowfs_space_alloc(p, COWFS_SM_CHUNK, k, &bp->dva[k]);
				if (err)
					return err;
			}
			bp->birth = p->syncing;
			bp->psize = COWFS_SM_CHUNK;
			changed = true;
		}
	}
	/* Now the map is final: write the chunks in place and the index. */
	uint8_t *idx = kzalloc(idxsize);
	if (!idx)
		return -ENOMEM;
	for (uint32_t c = 0; c < p->nchunks && !err; c++) {
		struct cowfs_bp *bp = &p->chunk_bp[c];
		if (bp->birth == p->syncing) {
			struct cowfs_bp nb;
			err = cowfs_bio_write(p, p->map + (size_t)c * COWFS_SM_CHUNK,
					      COWFS_SM_CHUNK, COWFS_BT_SMAP, 0, false, 2, bp, &nb);
			*bp = nb;
		}
		cowfs_bp_encode(bp, idx + (size_t)c * COWFS_BP_SIZE);
	}
	if (!err) {
		struct cowfs_bp fresh = {
		    .dva = {idxdva[0], idxdva[1]}, .psize = idxsize, .birth = p->syncing};
		err = cowfs_bio_write(p, idx, idxsize, COWFS_BT_SMIDX, 0, false, 2, &fresh,
				      &p->smidx);
	}
	kfree(idx);
	return err;
}

void cowfs_space_committed(struct cowfs_pool *p)
{
	memcpy(p->busy, p->map, p->mapbytes);
	p->busy_count = p->map_count;
	memset(p->chunk_dirty, 0, p->nchunks);
	p->reserved = 0;
}
