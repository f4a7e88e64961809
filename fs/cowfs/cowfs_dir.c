/*
 * Directories: a hashed table of 4 KiB buckets (FORMAT.md, Directories).
 *
 * A name's key is its 47-bit hash followed by a 16-bit collision counter;
 * the bucket of a key is its top `dirbits` bits, and a bucket holds its
 * entries sorted by key. So a lookup reads one bucket, a listing reads the
 * buckets in order and sees keys in increasing order, and the key of the
 * last entry returned is a readdir cookie that stays valid while the
 * directory changes. A bucket that has no room doubles the table: every
 * bucket i splits into buckets 2i and 2i+1 by the next bit of the keys
 * (done from the last bucket down, so no bucket is overwritten before it is
 * read). The space a doubling needs is reserved before it starts, so it
 * never stops half way.
 *
 * Runs with the pool's mutex held.
 */
#include "cowfs_impl.h"
#include <errno.h>
#include <string.h>

static uint64_t bucket_of(const struct cowfs_obj *d, uint64_t key)
{
	return d->dn.dirbits ? key >> (63 - d->dn.dirbits) : 0;
}

static int bucket_hold(struct cowfs_pool *p, struct cowfs_obj *d, uint64_t b, struct cowfs_blk *blk)
{
	int err = cowfs_blk_hold(p, d, 0, b, blk);
	if (err)
		return err;
	const char *why;
	if (blk->hole || (blk->ab && cowfs_dirbucket_check(blk->data, &why) != 0)) {
		printk("cowfs: directory %llu: bucket %llu is damaged\n",
		       (unsigned long long)d->num, (unsigned long long)b);
		cowfs_blk_release(p, blk);
		return -EIO;
	}
	return 0;
}

int cowfs_dir_init(struct cowfs_pool *p, struct cowfs_obj *d)
{
	struct cowfs_dbuf *db;
	d->dn.dirbits = 0;
	int err = cowfs_dbuf_dirty(p, d, 0, 0, &db);
	if (err)
		return err;
	cowfs_dirbucket_init(db->data);
	d->dn.maxblkid = 1;
	return 0;
}

int cowfs_dir_find(struct cowfs_pool *p, struct cowfs_obj *d, const char *name, size_t len,
		   struct cowfs_dirent *out)
{
	uint64_t h = cowfs_name_hash(name, len) << 16;
	struct cowfs_blk blk;
	int err = bucket_hold(p, d, bucket_of(d, h), &blk);
	if (err)
		return err;
	unsigned off = COWFS_DIR_HDR;
	struct cowfs_dirent de;
	err = -ENOENT;
	while (cowfs_dirbucket_next(blk.data, &off, &de)) {
		if (de.key < h)
			continue;
		if (de.key > (h | 0xffff))
			break;
		if (de.namelen == len && memcmp(de.name, name, len) == 0) {
			*out = de;
			out->name = NULL;
			err = 0;
			break;
		}
	}
	cowfs_blk_release(p, &blk);
	return err;
}

/* Double the number of buckets. */
static int dir_split(struct cowfs_pool *p, struct cowfs_obj *d)
{
	if (d->dn.dirbits >= COWFS_DIR_MAXBITS)
		return -ENOSPC;
	uint64_t n = 1ULL << d->dn.dirbits;
	uint64_t cost =
	    2 * n * cowfs_obj_dirty_cost(p, d, 0) + (uint64_t)COWFS_MAX_LEVELS * 2 * COWFS_IND_SIZE;
	if (cost > cowfs_space_avail(p, true))
		return -ENOSPC;
	uint8_t *old = kmalloc(COWFS_DIR_BUCKET);
	if (!old)
		return -ENOMEM;
	int err = cowfs_obj_grow_levels(p, d, 2 * n - 1);
	uint8_t newbits = (uint8_t)(d->dn.dirbits + 1);
	for (uint64_t i = n; i-- > 0 && !err;) {
		struct cowfs_blk blk;
		err = bucket_hold(p, d, i, &blk);
		if (err)
			break;
		memcpy(old, blk.data, COWFS_DIR_BUCKET);
		cowfs_blk_release(p, &blk);
		struct cowfs_dbuf *lo, *hi;
		err = cowfs_dbuf_dirty(p, d, 0, 2 * i + 1, &hi);
		if (!err)
			err = cowfs_dbuf_dirty(p, d, 0, 2 * i, &lo);
		if (err)
			break;
		cowfs_dirbucket_init(lo->data);
		cowfs_dirbucket_init(hi->data);
		unsigned off = COWFS_DIR_HDR;
		struct cowfs_dirent de;
		while (cowfs_dirbucket_next(old, &off, &de)) {
			uint8_t *dst = (de.key >> (63 - newbits)) & 1 ? hi->data : lo->data;
			err = cowfs_dirbucket_insert(dst, &de);
			KASSERT(err == 0);
		}
	}
	kfree(old);
	if (err) {
		printk("cowfs: directory %llu: split failed (%d)\n", (unsigned long long)d->num,
		       err);
		return err;
	}
	d->dn.dirbits = newbits;
	d->dn.maxblkid = 2 * n;
	cowfs_obj_dirty(p, d);
	return 0;
}

int cowfs_dir_add(struct cowfs_pool *p, struct cowfs_obj *d, const char *name, size_t len,
		  uint64_t obj, uint8_t type)
{
	uint64_t h = cowfs_name_hash(name, len) << 16;
	struct cowfs_blk blk;
	/* Pick the collision counter: the first free one for this hash. */
	int err = bucket_hold(p, d, bucket_of(d, h), &blk);
	if (err)
		return err;
	uint64_t key = h | (h == 0 ? COWFS_DIR_KEY_FIRST : 0);
	unsigned off = COWFS_DIR_HDR;
	struct cowfs_dirent de;
	while (cowfs_dirbucket_next(blk.data, &off, &de)) {
		if (de.key < key)
			continue;
		if (de.key > (h | 0xffff))
			break;
		if (de.namelen == len && memcmp(de.name, name, len) == 0) {
			cowfs_blk_release(p, &blk);
			return -EEXIST;
		}
		if (de.key == key)
			key++;
	}
	cowfs_blk_release(p, &blk);
	if (key > (h | 0xffff))
		return -ENOSPC; /* 65536 names with one 47-bit hash */
	struct cowfs_dirent ne = {
	    .key = key, .obj = obj, .type = type, .namelen = (uint8_t)len, .name = name};
	for (;;) {
		struct cowfs_dbuf *db;
		err = cowfs_dbuf_dirty(p, d, 0, bucket_of(d, key), &db);
		if (err)
			return err;
		err = cowfs_dirbucket_insert(db->data, &ne);
		if (err != -ENOSPC)
			break;
		err = dir_split(p, d);
		if (err)
			return err;
	}
	if (err)
		return err;
	d->dn.size++;
	cowfs_obj_dirty(p, d);
	return 0;
}

int cowfs_dir_remove(struct cowfs_pool *p, struct cowfs_obj *d, const char *name, size_t len)
{
	struct cowfs_dirent de;
	int err = cowfs_dir_find(p, d, name, len, &de);
	if (err)
		return err;
	struct cowfs_dbuf *db;
	err = cowfs_dbuf_dirty(p, d, 0, bucket_of(d, de.key), &db);
	if (err)
		return err;
	err = cowfs_dirbucket_remove(db->data, de.key);
	if (err)
		return -EIO;
	d->dn.size--;
	cowfs_obj_dirty(p, d);
	return 0;
}

int cowfs_dir_iter(struct cowfs_pool *p, struct cowfs_obj *d, uint64_t *cookie,
		   cowfs_filldir_t fill, void *ctx)
{
	if (*cookie < 1) {
		if (!fill(ctx, ".", 1, d->num, COWFS_OT_DIR, 1))
			return 0;
		*cookie = 1;
	}
	if (*cookie < 2) {
		uint64_t up = d->num == COWFS_ROOT_OBJ ? d->num : d->dn.parent;
		if (!fill(ctx, "..", 2, up, COWFS_OT_DIR, 2))
			return 0;
		*cookie = 2;
	}
	if (*cookie >= COWFS_DIR_KEY_END - 1)
		return 0;
	uint64_t nb = 1ULL << d->dn.dirbits;
	for (uint64_t b = bucket_of(d, *cookie + 1); b < nb; b++) {
		struct cowfs_blk blk;
		int err = bucket_hold(p, d, b, &blk);
		if (err)
			return err;
		unsigned off = COWFS_DIR_HDR;
		struct cowfs_dirent de;
		bool more = true;
		while (more && cowfs_dirbucket_next(blk.data, &off, &de)) {
			if (de.key <= *cookie)
				continue;
			more = fill(ctx, de.name, de.namelen, de.obj, de.type, de.key);
			if (more)
				*cookie = de.key;
		}
		cowfs_blk_release(p, &blk);
		if (!more)
			return 0;
	}
	*cookie = COWFS_DIR_KEY_END;
	return 0;
}
