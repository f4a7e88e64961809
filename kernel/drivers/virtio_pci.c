/*
 * The virtio 1.x modern PCI transport; see virtio_pci.h.
 *
 * Capabilities (vendor-specific, ID 0x09) name a BAR, an offset and a
 * length for each structure; we map the BAR and keep pointers. Queue
 * notifications write the queue index at notify base + queue_notify_off *
 * notify_off_multiplier. Interrupts: with MSI-X, vector i+1 belongs to
 * queue i (vector 0 to configuration changes, which we do not use), or
 * vector 1 serves every queue when the table is too small; with INTx one
 * line serves all queues and reading the ISR register acknowledges it.
 *
 * The lost-interrupt watchdog (virtio_pci_watch.c), the dead-device
 * timeout (virtio_pci_timeout.c), test-only fault injection
 * (virtio_pci_inject.c) and the `virtio` command (virtio_pci_cmds.c) live
 * in their own files; virtio_pci_internal.h holds what they share.
 */
#include "virtio_pci_internal.h"
#include <errno.h>
#include <karst/arch.h>
#include <karst/compiler.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <karst/sync.h>
#include <string.h>
#include <virtio.h>

struct vpci *vpci_devs[VPCI_MAX_DEVS];
unsigned vpci_ndevs;

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR	   3
#define CAP_DEVICE 4
#define CAP_SHM	   8

/* Common configuration offsets. */
#define CC_DFSELECT 0
#define CC_DF	    4
#define CC_GFSELECT 8
#define CC_GF	    12
#define CC_MSIX_CFG 16
#define CC_NUMQ	    18
#define CC_STATUS   20
#define CC_QSELECT  22
#define CC_QSIZE    24
#define CC_QMSIX    26
#define CC_QENABLE  28
#define CC_QNOTIFY  30
#define CC_QDESC    32
#define CC_QDRIVER  40
#define CC_QDEVICE  48
#define NO_VECTOR   0xffff

#define ST_ACK	       1
#define ST_DRIVER      2
#define ST_DRIVER_OK   4
#define ST_FEATURES_OK 8
#define ST_FAILED      128

static void *cap_map(struct vpci *v, unsigned cap, uint64_t *len_out)
{
	uint8_t bar = pci_cfg_read8(v->pd, cap + 4);
	uint32_t off = pci_cfg_read32(v->pd, cap + 8);
	uint32_t len = pci_cfg_read32(v->pd, cap + 12);
	if (bar > 5 || !v->pd->bar[bar].size || (uint64_t)off + len > v->pd->bar[bar].size)
		return NULL;
	uint8_t *base = pci_bar_map(v->pd, bar);
	if (len_out)
		*len_out = len;
	return base ? base + off : NULL;
}

void vpci_reset(struct vpci *v)
{
	for (unsigned i = 0; i < v->nq; i++)
		if (v->q[i].vq)
			vpci_watch_stop(&v->q[i]);
	w8(v->common, CC_STATUS, 0);
	/* The spec has the driver wait for 0; a dead device may never get
	 * there, so not forever. */
	for (unsigned n = 0; r8(v->common, CC_STATUS) != 0; n++) {
		if (n == 1000000) {
			printk("virtio %s: device does not finish its reset\n", v->name);
			break;
		}
	}
}

int vpci_open(struct pci_dev *pd, struct vpci **out)
{
	struct vpci *v = kzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->pd = pd;
	for (unsigned cap = pci_find_cap(pd, PCI_CAP_VENDOR, 0); cap;
	     cap = pci_find_cap(pd, PCI_CAP_VENDOR, cap)) {
		uint8_t type = pci_cfg_read8(pd, cap + 3);
		switch (type) {
		case CAP_COMMON:
			if (!v->common)
				v->common = cap_map(v, cap, NULL);
			break;
		case CAP_NOTIFY:
			if (!v->notify_base) {
				v->notify_base = cap_map(v, cap, NULL);
				v->notify_mult = pci_cfg_read32(pd, cap + 16);
			}
			break;
		case CAP_ISR:
			if (!v->isr)
				v->isr = cap_map(v, cap, NULL);
			break;
		case CAP_DEVICE:
			if (!v->device)
				v->device = cap_map(v, cap, NULL);
			break;
		case CAP_SHM:
			if (v->nshm < VPCI_MAX_SHM) {
				/* virtio_pci_cap64: 64-bit offset and length. */
				uint8_t bar = pci_cfg_read8(pd, cap + 4);
				uint64_t off = pci_cfg_read32(pd, cap + 8) |
					       (uint64_t)pci_cfg_read32(pd, cap + 16) << 32;
				uint64_t len = pci_cfg_read32(pd, cap + 12) |
					       (uint64_t)pci_cfg_read32(pd, cap + 20) << 32;
				if (bar <= 5 && pd->bar[bar].size &&
				    off + len <= pd->bar[bar].size) {
					v->shm[v->nshm].id = pci_cfg_read8(pd, cap + 5);
					v->shm[v->nshm].pa = pd->bar[bar].pa + off;
					v->shm[v->nshm].len = len;
					v->nshm++;
				}
			}
			break;
		}
	}
	if (!v->common || !v->notify_base || !v->isr) {
		kfree(v);
		return -ENODEV; /* a legacy-only device, or a broken one */
	}
	vpci_reset(v);
	w8(v->common, CC_STATUS, ST_ACK);
	w8(v->common, CC_STATUS, ST_ACK | ST_DRIVER);
	*out = v;
	return 0;
}

uint64_t vpci_device_features(struct vpci *v)
{
	w32(v->common, CC_DFSELECT, 0);
	uint64_t lo = r32(v->common, CC_DF);
	w32(v->common, CC_DFSELECT, 1);
	uint64_t hi = r32(v->common, CC_DF);
	return lo | hi << 32;
}

int vpci_set_features(struct vpci *v, uint64_t features)
{
	features &= vpci_device_features(v);
	if (!(features & (1ULL << VIRTIO_F_VERSION_1)))
		return -ENOTSUP;
	w32(v->common, CC_GFSELECT, 0);
	w32(v->common, CC_GF, (uint32_t)features);
	w32(v->common, CC_GFSELECT, 1);
	w32(v->common, CC_GF, (uint32_t)(features >> 32));
	w8(v->common, CC_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	if (!(r8(v->common, CC_STATUS) & ST_FEATURES_OK)) {
		w8(v->common, CC_STATUS, ST_FAILED);
		return -EIO;
	}
	v->features = features;
	return 0;
}

uint64_t vpci_features(const struct vpci *v)
{
	return v->features;
}

volatile void *vpci_device_cfg(struct vpci *v)
{
	return v->device;
}

unsigned vpci_num_queues(struct vpci *v)
{
	return r16(v->common, CC_NUMQ);
}

static void vpci_notify(struct virtq *vq, void *arg)
{
	struct vpci_queue *q = arg;
	/* The ring stores before the doorbell (QEMU's device model is a CPU
	 * thread: a full SMP fence orders them for it). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*q->notify = (uint16_t)q->index;
}

static void vpci_queue_irq(void *arg)
{
	struct vpci_queue *q = arg;
	if (q->deaf)
		return;
	if (q->drop_irqs) {
		q->drop_irqs--;
		return;
	}
	q->handler(q->arg);
}

static void vpci_all_queues(struct vpci *v)
{
	for (unsigned i = 0; i < v->nq; i++)
		if (v->q[i].vq)
			vpci_queue_irq(&v->q[i]);
}

static void vpci_shared_irq(void *arg)
{
	vpci_all_queues(arg);
}

static void vpci_intx_irq(void *arg)
{
	struct vpci *v = arg;
	if (r8(v->isr, 0) & 1) /* reading acknowledges */
		vpci_all_queues(v);
}

/* Interrupts for all the queues to come: MSI-X vectors (one per queue, or
 * one shared), else INTx. */
static int vpci_irq_setup(struct vpci *v)
{
	unsigned nq = MIN(vpci_num_queues(v), (unsigned)VPCI_MAX_QUEUES);
	if (pci_msix_enable(v->pd, 1 + nq, v->msix_lines) == 0) {
		v->msix = true;
	} else if (nq > 1 && pci_msix_enable(v->pd, 2, v->msix_lines) == 0) {
		v->msix = v->msix_shared = true;
		if (irq_register(v->msix_lines[1], vpci_shared_irq, v, "virtio",
				 (struct irq_config){0}) != 0)
			return -EBUSY;
	}
	if (v->msix) {
		w16(v->common, CC_MSIX_CFG, NO_VECTOR);
		return 0;
	}
	struct irq_config cfg;
	unsigned line;
	int e = pci_intx(v->pd, &line, &cfg);
	if (e)
		return e;
	e = irq_register(line, vpci_intx_irq, v, "virtio", cfg);
	if (e)
		return e;
	v->intx_line = line;
	return 0;
}

struct virtq *vpci_setup_queue(struct vpci *v, unsigned index, unsigned max_size,
			       void (*handler)(void *arg), void *arg)
{
	if (index >= VPCI_MAX_QUEUES || index >= vpci_num_queues(v))
		return NULL;
	if (index == 0 && v->nq == 0 && vpci_irq_setup(v) != 0)
		return NULL;
	struct vpci_queue *q = &v->q[index];
	w16(v->common, CC_QSELECT, (uint16_t)index);
	unsigned size = r16(v->common, CC_QSIZE);
	if (size == 0)
		return NULL;
	if (max_size && max_size < size)
		size = max_size;
	size = 1u << (31 - __builtin_clz(size)); /* a power of two */
	q->index = index;
	spin_lock_init(&q->wlock, "virtio_watch");
	callout_init(&q->wtimer);
	q->handler = handler;
	q->arg = arg;
	q->notify =
	    (volatile uint16_t *)(v->notify_base + r16(v->common, CC_QNOTIFY) * v->notify_mult);
	q->vq = virtq_create(index, size, v->features, vpci_notify, q);
	if (!q->vq)
		return NULL;
	w16(v->common, CC_QSIZE, (uint16_t)size);
	w64(v->common, CC_QDESC, virtq_desc_pa(q->vq));
	w64(v->common, CC_QDRIVER, virtq_avail_pa(q->vq));
	w64(v->common, CC_QDEVICE, virtq_used_pa(q->vq));
	if (v->msix) {
		uint16_t vec = (uint16_t)(v->msix_shared ? 1 : 1 + index);
		w16(v->common, CC_QMSIX, vec);
		if (r16(v->common, CC_QMSIX) != vec ||
		    (!v->msix_shared &&
		     irq_register(v->msix_lines[vec], vpci_queue_irq, q, "virtio queue",
				  (struct irq_config){0}) != 0)) {
			virtq_destroy(q->vq);
			q->vq = NULL;
			return NULL;
		}
	}
	w16(v->common, CC_QENABLE, 1);
	if (index + 1 > v->nq)
		v->nq = index + 1;
	return q->vq;
}

void vpci_driver_ok(struct vpci *v, const char *name)
{
	w8(v->common, CC_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	ksnprintf(v->name, sizeof(v->name), "%s", name);
	unsigned long f = arch_irq_save();
	if (vpci_ndevs < VPCI_MAX_DEVS)
		vpci_devs[vpci_ndevs++] = v;
	arch_irq_restore(f);
}

int vpci_shm(struct vpci *v, uint8_t id, uint64_t *pa, uint64_t *len)
{
	for (int i = 0; i < v->nshm; i++) {
		if (v->shm[i].id == id) {
			*pa = v->shm[i].pa;
			*len = v->shm[i].len;
			return 0;
		}
	}
	return -ENOENT;
}

const char *vpci_irq_kind(const struct vpci *v)
{
	return v->msix ? "MSI-X" : "INTx";
}
