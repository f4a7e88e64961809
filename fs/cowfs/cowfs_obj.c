/*
 * Objects: the copy-on-write tree of blocks under a dnode, and the dirty
 * blocks ("dbufs") of the open transaction group.
 *
 * A block is named (object, level, block id). Its current contents are its
 * dbuf when it has one (it was changed in the open group), else what its
 * block pointer names on disk, read through the ARC. The block pointer of
 * block (L, b) is the dnode's root when L is the top level, else slot
 * b % 256 of its parent (L + 1, b / 256) as the parent's current contents
 * say. Changing data dirties only level-0 blocks; the commit
 * (cowfs_obj_sync) writes dirty blocks level by level, dirtying each parent
 * as it stores the child's new pointer in it, and frees the pointer it
 * replaces, so the new tree is built bottom-up beside the committed one.
 *
 * Record size: while a file has at most one block, that block is as large
 * as the file (rounded to 512 bytes) up to the record size; a file that
 * grows past one record has blocks of the record size.
 *
 * Everything here runs with the pool's mutex held.
 */
#include "arc.h"
#include "cowfs_impl.h"
#include <errno.h>
#include <pagecache.h>
#include <string.h>

/*
 * Hash heads, sized by the pool: one object bucket per 64 KiB and one dbuf
 * bucket per 16 KiB of pool, as powers of two between a floor and the
 * sizes a pool of 256 MiB or more gets (4096 and 16384: 320 KiB of heads).
 * A pool of a few MiB (the fuzzer's, the unit tests') would otherwise pay
 * for allocating and touching all of them on every open and every
 * uberblock candidate tried.
 */
#define OHASH_MIN 64
#define OHASH_MAX 4096
#define DHASH_MIN 256
#define DHASH_MAX 16384

static size_t hash_heads(uint64_t psize, unsigned shift, size_t min, size_t max)
{
	size_t n = min;
	while (n < max && ((uint64_t)n << shift) < psize)
		n <<= 1;
	return n;
}

static size_t ohash(const struct cowfs_pool *p, uint64_t num)
{
	return (size_t)((num * 0x9E3779B97F4A7C15ULL) >> 52) & (p->ohash_n - 1);
}

static size_t dhash(const struct cowfs_pool *p, uint64_t obj, uint8_t level, uint64_t blkid)
{
	uint64_t h = (obj * 0x9E3779B97F4A7C15ULL) ^ (blkid * 0xC2B2AE3D27D4EB4FULL) ^ level;
	return (size_t)(h >> 40) & (p->dhash_n - 1);
}

static void obj_init_lists(struct cowfs_obj *o)
{
	list_init(&o->hlink);
	list_init(&o->dirty_link);
	for (int l = 0; l < COWFS_MAX_LEVELS; l++)
		list_init(&o->dirty[l]);
}

int cowfs_objs_init(struct cowfs_pool *p)
{
	/* p->label.psize: 0 (the floor) until the label is read. */
	p->ohash_n = hash_heads(p->label.psize, 16, OHASH_MIN, OHASH_MAX);
	p->dhash_n = hash_heads(p->label.psize, 14, DHASH_MIN, DHASH_MAX);
	p->ohash = kcalloc(p->ohash_n, sizeof(*p->ohash));
	p->dhash = kcalloc(p->dhash_n, sizeof(*p->dhash));
	if (!p->ohash || !p->dhash)
		return -ENOMEM;
	for (size_t i = 0; i < p->ohash_n; i++)
		list_init(&p->ohash[i]);
	for (size_t i = 0; i < p->dhash_n; i++)
		list_init(&p->dhash[i]);
	list_init(&p->dirty_objs);
	obj_init_lists(&p->meta);
	p->meta.num = 0;
	return 0;
}

void cowfs_objs_fini(struct cowfs_pool *p)
{
	if (p->ohash) {
		for (size_t i = 0; i < p->ohash_n; i++) {
			list_for_each_safe(it, &p->ohash[i])
			{
				struct cowfs_obj *o = list_entry(it, struct cowfs_obj, hlink);
				cowfs_obj_drop_dirty(p, o);
				list_del(&o->hlink);
				kfree(o);
			}
		}
	}
	if (p->dhash)
		cowfs_obj_drop_dirty(p, &p->meta);
	kfree(p->ohash);
	kfree(p->dhash);
	p->ohash = p->dhash = NULL;
}

static bool is_meta_level(const struct cowfs_obj *o, uint8_t level)
{
	return level > 0 || (o->dn.type != COWFS_OT_FILE && o->dn.type != COWFS_OT_SYMLINK);
}

static uint8_t blk_type(const struct cowfs_obj *o, uint8_t level)
{
	if (level > 0)
		return COWFS_BT_IND;
	switch (o->dn.type) {
	case COWFS_OT_DIR:
		return COWFS_BT_DIR;
	case COWFS_OT_META:
		return COWFS_BT_DNODE;
	default:
		return COWFS_BT_DATA;
	}
}

static uint32_t blk_size(const struct cowfs_obj *o, uint8_t level)
{
	return level ? COWFS_IND_SIZE : o->dn.blksz;
}

/* Data blocks one block of `level` covers, as a shift. */
static unsigned span_shift(uint8_t level)
{
	return COWFS_IND_NBP_SHIFT * level;
}

static struct cowfs_dbuf *dbuf_find(struct cowfs_pool *p, const struct cowfs_obj *o, uint8_t level,
				    uint64_t blkid)
{
	list_for_each(it, &p->dhash[dhash(p, o->num, level, blkid)])
	{
		struct cowfs_dbuf *db = list_entry(it, struct cowfs_dbuf, hlink);
		if (db->obj == o->num && db->level == level && db->blkid == blkid)
			return db;
	}
	return NULL;
}

static void dbuf_free(struct cowfs_pool *p, struct cowfs_obj *o, struct cowfs_dbuf *db)
{
	list_del(&db->hlink);
	list_del(&db->dlink);
	o->ndirty--;
	p->dirty_bytes -= db->size;
	kfree(db->data);
	kfree(db);
}

void cowfs_obj_drop_dirty(struct cowfs_pool *p, struct cowfs_obj *o)
{
	for (int l = 0; l < COWFS_MAX_LEVELS; l++) {
		list_for_each_safe(it, &o->dirty[l])
		{
			dbuf_free(p, o, list_entry(it, struct cowfs_dbuf, dlink));
		}
	}
}

/* Is the l0 range of (level, blkid) entirely at or past block `first`? */
static bool beyond(uint8_t level, uint64_t blkid, uint64_t first)
{
	unsigned sh = span_shift(level);
	if (sh >= 64 || blkid > (UINT64_MAX >> sh))
		return true;
	return (blkid << sh) >= first;
}

int cowfs_blk_bp(struct cowfs_pool *p, struct cowfs_obj *o, uint8_t level, uint64_t blkid,
		 struct cowfs_bp *bp)
{
	uint8_t top = (uint8_t)(o->dn.nlevels - 1);
	memset(bp, 0, sizeof(*bp));
	if (level > top)
		return 0;
	if (level == top) {
		if (blkid == 0)
			*bp = o->dn.root;
		return 0;
	}
	if (blkid >> (span_shift(top - level)) != 0)
		return 0; /* past what the tree can hold: a hole */
	uint64_t pblk = blkid >> COWFS_IND_NBP_SHIFT;
	size_t slot = (size_t)(blkid & (COWFS_IND_NBP - 1));
	const char *why;
	int err;
	struct cowfs_dbuf *db = dbuf_find(p, o, level + 1, pblk);
	if (!db) {
		/* A committed parent: its pointers decoded once (cowfs_mcache.c). */
		struct cowfs_bp pbp;
		err = cowfs_blk_bp(p, o, level + 1, pblk, &pbp);
		if (err || cowfs_bp_is_hole(&pbp))
			return err;
		if (pbp.lsize != COWFS_IND_SIZE || pbp.level != level + 1 ||
		    pbp.type != blk_type(o, level + 1)) {
			printk("cowfs: object %llu: block %u/%llu at %llu has the wrong size or "
			       "type\n",
			       (unsigned long long)o->num, level + 1, (unsigned long long)pblk,
			       (unsigned long long)pbp.dva[0]);
			return -EIO;
		}
		return cowfs_mcache_bp(p, &pbp, slot, bp);
	}
	err = cowfs_bp_decode(db->data + slot * COWFS_BP_SIZE, bp, &why);
	if (err) {
		printk("cowfs: object %llu: bad block pointer: %s\n", (unsigned long long)o->num,
		       why);
		err = -EIO;
	}
	return err;
}

bool cowfs_blk_dirty(struct cowfs_pool *p, struct cowfs_obj *o, uint8_t level, uint64_t blkid)
{
	return dbuf_find(p, o, level, blkid) != NULL;
}

int cowfs_blk_hold(struct cowfs_pool *p, struct cowfs_obj *o, uint8_t level, uint64_t blkid,
		   struct cowfs_blk *blk)
{
	memset(blk, 0, sizeof(*blk));
	struct cowfs_dbuf *db = dbuf_find(p, o, level, blkid);
	if (db) {
		blk->data = db->data;
		blk->size = db->size;
		return 0;
	}
	struct cowfs_bp bp;
	int err = cowfs_blk_bp(p, o, level, blkid, &bp);
	if (err)
		return err;
	if (cowfs_bp_is_hole(&bp)) {
		blk->hole = true;
		blk->size = blk_size(o, level);
		return 0;
	}
	if (bp.lsize != blk_size(o, level) || bp.level != level || bp.type != blk_type(o, level)) {
		printk("cowfs: object %llu: block %u/%llu at %llu has the wrong size or type\n",
		       (unsigned long long)o->num, level, (unsigned long long)blkid,
		       (unsigned long long)bp.dva[0]);
		return -EIO;
	}
	return cowfs_bio_read(p, &bp, blk);
}

/* What committing one more dirty block of this kind will allocate. */
uint64_t cowfs_obj_dirty_cost(struct cowfs_pool *p, struct cowfs_obj *o, uint8_t level)
{
	uint64_t copies = is_meta_level(o, level) ? 2 : 1;
	/* Its parents: amortised over the 256 blocks an indirect block covers,
	 * plus one whole path for the first. */
	uint64_t ind = (uint64_t)(o->dn.nlevels - 1) * 2 * (COWFS_IND_SIZE / COWFS_IND_NBP + 512);
	return copies * blk_size(o, level) + ind + 2 * COWFS_DNODE_SIZE;
}

static void dirty_obj_link(struct cowfs_pool *p, struct cowfs_obj *o)
{
	if (o != &p->meta && !list_linked(&o->dirty_link))
		list_add_tail(&p->dirty_objs, &o->dirty_link);
}

void cowfs_obj_dirty(struct cowfs_pool *p, struct cowfs_obj *o)
{
	o->dn_dirty = true;
	dirty_obj_link(p, o);
}

/*
 * A dirty block's buffer (up to a record, 128 KiB by default: a run of
 * pages). Short of memory, and this may be a commit, which must not fail
 * for it: ask the page cache for clean pages and the ARC for blocks, more
 * each time, and try again. Only those two: the pool lock is held, and
 * the page cache's other rounds write back through this pool.
 */
static uint8_t *dbuf_data_alloc(struct cowfs_pool *p, uint32_t size)
{
	uint8_t *data = kmalloc(size);
	for (unsigned i = 0; !data && i < 10; i++) {
		pc_evict_clean((size_t)size << (i + 1));
		arc_sized_adjust(p->arc, (size_t)size << i);
		data = kmalloc(size);
	}
	return data;
}

int cowfs_dbuf_dirty(struct cowfs_pool *p, struct cowfs_obj *o, uint8_t level, uint64_t blkid,
		     struct cowfs_dbuf **out)
{
	struct cowfs_dbuf *db = dbuf_find(p, o, level, blkid);
	if (db) {
		*out = db;
		return 0;
	}
	if (!p->syncing) {
		/* The first block of an object also pays for the top of its tree. */
		uint64_t cost = cowfs_obj_dirty_cost(p, o, level);
		if (o->ndirty == 0)
			cost += (uint64_t)(o->dn.nlevels - 1) * 2 * COWFS_IND_SIZE;
		int err = cowfs_space_reserve(p, cost, true);
		if (err)
			return err;
	}
	uint32_t size = blk_size(o, level);
	db = kzalloc(sizeof(*db));
	uint8_t *data = dbuf_data_alloc(p, size);
	if (!db || !data) {
		kfree(db);
		kfree(data);
		return -ENOMEM;
	}
	struct cowfs_blk cur;
	int err = cowfs_blk_hold(p, o, level, blkid, &cur);
	if (err) {
		kfree(db);
		kfree(data);
		return err;
	}
	if (cur.hole)
		memset(data, 0, size);
	else
		memcpy(data, cur.data, size);
	cowfs_blk_release(p, &cur);
	db->obj = o->num;
	db->level = level;
	db->blkid = blkid;
	db->size = size;
	db->data = data;
	list_add_tail(&p->dhash[dhash(p, o->num, level, blkid)], &db->hlink);
	list_add_tail(&o->dirty[level], &db->dlink);
	o->ndirty++;
	p->dirty_bytes += size;
	dirty_obj_link(p, o);
	*out = db;
	return 0;
}

int cowfs_obj_grow_levels(struct cowfs_pool *p, struct cowfs_obj *o, uint64_t blkid)
{
	while (blkid >> span_shift(o->dn.nlevels - 1)) {
		if (o->dn.nlevels >= COWFS_MAX_LEVELS)
			return -EFBIG;
		/* A new top whose first slot is the old root. */
		struct cowfs_bp oldroot = o->dn.root;
		uint8_t newtop = o->dn.nlevels;
		o->dn.nlevels++;
		memset(&o->dn.root, 0, sizeof(o->dn.root));
		struct cowfs_dbuf *db;
		int err = cowfs_dbuf_dirty(p, o, newtop, 0, &db);
		if (err) {
			o->dn.nlevels--;
			o->dn.root = oldroot;
			return err;
		}
		cowfs_bp_encode(&oldroot, db->data);
		cowfs_obj_dirty(p, o);
	}
	return 0;
}

/* Change the size of the only data block (block 0) of an object. */
static int resize_block0(struct cowfs_pool *p, struct cowfs_obj *o, uint32_t newsz)
{
	struct cowfs_bp bp;
	struct cowfs_dbuf *db = dbuf_find(p, o, 0, 0);
	int err = 0;
	if (!db) {
		err = cowfs_blk_bp(p, o, 0, 0, &bp);
		if (err)
			return err;
		if (!cowfs_bp_is_hole(&bp))
			err = cowfs_dbuf_dirty(p, o, 0, 0, &db);
		if (err)
			return err;
	}
	if (db) {
		uint8_t *n = kmalloc(newsz);
		if (!n)
			return -ENOMEM;
		uint32_t keep = MIN(newsz, db->size);
		memcpy(n, db->data, keep);
		memset(n + keep, 0, newsz - keep);
		kfree(db->data);
		p->dirty_bytes += (uint64_t)newsz - db->size;
		db->data = n;
		db->size = newsz;
	}
	o->dn.blksz = newsz;
	cowfs_obj_dirty(p, o);
	return 0;
}

int64_t cowfs_obj_read(struct cowfs_pool *p, struct cowfs_obj *o, uint64_t off, void *buf,
		       size_t len)
{
	if (off >= o->dn.size)
		return 0;
	if (len > o->dn.size - off)
		len = (size_t)(o->dn.size - off);
	size_t done = 0;
	uint32_t bs = o->dn.blksz;
	while (done < len) {
		uint64_t pos = off + done;
		uint64_t blkid = pos / bs;
		uint32_t boff = (uint32_t)(pos % bs);
		size_t n = MIN((size_t)(bs - boff), len - done);
		struct cowfs_blk b;
		cowfs_prefetch_note(p, o, blkid);
		int err = cowfs_blk_hold(p, o, 0, blkid, &b);
		if (err)
			return done ? (int64_t)done : err;
		if (b.hole)
			memset((uint8_t *)buf + done, 0, n);
		else
			memcpy((uint8_t *)buf + done, b.data + boff, n);
		cowfs_blk_release(p, &b);
		done += n;
	}
	return (int64_t)done;
}

int64_t cowfs_obj_write(struct cowfs_pool *p, struct cowfs_obj *o, uint64_t off, const void *buf,
			size_t len)
{
	if (len == 0)
		return 0;
	uint64_t end = off + len;
	if (end < off || end > (1ULL << 50))
		return -EFBIG;
	uint32_t rs = p->rb.recordsize;
	int err;
	if (o->dn.maxblkid <= 1 && o->dn.blksz < rs && end > o->dn.blksz) {
		uint32_t nsz = end <= rs ? (uint32_t)ALIGN_UP_SECTOR(end) : rs;
		err = resize_block0(p, o, nsz);
		if (err)
			return err;
	}
	uint32_t bs = o->dn.blksz;
	size_t done = 0;
	while (done < len) {
		uint64_t pos = off + done;
		uint64_t blkid = pos / bs;
		uint32_t boff = (uint32_t)(pos % bs);
		size_t n = MIN((size_t)(bs - boff), len - done);
		err = cowfs_obj_grow_levels(p, o, blkid);
		struct cowfs_dbuf *db = NULL;
		if (!err)
			err = cowfs_dbuf_dirty(p, o, 0, blkid, &db);
		if (err)
			return done ? (int64_t)done : err;
		memcpy(db->data + boff, (const uint8_t *)buf + done, n);
		done += n;
		if (blkid + 1 > o->dn.maxblkid)
			o->dn.maxblkid = blkid + 1;
		if (pos + n > o->dn.size)
			o->dn.size = pos + n;
	}
	cowfs_obj_dirty(p, o);
	return (int64_t)done;
}

/*
 * Free the committed version of block (level, blkid), named by bp as its
 * parent's current contents say, and everything beneath it. Children are
 * found through the block's current contents (its dbuf, or disk).
 */
static void free_tree(struct cowfs_pool *p, struct cowfs_obj *o, uint8_t level, uint64_t blkid,
		      const struct cowfs_bp *bp)
{
	if (level > 0) {
		struct cowfs_dbuf *db = dbuf_find(p, o, level, blkid);
		struct cowfs_blk b = {0};
		const uint8_t *data = NULL;
		if (db) {
			data = db->data;
		} else if (!cowfs_bp_is_hole(bp)) {
			if (cowfs_bio_read(p, bp, &b) == 0)
				data = b.data;
			else
				printk("cowfs: object %llu: cannot read indirect block at %llu; "
				       "its blocks leak\n",
				       (unsigned long long)o->num, (unsigned long long)bp->dva[0]);
		}
		for (unsigned i = 0; data && i < COWFS_IND_NBP; i++) {
			struct cowfs_bp c;
			const char *why;
			if (cowfs_bp_decode(data + (size_t)i * COWFS_BP_SIZE, &c, &why) == 0)
				free_tree(p, o, level - 1, (blkid << COWFS_IND_NBP_SHIFT) + i, &c);
		}
		cowfs_blk_release(p, &b);
	}
	cowfs_space_free_bp(p, bp);
}

static void drop_beyond(struct cowfs_pool *p, struct cowfs_obj *o, uint64_t first)
{
	for (int l = 0; l < COWFS_MAX_LEVELS; l++) {
		list_for_each_safe(it, &o->dirty[l])
		{
			struct cowfs_dbuf *db = list_entry(it, struct cowfs_dbuf, dlink);
			if (beyond(db->level, db->blkid, first))
				dbuf_free(p, o, db);
		}
	}
}

int cowfs_obj_truncate(struct cowfs_pool *p, struct cowfs_obj *o, uint64_t size)
{
	if (size > (1ULL << 50))
		return -EFBIG;
	if (size >= o->dn.size) {
		o->dn.size = size;
		cowfs_obj_dirty(p, o);
		return 0;
	}
	uint32_t bs = o->dn.blksz;
	uint64_t first = DIV_ROUND_UP(size, bs); /* first block that goes */
	uint8_t top = (uint8_t)(o->dn.nlevels - 1);
	int err;
	if (first == 0) {
		free_tree(p, o, top, 0, &o->dn.root);
		drop_beyond(p, o, 0);
		memset(&o->dn.root, 0, sizeof(o->dn.root));
		o->dn.nlevels = 1;
		if (o->dn.type != COWFS_OT_DIR)
			o->dn.blksz = COWFS_SECTOR;
		o->dn.maxblkid = 0;
	} else if (((first - 1) >> span_shift(top)) == 0) {
		/* Along the path to the last kept block, free every slot past it. */
		for (int l = top; l >= 1; l--) {
			uint64_t b = (first - 1) >> span_shift((uint8_t)l);
			uint64_t keep = (first - 1) >> span_shift((uint8_t)(l - 1));
			struct cowfs_dbuf *db;
			err = cowfs_dbuf_dirty(p, o, (uint8_t)l, b, &db);
			if (err)
				return err;
			for (unsigned i = (unsigned)(keep & (COWFS_IND_NBP - 1)) + 1;
			     i < COWFS_IND_NBP; i++) {
				struct cowfs_bp c;
				const char *why;
				uint8_t *slot = db->data + (size_t)i * COWFS_BP_SIZE;
				if (cowfs_bp_decode(slot, &c, &why) != 0)
					return -EIO;
				uint64_t child = (b << COWFS_IND_NBP_SHIFT) + i;
				free_tree(p, o, (uint8_t)(l - 1), child, &c);
				memset(slot, 0, COWFS_BP_SIZE);
			}
		}
	}
	if (first) {
		drop_beyond(p, o, first);
		if (o->dn.maxblkid > first)
			o->dn.maxblkid = first;
		/* Zero the tail of the last kept block. */
		uint32_t tail = (uint32_t)(size % bs);
		if (tail) {
			struct cowfs_bp bp;
			err = cowfs_blk_bp(p, o, 0, first - 1, &bp);
			struct cowfs_dbuf *db = dbuf_find(p, o, 0, first - 1);
			if (!err && (db || !cowfs_bp_is_hole(&bp))) {
				err = cowfs_dbuf_dirty(p, o, 0, first - 1, &db);
				if (!err)
					memset(db->data + tail, 0, bs - tail);
			}
			if (err)
				return err;
		}
	}
	o->dn.size = size;
	cowfs_obj_dirty(p, o);
	return 0;
}

/* Sum of the fills of an indirect block's pointers. */
static uint64_t ind_fill(const uint8_t *data)
{
	uint64_t f = 0;
	for (unsigned i = 0; i < COWFS_IND_NBP; i++)
		f += cowfs_le64dec(data + (size_t)i * COWFS_BP_SIZE + 40);
	return f;
}

int cowfs_obj_sync(struct cowfs_pool *p, struct cowfs_obj *o, bool comp)
{
	uint8_t top = (uint8_t)(o->dn.nlevels - 1);
	for (uint8_t l = 0; l <= top; l++) {
		struct cowfs_dbuf *db;
		while ((db = list_first(&o->dirty[l], struct cowfs_dbuf, dlink)) != NULL) {
			struct cowfs_bp old, nb;
			uint8_t *slot = NULL;
			int err;
			if (l == top) {
				KASSERT(db->blkid == 0);
				old = o->dn.root;
			} else {
				struct cowfs_dbuf *pd;
				err = cowfs_dbuf_dirty(p, o, l + 1,
						       db->blkid >> COWFS_IND_NBP_SHIFT, &pd);
				if (err)
					return err;
				slot = pd->data +
				       (size_t)(db->blkid & (COWFS_IND_NBP - 1)) * COWFS_BP_SIZE;
				const char *why;
				if (cowfs_bp_decode(slot, &old, &why) != 0)
					return -EIO;
			}
			bool zero_ind = l > 0;
			for (uint32_t i = 0; i < db->size && zero_ind; i++)
				zero_ind = db->data[i] == 0;
			if (zero_ind) {
				cowfs_space_free_bp(p, &old);
				memset(&nb, 0, sizeof(nb));
			} else {
				err = cowfs_bio_write(p, db->data, db->size, blk_type(o, l), l,
						      comp, is_meta_level(o, l) ? 2 : 1, &old, &nb);
				if (err)
					return err;
				if (l > 0 && !cowfs_bp_is_hole(&nb))
					nb.fill = ind_fill(db->data);
			}
			if (slot)
				cowfs_bp_encode(&nb, slot);
			else
				o->dn.root = nb;
			dbuf_free(p, o, db);
		}
	}
	o->dn_dirty = true;
	return 0;
}

uint64_t cowfs_obj_blocks(struct cowfs_pool *p, struct cowfs_obj *o)
{
	uint64_t committed = o->dn.root.fill * (o->dn.blksz >> COWFS_SECTOR_SHIFT);
	uint64_t dirty = 0;
	list_for_each(it, &o->dirty[0]) dirty += list_entry(it, struct cowfs_dbuf, dlink)->size;
	return committed + (dirty >> COWFS_SECTOR_SHIFT);
}

/* ---- the object table ---- */

static struct cowfs_obj *obj_find(struct cowfs_pool *p, uint64_t num)
{
	list_for_each(it, &p->ohash[ohash(p, num)])
	{
		struct cowfs_obj *o = list_entry(it, struct cowfs_obj, hlink);
		if (o->num == num)
			return o;
	}
	return NULL;
}

static int dnode_read(struct cowfs_pool *p, uint64_t num, struct cowfs_dnode *dn)
{
	uint64_t blkid = num / COWFS_DNODES_PER_BLK;
	if (blkid >= p->meta.dn.maxblkid) {
		memset(dn, 0, sizeof(*dn));
		return 0;
	}
	struct cowfs_blk b;
	int err = cowfs_blk_hold(p, &p->meta, 0, blkid, &b);
	if (err)
		return err;
	if (b.hole) {
		memset(dn, 0, sizeof(*dn));
		return 0;
	}
	const char *why;
	err =
	    cowfs_dnode_decode(b.data + (num % COWFS_DNODES_PER_BLK) * COWFS_DNODE_SIZE, dn, &why);
	cowfs_blk_release(p, &b);
	if (err) {
		printk("cowfs: object %llu: bad dnode: %s\n", (unsigned long long)num, why);
		return -EIO;
	}
	if (dn->type == COWFS_OT_META) {
		printk("cowfs: object %llu: a dnode array inside the dnode array\n",
		       (unsigned long long)num);
		return -EIO;
	}
	return 0;
}

int cowfs_obj_get(struct cowfs_pool *p, uint64_t num, struct cowfs_obj **out)
{
	if (num == 0 || num >= COWFS_MAX_OBJECTS)
		return -ENOENT;
	struct cowfs_obj *o = obj_find(p, num);
	if (o) {
		if (o->dn.type == COWFS_OT_FREE)
			return -ENOENT;
		o->holds++;
		*out = o;
		return 0;
	}
	struct cowfs_dnode dn;
	int err = dnode_read(p, num, &dn);
	if (err)
		return err;
	if (dn.type == COWFS_OT_FREE)
		return -ENOENT;
	o = kzalloc(sizeof(*o));
	if (!o)
		return -ENOMEM;
	obj_init_lists(o);
	o->num = num;
	o->dn = dn;
	o->holds = 1;
	list_add(&p->ohash[ohash(p, num)], &o->hlink);
	*out = o;
	return 0;
}

/* Forget a clean, unheld object (it is on disk as it is). */
static void obj_evict(struct cowfs_pool *p, struct cowfs_obj *o)
{
	if (o->holds || o->dn_dirty || o->ndirty || list_linked(&o->dirty_link))
		return;
	list_del(&o->hlink);
	kfree(o);
}

void cowfs_obj_put(struct cowfs_pool *p, struct cowfs_obj *o)
{
	KASSERT(o->holds > 0);
	o->holds--;
	if (o->holds == 0 && o->orphan) {
		o->orphan = false;
		(void)cowfs_obj_free(p, o);
	}
	obj_evict(p, o);
}

/* After a commit: every object is clean; forget those nobody holds. */
void cowfs_objs_clean(struct cowfs_pool *p)
{
	for (size_t i = 0; i < p->ohash_n; i++) {
		list_for_each_safe(it, &p->ohash[i])
		{
			struct cowfs_obj *o = list_entry(it, struct cowfs_obj, hlink);
			if (o->dn.type == COWFS_OT_FREE && !o->dn_dirty && !o->holds) {
				list_del(&o->hlink);
				kfree(o);
			} else {
				obj_evict(p, o);
			}
		}
	}
}

int cowfs_obj_alloc(struct cowfs_pool *p, uint8_t type, uint32_t mode, struct cowfs_obj **out)
{
	uint64_t num = p->next_obj;
	if (num >= COWFS_MAX_OBJECTS)
		return -ENOSPC;
	int err = cowfs_space_reserve(p, 4 * COWFS_DNODE_SIZE, false);
	if (err)
		return err;
	struct cowfs_obj *o = obj_find(p, num);
	if (o) {
		/* A number is never reused while its old object is in the table. */
		return -EIO;
	}
	o = kzalloc(sizeof(*o));
	if (!o)
		return -ENOMEM;
	obj_init_lists(o);
	o->num = num;
	uint64_t now = cowfs_now(p);
	o->dn.type = type;
	o->dn.nlevels = 1;
	o->dn.blksz = type == COWFS_OT_DIR ? COWFS_DIR_BUCKET : COWFS_SECTOR;
	o->dn.mode = mode;
	o->dn.nlink = 1;
	o->dn.atime = o->dn.mtime = o->dn.ctime = now;
	o->dn.gen = p->txg + 1;
	o->holds = 1;
	list_add(&p->ohash[ohash(p, num)], &o->hlink);
	cowfs_obj_dirty(p, o);
	p->next_obj = num + 1;
	p->nobjects++;
	*out = o;
	return 0;
}

int cowfs_obj_free(struct cowfs_pool *p, struct cowfs_obj *o)
{
	free_tree(p, o, (uint8_t)(o->dn.nlevels - 1), 0, &o->dn.root);
	cowfs_obj_drop_dirty(p, o);
	memset(&o->dn, 0, sizeof(o->dn));
	cowfs_obj_dirty(p, o);
	p->nobjects--;
	return 0;
}
