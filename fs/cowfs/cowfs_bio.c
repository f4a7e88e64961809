/*
 * Block I/O: reading blocks through the ARC with checksum verification and
 * ditto repair, and writing new blocks (compress, checksum, allocate,
 * gather adjacent writes into one device request).
 *
 * Reads. cowfs_bio_read() asks the ARC for the key (address of copy 0,
 * birth txg, pool guid, and the number of this open: a pool opened again
 * never trusts what an earlier open cached, since the device may have been
 * changed in between). On a miss the ARC calls read_fill(), which reads
 * copy 0 from the device and checks it against the block pointer's
 * checksum; when that fails (I/O error or mismatch) it tries copy 1, and a
 * good copy 1 is written back over copy 0 (repair; not on read-only pools).
 * Compressed blocks go into the ARC compressed (it decompresses while a
 * block is held). Bad bytes never reach the caller: with no good copy the
 * read is -EIO and the log names the block's address. Prefetches
 * (cowfs_prefetch.c) fill the same keys quietly; a reader that waited for
 * one that failed reads the block again itself.
 *
 * Writes happen only while a group is committed. Blocks are allocated in
 * ascending order most of the time, so adjacent writes are gathered into
 * one request of up to COWFS_WGATHER bytes; cowfs_bio_flush_writes() sends
 * what is pending (before every device flush).
 */
#include "cowfs_impl.h"
#include <errno.h>
#include <string.h>

#include "arc.h"

int cowfs_dev_write(struct cowfs_pool *p, uint64_t off, const void *buf, size_t len)
{
	int err = p->dev->ops->write(p->dev->ctx, off, buf, len);
	if (err) {
		p->st.io_errors++;
		printk("cowfs: write error %d at %llu (+%zu)\n", err, (unsigned long long)off, len);
	}
	return err;
}

struct fill_ctx {
	struct cowfs_pool *p;
	const struct cowfs_bp *bp;
	bool ran;   /* read_fill ran for this reader */
	bool quiet; /* a prefetch: copy 0 only; no counting, logging or repair */
};

static struct arc_key bio_key(const struct cowfs_pool *p, const struct cowfs_bp *bp)
{
	return (struct arc_key){.w = {bp->dva[0], bp->birth, p->guid, p->load_id}};
}

/* Read copy c of bp into dst and verify it; counted and logged unless
 * quiet (a prefetch, which runs without the pool lock). */
static int read_copy(struct cowfs_pool *p, const struct cowfs_bp *bp, int c, void *dst, bool quiet)
{
	if (!bp->dva[c])
		return -EIO;
	if (bp->dva[c] + bp->psize > p->dev->size)
		return -EIO;
	int err = p->dev->ops->read(p->dev->ctx, bp->dva[c], dst, bp->psize);
	if (quiet)
		return err || !cowfs_cksum_verify(dst, bp->psize, &bp->cksum) ? -EIO : 0;
	p->st.blocks_read++;
	if (err) {
		p->st.io_errors++;
		return -EIO;
	}
	if (!cowfs_cksum_verify(dst, bp->psize, &bp->cksum)) {
		p->st.cksum_errors++;
		printk("cowfs: checksum mismatch in block at %llu (copy %d, type %u, txg %llu)\n",
		       (unsigned long long)bp->dva[c], c, bp->type, (unsigned long long)bp->birth);
		return -EIO;
	}
	return 0;
}

static int read_fill(void *arg, const struct arc_key *key, void *dst, size_t lsize)
{
	struct fill_ctx *fc = arg;
	struct cowfs_pool *p = fc->p;
	const struct cowfs_bp *bp = fc->bp;
	fc->ran = true;
	int err = read_copy(p, bp, 0, dst, fc->quiet);
	if (fc->quiet && err)
		return -EIO;
	if (err && bp->dva[1]) {
		err = read_copy(p, bp, 1, dst, false);
		if (!err && !p->rdonly && !p->failed) {
			/* Rewrite the bad copy with the good bytes. */
			if (p->dev->ops->write(p->dev->ctx, bp->dva[0], dst, bp->psize) == 0) {
				p->st.repaired++;
				printk("cowfs: repaired block at %llu from its copy at %llu\n",
				       (unsigned long long)bp->dva[0],
				       (unsigned long long)bp->dva[1]);
			}
		}
	}
	if (err) {
		printk("cowfs: no good copy of block at %llu (txg %llu): EIO\n",
		       (unsigned long long)bp->dva[0], (unsigned long long)bp->birth);
		return -EIO;
	}
	if (bp->comp == COWFS_COMP_OFF)
		return 0;
	size_t n = cowfs_comp_payload_len(dst, bp->psize);
	if (!n) {
		if (!fc->quiet)
			printk("cowfs: bad compressed block at %llu\n",
			       (unsigned long long)bp->dva[0]);
		return -EIO;
	}
	memmove(dst, (uint8_t *)dst + 4, n);
	return (int)n;
}

int cowfs_bio_read(struct cowfs_pool *p, const struct cowfs_bp *bp, struct cowfs_blk *blk)
{
	memset(blk, 0, sizeof(*blk));
	if (cowfs_bp_is_hole(bp)) {
		blk->hole = true;
		return 0;
	}
	struct arc_key key = bio_key(p, bp);
	struct fill_ctx fc = {.p = p, .bp = bp};
	struct arc_buf *ab;
	int err = arc_read(p->arc, &key, bp->lsize, 0, read_fill, &fc, &ab);
	if (err && !fc.ran && p->pf)
		/* We waited for a prefetch's fill, which failed quietly: read
		 * for ourselves (the ditto copy, the repair, the log line). */
		err = arc_read(p->arc, &key, bp->lsize, 0, read_fill, &fc, &ab);
	if (err)
		return err == -EINVAL ? -EIO : err;
	blk->ab = ab;
	blk->data = arc_buf_data(ab);
	blk->size = (uint32_t)arc_buf_size(ab);
	return 0;
}

void cowfs_blk_release(struct cowfs_pool *p, struct cowfs_blk *blk)
{
	if (blk->ab)
		arc_buf_release(p->arc, blk->ab);
	blk->ab = NULL;
	blk->data = NULL;
}

int cowfs_bio_prefetch(struct cowfs_pool *p, const struct cowfs_bp *bp)
{
	struct arc_key key = bio_key(p, bp);
	struct fill_ctx fc = {.p = p, .bp = bp, .quiet = true};
	struct arc_buf *ab;
	int err = arc_read(p->arc, &key, bp->lsize, ARC_READ_PREFETCH, read_fill, &fc, &ab);
	if (!err)
		arc_buf_release(p->arc, ab);
	return err;
}

/*
 * Prefetch runs: blocks that lie back to back on the device (copy 0),
 * uncompressed, read with as few device requests as their buffers allow.
 * Each block is claimed in the ARC from inside the fill of the one before
 * it (ARC_READ_NOWAIT: a block that is cached or being read ends the run
 * there, so no fill ever waits for another), and the innermost fill, which
 * then holds every buffer of the run, reads them: one request for each
 * stretch of buffers that are adjacent in memory, which the allocator often
 * makes them (filled one after the other), so a 1 MiB run costs one device
 * request instead of eight, with no copy. Every block is verified against
 * its own checksum and each fill returns its own block's verdict, so a bad
 * block fails alone; as cowfs_bio_prefetch, quietly (the demand read redoes
 * a failed one). The fills nest COWFS_RUN_MAX deep: about 400 bytes of a
 * worker's stack per level (x86_64 release).
 */
struct run_ctx {
	struct cowfs_pool *p;
	const struct cowfs_bp *bp;
	unsigned n;   /* blocks in the run */
	unsigned got; /* blocks claimed: their buffers are in dst[] */
	unsigned ios; /* device requests made */
	void *dst[COWFS_RUN_MAX];
	int err[COWFS_RUN_MAX];
};

struct run_level {
	struct run_ctx *rc;
	unsigned i;
};

static void run_io(struct run_ctx *rc)
{
	struct cowfs_pool *p = rc->p;
	for (unsigned i = 0, j; i < rc->got; i = j) {
		uint8_t *start = rc->dst[i];
		size_t len = rc->bp[i].psize;
		for (j = i + 1; j < rc->got && (uint8_t *)rc->dst[j] == start + len; j++)
			len += rc->bp[j].psize;
		int err = -EIO;
		if (rc->bp[i].dva[0] + len <= p->dev->size) {
			err = p->dev->ops->read(p->dev->ctx, rc->bp[i].dva[0], start, len);
			rc->ios++;
		}
		for (unsigned k = i; k < j; k++)
			rc->err[k] = err || !cowfs_cksum_verify(rc->dst[k], rc->bp[k].psize,
								&rc->bp[k].cksum)
					 ? -EIO
					 : 0;
	}
}

static int run_fill(void *arg, const struct arc_key *key, void *dst, size_t lsize)
{
	struct run_level *lv = arg;
	struct run_ctx *rc = lv->rc;
	unsigned i = lv->i;
	(void)key;
	(void)lsize;
	rc->dst[i] = dst;
	rc->got = i + 1;
	if (i + 1 < rc->n) {
		struct run_level next = {rc, i + 1};
		struct arc_key k = bio_key(rc->p, &rc->bp[i + 1]);
		struct arc_buf *ab;
		if (arc_read(rc->p->arc, &k, rc->bp[i + 1].lsize,
			     ARC_READ_PREFETCH | ARC_READ_NOWAIT, run_fill, &next, &ab) == 0)
			arc_buf_release(rc->p->arc, ab);
	}
	/* Nothing claimed past this block: this is the innermost fill. */
	if (rc->got == i + 1)
		run_io(rc);
	return rc->err[i];
}

bool cowfs_bio_run_next(const struct cowfs_bp *a, const struct cowfs_bp *b)
{
	return a->comp == COWFS_COMP_OFF && b->comp == COWFS_COMP_OFF && a->psize == a->lsize &&
	       b->psize == b->lsize && a->dva[0] && b->dva[0] == a->dva[0] + a->psize;
}

int cowfs_bio_prefetch_run(struct cowfs_pool *p, const struct cowfs_bp *bp, unsigned n,
			   unsigned *ios)
{
	KASSERT(n >= 1 && n <= COWFS_RUN_MAX);
	if (n == 1 && (bp->comp != COWFS_COMP_OFF || bp->psize != bp->lsize)) {
		/* A compressed block: read_fill's quiet mode unwraps it. */
		(*ios)++;
		return cowfs_bio_prefetch(p, bp);
	}
	if (!bp->dva[0])
		return -EIO;
	for (unsigned i = 1; i < n; i++)
		KASSERT(cowfs_bio_run_next(&bp[i - 1], &bp[i]));
	struct run_ctx rc = {.p = p, .bp = bp, .n = n};
	struct run_level lv = {&rc, 0};
	struct arc_key key = bio_key(p, &bp[0]);
	struct arc_buf *ab;
	int err = arc_read(p->arc, &key, bp[0].lsize, ARC_READ_PREFETCH | ARC_READ_NOWAIT, run_fill,
			   &lv, &ab);
	if (!err)
		arc_buf_release(p->arc, ab);
	*ios += rc.ios;
	if (err == -EEXIST) /* the first is there: the rest may not be */
		return n > 1 ? cowfs_bio_prefetch_run(p, bp + 1, n - 1, ios) : 0;
	for (unsigned i = 1; i < rc.got && !err; i++)
		err = rc.err[i];
	/* The run stopped at a block that is there (or could not be
	 * claimed): go on after it. */
	if (rc.got && rc.got + 1 < n) {
		int e = cowfs_bio_prefetch_run(p, bp + rc.got + 1, n - rc.got - 1, ios);
		if (!err)
			err = e;
	}
	return err;
}

int cowfs_bio_read_raw(struct cowfs_pool *p, const struct cowfs_bp *bp, int copy, void *buf)
{
	return read_copy(p, bp, copy, buf, false);
}

int cowfs_bio_flush_writes(struct cowfs_pool *p)
{
	if (!p->wg_len)
		return 0;
	int err = cowfs_dev_write(p, p->wg_off, p->wg_buf, p->wg_len);
	p->wg_len = 0;
	return err;
}

static int queue_write(struct cowfs_pool *p, uint64_t off, const void *buf, size_t len)
{
	p->st.bytes_written += len;
	if (p->wg_len && off == p->wg_off + p->wg_len && p->wg_len + len <= COWFS_WGATHER) {
		memcpy(p->wg_buf + p->wg_len, buf, len);
		p->wg_len += len;
		return 0;
	}
	int err = cowfs_bio_flush_writes(p);
	if (err)
		return err;
	/* The gathering buffer is made on first use; without it (memory is
	 * short) every write goes to the device as it comes. */
	if (!p->wg_buf)
		p->wg_buf = kmalloc(COWFS_WGATHER);
	if (len > COWFS_WGATHER || !p->wg_buf)
		return cowfs_dev_write(p, off, buf, len);
	memcpy(p->wg_buf, buf, len);
	p->wg_off = off;
	p->wg_len = len;
	return 0;
}

static bool is_zero(const void *buf, size_t len)
{
	const uint8_t *b = buf;
	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

int cowfs_bio_write(struct cowfs_pool *p, const void *data, uint32_t lsize, uint8_t type,
		    uint8_t level, bool comp, int copies, const struct cowfs_bp *old,
		    struct cowfs_bp *bp)
{
	KASSERT(p->syncing);
	KASSERT(lsize % COWFS_SECTOR == 0 && lsize <= COWFS_MAX_RECORDSIZE);
	struct cowfs_bp nb = {0};
	const void *phys = data;
	uint32_t psize = lsize;
	if (comp && type == COWFS_BT_DATA && is_zero(data, lsize)) {
		/* A block of zeros is a hole. */
		if (old)
			cowfs_space_free_bp(p, old);
		*bp = nb;
		return 0;
	}
	/* The compression buffer too is made on first use; without it the
	 * block is stored as it is. */
	if (comp && !p->scratch)
		p->scratch = kmalloc(COWFS_MAX_RECORDSIZE);
	if (comp && p->scratch) {
		size_t c = cowfs_compress(data, lsize, p->scratch);
		if (c) {
			psize = (uint32_t)c;
			phys = p->scratch;
			nb.comp = COWFS_COMP_LZ4;
		}
	}
	nb.lsize = lsize;
	nb.psize = psize;
	nb.type = type;
	nb.level = level;
	nb.cksum_type = COWFS_CKSUM_XXH3_128;
	nb.birth = p->syncing;
	nb.fill = 1;
	nb.cksum = cowfs_cksum_compute(phys, psize);
	bool inplace = old && !cowfs_bp_is_hole(old) && old->birth == p->syncing &&
		       old->psize == psize && (old->dva[1] != 0) == (copies == 2);
	if (inplace) {
		nb.dva[0] = old->dva[0];
		nb.dva[1] = old->dva[1];
	} else {
		if (old)
			cowfs_space_free_bp(p, old);
		for (int c = 0; c < copies; c++) {
			int err = cowfs_space_alloc(p, psize, c, &nb.dva[c]);
			if (err) {
				for (int k = 0; k < c; k++)
					cowfs_space_mark(p, nb.dva[k], psize, false);
				return err;
			}
		}
	}
	for (int c = 0; c < copies; c++) {
		int err = queue_write(p, nb.dva[c], phys, psize);
		if (err)
			return err;
	}
	p->st.blocks_written++;
	*bp = nb;
	return 0;
}
