/*
 * virtio-blk: a GEOM DISK provider (vtbd0, vtbd1, ...) for each virtio
 * block device.
 *
 * GEOM's g_down thread calls vblk_strategy() for each bio: it builds a
 * request (header, data, status byte), adds it to the queue and kicks the
 * device, without sleeping; when the ring is full the bio waits on a
 * pending list. The queue's interrupt collects completed requests, maps
 * the status to an errno, restarts pending bios and delivers the finished
 * ones to GEOM (g_up). Many requests are in flight at once: as many as the
 * ring holds (indirect descriptors make each one take a single slot).
 *
 * A device that stops completing requests (VBLK_TIMEOUT_NS with nothing
 * back, despite the transport's watchdog) is reset and taken for gone:
 * its requests fail with EIO and its provider is orphaned (vblk_timeout).
 *
 * Locking: vb->lock (a spinlock) guards the virtqueue, the pending list
 * and the dead flag; bios are delivered after it is dropped.
 */
#include "g_disk.h"
#include "virtio_pci.h"
#include <errno.h>
#include <karst/kmem.h>
#include <karst/pci.h>
#include <karst/printk.h>
#include <karst/sync.h>
#include <string.h>
#include <virtio.h>

#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9
#define VIRTIO_BLK_F_DISCARD  13

#define VIRTIO_BLK_T_IN	     0
#define VIRTIO_BLK_T_OUT     1
#define VIRTIO_BLK_T_FLUSH   4
#define VIRTIO_BLK_T_DISCARD 11

#define VIRTIO_BLK_S_OK	    0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

/* Configuration space offsets. */
#define CFG_CAPACITY 0
#define CFG_BLK_SIZE 20

#define VBLK_TIMEOUT_NS (30ULL * 1000 * 1000 * 1000) /* as Linux's block layer */

struct vblk {
	struct vpci *v;
	struct virtq *vq;
	struct g_provider *pp;
	bool dead; /* stopped answering: reset, every request fails */
	struct spinlock lock;
	struct list_node pending; /* bios waiting for ring space (bio.queue) */
	uint64_t sectors;	  /* 512-byte sectors */
	uint32_t blk_size;
	bool flush, discard;
	char name[16];
};

/* One request; the device reads hdr (and seg), writes status. */
struct vblk_req {
	struct {
		uint32_t type, reserved;
		uint64_t sector;
	} hdr;
	struct {
		uint64_t sector;
		uint32_t num_sectors, flags;
	} seg;
	uint8_t status;
	struct bio *bp;
};

static int vblk_count;

/* Queue one bio; -ENOSPC when the ring is full. Called with vb->lock. */
static int vblk_submit(struct vblk *vb, struct bio *bp)
{
	struct vblk_req *r = kzalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->bp = bp;
	r->hdr.sector = bp->offset / 512;
	struct virtq_sg out[2], in[2];
	unsigned nout = 0, nin = 0;
	out[nout++] = (struct virtq_sg){&r->hdr, sizeof(r->hdr)};
	switch (bp->cmd) {
	case BIO_READ:
		r->hdr.type = VIRTIO_BLK_T_IN;
		in[nin++] = (struct virtq_sg){bp->data, (uint32_t)bp->length};
		break;
	case BIO_WRITE:
		r->hdr.type = VIRTIO_BLK_T_OUT;
		out[nout++] = (struct virtq_sg){bp->data, (uint32_t)bp->length};
		break;
	case BIO_FLUSH:
		r->hdr.type = VIRTIO_BLK_T_FLUSH;
		r->hdr.sector = 0;
		break;
	default: /* BIO_DELETE */
		r->hdr.type = VIRTIO_BLK_T_DISCARD;
		r->hdr.sector = 0;
		r->seg.sector = bp->offset / 512;
		r->seg.num_sectors = (uint32_t)(bp->length / 512);
		out[nout++] = (struct virtq_sg){&r->seg, sizeof(r->seg)};
		break;
	}
	in[nin++] = (struct virtq_sg){&r->status, 1};
	int e = virtq_add(vb->vq, out, nout, in, nin, r);
	if (e)
		kfree(r);
	return e;
}

static void vblk_strategy(void *drv, struct bio *bp)
{
	struct vblk *vb = drv;
	if ((bp->cmd == BIO_FLUSH && !vb->flush) || (bp->cmd == BIO_DELETE && !vb->discard)) {
		/* Without a write cache a flush has nothing to do. */
		bp->completed = 0;
		g_io_deliver(bp, bp->cmd == BIO_FLUSH ? 0 : -EOPNOTSUPP);
		return;
	}
	if (bp->length > UINT32_MAX || (bp->cmd == BIO_DELETE && bp->length / 512 > UINT32_MAX)) {
		g_io_deliver(bp, -EINVAL);
		return;
	}
	spin_lock(&vb->lock);
	if (vb->dead) {
		spin_unlock(&vb->lock);
		g_io_deliver(bp, -ENXIO);
		return;
	}
	int e = list_empty(&vb->pending) ? vblk_submit(vb, bp) : -ENOSPC;
	if (e == -ENOSPC)
		list_add_tail(&vb->pending, &bp->queue);
	else if (e == 0)
		vpci_kick(vb->v, 0);
	spin_unlock(&vb->lock);
	if (e && e != -ENOSPC)
		g_io_deliver(bp, e);
}

static void vblk_irq(void *arg)
{
	struct vblk *vb = arg;
	struct list_node done = LIST_HEAD_INIT(done);
	spin_lock(&vb->lock);
	if (vb->dead) { /* the reset queue holds nothing of ours */
		spin_unlock(&vb->lock);
		return;
	}
	do {
		struct vblk_req *r;
		uint32_t len;
		virtq_disable_cb(vb->vq); /* no interrupts while we drain */
		while ((r = virtq_get_used(vb->vq, &len)) != NULL) {
			struct bio *bp = r->bp;
			int err = r->status == VIRTIO_BLK_S_OK	     ? 0
				  : r->status == VIRTIO_BLK_S_UNSUPP ? -EOPNOTSUPP
								     : -EIO;
			bp->completed = err || bp->cmd == BIO_FLUSH ? 0 : bp->length;
			bp->driver1 = (void *)(intptr_t)err;
			kfree(r);
			list_add_tail(&done, &bp->queue);
		}
		/* Ring space came back: start what waited for it. */
		bool kicked = false;
		while (!list_empty(&vb->pending)) {
			struct bio *bp = list_entry(vb->pending.next, struct bio, queue);
			int e = vblk_submit(vb, bp);
			if (e == -ENOSPC)
				break;
			list_del(&bp->queue);
			if (e) {
				bp->driver1 = (void *)(intptr_t)e;
				list_add_tail(&done, &bp->queue);
			}
			kicked = true;
		}
		if (kicked)
			vpci_kick(vb->v, 0);
	} while (!virtq_enable_cb(vb->vq));
	spin_unlock(&vb->lock);
	list_for_each_safe(it, &done)
	{
		struct bio *bp = list_entry(it, struct bio, queue);
		list_del(&bp->queue);
		g_io_deliver(bp, (int)(intptr_t)bp->driver1);
	}
}

/*
 * No completion for VBLK_TIMEOUT_NS with requests in flight (the
 * transport's watchdog calls this from a callout): the device is reset,
 * what it held fails with EIO, what waited for room too, and the disk is
 * gone (its provider orphaned: later I/O fails with ENXIO).
 */
static void vblk_timeout(void *arg)
{
	struct vblk *vb = arg;
	struct list_node done = LIST_HEAD_INIT(done);
	unsigned n = 0;
	spin_lock(&vb->lock);
	if (vb->dead) {
		spin_unlock(&vb->lock);
		return;
	}
	vb->dead = true;
	vpci_reset(vb->v);
	struct vblk_req *r;
	while ((r = virtq_detach_unused(vb->vq)) != NULL) {
		list_add_tail(&done, &r->bp->queue);
		kfree(r);
		n++;
	}
	while (!list_empty(&vb->pending)) {
		struct bio *bp = list_entry(vb->pending.next, struct bio, queue);
		list_del(&bp->queue);
		list_add_tail(&done, &bp->queue);
		n++;
	}
	spin_unlock(&vb->lock);
	printk("%s: the device stopped completing requests: reset, %u requests failed, "
	       "disk gone\n",
	       vb->name, n);
	list_for_each_safe(it, &done)
	{
		struct bio *bp = list_entry(it, struct bio, queue);
		list_del(&bp->queue);
		bp->completed = 0;
		g_io_deliver(bp, -EIO);
	}
	g_disk_gone(vb->pp, -ENXIO);
}

static const struct g_disk_ops vblk_ops = {.strategy = vblk_strategy};

static bool vblk_match(const struct pci_dev *d)
{
	/* 0x1042: virtio 1.x block device; 0x1001: transitional, also modern. */
	return d->vendor == 0x1af4 && (d->device == 0x1042 || d->device == 0x1001);
}

static int vblk_probe(struct pci_dev *pd)
{
	struct vblk *vb = kzalloc(sizeof(*vb));
	if (!vb)
		return -ENOMEM;
	spin_lock_init(&vb->lock, "virtio_blk");
	list_init(&vb->pending);
	int e = vpci_open(pd, &vb->v);
	if (e) {
		kfree(vb);
		return e;
	}
	uint64_t want = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_INDIRECT_DESC |
			1ULL << VIRTIO_F_RING_EVENT_IDX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
			1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_DISCARD;
	e = vpci_set_features(vb->v, want);
	volatile uint8_t *cfg = vpci_device_cfg(vb->v);
	if (!e && !cfg)
		e = -ENODEV;
	if (!e) {
		uint64_t f = vpci_features(vb->v);
		vb->flush = f & (1ULL << VIRTIO_BLK_F_FLUSH);
		vb->discard = f & (1ULL << VIRTIO_BLK_F_DISCARD);
		vb->sectors = *(volatile uint32_t *)(cfg + CFG_CAPACITY) |
			      (uint64_t) * (volatile uint32_t *)(cfg + CFG_CAPACITY + 4) << 32;
		vb->blk_size = 512;
		if (f & (1ULL << VIRTIO_BLK_F_BLK_SIZE)) {
			uint32_t bs = *(volatile uint32_t *)(cfg + CFG_BLK_SIZE);
			if (bs >= 512 && bs <= 65536 && !(bs & (bs - 1)))
				vb->blk_size = bs;
		}
		vb->vq = vpci_setup_queue(vb->v, 0, 0, vblk_irq, vb);
		if (!vb->vq)
			e = -EIO;
	}
	if (e) {
		vpci_reset(vb->v);
		kfree(vb);
		return e;
	}
	ksnprintf(vb->name, sizeof(vb->name), "vtbd%d", vblk_count++);
	vpci_driver_ok(vb->v, vb->name);
	uint64_t bytes = vb->sectors * 512;
	printk("%s: virtio-blk %lu MiB, %u-byte sectors, %s, %u-entry queue%s%s\n", vb->name,
	       (unsigned long)(bytes >> 20), vb->blk_size, vpci_irq_kind(vb->v), virtq_size(vb->vq),
	       vb->flush ? ", flush" : "", vb->discard ? ", discard" : "");
	vpci_set_timeout(vb->v, 0, VBLK_TIMEOUT_NS, vblk_timeout);
	return g_disk_create(vb->name, bytes - bytes % vb->blk_size, vb->blk_size, &vblk_ops, vb,
			     &vb->pp);
}

static const struct pci_driver vblk_driver = {
    .name = "virtio-blk",
    .match = vblk_match,
    .probe = vblk_probe,
};
PCI_DRIVER(vblk_driver);
