/*
 * Pools: making one (mkfs), opening one (labels, the newest uberblock
 * whose root block verifies, the space map), closing one, and what the
 * tools ask about it.
 *
 * Opening tries the uberblocks of both label rings newest first; one whose
 * root block or space map does not read back is skipped with a message, so
 * a torn last commit falls back to the one before. Every refusal carries a
 * one-line reason for the caller to print. A writable open then heals the
 * labels (heal_labels).
 */
#include "cowfs_impl.h"
#include <errno.h>
#include <karst/format.h>
#include <karst/time.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>

#include "arc.h"

/* Every open gets its own ARC key space (see cowfs_bio_read). */
static _Atomic uint64_t cowfs_load_seq;

uint64_t cowfs_label_offset(uint64_t psize, int which)
{
	uint64_t end = psize & ~(uint64_t)(COWFS_SECTOR - 1);
	return which == 0 ? 0 : end - COWFS_LABEL_SIZE;
}

static void say(char *why, size_t whylen, const char *fmt, ...)
{
	if (!why || !whylen)
		return;
	va_list ap;
	va_start(ap, fmt);
	kfmt_vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static void pool_free(struct cowfs_pool *p)
{
	cowfs_objs_fini(p);
	cowfs_space_fini(p);
	cowfs_mcache_fini(p);
	if (p->own_arc && p->arc)
		arc_destroy(p->arc);
	kfree(p->wg_buf);
	kfree(p->scratch);
	mutex_destroy(&p->lock);
	kfree(p);
}

static int pool_alloc(struct cowfs_dev *dev, struct arc *arc, struct cowfs_pool **out)
{
	struct cowfs_pool *p = kzalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	mutex_init(&p->lock, "cowfs_pool");
	p->dev = dev;
	p->clock = time_ns;
	p->dirty_max = 32u << 20;
	/* wg_buf and scratch (1 MiB each) come with the first commit that
	 * needs them (cowfs_bio.c): a pool only read never pays for them. */
	int err = cowfs_mcache_init(p);
	if (!err)
		err = cowfs_objs_init(p);
	if (!err && arc) {
		p->arc = arc;
	} else if (!err) {
		struct arc_config cfg = {.name = "cowfs", .c_max = 16u << 20};
		err = arc_create(&cfg, &p->arc);
		p->own_arc = !err;
	}
	p->load_id = atomic_fetch_add(&cowfs_load_seq, 1) + 1;
	if (err) {
		pool_free(p);
		return err;
	}
	*out = p;
	return 0;
}

int cowfs_mkfs(struct cowfs_dev *dev, const struct cowfs_mkfs_opts *o, char *why, size_t whylen)
{
	uint64_t size = dev->size & ~(uint64_t)(COWFS_SECTOR - 1);
	uint32_t rs = o->recordsize ? o->recordsize : COWFS_DEFAULT_RECORDSIZE;
	if (size < COWFS_MIN_SIZE) {
		say(why, whylen, "device too small for cowfs (%llu bytes, at least %u)",
		    (unsigned long long)size, COWFS_MIN_SIZE);
		return -EINVAL;
	}
	if (size > COWFS_MAX_SIZE) {
		say(why, whylen, "device too large for cowfs (at most %llu bytes)",
		    (unsigned long long)COWFS_MAX_SIZE);
		return -EINVAL;
	}
	if (rs < COWFS_MIN_RECORDSIZE || rs > COWFS_MAX_RECORDSIZE || (rs & (rs - 1))) {
		say(why, whylen, "record size must be a power of two from 4K to 1M");
		return -EINVAL;
	}
	if (o->comp >= COWFS_COMP_NTYPES) {
		say(why, whylen, "unknown compression");
		return -EINVAL;
	}
	struct cowfs_pool *p;
	int err = pool_alloc(dev, NULL, &p);
	if (err) {
		say(why, whylen, "out of memory");
		return err;
	}
	p->fixed_time = o->time ? o->time : 0;
	uint64_t now = cowfs_now(p);
	p->label.version = COWFS_VERSION;
	p->label.psize = size;
	p->label.recordsize = rs;
	p->label.comp = o->comp;
	p->label.ctime = now;
	strncpy(p->label.name, o->name ? o->name : "cowfs", sizeof(p->label.name) - 1);
	p->label.pool_guid = o->guid;
	if (!p->label.pool_guid) {
		/* Reproducible when the time is fixed. */
		uint64_t seed[3] = {now, size, o->time ? 0 : time_ns()};
		p->label.pool_guid = cowfs_cksum_compute(seed, sizeof(seed)).lo | 1;
	}
	p->guid = p->label.pool_guid;
	p->rb.recordsize = rs;
	p->rb.comp = o->comp;
	p->meta.dn.type = COWFS_OT_META;
	p->meta.dn.nlevels = 1;
	p->meta.dn.blksz = COWFS_DNODE_BLKSIZE;
	p->next_obj = COWFS_ROOT_OBJ;
	err = cowfs_space_init(p, size);
	/* Wipe both label areas, then write the headers. */
	uint8_t *zero = err ? NULL : kzalloc(COWFS_LABEL_SIZE);
	if (!err && !zero)
		err = -ENOMEM;
	for (int l = 0; l < 2 && !err; l++) {
		p->label.index = (uint32_t)l;
		cowfs_label_encode(&p->label, zero);
		err = cowfs_dev_write(p, cowfs_label_offset(size, l), zero, COWFS_LABEL_SIZE);
		memset(zero, 0, COWFS_LABEL_HDRSIZE);
	}
	kfree(zero);
	struct cowfs_obj *root = NULL;
	if (!err)
		err = cowfs_obj_alloc(p, COWFS_OT_DIR, 040755, &root);
	if (!err) {
		KASSERT(root->num == COWFS_ROOT_OBJ);
		root->dn.nlink = 2;
		root->dn.parent = COWFS_ROOT_OBJ;
		err = cowfs_dir_init(p, root);
		cowfs_obj_put(p, root);
	}
	if (!err) {
		memset(p->chunk_dirty, 1, p->nchunks);
		err = cowfs_sync_locked(p);
	}
	if (err)
		say(why, whylen, "cannot write the new pool (%d)", err);
	pool_free(p);
	return err;
}

struct ubcand {
	struct cowfs_ub ub;
};

/* Read both label headers and rings; returns the number of candidate
 * uberblocks (newest first) of the pool named by the first good label. */
/* The uberblock rings are read in pieces of this many slots (32 KiB), not
 * whole (128 KiB): a smaller buffer to find when memory is short, and under
 * the host's ASan a buffer from its ordinary heap rather than a fresh
 * mapping for every open (which was much of a fuzzed open's time). */
#define UB_READ_SLOTS 32u
_Static_assert(COWFS_UB_SLOTS % UB_READ_SLOTS == 0, "ring read in whole pieces");

static int read_labels(struct cowfs_dev *dev, struct cowfs_label *lbl, struct ubcand *cand,
		       char *why, size_t whylen)
{
	uint8_t *hdr = kmalloc(COWFS_LABEL_HDRSIZE);
	uint8_t *ring = kmalloc(UB_READ_SLOTS * COWFS_UB_SLOT);
	int n = 0, err = 0, nlabels = 0;
	const char *w = "no cowfs label";
	struct cowfs_label l[2];
	bool ok[2] = {false, false};
	if (!hdr || !ring) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t off = cowfs_label_offset(dev->size, i);
		if (dev->ops->read(dev->ctx, off, hdr, COWFS_LABEL_HDRSIZE) != 0) {
			w = "cannot read the label";
			continue;
		}
		int e = cowfs_label_decode(hdr, &l[i], &w);
		if (e == 0 && l[i].index != (uint32_t)i) {
			w = "label in the wrong place";
			e = -EINVAL;
		}
		ok[i] = e == 0;
		nlabels += ok[i];
	}
	if (!nlabels) {
		say(why, whylen, "%s", w);
		err = -EINVAL;
		goto out;
	}
	*lbl = ok[0] ? l[0] : l[1];
	if (ok[0] && ok[1] && (l[0].pool_guid != l[1].pool_guid || l[0].psize != l[1].psize)) {
		say(why, whylen, "the two labels name different pools");
		err = -EINVAL;
		goto out;
	}
	if (lbl->psize > dev->size) {
		say(why, whylen, "device is smaller (%llu bytes) than the pool (%llu bytes)",
		    (unsigned long long)dev->size, (unsigned long long)lbl->psize);
		err = -EINVAL;
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t off = cowfs_label_offset(lbl->psize, i) + COWFS_UB_RING_OFF;
		for (unsigned s = 0; s < COWFS_UB_SLOTS; s++) {
			if (s % UB_READ_SLOTS == 0 &&
			    dev->ops->read(dev->ctx, off + (uint64_t)s * COWFS_UB_SLOT, ring,
					   UB_READ_SLOTS * COWFS_UB_SLOT) != 0) {
				s += UB_READ_SLOTS - 1;
				continue;
			}
			const uint8_t *slot = ring + (s % UB_READ_SLOTS) * COWFS_UB_SLOT;
			struct cowfs_ub ub;
			if (cowfs_ub_decode(slot, &ub, &w) != 0)
				continue;
			if (ub.pool_guid != lbl->pool_guid || ub.txg % COWFS_UB_SLOTS != s)
				continue;
			bool dup = false;
			for (int k = 0; k < n; k++)
				dup |= cand[k].ub.txg == ub.txg &&
				       cowfs_cksum_equal(&cand[k].ub.root.cksum, &ub.root.cksum);
			if (!dup)
				cand[n++].ub = ub;
		}
	}
	/* Newest first (insertion sort: at most 256). */
	for (int i = 1; i < n; i++) {
		struct ubcand c = cand[i];
		int j = i;
		while (j > 0 && cand[j - 1].ub.txg < c.ub.txg) {
			cand[j] = cand[j - 1];
			j--;
		}
		cand[j] = c;
	}
	if (!n) {
		say(why, whylen, "no valid uberblock");
		err = -EINVAL;
	}
out:
	kfree(hdr);
	kfree(ring);
	return err ? err : n;
}

int cowfs_list_uberblocks(struct cowfs_dev *dev,
			  void (*fn)(void *arg, int label, unsigned slot,
				     const struct cowfs_ub *ub),
			  void *arg)
{
	struct cowfs_label lbl;
	struct ubcand *cand = kcalloc(2 * COWFS_UB_SLOTS, sizeof(*cand));
	if (!cand)
		return -ENOMEM;
	char why[96];
	int n = read_labels(dev, &lbl, cand, why, sizeof(why));
	for (int i = 0; i < n; i++)
		fn(arg, -1, (unsigned)(cand[i].ub.txg % COWFS_UB_SLOTS), &cand[i].ub);
	kfree(cand);
	return n < 0 ? n : 0;
}

/* Take the committed group named by ub: root block, dnode array, map. */
static int load_ub(struct cowfs_pool *p, const struct cowfs_ub *ub, const char **w)
{
	struct cowfs_blk b;
	int err = cowfs_bio_read(p, &ub->root, &b);
	if (err) {
		*w = "cannot read the root block";
		return err;
	}
	err = cowfs_rootblk_decode(b.data, &p->rb, w);
	cowfs_blk_release(p, &b);
	if (err)
		return err;
	if (p->rb.txg != ub->txg) {
		*w = "root block of another txg";
		return -EINVAL;
	}
	p->txg = ub->txg;
	p->rootbp = ub->root;
	p->meta.dn = p->rb.meta;
	p->nobjects = p->rb.nobjects;
	p->next_obj = p->rb.next_obj;
	err = cowfs_space_load(p, w);
	if (err)
		return err;
	struct cowfs_obj *root;
	err = cowfs_obj_get(p, COWFS_ROOT_OBJ, &root);
	if (err) {
		*w = "no root directory";
		return err == -ENOENT ? -EINVAL : err;
	}
	bool isdir = root->dn.type == COWFS_OT_DIR;
	cowfs_obj_put(p, root);
	if (!isdir) {
		*w = "root object is not a directory";
		return -EINVAL;
	}
	return 0;
}

/*
 * Heal the labels after an open (not read-only): a label header or the
 * opened group's uberblock that does not read back right in one label is
 * rewritten from the other (or from the pool's own copy), so that a single
 * bad copy never stays the only good one. Counted in repaired; failures
 * to write are logged and otherwise ignored (the pool is open either way).
 */
static void heal_labels(struct cowfs_pool *p, const struct cowfs_ub *ub)
{
	uint8_t *buf = kmalloc(COWFS_LABEL_HDRSIZE + COWFS_UB_SLOT);
	if (!buf)
		return;
	uint8_t *slot = buf + COWFS_LABEL_HDRSIZE;
	unsigned healed = 0;
	for (int i = 0; i < 2; i++) {
		uint64_t off = cowfs_label_offset(p->label.psize, i);
		struct cowfs_label l;
		struct cowfs_ub u;
		const char *w;
		bool good = p->dev->ops->read(p->dev->ctx, off, buf, COWFS_LABEL_HDRSIZE) == 0 &&
			    cowfs_label_decode(buf, &l, &w) == 0 && l.index == (uint32_t)i &&
			    l.pool_guid == p->guid && l.psize == p->label.psize;
		if (!good) {
			struct cowfs_label nl = p->label;
			nl.index = (uint32_t)i;
			cowfs_label_encode(&nl, buf);
			if (cowfs_dev_write(p, off, buf, COWFS_LABEL_HDRSIZE) == 0) {
				healed++;
				printk("cowfs: %s: label %d rewritten\n", p->label.name, i);
			}
		}
		uint64_t uoff =
		    off + COWFS_UB_RING_OFF + (ub->txg % COWFS_UB_SLOTS) * COWFS_UB_SLOT;
		good = p->dev->ops->read(p->dev->ctx, uoff, slot, COWFS_UB_SLOT) == 0 &&
		       cowfs_ub_decode(slot, &u, &w) == 0 && u.txg == ub->txg &&
		       u.pool_guid == ub->pool_guid &&
		       cowfs_cksum_equal(&u.root.cksum, &ub->root.cksum);
		if (!good) {
			memset(slot, 0, COWFS_UB_SLOT);
			cowfs_ub_encode(ub, slot);
			if (cowfs_dev_write(p, uoff, slot, COWFS_UB_SLOT) == 0) {
				healed++;
				printk("cowfs: %s: uberblock of txg %llu rewritten in label %d\n",
				       p->label.name, (unsigned long long)ub->txg, i);
			}
		}
	}
	if (healed && p->dev->ops->flush(p->dev->ctx) == 0)
		p->st.repaired += healed;
	kfree(buf);
}

int cowfs_open(struct cowfs_dev *dev, const struct cowfs_open_opts *o, struct cowfs_pool **out,
	       char *why, size_t whylen)
{
	static const struct cowfs_open_opts defaults;
	if (!o)
		o = &defaults;
	if (dev->size < COWFS_MIN_SIZE) {
		say(why, whylen, "device too small to hold cowfs (%llu bytes)",
		    (unsigned long long)dev->size);
		return -EINVAL;
	}
	struct ubcand *cand = kcalloc(2 * COWFS_UB_SLOTS, sizeof(*cand));
	if (!cand)
		return -ENOMEM;
	struct cowfs_label lbl;
	int n = read_labels(dev, &lbl, cand, why, whylen);
	if (n < 0) {
		kfree(cand);
		return n;
	}
	struct cowfs_pool *p;
	int err = pool_alloc(dev, o->arc, &p);
	if (err) {
		kfree(cand);
		say(why, whylen, "out of memory");
		return err;
	}
	p->label = lbl;
	p->guid = lbl.pool_guid;
	p->rdonly = o->rdonly;
	p->fixed_time = o->fixed_time;
	if (o->clock)
		p->clock = o->clock;
	if (o->dirty_max)
		p->dirty_max = o->dirty_max;
	const char *w = "no valid uberblock";
	err = -EINVAL;
	for (int i = 0; i < n; i++) {
		/* A fresh start for every candidate. */
		cowfs_space_fini(p);
		cowfs_objs_fini(p);
		if (cowfs_objs_init(p) != 0 || cowfs_space_init(p, lbl.psize) != 0) {
			err = -ENOMEM;
			w = "out of memory";
			break;
		}
		err = load_ub(p, &cand[i].ub, &w);
		if (!err) {
			if (!p->rdonly)
				heal_labels(p, &cand[i].ub);
			break;
		}
		printk("cowfs: %s: txg %llu unusable (%s)%s\n", lbl.name,
		       (unsigned long long)cand[i].ub.txg, w,
		       i + 1 < n ? ", trying an older one" : "");
	}
	kfree(cand);
	if (err) {
		say(why, whylen, "%s", w);
		pool_free(p);
		return err;
	}
	*out = p;
	return 0;
}

int cowfs_close(struct cowfs_pool *p)
{
	mutex_lock(&p->lock);
	int err = cowfs_sync_locked(p);
	mutex_unlock(&p->lock);
	pool_free(p);
	return err;
}

int cowfs_sync(struct cowfs_pool *p)
{
	mutex_lock(&p->lock);
	int err = cowfs_sync_locked(p);
	mutex_unlock(&p->lock);
	return err;
}

void cowfs_pool_info(struct cowfs_pool *p, struct cowfs_pool_info *pi)
{
	mutex_lock(&p->lock);
	*pi = p->st;
	memcpy(pi->name, p->label.name, sizeof(pi->name));
	pi->guid = p->guid;
	pi->txg = p->txg;
	pi->size = p->label.psize;
	pi->data_bytes = (p->data_end - p->data_start) << COWFS_SECTOR_SHIFT;
	pi->alloc_bytes = p->rb.alloc_sectors << COWFS_SECTOR_SHIFT;
	pi->free_bytes = cowfs_space_avail(p, false);
	pi->dirty_bytes = p->dirty_bytes;
	pi->nobjects = p->nobjects;
	pi->recordsize = p->rb.recordsize;
	pi->comp = p->rb.comp;
	pi->rdonly = p->rdonly;
	pi->failed = p->failed;
	mutex_unlock(&p->lock);
}
