/*
 * Transaction groups: committing the open group as txg = last + 1.
 *
 *  1. every dirty object writes its dirty blocks bottom-up (new addresses,
 *     old ones freed) and its dnode goes into a dirty block of the dnode
 *     array;
 *  2. the dnode array itself is written the same way;
 *  3. the space map is settled (cowfs_space.c) and written, with the
 *     addresses of the new root block allocated in the same pass;
 *  4. the root block is written; pending writes go out; the device is
 *     flushed;
 *  5. the uberblock goes to slot txg % 128 of both labels; flush again.
 * Until step 5 completes nothing the last committed group references has
 * been touched, so a crash or an error anywhere leaves the pool at the last
 * committed group. An error marks the pool failed: it refuses changes until
 * it is opened again (the in-memory state no longer matches any group).
 *
 * Runs with the pool's mutex held; sleeps in device I/O.
 */
#include "cowfs_impl.h"
#include <errno.h>
#include <string.h>

static int write_dnode(struct cowfs_pool *p, struct cowfs_obj *o)
{
	struct cowfs_obj *m = &p->meta;
	uint64_t blkid = o->num / COWFS_DNODES_PER_BLK;
	int err = cowfs_obj_grow_levels(p, m, blkid);
	struct cowfs_dbuf *db;
	if (!err)
		err = cowfs_dbuf_dirty(p, m, 0, blkid, &db);
	if (err)
		return err;
	cowfs_dnode_encode(&o->dn, db->data + (o->num % COWFS_DNODES_PER_BLK) * COWFS_DNODE_SIZE);
	if (blkid + 1 > m->dn.maxblkid) {
		m->dn.maxblkid = blkid + 1;
		m->dn.size = m->dn.maxblkid * COWFS_DNODES_PER_BLK;
	}
	o->dn_dirty = false;
	return 0;
}

static int write_labels_ub(struct cowfs_pool *p, uint64_t txg, const struct cowfs_bp *rootbp)
{
	uint8_t *slot = kzalloc(COWFS_UB_SLOT);
	if (!slot)
		return -ENOMEM;
	struct cowfs_ub ub = {
	    .txg = txg, .time = cowfs_now(p), .pool_guid = p->guid, .root = *rootbp};
	cowfs_ub_encode(&ub, slot);
	int err = 0, ok = 0;
	for (int l = 0; l < 2; l++) {
		uint64_t off = cowfs_label_offset(p->label.psize, l) + COWFS_UB_RING_OFF +
			       (txg % COWFS_UB_SLOTS) * COWFS_UB_SLOT;
		int e = cowfs_dev_write(p, off, slot, COWFS_UB_SLOT);
		if (e)
			err = e;
		else
			ok++;
	}
	kfree(slot);
	/* One good uberblock commits the group; both failing does not. */
	return ok ? 0 : err;
}

int cowfs_sync_locked(struct cowfs_pool *p)
{
	if (p->rdonly)
		return 0;
	if (p->failed)
		return p->failed;
	if (list_empty(&p->dirty_objs) && p->meta.ndirty == 0 && p->txg != 0)
		return 0;
	uint64_t txg = p->txg + 1;
	bool comp = p->rb.comp == COWFS_COMP_LZ4;
	int err = 0;
	p->syncing = txg;

	struct cowfs_obj *o;
	while (!err && (o = list_first(&p->dirty_objs, struct cowfs_obj, dirty_link)) != NULL) {
		if (o->dn.type != COWFS_OT_FREE)
			err = cowfs_obj_sync(p, o, comp);
		if (!err)
			err = write_dnode(p, o);
		list_del(&o->dirty_link);
	}
	if (!err)
		err = cowfs_obj_sync(p, &p->meta, comp);

	struct cowfs_rootblk rb = p->rb;
	struct cowfs_bp rootbp = {0};
	if (!err) {
		uint64_t dva[2];
		err = cowfs_space_sync(p, &p->rootbp, dva);
		rootbp.dva[0] = dva[0];
		rootbp.dva[1] = dva[1];
		rootbp.psize = COWFS_ROOTBLK_SIZE;
		rootbp.birth = txg;
	}
	if (!err) {
		rb.txg = txg;
		rb.meta = p->meta.dn;
		rb.sm_nchunks = p->nchunks;
		rb.sm_index = p->smidx;
		rb.alloc_sectors = p->map_count;
		rb.nobjects = p->nobjects;
		rb.next_obj = p->next_obj;
		uint8_t *buf = kzalloc(COWFS_ROOTBLK_SIZE);
		if (!buf) {
			err = -ENOMEM;
		} else {
			cowfs_rootblk_encode(&rb, buf);
			struct cowfs_bp fresh = rootbp;
			err = cowfs_bio_write(p, buf, COWFS_ROOTBLK_SIZE, COWFS_BT_ROOT, 0, false,
					      2, &fresh, &rootbp);
			kfree(buf);
		}
	}
	if (!err)
		err = cowfs_bio_flush_writes(p);
	if (!err)
		err = p->dev->ops->flush(p->dev->ctx);
	if (!err)
		err = write_labels_ub(p, txg, &rootbp);
	if (!err)
		err = p->dev->ops->flush(p->dev->ctx);
	p->syncing = 0;
	if (err) {
		p->wg_len = 0;
		p->failed = err;
		p->st.io_errors++;
		printk("cowfs: %s: commit of txg %llu failed (%d); the pool stays at txg %llu\n",
		       p->label.name, (unsigned long long)txg, err, (unsigned long long)p->txg);
		return err;
	}
	p->txg = txg;
	p->rb = rb;
	p->rootbp = rootbp;
	p->st.commits++;
	cowfs_space_committed(p);
	cowfs_objs_clean(p);
	return 0;
}

int cowfs_maybe_sync(struct cowfs_pool *p)
{
	if (p->dirty_bytes >= p->dirty_max)
		return cowfs_sync_locked(p);
	return 0;
}
