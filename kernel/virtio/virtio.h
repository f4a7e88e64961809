/*
 * The virtio core: the interface every virtio transport and driver uses.
 *
 * This header holds what the virtio 1.x specification fixes for all device
 * types (feature bits, device status bits) and the split virtqueue
 * (struct virtq), written once for virtio-blk, virtio-fs and whatever comes
 * next. It knows nothing about PCI: a transport (the modern PCI transport)
 * negotiates features, creates the queues with virtq_create(), programs
 * the three physical addresses it reads back with virtq_desc_pa(),
 * virtq_avail_pa() and virtq_used_pa(), and supplies a notify callback that
 * writes the queue's notify register.
 *
 * A driver's life with a queue:
 *
 *   submit:    spin_lock(&dev->lock);
 *              err = virtq_add(vq, out, nout, in, nin, req);   // -ENOSPC: wait
 *              kick = virtq_kick_prepare(vq);
 *              spin_unlock(&dev->lock);
 *              if (kick)
 *                      virtq_notify(vq);   // or virtq_kick() under the lock
 *
 *   interrupt: spin_lock(&dev->lock);
 *              do {
 *                      virtq_disable_cb(vq);
 *                      while ((req = virtq_get_used(vq, &len)))
 *                              complete(req, len);
 *              } while (!virtq_enable_cb(vq));
 *              spin_unlock(&dev->lock);
 *
 * Locking: a virtq is not thread-safe by itself. The driver serialises
 * virtq_add, virtq_kick_prepare, virtq_kick, virtq_get_used,
 * virtq_disable_cb, virtq_enable_cb and virtq_detach_unused with its own
 * lock (a spinlock: an interrupt handler calls them). None of them sleeps;
 * the only allocation on these paths is virtq_add's indirect table from
 * kmalloc, which does not sleep. virtq_notify only calls the transport's
 * callback and may run outside the lock. virtq_create and virtq_destroy
 * may allocate and free pages and are called from thread context.
 *
 * Memory: the rings come from kpage_alloc (physically contiguous, page
 * aligned). Every buffer element handed to virtq_add must be physically
 * contiguous and reachable through virt_to_phys(): memory from kmalloc
 * (within one allocation), from kpage_alloc and in the kernel image is;
 * anything mapped page by page (a future vmalloc, user memory) must be
 * split into one element per physical range by the caller. Debug builds
 * check each element's two ends.
 *
 * The notify callback runs wherever virtq_kick/virtq_notify are called
 * (possibly under the driver's spinlock, in an interrupt handler): it must
 * not sleep. It writes the queue's notify register; that device-memory
 * store must be ordered after the ring writes, so use the transport's
 * ordered MMIO write (a barrier before the store, like Linux's writel).
 *
 * Ordering: barriers are SMP fences (C11 atomic_thread_fence), which is
 * what a device emulated by the hypervisor on another CPU needs. A driver
 * must not accept VIRTIO_F_ORDER_PLATFORM (real hardware ordering), nor
 * VIRTIO_F_RING_PACKED or VIRTIO_F_IN_ORDER: this is a split ring whose
 * descriptors complete in any order. virtq_create refuses the latter two.
 *
 * Errors are negative errno values.
 */
#ifndef KARST_VIRTIO_H
#define KARST_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Device status (the status field of the common configuration).       */

#define VIRTIO_STATUS_ACKNOWLEDGE	 0x01 /* the guest found the device */
#define VIRTIO_STATUS_DRIVER		 0x02 /* and knows how to drive it */
#define VIRTIO_STATUS_DRIVER_OK		 0x04 /* driver ready: queues live */
#define VIRTIO_STATUS_FEATURES_OK	 0x08 /* feature negotiation finished */
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40 /* the device gave up */
#define VIRTIO_STATUS_FAILED		 0x80 /* the driver gave up */

/* ------------------------------------------------------------------ */
/* Device-independent feature bits (bit numbers, not masks).           */

#define VIRTIO_F_RING_INDIRECT_DESC 28 /* spec: VIRTIO_F_INDIRECT_DESC */
#define VIRTIO_F_RING_EVENT_IDX	    29 /* spec: VIRTIO_F_EVENT_IDX */
#define VIRTIO_F_VERSION_1	    32 /* modern device: mandatory for us */
#define VIRTIO_F_ACCESS_PLATFORM    33 /* DMA through an IOMMU */
#define VIRTIO_F_RING_PACKED	    34 /* packed rings: not supported */
#define VIRTIO_F_IN_ORDER	    35 /* in-order use: not supported */
#define VIRTIO_F_ORDER_PLATFORM	    36 /* hardware memory ordering */
#define VIRTIO_F_SR_IOV		    37
#define VIRTIO_F_NOTIFICATION_DATA  38
#define VIRTIO_F_RING_RESET	    40

#define VIRTIO_FEATURE(bit) ((uint64_t)1 << (bit))

/* Device types (the PCI device id is 0x1040 + type for modern devices). */
#define VIRTIO_ID_NET	  1
#define VIRTIO_ID_BLOCK	  2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG	  4
#define VIRTIO_ID_FS	  26

/* ------------------------------------------------------------------ */
/* Split virtqueues.                                                   */

#define VIRTQ_SIZE_MAX 32768

struct virtq;

/* One buffer element: kernel virtual address and length in bytes. */
struct virtq_sg {
	void *addr;
	uint32_t len;
};

/* Counters, for `virtio stat`-style dumps and for tests. */
struct virtq_stats {
	uint64_t adds;		   /* buffers made available */
	uint64_t indirect;	   /* ... of which through an indirect table */
	uint64_t kicks;		   /* notifications sent to the device */
	uint64_t kicks_suppressed; /* new buffers published, device said not to notify */
	uint64_t completions;	   /* buffers returned by virtq_get_used */
	uint64_t len_clamped;	   /* used lengths beyond the writable bytes, clamped */
};

/*
 * Create queue number `index` with `size` entries (a power of two,
 * 1..VIRTQ_SIZE_MAX; the transport picks at most the device's maximum).
 * `features` are the negotiated feature bits: VIRTIO_F_RING_INDIRECT_DESC
 * and VIRTIO_F_RING_EVENT_IDX decide how the queue works; other bits are
 * ignored, except that RING_PACKED and IN_ORDER make it fail. `notify` is
 * called (with `arg`) when the device must be told about new buffers.
 * Returns NULL when the arguments are wrong or memory is short. The rings
 * start zeroed: the device may be given their addresses at once.
 */
struct virtq *virtq_create(unsigned index, unsigned size, uint64_t features,
			   void (*notify)(struct virtq *vq, void *arg), void *arg);

/*
 * Free the queue. The device must no longer use it (reset, or the queue
 * disabled): buffers still in flight are forgotten, their indirect tables
 * freed; reclaim their tokens with virtq_detach_unused first.
 */
void virtq_destroy(struct virtq *vq);

/* Physical addresses of the descriptor table, the available ring (the
 * spec's "driver area") and the used ring ("device area"), and the
 * queue's index and size, for the transport to program. */
uint64_t virtq_desc_pa(const struct virtq *vq);
uint64_t virtq_avail_pa(const struct virtq *vq);
uint64_t virtq_used_pa(const struct virtq *vq);
unsigned virtq_index(const struct virtq *vq);
unsigned virtq_size(const struct virtq *vq);

/*
 * Offer one request to the device: the `nout` device-readable elements of
 * `out`, then the `nin` device-writable elements of `in`, as one chain.
 * With VIRTIO_F_RING_INDIRECT_DESC and more than one element the chain
 * lives in an indirect table (kmalloc'd, freed on completion) and takes a
 * single ring descriptor; otherwise it takes nout + nin descriptors.
 * `token` (not NULL) comes back from virtq_get_used on completion.
 *
 * The buffers must stay valid, and the out buffers unchanged, until the
 * token comes back. Nothing is visible to the device before
 * virtq_kick_prepare or virtq_kick.
 *
 * Returns 0; -ENOSPC when there are not enough free descriptors now (wait
 * for completions and retry: a request that fits an empty ring always
 * fits eventually); -EINVAL for no elements, a NULL address, a zero
 * length, more elements than the queue size, more than 4 GiB in all, or a
 * NULL token; -EIO when the queue is broken (see virtq_is_broken).
 * On error nothing was added.
 */
int virtq_add(struct virtq *vq, const struct virtq_sg *out, unsigned nout,
	      const struct virtq_sg *in, unsigned nin, void *token);

/*
 * Publish every buffer added since the last call (release fence, then
 * avail->idx), and say whether the device wants to be notified: with event
 * index, whether the new entries crossed the device's avail_event; without
 * it, whether the device left VIRTQ_USED_F_NO_NOTIFY clear. False when
 * nothing new was added. The caller then calls virtq_notify (possibly
 * after dropping its lock).
 */
bool virtq_kick_prepare(struct virtq *vq);

/* Call the transport's notify callback. */
void virtq_notify(struct virtq *vq);

/* virtq_kick_prepare, then virtq_notify when it said so. */
void virtq_kick(struct virtq *vq);

/*
 * The next completed request: its token, and in *len (may be NULL) the
 * bytes the device wrote to its device-writable elements (clamped to their
 * total). Frees its descriptors and indirect table. NULL when the device
 * has returned nothing new, or when the queue is broken.
 */
void *virtq_get_used(struct virtq *vq, uint32_t *len);

/*
 * Used-buffer notification (interrupt) suppression. virtq_disable_cb asks
 * the device not to interrupt (a hint: interrupts may still come).
 * virtq_enable_cb asks for an interrupt on the next completion and returns
 * false if completions arrived that the caller has not collected, which it
 * must then poll with virtq_get_used (callbacks stay enabled). With event
 * index these move avail->used_event; otherwise they flip
 * VIRTQ_AVAIL_F_NO_INTERRUPT. Callbacks start enabled. A broken queue
 * returns true (there is nothing left to collect).
 */
void virtq_disable_cb(struct virtq *vq);
bool virtq_enable_cb(struct virtq *vq);

/*
 * After the device was reset: return one request still in flight (added,
 * not yet returned by virtq_get_used), freeing its descriptors, or NULL
 * when none is left. For failing outstanding requests on teardown; the
 * queue is then only good for virtq_destroy (a reset device starts its
 * indices from 0 again: give it a new queue).
 */
void *virtq_detach_unused(struct virtq *vq);

/*
 * A queue turns broken when the device returns something impossible (an
 * unknown descriptor id, more completions than requests in flight). A
 * broken queue adds nothing (-EIO) and returns nothing; the driver should
 * fail its requests (virtq_detach_unused after a reset) and the device.
 */
bool virtq_is_broken(const struct virtq *vq);

void virtq_get_stats(const struct virtq *vq, struct virtq_stats *st);

#endif
