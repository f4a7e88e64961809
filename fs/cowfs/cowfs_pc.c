/*
 * cowfs as a page-cache owner: file pages lent from ARC buffers (zero
 * copy), filled by copy where they cannot be, written back into the open
 * transaction group. The contract is in cowfs_pc.h; the page cache's in
 * pagecache/pagecache.h.
 *
 * The owner ops run with the page-cache object's lock held and take the
 * pool's mutex themselves (cowfs_read/cowfs_write, or directly here for
 * lend), never a VFS lock.
 */
#include "cowfs_pc.h"
#include "arc.h"
#include "cowfs_impl.h"

#include <errno.h>
#include <karst/arch.h>
#include <karst/param.h>
#include <string.h>
#include <vfs.h>

static struct {
	_Atomic uint64_t lends, unlends, fills, fill_tail, fill_nolend, fill_write;
	_Atomic uint64_t writebacks, writeback_errors, accessed, spans;
} cpc;

/* write() moves through a bounce buffer of at most this much */
#define COWFS_PC_CHUNK ((size_t)256 << 10)

#define CPC_ADD(f) atomic_fetch_add_explicit(&cpc.f, 1, memory_order_relaxed)
#define CPC_GET(f) atomic_load_explicit(&cpc.f, memory_order_relaxed)

void cowfs_pc_stats_get(struct cowfs_pc_stats *st)
{
	st->lends = CPC_GET(lends);
	st->unlends = CPC_GET(unlends);
	st->lent_now = st->lends - st->unlends;
	st->fills = CPC_GET(fills);
	st->fill_tail = CPC_GET(fill_tail);
	st->fill_nolend = CPC_GET(fill_nolend);
	st->fill_write = CPC_GET(fill_write);
	st->writebacks = CPC_GET(writebacks);
	st->writeback_errors = CPC_GET(writeback_errors);
	st->accessed = CPC_GET(accessed);
	st->spans = CPC_GET(spans);
}

/* Let go of the cursor's block: its hold and the shares not handed out. */
static void cursor_drop(struct cowfs_pcfile *f)
{
	if (!f->cur_ab)
		return;
	arc_buf_unshare_n(f->pool->arc, f->cur_ab, f->cur_reserve);
	arc_buf_release(f->pool->arc, f->cur_ab);
	f->cur_ab = NULL;
	f->cur_reserve = 0;
}

/*
 * Lend page `index` when it lies wholly inside an uncompressed committed
 * block of the file (see cowfs_pc.h). The ARC buffer is held for the
 * decision and shared for the lend; the hold moves to the cursor, the share
 * pins the buffer until unlend. The block's later pages (those inside the
 * file) are shared in the same lock round of the ARC and kept by the
 * cursor for lend_cursor (an ARC lock round per page cost a cold read
 * under TCG 2-3 us a page). Pool lock held inside.
 */
static int lend_locked(struct cowfs_pcfile *f, struct cowfs_obj *o, uint64_t index,
		       struct pc_lent *lent)
{
	struct cowfs_pool *p = f->pool;
	uint64_t off = index << PAGE_SHIFT;
	if (off + PAGE_SIZE > o->dn.size) {
		CPC_ADD(fill_tail);
		return PC_NO_LEND;
	}
	uint32_t bs = o->dn.blksz;
	uint64_t blkid = off / bs;
	uint32_t boff = (uint32_t)(off % bs);
	if ((bs & (PAGE_SIZE - 1)) || boff + PAGE_SIZE > bs) {
		CPC_ADD(fill_nolend);
		return PC_NO_LEND;
	}
	struct cowfs_bp bp;
	int err = cowfs_blk_bp(p, o, 0, blkid, &bp);
	if (err)
		return err;
	if (cowfs_bp_is_hole(&bp) || bp.comp != COWFS_COMP_OFF) {
		CPC_ADD(fill_nolend);
		return PC_NO_LEND;
	}
	struct cowfs_blk blk;
	cowfs_prefetch_note(p, o, blkid);
	err = cowfs_blk_hold(p, o, 0, blkid, &blk);
	if (err)
		return err;
	int r = PC_NO_LEND;
	/* The shares of this page and of the block's pages after it, taken
	 * at once: the cursor hands them out (cur_reserve). */
	uint64_t inblk = MIN((uint64_t)(bs - boff), o->dn.size - off);
	unsigned n = (unsigned)(inblk >> PAGE_SHIFT);
	/* No ARC buffer: a dirty block of the open group (or a hole). */
	if (blk.ab && !blk.hole && arc_buf_share_n(p->arc, blk.ab, n) == 0) {
		lent->pa = virt_to_phys(blk.data + boff);
		lent->cookie = blk.ab;
		lent->flags = 0; /* read-only, evictable */
		CPC_ADD(lends);
		r = 0;
		/* The hold moves to the cursor. */
		cursor_drop(f);
		f->cur_ab = blk.ab;
		f->cur_reserve = n - 1;
		f->cur_blkid = blkid;
		f->cur_bs = bs;
		f->cur_size = o->dn.size;
		blk.ab = NULL;
	} else {
		CPC_ADD(fill_nolend);
	}
	cowfs_blk_release(p, &blk);
	return r;
}

/* Lend from the cursor's block without the pool: 0, or PC_NO_LEND to take
 * the slow path (which decides for itself). */
static int lend_cursor(struct cowfs_pcfile *f, uint64_t gen, uint64_t index, struct pc_lent *lent)
{
	if (!f->cur_ab || f->cur_gen != gen)
		return PC_NO_LEND;
	uint64_t off = index << PAGE_SHIFT;
	if (off / f->cur_bs != f->cur_blkid || off + PAGE_SIZE > f->cur_size)
		return PC_NO_LEND;
	uint32_t boff = (uint32_t)(off % f->cur_bs);
	if (boff + PAGE_SIZE > f->cur_bs)
		return PC_NO_LEND;
	if (f->cur_reserve)
		f->cur_reserve--;
	else if (arc_buf_share(f->pool->arc, f->cur_ab))
		return PC_NO_LEND;
	lent->pa = virt_to_phys((const uint8_t *)arc_buf_data(f->cur_ab) + boff);
	lent->cookie = f->cur_ab;
	lent->flags = 0;
	CPC_ADD(lends);
	return 0;
}

static int cpc_lend(void *arg, uint64_t index, bool write, struct pc_lent *lent)
{
	struct cowfs_pcfile *f = arg;
	if (write) {
		/* ARC blocks are immutable: a page about to be written is the
		 * cache's own. */
		CPC_ADD(fill_write);
		return PC_NO_LEND;
	}
	struct cowfs_pool *p = f->pool;
	/* gen is read before the pool is looked at: a write that bumps it
	 * meanwhile makes this cursor stale for the next lend. */
	uint64_t gen = atomic_load(&f->gen);
	if (lend_cursor(f, gen, index, lent) == 0)
		return 0;
	mutex_lock(&p->lock);
	struct cowfs_obj *o;
	int r = cowfs_obj_get(p, f->obj, &o);
	if (!r) {
		r = lend_locked(f, o, index, lent);
		if (r == 0)
			f->cur_gen = gen;
		cowfs_obj_put(p, o);
	}
	mutex_unlock(&p->lock);
	return r;
}

static void cpc_unlend(void *arg, uint64_t index, const struct pc_lent *lent)
{
	struct cowfs_pcfile *f = arg;
	(void)index;
	arc_buf_unshare(f->pool->arc, lent->cookie);
	CPC_ADD(unlends);
}

static int cpc_fill(void *arg, uint64_t index, void *dst)
{
	struct cowfs_pcfile *f = arg;
	int64_t n = cowfs_read(f->pool, f->obj, index << PAGE_SHIFT, dst, PAGE_SIZE);
	if (n < 0)
		return (int)n;
	memset((uint8_t *)dst + n, 0, PAGE_SIZE - (size_t)n);
	CPC_ADD(fills);
	return 0;
}

static int cpc_writeback(void *arg, uint64_t index, const void *src, size_t len)
{
	struct cowfs_pcfile *f = arg;
	atomic_fetch_add(&f->gen, 1);
	int64_t n = cowfs_write(f->pool, f->obj, index << PAGE_SHIFT, src, len);
	CPC_ADD(writebacks);
	if (n == (int64_t)len)
		return 0;
	CPC_ADD(writeback_errors);
	return n < 0 ? (int)n : -EIO;
}

/* Scanner thread, a page-cache lock held: the ARC's stripe lock is a leaf.
 * Only a lent page has an ARC buffer to warm; a page of the cache's own
 * (filled: lz4, holes, the tail, written) has none (cookie NULL). */
static void cpc_accessed(void *arg, uint64_t index, const struct pc_lent *lent)
{
	struct cowfs_pcfile *f = arg;
	(void)index;
	if (!lent || !lent->cookie)
		return;
	struct arc_key key;
	arc_buf_hashkey(lent->cookie, &key);
	(void)arc_buf_accessed(f->pool->arc, &key);
	CPC_ADD(accessed);
}

/*
 * read() of a page the cache lacks: the ARC buffer of its block, held
 * (not shared: nothing maps it) from the page to the block's end, or a
 * hole's zeros. A block of the open group has no ARC buffer (its bytes
 * change with the next write): PC_NO_LEND, a page is made. The hold keeps
 * the ARC from evicting the buffer until read_release; ARC blocks are
 * immutable, compressed ones held as their decompressed bytes. Pool lock
 * inside.
 */
static char cpc_hole_cookie;

static int cpc_read_hold(void *arg, uint64_t off, struct pc_span *span)
{
	struct cowfs_pcfile *f = arg;
	struct cowfs_pool *p = f->pool;
	mutex_lock(&p->lock);
	struct cowfs_obj *o;
	int r = cowfs_obj_get(p, f->obj, &o);
	if (r) {
		mutex_unlock(&p->lock);
		return r;
	}
	uint32_t bs = o->dn.blksz;
	uint64_t blkid = off / bs, size = o->dn.size;
	uint32_t boff = (uint32_t)(off % bs);
	struct cowfs_blk blk;
	r = PC_NO_LEND;
	if (off < size) {
		cowfs_prefetch_note(p, o, blkid);
		r = cowfs_blk_hold(p, o, 0, blkid, &blk);
	}
	if (r == 0) {
		span->len = (size_t)MIN((uint64_t)(bs - boff), size - off);
		if (blk.hole) {
			span->data = NULL;
			span->cookie = &cpc_hole_cookie;
		} else if (blk.ab) {
			span->data = blk.data + boff;
			span->cookie = blk.ab;
			blk.ab = NULL; /* the hold moves to the span */
		} else {
			r = PC_NO_LEND; /* dirty in the open group */
		}
		cowfs_blk_release(p, &blk);
	}
	cowfs_obj_put(p, o);
	mutex_unlock(&p->lock);
	if (r == 0)
		CPC_ADD(spans);
	return r;
}

static void cpc_read_release(void *arg, const struct pc_span *span)
{
	struct cowfs_pcfile *f = arg;
	if (span->cookie != &cpc_hole_cookie)
		arc_buf_release(f->pool->arc, span->cookie);
}

static const struct pc_owner_ops cowfs_pc_ops = {
    .lend = cpc_lend,
    .unlend = cpc_unlend,
    .fill = cpc_fill,
    .writeback = cpc_writeback,
    .accessed = cpc_accessed,
    .read_hold = cpc_read_hold,
    .read_release = cpc_read_release,
};

struct pc_owner cowfs_pc_owner = {.name = "cowfs", .ops = &cowfs_pc_ops, .flags = 0};

int cowfs_pc_register(void)
{
	return pc_owner_register(&cowfs_pc_owner);
}

void cowfs_pcset_init(struct cowfs_pcset *set)
{
	mutex_init(&set->lock, "cowfs_pcset");
	list_init(&set->files);
}

int cowfs_pcset_flush(struct cowfs_pcset *set)
{
	int rc = 0;
	mutex_lock(&set->lock);
	list_for_each(it, &set->files)
	{
		struct cowfs_pcfile *f = list_entry(it, struct cowfs_pcfile, link);
		int err = pc_fsync(&f->pc);
		if (err && !rc)
			rc = err;
	}
	mutex_unlock(&set->lock);
	return rc;
}

int cowfs_pc_open(struct cowfs_pool *p, uint64_t obj, struct cowfs_pcset *set,
		  struct cowfs_pcfile **out)
{
	struct cowfs_attr a;
	int err = cowfs_getattr(p, obj, &a);
	if (err)
		return err;
	if (a.type != COWFS_OT_FILE)
		return -EINVAL;
	err = cowfs_pc_register();
	if (err)
		return err;
	struct cowfs_pcfile *f = kzalloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->pool = p;
	f->obj = obj;
	err = pc_object_init(&f->pc, &cowfs_pc_owner, f, a.size);
	if (err) {
		kfree(f);
		return err;
	}
	list_init(&f->link);
	f->set = set;
	if (set) {
		mutex_lock(&set->lock);
		list_add_tail(&set->files, &f->link);
		mutex_unlock(&set->lock);
	}
	*out = f;
	return 0;
}

int cowfs_pc_close(struct cowfs_pcfile *f)
{
	if (f->set) {
		mutex_lock(&f->set->lock);
		list_del(&f->link);
		mutex_unlock(&f->set->lock);
	}
	int err = pc_fsync(&f->pc);
	if (err)
		printk("cowfs: object %llu closed with pages that could not be written (%d)\n",
		       (unsigned long long)f->obj, err);
	pc_object_destroy(&f->pc);
	cursor_drop(f);
	kfree(f);
	return err;
}

int cowfs_pc_read(struct cowfs_pcfile *f, struct uio *uio)
{
	if (uio->uio_offset < 0)
		return -EINVAL;
	return pc_read(&f->pc, uio);
}

/*
 * write() is written through: the bytes go into the open transaction group
 * first (so ENOSPC and EFBIG are write()'s answer, as without a cache, and
 * the commit thread's 5 s bound holds), then into the cached pages, left
 * clean (PC_WRITE_CLEAN: the pool has them). A page lent from the ARC is
 * replaced by a copy of the cache's own (unmapped first when mapped).
 * Known window: a shared mapping's dirty page written back by msync
 * between the two steps puts the mapping's older bytes into the pool
 * while the page shows write()'s; both writers raced on the same bytes.
 */
int cowfs_pc_write(struct cowfs_pcfile *f, struct uio *uio, bool append)
{
	if (f->pool->rdonly)
		return -EROFS;
	if (append)
		uio->uio_offset = (int64_t)pc_size(&f->pc);
	if (uio->uio_offset < 0)
		return -EINVAL;
	uint64_t end = (uint64_t)uio->uio_offset + uio->uio_resid;
	if (end < (uint64_t)uio->uio_offset || end > (1ULL << 50))
		return -EFBIG;
	size_t cap = uio->uio_resid < COWFS_PC_CHUNK ? uio->uio_resid : COWFS_PC_CHUNK;
	if (cap == 0)
		return 0;
	/* Short of memory (no lock held here): reclaim and try again, and
	 * settle for a smaller bounce buffer, since a long run of free pages
	 * is what a fragmented memory lacks. */
	int tries = 0;
	uint8_t *buf;
	while (!(buf = kmalloc(cap)) && pc_nomem_retry(-ENOMEM, &tries))
		cap = cap > PAGE_SIZE ? cap / 2 : cap;
	struct vfs_iovec *iov = kmalloc(sizeof(*iov) * (size_t)uio->uio_iovcnt);
	if (!buf || !iov) {
		kfree(buf);
		kfree(iov);
		return -ENOMEM;
	}
	int err = 0;
	tries = 0;
	atomic_fetch_add(&f->gen, 1);
	while (uio->uio_resid && !err) {
		/* Copy from a scratch copy of the uio: the real one advances
		 * only by what the pool took. */
		struct uio tmp = *uio;
		memcpy(iov, uio->uio_iov, sizeof(*iov) * (size_t)uio->uio_iovcnt);
		tmp.uio_iov = iov;
		size_t n = uiomove(buf, uio->uio_resid < cap ? uio->uio_resid : cap, &tmp);
		uint64_t off = (uint64_t)uio->uio_offset;
		int64_t w = cowfs_write(f->pool, f->obj, off, buf, n);
		if (w == -ENOMEM && pc_nomem_retry(-ENOMEM, &tries))
			continue; /* nothing taken: the uio has not moved */
		if (w > 0) {
			tries = 0;
			struct uio cu;
			struct vfs_iovec civ;
			uio_init_buf(&cu, &civ, buf, (size_t)w, (int64_t)off, UIO_WRITE);
			err = pc_write_flags(&f->pc, &cu, PC_WRITE_CLEAN);
			uiomove(NULL, (size_t)w, uio);
		}
		if (!err && w < (int64_t)n)
			err = w < 0 ? (int)w : -ENOSPC;
	}
	/* Again at the end: a cursor taken while the pool was changing is
	 * not used for the pages this write touched. */
	atomic_fetch_add(&f->gen, 1);
	kfree(iov);
	kfree(buf);
	return err;
}

int cowfs_pc_truncate(struct cowfs_pcfile *f, uint64_t size)
{
	if (f->pool->rdonly)
		return -EROFS;
	if (size > (1ULL << 50))
		return -EFBIG;
	atomic_fetch_add(&f->gen, 1);
	int err = pc_truncate(&f->pc, size);
	if (err)
		return err;
	struct cowfs_setattr sa = {.mask = COWFS_SET_SIZE, .size = size};
	err = cowfs_setattr(f->pool, f->obj, &sa);
	atomic_fetch_add(&f->gen, 1);
	return err;
}

int cowfs_pc_fsync(struct cowfs_pcfile *f)
{
	int err = pc_fsync(&f->pc);
	int e2 = cowfs_sync(f->pool);
	return err ? err : e2;
}

uint64_t cowfs_pc_size(struct cowfs_pcfile *f)
{
	return pc_size(&f->pc);
}
