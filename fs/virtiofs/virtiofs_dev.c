/*
 * The virtio-fs device (virtio 1.2, device type 26) over the modern PCI
 * transport: one struct virtiofs_conn per device, registered by its tag.
 *
 * Queues: queue 0 is the high-priority queue (FORGET, BATCH_FORGET: no
 * reply is awaited), queues 1..n the request queues, used round-robin.
 * A request is two device-readable elements' worth in one block
 * (fuse_in_header + the arguments, copied) and two or three
 * device-writable elements (fuse_out_header, then the caller's reply
 * buffer, in two pieces when it wraps), so the caller's buffer is written
 * by the device directly. Many requests are in
 * flight at once: every caller sleeps on its own semaphore, and a slot
 * semaphore per queue keeps the ring from overflowing (with indirect
 * descriptors a request takes one ring slot, otherwise up to four); start puts
 * up to VIRTIOFS_START_MAX of one caller's on the queues and wait collects
 * them, so a caller can go on while they are in flight (the read window's
 * fills and read-ahead).
 *
 * Completion (the queue's interrupt): the used length and the reply
 * header are checked (fuse_reply_check); the waiter is woken. FORGET
 * buffers are freed there.
 *
 * A device that stops answering (virtiofsd killed): the transport's
 * watchdog calls vfsd_timeout after VFSD_TIMEOUT_NS without a completion;
 * the device is reset and marked dead, every request in flight and every
 * later one fails with EIO. The kernel stays up and unmount works.
 *
 * Locking: q->lock (spinlock) guards the virtqueue and is taken in the
 * interrupt handler; d->dead is set under every queue's lock in turn, so
 * a submitter that saw it clear under the lock has its request in the
 * ring before the reset detaches it.
 */
#include "virtiofs.h"

#include <errno.h>
#include <karst/arch.h>
#include <karst/kmem.h>
#include <karst/pci.h>
#include <karst/printk.h>
#include <karst/sync.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <string.h>
#include <virtio.h>
#include <virtio_pci.h>

#define VFSD_TIMEOUT_NS	 (10ULL * 1000 * 1000 * 1000)
#define VFSD_MAX_RQ	 (VPCI_MAX_QUEUES - 1)
#define VFSD_QSIZE	 1024
#define VFSD_MAX_XFER	 (1u << 20) /* one reply payload at most */
#define CFG_TAG		 0
#define CFG_NUM_REQUESTS 36

struct vfsd_queue {
	struct virtq *vq;
	struct spinlock lock;
	struct semaphore slots;
	unsigned index;
	struct vfsd *d;
};

struct vfsd {
	struct virtiofs_conn conn;
	struct vpci *v;
	struct vfsd_queue q[VPCI_MAX_QUEUES];
	unsigned nrq; /* request queues */
	_Atomic unsigned next_q;
	_Atomic uint64_t unique;
	_Atomic bool dead;
	_Atomic unsigned forgets_inflight; /* on the high-priority queue */
	char name[16];
};

/* One request in flight. The block is kmalloc'd: physically contiguous. */
struct vfsd_req {
	struct fuse_out_header oh; /* device-writable */
	struct semaphore done;
	struct fuse_call *c; /* NULL: a forget, freed on completion */
	uint32_t used;
	bool failed;	       /* detached by a reset */
	_Atomic bool complete; /* used and failed are set (vfsd_done polls it) */
	uint32_t inlen;
	struct fuse_in_header ih; /* device-readable from here: ih + args */
};

static int vfsd_count;

static void vfsd_complete(struct vfsd_queue *q, struct vfsd_req *r, uint32_t len, bool failed)
{
	sema_up(&q->slots);
	if (!r->c) {
		atomic_fetch_sub(&q->d->forgets_inflight, 1);
		kfree(r);
		return;
	}
	r->used = len;
	r->failed = failed;
	atomic_store_explicit(&r->complete, true, memory_order_release);
	sema_up(&r->done);
}

static void vfsd_irq(void *arg)
{
	struct vfsd_queue *q = arg;
	spin_lock(&q->lock);
	if (atomic_load(&q->d->dead)) {
		spin_unlock(&q->lock);
		return;
	}
	do {
		struct vfsd_req *r;
		uint32_t len;
		virtq_disable_cb(q->vq);
		while ((r = virtq_get_used(q->vq, &len)) != NULL)
			vfsd_complete(q, r, len, false);
	} while (!virtq_enable_cb(q->vq));
	spin_unlock(&q->lock);
}

/* The device stopped answering (callout context: no sleeping). */
static void vfsd_timeout(void *arg)
{
	struct vfsd_queue *tq = arg;
	struct vfsd *d = tq->d;
	if (atomic_exchange(&d->dead, true))
		return;
	for (unsigned i = 0; i <= d->nrq; i++) {
		spin_lock(&d->q[i].lock); /* submitters now see dead */
		spin_unlock(&d->q[i].lock);
	}
	vpci_reset(d->v);
	unsigned n = 0;
	for (unsigned i = 0; i <= d->nrq; i++) {
		struct vfsd_queue *q = &d->q[i];
		struct vfsd_req *r;
		spin_lock(&q->lock);
		while ((r = virtq_detach_unused(q->vq)) != NULL) {
			vfsd_complete(q, r, 0, true);
			n++;
		}
		spin_unlock(&q->lock);
	}
	printk("virtiofs %s ('%s'): the device stopped answering: reset, %u requests failed "
	       "with EIO\n",
	       d->name, d->conn.tag, n);
}

/*
 * Put r on queue q: [ih + args] readable, [oh] [out] writable. Sleeps for a
 * ring slot. -EIO when the device is dead.
 */
static int vfsd_submit(struct vfsd *d, struct vfsd_queue *q, struct vfsd_req *r, void *out,
		       uint32_t out_len, void *out2, uint32_t out2_len)
{
	struct virtq_sg rd = {&r->ih, r->inlen};
	struct virtq_sg wr[3] = {{&r->oh, sizeof(r->oh)}, {out, out_len}, {out2, out2_len}};
	unsigned nwr = r->c ? (out_len ? (out2_len ? 3 : 2) : 1) : 0;
	sema_down(&q->slots);
	spin_lock(&q->lock);
	int e = atomic_load(&d->dead) ? -EIO : virtq_add(q->vq, &rd, 1, wr, nwr, r);
	if (!e)
		vpci_kick(d->v, q->index);
	spin_unlock(&q->lock);
	if (e)
		sema_up(&q->slots);
	return e;
}

static struct vfsd_req *vfsd_req_new(struct vfsd *d, uint32_t opcode, uint64_t nodeid,
				     const void *const *in, const uint32_t *in_len, unsigned nin)
{
	uint64_t args = 0;
	for (unsigned i = 0; i < nin; i++)
		args += in_len[i];
	if (args > VFSD_MAX_XFER)
		return NULL;
	struct vfsd_req *r = kzalloc(sizeof(*r) + args);
	if (!r)
		return NULL;
	r->inlen = (uint32_t)(sizeof(r->ih) + args);
	r->ih.len = r->inlen;
	r->ih.opcode = opcode;
	r->ih.unique = atomic_fetch_add(&d->unique, 1) + 1;
	r->ih.nodeid = nodeid;
	uint8_t *p = (uint8_t *)(&r->ih + 1);
	for (unsigned i = 0; i < nin; i++) {
		memcpy(p, in[i], in_len[i]);
		p += in_len[i];
	}
	sema_init(&r->done, 0);
	return r;
}

/* Put c on a request queue; *rp is the request to wait for. */
static int vfsd_start(struct vfsd *d, struct fuse_call *c, struct vfsd_req **rp)
{
	if (atomic_load(&d->dead))
		return -EIO;
	if (c->out_len > VFSD_MAX_XFER || c->out2_len > VFSD_MAX_XFER - c->out_len ||
	    (c->out2_len && !c->out_len) || c->nin > 3)
		return -EINVAL;
	struct vfsd_req *r = vfsd_req_new(d, c->opcode, c->nodeid, c->in, c->in_len, c->nin);
	if (!r)
		return -ENOMEM;
	r->c = c;
	struct vfsd_queue *q = &d->q[1 + atomic_fetch_add(&d->next_q, 1) % d->nrq];
	int e = vfsd_submit(d, q, r, c->out, c->out_len, c->out2, c->out2_len);
	if (e) {
		kfree(r);
		return e;
	}
	*rp = r;
	return 0;
}

/* Wait for r's reply and check it; frees r. */
static int vfsd_finish(struct vfsd *d, struct fuse_call *c, struct vfsd_req *r)
{
	sema_down(&r->done);
	if (r->failed) {
		kfree(r);
		return -EIO;
	}
	const char *why = NULL;
	int e = fuse_reply_check(&r->oh, r->used, r->ih.unique, c->out_min,
				 c->out_len + c->out2_len, &c->out_got, &why);
	if (e == -EIO && why) {
		char buf[16];
		atomic_fetch_add(&d->conn.bad_replies, 1);
		printk("virtiofs %s: bad reply to %s (unique %lu, %u bytes): %s\n", d->name,
		       fuse_opname(c->opcode, buf, sizeof(buf)), (unsigned long)r->ih.unique,
		       r->used, why);
	}
	kfree(r);
	return e;
}

static int vfsd_call(struct virtiofs_conn *conn, struct fuse_call *c)
{
	struct vfsd *d = conn->dev;
	struct vfsd_req *r;
	int e = vfsd_start(d, c, &r);
	return e ? e : vfsd_finish(d, c, r);
}

/* Requests in flight together (the read window's fills and read-ahead):
 * start sends them all, wait collects. A request that could not be sent is the batch's error,
 * reported by wait after those that were sent are answered. */
struct vfsd_batch {
	struct fuse_call *const *c;
	unsigned started;
	int err;
	struct vfsd_req *rs[];
};

static int vfsd_start_many(struct virtiofs_conn *conn, struct fuse_call *const *c, unsigned n,
			   void **token)
{
	struct vfsd *d = conn->dev;
	struct vfsd_batch *b = kmalloc(sizeof(*b) + n * sizeof(b->rs[0]));
	if (!b)
		return -ENOMEM;
	b->c = c;
	b->started = 0;
	b->err = 0;
	for (; b->started < n; b->started++) {
		int e = vfsd_start(d, c[b->started], &b->rs[b->started]);
		if (e) {
			b->err = e;
			break;
		}
	}
	*token = b;
	return 0;
}

static int vfsd_wait(struct virtiofs_conn *conn, void *token)
{
	struct vfsd *d = conn->dev;
	struct vfsd_batch *b = token;
	int err = b->err;
	for (unsigned i = 0; i < b->started; i++) {
		int e = vfsd_finish(d, b->c[i], b->rs[i]);
		err = err ? err : e;
	}
	kfree(b);
	return err;
}

/* Every reply of the batch in (r->complete, set before its done is up:
 * its wait will not sleep). Requests are freed only by wait. */
static bool vfsd_done(struct virtiofs_conn *conn, void *token)
{
	(void)conn;
	struct vfsd_batch *b = token;
	for (unsigned i = 0; i < b->started; i++)
		if (!atomic_load_explicit(&b->rs[i]->complete, memory_order_acquire))
			return false;
	return true;
}

static int vfsd_forget(struct virtiofs_conn *conn, const struct fuse_forget_one *f, unsigned n)
{
	struct vfsd *d = conn->dev;
	if (atomic_load(&d->dead) || n == 0)
		return 0;
	struct vfsd_req *r;
	if (n == 1) {
		struct fuse_forget_in fi = {.nlookup = f->nlookup};
		const void *in[1] = {&fi};
		uint32_t len[1] = {sizeof(fi)};
		r = vfsd_req_new(d, FUSE_FORGET, f->nodeid, in, len, 1);
	} else {
		struct fuse_batch_forget_in bi = {.count = n};
		const void *in[2] = {&bi, f};
		uint32_t len[2] = {sizeof(bi), (uint32_t)(n * sizeof(*f))};
		r = vfsd_req_new(d, FUSE_BATCH_FORGET, 0, in, len, 2);
	}
	if (!r)
		return -ENOMEM;
	atomic_fetch_add(&d->forgets_inflight, 1);
	int e = vfsd_submit(d, &d->q[0], r, NULL, 0, NULL, 0);
	if (e) {
		atomic_fetch_sub(&d->forgets_inflight, 1);
		kfree(r);
	}
	return e;
}

/* Wait until the device has taken every forget queued (FUSE_DESTROY must
 * not overtake them: the queues are served by separate threads, and
 * virtiofsd answers a FORGET after DESTROY with a reply it has no buffer
 * for). Bounded by the device timeout: a dead device drops them. */
static void vfsd_drain(struct virtiofs_conn *conn)
{
	struct vfsd *d = conn->dev;
	uint64_t t0 = time_ns();
	while (atomic_load(&d->forgets_inflight) && !atomic_load(&d->dead) &&
	       time_ns() - t0 < VFSD_TIMEOUT_NS)
		thread_sleep_ns(1000 * 1000);
}

static const struct virtiofs_conn_ops vfsd_ops = {.call = vfsd_call,
						  .start = vfsd_start_many,
						  .wait = vfsd_wait,
						  .done = vfsd_done,
						  .forget = vfsd_forget,
						  .drain = vfsd_drain};

static bool vfsd_match(const struct pci_dev *pd)
{
	return pd->vendor == 0x1af4 && pd->device == 0x1040 + VIRTIO_ID_FS;
}

static int vfsd_setup_queues(struct vfsd *d)
{
	bool indirect = vpci_features(d->v) & VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC);
	for (unsigned i = 0; i <= d->nrq; i++) {
		struct vfsd_queue *q = &d->q[i];
		q->d = d;
		q->index = i;
		spin_lock_init(&q->lock, "virtiofs_queue");
		q->vq = vpci_setup_queue(d->v, i, VFSD_QSIZE, vfsd_irq, q);
		if (!q->vq)
			return -EIO;
		unsigned size = virtq_size(q->vq);
		sema_init(&q->slots, indirect ? size : size / 4);
	}
	return 0;
}

/*
 * Map the DAX window (shmid 0) for the kernel. It is host memory behind a
 * prefetchable BAR. x86_64: write-back in the direct map, as Linux's
 * memremap of it (a window in the 32-bit PCI hole stays as boot mapped it,
 * uncached by the firmware's MTRRs). aarch64: Device-nGnRnE through
 * arch_map_mmio, the only mapping of the 64-bit PCI window karst has:
 * correct but strict, so copies out of it use aligned loads only
 * (conn->window_device).
 */
static void vfsd_map_window(struct virtiofs_conn *conn)
{
#if defined(__x86_64__)
	if (conn->window_pa + conn->window_len <= (4ULL << 30) ||
	    arch_map_ram(conn->window_pa, conn->window_len) == 0)
		conn->window_va = phys_to_virt(conn->window_pa);
	conn->window_device = false;
#else
	conn->window_va = arch_map_mmio(conn->window_pa, conn->window_len);
	conn->window_device = true;
#endif
	if (!conn->window_va)
		printk("virtio-fs '%s': DAX window at %#lx not mappable: not used\n", conn->tag,
		       (unsigned long)conn->window_pa);
}

static int vfsd_probe(struct pci_dev *pd)
{
	struct vfsd *d = kzalloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	ksnprintf(d->name, sizeof(d->name), "vtfs%d", vfsd_count);
	int e = vpci_open(pd, &d->v);
	if (e) {
		kfree(d);
		return e;
	}
	uint64_t want = VIRTIO_FEATURE(VIRTIO_F_VERSION_1) |
			VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC) |
			VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX);
	e = vpci_set_features(d->v, want);
	volatile uint8_t *cfg = vpci_device_cfg(d->v);
	if (!e && !cfg)
		e = -ENODEV;
	if (!e) {
		for (unsigned i = 0; i < VIRTIOFS_TAG_MAX; i++)
			d->conn.tag[i] = (char)cfg[CFG_TAG + i];
		d->conn.tag[VIRTIOFS_TAG_MAX] = '\0';
		uint32_t nreq = *(volatile uint32_t *)(cfg + CFG_NUM_REQUESTS);
		unsigned nq = vpci_num_queues(d->v);
		if (!d->conn.tag[0] || nreq == 0 || nq < 2) {
			printk("virtiofs %s: bad configuration (tag '%s', %u request queues, %u "
			       "queues)\n",
			       d->name, d->conn.tag, nreq, nq);
			e = -ENODEV;
		} else {
			d->nrq = MIN(MIN(nreq, nq - 1), (unsigned)VFSD_MAX_RQ);
			e = vfsd_setup_queues(d);
		}
	}
	if (e) {
		vpci_reset(d->v);
		kfree(d);
		return e;
	}
	vfsd_count++;
	d->conn.ops = &vfsd_ops;
	d->conn.dev = d;
	d->conn.max_transfer = VFSD_MAX_XFER;
	if (vpci_shm(d->v, 0, &d->conn.window_pa, &d->conn.window_len) != 0)
		d->conn.window_pa = d->conn.window_len = 0;
	else
		vfsd_map_window(&d->conn);
	vpci_driver_ok(d->v, d->name);
	for (unsigned i = 0; i <= d->nrq; i++)
		vpci_set_timeout(d->v, i, VFSD_TIMEOUT_NS, vfsd_timeout);
	e = virtiofs_conn_register(&d->conn);
	if (e == -EEXIST)
		printk("virtiofs %s: tag '%s' is already taken by another device: ignored\n",
		       d->name, d->conn.tag);
	if (d->conn.window_len)
		printk("%s: virtio-fs '%s', %u request queue%s, %s, DAX window %lu MiB\n", d->name,
		       d->conn.tag, d->nrq, d->nrq == 1 ? "" : "s", vpci_irq_kind(d->v),
		       (unsigned long)(d->conn.window_len >> 20));
	else
		printk("%s: virtio-fs '%s', %u request queue%s, %s, no DAX window\n", d->name,
		       d->conn.tag, d->nrq, d->nrq == 1 ? "" : "s", vpci_irq_kind(d->v));
	return 0;
}

static const struct pci_driver vfsd_driver = {
    .name = "virtio-fs",
    .match = vfsd_match,
    .probe = vfsd_probe,
};
PCI_DRIVER(vfsd_driver);

/* Test hook: make every queue of the device tagged `tag` deaf, as if its
 * daemon died, with timeout_ns before the watchdog gives up. */
int virtiofs_dev_make_deaf(const char *tag, uint64_t timeout_ns)
{
	struct virtiofs_conn *conn = virtiofs_conn_find(tag);
	if (!conn || conn->ops != &vfsd_ops)
		return -ENOENT;
	struct vfsd *d = conn->dev;
	for (unsigned i = 0; i <= d->nrq; i++)
		vpci_make_deaf(d->name, i, timeout_ns);
	return 0;
}
